//! SIP transactions (RFC 3261 §17, as updated by RFC 6026): four pure state machines and
//! the keys that route messages to them.
//!
//! | machine | RFC | states |
//! |---|---|---|
//! | [`ClientInvite`] | §17.1.1, RFC 6026 §8.4 | Calling, Proceeding, Completed, Accepted, Terminated |
//! | [`ClientNonInvite`] | §17.1.2 | Trying, Proceeding, Completed, Terminated |
//! | [`ServerInvite`] | §17.2.1, RFC 6026 §8.7 | Proceeding, Completed, Confirmed, Accepted, Terminated |
//! | [`ServerNonInvite`] | §17.2.2 | Trying, Proceeding, Completed, Terminated |
//!
//! Each machine is a small `Copy` value. Network and timer input goes through
//! `step(self, &Config, Event) -> Step<Self>`, which never fails: an event that does not
//! apply to the current state, or a timer that is not armed, returns the same state and no
//! actions, and [`State::Terminated`] absorbs everything. Commands from the transaction
//! user (the server machines' `respond`) can be refused with [`InvalidState`].
//!
//! The machines store no bytes. [`Action::SendRequest`], [`Action::SendResponse`] and
//! [`Action::SendAck`] ask the host to (re)send the request, the most recent response the
//! TU gave, or the ACK built from the request (§17.1.1.3). Timers are relative
//! [`Duration`]s; the host maps them onto its own clock and feeds them back as
//! `Event::Timer(id)` when they expire. On [`Action::Terminated`] (always the last action of
//! its step) the host drops the transaction together with every timer it still holds for it;
//! the machine does not emit a `CancelTimer` for each.
//!
//! Timers D, I, J and K are "zero seconds" on reliable transports (§17.1.1.2, §17.1.2.2,
//! §17.2.1, §17.2.2). Instead of starting a zero-length timer the machines terminate in the
//! same step, which is observably the same and saves a round trip through the host.
//!
//! Matching messages to transactions is in [`key`]; branch generation (§8.1.1.7) is
//! [`generate_branch`].
//!
//! # Example: a host driving one client non-INVITE transaction
//!
//! ```
//! use sansip::message::StatusCode;
//! use sansip::transaction::{
//!     client_non_invite::Event, Action, ClientNonInvite, Config, Reliability, State, TimerId,
//!     TuSignal,
//! };
//!
//! /// The host side: a clock, a tiny timer wheel of (deadline ms, timer), and counters.
//! #[derive(Default)]
//! struct Host { now_ms: u64, timers: Vec<(u64, TimerId)>, sent: usize, finals: Vec<StatusCode> }
//!
//! impl Host {
//!     fn carry_out(&mut self, actions: &[Action]) {
//!         for a in actions {
//!             match *a {
//!                 // Resend the stored OPTIONS bytes.
//!                 Action::SendRequest => self.sent += 1,
//!                 Action::StartTimer(id, d) => {
//!                     self.timers.retain(|t| t.1 != id);
//!                     self.timers.push((self.now_ms + d.as_millis() as u64, id));
//!                 }
//!                 Action::CancelTimer(id) => self.timers.retain(|t| t.1 != id),
//!                 Action::ToTu(TuSignal::Final(code)) => self.finals.push(code),
//!                 Action::Terminated => self.timers.clear(),
//!                 _ => {}
//!             }
//!         }
//!     }
//!     /// The earliest timer due at or before `until`, advancing the clock to it.
//!     fn next_timer(&mut self, until: u64) -> Option<TimerId> {
//!         self.timers.sort();
//!         let &(deadline, id) = self.timers.first().filter(|t| t.0 <= until)?;
//!         self.timers.remove(0);
//!         self.now_ms = deadline;
//!         Some(id)
//!     }
//! }
//!
//! let cfg = Config::default();
//! let mut host = Host::default();
//!
//! // Send an OPTIONS over UDP.
//! let step = ClientNonInvite::start(&cfg, Reliability::Unreliable);
//! host.carry_out(&step.actions);
//! let mut tx = step.state;
//!
//! // Nothing comes back for 2 s: Timer E fires at 0.5 s and 1.5 s.
//! while let Some(id) = host.next_timer(2_000) {
//!     let step = tx.step(&cfg, Event::Timer(id));
//!     host.carry_out(&step.actions);
//!     tx = step.state;
//! }
//! assert_eq!(host.sent, 3); // the original and two retransmissions
//!
//! // The 200 OK arrives at 2 s: passed up once; Timer K (T4 = 5 s) absorbs retransmissions.
//! host.now_ms = 2_000;
//! let step = tx.step(&cfg, Event::Response(StatusCode::OK));
//! host.carry_out(&step.actions);
//! tx = step.state;
//! assert_eq!(tx.state(), State::Completed);
//! assert_eq!(host.timers, [(7_000, TimerId::K)]);
//!
//! // Timer K fires: the transaction is over.
//! let id = host.next_timer(u64::MAX).unwrap();
//! let step = tx.step(&cfg, Event::Timer(id));
//! host.carry_out(&step.actions);
//! assert_eq!(step.state.state(), State::Terminated);
//! assert_eq!(host.finals, [StatusCode::OK]);
//! assert!(host.timers.is_empty());
//! ```

