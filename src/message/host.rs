//! Hosts and host:port pairs (RFC 3261 §25.1 `host`, `hostport`; RFC 5118 for IPv6).

use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};

use crate::error::{ParseError, ParseErrorKind};

/// A host as written in a URI or a Via sent-by.
///
/// ```
/// use sansip::message::Host;
/// use core::net::Ipv6Addr;
/// assert_eq!(Host::parse(b"[2001:db8::10]").unwrap(), Host::Ipv6("2001:db8::10".parse::<Ipv6Addr>().unwrap()));
/// assert_eq!(Host::parse(b"Example.COM").unwrap(), Host::Domain("Example.COM"));
/// assert!(Host::parse(b"bad host").is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Host<'a> {
    /// A domain name, case as received (compare with [`Host::eq_ignore_case`]).
    Domain(&'a str),
    /// A dotted-quad IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 reference (`[...]` on the wire).
    Ipv6(Ipv6Addr),
}

impl<'a> Host<'a> {
    /// Parse a host: `hostname / IPv4address / IPv6reference`. Offsets in errors are
    /// relative to `s`.
    pub fn parse(s: &'a [u8]) -> Result<Self, ParseError> {
        let err = |at| ParseError::new(ParseErrorKind::Uri, at);
        match s.first() {
            None => Err(err(0)),
            Some(b'[') => {
                if s.len() < 3 || s[s.len() - 1] != b']' {
                    return Err(err(0));
                }
                let inner = core::str::from_utf8(&s[1..s.len() - 1]).map_err(|_| err(1))?;
                inner
                    .parse::<Ipv6Addr>()
                    .or_else(|_| three_colon_ipv4(inner).ok_or(()))
                    .map(Host::Ipv6)
                    .map_err(|_| err(1))
            }
            Some(b) => {
                // A dotted quad is the common case between machines: try it first.
                if b.is_ascii_digit()
                    && let Some(a) = parse_ipv4(s)
                {
                    return Ok(Host::Ipv4(a));
                }
                // One pass: every byte must be alphanumeric, `-` or `.`; note whether
                // any is not a digit or dot.
                let mut name_like = false;
                for (i, &b) in s.iter().enumerate() {
                    if !crate::message::lex::is_host_char(b) {
                        return Err(err(i));
                    }
                    name_like |= !(b.is_ascii_digit() || b == b'.');
                }
                if !name_like {
                    // All digits and dots: must be a valid dotted quad (RFC 3261 §25.1;
                    // a top label never starts with a digit).
                    return parse_ipv4(s).map(Host::Ipv4).ok_or(err(0));
                }
                // unwrap-free: every byte is ASCII after the check above.
                let text = core::str::from_utf8(s).map_err(|_| err(0))?;
                Ok(Host::Domain(text))
            }
        }
    }

    /// Host equality of RFC 3261 §19.1.4: domain names compare case-insensitively,
    /// addresses by value.
    pub fn eq_ignore_case(&self, other: &Host<'_>) -> bool {
        match (self, other) {
            (Host::Domain(a), Host::Domain(b)) => a.eq_ignore_ascii_case(b),
            (Host::Ipv4(a), Host::Ipv4(b)) => a == b,
            (Host::Ipv6(a), Host::Ipv6(b)) => a == b,
            _ => false,
        }
    }
}

impl fmt::Display for Host<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Domain(d) => f.write_str(d),
            Host::Ipv4(a) => write!(f, "{a}"),
            Host::Ipv6(a) => write!(f, "[{a}]"),
        }
    }
}

/// RFC 5118 §4.10: the RFC 3261 grammar lets `hexpart ":" IPv4address` end in `::`,
/// giving `2001:db8:::192.0.2.1`; tolerate it as `2001:db8::192.0.2.1`. No allocation:
/// the text is copied to a stack buffer without the extra colon.
fn three_colon_ipv4(inner: &str) -> Option<Ipv6Addr> {
    let at = inner.find(":::")?;
    let tail = inner.get(at + 3..)?;
    if tail.contains(':') || tail.parse::<Ipv4Addr>().is_err() {
        return None;
    }
    let mut buf = [0u8; 64];
    let head = inner.get(..at + 2)?.as_bytes();
    let len = head.len() + tail.len();
    buf.get_mut(..head.len())?.copy_from_slice(head);
    buf.get_mut(head.len()..len)?
        .copy_from_slice(tail.as_bytes());
    core::str::from_utf8(buf.get(..len)?).ok()?.parse().ok()
}

