//! URIs in SIP messages (RFC 3261 §19.1, §25.1; RFC 3966 `tel`; RFC 5118 IPv6).
//!
//! [`Uri::parse`] validates the bytes in one pass per component and keeps `&'a str`
//! slices of the input: nothing is copied or unescaped. `%HH` escapes stay in the
//! slices; [`Unescaped`] decodes them on the fly, and [`Uri::equivalent`] compares by
//! decoded value (RFC 3261 §19.1.4).

use core::fmt;

use super::Method;
use super::host::{Host, HostPort, ipv4_run, port_run};
use super::lex;
use crate::error::{ParseError, ParseErrorKind};

// Character classes of RFC 3261 §25.1, one bit per URI component.
const UNRES: u8 = 1; // unreserved = alphanum / mark
const USER: u8 = 2; // user: unreserved / escaped / user-unreserved
const PASS: u8 = 4; // password: unreserved / escaped / & = + $ ,
const PARAM: u8 = 8; // paramchar: param-unreserved / unreserved / escaped
const HDR: u8 = 16; // hname/hvalue: hnv-unreserved / unreserved / escaped
const URIC: u8 = 32; // absoluteURI: reserved / unreserved / escaped (plus [ ])
const TEL: u8 = 64; // tel number: digits, hex digits, * # + and visual separators

const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let all = UNRES | USER | PASS | PARAM | HDR | URIC;
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() {
            t[b] = all;
        }
        b += 1;
    }
    let marks = b"-_.!~*'()";
    let mut i = 0;
    while i < marks.len() {
        t[marks[i] as usize] = all;
        i += 1;
    }
    t[b'&' as usize] = USER | PASS | PARAM | URIC;
    t[b'=' as usize] = USER | PASS | URIC;
    t[b'+' as usize] = USER | PASS | PARAM | HDR | URIC;
    t[b'$' as usize] = USER | PASS | PARAM | HDR | URIC;
    t[b',' as usize] = USER | PASS | URIC;
    t[b';' as usize] = USER | URIC;
    t[b'?' as usize] = USER | HDR | URIC;
    t[b'/' as usize] = USER | PARAM | HDR | URIC;
    t[b':' as usize] = PARAM | HDR | URIC;
    t[b'[' as usize] = PARAM | HDR | URIC;
    t[b']' as usize] = PARAM | HDR | URIC;
    t[b'@' as usize] = URIC;
    // RFC 3966 §3: phonedigit-hex and visual separators.
    let tel = b"0123456789abcdefABCDEF*#+-.()";
    let mut i = 0;
    while i < tel.len() {
        t[tel[i] as usize] |= TEL;
        i += 1;
    }
    t
};

#[inline]
fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Check that `s[from..to]` holds only bytes of class `mask` or `%HH` escapes
/// (RFC 3261 §25.1 `escaped`); on failure, the offset of the bad byte.
#[inline]
fn scan(s: &[u8], from: usize, to: usize, mask: u8) -> Result<(), ParseError> {
    let end = scan_to(s, from, to, mask);
    if end < to { Err(err(end)) } else { Ok(()) }
}

/// The first index in `s[from..to]` that is neither of class `mask` nor a valid
/// `%HH` escape (or `to`). A tight loop over the bytes of the class, then one escape
/// check where it stops: one bounds check a byte (a byte loop with the escape case
/// inside tested two).
#[inline]
fn scan_to(s: &[u8], from: usize, to: usize, mask: u8) -> usize {
    let s = s.get(..to).unwrap_or(s);
    let mut i = from;
    loop {
        while let Some(&b) = s.get(i) {
            if CLASS[b as usize] & mask == 0 {
                break;
            }
            i += 1;
        }
        match s.get(i..i + 3) {
            Some(&[b'%', h, l]) if hex_val(h).is_some() && hex_val(l).is_some() => i += 3,
            _ => return i,
        }
    }
}

#[inline]
fn err(at: usize) -> ParseError {
    ParseError::new(ParseErrorKind::Uri, at)
}

#[inline]
fn find(s: &[u8], from: usize, to: usize, pred: impl Fn(u8) -> bool) -> usize {
    let mut i = from;
    while i < to && !pred(s[i]) {
        i += 1;
    }
    i
}

/// The bytes of a URI component with `%HH` escapes decoded, produced on the fly
/// (RFC 3261 §19.1.2). A `%` not followed by two hex digits is yielded as is.
///
/// ```
/// use sansip::message::Unescaped;
/// assert!(Unescaped::new("%41b%20c").eq(b"Ab c".iter().copied()));
/// ```
#[derive(Clone, Debug)]
pub struct Unescaped<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Unescaped<'a> {
    /// Decode `s`.
    pub fn new(s: &'a str) -> Self {
        Unescaped {
            s: s.as_bytes(),
            i: 0,
        }
    }
}

impl Iterator for Unescaped<'_> {
    type Item = u8;

    #[inline]
    fn next(&mut self) -> Option<u8> {
        let b = *self.s.get(self.i)?;
        if b == b'%'
            && let (Some(h), Some(l)) = (
                self.s.get(self.i + 1).copied().and_then(hex_val),
                self.s.get(self.i + 2).copied().and_then(hex_val),
            )
        {
            self.i += 3;
            return Some(h << 4 | l);
        }
        self.i += 1;
        Some(b)
    }
}

/// Equality of two escaped components by decoded value.
fn eq_unescaped(a: &str, b: &str, ignore_case: bool) -> bool {
    if !a.contains('%') && !b.contains('%') {
        return if ignore_case {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        };
    }
    let mut x = Unescaped::new(a);
    let mut y = Unescaped::new(b);
    loop {
        match (x.next(), y.next()) {
            (None, None) => return true,
            (Some(p), Some(q)) if p == q || (ignore_case && p.eq_ignore_ascii_case(&q)) => {}
            _ => return false,
        }
    }
}

