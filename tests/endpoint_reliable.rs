//! Reliable provisional responses between two endpoints (RFC 3262): the caller says
//! `Supported: 100rel`, the callee sends its 180/183 with `Require: 100rel` and an RSeq
//! and retransmits it until the caller's PRACK, and gives up with a 5xx after 64*T1.

use std::net::SocketAddr;

use sansip::Instant;
use sansip::check::Capabilities;
use sansip::endpoint::{CallHandle, Endpoint, EndpointConfig, Event, Request, SendError, TxHandle};
use sansip::message::{HeaderKind, Message, Method, StatusCode};

type Ep = Endpoint<16, 8, 2048>;

const A: &str = "127.0.0.1:5061";
const B: &str = "127.0.0.1:5062";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Capabilities with the 100rel extension: what turns reliability on.
const WITH_100REL: Capabilities<'static> = Capabilities {
    extensions: &["100rel"],
    ..Capabilities::DEFAULT
};

struct Pair {
    a: Box<Ep>,
    b: Box<Ep>,
    now: Instant,
    /// Every datagram delivered: time, direction, bytes.
    wire: Vec<(u64, char, Vec<u8>)>,
    events_a: Vec<Event>,
    events_b: Vec<Event>,
    /// Datagrams from the caller to drop (PRACKs, to test retransmission).
    drop_pracks: bool,
}

impl Pair {
    fn new(a_100rel: bool, b_100rel: bool) -> Self {
        let config = |a, seed, rel: bool| EndpointConfig {
            capabilities: if rel {
                WITH_100REL
            } else {
                Capabilities::DEFAULT
            },
            ..EndpointConfig::new(addr(a), seed)
        };
        Pair {
            a: Box::new(Endpoint::new(config(A, 1, a_100rel))),
            b: Box::new(Endpoint::new(config(B, 2, b_100rel))),
            now: Instant::ZERO,
            wire: Vec::new(),
            events_a: Vec::new(),
            events_b: Vec::new(),
            drop_pracks: false,
        }
    }

    fn flush(&mut self) {
        let mut buf = vec![0u8; 65_535];
        loop {
            let mut moved = false;
            while let Some(t) = self.a.poll_transmit(&mut buf).unwrap() {
                let bytes = t.bytes.to_vec();
                moved = true;
                let prack = Message::parse(&bytes).unwrap().method() == Some(Method::Prack);
                if prack && self.drop_pracks {
                    continue;
                }
                self.wire.push((self.now.as_millis(), '>', bytes.clone()));
                self.b.handle_datagram(self.now, addr(A), &bytes);
            }
            while let Some(t) = self.b.poll_transmit(&mut buf).unwrap() {
                let bytes = t.bytes.to_vec();
                moved = true;
                self.wire.push((self.now.as_millis(), '<', bytes.clone()));
                self.a.handle_datagram(self.now, addr(B), &bytes);
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

    fn run_until(&mut self, ms: u64) {
        while self.now.as_millis() < ms && self.advance() {}
    }

    /// The caller invites; returns its call and the callee's INVITE transaction.
    fn invite(&mut self) -> (CallHandle, TxHandle) {
        let req = Request {
            body: Some(("application/sdp", b"v=0\r\n")),
            ..Request::new(
                Method::Invite,
                "sip:bob@127.0.0.1:5062",
                "<sip:alice@127.0.0.1>",
                "<sip:bob@127.0.0.1>",
            )
        };
        let call = self.a.invite(self.now, addr(B), &req).unwrap();
        self.flush();
        let tx = self
            .events_b
            .iter()
            .find_map(|e| match e {
                Event::IncomingRequest { tx, call: Some(_) } => Some(*tx),
                _ => None,
            })
            .unwrap();
        (call, tx)
    }

    /// The messages sent so far in direction `dir` with their first line.
    fn sent(&self, dir: char) -> Vec<(u64, Message<'_>)> {
        self.wire
            .iter()
            .filter(|(_, d, _)| *d == dir)
            .map(|(t, _, b)| (*t, Message::parse(b).unwrap()))
            .collect()
    }

    fn pracks(&self) -> Vec<Message<'_>> {
        self.sent('>')
            .into_iter()
            .filter(|(_, m)| m.method() == Some(Method::Prack))
            .map(|(_, m)| m)
            .collect()
    }

    fn acknowledged(&self) -> Vec<u32> {
        self.events_b
            .iter()
            .filter_map(|e| match e {
                Event::ProvisionalAcknowledged { rseq, .. } => Some(*rseq),
                _ => None,
            })
            .collect()
    }
}

fn value<'a>(m: &Message<'a>, kind: HeaderKind) -> Option<&'a str> {
    m.header(kind)
        .map(|h| std::str::from_utf8(h.value).unwrap())
}

