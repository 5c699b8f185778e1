//! The registration of a binding with a registrar (RFC 3261 §10.2) as a pure machine in
//! the crate's `(state, event) -> (state, actions)` shape: register, answer a challenge
//! once per request (§22.2; again when the registrar says the nonce was `stale`), take
//! the registrar's `Min-Expires` after a 423 (§10.2.8), refresh before the binding
//! expires (§10.2.4), and remove it with `Expires: 0` (§10.2.2). Given a [`Retry`]
//! policy, it registers again after a failure that may pass (no answer, 408, 480, most
//! 5xx) with RFC 5626 §4.5's back-off, instead of ending.
//!
//! The host (or the endpoint) keeps the REGISTER's Call-ID, From tag, To and Contact,
//! builds each request the machine asks for with the CSeq it gives (all REGISTERs of a
//! registration share one Call-ID and have increasing CSeq numbers, §10.2), and feeds
//! back the final responses, the transaction timeouts and the refresh timer.
//!
//! ```
//! use sansip::register::{Action, Event, Notice, Registration};
//! use sansip::message::StatusCode;
//!
//! let (reg, actions) = Registration::new(600);
//! assert_eq!(actions.as_slice(), [Action::Send { cseq: 1, expires: 600, authorize: false }]);
//! // 401: send again with credentials, CSeq 2.
//! let step = reg.step(Event::Response { code: StatusCode::UNAUTHORIZED, expires: None, min_expires: None, stale: false, refused: false });
//! assert_eq!(step.actions.as_slice(), [Action::Send { cseq: 2, expires: 600, authorize: true }]);
//! // 200 granting 300 s: registered, refresh in 270 s.
//! let step = step.registration.step(Event::Response { code: StatusCode::OK, expires: Some(300), min_expires: None, stale: false, refused: false });
//! assert!(step.actions.contains(&Action::Notify(Notice::Registered { expires: 300 })));
//! ```

use core::time::Duration;

use crate::message::StatusCode;

/// Where a registration is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum State {
    /// A REGISTER is out and no binding is known yet.
    Registering,
    /// The binding exists for `expires` seconds from the last 2xx.
    Registered {
        /// Seconds the registrar granted.
        expires: u32,
    },
    /// A refresh is out for a binding that exists.
    Refreshing {
        /// Seconds the last 2xx granted.
        expires: u32,
    },
    /// The `Expires: 0` REGISTER is out.
    Unregistering,
    /// A REGISTER failed in a way that may pass; the next goes when the refresh timer
    /// fires ([`Retry`]). A binding an earlier 2xx made may still exist.
    Retrying,
    /// Over: unregistered, or failed. Absorbing.
    Done,
}

/// What happened, fed to [`Registration::step`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Event {
    /// The final response to the REGISTER last sent (1xx are not fed). `expires`: the
    /// expiry the registrar granted this side's Contact (its `expires` parameter, else
    /// the `Expires` header, §10.2.4); `min_expires`: a 423's `Min-Expires`; `stale`: a
    /// 401/407 whose challenge says `stale=true` (RFC 2617 §3.2.1); `refused`: a 401/407
    /// that challenges again, without `stale`, a realm whose credentials the REGISTER
    /// carried (RFC 3261 §22.1: those credentials were rejected and are not tried again).
    /// `refused` ends the registration only when the REGISTER answered a challenge
    /// (`Action::Send { authorize: true }`); a refresh's kept credentials met with a new
    /// challenge (an expired nonce) get it answered.
    Response {
        /// Status code.
        code: StatusCode,
        /// Granted expiry, seconds.
        expires: Option<u32>,
        /// Min-Expires of a 423, seconds.
        min_expires: Option<u32>,
        /// The nonce of the credentials sent was stale.
        stale: bool,
        /// The credentials sent were refused (a new challenge for their realm, not stale).
        refused: bool,
    },
    /// The REGISTER's transaction got no final response (Timer F) or could not be sent.
    Timeout,
    /// The refresh timer ([`Action::StartRefresh`]) fired.
    Refresh,
    /// The TU removes the binding.
    Unregister,
}