/// `scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )` up to the colon; the colon's index.
fn scheme_end(s: &[u8]) -> Result<usize, ParseError> {
    match s.first() {
        Some(b) if b.is_ascii_alphabetic() => {}
        _ => return Err(err(0)),
    }
    let mut i = 1;
    while i < s.len() {
        match s[i] {
            b':' => return Ok(i),
            b if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.') => i += 1,
            _ => return Err(err(i)),
        }
    }
    Err(err(i))
}

/// A URI: `sip`/`sips`, `tel`, or any other scheme kept opaque.
///
/// `Display` and [`Uri::as_str`] give back the input exactly. `PartialEq` is structural
/// (same text); use [`Uri::equivalent`] for the comparison rules of RFC 3261 §19.1.4.
///
/// ```
/// use sansip::message::{Host, Uri};
/// let uri = Uri::parse(b"sips:alice@Example.com:5061;transport=tcp?subject=hi").unwrap();
/// let sip = uri.as_sip().unwrap();
/// assert!(sip.is_secure());
/// assert_eq!(sip.user(), Some("alice"));
/// assert_eq!(sip.host(), Host::Domain("Example.com"));
/// assert_eq!(sip.port(), Some(5061));
/// assert_eq!(sip.transport(), Some("tcp"));
/// assert_eq!(uri.to_string(), "sips:alice@Example.com:5061;transport=tcp?subject=hi");
/// assert!(uri.equivalent(&Uri::parse(b"SIPS:alice@example.COM:5061;Transport=TCP?subject=hi").unwrap()));
///
/// assert!(matches!(Uri::parse(b"tel:+1-201-555-0123").unwrap(), Uri::Tel(_)));
/// assert_eq!(Uri::parse(b"soap.beep://192.0.2.103:3002").unwrap().scheme(), "soap.beep");
/// assert!(Uri::parse(b"<sip:user@example.com>").is_err()); // RFC 4475 §3.1.2.7
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Uri<'a> {
    /// A `sip:` or `sips:` URI (RFC 3261 §19.1).
    Sip(SipUri<'a>),
    /// A `tel:` URI (RFC 3966).
    Tel(TelUri<'a>),
    /// Any other scheme (`absoluteURI`, RFC 3261 §25.1), kept opaque.
    Other(OtherUri<'a>),
}

impl<'a> Uri<'a> {
    /// Parse a whole URI. Bytes must be URI characters: LWS, `<`, `>`, `"`, controls
    /// and non-ASCII bytes are rejected. Error offsets are relative to `s`.
    pub fn parse(s: &'a [u8]) -> Result<Self, ParseError> {
        Self::parse_text(s, None)
    }

    /// [`Uri::parse`], given `s` as `&str` when the caller already has it: a `sip:` URI
    /// then needs no UTF-8 pass of its own. `text` must be `s` itself.
    pub(crate) fn parse_text(s: &'a [u8], text: Option<&'a str>) -> Result<Self, ParseError> {
        // The commonest request-URI, `sip:user@host[:port]`, read in one scan and built
        // where it is returned.
        if let Some(text) = text
            && let Some((_, uri)) = plain_sip(s, text, 0, None)
        {
            return Ok(uri);
        }
        // Nearly every URI in a message is `sip:` in lower case: no scheme scan.
        let (colon, sip) = if s.starts_with(b"sip:") {
            (3, true)
        } else {
            let colon = scheme_end(s)?;
            let scheme = &s[..colon];
            let sip = scheme.eq_ignore_ascii_case(b"sip") || scheme.eq_ignore_ascii_case(b"sips");
            (colon, sip)
        };
        // One call site, so that the SIP parser is inlined here and builds its view in
        // the `Uri` it returns rather than in a `Result` of its own copied after.
        let scheme = &s[..colon];
        if sip {
            SipUri::parse_after_scheme(s, colon, text)
        } else if scheme.eq_ignore_ascii_case(b"tel") {
            TelUri::parse_after_scheme(s, colon).map(Uri::Tel)
        } else {
            // RFC 3261 §25.1 absoluteURI: scheme ":" ( hier-part / opaque-part ).
            if colon + 1 >= s.len() {
                return Err(err(s.len()));
            }
            scan(s, colon + 1, s.len(), URIC)?;
            let raw = ascii(s)?;
            Ok(Uri::Other(OtherUri { raw, colon }))
        }
    }

    /// A value to be overwritten (an empty opaque URI, which no parse gives): what a
    /// result built in place holds until its parse writes it.
    pub(crate) const fn placeholder() -> Self {
        Uri::Other(OtherUri { raw: "", colon: 0 })
    }

    /// The URI exactly as received.
    pub fn as_str(&self) -> &'a str {
        match self {
            Uri::Sip(u) => u.raw,
            Uri::Tel(u) => u.raw,
            Uri::Other(u) => u.raw,
        }
    }

    /// The scheme, case as received.
    pub fn scheme(&self) -> &'a str {
        match self {
            Uri::Sip(u) => u.scheme(),
            Uri::Tel(u) => u.raw.get(..3).unwrap_or(""),
            Uri::Other(u) => u.scheme(),
        }
    }

    /// The `sip`/`sips` view, if this is one.
    pub fn as_sip(&self) -> Option<&SipUri<'a>> {
        match self {
            Uri::Sip(u) => Some(u),
            _ => None,
        }
    }

    /// The `tel` view, if this is one.
    pub fn as_tel(&self) -> Option<&TelUri<'a>> {
        match self {
            Uri::Tel(u) => Some(u),
            _ => None,
        }
    }

    /// URI equivalence: RFC 3261 §19.1.4 for `sip`/`sips` ([`SipUri::equivalent`]),
    /// RFC 3966 §4 for `tel` ([`TelUri::equivalent`]); other schemes compare the scheme
    /// case-insensitively and the rest byte for byte.
    pub fn equivalent(&self, other: &Uri<'_>) -> bool {
        match (self, other) {
            (Uri::Sip(a), Uri::Sip(b)) => a.equivalent(b),
            (Uri::Tel(a), Uri::Tel(b)) => a.equivalent(b),
            (Uri::Other(a), Uri::Other(b)) => {
                a.scheme().eq_ignore_ascii_case(b.scheme()) && a.rest() == b.rest()
            }
            _ => false,
        }
    }
}

