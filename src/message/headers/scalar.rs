//! Single-valued headers: CSeq, Max-Forwards, Content-Length, Expires, Call-ID,
//! Retry-After (RFC 3261 §20), RSeq and RAck (RFC 3262 §7).

use core::fmt;

use super::{check_params, seconds_value};
use crate::error::{ParseError, ParseErrorKind};
use crate::message::Method;
use crate::message::lex::{self, Params, RawParam};

/// The largest CSeq sequence number: it "MUST be less than 2**31" (RFC 3261 §8.1.1.5).
const CSEQ_MAX: u32 = (1 << 31) - 1;

/// A whole value that must be `1*DIGIT` (LWS around it allowed); errors carry `kind`.
fn digits(value: &[u8], kind: ParseErrorKind, saturate: bool) -> Result<u32, ParseError> {
    let (off, v) = lex::trim(value);
    let n = if saturate {
        lex::parse_u32_saturating(v, off)
    } else {
        lex::parse_u32(v, off)
    };
    n.map_err(|e| ParseError::new(kind, e.offset))
}

/// The CSeq header value (RFC 3261 §20.16): `1*DIGIT LWS Method`.
///
/// ```
/// use sansip::message::{CSeq, Method};
/// let c = CSeq::parse(b"4711 INVITE").unwrap();
/// assert_eq!((c.seq(), c.method()), (4711, Method::Invite));
/// assert!(CSeq::parse(b"2147483648 INVITE").is_err()); // must be < 2^31
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CSeq<'a> {
    seq: u32,
    method: Method<'a>,
}

impl<'a> CSeq<'a> {
    /// Parse a CSeq value. The number must be below 2^31 (RFC 3261 §8.1.1.5); a larger
    /// one, however long, is an error (RFC 4475 §3.1.2.4), never a wrapped value.
    pub fn parse(value: &'a [u8]) -> Result<Self, ParseError> {
        match Self::parse_plain(value) {
            Some(cseq) => Ok(cseq),
            None => Self::parse_general(value),
        }
    }

    /// `N METHOD` as every message writes it: 1 to 9 digits (below 2^31 however they
    /// read), one space and a method the crate names, to the end. One pass, no LWS or
    /// token scans: what [`CSeq::parse_general`] gives for it. `None` for anything else,
    /// which the general parser then reads (and reports any error).
    #[inline(always)]
    fn parse_plain(s: &'a [u8]) -> Option<Self> {
        let mut seq: u32 = 0;
        let mut i = 0;
        loop {
            let d = s.get(i)?.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            if i == 9 {
                return None;
            }
            seq = seq * 10 + u32::from(d);
            i += 1;
        }
        if i == 0 || s[i] != b' ' {
            return None;
        }
        let method = Method::from_bytes(s.get(i + 1..)?)?;
        method.is_known().then_some(CSeq { seq, method })
    }

    /// Any CSeq value (see [`CSeq::parse`]).
    fn parse_general(value: &'a [u8]) -> Result<Self, ParseError> {
        let kind = ParseErrorKind::CSeq;
        let s = value;
        let start = lex::skip_lws(s, 0);
        let mut i = start;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
        }
        let seq = lex::parse_u32(s.get(start..i).unwrap_or_default(), start)
            .map_err(|e| ParseError::new(kind, e.offset))?;
        if seq > CSEQ_MAX {
            return Err(ParseError::new(kind, start));
        }
        let m = lex::skip_lws(s, i);
        if m == i {
            return Err(ParseError::new(kind, i));
        }
        // From the bytes: a known method needs no UTF-8 pass. `None` only for an empty
        // token, the run being all token characters.
        let end = lex::token_end(s, m);
        let method = Method::from_bytes(&s[m..end]).ok_or(ParseError::new(kind, m))?;
        let end_lws = lex::skip_lws(s, end);
        if end_lws != s.len() {
            return Err(ParseError::new(kind, end_lws));
        }
        Ok(CSeq { seq, method })
    }

    /// A CSeq with `seq` (must be below 2^31) and `method`, or `None`.
    pub fn new(seq: u32, method: Method<'a>) -> Option<Self> {
        (seq <= CSEQ_MAX).then_some(CSeq { seq, method })
    }

    /// The sequence number (below 2^31).
    pub fn seq(&self) -> u32 {
        self.seq
    }

    /// The method.
    pub fn method(&self) -> Method<'a> {
        self.method
    }
}

