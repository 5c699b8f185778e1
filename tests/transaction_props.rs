//! Property tests for the transaction machines: every status code, arbitrary event
//! sequences, timer bookkeeping, the action bound and retransmission counts.

use core::time::Duration;
use std::collections::{BTreeSet, HashSet, VecDeque};

use proptest::prelude::*;
use sansip::message::{StatusClass, StatusCode};
use sansip::transaction::{
    Action, ClientInvite, ClientNonInvite, Config, InvalidState, MAX_ACTIONS, Machine, Reliability,
    ServerInvite, ServerNonInvite, State, Step, TimerId, TuSignal, client_invite as ci,
    client_non_invite as cn, server_invite as si, server_non_invite as sn,
};

fn sc(n: u16) -> StatusCode {
    StatusCode::new(n).unwrap()
}

#[derive(Debug, Clone, Copy)]
enum Op<E> {
    Ev(E),
    Tu(StatusCode),
}

trait Drive: Machine + Eq + std::hash::Hash + core::fmt::Debug {
    fn tu(self, cfg: &Config, code: StatusCode) -> Result<Step<Self>, InvalidState>;
    fn timer(id: TimerId) -> Self::Event;
    fn apply(self, cfg: &Config, op: Op<Self::Event>) -> Result<Step<Self>, InvalidState> {
        match op {
            Op::Ev(e) => Ok(self.step(cfg, e)),
            Op::Tu(c) => self.tu(cfg, c),
        }
    }
}

macro_rules! client_drive {
    ($t:ty, $m:ident) => {
        impl Drive for $t {
            fn tu(self, _: &Config, response: StatusCode) -> Result<Step<Self>, InvalidState> {
                Err(InvalidState {
                    state: self.state(),
                    response,
                })
            }
            fn timer(id: TimerId) -> $m::Event {
                $m::Event::Timer(id)
            }
        }
    };
}
macro_rules! server_drive {
    ($t:ty, $m:ident) => {
        impl Drive for $t {
            fn tu(self, cfg: &Config, code: StatusCode) -> Result<Step<Self>, InvalidState> {
                self.respond(cfg, code)
            }
            fn timer(id: TimerId) -> $m::Event {
                $m::Event::Timer(id)
            }
        }
    };
}
client_drive!(ClientInvite, ci);
client_drive!(ClientNonInvite, cn);
server_drive!(ServerInvite, si);
server_drive!(ServerNonInvite, sn);

// ---------------------------------------------------------------------------------------
// Strategies

fn code() -> impl Strategy<Value = StatusCode> {
    (100u16..=699).prop_map(sc)
}
fn timer() -> impl Strategy<Value = TimerId> {
    prop::sample::select(TimerId::ALL.to_vec())
}
fn reliability() -> impl Strategy<Value = Reliability> {
    prop_oneof![Just(Reliability::Reliable), Just(Reliability::Unreliable)]
}
fn ci_op() -> impl Strategy<Value = Op<ci::Event>> {
    prop_oneof![
        code().prop_map(|c| Op::Ev(ci::Event::Response(c))),
        timer().prop_map(|t| Op::Ev(ci::Event::Timer(t))),
        Just(Op::Ev(ci::Event::TransportError)),
    ]
}
fn cn_op() -> impl Strategy<Value = Op<cn::Event>> {
    prop_oneof![
        code().prop_map(|c| Op::Ev(cn::Event::Response(c))),
        timer().prop_map(|t| Op::Ev(cn::Event::Timer(t))),
        Just(Op::Ev(cn::Event::TransportError)),
    ]
}
fn si_op() -> impl Strategy<Value = Op<si::Event>> {
    prop_oneof![
        Just(Op::Ev(si::Event::Request)),
        Just(Op::Ev(si::Event::Ack)),
        timer().prop_map(|t| Op::Ev(si::Event::Timer(t))),
        Just(Op::Ev(si::Event::TransportError)),
        code().prop_map(Op::Tu),
    ]
}
fn sn_op() -> impl Strategy<Value = Op<sn::Event>> {
    prop_oneof![
        Just(Op::Ev(sn::Event::Request)),
        timer().prop_map(|t| Op::Ev(sn::Event::Timer(t))),
        Just(Op::Ev(sn::Event::TransportError)),
        code().prop_map(Op::Tu),
    ]
}

