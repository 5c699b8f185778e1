//! A subscription to an event package, notifier side (RFC 6665 §4.2), as a pure machine
//! in the crate's `(state, event) -> (state, actions)` shape; the mirror of
//! [`subscription`](crate::subscription), which keeps the subscriber's side.
//!
//! What it decides:
//! - the answer to each SUBSCRIBE of the subscription (§4.2.1.1, §4.2.1.4): 200 with the
//!   duration granted in `Expires`, never more than the subscriber asked for nor more than
//!   the notifier offers; 423 with `Min-Expires` for a duration below the notifier's
//!   minimum; 481 for a refresh of a subscription that is ending;
//! - when a NOTIFY goes out and with which `Subscription-State`: one at once after the
//!   subscription is accepted or refreshed (§4.2.1.2), one for each change of the
//!   resource state or of its authorization (`pending` to `active`, §4.2.1.3), and a last
//!   one, `terminated`, when it ends: after `Expires: 0` (§4.2.1.4), on expiry with
//!   `reason=timeout` (§4.2.1.4), or with the reason the TU gives (§4.1.3 lists them);
//! - one NOTIFY at a time (§4.2.2: a notifier sends no new NOTIFY in a dialog before the
//!   previous one has its final response or has timed out). A change while one is out is
//!   remembered and sent, once, with the state current by then, after its final response:
//!   NOTIFYs arrive in order and the last one carries the latest state;
//! - the end of the subscription when a NOTIFY fails (§4.2.2: 481, or no response:
//!   Timer F, 408), and the expiry timer.
//!
//! A NOTIFY that fails with another code ends the subscription when that code ends a
//! dialog usage (RFC 5057: 404, 405, 410, 416, 480–485, 489, 501, 604); any other
//! failure (500, 503, 3xx, a challenge the notifier cannot answer, ...) affects that
//! transaction only (RFC 5057), so the subscription stays. The failed NOTIFY is not
//! sent again: the next one (a change, a refresh, the end) carries the state current by
//! then, which is all a subscriber needs (§4.1.3: each NOTIFY holds the full state, or
//! what the package says).
//!
//! The machine keeps no clock: a NOTIFY's `expires` parameter is the time left on the
//! expiry timer, which the host reads from its own deadline
//! ([`Notify::write_state`] writes the header value).
//!
//! ```
//! use sansip::notifier::{Action, Answer, Authorization, Event, Notifier, Notify};
//! use sansip::message::StatusCode;
//!
//! // The host offers 3600 s at most and refreshes of 60 s at least.
//! let n = Notifier::new(3600, 60);
//! // The SUBSCRIBE asked for 600 s; the TU authorizes it at once.
//! let s = n.step(Event::Accept { expires: Some(600), authorization: Authorization::Active });
//! assert_eq!(s.actions[0], Action::Respond(Answer::Accepted { expires: 600 }));
//! assert!(s.actions.contains(&Action::Send(Notify::Active)));
//! // Until that NOTIFY's final response, changes wait (and coalesce).
//! let s = s.notifier.step(Event::Change(Authorization::Active));
//! assert!(s.actions.is_empty());
//! let s = s.notifier.step(Event::Response(StatusCode::OK));
//! assert_eq!(s.actions.as_slice(), [Action::Send(Notify::Active)]);
//! ```

use core::fmt;
use core::time::Duration;

use crate::message::StatusCode;

/// Where a notifier's subscription is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum State {
    /// Made, the SUBSCRIBE not accepted yet ([`Event::Accept`]).
    Idle,
    /// Accepted; the TU has not authorized it yet (`Subscription-State: pending`).
    Pending,
    /// Accepted and authorized (`active`).
    Active,
    /// Ending: the terminating NOTIFY waits for the one out, or is out itself.
    Terminating,
    /// Over. Absorbing.
    Terminated,
}

/// What the TU says about the subscriber's authorization (RFC 6665 §4.2.1.3): the state
/// a NOTIFY reports while the subscription lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Authorization {
    /// Not decided yet: NOTIFYs say `pending` (what they carry as body is the TU's
    /// choice; a pending subscriber is usually told nothing of the resource).
    Pending,
    /// Authorized: NOTIFYs say `active`.
    Active,
}

