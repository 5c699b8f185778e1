//! `name-addr` / `addr-spec` header values (RFC 3261 §20.10, §20.20, §20.39, §25.1):
//! From, To, Contact, Route, Record-Route, Reply-To.

use super::lex::{self, Params, RawParam, ValueClass};
use super::uri::Uri;
use crate::error::{ParseError, ParseErrorKind};

fn err(at: usize) -> ParseError {
    ParseError::new(ParseErrorKind::NameAddr, at)
}

/// A display name as received (RFC 3261 §25.1 `display-name`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DisplayName<'a> {
    /// A `quoted-string`: the text between the quotes, quoted-pairs (`\x`) kept.
    /// Control bytes such as NUL, BEL or DEL may appear, but only escaped
    /// (RFC 4475 §3.1.1.2).
    Quoted(&'a str),
    /// `*(token LWS)`: tokens and the white space between them, as received.
    Tokens(&'a str),
}

impl<'a> DisplayName<'a> {
    /// The raw text (without quotes; escapes kept).
    pub fn as_str(&self) -> &'a str {
        match self {
            DisplayName::Quoted(s) | DisplayName::Tokens(s) => s,
        }
    }

    /// Whether the name was a quoted string.
    pub fn is_quoted(&self) -> bool {
        matches!(self, DisplayName::Quoted(_))
    }

    /// The bytes with quoted-pairs resolved (`\"` gives `"`), decoded on the fly.
    pub fn unescaped(&self) -> impl Iterator<Item = u8> + 'a {
        let quoted = self.is_quoted();
        let mut bytes = self.as_str().bytes();
        core::iter::from_fn(move || {
            let b = bytes.next()?;
            if quoted && b == b'\\' {
                bytes.next()
            } else {
                Some(b)
            }
        })
    }
}

/// A `q` value (RFC 3261 §20.10 `qvalue`) in thousandths: `q=0.5` is `Qvalue(500)`.
/// Always in 0..=1000.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Qvalue(pub u16);

impl Qvalue {
    /// Parse `"0" [ "." 0*3DIGIT ] / "1" [ "." 0*3("0") ]`.
    pub fn parse(s: &[u8]) -> Option<Qvalue> {
        let (int, frac) = match s.split_first()? {
            (b'0', rest) => (0u16, rest),
            (b'1', rest) => (1000u16, rest),
            _ => return None,
        };
        let digits = match frac.split_first() {
            None => return Some(Qvalue(int)),
            Some((b'.', d)) if d.len() <= 3 => d,
            _ => return None,
        };
        let mut v = 0u16;
        let mut scale = 100u16;
        for &d in digits {
            if !d.is_ascii_digit() || (int == 1000 && d != b'0') {
                return None;
            }
            v += u16::from(d - b'0') * scale;
            scale /= 10;
        }
        Some(Qvalue(int + v))
    }
}

/// A From/To/Contact/Route/Record-Route/Reply-To value: a `name-addr`
/// (`[display-name] <URI>`) or a bare `addr-spec`, then header parameters.
///
/// One comma element: split multi-value headers with
/// [`CommaSeparated`](super::lex::CommaSeparated) first.
///
/// ```
/// use sansip::message::{DisplayName, NameAddr, Qvalue};
/// let v = NameAddr::parse(b"\"Alice A.\" <sip:alice@atlanta.com;transport=tcp>;tag=9fxced76sl;q=0.7").unwrap();
/// assert_eq!(v.display_name(), Some(DisplayName::Quoted("Alice A.")));
/// assert_eq!(v.uri().as_str(), "sip:alice@atlanta.com;transport=tcp");
/// assert_eq!(v.tag(), Some("9fxced76sl"));
/// assert_eq!(v.q(), Some(Qvalue(700)));
///
/// // RFC 3261 §20.10: after a bare addr-spec, parameters belong to the header.
/// let v = NameAddr::parse(b"sip:+19725552222@gw1.example.net;unknownparam").unwrap();
/// assert_eq!(v.uri().as_str(), "sip:+19725552222@gw1.example.net");
/// assert!(v.param("unknownparam").is_some());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NameAddr<'a> {
    raw: &'a [u8],
    display: Option<DisplayName<'a>>,
    uri: Uri<'a>,
    angle: bool,
    params: &'a [u8],
    params_at: usize,
    tag: Option<&'a str>,
}

