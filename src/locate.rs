//! Locating a SIP server from a URI, RFC 3263, as pure data.
//!
//! A sans-IO crate does no DNS, but every step of RFC 3263 except the queries
//! themselves is a decision over the URI and over records the host looked up. This
//! module makes those decisions, so that a host only runs the queries it is told to:
//!
//! 1. [`plan`] reads the URI to contact (the top Route's, or the Request-URI,
//!    RFC 3261 §8.1.2) and says what to look up (§4.1 transport, §4.2 port and address):
//!    nothing for a numeric address, A/AAAA when a port is given, SRV when only the
//!    transport is fixed, NAPTR when nothing is.
//! 2. [`select_naptr`] keeps the NAPTR records a client can use (§4.1: `s` flag, a
//!    service it supports, only `SIPS+` for a SIPS URI) in order and preference order.
//! 3. [`SrvName`] writes the SRV owner names (`_sip._udp.example.com`) to query when
//!    there is no NAPTR record (§4.1) or the transport is fixed (§4.2).
//! 4. [`order_srv`] orders SRV records by priority and, within one priority, by the
//!    weighted random selection of RFC 2782, with randomness the host supplies.
//!
//! The results name the transport ([`Transport`]) and the port to use; a failed
//! lookup at one step falls back as RFC 3263 says (the doc of each [`Plan`] variant
//! spells it out). Trying the next address after a transport error or a 503 is the
//! host's loop (§4.3).
//!
//! ```
//! use sansip::locate::{self, Plan, SrvName};
//! use sansip::message::{Transport, Uri};
//!
//! let uri = Uri::parse(b"sip:alice@atlanta.example.com;transport=tcp")?;
//! let Uri::Sip(sip) = uri else { unreachable!() };
//! match locate::plan(&sip)? {
//!     // The transport is fixed, the port is not: query SRV first (§4.2).
//!     Plan::Srv { host, transport, secure } => {
//!         assert_eq!((host, transport, secure), ("atlanta.example.com", Transport::Tcp, false));
//!         let name = SrvName::new(host, transport, secure).unwrap();
//!         assert_eq!(format!("{name}"), "_sip._tcp.atlanta.example.com");
//!         // No SRV records: A/AAAA of the host, with the transport's default port.
//!         assert_eq!(locate::default_port(transport, secure), 5060);
//!     }
//!     other => panic!("{other:?}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use core::fmt;
use core::net::IpAddr;

use crate::message::{Host, SipUri, Transport};

/// What to look up to reach the server a SIP or SIPS URI names (RFC 3263 §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan<'a> {
    /// The target is an IP address: no lookup at all (§4.1: UDP for `sip`, TLS for
    /// `sips` unless the URI names a transport; §4.2: the URI's port, else the
    /// transport's default).
    Address {
        /// The address (the `maddr` parameter's when there is one).
        ip: IpAddr,
        /// Where to send.
        port: u16,
        /// How to send.
        transport: Transport<'static>,
    },
    /// The URI gives a port: look up A/AAAA records of `host` and use that port (§4.2).
    /// The transport is the URI's, else UDP (`sip`) or TLS (`sips`) (§4.1).
    Host {
        /// The domain name to resolve.
        host: &'a str,
        /// Where to send, on every address found.
        port: u16,
        /// How to send.
        transport: Transport<'static>,
    },
    /// The URI names a transport but no port: query SRV for
    /// `SrvName::new(host, transport, secure)` and use [`order_srv`] on the answer
    /// (§4.2); if there are no records (or the transport has no SRV service, such as
    /// WebSocket), look up A/AAAA of `host` with [`default_port`].
    Srv {
        /// The domain name.
        host: &'a str,
        /// How to send.
        transport: Transport<'static>,
        /// Whether the URI is SIPS.
        secure: bool,
    },
    /// Neither transport nor port is given: query NAPTR of `host` and keep what
    /// [`select_naptr`] returns, then query SRV for each replacement in turn (§4.1). With
    /// no usable NAPTR record, query SRV for [`SrvName::new`] of each transport the client
    /// supports, in its order of preference; with no SRV record either, look up A/AAAA
    /// of `host` and use UDP (TLS for SIPS) on [`default_port`].
    Naptr {
        /// The domain name.
        host: &'a str,
        /// Whether the URI is SIPS (only `SIPS+` services, TLS).
        secure: bool,
    },
}

