//! The Via header value (RFC 3261 §20.42, §18.2.1; RFC 3581; RFC 7118; RFC 5118).

use core::fmt;
use core::net::Ipv6Addr;

use super::{check_params_classed, required, token_at, token_value_text};
use crate::error::{ParseError, ParseErrorKind};
use crate::message::host::{ipv4_run, parse_ipv4, parse_port, port_run};
use crate::message::lex::{self, Params, RawParam};
use crate::message::{Host, HostPort};

const KIND: ParseErrorKind = ParseErrorKind::Via;

/// The RFC 3261 §8.1.1.7 magic cookie that starts every RFC 3261 branch.
pub const MAGIC_COOKIE: &str = "z9hG4bK";

/// The transport of a Via `sent-protocol` (RFC 3261 §20.42, RFC 7118 for WebSocket).
/// Compared case-insensitively; an unknown transport is kept (RFC 4475 §3.1.1.10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Transport<'a> {
    /// UDP (RFC 3261 §18).
    Udp,
    /// TCP (RFC 3261 §18).
    Tcp,
    /// TLS over TCP (RFC 3261 §26.2).
    Tls,
    /// SCTP (RFC 4168).
    Sctp,
    /// WebSocket (RFC 7118).
    Ws,
    /// Secure WebSocket (RFC 7118).
    Wss,
    /// Any other transport token, case as received.
    Other(&'a str),
}

impl<'a> Transport<'a> {
    /// The transport named by the token `t` (case-insensitive).
    pub fn from_token(t: &'a str) -> Self {
        Self::known(t.as_bytes()).unwrap_or(Transport::Other(t))
    }

    /// One of the transports the crate names, by its token (case-insensitive).
    fn known(t: &[u8]) -> Option<Transport<'static>> {
        // Upper case, as nearly every Via writes it: one comparison.
        match t {
            b"UDP" => return Some(Transport::Udp),
            b"TCP" => return Some(Transport::Tcp),
            b"TLS" => return Some(Transport::Tls),
            _ => {}
        }
        const KNOWN: [(&[u8], Transport<'static>); 6] = [
            (b"UDP", Transport::Udp),
            (b"TCP", Transport::Tcp),
            (b"TLS", Transport::Tls),
            (b"SCTP", Transport::Sctp),
            (b"WS", Transport::Ws),
            (b"WSS", Transport::Wss),
        ];
        KNOWN
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(t))
            .map(|&(_, tr)| tr)
    }

    /// The canonical (upper-case) name, or the token as received for [`Transport::Other`].
    pub fn as_str(&self) -> &'a str {
        match *self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
            Transport::Sctp => "SCTP",
            Transport::Ws => "WS",
            Transport::Wss => "WSS",
            Transport::Other(s) => s,
        }
    }

    /// Whether the transport is reliable (RFC 3261 §17.1.1.2: no retransmissions, Timer
    /// E/G not used). Unknown transports are treated as unreliable.
    pub fn is_reliable(&self) -> bool {
        !matches!(self, Transport::Udp | Transport::Other(_))
    }
}

impl fmt::Display for Transport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The RFC 3581 `rport` Via parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Rport {
    /// No `rport` parameter.
    #[default]
    Absent,
    /// `rport` without a value: the client asks for symmetric response routing
    /// (RFC 3581 §3).
    Requested,
    /// `rport=port`, filled in by the server (RFC 3581 §4).
    Port(u16),
}

/// One Via header value (RFC 3261 §20.42): `sent-protocol LWS sent-by *( SEMI via-params )`.
///
/// A Via header holding several values is split by the caller with
/// [`lex::CommaSeparated`]; `parse` reads one of them.
///
/// ```
/// use sansip::message::{Host, Rport, Transport, Via};
///
/// let via = Via::parse(b"SIP/2.0/UDP pc33.atlanta.com:5066;branch=z9hG4bK776asdhds;rport").unwrap();
/// assert_eq!(via.transport(), Transport::Udp);
/// assert_eq!(via.sent_by().host, Host::Domain("pc33.atlanta.com"));
/// assert_eq!(via.sent_by().port, Some(5066));
/// assert_eq!(via.branch(), Some("z9hG4bK776asdhds"));
/// assert!(via.is_rfc3261_branch());
/// assert_eq!(via.rport(), Rport::Requested);
/// assert!(Via::parse(b"SIP/2.0/UDP 192.0.2.15;;").is_err());
/// ```
// PartialEq, Eq and Debug by hand: they see the parameters (`value[params_at..]`), as
// when those were a field of their own, not the whole value.
#[derive(Clone)]
pub struct Via<'a> {
    protocol_name: &'a str,
    protocol_version: &'a str,
    transport: Transport<'a>,
    sent_by: HostPort<'a>,
    /// The whole value parsed; the parameters start at `params_at`.
    value: &'a [u8],
    params_at: usize,
    branch: Option<&'a str>,
    received: Option<Host<'a>>,
    rport: Rport,
    maddr: Option<Host<'a>>,
    ttl: Option<u8>,
}

impl PartialEq for Via<'_> {
    fn eq(&self, o: &Self) -> bool {
        self.protocol_name == o.protocol_name
            && self.protocol_version == o.protocol_version
            && self.transport == o.transport
            && self.sent_by == o.sent_by
            && self.params_bytes() == o.params_bytes()
            && self.params_at == o.params_at
            && self.branch == o.branch
            && self.received == o.received
            && self.rport == o.rport
            && self.maddr == o.maddr
            && self.ttl == o.ttl
    }
}

impl Eq for Via<'_> {}

