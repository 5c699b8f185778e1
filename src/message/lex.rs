//! Lexical building blocks of RFC 3261 §25.1 shared by the message parser and the typed
//! header views.
//!
//! Conventions: values come from a parsed [`Message`](super::Message), where a CR or LF
//! inside a header value can only be part of a line fold (RFC 3261 §7.3.1), so every
//! function here treats SP, HTAB, CR and LF alike as linear white space (LWS). Offsets
//! are relative to the slice given.

use crate::error::{ParseError, ParseErrorKind};

/// Character classes, one bit each, looked up in [`CLASS`]: a table load is cheaper
/// than the chain of range comparisons a `matches!` over 14 ranges compiles to, and
/// these run on every byte of every header.
const TOKEN: u8 = 1;
const LWS: u8 = 2;
const WORD: u8 = 4;
/// Bytes that stop the comma splitter's fast scan: `"`, `<`, `>`, `,`.
const LIST_STOP: u8 = 8;
/// Bytes that end an unquoted parameter value: LWS, `;`, `,`.
const VALUE_END: u8 = 16;
/// Bytes of an unquoted `gen-value`: token characters, and `[`, `]`, `:` of a host.
const GEN_VALUE: u8 = 32;
/// Bytes of a tag as live traffic writes it: visible ASCII but `"<>,;=`.
const TAG: u8 = 64;
/// Bytes of a `hostname` or `IPv4address`: alphanumerics, `-`, `.`.
const HOST: u8 = 128;

const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let token = matches!(c, b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9'
            | b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~');
        let word_extra = matches!(
            c,
            b'(' | b')'
                | b'<'
                | b'>'
                | b':'
                | b'\\'
                | b'"'
                | b'/'
                | b'['
                | b']'
                | b'?'
                | b'{'
                | b'}'
        );
        if token {
            t[b] |= TOKEN | WORD;
        }
        if word_extra {
            t[b] |= WORD;
        }
        let lws = matches!(c, b' ' | b'\t' | b'\r' | b'\n');
        if lws {
            t[b] |= LWS;
        }
        if matches!(c, b'"' | b'<' | b'>' | b',') {
            t[b] |= LIST_STOP;
        }
        if lws || c == b';' || c == b',' {
            t[b] |= VALUE_END;
        }
        if token || matches!(c, b'[' | b']' | b':') {
            t[b] |= GEN_VALUE;
        }
        if c.is_ascii_graphic() && !matches!(c, b'"' | b'<' | b'>' | b',' | b';' | b'=') {
            t[b] |= TAG;
        }
        if c.is_ascii_alphanumeric() || c == b'-' || c == b'.' {
            t[b] |= HOST;
        }
        b += 1;
    }
    t
};

/// `token` characters (RFC 3261 §25.1): alphanumerics and `-.!%*_+`'~`.
#[inline]
pub const fn is_token(b: u8) -> bool {
    CLASS[b as usize] & TOKEN != 0
}

/// A byte of a `hostname` or `IPv4address`: alphanumeric, `-` or `.`.
#[inline]
pub(crate) const fn is_host_char(b: u8) -> bool {
    CLASS[b as usize] & HOST != 0
}

/// A byte of a tag as live traffic writes it (see [`ValueClass::all_tag`]); the code
/// checks whole tags with [`all_tag_bytes`], the tests byte by byte with this.
#[cfg(test)]
pub(crate) const fn is_tag_byte(b: u8) -> bool {
    CLASS[b as usize] & TAG != 0
}

/// Linear white space inside a value: SP, HTAB, and the CR/LF of a line fold.
#[inline]
pub const fn is_lws(b: u8) -> bool {
    CLASS[b as usize] & LWS != 0
}

/// Whether `s` is a non-empty token.
pub fn is_token_str(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_token(b))
}

/// Index of the first non-LWS byte at or after `i` (or `s.len()`).
#[inline]
pub fn skip_lws(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && is_lws(s[i]) {
        i += 1;
    }
    i
}

