//! Review of the session-5 changes (lingering client transactions, early dialogs per
//! fork for a caller, the review-s5/s5b fixes): each test states the RFC-correct
//! behaviour through the public API.

mod review_s4_support;

use review_s4_support::*;
use sansip::endpoint::Event;
use sansip::message::{Message, Method, StatusCode};

fn terminated(n: &Net, i: usize) -> bool {
    n.nodes[i]
        .events
        .iter()
        .any(|e| matches!(e, Event::CallTerminated { .. }))
}

/// §12.1.2 / §12.2.1.2: a 481 to a request within one fork's early dialog ends that early
/// dialog alone. Another fork's early dialog is untouched: a request the other callee
/// sends within it still reaches the caller's host (as it did before the 481), and the
/// caller can still send within it.
#[test]
fn a_481_in_one_forks_early_dialog_leaves_the_other_forks_early_dialog() {
    let mut n = Net::new(&[false, false, false]);
    let (call, _, tx2) = n.ring_two_forks();
    let r2 = n.responses(2, 0, 180)[0].1.as_bytes().to_vec();
    let r2 = Message::parse(&r2).unwrap();
    // Fork 2's early dialog works before.
    n.deliver(
        addr(5063),
        addr(5061),
        &in_early_dialog(&r2, 5063, "INFO", 1),
    );
    n.flush();
    assert_eq!(
        given(&n).pop().map(|g| (g.1, g.2)),
        Some((Some(call), "INFO".into()))
    );
    let (info, _, _) = given(&n).pop().unwrap();
    n.nodes[0]
        .ep
        .respond(n.now, info, StatusCode::OK, None)
        .unwrap();
    n.flush();

    // The caller's INFO goes within fork 1's early dialog (the first); fork 1 says 481.
    let now = n.now;
    n.nodes[0]
        .ep
        .request_in_call(now, call, Method::Info, &[], None)
        .unwrap();
    n.flush();
    let (info1, _) = n.incoming(1).unwrap();
    n.nodes[1]
        .ep
        .respond(
            n.now,
            info1,
            StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST,
            None,
        )
        .unwrap();
    n.flush();
    assert!(!terminated(&n, 0), "the INVITE goes on");

    // Fork 2's early dialog is still there: its next request reaches the host.
    n.deliver(
        addr(5063),
        addr(5061),
        &in_early_dialog(&r2, 5063, "INFO", 2),
    );
    n.flush();
    assert_eq!(
        answers(&n, 2, Method::Info),
        [200],
        "fork 2's request within its early dialog is refused"
    );
    let (info, got_call, method) = given(&n).pop().unwrap();
    assert_eq!((got_call, method.as_str()), (Some(call), "INFO"));
    n.nodes[0]
        .ep
        .respond(n.now, info, StatusCode::OK, None)
        .unwrap();
    n.flush();
    assert_eq!(answers(&n, 2, Method::Info), [200, 200]);
    // Fork 1's early dialog is over: a request within it gets 481 (§12.2.2).
    let r1 = n.responses(1, 0, 180)[0].1.as_bytes().to_vec();
    let r1 = Message::parse(&r1).unwrap();
    n.deliver(
        addr(5062),
        addr(5061),
        &in_early_dialog(&r1, 5062, "INFO", 7),
    );
    n.flush();
    assert_eq!(answers(&n, 1, Method::Info), [481]);
    // Fork 2 answers: the call is up with it.
    n.nodes[2]
        .ep
        .respond(n.now, tx2, StatusCode::OK, Some(("application/sdp", SDP)))
        .unwrap();
    n.flush();
    assert!(
        n.nodes[0]
            .events
            .iter()
            .any(|e| matches!(e, Event::CallEstablished { call: c } if *c == call))
    );
    assert_eq!(n.requests(0, 2, Method::Ack).len(), 1);
}

