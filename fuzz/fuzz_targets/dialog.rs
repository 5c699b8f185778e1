//! Drives the dialog layer with arbitrary operation sequences: an INVITE session fed
//! arbitrary events, and a `Dialog` created from a builder-made response with arbitrary
//! Record-Route / Contact / tags, then used to build and check in-dialog requests.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sansip::dialog::{
    Action, Config, Dialog, DialogError, DialogState, Event, InviteSession, MAX_SESSION_ACTIONS,
    Tag,
};
use sansip::encode::{MessageBuilder, Value, ViaValue};
use sansip::message::{Message, Method, StatusCode};

#[derive(Arbitrary, Debug)]
enum Start {
    Uac {
        cseq: u32,
        offer: bool,
    },
    Uas {
        cseq: u32,
        remote_tag: Tag,
        offer: bool,
    },
}

#[derive(Arbitrary, Debug)]
enum DialogOp {
    Request(u8),
    Ack(u32),
    Incoming {
        method: u8,
        cseq: u32,
        to_tag_matches: bool,
        contact: Option<String>,
    },
    Response {
        method: u8,
        code: StatusCode,
        contact: Option<String>,
    },
    Terminate,
}

#[derive(Arbitrary, Debug)]
struct Input {
    start: Start,
    events: Vec<Event>,
    uas: bool,
    tls: bool,
    ruri: String,
    record_routes: Vec<String>,
    contact: String,
    to_tag: String,
    code: StatusCode,
    ops: Vec<DialogOp>,
}

const METHODS: [Method<'static>; 6] = [
    Method::Invite,
    Method::Bye,
    Method::Info,
    Method::Update,
    Method::Options,
    Method::Ack,
];

fn via(branch: &str) -> ViaValue<'_> {
    ViaValue {
        transport: "UDP",
        sent_by: "192.0.2.1:5060",
        branch,
        rport: false,
    }
}

fn session(input: &Input) {
    let cfg = Config::default();
    let mut s = match input.start {
        Start::Uac { cseq, offer } => InviteSession::uac(cseq, offer),
        Start::Uas {
            cseq,
            remote_tag,
            offer,
        } => InviteSession::uas(cseq, remote_tag, offer),
    };
    let mut ended = None;
    for &e in &input.events {
        let step = s.step(&cfg, e);
        s = step.session;
        assert!(step.actions.len() < MAX_SESSION_ACTIONS);
        if let Event::Response {
            code, to_tag, cseq, ..
        } = e
            && code.is_success()
        {
            let t = to_tag.unwrap_or(Tag::EMPTY);
            assert!(step.actions.iter().any(
                |a| matches!(a, Action::SendAck { remote_tag, cseq: c, .. } if *remote_tag == t && *c == cseq)
            ));
        }
        if let Some(st) = ended {
            assert_eq!(s.state(), st);
        }
        if s.is_terminated() {
            ended = Some(s.state());
            assert!(s.dialogs().all(|(_, st)| st == DialogState::Terminated));
        }
    }
}

fn encode(b: &MessageBuilder<'_>, buf: &mut [u8]) -> Option<usize> {
    b.encode_into(buf).ok()
}

