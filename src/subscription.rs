//! A subscription to an event package, subscriber side (RFC 6665 §4.1), as a pure
//! machine in the crate's `(state, event) -> (state, actions)` shape: the SUBSCRIBE and
//! its answer, NOTIFYs with their `Subscription-State` (which may come before the 2xx,
//! §4.1.2.4), refreshes before the subscription expires (§4.1.2.2), and its end:
//! unsubscribing with `Expires: 0` (§4.1.2.3), a terminating NOTIFY, a failed refresh,
//! or no NOTIFY within 64*T1 of the 2xx (§4.1.2.4).
//!
//! The host (or the endpoint) builds the SUBSCRIBEs the machine asks for (the first one
//! is sent when the machine is made), answers each NOTIFY itself (200, §4.1.3), and
//! feeds back final responses, NOTIFYs and the one timer the machine keeps.
//!
//! ```
//! use core::time::Duration;
//! use sansip::message::StatusCode;
//! use sansip::subscription::{Action, Event, Notice, NotifyState, Subscription};
//!
//! let t1x64 = Duration::from_secs(32);
//! let sub = Subscription::new(600);
//! // 202 granting 300 s, then the first NOTIFY: active.
//! let s = sub.step(t1x64, Event::Response { code: StatusCode::new(202).unwrap(), expires: Some(300) });
//! let s = s.subscription.step(t1x64, Event::Notify { state: NotifyState::Active, expires: Some(300), retry_after: None });
//! assert!(s.actions.contains(&Action::Notify(Notice::Active { expires: 300 })));
//! ```

use core::time::Duration;

use crate::message::StatusCode;

/// Where a subscription is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum State {
    /// Subscribed; no NOTIFY yet.
    Subscribing,
    /// The notifier has not authorized it yet (`Subscription-State: pending`).
    Pending,
    /// Active.
    Active,
    /// `Expires: 0` was sent; waiting for the terminating NOTIFY.
    Unsubscribing,
    /// Over. Absorbing.
    Terminated,
}

/// The `Subscription-State` of a NOTIFY (RFC 6665 §8.2.3); an extension state counts as
/// `Pending` (§4.1.3: treat unknown states as pending).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum NotifyState {
    /// `active`.
    Active,
    /// `pending` (or an extension state).
    Pending,
    /// `terminated`.
    Terminated,
}

/// What happened, fed to [`Subscription::step`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Event {
    /// The final response to the SUBSCRIBE last sent; `expires` from its `Expires`.
    Response {
        /// Status code.
        code: StatusCode,
        /// Granted duration, seconds.
        expires: Option<u32>,
    },
    /// A NOTIFY of this subscription (the host answers it).
    Notify {
        /// Its `Subscription-State`.
        state: NotifyState,
        /// The `expires` parameter, seconds.
        expires: Option<u32>,
        /// The `retry-after` parameter of a terminating NOTIFY, seconds.
        retry_after: Option<u32>,
    },
    /// The SUBSCRIBE's transaction got no final response (Timer F) or could not be sent.
    Timeout,
    /// The timer of [`Action::StartTimer`] fired.
    Timer,
    /// The TU ends the subscription.
    Unsubscribe,
}

/// What the host must do after a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Action {
    /// Send a SUBSCRIBE within the subscription's dialog with this `Expires` (a refresh,
    /// or 0 to unsubscribe).
    Send {
        /// Expires, seconds.
        expires: u32,
    },
    /// (Re)arm the subscription's timer.
    StartTimer(Duration),
    /// Stop it.
    CancelTimer,
    /// Tell the TU.
    Notify(Notice),
}

/// Why a subscription ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Ended {
    /// The SUBSCRIBE (or a refresh) was refused with this status, or timed out (408).
    Rejected(StatusCode),
    /// The notifier ended it with a terminating NOTIFY; `retry_after` seconds if it
    /// said when to try again.
    ByNotifier {
        /// The NOTIFY's `retry-after`.
        retry_after: Option<u32>,
    },
    /// This side unsubscribed.
    Unsubscribed,
    /// No NOTIFY came within 64*T1 of the 2xx (§4.1.2.4).
    NoNotify,
    /// No time was left to refresh: a fetch (`Expires: 0`, §4.1.2.1) that the notifier
    /// answered with an active or pending NOTIFY rather than a terminating one, or a
    /// NOTIFY or 2xx granting zero seconds. The state the NOTIFY carried was reported.
    Expired,
}