impl fmt::Display for CSeq<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

/// The Max-Forwards header value (RFC 3261 §20.22): `1*DIGIT`, 0..=255.
///
/// ```
/// use sansip::message::MaxForwards;
/// assert_eq!(MaxForwards::parse(b"0068").unwrap().get(), 68);
/// assert!(MaxForwards::parse(b"300").is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MaxForwards(pub u8);

impl MaxForwards {
    /// Parse a Max-Forwards value; leading zeros are allowed, above 255 is an error
    /// (RFC 4475 §3.1.2.4).
    pub fn parse(value: &[u8]) -> Result<Self, ParseError> {
        // One to three digits and nothing else, as every request writes it (`70`): read
        // in place, without the trim and the general number parser.
        let d = |b: u8| b.wrapping_sub(b'0');
        let n = match *value {
            [a] if d(a) <= 9 => Some(u32::from(d(a))),
            [a, b] if d(a) <= 9 && d(b) <= 9 => Some(u32::from(d(a)) * 10 + u32::from(d(b))),
            [a, b, c] if d(a) <= 9 && d(b) <= 9 && d(c) <= 9 => {
                Some(u32::from(d(a)) * 100 + u32::from(d(b)) * 10 + u32::from(d(c)))
            }
            _ => None,
        };
        if let Some(n) = n.and_then(|n| u8::try_from(n).ok()) {
            return Ok(MaxForwards(n));
        }
        Self::parse_general(value)
    }

    /// Any Max-Forwards value (see [`MaxForwards::parse`]).
    fn parse_general(value: &[u8]) -> Result<Self, ParseError> {
        let kind = ParseErrorKind::Number;
        let n = digits(value, kind, false)?;
        u8::try_from(n)
            .map(MaxForwards)
            .map_err(|_| ParseError::new(kind, lex::skip_lws(value, 0)))
    }

    /// The value.
    pub fn get(self) -> u8 {
        self.0
    }
}

/// The Content-Length header value (RFC 3261 §20.14): `1*DIGIT`, at most `u32::MAX`.
///
/// ```
/// use sansip::message::ContentLength;
/// assert_eq!(ContentLength::parse(b" 150 ").unwrap().get(), 150);
/// assert!(ContentLength::parse(b"-999").is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ContentLength(pub u32);

impl ContentLength {
    /// Parse a Content-Length value. A sign, a non-digit or a value above `u32::MAX` is
    /// an error of kind [`ParseErrorKind::ContentLength`] (RFC 4475 §3.1.2.3).
    pub fn parse(value: &[u8]) -> Result<Self, ParseError> {
        digits(value, ParseErrorKind::ContentLength, false).map(ContentLength)
    }

    /// The value.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// The Expires header value (RFC 3261 §20.19): `delta-seconds`.
///
/// A number above 2^32-1 saturates to `u32::MAX` ("the value is between 0 and 2^32-1",
/// §20.19): the header is still meaningful as "a very long time", and RFC 4475 §3.1.2.4
/// lets an element treat such a value liberally. A caller that prefers to reject it can
/// compare with `u32::MAX`.
///
/// ```
/// use sansip::message::Expires;
/// assert_eq!(Expires::parse(b"3600").unwrap().get(), 3600);
/// assert_eq!(Expires::parse(b"100000000000000000000").unwrap().get(), u32::MAX);
/// assert!(Expires::parse(b"Thu, 01 Dec 1994 16:00:00 GMT").is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Expires(pub u32);

impl Expires {
    /// Parse an Expires value (saturating, see the type documentation).
    pub fn parse(value: &[u8]) -> Result<Self, ParseError> {
        digits(value, ParseErrorKind::Number, true).map(Expires)
    }