/// §13.2.2.4 and §15: a second fork's 2xx is ACKed and its dialog ended with a BYE; that
/// dialog is then over, not an early dialog of the call (§12.1.2: it became confirmed
/// with the 2xx). A request the other callee still sends within it gets 481 (§12.2.2)
/// rather than reaching the host as a request of the call that is up with the first fork.
#[test]
fn a_fork_whose_2xx_was_acked_and_byed_is_no_early_dialog_of_the_call() {
    let mut n = Net::new(&[false, false, false]);
    let (call, tx1, tx2) = n.ring_two_forks();
    n.nodes[1]
        .ep
        .respond(n.now, tx1, StatusCode::OK, Some(("application/sdp", SDP)))
        .unwrap();
    n.flush();
    assert!(
        n.nodes[0]
            .events
            .iter()
            .any(|e| matches!(e, Event::CallEstablished { call: c } if *c == call))
    );
    // Fork 2 answers too: ACK and BYE (§13.2.2.4); its BYE is answered 200.
    n.nodes[2]
        .ep
        .respond(n.now, tx2, StatusCode::OK, Some(("application/sdp", SDP)))
        .unwrap();
    n.flush();
    assert_eq!(n.requests(0, 2, Method::Ack).len(), 1);
    assert_eq!(n.requests(0, 2, Method::Bye).len(), 1);
    assert_eq!(
        n.responses(2, 0, 200).len(),
        2,
        "the 2xx and the 200 to BYE"
    );
    let ok2 = n.responses(2, 0, 200)[0].1.as_bytes().to_vec();
    let ok2 = Message::parse(&ok2).unwrap();
    let before = given(&n).len();

    // A request within fork 2's ended dialog (sent before its callee saw the BYE, say).
    n.deliver(
        addr(5063),
        addr(5061),
        &in_early_dialog(&ok2, 5063, "INFO", 5),
    );
    n.flush();
    assert_eq!(
        given(&n).len(),
        before,
        "the host is given a request of fork 2 as one of the call with fork 1"
    );
    assert_eq!(answers(&n, 2, Method::Info), [481]);
}

/// A forked call with 100rel at both callees, the caller keeping answered transactions
/// as lingering records: fork 1 answers, fork 2 has PRACKed its reliable 180 (CSeq 2 in
/// its early dialog) and answers later. RFC 6026 §8.4 / §13.2.2.4: its 2xx is ACKed and
/// BYEd from the INVITE the record keeps; §12.2.1.1: the BYE's CSeq goes on above the
/// fork's PRACK, so fork 2 takes it (not 500, §12.2.2).
fn forked_100rel_call_with_linger(end_first: bool) -> Net {
    forked_100rel_call(end_first, 64)
}

/// [`forked_100rel_call`] with room for `records` records in `bytes` bytes.
fn forked_100rel_call_in(end_first: bool, records: usize, bytes: usize) -> Net {
    forked_100rel_call_sized(end_first, records, bytes)
}

/// [`forked_100rel_call_with_linger`] with `linger` records (0: none, every transaction
/// stays a full entry).
fn forked_100rel_call(end_first: bool, linger: usize) -> Net {
    forked_100rel_call_sized(end_first, linger, linger * 1024)
}

fn forked_100rel_call_sized(end_first: bool, linger: usize, bytes: usize) -> Net {
    let mut n = Net::with_linger(&[true, true, true], linger, bytes);
    let (call, tx1, tx2) = n.ring_two_forks();
    assert_eq!(n.requests(0, 2, Method::Prack).len(), 1);
    n.nodes[1]
        .ep
        .respond(n.now, tx1, StatusCode::OK, Some(("application/sdp", SDP)))
        .unwrap();
    n.flush();
    assert_eq!(
        n.nodes[0].ep.lingering_count() >= 1,
        linger > 0,
        "the INVITE lingers when records are configured"
    );
    if end_first {
        let now = n.now;
        n.nodes[0].ep.hangup(now, call).unwrap();
        n.flush();
        assert!(terminated(&n, 0));
    }
    n.nodes[2]
        .ep
        .respond(n.now, tx2, StatusCode::OK, Some(("application/sdp", SDP)))
        .unwrap();
    n.flush();
    n
}

#[test]
fn a_pracked_forks_late_2xx_is_byed_above_its_prack_cseq_while_the_call_is_up() {
    let n = forked_100rel_call_with_linger(false);
    let prack = n.requests(0, 2, Method::Prack)[0].cseq().unwrap().seq();
    let byes = n.requests(0, 2, Method::Bye);
    assert_eq!(byes.len(), 1);
    assert!(byes[0].cseq().unwrap().seq() > prack);
    assert_eq!(n.responses(2, 0, 500).len(), 0);
    assert!(!terminated(&n, 0), "the call with fork 1 goes on");
}