use core::fmt;
use core::time::Duration;

/// The accessors every machine has and its [`Machine`] impl, written once.
macro_rules! machine_common {
    ($m:ident) => {
        impl $m {
            /// The current RFC state.
            pub fn state(&self) -> State {
                self.state
            }

            /// The transport chosen at creation.
            pub fn reliability(&self) -> Reliability {
                self.reliability
            }

            /// The armed timers.
            pub fn armed(&self) -> TimerSet {
                self.armed
            }
        }

        impl Machine for $m {
            type Event = Event;
            fn start(cfg: &Config, reliability: Reliability) -> Step<Self> {
                $m::start(cfg, reliability)
            }
            fn step(self, cfg: &Config, ev: Event) -> Step<Self> {
                $m::step(self, cfg, ev)
            }
            fn state(&self) -> State {
                self.state
            }
            fn armed(&self) -> TimerSet {
                self.armed
            }
        }
    };
}

mod branch;
pub mod client_invite;
pub mod client_non_invite;
pub mod key;
pub mod server_invite;
pub mod server_non_invite;

pub use branch::{BRANCH_LEN, Branch, generate_branch};
pub use client_invite::ClientInvite;
pub use client_non_invite::ClientNonInvite;
pub use key::{ClientKey, KeyError, LegacyKey, MergeKey, MergeVerdict, ServerKey};
pub use server_invite::ServerInvite;
pub use server_non_invite::ServerNonInvite;

use crate::message::StatusCode;

/// The most actions one step can emit. The largest step is a client INVITE leaving Calling
/// on a non-2xx final over UDP: cancel A, cancel B, send ACK, pass the response up, start D.
/// `tests/transaction_props.rs` explores every reachable state to show the bound holds.
pub const MAX_ACTIONS: usize = 5;

/// How long the server INVITE transaction waits for the TU before it sends 100 Trying itself
/// (§17.2.1: "unless it knows that the TU will generate a provisional or final response
/// within 200 ms").
pub const TRYING_DELAY: Duration = Duration::from_millis(200);

/// Timer D on unreliable transports: "at least 32 seconds" (§17.1.1.2).
pub const TIMER_D_UNRELIABLE: Duration = Duration::from_secs(32);

/// The bounded list of actions one step returns.
pub type Actions = heapless::Vec<Action, MAX_ACTIONS, u8>;