/// The `reason` of a `terminated` NOTIFY (RFC 6665 §4.1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Reason {
    /// `deactivated`: the subscriber should subscribe again at once.
    Deactivated,
    /// `probation`: the subscriber should subscribe again later (`retry-after`).
    Probation,
    /// `rejected`: the authorization was refused or withdrawn.
    Rejected,
    /// `timeout`: the subscription was not refreshed in time (or was set to zero).
    Timeout,
    /// `giveup`: the notifier could not decide on the authorization in time.
    Giveup,
    /// `noresource`: the resource no longer exists.
    Noresource,
    /// `invariant`: the resource has no state that will ever change.
    Invariant,
}

impl Reason {
    /// The token, as written in `Subscription-State`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::Deactivated => "deactivated",
            Reason::Probation => "probation",
            Reason::Rejected => "rejected",
            Reason::Timeout => "timeout",
            Reason::Giveup => "giveup",
            Reason::Noresource => "noresource",
            Reason::Invariant => "invariant",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened, fed to [`Notifier::step`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Event {
    /// The TU accepts the SUBSCRIBE that creates the subscription (only in
    /// [`State::Idle`]). `expires`: the SUBSCRIBE's `Expires`, if it had one (without one
    /// the notifier's offer applies, §4.2.1.1); `0` is a fetch (§4.4.3): one NOTIFY
    /// with the state, `terminated` at once.
    Accept {
        /// The duration asked for, seconds.
        expires: Option<u32>,
        /// Whether the TU authorizes the subscriber already.
        authorization: Authorization,
    },
    /// A SUBSCRIBE within the subscription's dialog: a refresh, or with `Some(0)` an
    /// unsubscription (§4.2.1.4).
    Refresh {
        /// Its `Expires`, seconds.
        expires: Option<u32>,
    },
    /// A SUBSCRIBE with `Expires: 0` within the dialog (§4.2.1.4); the same as
    /// `Refresh { expires: Some(0) }`.
    Unsubscribe,
    /// The resource state (or the authorization) changed: the subscriber must hear of
    /// it with a NOTIFY (coalesced with any other change while a NOTIFY is out).
    Change(Authorization),
    /// The TU ends the subscription: a last NOTIFY, `terminated;reason=...`.
    Terminate {
        /// The reason the NOTIFY gives.
        reason: Reason,
        /// Its `retry-after`, seconds (for `probation` and `giveup`).
        retry_after: Option<u32>,
    },
    /// The final response to the NOTIFY out.
    Response(StatusCode),
    /// The NOTIFY out got no final response (Timer F) or could not be sent.
    Timeout,
    /// The expiry timer of [`Action::StartTimer`] fired.
    Timer,
}

/// The answer to a SUBSCRIBE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Answer {
    /// 200 with `Expires: expires` (0 for an unsubscription or a fetch), and the
    /// notifier's Contact (a SUBSCRIBE is a target refresh request, RFC 6665 §3.1).
    Accepted {
        /// Granted duration, seconds.
        expires: u32,
    },
    /// 423 (Interval Too Brief) with `Min-Expires: min_expires` (§4.2.1.1, §4.2.1.4);
    /// the subscription is as it was.
    IntervalTooBrief {
        /// The shortest duration accepted, seconds.
        min_expires: u32,
    },
    /// 481: a refresh of a subscription that is ending (its terminating NOTIFY is
    /// queued or out).
    NoSubscription,
}

impl Answer {
    /// The status code of the answer.
    pub fn status(self) -> StatusCode {
        match self {
            Answer::Accepted { .. } => StatusCode::OK,
            Answer::IntervalTooBrief { .. } => StatusCode::INTERVAL_TOO_BRIEF,
            Answer::NoSubscription => StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST,
        }
    }
}

/// The `Subscription-State` of a NOTIFY to send (RFC 6665 §8.2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Notify {
    /// `pending;expires=N`, N the seconds left on the expiry timer.
    Pending,
    /// `active;expires=N`, N the seconds left on the expiry timer.
    Active,
    /// `terminated;reason=R[;retry-after=S]`: the last NOTIFY of the subscription.
    Terminated {
        /// The reason.
        reason: Reason,
        /// Seconds before the subscriber may subscribe again.
        retry_after: Option<u32>,
    },
}

impl Notify {
    /// Whether this is the terminating NOTIFY.
    pub fn is_final(self) -> bool {
        matches!(self, Notify::Terminated { .. })
    }