// ---------------------------------------------------------------------------------------
// Host model: a virtual timer wheel that checks the machine's bookkeeping.

struct Host<M> {
    m: M,
    now: Duration,
    /// (deadline, timer); deadlines tie-break in RFC letter order.
    timers: BTreeSet<(Duration, TimerId)>,
    terminated: bool,
    actions: Vec<Action>,
}

impl<M: Drive> Host<M> {
    fn new(cfg: &Config, r: Reliability) -> Self {
        let mut h = Host {
            m: <M as Machine>::start(cfg, r).state,
            now: Duration::ZERO,
            timers: BTreeSet::new(),
            terminated: false,
            actions: Vec::new(),
        };
        let s = <M as Machine>::start(cfg, r);
        h.absorb(s);
        h
    }

    fn armed_ids(&self) -> Vec<TimerId> {
        let mut v: Vec<TimerId> = self.timers.iter().map(|t| t.1).collect();
        v.sort();
        v
    }

    fn absorb(&mut self, s: Step<M>) {
        assert!(s.actions.len() <= MAX_ACTIONS);
        for (i, a) in s.actions.iter().enumerate() {
            assert!(!self.terminated, "action {a:?} after Terminated");
            match *a {
                Action::StartTimer(id, d) => {
                    self.timers.retain(|t| t.1 != id);
                    self.timers.insert((self.now + d, id));
                }
                Action::CancelTimer(id) => {
                    let before = self.timers.len();
                    self.timers.retain(|t| t.1 != id);
                    assert_eq!(self.timers.len() + 1, before, "cancel of unarmed {id:?}");
                }
                Action::Terminated => {
                    assert_eq!(i + 1, s.actions.len(), "Terminated must be last");
                    self.terminated = true;
                    self.timers.clear();
                }
                _ => {}
            }
            self.actions.push(*a);
        }
        assert_eq!(s.state.is_terminated(), self.terminated);
        // The machine's armed set is exactly what the host holds.
        assert_eq!(s.state.armed().iter().collect::<Vec<_>>(), self.armed_ids());
        self.m = s.state;
    }

    fn op(&mut self, cfg: &Config, op: Op<M::Event>) {
        let before = self.m;
        // A timer event is only delivered if the host holds it: otherwise it is stale and
        // must be absorbed.
        if let Op::Ev(ev) = op {
            let s = self.m.step(cfg, ev);
            if self.terminated {
                assert!(
                    s.actions.is_empty() && s.state == before,
                    "Terminated not absorbing"
                );
            }
            self.absorb(s);
        } else {
            match self.m.apply(cfg, op) {
                Ok(s) => {
                    assert!(!self.terminated, "TU command accepted after Terminated");
                    self.absorb(s)
                }
                Err(e) => {
                    assert_eq!(e.state, before.state());
                }
            }
        }
    }

    fn fire_timer(&mut self, cfg: &Config, id: TimerId) {
        let armed = self.timers.iter().find(|t| t.1 == id).copied();
        let before = self.m;
        let s = self.m.step(cfg, M::timer(id));
        match armed {
            None => {
                assert!(
                    s.actions.is_empty(),
                    "unarmed {id:?} acted: {:?}",
                    s.actions
                );
                assert_eq!(s.state, before);
            }
            Some(t) => {
                self.timers.remove(&t);
                self.now = self.now.max(t.0);
            }
        }
        self.absorb(s);
    }

    /// Fires timers earliest first until none is left; bounded so that a timer loop that
    /// never ends is a failure.
    fn drain(&mut self, cfg: &Config) {
        for _ in 0..10_000 {
            let Some(&(_, id)) = self.timers.iter().next() else {
                return;
            };
            self.fire_timer(cfg, id);
        }
        panic!("timers never drain: {:?}", self.timers);
    }
}

