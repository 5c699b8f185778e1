//! Session timers (RFC 4028), pure: negotiating the session interval and its refresher.
//!
//! The negotiation is a handful of rules applied to the headers of one (re-)INVITE and
//! its 2xx; these functions apply them and say what to write and what to arm:
//!
//! - UAC, §7.1: [`TimerConfig::request_interval`] is the Session-Expires of an INVITE
//!   (with `Supported: timer` and Min-SE); §7.4: after a 422,
//!   [`TimerConfig::retry_after_422`] gives the larger interval to try once more.
//! - UAS, §9: [`TimerConfig::uas_answer`] turns the request's facts ([`TimerRequest`])
//!   into a 422 ([`UasTimer::TooSmall`]) or the Session-Expires (and `Require: timer`)
//!   of the 2xx ([`UasTimer::Accept`]).
//! - UAC, §7.2: [`TimerConfig::uac_2xx`] reads the 2xx.
//!
//! Either way the result is a [`SessionInterval`] seen from this side, which the host
//! feeds to its [`InviteSession`](super::InviteSession) as
//! [`Event::SessionExpires`](super::Event::SessionExpires) once the 2xx is sent or
//! received (§10: that (re)starts the timer). The session then arms
//! [`SessionTimer::Refresh`](super::SessionTimer::Refresh) at half the interval when this
//! side refreshes ([`Notice::RefreshDue`](super::Notice::RefreshDue): send a re-INVITE
//! or UPDATE), or [`SessionTimer::Expiry`](super::SessionTimer::Expiry) at the interval
//! minus `min(32 s, interval/3)` when the peer does; if no refresh restarts it by then the
//! session sends BYE and ends with [`EndReason::SessionExpired`](super::EndReason).

use core::time::Duration;

use crate::error::ParseError;
use crate::message::{HeaderKind, Message, Refresher};

/// The smallest session interval anyone may ask for, in seconds (RFC 4028 §4, §5: Min-SE
/// "MUST NOT be less than 90 seconds").
pub const MIN_SE_FLOOR: u32 = 90;

/// The option tag of the extension (RFC 4028 §3), for Supported and Require.
pub const OPTION_TAG: &str = "timer";

/// What this side wants of session timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct TimerConfig {
    /// The session interval asked for, in seconds (1800 by default, RFC 4028 §4
    /// recommends 30 minutes). Never used below [`min_se`](Self::min_se).
    pub session_expires: u32,
    /// The smallest interval accepted, in seconds (90 by default); a value below
    /// [`MIN_SE_FLOOR`] counts as 90.
    pub min_se: u32,
}

impl Default for TimerConfig {
    fn default() -> Self {
        TimerConfig {
            session_expires: 1800,
            min_se: MIN_SE_FLOOR,
        }
    }
}

/// The facts of a received INVITE or re-INVITE that the UAS negotiation needs (RFC 4028
/// §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct TimerRequest {
    /// Its Session-Expires: seconds and `refresher`, if present.
    pub session_expires: Option<(u32, Option<Refresher>)>,
    /// Its Min-SE in seconds, if present.
    pub min_se: Option<u32>,
    /// Whether its Supported (or Require) names `timer`: the UAC can refresh.
    pub supported: bool,
}

impl TimerRequest {
    /// Read the facts from a request; a malformed Session-Expires or Min-SE is the error
    /// (a UAS answers such a request 400, RFC 3261 §21.4.1).
    pub fn from_message(request: &Message<'_>) -> Result<Self, ParseError> {
        let session_expires = request
            .session_expires()
            .transpose()?
            .map(|se| (se.delta_seconds(), se.refresher()));
        let min_se = request.min_se().transpose()?.map(|m| m.delta_seconds());
        let supported = [HeaderKind::Supported, HeaderKind::Require]
            .into_iter()
            .any(|k| {
                request
                    .tokens(k)
                    .any(|t| t.is_ok_and(|t| t.eq_ignore_ascii_case(OPTION_TAG)))
            });
        Ok(TimerRequest {
            session_expires,
            min_se,
            supported,
        })
    }
}

/// What a UAS does about session timers when it accepts or refuses a request (RFC 4028
/// §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum UasTimer {
    /// The interval asked for is below this side's Min-SE: answer 422 (Session Interval
    /// Too Small) with `Min-SE: min_se` (§6).
    TooSmall {
        /// The Min-SE to put in the 422.
        min_se: u32,
    },
    /// Accept: the 2xx carries `Session-Expires: interval;refresher=...` and, when
    /// `require`, `Require: timer`.
    Accept {
        /// The negotiated interval, seen from this side.
        interval: SessionInterval,
        /// The `refresher` parameter of the 2xx.
        refresher: Refresher,
        /// Whether the 2xx must carry `Require: timer` (the UAC supports the extension).
        require: bool,
    },
}

