//! Two endpoints in one process over a perfect virtual link: the SIP call story
//! through the public endpoint API.

use std::net::SocketAddr;

use sansip::Instant;
use sansip::dialog::{EndReason, SessionState};
use sansip::endpoint::{CallHandle, Endpoint, EndpointConfig, Event, Request};
use sansip::message::{Message, Method, StatusCode};

type Ep = Endpoint<16, 8, 2048>;

struct Pair {
    a: Box<Ep>,
    b: Box<Ep>,
    now: Instant,
    log: Vec<(u64, char, String)>,
    events_a: Vec<Event>,
    events_b: Vec<Event>,
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

impl Pair {
    fn new() -> Self {
        Self::with(sansip::endpoint::Transport::Udp)
    }

    fn with(transport: sansip::endpoint::Transport) -> Self {
        let config = |a, seed| EndpointConfig {
            transport,
            ..EndpointConfig::new(addr(a), seed)
        };
        Pair {
            a: Box::new(Endpoint::new(config("127.0.0.1:5061", 1))),
            b: Box::new(Endpoint::new(config("127.0.0.1:5062", 2))),
            now: Instant::ZERO,
            log: Vec::new(),
            events_a: Vec::new(),
            events_b: Vec::new(),
        }
    }

    /// Deliver every queued datagram (both ways) until both sides are quiet.
    fn flush(&mut self) {
        let mut buf = vec![0u8; 65_535];
        loop {
            let mut moved = false;
            while let Some(t) = self.a.poll_transmit(&mut buf).unwrap() {
                assert_eq!(t.destination, addr("127.0.0.1:5062"));
                let bytes = t.bytes.to_vec();
                self.log
                    .push((self.now.as_millis(), '>', first_line(&bytes)));
                self.b
                    .handle_datagram(self.now, addr("127.0.0.1:5061"), &bytes);
                moved = true;
            }
            while let Some(t) = self.b.poll_transmit(&mut buf).unwrap() {
                assert_eq!(t.destination, addr("127.0.0.1:5061"));
                let bytes = t.bytes.to_vec();
                self.log
                    .push((self.now.as_millis(), '<', first_line(&bytes)));
                self.a
                    .handle_datagram(self.now, addr("127.0.0.1:5062"), &bytes);
                moved = true;
            }
            while let Some(e) = self.a.poll_event() {
                self.events_a.push(e);
            }
            while let Some(e) = self.b.poll_event() {
                self.events_b.push(e);
            }
            if !moved {
                break;
            }
        }
    }

    /// Jump to the next timer of either side and fire it.
    fn advance(&mut self) -> bool {
        let next = [self.a.poll_timeout(), self.b.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        let Some(t) = next else { return false };
        self.now = self.now.max(t);
        self.a.handle_timeout(self.now);
        self.b.handle_timeout(self.now);
        self.flush();
        true
    }

    fn run_until_idle(&mut self, limit_ms: u64) {
        while self.now.as_millis() < limit_ms && self.advance() {}
    }
}

/// Every transaction and call is gone from both endpoints.
fn assert_all_empty(p: &Pair) {
    let counts = (
        p.a.transaction_count(),
        p.b.transaction_count(),
        p.a.call_count(),
        p.b.call_count(),
    );
    assert_eq!(counts, (0, 0, 0, 0), "transactions a, b; calls a, b");
}

fn first_line(bytes: &[u8]) -> String {
    let m = Message::parse(bytes).unwrap();
    match (m.method(), m.status()) {
        (Some(method), _) => method.to_string(),
        (_, Some(code)) => format!("{code} {}", m.cseq().unwrap().method()),
        _ => unreachable!(),
    }
}

fn incoming(events: &[Event]) -> Vec<sansip::endpoint::TxHandle> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::IncomingRequest { tx, .. } => Some(*tx),
            _ => None,
        })
        .collect()
}

/// A call placed by `a` and answered 200 by `b`: the caller's call and the callee's
/// INVITE transaction.
fn answered_call(p: &mut Pair) -> (CallHandle, sansip::endpoint::TxHandle) {
    let call = place_call(p);
    let tx = incoming(&p.events_b)[0];
    p.b.respond(
        p.now,
        tx,
        StatusCode::OK,
        Some(("application/sdp", b"v=0\r\n")),
    )
    .unwrap();
    p.flush();
    (call, tx)
}

fn place_call(p: &mut Pair) -> CallHandle {
    let req = Request {
        body: Some(("application/sdp", b"v=0\r\n")),
        ..Request::new(
            Method::Invite,
            "sip:bob@127.0.0.1:5062",
            "<sip:alice@127.0.0.1>",
            "<sip:bob@127.0.0.1>",
        )
    };
    let call = p.a.invite(p.now, addr("127.0.0.1:5062"), &req).unwrap();
    p.flush();
    call
}

#[test]
fn a_call_from_invite_to_bye() {
    let mut p = Pair::new();
    let call = place_call(&mut p);
    let txs = incoming(&p.events_b);
    assert_eq!(txs.len(), 1);
    let invite_tx = txs[0];
    assert_eq!(
        p.b.request(invite_tx).unwrap().method(),
        Some(Method::Invite)
    );
    p.b.respond(p.now, invite_tx, StatusCode::RINGING, None)
        .unwrap();
    p.flush();
    p.b.respond(
        p.now,
        invite_tx,
        StatusCode::OK,
        Some(("application/sdp", b"v=0\r\n")),
    )
    .unwrap();
    p.flush();
    assert!(p.events_a.contains(&Event::CallEstablished { call }));
    assert!(
        p.events_b
            .iter()
            .any(|e| matches!(e, Event::CallEstablished { .. }))
    );
    assert_eq!(p.a.call_state(call), Some(SessionState::Confirmed));
    // Talk for a while: the 200 ms Trying timer and other timers run out quietly.
    p.run_until_idle(5_000);
    p.a.hangup(p.now, call).unwrap();
    p.flush();
    assert!(p.events_a.contains(&Event::CallTerminated {
        call,
        reason: EndReason::LocalBye
    }));
    assert!(p.events_b.iter().any(|e| matches!(
        e,
        Event::CallTerminated {
            reason: EndReason::RemoteBye,
            ..
        }
    )));
    let ladder: Vec<&str> = p.log.iter().map(|(_, _, l)| l.as_str()).collect();
    assert_eq!(
        ladder,
        [
            "INVITE",
            "180 INVITE",
            "200 INVITE",
            "ACK",
            "BYE",
            "200 BYE"
        ],
        "{:?}",
        p.log
    );
    // Everything is cleaned up once the transactions' timers run out.
    p.run_until_idle(120_000);
    assert_eq!((p.a.transaction_count(), p.b.transaction_count()), (0, 0));
    assert_eq!((p.a.call_count(), p.b.call_count()), (0, 0));
}

#[test]
fn busy_callee() {
    let mut p = Pair::new();
    let call = place_call(&mut p);
    let tx = incoming(&p.events_b)[0];
    p.b.respond(p.now, tx, StatusCode::BUSY_HERE, None).unwrap();
    p.flush();
    assert!(p.events_a.contains(&Event::CallTerminated {
        call,
        reason: EndReason::Rejected(StatusCode::BUSY_HERE)
    }));
    let ladder: Vec<&str> = p.log.iter().map(|(_, _, l)| l.as_str()).collect();
    assert_eq!(ladder, ["INVITE", "486 INVITE", "ACK"]);
    p.run_until_idle(120_000);
    assert_all_empty(&p);
}

#[test]
fn cancel_while_ringing() {
    let mut p = Pair::new();
    let call = place_call(&mut p);
    let tx = incoming(&p.events_b)[0];
    p.b.respond(p.now, tx, StatusCode::RINGING, None).unwrap();
    p.flush();
    p.a.cancel(p.now, call).unwrap();
    p.flush();
    let ladder: Vec<&str> = p.log.iter().map(|(_, _, l)| l.as_str()).collect();
    assert_eq!(
        ladder,
        [
            "INVITE",
            "180 INVITE",
            "CANCEL",
            "200 CANCEL",
            "487 INVITE",
            "ACK"
        ],
        "{:?}",
        p.log
    );
    assert!(p.events_a.contains(&Event::CallTerminated {
        call,
        reason: EndReason::Cancelled
    }));
    p.run_until_idle(120_000);
    assert_all_empty(&p);
}

#[test]
fn options_and_stray_requests() {
    let mut p = Pair::new();
    let req = Request::new(
        Method::Options,
        "sip:bob@127.0.0.1:5062",
        "<sip:alice@127.0.0.1>",
        "<sip:bob@127.0.0.1>",
    );
    let tx =
        p.a.send_request(p.now, addr("127.0.0.1:5062"), &req)
            .unwrap();
    p.flush();
    let server_tx = incoming(&p.events_b)[0];
    p.b.respond(p.now, server_tx, StatusCode::OK, None).unwrap();
    p.flush();
    assert!(p.events_a.contains(&Event::Response {
        tx,
        call: None,
        status: StatusCode::OK
    }));
    // A BYE for no dialog gets 481 (§12.2.2).
    let bye = b"BYE sip:bob@127.0.0.1:5062 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKx1;rport\r\n\
From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: nope\r\nCSeq: 5 BYE\r\nContent-Length: 0\r\n\r\n";
    p.b.handle_datagram(p.now, addr("127.0.0.1:5061"), bye);
    let mut buf = [0u8; 2048];
    let t = p.b.poll_transmit(&mut buf).unwrap().unwrap();
    let resp = Message::parse(t.bytes).unwrap();
    assert_eq!(
        resp.status(),
        Some(StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST)
    );
    // §18.2.1 / RFC 3581: rport filled in.
    assert_eq!(
        resp.top_via().unwrap().rport(),
        sansip::message::Rport::Port(5061)
    );
}

#[test]
fn reinvite_refreshes_the_remote_target() {
    use sansip::encode::ViaValue;
    let mut p = Pair::new();
    let (call, _) = answered_call(&mut p);
    let b_call = p
        .events_b
        .iter()
        .find_map(|e| match e {
            Event::CallEstablished { call } => Some(*call),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        p.b.call_dialog(b_call).unwrap().remote_target(),
        "sip:sansip@127.0.0.1:5061"
    );
    // The caller moves: a re-INVITE from its dialog with a new Contact (§12.2.1.1, §14.1).
    let mut d = p.a.call_dialog(call).unwrap().clone();
    let via = ViaValue {
        transport: "UDP",
        sent_by: "127.0.0.1:5061",
        branch: "z9hG4bKreinv1",
        rport: false,
    };
    let mut buf = [0u8; 2048];
    let n = d
        .request(Method::Invite, via, Some("<sip:alice@127.0.0.9:5070>"))
        .unwrap()
        .encode_into(&mut buf)
        .unwrap();
    p.events_b.clear();
    p.b.handle_datagram(p.now, addr("127.0.0.1:5061"), &buf[..n]);
    while let Some(e) = p.b.poll_event() {
        p.events_b.push(e);
    }
    let re_tx = incoming(&p.events_b)[0];
    assert_eq!(
        p.events_b[0],
        Event::IncomingRequest {
            tx: re_tx,
            call: Some(b_call)
        }
    );
    p.b.respond(
        p.now,
        re_tx,
        StatusCode::OK,
        Some(("application/sdp", b"v=0\r\n")),
    )
    .unwrap();
    assert_eq!(
        p.b.call_dialog(b_call).unwrap().remote_target(),
        "sip:alice@127.0.0.9:5070"
    );
    // The 2xx goes out; an out-of-order request on the dialog gets 500 (§12.2.2).
    let t = p.b.poll_transmit(&mut buf).unwrap().unwrap();
    assert_eq!(
        Message::parse(t.bytes).unwrap().status(),
        Some(StatusCode::OK)
    );
    let mut stale = p.a.call_dialog(call).unwrap().clone();
    let via = ViaValue {
        transport: "UDP",
        sent_by: "127.0.0.1:5061",
        branch: "z9hG4bKold1",
        rport: false,
    };
    let n = stale
        .request(Method::Info, via, None)
        .unwrap()
        .encode_into(&mut buf)
        .unwrap();
    p.b.handle_datagram(p.now, addr("127.0.0.1:5061"), &buf[..n]);
    let t = p.b.poll_transmit(&mut buf).unwrap().unwrap();
    assert_eq!(
        Message::parse(t.bytes).unwrap().status(),
        Some(StatusCode::SERVER_INTERNAL_ERROR)
    );
}

#[test]
fn transport_errors_end_transactions_and_calls() {
    let mut p = Pair::new();
    let req = Request::new(
        Method::Options,
        "sip:bob@127.0.0.1:5062",
        "<sip:alice@127.0.0.1>",
        "<sip:bob@127.0.0.1>",
    );
    let tx =
        p.a.send_request(p.now, addr("127.0.0.1:5062"), &req)
            .unwrap();
    let invite = Request::new(
        Method::Invite,
        "sip:bob@127.0.0.1:5062",
        "<sip:alice@127.0.0.1>",
        "<sip:bob@127.0.0.1>",
    );
    let call = p.a.invite(p.now, addr("127.0.0.1:5062"), &invite).unwrap();
    // Nothing reaches the peer: the host's socket reports an error for that address.
    let mut buf = [0u8; 2048];
    while p.a.poll_transmit(&mut buf).unwrap().is_some() {}
    p.a.handle_send_error(p.now, addr("127.0.0.1:5062"));
    let events: Vec<Event> = std::iter::from_fn(|| p.a.poll_event()).collect();
    assert!(events.contains(&Event::TransportError { tx }), "{events:?}");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::CallTerminated { call: c, .. } if *c == call)),
        "{events:?}"
    );
    assert_eq!((p.a.transaction_count(), p.a.call_count()), (0, 0));
    // Another address is not affected.
    p.a.send_request(p.now, addr("127.0.0.1:5062"), &req)
        .unwrap();
    p.a.handle_send_error(p.now, addr("127.0.0.1:9"));
    assert_eq!(p.a.transaction_count(), 1);
}