/// What the host must do after a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Action {
    /// Send a REGISTER with this CSeq number and `Expires` value, with credentials
    /// answering the challenge of the response just fed if `authorize`.
    Send {
        /// CSeq number.
        cseq: u32,
        /// Expires, seconds (0 removes the binding).
        expires: u32,
        /// Add `Authorization` / `Proxy-Authorization` for the last 401/407.
        authorize: bool,
    },
    /// (Re)arm the refresh timer to fire after this long.
    StartRefresh(Duration),
    /// Stop the refresh timer.
    CancelRefresh,
    /// Tell the TU.
    Notify(Notice),
}

/// What the TU learns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Notice {
    /// The binding exists for `expires` seconds (the first 2xx, and every refresh).
    Registered {
        /// Seconds granted.
        expires: u32,
    },
    /// The binding was removed (`Expires: 0` answered 2xx).
    Unregistered,
    /// The registration failed with this final response (408 for a timeout); it is over.
    Failed(StatusCode),
    /// A REGISTER failed with this final response (408 for a timeout) and the
    /// registration goes on: the next REGISTER goes when the refresh timer fires, armed
    /// for `after` in the same step: the RFC 5626 §4.5 wait time, of which the host
    /// waits a random 50 to 100 % ([`Retry`]).
    Retrying {
        /// The response that failed.
        status: StatusCode,
        /// The wait time before the next REGISTER (at most).
        after: Duration,
    },
}

/// How a registration tries again after a failure that may pass (RFC 5626 §4.5): the
/// n-th failure in a row waits `min(max, base * 2^n)`, of which the host waits a random
/// 50 to 100 % so that the clients of a registrar that was down do not come back
/// together. A 2xx resets the count.
///
/// What may pass: no final response, 408, 480, and 5xx but 501 and 505 (which the next
/// REGISTER would get again). Other failures (403, 404, credentials refused, a 6xx,
/// ...) still end the registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Retry {
    /// `base-time`: RFC 5626 §4.5 takes 30 s when every flow failed.
    pub base: Duration,
    /// `max-time`: 1800 s in RFC 5626 §4.5.
    pub max: Duration,
}

impl Retry {
    /// RFC 5626 §4.5's values: a base of 30 s, at most 1800 s.
    pub const RFC5626: Retry = Retry {
        base: Duration::from_secs(30),
        max: Duration::from_secs(1800),
    };

    /// The wait time after `failures` failures in a row: never under [`Retry::MIN_WAIT`],
    /// whatever the policy, so that a registrar answering at once with 503 is not asked
    /// again at once, in a loop.
    pub fn wait(&self, failures: u8) -> Duration {
        // The shift is capped at 2^20 (30 s * 2^20 is far past any `max`), and the
        // product saturates: no overflow for any policy.
        let factor = 1u32 << u32::from(failures.min(20));
        self.base
            .saturating_mul(factor)
            .min(self.max)
            .max(Self::MIN_WAIT)
    }

    /// The shortest wait time [`wait`](Self::wait) gives: one second. The host waits a
    /// random 50 to 100 % of it (the endpoint does), so at least half a second.
    pub const MIN_WAIT: Duration = Duration::from_secs(1);
}

/// Most actions one step produces.
pub const MAX_ACTIONS: usize = 4;

/// The result of [`Registration::step`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The registration after the event.
    pub registration: Registration,
    /// What to do, in order.
    pub actions: heapless::Vec<Action, MAX_ACTIONS>,
}

/// Challenges answered for one binding in a row before giving up (a registrar that
/// keeps refusing the credentials would otherwise be asked for ever): each proxy's on the
/// path (§22.3; the endpoint keeps two proxies' realms) and then the registrar's. A realm
/// that challenges the credentials it was just given refuses them at once (`refused`).
/// The endpoint's calls and subscriptions answer as many (`endpoint::digest`).
pub(crate) const MAX_AUTH_TRIES: u8 = 3;
/// Stale-nonce challenges answered in a row (RFC 2617 §3.2.1).
pub(crate) const MAX_STALE_TRIES: u8 = 2;