// Not a regression (the full-entry path, `ack_and_bye_orphan`, did the same before):
// once the call was freed its forks' CSeq numbers were gone, and the orphan BYE, built
// from the INVITE alone, reused the PRACK's CSeq. They are now kept with the INVITE.
#[test]
fn a_pracked_forks_late_2xx_is_byed_above_its_prack_cseq_after_the_call_ended() {
    let n = forked_100rel_call_with_linger(true);
    let prack = n.requests(0, 2, Method::Prack)[0].cseq().unwrap().seq();
    assert_eq!(n.requests(0, 2, Method::Ack).len(), 1);
    let byes = n.requests(0, 2, Method::Bye);
    assert_eq!(byes.len(), 1);
    assert!(
        byes[0].cseq().unwrap().seq() > prack,
        "the BYE reuses CSeq {} of the fork's PRACK (§12.2.1.1)",
        prack
    );
    assert_eq!(n.responses(2, 0, 500).len(), 0, "fork 2 refuses the BYE");
}

mod by_hand {
    //! The caller alone, its peer's responses written by hand.
    use std::net::SocketAddr;

    use sansip::Instant;
    use sansip::encode::{MessageBuilder, Value};
    use sansip::endpoint::{DigestCredentials, Endpoint, EndpointConfig, Event, Request};
    use sansip::message::{HeaderKind, Message, Method, StatusCode};

    type Ep = Endpoint<16, 8, 2048>;

    pub const CALLEE: &str = "127.0.0.1:5062";

    pub fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    /// A caller on 127.0.0.1:5061 keeping answered transactions as records.
    pub fn caller() -> Box<Ep> {
        Box::new(Endpoint::new(EndpointConfig {
            linger_records: 64,
            linger_bytes: 64 * 1024,
            ..EndpointConfig::new(addr("127.0.0.1:5061"), 21)
        }))
    }

    pub fn sent(ep: &mut Ep) -> Vec<Vec<u8>> {
        let mut buf = vec![0u8; 65_535];
        let mut out = Vec::new();
        while let Some(t) = ep.poll_transmit(&mut buf).unwrap() {
            out.push(t.bytes.to_vec());
        }
        out
    }

    pub fn events(ep: &mut Ep) -> Vec<Event> {
        std::iter::from_fn(|| ep.poll_event()).collect()
    }