#[test]
fn timers_wait_for_room_in_the_transmit_queue() {
    // 40 OPTIONS to a silent peer: their Timer E fire together at 500 ms. With a queue
    // of 8, `handle_timeout` stops early, says the rest is still due, and nothing is lost.
    let mut ep: Box<Endpoint<64, 4, 1024, 8>> = Box::new(Endpoint::new(EndpointConfig::new(
        addr("127.0.0.1:5061"),
        3,
    )));
    let req = Request::new(
        Method::Options,
        "sip:x@127.0.0.1:5062",
        "<sip:a@127.0.0.1>",
        "<sip:x@127.0.0.1>",
    );
    let mut buf = [0u8; 2048];
    let mut sent = 0;
    for _ in 0..40 {
        ep.send_request(Instant::ZERO, addr("127.0.0.1:5062"), &req)
            .unwrap();
        while ep.poll_transmit(&mut buf).unwrap().is_some() {
            sent += 1;
        }
    }
    assert_eq!(sent, 40);
    let t = Instant::from_millis(500);
    assert_eq!(ep.poll_timeout(), Some(t));
    let mut rounds = 0;
    while ep.poll_timeout().is_some_and(|d| d <= t) {
        ep.handle_timeout(t);
        rounds += 1;
        while ep.poll_transmit(&mut buf).unwrap().is_some() {
            sent += 1;
        }
        assert!(rounds < 100);
    }
    assert!(
        rounds > 1,
        "one round cannot hold 40 retransmissions in a queue of 8"
    );
    assert_eq!(sent, 80);
    assert_eq!(ep.stats().queue_overflows, 0);
    assert_eq!(ep.poll_timeout(), Some(Instant::from_millis(1_500)));
}

#[test]
fn review_regressions() {
    let mut p = Pair::new();
    let mut buf = [0u8; 4096];
    // ACK and CANCEL are not requests a host starts (the endpoint sends them).
    let ack = Request::new(
        Method::Ack,
        "sip:bob@127.0.0.1:5062",
        "<sip:a@127.0.0.1>",
        "<sip:b@127.0.0.1>",
    );
    assert_eq!(
        p.a.send_request(p.now, addr("127.0.0.1:5062"), &ack),
        Err(sansip::endpoint::SendError::InvalidState)
    );
    let fake = Request::new(
        Method::Extension("INVITE"),
        "sip:bob@127.0.0.1:5062",
        "<sip:a@127.0.0.1>",
        "<sip:b@127.0.0.1>",
    );
    assert!(
        p.a.send_request(p.now, addr("127.0.0.1:5062"), &fake)
            .is_err()
    );
    // An ACK that fits no key is dropped, never answered (§17).
    let long_branch = "x".repeat(100);
    let stray_ack = format!(
        "ACK sip:b@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK{long_branch}\r\n\
From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 ACK\r\n\r\n"
    );
    p.b.handle_datagram(p.now, addr("127.0.0.1:5061"), stray_ack.as_bytes());
    assert_eq!(p.b.poll_transmit(&mut buf).unwrap(), None);
    // One To tag for every response of a transaction (§8.2.6.2); received added with
    // rport even when it equals the sent-by (RFC 3581 §4).
    let req = Request::new(
        Method::Options,
        "sip:bob@127.0.0.1:5062",
        "<sip:a@127.0.0.1>",
        "<sip:b@127.0.0.1>",
    );
    p.a.send_request(p.now, addr("127.0.0.1:5062"), &req)
        .unwrap();
    let t = p.a.poll_transmit(&mut buf).unwrap().unwrap();
    let options = t.bytes.to_vec();
    p.b.handle_datagram(p.now, addr("127.0.0.1:5061"), &options);
    let tx = std::iter::from_fn(|| p.b.poll_event())
        .find_map(|e| match e {
            Event::IncomingRequest { tx, .. } => Some(tx),
            _ => None,
        })
        .unwrap();
    p.b.respond(p.now, tx, StatusCode::new(183).unwrap(), None)
        .unwrap();
    p.b.respond(p.now, tx, StatusCode::OK, None).unwrap();
    let mut tags = Vec::new();
    while let Some(t) = p.b.poll_transmit(&mut buf).unwrap() {
        let m = Message::parse(t.bytes).unwrap();
        tags.push(m.to().unwrap().tag().unwrap().to_string());
        assert_eq!(
            m.top_via().unwrap().received().map(|h| h.to_string()),
            Some("127.0.0.1".into())
        );
    }
    assert_eq!(tags.len(), 2);
    assert_eq!(tags[0], tags[1]);
}

#[test]
fn a_bad_2xx_from_another_fork_leaves_the_call_alone() {
    let mut p = Pair::new();
    let (call, tx) = answered_call(&mut p);
    assert_eq!(p.a.call_state(call), Some(SessionState::Confirmed));
    // A 200 from another fork, without Contact: no dialog can be built for it. The
    // endpoint must not ACK or BYE the call's own dialog instead.
    let mut buf = [0u8; 4096];
    let invite_bytes = p.b.request(tx).unwrap().as_bytes().to_vec();
    let invite = Message::parse(&invite_bytes).unwrap();
    let n = sansip::encode::MessageBuilder::response_to(&invite, StatusCode::OK, "otherfork")
        .unwrap()
        .encode_into(&mut buf)
        .unwrap();
    let stray = buf[..n].to_vec();
    p.a.handle_datagram(p.now, addr("127.0.0.1:5062"), &stray);
    while let Some(t) = p.a.poll_transmit(&mut buf).unwrap() {
        let m = Message::parse(t.bytes).unwrap();
        assert_ne!(
            m.to().unwrap().tag(),
            p.a.call_dialog(call).map(|d| d.id().remote_tag()),
            "{:?}",
            m.method()
        );
    }
    assert_eq!(p.a.call_state(call), Some(SessionState::Confirmed));
}

#[test]
fn the_host_reads_a_challenge_from_the_response() {
    use sansip::encode::{MessageBuilder, Value};
    let mut p = Pair::new();
    let req = Request::new(
        Method::Register,
        "sip:127.0.0.1:5062",
        "<sip:a@127.0.0.1>",
        "<sip:a@127.0.0.1>",
    );
    let tx =
        p.a.send_request(p.now, addr("127.0.0.1:5062"), &req)
            .unwrap();
    let mut buf = [0u8; 4096];
    let sent = p.a.poll_transmit(&mut buf).unwrap().unwrap().bytes.to_vec();
    let register = Message::parse(&sent).unwrap();
    let n = MessageBuilder::response_to(&register, StatusCode::UNAUTHORIZED, "srv1")
        .unwrap()
        .header(
            "WWW-Authenticate",
            Value::Text("Digest realm=\"example.com\", nonce=\"abc123\", qop=\"auth\""),
        )
        .encode_into(&mut buf)
        .unwrap();
    let challenge = buf[..n].to_vec();
    p.a.handle_datagram(p.now, addr("127.0.0.1:5062"), &challenge);
    assert_eq!(
        p.a.poll_event(),
        Some(Event::Response {
            tx,
            call: None,
            status: StatusCode::UNAUTHORIZED
        })
    );
    let resp = p.a.response(tx).unwrap();
    let h = resp
        .header(sansip::message::HeaderKind::WwwAuthenticate)
        .unwrap();
    let c = sansip::message::Challenge::parse(h.value).unwrap();
    assert_eq!(
        (c.realm(), c.nonce()),
        (Some("example.com"), Some("abc123"))
    );
    // Gone once the transaction is (Timer K).
    p.run_until_idle(10_000);
    assert!(p.a.response(tx).is_none());
}

#[test]
fn requests_within_a_call_and_responses_with_headers() {
    let mut p = Pair::new();
    let (call, _) = answered_call(&mut p);
    p.events_b.clear();
    // INFO in the dialog (§12.2.1.1): it reaches the callee's call. (The body type must
    // be one the callee accepts, or it answers 415.)
    let info =
        p.a.request_in_call(
            p.now,
            call,
            Method::Info,
            &[("Info-Package", "dtmf")],
            Some(("multipart/mixed", b"Signal=5")),
        )
        .unwrap();
    p.flush();
    let (tx, b_call) = p
        .events_b
        .iter()
        .find_map(|e| match e {
            Event::IncomingRequest { tx, call } => Some((*tx, *call)),
            _ => None,
        })
        .unwrap();
    assert!(b_call.is_some());
    let req = p.b.request(tx).unwrap();
    assert_eq!(req.method(), Some(Method::Info));
    assert_eq!(req.header_named("Info-Package").unwrap().value, b"dtmf");
    assert_eq!(req.body(), b"Signal=5");
    p.b.respond_with(p.now, tx, StatusCode::OK, &[("X-Handled", "yes")], None)
        .unwrap();
    p.flush();
    assert!(p.events_a.contains(&Event::Response {
        tx: info,
        call: Some(call),
        status: StatusCode::OK
    }));
    assert_eq!(
        p.a.response(info)
            .unwrap()
            .header_named("X-Handled")
            .unwrap()
            .value,
        b"yes"
    );
    // BYE, INVITE, ACK, CANCEL are not for this command.
    assert!(
        p.a.request_in_call(p.now, call, Method::Bye, &[], None)
            .is_err()
    );
    // A 481 to an in-dialog request ends the call, with no BYE (§12.2.1.2).
    p.events_b.clear();
    p.log.clear();
    p.a.request_in_call(p.now, call, Method::Info, &[], None)
        .unwrap();
    p.flush();
    let tx = incoming(&p.events_b)[0];
    p.b.respond(
        p.now,
        tx,
        StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST,
        None,
    )
    .unwrap();
    p.flush();
    assert!(p.events_a.contains(&Event::CallTerminated {
        call,
        reason: EndReason::DialogGone(StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST)
    }));
    let ladder: Vec<&str> = p.log.iter().map(|(_, _, l)| l.as_str()).collect();
    assert_eq!(ladder, ["INFO", "481 INFO"]);
}

#[test]
fn a_call_over_tcp_uses_reliable_timers() {
    use sansip::endpoint::Transport;
    let mut p = Pair::with(Transport::Tcp);
    let call = place_call(&mut p);
    let tx = incoming(&p.events_b)[0];
    let invite = p.b.request(tx).unwrap();
    assert_eq!(
        invite.top_via().unwrap().transport(),
        sansip::message::Transport::Tcp
    );
    let contact = invite.contacts().next().unwrap().unwrap();
    let sansip::message::ContactValue::Addr(c) = contact else {
        panic!()
    };
    assert_eq!(c.uri().as_sip().unwrap().transport(), Some("tcp"));
    p.b.respond(
        p.now,
        tx,
        StatusCode::OK,
        Some(("application/sdp", b"v=0\r\n")),
    )
    .unwrap();
    p.flush();
    assert!(p.events_a.contains(&Event::CallEstablished { call }));
    p.a.hangup(p.now, call).unwrap();
    p.flush();
    // No retransmission timers on a reliable transport; the INVITE transactions' Timer L
    // and M still run 64*T1, the BYE's J and K are zero (RFC 3261 §17, RFC 6026).
    p.run_until_idle(40_000);
    let ladder: Vec<&str> = p.log.iter().map(|(_, _, l)| l.as_str()).collect();
    assert_eq!(ladder, ["INVITE", "200 INVITE", "ACK", "BYE", "200 BYE"]);
    assert_eq!((p.a.transaction_count(), p.b.transaction_count()), (0, 0));
    assert_eq!((p.a.call_count(), p.b.call_count()), (0, 0));
}