/// `s` without leading and trailing LWS, and the offset of the first kept byte.
#[inline]
pub fn trim(s: &[u8]) -> (usize, &[u8]) {
    // Nearly every value comes trimmed already (the message parser trims header values):
    // LWS bytes are all at most SP, so a first and last byte above SP settle it with
    // two comparisons instead of a table loop at each end.
    if let (Some(&first), Some(&last)) = (s.first(), s.last())
        && first > b' '
        && last > b' '
    {
        return (0, s);
    }
    trim_loops(s)
}

/// [`trim`] by its loops: the reference the fast test is compared with, and the way
/// for a value with LWS (or nothing) at an end.
fn trim_loops(s: &[u8]) -> (usize, &[u8]) {
    let start = skip_lws(s, 0);
    let mut end = s.len();
    while end > start && is_lws(s[end - 1]) {
        end -= 1;
    }
    (start, &s[start..end])
}

/// The end (exclusive) of a quoted string that opens at `s[start] == b'"'`, closing
/// quote included. Honours `quoted-pair` (a backslash escapes any byte but CR and LF,
/// RFC 3261 §25.1).
pub fn quoted_end(s: &[u8], start: usize) -> Result<usize, ParseError> {
    let mut i = start + 1;
    while i < s.len() {
        match s[i] {
            b'"' => return Ok(i + 1),
            b'\\' => match s.get(i + 1) {
                Some(b'\r' | b'\n') | None => {
                    return Err(ParseError::new(ParseErrorKind::QuotedString, i));
                }
                Some(_) => i += 2,
            },
            _ => i += 1,
        }
    }
    Err(ParseError::new(ParseErrorKind::QuotedString, start))
}

/// `s` as `&str`, or an error of `kind` at `offset` if it is not UTF-8.
pub fn utf8(s: &[u8], kind: ParseErrorKind, offset: usize) -> Result<&str, ParseError> {
    core::str::from_utf8(s).map_err(|e| ParseError::new(kind, offset + e.valid_up_to()))
}

/// A token as `&str`, or an error of `kind` at `offset`.
pub fn token_str(s: &[u8], kind: ParseErrorKind, offset: usize) -> Result<&str, ParseError> {
    if let Some(bad) = s.iter().position(|&b| !is_token(b)) {
        return Err(ParseError::new(kind, offset + bad));
    }
    if s.is_empty() {
        return Err(ParseError::new(kind, offset));
    }
    token_run_str(s, kind, offset)
}

/// [`token_str`] for `s` known to be a non-empty run of token bytes.
#[inline]
pub(crate) fn token_run_str(
    s: &[u8],
    kind: ParseErrorKind,
    offset: usize,
) -> Result<&str, ParseError> {
    // Every byte is a token character, so ASCII: the tokens of every message (Via's
    // protocol and transport) need no UTF-8 pass.
    if let Some(known) = common_token(s) {
        return Ok(known);
    }
    utf8(s, kind, offset)
}

/// The tokens nearly every message carries, as static strings (same text; only the
/// address differs from the input's).
fn common_token(s: &[u8]) -> Option<&'static str> {
    Some(match s {
        b"SIP" => "SIP",
        b"2.0" => "2.0",
        b"UDP" => "UDP",
        b"TCP" => "TCP",
        b"TLS" => "TLS",
        b"WS" => "WS",
        b"WSS" => "WSS",
        // Content-Type of nearly every INVITE and its 2xx.
        b"application" => "application",
        b"sdp" => "sdp",
        _ => return None,
    })
}

/// A decimal number of at most 10 digits that fits `u32`. Leading zeros are allowed.
pub fn parse_u32(s: &[u8], offset: usize) -> Result<u32, ParseError> {
    let err = |at| ParseError::new(ParseErrorKind::Number, offset + at);
    if s.is_empty() {
        return Err(err(0));
    }
    let mut n: u32 = 0;
    for (i, &b) in s.iter().enumerate() {
        if !b.is_ascii_digit() {
            return Err(err(i));
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u32::from(b - b'0')))
            .ok_or(err(i))?;
    }
    Ok(n)
}

/// Index one past the run of token characters that starts at `i` (`i` if there is none).
#[inline]
pub fn token_end(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && is_token(s[i]) {
        i += 1;
    }
    i
}