fn with_status(p: &Pair, code: u16) -> Vec<(u64, Message<'_>)> {
    p.sent('<')
        .into_iter()
        .filter(|(_, m)| m.status().map(|s| s.as_u16()) == Some(code))
        .collect()
}

#[test]
fn a_reliable_180_is_pracked_and_the_call_goes_on() {
    let mut p = Pair::new(true, true);
    let (call, tx) = p.invite();
    let invite = p.sent('>').remove(0).1;
    assert_eq!(value(&invite, HeaderKind::Supported), Some("100rel"));

    p.b.respond(p.now, tx, StatusCode::RINGING, None).unwrap();
    p.flush();
    let ringing = with_status(&p, 180);
    let rseq = ringing[0].1.rseq().unwrap().unwrap().get();
    assert_eq!(value(&ringing[0].1, HeaderKind::Require), Some("100rel"));

    // One PRACK, in the early dialog, with RAck "rseq 1 INVITE" and CSeq 2.
    let pracks = p.pracks();
    assert_eq!(pracks.len(), 1);
    let rack = pracks[0].rack().unwrap().unwrap();
    assert_eq!(
        (rack.rseq(), rack.cseq(), rack.method()),
        (rseq, 1, Method::Invite)
    );
    assert_eq!(pracks[0].cseq().unwrap().seq(), 2);
    assert!(pracks[0].to().unwrap().tag().is_some());
    assert_eq!(p.acknowledged(), [rseq]);
    let prack_ok = p.sent('<').into_iter().any(|(_, m)| {
        m.status() == Some(StatusCode::OK) && m.cseq().unwrap().method() == Method::Prack
    });
    assert!(prack_ok);

    // The call is answered and hung up; the BYE continues the CSeq after the PRACK.
    p.b.respond(
        p.now,
        tx,
        StatusCode::OK,
        Some(("application/sdp", b"v=0\r\n")),
    )
    .unwrap();
    p.flush();
    assert!(
        p.events_a
            .iter()
            .any(|e| matches!(e, Event::CallEstablished { .. }))
    );
    p.a.hangup(p.now, call).unwrap();
    p.flush();
    let bye = p
        .sent('>')
        .into_iter()
        .find(|(_, m)| m.method() == Some(Method::Bye))
        .unwrap()
        .1;
    assert_eq!(bye.cseq().unwrap().seq(), 3);
    assert!(
        with_status(&p, 200)
            .iter()
            .any(|(_, m)| m.cseq().unwrap().method() == Method::Bye)
    );
    // No 180 retransmission after the PRACK, and everything ends.
    p.run_until(40_000);
    assert_eq!(with_status(&p, 180).len(), 1);
    assert_eq!(
        (
            p.a.call_count(),
            p.b.call_count(),
            p.a.transaction_count(),
            p.b.transaction_count()
        ),
        (0, 0, 0, 0)
    );
}

