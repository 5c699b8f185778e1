//! The header-section reader as it was before `Message::known_header`, kept as the
//! reference the rewritten one is held to (see `read_head_agrees_with_the_reference`).
//! A frozen copy: the helpers it used are copied too, so that later changes to them
//! are compared against this code, not with themselves.

use crate::error::{Capacity, ParseError, ParseErrorKind as K};
use crate::message::header_name::HeaderKind;
use crate::message::{Method, StatusCode, lex};

use super::{Limits, MAX_HEADERS, Message, NONE, Slot, StartLine};

/// Read the start line and the header section into `msg`; the body is everything
/// after.
pub(super) fn read_head(
    msg: &mut Message<'_>,
    limits: &Limits,
    lenient: bool,
) -> Result<(), ParseError> {
    let bytes = msg.bytes;
    // RFC 3261 §7.5: CRLFs before the start line are ignored.
    let mut pos = 0;
    while pos < bytes.len() && matches!(bytes[pos], b'\r' | b'\n') {
        pos += 1;
    }
    if pos == bytes.len() {
        return Err(ParseError::new(K::Empty, 0));
    }
    let (line_end, next, crlf) = line_end(bytes, pos, None)?;
    let start = match parse_start_line(&bytes[pos..line_end], pos) {
        Ok(start) => start,
        Err(e) if lenient => lenient_request_line(&bytes[pos..line_end]).ok_or(e)?,
        Err(e) => return Err(e),
    };
    msg.start = start;
    msg.start_offset = pos;
    let max_headers = limits.max_headers.min(MAX_HEADERS);
    pos = next;
    loop {
        if pos >= bytes.len() {
            // The input ended right after a complete header line, without the empty
            // line: tolerated as an empty body, as the main C stacks do (the RFC 5118
            // archive ships messages like that). A line cut short is still an error.
            msg.body_start = pos;
            break;
        }
        // The empty line ends the header section.
        if bytes[pos] == b'\n' && !crlf {
            msg.body_start = pos + 1;
            break;
        }
        if bytes[pos] == b'\r' {
            if crlf && bytes.get(pos + 1) == Some(&b'\n') {
                msg.body_start = pos + 2;
                break;
            }
            return Err(ParseError::new(K::HeaderValue, pos));
        }
        pos = parse_header(msg, bytes, pos, crlf, max_headers)?;
    }
    msg.text = core::str::from_utf8(&bytes[..msg.body_start]).ok();
    Ok(())
}

/// Parse one header (with its folded continuation lines) starting at `pos`; returns
/// the position of the next line.
fn parse_header<'a>(
    msg: &mut Message<'a>,
    bytes: &'a [u8],
    pos: usize,
    crlf: bool,
    max: usize,
) -> Result<usize, ParseError> {
    // `read_name`, written out.
    let (kind, value_start) = match name_before_colon(bytes, pos) {
        Some((kind, colon)) if kind != HeaderKind::Other => (kind, colon + 1),
        guess => header_name(bytes, pos, guess)?,
    };
    // The value runs over continuation lines (starting with SP or HTAB).
    let (mut end, mut next, _) = line_end(bytes, value_start, Some(crlf))?;
    while next < bytes.len() && matches!(bytes[next], b' ' | b'\t') {
        let (e, n, _) = line_end(bytes, next, Some(crlf))?;
        // A continuation line of only white space is still part of the value;
        // trimming below removes it.
        end = e;
        next = n;
    }
    // `lex::trim` in place: no slice to build, and the value rarely ends in LWS.
    let value_start = lex::skip_lws(&bytes[..end], value_start);
    let mut value_end = end;
    while value_end > value_start && lex::is_lws(bytes[value_end - 1]) {
        value_end -= 1;
    }
    if msg.slots.len() >= max {
        return Err(ParseError::new(K::Capacity(Capacity::Headers), pos));
    }
    let index = msg.slots.len();
    // pos < value_start <= value_end: if the last fits in u16, they all do.
    if value_end > usize::from(u16::MAX) {
        return Err(ParseError::new(K::Capacity(Capacity::MessageSize), pos));
    }
    let slot = Slot {
        name_start: pos as u16,
        value_start: value_start as u16,
        value_end: value_end as u16,
        kind,
    };
    if msg.slots.push(slot).is_err() {
        return Err(ParseError::new(K::Capacity(Capacity::Headers), pos));
    }
    if kind != HeaderKind::Other {
        if msg.first[kind as usize] == NONE {
            // `index` < MAX_HEADERS (64) fits in u8.
            msg.first[kind as usize] = index as u8;
        } else {
            msg.repeated |= 1u64 << (kind as u32 & 63);
        }
    }
    Ok(next)
}