/// `host [ ":" port ]` (RFC 3261 §25.1 `hostport`, Via `sent-by`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HostPort<'a> {
    /// The host.
    pub host: Host<'a>,
    /// The port, if written.
    pub port: Option<u16>,
}

impl<'a> HostPort<'a> {
    /// Parse `host [":" port]`. Offsets in errors are relative to `s`.
    pub fn parse(s: &'a [u8]) -> Result<Self, ParseError> {
        // The port colon is the last one after any IPv6 reference's closing bracket.
        let search_from = if s.first() == Some(&b'[') {
            s.iter().position(|&b| b == b']').map_or(s.len(), |i| i + 1)
        } else {
            0
        };
        match s[search_from..].iter().rposition(|&b| b == b':') {
            Some(rel) => {
                let colon = search_from + rel;
                let host = Host::parse(&s[..colon])?;
                let port = parse_port(&s[colon + 1..])
                    .ok_or(ParseError::new(ParseErrorKind::Uri, colon + 1))?;
                Ok(HostPort {
                    host,
                    port: Some(port),
                })
            }
            None => Ok(HostPort {
                host: Host::parse(s)?,
                port: None,
            }),
        }
    }
}

impl<'a> HostPort<'a> {
    /// Liberal: an IPv6 address without brackets, as some live traffic sends it in a Via
    /// sent-by (outside RFC 3261 and RFC 5118). Not used for URIs, where RFC 5118 §4.2
    /// requires the brackets and a 400 for their absence. The whole run is the
    /// address if it is one; else the part before the last `:` is the address and the
    /// rest the port (RFC 5118 §4.3 discusses the ambiguity).
    pub(crate) fn bare_ipv6(run: &'a [u8]) -> Option<Self> {
        let text = core::str::from_utf8(run).ok()?;
        if let Ok(a) = text.parse::<Ipv6Addr>() {
            return Some(HostPort {
                host: Host::Ipv6(a),
                port: None,
            });
        }
        let (addr, port) = text.rsplit_once(':')?;
        Some(HostPort {
            host: Host::Ipv6(addr.parse().ok()?),
            port: Some(parse_port(port.as_bytes())?),
        })
    }
}

impl fmt::Display for HostPort<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(p) => write!(f, "{}:{p}", self.host),
            None => write!(f, "{}", self.host),
        }
    }
}

/// A dotted quad of four decimal octets, 0 to 255, without leading zeros beyond a lone
/// `0` (the rules of `core::net::Ipv4Addr`'s parser, which this replaces on the hot path).
#[inline]
pub(crate) fn parse_ipv4(s: &[u8]) -> Option<Ipv4Addr> {
    match ipv4_prefix(s) {
        Some((addr, [])) => Some(addr),
        _ => None,
    }
}

/// The dotted quad at the start of a run of `hostname` / `IPv4address` bytes at `from`
/// in `s` that is nothing else: the address and where the run ends. What
/// `Host::parse` gives for the whole run when it is `Ipv4`, in one pass instead of a
/// scan for the run's end and a parse of it; `None` for any other run.
/// Always inlined, with [`ipv4_prefix`]: the address then stays in registers instead
/// of coming back through memory, on every host of every message.
#[inline(always)]
pub(crate) fn ipv4_run(s: &[u8], from: usize) -> Option<(Ipv4Addr, usize)> {
    let (addr, rest) = ipv4_prefix(s.get(from..)?)?;
    // A digit, letter, `-` or `.` right after would extend the run beyond the address.
    match rest.first() {
        Some(&b) if crate::message::lex::is_host_char(b) => None,
        _ => Some((addr, s.len() - rest.len())),
    }
}