/// [`token_end`] four bytes a step while all four are token characters: for the long
/// runs (branches, tags) where a byte at a time costs more in loop bookkeeping. Short
/// runs are better served by `token_end`.
#[inline]
pub(crate) fn long_token_end(s: &[u8], i: usize) -> usize {
    class_run_end(s, i, TOKEN)
}

/// Index one past the run of `word` characters (RFC 3261 §25.1) that starts at `i`,
/// four bytes a step like [`long_token_end`] (a Call-ID is long).
#[inline]
pub(crate) fn word_end(s: &[u8], i: usize) -> usize {
    class_run_end(s, i, WORD)
}

/// Whether every byte of `s` is a tag byte (visible ASCII but `"<>,;=`, see
/// [`ValueClass::all_tag`]): a tag of 8 to 16 letters and digits (nearly every one:
/// random hex or alphanumerics) by two word tests, any other four bytes a step by
/// table.
#[inline]
pub(crate) fn all_tag_bytes(s: &[u8]) -> bool {
    if s.len() <= 16
        && let (Some(first), Some(last)) = (s.first_chunk::<8>(), s.last_chunk::<8>())
        && not_alnum(u64::from_le_bytes(*first)) | not_alnum(u64::from_le_bytes(*last)) == 0
    {
        return true;
    }
    class_run_end(s, 0, TAG) == s.len()
}

/// High bits set (nonzero) iff one of the eight bytes of `w` is not an ASCII letter or
/// digit; exact for "any". Per byte below 0x80, `x + (0x80 - c)` has its high bit set
/// iff `x >= c`, and no carry leaves the byte; a byte from 0x80 up is flagged by `w`
/// itself (a carry out of it reaches only bytes after it, and the word is flagged).
#[inline(always)]
pub(crate) fn not_alnum(w: u64) -> u64 {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const ONES: u64 = 0x0101_0101_0101_0101;
    let at_least = |x: u64, c: u8| x.wrapping_add(ONES * u64::from(0x80 - c));
    let digit = at_least(w, b'0') & !at_least(w, b'9' + 1);
    // Letters of either case: the case bit set, then `a..=z`.
    let folded = w | (ONES * 0x20);
    let letter = at_least(folded, b'a') & !at_least(folded, b'z' + 1);
    (!(digit | letter) | w) & HIGH
}

/// Index one past the run of bytes of class `class` that starts at `i`.
#[inline]
fn class_run_end(s: &[u8], mut i: usize, class: u8) -> usize {
    while let Some(&[a, b, c, d]) = s.get(i..i + 4) {
        if CLASS[a as usize] & CLASS[b as usize] & CLASS[c as usize] & CLASS[d as usize] & class
            == 0
        {
            break;
        }
        i += 4;
    }
    while i < s.len() && CLASS[s[i] as usize] & class != 0 {
        i += 1;
    }
    i
}

/// The end of the unquoted parameter value that starts at `from` (the first LWS, `;` or
/// `,`, or `s.len()`) and the AND of the classes of its bytes (`u8::MAX` if it is
/// empty). Four bytes a step while none of the four ends the value: tags and branches are
/// long enough that a byte at a time costs more in loop bookkeeping than in table loads.
#[inline]
fn value_run(s: &[u8], from: usize) -> (usize, u8) {
    let mut j = from;
    let mut classes = u8::MAX;
    while let Some(&[a, b, c, d]) = s.get(j..j + 4) {
        let (a, b, c, d) = (
            CLASS[a as usize],
            CLASS[b as usize],
            CLASS[c as usize],
            CLASS[d as usize],
        );
        if (a | b | c | d) & VALUE_END != 0 {
            break;
        }
        classes &= a & b & c & d;
        j += 4;
    }
    while j < s.len() && CLASS[s[j] as usize] & VALUE_END == 0 {
        classes &= CLASS[s[j] as usize];
        j += 1;
    }
    (j, classes)
}

/// Index one past the run of `hostname` / `IPv4address` bytes that starts at `i`.
#[inline]
pub(crate) fn host_end(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && is_host_char(s[i]) {
        i += 1;
    }
    i
}

/// `word` characters (RFC 3261 §25.1, used by Call-ID): token characters and
/// `()<>:\"/[]?{}`.
#[inline]
pub const fn is_word(b: u8) -> bool {
    CLASS[b as usize] & WORD != 0
}