    /// Write the `Subscription-State` value, with `expires_left` (seconds left on the
    /// expiry timer, §4.2.2: SHOULD be given while the subscription lasts).
    ///
    /// ```
    /// use sansip::notifier::{Notify, Reason};
    /// let mut s = String::new();
    /// Notify::Active.write_state(&mut s, 300).unwrap();
    /// assert_eq!(s, "active;expires=300");
    /// s.clear();
    /// Notify::Terminated { reason: Reason::Probation, retry_after: Some(30) }.write_state(&mut s, 0).unwrap();
    /// assert_eq!(s, "terminated;reason=probation;retry-after=30");
    /// ```
    pub fn write_state(self, out: &mut impl fmt::Write, expires_left: u32) -> fmt::Result {
        match self {
            Notify::Pending => write!(out, "pending;expires={expires_left}"),
            Notify::Active => write!(out, "active;expires={expires_left}"),
            Notify::Terminated {
                reason,
                retry_after,
            } => {
                write!(out, "terminated;reason={reason}")?;
                match retry_after {
                    Some(s) => write!(out, ";retry-after={s}"),
                    None => Ok(()),
                }
            }
        }
    }
}

/// Why a notifier's subscription ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Ended {
    /// The subscriber sent `Expires: 0` (§4.2.1.4), or the first SUBSCRIBE was a fetch
    /// (§4.4.3).
    Unsubscribed,
    /// Not refreshed before it expired: `reason=timeout` (§4.2.1.4).
    Expired,
    /// The TU ended it ([`Event::Terminate`]).
    ByTu {
        /// The reason the last NOTIFY gave.
        reason: Reason,
    },
    /// A NOTIFY failed in a way that ends the subscription (§4.2.2, RFC 5057): 481,
    /// 408 (also for no response at all, or a NOTIFY the host could not send), or
    /// another code that ends a dialog usage.
    NotifyFailed(StatusCode),
}

/// What the TU learns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Notice {
    /// The subscriber refreshed the subscription for `expires` seconds.
    Refreshed {
        /// Seconds granted.
        expires: u32,
    },
    /// It is over (said once).
    Terminated(Ended),
}

/// What the host must do after a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Action {
    /// Answer the SUBSCRIBE just fed.
    Respond(Answer),
    /// Send a NOTIFY within the subscription's dialog with this `Subscription-State`,
    /// the package's `Event` (type and `id` of the SUBSCRIBE) and the resource state
    /// the TU gave last as its body (a `terminated` NOTIFY caused by the TU carries
    /// none: the TU may be withdrawing what the subscriber could see).
    Send(Notify),
    /// (Re)arm the expiry timer.
    StartTimer(Duration),
    /// Stop it.
    CancelTimer,
    /// Tell the TU.
    Tell(Notice),
}

/// Most actions one step produces.
pub const MAX_ACTIONS: usize = 4;

/// The result of [`Notifier::step`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The notifier after the event.
    pub notifier: Notifier,
    /// What to do, in order.
    pub actions: heapless::Vec<Action, MAX_ACTIONS>,
}

/// Which NOTIFY is out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum Out {
    None,
    /// A NOTIFY with `pending` or `active`.
    State,
    /// The terminating NOTIFY.
    Final,
}

/// The notifier's machine: `Copy`, 28 bytes on x86-64.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Notifier {
    state: State,
    /// The longest duration the notifier grants (and the one granted when a SUBSCRIBE
    /// has no `Expires`), seconds.
    offer: u32,
    /// The shortest duration it accepts in a SUBSCRIBE (but 0), seconds.
    min: u32,
    /// The authorization the TU gave last.
    authorization: Authorization,
    out: Out,
    /// A change came while a NOTIFY was out: a NOTIFY with the current state follows
    /// its final response.
    owed: bool,
    /// Why it is ending (set from `Terminating` on).
    ending: Option<Ended>,
    /// The terminating NOTIFY's `reason` and `retry-after`.
    last: Notify,
}

impl Notifier {
    /// A notifier that grants at most `offer` seconds (the duration given when a
    /// SUBSCRIBE has no `Expires`, the package's default) and answers durations below
    /// `min_expires` with 423 (a minimum above `offer` is taken as `offer`).
    pub fn new(offer: u32, min_expires: u32) -> Self {
        Notifier {
            state: State::Idle,
            offer,
            min: min_expires.min(offer),
            authorization: Authorization::Pending,
            out: Out::None,
            owed: false,
            ending: None,
            last: Notify::Terminated {
                reason: Reason::Timeout,
                retry_after: None,
            },
        }
    }

    /// The state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Why it is ending or ended, from [`State::Terminating`] on.
    pub fn ending(&self) -> Option<Ended> {
        self.ending
    }