fn dialog(input: &Input) -> Option<()> {
    let mut inv_buf = [0u8; 4096];
    let mut inv = MessageBuilder::request(Method::Invite, &input.ruri)
        .header("Via", Value::Via(via("z9hG4bK1")))
        .header("From", Value::Tagged(b"<sip:alice@example.com>", "a1"))
        .header("To", Value::Text("<sip:bob@example.com>"))
        .header("Call-ID", Value::Text("c1@h"))
        .header("CSeq", Value::CSeq(1, Method::Invite))
        .header("Contact", Value::Text(&input.contact));
    for rr in input.record_routes.iter().take(12) {
        inv.push("Record-Route", Value::Text(rr));
    }
    let n = encode(&inv, &mut inv_buf)?;
    let invite = Message::parse(&inv_buf[..n]).ok()?;
    let mut resp_buf = [0u8; 4096];
    let mut d = if input.uas {
        Dialog::uas(&invite, &input.to_tag, input.tls).ok()?
    } else {
        let mut r = MessageBuilder::response_to(&invite, input.code, &input.to_tag).ok()?;
        for rr in input.record_routes.iter().take(12) {
            r.push("Record-Route", Value::Text(rr));
        }
        r.push("Contact", Value::Text(&input.contact));
        let n = encode(&r, &mut resp_buf)?;
        let resp = Message::parse(&resp_buf[..n]).ok()?;
        Dialog::uac(&invite, &resp, input.tls).ok()?
    };
    let mut buf = [0u8; 4096];
    let mut buf2 = [0u8; 4096];
    for op in &input.ops {
        match op {
            DialogOp::Request(m) => {
                let method = METHODS[usize::from(*m) % METHODS.len()];
                let before = d.local_seq();
                let b = match d.request(method, via("z9hG4bK2"), Some("<sip:me@h>")) {
                    Ok(b) => b,
                    Err(e) => {
                        assert_eq!(e, DialogError::CSeqExhausted);
                        assert_eq!(before, (1 << 31) - 1);
                        continue;
                    }
                };
                let Some(n) = encode(&b, &mut buf) else {
                    continue;
                };
                drop(b);
                let m = Message::parse(&buf[..n]).expect("in-dialog request parses");
                let cseq = m.cseq().expect("cseq");
                if method != Method::Ack {
                    assert_eq!(cseq.seq(), before.wrapping_add(1));
                }
                assert_eq!(
                    m.from().expect("from").tag(),
                    Some(d.id().local_tag()).filter(|t| !t.is_empty())
                );
                assert_eq!(m.call_id().expect("call-id").as_str(), d.id().call_id());
                let ruri = core::str::from_utf8(m.request_uri_raw().expect("ruri")).expect("utf8");
                let first_route = d.route_set().next();
                assert!(ruri == d.remote_target() || Some(ruri) == first_route);
            }
            DialogOp::Ack(seq) => {
                // A CSeq number is below 2^31 (RFC 3261 §8.1.1.5), as the INVITE's was.
                let seq = &(*seq % (1 << 31));
                if let Some(n) = encode(&d.ack(*seq, via("z9hG4bK3")), &mut buf) {
                    let m = Message::parse(&buf[..n]).expect("ACK parses");
                    assert_eq!(m.cseq().expect("cseq").seq(), *seq);
                }
            }
            DialogOp::Incoming {
                method,
                cseq,
                to_tag_matches,
                contact,
            } => {
                let method = METHODS[usize::from(*method) % METHODS.len()];
                let id = d.id().clone();
                let to_tag = if *to_tag_matches {
                    id.local_tag()
                } else {
                    "zz"
                };
                let mut b = MessageBuilder::request(method, "sip:x@h")
                    .header("Via", Value::Via(via("z9hG4bK4")))
                    .header("From", Value::Tagged(b"<sip:p@h>", id.remote_tag()))
                    .header("To", Value::Tagged(b"<sip:q@h>", to_tag))
                    .header("Call-ID", Value::Text(id.call_id()))
                    .header("CSeq", Value::CSeq(*cseq, method));
                if let Some(c) = contact {
                    b.push("Contact", Value::Text(c));
                }
                let Some(n) = encode(&b, &mut buf) else {
                    continue;
                };
                let Ok(m) = Message::parse(&buf[..n]) else {
                    continue;
                };
                let before = d.remote_seq();
                match d.on_request(&m) {
                    Ok(a) => {
                        if a.target_refresh {
                            let _ = d.refresh_target(&m);
                        }
                    }
                    Err(r) => {
                        assert!(matches!(r.status().as_u16(), 400 | 481 | 500));
                        assert_eq!(d.remote_seq(), before);
                    }
                }
            }
            DialogOp::Response {
                method,
                code,
                contact,
            } => {
                let method = METHODS[usize::from(*method) % METHODS.len()];
                let Some(n) = encode(&d.request(method, via("z9hG4bK5"), None).ok()?, &mut buf)
                else {
                    continue;
                };
                let Ok(req) = Message::parse(&buf[..n]) else {
                    continue;
                };
                let Ok(mut r) = MessageBuilder::response_to(&req, *code, "x") else {
                    continue;
                };
                if let Some(c) = contact {
                    r.push("Contact", Value::Text(c));
                }
                let Some(n) = encode(&r, &mut buf2) else {
                    continue;
                };
                let Ok(resp) = Message::parse(&buf2[..n]) else {
                    continue;
                };
                let ok = d.on_response(&resp).is_ok();
                if ok && matches!(code.as_u16(), 408 | 481) {
                    assert_eq!(d.state(), DialogState::Terminated);
                }
            }
            DialogOp::Terminate => d.terminate(),
        }
    }
    Some(())
}

fuzz_target!(|input: Input| {
    session(&input);
    let _ = dialog(&input);
});