/// The name of the header line at `pos` read up to the first `:` of its first 24
/// bytes, found a word at a time: its kind and the colon's index. When the kind is a
/// named one, this is what [`header_name`] finds, for less: a known name is all letters
/// and `-` (token characters), so the token run ends exactly at the colon, with no
/// white space before it. `None` if no colon was found that way.
#[inline(always)]
fn name_before_colon(bytes: &[u8], pos: usize) -> Option<(HeaderKind, usize)> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The longest known name has 19 bytes.
    let mut at = pos;
    while at < pos + 24 {
        let mut word = [0u8; 8];
        word.copy_from_slice(bytes.get(at..at + 8)?);
        let w = u64::from_le_bytes(word) ^ (ONES * u64::from(b':'));
        // The lowest flag marks the first `:` exactly (the classic zero-byte test).
        let flags = w.wrapping_sub(ONES) & !w & HIGH;
        if flags != 0 {
            let colon = at + (flags.trailing_zeros() / 8) as usize;
            return (colon > pos).then(|| (HeaderKind::from_name(&bytes[pos..colon]), colon));
        }
        at += 8;
    }
    None
}

/// The header name at `pos` as RFC 3261 §7.3.1 reads it, `header-name HCOLON`: its
/// kind and where the value starts (after the colon). `guess` is what
/// [`name_before_colon`] found, whose kind is kept if its name is the token run.
#[inline(never)] // the rare path: kept out of the loop over header lines
fn header_name(
    bytes: &[u8],
    pos: usize,
    guess: Option<(HeaderKind, usize)>,
) -> Result<(HeaderKind, usize), ParseError> {
    let mut i = pos;
    while i < bytes.len() && lex::is_token(bytes[i]) {
        i += 1;
    }
    let name_end = i;
    if name_end == pos {
        return Err(ParseError::new(K::HeaderName, pos));
    }
    // HCOLON = *( SP / HTAB ) ":" SWS.
    while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
        i += 1;
    }
    if bytes.get(i) != Some(&b':') {
        return Err(ParseError::new(K::HeaderName, i));
    }
    let kind = match guess {
        Some((kind, colon)) if colon == name_end => kind,
        _ => HeaderKind::from_name(&bytes[pos..name_end]),
    };
    Ok((kind, i + 1))
}

/// Find the end of the line starting at `from`: returns (end of content, start of next
/// line, whether it ended with CRLF). `mode` is the line-end style fixed by the start
/// line: `Some(true)` CRLF, `Some(false)` bare LF; a line that breaks it is an error.
#[inline(always)] // once per header line: the call and its `Result` cost more than the body
fn line_end(
    bytes: &[u8],
    from: usize,
    mode: Option<bool>,
) -> Result<(usize, usize, bool), ParseError> {
    let Some(at) = find_line_break(bytes, from) else {
        return Err(ParseError::new(K::HeadersUnterminated, bytes.len()));
    };
    let crlf = bytes[at] == b'\r';
    if crlf && bytes.get(at + 1) != Some(&b'\n') {
        // A CR not followed by LF.
        return Err(ParseError::new(K::HeaderValue, at));
    }
    if mode.is_some_and(|m| m != crlf) {
        // A bare LF in a CRLF message, or a CRLF in a bare-LF message.
        return Err(ParseError::new(K::HeaderValue, at));
    }
    Ok((at, if crlf { at + 2 } else { at + 1 }, crlf))
}

/// The first CR or LF at or after `from`. Scans eight bytes at a time: a word's bytes
/// below 0x0E are flagged with the classic SWAR test, and only flagged bytes are looked
/// at one by one (the lowest flag is exact; tabs and other controls are rare).
fn find_line_break(s: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = from;
    while let Some(chunk) = s.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let flags = w.wrapping_sub(ONES * 0x0E) & !w & HIGH;
        if flags == 0 {
            i += 8;
            continue;
        }
        let j = i + (flags.trailing_zeros() / 8) as usize;
        if matches!(s[j], b'\r' | b'\n') {
            return Some(j);
        }
        i = j + 1;
    }
    s.get(i..)?
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .map(|p| i + p)
}