#[test]
fn a_lost_prack_is_retransmitted_and_the_180_is_not_pracked_twice() {
    let mut p = Pair::new(true, true);
    let (_, tx) = p.invite();
    p.drop_pracks = true;
    p.b.respond(p.now, tx, StatusCode::RINGING, None).unwrap();
    p.flush();
    // The callee retransmits its 180 at T1 and 3*T1 while PRACKs are lost (the run
    // stops at the first timer past 1 s).
    p.run_until(1_000);
    let times: Vec<u64> = with_status(&p, 180).iter().map(|(t, _)| *t).collect();
    assert_eq!(times, [0, 500, 1_500]);
    p.drop_pracks = false;
    p.run_until(5_000);
    // The PRACK that got through is a retransmission of the one PRACK transaction: the
    // repeated 180s were not PRACKed again.
    let pracks = p.pracks();
    assert!(!pracks.is_empty());
    assert!(pracks.iter().all(|m| m.cseq().unwrap().seq() == 2));
    assert_eq!(p.acknowledged().len(), 1);
    let last_180 = with_status(&p, 180).last().unwrap().0;
    assert!(
        last_180 <= 3_500,
        "180 retransmitted after the PRACK: {last_180}"
    );
}

#[test]
fn no_prack_within_64_t1_rejects_the_invite_with_500() {
    let mut p = Pair::new(true, true);
    let (call, tx) = p.invite();
    p.drop_pracks = true;
    p.b.respond(p.now, tx, StatusCode::RINGING, None).unwrap();
    p.flush();
    p.run_until(40_000);
    let times: Vec<u64> = with_status(&p, 180).iter().map(|(t, _)| *t).collect();
    assert_eq!(times, [0, 500, 1_500, 3_500, 7_500, 15_500, 31_500]);
    let failed = with_status(&p, 500);
    assert_eq!(failed[0].0, 32_000);
    assert!(
        p.events_a
            .iter()
            .any(|e| matches!(e, Event::CallTerminated { call: c, .. } if *c == call))
    );
}

#[test]
fn a_2xx_waits_for_the_prack_of_an_offer_in_a_183() {
    let mut p = Pair::new(true, true);
    let (_, tx) = p.invite();
    p.drop_pracks = true;
    p.b.respond(
        p.now,
        tx,
        StatusCode::SESSION_PROGRESS,
        Some(("application/sdp", b"v=0\r\n")),
    )
    .unwrap();
    p.flush();
    // Neither a 2xx nor a second reliable provisional response until the PRACK.
    assert_eq!(
        p.b.respond(
            p.now,
            tx,
            StatusCode::OK,
            Some(("application/sdp", b"v=0\r\n"))
        ),
        Err(SendError::InvalidState)
    );
    assert_eq!(
        p.b.respond(p.now, tx, StatusCode::RINGING, None),
        Err(SendError::InvalidState)
    );
    p.drop_pracks = false;
    p.run_until(2_000);
    assert_eq!(p.acknowledged().len(), 1);
    p.b.respond(p.now, tx, StatusCode::RINGING, None).unwrap();
    p.b.respond(
        p.now,
        tx,
        StatusCode::OK,
        Some(("application/sdp", b"v=0\r\n")),
    )
    .unwrap();
    p.flush();
    // The second reliable provisional response took the next RSeq and got its PRACK.
    let rseqs: Vec<u32> = p.acknowledged();
    assert_eq!(rseqs.len(), 2);
    assert_eq!(rseqs[1], rseqs[0] + 1);
    assert!(
        p.events_a
            .iter()
            .any(|e| matches!(e, Event::CallEstablished { .. }))
    );
}