impl<'a> NameAddr<'a> {
    /// Parse one element. Surrounding LWS is skipped; anything else that is not a
    /// header parameter after the address is an error. Offsets are relative to `s`.
    pub fn parse(s: &'a [u8]) -> Result<Self, ParseError> {
        Self::parse_text(s, None)
    }

    /// [`NameAddr::parse`], given `s` as `&str` when the caller already has it (a
    /// message's header section nearly always is; see `Message::text_at`). `text` must
    /// be `s` itself.
    pub(crate) fn parse_text(s: &'a [u8], text: Option<&'a str>) -> Result<Self, ParseError> {
        let (off, t, text) = Self::trimmed(s, text)?;
        if let Some(v) = Self::parse_fused(off, t, text) {
            return Ok(v);
        }
        if let Some(plain) = Self::parse_plain(off, t, text) {
            return plain;
        }
        Self::parse_general(off, t, text)
    }

    /// `s` trimmed (an error if nothing is left): where it starts, its bytes and, if
    /// UTF-8, its text. One UTF-8 pass over the whole element (nearly always ASCII)
    /// instead of one per part: the display name, the URI and the tag are then slices of
    /// it. Input that is not UTF-8 takes the per-part passes, which report the error
    /// where it is. Trimming removed ASCII bytes only, so the text lies on character
    /// boundaries.
    #[inline(always)]
    #[allow(clippy::type_complexity)]
    fn trimmed(
        s: &'a [u8],
        text: Option<&'a str>,
    ) -> Result<(usize, &'a [u8], Option<&'a str>), ParseError> {
        let (off, t) = lex::trim(s);
        if t.is_empty() {
            return Err(err(off));
        }
        let text = match text {
            Some(text) => text.get(off..off + t.len()),
            None => core::str::from_utf8(t).ok(),
        };
        Ok((off, t, text))
    }

    /// A value to be overwritten by [`NameAddr::parse_text_into`]: what a result built
    /// in place holds until then.
    pub(crate) const fn placeholder() -> Self {
        NameAddr {
            raw: &[],
            display: None,
            uri: Uri::placeholder(),
            angle: false,
            params: &[],
            params_at: 0,
            tag: None,
        }
    }

    /// [`NameAddr::parse_text`] written into `self` (left as it was on an error): a
    /// result that holds a `NameAddr` is then built once, where it is kept, instead of
    /// being built aside and copied in (some 160 bytes a value).
    pub(crate) fn parse_text_into(
        &mut self,
        s: &'a [u8],
        text: Option<&'a str>,
    ) -> Result<(), ParseError> {
        let (off, t, text) = Self::trimmed(s, text)?;
        if let Some(v) = Self::parse_fused(off, t, text) {
            *self = v;
            return Ok(());
        }
        *self = match Self::parse_plain(off, t, text) {
            Some(plain) => plain?,
            None => Self::parse_general(off, t, text)?,
        };
        Ok(())
    }