/// RFC 2543 peers (no magic cookie in the branch): the ACK for a non-2xx and a CANCEL
/// still find their INVITE transaction (RFC 3261 §17.2.3, §9.2).
#[test]
fn rfc2543_ack_and_cancel_find_the_invite() {
    let mut p = Pair::new();
    let mut buf = [0u8; 4096];
    let invite = |cid: &str| {
        format!(
            "INVITE sip:busy@127.0.0.1:5062 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5061\r\n\
From: <sip:old@127.0.0.1>;tag=2543\r\nTo: <sip:busy@127.0.0.1>\r\nCall-ID: {cid}\r\nCSeq: 1 INVITE\r\n\
Contact: <sip:old@127.0.0.1:5061>\r\nContent-Length: 0\r\n\r\n"
        )
    };
    p.b.handle_datagram(p.now, addr("127.0.0.1:5061"), invite("legacy-1").as_bytes());
    let tx = std::iter::from_fn(|| p.b.poll_event())
        .find_map(|e| match e {
            Event::IncomingRequest { tx, .. } => Some(tx),
            _ => None,
        })
        .unwrap();
    p.b.respond(p.now, tx, StatusCode::BUSY_HERE, None).unwrap();
    let t = p.b.poll_transmit(&mut buf).unwrap().unwrap();
    let to = Message::parse(t.bytes)
        .unwrap()
        .header(sansip::message::HeaderKind::To)
        .unwrap()
        .value
        .to_vec();
    let ack = format!(
        "ACK sip:busy@127.0.0.1:5062 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5061\r\n\
From: <sip:old@127.0.0.1>;tag=2543\r\nTo: {}\r\nCall-ID: legacy-1\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
        String::from_utf8(to).unwrap()
    );
    p.b.handle_datagram(p.now, addr("127.0.0.1:5061"), ack.as_bytes());
    // Confirmed: Timer G no longer resends the 486.
    p.b.handle_timeout(Instant::from_millis(600));
    assert_eq!(p.b.poll_transmit(&mut buf).unwrap(), None);
    // A CANCEL for a ringing legacy INVITE: 200 for the CANCEL, 487 for the INVITE.
    p.b.handle_datagram(p.now, addr("127.0.0.1:5061"), invite("legacy-2").as_bytes());
    let tx = std::iter::from_fn(|| p.b.poll_event())
        .find_map(|e| match e {
            Event::IncomingRequest { tx, .. } => Some(tx),
            _ => None,
        })
        .unwrap();
    p.b.respond(p.now, tx, StatusCode::RINGING, None).unwrap();
    while p.b.poll_transmit(&mut buf).unwrap().is_some() {}
    let cancel = invite("legacy-2")
        .replace("INVITE sip:", "CANCEL sip:")
        .replace("CSeq: 1 INVITE", "CSeq: 1 CANCEL");
    p.b.handle_datagram(p.now, addr("127.0.0.1:5061"), cancel.as_bytes());
    let mut got = Vec::new();
    while let Some(t) = p.b.poll_transmit(&mut buf).unwrap() {
        let m = Message::parse(t.bytes).unwrap();
        got.push(format!(
            "{} {}",
            m.status().unwrap(),
            m.cseq().unwrap().method()
        ));
    }
    assert_eq!(got, ["200 CANCEL", "487 INVITE"]);
}

#[test]
fn a_2xx_after_the_call_ended_is_acked_and_byed() {
    use sansip::encode::{MessageBuilder, Value};
    let mut p = Pair::new();
    let (call, tx) = answered_call(&mut p);
    p.a.hangup(p.now, call).unwrap();
    p.flush();
    assert_eq!(p.a.call_count(), 0);
    // Another fork answers late (the INVITE transaction is still in Accepted, Timer M).
    let invite_bytes = p.b.request(tx).unwrap().as_bytes().to_vec();
    let invite = Message::parse(&invite_bytes).unwrap();
    let mut buf = [0u8; 4096];
    let n = MessageBuilder::response_to(&invite, StatusCode::OK, "latefork")
        .unwrap()
        .header("Contact", Value::Text("<sip:fork2@127.0.0.1:5062>"))
        .encode_into(&mut buf)
        .unwrap();
    let late = buf[..n].to_vec();
    p.a.handle_datagram(p.now, addr("127.0.0.1:5062"), &late);
    let mut sent = Vec::new();
    while let Some(t) = p.a.poll_transmit(&mut buf).unwrap() {
        let m = Message::parse(t.bytes).unwrap();
        sent.push((
            m.method().unwrap().to_string(),
            m.to().unwrap().tag().unwrap().to_string(),
        ));
    }
    assert_eq!(
        sent,
        [
            ("ACK".to_string(), "latefork".to_string()),
            ("BYE".to_string(), "latefork".to_string())
        ]
    );
}

#[test]
fn cancel_of_a_reinvite_gets_200_and_487() {
    use sansip::encode::{MessageBuilder, ViaValue};
    let mut p = Pair::new();
    let (call, _) = answered_call(&mut p);
    // The caller sends a re-INVITE, then cancels it before it is answered.
    let mut d = p.a.call_dialog(call).unwrap().clone();
    let via = ViaValue {
        transport: "UDP",
        sent_by: "127.0.0.1:5061",
        branch: "z9hG4bKre2",
        rport: false,
    };
    let mut buf = [0u8; 4096];
    let n = d
        .request(Method::Invite, via, Some("<sip:alice@127.0.0.1:5061>"))
        .unwrap()
        .encode_into(&mut buf)
        .unwrap();
    let reinvite = buf[..n].to_vec();
    p.events_b.clear();
    p.b.handle_datagram(p.now, addr("127.0.0.1:5061"), &reinvite);
    while let Some(e) = p.b.poll_event() {
        p.events_b.push(e);
    }
    assert_eq!(incoming(&p.events_b).len(), 1, "{:?}", p.events_b);
    while p.b.poll_transmit(&mut buf).unwrap().is_some() {}
    let re = Message::parse(&reinvite).unwrap();
    let n = MessageBuilder::cancel_for(&re)
        .unwrap()
        .encode_into(&mut buf)
        .unwrap();
    let cancel = buf[..n].to_vec();
    p.b.handle_datagram(p.now, addr("127.0.0.1:5061"), &cancel);
    let mut got = Vec::new();
    while let Some(t) = p.b.poll_transmit(&mut buf).unwrap() {
        let m = Message::parse(t.bytes).unwrap();
        got.push(format!(
            "{} {}",
            m.status().unwrap(),
            m.cseq().unwrap().method()
        ));
    }
    assert_eq!(got, ["200 CANCEL", "487 INVITE"]);
    // The call itself is untouched.
    let b_call = p
        .events_b
        .iter()
        .find_map(|e| match e {
            Event::IncomingRequest { call, .. } => *call,
            _ => None,
        })
        .unwrap();
    assert_eq!(p.b.call_state(b_call), Some(SessionState::Confirmed));
}

/// The callee's handle of the call `answered_call` set up.
fn callee_call(p: &Pair) -> CallHandle {
    p.events_b
        .iter()
        .find_map(|e| match e {
            Event::CallEstablished { call } => Some(*call),
            _ => None,
        })
        .unwrap()
}

fn responses(events: &[Event]) -> Vec<(sansip::endpoint::TxHandle, StatusCode)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Response { tx, status, .. } => Some((*tx, *status)),
            _ => None,
        })
        .collect()
}

#[test]
fn reinvite_through_the_endpoint_api() {
    const HOLD: &[u8] = b"v=0\r\na=sendonly\r\n";
    let mut p = Pair::new();
    // Not before the call is up.
    let early = place_call(&mut p);
    assert_eq!(
        p.a.reinvite(p.now, early, &[], ("application/sdp", HOLD)),
        Err(sansip::endpoint::SendError::InvalidState)
    );
    p.a.hangup(p.now, early).unwrap();
    p.flush();
    p.run_until_idle(100_000);
    assert_all_empty(&p);
    p.events_a.clear();
    p.events_b.clear();

    let (call, _) = answered_call(&mut p);
    let b_call = callee_call(&p);
    // The caller puts the call on hold (RFC 3261 §14.1, offer in the re-INVITE).
    p.events_a.clear();
    p.log.clear();
    let tx =
        p.a.reinvite(
            p.now,
            call,
            &[("Subject", "hold")],
            ("application/sdp", HOLD),
        )
        .unwrap();
    // One re-INVITE at a time.
    assert_eq!(
        p.a.reinvite(p.now, call, &[], ("application/sdp", HOLD)),
        Err(sansip::endpoint::SendError::InvalidState)
    );
    p.flush();
    let re_tx = *incoming(&p.events_b).last().unwrap();
    {
        let req = p.b.request(re_tx).unwrap();
        assert_eq!(req.method(), Some(Method::Invite));
        assert_eq!(req.cseq().unwrap().seq(), 2);
        assert_eq!(req.body(), HOLD);
        assert!(req.to().unwrap().tag().is_some(), "in the dialog");
        assert_eq!(
            req.header(sansip::message::HeaderKind::Contact)
                .unwrap()
                .value,
            b"<sip:sansip@127.0.0.1:5061>"
        );
        assert_eq!(
            req.header(sansip::message::HeaderKind::Subject)
                .unwrap()
                .value,
            b"hold"
        );
    }
    // The callee cannot start its own while it holds the caller's.
    assert_eq!(
        p.b.reinvite(p.now, b_call, &[], ("application/sdp", HOLD)),
        Err(sansip::endpoint::SendError::InvalidState)
    );
    p.b.respond(
        p.now,
        re_tx,
        StatusCode::OK,
        Some(("application/sdp", b"v=0\r\na=recvonly\r\n")),
    )
    .unwrap();
    p.flush();
    assert_eq!(responses(&p.events_a), [(tx, StatusCode::OK)]);
    let ladder: Vec<_> = p.log.iter().map(|(_, d, l)| format!("{d}{l}")).collect();
    assert_eq!(ladder, [">INVITE", "<200 INVITE", ">ACK"]);
    assert_eq!(p.a.call_state(call), Some(SessionState::Confirmed));
    assert_eq!(p.b.call_state(b_call), Some(SessionState::Confirmed));

    // The callee's re-INVITE, refused with 488: the call stays as it was (§14.1).
    p.events_a.clear();
    p.events_b.clear();
    let b_tx =
        p.b.reinvite(p.now, b_call, &[], ("application/sdp", HOLD))
            .unwrap();
    p.flush();
    let a_re = *incoming(&p.events_a).last().unwrap();
    assert_eq!(
        p.a.request(a_re).unwrap().cseq().unwrap().seq(),
        1,
        "the callee's own CSeq space"
    );
    p.a.respond(p.now, a_re, StatusCode::NOT_ACCEPTABLE_HERE, None)
        .unwrap();
    p.flush();
    assert_eq!(
        responses(&p.events_b),
        [(b_tx, StatusCode::NOT_ACCEPTABLE_HERE)]
    );
    assert_eq!(p.a.call_state(call), Some(SessionState::Confirmed));
    assert_eq!(p.b.call_state(b_call), Some(SessionState::Confirmed));

    // Glare: both send one at once; each answers the other 491 and retries after the
    // §14.1 back-off, the callee (not the Call-ID's owner) within 2 s, the caller after
    // 2.1 to 4 s.
    p.events_a.clear();
    p.events_b.clear();
    let start = p.now.as_millis();
    let a_tx =
        p.a.reinvite(p.now, call, &[], ("application/sdp", HOLD))
            .unwrap();
    let b_tx =
        p.b.reinvite(p.now, b_call, &[], ("application/sdp", HOLD))
            .unwrap();
    p.flush();
    assert_eq!(
        responses(&p.events_a),
        [(a_tx, StatusCode::REQUEST_PENDING)]
    );
    assert_eq!(
        responses(&p.events_b),
        [(b_tx, StatusCode::REQUEST_PENDING)]
    );
    let mut retry = [None, None];
    while retry.iter().any(Option::is_none) && p.advance() {
        for (i, events) in [&p.events_a, &p.events_b].into_iter().enumerate() {
            if retry[i].is_none()
                && events
                    .iter()
                    .any(|e| matches!(e, Event::RetryReInvite { .. }))
            {
                retry[i] = Some(p.now.as_millis() - start);
            }
        }
    }
    let [Some(a_wait), Some(b_wait)] = retry else {
        panic!("no retry: {retry:?}")
    };
    assert!((2100..=4000).contains(&a_wait), "caller waited {a_wait} ms");
    assert!(b_wait <= 2000, "callee waited {b_wait} ms");
    // The retry goes through.
    p.events_a.clear();
    let a_tx =
        p.a.reinvite(p.now, call, &[], ("application/sdp", HOLD))
            .unwrap();
    p.flush();
    let b_re = *incoming(&p.events_b).last().unwrap();
    p.b.respond(p.now, b_re, StatusCode::OK, Some(("application/sdp", HOLD)))
        .unwrap();
    p.flush();
    assert_eq!(responses(&p.events_a), [(a_tx, StatusCode::OK)]);

    p.a.hangup(p.now, call).unwrap();
    p.flush();
    p.run_until_idle(200_000);
    assert_all_empty(&p);
}

