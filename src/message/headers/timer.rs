//! Session timer headers (RFC 4028 §4, §5): Session-Expires and Min-SE.

use core::fmt;

use super::check_params;
use crate::error::{ParseError, ParseErrorKind};
use crate::message::lex::{self, Params, RawParam};

/// Who refreshes the session: the `refresher` parameter of Session-Expires (RFC 4028
/// §4). Both names refer to the roles in the transaction that carries the header (the
/// re-INVITE or UPDATE that refreshes), not to who placed the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Refresher {
    /// `refresher=uac`: the sender of the request refreshes.
    Uac,
    /// `refresher=uas`: the receiver of the request refreshes.
    Uas,
}

impl Refresher {
    /// The parameter value, `uac` or `uas`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Refresher::Uac => "uac",
            Refresher::Uas => "uas",
        }
    }
}

impl fmt::Display for Refresher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `delta-seconds` at the start of `s` (after LWS), then the index where the parameters
/// start: the end, or a `;` after optional LWS. Seconds above 2^32-1 saturate (as for
/// [`Expires`](super::Expires)).
fn delta_then_params(s: &[u8], kind: ParseErrorKind) -> Result<(u32, usize), ParseError> {
    let start = lex::skip_lws(s, 0);
    let end = s[start..]
        .iter()
        .position(|b| !b.is_ascii_digit())
        .map_or(s.len(), |p| start + p);
    let delta = lex::parse_u32_saturating(s.get(start..end).unwrap_or_default(), start)
        .map_err(|e| ParseError::new(kind, e.offset))?;
    let j = lex::skip_lws(s, end);
    if j < s.len() && s[j] != b';' {
        return Err(ParseError::new(kind, j));
    }
    Ok((delta, j))
}

/// The Session-Expires header value (RFC 4028 §4):
/// `delta-seconds *( SEMI (refresher-param / generic-param) )`, compact form `x`.
///
/// A `refresher` parameter whose value is neither `uac` nor `uas` (case-insensitive) is
/// an error at the parameter, and so is a second `refresher`: the grammar allows one
/// value and the two readings of a doubled one disagree on who refreshes. That the
/// interval is at least 90 seconds (§4) is for the UAS to check, not the parser (§9:
/// it answers 422).
///
/// ```
/// use sansip::message::{Refresher, SessionExpires};
/// let se = SessionExpires::parse(b"1800;refresher=uas").unwrap();
/// assert_eq!((se.delta_seconds(), se.refresher()), (1800, Some(Refresher::Uas)));
/// assert_eq!(SessionExpires::parse(b"4000").unwrap().refresher(), None);
/// assert!(SessionExpires::parse(b"1800;refresher=proxy").is_err());
/// assert!(SessionExpires::parse(b"soon").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionExpires<'a> {
    delta: u32,
    refresher: Option<Refresher>,
    params: &'a [u8],
    params_at: usize,
}

impl<'a> SessionExpires<'a> {
    /// Parse a Session-Expires value. Errors are of kind [`ParseErrorKind::Header`],
    /// at the offending byte or parameter.
    pub fn parse(value: &'a [u8]) -> Result<Self, ParseError> {
        let kind = ParseErrorKind::Header;
        let (delta, j) = delta_then_params(value, kind)?;
        let mut refresher = None;
        check_params(value, j, kind, |p| {
            if !p.name.eq_ignore_ascii_case(b"refresher") {
                return Ok(());
            }
            let r = match p.value {
                Some(v) if v.eq_ignore_ascii_case(b"uac") => Refresher::Uac,
                Some(v) if v.eq_ignore_ascii_case(b"uas") => Refresher::Uas,
                _ => return Err(ParseError::new(kind, p.offset)),
            };
            if refresher.replace(r).is_some() {
                return Err(ParseError::new(kind, p.offset));
            }
            Ok(())
        })?;
        Ok(SessionExpires {
            delta,
            refresher,
            params: value.get(j..).unwrap_or_default(),
            params_at: j,
        })
    }

    /// The session interval in seconds.
    pub fn delta_seconds(&self) -> u32 {
        self.delta
    }

    /// The `refresher` parameter, if present.
    pub fn refresher(&self) -> Option<Refresher> {
        self.refresher
    }

    /// Every parameter, `refresher` included, in order (checked by `parse`: no errors).
    pub fn params(&self) -> Params<'a> {
        Params::new(self.params, self.params_at)
    }

    /// The first parameter named `name` (case-insensitive).
    pub fn param(&self, name: &str) -> Option<RawParam<'a>> {
        self.params().find(name)
    }
}

/// The Min-SE header value (RFC 4028 §5): `delta-seconds *( SEMI generic-param )`, the
/// smallest session interval an element on the path accepts.
///
/// ```
/// use sansip::message::MinSe;
/// assert_eq!(MinSe::parse(b" 90 ").unwrap().delta_seconds(), 90);
/// assert_eq!(MinSe::parse(b"120;x=y").unwrap().delta_seconds(), 120);
/// assert!(MinSe::parse(b"-90").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MinSe<'a> {
    delta: u32,
    params: &'a [u8],
    params_at: usize,
}

impl<'a> MinSe<'a> {
    /// Parse a Min-SE value. Errors are of kind [`ParseErrorKind::Header`].
    pub fn parse(value: &'a [u8]) -> Result<Self, ParseError> {
        let kind = ParseErrorKind::Header;
        let (delta, j) = delta_then_params(value, kind)?;
        check_params(value, j, kind, |_| Ok(()))?;
        Ok(MinSe {
            delta,
            params: value.get(j..).unwrap_or_default(),
            params_at: j,
        })
    }

    /// The minimum session interval in seconds.
    pub fn delta_seconds(&self) -> u32 {
        self.delta
    }

    /// Every parameter, in order (checked by `parse`: no errors).
    pub fn params(&self) -> Params<'a> {
        Params::new(self.params, self.params_at)
    }
}