impl fmt::Display for Uri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Validated bytes as `&str` (they are ASCII once `scan` accepted them).
fn ascii(s: &[u8]) -> Result<&str, ParseError> {
    core::str::from_utf8(s).map_err(|e| err(e.valid_up_to()))
}

/// A `sip:` or `sips:` URI (RFC 3261 §19.1.1):
/// `sip:user:password@host:port;uri-parameters?headers`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SipUri<'a> {
    raw: &'a str,
    host: Host<'a>,
    port: Option<u16>,
    secure: bool,
    // Component boundaries in `raw` (u32 keeps the view small; inputs are bounded).
    user_start: u32, // == at when there is no userinfo
    ucolon: u32,     // end of the user; == at when there is no password
    at: u32,         // index of '@', or of the scheme colon when there is no userinfo
    host_len: u32,   // end of the host text (before ":port")
    host_end: u32,   // start of the parameters (';'), '?' or end
    params_end: u32, // start of '?' or end
}

impl<'a> SipUri<'a> {
    /// The URI after its scheme, built as the `Uri` it is returned in (not moved into
    /// one after).
    #[inline(always)]
    fn parse_after_scheme(
        s: &'a [u8],
        colon: usize,
        text: Option<&'a str>,
    ) -> Result<Uri<'a>, ParseError> {
        let len = s.len();
        let start = colon + 1;
        let secure = colon == 4;
        // One scan over the user characters: userinfo exists iff it stops at '@'
        // (after an optional ":password"). '@' appears nowhere else in a SIP URI
        // (RFC 3261 §25.1: not in host, paramchar or hvalue), so a URI without
        // userinfo that holds one fails in the host.
        let u_end = scan_to(s, start, len, USER);
        let (user, password, host_start) = match s.get(u_end) {
            Some(b'@') => (Some((start, u_end)), None, u_end + 1),
            Some(b':') => {
                let p_end = scan_to(s, u_end + 1, len, PASS);
                if s.get(p_end) == Some(&b'@') {
                    (Some((start, u_end)), Some((u_end + 1, p_end)), p_end + 1)
                } else {
                    (None, None, start)
                }
            }
            _ => (None, None, start),
        };
        if user.is_some() && u_end == start {
            return Err(err(start)); // user = 1*( ... )
        }
        let (hp, host_len, host_end) = match plain_host_port(s, host_start) {
            Some(found) => found,
            None => general_host_port(s, host_start)?,
        };
        let params_end = find(s, host_end, len, |b| b == b'?');
        if host_end < params_end {
            check_params(s, host_end, params_end)?;
        }
        if params_end < len {
            check_headers(s, params_end + 1, len)?;
        }
        let raw = match text {
            Some(text) => text,
            None => ascii(s)?,
        };
        let (user_start, ucolon, at) = match (user, password) {
            (Some((u0, u1)), Some((_, p1))) => (u0, u1, p1),
            (Some((u0, u1)), None) => (u0, u1, u1),
            _ => (colon, colon, colon),
        };
        // The boundaries grow from `user_start` to `params_end`: if the last fits in
        // u32, they all do.
        if u32::try_from(params_end).is_err() {
            return Err(ParseError::new(
                ParseErrorKind::Capacity(crate::error::Capacity::String),
                0,
            ));
        }
        debug_assert!(user_start <= ucolon && ucolon <= at && at < host_len);
        debug_assert!(host_len <= host_end && host_end <= params_end);
        Ok(Uri::Sip(SipUri {
            raw,
            host: hp.host,
            port: hp.port,
            secure,
            user_start: user_start as u32,
            ucolon: ucolon as u32,
            at: at as u32,
            host_len: host_len as u32,
            host_end: host_end as u32,
            params_end: params_end as u32,
        }))
    }

    fn sub(&self, a: u32, b: u32) -> &'a str {
        self.raw.get(a as usize..b as usize).unwrap_or("")
    }

    fn host_start(&self) -> u32 {
        self.at + 1
    }

    /// The URI exactly as received.
    pub fn as_str(&self) -> &'a str {
        self.raw
    }

    /// The scheme as received (`sip` or `sips`, any case).
    pub fn scheme(&self) -> &'a str {
        self.raw
            .get(..if self.secure { 4 } else { 3 })
            .unwrap_or("")
    }

    /// Whether the scheme is `sips` (RFC 3261 §19.1).
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The user part, escapes kept (decode with [`Unescaped`]). RFC 4475 §3.1.1.9: it
    /// may hold `;` and `?`.
    pub fn user(&self) -> Option<&'a str> {
        (self.user_start < self.at).then(|| self.sub(self.user_start, self.ucolon))
    }

    /// The password, escapes kept.
    pub fn password(&self) -> Option<&'a str> {
        (self.ucolon < self.at).then(|| self.sub(self.ucolon + 1, self.at))
    }

    /// The host.
    pub fn host(&self) -> Host<'a> {
        self.host
    }

    /// The host as written (an IPv6 reference with its brackets).
    pub fn host_str(&self) -> &'a str {
        self.sub(self.host_start(), self.host_len)
    }

    /// The port, if written. An absent port is not 5060 (RFC 3261 §19.1.4).
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The raw `uri-parameters`, leading `;` included (empty if none).
    pub fn params_str(&self) -> &'a str {
        self.sub(self.host_end, self.params_end)
    }

    /// The URI parameters in order.
    pub fn params(&self) -> UriParams<'a> {
        UriParams {
            s: self.params_str(),
            pos: 0,
            base: self.host_end as usize,
            sep: b';',
        }
    }

    /// The first parameter whose decoded name equals `name` (case-insensitive):
    /// `Some(value)` where `value` is `None` for a flag parameter such as `lr`.
    pub fn param(&self, name: &str) -> Option<Option<&'a str>> {
        self.params().find(|p| p.name_is(name)).map(|p| p.value)
    }

    /// `transport` parameter (RFC 3261 §19.1.1), raw.
    pub fn transport(&self) -> Option<&'a str> {
        self.param("transport").flatten()
    }

    /// `user` parameter (`phone`, `ip`, ...), raw.
    pub fn user_param(&self) -> Option<&'a str> {
        self.param("user").flatten()
    }

    /// `method` parameter.
    pub fn method(&self) -> Option<Method<'a>> {
        self.param("method").flatten().and_then(Method::from_token)
    }

    /// `ttl` parameter (0..=255; validated by [`Uri::parse`]).
    pub fn ttl(&self) -> Option<u8> {
        self.param("ttl").flatten().and_then(parse_ttl)
    }

    /// `maddr` parameter as a host (validated by [`Uri::parse`]).
    pub fn maddr(&self) -> Option<Host<'a>> {
        self.param("maddr")
            .flatten()
            .and_then(|m| Host::parse(m.as_bytes()).ok())
    }

    /// Whether the `lr` parameter is present (RFC 3261 §19.1.1, loose routing).
    pub fn lr(&self) -> bool {
        self.param("lr").is_some()
    }

    /// Where the parameters start (at their first `;`, or where `?` or the end is) and
    /// where they end (at `?` or the end), as offsets into [`as_str`](Self::as_str).
    pub(crate) fn params_span(&self) -> (usize, usize) {
        (self.host_end as usize, self.params_end as usize)
    }

    /// The raw `headers` after `?` (empty if none).
    pub fn headers_str(&self) -> &'a str {
        self.raw.get(self.params_end as usize + 1..).unwrap_or("")
    }

    /// The URI headers (`?h=v&...`) in order; `value` is always `Some`.
    pub fn headers(&self) -> UriParams<'a> {
        UriParams {
            s: self.headers_str(),
            pos: 0,
            base: self.params_end as usize + 1,
            sep: b'&',
        }
    }

    /// RFC 3261 §19.1.4 equivalence: same scheme; userinfo case-sensitive; host
    /// case-insensitive; ports equal (absent differs from 5060); `user`, `ttl`,
    /// `method`, `maddr` and `transport` present in both or neither and equal; any
    /// other parameter present in both equal; headers all present in both and equal.
    /// Escapes compare by decoded value; parameter names and values
    /// case-insensitively. Header names compare case-insensitively and header values
    /// byte for byte after decoding (a stand-in for the per-header rules of §20).
    pub fn equivalent(&self, other: &SipUri<'_>) -> bool {
        fn opt_eq(a: Option<&str>, b: Option<&str>, ic: bool) -> bool {
            match (a, b) {
                (None, None) => true,
                (Some(a), Some(b)) => eq_unescaped(a, b, ic),
                _ => false,
            }
        }
        const MUST: [&str; 5] = ["user", "ttl", "method", "maddr", "transport"];
        if self.secure != other.secure
            || self.port != other.port
            || !self.host.eq_ignore_case(&other.host)
            || !opt_eq(self.user(), other.user(), false)
            || !opt_eq(self.password(), other.password(), false)
        {
            return false;
        }
        let params_ok = |a: &SipUri<'_>, b: &SipUri<'_>| {
            // A repeated name (outside the grammar's intent) matches if any of the
            // other URI's parameters of that name has an equal value.
            a.params().all(|p| {
                let mut same = b.params().filter(|q| p.same_name(q)).peekable();
                if same.peek().is_none() {
                    !MUST.iter().any(|m| p.name_is(m))
                } else {
                    same.any(|q| opt_eq(p.value, q.value, true))
                }
            })
        };
        if !params_ok(self, other) || !params_ok(other, self) {
            return false;
        }
        let headers_ok = |a: &SipUri<'_>, b: &SipUri<'_>| {
            a.headers().all(|h| {
                b.headers()
                    .any(|k| h.same_name(&k) && opt_eq(h.value, k.value, false))
            })
        };
        headers_ok(self, other) && headers_ok(other, self)
    }
}

