//! ns per `step` over the transaction events of a typical call over UDP:
//! INVITE (client + server), 100/180/200, BYE (client + server), 200, and the timers that
//! end the transactions.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use sansip::message::StatusCode;
use sansip::transaction::{
    ClientInvite, ClientNonInvite, Config, Reliability, ServerInvite, ServerNonInvite, TimerId,
    client_invite as ci, client_non_invite as cn, server_invite as si, server_non_invite as sn,
};

/// Steps of one call on both sides; returns the number of steps taken (21).
fn call(cfg: &Config) -> usize {
    let r = Reliability::Unreliable;
    let mut n = 0;
    // UAC INVITE: start, A fires once, 100, 180, 200, 200 retransmission, M.
    let mut c = black_box(ClientInvite::start(cfg, r)).state;
    for ev in [
        ci::Event::Timer(TimerId::A),
        ci::Event::Response(StatusCode::TRYING),
        ci::Event::Response(StatusCode::RINGING),
        ci::Event::Response(StatusCode::OK),
        ci::Event::Response(StatusCode::OK),
        ci::Event::Timer(TimerId::M),
    ] {
        c = black_box(c.step(cfg, black_box(ev))).state;
        n += 1;
    }
    // UAS INVITE: start, Trying timer, INVITE retransmission, 180, 200, ACK, L.
    let mut s = black_box(ServerInvite::start(cfg, r)).state;
    s = black_box(s.step(cfg, si::Event::Timer(TimerId::Trying))).state;
    s = black_box(s.step(cfg, si::Event::Request)).state;
    if let Ok(st) = s.respond(cfg, StatusCode::RINGING) {
        s = black_box(st).state;
    }
    if let Ok(st) = s.respond(cfg, StatusCode::OK) {
        s = black_box(st).state;
    }
    s = black_box(s.step(cfg, si::Event::Ack)).state;
    black_box(s.step(cfg, si::Event::Timer(TimerId::L)));
    n += 6;
    // BYE, client side: start, 200, K.
    let b = black_box(ClientNonInvite::start(cfg, r)).state;
    let b = black_box(b.step(cfg, cn::Event::Response(StatusCode::OK))).state;
    black_box(b.step(cfg, cn::Event::Timer(TimerId::K)));
    n += 2;
    // BYE, server side: start, 200, retransmission, J.
    let t = black_box(ServerNonInvite::start(cfg, r)).state;
    if let Ok(st) = t.respond(cfg, StatusCode::OK) {
        let t = black_box(st).state;
        let t = black_box(t.step(cfg, sn::Event::Request)).state;
        black_box(t.step(cfg, sn::Event::Timer(TimerId::J)));
    }
    n += 3;
    // Plus the four `start`s.
    n + 4
}

fn bench(c: &mut Criterion) {
    let cfg = Config::default();
    assert_eq!(call(&cfg), 21);
    c.bench_function("transaction/call_21_steps", |b| {
        b.iter(|| call(black_box(&cfg)))
    });
    let m = ClientNonInvite::start(&cfg, Reliability::Unreliable).state;
    c.bench_function("transaction/single_step_timer_e", |b| {
        b.iter(|| black_box(m).step(&cfg, black_box(cn::Event::Timer(TimerId::E))))
    });
    // Calibration: the harness cost of moving a machine through black_box.
    c.bench_function("transaction/baseline_copy", |b| b.iter(|| black_box(m)));
    c.bench_function("transaction/single_step_absorbed", |b| {
        b.iter(|| black_box(m).step(&cfg, black_box(cn::Event::Timer(TimerId::L))))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