/// Why a URI cannot be located.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum LocateError {
    /// The `transport` parameter names a transport this crate does not know.
    UnknownTransport,
    /// A SIPS URI names a transport that TLS does not run over (`transport=udp`,
    /// RFC 3261 §26.2.2, RFC 5630 §3.1.3): it cannot be contacted as asked.
    InsecureTransport,
}

impl fmt::Display for LocateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LocateError::UnknownTransport => "the URI names an unknown transport",
            LocateError::InsecureTransport => "a SIPS URI names a transport without TLS",
        })
    }
}

impl core::error::Error for LocateError {}

/// The address a request to the parsed `uri` goes to when it names one (RFC 3263 §4
/// for a numeric host), `None` when it names a domain (or is not a SIP URI).
#[cfg(feature = "endpoint")]
pub(crate) fn address_of(uri: &crate::message::Uri<'_>) -> Option<core::net::SocketAddr> {
    use core::net::SocketAddr;
    let sip = uri.as_sip()?;
    match plan(sip) {
        Ok(Plan::Address { ip, port, .. }) => Some(SocketAddr::new(ip, port)),
        Ok(_) => None,
        // A transport RFC 3263 cannot plan for (unknown, or UDP in a SIPS URI): the
        // address as written, on 5060.
        Err(_) => match sip.maddr().unwrap_or(sip.host()) {
            Host::Ipv4(a) => Some(SocketAddr::new(IpAddr::V4(a), sip.port().unwrap_or(5060))),
            Host::Ipv6(a) => Some(SocketAddr::new(IpAddr::V6(a), sip.port().unwrap_or(5060))),
            Host::Domain(_) => None,
        },
    }
}

/// What to look up to reach the server `uri` names (RFC 3263 §4.1, §4.2). The target
/// is the `maddr` parameter when there is one (§4.1), else the host.
pub fn plan<'a>(uri: &SipUri<'a>) -> Result<Plan<'a>, LocateError> {
    let secure = uri.is_secure();
    let transport = match uri.transport() {
        Some(t) => Some(uri_transport(t, secure)?),
        None => None,
    };
    let target = uri.maddr().unwrap_or(uri.host());
    let default = if secure {
        Transport::Tls
    } else {
        Transport::Udp
    };
    Ok(match target {
        Host::Ipv4(ip) => address(
            IpAddr::V4(ip),
            uri.port(),
            transport.unwrap_or(default),
            secure,
        ),
        Host::Ipv6(ip) => address(
            IpAddr::V6(ip),
            uri.port(),
            transport.unwrap_or(default),
            secure,
        ),
        Host::Domain(host) => match (uri.port(), transport) {
            (Some(port), t) => Plan::Host {
                host,
                port,
                transport: t.unwrap_or(default),
            },
            (None, Some(transport)) => Plan::Srv {
                host,
                transport,
                secure,
            },
            (None, None) => Plan::Naptr { host, secure },
        },
    })
}

fn address(
    ip: IpAddr,
    port: Option<u16>,
    transport: Transport<'static>,
    secure: bool,
) -> Plan<'static> {
    Plan::Address {
        ip,
        port: port.unwrap_or(default_port(transport, secure)),
        transport,
    }
}

/// The transport a `transport` URI parameter asks for. In a SIPS URI, `tcp` means TLS
/// over TCP, `ws` secure WebSocket (RFC 5630 §3.1.3, RFC 7118 §5) and `sctp` TLS over
/// SCTP (RFC 4168 §5: still named SCTP, on port 5061); `udp` has no TLS.
fn uri_transport(token: &str, secure: bool) -> Result<Transport<'static>, LocateError> {
    let t = match Transport::from_token(token) {
        Transport::Udp => Transport::Udp,
        Transport::Tcp => Transport::Tcp,
        Transport::Tls => Transport::Tls,
        Transport::Sctp => Transport::Sctp,
        Transport::Ws => Transport::Ws,
        Transport::Wss => Transport::Wss,
        Transport::Other(_) => return Err(LocateError::UnknownTransport),
    };
    Ok(match (t, secure) {
        (Transport::Tcp, true) => Transport::Tls,
        (Transport::Ws, true) => Transport::Wss,
        (Transport::Udp, true) => return Err(LocateError::InsecureTransport),
        (t, _) => t,
    })
}