    /// Any element, `t` trimmed and not empty, at `off` in the input; `text` is `t` as
    /// `&str` if it is UTF-8.
    fn parse_general(off: usize, t: &'a [u8], text: Option<&'a str>) -> Result<Self, ParseError> {
        let shift = |e: ParseError| e.shifted(off);
        let mut display = None;
        let lt;
        if t[0] == b'"' {
            let end = lex::quoted_end(t, 0).map_err(shift)?;
            let content = &t[1..end - 1];
            // qdtext excludes controls but LWS; quoted-pair may escape any byte but CR/LF.
            let mut i = 0;
            while i < content.len() {
                let b = content[i];
                if b == b'\\' {
                    i += 2;
                    continue;
                }
                if (b < 0x20 && !lex::is_lws(b)) || b == 0x7f {
                    return Err(ParseError::new(ParseErrorKind::QuotedString, off + 1 + i));
                }
                i += 1;
            }
            let content = match text.and_then(|x| x.get(1..end - 1)) {
                Some(content) => content,
                None => lex::utf8(content, ParseErrorKind::QuotedString, off + 1)?,
            };
            display = Some(DisplayName::Quoted(content));
            lt = lex::skip_lws(t, end);
            if t.get(lt) != Some(&b'<') {
                return Err(err(off + lt));
            }
        } else {
            let mut j = 0;
            while j < t.len() && (lex::is_token(t[j]) || lex::is_lws(t[j])) {
                j += 1;
            }
            if t.get(j) == Some(&b'<') {
                // RFC 4475 §3.1.1.6: LWS before '<' is optional.
                let (lead, name) = lex::trim(&t[..j]);
                if !name.is_empty() {
                    let name = match text.and_then(|x| x.get(lead..lead + name.len())) {
                        Some(name) => name,
                        None => lex::utf8(name, ParseErrorKind::NameAddr, off)?,
                    };
                    display = Some(DisplayName::Tokens(name));
                }
                lt = j;
            } else {
                return Self::parse_addr_spec(off, t, text);
            }
        }
        let gt = lt + 1 + lex::find_byte(&t[lt + 1..], b'>').ok_or(err(off + lt))?;
        // Strict (RFC 4475 §3.1.2.14): no LWS inside the brackets.
        let uri = Uri::parse_text(&t[lt + 1..gt], text.and_then(|x| x.get(lt + 1..gt)))
            .map_err(|e| e.shifted(off + lt + 1))?;
        Self::finish(off, t, text, display, uri, true, gt + 1)
    }

    /// `<URI>` or `<URI>;tag=TAG`, nothing else (no display name, no LWS, no other
    /// parameter, a tag of plain tag bytes): the From and To of nearly every message.
    /// Gives what the general path gives for `t`, without its display-name and
    /// parameter machinery, or `None` for any other shape (which the general path then
    /// reads; the URI is not parsed before the shape is known). `text` is `t` as `&str`.
    /// Always inlined: called on its own it returned the ~170-byte value through an
    /// `Option<Result>` that each caller then copied.
    #[inline(always)]
    fn parse_plain(
        off: usize,
        t: &'a [u8],
        text: Option<&'a str>,
    ) -> Option<Result<Self, ParseError>> {
        let text = text?;
        if t.first() != Some(&b'<') {
            return None;
        }
        let gt = 1 + lex::find_byte(&t[1..], b'>')?;
        let tag = plain_tag(t, text, gt)?;
        let uri = match Uri::parse_text(&t[1..gt], text.get(1..gt)) {
            Ok(uri) => uri,
            Err(e) => return Some(Err(e.shifted(off + 1))),
        };
        Some(Ok(NameAddr {
            raw: t,
            display: None,
            uri,
            angle: true,
            params: &t[gt + 1..],
            params_at: off + gt + 1,
            tag,
        }))
    }

    /// The commonest [`parse_plain`](Self::parse_plain) shape, `<sip:user@host[:port]>`
    /// with no tag or a plain one: its URI is read with its `>` in one scan
    /// ([`sip_in_angle`](super::uri::sip_in_angle)) and the value built where it is
    /// returned; what `parse_plain` gives as `Ok`, or `None` for anything else (which
    /// `parse_plain` then reads). Always inlined, returning the value itself rather than
    /// a `Result` in an `Option` that the caller would copy out.
    #[inline(always)]
    fn parse_fused(off: usize, t: &'a [u8], text: Option<&'a str>) -> Option<Self> {
        let text = text?;
        let (gt, uri) = super::uri::sip_in_angle(t, text)?;
        let tag = plain_tag(t, text, gt)?;
        Some(NameAddr {
            raw: t,
            display: None,
            uri,
            angle: true,
            params: &t[gt + 1..],
            params_at: off + gt + 1,
            tag,
        })
    }

    /// A whole header value `s` (trimmed) of the shape [`parse_plain`](Self::parse_plain)
    /// reads, `<URI>` or `<URI>;tag=TAG`: what [`NameAddr::parse_text`] gives for it.
    /// A URI holds no `"`, `<` or `>` and a tag no `,`, so such a value is one list
    /// element (a `,` in the URI is inside the brackets), which the comma splitter then
    /// need not scan. `None` for any other value (split and parsed as before, which
    /// reports any error).
    pub(crate) fn parse_plain_whole(s: &'a [u8], text: Option<&'a str>) -> Option<Self> {
        if let Some(v) = Self::parse_fused(0, s, text) {
            return Some(v);
        }
        Self::parse_plain(0, s, text)?.ok()
    }