/// `SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT` (RFC 3261 §25.1), name case-insensitive.
fn parse_version(s: &[u8], offset: usize) -> Result<&str, ParseError> {
    // Every message this side of 2030 says exactly this.
    if s == b"SIP/2.0" {
        return Ok("SIP/2.0");
    }
    let err = ParseError::new(K::Version, offset);
    if s.len() < 7 || !s[..4].eq_ignore_ascii_case(b"SIP/") {
        return Err(err);
    }
    let digits = &s[4..];
    let dot = digits.iter().position(|&b| b == b'.').ok_or(err)?;
    let (major, minor) = (&digits[..dot], &digits[dot + 1..]);
    if major.is_empty() || minor.is_empty() || !major.iter().chain(minor).all(u8::is_ascii_digit) {
        return Err(err);
    }
    lex::utf8(s, K::Version, offset)
}

/// Whether any byte of `s` is SP, a control, DEL or not ASCII: what a Request-URI must
/// not hold. Eight bytes at a time (the SWAR tests for "a byte below 0x21", "a byte with
/// the high bit" and "a byte equal to 0x7F", exact for "any").
fn has_space_control_or_non_ascii(s: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut words = s.chunks_exact(8);
    for chunk in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let below_0x21 = w.wrapping_sub(ONES * 0x21) & !w & HIGH;
        let del = (w ^ (ONES * 0x7f)).wrapping_sub(ONES) & !(w ^ (ONES * 0x7f)) & HIGH;
        if below_0x21 | del | (w & HIGH) != 0 {
            return true;
        }
    }
    words.remainder().iter().any(|&b| b <= b' ' || b >= 0x7f)
}

/// A Request-Line read as `method SP anything`, for [`Message::salvage_request`].
fn lenient_request_line(line: &[u8]) -> Option<StartLine<'_>> {
    let sp = line.iter().position(|&b| b == b' ')?;
    let method = Method::from_bytes(&line[..sp])?;
    let rest = lex::trim(&line[sp + 1..]).1;
    let uri = rest.split(|&b| b == b' ').next().unwrap_or(rest);
    Some(StartLine::Request {
        method,
        uri,
        version: "",
    })
}

fn parse_start_line(line: &[u8], base: usize) -> Result<StartLine<'_>, ParseError> {
    let sp1 = lex::find_byte(line, b' ').ok_or(ParseError::new(K::StartLine, base + line.len()))?;
    let first = &line[..sp1];
    let rest = &line[sp1 + 1..];
    if first.len() >= 4 && first[..4].eq_ignore_ascii_case(b"SIP/") {
        // Status-Line: the reason phrase may be empty and may hold UTF-8 (RFC 4475
        // `noreason`, `unreason`).
        let version = parse_version(first, base)?;
        let code_off = base + sp1 + 1;
        let code_end = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
        let digits = &rest[..code_end];
        if digits.len() != 3 || !digits.iter().all(u8::is_ascii_digit) {
            return Err(ParseError::new(K::StatusCode, code_off));
        }
        let n = digits
            .iter()
            .fold(0u16, |n, &d| n * 10 + u16::from(d - b'0'));
        let code = StatusCode::new(n).ok_or(ParseError::new(K::StatusCode, code_off))?;
        let reason = rest.get(code_end + 1..).unwrap_or(&[]);
        let reason_off = code_off + code_end + 1;
        if let Some(bad) = reason
            .iter()
            .position(|&b| b < 0x20 && b != b'\t' || b == 0x7f)
        {
            return Err(ParseError::new(K::ReasonPhrase, reason_off + bad));
        }
        // The canonical phrase needs no UTF-8 pass.
        let reason = if reason == code.reason().as_bytes() {
            code.reason()
        } else {
            lex::utf8(reason, K::ReasonPhrase, reason_off)?
        };
        return Ok(StartLine::Response {
            version,
            code,
            reason,
        });
    }
    // Request-Line: exactly one SP between the three parts (RFC 3261 §7.1; RFC 4475
    // `lwsstart`, `trws` and `lwsruri` are refused).
    let method = Method::from_bytes(first).ok_or(ParseError::new(K::Method, base))?;
    let uri_off = base + sp1 + 1;
    let sp2 = lex::find_byte(rest, b' ').ok_or(ParseError::new(K::StartLine, base + line.len()))?;
    let uri = &rest[..sp2];
    if uri.is_empty() || has_space_control_or_non_ascii(uri) {
        return Err(ParseError::new(K::RequestUri, uri_off));
    }
    let version_bytes = &rest[sp2 + 1..];
    let version = parse_version(version_bytes, uri_off + sp2 + 1)?;
    Ok(StartLine::Request {
        method,
        uri,
        version,
    })
}