/// The `hostport` of a SIP URI at `host_start` in its common shape: a hostname or IPv4
/// address, then an optional `:port`, then `;`, `?` or the end. Gives the host and port,
/// the end of the host text and the end of the hostport: what [`general_host_port`]
/// gives for the same bytes, with one forward scan instead of three. `None` for any
/// other shape or an error, which the general path then reports.
#[inline]
fn plain_host_port(s: &[u8], host_start: usize) -> Option<(HostPort<'_>, usize, usize)> {
    let (host, j) = match ipv4_run(s, host_start) {
        Some((addr, j)) => (Host::Ipv4(addr), j),
        None => {
            let j = lex::host_end(s, host_start);
            if j == host_start {
                return None;
            }
            (Host::parse(&s[host_start..j]).ok()?, j)
        }
    };
    match s.get(j) {
        None | Some(b';' | b'?') => Some((HostPort { host, port: None }, j, j)),
        Some(b':') => {
            let (k, port) = port_run(s, j + 1);
            if !matches!(s.get(k), None | Some(b';' | b'?')) {
                return None;
            }
            let port = port?;
            Some((
                HostPort {
                    host,
                    port: Some(port),
                },
                j,
                k,
            ))
        }
        _ => None,
    }
}

/// The `sip:` URI of a name-addr `t` that opens with `<`, in its common shape
/// `<sip:user@host[:port]>` (no password, parameters or headers; a hostname or IPv4
/// host): where its `>` is and the URI [`Uri::parse_text`] gives for `t[1..gt]`, in one
/// forward scan that also finds the `>`. No byte of that shape is a `>` (`user`
/// characters, host characters and digits), so the scan stops at the first one, which
/// `lex::find_byte` would find. `None` for any other shape or an error (the caller then
/// takes the general path, which reports it). `text` is `t` as `&str`.
/// Always inlined: its caller then builds the `Uri` in the value it returns.
#[inline(always)]
pub(crate) fn sip_in_angle<'a>(t: &'a [u8], text: &'a str) -> Option<(usize, Uri<'a>)> {
    if t.first() != Some(&b'<') {
        return None;
    }
    plain_sip(t, text, 1, Some(b'>'))
}