impl fmt::Debug for Via<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Via")
            .field("protocol_name", &self.protocol_name)
            .field("protocol_version", &self.protocol_version)
            .field("transport", &self.transport)
            .field("sent_by", &self.sent_by)
            .field("params", &self.params_bytes())
            .field("params_at", &self.params_at)
            .field("branch", &self.branch)
            .field("received", &self.received)
            .field("rport", &self.rport)
            .field("maddr", &self.maddr)
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl<'a> Via<'a> {
    /// Parse one Via value. LWS is allowed around the `/` of `sent-protocol`, around the
    /// sent-by `:` and around `;` and `=` (RFC 3261 §25.1, RFC 4475 §3.1.1.1).
    pub fn parse(value: &'a [u8]) -> Result<Self, ParseError> {
        Self::parse_text(value, None)
    }

    /// [`Via::parse`], given `value` as `&str` when the caller already has it (see
    /// `Message::text_at`): the branch then needs no UTF-8 pass. `text` must be `value`.
    pub(crate) fn parse_text(value: &'a [u8], text: Option<&'a str>) -> Result<Self, ParseError> {
        let s = value;
        let err = |at| ParseError::new(KIND, at);
        // sent-protocol = protocol-name SLASH protocol-version SLASH transport. Nearly
        // every Via starts `SIP/2.0/`: read that without the token machinery.
        // A transport the crate names needs no UTF-8 check either.
        let fast = s
            .starts_with(b"SIP/2.0/")
            .then(|| {
                let end = lex::token_end(s, 8);
                match Transport::known(&s[8..end]) {
                    Some(t) => Some((t, end)),
                    None => token_at(s, 8, KIND)
                        .ok()
                        .map(|(t, end)| (Transport::from_token(t), end)),
                }
            })
            .flatten()
            .map(|(t, end)| ("SIP", "2.0", t, end));
        let (protocol_name, protocol_version, transport, end) = match fast {
            Some(parts) => parts,
            None => {
                let i = lex::skip_lws(s, 0);
                let (protocol_name, i) = token_at(s, i, KIND)?;
                let i = slash(s, i)?;
                let (protocol_version, i) = token_at(s, i, KIND)?;
                let i = slash(s, i)?;
                let (transport, end) = token_at(s, i, KIND)?;
                (
                    protocol_name,
                    protocol_version,
                    Transport::from_token(transport),
                    end,
                )
            }
        };
        // LWS sent-by (the LWS is mandatory)
        let mut i = lex::skip_lws(s, end);
        if i == end {
            return Err(err(end));
        }
        let sent_by = sent_by(s, &mut i)?;
        let mut via = Via::unread((protocol_name, protocol_version, transport), sent_by, s, i);
        if !plain_params(s, i, text, &mut via) {
            general_params(s, i, text, &mut via)?;
        }
        Ok(via)
    }

    /// The Via of `protocol` and `sent_by` whose parameters start at `i` of `s`, none of
    /// them read yet (the parameter parsers fill in branch, received, rport, maddr, ttl).
    fn unread(
        (protocol_name, protocol_version, transport): (&'a str, &'a str, Transport<'a>),
        sent_by: HostPort<'a>,
        s: &'a [u8],
        i: usize,
    ) -> Self {
        Via {
            protocol_name,
            protocol_version,
            transport,
            sent_by,
            value: s,
            params_at: i,
            branch: None,
            received: None,
            rport: Rport::Absent,
            maddr: None,
            ttl: None,
        }
    }

    /// A value to be overwritten by [`Via::parse_plain_whole_into`]: what a result
    /// built in place holds until then.
    pub(crate) const fn placeholder() -> Self {
        Via {
            protocol_name: "",
            protocol_version: "",
            transport: Transport::Udp,
            sent_by: HostPort {
                host: Host::Domain(""),
                port: None,
            },
            value: &[],
            params_at: 0,
            branch: None,
            received: None,
            rport: Rport::Absent,
            maddr: None,
            ttl: None,
        }
    }

    /// [`Via::parse_plain_whole`] written into `self` (left as it was on `false`): the
    /// top Via of a checked message is then built once, where the result keeps it.
    pub(crate) fn parse_plain_whole_into(&mut self, s: &'a [u8], text: Option<&'a str>) -> bool {
        match Self::parse_plain_whole(s, text) {
            Some(v) => {
                *self = v;
                true
            }
            None => false,
        }
    }

    /// A whole Via header value `s` (trimmed) that [`Via::parse_text`] reads entirely
    /// by its plain paths (`SIP/2.0/`, a transport token, a plain sent-by, plain
    /// parameters): the Via `parse_text` gives for it. Those paths take no `,` or
    /// `"`, so such a value is one list element, which the comma splitter then need not
    /// scan for. `None` for any other value, which the caller splits and parses as
    /// before (and which reports any error).
    #[inline(always)]
    pub(crate) fn parse_plain_whole(s: &'a [u8], text: Option<&'a str>) -> Option<Self> {
        // The protocol as nearly every Via writes it, space included: two word
        // comparisons, no token scan of the transport.
        let (transport, end) = match plain_protocol_words(s) {
            Some(known) => known,
            None => Self::plain_protocol(s)?,
        };
        let i = lex::skip_lws(s, end);
        if i == end {
            return None;
        }
        let (sent_by, i) = plain_sent_by(s, i)?;
        let found = plain_params_found(s, i, text)?;
        // Built once, in the caller's place (a Via is some 180 bytes).
        Some(Via {
            protocol_name: "SIP",
            protocol_version: "2.0",
            transport,
            sent_by,
            value: s,
            params_at: i,
            branch: found.branch,
            received: found.received,
            rport: found.rport.unwrap_or(Rport::Absent),
            maddr: None,
            ttl: None,
        })
    }

    /// `SIP/2.0/` and the transport token at the start of `s`, and where the token ends.
    fn plain_protocol(s: &'a [u8]) -> Option<(Transport<'a>, usize)> {
        if !s.starts_with(b"SIP/2.0/") {
            return None;
        }
        let end = lex::token_end(s, 8);
        match Transport::known(&s[8..end]) {
            Some(t) => Some((t, end)),
            None => {
                let (t, end) = token_at(s, 8, KIND).ok()?;
                Some((Transport::from_token(t), end))
            }
        }
    }

    /// [`Via::parse_plain_whole`] as it was, the transport always scanned: the reference
    /// the tests hold it to.
    #[cfg(test)]
    fn parse_plain_whole_reference(s: &'a [u8], text: Option<&'a str>) -> Option<Self> {
        if !s.starts_with(b"SIP/2.0/") {
            return None;
        }
        let end = lex::token_end(s, 8);
        let (transport, end) = match Transport::known(&s[8..end]) {
            Some(t) => (t, end),
            None => {
                let (t, end) = token_at(s, 8, KIND).ok()?;
                (Transport::from_token(t), end)
            }
        };
        let i = lex::skip_lws(s, end);
        if i == end {
            return None;
        }
        let (sent_by, i) = plain_sent_by(s, i)?;
        let mut via = Via::unread(("SIP", "2.0", transport), sent_by, s, i);
        plain_params(s, i, text, &mut via).then_some(via)
    }

    /// The parameters' text, `;` first.
    fn params_bytes(&self) -> &'a [u8] {
        self.value.get(self.params_at..).unwrap_or_default()
    }

    /// The value this Via was parsed from, as given to the parser (a list element,
    /// trimmed): a rewrite of it needs no second split of the header.
    #[cfg_attr(not(feature = "endpoint"), allow(dead_code))] // the endpoint's rewrite
    pub(crate) fn text(&self) -> &'a [u8] {
        self.value
    }

    /// The protocol name of `sent-protocol`, case as received (normally `SIP`).
    pub fn protocol_name(&self) -> &'a str {
        self.protocol_name
    }

    /// The protocol version of `sent-protocol`, as received (normally `2.0`).
    pub fn protocol_version(&self) -> &'a str {
        self.protocol_version
    }

    /// The transport.
    pub fn transport(&self) -> Transport<'a> {
        self.transport
    }

    /// The `sent-by` host and optional port.
    pub fn sent_by(&self) -> HostPort<'a> {
        self.sent_by
    }

    /// The `branch` parameter (RFC 3261 §8.1.1.7), if present.
    pub fn branch(&self) -> Option<&'a str> {
        self.branch
    }

    /// Whether the branch starts with the magic cookie `z9hG4bK` (case-sensitive,
    /// RFC 3261 §8.1.1.7, §17.2.3). A branch that is only the cookie counts
    /// (RFC 4475 §3.2.1 leaves its handling to the transaction layer).
    pub fn is_rfc3261_branch(&self) -> bool {
        self.branch.is_some_and(|b| b.starts_with(MAGIC_COOKIE))
    }

    /// The `received` parameter (RFC 3261 §18.2.1), an IPv4 or IPv6 address; IPv6 is
    /// accepted with or without brackets (RFC 5118 §4.5).
    pub fn received(&self) -> Option<Host<'a>> {
        self.received
    }

    /// The `rport` parameter (RFC 3581).
    pub fn rport(&self) -> Rport {
        self.rport
    }

    /// The `maddr` parameter (RFC 3261 §18.2.2).
    pub fn maddr(&self) -> Option<Host<'a>> {
        self.maddr
    }

    /// The `ttl` parameter (0..=255, RFC 3261 §20.42).
    pub fn ttl(&self) -> Option<u8> {
        self.ttl
    }

    /// Every parameter as received, in order. `parse` has checked them all, so the
    /// iterator yields no errors.
    pub fn params(&self) -> Params<'a> {
        Params::new(self.params_bytes(), self.params_at)
    }

    /// The first parameter named `name` (case-insensitive).
    pub fn param(&self, name: &str) -> Option<RawParam<'a>> {
        self.params().find(name)
    }
}

