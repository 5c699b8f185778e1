//! Parse and encode speed: ns per message for typical SIP traffic.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sansip::encode::MessageBuilder;
use sansip::message::{HeaderKind, Message, StatusCode};
use std::hint::black_box;

const INVITE: &[u8] = include_bytes!("../examples/messages/invite.sip");
const BUSY: &[u8] = include_bytes!("../examples/messages/busy.sip");

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    for (name, msg) in [("invite", INVITE), ("486", BUSY)] {
        g.throughput(Throughput::Bytes(msg.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| Message::parse(black_box(msg)).map(|m| m.header_count()))
        });
    }
    g.bench_function("invite+hot-headers", |b| {
        b.iter(|| {
            let m = Message::parse(black_box(INVITE)).ok()?;
            Some((
                m.header(HeaderKind::Via)?.value.len(),
                m.header(HeaderKind::CallId)?.value.len(),
            ))
        })
    });
    g.finish();
}

fn encode(c: &mut Criterion) {
    let invite = Message::parse(INVITE).expect("sample parses");
    let mut buf = [0u8; 1500];
    c.bench_function("encode/response_to_invite", |b| {
        b.iter(|| {
            MessageBuilder::response_to(black_box(&invite), StatusCode::RINGING, "a6c85cf")
                .ok()
                .and_then(|r| r.encode_into(&mut buf).ok())
        })
    });
}

criterion_group!(benches, parse, encode);
criterion_main!(benches);
