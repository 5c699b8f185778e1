//! Dialog layer cost: creating a dialog from a 200 OK, building an in-dialog request,
//! stepping the INVITE session.

use criterion::{Criterion, criterion_group, criterion_main};
use sansip::dialog::{Config, Dialog, Event, InviteSession, Tag};
use sansip::encode::{MessageBuilder, Value, ViaValue};
use sansip::message::{Message, Method, StatusCode};
use std::hint::black_box;

fn via(branch: &str) -> ViaValue<'_> {
    ViaValue {
        transport: "UDP",
        sent_by: "192.0.2.1:5060",
        branch,
        rport: true,
    }
}

fn messages() -> (Vec<u8>, Vec<u8>) {
    let mut buf = vec![0u8; 2048];
    let n = MessageBuilder::request(Method::Invite, "sip:bob@biloxi.example.com")
        .header("Via", Value::Via(via("z9hG4bK776asdhds")))
        .header("Max-Forwards", Value::Number(70))
        .header(
            "From",
            Value::Tagged(b"\"Alice\" <sip:alice@atlanta.example.com>", "1928301774"),
        )
        .header("To", Value::Text("\"Bob\" <sip:bob@biloxi.example.com>"))
        .header(
            "Call-ID",
            Value::Text("a84b4c76e66710@pc33.atlanta.example.com"),
        )
        .header("CSeq", Value::CSeq(314159, Method::Invite))
        .header(
            "Contact",
            Value::Text("<sip:alice@pc33.atlanta.example.com>"),
        )
        .encode_into(&mut buf)
        .unwrap();
    let invite = buf[..n].to_vec();
    let inv = Message::parse(&invite).unwrap();
    let mut buf = vec![0u8; 2048];
    let n = MessageBuilder::response_to(&inv, StatusCode::OK, "a6c85cf")
        .unwrap()
        .header(
            "Record-Route",
            Value::Text("<sip:ss2.biloxi.example.com;lr>"),
        )
        .header(
            "Record-Route",
            Value::Text("<sip:ss1.atlanta.example.com;lr>"),
        )
        .header("Contact", Value::Text("<sip:bob@192.0.2.4>"))
        .encode_into(&mut buf)
        .unwrap();
    (invite, buf[..n].to_vec())
}

fn dialog(c: &mut Criterion) {
    let (invite, ok) = messages();
    let inv = Message::parse(&invite).unwrap();
    let okm = Message::parse(&ok).unwrap();
    let mut g = c.benchmark_group("dialog");
    g.bench_function("uac-from-200", |b| {
        b.iter(|| Dialog::uac(black_box(&inv), black_box(&okm), false).map(|d| d.local_seq()))
    });
    g.bench_function("parse+uac-from-200", |b| {
        b.iter(|| {
            let okm = Message::parse(black_box(&ok)).ok()?;
            Dialog::uac(&inv, &okm, false).ok().map(|d| d.local_seq())
        })
    });
    let d = Dialog::uac(&inv, &okm, false).unwrap();
    let mut out = [0u8; 1024];
    g.bench_function("build-bye", |b| {
        b.iter(|| {
            let mut d = d.clone();
            let req = d.request(Method::Bye, via("z9hG4bKnashds7"), None).ok()?;
            req.encode_into(black_box(&mut out)).ok()
        })
    });
    let cfg = Config::default();
    let s = InviteSession::uac(314159, true);
    let tag = Tag::new("a6c85cf").unwrap();
    g.bench_function("session-2xx-step", |b| {
        b.iter(|| {
            black_box(s).step(
                &cfg,
                Event::Response {
                    code: StatusCode::OK,
                    to_tag: Some(tag),
                    cseq: 314159,
                    body: true,
                },
            )
        })
    });
    g.finish();
}

criterion_group!(benches, dialog);
criterion_main!(benches);