/// The via-params at `s[from..]` (RFC 3261 §20.42, RFC 3581 §3), any shape, into `via`;
/// the first of a duplicate wins. `text` is `s` as `&str` if the caller has it.
fn general_params<'a>(
    s: &'a [u8],
    from: usize,
    text: Option<&'a str>,
    via: &mut Via<'a>,
) -> Result<(), ParseError> {
    let err = |at| ParseError::new(KIND, at);
    let mut seen_rport = false;
    check_params_classed(s, from, KIND, |p, class, value_at| {
        let name = p.name;
        if is_name(name, b"branch") {
            let b = token_value_text(&p, class, KIND, text, value_at)?;
            via.branch.get_or_insert(b);
        } else if is_name(name, b"received") {
            let h = received(&p)?;
            via.received.get_or_insert(h);
        } else if is_name(name, b"rport") {
            let r = match p.value {
                None => Rport::Requested,
                Some(v) => Rport::Port(parse_port(v).ok_or(err(p.offset))?),
            };
            if !seen_rport {
                via.rport = r;
                seen_rport = true;
            }
        } else if name.eq_ignore_ascii_case(b"maddr") {
            let h = Host::parse(required(&p, KIND)?).map_err(|_| err(p.offset))?;
            via.maddr.get_or_insert(h);
        } else if name.eq_ignore_ascii_case(b"ttl") {
            // ttl = 1*3DIGIT ; 0 to 255
            let v = required(&p, KIND)?;
            let n = lex::parse_u32(v, p.offset).map_err(|_| err(p.offset))?;
            let t = u8::try_from(n).map_err(|_| err(p.offset))?;
            via.ttl.get_or_insert(t);
        }
        Ok(())
    })
    .map(drop)
}

/// The via-params at `s[from..]` in their common shape: `;name` or `;name=value`, token
/// names and values, no LWS, a `received` IPv4 address, no `maddr` or `ttl`. Fills
/// `via` as [`general_params`] would and says whether it could; on `false` `via` is
/// untouched and the general loop reads the parameters (and reports any error).
fn plain_params<'a>(s: &'a [u8], from: usize, text: Option<&'a str>, via: &mut Via<'a>) -> bool {
    let Some(found) = plain_params_found(s, from, text) else {
        return false;
    };
    via.branch = found.branch;
    via.received = found.received;
    if let Some(r) = found.rport {
        via.rport = r;
    }
    true
}

/// What [`plain_params_found`] read: the first of each parameter the plain loop knows.
struct PlainParams<'a> {
    branch: Option<&'a str>,
    received: Option<Host<'a>>,
    rport: Option<Rport>,
}

/// [`plain_params`], giving what it read instead of writing it into a Via, so that
/// [`Via::parse_plain_whole`] builds its Via once; `None` where `plain_params` gives
/// `false`.
#[inline(always)]
fn plain_params_found<'a>(
    s: &'a [u8],
    from: usize,
    text: Option<&'a str>,
) -> Option<PlainParams<'a>> {
    let mut branch = None;
    let mut received = None;
    let mut rport = None;
    let mut i = from;
    while i < s.len() {
        // The parameters every Via writes, as written (`;branch=`, `;rport`,
        // `;received=`): each known by one comparison of its bytes, without the name
        // scan and the comparisons of the name after it. Any other is read as before.
        let rest = &s[i..];
        if rest.starts_with(b";branch=") {
            let (b, end) = plain_branch(s, i + 8, text)?;
            branch.get_or_insert(b);
            i = end;
            continue;
        }
        if rest.starts_with(b";rport") && !rest.get(6).is_some_and(|&b| lex::is_token(b)) {
            let r = if rest.get(6) == Some(&b'=') {
                // The digits read as a port where the token ends: a token byte after
                // them would make the value no port.
                let (end, port) = port_at(s, i + 7);
                if s.get(end).is_some_and(|&b| lex::is_token(b)) {
                    return None;
                }
                i = end;
                Rport::Port(port?)
            } else {
                i += 6;
                Rport::Requested
            };
            rport.get_or_insert(r);
            continue;
        }
        if rest.starts_with(b";received=") {
            // The address read where the token ends, as the port above.
            let (addr, end) = ipv4_run(s, i + 10)?;
            if s.get(end).is_some_and(|&b| lex::is_token(b)) {
                return None;
            }
            received.get_or_insert(Host::Ipv4(addr));
            i = end;
            continue;
        }
        i = plain_param(s, i, text, &mut branch, &mut received, &mut rport)?;
    }
    Some(PlainParams {
        branch,
        received,
        rport,
    })
}

/// The branch value at `a` of `s` (after `branch=`) and where it ends, as
/// [`plain_params`] reads it; `None` if it is empty or not UTF-8.
#[inline(always)]
fn plain_branch<'a>(s: &'a [u8], a: usize, text: Option<&'a str>) -> Option<(&'a str, usize)> {
    let b = branch_end(s, a);
    if b == a {
        return None;
    }
    let branch = match text.and_then(|t| t.get(a..b)) {
        Some(branch) => branch,
        None => core::str::from_utf8(&s[a..b]).ok()?,
    };
    Some((branch, b))
}

/// [`lex::token_end`] for a branch: eight bytes a step while all eight are letters or
/// digits (as nearly every branch is: `z9hG4bK` and a random alphanumeric or hex
/// string), byte by byte past any other. Branches are long; a table lookup per byte
/// costs twice what the word test does.
#[inline(always)]
fn branch_end(s: &[u8], i: usize) -> usize {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const ONES: u64 = 0x0101_0101_0101_0101;
    let Some(mut rest) = s.get(i..) else {
        return i;
    };
    while let Some((chunk, tail)) = rest.split_first_chunk::<8>() {
        let w = u64::from_le_bytes(*chunk);
        // Per byte below 0x80, `x + (0x80 - c)` has its high bit set iff `x >= c`, and
        // no carry leaves the byte. A byte from 0x80 up is flagged by `w` itself (and a
        // carry out of it reaches only bytes after it, which the first flag hides).
        let at_least = |x: u64, c: u8| x.wrapping_add(ONES * u64::from(0x80 - c));
        let digit = at_least(w, b'0') & !at_least(w, b'9' + 1);
        // Letters of either case: the case bit set, then `a..=z`.
        let folded = w | (ONES * 0x20);
        let letter = at_least(folded, b'a') & !at_least(folded, b'z' + 1);
        let other = (!(digit | letter) | w) & HIGH;
        if other == 0 {
            rest = tail;
            continue;
        }
        let k = (other.trailing_zeros() / 8) as usize;
        // The first byte that is neither: the end, or another token character.
        match chunk.get(k) {
            Some(&b) if lex::is_token(b) => rest = rest.get(k + 1..).unwrap_or_default(),
            _ => return s.len() - rest.len() + k,
        }
    }
    lex::token_end(s, s.len() - rest.len())
}