fn run_sequence<M: Drive>(
    r: Reliability,
    ops: Vec<Op<M::Event>>,
    timer_of: impl Fn(&Op<M::Event>) -> Option<TimerId>,
) -> Host<M> {
    let cfg = Config::default();
    let mut h = Host::<M>::new(&cfg, r);
    for op in ops {
        match timer_of(&op) {
            Some(id) => h.fire_timer(&cfg, id),
            None => h.op(&cfg, op),
        }
    }
    // Every started timer is eventually fired or cancelled, or the machine terminates.
    h.drain(&cfg);
    assert!(h.timers.is_empty());
    assert!(h.m.armed().is_empty());
    h
}

fn finals(actions: &[Action]) -> usize {
    actions
        .iter()
        .filter(|a| matches!(a, Action::ToTu(TuSignal::Final(_))))
        .count()
}

proptest! {
    /// §17.1.1.2 + §8.1.3.2 + RFC 6026 §8.4: every code, from Calling and from Proceeding,
    /// lands in the state its effective class demands, with exactly the RFC's actions.
    #[test]
    fn client_invite_every_code(n in 100u16..=699, r in reliability(), proceeding in any::<bool>()) {
        let cfg = Config::default();
        let code = sc(n);
        let mut m = ClientInvite::start(&cfg, r).state;
        let mut expect = Vec::new();
        if proceeding {
            m = m.step(&cfg, ci::Event::Response(sc(183))).state;
            prop_assert_eq!(m.state(), State::Proceeding);
        } else {
            if r == Reliability::Unreliable { expect.push(Action::CancelTimer(TimerId::A)); }
            expect.push(Action::CancelTimer(TimerId::B));
        }
        let s = m.step(&cfg, ci::Event::Response(code));
        let state = match code.effective().class() {
            StatusClass::Provisional => { expect.push(Action::ToTu(TuSignal::Provisional(code))); State::Proceeding }
            StatusClass::Success => {
                expect.push(Action::ToTu(TuSignal::Final(code)));
                expect.push(Action::StartTimer(TimerId::M, Duration::from_secs(32)));
                State::Accepted
            }
            _ => {
                expect.push(Action::SendAck);
                expect.push(Action::ToTu(TuSignal::Final(code)));
                if r == Reliability::Unreliable {
                    expect.push(Action::StartTimer(TimerId::D, Duration::from_secs(32)));
                    State::Completed
                } else {
                    expect.push(Action::Terminated);
                    State::Terminated
                }
            }
        };
        prop_assert_eq!(s.actions.as_slice(), expect.as_slice());
        prop_assert_eq!(s.state.state(), state);
        // The same code again: 2xx passed up again in Accepted, non-2xx re-ACKed only.
        let again = s.state.step(&cfg, ci::Event::Response(code));
        let expect_again: &[Action] = match state {
            State::Accepted => &[Action::ToTu(TuSignal::Final(code))],
            State::Completed => &[Action::SendAck],
            State::Proceeding => &[Action::ToTu(TuSignal::Provisional(code))],
            _ => &[],
        };
        prop_assert_eq!(again.actions.as_slice(), expect_again);
    }

    /// §17.1.2.2: every code from Trying and from Proceeding.
    #[test]
    fn client_non_invite_every_code(n in 100u16..=699, r in reliability(), proceeding in any::<bool>()) {
        let cfg = Config::default();
        let code = sc(n);
        let mut m = ClientNonInvite::start(&cfg, r).state;
        if proceeding { m = m.step(&cfg, cn::Event::Response(sc(100))).state; }
        let s = m.step(&cfg, cn::Event::Response(code));
        let unrel = r == Reliability::Unreliable;
        if code.effective().class() == StatusClass::Provisional {
            prop_assert_eq!(s.actions.as_slice(), &[Action::ToTu(TuSignal::Provisional(code))]);
            prop_assert_eq!(s.state.state(), State::Proceeding);
        } else {
            let mut expect = Vec::new();
            if unrel { expect.push(Action::CancelTimer(TimerId::E)); }
            expect.push(Action::CancelTimer(TimerId::F));
            expect.push(Action::ToTu(TuSignal::Final(code)));
            if unrel {
                expect.push(Action::StartTimer(TimerId::K, Duration::from_secs(5)));
            } else {
                expect.push(Action::Terminated);
            }
            prop_assert_eq!(s.actions.as_slice(), expect.as_slice());
            prop_assert_eq!(s.state.state(), if unrel { State::Completed } else { State::Terminated });
        }
    }

    #[test]
    fn client_invite_sequences(r in reliability(), ops in prop::collection::vec(ci_op(), 0..40)) {
        let h = run_sequence::<ClientInvite>(r, ops, |op| match op { Op::Ev(ci::Event::Timer(t)) => Some(*t), _ => None });
        // Only Proceeding (waiting for a final, no timer per Figure 5) may outlive its timers.
        prop_assert!(matches!(h.m.state(), State::Terminated | State::Proceeding), "{:?}", h.m.state());
    }

    #[test]
    fn client_non_invite_sequences(r in reliability(), ops in prop::collection::vec(cn_op(), 0..40)) {
        let mut fed_final_while_live = false;
        let cfg = Config::default();
        // Replay once by hand to know whether a final was fed while the machine was live.
        let mut m = ClientNonInvite::start(&cfg, r).state;
        for op in &ops {
            if let Op::Ev(ev) = *op {
                if let cn::Event::Response(c) = ev
                    && c.is_final()
                    && matches!(m.state(), State::Trying | State::Proceeding)
                {
                    fed_final_while_live = true;
                }
                // Timers here are fed unconditionally; the host model below delivers them
                // only when armed, which gives the same result because unarmed timers are
                // absorbed.
                m = m.step(&cfg, ev).state;
            }
        }
        let h = run_sequence::<ClientNonInvite>(r, ops, |op| match op { Op::Ev(cn::Event::Timer(t)) => Some(*t), _ => None });
        // Every client non-INVITE transaction ends (F or K), and exactly one final reached
        // the TU if one arrived in time.
        prop_assert_eq!(h.m.state(), State::Terminated);
        prop_assert_eq!(finals(&h.actions), usize::from(fed_final_while_live));
    }

    #[test]
    fn server_invite_sequences(r in reliability(), ops in prop::collection::vec(si_op(), 0..40)) {
        let h = run_sequence::<ServerInvite>(r, ops, |op| match op { Op::Ev(si::Event::Timer(t)) => Some(*t), _ => None });
        prop_assert!(matches!(h.m.state(), State::Terminated | State::Proceeding), "{:?}", h.m.state());
        // At most one 100 Trying from the transaction.
        prop_assert!(h.actions.iter().filter(|a| **a == Action::SendTrying).count() <= 1);
    }

    #[test]
    fn server_non_invite_sequences(r in reliability(), ops in prop::collection::vec(sn_op(), 0..40)) {
        let h = run_sequence::<ServerNonInvite>(r, ops, |op| match op { Op::Ev(sn::Event::Timer(t)) => Some(*t), _ => None });
        prop_assert!(matches!(h.m.state(), State::Terminated | State::Trying | State::Proceeding));
    }

    /// Retransmission counts follow T1/T2 for any timer base: A retransmits exactly 6 times
    /// before B (2^k - 1 <= 64); E and G retransmit at min(T1*2^k, T2) spacing until 64*T1.
    #[test]
    fn retransmission_counts(t1_ms in 1u64..2_000, t2_factor in 1u64..20) {
        let t1 = Duration::from_millis(t1_ms);
        let t2 = Duration::from_millis(t1_ms * t2_factor);
        let cfg = Config { t1, t2, t4: Duration::from_secs(5) };
        let expected_capped = {
            let (mut t, mut iv, mut n) = (Duration::ZERO, t1, 0);
            loop {
                t += iv;
                if t > t1 * 64 { break n; }
                n += 1;
                iv = (iv * 2).min(t2);
            }
        };
        let count = |actions: &[Action], a: Action| actions.iter().filter(|x| **x == a).count();

        let mut h = Host::<ClientInvite>::new(&cfg, Reliability::Unreliable);
        h.drain(&cfg);
        prop_assert_eq!(count(&h.actions, Action::SendRequest), 1 + 6);
        prop_assert_eq!(h.now, t1 * 64);

        let mut h = Host::<ClientNonInvite>::new(&cfg, Reliability::Unreliable);
        h.drain(&cfg);
        prop_assert_eq!(count(&h.actions, Action::SendRequest), 1 + expected_capped);
        prop_assert_eq!(h.now, t1 * 64);

        let mut h = Host::<ServerInvite>::new(&cfg, Reliability::Unreliable);
        let s = h.m.respond(&cfg, sc(486)).unwrap();
        h.absorb(s);
        h.drain(&cfg);
        prop_assert_eq!(count(&h.actions, Action::SendResponse), 1 + expected_capped);

        // Reliable transports never retransmit.
        let mut h = Host::<ClientNonInvite>::new(&cfg, Reliability::Reliable);
        h.drain(&cfg);
        prop_assert_eq!(count(&h.actions, Action::SendRequest), 1);
    }
}