/// The port to use when neither the URI nor SRV gives one: 5061 for TLS or a SIPS URI,
/// 5060 otherwise (RFC 3261 §19.1.2); 443 and 80 for secure and plain WebSocket, whose
/// URIs RFC 7118 leaves to HTTP's defaults (RFC 6455 §3).
pub const fn default_port(transport: Transport<'_>, secure: bool) -> u16 {
    match transport {
        Transport::Wss => 443,
        Transport::Ws if secure => 443,
        Transport::Ws => 80,
        Transport::Tls => 5061,
        _ if secure => 5061,
        _ => 5060,
    }
}

/// The owner name of the SRV records for SIP over one transport at one domain
/// (RFC 3263 §4.1, RFC 2782): `_sip._udp.host`, `_sip._tcp.host`, `_sips._tcp.host`
/// (TLS), `_sip._sctp.host`, `_sips._sctp.host`. Written with [`fmt::Display`], so a
/// host can format it into any buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SrvName<'a> {
    service: &'static str,
    proto: &'static str,
    host: &'a str,
}

impl<'a> SrvName<'a> {
    /// The SRV name for `transport` at `host` (for a SIPS URI when `secure`); `None`
    /// for a transport with no SRV service (WebSocket, RFC 7118 §6: its URI comes from
    /// configuration) and for UDP in a SIPS URI.
    pub fn new(host: &'a str, transport: Transport<'_>, secure: bool) -> Option<Self> {
        let (service, proto) = match (transport, secure) {
            (Transport::Udp, false) => ("_sip", "_udp"),
            (Transport::Tcp, false) => ("_sip", "_tcp"),
            (Transport::Tls, _) | (Transport::Tcp, true) => ("_sips", "_tcp"),
            (Transport::Sctp, false) => ("_sip", "_sctp"),
            (Transport::Sctp, true) => ("_sips", "_sctp"),
            _ => return None,
        };
        Some(SrvName {
            service,
            proto,
            host: host.strip_suffix('.').unwrap_or(host),
        })
    }
}

impl fmt::Display for SrvName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.service, self.proto, self.host)
    }
}

/// One NAPTR record as the host's resolver returned it (RFC 3403 §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NaptrRecord<'a> {
    /// Lower first.
    pub order: u16,
    /// Lower first among records of equal `order`.
    pub preference: u16,
    /// The flags field (`s` for a record that leads to SRV).
    pub flags: &'a str,
    /// The service field (`SIP+D2U`, `SIPS+D2T`, ...).
    pub service: &'a str,
    /// The replacement: the SRV owner name to query next.
    pub replacement: &'a str,
}

impl NaptrRecord<'_> {
    /// The transport this record's service names (RFC 3263 §4.1, RFC 4168 §6 for
    /// SCTP, RFC 7118 §6 for WebSocket); `None` for a service that is not SIP.
    pub fn transport(&self) -> Option<Transport<'static>> {
        naptr_service(self.service).map(|(t, _)| t)
    }

    fn usable(&self, secure: bool, supported: &impl Fn(Transport<'static>) -> bool) -> bool {
        // RFC 3263 §4.1: only records whose flag is "s" lead to SRV; a SIPS URI may use
        // only SIPS+ services.
        self.flags.eq_ignore_ascii_case("s")
            && naptr_service(self.service)
                .is_some_and(|(t, sips)| (sips || !secure) && supported(t))
    }
}

/// The transport and whether it is a `SIPS+` service.
fn naptr_service(service: &str) -> Option<(Transport<'static>, bool)> {
    const SERVICES: [(&str, Transport<'static>, bool); 7] = [
        ("SIP+D2U", Transport::Udp, false),
        ("SIP+D2T", Transport::Tcp, false),
        ("SIPS+D2T", Transport::Tls, true),
        ("SIP+D2S", Transport::Sctp, false),
        ("SIPS+D2S", Transport::Sctp, true),
        ("SIP+D2W", Transport::Ws, false),
        ("SIPS+D2W", Transport::Wss, true),
    ];
    SERVICES
        .iter()
        .find(|(s, _, _)| s.eq_ignore_ascii_case(service))
        .map(|&(_, t, sips)| (t, sips))
}

/// Keep the NAPTR records a client can follow and put them first, in the order to try
/// them: by `order`, then `preference` (RFC 3403 §4.1). A record is kept when its flag
/// is `s`, its service names a transport `supported` accepts, and, for a SIPS URI
/// (`secure`), it is a `SIPS+` service (RFC 3263 §4.1). Returns the kept records;
/// the others are left after them in unspecified order.
pub fn select_naptr<'r, 'a>(
    records: &'r mut [NaptrRecord<'a>],
    secure: bool,
    supported: impl Fn(Transport<'static>) -> bool,
) -> &'r [NaptrRecord<'a>] {
    let mut kept = 0;
    for i in 0..records.len() {
        if records[i].usable(secure, &supported) {
            records.swap(kept, i);
            kept += 1;
        }
    }
    let kept = &mut records[..kept];
    kept.sort_unstable_by_key(|r| (r.order, r.preference));
    kept
}