/// One parameter at `s[i..]` of any name, as the plain loop reads it (see
/// [`plain_params`]): where it ends, or `None` where the general loop must read them.
#[inline(never)]
fn plain_param<'a>(
    s: &'a [u8],
    mut i: usize,
    text: Option<&'a str>,
    branch: &mut Option<&'a str>,
    received: &mut Option<Host<'a>>,
    rport: &mut Option<Rport>,
) -> Option<usize> {
    if s[i] != b';' {
        return None;
    }
    let name_end = known_name_end(s, i + 1).unwrap_or_else(|| lex::token_end(s, i + 1));
    let name = &s[i + 1..name_end];
    if name.is_empty() {
        return None;
    }
    i = name_end;
    let mut value = None;
    if s.get(i) == Some(&b'=') {
        let end = lex::long_token_end(s, i + 1);
        if end == i + 1 {
            return None;
        }
        value = Some((i + 1, end));
        i = end;
    }
    // Every occurrence is checked, as the general loop checks it.
    if is_name(name, b"branch") {
        let (a, _) = value?;
        let (b, _) = plain_branch(s, a, text)?;
        branch.get_or_insert(b);
    } else if is_name(name, b"received") {
        let addr = value.and_then(|(a, b)| parse_ipv4(&s[a..b]))?;
        received.get_or_insert(Host::Ipv4(addr));
    } else if is_name(name, b"rport") {
        let r = match value {
            None => Rport::Requested,
            Some((a, b)) => Rport::Port(parse_port(&s[a..b])?),
        };
        rport.get_or_insert(r);
    } else if name.eq_ignore_ascii_case(b"maddr") || name.eq_ignore_ascii_case(b"ttl") {
        return None;
    }
    Some(i)
}

/// [`plain_params`] as it was, every name scanned and then compared: the reference
/// the tests hold it to.
#[cfg(test)]
fn plain_params_reference<'a>(
    s: &'a [u8],
    from: usize,
    text: Option<&'a str>,
    via: &mut Via<'a>,
) -> bool {
    let mut branch = None;
    let mut received = None;
    let mut rport = None;
    let mut i = from;
    while i < s.len() {
        if s[i] != b';' {
            return false;
        }
        let name_end = known_name_end(s, i + 1).unwrap_or_else(|| lex::token_end(s, i + 1));
        let name = &s[i + 1..name_end];
        if name.is_empty() {
            return false;
        }
        i = name_end;
        let mut value = None;
        if s.get(i) == Some(&b'=') {
            // Branches are long: four bytes a step.
            let end = lex::long_token_end(s, i + 1);
            if end == i + 1 {
                return false;
            }
            value = Some((i + 1, end));
            i = end;
        }
        // Every occurrence is checked, as the general loop checks it.
        if is_name(name, b"branch") {
            let Some((a, b)) = value else { return false };
            let b = match text.and_then(|t| t.get(a..b)) {
                Some(b) => b,
                None => match core::str::from_utf8(&s[a..b]) {
                    Ok(b) => b,
                    Err(_) => return false,
                },
            };
            branch.get_or_insert(b);
        } else if is_name(name, b"received") {
            let Some(addr) = value.and_then(|(a, b)| parse_ipv4(&s[a..b])) else {
                return false;
            };
            received.get_or_insert(Host::Ipv4(addr));
        } else if is_name(name, b"rport") {
            let r = match value {
                None => Rport::Requested,
                Some((a, b)) => match parse_port(&s[a..b]) {
                    Some(port) => Rport::Port(port),
                    None => return false,
                },
            };
            rport.get_or_insert(r);
        } else if name.eq_ignore_ascii_case(b"maddr") || name.eq_ignore_ascii_case(b"ttl") {
            return false;
        }
    }
    via.branch = branch;
    via.received = received;
    if let Some(r) = rport {
        via.rport = r;
    }
    true
}

/// Where the parameter name at `at` ends when it is one every Via writes, spelled as
/// written (`branch`, `rport`, `received`) and not the start of a longer token: what
/// `lex::token_end(s, at)` gives then, without its byte-by-byte scan. `None` otherwise.
#[inline]
fn known_name_end(s: &[u8], at: usize) -> Option<usize> {
    let rest = s.get(at..)?;
    let len = [&b"branch"[..], b"rport", b"received"]
        .into_iter()
        .find(|name| rest.starts_with(name))?
        .len();
    match rest.get(len) {
        Some(&b) if lex::is_token(b) => None,
        _ => Some(at + len),
    }
}

/// [`port_run`] at `from` of `s`, a port of four digits (as nearly every Via writes
/// its sent-by and `rport`: 5060) read as one word of four bytes; any other run as
/// `port_run` reads it.
#[inline(always)]
fn port_at(s: &[u8], from: usize) -> (usize, Option<u16>) {
    if let Some(&[a, b, c, d]) = s.get(from..from.saturating_add(4)) {
        let [a, b, c, d] = [a, b, c, d].map(|x| x.wrapping_sub(b'0'));
        if a < 10 && b < 10 && c < 10 && d < 10 && !s.get(from + 4).is_some_and(u8::is_ascii_digit)
        {
            // At most 9999: a port.
            let n = u16::from(a) * 1000 + u16::from(b) * 100 + u16::from(c) * 10 + u16::from(d);
            return (from + 4, Some(n));
        }
    }
    port_run(s, from)
}

/// The transport and where it ends when `s` starts `SIP/2.0/UDP `, `SIP/2.0/TCP ` or
/// `SIP/2.0/TLS ` (space included), as [`Via::plain_protocol`] reads those: two word
/// comparisons instead of twelve of bytes.
#[inline]
fn plain_protocol_words(s: &[u8]) -> Option<(Transport<'static>, usize)> {
    let &[b0, b1, b2, b3, b4, b5, b6, b7, t0, t1, t2, t3, ..] = s else {
        return None;
    };
    if u64::from_le_bytes([b0, b1, b2, b3, b4, b5, b6, b7]) != u64::from_le_bytes(*b"SIP/2.0/") {
        return None;
    }
    let transport = match u32::from_le_bytes([t0, t1, t2, t3]) {
        w if w == u32::from_le_bytes(*b"UDP ") => Transport::Udp,
        w if w == u32::from_le_bytes(*b"TCP ") => Transport::Tcp,
        w if w == u32::from_le_bytes(*b"TLS ") => Transport::Tls,
        _ => return None,
    };
    Some((transport, 11))
}

/// Whether the parameter name `name` is `lower` (case-insensitive): the spelling every
/// Via writes is compared first, as one word, before the byte-by-byte folding.
#[inline]
fn is_name(name: &[u8], lower: &[u8]) -> bool {
    name == lower || name.eq_ignore_ascii_case(lower)
}

/// `SLASH = SWS "/" SWS` starting at `i`; returns the index after the trailing SWS.
fn slash(s: &[u8], i: usize) -> Result<usize, ParseError> {
    let i = lex::skip_lws(s, i);
    if s.get(i) != Some(&b'/') {
        return Err(ParseError::new(KIND, i));
    }
    Ok(lex::skip_lws(s, i + 1))
}

