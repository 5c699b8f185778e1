//! Server INVITE transaction (RFC 3261 §17.2.1, Figure 7, as updated by RFC 6026 §8.5-8.7).
//!
//! Proceeding → (TU 2xx) Accepted → (Timer L) Terminated;
//! Proceeding → (TU 300-699) Completed → (ACK) Confirmed → (Timer I) Terminated;
//! Completed → (Timer H) Terminated with a timeout to the TU.
//!
//! The 100 Trying rule (§17.2.1) is a timer: [`ServerInvite::start`] arms
//! [`TimerId::Trying`] ([`TRYING_DELAY`], 200 ms). If it fires before
//! the TU responds the machine emits [`Action::SendTrying`]; any TU response cancels it.
//!
//! An INVITE retransmission that arrives before any provisional response went out is
//! absorbed (there is nothing to resend yet); the Trying timer still runs.
//!
//! Transport errors: in Proceeding and Completed they end the transaction (§17.2.4). In
//! Accepted the TU is told but the machine stays, because the 2xx and its retransmissions
//! belong to the TU (§13.3.1.4) and Timer L must keep absorbing INVITE retransmissions
//! (RFC 6026 §8.7).
//!
//! ```
//! use sansip::message::StatusCode;
//! use sansip::transaction::{server_invite::Event, Action, Config, Reliability, ServerInvite, State, TimerId};
//!
//! let cfg = Config::default();
//! let tx = ServerInvite::start(&cfg, Reliability::Unreliable).state;
//! // The TU rings before 200 ms have passed: no 100 Trying from the transaction.
//! let step = tx.respond(&cfg, StatusCode::RINGING).unwrap();
//! assert_eq!(step.actions.as_slice(), &[Action::CancelTimer(TimerId::Trying), Action::SendResponse]);
//! // The INVITE is retransmitted: resend the 180.
//! let step = step.state.step(&cfg, Event::Request);
//! assert_eq!(step.actions.as_slice(), &[Action::SendResponse]);
//! // A 1xx after a 2xx is refused, not a panic.
//! let tx = step.state.respond(&cfg, StatusCode::OK).unwrap().state;
//! assert_eq!(tx.state(), State::Accepted);
//! assert!(tx.respond(&cfg, StatusCode::RINGING).is_err());
//! ```

#[cfg(doc)]
use super::TRYING_DELAY;
use super::{
    Action, Actions, Config, InvalidState, Machine, Out, Reliability, State, Step, TimerId,
    TimerSet, TuSignal,
};
use crate::message::StatusCode;

/// Network and timer input to a [`ServerInvite`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Event {
    /// A retransmission of the INVITE matched this transaction (§17.2.3).
    Request,
    /// An ACK matched this transaction (§17.2.3: same key as the INVITE).
    Ack,
    /// A timer the machine started has expired.
    Timer(TimerId),
    /// The transport failed to send a response (§17.2.4).
    TransportError,
}

/// A server INVITE transaction. Create it with [`ServerInvite::start`] when a new INVITE
/// arrives (the host passes the INVITE to the TU itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ServerInvite {
    state: State,
    reliability: Reliability,
    armed: TimerSet,
    /// How many times Timer G has fired: its next value is min(T1 * 2^n, T2).
    g_fired: u8,
    /// Whether a provisional response went out, so an INVITE retransmission has one to
    /// resend (§17.2.1).
    provisional_sent: bool,
}