/// What the TU learns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Notice {
    /// The notifier holds the subscription pending.
    Pending,
    /// The subscription is active for `expires` seconds.
    Active {
        /// Seconds left.
        expires: u32,
    },
    /// It is over.
    Terminated(Ended),
}

/// Most actions one step produces.
pub const MAX_ACTIONS: usize = 4;

/// The result of [`Subscription::step`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The subscription after the event.
    pub subscription: Subscription,
    /// What to do, in order.
    pub actions: heapless::Vec<Action, MAX_ACTIONS>,
}

/// The subscriber's machine: `Copy`, a dozen bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Subscription {
    state: State,
    /// Duration this side asks for.
    expires: u32,
    /// A SUBSCRIBE is out (its final response not seen).
    out: bool,
    /// A 2xx to the first SUBSCRIBE arrived.
    accepted: bool,
    /// The TU unsubscribed while a SUBSCRIBE was out: `Expires: 0` follows its answer
    /// (one request at a time, and the first one's answer makes the dialog).
    unsubscribe_next: bool,
    /// The duration last granted (by a 2xx's `Expires` or a NOTIFY's `expires`), which
    /// a NOTIFY without `expires` keeps (§4.1.3).
    known: u32,
}

impl Subscription {
    /// A subscription whose first SUBSCRIBE (with `Expires: expires`) the host sends now.
    pub fn new(expires: u32) -> Self {
        Subscription {
            state: State::Subscribing,
            expires,
            out: true,
            accepted: false,
            unsubscribe_next: false,
            known: expires,
        }
    }

    /// A subscription another notifier installed when the SUBSCRIBE forked (RFC 6665
    /// §4.1.2.4, §5.4.9), made by that notifier's first NOTIFY, which is its next
    /// event: no SUBSCRIBE of its own is out, and it counts as accepted (so it is
    /// refreshed like any other once that NOTIFY says `active` or `pending`).
    pub fn forked(expires: u32) -> Self {
        Subscription {
            out: false,
            accepted: true,
            ..Subscription::new(expires)
        }
    }

    /// The duration this side asks for, seconds (its refreshes ask for it again).
    pub fn asked(&self) -> u32 {
        self.expires
    }

    /// The state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Feed one event. `t1x64` is 64*T1 (the wait for a first NOTIFY, and for the last
    /// one after unsubscribing). Never panics; events that do not apply change nothing.
    #[must_use]
    pub fn step(self, t1x64: Duration, event: Event) -> Step {
        let mut s = Step {
            subscription: self,
            actions: heapless::Vec::new(),
        };
        s.run(t1x64, event);
        s
    }
}

impl Step {
    fn emit(&mut self, a: Action) {
        // At most MAX_ACTIONS per step by construction.
        let _ = self.actions.push(a);
    }

    fn end(&mut self, why: Ended) {
        self.subscription.state = State::Terminated;
        self.emit(Action::CancelTimer);
        self.emit(Action::Notify(Notice::Terminated(why)));
    }

    /// Refresh a tenth of the duration early (at least one second before). Nothing left
    /// (a fetch kept alive, or zero seconds granted) ends the subscription instead
    /// ([`Ended::Expired`]): refreshing it would send a SUBSCRIBE every second for as long
    /// as the notifier keeps answering so.
    fn refresh_in(&mut self, expires: u32) {
        if expires == 0 {
            return self.end(Ended::Expired);
        }
        let ahead = (expires / 10).max(1);
        let after = u64::from(expires.saturating_sub(ahead).max(1));
        self.emit(Action::StartTimer(Duration::from_secs(after)));
    }

    fn run(&mut self, t1x64: Duration, event: Event) {
        let sub = self.subscription;
        if sub.state == State::Terminated {
            return;
        }
        match event {
            Event::Unsubscribe if sub.state != State::Unsubscribing => {
                self.subscription.state = State::Unsubscribing;
                if sub.out {
                    self.subscription.unsubscribe_next = true;
                    self.emit(Action::CancelTimer);
                } else {
                    self.unsubscribe_now(t1x64);
                }
            }
            Event::Unsubscribe => {}
            Event::Timer => match sub.state {
                // §4.1.2.4: a 2xx but no NOTIFY within 64*T1.
                State::Subscribing if sub.accepted => self.end(Ended::NoNotify),
                State::Unsubscribing => self.end(Ended::Unsubscribed),
                State::Pending | State::Active if !sub.out => {
                    self.subscription.out = true;
                    self.emit(Action::Send {
                        expires: sub.expires,
                    });
                }
                _ => {}
            },
            Event::Timeout if sub.out => {
                self.subscription.out = false;
                self.subscription.unsubscribe_next = false;
                match sub.state {
                    State::Unsubscribing => self.end(Ended::Unsubscribed),
                    // §4.1.2.2: a refresh without answer leaves the subscription valid.
                    State::Pending | State::Active => self.retry_soon(),
                    _ => self.end(Ended::Rejected(StatusCode::REQUEST_TIMEOUT)),
                }
            }
            Event::Timeout => {}
            Event::Response { code, expires } if sub.out => {
                self.subscription.out = false;
                self.on_response(t1x64, code, expires);
            }
            Event::Response { .. } => {}
            Event::Notify {
                state,
                expires,
                retry_after,
            } => self.on_notify(state, expires, retry_after),
        }
    }