/// `sent-by = host [ COLON port ]` at `*i`, with `COLON = SWS ":" SWS`. Advances `*i`.
fn sent_by<'a>(s: &'a [u8], i: &mut usize) -> Result<HostPort<'a>, ParseError> {
    if let Some((hp, end)) = plain_sent_by(s, *i) {
        *i = end;
        return Ok(hp);
    }
    general_sent_by(s, i)
}

/// The sent-by at `start` in its common shape: a hostname or IPv4 address, then an
/// optional `:port` without white space, then `;` or the end. Gives what
/// [`general_sent_by`] gives for the same bytes, and where it ends, with one forward
/// scan; `None` for any other shape or an error, which the general path then reports.
#[inline(always)]
fn plain_sent_by(s: &[u8], start: usize) -> Option<(HostPort<'_>, usize)> {
    let ipv4 = ipv4_run(s, start);
    let j = match ipv4 {
        Some((_, j)) => j,
        None => lex::host_end(s, start),
    };
    if j == start {
        return None;
    }
    let (port, end) = match s.get(j) {
        None | Some(b';') => (None, j),
        Some(b':') => {
            let (k, port) = port_at(s, j + 1);
            if !matches!(s.get(k), None | Some(b';')) {
                return None;
            }
            (Some(port?), k)
        }
        _ => return None,
    };
    let host = match ipv4 {
        Some((addr, _)) => Host::Ipv4(addr),
        None => Host::parse(&s[start..j]).ok()?,
    };
    Some((HostPort { host, port }, end))
}

/// `sent-by` at `*i`, any shape (see [`sent_by`]).
fn general_sent_by<'a>(s: &'a [u8], i: &mut usize) -> Result<HostPort<'a>, ParseError> {
    let start = *i;
    let mut j = start;
    if s.get(j) == Some(&b'[') {
        // IPv6reference: up to and including the `]`.
        j = s
            .iter()
            .skip(j)
            .position(|&b| b == b']')
            .map_or(s.len(), |p| start + p + 1);
    } else {
        while j < s.len() && !lex::is_lws(s[j]) && !matches!(s[j], b';' | b':') {
            j += 1;
        }
        if s.get(j) == Some(&b':') {
            let mut run_end = j;
            while run_end < s.len() && !lex::is_lws(s[run_end]) && s[run_end] != b';' {
                run_end += 1;
            }
            let run = s.get(start..run_end).unwrap_or_default();
            if run.iter().filter(|&&b| b == b':').count() >= 2 {
                *i = run_end;
                return HostPort::bare_ipv6(run).ok_or(ParseError::new(KIND, start));
            }
        }
    }
    let host = Host::parse(s.get(start..j).unwrap_or_default())
        .map_err(|e| ParseError::new(KIND, start + e.offset))?;
    let k = lex::skip_lws(s, j);
    if s.get(k) != Some(&b':') {
        *i = j;
        return Ok(HostPort { host, port: None });
    }
    let p_start = lex::skip_lws(s, k + 1);
    let mut p_end = p_start;
    while p_end < s.len() && s[p_end].is_ascii_digit() {
        p_end += 1;
    }
    let port = parse_port(s.get(p_start..p_end).unwrap_or_default())
        .ok_or(ParseError::new(KIND, p_start))?;
    *i = p_end;
    Ok(HostPort {
        host,
        port: Some(port),
    })
}

/// `received = "received" EQUAL (IPv4address / IPv6address)` (RFC 3261 §20.42), IPv6 also
/// in brackets (RFC 5118 §4.5).
fn received<'a>(p: &RawParam<'a>) -> Result<Host<'a>, ParseError> {
    let err = ParseError::new(KIND, p.offset);
    let v = required(p, KIND)?;
    if v.first() == Some(&b'[') {
        return match Host::parse(v) {
            Ok(h @ Host::Ipv6(_)) => Ok(h),
            _ => Err(err),
        };
    }
    if let Some(a) = crate::message::host::parse_ipv4(v) {
        return Ok(Host::Ipv4(a));
    }
    let text = core::str::from_utf8(v).map_err(|_| err)?;
    text.parse::<Ipv6Addr>().map(Host::Ipv6).map_err(|_| err)
}

/// The plain paths as they were before the branch was scanned a word at a time, the
/// protocol compared as words and the parameters returned by value (`perf-via` at
/// 82b49f2): the reference the tests hold the new ones to.
#[cfg(test)]
mod frozen {
    use super::*;

