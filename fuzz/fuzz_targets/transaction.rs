//! Drives the four transaction machines with arbitrary operation sequences and checks the
//! invariants the host relies on.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sansip::message::StatusCode;
use sansip::transaction::{
    Action, ClientInvite, ClientNonInvite, Config, InvalidState, MAX_ACTIONS, Machine,
    Reliability, ServerInvite, ServerNonInvite, Step, TimerId, client_invite,
    client_non_invite, server_invite, server_non_invite,
};

#[derive(Arbitrary, Debug)]
enum Op {
    ClientInvite(client_invite::Event),
    ClientNonInvite(client_non_invite::Event),
    ServerInvite(server_invite::Event),
    ServerInviteRespond(StatusCode),
    ServerNonInvite(server_non_invite::Event),
    ServerNonInviteRespond(StatusCode),
}

#[derive(Arbitrary, Debug)]
struct Input {
    reliability: Reliability,
    t1_ms: u16,
    t2_ms: u16,
    t4_ms: u16,
    ops: Vec<Op>,
}

/// The host's view of one machine: which timers its actions left armed.
struct Tracked<M> {
    m: M,
    armed: Vec<TimerId>,
    terminated: bool,
}

fn apply<M: Machine>(t: &mut Tracked<M>, step: Step<M>) {
    assert!(step.actions.len() <= MAX_ACTIONS);
    for (i, a) in step.actions.iter().enumerate() {
        assert!(!t.terminated, "action after Terminated: {a:?}");
        match *a {
            Action::StartTimer(id, _) => {
                if !t.armed.contains(&id) {
                    t.armed.push(id);
                }
            }
            Action::CancelTimer(id) => {
                assert!(t.armed.contains(&id), "cancel of unarmed {id:?}");
                t.armed.retain(|x| *x != id);
            }
            Action::Terminated => {
                assert_eq!(i, step.actions.len() - 1, "Terminated not last");
                t.terminated = true;
                t.armed.clear();
            }
            _ => {}
        }
    }
    assert_eq!(step.state.is_terminated(), t.terminated);
    let model: Vec<TimerId> = step.state.armed().iter().collect();
    t.armed.sort();
    assert_eq!(model, t.armed, "armed set diverged");
    t.m = step.state;
}

fn event<M: Machine + PartialEq>(t: &mut Tracked<M>, cfg: &Config, ev: M::Event, timer: Option<TimerId>) {
    let before = t.m;
    let step = t.m.step(cfg, ev);
    if t.terminated {
        assert!(step.actions.is_empty());
        assert!(step.state == before);
    }
    if let Some(id) = timer {
        if !t.armed.contains(&id) {
            assert!(step.actions.is_empty(), "unarmed timer acted");
            assert!(step.state == before);
        } else {
            // The host's timer fired: it is no longer armed unless restarted.
            t.armed.retain(|x| *x != id);
        }
    }
    apply(t, step);
}

fn new<M: Machine>(s: Step<M>) -> Tracked<M> {
    let mut t = Tracked { m: s.state, armed: Vec::new(), terminated: false };
    apply(&mut t, s);
    t
}

fn respond<M: Machine>(t: &mut Tracked<M>, r: Result<Step<M>, InvalidState>) {
    match r {
        Ok(step) => {
            assert!(!t.terminated, "respond accepted after Terminated");
            apply(t, step);
        }
        Err(e) => assert_eq!(e.state, t.m.state()),
    }
}

fuzz_target!(|input: Input| {
    let ms = |v: u16| core::time::Duration::from_millis(u64::from(v.max(1)));
    let cfg = Config {
        t1: ms(input.t1_ms),
        t2: ms(input.t2_ms),
        t4: ms(input.t4_ms),
    };
    let r = input.reliability;
    let mut ci: Tracked<ClientInvite> = new(ClientInvite::start(&cfg, r));
    let mut cn: Tracked<ClientNonInvite> = new(ClientNonInvite::start(&cfg, r));
    let mut si: Tracked<ServerInvite> = new(ServerInvite::start(&cfg, r));
    let mut sn: Tracked<ServerNonInvite> = new(ServerNonInvite::start(&cfg, r));
    for op in input.ops {
        match op {
            Op::ClientInvite(ev) => {
                let t = match ev {
                    client_invite::Event::Timer(id) => Some(id),
                    _ => None,
                };
                event(&mut ci, &cfg, ev, t)
            }
            Op::ClientNonInvite(ev) => {
                let t = match ev {
                    client_non_invite::Event::Timer(id) => Some(id),
                    _ => None,
                };
                event(&mut cn, &cfg, ev, t)
            }
            Op::ServerInvite(ev) => {
                let t = match ev {
                    server_invite::Event::Timer(id) => Some(id),
                    _ => None,
                };
                event(&mut si, &cfg, ev, t)
            }
            Op::ServerNonInvite(ev) => {
                let t = match ev {
                    server_non_invite::Event::Timer(id) => Some(id),
                    _ => None,
                };
                event(&mut sn, &cfg, ev, t)
            }
            Op::ServerInviteRespond(c) => {
                let r = si.m.respond(&cfg, c);
                respond(&mut si, r)
            }
            Op::ServerNonInviteRespond(c) => {
                let r = sn.m.respond(&cfg, c);
                respond(&mut sn, r)
            }
        }
    }
});