/// One SRV record as the host's resolver returned it (RFC 2782).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SrvRecord<'a> {
    /// Lower first.
    pub priority: u16,
    /// Relative share among records of equal priority.
    pub weight: u16,
    /// Where the server listens.
    pub port: u16,
    /// The host to resolve with A/AAAA (`.` means the service is not offered).
    pub target: &'a str,
}

/// Put SRV records in the order to try them (RFC 2782): by priority, and within one
/// priority by RFC 2782's weighted random selection: records of weight 0 first, then
/// a uniform draw in `0..=sum` of the weights picks the first record whose running
/// sum reaches it, and so on with the records left. A record of weight `w` thus comes
/// first with a chance of about `w / (sum + 1)`, and records of weight 0 keep a small
/// chance, as RFC 2782 asks. `random` returns a uniformly random `u32` each call (the host's source, as
/// for the endpoint's tags). A lone record whose target is `.` means the service is
/// not offered there (RFC 2782): check [`SrvRecord::target`] before trying.
pub fn order_srv(records: &mut [SrvRecord<'_>], mut random: impl FnMut() -> u32) {
    records.sort_unstable_by_key(|r| (r.priority, r.weight != 0));
    let mut start = 0;
    while start < records.len() {
        let priority = records[start].priority;
        let end = start
            + records[start..]
                .iter()
                .take_while(|r| r.priority == priority)
                .count();
        // Draw the group's records one by one, each with the weight it carries among
        // those not drawn yet; zero weights sort first, so a draw of 0 can pick them.
        for i in start..end {
            // u64: no slice of u16 weights can overflow it.
            let total: u64 = records[i..end].iter().map(|r| u64::from(r.weight)).sum();
            let pick = if total == 0 {
                0
            } else {
                u64::from(random()) % (total + 1)
            };
            let mut sum = 0;
            let chosen = (i..end)
                .find(|&j| {
                    sum += u64::from(records[j].weight);
                    sum >= pick
                })
                .unwrap_or(i);
            // Keep the undrawn records in their order, so zero weights stay first.
            records[i..=chosen].rotate_right(1);
        }
        start = end;
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use crate::message::Uri;

    fn sip(s: &str) -> SipUri<'_> {
        match Uri::parse(s.as_bytes()) {
            Ok(Uri::Sip(u)) => u,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn plans_follow_section_4() {
        let p = |s| plan(&sip(s));
        assert_eq!(
            p("sip:bob@192.0.2.4"),
            Ok(Plan::Address {
                ip: "192.0.2.4".parse().unwrap(),
                port: 5060,
                transport: Transport::Udp
            })
        );
        assert_eq!(
            p("sips:bob@[2001:db8::1]:5071"),
            Ok(Plan::Address {
                ip: "2001:db8::1".parse().unwrap(),
                port: 5071,
                transport: Transport::Tls
            })
        );
        // Numeric with a transport: that transport, its default port.
        assert_eq!(
            p("sip:192.0.2.4;transport=tls"),
            Ok(Plan::Address {
                ip: "192.0.2.4".parse().unwrap(),
                port: 5061,
                transport: Transport::Tls
            })
        );
        assert_eq!(
            p("sip:bob@example.com:5080"),
            Ok(Plan::Host {
                host: "example.com",
                port: 5080,
                transport: Transport::Udp
            })
        );
        assert_eq!(
            p("sips:bob@example.com:5081;transport=tcp"),
            Ok(Plan::Host {
                host: "example.com",
                port: 5081,
                transport: Transport::Tls
            })
        );
        assert_eq!(
            p("sip:example.com;transport=TCP"),
            Ok(Plan::Srv {
                host: "example.com",
                transport: Transport::Tcp,
                secure: false
            })
        );
        assert_eq!(
            p("sips:bob@example.com"),
            Ok(Plan::Naptr {
                host: "example.com",
                secure: true
            })
        );
        // maddr replaces the host as the target (§4.1); the port stays the URI's.
        assert_eq!(
            p("sip:bob@example.com:5070;maddr=198.51.100.7"),
            Ok(Plan::Address {
                ip: "198.51.100.7".parse().unwrap(),
                port: 5070,
                transport: Transport::Udp
            })
        );
        assert_eq!(
            p("sip:bob@example.com;maddr=proxy.example.net"),
            Ok(Plan::Naptr {
                host: "proxy.example.net",
                secure: false
            })
        );
        assert_eq!(
            p("sip:bob@example.com;transport=foo"),
            Err(LocateError::UnknownTransport)
        );
        assert_eq!(
            p("sips:bob@example.com;transport=udp"),
            Err(LocateError::InsecureTransport)
        );
        assert_eq!(
            p("sips:bob@example.com;transport=ws"),
            Ok(Plan::Srv {
                host: "example.com",
                transport: Transport::Wss,
                secure: true
            })
        );
    }

    #[test]
    fn srv_names() {
        let n = |t, s| SrvName::new("example.com.", t, s).map(|n| alloc::format!("{n}"));
        assert_eq!(
            n(Transport::Udp, false).as_deref(),
            Some("_sip._udp.example.com")
        );
        assert_eq!(
            n(Transport::Tcp, true).as_deref(),
            Some("_sips._tcp.example.com")
        );
        assert_eq!(
            n(Transport::Tls, false).as_deref(),
            Some("_sips._tcp.example.com")
        );
        assert_eq!(n(Transport::Udp, true), None);
        assert_eq!(n(Transport::Ws, false), None);
        assert_eq!(default_port(Transport::Udp, true), 5061);
        assert_eq!(default_port(Transport::Ws, false), 80);
    }

    /// The records of RFC 3263 §4.1's example, shuffled, plus ones a client must skip.
    #[test]
    fn naptr_selection() {
        let r = |order, service, flags, replacement| NaptrRecord {
            order,
            preference: 50,
            flags,
            service,
            replacement,
        };
        let mut records = [
            r(100, "SIP+D2U", "s", "_sip._udp.example.com."),
            r(10, "E2U+sip", "u", "!^.*$!sip:info@example.com!"),
            r(90, "SIP+D2T", "s", "_sip._tcp.example.com."),
            r(50, "SIPS+D2T", "S", "_sips._tcp.example.com."),
            r(60, "SIP+D2T", "a", "example.com."),
        ];
        let all = |_| true;
        let kept: alloc::vec::Vec<_> = select_naptr(&mut records, false, all)
            .iter()
            .map(|r| r.replacement)
            .collect();
        assert_eq!(
            kept,
            [
                "_sips._tcp.example.com.",
                "_sip._tcp.example.com.",
                "_sip._udp.example.com."
            ]
        );
        // A SIPS URI follows SIPS+ services only; a UDP-only client drops TCP.
        assert_eq!(select_naptr(&mut records, true, all).len(), 1);
        let udp_only = select_naptr(&mut records, false, |t| t == Transport::Udp);
        assert_eq!(udp_only.len(), 1);
        assert_eq!(udp_only[0].transport(), Some(Transport::Udp));
    }

    /// A fixed sequence standing in for the host's random source.
    fn lcg(seed: u32) -> impl FnMut() -> u32 {
        let mut x = seed;
        move || {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            x >> 8
        }
    }

    #[test]
    fn srv_priority_then_weight() {
        let r = |priority, weight, target| SrvRecord {
            priority,
            weight,
            port: 5060,
            target,
        };
        let mut records = [r(20, 0, "c"), r(10, 1, "a"), r(10, 3, "b")];
        order_srv(&mut records, lcg(1));
        assert_eq!(records[2].target, "c");
        // Over many draws the weight-3 record leads 3 times in 5 (draws 2, 3, 4 of 0..=4).
        let mut b_first = 0;
        let mut next = lcg(7);
        for _ in 0..4000 {
            let mut rs = [r(10, 1, "a"), r(10, 3, "b")];
            order_srv(&mut rs, &mut next);
            b_first += usize::from(rs[0].target == "b");
        }
        assert!((2200..2600).contains(&b_first), "{b_first}");
        // All-zero weights keep every record.
        let mut zeros = [r(1, 0, "x"), r(1, 0, "y")];
        order_srv(&mut zeros, lcg(3));
        let mut names = [zeros[0].target, zeros[1].target];
        names.sort_unstable();
        assert_eq!(names, ["x", "y"]);
    }
}