#[test]
fn a_reinvite_without_answer_ends_the_call() {
    let mut p = Pair::new();
    let (call, _) = answered_call(&mut p);
    p.events_a.clear();
    let tx =
        p.a.reinvite(p.now, call, &[], ("application/sdp", b"v=0\r\n"))
            .unwrap();
    // Every datagram of the caller is lost: Timer B fires after 64*T1 (§17.1.1.2).
    let mut buf = vec![0u8; 4096];
    loop {
        while p.a.poll_transmit(&mut buf).unwrap().is_some() {}
        while let Some(e) = p.a.poll_event() {
            p.events_a.push(e);
        }
        let Some(t) = p.a.poll_timeout() else { break };
        if p.events_a
            .iter()
            .any(|e| matches!(e, Event::CallTerminated { .. }))
        {
            break;
        }
        p.now = p.now.max(t);
        p.a.handle_timeout(p.now);
    }
    assert_eq!(p.now.as_millis(), 32_000);
    assert!(p.events_a.contains(&Event::TimedOut { tx }));
    assert!(p.events_a.contains(&Event::CallTerminated {
        call,
        reason: EndReason::DialogGone(StatusCode::REQUEST_TIMEOUT)
    }));
    assert_eq!(p.a.call_count(), 0);
}

#[test]
fn a_reinvite_before_the_ack_gets_500_with_retry_after() {
    let mut p = Pair::new();
    let call = place_call(&mut p);
    let tx = incoming(&p.events_b)[0];
    p.b.respond(
        p.now,
        tx,
        StatusCode::OK,
        Some(("application/sdp", b"v=0\r\n")),
    )
    .unwrap();
    let mut buf = vec![0u8; 4096];
    // The 200 reaches the caller; its ACK is lost.
    while let Some(t) = p.b.poll_transmit(&mut buf).unwrap() {
        let bytes = t.bytes.to_vec();
        p.a.handle_datagram(p.now, addr("127.0.0.1:5062"), &bytes);
    }
    while p.a.poll_transmit(&mut buf).unwrap().is_some() {}
    while let Some(e) = p.a.poll_event() {
        p.events_a.push(e);
    }
    assert!(p.events_a.contains(&Event::CallEstablished { call }));
    p.events_a.clear();
    let re =
        p.a.reinvite(p.now, call, &[], ("application/sdp", b"v=0\r\n"))
            .unwrap();
    p.flush();
    // §14.2: the callee still waits for the ACK of its 200.
    assert_eq!(
        responses(&p.events_a),
        [(re, StatusCode::SERVER_INTERNAL_ERROR)]
    );
    let resp = p.a.response(re).unwrap();
    let secs: u32 = std::str::from_utf8(
        resp.header(sansip::message::HeaderKind::RetryAfter)
            .expect("Retry-After")
            .value,
    )
    .unwrap()
    .parse()
    .unwrap();
    assert!(secs <= 10, "Retry-After: {secs}");
    assert_eq!(p.a.call_state(call), Some(SessionState::Confirmed));
    // Once the 200's retransmission is ACKed, the next one goes through.
    p.run_until_idle(2_000);
    p.events_a.clear();
    let re =
        p.a.reinvite(p.now, call, &[], ("application/sdp", b"v=0\r\n"))
            .unwrap();
    p.flush();
    let b_re = *incoming(&p.events_b).last().unwrap();
    p.b.respond(
        p.now,
        b_re,
        StatusCode::OK,
        Some(("application/sdp", b"v=0\r\n")),
    )
    .unwrap();
    p.flush();
    assert_eq!(responses(&p.events_a), [(re, StatusCode::OK)]);
}

#[test]
fn a_reinvite_left_without_final_response_by_the_end_of_its_call_is_dropped() {
    let mut p = Pair::new();
    let (call, _) = answered_call(&mut p);
    p.events_a.clear();
    let tx =
        p.a.reinvite(p.now, call, &[], ("application/sdp", b"v=0\r\n"))
            .unwrap();
    p.flush();
    // The callee rings on the re-INVITE, then accepts it, but that 200 is lost.
    let b_re = *incoming(&p.events_b).last().unwrap();
    p.b.respond(p.now, b_re, StatusCode::RINGING, None).unwrap();
    p.flush();
    p.b.respond(
        p.now,
        b_re,
        StatusCode::OK,
        Some(("application/sdp", b"v=0\r\n")),
    )
    .unwrap();
    let mut buf = vec![0u8; 4096];
    while p.b.poll_transmit(&mut buf).unwrap().is_some() {}
    // The caller hangs up before any 2xx retransmission: the callee's session ends, so
    // nothing will ever answer the re-INVITE (its client transaction has no timer in
    // Proceeding, RFC 3261 §17.1.1.2).
    p.a.hangup(p.now, call).unwrap();
    p.flush();
    let hung_up = p.now.as_millis();
    assert!(p.a.response(tx).is_some(), "the transaction is still there");
    p.run_until_idle(300_000);
    let dropped = p.events_a.contains(&Event::TimedOut { tx });
    assert!(dropped, "{:?}", p.events_a);
    assert!(p.a.response(tx).is_none());
    assert!(p.now.as_millis() >= hung_up + 32_000);
    assert_all_empty(&p);
}

/// A re-INVITE without an offer (RFC 3261 §14.1, RFC 3264 §4): the callee offers in its
/// 2xx, the caller's answer travels in the ACK, and the callee reports it.
#[test]
fn reinvite_without_offer_the_answer_travels_in_the_ack() {
    const OFFER: &[u8] = b"v=0\r\no=callee 2 2 IN IP4 127.0.0.1\r\n";
    const ANSWER: &[u8] = b"v=0\r\no=caller 2 2 IN IP4 127.0.0.1\r\n";
    let mut p = Pair::new();
    let (call, _) = answered_call(&mut p);
    let b_call = callee_call(&p);
    p.events_a.clear();
    p.events_b.clear();
    let re = p.a.reinvite_without_offer(p.now, call, &[]).unwrap();
    p.flush();
    let tx = incoming(&p.events_b)[0];
    let req = p.b.request(tx).unwrap();
    assert_eq!(req.method(), Some(Method::Invite));
    assert!(req.body().is_empty(), "no offer");
    p.log.clear();
    p.b.respond(p.now, tx, StatusCode::OK, Some(("application/sdp", OFFER)))
        .unwrap();
    p.flush();
    assert!(
        p.events_a.contains(&Event::AnswerNeeded { call }),
        "{:?}",
        p.events_a
    );
    assert!(responses(&p.events_a).contains(&(re, StatusCode::OK)));
    let ladder: Vec<_> = p.log.iter().map(|(_, d, l)| format!("{d}{l}")).collect();
    assert_eq!(ladder, ["<200 INVITE"], "the ACK waits for the answer");
    assert_eq!(
        p.a.call_answer(call).unwrap().body(),
        OFFER,
        "the offer to answer"
    );
    p.a.ack_with_answer(call, ("application/sdp", ANSWER))
        .unwrap();
    p.flush();
    assert!(
        p.events_b.contains(&Event::AnswerReceived { call: b_call }),
        "{:?}",
        p.events_b
    );
    let ack = p.b.call_answer(b_call).unwrap();
    assert_eq!(ack.method(), Some(Method::Ack));
    assert_eq!(
        ack.cseq().unwrap().seq(),
        p.b.request(tx).unwrap().cseq().unwrap().seq()
    );
    assert_eq!(ack.body(), ANSWER);
    assert_eq!(p.a.call_state(call), Some(SessionState::Confirmed));
    assert_eq!(p.b.call_state(b_call), Some(SessionState::Confirmed));
    // The call goes on: another re-INVITE may go, and the hang-up ends both sides.
    p.a.hangup(p.now, call).unwrap();
    p.flush();
    assert_eq!(p.a.call_state(call), None);
}

#[test]
fn late_offer_the_answer_travels_in_the_ack() {
    const OFFER: &[u8] = b"v=0\r\no=callee 1 1 IN IP4 127.0.0.1\r\n";
    const ANSWER: &[u8] = b"v=0\r\no=caller 1 1 IN IP4 127.0.0.1\r\n";
    let mut p = Pair::new();
    // An INVITE without a body (RFC 3264 §4: the offer comes in the 2xx).
    let req = Request::new(
        Method::Invite,
        "sip:bob@127.0.0.1:5062",
        "<sip:alice@127.0.0.1>",
        "<sip:bob@127.0.0.1>",
    );
    let call = p.a.invite(p.now, addr("127.0.0.1:5062"), &req).unwrap();
    p.flush();
    let tx = incoming(&p.events_b)[0];
    assert!(p.b.request(tx).unwrap().body().is_empty());
    assert_eq!(
        p.a.ack_with_answer(call, ("application/sdp", ANSWER)),
        Err(sansip::endpoint::SendError::InvalidState),
        "no ACK waits yet"
    );
    p.log.clear();
    p.b.respond(p.now, tx, StatusCode::OK, Some(("application/sdp", OFFER)))
        .unwrap();
    p.flush();
    // The ACK waits for the caller's answer.
    assert!(p.events_a.contains(&Event::AnswerNeeded { call }));
    let ladder: Vec<_> = p.log.iter().map(|(_, d, l)| format!("{d}{l}")).collect();
    assert_eq!(ladder, ["<200 INVITE"]);
    assert_eq!(p.a.call_answer(call).unwrap().body(), OFFER);
    p.a.ack_with_answer(call, ("application/sdp", ANSWER))
        .unwrap();
    p.flush();
    let b_call = callee_call(&p);
    assert!(p.events_b.contains(&Event::AnswerReceived { call: b_call }));
    let ack = p.b.call_answer(b_call).unwrap();
    assert_eq!(ack.method(), Some(Method::Ack));
    assert_eq!(ack.body(), ANSWER);
    assert_eq!(
        ack.header(sansip::message::HeaderKind::ContentType)
            .unwrap()
            .value,
        b"application/sdp"
    );
    // Only once.
    assert_eq!(
        p.a.ack_with_answer(call, ("application/sdp", ANSWER)),
        Err(sansip::endpoint::SendError::InvalidState)
    );
    // A retransmitted 2xx gets the same ACK, answer included; the callee reports the
    // answer only once.
    let ok = p.a.call_answer(call).unwrap().as_bytes().to_vec();
    p.log.clear();
    p.events_b.clear();
    p.a.handle_datagram(p.now, addr("127.0.0.1:5062"), &ok);
    let mut buf = vec![0u8; 4096];
    let t = p.a.poll_transmit(&mut buf).unwrap().unwrap();
    let again = Message::parse(t.bytes).unwrap();
    assert_eq!(again.method(), Some(Method::Ack));
    assert_eq!(again.body(), ANSWER);
    let again = t.bytes.to_vec();
    p.b.handle_datagram(p.now, addr("127.0.0.1:5061"), &again);
    while let Some(e) = p.b.poll_event() {
        p.events_b.push(e);
    }
    assert!(!p.events_b.contains(&Event::AnswerReceived { call: b_call }));
    assert_eq!(p.a.call_state(call), Some(SessionState::Confirmed));
    assert_eq!(p.b.call_state(b_call), Some(SessionState::Confirmed));
    p.a.hangup(p.now, call).unwrap();
    p.flush();
    p.run_until_idle(100_000);
    assert_all_empty(&p);
}