/// `sip:user@host[:port]` (no password, parameters or headers; a hostname or IPv4 host)
/// at `open` in `s`, ending where `s` has `close` (`None`: at the end of `s`): that end
/// and the URI [`Uri::parse_text`] gives for `s[open..end]`, in one forward scan. `None`
/// for any other shape or an error, which the general path then reads. `text` is `s`
/// as `&str`. The scan is the general path's: its user scan runs to the same byte (an
/// escape cannot run past `close`, which is not a hex digit), and the hostport is
/// [`plain_host_port`]'s with `close` as the only end.
#[inline(always)]
fn plain_sip<'a>(
    s: &'a [u8],
    text: &'a str,
    open: usize,
    close: Option<u8>,
) -> Option<(usize, Uri<'a>)> {
    let (u_end, host, j, port, end) = plain_sip_parts(s, open, close)?;
    // `s[open - 1]` (if any) and `s[end]` (if any) are ASCII, so both ends are
    // character boundaries; split in two steps, which inline where the `Range` lookup
    // was an outlined call.
    let raw = text.get(..end)?.get(open..)?;
    // Offsets are relative to the URI; the last must fit in u32.
    let len = u32::try_from(end - open).ok()?;
    let at = (u_end - open) as u32;
    Some((
        end,
        Uri::Sip(SipUri {
            raw,
            host,
            port,
            secure: false,
            user_start: 4,
            ucolon: at,
            at,
            host_len: (j - open) as u32,
            host_end: len,
            params_end: len,
        }),
    ))
}

/// Whether the whole of `s` is a URI [`plain_sip`] reads: one that [`Uri::parse_text`]
/// accepts, with the scheme `sip`. The scan alone, for a caller that needs no more
/// (the Request-URI check): no `&str` and no `Uri` built. The length bound is
/// `plain_sip`'s, so that the two accept the same URIs.
pub(crate) fn is_plain_sip(s: &[u8]) -> bool {
    plain_sip_parts(s, 0, None).is_some_and(|(_, _, _, _, end)| u32::try_from(end).is_ok())
}

/// The scan of [`plain_sip`]: the end of the user part (the `@`), the host, the end of
/// the host text, the port and the end of the URI.
#[inline(always)]
#[allow(clippy::type_complexity)]
fn plain_sip_parts(
    s: &[u8],
    open: usize,
    close: Option<u8>,
) -> Option<(usize, Host<'_>, usize, Option<u16>, usize)> {
    if s.get(open..open + 4) != Some(b"sip:") {
        return None;
    }
    let start = open + 4;
    let u_end = user_end(s, start);
    if u_end == start || s.get(u_end) != Some(&b'@') {
        return None;
    }
    let host_start = u_end + 1;
    let (host, j) = match ipv4_run(s, host_start) {
        Some((addr, j)) => (Host::Ipv4(addr), j),
        None => {
            let j = lex::host_end(s, host_start);
            if j == host_start {
                return None;
            }
            (Host::parse(&s[host_start..j]).ok()?, j)
        }
    };
    let (port, end) = match s.get(j).copied() {
        b if b == close => (None, j),
        Some(b':') => {
            let (k, port) = port_run(s, j + 1);
            if s.get(k).copied() != close {
                return None;
            }
            (Some(port?), k)
        }
        _ => return None,
    };
    Some((u_end, host, j, port, end))
}

/// `scan_to(s, start, s.len(), USER)`, the end of a user part: a user of up to seven
/// letters and digits and its `@` (nearly every one) found by one word test, any other
/// by the scan.
#[inline(always)]
fn user_end(s: &[u8], start: usize) -> usize {
    if let Some(w) = s.get(start..).and_then(|r| r.first_chunk::<8>()) {
        // The first byte that is not a letter or digit (exact: see `lex::not_alnum`).
        let k = (lex::not_alnum(u64::from_le_bytes(*w)).trailing_zeros() / 8) as usize;
        // Letters and digits are user bytes, `@` is not, nor the start of an escape.
        if w.get(k) == Some(&b'@') {
            return start + k;
        }
    }
    scan_to(s, start, s.len(), USER)
}

/// The `hostport` of a SIP URI at `host_start`, any shape: the host and port, the end
/// of the host text (before `:port`) and the end of the hostport (`;`, `?` or the end).
fn general_host_port(
    s: &[u8],
    host_start: usize,
) -> Result<(HostPort<'_>, usize, usize), ParseError> {
    let host_end = find(s, host_start, s.len(), |b| b == b';' || b == b'?');
    let hp = HostPort::parse(&s[host_start..host_end])
        .map_err(|e| ParseError::new(ParseErrorKind::Uri, e.offset.saturating_add(host_start)))?;
    // The port follows the last colon (an unbracketed IPv6 host has more).
    let host_len = match hp.port {
        Some(_) => s[host_start..host_end]
            .iter()
            .rposition(|&b| b == b':')
            .map_or(host_end, |c| host_start + c),
        None => host_end,
    };
    // An IPv6 reference holds colons: the port colon is the one after ']'.
    let host_len = if s.get(host_start) == Some(&b'[') {
        find(s, host_start, host_end, |b| b == b']')
            .saturating_add(1)
            .min(host_end)
    } else {
        host_len
    };
    Ok((hp, host_len, host_end))
}