    /// A bare addr-spec and its parameters; `text` is `t` as `&str` if it is UTF-8.
    fn parse_addr_spec(off: usize, t: &'a [u8], text: Option<&'a str>) -> Result<Self, ParseError> {
        // RFC 3261 §20.10: a bare addr-spec ends at the first ';' (header params) and
        // must not contain ',', '?' or ';'.
        let end = t
            .iter()
            .position(|&b| b == b';' || lex::is_lws(b))
            .unwrap_or(t.len());
        let spec = &t[..end];
        if let Some(bad) = spec.iter().position(|&b| b == b'?' || b == b',') {
            return Err(err(off + bad));
        }
        let uri =
            Uri::parse_text(spec, text.and_then(|x| x.get(..end))).map_err(|e| e.shifted(off))?;
        Self::finish(off, t, text, None, uri, false, end)
    }

    /// Check the header parameters that start at `t[rest..]` and build the value;
    /// `text` is `t` as `&str` if it is UTF-8.
    #[allow(clippy::too_many_arguments)] // one private constructor's parts
    fn finish(
        off: usize,
        t: &'a [u8],
        text: Option<&'a str>,
        display: Option<DisplayName<'a>>,
        uri: Uri<'a>,
        angle: bool,
        rest: usize,
    ) -> Result<Self, ParseError> {
        let params = t.get(rest..).unwrap_or(&[]);
        let params_at = off + rest;
        let mut tag = None;
        let mut it = Params::new(params, params_at);
        while let Some(p) = it.next_classed() {
            let (p, class, value_at) = p.map_err(|e| match e.kind {
                ParseErrorKind::Token => err(e.offset),
                _ => e,
            })?;
            let value_text = p.value.and_then(|v| {
                let from = rest + value_at;
                text?.get(from..from + v.len())
            });
            if let Some(t) = check_param(&p, class, value_text)? {
                // The first tag wins, as `param` finds it.
                tag.get_or_insert(t);
            }
        }
        Ok(NameAddr {
            raw: t,
            display,
            uri,
            angle,
            params,
            params_at,
            tag,
        })
    }

    /// The element as parsed, without surrounding LWS.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.raw
    }

    /// The display name, if any.
    pub fn display_name(&self) -> Option<DisplayName<'a>> {
        self.display
    }

    /// The URI.
    pub fn uri(&self) -> &Uri<'a> {
        &self.uri
    }

    /// Whether the URI was enclosed in `<>` (`name-addr`) rather than a bare `addr-spec`.
    pub fn is_name_addr(&self) -> bool {
        self.angle
    }

    /// The raw header parameters (from the first `;`, possibly after LWS; empty if none).
    pub fn params_bytes(&self) -> &'a [u8] {
        self.params
    }

    /// The header parameters (validated by [`NameAddr::parse`], so every item is `Ok`).
    pub fn params(&self) -> Params<'a> {
        Params::new(self.params, self.params_at)
    }

    /// The first header parameter named `name` (case-insensitive): `Some(value)`,
    /// `value` being `None` for a flag and keeping the quotes of a quoted string.
    pub fn param(&self, name: &str) -> Option<Option<&'a [u8]>> {
        self.params().find(name).map(|p| p.value)
    }

    /// `tag` parameter (RFC 3261 §19.3; a token, validated).
    pub fn tag(&self) -> Option<&'a str> {
        self.tag
    }

    /// `expires` parameter of a Contact (RFC 3261 §20.10), in seconds. Values above
    /// `u32::MAX` saturate.
    pub fn expires(&self) -> Option<u32> {
        self.param("expires").flatten().and_then(delta_seconds)
    }

    /// `q` parameter of a Contact (RFC 3261 §20.10).
    pub fn q(&self) -> Option<Qvalue> {
        self.param("q").flatten().and_then(Qvalue::parse)
    }
}