/// `delta-seconds` (RFC 3261 §25.1, `1*DIGIT`): a decimal number of any length, saturating
/// at `u32::MAX` instead of failing (RFC 3261 §20.19 bounds the value by 2^32-1; a larger
/// one is read as that bound, never as a wrapped-around value).
pub fn parse_u32_saturating(s: &[u8], offset: usize) -> Result<u32, ParseError> {
    if s.is_empty() {
        return Err(ParseError::new(ParseErrorKind::Number, offset));
    }
    let mut n: u32 = 0;
    for (i, &b) in s.iter().enumerate() {
        if !b.is_ascii_digit() {
            return Err(ParseError::new(ParseErrorKind::Number, offset + i));
        }
        n = n.saturating_mul(10).saturating_add(u32::from(b - b'0'));
    }
    Ok(n)
}

/// The end (exclusive) of a `comment` that opens at `s[start] == b'('` (RFC 3261 §25.1):
/// nested parentheses and `quoted-pair` are honoured.
pub fn comment_end(s: &[u8], start: usize) -> Result<usize, ParseError> {
    let mut depth: usize = 0;
    let mut i = start;
    while i < s.len() {
        match s[i] {
            b'(' => depth += 1,
            b')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Ok(i + 1);
                }
            }
            b'\\' => match s.get(i + 1) {
                Some(b'\r' | b'\n') | None => {
                    return Err(ParseError::new(ParseErrorKind::Header, i));
                }
                Some(_) => i += 1,
            },
            _ => {}
        }
        i += 1;
    }
    Err(ParseError::new(ParseErrorKind::Header, start))
}

/// Iterator over the elements of a comma-separated header value (RFC 3261 §7.3.1).
/// Commas inside quoted strings and `<...>` do not split. Yields each element
/// trimmed of LWS with its offset; an empty value yields nothing, an empty element
/// between two commas is yielded as an empty slice so that the caller can reject it.
#[derive(Clone, Debug)]
pub struct CommaSeparated<'a> {
    s: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> CommaSeparated<'a> {
    /// Split `value`.
    pub fn new(value: &'a [u8]) -> Self {
        let done = trim(value).1.is_empty();
        CommaSeparated {
            s: value,
            pos: 0,
            done,
        }
    }
}

impl<'a> Iterator for CommaSeparated<'a> {
    type Item = Result<(usize, &'a [u8]), ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let s = self.s;
        let start = self.pos;
        // Nearly every value is one element: without a comma or a quote anywhere (two
        // word-at-a-time searches) there is nothing to split or check here.
        if start == 0 && !has_comma_or_quote(s) {
            self.done = true;
            let (off, item) = trim(s);
            return Some(Ok((off, item)));
        }
        let mut i = start;
        let mut angle = false;
        while i < s.len() {
            // Most bytes are none of the four that matter: skip them with one lookup.
            if CLASS[s[i] as usize] & LIST_STOP == 0 {
                i += 1;
                continue;
            }
            match s[i] {
                b'"' => match quoted_end(s, i) {
                    Ok(end) => {
                        i = end;
                        continue;
                    }
                    Err(e) => {
                        self.done = true;
                        return Some(Err(e));
                    }
                },
                b'<' => angle = true,
                b'>' => angle = false,
                b',' if !angle => break,
                _ => {}
            }
            i += 1;
        }
        if i >= s.len() {
            self.done = true;
        } else {
            self.pos = i + 1;
        }
        let (off, item) = trim(&s[start..i.min(s.len())]);
        Some(Ok((start + off, item)))
    }
}

/// Whether `s` holds a `,` or a `"`. One pass eight bytes at a time (the classic SWAR
/// zero-byte test on the word XORed with each byte, exact for "any"): two `memchr`
/// calls on a short header value cost twice as much.
fn has_comma_or_quote(s: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let mut words = s.chunks_exact(8);
    for chunk in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        if zero_byte(w ^ (ONES * u64::from(b','))) | zero_byte(w ^ (ONES * u64::from(b'"'))) != 0 {
            return true;
        }
    }
    words.remainder().iter().any(|&b| b == b',' || b == b'"')
}