/// Timer base values (RFC 3261 §17.1.1.1, §17.1.2.2, Appendix A).
///
/// Pass the same `Config` to every step of a transaction: the machines store only
/// doubling counts and recompute timer values from it. T1 must be non-zero: with T1 = 0
/// every timer is zero and retransmissions would race the timeouts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config {
    /// RTT estimate; default 500 ms.
    pub t1: Duration,
    /// Maximum retransmit interval for non-INVITE requests and INVITE responses; default 4 s.
    pub t2: Duration,
    /// Maximum time a message stays in the network; default 5 s.
    pub t4: Duration,
}

impl Default for Config {
    /// The RFC 3261 defaults: T1 = 500 ms, T2 = 4 s, T4 = 5 s.
    fn default() -> Self {
        Config {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

impl Config {
    /// 64*T1: Timers B, F, H, J (unreliable), L and M.
    pub fn t1_x64(&self) -> Duration {
        self.t1.saturating_mul(64)
    }

    /// T1 doubled `n` times, without a cap (Timer A, §17.1.1.2).
    pub(crate) fn doubled(&self, n: u8) -> Duration {
        // Saturates instead of overflowing: after 32 doublings the value is far beyond B.
        self.t1.saturating_mul(1u32 << n.min(31))
    }

    /// T1 doubled `n` times, capped at T2 (Timers E and G, §17.1.2.2, §17.2.1).
    pub(crate) fn doubled_capped(&self, n: u8) -> Duration {
        self.doubled(n).min(self.t2)
    }
}

/// The transport a transaction runs over, fixed at creation (§17.1.1.2, §17.1.2.2, §17.2.1,
/// §17.2.2). Retransmission timers (A, E, G) run only on unreliable transports; D, I, J and
/// K are zero on reliable ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Reliability {
    /// TCP, TLS, SCTP, WebSocket.
    Reliable,
    /// UDP.
    Unreliable,
}

impl Reliability {
    /// `true` for [`Reliability::Unreliable`].
    pub const fn is_unreliable(self) -> bool {
        matches!(self, Reliability::Unreliable)
    }
}

/// Transaction timers, named as in RFC 3261 Appendix A and RFC 6026 §8.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum TimerId {
    /// INVITE request retransmit (client, Calling, unreliable).
    A,
    /// INVITE transaction timeout (client, Calling).
    B,
    /// Wait for response retransmits (client INVITE, Completed).
    D,
    /// Non-INVITE request retransmit (client, Trying/Proceeding, unreliable).
    E,
    /// Non-INVITE transaction timeout (client).
    F,
    /// INVITE final response retransmit (server, Completed, unreliable).
    G,
    /// Wait for ACK (server INVITE, Completed).
    H,
    /// Absorb ACK retransmits (server INVITE, Confirmed).
    I,
    /// Absorb request retransmits (server non-INVITE, Completed).
    J,
    /// Absorb response retransmits (client non-INVITE, Completed).
    K,
    /// Absorb INVITE retransmits after a 2xx (server INVITE, Accepted; RFC 6026 §8.7).
    L,
    /// Pass 2xx retransmits and forks to the TU (client INVITE, Accepted; RFC 6026 §8.4).
    M,
    /// Not an RFC letter: the 200 ms after which the server INVITE transaction sends
    /// 100 Trying itself (§17.2.1, [`TRYING_DELAY`]).
    Trying,
}

impl TimerId {
    /// Every timer, in RFC order.
    pub const ALL: [TimerId; 13] = [
        TimerId::A,
        TimerId::B,
        TimerId::D,
        TimerId::E,
        TimerId::F,
        TimerId::G,
        TimerId::H,
        TimerId::I,
        TimerId::J,
        TimerId::K,
        TimerId::L,
        TimerId::M,
        TimerId::Trying,
    ];