/// The parameters after the `>` at `gt` of a plain name-addr `t` (`text` as `&str`):
/// none (`Some(None)`) or one `;tag=` of plain tag bytes (`Some(Some(tag))`); `None`
/// for anything else, which the general path reads. Tag bytes hold no LWS, `;` or `,`:
/// the value runs to the end, as the parameter iterator would read it.
#[inline(always)]
fn plain_tag<'a>(t: &[u8], text: &'a str, gt: usize) -> Option<Option<&'a str>> {
    let params = t.get(gt + 1..)?;
    if params.is_empty() {
        return Some(None);
    }
    // `;tag=` as one five-byte comparison (a slice pattern tested it byte by byte).
    let (head, value) = params.split_first_chunk::<5>()?;
    if head == b";tag=" && !value.is_empty() && lex::all_tag_bytes(value) {
        return Some(Some(text.get(gt + 6..)?));
    }
    None
}

/// `delta-seconds = 1*DIGIT`, saturating at `u32::MAX`.
fn delta_seconds(v: &[u8]) -> Option<u32> {
    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(v.iter().fold(0u32, |n, &d| {
        n.saturating_mul(10).saturating_add(u32::from(d - b'0'))
    }))
}

/// Typed header parameters are checked at parse time so that accessors cannot fail.
/// Checks the values of the parameters a name-addr gives meaning to; returns the value of
/// a `tag` (read on every message for transaction and dialog matching, so found once here).
/// `value_text` is the value as `&str`, if the caller has it.
fn check_param<'a>(
    p: &RawParam<'a>,
    class: ValueClass,
    value_text: Option<&'a str>,
) -> Result<Option<&'a str>, ParseError> {
    if p.name.eq_ignore_ascii_case(b"tag") {
        // RFC 3261 §19.3 makes a tag a token; live traffic also uses `&` and `^`
        // (captured Cisco and Pingtel phones), so any visible ASCII that is not a
        // separator is accepted.
        return match p.value {
            // The class says every byte of the (non-empty, unquoted) value is a tag byte.
            Some(v) if class.all_tag() => match value_text {
                Some(tag) => Ok(Some(tag)),
                // unwrap-free: every byte is visible ASCII after the check above.
                None => core::str::from_utf8(v).map(Some).map_err(|_| err(p.offset)),
            },
            _ => Err(err(p.offset)),
        };
    }
    let ok = if p.name.eq_ignore_ascii_case(b"expires") {
        p.value.and_then(delta_seconds).is_some()
    } else if p.name.eq_ignore_ascii_case(b"q") {
        p.value.and_then(Qvalue::parse).is_some()
    } else {
        true
    };
    if ok { Ok(None) } else { Err(err(p.offset)) }
}

/// A Contact value: `*` or an address (RFC 3261 §20.10).
///
/// ```
/// use sansip::message::ContactValue;
/// assert_eq!(ContactValue::parse(b" * ").unwrap(), ContactValue::Star);
/// assert!(matches!(ContactValue::parse(b"<sip:a@b>;expires=60").unwrap(), ContactValue::Addr(a) if a.expires() == Some(60)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ContactValue<'a> {
    /// `Contact: *` (REGISTER removing all bindings, RFC 3261 §10.2.2).
    Star,
    /// An address.
    Addr(NameAddr<'a>),
}

impl<'a> ContactValue<'a> {
    /// Parse one comma element of a Contact header.
    pub fn parse(s: &'a [u8]) -> Result<Self, ParseError> {
        Self::parse_text(s, None)
    }

    /// [`NameAddr::parse_plain_whole`] for a Contact value (never `*`, which does not
    /// start with `<`).
    pub(crate) fn parse_plain_whole(s: &'a [u8], text: Option<&'a str>) -> Option<Self> {
        // The fused path inlined here, so the value is built in the `Addr` returned.
        if let Some(v) = NameAddr::parse_fused(0, s, text) {
            return Some(ContactValue::Addr(v));
        }
        NameAddr::parse_plain(0, s, text)?
            .ok()
            .map(ContactValue::Addr)
    }

