//! RFC 3263 server location through the public API: plans agree with the URI they come
//! from, and SRV ordering is a priority-ordered permutation.

use proptest::prelude::*;
use sansip::locate::{self, LocateError, Plan, SrvName, SrvRecord};
use sansip::message::{Host, Transport, Uri};

fn transport_s() -> impl Strategy<Value = Option<&'static str>> {
    proptest::option::of(prop_oneof![
        Just("udp"),
        Just("TCP"),
        Just("tls"),
        Just("sctp"),
        Just("ws"),
        Just("wss"),
        Just("quic"),
    ])
}

fn host_s() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,8}(\\.[a-z]{1,8}){0,2}",
        (any::<[u8; 4]>()).prop_map(|o| format!("{}.{}.{}.{}", o[0], o[1], o[2], o[3])),
        Just("[2001:db8::7]".to_string()),
    ]
}

proptest! {
    /// Every plan follows from the URI as RFC 3263 §4.1/§4.2 say, whatever the mix of
    /// scheme, host kind, port, transport and maddr.
    #[test]
    fn plans_agree_with_the_uri(
        secure in any::<bool>(),
        host in host_s(),
        port in proptest::option::of(1u16..),
        transport in transport_s(),
        maddr in proptest::option::of(host_s()),
    ) {
        let mut s = format!("{}:bob@{host}", if secure { "sips" } else { "sip" });
        if let Some(p) = port { s.push_str(&format!(":{p}")); }
        if let Some(t) = transport { s.push_str(&format!(";transport={t}")); }
        if let Some(m) = &maddr { s.push_str(&format!(";maddr={m}")); }
        let uri = match Uri::parse(s.as_bytes()) {
            Ok(Uri::Sip(u)) => u,
            other => panic!("{s}: {other:?}"),
        };
        let plan = locate::plan(&uri);
        let target = uri.maddr().unwrap_or(uri.host());
        match (plan, transport) {
            (Err(LocateError::UnknownTransport), t) => prop_assert_eq!(t, Some("quic")),
            (Err(LocateError::InsecureTransport), t) => {
                prop_assert!(secure && t == Some("udp"));
            }
            (Ok(Plan::Address { ip, port: p, transport: t }), given) => {
                prop_assert!(!matches!(target, Host::Domain(_)));
                prop_assert_eq!(Some(ip), match target {
                    Host::Ipv4(a) => Some(a.into()),
                    Host::Ipv6(a) => Some(a.into()),
                    Host::Domain(_) => None,
                });
                prop_assert_eq!(p, port.unwrap_or(locate::default_port(t, secure)));
                if given.is_none() {
                    prop_assert_eq!(t, if secure { Transport::Tls } else { Transport::Udp });
                }
            }
            (Ok(Plan::Host { host: h, port: p, .. }), _) => {
                prop_assert_eq!(Host::Domain(h), target);
                prop_assert_eq!(Some(p), port);
            }
            (Ok(Plan::Srv { host: h, transport: t, secure: sec }), given) => {
                prop_assert_eq!(Host::Domain(h), target);
                prop_assert!(port.is_none() && given.is_some() && sec == secure);
                // A SIPS URI never ends on a transport without TLS (SCTP: TLS over SCTP).
                prop_assert!(!secure || matches!(t, Transport::Tls | Transport::Wss | Transport::Sctp));
            }
            (Ok(Plan::Naptr { host: h, secure: sec }), given) => {
                prop_assert_eq!(Host::Domain(h), target);
                prop_assert!(port.is_none() && given.is_none() && sec == secure);
                if let Some(name) = SrvName::new(h, Transport::Tcp, secure) {
                    let name = name.to_string();
                    let prefix = if secure { "_sips._tcp." } else { "_sip._tcp." };
                    prop_assert!(name.ends_with(h) && name.starts_with(prefix));
                }
            }
        }
    }

    /// Ordered SRV records are the same records, by non-decreasing priority.
    #[test]
    fn srv_order_is_a_priority_ordered_permutation(
        recs in proptest::collection::vec((0u16..4, 0u16..5, any::<u16>()), 0..12),
        seed in any::<u32>(),
    ) {
        let names: Vec<String> = (0..recs.len()).map(|i| format!("h{i}")).collect();
        let mut records: Vec<SrvRecord<'_>> = recs
            .iter()
            .zip(&names)
            .map(|(&(priority, weight, port), n)| SrvRecord { priority, weight, port, target: n })
            .collect();
        let before = records.clone();
        let mut x = seed;
        locate::order_srv(&mut records, || {
            x = x.wrapping_mul(747_796_405).wrapping_add(2_891_336_453);
            x
        });
        prop_assert!(records.windows(2).all(|w| w[0].priority <= w[1].priority));
        let mut a: Vec<_> = before.iter().map(|r| r.target).collect();
        let mut b: Vec<_> = records.iter().map(|r| r.target).collect();
        a.sort_unstable();
        b.sort_unstable();
        prop_assert_eq!(a, b);
    }
}

/// The RFC 3263 §4.1 example domain: its NAPTR records lead to TLS first, and a SIPS URI
/// would take only that one.
#[test]
fn naptr_example_of_section_4_1() {
    use sansip::locate::NaptrRecord;
    let mut records = [
        NaptrRecord {
            order: 90,
            preference: 50,
            flags: "s",
            service: "SIP+D2T",
            replacement: "_sip._tcp.example.com.",
        },
        NaptrRecord {
            order: 100,
            preference: 50,
            flags: "s",
            service: "SIP+D2U",
            replacement: "_sip._udp.example.com.",
        },
        NaptrRecord {
            order: 50,
            preference: 50,
            flags: "s",
            service: "SIPS+D2T",
            replacement: "_sips._tcp.example.com.",
        },
    ];
    let order: Vec<_> = locate::select_naptr(&mut records, false, |_| true)
        .iter()
        .map(|r| r.transport())
        .collect();
    assert_eq!(
        order,
        [
            Some(Transport::Tls),
            Some(Transport::Tcp),
            Some(Transport::Udp)
        ]
    );
    let sips = locate::select_naptr(&mut records, true, |_| true);
    assert_eq!(sips.len(), 1);
    assert_eq!(sips[0].replacement, "_sips._tcp.example.com.");
}