impl ServerInvite {
    /// Enters Proceeding and arms the 100 Trying timer (§17.2.1).
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
        actions: &mut Actions,
    ) -> Self {
        let mut out = Out::new(TimerSet::EMPTY, actions);
        out.start(TimerId::Trying, super::TRYING_DELAY);
        let armed = out.armed();
        ServerInvite {
            state: State::Proceeding,
            reliability,
            armed,
            g_fired: 0,
            provisional_sent: false,
        }
    }

    /// Feeds one network or timer event; see the [module docs](self).
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
            // §17.2.1: the TU did not answer within 200 ms: send 100 Trying.
            (State::Proceeding, Event::Timer(TimerId::Trying)) => {
                out.fired(TimerId::Trying);
                out.push(Action::SendTrying);
                next.provisional_sent = true;
            }
            // §17.2.1: INVITE retransmission in Proceeding: resend the latest provisional.
            (State::Proceeding, Event::Request) if self.provisional_sent => {
                out.push(Action::SendResponse);
            }
            // §17.2.4: transport error in Proceeding or Completed ends the transaction.
            (State::Proceeding | State::Completed, Event::TransportError) => {
                out.tu(TuSignal::TransportError);
                next.state = State::Terminated;
            }
            // §17.2.1: INVITE retransmission in Completed: resend the final response.
            (State::Completed, Event::Request) => out.push(Action::SendResponse),
            // §17.2.1: Timer G: resend the final, restart at min(2G, T2).
            (State::Completed, Event::Timer(TimerId::G)) => {
                out.fired(TimerId::G);
                next.g_fired = self.g_fired.saturating_add(1);
                out.push(Action::SendResponse);
                out.start(TimerId::G, cfg.doubled_capped(next.g_fired));
            }
            // §17.2.1: Timer H: no ACK came; tell the TU.
            (State::Completed, Event::Timer(TimerId::H)) => {
                out.fired(TimerId::H);
                out.tu(TuSignal::Timeout);
                next.state = State::Terminated;
            }
            // §17.2.1: ACK in Completed → Confirmed; G stops, H stops, Timer I starts
            // (T4 unreliable, zero reliable: terminate at once).
            (State::Completed, Event::Ack) => {
                out.cancel(TimerId::G);
                out.cancel(TimerId::H);
                if self.reliability.is_unreliable() {
                    out.start(TimerId::I, cfg.t4);
                    next.state = State::Confirmed;
                } else {
                    next.state = State::Terminated;
                }
            }
            // §17.2.1: Timer I fires in Confirmed (ACK retransmissions were absorbed).
            (State::Confirmed, Event::Timer(TimerId::I)) => {
                out.fired(TimerId::I);
                next.state = State::Terminated;
            }
            // RFC 6026 §8.7: an ACK in Accepted (for the 2xx) goes to the TU.
            (State::Accepted, Event::Ack) => out.tu(TuSignal::Ack),
            // RFC 6026 §8.7: a failed 2xx send is reported; the machine stays Accepted.
            (State::Accepted, Event::TransportError) => out.tu(TuSignal::TransportError),
            // RFC 6026 §8.7: Timer L fires in Accepted.
            (State::Accepted, Event::Timer(TimerId::L)) => {
                out.fired(TimerId::L);
                next.state = State::Terminated;
            }
            // Absorbed: INVITE retransmissions in Accepted (RFC 6026 §8.7) and Confirmed,
            // ACKs in Proceeding and Confirmed, ...
            _ => return self,
        }
        if next.state == State::Terminated {
            out.terminate();
        }
        next.armed = out.armed();
        next
    }

    /// The TU sends `response` through the transaction (§17.2.1). Allowed: any response in
    /// Proceeding, and further 2xx in Accepted (RFC 6026 §8.7). Anything else is refused and
    /// the machine is unchanged.
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
            State::Proceeding => {
                // The TU answered: no 100 Trying from the transaction (§17.2.1).
                out.cancel(TimerId::Trying);
                out.push(Action::SendResponse);
                if response.is_provisional() {
                    // §17.2.1: 1xx from the TU in Proceeding: send it, stay.
                    next.provisional_sent = true;
                } else if response.is_success() {
                    // RFC 6026 §8.5: 2xx from the TU → Accepted, start Timer L.
                    out.start(TimerId::L, cfg.t1_x64());
                    next.state = State::Accepted;
                } else {
                    // §17.2.1: 300-699 from the TU → Completed; Timer G (T1) on
                    // unreliable transports, Timer H (64*T1) always.
                    if self.reliability.is_unreliable() {
                        out.start(TimerId::G, cfg.t1);
                    }
                    out.start(TimerId::H, cfg.t1_x64());
                    next.state = State::Completed;
                }
            }
            // RFC 6026 §8.7: further 2xx from the TU in Accepted are sent.
            State::Accepted if response.is_success() => out.push(Action::SendResponse),
            state => return Err(InvalidState { state, response }),
        }
        next.armed = out.armed();
        Ok(next)
    }
}

machine_common!(ServerInvite);