fn parse_ttl(v: &str) -> Option<u8> {
    // RFC 3261 §25.1: ttl = 1*3DIGIT ; 0 to 255
    if v.is_empty() || v.len() > 3 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

/// `*( ";" uri-parameter )` in `s[from..to]` (from at the first `;`).
fn check_params(s: &[u8], from: usize, to: usize) -> Result<(), ParseError> {
    let mut i = from;
    while i < to {
        // s[i] == ';'
        let start = i + 1;
        let end = find(s, start, to, |b| b == b';');
        let eq = find(s, start, end, |b| b == b'=');
        if eq == start {
            return Err(err(start));
        }
        scan(s, start, eq, PARAM)?;
        let name = &s[start..eq];
        if eq < end {
            if eq + 1 == end {
                return Err(err(end));
            }
            scan(s, eq + 1, end, PARAM)?;
            let value = &s[eq + 1..end];
            // Typed parameters (RFC 3261 §19.1.1): validate now so accessors cannot fail.
            // Names compare decoded (RFC 3261 §19.1.4: `%74tl` is `ttl`).
            let name = core::str::from_utf8(name).unwrap_or("");
            if eq_unescaped(name, "ttl", true)
                && core::str::from_utf8(value)
                    .ok()
                    .and_then(parse_ttl)
                    .is_none()
            {
                return Err(err(eq + 1));
            }
            if eq_unescaped(name, "maddr", true) && Host::parse(value).is_err() {
                return Err(err(eq + 1));
            }
        }
        i = end;
    }
    Ok(())
}

/// `header *( "&" header )`, `header = hname "=" hvalue` in `s[from..to]`.
fn check_headers(s: &[u8], from: usize, to: usize) -> Result<(), ParseError> {
    let mut i = from;
    loop {
        let end = find(s, i, to, |b| b == b'&');
        let eq = find(s, i, end, |b| b == b'=');
        if eq == i || eq == end {
            return Err(err(eq));
        }
        scan(s, i, eq, HDR)?;
        scan(s, eq + 1, end, HDR)?;
        if end >= to {
            return Ok(());
        }
        i = end + 1;
    }
}

/// One URI parameter or URI header, escapes kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UriParam<'a> {
    /// The name, case and escapes as received.
    pub name: &'a str,
    /// The value, if any (headers always have one, possibly empty).
    pub value: Option<&'a str>,
    /// Offset of the name in the parsed URI.
    pub offset: usize,
}

impl UriParam<'_> {
    /// Whether the decoded name equals `name`, ignoring ASCII case.
    pub fn name_is(&self, name: &str) -> bool {
        eq_unescaped(self.name, name, true)
    }

    fn same_name(&self, other: &UriParam<'_>) -> bool {
        eq_unescaped(self.name, other.name, true)
    }
}

/// Iterator over URI parameters (`;name[=value]`) or URI headers (`name=value&...`)
/// of an already validated URI.
#[derive(Clone, Debug)]
pub struct UriParams<'a> {
    s: &'a str,
    pos: usize,
    base: usize,
    sep: u8,
}

impl<'a> Iterator for UriParams<'a> {
    type Item = UriParam<'a>;

    fn next(&mut self) -> Option<UriParam<'a>> {
        let b = self.s.as_bytes();
        let mut start = self.pos;
        if start >= b.len() {
            return None;
        }
        if b.get(start) == Some(&self.sep) {
            start += 1;
        }
        let end = find(b, start, b.len(), |c| c == self.sep);
        let eq = find(b, start, end, |c| c == b'=');
        self.pos = end;
        Some(UriParam {
            name: self.s.get(start..eq).unwrap_or(""),
            value: if eq < end {
                self.s.get(eq + 1..end)
            } else {
                None
            },
            offset: self.base + start,
        })
    }
}

/// A `tel:` URI (RFC 3966): the number and its parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TelUri<'a> {
    raw: &'a str,
    number: &'a str,
    params: &'a str,
    params_at: usize,
}

impl<'a> TelUri<'a> {
    fn parse_after_scheme(s: &'a [u8], colon: usize) -> Result<Self, ParseError> {
        let start = colon + 1;
        let end = find(s, start, s.len(), |b| b == b';');
        // RFC 3966 §3: global-number-digits = "+" *phonedigit DIGIT *phonedigit;
        // local-number-digits = *phonedigit-hex (HEXDIG / "*" / "#") *phonedigit-hex.
        let digits_from = if s.get(start) == Some(&b'+') {
            start + 1
        } else {
            start
        };
        let mut has_digit = false;
        for (i, &b) in s.iter().enumerate().take(end).skip(digits_from) {
            if CLASS[b as usize] & TEL == 0 || b == b'+' {
                return Err(err(i));
            }
            has_digit |= b.is_ascii_hexdigit() || b == b'*' || b == b'#';
        }
        if !has_digit {
            return Err(err(end));
        }
        if end < s.len() {
            check_params(s, end, s.len())?;
        }
        let raw = ascii(s)?;
        Ok(TelUri {
            raw,
            number: raw.get(start..end).unwrap_or(""),
            params: raw.get(end..).unwrap_or(""),
            params_at: end,
        })
    }

    /// The URI exactly as received.
    pub fn as_str(&self) -> &'a str {
        self.raw
    }

    /// The number as written, visual separators kept (`+1-201-555-0123`).
    pub fn number(&self) -> &'a str {
        self.number
    }

    /// Whether the number is a `global-number` (starts with `+`, RFC 3966 §5.1.4).
    pub fn is_global(&self) -> bool {
        self.number.starts_with('+')
    }

    /// The raw parameters, leading `;` included.
    pub fn params_str(&self) -> &'a str {
        self.params
    }

    /// The parameters in order.
    pub fn params(&self) -> UriParams<'a> {
        UriParams {
            s: self.params,
            pos: 0,
            base: self.params_at,
            sep: b';',
        }
    }

    /// The first parameter named `name` (case-insensitive).
    pub fn param(&self, name: &str) -> Option<Option<&'a str>> {
        self.params().find(|p| p.name_is(name)).map(|p| p.value)
    }

    /// `phone-context` parameter (RFC 3966 §5.1.5).
    pub fn phone_context(&self) -> Option<&'a str> {
        self.param("phone-context").flatten()
    }

    /// RFC 3966 §4 equivalence: numbers equal once visual separators are removed,
    /// the same set of parameters with equal values (case-insensitive; separators
    /// ignored in `phone-context` and `ext`).
    pub fn equivalent(&self, other: &TelUri<'_>) -> bool {
        fn digits(s: &str) -> impl Iterator<Item = u8> + '_ {
            Unescaped::new(s)
                .filter(|b| !matches!(b, b'-' | b'.' | b'(' | b')'))
                .map(|b| b.to_ascii_lowercase())
        }
        if !digits(self.number).eq(digits(other.number)) {
            return false;
        }
        let ok = |a: &TelUri<'_>, b: &TelUri<'_>| {
            a.params().all(|p| {
                b.params().any(|q| {
                    p.same_name(&q)
                        && match (p.value, q.value) {
                            (None, None) => true,
                            (Some(x), Some(y))
                                if p.name_is("phone-context") || p.name_is("ext") =>
                            {
                                digits(x).eq(digits(y))
                            }
                            (Some(x), Some(y)) => eq_unescaped(x, y, true),
                            _ => false,
                        }
                })
            })
        };
        ok(self, other) && ok(other, self)
    }
}