#[test]
fn without_100rel_on_either_side_provisionals_are_unreliable() {
    for (a, b) in [(false, true), (true, false), (false, false)] {
        let mut p = Pair::new(a, b);
        let (_, tx) = p.invite();
        let invite = p.sent('>').remove(0).1;
        assert_eq!(value(&invite, HeaderKind::Supported).is_some(), a);
        p.b.respond(p.now, tx, StatusCode::RINGING, None).unwrap();
        p.b.respond(
            p.now,
            tx,
            StatusCode::OK,
            Some(("application/sdp", b"v=0\r\n")),
        )
        .unwrap();
        p.flush();
        let ringing = with_status(&p, 180);
        assert_eq!(ringing.len(), 1);
        assert!(ringing[0].1.rseq().is_none());
        assert!(p.pracks().is_empty());
        assert!(
            p.events_a
                .iter()
                .any(|e| matches!(e, Event::CallEstablished { .. }))
        );
    }
}

#[test]
fn a_prack_that_acknowledges_nothing_gets_481_and_the_call_survives() {
    let mut p = Pair::new(true, true);
    let (call, tx) = p.invite();
    p.b.respond(p.now, tx, StatusCode::RINGING, None).unwrap();
    p.flush();
    // Replay the caller's PRACK as a new transaction with RSeq + 1 and the next CSeq.
    let prack = p.pracks()[0].as_bytes().to_vec();
    let text = String::from_utf8(prack).unwrap();
    let rack = value(&Message::parse(text.as_bytes()).unwrap(), HeaderKind::RAck)
        .unwrap()
        .to_string();
    let rseq: u32 = rack.split(' ').next().unwrap().parse().unwrap();
    let forged = text
        .replace(&rack, &format!("{} 1 INVITE", rseq + 1))
        .replace("CSeq: 2 PRACK", "CSeq: 3 PRACK")
        .replace("branch=z9hG4bK", "branch=z9hG4bKforged");
    p.b.handle_datagram(p.now, addr(A), forged.as_bytes());
    let mut buf = vec![0u8; 65_535];
    let t = p.b.poll_transmit(&mut buf).unwrap().unwrap();
    let answer = Message::parse(t.bytes).unwrap();
    assert_eq!(
        answer.status(),
        Some(StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST)
    );
    // The call is still there and can be answered.
    p.b.respond(
        p.now,
        tx,
        StatusCode::OK,
        Some(("application/sdp", b"v=0\r\n")),
    )
    .unwrap();
    p.flush();
    assert!(
        p.events_a
            .iter()
            .any(|e| matches!(e, Event::CallEstablished { call: c } if *c == call))
    );
}

#[test]
fn a_reinvite_gets_unreliable_provisionals_even_with_a_prack_outstanding() {
    // Found by the lossy simulation: the initial 180's PRACK never came, the call was
    // answered anyway (the 180 carried no offer), and a re-INVITE's 180 was refused.
    let mut p = Pair::new(true, true);
    let (call, tx) = p.invite();
    p.drop_pracks = true;
    p.b.respond(p.now, tx, StatusCode::RINGING, None).unwrap();
    p.b.respond(
        p.now,
        tx,
        StatusCode::OK,
        Some(("application/sdp", b"v=0\r\n")),
    )
    .unwrap();
    p.flush();
    assert!(
        p.events_a
            .iter()
            .any(|e| matches!(e, Event::CallEstablished { .. }))
    );
    p.a.reinvite(p.now, call, &[], ("application/sdp", b"v=0\r\n"))
        .unwrap();
    p.flush();
    let reinvite_tx = p
        .events_b
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::IncomingRequest {
                tx: t,
                call: Some(_),
            } if *t != tx => Some(*t),
            _ => None,
        })
        .unwrap();
    p.b.respond(p.now, reinvite_tx, StatusCode::RINGING, None)
        .unwrap();
    p.b.respond(
        p.now,
        reinvite_tx,
        StatusCode::OK,
        Some(("application/sdp", b"v=0\r\n")),
    )
    .unwrap();
    p.flush();
    let ringing = with_status(&p, 180);
    assert_eq!(ringing.len(), 2);
    assert!(ringing[1].1.rseq().is_none());
}