/// REGISTER with Digest authentication (RFC 3261 §10.2, §22): the caller registers with
/// the callee's host acting as registrar, answers its 401 with credentials on the same
/// Call-ID and From tag and the next CSeq, and the registrar checks them.
#[test]
fn register_with_digest_authentication() {
    use sansip::auth::{DigestInput, answer_challenge, verify};
    use sansip::message::{Credentials, HeaderKind};
    const CHALLENGE: &str =
        "Digest realm=\"127.0.0.1\", nonce=\"5f1e2d3c\", qop=\"auth\", algorithm=SHA-256";
    let mut p = Pair::new();
    let registrar = addr("127.0.0.1:5062");
    let base = Request {
        headers: &[("Expires", "600")],
        ..Request::new(
            Method::Register,
            "sip:127.0.0.1",
            "<sip:alice@127.0.0.1>",
            "<sip:alice@127.0.0.1>",
        )
    };
    let first = p.a.send_request(p.now, registrar, &base).unwrap();
    p.flush();
    // The registrar's host: no credentials yet, so a challenge.
    let rx = incoming(&p.events_b)[0];
    {
        let req = p.b.request(rx).unwrap();
        assert_eq!(req.method(), Some(Method::Register));
        assert!(req.header(HeaderKind::Authorization).is_none());
        assert!(
            req.header(HeaderKind::Contact).is_some(),
            "the binding to register"
        );
    }
    p.b.respond_with(
        p.now,
        rx,
        StatusCode::UNAUTHORIZED,
        &[("WWW-Authenticate", CHALLENGE)],
        None,
    )
    .unwrap();
    p.flush();
    assert!(p.events_a.contains(&Event::Response {
        tx: first,
        call: None,
        status: StatusCode::UNAUTHORIZED
    }));
    // The UA answers the challenge: same Call-ID and From tag, CSeq + 1.
    let (call_id, from_tag) = {
        let sent = p.a.request(first).unwrap();
        (
            sent.call_id().unwrap().as_str().to_owned(),
            sent.from().unwrap().tag().unwrap().to_owned(),
        )
    };
    let (name, value) = answer_challenge(
        &p.a.response(first).unwrap(),
        &DigestInput {
            username: "alice",
            password: "wonderland",
            method: Method::Register,
            uri: "sip:127.0.0.1",
            cnonce: "8d2e6f1a",
            nonce_count: 1,
            body: b"",
        },
    )
    .unwrap();
    assert_eq!(name, "Authorization");
    let headers = [("Expires", "600"), (name, value.as_str())];
    let second =
        p.a.send_request(
            p.now,
            registrar,
            &Request {
                headers: &headers,
                call_id: Some(&call_id),
                from_tag: Some(&from_tag),
                cseq: 2,
                ..base
            },
        )
        .unwrap();
    p.flush();
    let rx = *incoming(&p.events_b).last().unwrap();
    let accepted = {
        let req = p.b.request(rx).unwrap();
        assert_eq!(req.call_id().unwrap().as_str(), call_id);
        assert_eq!(req.from().unwrap().tag(), Some(from_tag.as_str()));
        assert_eq!(req.cseq().unwrap().seq(), 2);
        let creds =
            Credentials::parse(req.header(HeaderKind::Authorization).unwrap().value).unwrap();
        assert_eq!(creds.username(), Some("alice"));
        assert_eq!(verify(&creds, Method::Register, "not-it", b""), Ok(false));
        verify(&creds, Method::Register, "wonderland", b"").unwrap()
    };
    assert!(accepted);
    p.b.respond_with(p.now, rx, StatusCode::OK, &[("Expires", "600")], None)
        .unwrap();
    p.flush();
    assert!(p.events_a.contains(&Event::Response {
        tx: second,
        call: None,
        status: StatusCode::OK
    }));
    // A CSeq of 0 or 2^31, or a Call-ID that is not one, is refused before anything is
    // sent; a From tag that is not a token cannot be written.
    for cseq in [0, 1 << 31] {
        assert_eq!(
            p.a.send_request(p.now, registrar, &Request { cseq, ..base }),
            Err(sansip::endpoint::SendError::InvalidState)
        );
    }
    for call_id in ["", "a b", "a@b@c", " x", "x\r\nVia: evil"] {
        assert_eq!(
            p.a.send_request(
                p.now,
                registrar,
                &Request {
                    call_id: Some(call_id),
                    ..base
                }
            ),
            Err(sansip::endpoint::SendError::InvalidState),
            "{call_id:?}"
        );
    }
    assert!(matches!(
        p.a.send_request(
            p.now,
            registrar,
            &Request {
                from_tag: Some("a;b"),
                ..base
            }
        ),
        Err(sansip::endpoint::SendError::Encode(_))
    ));
    p.run_until_idle(100_000);
    assert_all_empty(&p);
    // The largest CSeq, 2^31 - 1, is one (§8.1.1.5); sent last.
    let max = Request {
        cseq: (1 << 31) - 1,
        ..base
    };
    assert!(p.a.send_request(p.now, registrar, &max).is_ok());
    let mut buf = vec![0u8; 4096];
    let sent = p.a.poll_transmit(&mut buf).unwrap().unwrap();
    assert_eq!(
        Message::parse(sent.bytes).unwrap().cseq().unwrap().seq(),
        (1 << 31) - 1
    );
}

/// The callee's host as a registrar: challenges a REGISTER without credentials, checks
/// them against `password`, and grants `grant` seconds (`423` with `Min-Expires: 120`
/// below `min`). Answers every REGISTER in `p.events_b` not answered yet.
fn registrar(p: &mut Pair, answered: &mut usize, password: &str, grant: u32, min: u32) {
    use sansip::auth::verify;
    use sansip::message::{Credentials, HeaderKind};
    let txs = incoming(&p.events_b);
    for &rx in &txs[*answered..] {
        let (status, contact, expires) = {
            let req = p.b.request(rx).unwrap();
            assert_eq!(req.method(), Some(Method::Register));
            let asked: u32 = std::str::from_utf8(req.header(HeaderKind::Expires).unwrap().value)
                .unwrap()
                .parse()
                .unwrap();
            let contact = std::str::from_utf8(req.header(HeaderKind::Contact).unwrap().value)
                .unwrap()
                .to_owned();
            let status = match req.header(HeaderKind::Authorization) {
                None => StatusCode::UNAUTHORIZED,
                Some(h) => {
                    let c = Credentials::parse(h.value).unwrap();
                    if !verify(&c, Method::Register, password, b"").unwrap() {
                        StatusCode::FORBIDDEN
                    } else if asked != 0 && asked < min {
                        StatusCode::new(423).unwrap()
                    } else {
                        StatusCode::OK
                    }
                }
            };
            (status, contact, asked.min(grant))
        };
        // The registrar's own spelling of the binding: an `ob` parameter (RFC 5626)
        // added, which §19.1.4 ignores when only one side has it.
        let spelled = contact.replace("sip:", "SIP:").replace('>', ";ob>");
        let expires_hdr = format!("{spelled};expires={expires}");
        let headers: Vec<(&str, &str)> = match status.as_u16() {
            401 => vec![(
                "WWW-Authenticate",
                "Digest realm=\"127.0.0.1\", nonce=\"n0nce\", qop=\"auth\"",
            )],
            423 => vec![("Min-Expires", "120")],
            200 => vec![("Contact", expires_hdr.as_str())],
            _ => vec![],
        };
        p.b.respond_with(p.now, rx, status, &headers, None).unwrap();
    }
    *answered = txs.len();
}

#[test]
fn registration_is_kept_refreshed_and_removed() {
    use sansip::endpoint::{Binding, RegistrationHandle};
    use sansip::register::State;
    let mut p = Pair::new();
    let binding = Binding {
        registrar: "sip:127.0.0.1",
        aor: "<sip:alice@127.0.0.1>",
        expires: 3600,
        username: "alice",
        password: "wonderland",
        realm: None,
    };
    let reg: RegistrationHandle =
        p.a.register(p.now, addr("127.0.0.1:5062"), &binding)
            .unwrap();
    let mut answered = 0;
    // Challenge, credentials, 200 granting 60 s of the 3600 asked.
    for _ in 0..3 {
        p.flush();
        registrar(&mut p, &mut answered, "wonderland", 60, 0);
    }
    p.flush();
    assert!(p.events_a.contains(&Event::Registered { reg, expires: 60 }));
    assert_eq!(
        p.a.registration_state(reg),
        Some(State::Registered { expires: 60 })
    );
    assert_eq!(answered, 2, "one challenge, one accepted REGISTER");
    // The refresh goes out a tenth of the lifetime early (54 s), on the same Call-ID
    // with the next CSeq number, with credentials for the kept challenge (nonce count 2),
    // so it needs no second challenge.
    p.events_a.clear();
    let first_call_id =
        p.b.request(incoming(&p.events_b)[0])
            .unwrap()
            .call_id()
            .unwrap()
            .as_str()
            .to_owned();
    while p.now.as_millis() < 54_000 && p.advance() {
        registrar(&mut p, &mut answered, "wonderland", 60, 0);
        p.flush();
    }
    for _ in 0..3 {
        registrar(&mut p, &mut answered, "wonderland", 60, 0);
        p.flush();
    }
    assert_eq!(p.now.as_millis(), 54_000);
    assert_eq!(answered, 3);
    let txs = incoming(&p.events_b);
    let refresh = p.b.request(txs[2]).unwrap();
    assert_eq!(refresh.call_id().unwrap().as_str(), first_call_id);
    assert_eq!(refresh.cseq().unwrap().seq(), 3);
    let creds = sansip::message::Credentials::parse(
        refresh
            .header(sansip::message::HeaderKind::Authorization)
            .unwrap()
            .value,
    )
    .unwrap();
    assert_eq!(creds.param("nc"), Some("00000002"));
    assert!(p.events_a.contains(&Event::Registered { reg, expires: 60 }));
    // Removal: Expires 0, then the handle is gone.
    p.a.unregister(p.now, reg).unwrap();
    for _ in 0..3 {
        p.flush();
        registrar(&mut p, &mut answered, "wonderland", 60, 0);
    }
    p.flush();
    let last = p.b.request(*incoming(&p.events_b).last().unwrap()).unwrap();
    assert_eq!(
        last.header(sansip::message::HeaderKind::Expires)
            .unwrap()
            .value,
        b"0"
    );
    assert!(p.events_a.contains(&Event::Unregistered { reg }));
    assert_eq!(p.a.registration_state(reg), None);
    assert_eq!(p.a.registration_count(), 0);
    p.run_until_idle(200_000);
    assert_all_empty(&p);
}

#[test]
fn registration_failures() {
    use sansip::endpoint::Binding;
    let binding = |password| Binding {
        registrar: "sip:127.0.0.1",
        aor: "<sip:alice@127.0.0.1>",
        expires: 60,
        username: "alice",
        password,
        realm: None,
    };
    // Wrong password: the registrar answers 403 to the credentials.
    let mut p = Pair::new();
    let reg =
        p.a.register(p.now, addr("127.0.0.1:5062"), &binding("nope"))
            .unwrap();
    let mut answered = 0;
    for _ in 0..3 {
        p.flush();
        registrar(&mut p, &mut answered, "wonderland", 60, 0);
    }
    p.flush();
    assert!(p.events_a.contains(&Event::RegistrationFailed {
        reg,
        status: StatusCode::FORBIDDEN
    }));
    assert_eq!(p.a.registration_count(), 0);
    // 423: asked again with Min-Expires (120), then registered for it.
    let mut p = Pair::new();
    let reg =
        p.a.register(p.now, addr("127.0.0.1:5062"), &binding("wonderland"))
            .unwrap();
    let mut answered = 0;
    for _ in 0..4 {
        p.flush();
        registrar(&mut p, &mut answered, "wonderland", 3600, 100);
    }
    p.flush();
    assert!(
        p.events_a
            .contains(&Event::Registered { reg, expires: 120 }),
        "{:?}",
        p.events_a
    );
    // Credentials for another realm than the registrar's (`127.0.0.1`): its 401 is not
    // answered and the registration fails with it; for its realm, it succeeds.
    for (realm, registered) in [("elsewhere.test", false), ("127.0.0.1", true)] {
        let mut p = Pair::new();
        let b = Binding {
            realm: Some(realm),
            ..binding("wonderland")
        };
        let reg = p.a.register(p.now, addr("127.0.0.1:5062"), &b).unwrap();
        let mut answered = 0;
        for _ in 0..3 {
            p.flush();
            registrar(&mut p, &mut answered, "wonderland", 60, 0);
        }
        p.flush();
        assert_eq!(answered, if registered { 2 } else { 1 }, "{realm}");
        let failed = Event::RegistrationFailed {
            reg,
            status: StatusCode::UNAUTHORIZED,
        };
        assert_eq!(p.events_a.contains(&failed), !registered, "{realm}");
        assert_eq!(
            p.events_a.contains(&Event::Registered { reg, expires: 60 }),
            registered,
            "{realm}"
        );
    }
    // No registrar at all: Timer F, then failed with 408.
    let mut p = Pair::new();
    let reg =
        p.a.register(p.now, addr("127.0.0.1:5062"), &binding("x"))
            .unwrap();
    let mut buf = vec![0u8; 4096];
    while let Some(t) = p.a.poll_timeout() {
        while p.a.poll_transmit(&mut buf).unwrap().is_some() {}
        p.now = p.now.max(t);
        p.a.handle_timeout(p.now);
        while let Some(e) = p.a.poll_event() {
            p.events_a.push(e);
        }
    }
    assert!(p.events_a.contains(&Event::RegistrationFailed {
        reg,
        status: StatusCode::REQUEST_TIMEOUT
    }));
    // The table holds MAX_REGISTRATIONS; texts are bounded.
    let mut p = Pair::new();
    for _ in 0..sansip::endpoint::MAX_REGISTRATIONS {
        p.a.register(p.now, addr("127.0.0.1:5062"), &binding("x"))
            .unwrap();
    }
    assert_eq!(
        p.a.register(p.now, addr("127.0.0.1:5062"), &binding("x")),
        Err(sansip::endpoint::SendError::Capacity(
            sansip::error::Capacity::Registrations
        ))
    );
    let long = "x".repeat(200);
    let mut p = Pair::new();
    assert_eq!(
        p.a.register(p.now, addr("127.0.0.1:5062"), &binding(&long)),
        Err(sansip::endpoint::SendError::Capacity(
            sansip::error::Capacity::String
        ))
    );
}