    /// A refresh failed without ending the subscription: try again after a twentieth of
    /// its duration (half of what the refresh left to spare), at least a second.
    fn retry_soon(&mut self) {
        let after = u64::from((self.subscription.known / 20).max(1));
        self.emit(Action::StartTimer(Duration::from_secs(after)));
    }

    /// Send `Expires: 0` (§4.1.2.3) and wait 64*T1 at most for the terminating NOTIFY.
    fn unsubscribe_now(&mut self, t1x64: Duration) {
        self.subscription.out = true;
        self.subscription.unsubscribe_next = false;
        self.emit(Action::Send { expires: 0 });
        self.emit(Action::StartTimer(t1x64));
    }

    fn on_response(&mut self, t1x64: Duration, code: StatusCode, expires: Option<u32>) {
        let sub = self.subscription;
        if sub.unsubscribe_next {
            // The request that was out when the TU unsubscribed: now the `Expires: 0`,
            // unless there is no subscription to end.
            if code.is_success() {
                self.unsubscribe_now(t1x64);
            } else {
                self.end(Ended::Unsubscribed);
            }
            return;
        }
        if sub.state == State::Unsubscribing {
            // The terminating NOTIFY (or the timer already running) ends it; a failure
            // means there is nothing left to end.
            if !code.is_success() {
                self.end(Ended::Unsubscribed);
            }
            return;
        }
        if !code.is_success() {
            // §4.1.2.2: a refresh that failed with one of these codes ends the
            // subscription; with another (503, 408, ...) it stays valid until it expires,
            // so try again shortly. A first SUBSCRIBE that failed ends it.
            let fatal = matches!(
                code.as_u16(),
                404 | 405 | 410 | 416 | 480..=485 | 489 | 501 | 604
            );
            if fatal || matches!(sub.state, State::Subscribing) {
                return self.end(Ended::Rejected(code));
            }
            return self.retry_soon();
        }
        let granted = expires.unwrap_or(sub.known);
        self.subscription.known = granted;
        match sub.state {
            State::Subscribing if !sub.accepted => {
                self.subscription.accepted = true;
                // §4.1.2.4: the first NOTIFY must follow within 64*T1.
                self.emit(Action::StartTimer(t1x64));
            }
            State::Pending | State::Active => self.refresh_in(granted),
            _ => {}
        }
    }