    pub(super) fn parse_text<'a>(
        value: &'a [u8],
        text: Option<&'a str>,
    ) -> Result<Via<'a>, ParseError> {
        let s = value;
        let err = |at| ParseError::new(KIND, at);
        // sent-protocol = protocol-name SLASH protocol-version SLASH transport. Nearly
        // every Via starts `SIP/2.0/`: read that without the token machinery.
        // A transport the crate names needs no UTF-8 check either.
        let fast = s
            .starts_with(b"SIP/2.0/")
            .then(|| {
                let end = lex::token_end(s, 8);
                match Transport::known(&s[8..end]) {
                    Some(t) => Some((t, end)),
                    None => token_at(s, 8, KIND)
                        .ok()
                        .map(|(t, end)| (Transport::from_token(t), end)),
                }
            })
            .flatten()
            .map(|(t, end)| ("SIP", "2.0", t, end));
        let (protocol_name, protocol_version, transport, end) = match fast {
            Some(parts) => parts,
            None => {
                let i = lex::skip_lws(s, 0);
                let (protocol_name, i) = token_at(s, i, KIND)?;
                let i = slash(s, i)?;
                let (protocol_version, i) = token_at(s, i, KIND)?;
                let i = slash(s, i)?;
                let (transport, end) = token_at(s, i, KIND)?;
                (
                    protocol_name,
                    protocol_version,
                    Transport::from_token(transport),
                    end,
                )
            }
        };
        // LWS sent-by (the LWS is mandatory)
        let mut i = lex::skip_lws(s, end);
        if i == end {
            return Err(err(end));
        }
        let sent_by = sent_by(s, &mut i)?;
        let mut via = Via::unread((protocol_name, protocol_version, transport), sent_by, s, i);
        if !plain_params(s, i, text, &mut via) {
            general_params(s, i, text, &mut via)?;
        }
        Ok(via)
    }

    pub(super) fn parse_plain_whole<'a>(s: &'a [u8], text: Option<&'a str>) -> Option<Via<'a>> {
        // The protocol as nearly every Via writes it, space included: one comparison, no
        // token scan of the transport.
        let (transport, end) = match s.get(..12) {
            Some(b"SIP/2.0/UDP ") => (Transport::Udp, 11),
            Some(b"SIP/2.0/TCP ") => (Transport::Tcp, 11),
            Some(b"SIP/2.0/TLS ") => (Transport::Tls, 11),
            _ => Via::plain_protocol(s)?,
        };
        let i = lex::skip_lws(s, end);
        if i == end {
            return None;
        }
        let (sent_by, i) = plain_sent_by(s, i)?;
        let mut via = Via::unread(("SIP", "2.0", transport), sent_by, s, i);
        plain_params(s, i, text, &mut via).then_some(via)
    }

    pub(super) fn plain_params<'a>(
        s: &'a [u8],
        from: usize,
        text: Option<&'a str>,
        via: &mut Via<'a>,
    ) -> bool {
        let mut branch = None;
        let mut received = None;
        let mut rport = None;
        let mut i = from;
        while i < s.len() {
            // The parameters every Via writes, as written (`;branch=`, `;rport`,
            // `;received=`): each known by one comparison of its bytes, without the name
            // scan and the comparisons of the name after it. Any other is read as before.
            let rest = &s[i..];
            if rest.starts_with(b";branch=") {
                let Some((b, end)) = plain_branch(s, i + 8, text) else {
                    return false;
                };
                branch.get_or_insert(b);
                i = end;
                continue;
            }
            if rest.starts_with(b";rport") && !rest.get(6).is_some_and(|&b| lex::is_token(b)) {
                let r = if rest.get(6) == Some(&b'=') {
                    let end = lex::long_token_end(s, i + 7);
                    let Some(port) = parse_port(&s[i + 7..end]) else {
                        return false;
                    };
                    i = end;
                    Rport::Port(port)
                } else {
                    i += 6;
                    Rport::Requested
                };
                rport.get_or_insert(r);
                continue;
            }
            if rest.starts_with(b";received=") {
                let end = lex::long_token_end(s, i + 10);
                let Some(addr) = parse_ipv4(&s[i + 10..end]) else {
                    return false;
                };
                received.get_or_insert(Host::Ipv4(addr));
                i = end;
                continue;
            }
            match plain_param(s, i, text, &mut branch, &mut received, &mut rport) {
                Some(end) => i = end,
                None => return false,
            }
        }
        via.branch = branch;
        via.received = received;
        if let Some(r) = rport {
            via.rport = r;
        }
        true
    }

    fn plain_branch<'a>(s: &'a [u8], a: usize, text: Option<&'a str>) -> Option<(&'a str, usize)> {
        // Branches are long: four bytes a step.
        let b = lex::long_token_end(s, a);
        if b == a {
            return None;
        }
        let branch = match text.and_then(|t| t.get(a..b)) {
            Some(branch) => branch,
            None => core::str::from_utf8(&s[a..b]).ok()?,
        };
        Some((branch, b))
    }

    fn plain_param<'a>(
        s: &'a [u8],
        mut i: usize,
        text: Option<&'a str>,
        branch: &mut Option<&'a str>,
        received: &mut Option<Host<'a>>,
        rport: &mut Option<Rport>,
    ) -> Option<usize> {
        if s[i] != b';' {
            return None;
        }
        let name_end = known_name_end(s, i + 1).unwrap_or_else(|| lex::token_end(s, i + 1));
        let name = &s[i + 1..name_end];
        if name.is_empty() {
            return None;
        }
        i = name_end;
        let mut value = None;
        if s.get(i) == Some(&b'=') {
            let end = lex::long_token_end(s, i + 1);
            if end == i + 1 {
                return None;
            }
            value = Some((i + 1, end));
            i = end;
        }
        // Every occurrence is checked, as the general loop checks it.
        if is_name(name, b"branch") {
            let (a, _) = value?;
            let (b, _) = plain_branch(s, a, text)?;
            branch.get_or_insert(b);
        } else if is_name(name, b"received") {
            let addr = value.and_then(|(a, b)| parse_ipv4(&s[a..b]))?;
            received.get_or_insert(Host::Ipv4(addr));
        } else if is_name(name, b"rport") {
            let r = match value {
                None => Rport::Requested,
                Some((a, b)) => Rport::Port(parse_port(&s[a..b])?),
            };
            rport.get_or_insert(r);
        } else if name.eq_ignore_ascii_case(b"maddr") || name.eq_ignore_ascii_case(b"ttl") {
            return None;
        }
        Some(i)
    }
}

#[cfg(test)]
mod generated_tests {
    use std::string::String;
    use std::vec::Vec;

    use proptest::prelude::*;

    use super::*;

    /// A Via value built from parts biased to what the plain paths must refuse or get
    /// exactly right: LWS and line folds, comments, IPv6, received/rport/maddr/ttl,
    /// duplicated and differently spelled parameters, commas, quotes, bad bytes, long
    /// branches of every token character.
    fn via_value() -> impl Strategy<Value = Vec<u8>> {
        let protocol = prop::sample::select(
            &[
                "SIP/2.0/UDP ",
                "SIP/2.0/TCP ",
                "SIP/2.0/TLS ",
                "SIP/2.0/UDP ",
                "SIP/2.0/UDP ",
                "SIP/2.0/udp ",
                "SIP/2.0/WS ",
                "SIP/2.0/SCTP\t",
                "SIP / 2.0 / UDP ",
                "SIP/2.0/UDP",
                "SIP/2.0/UDP  ",
                "SIP/2.0/UDPX ",
                "SIP/2.0/TCP\r\n ",
                "sip/2.0/UDP ",
                "SIP/2.0/UD ",
                "SIP/2.0/",
                "SIP/2.0/TLS\t",
                "SIP/2.1/UDP ",
                "SIP/2.0/UDP\u{e9} ",
            ][..],
        );
        let host = prop::sample::select(
            &[
                "127.0.0.1",
                "127.0.0.1:5060",
                "h.example.com",
                "h.example.com:5061",
                "[::1]:5060",
                "[::1]",
                "2001:db8::1",
                "h :5060",
                "h: 5060",
                "256.0.0.1",
                "1.2.3",
                "h:99999",
                "h:",
                "",
                "h_x",
                "\u{e9}.com",
                "01.2.3.4",
                "1.2.3.4:0",
            ][..],
        );
        let branch = "[a-zA-Z0-9]{0,24}|[a-zA-Z0-9.!%*_+`'~-]{0,30}|[a-z0-9;, \"\u{e9}\x00-]{0,12}";
        // What may follow a number: token bytes that are not host bytes among them.
        let tail = prop::sample::select(
            &[
                "", "", "!", "~", "_", "%", "*", "+", "`", "'", "a", ".", "-", ";", ",", " ", "\"",
                "=", ":",
            ][..],
        );
        let param = prop_oneof![
            4 => branch.prop_map(|b| std::format!(";branch=z9hG4bK{b}")),
            2 => branch.prop_map(|b| std::format!(";branch={b}")),
            2 => ("[0-9]{0,7}", tail.clone()).prop_map(|(d, t)| std::format!(";rport={d}{t}")),
            2 => ("[0-9]{1,4}(\\.[0-9]{1,4}){0,4}", tail).prop_map(|(a, t)| std::format!(";received={a}{t}")),
            6 => prop::sample::select(&[
                ";rport", ";rport=5060", ";received=127.0.0.1", ";received=[::1]",
                ";received=::1", ";maddr=224.0.0.1", ";ttl=16", ";ttl=300", ";BRANCH=x",
                ";branch=", ";branch", ";x=y", ";x", " ;x", "; branch=a", ";branch = a",
                ";branch=\"q\"", ",SIP/2.0/UDP h", ";", ";x=,", " (comment)", "\u{80}",
                ";rport=65536", ";received=1.2.3.4.5", ";rportx", ";branchy=1", ";Rport=9",
                ";received=1.2.3.4x", ";rport=", "\r\n ;rport", ";received",
            ][..]).prop_map(String::from),
        ];
        (protocol, host, prop::collection::vec(param, 0..5)).prop_map(|(p, h, params)| {
            let mut v = std::format!("{p}{h}");
            params.iter().for_each(|x| v.push_str(x));
            v.into_bytes()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(6000))]

        /// The plain paths and `parse_text` give what they gave before (values, errors
        /// and their offsets), with and without the `&str` of the value; and the
        /// parameter loop agrees from every `;`.
        #[test]
        fn via_parsing_agrees_with_the_frozen_code(value in via_value(), cut in 0usize..80) {
            let v = &value[..];
            let text = core::str::from_utf8(v).ok();
            for text in [text, None] {
                prop_assert_eq!(Via::parse_plain_whole(v, text), frozen::parse_plain_whole(v, text));
                prop_assert_eq!(Via::parse_text(v, text), frozen::parse_text(v, text));
            }
            // A value cut short anywhere, as a list element may be.
            let short = &v[..cut.min(v.len())];
            prop_assert_eq!(Via::parse_plain_whole(short, None), frozen::parse_plain_whole(short, None));
            prop_assert_eq!(Via::parse_text(short, None), frozen::parse_text(short, None));
            let blank = Via::parse(b"SIP/2.0/UDP h").unwrap(); // unwrap: a valid Via
            for at in (0..v.len()).filter(|&at| v[at] == b';') {
                let (mut new, mut old) = (blank.clone(), blank.clone());
                prop_assert_eq!(
                    plain_params(v, at, text, &mut new),
                    frozen::plain_params(v, at, text, &mut old)
                );
                prop_assert_eq!(new, old);
            }
        }

        /// The word-at-a-time branch scan ends where the byte-by-byte token scan does,
        /// from every start, on runs that cross the eight-byte words.
        #[test]
        fn branch_end_agrees_with_the_token_scan(
            s in prop::collection::vec(prop::sample::select(&b"aZ09z9-.!~;, \x80\xff\x00@[`{/:"[..]), 0..40),
            from in 0usize..40,
        ) {
            let from = from.min(s.len());
            prop_assert_eq!(branch_end(&s, from), lex::token_end(&s, from));
        }
    }

