//! Event and Subscription-State header values (RFC 6665 §8.2.1, §8.2.3, §8.4).

use super::{check_params, seconds_value, token_at, token_value};
use crate::error::{ParseError, ParseErrorKind};
use crate::message::lex::{self, Params, RawParam};

/// An Event value (RFC 6665 §8.4): `event-type *( SEMI event-param )`, where
/// `event-type = event-package *( "." event-template )`.
///
/// ```
/// use sansip::message::Event;
/// let e = Event::parse(b"presence.winfo;id=42").unwrap();
/// assert_eq!(e.event_type(), "presence.winfo");
/// assert_eq!(e.package(), "presence");
/// assert_eq!(e.templates().collect::<Vec<_>>(), ["winfo"]);
/// assert_eq!(e.id(), Some("42"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event<'a> {
    event_type: &'a str,
    id: Option<&'a str>,
    params: &'a [u8],
    params_at: usize,
}

impl<'a> Event<'a> {
    /// Parse an Event value. Every dot-separated part of the event type must be a
    /// non-empty `token-nodot`.
    pub fn parse(value: &'a [u8]) -> Result<Self, ParseError> {
        let kind = ParseErrorKind::Header;
        let s = value;
        let start = lex::skip_lws(s, 0);
        let (event_type, end) = token_at(s, start, kind)?;
        let b = event_type.as_bytes();
        if let Some(p) = (0..b.len())
            .find(|&p| b[p] == b'.' && (p == 0 || p + 1 == b.len() || b.get(p + 1) == Some(&b'.')))
        {
            return Err(ParseError::new(kind, start + p));
        }
        let mut id = None;
        check_params(s, end, kind, |p| {
            if p.name.eq_ignore_ascii_case(b"id") {
                let v = token_value(&p, kind)?;
                id.get_or_insert(v);
            }
            Ok(())
        })?;
        Ok(Event {
            event_type,
            id,
            params: s.get(end..).unwrap_or_default(),
            params_at: end,
        })
    }

    /// The whole event type, templates included (`presence.winfo`).
    pub fn event_type(&self) -> &'a str {
        self.event_type
    }

    /// The event package: the event type up to the first `.` (`presence`).
    pub fn package(&self) -> &'a str {
        self.event_type.split('.').next().unwrap_or(self.event_type)
    }

    /// The event templates after the package, in order (`winfo`).
    pub fn templates(&self) -> core::iter::Skip<core::str::Split<'a, char>> {
        self.event_type.split('.').skip(1)
    }

    /// The `id` parameter (RFC 6665 §8.2.1), if any.
    pub fn id(&self) -> Option<&'a str> {
        self.id
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

/// The state of a Subscription-State value (RFC 6665 §8.4 `substate-value`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SubState<'a> {
    /// `active`.
    Active,
    /// `pending`.
    Pending,
    /// `terminated`.
    Terminated,
    /// An `extension-substate` token, case as received.
    Other(&'a str),
}

/// A Subscription-State value (RFC 6665 §8.4):
/// `substate-value *( SEMI subexp-params )`.
///
/// ```
/// use sansip::message::{SubState, SubscriptionState};
/// let s = SubscriptionState::parse(b"terminated;reason=timeout;retry-after=30").unwrap();
/// assert_eq!(s.state(), SubState::Terminated);
/// assert_eq!(s.reason(), Some("timeout"));
/// assert_eq!(s.retry_after(), Some(30));
/// assert_eq!(s.expires(), None);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionState<'a> {
    state: SubState<'a>,
    expires: Option<u32>,
    retry_after: Option<u32>,
    reason: Option<&'a str>,
    params: &'a [u8],
    params_at: usize,
}

impl<'a> SubscriptionState<'a> {
    /// Parse a Subscription-State value. The state is matched case-insensitively;
    /// `expires` and `retry-after` saturate above 2^32-1.
    pub fn parse(value: &'a [u8]) -> Result<Self, ParseError> {
        let kind = ParseErrorKind::Header;
        let s = value;
        let (state, end) = token_at(s, lex::skip_lws(s, 0), kind)?;
        let state = if state.eq_ignore_ascii_case("active") {
            SubState::Active
        } else if state.eq_ignore_ascii_case("pending") {
            SubState::Pending
        } else if state.eq_ignore_ascii_case("terminated") {
            SubState::Terminated
        } else {
            SubState::Other(state)
        };
        let (mut expires, mut retry_after, mut reason) = (None, None, None);
        check_params(s, end, kind, |p| {
            if p.name.eq_ignore_ascii_case(b"expires") {
                let v = seconds_value(&p, kind)?;
                expires.get_or_insert(v);
            } else if p.name.eq_ignore_ascii_case(b"retry-after") {
                let v = seconds_value(&p, kind)?;
                retry_after.get_or_insert(v);
            } else if p.name.eq_ignore_ascii_case(b"reason") {
                let v = token_value(&p, kind)?;
                reason.get_or_insert(v);
            }
            Ok(())
        })?;
        Ok(SubscriptionState {
            state,
            expires,
            retry_after,
            reason,
            params: s.get(end..).unwrap_or_default(),
            params_at: end,
        })
    }

    /// The subscription state.
    pub fn state(&self) -> SubState<'a> {
        self.state
    }

    /// The `expires` parameter in seconds (RFC 6665 §4.1.3).
    pub fn expires(&self) -> Option<u32> {
        self.expires
    }

    /// The `retry-after` parameter in seconds (RFC 6665 §4.1.3).
    pub fn retry_after(&self) -> Option<u32> {
        self.retry_after
    }

    /// The `reason` parameter (`deactivated`, `probation`, `rejected`, `timeout`,
    /// `giveup`, `noresource`, `invariant` or an extension), case as received.
    pub fn reason(&self) -> Option<&'a str> {
        self.reason
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