/// Exhaustive exploration: from each start, every reachable machine value under every
/// event kind (all timers, representative codes of each class, TU responses). Proves
/// MAX_ACTIONS is enough (and tight) and that no reachable value panics.
fn explore<M: Drive>(events: &[M::Event]) -> usize {
    let cfg = Config::default();
    let codes: Vec<StatusCode> = [100, 180, 199, 200, 202, 299, 300, 486, 500, 699]
        .map(sc)
        .to_vec();
    let mut max = 0;
    for r in [Reliability::Reliable, Reliability::Unreliable] {
        let start = <M as Machine>::start(&cfg, r);
        max = max.max(start.actions.len());
        let mut seen = HashSet::new();
        let mut queue = VecDeque::from([start.state]);
        while let Some(m) = queue.pop_front() {
            if !seen.insert(m) {
                continue;
            }
            let mut next = |s: Step<M>| {
                assert!(s.actions.len() <= MAX_ACTIONS);
                max = max.max(s.actions.len());
                queue.push_back(s.state);
            };
            for &e in events {
                next(m.step(&cfg, e));
            }
            for t in TimerId::ALL {
                next(m.step(&cfg, M::timer(t)));
            }
            for &c in &codes {
                if let Ok(s) = m.tu(&cfg, c) {
                    next(s);
                }
            }
        }
        assert!(
            seen.len() < 2_000,
            "state space unexpectedly large: {}",
            seen.len()
        );
    }
    max
}

#[test]
fn max_actions_is_enough_and_tight() {
    let codes = [100, 180, 200, 299, 300, 486, 699].map(sc);
    let ci_ev: Vec<_> = codes
        .iter()
        .map(|&c| ci::Event::Response(c))
        .chain([ci::Event::TransportError])
        .collect();
    let cn_ev: Vec<_> = codes
        .iter()
        .map(|&c| cn::Event::Response(c))
        .chain([cn::Event::TransportError])
        .collect();
    let maxima = [
        explore::<ClientInvite>(&ci_ev),
        explore::<ClientNonInvite>(&cn_ev),
        explore::<ServerInvite>(&[
            si::Event::Request,
            si::Event::Ack,
            si::Event::TransportError,
        ]),
        explore::<ServerNonInvite>(&[sn::Event::Request, sn::Event::TransportError]),
    ];
    println!("max actions per machine: {maxima:?}");
    assert_eq!(maxima, [5, 4, 4, 2]);
    assert_eq!(maxima.iter().max(), Some(&MAX_ACTIONS));
}