/// A call placed by `a` that `b` rings (180): the caller's call, the callee's INVITE
/// transaction and the callee's call.
fn ringing_call(p: &mut Pair) -> (CallHandle, sansip::endpoint::TxHandle, CallHandle) {
    let call = place_call(p);
    let tx = incoming(&p.events_b)[0];
    p.b.respond(p.now, tx, StatusCode::RINGING, None).unwrap();
    p.flush();
    let b_call = p
        .events_b
        .iter()
        .find_map(|e| match e {
            Event::IncomingRequest { call, .. } => *call,
            _ => None,
        })
        .unwrap();
    (call, tx, b_call)
}

/// A request `method` the callee builds within the dialog of its call `b_call` (a copy,
/// so the callee's own CSeq is untouched), delivered to the caller; the caller's events.
fn from_callee_dialog(
    p: &mut Pair,
    b_call: CallHandle,
    method: Method<'static>,
    branch: &str,
) -> Vec<Event> {
    use sansip::encode::ViaValue;
    let mut d = p.b.call_dialog(b_call).unwrap().clone();
    let via = ViaValue {
        transport: "UDP",
        sent_by: "127.0.0.1:5062",
        branch,
        rport: false,
    };
    let mut buf = [0u8; 2048];
    let n = d
        .request(method, via, None)
        .unwrap()
        .encode_into(&mut buf)
        .unwrap();
    p.a.handle_datagram(p.now, addr("127.0.0.1:5062"), &buf[..n]);
    std::iter::from_fn(|| p.a.poll_event()).collect()
}

/// §12.1.2: a 180 with a To tag gives the caller an early dialog, so a request the callee
/// sends within it (an INFO while ringing) reaches the call instead of getting 481.
#[test]
fn requests_in_an_early_dialog_reach_the_caller() {
    let mut p = Pair::new();
    let (call, tx, b_call) = ringing_call(&mut p);
    let early = p.a.call_dialog(call).expect("an early dialog");
    assert_eq!(early.state(), sansip::dialog::DialogState::Early);
    assert_eq!(early.remote_target(), "sip:sansip@127.0.0.1:5062");
    // The callee's INFO within the early dialog.
    p.events_a = from_callee_dialog(&mut p, b_call, Method::Info, "z9hG4bKearly1");
    let info = incoming(&p.events_a);
    assert_eq!(
        p.events_a.first(),
        Some(&Event::IncomingRequest {
            tx: info[0],
            call: Some(call)
        })
    );
    p.a.respond(p.now, info[0], StatusCode::OK, None).unwrap();
    let mut buf = [0u8; 2048];
    let t = p.a.poll_transmit(&mut buf).unwrap().unwrap();
    assert_eq!(
        Message::parse(t.bytes).unwrap().status(),
        Some(StatusCode::OK)
    );
    // The answer confirms the call on the dialog of the 200.
    p.b.respond(
        p.now,
        tx,
        StatusCode::OK,
        Some(("application/sdp", b"v=0\r\n")),
    )
    .unwrap();
    p.flush();
    assert_eq!(
        p.a.call_dialog(call).unwrap().state(),
        sansip::dialog::DialogState::Confirmed
    );
    p.a.hangup(p.now, call).unwrap();
    p.flush();
    p.run_until_idle(100_000);
    assert_all_empty(&p);
}

/// A BYE within the early dialog ends the caller's call (§15.1.2) while its INVITE still
/// waits for a final response that will never come: the transaction is dropped 64*T1
/// later instead of staying for ever (an INVITE client transaction has no timer in
/// Proceeding, §17.1.1.2).
#[test]
fn an_invite_left_without_final_response_by_the_end_of_its_call_is_dropped() {
    let mut p = Pair::new();
    let (call, _, b_call) = ringing_call(&mut p);
    // The caller's INVITE transaction: the one its first Response event names.
    let invite_tx = responses(&p.events_a)[0].0;
    p.events_a = from_callee_dialog(&mut p, b_call, Method::Bye, "z9hG4bKearlybye");
    assert!(p.events_a.contains(&Event::CallTerminated {
        call,
        reason: EndReason::RemoteBye
    }));
    let mut buf = vec![0u8; 4096];
    let t = p.a.poll_transmit(&mut buf).unwrap().unwrap();
    assert_eq!(
        Message::parse(t.bytes).unwrap().status(),
        Some(StatusCode::OK)
    );
    let ended = p.now.as_millis();
    assert!(p.a.response(invite_tx).is_some(), "still in Proceeding");
    // The callee's side is left to its own timers; only the caller's matters here.
    while let Some(t) = p.a.poll_timeout() {
        while p.a.poll_transmit(&mut buf).unwrap().is_some() {}
        p.now = p.now.max(t);
        p.a.handle_timeout(p.now);
        while let Some(e) = p.a.poll_event() {
            p.events_a.push(e);
        }
    }
    assert!(p.events_a.contains(&Event::TimedOut { tx: invite_tx }));
    assert!(p.now.as_millis() >= ended + 32_000);
    assert_eq!((p.a.transaction_count(), p.a.call_count()), (0, 0));
}

/// The notifier's side of a subscription, built by hand from the SUBSCRIBE (the endpoint
/// is the subscriber here): its dialog, and NOTIFYs within it.
struct Notifier {
    dialog: sansip::dialog::Dialog,
    /// The Contact its NOTIFYs carry.
    contact: &'static str,
}

impl Notifier {
    fn new(subscribe: &Message<'_>, tag: &str) -> Self {
        let mut dialog = sansip::dialog::Dialog::uas(subscribe, tag, false).unwrap();
        dialog.confirm();
        Notifier {
            dialog,
            contact: "<sip:notifier@127.0.0.1:5062>",
        }
    }

    fn notify(&mut self, branch: &str, state: &str, body: &[u8]) -> Vec<u8> {
        use sansip::encode::{Value, ViaValue};
        let via = ViaValue {
            transport: "UDP",
            sent_by: "127.0.0.1:5062",
            branch,
            rport: false,
        };
        let mut b = self
            .dialog
            .request(Method::Notify, via, Some(self.contact))
            .unwrap();
        b.push("Event", Value::Text("presence"));
        b.push("Subscription-State", Value::Text(state));
        b.set_body("application/pidf+xml", body);
        let mut buf = vec![0u8; 2048];
        let n = b.encode_into(&mut buf).unwrap();
        buf.truncate(n);
        buf
    }
}

/// Deliver `bytes` from the callee's address to the caller; the caller's events.
fn to_caller(p: &mut Pair, bytes: &[u8]) -> Vec<Event> {
    p.a.handle_datagram(p.now, addr("127.0.0.1:5062"), bytes);
    std::iter::from_fn(|| p.a.poll_event()).collect()
}

/// Run the caller's timers until it sends something: when, and what.
fn next_send(p: &mut Pair) -> (u64, Vec<u8>) {
    let mut buf = vec![0u8; 4096];
    loop {
        let t = p.a.poll_timeout().expect("a timer");
        p.now = p.now.max(t);
        p.a.handle_timeout(p.now);
        while p.a.poll_event().is_some() {}
        if let Some(t) = p.a.poll_transmit(&mut buf).unwrap() {
            return (p.now.as_millis(), t.bytes.to_vec());
        }
    }
}

/// The caller's next datagram, parsed into an owned copy.
fn caller_sends(p: &mut Pair) -> Vec<u8> {
    let mut buf = vec![0u8; 4096];
    let t = p.a.poll_transmit(&mut buf).unwrap().expect("a datagram");
    t.bytes.to_vec()
}

/// A pair whose caller takes presence documents in requests (NOTIFY bodies go through
/// the §8.2.3 check like any request's).
fn presence_pair() -> Pair {
    use sansip::check::Capabilities;
    let mut p = Pair::new();
    p.a = Box::new(Endpoint::new(EndpointConfig {
        capabilities: Capabilities {
            body_types: &["application/sdp", "application/pidf+xml"],
            ..Capabilities::DEFAULT
        },
        ..EndpointConfig::new(addr("127.0.0.1:5061"), 1)
    }));
    p
}

/// The caller subscribes to the callee's presence for 600 s.
fn subscribe_presence(p: &mut Pair, accept: Option<&str>) -> sansip::endpoint::SubscriptionHandle {
    let sub = sansip::endpoint::Subscribe {
        uri: "sip:bob@127.0.0.1:5062",
        from: "<sip:alice@127.0.0.1>",
        to: "<sip:bob@127.0.0.1>",
        event: "presence",
        expires: 600,
        accept,
        credentials: None,
        forks: false,
    };
    p.a.subscribe(p.now, addr("127.0.0.1:5062"), &sub).unwrap()
}

#[test]
fn subscription_notify_refresh_and_end() {
    use sansip::encode::{MessageBuilder, Value};
    use sansip::message::HeaderKind;
    use sansip::subscription::{Ended, State};
    let mut p = presence_pair();
    let sub = subscribe_presence(&mut p, Some("application/pidf+xml"));
    let subscribe = caller_sends(&mut p);
    let req = Message::parse(&subscribe).unwrap();
    assert_eq!(req.method(), Some(Method::Subscribe));
    assert_eq!(req.header(HeaderKind::Event).unwrap().value, b"presence");
    assert_eq!(req.header(HeaderKind::Expires).unwrap().value, b"600");
    assert!(req.header(HeaderKind::Contact).is_some());
    // 202 with the notifier's tag and Contact; then the first NOTIFY: active.
    let mut n = Notifier::new(&req, "nt1");
    let mut accepted =
        MessageBuilder::response_to(&req, StatusCode::new(202).unwrap(), "nt1").unwrap();
    accepted.push("Contact", Value::Text("<sip:notifier@127.0.0.1:5062>"));
    accepted.push("Expires", Value::Number(600));
    let mut buf = vec![0u8; 2048];
    let len = accepted.encode_into(&mut buf).unwrap();
    let ev = to_caller(&mut p, &buf[..len]);
    assert_eq!(ev.len(), 1, "{ev:?}"); // the Response
    let ev = to_caller(
        &mut p,
        &n.notify("z9hG4bKn1", "active;expires=600", b"<open/>"),
    );
    let Some(Event::Notify { sub: s, tx }) = ev.first().copied() else {
        panic!("{ev:?}")
    };
    assert_eq!(s, sub);
    assert!(ev.contains(&Event::SubscriptionActive { sub, expires: 600 }));
    assert_eq!(p.a.request(tx).unwrap().body(), b"<open/>");
    p.a.respond(p.now, tx, StatusCode::OK, None).unwrap();
    let ok = caller_sends(&mut p);
    assert_eq!(Message::parse(&ok).unwrap().status(), Some(StatusCode::OK));
    assert_eq!(p.a.subscription_state(sub), Some(State::Active));
    // The notifier moves: a NOTIFY is a target refresh (RFC 6665 §3.2).
    n.contact = "<sip:moved@127.0.0.1:5062>";
    let ev = to_caller(&mut p, &n.notify("z9hG4bKn1b", "active", b"<open/>"));
    let Some(Event::Notify { tx, .. }) = ev.first().copied() else {
        panic!("{ev:?}")
    };
    p.a.respond(p.now, tx, StatusCode::OK, None).unwrap();
    caller_sends(&mut p);
    // The refresh: 540 s later, within the dialog (CSeq 2, the notifier's new Contact).
    let (at, refresh) = next_send(&mut p);
    assert_eq!(at, 540_000);
    let r = Message::parse(&refresh).unwrap();
    assert_eq!(r.method(), Some(Method::Subscribe));
    assert_eq!(r.request_uri_raw(), Some(&b"sip:moved@127.0.0.1:5062"[..]));
    assert_eq!(r.cseq().unwrap().seq(), 2);
    assert_eq!(r.to().unwrap().tag(), Some("nt1"));
    let len = MessageBuilder::response_to(&r, StatusCode::OK, "nt1")
        .unwrap()
        .header("Expires", Value::Number(300))
        .encode_into(&mut buf)
        .unwrap();
    to_caller(&mut p, &buf[..len]);
    // Re-armed from the new duration: 270 s.
    let (at, again) = next_send(&mut p);
    assert_eq!(at, 810_000);
    assert_eq!(
        Message::parse(&again).unwrap().method(),
        Some(Method::Subscribe)
    );
    // A NOTIFY of another package is not this subscription's: 481.
    let mut other = n.notify("z9hG4bKn2", "active", b"");
    let at = other
        .windows(14)
        .position(|w| w == b"Event: presenc")
        .unwrap();
    other[at + 7..at + 15].copy_from_slice(b"dialog  ");
    to_caller(&mut p, &other);
    let answer = caller_sends(&mut p);
    assert_eq!(
        Message::parse(&answer).unwrap().status(),
        Some(StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST)
    );
    // The notifier ends it.
    let ev = to_caller(
        &mut p,
        &n.notify(
            "z9hG4bKn3",
            "terminated;reason=noresource;retry-after=30",
            b"",
        ),
    );
    assert!(ev.contains(&Event::SubscriptionTerminated {
        sub,
        reason: Ended::ByNotifier {
            retry_after: Some(30)
        }
    }));
    assert_eq!(p.a.subscription_count(), 0);
}