    /// Whether a NOTIFY is out (its final response not seen yet).
    pub fn notify_out(&self) -> bool {
        self.out != Out::None
    }

    /// Feed one event. Never panics; events that do not apply change nothing.
    #[must_use]
    pub fn step(self, event: Event) -> Step {
        let mut s = Step {
            notifier: self,
            actions: heapless::Vec::new(),
        };
        s.run(event);
        s
    }
}

impl Step {
    fn emit(&mut self, a: Action) {
        // At most MAX_ACTIONS per step by construction.
        let _ = self.actions.push(a);
    }

    fn run(&mut self, event: Event) {
        let n = self.notifier;
        match (n.state, event) {
            (State::Terminated, _) => {}
            (
                State::Idle,
                Event::Accept {
                    expires,
                    authorization,
                },
            ) => self.accept(expires, authorization),
            (State::Idle, _) | (_, Event::Accept { .. }) => {}
            (_, Event::Unsubscribe) => self.subscribe(Some(0)),
            (_, Event::Refresh { expires }) => self.subscribe(expires),
            (State::Pending | State::Active, Event::Change(authorization)) => {
                self.notifier.authorization = authorization;
                self.notifier.state = state_of(authorization);
                self.notify_state();
            }
            (
                State::Pending | State::Active,
                Event::Terminate {
                    reason,
                    retry_after,
                },
            ) => self.terminate(
                Ended::ByTu { reason },
                Notify::Terminated {
                    reason,
                    retry_after,
                },
            ),
            // §4.2.1.4: not refreshed in time.
            (State::Pending | State::Active, Event::Timer) => self.terminate(
                Ended::Expired,
                Notify::Terminated {
                    reason: Reason::Timeout,
                    retry_after: None,
                },
            ),
            (_, Event::Response(code)) if n.out != Out::None => self.on_final(code),
            // §4.2.2: Timer F fired for the NOTIFY; as a 408.
            (_, Event::Timeout) if n.out != Out::None => self.on_final(StatusCode::REQUEST_TIMEOUT),
            _ => {}
        }
    }

    /// The SUBSCRIBE that creates the subscription (§4.2.1.1): 423 below the minimum
    /// (nothing made), else 200 and at once the first NOTIFY (§4.2.1.2).
    fn accept(&mut self, asked: Option<u32>, authorization: Authorization) {
        let Some(granted) = self.grant(asked) else {
            return;
        };
        self.notifier.authorization = authorization;
        self.emit(Action::Respond(Answer::Accepted { expires: granted }));
        if granted == 0 {
            // §4.4.3: a fetch; the state, and the subscription ends with that NOTIFY.
            self.notifier.ending = Some(Ended::Unsubscribed);
            self.notifier.state = State::Terminating;
            self.notifier.last = Notify::Terminated {
                reason: Reason::Timeout,
                retry_after: None,
            };
            self.send(self.notifier.last);
            return;
        }
        self.notifier.state = state_of(authorization);
        self.emit(Action::StartTimer(secs(granted)));
        self.send(notify_of(authorization));
    }

    /// The duration granted for `asked` (the offer when not given, never more than
    /// asked nor than offered), or `None` after answering 423.
    fn grant(&mut self, asked: Option<u32>) -> Option<u32> {
        let n = self.notifier;
        match asked {
            Some(0) => Some(0),
            Some(e) if e < n.min => {
                self.emit(Action::Respond(Answer::IntervalTooBrief {
                    min_expires: n.min,
                }));
                None
            }
            Some(e) => Some(e.min(n.offer)),
            None => Some(n.offer),
        }
    }

    /// A SUBSCRIBE within the dialog (§4.2.1.4).
    fn subscribe(&mut self, asked: Option<u32>) {
        let n = self.notifier;
        if n.state == State::Terminating {
            // Already ending: an unsubscription is acknowledged (its NOTIFY is the one
            // queued or out), a refresh finds no subscription to extend.
            if asked == Some(0) {
                self.emit(Action::Respond(Answer::Accepted { expires: 0 }));
            } else {
                self.emit(Action::Respond(Answer::NoSubscription));
            }
            return;
        }
        let Some(granted) = self.grant(asked) else {
            return;
        };
        self.emit(Action::Respond(Answer::Accepted { expires: granted }));
        if granted == 0 {
            return self.terminate(
                Ended::Unsubscribed,
                // RFC 6665 defines no reason for an unsubscription: the subscription
                // ran out (its duration was set to zero), which is what `timeout` says.
                Notify::Terminated {
                    reason: Reason::Timeout,
                    retry_after: None,
                },
            );
        }
        self.emit(Action::StartTimer(secs(granted)));
        // §4.2.1.2: every accepted refresh is followed by a NOTIFY with the state.
        self.notify_state();
        self.emit(Action::Tell(Notice::Refreshed { expires: granted }));
    }

