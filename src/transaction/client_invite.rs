//! Client INVITE transaction (RFC 3261 §17.1.1, Figure 5, as updated by RFC 6026 §8.4).
//!
//! Calling → (1xx) Proceeding → (2xx) Accepted → (Timer M) Terminated;
//! Calling/Proceeding → (300-699) Completed → (Timer D) Terminated.
//!
//! Leaving Calling cancels Timer A and Timer B: Figure 5 has no timeout in Proceeding (a
//! proxy's Timer C, §16.6, is the TU's business), so a transaction in Proceeding waits
//! for a final response, a transport error, or the host dropping it.
//!
//! ```
//! use sansip::message::StatusCode;
//! use sansip::transaction::{client_invite::Event, Action, ClientInvite, Config, Reliability, State, TuSignal};
//!
//! let cfg = Config::default();
//! let tx = ClientInvite::start(&cfg, Reliability::Reliable).state;
//! let step = tx.step(&cfg, Event::Response(StatusCode::BUSY_HERE));
//! // A non-2xx final is ACKed by the transaction itself (§17.1.1.3); over TCP Timer D is zero.
//! assert!(step.actions.contains(&Action::SendAck));
//! assert!(step.actions.contains(&Action::ToTu(TuSignal::Final(StatusCode::BUSY_HERE))));
//! assert_eq!(step.state.state(), State::Terminated);
//! ```

use super::{
    Actions, Config, Machine, Out, Reliability, State, Step, TIMER_D_UNRELIABLE, TimerId, TimerSet,
    TuSignal,
};
use crate::message::StatusCode;

/// Network and timer input to a [`ClientInvite`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Event {
    /// A response matched this transaction (§17.1.3).
    Response(StatusCode),
    /// A timer the machine started has expired.
    Timer(TimerId),
    /// The transport failed to send the INVITE or the ACK (§17.1.4).
    TransportError,
}

/// A client INVITE transaction. Create it with [`ClientInvite::start`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ClientInvite {
    state: State,
    reliability: Reliability,
    armed: TimerSet,
    /// How many times Timer A has fired: its next value is T1 * 2^a_fired.
    a_fired: u8,
}

impl ClientInvite {
    /// Sends the INVITE and enters Calling: Timer A (T1) on unreliable transports, Timer B
    /// (64*T1) always (§17.1.1.2).
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
        out.push(super::Action::SendRequest);
        if reliability.is_unreliable() {
            out.start(TimerId::A, cfg.t1);
        }
        out.start(TimerId::B, cfg.t1_x64());
        let armed = out.armed();
        ClientInvite {
            state: State::Calling,
            reliability,
            armed,
            a_fired: 0,
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
            // A timer that is not armed is stale: absorb it.
            (_, Event::Timer(id)) if !self.armed.contains(id) => return self,
            // §17.1.1.2: Timer A fires in Calling: retransmit, restart A at twice its value.
            (State::Calling, Event::Timer(TimerId::A)) => {
                out.fired(TimerId::A);
                next.a_fired = self.a_fired.saturating_add(1);
                out.push(super::Action::SendRequest);
                out.start(TimerId::A, cfg.doubled(next.a_fired));
            }
            // §17.1.1.2: Timer B fires in Calling: inform the TU of the timeout.
            (State::Calling, Event::Timer(TimerId::B)) => {
                out.fired(TimerId::B);
                out.tu(TuSignal::Timeout);
                next.state = State::Terminated;
            }
            (State::Calling | State::Proceeding, Event::Response(code)) => {
                // Leaving Calling stops retransmissions and the Calling timeout (Figure 5
                // has no Timer B outside Calling).
                out.cancel(TimerId::A);
                out.cancel(TimerId::B);
                if code.is_provisional() {
                    // §17.1.1.2: 1xx → Proceeding, passed to the TU.
                    out.tu(TuSignal::Provisional(code));
                    next.state = State::Proceeding;
                } else if code.is_success() {
                    // RFC 6026 §8.4: 2xx → Accepted, passed to the TU, start Timer M.
                    out.tu(TuSignal::Final(code));
                    out.start(TimerId::M, cfg.t1_x64());
                    next.state = State::Accepted;
                } else {
                    // §17.1.1.2: 300-699 → ACK, pass up, Completed with Timer D
                    // (32 s unreliable, zero reliable: terminate at once).
                    out.push(super::Action::SendAck);
                    out.tu(TuSignal::Final(code));
                    if self.reliability.is_unreliable() {
                        out.start(TimerId::D, TIMER_D_UNRELIABLE);
                        next.state = State::Completed;
                    } else {
                        next.state = State::Terminated;
                    }
                }
            }
            // §17.1.1.2: transport error in Calling or Proceeding: inform the TU.
            // §17.1.1.2: a transport error while sending the ACK in Completed, likewise.
            (State::Calling | State::Proceeding | State::Completed, Event::TransportError) => {
                out.tu(TuSignal::TransportError);
                next.state = State::Terminated;
            }
            // §17.1.1.2: a retransmitted non-2xx final in Completed: resend the ACK, do not
            // pass it up.
            (State::Completed, Event::Response(code)) if code.as_u16() >= 300 => {
                out.push(super::Action::SendAck);
            }
            // §17.1.1.2: Timer D fires in Completed.
            (State::Completed, Event::Timer(TimerId::D)) => {
                out.fired(TimerId::D);
                next.state = State::Terminated;
            }
            // RFC 6026 §8.4: every 2xx in Accepted (retransmissions, other forks) goes to the TU.
            (State::Accepted, Event::Response(code)) if code.is_success() => {
                out.tu(TuSignal::Final(code));
            }
            // RFC 6026 §8.4: Timer M fires in Accepted.
            (State::Accepted, Event::Timer(TimerId::M)) => {
                out.fired(TimerId::M);
                next.state = State::Terminated;
            }
            // Anything else does not apply here (late 1xx, a 2xx in Completed, ...).
            _ => return self,
        }
        if next.state == State::Terminated {
            out.terminate();
        }
        next.armed = out.armed();
        next
    }
}

machine_common!(ClientInvite);