    /// The Via values of the corpus and its mutants, whole and as list elements:
    /// the plain path and `parse_text` give what the frozen code gives.
    #[test]
    #[ignore = "needs ../shared/corpus"]
    fn via_parsing_agrees_with_the_frozen_code_on_the_corpus() {
        let limits = crate::message::Limits::default();
        let (mut compared, mut answered, mut differ) = (0, 0, 0);
        for bytes in crate::corpus_inputs::inputs() {
            let Ok(msg) = crate::message::Message::parse_with(&bytes, &limits) else {
                continue;
            };
            for (value, _) in msg.values_of(crate::message::HeaderKind::Via) {
                let whole = lex::trim(value).1;
                let elements = lex::CommaSeparated::new(value).filter_map(Result::ok);
                for v in core::iter::once(whole).chain(elements.map(|(_, e)| e)) {
                    let text = core::str::from_utf8(v).ok();
                    let got = Via::parse_plain_whole(v, text);
                    differ += usize::from(got != frozen::parse_plain_whole(v, text));
                    differ += usize::from(Via::parse_text(v, text) != frozen::parse_text(v, text));
                    answered += usize::from(got.is_some());
                    compared += 1;
                }
            }
        }
        let counts = std::format!("{compared} compared, {answered} answered, {differ} differ");
        assert!(compared > 10_000 && answered > 5_000, "{counts}");
        assert_eq!(differ, 0, "{counts}");
    }

    /// The four-digit port read gives what `port_run` gives, on every string of up to
    /// six bytes over digits and the bytes around them, from every start.
    #[test]
    fn port_at_agrees_with_port_run() {
        let mut four = 0;
        for s in lex::strings_over(b"09/:5;a", 0..=6) {
            for from in 0..=s.len() {
                let got = port_at(&s, from);
                assert_eq!(got, port_run(&s, from), "{s:?} {from}");
                four += usize::from(got.0 == from + 4);
            }
        }
        assert!(four > 1000, "{four}");
    }