    const fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of armed timers (one bit per [`TimerId`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TimerSet(u16);

impl TimerSet {
    /// No timer armed.
    pub const EMPTY: TimerSet = TimerSet(0);

    /// Whether `id` is armed.
    pub const fn contains(self, id: TimerId) -> bool {
        self.0 & id.bit() != 0
    }

    /// Whether no timer is armed.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The armed timers, in RFC order.
    pub fn iter(self) -> impl Iterator<Item = TimerId> {
        TimerId::ALL.into_iter().filter(move |t| self.contains(*t))
    }

    const fn with(self, id: TimerId) -> Self {
        TimerSet(self.0 | id.bit())
    }

    const fn without(self, id: TimerId) -> Self {
        TimerSet(self.0 & !id.bit())
    }
}

/// Transaction states, named as in RFC 3261 §17 and RFC 6026. Each machine uses the
/// subset listed in the [module table](self).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum State {
    /// Client INVITE: request sent, nothing received yet.
    Calling,
    /// Non-INVITE: request sent (client) or received (server), no response yet.
    Trying,
    /// A provisional response was received (client) or sent (server).
    Proceeding,
    /// A non-2xx final (INVITE) or any final (non-INVITE) response was received or sent.
    Completed,
    /// INVITE after a 2xx (RFC 6026).
    Accepted,
    /// Server INVITE: the ACK for a non-2xx final arrived.
    Confirmed,
    /// Over; absorbs every event.
    Terminated,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Calling => "Calling",
            State::Trying => "Trying",
            State::Proceeding => "Proceeding",
            State::Completed => "Completed",
            State::Accepted => "Accepted",
            State::Confirmed => "Confirmed",
            State::Terminated => "Terminated",
        })
    }
}

/// What a step passes to the transaction user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TuSignal {
    /// A 1xx response arrived (client machines).
    Provisional(StatusCode),
    /// A final response arrived (client machines). Client INVITE passes every 2xx in
    /// Accepted too (RFC 6026 §8.4); client non-INVITE passes exactly one.
    Final(StatusCode),
    /// An ACK arrived for a 2xx (server INVITE, Accepted; RFC 6026 §8.7).
    Ack,
    /// Timer B, F or H fired: the transaction timed out (§8.1.3.1: treat as 408).
    Timeout,
    /// The transport reported a failure (§17.1.4, §17.2.4: treat as 503).
    TransportError,
}

/// Something the host must do after a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Action {
    /// Send (or resend) the request (client machines).
    SendRequest,
    /// Send the ACK for a non-2xx final response, built from the request per §17.1.1.3
    /// (client INVITE). Resent for each retransmission of that response.
    SendAck,
    /// Send (or resend) the most recent response the TU gave (server machines).
    SendResponse,
    /// Build a 100 Trying from the request (§8.2.6.1) and send it; it becomes the most
    /// recent provisional response (server INVITE, §17.2.1).
    SendTrying,
    /// Start (or restart) a timer that fires after the given delay.
    StartTimer(TimerId, Duration),
    /// Stop a timer that is armed.
    CancelTimer(TimerId),
    /// Tell the transaction user.
    ToTu(TuSignal),
    /// The transaction is over: drop it and every timer it still holds. Always last.
    Terminated,
}

/// The outcome of one step: the new machine value and what the host must do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step<S> {
    /// The machine after the step.
    pub state: S,
    /// Actions to carry out, in order.
    pub actions: Actions,
}

/// A TU command does not fit the transaction's state (for example a 1xx after a final
/// response, or any response once Terminated).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct InvalidState {
    /// The state the machine was in; it is unchanged.
    pub state: State,
    /// The response the TU tried to send.
    pub response: StatusCode,
}

impl fmt::Display for InvalidState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot send a {} response in state {}",
            self.response, self.state
        )
    }
}

impl core::error::Error for InvalidState {}

/// What the four machines have in common, for generic hosts and tests.
pub trait Machine: Copy {
    /// Network and timer input.
    type Event: Copy;
    /// Creates the machine in its initial state, with the actions that go with it.
    fn start(cfg: &Config, reliability: Reliability) -> Step<Self>;
    /// Feed one event. Never fails: events that do not apply are absorbed.
    #[must_use]
    fn step(self, cfg: &Config, ev: Self::Event) -> Step<Self>;
    /// The current RFC state.
    fn state(&self) -> State;
    /// The timers the machine considers armed.
    fn armed(&self) -> TimerSet;
    /// Whether the machine is [`State::Terminated`].
    fn is_terminated(&self) -> bool {
        self.state() == State::Terminated
    }
}