/// The registration machine: `Copy`, a dozen bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Registration {
    state: State,
    /// CSeq of the REGISTER last sent.
    cseq: u32,
    /// Expires this side asks for.
    expires: u32,
    /// Challenges answered since the last 2xx.
    auth_tries: u8,
    /// Whether the request out answers a challenge to the one before it (the kept
    /// credentials a refresh carries do not).
    authorized: bool,
    /// Stale-nonce challenges answered since the last 2xx.
    stale_tries: u8,
    /// The TU unregistered while a REGISTER was out: `Expires: 0` follows its answer.
    unregister_next: bool,
    /// A 2xx made a binding at some point.
    registered: bool,
    /// How to try again after a failure that may pass; `None`: such a failure ends it.
    retry: Option<Retry>,
    /// Failures in a row since the last 2xx.
    failures: u8,
}

impl Registration {
    /// Start registering for `expires` seconds: the first REGISTER has CSeq 1.
    pub fn new(expires: u32) -> (Self, heapless::Vec<Action, MAX_ACTIONS>) {
        let reg = Registration {
            state: State::Registering,
            cseq: 1,
            expires,
            auth_tries: 0,
            authorized: false,
            stale_tries: 0,
            unregister_next: false,
            registered: false,
            retry: None,
            failures: 0,
        };
        let mut actions = heapless::Vec::new();
        let _ = actions.push(Action::Send {
            cseq: 1,
            expires,
            authorize: false,
        });
        (reg, actions)
    }

    /// The same registration, trying again after failures that may pass (see [`Retry`]).
    #[must_use]
    pub fn with_retry(mut self, retry: Retry) -> Self {
        self.retry = Some(retry);
        self
    }

    /// The state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The CSeq number of the REGISTER last sent.
    pub fn cseq(&self) -> u32 {
        self.cseq
    }