#[test]
fn subscription_notify_first_and_unsubscribe() {
    use sansip::encode::MessageBuilder;
    use sansip::subscription::{Ended, State};
    let mut p = presence_pair();
    let sub = subscribe_presence(&mut p, None);
    let subscribe = caller_sends(&mut p);
    let req = Message::parse(&subscribe).unwrap();
    // §4.1.2.4: the NOTIFY overtakes the 2xx and makes the dialog.
    let mut n = Notifier::new(&req, "nt9");
    let ev = to_caller(&mut p, &n.notify("z9hG4bKf1", "pending", b""));
    assert!(ev.contains(&Event::SubscriptionPending { sub }), "{ev:?}");
    let Some(Event::Notify { tx, .. }) = ev.first().copied() else {
        panic!()
    };
    p.a.respond(p.now, tx, StatusCode::OK, None).unwrap();
    caller_sends(&mut p);
    let mut buf = vec![0u8; 2048];
    let len = MessageBuilder::response_to(&req, StatusCode::new(202).unwrap(), "nt9")
        .unwrap()
        .encode_into(&mut buf)
        .unwrap();
    to_caller(&mut p, &buf[..len]);
    assert_eq!(p.a.subscription_state(sub), Some(State::Pending));
    // Unsubscribe: Expires 0 within the dialog, to the Contact of the NOTIFY.
    p.a.unsubscribe(p.now, sub).unwrap();
    let bye = caller_sends(&mut p);
    let r = Message::parse(&bye).unwrap();
    assert_eq!(r.method(), Some(Method::Subscribe));
    assert_eq!(
        r.header(sansip::message::HeaderKind::Expires)
            .unwrap()
            .value,
        b"0"
    );
    assert_eq!(r.cseq().unwrap().seq(), 2, "after the SUBSCRIBE's CSeq 1");
    assert_eq!(
        r.request_uri_raw(),
        Some(&b"sip:notifier@127.0.0.1:5062"[..])
    );
    let len = MessageBuilder::response_to(&r, StatusCode::OK, "nt9")
        .unwrap()
        .encode_into(&mut buf)
        .unwrap();
    to_caller(&mut p, &buf[..len]);
    assert_eq!(p.a.subscription_state(sub), Some(State::Unsubscribing));
    let ev = to_caller(
        &mut p,
        &n.notify("z9hG4bKf2", "terminated;reason=timeout", b""),
    );
    assert!(ev.contains(&Event::SubscriptionTerminated {
        sub,
        reason: Ended::Unsubscribed
    }));
    // A subscription nobody answers ends with 408 (Timer F).
    let sub = subscribe_presence(&mut p, None);
    let mut events = Vec::new();
    while let Some(t) = p.a.poll_timeout() {
        while p.a.poll_transmit(&mut buf).unwrap().is_some() {}
        p.now = p.now.max(t);
        p.a.handle_timeout(p.now);
        events.extend(std::iter::from_fn(|| p.a.poll_event()));
    }
    assert!(events.contains(&Event::SubscriptionTerminated {
        sub,
        reason: Ended::Rejected(StatusCode::REQUEST_TIMEOUT)
    }));
    assert_eq!(p.a.subscription_count(), 0);
}

/// RFC 6665 §4.1.2.4, §5.4.9: a SUBSCRIBE that forked to two notifiers. With
/// `Subscribe::forks` the second notifier's NOTIFY makes a second subscription, with its
/// own dialog and refreshes; without it, or with the table full, that NOTIFY gets 481.
#[test]
fn forked_subscription_keeps_each_notifier() {
    use sansip::encode::MessageBuilder;
    use sansip::endpoint::{MAX_SUBSCRIPTIONS, Subscribe};
    use sansip::error::Capacity;
    use sansip::message::HeaderKind;
    use sansip::subscription::State;
    let status_of = |bytes: &[u8]| Message::parse(bytes).unwrap().status();
    let mut buf = vec![0u8; 2048];
    for forks in [true, false] {
        let mut p = presence_pair();
        let asked = Subscribe {
            forks,
            ..Subscribe::new(
                "sip:bob@127.0.0.1:5062",
                "<sip:alice@127.0.0.1>",
                "<sip:bob@127.0.0.1>",
                "presence",
                600,
            )
        };
        let sub =
            p.a.subscribe(p.now, addr("127.0.0.1:5062"), &asked)
                .unwrap();
        let subscribe = caller_sends(&mut p);
        let req = Message::parse(&subscribe).unwrap();
        // The first notifier answers and notifies.
        let mut first = Notifier::new(&req, "nA");
        let len = MessageBuilder::response_to(&req, StatusCode::new(202).unwrap(), "nA")
            .unwrap()
            .encode_into(&mut buf)
            .unwrap();
        to_caller(&mut p, &buf[..len]);
        let ev = to_caller(
            &mut p,
            &first.notify("z9hG4bKa1", "active;expires=600", b""),
        );
        let Some(Event::Notify { tx, .. }) = ev.first().copied() else {
            panic!("{ev:?}")
        };
        p.a.respond(p.now, tx, StatusCode::OK, None).unwrap();
        caller_sends(&mut p);
        // The second notifier's first NOTIFY.
        let mut second = Notifier::new(&req, "nB");
        second.contact = "<sip:second@127.0.0.1:5062>";
        let ev = to_caller(
            &mut p,
            &second.notify("z9hG4bKb1", "active;expires=300", b"<b/>"),
        );
        if !forks {
            assert!(ev.is_empty(), "{ev:?}");
            assert_eq!(
                status_of(&caller_sends(&mut p)),
                Some(StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST)
            );
            assert_eq!(p.a.subscription_count(), 1);
            continue;
        }
        let Some(Event::SubscriptionForked { sub: fork, of }) = ev.first().copied() else {
            panic!("{ev:?}")
        };
        assert_eq!(of, sub);
        assert_ne!(fork, sub);
        let Some(Event::Notify { sub: notified, tx }) = ev.get(1).copied() else {
            panic!("{ev:?}")
        };
        assert_eq!(notified, fork);
        assert_eq!(p.a.request(tx).unwrap().body(), b"<b/>");
        assert!(ev.contains(&Event::SubscriptionActive {
            sub: fork,
            expires: 300
        }));
        p.a.respond(p.now, tx, StatusCode::OK, None).unwrap();
        assert_eq!(status_of(&caller_sends(&mut p)), Some(StatusCode::OK));
        assert_eq!(p.a.subscription_count(), 2);
        assert_eq!(p.a.subscription_state(fork), Some(State::Active));
        // Its next NOTIFY is its own subscription's, not another fork.
        let ev = to_caller(&mut p, &second.notify("z9hG4bKb2", "active", b""));
        assert_eq!(
            ev.first()
                .copied()
                .map(|e| matches!(e, Event::Notify { sub, .. } if sub == fork)),
            Some(true),
            "{ev:?}"
        );
        let Some(Event::Notify { tx, .. }) = ev.first().copied() else {
            panic!()
        };
        p.a.respond(p.now, tx, StatusCode::OK, None).unwrap();
        caller_sends(&mut p);
        assert_eq!(p.a.subscription_count(), 2);
        // The fork refreshes first (300 s granted: at 270 s), within its own dialog.
        let (at, refresh) = next_send(&mut p);
        assert_eq!(at, 270_000);
        let r = Message::parse(&refresh).unwrap();
        assert_eq!(r.method(), Some(Method::Subscribe));
        assert_eq!(r.request_uri_raw(), Some(&b"sip:second@127.0.0.1:5062"[..]));
        assert_eq!(r.to().unwrap().tag(), Some("nB"));
        assert_eq!(
            r.call_id().unwrap().as_str(),
            req.call_id().unwrap().as_str()
        );
        assert_eq!(r.cseq().unwrap().seq(), 2, "after the SUBSCRIBE's CSeq 1");
        assert_eq!(r.header(HeaderKind::Expires).unwrap().value, b"600");
        let len = MessageBuilder::response_to(&r, StatusCode::OK, "nB")
            .unwrap()
            .encode_into(&mut buf)
            .unwrap();
        to_caller(&mut p, &buf[..len]);
        // Then the first one's, within the first dialog.
        let (at, refresh) = next_send(&mut p);
        assert_eq!(at, 540_000);
        let r = Message::parse(&refresh).unwrap();
        assert_eq!(r.to().unwrap().tag(), Some("nA"));
        assert_eq!(
            r.request_uri_raw(),
            Some(&b"sip:notifier@127.0.0.1:5062"[..])
        );
        // A third notifier when the table is full: 481, and the host hears why.
        for _ in p.a.subscription_count()..MAX_SUBSCRIPTIONS {
            p.a.subscribe(p.now, addr("127.0.0.1:5062"), &asked)
                .unwrap();
        }
        while p.a.poll_transmit(&mut buf).unwrap().is_some() {}
        let mut third = Notifier::new(&req, "nC");
        let ev = to_caller(&mut p, &third.notify("z9hG4bKc1", "active", b""));
        assert_eq!(ev, [Event::Capacity(Capacity::Subscriptions)]);
        assert_eq!(
            status_of(&caller_sends(&mut p)),
            Some(StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST)
        );
        assert_eq!(p.a.subscription_count(), MAX_SUBSCRIPTIONS);
    }
}

/// A proxy's challenge and then the registrar's (RFC 3261 §22.3): both answered, the
/// proxy's on every later REGISTER with the next nonce count.
#[test]
fn registration_through_a_challenging_proxy() {
    use sansip::auth::verify;
    use sansip::endpoint::Binding;
    use sansip::message::{Credentials, HeaderKind};
    let mut p = Pair::new();
    let reg =
        p.a.register(
            p.now,
            addr("127.0.0.1:5062"),
            &Binding {
                registrar: "sip:127.0.0.1",
                aor: "<sip:alice@127.0.0.1>",
                expires: 600,
                username: "alice",
                password: "wonderland",
                realm: None,
            },
        )
        .unwrap();
    let answers: [(u16, &[(&str, &str)]); 3] = [
        (
            407,
            &[(
                "Proxy-Authenticate",
                "Digest realm=\"proxy\", nonce=\"p1\", qop=auth",
            )],
        ),
        (
            401,
            &[(
                "WWW-Authenticate",
                "Digest realm=\"registrar\", nonce=\"r1\", qop=auth",
            )],
        ),
        (200, &[]),
    ];
    for (i, (code, headers)) in answers.into_iter().enumerate() {
        p.flush();
        let rx = *incoming(&p.events_b).last().unwrap();
        {
            let req = p.b.request(rx).unwrap();
            let creds = |kind| {
                req.header(kind)
                    .map(|h| Credentials::parse(h.value).unwrap())
            };
            let (www, proxy) = (
                creds(HeaderKind::Authorization),
                creds(HeaderKind::ProxyAuthorization),
            );
            assert_eq!(incoming(&p.events_b).len(), i + 1);
            match i {
                0 => assert!(www.is_none() && proxy.is_none()),
                1 => {
                    assert!(www.is_none());
                    let proxy = proxy.expect("Proxy-Authorization");
                    assert_eq!(proxy.realm(), Some("proxy"));
                    assert_eq!(proxy.param("nc"), Some("00000001"));
                    assert_eq!(
                        verify(&proxy, Method::Register, "wonderland", b""),
                        Ok(true)
                    );
                }
                _ => {
                    let (www, proxy) = (www.expect("Authorization"), proxy.expect("proxy"));
                    assert_eq!(www.realm(), Some("registrar"));
                    assert_eq!(verify(&www, Method::Register, "wonderland", b""), Ok(true));
                    assert_eq!(
                        proxy.param("nc"),
                        Some("00000002"),
                        "the proxy's nonce again"
                    );
                    assert_eq!(
                        verify(&proxy, Method::Register, "wonderland", b""),
                        Ok(true)
                    );
                }
            }
        }
        let headers: Vec<(&str, &str)> = headers.to_vec();
        p.b.respond_with(p.now, rx, StatusCode::new(code).unwrap(), &headers, None)
            .unwrap();
    }
    p.flush();
    assert!(
        p.events_a
            .contains(&Event::Registered { reg, expires: 600 }),
        "{:?}",
        p.events_a
    );
    // Unregistering right away while nothing is out: Expires 0 at once.
    p.a.unregister(p.now, reg).unwrap();
    p.flush();
    let last = p.b.request(*incoming(&p.events_b).last().unwrap()).unwrap();
    assert_eq!(last.header(HeaderKind::Expires).unwrap().value, b"0");
}