/// Builds one step's actions and keeps the armed-timer set in line with them.
pub(crate) struct Out<'a> {
    armed: TimerSet,
    /// Where the actions go: the caller's, so that a step's actions are written once
    /// rather than moved out through each return (a `Step` is some 130 bytes).
    actions: &'a mut Actions,
}

impl<'a> Out<'a> {
    pub(crate) fn new(armed: TimerSet, actions: &'a mut Actions) -> Self {
        Out { armed, actions }
    }

    pub(crate) fn push(&mut self, a: Action) {
        // MAX_ACTIONS is proven sufficient by exhaustive exploration in the tests; a
        // debug build (tests, fuzzing) flags a regression loudly, a release build drops
        // the extra action rather than panic.
        let pushed = self.actions.push(a).is_ok();
        debug_assert!(pushed, "MAX_ACTIONS too small");
    }

    pub(crate) fn start(&mut self, id: TimerId, d: Duration) {
        self.armed = self.armed.with(id);
        self.push(Action::StartTimer(id, d));
    }

    /// Cancels `id` only if it is armed, so hosts never see a stray cancel.
    pub(crate) fn cancel(&mut self, id: TimerId) {
        if self.armed.contains(id) {
            self.armed = self.armed.without(id);
            self.push(Action::CancelTimer(id));
        }
    }

    pub(crate) fn tu(&mut self, s: TuSignal) {
        self.push(Action::ToTu(s));
    }

    /// Marks `id` as no longer armed because it just fired.
    pub(crate) fn fired(&mut self, id: TimerId) {
        self.armed = self.armed.without(id);
    }

    pub(crate) fn terminate(&mut self) {
        self.armed = TimerSet::EMPTY;
        self.push(Action::Terminated);
    }

    pub(crate) fn armed(&self) -> TimerSet {
        self.armed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timer_values() {
        let cfg = Config::default();
        assert_eq!(cfg.t1_x64(), Duration::from_secs(32));
        assert_eq!(cfg.doubled(0), Duration::from_millis(500));
        assert_eq!(cfg.doubled(6), Duration::from_secs(32));
        assert_eq!(cfg.doubled_capped(2), Duration::from_secs(2));
        assert_eq!(cfg.doubled_capped(3), Duration::from_secs(4));
        assert_eq!(cfg.doubled_capped(200), Duration::from_secs(4));
        // Huge counts and huge bases saturate instead of overflowing.
        assert_eq!(cfg.doubled(255), Duration::from_millis(500) * (1 << 31));
        let big = Config {
            t1: Duration::MAX,
            ..cfg
        };
        assert_eq!(big.t1_x64(), Duration::MAX);
        assert_eq!(big.doubled(40), Duration::MAX);
    }

    #[test]
    fn timer_set() {
        let s = TimerSet::EMPTY.with(TimerId::A).with(TimerId::Trying);
        assert!(s.contains(TimerId::A) && s.contains(TimerId::Trying));
        assert!(!s.contains(TimerId::B));
        assert_eq!(
            s.iter().collect::<heapless::Vec<_, 13>>(),
            [TimerId::A, TimerId::Trying]
        );
        assert!(s.without(TimerId::A).without(TimerId::Trying).is_empty());
    }

    #[test]
    fn invalid_state_display() {
        let e = InvalidState {
            state: State::Completed,
            response: StatusCode::RINGING,
        };
        let mut buf = heapless::String::<64>::new();
        core::fmt::write(&mut buf, format_args!("{e}")).ok();
        assert_eq!(
            buf.as_str(),
            "cannot send a 180 response in state Completed"
        );
    }
}