    /// Response `code` to `request` with To tag `tag`, `headers`, and `body` (SDP).
    pub fn reply(
        request: &[u8],
        code: u16,
        tag: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Vec<u8> {
        let req = Message::parse(request).unwrap();
        let mut b = MessageBuilder::response_to(&req, StatusCode::new(code).unwrap(), tag).unwrap();
        if (101..300).contains(&code) {
            b.push("Contact", Value::Text("<sip:bob@127.0.0.1:5062>"));
        }
        for (name, value) in headers {
            b.push(name, Value::Text(value));
        }
        if let Some(body) = body {
            b.set_body("application/sdp", body);
        }
        let mut buf = vec![0u8; 4096];
        let n = b.encode_into(&mut buf).unwrap();
        buf.truncate(n);
        buf
    }

    pub fn method(bytes: &[u8]) -> String {
        Message::parse(bytes)
            .unwrap()
            .method()
            .map_or(String::new(), |m| m.as_str().to_owned())
    }

    pub fn has_authorization(bytes: &[u8]) -> bool {
        Message::parse(bytes)
            .unwrap()
            .header(HeaderKind::Authorization)
            .is_some()
    }

    pub fn invite(
        ep: &mut Ep,
        creds: Option<DigestCredentials<'static>>,
        body: Option<&'static [u8]>,
    ) -> (sansip::endpoint::CallHandle, Vec<u8>) {
        let req = Request {
            body: body.map(|b| ("application/sdp", b)),
            credentials: creds,
            ..Request::new(
                Method::Invite,
                "sip:bob@127.0.0.1:5062",
                "<sip:alice@127.0.0.1>",
                "<sip:bob@127.0.0.1>",
            )
        };
        let call = ep.invite(Instant::ZERO, addr(CALLEE), &req).unwrap();
        let inv = sent(ep).pop().unwrap();
        (call, inv)
    }
}

/// §22.1: the ACK of a 2xx carries the credentials of its INVITE; with the INVITE
/// lingering as a record (RFC 6026 Accepted) its retransmitted 2xx and another fork's 2xx
/// are ACKed with them too.
#[test]
fn acks_after_the_invite_lingered_carry_its_credentials() {
    use by_hand::*;
    use sansip::Instant;
    let mut ep = caller();
    let creds = sansip::endpoint::DigestCredentials::new("alice", "wonderland");
    let (_call, first) = invite(&mut ep, Some(creds), Some(SDP));
    let challenge = "Digest realm=\"pbx.test\", nonce=\"u-1\", qop=\"auth\"";
    ep.handle_datagram(
        Instant::ZERO,
        addr(CALLEE),
        &reply(&first, 401, "a", &[("WWW-Authenticate", challenge)], None),
    );
    let out = sent(&mut ep);
    let retry = out.into_iter().find(|b| method(b) == "INVITE").unwrap();
    assert!(has_authorization(&retry));
    let ok = reply(&retry, 200, "a", &[], Some(SDP));
    ep.handle_datagram(Instant::ZERO, addr(CALLEE), &ok);
    let acks: Vec<_> = sent(&mut ep);
    assert_eq!(acks.len(), 1);
    assert!(has_authorization(&acks[0]));
    assert!(ep.lingering_count() >= 1, "the INVITE lingers");
    // Retransmitted 2xx: the same ACK, credentials and all (§13.2.2.4).
    ep.handle_datagram(Instant::ZERO, addr(CALLEE), &ok);
    let again = sent(&mut ep);
    assert_eq!(again.len(), 1);
    assert!(has_authorization(&again[0]), "re-ACK without credentials");
    // Another fork's 2xx: ACK with credentials, then BYE.
    ep.handle_datagram(
        Instant::ZERO,
        addr("127.0.0.1:5063"),
        &reply(&retry, 200, "b", &[], Some(SDP)),
    );
    let fork = sent(&mut ep);
    let methods: Vec<_> = fork.iter().map(|b| method(b)).collect();
    assert_eq!(methods, ["ACK", "BYE"]);
    assert!(
        has_authorization(&fork[0]),
        "fork's ACK without credentials"
    );
}

/// RFC 3264 §4, §13.2.1: a late-offer call (offer in the 2xx) gets its ACK with the
/// host's answer, also once the INVITE lingers as a record; that ACK is sent again for
/// a retransmitted 2xx (§13.2.2.4).
#[test]
fn a_late_offer_ack_after_the_invite_lingered() {
    use by_hand::*;
    use sansip::Instant;
    let mut ep = caller();
    let (call, inv) = invite(&mut ep, None, None);
    let ok = reply(&inv, 200, "a", &[], Some(SDP));
    ep.handle_datagram(Instant::ZERO, addr(CALLEE), &ok);
    assert!(sent(&mut ep).is_empty(), "no ACK before the answer");
    assert!(
        events(&mut ep)
            .iter()
            .any(|e| matches!(e, Event::AnswerNeeded { call: c } if *c == call))
    );
    assert!(ep.lingering_count() >= 1, "the INVITE lingers");
    ep.ack_with_answer(call, ("application/sdp", SDP)).unwrap();
    let ack = sent(&mut ep);
    assert_eq!(ack.len(), 1);
    assert_eq!(method(&ack[0]), "ACK");
    assert!(!Message::parse(&ack[0]).unwrap().body().is_empty());
    ep.handle_datagram(Instant::ZERO, addr(CALLEE), &ok);
    let again = sent(&mut ep);
    assert_eq!(again, ack, "the same ACK again");
}

/// The same without lingering records: the INVITE stays a full entry, which keeps the
/// forks' CSeq numbers once the call is over (§12.2.1.1).
#[test]
fn a_pracked_forks_late_2xx_is_byed_above_its_prack_cseq_without_linger() {
    let n = forked_100rel_call(true, 0);
    let prack = n.requests(0, 2, Method::Prack)[0].cseq().unwrap().seq();
    let byes = n.requests(0, 2, Method::Bye);
    assert_eq!(byes.len(), 1);
    assert!(byes[0].cseq().unwrap().seq() > prack);
    assert_eq!(n.responses(2, 0, 500).len(), 0);
}

/// A store with room for the INVITE's record and little else (review-s5d): the forks'
/// CSeq numbers live inside that record, so the late fork's BYE still goes above its
/// PRACK (§12.2.1.1).
#[test]
fn a_pracked_forks_late_2xx_is_byed_above_its_prack_cseq_with_a_small_store() {
    let n = forked_100rel_call_in(true, 3, 8192);
    let prack = n.requests(0, 2, Method::Prack)[0].cseq().unwrap().seq();
    let byes = n.requests(0, 2, Method::Bye);
    assert_eq!(byes.len(), 1);
    assert!(byes[0].cseq().unwrap().seq() > prack);
    assert_eq!(n.responses(2, 0, 500).len(), 0);
}