    /// [`ContactValue::parse`] with `s` as `&str` if known (see [`NameAddr::parse_text`]).
    pub(crate) fn parse_text(s: &'a [u8], text: Option<&'a str>) -> Result<Self, ParseError> {
        if lex::trim(s).1 == b"*" {
            Ok(ContactValue::Star)
        } else {
            NameAddr::parse_text(s, text).map(ContactValue::Addr)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The whole-value fast path gives what `parse_text` gives whenever it answers, and
    /// answers only for a value the comma splitter reads as that one element.
    #[test]
    fn plain_whole_is_one_element_as_parse_text_reads_it() {
        let uris = [
            "sip:a@h",
            "sip:a,b@h",
            "sip:h;lr",
            "sips:h:5061",
            "tel:+1",
            "x:y",
            "sip:a\"b@h",
            "sip:h>",
            "",
            "sip:<h",
            "sip:h,<x>",
        ];
        let tails = [
            "",
            ";tag=1",
            ";tag=a&^:",
            ";tag=",
            ";tag=a,b",
            ";tag=a b",
            ", <sip:b>",
            ";lr",
            " ;tag=1",
            ";TAG=1",
            "\"",
            ",",
        ];
        let mut answered = 0;
        for lead in ["<", " <", "\"n\" <", "x"] {
            for uri in uris {
                for tail in tails {
                    let text = std::format!("{lead}{uri}>{tail}");
                    let s = text.as_bytes();
                    let Some(na) = NameAddr::parse_plain_whole(s, Some(&text)) else {
                        continue;
                    };
                    answered += 1;
                    assert_eq!(NameAddr::parse_text(s, Some(&text)), Ok(na), "{text}");
                    let items: std::vec::Vec<_> = lex::CommaSeparated::new(s).collect();
                    assert_eq!(items, [Ok((0, s))], "{text}");
                    let contact = ContactValue::parse_plain_whole(s, Some(&text));
                    assert_eq!(contact, Some(ContactValue::Addr(na)));
                }
            }
        }
        assert!(answered > 10, "{answered}");
    }

    /// `parse_plain` as it was before `sip_in_angle` (find the `>`, then parse the URI):
    /// the reference for the fused path.
    fn parse_plain_reference<'a>(
        off: usize,
        t: &'a [u8],
        text: Option<&'a str>,
    ) -> Option<Result<NameAddr<'a>, ParseError>> {
        let text = text?;
        if t.first() != Some(&b'<') {
            return None;
        }
        let gt = 1 + lex::find_byte(&t[1..], b'>')?;
        let params = &t[gt + 1..];
        let tag = match params {
            [] => None,
            [b';', b't', b'a', b'g', b'=', value @ ..]
                if !value.is_empty() && lex::all_tag_bytes(value) =>
            {
                Some(text.get(gt + 6..)?)
            }
            _ => return None,
        };
        let uri = match Uri::parse_text(&t[1..gt], text.get(1..gt)) {
            Ok(uri) => uri,
            Err(e) => return Some(Err(e.shifted(off + 1))),
        };
        Some(Ok(NameAddr {
            raw: t,
            display: None,
            uri,
            angle: true,
            params,
            params_at: off + gt + 1,
            tag,
        }))
    }