    /// The number of seconds.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// The Call-ID header value (RFC 3261 §20.8): `word [ "@" word ]`. Compared byte for
/// byte (case-sensitive).
///
/// ```
/// use sansip::message::CallId;
/// assert_eq!(CallId::parse(b" f81d4fae-7dec@foo.bar.com ").unwrap().as_str(), "f81d4fae-7dec@foo.bar.com");
/// assert!(CallId::parse(b"a b").is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CallId<'a>(&'a str);

impl<'a> CallId<'a> {
    /// Parse a Call-ID value (LWS around it is dropped).
    pub fn parse(value: &'a [u8]) -> Result<Self, ParseError> {
        Self::parse_text(value, None)
    }

    /// [`CallId::parse`], given `value` as `&str` when the caller already has it (see
    /// `Message::text_at`). `text` must be `value` itself.
    pub(crate) fn parse_text(value: &'a [u8], text: Option<&'a str>) -> Result<Self, ParseError> {
        let kind = ParseErrorKind::Header;
        let (off, v) = lex::trim(value);
        if v.is_empty() {
            return Err(ParseError::new(kind, off));
        }
        // A run of word bytes, then possibly one `@` with a word on both sides and a
        // second run to the end; anything else is an error at the first byte that breaks it.
        let word_end = |from: usize| lex::word_end(v, from);
        let i = word_end(0);
        if i < v.len() {
            if v[i] != b'@' || i == 0 || i + 1 == v.len() {
                return Err(ParseError::new(kind, off + i));
            }
            let j = word_end(i + 1);
            if j < v.len() {
                return Err(ParseError::new(kind, off + j));
            }
        }
        // Every byte is ASCII after the loop above.
        match text.and_then(|t| t.get(off..off + v.len())) {
            Some(t) => Ok(CallId(t)),
            None => lex::utf8(v, kind, off).map(CallId),
        }
    }

    /// The Call-ID.
    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

impl fmt::Display for CallId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// The Retry-After header value (RFC 3261 §20.33):
/// `delta-seconds [ comment ] *( SEMI retry-param )`.
///
/// ```
/// use sansip::message::RetryAfter;
/// let r = RetryAfter::parse(b"18000 (I'm in a meeting);duration=3600").unwrap();
/// assert_eq!(r.seconds(), 18000);
/// assert_eq!(r.comment(), Some(&b"I'm in a meeting"[..]));
/// assert_eq!(r.duration(), Some(3600));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryAfter<'a> {
    seconds: u32,
    comment: Option<&'a [u8]>,
    duration: Option<u32>,
    params: &'a [u8],
    params_at: usize,
}

impl<'a> RetryAfter<'a> {
    /// Parse a Retry-After value. Seconds above 2^32-1 saturate (as for [`Expires`]).
    pub fn parse(value: &'a [u8]) -> Result<Self, ParseError> {
        let kind = ParseErrorKind::Header;
        let s = value;
        let start = lex::skip_lws(s, 0);
        let mut i = start;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
        }
        let seconds = lex::parse_u32_saturating(s.get(start..i).unwrap_or_default(), start)
            .map_err(|e| ParseError::new(kind, e.offset))?;
        let mut j = lex::skip_lws(s, i);
        let mut comment = None;
        if s.get(j) == Some(&b'(') {
            let end = lex::comment_end(s, j)?;
            comment = s.get(j + 1..end - 1);
            j = end;
        } else if j < s.len() && s[j] != b';' {
            return Err(ParseError::new(kind, j));
        }
        let mut duration = None;
        check_params(s, j, kind, |p| {
            if p.name.eq_ignore_ascii_case(b"duration") {
                let d = seconds_value(&p, kind)?;
                duration.get_or_insert(d);
            }
            Ok(())
        })?;
        Ok(RetryAfter {
            seconds,
            comment,
            duration,
            params: s.get(j..).unwrap_or_default(),
            params_at: j,
        })
    }