    /// Feed one event. Never panics; events that do not apply change nothing.
    #[must_use]
    pub fn step(self, event: Event) -> Step {
        let mut s = Step {
            registration: self,
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

    /// Send the next REGISTER (CSeq + 1, §10.2.4); refused past 2^31 - 1 (§8.1.1.5).
    fn send(&mut self, expires: u32, authorize: bool) -> bool {
        let r = &mut self.registration;
        if r.cseq >= (1 << 31) - 1 {
            // No REGISTER of this registration can go again: no retry either.
            r.retry = None;
            return false;
        }
        r.cseq += 1;
        r.authorized = authorize;
        let cseq = r.cseq;
        self.emit(Action::Send {
            cseq,
            expires,
            authorize,
        });
        true
    }

    fn fail(&mut self, code: StatusCode) {
        let r = self.registration;
        if let Some(retry) = r
            .retry
            .filter(|_| r.state != State::Unregistering && may_pass(code))
        {
            let failures = r.failures.saturating_add(1);
            let after = retry.wait(failures);
            self.registration.failures = failures;
            self.registration.state = State::Retrying;
            self.emit(Action::StartRefresh(after));
            self.emit(Action::Notify(Notice::Retrying {
                status: code,
                after,
            }));
            return;
        }
        self.registration.state = State::Done;
        self.emit(Action::CancelRefresh);
        self.emit(Action::Notify(Notice::Failed(code)));
    }

    fn run(&mut self, event: Event) {
        let r = self.registration;
        let out = match r.state {
            State::Done => return,
            State::Registering | State::Refreshing { .. } => Some(r.expires),
            State::Unregistering => Some(0),
            State::Registered { .. } | State::Retrying => None,
        };
        match (event, out) {
            // Nothing out: a binding an earlier 2xx made may still exist and is removed;
            // else there is nothing to remove.
            (Event::Unregister, None) if r.state == State::Retrying && !r.registered => {
                self.registration.state = State::Done;
                self.emit(Action::CancelRefresh);
                self.emit(Action::Notify(Notice::Unregistered));
            }
            // The wait is over: register again, answering challenges anew.
            (Event::Refresh, None) if r.state == State::Retrying => {
                self.registration.state = State::Registering;
                self.registration.auth_tries = 0;
                self.registration.stale_tries = 0;
                if !self.send(r.expires, false) {
                    self.fail(StatusCode::SERVER_INTERNAL_ERROR);
                }
            }
            // §10.2: one REGISTER at a time; while one is out, the removal follows its
            // final response.
            (Event::Unregister, Some(_)) if r.state != State::Unregistering => {
                self.registration.state = State::Unregistering;
                self.registration.unregister_next = true;
                self.emit(Action::CancelRefresh);
            }
            (Event::Unregister, None) => {
                self.registration.state = State::Unregistering;
                self.registration.auth_tries = 0;
                self.emit(Action::CancelRefresh);
                if !self.send(0, false) {
                    self.fail(StatusCode::SERVER_INTERNAL_ERROR);
                }
            }
            (Event::Refresh, None) => {
                if let State::Registered { expires } = r.state {
                    self.registration.state = State::Refreshing { expires };
                    if !self.send(r.expires, false) {
                        self.fail(StatusCode::SERVER_INTERNAL_ERROR);
                    }
                }
            }
            (Event::Timeout, Some(_)) if r.unregister_next => {
                self.registration.unregister_next = false;
                // A binding a 2xx made may still exist: remove it; else nothing to remove.
                if r.registered {
                    if !self.send(0, false) {
                        self.fail(StatusCode::SERVER_INTERNAL_ERROR);
                    }
                } else {
                    self.registration.state = State::Done;
                    self.emit(Action::Notify(Notice::Unregistered));
                }
            }
            (Event::Timeout, Some(_)) => self.fail(StatusCode::REQUEST_TIMEOUT),
            (Event::Response { code, .. }, Some(_)) if r.unregister_next => {
                self.registration.unregister_next = false;
                self.registration.auth_tries = 0;
                if code.is_success() || matches!(code.as_u16(), 401 | 407) || r.registered {
                    // Remove what may exist (a binding a 2xx made outlives a failed
                    // refresh), answering the challenge if there was one.
                    let challenged = matches!(code.as_u16(), 401 | 407);
                    if !self.send(0, challenged) {
                        self.fail(StatusCode::SERVER_INTERNAL_ERROR);
                    }
                } else {
                    self.registration.state = State::Done;
                    self.emit(Action::Notify(Notice::Unregistered));
                }
            }
            (
                Event::Response {
                    code,
                    expires,
                    min_expires,
                    stale,
                    refused,
                },
                Some(asked),
            ) => self.on_final(code, asked, expires, min_expires, stale, refused),
            _ => {}
        }
    }

    fn on_final(
        &mut self,
        code: StatusCode,
        asked: u32,
        granted: Option<u32>,
        min_expires: Option<u32>,
        stale: bool,
        refused: bool,
    ) {
        let r = self.registration;
        match code.as_u16() {
            200..=299 if r.state == State::Unregistering => {
                self.registration.state = State::Done;
                self.emit(Action::Notify(Notice::Unregistered));
            }
            200..=299 => {
                // §10.2.4: the registrar may shorten the expiry; a 2xx without one keeps
                // what was asked for.
                let expires = granted.unwrap_or(asked);
                self.registration.auth_tries = 0;
                self.registration.stale_tries = 0;
                self.registration.failures = 0;
                self.registration.registered = true;
                if expires == 0 {
                    // The registrar removed the binding (or granted nothing).
                    self.registration.state = State::Done;
                    self.emit(Action::Notify(Notice::Unregistered));
                    return;
                }
                self.registration.state = State::Registered { expires };
                // Refresh with a tenth of the time to spare (at least one second).
                let ahead = (expires / 10).max(1);
                let after = u64::from(expires.saturating_sub(ahead).max(1));
                self.emit(Action::StartRefresh(Duration::from_secs(after)));
                self.emit(Action::Notify(Notice::Registered { expires }));
            }
            // §22.2: answer the challenge. A proxy's 407 and then the registrar's 401 are
            // both answered, and two proxies' then the registrar's (§22.3); past
            // MAX_AUTH_TRIES in a row the credentials are taken as wrong (a stale nonce,
            // RFC 2617 §3.2.1, does not count; MAX_STALE_TRIES of those).
            // §22.1: credentials refused are not sent again. Only credentials that
            // answered a challenge can be refused: those a refresh carries from an earlier
            // challenge (§22.3) meet a registrar whose nonce has since expired, which
            // challenges again, often without `stale`; that challenge is answered.
            401 | 407 if refused && r.authorized => self.fail(code),
            401 | 407 => {
                let tries = if stale {
                    r.auth_tries
                } else {
                    r.auth_tries.saturating_add(1)
                };
                if tries > MAX_AUTH_TRIES || (stale && r.stale_tries >= MAX_STALE_TRIES) {
                    return self.fail(code);
                }
                self.registration.stale_tries = r.stale_tries.saturating_add(u8::from(stale));
                self.registration.auth_tries = tries;
                if !self.send(asked, true) {
                    self.fail(code);
                }
            }
            // §10.2.8: ask again for at least Min-Expires.
            423 => match min_expires {
                Some(min) if min > asked && r.state != State::Unregistering => {
                    // A 423 carries no challenge to answer: the registrar challenges the
                    // new request if it wants credentials.
                    self.registration.expires = min;
                    if !self.send(min, false) {
                        self.fail(code);
                    }
                }
                _ => self.fail(code),
            },
            _ => self.fail(code),
        }
    }
}

/// Whether a REGISTER failing with `code` may succeed later unchanged ([`Retry`]).
fn may_pass(code: StatusCode) -> bool {
    matches!(code.as_u16(), 408 | 480 | 500 | 502..=504 | 506..=599)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(code: u16) -> Event {
        Event::Response {
            code: StatusCode::new(code).unwrap(),
            expires: None,
            min_expires: None,
            stale: false,
            refused: false,
        }
    }

    #[test]
    fn register_refresh_unregister() {
        let (r, a) = Registration::new(3600);
        assert_eq!(r.state(), State::Registering);
        assert_eq!(a.len(), 1);
        let s = r.step(Event::Response {
            code: StatusCode::OK,
            expires: Some(100),
            min_expires: None,
            stale: false,
            refused: false,
        });
        assert_eq!(s.registration.state(), State::Registered { expires: 100 });
        assert_eq!(
            s.actions.as_slice(),
            [
                Action::StartRefresh(Duration::from_secs(90)),
                Action::Notify(Notice::Registered { expires: 100 })
            ]
        );
        // A response arriving while registered (a late retransmission) does nothing.
        assert!(s.registration.step(resp(200)).actions.is_empty());
        let s = s.registration.step(Event::Refresh);
        assert_eq!(
            s.actions.as_slice(),
            [Action::Send {
                cseq: 2,
                expires: 3600,
                authorize: false
            }]
        );
        // The refresh is challenged, answered, accepted.
        let s = s.registration.step(resp(401));
        assert_eq!(
            s.actions.as_slice(),
            [Action::Send {
                cseq: 3,
                expires: 3600,
                authorize: true
            }]
        );
        let s = s.registration.step(resp(200));
        assert_eq!(s.registration.state(), State::Registered { expires: 3600 });
        let s = s.registration.step(Event::Unregister);
        assert_eq!(
            s.actions.as_slice(),
            [
                Action::CancelRefresh,
                Action::Send {
                    cseq: 4,
                    expires: 0,
                    authorize: false
                }
            ]
        );
        let s = s.registration.step(resp(200));
        assert_eq!(s.actions.as_slice(), [Action::Notify(Notice::Unregistered)]);
        assert_eq!(s.registration.state(), State::Done);
        assert!(s.registration.step(Event::Refresh).actions.is_empty());
    }

    #[test]
    fn wrong_credentials_stale_nonce_and_interval_too_brief() {
        let (r, _) = Registration::new(60);
        // A proxy's challenge, then the registrar's, are both answered...
        let s = r.step(resp(407)).registration.step(resp(401));
        assert_eq!(
            s.actions.as_slice(),
            [Action::Send {
                cseq: 3,
                expires: 60,
                authorize: true
            }]
        );
        // ... and a third (two proxies, then the registrar, §22.3) ...
        let s = s.registration.step(resp(401));
        assert_eq!(
            s.actions.as_slice(),
            [Action::Send {
                cseq: 4,
                expires: 60,
                authorize: true
            }]
        );
        // ... but a fourth challenge in a row means the credentials are wrong.
        let s = s.registration.step(resp(401));
        assert_eq!(
            s.actions.last(),
            Some(&Action::Notify(Notice::Failed(StatusCode::UNAUTHORIZED)))
        );
        assert_eq!(s.registration.state(), State::Done);
        // A stale nonce is answered again.
        let (r, _) = Registration::new(60);
        let s = r.step(resp(401)).registration.step(Event::Response {
            code: StatusCode::UNAUTHORIZED,
            expires: None,
            min_expires: None,
            stale: true,
            refused: false,
        });
        assert_eq!(
            s.actions.as_slice(),
            [Action::Send {
                cseq: 3,
                expires: 60,
                authorize: true
            }]
        );
        // ... but not for ever.
        let stale = Event::Response {
            code: StatusCode::UNAUTHORIZED,
            expires: None,
            min_expires: None,
            stale: true,
            refused: false,
        };
        let s = s.registration.step(stale);
        assert_eq!(s.registration.state(), State::Registering);
        let s = s.registration.step(stale);
        assert_eq!(s.registration.state(), State::Done);
        // Unregistering while the REGISTER is out waits for its answer (§10.2).
        let (r, _) = Registration::new(60);
        let s = r.step(Event::Unregister);
        assert_eq!(s.actions.as_slice(), [Action::CancelRefresh]);
        let s = s.registration.step(resp(200));
        assert_eq!(
            s.actions.as_slice(),
            [Action::Send {
                cseq: 2,
                expires: 0,
                authorize: false
            }]
        );
        let s = s.registration.step(resp(200));
        assert_eq!(s.actions.as_slice(), [Action::Notify(Notice::Unregistered)]);
        // 423: again with Min-Expires; without one (or not above), failed.
        let (r, _) = Registration::new(60);
        let s = r.step(Event::Response {
            code: StatusCode::new(423).unwrap(),
            expires: None,
            min_expires: Some(120),
            stale: false,
            refused: false,
        });
        assert_eq!(
            s.actions.as_slice(),
            [Action::Send {
                cseq: 2,
                expires: 120,
                authorize: false
            }]
        );
        let s = s.registration.step(resp(423));
        assert_eq!(s.registration.state(), State::Done);
        // Timeout and other failures.
        let (r, _) = Registration::new(60);
        let s = r.step(Event::Timeout);
        assert_eq!(
            s.actions.last(),
            Some(&Action::Notify(Notice::Failed(StatusCode::REQUEST_TIMEOUT)))
        );
        let (r, _) = Registration::new(60);
        assert_eq!(r.step(resp(403)).registration.state(), State::Done);
    }

    #[test]
    fn unregistering_during_a_refresh_that_fails_still_removes_the_binding() {
        let (r, _) = Registration::new(60);
        let s = r.step(resp(200)).registration.step(Event::Refresh);
        let s = s.registration.step(Event::Unregister);
        assert_eq!(s.actions.as_slice(), [Action::CancelRefresh]);
        // The refresh fails, but the binding of the first 2xx may exist: Expires 0.
        let s = s.registration.step(resp(500));
        assert_eq!(
            s.actions.as_slice(),
            [Action::Send {
                cseq: 3,
                expires: 0,
                authorize: false
            }]
        );
        // The same when the refresh gets no answer at all.
        let (r, _) = Registration::new(60);
        let s = r
            .step(resp(200))
            .registration
            .step(Event::Refresh)
            .registration
            .step(Event::Unregister)
            .registration
            .step(Event::Timeout);
        assert_eq!(
            s.actions.as_slice(),
            [Action::Send {
                cseq: 3,
                expires: 0,
                authorize: false
            }]
        );
    }

    #[test]
    fn refused_credentials_are_not_sent_again() {
        // §22.1: a second challenge for the realm whose credentials the REGISTER carried,
        // not stale, ends the registration at once (no second try).
        let (r, _) = Registration::new(600);
        let s = r.step(resp(401));
        assert!(matches!(
            s.actions[0],
            Action::Send {
                authorize: true,
                ..
            }
        ));
        let s = s.registration.step(Event::Response {
            code: StatusCode::UNAUTHORIZED,
            expires: None,
            min_expires: None,
            stale: false,
            refused: true,
        });
        assert!(!s.actions.iter().any(|a| matches!(a, Action::Send { .. })));
        assert!(
            s.actions
                .contains(&Action::Notify(Notice::Failed(StatusCode::UNAUTHORIZED)))
        );
    }

    #[test]
    fn a_refresh_whose_kept_credentials_are_challenged_answers_once() {
        // The refresh is not an answer to a challenge: a challenge of the credentials it
        // carried (an expired nonce) is answered; the answer challenged again is refused.
        let refused = Event::Response {
            code: StatusCode::UNAUTHORIZED,
            expires: None,
            min_expires: None,
            stale: false,
            refused: true,
        };
        let (r, _) = Registration::new(600);
        let s = r.step(ok(600)).registration.step(Event::Refresh);
        assert_eq!(
            s.actions.as_slice(),
            [Action::Send {
                cseq: 2,
                expires: 600,
                authorize: false
            }]
        );
        let s = s.registration.step(refused);
        assert_eq!(
            s.actions.as_slice(),
            [Action::Send {
                cseq: 3,
                expires: 600,
                authorize: true
            }]
        );
        let s = s.registration.step(refused);
        assert_eq!(s.registration.state(), State::Done);
        assert!(
            s.actions
                .contains(&Action::Notify(Notice::Failed(StatusCode::UNAUTHORIZED)))
        );
    }

    fn ok(expires: u32) -> Event {
        Event::Response {
            code: StatusCode::OK,
            expires: Some(expires),
            min_expires: None,
            stale: false,
            refused: false,
        }
    }

    /// RFC 5626 §4.5: min(max, base * 2^n) for the n-th failure in a row.
    #[test]
    fn retry_wait_doubles_up_to_the_maximum() {
        let r = Retry::RFC5626;
        let secs = [1, 2, 3, 4, 5, 6, 7, 8].map(|n| r.wait(n).as_secs());
        assert_eq!(secs, [60, 120, 240, 480, 960, 1800, 1800, 1800]);
        assert_eq!(r.wait(u8::MAX), Duration::from_secs(1800));
        // A zero policy still waits: no REGISTER loop against a registrar failing at once.
        let zero = Retry {
            base: Duration::ZERO,
            max: Duration::ZERO,
        };
        assert_eq!(zero.wait(1), Retry::MIN_WAIT);
    }

    /// With a retry policy, a refresh that times out, then a 503, then a 200: the
    /// registration waits 60 s, then 120 s (CSeq going on), and the 2xx resets the count.
    /// Without one the timeout ends it, as before.
    #[test]
    fn a_failed_refresh_is_tried_again_with_back_off() {
        let (r, _) = Registration::new(600);
        let r = r.with_retry(Retry::RFC5626).step(ok(600)).registration;
        let s = r.step(Event::Refresh);
        assert_eq!(s.registration.state(), State::Refreshing { expires: 600 });
        let s = s.registration.step(Event::Timeout);
        assert_eq!(s.registration.state(), State::Retrying);
        let after = Duration::from_secs(60);
        assert_eq!(
            s.actions.as_slice(),
            [
                Action::StartRefresh(after),
                Action::Notify(Notice::Retrying {
                    status: StatusCode::REQUEST_TIMEOUT,
                    after
                })
            ]
        );
        // Late answers while waiting change nothing.
        assert!(s.registration.step(ok(600)).actions.is_empty());
        assert!(s.registration.step(Event::Timeout).actions.is_empty());
        let s = s.registration.step(Event::Refresh);
        assert_eq!(s.registration.state(), State::Registering);
        assert_eq!(
            s.actions.as_slice(),
            [Action::Send {
                cseq: 3,
                expires: 600,
                authorize: false
            }]
        );
        let s = s.registration.step(resp(503));
        assert_eq!(
            s.actions[1],
            Action::Notify(Notice::Retrying {
                status: StatusCode::SERVICE_UNAVAILABLE,
                after: Duration::from_secs(120)
            })
        );
        let s = s
            .registration
            .step(Event::Refresh)
            .registration
            .step(ok(300));
        assert_eq!(s.registration.state(), State::Registered { expires: 300 });
        let s = s
            .registration
            .step(Event::Refresh)
            .registration
            .step(resp(500));
        assert_eq!(s.actions[0], Action::StartRefresh(Duration::from_secs(60)));

        let (r, _) = Registration::new(600);
        let s = r.step(ok(600)).registration.step(Event::Refresh);
        let s = s.registration.step(Event::Timeout);
        assert_eq!(s.registration.state(), State::Done);
    }

    /// What cannot pass still ends a registration with a retry policy: 403, 404, 501,
    /// 505, a 6xx, credentials refused; the first REGISTER's 408 is retried.
    #[test]
    fn only_failures_that_may_pass_are_retried() {
        for (code, retried) in [
            (403, false),
            (404, false),
            (501, false),
            (505, false),
            (603, false),
            (408, true),
            (480, true),
            (500, true),
            (504, true),
        ] {
            let (r, _) = Registration::new(600);
            let s = r.with_retry(Retry::RFC5626).step(resp(code));
            let state = if retried {
                State::Retrying
            } else {
                State::Done
            };
            assert_eq!(s.registration.state(), state, "{code}");
        }
        // Credentials that answered a challenge, refused: no retry either.
        let (r, _) = Registration::new(600);
        let answered = r.with_retry(Retry::RFC5626).step(resp(401)).registration;
        let s = answered.step(Event::Response {
            code: StatusCode::UNAUTHORIZED,
            expires: None,
            min_expires: None,
            stale: false,
            refused: true,
        });
        assert_eq!(s.registration.state(), State::Done);
    }

    /// Unregistering while waiting: `Expires: 0` if a 2xx made a binding, else done.
    #[test]
    fn unregister_while_retrying() {
        let (r, _) = Registration::new(600);
        let waiting = r
            .with_retry(Retry::RFC5626)
            .step(Event::Timeout)
            .registration;
        let s = waiting.step(Event::Unregister);
        assert_eq!(s.registration.state(), State::Done);
        assert_eq!(
            s.actions.as_slice(),
            [Action::CancelRefresh, Action::Notify(Notice::Unregistered)]
        );
        let (r, _) = Registration::new(600);
        let waiting = r
            .with_retry(Retry::RFC5626)
            .step(ok(600))
            .registration
            .step(Event::Refresh)
            .registration
            .step(resp(503))
            .registration;
        let s = waiting.step(Event::Unregister);
        assert_eq!(s.registration.state(), State::Unregistering);
        assert!(s.actions.contains(&Action::Send {
            cseq: 3,
            expires: 0,
            authorize: false
        }));
        // An unregistration that fails is not retried.
        let s = s.registration.step(resp(503));
        assert_eq!(s.registration.state(), State::Done);
    }
}
