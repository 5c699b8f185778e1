//! Client non-INVITE transaction (RFC 3261 §17.1.2, Figure 6).
//!
//! Trying → (1xx) Proceeding → (200-699) Completed → (Timer K) Terminated; Timer F or a
//! transport error in Trying/Proceeding → Terminated. Exactly one final response reaches the
//! TU.
//!
//! ```
//! use core::time::Duration;
//! use sansip::transaction::{client_non_invite::Event, Action, ClientNonInvite, Config, Reliability, TimerId};
//!
//! let cfg = Config::default();
//! let step = ClientNonInvite::start(&cfg, Reliability::Unreliable);
//! assert_eq!(step.actions.as_slice(), &[
//!     Action::SendRequest,
//!     Action::StartTimer(TimerId::E, Duration::from_millis(500)),
//!     Action::StartTimer(TimerId::F, Duration::from_secs(32)),
//! ]);
//! // Timer E doubles: the next retransmission is 1 s later.
//! let step = step.state.step(&cfg, Event::Timer(TimerId::E));
//! assert_eq!(step.actions.as_slice(), &[
//!     Action::SendRequest,
//!     Action::StartTimer(TimerId::E, Duration::from_secs(1)),
//! ]);
//! ```

use super::{
    Action, Actions, Config, Machine, Out, Reliability, State, Step, TimerId, TimerSet, TuSignal,
};
use crate::message::StatusCode;

/// Network and timer input to a [`ClientNonInvite`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Event {
    /// A response matched this transaction (§17.1.3).
    Response(StatusCode),
    /// A timer the machine started has expired.
    Timer(TimerId),
    /// The transport failed to send the request (§17.1.4).
    TransportError,
}

/// A client non-INVITE transaction. Create it with [`ClientNonInvite::start`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ClientNonInvite {
    state: State,
    reliability: Reliability,
    armed: TimerSet,
    /// How many times Timer E has fired in Trying: its next value is min(T1 * 2^n, T2).
    e_fired: u8,
}

impl ClientNonInvite {
    /// Sends the request and enters Trying: Timer E (T1) on unreliable transports, Timer F
    /// (64*T1) always (§17.1.2.2).
    pub fn start(cfg: &Config, reliability: Reliability) -> Step<Self> {
        let mut actions = Actions::new();
        let state = Self::start_into(cfg, reliability, &mut actions);
        Step { state, actions }
    }

    /// [`start`](Self::start) with the actions pushed onto `actions` (empty): the
    /// endpoint's way, which moves no [`Step`].
    pub(crate) fn start_into(
        cfg: &Config,
        reliability: Reliability,
        actions: &mut Actions,
    ) -> Self {
        let mut out = Out::new(TimerSet::EMPTY, actions);
        out.push(Action::SendRequest);
        if reliability.is_unreliable() {
            out.start(TimerId::E, cfg.t1);
        }
        out.start(TimerId::F, cfg.t1_x64());
        let armed = out.armed();
        ClientNonInvite {
            state: State::Trying,
            reliability,
            armed,
            e_fired: 0,
        }
    }

    /// Feeds one event; see the [module docs](self) for the transitions.
    #[must_use]
    pub fn step(self, cfg: &Config, ev: Event) -> Step<Self> {
        let mut actions = Actions::new();
        let state = self.step_into(cfg, ev, &mut actions);
        Step { state, actions }
    }

    /// [`step`](Self::step) with the actions pushed onto `actions` (empty): the
    /// endpoint's way, which moves no [`Step`].
    pub(crate) fn step_into(self, cfg: &Config, ev: Event, actions: &mut Actions) -> Self {
        if self.state == State::Terminated {
            return self;
        }
        let mut out = Out::new(self.armed, actions);
        let mut next = self;
        match (self.state, ev) {
            (_, Event::Timer(id)) if !self.armed.contains(id) => return self,
            // §17.1.2.2: Timer E in Trying: retransmit, restart at min(2E, T2).
            (State::Trying, Event::Timer(TimerId::E)) => {
                out.fired(TimerId::E);
                next.e_fired = self.e_fired.saturating_add(1);
                out.push(Action::SendRequest);
                out.start(TimerId::E, cfg.doubled_capped(next.e_fired));
            }
            // §17.1.2.2: Timer E in Proceeding: retransmit, restart at T2.
            (State::Proceeding, Event::Timer(TimerId::E)) => {
                out.fired(TimerId::E);
                out.push(Action::SendRequest);
                out.start(TimerId::E, cfg.t2);
            }
            // §17.1.2.2: Timer F in Trying or Proceeding: timeout to the TU.
            (State::Trying | State::Proceeding, Event::Timer(TimerId::F)) => {
                out.fired(TimerId::F);
                out.tu(TuSignal::Timeout);
                next.state = State::Terminated;
            }
            // §17.1.2.2: transport error in Trying or Proceeding.
            (State::Trying | State::Proceeding, Event::TransportError) => {
                out.tu(TuSignal::TransportError);
                next.state = State::Terminated;
            }
            // §17.1.2.2: 1xx → Proceeding, passed to the TU (E keeps running).
            (State::Trying | State::Proceeding, Event::Response(code)) if code.is_provisional() => {
                out.tu(TuSignal::Provisional(code));
                next.state = State::Proceeding;
            }
            // §17.1.2.2: 200-699 → Completed, passed to the TU, Timer K (T4 unreliable,
            // zero reliable: terminate at once).
            (State::Trying | State::Proceeding, Event::Response(code)) => {
                out.cancel(TimerId::E);
                out.cancel(TimerId::F);
                out.tu(TuSignal::Final(code));
                if self.reliability.is_unreliable() {
                    out.start(TimerId::K, cfg.t4);
                    next.state = State::Completed;
                } else {
                    next.state = State::Terminated;
                }
            }
            // §17.1.2.2: Timer K fires in Completed. Response retransmissions in Completed
            // fall through to the catch-all and are absorbed.
            (State::Completed, Event::Timer(TimerId::K)) => {
                out.fired(TimerId::K);
                next.state = State::Terminated;
            }
            _ => return self,
        }
        if next.state == State::Terminated {
            out.terminate();
        }
        next.armed = out.armed();
        next
    }
}

machine_common!(ClientNonInvite);