    fn on_notify(&mut self, state: NotifyState, expires: Option<u32>, retry_after: Option<u32>) {
        let sub = self.subscription;
        match state {
            NotifyState::Terminated => {
                if sub.state == State::Unsubscribing {
                    self.end(Ended::Unsubscribed)
                } else {
                    self.end(Ended::ByNotifier { retry_after })
                }
            }
            _ if sub.state == State::Unsubscribing => {}
            NotifyState::Pending => {
                self.subscription.state = State::Pending;
                let left = expires.unwrap_or(sub.known);
                let rearm = expires.is_some() || sub.state == State::Subscribing;
                self.subscription.known = left;
                if rearm && left > 0 {
                    self.refresh_in(left);
                }
                if sub.state != State::Pending {
                    self.emit(Action::Notify(Notice::Pending));
                }
                if rearm && left == 0 {
                    self.refresh_in(0);
                }
            }
            NotifyState::Active => {
                self.subscription.state = State::Active;
                let left = expires.unwrap_or(sub.known);
                let rearm = expires.is_some() || sub.state == State::Subscribing;
                self.subscription.known = left;
                if rearm && left > 0 {
                    self.refresh_in(left);
                }
                if sub.state != State::Active {
                    self.emit(Action::Notify(Notice::Active { expires: left }));
                }
                // Reported first, then over (`refresh_in`).
                if rearm && left == 0 {
                    self.refresh_in(0);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(32);

    fn notify(state: NotifyState, expires: Option<u32>) -> Event {
        Event::Notify {
            state,
            expires,
            retry_after: None,
        }
    }

    fn ok(expires: u32) -> Event {
        Event::Response {
            code: StatusCode::OK,
            expires: Some(expires),
        }
    }

    /// A fetch (`Expires: 0`) that the notifier keeps active or pending, or a NOTIFY or
    /// refresh 2xx granting zero seconds, ends the subscription once its state is
    /// reported: there is nothing to refresh (it used to send a SUBSCRIBE every second).
    #[test]
    fn nothing_left_to_refresh_ends_the_subscription() {
        let over = [
            Action::CancelTimer,
            Action::Notify(Notice::Terminated(Ended::Expired)),
        ];
        // A fetch answered 2xx, then an active NOTIFY without expires.
        let s = Subscription::new(0).step(T, ok(0));
        assert_eq!(s.actions.as_slice(), [Action::StartTimer(T)]);
        let s = s.subscription.step(T, notify(NotifyState::Active, None));
        assert_eq!(s.subscription.state(), State::Terminated);
        assert_eq!(
            s.actions.as_slice(),
            [
                Action::Notify(Notice::Active { expires: 0 }),
                over[0],
                over[1]
            ]
        );
        // Pending the same way.
        let s = Subscription::new(0)
            .step(T, ok(0))
            .subscription
            .step(T, notify(NotifyState::Pending, None));
        assert_eq!(
            s.actions.as_slice(),
            [Action::Notify(Notice::Pending), over[0], over[1]]
        );
        // An active subscription told `expires=0`.
        let s = Subscription::new(600)
            .step(T, ok(600))
            .subscription
            .step(T, notify(NotifyState::Active, Some(600)))
            .subscription
            .step(T, notify(NotifyState::Active, Some(0)));
        assert_eq!(s.actions.as_slice(), over);
        // A refresh granted zero seconds.
        let s = Subscription::new(600)
            .step(T, ok(600))
            .subscription
            .step(T, notify(NotifyState::Active, Some(600)))
            .subscription
            .step(T, Event::Timer);
        assert!(!s.actions.is_empty(), "the refresh goes out");
        let s = s.subscription.step(T, ok(0));
        assert_eq!(s.actions.as_slice(), over);
        assert_eq!(s.subscription.state(), State::Terminated);
    }

    #[test]
    fn subscribe_notify_refresh_unsubscribe() {
        let s = Subscription::new(3600).step(T, ok(600));
        assert_eq!(s.actions.as_slice(), [Action::StartTimer(T)]);
        let s = s
            .subscription
            .step(T, notify(NotifyState::Pending, Some(600)));
        assert_eq!(s.subscription.state(), State::Pending);
        assert_eq!(
            s.actions.as_slice(),
            [
                Action::StartTimer(Duration::from_secs(540)),
                Action::Notify(Notice::Pending)
            ]
        );
        let s = s
            .subscription
            .step(T, notify(NotifyState::Active, Some(500)));
        assert_eq!(
            s.actions.as_slice(),
            [
                Action::StartTimer(Duration::from_secs(450)),
                Action::Notify(Notice::Active { expires: 500 })
            ]
        );
        // The refresh, answered: the timer is re-armed from the new duration.
        let s = s.subscription.step(T, Event::Timer);
        assert_eq!(s.actions.as_slice(), [Action::Send { expires: 3600 }]);
        let s = s.subscription.step(T, ok(100));
        assert_eq!(
            s.actions.as_slice(),
            [Action::StartTimer(Duration::from_secs(90))]
        );
        // A NOTIFY with the same state says nothing new.
        let s = s.subscription.step(T, notify(NotifyState::Active, None));
        assert!(s.actions.is_empty());
        let s = s.subscription.step(T, Event::Unsubscribe);
        assert_eq!(
            s.actions.as_slice(),
            [Action::Send { expires: 0 }, Action::StartTimer(T)]
        );
        let s = s.subscription.step(T, ok(0));
        assert!(s.actions.is_empty());
        let s = s
            .subscription
            .step(T, notify(NotifyState::Terminated, None));
        assert_eq!(
            s.actions.last(),
            Some(&Action::Notify(Notice::Terminated(Ended::Unsubscribed)))
        );
        assert!(s.subscription.step(T, Event::Timer).actions.is_empty());
    }

    #[test]
    fn endings() {
        // NOTIFY before the 2xx, then terminated by the notifier.
        let s = Subscription::new(60).step(T, notify(NotifyState::Active, Some(60)));
        assert_eq!(s.subscription.state(), State::Active);
        let s = s.subscription.step(
            T,
            Event::Notify {
                state: NotifyState::Terminated,
                expires: None,
                retry_after: Some(30),
            },
        );
        assert_eq!(
            s.actions.last(),
            Some(&Action::Notify(Notice::Terminated(Ended::ByNotifier {
                retry_after: Some(30)
            })))
        );
        // Refused; timed out; no NOTIFY after the 2xx; a failed refresh.
        let s = Subscription::new(60).step(
            T,
            Event::Response {
                code: StatusCode::new(489).unwrap(),
                expires: None,
            },
        );
        assert_eq!(s.subscription.state(), State::Terminated);
        let s = Subscription::new(60).step(T, Event::Timeout);
        assert_eq!(
            s.actions.last(),
            Some(&Action::Notify(Notice::Terminated(Ended::Rejected(
                StatusCode::REQUEST_TIMEOUT
            ))))
        );
        let s = Subscription::new(60)
            .step(T, ok(60))
            .subscription
            .step(T, Event::Timer);
        assert_eq!(
            s.actions.last(),
            Some(&Action::Notify(Notice::Terminated(Ended::NoNotify)))
        );
        let s = Subscription::new(60)
            .step(T, ok(60))
            .subscription
            .step(T, notify(NotifyState::Active, None))
            .subscription
            .step(T, Event::Timer)
            .subscription
            .step(
                T,
                Event::Response {
                    code: StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST,
                    expires: None,
                },
            );
        assert_eq!(
            s.actions.last(),
            Some(&Action::Notify(Notice::Terminated(Ended::Rejected(
                StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST
            ))))
        );
    }

    #[test]
    fn granted_duration_is_kept_and_refresh_failures_retry() {
        // §4.1.3: a NOTIFY without `expires` keeps what the 2xx granted.
        let s = Subscription::new(3600).step(T, ok(60));
        let s = s.subscription.step(T, notify(NotifyState::Active, None));
        assert_eq!(
            s.actions.as_slice(),
            [
                Action::StartTimer(Duration::from_secs(54)),
                Action::Notify(Notice::Active { expires: 60 })
            ]
        );
        // §4.1.2.2: a refresh answered 503 (or not at all) leaves it valid: retry soon.
        let s = s.subscription.step(T, Event::Timer);
        assert_eq!(s.actions.as_slice(), [Action::Send { expires: 3600 }]);
        let s = s.subscription.step(
            T,
            Event::Response {
                code: StatusCode::SERVICE_UNAVAILABLE,
                expires: None,
            },
        );
        assert_eq!(s.subscription.state(), State::Active);
        assert_eq!(
            s.actions.as_slice(),
            [Action::StartTimer(Duration::from_secs(3))]
        );
        let s = s.subscription.step(T, Event::Timer);
        assert_eq!(s.actions.as_slice(), [Action::Send { expires: 3600 }]);
        let s = s.subscription.step(T, Event::Timeout);
        assert_eq!(s.subscription.state(), State::Active);
        // ... but 489 (Bad Event) ends it.
        let s = s.subscription.step(T, Event::Timer).subscription.step(
            T,
            Event::Response {
                code: StatusCode::new(489).unwrap(),
                expires: None,
            },
        );
        assert_eq!(s.subscription.state(), State::Terminated);
    }

    /// A fork's subscription starts from its notifier's NOTIFY and is refreshed after
    /// it like one this side subscribed to; a fresh one would wait for its own
    /// SUBSCRIBE's answer and never refresh.
    #[test]
    fn a_forked_subscription_refreshes_after_its_first_notify() {
        let s = Subscription::forked(3600).step(T, notify(NotifyState::Active, Some(600)));
        assert_eq!(s.subscription.state(), State::Active);
        assert_eq!(
            s.actions.as_slice(),
            [
                Action::StartTimer(Duration::from_secs(540)),
                Action::Notify(Notice::Active { expires: 600 }),
            ]
        );
        let s = s.subscription.step(T, Event::Timer);
        assert_eq!(s.actions.as_slice(), [Action::Send { expires: 3600 }]);
        // Without a NOTIFY it ends as an accepted subscription that heard nothing would.
        let s = Subscription::forked(3600).step(T, Event::Timer);
        assert_eq!(s.subscription.state(), State::Terminated);
    }
}