    /// A NOTIFY with the current state: now, or after the final response to the one
    /// out (§4.2.2).
    fn notify_state(&mut self) {
        if self.notifier.out == Out::None {
            self.send(notify_of(self.notifier.authorization));
        } else {
            self.notifier.owed = true;
        }
    }

    /// Start ending: the terminating NOTIFY now, or after the one out.
    fn terminate(&mut self, why: Ended, last: Notify) {
        self.notifier.state = State::Terminating;
        self.notifier.ending = Some(why);
        self.notifier.last = last;
        self.notifier.owed = false;
        self.emit(Action::CancelTimer);
        if self.notifier.out == Out::None {
            self.send(last);
        }
    }

    fn send(&mut self, notify: Notify) {
        self.notifier.out = if notify.is_final() {
            Out::Final
        } else {
            Out::State
        };
        self.notifier.owed = false;
        self.emit(Action::Send(notify));
    }

    /// The NOTIFY out got its final response `code` (408 for none).
    fn on_final(&mut self, code: StatusCode) {
        let n = self.notifier;
        self.notifier.out = Out::None;
        // §4.2.2: 481 and a timeout end the subscription; RFC 5057: so do the codes
        // that end a dialog usage. Others affect the transaction only.
        let fatal = !code.is_success()
            && matches!(
                code.as_u16(),
                404 | 405 | 408 | 410 | 416 | 480..=485 | 489 | 501 | 604
            );
        match n.state {
            // The last NOTIFY was answered (however): over.
            State::Terminating if n.out == Out::Final => self.end(),
            // The subscriber is gone: the terminating NOTIFY would be refused too.
            State::Terminating if fatal => self.end(),
            State::Terminating => self.send(n.last),
            _ if fatal => {
                self.notifier.ending = Some(Ended::NotifyFailed(code));
                self.emit(Action::CancelTimer);
                self.end();
            }
            _ if n.owed => self.send(notify_of(n.authorization)),
            _ => {}
        }
    }

    fn end(&mut self) {
        let why = self.notifier.ending.unwrap_or(Ended::Unsubscribed);
        self.notifier.state = State::Terminated;
        self.notifier.owed = false;
        self.emit(Action::Tell(Notice::Terminated(why)));
    }
}

fn state_of(a: Authorization) -> State {
    match a {
        Authorization::Pending => State::Pending,
        Authorization::Active => State::Active,
    }
}

fn notify_of(a: Authorization) -> Notify {
    match a {
        Authorization::Pending => Notify::Pending,
        Authorization::Active => Notify::Active,
    }
}