    /// Every byte at every place of a word of the branch scan, the bytes around the
    /// letter and digit ranges included.
    #[test]
    fn branch_end_agrees_with_the_token_scan_on_every_byte() {
        for b in 0..=255u8 {
            for at in 0..12 {
                let mut s = [b'a'; 12];
                s[at] = b;
                for from in 0..3 {
                    assert_eq!(
                        branch_end(&s, from),
                        lex::token_end(&s, from),
                        "{b} {at} {from}"
                    );
                }
                // And a second odd byte after it, which a carry out of the first
                // could hide.
                if at + 1 < 12 {
                    s[at + 1] = b'0';
                    assert_eq!(branch_end(&s, 0), lex::token_end(&s, 0), "{b} {at}");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The known names end where the token scan ends, whenever they answer.
    #[test]
    fn known_name_end_agrees_with_token_end() {
        let mut answered = 0;
        for name in [
            "branch", "rport", "received", "rpor", "branchx", "Branch", "x", "",
        ] {
            for tail in ["", "=", ";", "x", "-", " ", ",", "1"] {
                let text = std::format!(";{name}{tail}");
                let s = text.as_bytes();
                if let Some(end) = known_name_end(s, 1) {
                    assert_eq!(end, lex::token_end(s, 1), "{text}");
                    answered += 1;
                }
            }
        }
        assert_eq!(answered, 3 * 5, "{answered}");
    }

    /// The whole-value fast path gives what `parse_text` gives whenever it answers, and
    /// answers only for values without `,` or `"` (one list element).
    #[test]
    fn plain_whole_agrees_with_parse_text() {
        let heads = [
            "SIP/2.0/UDP ",
            "SIP/2.0/TCP\t",
            "SIP/2.0/udp  ",
            "SIP/2.0/FOO ",
            "SIP/2.0/UDP",
            "SIP / 2.0/UDP ",
            "sip/2.0/UDP ",
        ];
        let hosts = [
            "127.0.0.1",
            "h.example.com",
            "h:5060",
            "1.2.3.4:99999",
            "[::1]:5060",
            "1.2.3",
            "01.2.3.4",
            "h :5060",
            "",
        ];
        let params = [
            "",
            ";branch=z9hG4bK1",
            ";rport",
            ";rport=5060",
            ";received=1.2.3.4",
            ";received=[::1]",
            ";BRANCH=b",
            ";branch=\"q\"",
            ";ttl=1",
            ";x=y,SIP/2.0/UDP h",
            ";x",
            " ;x",
            ";",
            ";x=",
            ",",
            "\"",
            ";received=1.2.3.4.5",
            ";rport=65536",
        ];
        let mut answered = 0;
        for head in heads {
            for host in hosts {
                for a in params {
                    for b in params {
                        let text = std::format!("{head}{host}{a}{b}");
                        let s = text.as_bytes();
                        let whole = Via::parse_plain_whole(s, Some(&text));
                        if let Some(via) = &whole {
                            answered += 1;
                            assert!(!s.contains(&b',') && !s.contains(&b'"'), "{text}");
                            assert_eq!(Via::parse_text(s, Some(&text)).as_ref(), Ok(via));
                            assert_eq!(Via::parse_plain_whole(s, None).as_ref(), Some(via));
                        }
                    }
                }
            }
        }
        assert!(answered > 500, "{answered}");
    }

    /// The fast parameter loop fills a Via exactly as the general one does, whenever it
    /// answers.
    #[test]
    fn plain_params_agree_with_the_general_loop() {
        let base: [&[u8]; 7] = [
            b"SIP/2.0/UDP h;branch=z9hG4bK776;rport=5060;received=127.0.0.1",
            b"SIP/2.0/UDP h;rport;branch=z9hG4bKa;x=y;BRANCH=b;rport=1;flag",
            b"SIP/2.0/TCP h:5060;received=10.0.0.1;received=1.2.3.4;maddr=1.2.3.4",
            b"SIP/2.0/UDP h;ttl=3;branch=\"q\";received=[::1]",
            b"SIP/2.0/UDP h;rport=;branch=;received=;rport;rportx;branchy=1;receivedz=2",
            b"SIP/2.0/UDP h;branch=a;branch=b;rport=1;rport;received=1.2.3.4;Rport=9",
            b"SIP/2.0/UDP h;rport=65536;received=1.2.3.4.5;branch=\xc3\xa9;ttl",
        ];
        let mut answered = 0;
        for b in base {
            let mut check = |s: &[u8]| {
                let Ok(via) = Via::parse(s) else { return };
                let text = core::str::from_utf8(s).ok();
                let at = via.params_at;
                let blank = Via {
                    branch: None,
                    received: None,
                    rport: Rport::Absent,
                    maddr: None,
                    ttl: None,
                    ..via.clone()
                };
                let mut fast = blank.clone();
                let mut old = blank.clone();
                assert_eq!(
                    plain_params(s, at, text, &mut fast),
                    plain_params_reference(s, at, text, &mut old),
                    "{s:?}"
                );
                assert_eq!(fast, old, "{s:?}");
                fast = blank.clone();
                if plain_params(s, at, text, &mut fast) {
                    let mut general = blank.clone();
                    assert_eq!(general_params(s, at, text, &mut general), Ok(()), "{s:?}");
                    assert_eq!(fast, general, "{s:?}");
                    answered += 1;
                } else {
                    assert_eq!(fast, blank, "{s:?}");
                }
            };
            check(b);
            let mut s = [0u8; 96];
            s[..b.len()].copy_from_slice(b);
            for at in 12..b.len() {
                for c in *b" ;=,\"[:a1B.5" {
                    let keep = s[at];
                    s[at] = c;
                    check(&s[..b.len()]);
                    s[at] = keep;
                }
                check(&[&b[..at], &b[at + 1..]].concat());
            }
        }
        assert!(answered > 200, "{answered}");
        // Errors are left to the general loop.
        for s in [
            &b"SIP/2.0/UDP h;branch"[..],
            b"SIP/2.0/UDP h;rport=70000",
            b"SIP/2.0/UDP h;received=x",
        ] {
            assert!(Via::parse(s).is_err(), "{s:?}");
            let mut via = Via::parse(b"SIP/2.0/UDP h").unwrap();
            assert!(!plain_params(s, 13, None, &mut via));
        }
    }

    /// The whole-value fast path gives what it gave before the protocols every Via
    /// writes were known by their bytes, on the corpus Via values and their mutants and
    /// on every protocol prefix over an alphabet that crosses them.
    #[test]
    #[ignore = "needs ../shared/corpus"]
    fn parse_plain_whole_agrees_with_the_reference_on_the_corpus() {
        let limits = crate::message::Limits::default();
        let (mut compared, mut answered, mut differ) = (0, 0, 0);
        for bytes in crate::corpus_inputs::inputs() {
            let Ok(msg) = crate::message::Message::parse_with(&bytes, &limits) else {
                continue;
            };
            for (value, _) in msg.values_of(crate::message::HeaderKind::Via) {
                let text = core::str::from_utf8(value).ok();
                let got = Via::parse_plain_whole(value, text);
                differ += usize::from(got != Via::parse_plain_whole_reference(value, text));
                answered += usize::from(got.is_some());
                compared += 1;
            }
        }
        let counts = std::format!("{compared} compared, {answered} answered, {differ} differ");
        assert!(compared > 10_000 && answered > 5_000, "{counts}");
        assert_eq!(differ, 0, "{counts}");
    }

    #[test]
    fn parse_plain_whole_agrees_with_the_reference() {
        let mut answered = 0;
        for proto in crate::message::lex::strings_over(b"UDPTCLS \tx", 0..=5) {
            for tail in [
                &b"h"[..],
                b"1.2.3.4:5;branch=z9hG4bKx;rport",
                b" h",
                b";x",
                b"",
            ] {
                let s = [&b"SIP/2.0/"[..], &proto, tail].concat();
                let got = Via::parse_plain_whole(&s, None);
                assert_eq!(got, Via::parse_plain_whole_reference(&s, None), "{s:?}");
                answered += usize::from(got.is_some());
            }
        }
        assert!(answered > 1_000, "{answered}");
    }

    /// The parameter loop fills every Via of the corpus and its mutants as it did
    /// before the written names were known by their bytes, at every `;`.
    #[test]
    #[ignore = "needs ../shared/corpus"]
    fn plain_params_agree_with_the_reference_on_the_corpus() {
        let limits = crate::message::Limits::default();
        let (mut compared, mut answered, mut differ) = (0, 0, 0);
        for bytes in crate::corpus_inputs::inputs() {
            let Ok(msg) = crate::message::Message::parse_with(&bytes, &limits) else {
                continue;
            };
            for (value, _) in msg.values_of(crate::message::HeaderKind::Via) {
                let text = core::str::from_utf8(value).ok();
                let blank = Via::parse(b"SIP/2.0/UDP h").unwrap(); // unwrap: a valid Via
                for at in (0..value.len()).filter(|&at| value[at] == b';') {
                    let (mut new, mut old) = (blank.clone(), blank.clone());
                    let got = plain_params(value, at, text, &mut new);
                    let want = plain_params_reference(value, at, text, &mut old);
                    differ += usize::from(got != want || new != old);
                    answered += usize::from(got);
                    compared += 1;
                }
            }
        }
        let counts = std::format!("{compared} compared, {answered} answered, {differ} differ");
        assert!(compared > 10_000 && answered > 5_000, "{counts}");
        assert_eq!(differ, 0, "{counts}");
    }

    #[test]
    fn plain_sent_by_agrees_with_the_general_path() {
        // Every string of up to five bytes over an alphabet that crosses the shapes.
        let alphabet = b"a9.-:; [0_";
        let mut answered = 0;
        for s in crate::message::lex::strings_over(alphabet, 0..=5) {
            let s = &s[..];
            if let Some((hp, end)) = plain_sent_by(s, 0) {
                let mut i = 0;
                assert_eq!(general_sent_by(s, &mut i), Ok(hp), "{s:?}");
                assert_eq!(i, end, "{s:?}");
                answered += 1;
            }
        }
        assert!(answered > 1000, "{answered}");
        for s in [
            &b"127.0.0.1:5060;branch=z9hG4bK1"[..],
            b"pc33.atlanta.example.com;branch=z9hG4bK1",
            b"a.example.com:65536;x",
            b"256.1.1.1:5060",
            b"2001:db8::1:5060;branch=x",
        ] {
            if let Some((hp, end)) = plain_sent_by(s, 0) {
                let mut i = 0;
                assert_eq!(general_sent_by(s, &mut i), Ok(hp), "{s:?}");
                assert_eq!(i, end, "{s:?}");
            }
        }
        assert!(plain_sent_by(b"127.0.0.1:5060;rport", 0).is_some());
    }
}