/// Review regressions of this session's features: a re-INVITE that cannot be sent
/// leaves the call as it was; a late-offer call hung up before its answer still ACKs
/// before the BYE; a 2xx from a fork without Contact does not confirm another fork's
/// early dialog.
#[test]
fn review_regressions_reinvite_late_offer_forks() {
    // 1. The re-INVITE's transport fails: taken as 503 (§8.1.3.1), the call stays up and
    //    the next re-INVITE may go.
    let mut p = Pair::new();
    let (call, _) = answered_call(&mut p);
    p.events_a.clear();
    let tx =
        p.a.reinvite(p.now, call, &[], ("application/sdp", b"v=0\r\n"))
            .unwrap();
    let mut buf = vec![0u8; 4096];
    while p.a.poll_transmit(&mut buf).unwrap().is_some() {}
    p.a.handle_send_error(p.now, addr("127.0.0.1:5062"));
    p.events_a.extend(std::iter::from_fn(|| p.a.poll_event()));
    assert!(
        p.events_a.contains(&Event::TransportError { tx }),
        "{:?}",
        p.events_a
    );
    assert_eq!(p.a.call_state(call), Some(SessionState::Confirmed));
    assert!(
        p.a.reinvite(p.now, call, &[], ("application/sdp", b"v=0\r\n"))
            .is_ok()
    );

    // 2. Late offer, hung up before the answer: ACK (without the answer the crate cannot
    //    write), then BYE (§13.2.2.4).
    let mut p = Pair::new();
    let req = Request::new(
        Method::Invite,
        "sip:bob@127.0.0.1:5062",
        "<sip:alice@127.0.0.1>",
        "<sip:bob@127.0.0.1>",
    );
    let call = p.a.invite(p.now, addr("127.0.0.1:5062"), &req).unwrap();
    p.flush();
    let tx = incoming(&p.events_b)[0];
    p.b.respond(
        p.now,
        tx,
        StatusCode::OK,
        Some(("application/sdp", b"v=0\r\n")),
    )
    .unwrap();
    p.flush();
    assert!(p.events_a.contains(&Event::AnswerNeeded { call }));
    p.log.clear();
    p.a.hangup(p.now, call).unwrap();
    p.flush();
    let ladder: Vec<_> = p.log.iter().map(|(_, d, l)| format!("{d}{l}")).collect();
    assert_eq!(ladder, [">ACK", ">BYE", "<200 BYE"]);

    // 3. Fork A rings (early dialog), fork B answers without Contact: the call does not
    //    run on fork A's dialog but on fork B's, whose remote target is the INVITE's
    //    Request-URI for want of a Contact (see tests/unusable_contact.rs).
    let mut p = Pair::new();
    let (call, tx, _) = ringing_call(&mut p);
    assert!(p.a.call_dialog(call).is_some(), "fork A's early dialog");
    let ok = {
        let inv = p.b.request(tx).unwrap();
        let mut b =
            sansip::encode::MessageBuilder::response_to(&inv, StatusCode::OK, "forkB").unwrap();
        b.set_body("application/sdp", b"v=0\r\n");
        let n = b.encode_into(&mut buf).unwrap();
        buf[..n].to_vec()
    };
    let events = to_caller(&mut p, &ok);
    assert!(
        events.contains(&Event::CallEstablished { call }),
        "{events:?}"
    );
    let d = p.a.call_dialog(call).unwrap();
    assert_eq!(d.id().remote_tag(), "forkB");
    let invite_uri = {
        let inv = p.b.request(tx).unwrap();
        String::from_utf8(inv.request_uri_raw().unwrap().to_vec()).unwrap()
    };
    assert_eq!(d.remote_target(), invite_uri);
    p.a.request_in_call(p.now, call, Method::Info, &[], None)
        .unwrap();
}

/// RFC 3261 §22.1: "A UAC MUST NOT re-attempt requests with the credentials that have
/// just been rejected": a registrar that challenges the REGISTER's credentials again for
/// the same realm, without `stale`, gets no third REGISTER.
#[test]
fn refused_register_credentials_are_not_sent_again() {
    use sansip::endpoint::Binding;
    let mut p = Pair::new();
    let reg =
        p.a.register(
            p.now,
            addr("127.0.0.1:5062"),
            &Binding {
                registrar: "sip:127.0.0.1",
                aor: "<sip:alice@127.0.0.1>",
                expires: 60,
                username: "alice",
                password: "nope",
                realm: None,
            },
        )
        .unwrap();
    let mut answered = 0;
    for _ in 0..4 {
        p.flush();
        let txs = incoming(&p.events_b);
        for &rx in &txs[answered..] {
            let challenge = [(
                "WWW-Authenticate",
                "Digest realm=\"127.0.0.1\", nonce=\"n0nce\", qop=\"auth\"",
            )];
            p.b.respond_with(p.now, rx, StatusCode::UNAUTHORIZED, &challenge, None)
                .unwrap();
        }
        answered = txs.len();
    }
    p.flush();
    assert_eq!(answered, 2, "REGISTERs sent");
    assert!(p.events_a.contains(&Event::RegistrationFailed {
        reg,
        status: StatusCode::UNAUTHORIZED
    }));
    assert_eq!(p.a.registration_count(), 0);
}

/// RFC 3261 §14.1 end to end (review s7): after a glare the callee (not the Call-ID's
/// owner) retries first, within 2 s; the caller answers that re-INVITE and, its own
/// 2.1-4 s back-off over, is still told it may retry, and its re-INVITE goes through.
/// Before the fix the callee's re-INVITE cancelled the caller's back-off: the caller
/// never heard `RetryReInvite`.
#[test]
fn both_sides_retry_after_a_glare() {
    const HOLD: &[u8] = b"v=0\r\na=sendonly\r\n";
    let mut p = Pair::new();
    let (call, _) = answered_call(&mut p);
    let b_call = p
        .events_b
        .iter()
        .find_map(|e| match e {
            Event::CallEstablished { call } => Some(*call),
            _ => None,
        })
        .unwrap();
    p.run_until_idle(1_000);
    p.events_a.clear();
    p.events_b.clear();
    let start = p.now.as_millis();
    let a_tx =
        p.a.reinvite(p.now, call, &[], ("application/sdp", HOLD))
            .unwrap();
    let b_tx =
        p.b.reinvite(p.now, b_call, &[], ("application/sdp", HOLD))
            .unwrap();
    p.flush();
    assert_eq!(
        responses(&p.events_a),
        [(a_tx, StatusCode::REQUEST_PENDING)]
    );
    assert_eq!(
        responses(&p.events_b),
        [(b_tx, StatusCode::REQUEST_PENDING)]
    );
    let retried = |events: &[Event]| {
        events
            .iter()
            .any(|e| matches!(e, Event::RetryReInvite { .. }))
    };
    // The callee's back-off ends first: it retries, and the caller accepts.
    while !retried(&p.events_b) && p.advance() {}
    assert!(retried(&p.events_b) && !retried(&p.events_a));
    p.events_a.clear();
    let b_tx =
        p.b.reinvite(p.now, b_call, &[], ("application/sdp", HOLD))
            .unwrap();
    p.flush();
    let a_re = *incoming(&p.events_a).last().unwrap();
    p.a.respond(p.now, a_re, StatusCode::OK, Some(("application/sdp", HOLD)))
        .unwrap();
    p.flush();
    assert!(responses(&p.events_b).contains(&(b_tx, StatusCode::OK)));
    // The caller's own back-off still ends, and its retry goes through.
    while !retried(&p.events_a) && p.advance() {}
    let a_wait = p.now.as_millis() - start;
    assert!((2100..=4000).contains(&a_wait), "caller waited {a_wait} ms");
    p.events_a.clear();
    let a_tx =
        p.a.reinvite(p.now, call, &[], ("application/sdp", HOLD))
            .unwrap();
    p.flush();
    let b_re = *incoming(&p.events_b).last().unwrap();
    p.b.respond(p.now, b_re, StatusCode::OK, Some(("application/sdp", HOLD)))
        .unwrap();
    p.flush();
    assert_eq!(responses(&p.events_a), [(a_tx, StatusCode::OK)]);
    p.a.hangup(p.now, call).unwrap();
    p.flush();
    p.run_until_idle(200_000);
    assert_all_empty(&p);
}

/// RFC 3261 §15 end to end (review s7): the callee hangs up while its 2xx to the
/// caller's re-INVITE waits for the ACK (the first ACK was lost). It sends no BYE yet;
/// its 2xx is retransmitted, the caller ACKs that copy, and then the BYE goes out and
/// the call ends on both sides. Before the fix the BYE was never sent.
#[test]
fn callee_hangup_before_a_reinvite_ack_byes_after_it() {
    let mut p = Pair::new();
    let (call, _) = answered_call(&mut p);
    let b_call = p
        .events_b
        .iter()
        .find_map(|e| match e {
            Event::CallEstablished { call } => Some(*call),
            _ => None,
        })
        .unwrap();
    p.run_until_idle(1_000);
    p.events_b.clear();
    p.a.reinvite(p.now, call, &[], ("application/sdp", b"v=0\r\n"))
        .unwrap();
    p.flush();
    let b_re = *incoming(&p.events_b).last().unwrap();
    p.b.respond(
        p.now,
        b_re,
        StatusCode::OK,
        Some(("application/sdp", b"v=0\r\n")),
    )
    .unwrap();
    // Deliver the 200 to the caller by hand and lose its ACK.
    let mut buf = vec![0u8; 65_535];
    while let Some(t) = p.b.poll_transmit(&mut buf).unwrap() {
        let bytes = t.bytes.to_vec();
        p.a.handle_datagram(p.now, addr("127.0.0.1:5062"), &bytes);
    }
    let mut lost = Vec::new();
    while let Some(t) = p.a.poll_transmit(&mut buf).unwrap() {
        lost.push(first_line(t.bytes));
    }
    assert_eq!(lost, ["ACK"]);
    p.b.hangup(p.now, b_call).unwrap();
    let mut sent = Vec::new();
    while let Some(t) = p.b.poll_transmit(&mut buf).unwrap() {
        sent.push(first_line(t.bytes));
    }
    assert!(
        !sent.iter().any(|m| m == "BYE"),
        "no BYE before the ACK: {sent:?}"
    );
    // The 2xx is retransmitted, ACKed again, and then the BYE goes out.
    p.run_until_idle(200_000);
    assert!(
        p.log.iter().any(|(_, dir, m)| *dir == '<' && m == "BYE"),
        "{:?}",
        p.log
    );
    assert!(
        p.events_a
            .iter()
            .any(|e| matches!(e, Event::CallTerminated { .. }))
    );
    assert_all_empty(&p);
}

/// An INVITE whose From tag is `MAX_TAG` bytes makes a call; one a byte longer is refused
/// with 500 and a `Capacity::String` event, and makes none (the tags of a new call are
/// checked before its slot is filled).
#[test]
fn an_invite_with_a_from_tag_past_max_tag_is_refused() {
    use sansip::dialog::MAX_TAG;
    let mut buf = [0u8; 4096];
    for (len, made) in [(MAX_TAG, true), (MAX_TAG + 1, false)] {
        let mut p = Pair::new();
        let invite = format!(
            "INVITE sip:b@127.0.0.1:5062 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKlongtag\r\n\
From: <sip:a@127.0.0.1>;tag={}\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: long-tag\r\n\
CSeq: 1 INVITE\r\nContact: <sip:a@127.0.0.1:5061>\r\nContent-Length: 0\r\n\r\n",
            "t".repeat(len)
        );
        p.b.handle_datagram(p.now, addr("127.0.0.1:5061"), invite.as_bytes());
        let events: Vec<Event> = std::iter::from_fn(|| p.b.poll_event()).collect();
        let call = events.iter().find_map(|e| match e {
            Event::IncomingRequest { call, .. } => Some(*call),
            _ => None,
        });
        let mut sent = Vec::new();
        while let Some(t) = p.b.poll_transmit(&mut buf).unwrap() {
            sent.push(Message::parse(t.bytes).unwrap().status().unwrap());
        }
        if made {
            assert!(matches!(call, Some(Some(_))), "{len}: {events:?}");
            assert!(p.b.call_dialog(call.flatten().unwrap()).is_some());
        } else {
            assert_eq!(call, None, "{len}: {events:?}");
            assert!(
                events.contains(&Event::Capacity(sansip::error::Capacity::String)),
                "{len}: {events:?}"
            );
            assert_eq!(sent, [StatusCode::SERVER_INTERNAL_ERROR]);
        }
    }
}