/// Index of the first `needle` in `s`, eight bytes at a time (the SWAR zero-byte test
/// on the word XORed with the needle: the lowest flagged byte is exact, borrows only
/// flag bytes above a match).
pub(crate) fn find_byte(s: &[u8], needle: u8) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let pattern = ONES * u64::from(needle);
    let mut words = s.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word) ^ pattern;
        let flags = w.wrapping_sub(ONES) & !w & HIGH;
        if flags != 0 {
            return Some(at + (flags.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&b| b == needle)
        .map(|p| at + p)
}

/// One `;name[=value]` generic parameter (RFC 3261 §25.1 `generic-param`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawParam<'a> {
    /// The parameter name (a token), case as received.
    pub name: &'a [u8],
    /// The value, if any: a token, a host, or a quoted string with its quotes.
    pub value: Option<&'a [u8]>,
    /// Offset of the name.
    pub offset: usize,
}

/// Iterator over `;`-separated parameters, as they follow a Via sent-by, a name-addr
/// or a header value: `*( SEMI generic-param )`. Start it at the first `;`.
/// Parameter values may be quoted strings; LWS around `;` and `=` is skipped.
#[derive(Clone, Debug)]
pub struct Params<'a> {
    s: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Params<'a> {
    /// Iterate the parameters in `s`, which starts with `;` or is empty. `base` is added
    /// to every offset reported.
    pub fn new(s: &'a [u8], base: usize) -> Self {
        Params { s, pos: 0, base }
    }

    /// The first parameter named `name` (case-insensitive, RFC 3261 §7.3.1), if any.
    /// Malformed parameters end the search.
    pub fn find(self, name: &str) -> Option<RawParam<'a>> {
        self.filter_map(Result::ok)
            .find(|p| p.name.eq_ignore_ascii_case(name.as_bytes()))
    }
}

/// What the bytes of an unquoted parameter value all are, found while the value was
/// delimited, so that the checks after it need not scan it again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ValueClass(u8);

impl ValueClass {
    /// Every byte is a token character (false for no value and for a quoted one).
    #[inline]
    pub(crate) fn all_token(self) -> bool {
        self.0 & TOKEN != 0
    }

    /// Every byte may be in an unquoted `gen-value`: a token character, or `[`, `]`,
    /// `:` of an IPv6 reference or host:port.
    #[inline]
    pub(crate) fn all_gen_value(self) -> bool {
        self.0 & GEN_VALUE != 0
    }

    /// Every byte may be in a tag: RFC 3261 §19.3 says token; see `name_addr` for why
    /// wider.
    #[inline]
    pub(crate) fn all_tag(self) -> bool {
        self.0 & TAG != 0
    }
}

impl<'a> Params<'a> {
    /// [`Iterator::next`], with the [`ValueClass`] of the value (all classes clear when
    /// there is no value or a quoted one) and the index of the value in the slice
    /// iterated (of the end of the name when there is no value).
    #[allow(clippy::type_complexity)] // a private iterator step
    #[inline]
    pub(crate) fn next_classed(
        &mut self,
    ) -> Option<Result<(RawParam<'a>, ValueClass, usize), ParseError>> {
        let s = self.s;
        let mut i = skip_lws(s, self.pos);
        if i >= s.len() {
            return None;
        }
        let err = |at: usize| ParseError::new(ParseErrorKind::Token, self.base + at);
        if s[i] != b';' {
            self.pos = s.len();
            return Some(Err(err(i)));
        }
        i = skip_lws(s, i + 1);
        let name_start = i;
        i = token_end(s, i);
        if i == name_start {
            self.pos = s.len();
            return Some(Err(err(name_start)));
        }
        let name = &s[name_start..i];
        let mut j = skip_lws(s, i);
        let mut value = None;
        let mut classes = u8::MAX;
        let mut value_at = i;
        if j < s.len() && s[j] == b'=' {
            j = skip_lws(s, j + 1);
            let v_start = j;
            value_at = j;
            if j < s.len() && s[j] == b'"' {
                classes = 0;
                match quoted_end(s, j) {
                    Ok(end) => j = end,
                    Err(e) => {
                        self.pos = s.len();
                        return Some(Err(e.shifted(self.base)));
                    }
                }
            } else {
                // token / host (incl. IPv6 reference) / any non-separator run
                (j, classes) = value_run(s, j);
            }
            if j == v_start {
                self.pos = s.len();
                return Some(Err(err(v_start)));
            }
            value = Some(&s[v_start..j]);
            i = j;
        }
        self.pos = i;
        let param = RawParam {
            name,
            value,
            offset: self.base + name_start,
        };
        let class = ValueClass(if value.is_some() { classes } else { 0 });
        Some(Ok((param, class, value_at)))
    }
}