    /// `parse_text` as it was, with [`parse_plain_reference`].
    fn parse_text_reference<'a>(
        s: &'a [u8],
        text: Option<&'a str>,
    ) -> Result<NameAddr<'a>, ParseError> {
        let (off, t) = lex::trim(s);
        if t.is_empty() {
            return Err(err(off));
        }
        let text = match text {
            Some(text) => text.get(off..off + t.len()),
            None => core::str::from_utf8(t).ok(),
        };
        if let Some(plain) = parse_plain_reference(off, t, text) {
            return plain;
        }
        NameAddr::parse_general(off, t, text)
    }

    /// Compares the fused path with the reference on one input: `sip_in_angle` answers
    /// with the first `>` and the URI `Uri::parse_text` gives for what it encloses, and
    /// every entry point gives what it gave. Returns whether the fused path answered.
    fn fused_agrees(s: &[u8]) -> bool {
        let text = core::str::from_utf8(s).ok();
        // Written in place, from a placeholder or over another value: `parse_text`'s
        // answer, and the value left as it was on an error.
        for t in [text, None] {
            // unwrap: a well-formed name-addr.
            let other = NameAddr::parse(b"<sip:x@y>;tag=1").unwrap();
            for before in [NameAddr::placeholder(), other] {
                let mut into = before;
                let got = into.parse_text_into(s, t).map(|()| into);
                let want = NameAddr::parse_text(s, t);
                assert_eq!(got, want, "{s:?}");
                if want.is_err() {
                    assert_eq!(into, before, "{s:?}");
                }
            }
        }
        assert_eq!(
            NameAddr::parse_text(s, text),
            parse_text_reference(s, text),
            "{s:?}"
        );
        assert_eq!(
            NameAddr::parse_text(s, None),
            parse_text_reference(s, None),
            "{s:?}"
        );
        assert_eq!(
            NameAddr::parse_plain_whole(s, text),
            parse_plain_reference(0, s, text).and_then(Result::ok),
            "{s:?}"
        );
        assert_eq!(
            ContactValue::parse_plain_whole(s, text),
            parse_plain_reference(0, s, text)
                .and_then(Result::ok)
                .map(ContactValue::Addr),
            "{s:?}"
        );
        let (off, t) = lex::trim(s);
        let t_text = text.and_then(|x| x.get(off..off + t.len()));
        if let Some(v) = NameAddr::parse_fused(off, t, t_text) {
            assert_eq!(parse_plain_reference(off, t, t_text), Some(Ok(v)), "{s:?}");
        }
        let Some(text) = text else {
            return false;
        };
        let Some((gt, uri)) = crate::message::uri::sip_in_angle(s, text) else {
            return false;
        };
        assert_eq!(Some(gt), lex::find_byte(s, b'>'), "{s:?}");
        assert_eq!(
            Uri::parse_text(&s[1..gt], text.get(1..gt)),
            Ok(uri),
            "{s:?}"
        );
        assert_eq!(Uri::parse(&s[1..gt]), Ok(uri), "{s:?}");
        true
    }

    #[test]
    fn sip_in_angle_agrees_exhaustively() {
        // `<sip:` then every string of up to five bytes over an alphabet that crosses
        // the user, host, port and `>` rules, alone and before a tag.
        let mut answered = 0;
        let alphabet = b"a1.:@>%;0";
        for body in lex::strings_over(alphabet, 0..=5) {
            for tail in [&b""[..], b";tag=x", b"5"] {
                let s = [&b"<sip:"[..], &body, tail].concat();
                answered += usize::from(fused_agrees(&s));
            }
        }
        assert!(answered > 300, "{answered}");
        // And after a user, every host, port and close of up to seven bytes over the
        // bytes of dotted quads, ports and names.
        let mut answered = 0;
        for rest in lex::strings_over(b"1.:0>9a5", 0..=7) {
            for tail in [&b""[..], b";tag=x"] {
                let s = [&b"<sip:u@"[..], &rest, tail].concat();
                answered += usize::from(fused_agrees(&s));
            }
        }
        assert!(answered > 10_000, "{answered}");
    }

    /// Tricky pieces of a name-addr, joined in order by the property below.
    const LEADS: &[&str] = &["<", "<", "<", " <", "\"n\" <", "x <", "", "<<"];
    const SCHEMES: &[&str] = &["sip:", "sip:", "sip:", "sips:", "SIP:", "tel:", "sip", "x:"];
    const USER_BITS: &[&str] = &[
        "a", "b", "alice", "9", "%41", "%4", "%", "%zz", "%3E", ";", ":", "?", "&", "=", "+", "$",
        ",", "-", ".", "!", "~", "*", "'", "(", ")", "/", "@", ">", "<", " ", "\t", "\"", "\u{e9}",
        "[", "]", "\r\n ",
    ];
    use crate::message::uri::tests::{ATS, HOSTS, PORTS};
    const URI_TAILS: &[&str] = &[
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
    ];
    const CLOSES: &[&str] = &[">", ">", ">", "", ">>", " >"];
    const TAILS: &[&str] = &[
        "",
        ";tag=abc",
        ";tag=405da438a39e8064",
        ";tag=",
        ";tag=a b",
        ";tag=a,b",
        ";tag=\"x\"",
        ";lr",
        " ;tag=1",
        ";TAG=1",
        ", <sip:b>",
        ";tag=a&^:",
        ";tag=\u{e9}",
        " ",
        ";tag=1;lr",
        ";expires=60",
        ";q=0.5",
        ";tag=1>",
    ];

    fn piece(set: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
        proptest::sample::select(set)
    }

    proptest::proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]
        #[test]
        fn fused_path_agrees_with_the_reference(
            lead in piece(LEADS),
            scheme in piece(SCHEMES),
            user in proptest::collection::vec(piece(USER_BITS), 0..5),
            at in piece(ATS),
            host in piece(HOSTS),
            port in piece(PORTS),
            uri_tail in piece(URI_TAILS),
            close in piece(CLOSES),
            tail in piece(TAILS),
        ) {
            let text = std::format!(
                "{lead}{scheme}{}{at}{host}{port}{uri_tail}{close}{tail}",
                user.concat()
            );
            fused_agrees(text.as_bytes());
        }

        /// Arbitrary bytes after `<sip:`: the fused path's error handling.
        #[test]
        fn fused_path_agrees_on_any_bytes(
            body in proptest::collection::vec(proptest::sample::select(
                &b"a1.:@>%;?=<\" \t\x80\xc3\xa9[]F"[..]), 0..24),
        ) {
            let s = [&b"<sip:"[..], &body].concat();
            fused_agrees(&s);
        }
    }

    /// Every `<` of every corpus message and mutant, to the end of its line.
    #[test]
    #[ignore = "needs ../shared/corpus"]
    fn fused_path_agrees_on_the_corpus() {
        let (mut compared, mut answered) = (0, 0);
        for bytes in crate::corpus_inputs::inputs() {
            for (at, _) in bytes.iter().enumerate().filter(|(_, b)| **b == b'<') {
                let end = bytes[at..]
                    .iter()
                    .position(|&b| b == b'\r' || b == b'\n')
                    .map_or(bytes.len(), |e| at + e);
                answered += usize::from(fused_agrees(&bytes[at..end]));
                compared += 1;
            }
        }
        assert!(
            answered > 10_000,
            "{compared} compared, {answered} answered"
        );
    }

    /// The general path alone.
    fn general(s: &[u8]) -> Result<NameAddr<'_>, ParseError> {
        let (off, t) = lex::trim(s);
        if t.is_empty() {
            return Err(err(off));
        }
        NameAddr::parse_general(off, t, core::str::from_utf8(t).ok())
    }

    #[test]
    fn plain_name_addrs_agree_with_the_general_path() {
        let mut answered = 0;
        // Simple values, then every one-byte change of them over bytes that break the
        // shape in each way (LWS, another parameter, a quoted or empty tag, a URI error).
        let base: [&[u8]; 5] = [
            b"<sip:alice@127.0.0.1>;tag=405da438a39e8064",
            b"<sip:bob@127.0.0.1:5062>",
            b"  <sips:a.example.com;lr>;tag=x^&y ",
            b"<tel:+1-201>;tag=1",
            b"<sip:a@b>;tag=",
        ];
        for b in base {
            let mut s = [0u8; 64];
            s[..b.len()].copy_from_slice(b);
            let mut check = |s: &[u8]| {
                let (off, t) = lex::trim(s);
                let text = core::str::from_utf8(t).ok();
                if !t.is_empty()
                    && let Some(fast) = NameAddr::parse_plain(off, t, text)
                {
                    assert_eq!(fast, general(s), "{s:?}");
                    answered += 1;
                }
                assert_eq!(NameAddr::parse(s), general(s), "{s:?}");
            };
            check(b);
            for at in 0..b.len() {
                for c in *b" ;=<>\"@:,%a1\xc3\x80T" {
                    let keep = s[at];
                    s[at] = c;
                    check(&s[..b.len()]);
                    s[at] = keep;
                }
                check(&[&b[..at], &b[at + 1..]].concat());
            }
        }
        assert!(answered > 100, "{answered}");
    }
}