    /// The number of seconds.
    pub fn seconds(&self) -> u32 {
        self.seconds
    }

    /// The comment, without its outer parentheses (escapes kept).
    pub fn comment(&self) -> Option<&'a [u8]> {
        self.comment
    }

    /// The `duration` parameter, in seconds.
    pub fn duration(&self) -> Option<u32> {
        self.duration
    }

    /// Every parameter, in order (checked by `parse`: no errors).
    pub fn params(&self) -> Params<'a> {
        Params::new(self.params, self.params_at)
    }

    /// The first parameter named `name` (case-insensitive).
    pub fn param(&self, name: &str) -> Option<RawParam<'a>> {
        self.params().find(name)
    }
}

/// The Timestamp header value (RFC 3261 §20.38): `1*DIGIT [ "." *DIGIT ] [ LWS delay ]`,
/// `delay = *DIGIT [ "." *DIGIT ]`. Both numbers are kept as received (decimal text) so
/// that a UAS can echo them exactly (RFC 3261 §8.2.6.1).
///
/// ```
/// use sansip::message::Timestamp;
/// let t = Timestamp::parse(b"54.21 0.3").unwrap();
/// assert_eq!((t.time(), t.delay()), ("54.21", Some("0.3")));
/// assert_eq!(Timestamp::parse(b"54").unwrap().delay(), None);
/// assert!(Timestamp::parse(b".5").is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Timestamp<'a> {
    time: &'a str,
    delay: Option<&'a str>,
}

impl<'a> Timestamp<'a> {
    /// Parse a Timestamp value.
    pub fn parse(value: &'a [u8]) -> Result<Self, ParseError> {
        let kind = ParseErrorKind::Number;
        let s = value;
        let start = lex::skip_lws(s, 0);
        let end = decimal_end(s, start);
        if end == start || !s[start].is_ascii_digit() {
            return Err(ParseError::new(kind, start));
        }
        // Digits and dots only: ASCII.
        let time = lex::utf8(s.get(start..end).unwrap_or_default(), kind, start)?;
        let d = lex::skip_lws(s, end);
        if d == s.len() {
            return Ok(Timestamp { time, delay: None });
        }
        let d_end = decimal_end(s, d);
        if d == end || d_end == d || lex::skip_lws(s, d_end) != s.len() {
            return Err(ParseError::new(
                kind,
                if d == end || d_end == d { d } else { d_end },
            ));
        }
        let delay = lex::utf8(s.get(d..d_end).unwrap_or_default(), kind, d)?;
        Ok(Timestamp {
            time,
            delay: Some(delay),
        })
    }

    /// The time value, as received (for example `54.21`).
    pub fn time(&self) -> &'a str {
        self.time
    }

    /// The delay, as received, if present.
    pub fn delay(&self) -> Option<&'a str> {
        self.delay
    }
}

/// End of `*DIGIT [ "." *DIGIT ]` starting at `i`.
fn decimal_end(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && s[i].is_ascii_digit() {
        i += 1;
    }
    if i < s.len() && s[i] == b'.' {
        i += 1;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
        }
    }
    i
}

/// `1*DIGIT` from 1 to 2^32 - 1, with surrounding LWS: an RSeq value, or the first
/// number of an RAck (RFC 3262 §7.1, §7.2: the first RSeq of a transaction is below
/// 2^31, and each later one is one higher). Returns the number and the index after it.
fn reliability_number(s: &[u8], at: usize) -> Result<(u32, usize), ParseError> {
    let kind = ParseErrorKind::Reliability;
    let start = lex::skip_lws(s, at);
    let mut i = start;
    while i < s.len() && s[i].is_ascii_digit() {
        i += 1;
    }
    let n = lex::parse_u32(s.get(start..i).unwrap_or_default(), start)
        .map_err(|e| ParseError::new(kind, e.offset))?;
    if n == 0 {
        return Err(ParseError::new(kind, start));
    }
    Ok((n, i))
}