impl<'a> Iterator for Params<'a> {
    type Item = Result<RawParam<'a>, ParseError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        Some(self.next_classed()?.map(|(p, _, _)| p))
    }
}

/// The content of a quoted string (without the quotes); `s` unchanged if it is not quoted.
/// Escapes (quoted-pair) are left in place: the view stays zero-copy.
pub fn unquote(s: &[u8]) -> &[u8] {
    if s.len() >= 2 && s[0] == b'"' && s[s.len() - 1] == b'"' {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

/// Every string of `lens` bytes over `alphabet`: the unit tests run fast paths and their
/// general counterparts over all of them.
#[cfg(test)]
pub(crate) fn strings_over(
    alphabet: &[u8],
    lens: core::ops::RangeInclusive<u32>,
) -> impl Iterator<Item = std::vec::Vec<u8>> + '_ {
    lens.flat_map(move |len| {
        (0..alphabet.len().pow(len)).map(move |mut k| {
            (0..len)
                .map(|_| {
                    let b = alphabet[k % alphabet.len()];
                    k /= alphabet.len();
                    b
                })
                .collect()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comma_split_respects_quotes_and_angles() {
        let v = b" \"a,b\" <sip:x;p=1,2>;q=1 , c ,,";
        let items: heapless::Vec<_, 8> = CommaSeparated::new(v).map(|r| r.unwrap().1).collect();
        assert_eq!(
            &items[..],
            &[&b"\"a,b\" <sip:x;p=1,2>;q=1"[..], b"c", b"", b""]
        );
        assert_eq!(CommaSeparated::new(b"  ").count(), 0);
        assert!(CommaSeparated::new(b"\"open").next().unwrap().is_err());
    }

    /// `all_tag_bytes` as it was: the table run over the whole value.
    fn all_tag_bytes_reference(s: &[u8]) -> bool {
        class_run_end(s, 0, TAG) == s.len()
    }

    /// The word test of `all_tag_bytes` agrees with the table run: every length to 20,
    /// every byte value at every position of an alphanumeric tag, and every pair of
    /// bytes around the word edges (a byte from 0x80 up carries into the next).
    #[test]
    fn tag_words_agree_with_the_table() {
        let filler = b"aZ09zA9b0yYa1f2e3d4c";
        let mut fast = 0;
        for len in 0..=filler.len() {
            let base = &filler[..len];
            assert_eq!(all_tag_bytes(base), all_tag_bytes_reference(base));
            fast += usize::from(all_tag_bytes(base));
            for at in 0..len {
                for c in 0..=255u8 {
                    let mut v = base.to_vec();
                    v[at] = c;
                    assert_eq!(all_tag_bytes(&v), all_tag_bytes_reference(&v), "{v:?}");
                    for next in [at + 1, 7, 8, len.saturating_sub(8)] {
                        if next < len && next != at {
                            for d in [0x80, 0xff, b'/', b':', b'@', b'[', b'`', b'{', b'-'] {
                                let mut w = v.clone();
                                w[next] = d;
                                assert_eq!(all_tag_bytes(&w), all_tag_bytes_reference(&w), "{w:?}");
                            }
                        }
                    }
                }
            }
        }
        assert!(fast > 15, "{fast}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]
        /// Tags of any length over alphanumerics and the bytes next to their ranges.
        #[test]
        fn tag_words_agree_with_the_table_on_any_tag(
            v in proptest::collection::vec(proptest::sample::select(
                &b"aAzZ09/:@[`{-_.~&^\"<>,;= \x7f\x80\xff"[..]), 0..40),
        ) {
            proptest::prop_assert_eq!(all_tag_bytes(&v), all_tag_bytes_reference(&v));
        }
    }

    /// The fast test of `trim` gives what its loops give: every string of up to five
    /// bytes over the LWS bytes, the bytes next to SP and others.
    #[test]
    fn trim_agrees_with_its_loops() {
        let mut fast = 0;
        for s in strings_over(b" \t\r\n\x00\x1f!a\x80\xff", 0..=5) {
            assert_eq!(trim(&s), trim_loops(&s), "{s:?}");
            fast += usize::from(s.first().is_some_and(|&b| b > b' ') && trim(&s).1 == &s[..]);
        }
        assert!(fast > 10_000, "{fast}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]
        /// Longer values: LWS runs around and inside any bytes.
        #[test]
        fn trim_agrees_with_its_loops_on_any_value(
            lead in proptest::collection::vec(proptest::sample::select(&b" \t\r\n"[..]), 0..4),
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
            tail in proptest::collection::vec(proptest::sample::select(&b" \t\r\n"[..]), 0..4),
        ) {
            let s = [&lead[..], &body, &tail].concat();
            proptest::prop_assert_eq!(trim(&s), trim_loops(&s));
            proptest::prop_assert_eq!(trim(&body), trim_loops(&body));
        }
    }

    #[test]
    fn comma_or_quote_agrees_with_a_byte_search() {
        // Every position in and around the eight-byte words, and bytes next to the two.
        for len in 0..20 {
            for at in 0..len {
                for b in [b',', b'"', b'+', b'-', b'!', b'#', 0xac, 0xa2, 0x2c | 0x80] {
                    let mut s = [b'a'; 20];
                    s[at] = b;
                    let s = &s[..len];
                    let want = s.contains(&b',') || s.contains(&b'"');
                    assert_eq!(has_comma_or_quote(s), want, "{s:?}");
                }
            }
        }
    }

    #[test]
    fn value_classes_agree_with_byte_checks() {
        // Every value of one to three bytes over an alphabet that crosses the classes.
        let alphabet = b"aZ9-.!%*_+`'~[]:&^\"<>=/@(";
        let mut s = [0u8; 6];
        s[..3].copy_from_slice(b";n=");
        for len in 1..=3 {
            for mut k in 0..alphabet.len().pow(len as u32) {
                for b in &mut s[3..3 + len] {
                    *b = alphabet[k % alphabet.len()];
                    k /= alphabet.len();
                }
                let input = &s[..3 + len];
                let Some(Ok((p, class, at))) = Params::new(input, 0).next_classed() else {
                    continue;
                };
                let v = p.value.unwrap();
                assert_eq!(&input[at..at + v.len()], v);
                let quoted = v[0] == b'"';
                let all = |f: fn(u8) -> bool| !quoted && v.iter().all(|&b| f(b));
                assert_eq!(class.all_token(), all(is_token), "{input:?}");
                assert_eq!(
                    class.all_gen_value(),
                    all(|b| is_token(b) || b"[]:".contains(&b)),
                    "{input:?}"
                );
                assert_eq!(
                    class.all_tag(),
                    all(|b| b.is_ascii_graphic() && !b"\"<>,;=".contains(&b)),
                    "{input:?}"
                );
            }
        }
        let (p, class, _) = Params::new(b";lr", 0).next_classed().unwrap().unwrap();
        assert!(p.value.is_none() && !class.all_token() && !class.all_tag());
    }

    #[test]
    fn value_run_agrees_with_a_byte_loop() {
        // Every string of up to seven bytes over an alphabet of value bytes of different
        // classes and the three kinds of value end, from every start.
        let alphabet = b"a[&\x01 ;,";
        let reference = |s: &[u8], from: usize| {
            let mut j = from;
            let mut classes = u8::MAX;
            while j < s.len() && CLASS[s[j] as usize] & VALUE_END == 0 {
                classes &= CLASS[s[j] as usize];
                j += 1;
            }
            (j, classes)
        };
        let mut long = 0;
        for s in strings_over(alphabet, 0..=7) {
            let s = &s[..];
            for from in 0..=s.len() {
                let got = value_run(s, from);
                assert_eq!(got, reference(s, from), "{s:?} {from}");
                long += usize::from(got.0 - from >= 4);
            }
        }
        assert!(long > 1000, "{long}");
    }

    #[test]
    fn wide_runs_agree_with_byte_loops() {
        // Every string of up to six bytes over token, word-only and other bytes, from
        // every start.
        let byte_loop = |s: &[u8], mut i: usize, f: fn(u8) -> bool| {
            while i < s.len() && f(s[i]) {
                i += 1;
            }
            i
        };
        let mut long = 0;
        for s in strings_over(b"aZ9-<@; \x80", 0..=6) {
            for from in 0..=s.len() + 1 {
                let got = long_token_end(&s, from);
                assert_eq!(got, token_end(&s, from), "{s:?} {from}");
                assert_eq!(
                    word_end(&s, from),
                    byte_loop(&s, from, is_word),
                    "{s:?} {from}"
                );
                long += usize::from(got >= from + 4);
            }
        }
        assert!(long > 1000, "{long}");
    }

    #[test]
    fn find_byte_agrees_with_a_byte_search() {
        for len in 0..20 {
            for at in 0..len {
                for b in [b'>', b'?', b'=', 0xbe, 0x3e | 0x80, 0, 0xff] {
                    let mut s = [b'>' + 1; 20];
                    s[at] = b;
                    if at + 3 < len {
                        s[at + 3] = b'>';
                    }
                    let s = &s[..len];
                    assert_eq!(
                        find_byte(s, b'>'),
                        s.iter().position(|&c| c == b'>'),
                        "{s:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn params() {
        let p: heapless::Vec<_, 8> = Params::new(b" ; a = 1 ;B;c=\"x;y\";maddr=[::1]", 10)
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(p.len(), 4);
        assert_eq!(
            (p[0].name, p[0].value, p[0].offset),
            (&b"a"[..], Some(&b"1"[..]), 13)
        );
        assert_eq!((p[1].name, p[1].value), (&b"B"[..], None));
        assert_eq!(p[2].value, Some(&b"\"x;y\""[..]));
        assert_eq!(p[3].value, Some(&b"[::1]"[..]));
        assert!(Params::new(b";", 0).next().unwrap().is_err());
        assert!(Params::new(b";a=", 0).next().unwrap().is_err());
        assert!(Params::new(b"x", 0).next().unwrap().is_err());
        assert_eq!(
            Params::new(b";a;b=2", 0).find("B").unwrap().value,
            Some(&b"2"[..])
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_u32(b"0042", 0), Ok(42));
        assert_eq!(parse_u32(b"4294967295", 0), Ok(u32::MAX));
        assert_eq!(parse_u32(b"4294967296", 3).unwrap_err().offset, 12);
        assert!(parse_u32(b"", 0).is_err());
        assert!(parse_u32(b"-1", 0).is_err());
        assert_eq!(
            parse_u32_saturating(b"99999999999999999999999", 0),
            Ok(u32::MAX)
        );
        assert_eq!(parse_u32_saturating(b"12", 0), Ok(12));
        assert_eq!(parse_u32_saturating(b"1x", 4).unwrap_err().offset, 5);
    }

    #[test]
    fn class_table_matches_the_grammar() {
        for b in 0..=255u8 {
            let token = b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b);
            assert_eq!(is_token(b), token, "{b}");
            assert_eq!(is_word(b), token || b"()<>:\\\"/[]?{}".contains(&b), "{b}");
            assert_eq!(is_lws(b), b" \t\r\n".contains(&b), "{b}");
        }
    }

    #[test]
    fn comments() {
        assert_eq!(comment_end(b"(a (b) \\) c) x", 0), Ok(12));
        assert!(comment_end(b"(a (b)", 0).is_err());
        assert_eq!(token_end(b"abc def", 0), 3);
        assert!(!is_word(b'@') && is_word(b'<'));
    }

    #[test]
    fn quoted() {
        assert_eq!(quoted_end(b"\"a\\\"b\" x", 0), Ok(6));
        assert!(quoted_end(b"\"abc", 0).is_err());
        assert!(quoted_end(b"\"a\\\r\n\"", 0).is_err());
        assert_eq!(unquote(b"\"ab\""), b"ab");
    }
}