/// A negotiated session timer, seen from this side (RFC 4028 §7.2, §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct SessionInterval {
    /// The session interval in seconds.
    pub seconds: u32,
    /// Whether this side is the refresher.
    pub local_refresh: bool,
}

impl SessionInterval {
    /// When the refresher sends its refresh: half the interval after the last one
    /// (§10 recommends it).
    pub fn refresh_after(&self) -> Duration {
        Duration::from_millis(u64::from(self.seconds) * 500)
    }

    /// When the other side gives up on a refresh and sends BYE: the interval minus
    /// `min(32 s, interval/3)` after the last one (§10).
    pub fn expire_after(&self) -> Duration {
        let ms = u64::from(self.seconds) * 1000;
        Duration::from_millis(ms - (ms / 3).min(32_000))
    }

    /// The `refresher` parameter this side writes in a request that refreshes (§7.4:
    /// the refresher stays who it was; this side is the UAC of that request).
    pub fn refresher_as_uac(&self) -> Refresher {
        if self.local_refresh {
            Refresher::Uac
        } else {
            Refresher::Uas
        }
    }
}

impl TimerConfig {
    /// This side's Min-SE, never below [`MIN_SE_FLOOR`].
    pub fn effective_min_se(&self) -> u32 {
        self.min_se.max(MIN_SE_FLOOR)
    }

    /// The Session-Expires of an INVITE this side sends (§7.1): the configured interval,
    /// at least this side's Min-SE.
    pub fn request_interval(&self) -> u32 {
        self.session_expires.max(self.effective_min_se())
    }

    /// UAC, §7.4: the interval to retry with after a 422 to a request that asked for
    /// `sent` seconds, given the 422's Min-SE. `None` when the 422 gives no larger value
    /// (a retry would get the same answer).
    pub fn retry_after_422(&self, sent: u32, min_se: Option<u32>) -> Option<u32> {
        min_se.filter(|&m| m > sent)
    }

    /// UAS, §9: the session timer of the 2xx to `request`, or a 422.
    ///
    /// - An interval below this side's Min-SE from a UAC that supports the extension
    ///   gets 422; from one that does not, a 422 would only fail the call, so the
    ///   interval is raised to the Min-SE instead (the rule §8.1 gives proxies; erratum
    ///   1687 asks the same of a UAS).
    /// - A larger interval may be reduced to the configured one, never below the
    ///   request's Min-SE nor 90 s; it is never increased.
    /// - Without a Session-Expires the UAS asks for its own interval (at least the
    ///   request's Min-SE).
    /// - Refresher (§9 table 2): the request's choice when it made one and supports the
    ///   extension; `uac` when it supports the extension and left the choice (it asked
    ///   for a timer, it keeps it alive); `uas` when it does not support it.
    /// - `Require: timer` whenever the UAC supports the extension (a MUST with
    ///   `refresher=uac`, a SHOULD otherwise).
    pub fn uas_answer(&self, request: TimerRequest) -> UasTimer {
        let ours = self.effective_min_se();
        let floor = request.min_se.unwrap_or(0).max(MIN_SE_FLOOR);
        let (seconds, asked) = match request.session_expires {
            Some((se, _)) if se < ours && request.supported => {
                return UasTimer::TooSmall {
                    min_se: ours.max(request.min_se.unwrap_or(0)),
                };
            }
            Some((se, _)) if se < ours => (ours.max(floor), None),
            Some((se, r)) => (se.min(self.request_interval().max(floor)), r),
            None => (self.request_interval().max(floor), None),
        };
        let refresher = match (request.supported, asked) {
            (false, _) => Refresher::Uas,
            (true, Some(r)) => r,
            (true, None) => Refresher::Uac,
        };
        UasTimer::Accept {
            interval: SessionInterval {
                seconds,
                local_refresh: refresher == Refresher::Uas,
            },
            refresher,
            require: request.supported,
        }
    }

    /// UAC, §7.2: the session timer a 2xx sets, from its Session-Expires (seconds and
    /// `refresher`). None without one: "there is no session expiration", which may
    /// switch a timer off mid-dialog. A missing `refresher` leaves this side in charge
    /// (the only reading that cannot leave the session unrefreshed); an interval below
    /// this side's Min-SE is taken as the Min-SE, so that a peer cannot make this side
    /// refresh faster than it agreed to.
    pub fn uac_2xx(&self, response: Option<(u32, Option<Refresher>)>) -> Option<SessionInterval> {
        response.map(|(seconds, refresher)| SessionInterval {
            seconds: seconds.max(self.effective_min_se()),
            local_refresh: refresher != Some(Refresher::Uas),
        })
    }
}