/// The RSeq header value (RFC 3262 §7.1): the sequence number of a reliable provisional
/// response, from 1 (the first of a transaction is below 2^31; each later one is one
/// higher).
///
/// ```
/// use sansip::message::RSeq;
/// assert_eq!(RSeq::parse(b" 988789 ").unwrap().get(), 988789);
/// assert!(RSeq::parse(b"0").is_err());
/// assert_eq!(RSeq::parse(b"2147483648").unwrap().get(), 1 << 31);
/// assert!(RSeq::parse(b"4294967296").is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RSeq(u32);

impl RSeq {
    /// Parse an RSeq value.
    pub fn parse(value: &[u8]) -> Result<Self, ParseError> {
        let (n, end) = reliability_number(value, 0)?;
        let end_lws = lex::skip_lws(value, end);
        if end_lws != value.len() {
            return Err(ParseError::new(ParseErrorKind::Reliability, end_lws));
        }
        Ok(RSeq(n))
    }

    /// The number.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// The RAck header value of a PRACK (RFC 3262 §7.2): the RSeq of the provisional
/// response it acknowledges, then that response's CSeq number and method.
///
/// ```
/// use sansip::message::{Method, RAck};
/// let r = RAck::parse(b"776656 1 INVITE").unwrap();
/// assert_eq!((r.rseq(), r.cseq(), r.method()), (776656, 1, Method::Invite));
/// assert!(RAck::parse(b"776656 INVITE").is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RAck<'a> {
    rseq: u32,
    cseq: CSeq<'a>,
}

impl<'a> RAck<'a> {
    /// Parse an RAck value: `response-num LWS CSeq-num LWS Method`.
    pub fn parse(value: &'a [u8]) -> Result<Self, ParseError> {
        let (rseq, end) = reliability_number(value, 0)?;
        if lex::skip_lws(value, end) == end {
            return Err(ParseError::new(ParseErrorKind::Reliability, end));
        }
        let cseq = CSeq::parse(&value[end..])
            .map_err(|e| ParseError::new(ParseErrorKind::Reliability, e.offset + end))?;
        Ok(RAck { rseq, cseq })
    }

    /// An RAck for the provisional response numbered `rseq` to the request with
    /// `cseq`.
    pub fn new(rseq: u32, cseq: CSeq<'a>) -> Self {
        RAck { rseq, cseq }
    }

    /// The RSeq acknowledged.
    pub fn rseq(&self) -> u32 {
        self.rseq
    }

    /// The CSeq number of the request the provisional response answered.
    pub fn cseq(&self) -> u32 {
        self.cseq.seq()
    }

    /// The method of that request.
    pub fn method(&self) -> Method<'a> {
        self.cseq.method()
    }
}

