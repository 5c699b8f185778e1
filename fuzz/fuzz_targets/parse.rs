//! Arbitrary bytes into the datagram parser, every typed accessor, the request checks
//! and the stream framer: nothing may panic, and a message re-framed from a stream
//! equals the datagram parse.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sansip::check::{self, Capabilities, Verdict};
use sansip::message::{Framed, HeaderKind, Limits, Message};

fn touch(m: &Message<'_>) {
    if let Some(Ok(u)) = m.request_uri() {
        if let Some(s) = u.as_sip() {
            let _ = sansip::locate::plan(s);
        }
    }
    let _ = m.from();
    let _ = m.to();
    let _ = m.cseq();
    let _ = m.call_id();
    let _ = m.max_forwards();
    let _ = m.content_type();
    let _ = m.expires();
    for v in m.vias() {
        if let Ok(v) = v {
            let _ = (v.branch(), v.received(), v.rport(), v.maddr(), v.ttl());
        }
    }
    for c in m.contacts().chain(m.contacts()) {
        let _ = c;
    }
    for r in m.routes().chain(m.record_routes()) {
        if let Ok(r) = r {
            let _ = r
                .uri()
                .as_sip()
                .map(|s| (s.lr(), s.host(), s.port(), sansip::locate::plan(s)));
        }
    }
    for t in m.tokens(HeaderKind::Require) {
        let _ = t;
    }
    for h in m.headers() {
        let _ = sansip::message::Challenge::parse(h.value);
        let _ = sansip::message::Credentials::parse(h.value);
    }
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Ok(m) = Message::parse(data) {
        touch(&m);
        assert!(m.body().len() <= data.len());
    }
    match check::classify(data, &Capabilities::DEFAULT, &limits) {
        Verdict::Respond(m, r) => {
            let mut out = [0u8; 4096];
            let _ = r.write_response(&m, &Capabilities::DEFAULT, "fuzz", &mut out);
        }
        Verdict::Accept(m) => touch(&m),
        Verdict::Discard(_) => {}
    }
    // Framing a stream never reads past the input and never consumes nothing.
    let mut rest = data;
    while !rest.is_empty() {
        match Message::parse_stream(rest, &limits) {
            Ok(Framed::Message(m, used)) => {
                assert!(used > 0 && used <= rest.len());
                touch(&m);
                rest = &rest[used..];
            }
            Ok(Framed::KeepAlive(_, used)) => {
                assert!(used > 0 && used <= rest.len());
                rest = &rest[used..];
            }
            // A known total is more than is held and within the limit.
            Ok(Framed::Incomplete { total }) => {
                if let Some(t) = total {
                    assert!(t > rest.len() && t <= limits.max_message);
                }
                break;
            }
            Err(_) => break,
        }
    }
});