/// A URI of a scheme other than `sip`, `sips` and `tel`: `scheme ":" rest`, opaque.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OtherUri<'a> {
    raw: &'a str,
    colon: usize,
}

impl<'a> OtherUri<'a> {
    /// The URI exactly as received.
    pub fn as_str(&self) -> &'a str {
        self.raw
    }

    /// The scheme, case as received.
    pub fn scheme(&self) -> &'a str {
        self.raw.get(..self.colon).unwrap_or("")
    }

    /// Everything after the scheme's colon.
    pub fn rest(&self) -> &'a str {
        self.raw.get(self.colon + 1..).unwrap_or("")
    }
}

impl fmt::Display for SipUri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw)
    }
}

impl fmt::Display for TelUri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw)
    }
}

impl fmt::Display for OtherUri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `scan_to` as it was (a byte at a time, escape checks in the loop): the reference.
    fn scan_to_reference(s: &[u8], from: usize, to: usize, mask: u8) -> usize {
        let mut i = from;
        while i < to {
            let b = s[i];
            if CLASS[b as usize] & mask != 0 {
                i += 1;
            } else if b == b'%'
                && i + 2 < to
                && hex_val(s[i + 1]).is_some()
                && hex_val(s[i + 2]).is_some()
            {
                i += 3;
            } else {
                break;
            }
        }
        i
    }

    #[test]
    fn scan_to_agrees_with_the_byte_loop() {
        // Every string of up to six bytes over class bytes of each kind, `%`, hex and
        // non-hex digits and a byte of no class; each mask, from the start or the second
        // byte, to the end or one before.
        let masks = [UNRES, USER, PASS, PARAM, HDR, URIC, TEL];
        let mut n = 0;
        for s in crate::message::lex::strings_over(b"a%4Fg;@\x80", 0..=6) {
            for mask in masks {
                for from in 0..=s.len().min(1) {
                    for to in [s.len(), s.len().saturating_sub(1)] {
                        if from <= to {
                            let want = scan_to_reference(&s, from, to, mask);
                            assert_eq!(
                                scan_to(&s, from, to, mask),
                                want,
                                "{s:?} {from} {to} {mask}"
                            );
                            n += 1;
                        }
                    }
                }
            }
        }
        assert!(n > 1_000_000, "{n}");
    }

    /// The word test of `user_end` ends a user where the scan does: every string of up
    /// to six bytes over letters, digits, `@`, an escape, other user bytes and bytes
    /// that end a user, before tails that put an `@` in or past the first word.
    #[test]
    fn user_end_agrees_with_the_scan() {
        let mut fast = 0;
        for head in crate::message::lex::strings_over(b"aZ9@%4-;>\x80", 0..=6) {
            for tail in [
                &b""[..],
                b"@",
                b"@h",
                b"aaaaaaaaa",
                b"%41@h",
                b"\x80@",
                b"1@",
            ] {
                let s = [&head[..], tail].concat();
                for start in 0..=s.len().min(2) {
                    let got = user_end(&s, start);
                    assert_eq!(got, scan_to(&s, start, s.len(), USER), "{s:?} {start}");
                    fast += usize::from(s.len() >= start + 8 && s.get(got) == Some(&b'@'));
                }
            }
        }
        assert!(fast > 100_000, "{fast}");
    }

    /// `Uri::parse_text` as it was before `plain_sip`: the reference for the fast path.
    fn parse_text_reference<'a>(s: &'a [u8], text: Option<&'a str>) -> Result<Uri<'a>, ParseError> {
        let (colon, sip) = if s.starts_with(b"sip:") {
            (3, true)
        } else {
            let colon = scheme_end(s)?;
            let scheme = &s[..colon];
            let sip = scheme.eq_ignore_ascii_case(b"sip") || scheme.eq_ignore_ascii_case(b"sips");
            (colon, sip)
        };
        let scheme = &s[..colon];
        if sip {
            SipUri::parse_after_scheme(s, colon, text)
        } else if scheme.eq_ignore_ascii_case(b"tel") {
            TelUri::parse_after_scheme(s, colon).map(Uri::Tel)
        } else {
            if colon + 1 >= s.len() {
                return Err(err(s.len()));
            }
            scan(s, colon + 1, s.len(), URIC)?;
            let raw = ascii(s)?;
            Ok(Uri::Other(OtherUri { raw, colon }))
        }
    }

    /// `Uri::parse_text` (with and without the text) and `Uri::parse` give what the
    /// reference gives for `s`, and `plain_sip` answers only with the whole of `s` and
    /// the reference's URI. Returns whether `plain_sip` answered.
    fn bare_agrees(s: &[u8]) -> bool {
        let text = core::str::from_utf8(s).ok();
        let want = parse_text_reference(s, text);
        assert_eq!(Uri::parse_text(s, text), want, "{s:?}");
        assert_eq!(Uri::parse_text(s, None), want, "{s:?}");
        assert_eq!(Uri::parse(s), want, "{s:?}");
        let got = text.and_then(|text| plain_sip(s, text, 0, None));
        // The scan alone answers exactly where the fast path does (the Request-URI
        // check takes its answer for `Ok` with the scheme `sip`).
        assert_eq!(is_plain_sip(s), got.is_some(), "{s:?}");
        let Some((end, uri)) = got else {
            return false;
        };
        assert_eq!(end, s.len(), "{s:?}");
        assert_eq!(uri.scheme(), "sip", "{s:?}");
        assert_eq!(Ok(uri), want, "{s:?}");
        true
    }

    #[test]
    fn plain_sip_agrees_exhaustively() {
        // `sip:` then every string of up to five bytes over an alphabet that crosses the
        // user, host and port rules; then, after a user, every host and port of up to
        // seven bytes over the bytes of dotted quads, ports and names.
        let mut answered = 0;
        for body in crate::message::lex::strings_over(b"a1.:@%;?0>", 0..=5) {
            answered += usize::from(bare_agrees(&[&b"sip:"[..], &body].concat()));
        }
        assert!(answered > 300, "{answered}");
        let mut answered = 0;
        for rest in crate::message::lex::strings_over(b"1.:0>9a5;", 0..=7) {
            answered += usize::from(bare_agrees(&[&b"sip:u@"[..], &rest].concat()));
        }
        assert!(answered > 10_000, "{answered}");
    }

    /// Tricky pieces of a URI, joined in order by the property below.
    const SCHEMES: &[&str] = &[
        "sip:", "sip:", "sip:", "sips:", "SIP:", "tel:", "sip", "x:", "",
    ];
    const USER_BITS: &[&str] = &[
        "a", "bob", "9", "%41", "%4", "%", "%zz", "%3E", ";", ":", "?", "&", "=", "+", "$", ",",
        "-", ".", "!", "~", "*", "'", "(", ")", "/", "@", ">", "<", " ", "\"", "\u{e9}", "[", "]",
        "#",
    ];
    /// Shared with the name-addr tests.
    pub(crate) const ATS: &[&str] = &["@", "@", "@", "", ":pw@", "@@", ":@", ":p%41@"];
    /// Shared with the name-addr tests.
    pub(crate) const HOSTS: &[&str] = &[
        "127.0.0.1",
        "127.0.0.1",
        "1.2.3.4",
        "255.255.255.255",
        "256.1.1.1",
        "01.2.3.4",
        "1.2.3",
        "1.2.3.4.5",
        "0.0.0.0",
        "a.example.com",
        "example",
        "a-b.c",
        "-a",
        "1.2.3.4a",
        "[::1]",
        "[2001:db8::1]",
        "[::1",
        "",
        "a..b",
        "1.2.3.04",
        "1.2.3.4.",
        "1.2.3.2555",
        "Example.COM",
        "a_b",
        "\u{e9}.com",
        "1.2.3.4%31",
    ];
    /// Shared with the name-addr tests.
    pub(crate) const PORTS: &[&str] = &[
        "", "", ":5060", ":0", ":65535", ":65536", ":", ":50x", ":123456", ":05060", "::5060",
    ];
    const TAILS: &[&str] = &[
        "",
        "",
        "",
        ";lr",
        ";transport=udp",
        ";ttl=300",
        ";ttl=256",
        ";maddr=1.2.3.4",
        ";=x",
        "?a=b",
        "?",
        ";",
        " ",
        "%41",
        ">",
        "\r\n",
    ];

    fn piece(set: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
        proptest::sample::select(set)
    }

    proptest::proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]
        #[test]
        fn plain_sip_agrees_with_the_reference(
            scheme in piece(SCHEMES),
            user in proptest::collection::vec(piece(USER_BITS), 0..5),
            at in piece(ATS),
            host in piece(HOSTS),
            port in piece(PORTS),
            tail in piece(TAILS),
        ) {
            let text = std::format!("{scheme}{}{at}{host}{port}{tail}", user.concat());
            bare_agrees(text.as_bytes());
        }

        /// Arbitrary bytes after `sip:`: the fast path's error handling.
        #[test]
        fn plain_sip_agrees_on_any_bytes(
            body in proptest::collection::vec(proptest::sample::select(
                &b"a1.:@>%;?=<\" \t\x80\xc3\xa9[]F"[..]), 0..24),
        ) {
            bare_agrees(&[&b"sip:"[..], &body].concat());
        }
    }

    /// Every `sip:` of every corpus message and mutant, to each place a URI could end
    /// (space, `>`, `;`, `?`, a line end, the end).
    #[test]
    #[ignore = "needs ../shared/corpus"]
    fn plain_sip_agrees_on_the_corpus() {
        let (mut compared, mut answered) = (0, 0);
        for bytes in crate::corpus_inputs::inputs() {
            for at in 0..bytes.len() {
                if !bytes[at..].starts_with(b"sip:") {
                    continue;
                }
                for (i, &b) in bytes[at..].iter().enumerate().take(200) {
                    if matches!(b, b' ' | b'>' | b';' | b'?' | b'\r' | b'\n') {
                        answered += usize::from(bare_agrees(&bytes[at..at + i]));
                        compared += 1;
                    }
                    if matches!(b, b'\r' | b'\n') {
                        break;
                    }
                }
                answered += usize::from(bare_agrees(&bytes[at..]));
                compared += 1;
            }
        }
        assert!(
            answered > 10_000,
            "{compared} compared, {answered} answered"
        );
    }

    /// The fast hostport path gives what the general one gives whenever it answers.
    fn agree(s: &[u8], host_start: usize) -> bool {
        match plain_host_port(s, host_start) {
            Some(fast) => {
                assert_eq!(Ok(fast), general_host_port(s, host_start), "{s:?}");
                true
            }
            None => false,
        }
    }

    #[test]
    fn plain_host_port_agrees_with_the_general_path() {
        // Every string of up to five bytes over an alphabet that crosses the shapes.
        let alphabet = b"a9.-:;?[]0%";
        let mut answered = 0;
        for s in crate::message::lex::strings_over(alphabet, 0..=5) {
            answered += usize::from(agree(&s[..], 0));
        }
        assert!(answered > 1000, "{answered}");
        for s in [
            &b"sip:alice@127.0.0.1"[..],
            b"sip:bob@127.0.0.1:5070;transport=udp",
            b"sip:a.example.com:65535?x=y",
            b"sip:a.example.com:65536",
            b"sip:256.1.1.1",
            b"sip:1.2.3.4.5:80",
            b"sip:example.com:",
            b"sip:[::1]:5060",
        ] {
            agree(s, 4);
        }
        assert!(plain_host_port(b"sip:bob@127.0.0.1:5070;lr", 8).is_some());
    }
}