impl fmt::Display for RAck<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.rseq, self.cseq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_forwards_agrees_with_the_general_parser() {
        // Every string of up to five bytes over digits that cross 255, LWS and others.
        let mut n = 0;
        for s in crate::message::lex::strings_over(b"0259 \tx", 0..=5) {
            assert_eq!(
                MaxForwards::parse(&s),
                MaxForwards::parse_general(&s),
                "{s:?}"
            );
            n += 1;
        }
        for v in 0..=1000u32 {
            let s = std::format!("{v}");
            let s = s.as_bytes();
            assert_eq!(
                MaxForwards::parse(s),
                MaxForwards::parse_general(s),
                "{s:?}"
            );
        }
        assert!(n > 10_000, "{n}");
    }

    #[test]
    #[ignore = "needs ../shared/corpus"]
    fn max_forwards_agrees_with_the_general_parser_on_the_corpus() {
        let limits = crate::message::Limits::default();
        let (mut compared, mut differ) = (0, 0);
        for bytes in crate::corpus_inputs::inputs() {
            let Ok(msg) = crate::message::Message::parse_with(&bytes, &limits) else {
                continue;
            };
            for (value, _) in msg.values_of(crate::message::HeaderKind::MaxForwards) {
                compared += 1;
                differ +=
                    usize::from(MaxForwards::parse(value) != MaxForwards::parse_general(value));
            }
        }
        assert!(compared > 5_000, "{compared}");
        assert_eq!(differ, 0, "{compared} compared");
    }

    /// `CSeq::parse` with the plain path never answering: the general parser alone,
    /// as it was before the plain path.
    fn cseq_reference(value: &[u8]) -> Result<CSeq<'_>, ParseError> {
        CSeq::parse_general(value)
    }

    #[test]
    fn cseq_agrees_with_the_general_parser() {
        // Every string of up to six bytes over digits, LWS, method letters and others;
        // then known and unknown methods after long and short numbers.
        let alphabet = b"09 \tACK-";
        let mut compared = 0;
        for s in crate::message::lex::strings_over(alphabet, 0..=6) {
            assert_eq!(CSeq::parse(&s), cseq_reference(&s), "{s:?}");
            compared += 1;
        }
        let numbers: [&[u8]; 10] = [
            b"",
            b"0",
            b"1",
            b"00",
            b"999999999",
            b"1000000000",
            b"2147483647",
            b"2147483648",
            b"4294967296",
            b"0000000001",
        ];
        let methods: [&[u8]; 12] = [
            b"INVITE",
            b"ACK",
            b"BYE",
            b"CANCEL",
            b"PUBLISH",
            b"invite",
            b"FOO",
            b"INVITE ",
            b"INVITEX",
            b"",
            b"IN VITE",
            b"\xc3\xa9",
        ];
        for n in numbers {
            for sep in [&b""[..], b" ", b"  ", b"\t", b" \r\n ", b"-", b"x"] {
                for m in methods {
                    let s = [n, sep, m].concat();
                    assert_eq!(CSeq::parse(&s), cseq_reference(&s), "{s:?}");
                    compared += 1;
                }
            }
        }
        assert!(compared > 1_000);
    }

    #[test]
    #[ignore = "needs ../shared/corpus"]
    fn cseq_agrees_with_the_general_parser_on_the_corpus() {
        let limits = crate::message::Limits::default();
        let (mut compared, mut differ) = (0, 0);
        for bytes in crate::corpus_inputs::inputs() {
            let Ok(msg) = crate::message::Message::parse_with(&bytes, &limits) else {
                continue;
            };
            for (value, _) in msg.values_of(crate::message::HeaderKind::CSeq) {
                compared += 1;
                differ += usize::from(CSeq::parse(value) != cseq_reference(value));
            }
        }
        assert!(compared > 10_000, "{compared}");
        assert_eq!(differ, 0, "{compared} compared");
    }

    /// The Call-ID check as one loop over the bytes, what `CallId::parse` does in runs.
    fn reference(value: &[u8]) -> Result<&str, ParseError> {
        let kind = ParseErrorKind::Header;
        let (off, v) = lex::trim(value);
        if v.is_empty() {
            return Err(ParseError::new(kind, off));
        }
        let mut at = false;
        for (i, &b) in v.iter().enumerate() {
            let ok = if b == b'@' {
                let ok = !at && i > 0 && i + 1 < v.len();
                at = true;
                ok
            } else {
                lex::is_word(b)
            };
            if !ok {
                return Err(ParseError::new(kind, off + i));
            }
        }
        lex::utf8(v, kind, off)
    }

    #[test]
    fn call_id_agrees_with_a_byte_loop() {
        // Every string of up to six bytes over word bytes, `@`, LWS and a non-word byte.
        let alphabet = b"a@ <;\x80";
        for s in crate::message::lex::strings_over(alphabet, 0..=6) {
            let s = &s[..];
            assert_eq!(CallId::parse(s).map(|c| c.as_str()), reference(s), "{s:?}");
        }
    }
}