/// The longest dotted quad at the start of `s` as [`parse_ipv4`] reads one, and what
/// follows it. When `s` holds the fifteen bytes the longest address can read, they are
/// read as an array, whose length the compiler knows: its index checks fold away.
#[inline(always)]
fn ipv4_prefix(s: &[u8]) -> Option<(Ipv4Addr, &[u8])> {
    let (addr, n) = match s.first_chunk::<15>() {
        Some(head) => quad(head)?,
        None => quad(s)?,
    };
    Some((addr, s.get(n..)?))
}

/// The dotted quad at the start of `s` and its length. Octet by octet: three digits
/// (the first not `0`), two, or one; a valid octet is the whole digit run, so reading
/// the longest one loses no address. Each byte is fetched once, as a digit value
/// (anything else is above 9): the slice patterns this replaces tested the same bytes
/// again for each octet length. No index read is past 14.
#[inline(always)]
fn quad(s: &[u8]) -> Option<(Ipv4Addr, usize)> {
    let digit = |j: usize| s.get(j).map_or(10, |&b| b.wrapping_sub(b'0'));
    let mut octets = [0u8; 4];
    let mut i = 0;
    for (k, octet) in octets.iter_mut().enumerate() {
        if k > 0 {
            if s.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let a = digit(i);
        if a > 9 {
            return None;
        }
        i += 1;
        let mut n = u32::from(a);
        // A leading `0` is an octet of its own.
        if a != 0 {
            let b = digit(i);
            if b <= 9 {
                i += 1;
                n = n * 10 + u32::from(b);
                let c = digit(i);
                if c <= 9 {
                    i += 1;
                    n = n * 10 + u32::from(c);
                }
            }
        }
        *octet = u8::try_from(n).ok()?;
    }
    Some((Ipv4Addr::from(octets), i))
}

/// The run of digits at `from` in `s`: where it ends, and the port it makes as
/// [`parse_port`] reads it (`None` if empty, longer than five digits or above 65535),
/// found in the same pass. Always inlined, like [`ipv4_run`]: it was a call of its
/// own after every address with a port.
#[inline(always)]
pub(crate) fn port_run(s: &[u8], from: usize) -> (usize, Option<u16>) {
    let mut k = from;
    let mut n: u32 = 0;
    while let Some(&b) = s.get(k) {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        // Exact for up to nine digits; a longer run may wrap, but the length check
        // below discards the value of any run over five.
        n = n.wrapping_mul(10).wrapping_add(u32::from(d));
        k += 1;
    }
    let len = k - from;
    let port = if len == 0 || len > 5 {
        None
    } else {
        u16::try_from(n).ok()
    };
    (k, port)
}

/// A port: 1 to 5 digits, at most 65535.
pub(crate) fn parse_port(s: &[u8]) -> Option<u16> {
    if s.is_empty() || s.len() > 5 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.iter()
        .try_fold(0u32, |n, &b| Some(n * 10 + u32::from(b - b'0')))
        .and_then(|n| u16::try_from(n).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(
            Host::parse(b"192.0.2.1").unwrap(),
            Host::Ipv4(Ipv4Addr::new(192, 0, 2, 1))
        );
        assert!(Host::parse(b"192.0.2.256").is_err());
        assert!(Host::parse(b"[::1").is_err());
        assert!(Host::parse(b"[]").is_err());
        // RFC 5118 §4.10: three colons before an embedded IPv4 address are tolerated.
        assert_eq!(
            Host::parse(b"[2001:db8:::192.0.2.1]").unwrap(),
            Host::parse(b"[2001:db8::192.0.2.1]").unwrap()
        );
        assert!(Host::parse(b"[2001:db8:::1]").is_err());
        assert!(Host::parse(b"[2001:::db8:1.2.3.4]").is_err());
        assert!(Host::parse(b"").is_err());
        assert!(Host::Domain("A.b").eq_ignore_case(&Host::Domain("a.B")));
    }

    #[test]
    fn ipv4_agrees_with_core() {
        for text in [
            "0.0.0.0",
            "255.255.255.255",
            "1.2.3.4",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "1..2.3",
            "1.2.3.",
            ".1.2.3",
            "1.2.3.4 ",
            "1234.1.1.1",
            "0.00.0.0",
            "10.0.0.10",
            "1.2.3.04",
            "1.2.3.255",
            "1.2.3.256",
            "999.1.1.1",
            "",
            ".",
            "1.2.3.4.",
            "00.1.2.3",
        ] {
            assert_eq!(parse_ipv4(text.as_bytes()), text.parse().ok(), "{text}");
        }
        // Every string of up to eight bytes over an alphabet that crosses the octet
        // rules (leading zeros, 255/256, too many digits, empty octets), alone and as
        // the start of a run: `ipv4_run` answers exactly when the run is an address.
        let alphabet = b"01256.x;";
        let mut accepted = 0;
        for s in crate::message::lex::strings_over(alphabet, 0..=8) {
            let s = &s[..];
            let want = core::str::from_utf8(s).unwrap().parse::<Ipv4Addr>().ok();
            assert_eq!(parse_ipv4(s), want, "{s:?}");
            accepted += usize::from(want.is_some());
            let run = crate::message::lex::host_end(s, 0);
            let host = Host::parse(&s[..run]).ok();
            let want = match host {
                Some(Host::Ipv4(a)) => Some((a, run)),
                _ => None,
            };
            assert_eq!(ipv4_run(s, 0), want, "{s:?}");
        }
        assert!(accepted > 1000, "{accepted}");
        for text in [
            "255.255.255.255",
            "199.99.9.100",
            "100.200.250.251",
            "9.99.199.249",
        ] {
            assert_eq!(parse_ipv4(text.as_bytes()), text.parse().ok(), "{text}");
        }
    }

    /// [`ipv4_prefix`] as it was (one slice pattern per octet length): the reference.
    fn ipv4_prefix_reference(s: &[u8]) -> Option<(Ipv4Addr, &[u8])> {
        let mut octets = [0u8; 4];
        let mut rest = s;
        for (k, octet) in octets.iter_mut().enumerate() {
            if k > 0 {
                match rest {
                    [b'.', tail @ ..] => rest = tail,
                    _ => return None,
                }
            }
            let (n, tail) = match rest {
                [a @ b'1'..=b'9', b @ b'0'..=b'9', c @ b'0'..=b'9', tail @ ..] => (
                    u32::from(a - b'0') * 100 + u32::from(b - b'0') * 10 + u32::from(c - b'0'),
                    tail,
                ),
                [a @ b'1'..=b'9', b @ b'0'..=b'9', tail @ ..] => {
                    (u32::from(a - b'0') * 10 + u32::from(b - b'0'), tail)
                }
                [a @ b'0'..=b'9', tail @ ..] => (u32::from(a - b'0'), tail),
                _ => return None,
            };
            *octet = u8::try_from(n).ok()?;
            rest = tail;
        }
        Some((Ipv4Addr::from(octets), rest))
    }

    #[test]
    fn ipv4_prefix_agrees_with_the_slice_patterns() {
        // Every string of up to seven bytes over digits that cross the octet rules,
        // dots and two other bytes, and every dotted quad of tricky octets followed by
        // each tail: the address and the rest agree.
        let mut n = 0;
        for s in crate::message::lex::strings_over(b"01259.x", 0..=7) {
            assert_eq!(ipv4_prefix(&s), ipv4_prefix_reference(&s), "{s:?}");
            n += 1;
        }
        let octets = [
            "", "0", "00", "01", "1", "9", "10", "25", "99", "100", "199", "249", "255", "256",
            "260", "300", "999", "1000", "2555",
        ];
        for a in octets {
            for b in octets {
                for c in octets {
                    for d in octets {
                        for tail in ["", ".", "x", "0", "5", ";", ":5060", ".1"] {
                            let text = std::format!("{a}.{b}.{c}.{d}{tail}");
                            let s = text.as_bytes();
                            assert_eq!(ipv4_prefix(s), ipv4_prefix_reference(s), "{text}");
                            n += 1;
                        }
                    }
                }
            }
        }
        assert!(n > 1_000_000, "{n}");
    }

    /// The same at every offset of every corpus message and mutant.
    #[test]
    #[ignore = "needs ../shared/corpus"]
    fn ipv4_prefix_agrees_with_the_slice_patterns_on_the_corpus() {
        let (mut compared, mut found, mut differ) = (0, 0, 0);
        for bytes in crate::corpus_inputs::inputs() {
            for at in 0..=bytes.len() {
                let got = ipv4_prefix(&bytes[at..]);
                differ += usize::from(got != ipv4_prefix_reference(&bytes[at..]));
                found += usize::from(got.is_some());
                compared += 1;
            }
        }
        let counts =
            std::format!("{compared} offsets compared, {found} addresses, {differ} differ");
        assert!(found > 10_000, "{counts}");
        assert_eq!(differ, 0, "{counts}");
    }

    #[test]
    fn port_run_agrees_with_parse_port() {
        for text in [
            "",
            "0",
            "5060",
            "65535",
            "65536",
            "99999",
            "100000",
            "000065535",
            "0000005060",
            "123456789012",
            "5060;x",
            "5060 ",
            "x",
            "5x",
        ] {
            let s = text.as_bytes();
            let (end, port) = port_run(s, 0);
            let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
            assert_eq!(end, digits, "{text}");
            assert_eq!(port, parse_port(&s[..digits]), "{text}");
        }
        for n in 0..=70_000u32 {
            // n in decimal, without leading zeros.
            let mut buf = [0u8; 5];
            let mut at = buf.len();
            let mut m = n;
            loop {
                at -= 1;
                buf[at] = b'0' + (m % 10) as u8;
                m /= 10;
                if m == 0 {
                    break;
                }
            }
            let text = &buf[at..];
            assert_eq!(port_run(text, 0), (text.len(), u16::try_from(n).ok()));
            assert_eq!(port_run(text, 0).1, parse_port(text));
        }
    }

    /// [`port_run`] as it was (a saturating value): the reference.
    fn port_run_reference(s: &[u8], from: usize) -> (usize, Option<u16>) {
        let mut k = from;
        let mut n: u32 = 0;
        while k < s.len() && s[k].is_ascii_digit() {
            n = (n * 10 + u32::from(s[k] - b'0')).min(1_000_000);
            k += 1;
        }
        let len = k - from;
        let port = if len == 0 || len > 5 {
            None
        } else {
            u16::try_from(n).ok()
        };
        (k, port)
    }

    #[test]
    fn port_run_agrees_with_the_saturating_loop() {
        // Every string of up to eight bytes over digits that cross 65535 and two
        // others, from each of the first three offsets; and long runs that wrap a u32.
        let mut n = 0;
        for s in crate::message::lex::strings_over(b"05369;:", 0..=8) {
            for from in 0..=s.len().min(2) {
                assert_eq!(port_run(&s, from), port_run_reference(&s, from), "{s:?}");
                n += 1;
            }
        }
        assert!(n > 1_000_000, "{n}");
        for len in 0..40 {
            for d in [b'0', b'1', b'6', b'9'] {
                let s = std::vec![d; len];
                assert_eq!(port_run(&s, 0), port_run_reference(&s, 0), "{s:?}");
            }
        }
    }

    #[test]
    fn host_ports() {
        let hp = HostPort::parse(b"[2001:db8::9:1]:5060").unwrap();
        assert_eq!(hp.port, Some(5060));
        assert!(matches!(hp.host, Host::Ipv6(_)));
        // RFC 5118 §4.3: the port inside the brackets belongs to the address.
        let hp = HostPort::parse(b"[2001:db8::9:1]").unwrap();
        assert_eq!(hp.port, None);
        assert_eq!(HostPort::parse(b"a.com:5061").unwrap().port, Some(5061));
        assert!(HostPort::parse(b"a.com:65536").is_err());
        assert!(HostPort::parse(b"a.com:").is_err());
        assert!(HostPort::parse(b"[::1]x").is_err());
    }
}
