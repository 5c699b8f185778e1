//! Typed views over single header values (RFC 3261 §20 and extensions: RFC 3262,
//! RFC 4028, RFC 6665).
//!
//! Every view borrows the value bytes it was parsed from and is built by a
//! `parse(value: &'a [u8])` that reads one header value (or one element of a
//! comma-separated list header), consumes all of it, and reports errors at offsets
//! relative to `value`.

mod auth;
mod event;
mod media;
mod scalar;
mod timer;
mod tokens;
mod via;

pub use auth::{Algorithm, AuthParam, AuthParams, AuthScheme, Challenge, Credentials, QopOptions};
pub use event::{Event, SubState, SubscriptionState};
pub use media::ContentType;
pub use scalar::{
    CSeq, CallId, ContentLength, Expires, MaxForwards, RAck, RSeq, RetryAfter, Timestamp,
};
pub use timer::{MinSe, Refresher, SessionExpires};
pub use tokens::{TokenList, TokenParamList};
pub use via::{MAGIC_COOKIE, Rport, Transport, Via};

use super::lex::{self, Params, ValueClass};
use crate::error::{ParseError, ParseErrorKind};

/// Read `token` at `i` (after LWS) as `&str`; returns it and the index after it.
fn token_at(s: &[u8], i: usize, kind: ParseErrorKind) -> Result<(&str, usize), ParseError> {
    let end = lex::token_end(s, i);
    if end == i {
        return Err(ParseError::new(kind, i));
    }
    // The run is all token bytes: what `lex::token_str` gives, without checking them again.
    Ok((lex::token_run_str(&s[i..end], kind, i)?, end))
}

/// Check the `*( SEMI generic-param )` tail that starts at `start`: every parameter must
/// be well formed and a value must be a token, a host or a quoted string (RFC 3261 §25.1
/// `gen-value`). Errors carry `kind`. Calls `each` on every parameter so that a view can
/// check its own parameters in the same pass.
fn check_params<'a>(
    s: &'a [u8],
    start: usize,
    kind: ParseErrorKind,
    mut each: impl FnMut(lex::RawParam<'a>) -> Result<(), ParseError>,
) -> Result<Params<'a>, ParseError> {
    check_params_classed(s, start, kind, |p, _, _| each(p))
}

/// [`check_params`], also giving `each` the [`ValueClass`] of every value and the index
/// of the value in `s`.
fn check_params_classed<'a>(
    s: &'a [u8],
    start: usize,
    kind: ParseErrorKind,
    mut each: impl FnMut(lex::RawParam<'a>, ValueClass, usize) -> Result<(), ParseError>,
) -> Result<Params<'a>, ParseError> {
    let tail = s.get(start..).unwrap_or_default();
    let params = Params::new(tail, start);
    let mut it = params.clone();
    while let Some(p) = it.next_classed() {
        let (p, class, value_at) = p.map_err(|e| ParseError::new(kind, e.offset))?;
        // A bad value is reported at its parameter's name.
        if let Some(v) = p.value
            && v.first() != Some(&b'"')
            && !class.all_gen_value()
        {
            return Err(ParseError::new(kind, p.offset));
        }
        each(p, class, start + value_at)?;
    }
    Ok(params)
}

/// The value of a parameter that must have one, or an error of `kind` at its name.
fn required<'a>(p: &lex::RawParam<'a>, kind: ParseErrorKind) -> Result<&'a [u8], ParseError> {
    p.value.ok_or(ParseError::new(kind, p.offset))
}

/// A parameter value that must be a token, as `&str`.
fn token_value<'a>(p: &lex::RawParam<'a>, kind: ParseErrorKind) -> Result<&'a str, ParseError> {
    let v = required(p, kind)?;
    lex::token_str(v, kind, p.offset)
}

/// [`token_value`] for a value of known [`ValueClass`]: a value already seen to be a
/// token needs no second scan, and its `&str` is sliced out of `text` (the value being
/// parsed, as `&str`, if the caller has it) rather than found by a UTF-8 pass; `at` is
/// the index of the parameter value in it.
fn token_value_text<'a>(
    p: &lex::RawParam<'a>,
    class: ValueClass,
    kind: ParseErrorKind,
    text: Option<&'a str>,
    at: usize,
) -> Result<&'a str, ParseError> {
    match p.value {
        Some(v) if class.all_token() => match text.and_then(|t| t.get(at..at + v.len())) {
            Some(t) => Ok(t),
            None => lex::utf8(v, kind, p.offset),
        },
        _ => token_value(p, kind),
    }
}

/// A parameter value that must be `delta-seconds` (saturating, see
/// [`lex::parse_u32_saturating`]).
fn seconds_value(p: &lex::RawParam<'_>, kind: ParseErrorKind) -> Result<u32, ParseError> {
    let v = required(p, kind)?;
    lex::parse_u32_saturating(v, p.offset).map_err(|e| ParseError::new(kind, e.offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `token_at` as it was: the run checked again by `lex::token_str`.
    fn token_at_reference(
        s: &[u8],
        i: usize,
        kind: ParseErrorKind,
    ) -> Result<(&str, usize), ParseError> {
        let end = lex::token_end(s, i);
        let tok = lex::token_str(s.get(i..end).unwrap_or_default(), kind, i)?;
        Ok((tok, end))
    }

    /// Every string of up to five bytes over token bytes (some of them common tokens'),
    /// separators, white space and a non-ASCII byte, read at every start (and past
    /// the end): the same token, end or error.
    #[test]
    fn token_at_agrees_with_token_str() {
        let mut n = 0;
        for s in lex::strings_over(b"SIPa0-/ ;\xc3", 0..=5) {
            for i in 0..=s.len() + 1 {
                let kind = ParseErrorKind::Header;
                assert_eq!(
                    token_at(&s, i, kind),
                    token_at_reference(&s, i, kind),
                    "{s:?} {i}"
                );
                n += 1;
            }
        }
        for s in [&b"application/sdp"[..], b"SIP/2.0/UDP", b"sdp;x", b"UDP "] {
            for i in 0..=s.len() {
                let kind = ParseErrorKind::Header;
                assert_eq!(token_at(s, i, kind), token_at_reference(s, i, kind));
            }
        }
        assert!(n > 100_000, "{n}");
    }
}