fn secs(s: u32) -> Duration {
    Duration::from_secs(u64::from(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepted(expires: u32, a: Authorization) -> Notifier {
        let s = Notifier::new(3600, 60).step(Event::Accept {
            expires: Some(expires),
            authorization: a,
        });
        s.notifier
    }

    #[test]
    fn accept_refresh_unsubscribe() {
        let s = Notifier::new(3600, 60).step(Event::Accept {
            expires: Some(7200),
            authorization: Authorization::Pending,
        });
        // Never more than offered.
        assert_eq!(
            s.actions.as_slice(),
            [
                Action::Respond(Answer::Accepted { expires: 3600 }),
                Action::StartTimer(Duration::from_secs(3600)),
                Action::Send(Notify::Pending),
            ]
        );
        assert_eq!(s.notifier.state(), State::Pending);
        // Authorized while the first NOTIFY is out: after its response.
        let s = s.notifier.step(Event::Change(Authorization::Active));
        assert!(s.actions.is_empty());
        assert_eq!(s.notifier.state(), State::Active);
        let s = s.notifier.step(Event::Response(StatusCode::OK));
        assert_eq!(s.actions.as_slice(), [Action::Send(Notify::Active)]);
        let s = s.notifier.step(Event::Response(StatusCode::OK));
        assert!(s.actions.is_empty());
        // A refresh: never more than asked; the NOTIFY follows; the TU hears of it.
        let s = s.notifier.step(Event::Refresh { expires: Some(300) });
        assert_eq!(
            s.actions.as_slice(),
            [
                Action::Respond(Answer::Accepted { expires: 300 }),
                Action::StartTimer(Duration::from_secs(300)),
                Action::Send(Notify::Active),
                Action::Tell(Notice::Refreshed { expires: 300 }),
            ]
        );
        // Too brief: 423, nothing else changes.
        let s = s.notifier.step(Event::Refresh { expires: Some(10) });
        assert_eq!(
            s.actions.as_slice(),
            [Action::Respond(Answer::IntervalTooBrief {
                min_expires: 60
            })]
        );
        // Unsubscribe while the refresh's NOTIFY is out: the last NOTIFY waits for it.
        let s = s.notifier.step(Event::Unsubscribe);
        assert_eq!(
            s.actions.as_slice(),
            [
                Action::Respond(Answer::Accepted { expires: 0 }),
                Action::CancelTimer
            ]
        );
        let last = Notify::Terminated {
            reason: Reason::Timeout,
            retry_after: None,
        };
        let s = s.notifier.step(Event::Response(StatusCode::OK));
        assert_eq!(s.actions.as_slice(), [Action::Send(last)]);
        // A refresh of what is ending: 481.
        let s = s.notifier.step(Event::Refresh { expires: None });
        assert_eq!(
            s.actions.as_slice(),
            [Action::Respond(Answer::NoSubscription)]
        );
        let s = s.notifier.step(Event::Response(StatusCode::OK));
        assert_eq!(
            s.actions.as_slice(),
            [Action::Tell(Notice::Terminated(Ended::Unsubscribed))]
        );
        assert_eq!(s.notifier.state(), State::Terminated);
        assert!(s.notifier.step(Event::Timer).actions.is_empty());
    }

    #[test]
    fn expiry_termination_and_failures() {
        // Expiry: terminated;reason=timeout.
        let n = accepted(600, Authorization::Active)
            .step(Event::Response(StatusCode::OK))
            .notifier;
        let s = n.step(Event::Timer);
        assert_eq!(
            s.actions.as_slice(),
            [
                Action::CancelTimer,
                Action::Send(Notify::Terminated {
                    reason: Reason::Timeout,
                    retry_after: None
                })
            ]
        );
        // Even a 481 to the last NOTIFY ends it as it was ending.
        let s = s.notifier.step(Event::Response(
            StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST,
        ));
        assert_eq!(
            s.actions.as_slice(),
            [Action::Tell(Notice::Terminated(Ended::Expired))]
        );
        // The TU's reason.
        let s = n.step(Event::Terminate {
            reason: Reason::Noresource,
            retry_after: Some(5),
        });
        assert_eq!(
            s.actions.last(),
            Some(&Action::Send(Notify::Terminated {
                reason: Reason::Noresource,
                retry_after: Some(5)
            }))
        );
        // §4.2.2: 481 or no response end it; 500 does not.
        let s = n
            .step(Event::Change(Authorization::Active))
            .notifier
            .step(Event::Timeout);
        assert_eq!(
            s.actions.as_slice(),
            [
                Action::CancelTimer,
                Action::Tell(Notice::Terminated(Ended::NotifyFailed(
                    StatusCode::REQUEST_TIMEOUT
                )))
            ]
        );
        let s = n
            .step(Event::Change(Authorization::Active))
            .notifier
            .step(Event::Response(StatusCode::SERVER_INTERNAL_ERROR));
        assert!(s.actions.is_empty());
        assert_eq!(s.notifier.state(), State::Active);
        // A fetch: 200 with Expires 0 and one terminating NOTIFY.
        let s = Notifier::new(3600, 60).step(Event::Accept {
            expires: Some(0),
            authorization: Authorization::Active,
        });
        assert_eq!(
            s.actions.as_slice(),
            [
                Action::Respond(Answer::Accepted { expires: 0 }),
                Action::Send(Notify::Terminated {
                    reason: Reason::Timeout,
                    retry_after: None
                })
            ]
        );
        // A first SUBSCRIBE below the minimum: 423, nothing made.
        let s = Notifier::new(3600, 60).step(Event::Accept {
            expires: Some(30),
            authorization: Authorization::Active,
        });
        assert_eq!(
            s.actions.as_slice(),
            [Action::Respond(Answer::IntervalTooBrief {
                min_expires: 60
            })]
        );
        assert_eq!(s.notifier.state(), State::Idle);
    }
}
