//! Whole calls between two in-process endpoints, no sockets: INVITE, 180, 200, ACK,
//! BYE, 200 per call, with the transaction timers that follow run out every few calls.

use std::hint::black_box;
use std::net::SocketAddr;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sansip::Instant;
use sansip::endpoint::{Endpoint, EndpointConfig, Event, Request};
use sansip::message::{Method, StatusCode};
use sansip::time::Duration;

/// 64 transactions, 16 calls, stored messages up to `MSG` bytes.
type Ep<const MSG: usize> = Endpoint<64, 16, MSG>;

struct Pair<const MSG: usize = 1500> {
    a: Box<Ep<MSG>>,
    b: Box<Ep<MSG>>,
    a_addr: SocketAddr,
    b_addr: SocketAddr,
    now: Instant,
    buf: Vec<u8>,
    calls: u64,
}

impl<const MSG: usize> Pair<MSG> {
    fn new() -> Self {
        Self::with_linger(0)
    }

    /// The callee keeps up to `records` finished server transactions as lingering records.
    fn with_linger(records: usize) -> Self {
        let a_addr: SocketAddr = "127.0.0.1:5060".parse().unwrap();
        let b_addr: SocketAddr = "127.0.0.1:5062".parse().unwrap();
        let b_config = EndpointConfig {
            linger_records: records,
            linger_bytes: records * 1024,
            ..EndpointConfig::new(b_addr, 2)
        };
        Pair {
            a: Box::new(Endpoint::new(EndpointConfig::new(a_addr, 1))),
            b: Box::new(Endpoint::new(b_config)),
            a_addr,
            b_addr,
            now: Instant::ZERO,
            buf: vec![0u8; 2048],
            calls: 0,
        }
    }

    /// Move datagrams both ways and let the callee answer at once; returns when quiet.
    fn pump(&mut self) -> usize {
        let mut messages = 0;
        loop {
            let mut moved = false;
            while let Ok(Some(t)) = self.a.poll_transmit(&mut self.buf) {
                let n = t.bytes.len();
                self.b
                    .handle_datagram(self.now, self.a_addr, &self.buf[..n]);
                moved = true;
                messages += 1;
            }
            while let Ok(Some(t)) = self.b.poll_transmit(&mut self.buf) {
                let n = t.bytes.len();
                self.a
                    .handle_datagram(self.now, self.b_addr, &self.buf[..n]);
                moved = true;
                messages += 1;
            }
            while let Some(e) = self.b.poll_event() {
                if let Event::IncomingRequest { tx, call: Some(_) } = e {
                    let _ = self.b.respond(self.now, tx, StatusCode::RINGING, None);
                    let _ = self.b.respond(
                        self.now,
                        tx,
                        StatusCode::OK,
                        Some(("application/sdp", b"v=0\r\n")),
                    );
                }
            }
            while self.a.poll_event().is_some() {}
            if !moved {
                return messages;
            }
        }
    }

    fn call(&mut self) -> usize {
        let req = Request {
            body: Some(("application/sdp", b"v=0\r\n")),
            ..Request::new(
                Method::Invite,
                "sip:bob@127.0.0.1:5062",
                "<sip:alice@127.0.0.1>",
                "<sip:bob@127.0.0.1>",
            )
        };
        let call = self
            .a
            .invite(self.now, self.b_addr, &req)
            .expect("room for a call");
        let mut messages = self.pump();
        self.a.hangup(self.now, call).expect("call is up");
        messages += self.pump();
        self.calls += 1;
        // Every few calls, let 64*T1 pass so the finished transactions' timers expire
        // (their cost is part of a call's cost).
        if self.calls.is_multiple_of(8) {
            self.now = self.now + Duration::from_secs(40);
            self.a.handle_timeout(self.now);
            self.b.handle_timeout(self.now);
            messages += self.pump();
        }
        messages
    }
}

fn calls(c: &mut Criterion) {
    let mut pair: Pair = Pair::new();
    let mut g = c.benchmark_group("endpoint");
    g.throughput(Throughput::Elements(1));
    g.bench_function("call", |b| b.iter(|| black_box(pair.call())));
    assert_eq!((pair.a.call_count(), pair.b.call_count()), (0, 0));
    // The same with the callee's finished transactions kept as lingering records.
    let mut pair: Pair = Pair::with_linger(64);
    g.bench_function("call_lingering_callee", |b| {
        b.iter(|| black_box(pair.call()))
    });
    assert_eq!((pair.a.call_count(), pair.b.call_count()), (0, 0));
    // Room for 8000-byte messages (a stream transport's size): a call costs what it
    // costs with 1500, since slots keep their buffers rather than make new ones.
    let mut pair: Pair<8000> = Pair::new();
    g.bench_function("call_msg_8000", |b| b.iter(|| black_box(pair.call())));
    g.finish();
    assert_eq!((pair.a.call_count(), pair.b.call_count()), (0, 0));
}

fn retransmission(c: &mut Criterion) {
    // A retransmitted INVITE reaching its server transaction: parse, checks, key lookup,
    // absorb (RFC 6026 Accepted) — the cheapest complete trip through handle_datagram.
    let mut pair: Pair = Pair::new();
    let req = Request::new(
        Method::Invite,
        "sip:bob@127.0.0.1:5062",
        "<sip:alice@127.0.0.1>",
        "<sip:bob@127.0.0.1>",
    );
    pair.a.invite(pair.now, pair.b_addr, &req).unwrap();
    let t = pair.a.poll_transmit(&mut pair.buf).unwrap().unwrap();
    let invite = t.bytes.to_vec();
    pair.b.handle_datagram(pair.now, pair.a_addr, &invite);
    while pair.b.poll_event().is_some() {}
    let mut g = c.benchmark_group("endpoint");
    g.throughput(Throughput::Elements(1));
    g.bench_function("handle_datagram/retransmitted_invite", |b| {
        b.iter(|| {
            pair.b
                .handle_datagram(pair.now, pair.a_addr, black_box(&invite));
            while pair.b.poll_transmit(&mut pair.buf).ok().flatten().is_some() {}
        })
    });
    g.finish();
}

criterion_group!(benches, calls, retransmission);
criterion_main!(benches);
