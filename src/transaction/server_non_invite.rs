//! Server non-INVITE transaction (RFC 3261 §17.2.2, Figure 8).
//!
//! Trying → (TU 1xx) Proceeding → (TU 200-699) Completed → (Timer J) Terminated.
//! Request retransmissions are absorbed in Trying and answered with the latest response
//! afterwards.
//!
//! ```
//! use core::time::Duration;
//! use sansip::message::StatusCode;
//! use sansip::transaction::{server_non_invite::Event, Action, Config, Reliability, ServerNonInvite, State, TimerId};
//!
//! let cfg = Config::default();
//! let tx = ServerNonInvite::start(&cfg, Reliability::Unreliable).state;
//! let step = tx.respond(&cfg, StatusCode::OK).unwrap();
//! assert_eq!(step.actions.as_slice(), &[
//!     Action::SendResponse,
//!     Action::StartTimer(TimerId::J, Duration::from_secs(32)),
//! ]);
//! // A retransmitted request gets the 200 again; the TU cannot answer twice.
//! let tx = step.state;
//! assert_eq!(tx.step(&cfg, Event::Request).actions.as_slice(), &[Action::SendResponse]);
//! assert!(tx.respond(&cfg, StatusCode::OK).is_err());
//! assert_eq!(tx.state(), State::Completed);
//! ```

use super::{
    Action, Actions, Config, InvalidState, Machine, Out, Reliability, State, Step, TimerId,
    TimerSet, TuSignal,
};
use crate::message::StatusCode;

/// Network and timer input to a [`ServerNonInvite`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Event {
    /// A retransmission of the request matched this transaction (§17.2.3).
    Request,
    /// A timer the machine started has expired.
    Timer(TimerId),
    /// The transport failed to send a response (§17.2.4).
    TransportError,
}

/// A server non-INVITE transaction. Create it with [`ServerNonInvite::start`] when a new
/// request arrives (the host passes the request to the TU itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ServerNonInvite {
    state: State,
    reliability: Reliability,
    armed: TimerSet,
}

impl ServerNonInvite {
    /// Enters Trying (§17.2.2). No actions: the host hands the request to the TU.
    pub fn start(_cfg: &Config, reliability: Reliability) -> Step<Self> {
        let mut actions = Actions::new();
        let state = Self::start_into(_cfg, reliability, &mut actions);
        Step { state, actions }
    }

    /// [`start`](Self::start) with the actions pushed onto `actions` (empty): the
    /// endpoint's way, which moves no [`Step`].
    pub(crate) fn start_into(
        _cfg: &Config,
        reliability: Reliability,
        _actions: &mut Actions,
    ) -> Self {
        ServerNonInvite {
            state: State::Trying,
            reliability,
            armed: TimerSet::EMPTY,
        }
    }

    /// Feeds one network or timer event; see the [module docs](self).
    #[must_use]
    pub fn step(self, _cfg: &Config, ev: Event) -> Step<Self> {
        let mut actions = Actions::new();
        let state = self.step_into(_cfg, ev, &mut actions);
        Step { state, actions }
    }

    /// [`step`](Self::step) with the actions pushed onto `actions` (empty): the
    /// endpoint's way, which moves no [`Step`].
    pub(crate) fn step_into(self, _cfg: &Config, ev: Event, actions: &mut Actions) -> Self {
        if self.state == State::Terminated {
            return self;
        }
        let mut out = Out::new(self.armed, actions);
        let mut next = self;
        match (self.state, ev) {
            (_, Event::Timer(id)) if !self.armed.contains(id) => return self,
            // §17.2.2: a retransmission in Proceeding or Completed gets the latest response
            // again (in Trying it is absorbed by the catch-all).
            (State::Proceeding | State::Completed, Event::Request) => {
                out.push(Action::SendResponse);
            }
            // §17.2.2, §17.2.4: transport error after a response was sent.
            (State::Proceeding | State::Completed, Event::TransportError) => {
                out.tu(TuSignal::TransportError);
                next.state = State::Terminated;
            }
            // §17.2.2: Timer J fires in Completed.
            (State::Completed, Event::Timer(TimerId::J)) => {
                out.fired(TimerId::J);
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

    /// The TU sends `response` (§17.2.2): 1xx in Trying or Proceeding → Proceeding;
    /// 200-699 in Trying or Proceeding → Completed with Timer J (64*T1 unreliable, zero
    /// reliable: terminate at once). Anything in Completed or Terminated is refused.
    pub fn respond(self, cfg: &Config, response: StatusCode) -> Result<Step<Self>, InvalidState> {
        let mut actions = Actions::new();
        let state = self.respond_into(cfg, response, &mut actions)?;
        Ok(Step { state, actions })
    }

    /// [`respond`](Self::respond) with the actions pushed onto `actions` (empty): the
    /// endpoint's way, which moves no [`Step`]. On error `actions` is as it was.
    pub(crate) fn respond_into(
        self,
        cfg: &Config,
        response: StatusCode,
        actions: &mut Actions,
    ) -> Result<Self, InvalidState> {
        let mut out = Out::new(self.armed, actions);
        let mut next = self;
        match self.state {
            State::Trying | State::Proceeding => {
                out.push(Action::SendResponse);
                if response.is_provisional() {
                    // §17.2.2: 1xx from the TU → Proceeding.
                    next.state = State::Proceeding;
                } else if self.reliability.is_unreliable() {
                    // §17.2.2: final from the TU → Completed, Timer J = 64*T1.
                    out.start(TimerId::J, cfg.t1_x64());
                    next.state = State::Completed;
                } else {
                    // §17.2.2: Timer J is zero on reliable transports.
                    next.state = State::Terminated;
                    out.terminate();
                }
            }
            state => return Err(InvalidState { state, response }),
        }
        next.armed = out.armed();
        Ok(next)
    }
}

machine_common!(ServerNonInvite);
