//! Review of the session-4 changes (RFC 3262 reliable provisional responses in the
//! endpoint, the perf changes, Digest credentials for calls): each test here fails on
//! the reviewed commit and shows one bug. The shared network harness forks an initial
//! INVITE to several endpoints as a forking proxy would.

mod review_s4_support;

use review_s4_support::*;
use sansip::endpoint::Event;
use sansip::message::{CSeq, HeaderKind, Message, Method, RAck, RSeq, StatusCode};
use sansip::reliable::{self, Uas, UasAction};

fn value(m: &Message<'_>, kind: HeaderKind) -> Option<String> {
    m.header(kind)
        .map(|h| String::from_utf8_lossy(h.value).into_owned())
}

/// `request` (a PRACK as sent) with `body` as an application/sdp body.
fn with_sdp_body(request: &[u8], body: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(request).unwrap();
    let head = text.split("\r\n\r\n").next().unwrap();
    let mut out = String::new();
    for line in head.split("\r\n") {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("content-length") || lower.starts_with("content-type") {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Content-Type: application/sdp\r\n");
    out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

// ----- forking ---------------------------------------------------------------------

/// RFC 3262 §4 (with erratum 4604: the RSeq is tracked per early dialog) and erratum
/// 4600 (each fork numbers its own responses): a reliable provisional response from a
/// second fork must be PRACKed in that fork's early dialog. The endpoint keeps one
/// early dialog and one `reliable::Uac` per call, so the second fork's 180 is never
/// PRACKed: that callee retransmits it for 32 s and then rejects the INVITE with 500.
#[test]
fn a_reliable_180_from_a_second_fork_is_pracked() {
    // 0 calls, a forking proxy sends the INVITE to 1 and 2, both with 100rel.
    let mut n = Net::new(&[true, true, true]);
    n.fork.push((addr(5062), addr(5063)));
    n.invite(0, 1, Some(SDP));
    let (tx1, _) = n.incoming(1).unwrap();
    let (tx2, _) = n.incoming(2).unwrap();
    n.nodes[1]
        .ep
        .respond(n.now, tx1, StatusCode::RINGING, None)
        .unwrap();
    n.flush();
    n.nodes[2]
        .ep
        .respond(n.now, tx2, StatusCode::RINGING, None)
        .unwrap();
    n.flush();
    assert_eq!(
        n.acknowledged(1).len(),
        1,
        "the first fork's 180 is PRACKed"
    );
    n.run_until(40_000);
    assert_eq!(
        n.requests(0, 2, Method::Prack).len(),
        1,
        "the second fork's reliable 180 was never PRACKed"
    );
    assert!(
        n.responses(2, 0, 500).is_empty(),
        "the second fork gave up on its 180 and rejected the INVITE with 500"
    );
}

/// RFC 3261 §12.2.1.1 (the local CSeq of a dialog grows strictly with each request) with
/// RFC 3262 §4 (the PRACK is sent within the early dialog): fork 1 gets a PRACK with
/// CSeq 2, fork 2 answers first, then fork 1's 2xx arrives and is ACKed and BYEd
/// (§13.2.2.4). That BYE is built from the INVITE (`fork_dialog`), so it reuses CSeq 2
/// in the dialog where the PRACK already used it; fork 1 (a sansip callee, like any
/// §12.2.2 UAS) rejects it with 500 and its call stays up.
#[test]
fn a_bye_to_a_fork_after_its_prack_uses_a_higher_cseq() {
    let mut n = Net::new(&[true, true, true]);
    n.fork.push((addr(5062), addr(5063)));
    n.invite(0, 1, Some(SDP));
    let (tx1, _) = n.incoming(1).unwrap();
    let (tx2, _) = n.incoming(2).unwrap();
    // Fork 1 rings reliably and is PRACKed (CSeq 2).
    n.nodes[1]
        .ep
        .respond(n.now, tx1, StatusCode::RINGING, None)
        .unwrap();
    n.flush();
    let pracks = n.requests(0, 1, Method::Prack);
    assert_eq!(pracks.len(), 1);
    let prack_seq = pracks[0].cseq().unwrap().seq();
    assert_eq!(n.acknowledged(1).len(), 1);
    // Fork 2 answers first: the call is up with fork 2.
    n.nodes[2]
        .ep
        .respond(n.now, tx2, StatusCode::OK, Some(("application/sdp", SDP)))
        .unwrap();
    n.flush();
    assert!(
        n.nodes[0]
            .events
            .iter()
            .any(|e| matches!(e, Event::CallEstablished { .. }))
    );
    // Fork 1 answers too: the caller ACKs it and hangs it up.
    n.nodes[1]
        .ep
        .respond(n.now, tx1, StatusCode::OK, Some(("application/sdp", SDP)))
        .unwrap();
    n.flush();
    let byes = n.requests(0, 1, Method::Bye);
    assert_eq!(byes.len(), 1);
    let bye_seq = byes[0].cseq().unwrap().seq();
    let bye_answers: Vec<u16> = n
        .between(1, 0)
        .into_iter()
        .filter(|(_, m)| m.cseq().unwrap().method() == Method::Bye)
        .filter_map(|(_, m)| m.status().map(|s| s.as_u16()))
        .collect();
    assert!(
        bye_seq > prack_seq,
        "BYE CSeq {bye_seq} not above the PRACK's {prack_seq} in the same dialog; fork 1 answered {bye_answers:?}"
    );
    n.run_until(100_000);
    assert_eq!(n.nodes[1].ep.call_count(), 0, "fork 1's call was left up");
}

// ----- offer/answer with PRACK (RFC 3262 §5) ------------------------------------------

/// RFC 3262 §5: "If the UAC receives a reliable provisional response with an offer
/// (this would occur if the UAC sent an INVITE without an offer ...), it MUST generate
/// an answer in the PRACK." The endpoint writes no answer into a PRACK, so it does not
/// offer 100rel on an INVITE without an offer: the UAS then must not send its
/// provisional responses reliably (§3), and the offer in the 183 is answered in the ACK
/// of the 2xx that repeats it, as for any late offer.
#[test]
fn a_late_offer_invite_does_not_offer_100rel() {
    let mut n = Net::new(&[true, true]);
    n.invite(0, 1, None); // late offer: no SDP in the INVITE
    let invite = n.requests(0, 1, Method::Invite).remove(0);
    assert_eq!(value(&invite, HeaderKind::Supported), None);
    let (tx, _) = n.incoming(1).unwrap();
    n.nodes[1]
        .ep
        .respond(
            n.now,
            tx,
            StatusCode::SESSION_PROGRESS,
            Some(("application/sdp", SDP)),
        )
        .unwrap();
    n.flush();
    let progress = n.responses(1, 0, 183);
    assert!(progress[0].1.rseq().is_none(), "183 sent reliably");
    assert!(n.requests(0, 1, Method::Prack).is_empty());
    // With an offer, the caller offers 100rel.
    let mut n = Net::new(&[true, true]);
    n.invite(0, 1, Some(SDP));
    let invite = n.requests(0, 1, Method::Invite).remove(0);
    assert_eq!(
        value(&invite, HeaderKind::Supported).as_deref(),
        Some("100rel")
    );
}

/// RFC 3262 §5 from the callee's side: the callee put its offer in a reliable 183 (the
/// INVITE had none); the answer comes in the PRACK. `on_prack` answers 200 and reports
/// only `ProvisionalAcknowledged { call, rseq }`: the PRACK's body is dropped, the host
/// has no transaction handle to read it, and no `AnswerReceived` is raised, so the
/// callee never learns the caller's media.
#[test]
fn an_answer_in_a_prack_reaches_the_callee_host() {
    let mut n = Net::new(&[true, true]);
    // Hold the caller's PRACK: it is re-sent below with an answer in it.
    n.drop = Box::new(|_, _, m| m.method() == Some(Method::Prack));
    // A late offer whose caller says it supports 100rel itself (its host writes the
    // Supported header), so that the callee's offer goes in a reliable 183.
    n.invite_full(0, 1, None, None, &[("Supported", "100rel")]);
    let (tx, call) = n.incoming(1).unwrap();
    // (The caller's own PRACK carries no answer; the test re-sends it with one.)
    n.nodes[1]
        .ep
        .respond(
            n.now,
            tx,
            StatusCode::SESSION_PROGRESS,
            Some(("application/sdp", SDP)),
        )
        .unwrap();
    n.flush();
    // The caller's PRACK was dropped; its client transaction retransmits it (Timer E):
    // catch that copy straight from the caller.
    let mut buf = vec![0u8; 65_535];
    let mut prack_bytes = None;
    while prack_bytes.is_none() {
        let t = n.nodes[0].ep.poll_timeout().unwrap();
        n.now = n.now.max(t);
        n.nodes[0].ep.handle_timeout(n.now);
        while let Some(t) = n.nodes[0].ep.poll_transmit(&mut buf).unwrap() {
            if Message::parse(t.bytes).unwrap().method() == Some(Method::Prack) {
                prack_bytes = Some(t.bytes.to_vec());
            }
        }
    }
    let prack_bytes = prack_bytes.unwrap();
    let answer = b"v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";
    let with_answer = with_sdp_body(&prack_bytes, answer);
    let (a, b) = (n.nodes[0].addr, n.nodes[1].addr);
    n.drop = Box::new(|_, _, _| false);
    n.deliver(a, b, &with_answer);
    n.flush();
    assert_eq!(n.acknowledged(1).len(), 1, "the PRACK acknowledged the 183");
    let reported = n.nodes[1]
        .events
        .iter()
        .any(|e| matches!(e, Event::AnswerReceived { call: c } if *c == call));
    let kept = n.nodes[1]
        .ep
        .call_answer(call)
        .is_some_and(|m| m.body() == answer);
    assert!(
        reported && kept,
        "the answer in the PRACK was dropped (AnswerReceived: {reported}, call_answer: {kept})"
    );
}

// ----- UAS: what is sent reliably -----------------------------------------------------

/// RFC 3262 §3: "The UAS MUST send any non-100 provisional response reliably if the
/// initial request contained a Require header field with the option tag 100rel" (the
/// rule is per request; a re-INVITE is an INVITE). Since ba56f16 only the initial
/// INVITE gets reliability, yet the endpoint accepts a re-INVITE that requires 100rel
/// (100rel is in its capabilities, so no 420) and then sends its 180 unreliably.
#[test]
fn a_reinvite_requiring_100rel_is_not_answered_with_an_unreliable_180() {
    let mut n = Net::new(&[true, true]);
    let call = n.invite(0, 1, Some(SDP));
    let (tx, _) = n.incoming(1).unwrap();
    n.nodes[1]
        .ep
        .respond(n.now, tx, StatusCode::OK, Some(("application/sdp", SDP)))
        .unwrap();
    n.flush();
    n.nodes[0]
        .ep
        .reinvite(
            n.now,
            call,
            &[("Require", "100rel")],
            ("application/sdp", SDP),
        )
        .unwrap();
    n.flush();
    let refused = !n.responses(1, 0, 420).is_empty();
    if !refused {
        let (retx, _) = n.incoming(1).unwrap();
        assert_ne!(retx, tx);
        n.nodes[1]
            .ep
            .respond(n.now, retx, StatusCode::RINGING, None)
            .unwrap();
        n.flush();
        let ringing = n.responses(1, 0, 180);
        let last = &ringing.last().unwrap().1;
        assert!(
            last.rseq().is_some() && value(last, HeaderKind::Require).as_deref() == Some("100rel"),
            "a 180 to a re-INVITE with Require: 100rel went without RSeq/Require"
        );
    }
}

/// RFC 3262 §3: the reliable provisional response is retransmitted until its PRACK.
/// The endpoint's `Retransmit` resends the response the INVITE transaction sent last;
/// a 100 Trying sent after the reliable 180 would replace it and turn the
/// "retransmissions" into 100s (the caller would never see the lost 180, and the callee
/// would reject the INVITE with 500 after 64*T1). So the 100 is refused.
#[test]
fn a_100_after_a_reliable_180_does_not_replace_its_retransmissions() {
    let mut n = Net::new(&[true, true]);
    let mut first_180 = true;
    n.drop = Box::new(move |_, _, m| {
        if m.status() == Some(StatusCode::RINGING) && first_180 {
            first_180 = false;
            return true;
        }
        false
    });
    n.invite(0, 1, Some(SDP));
    let (tx, _) = n.incoming(1).unwrap();
    n.nodes[1]
        .ep
        .respond(n.now, tx, StatusCode::RINGING, None)
        .unwrap();
    // A 100 would replace the 180 the transaction retransmits: refused until the PRACK.
    assert_eq!(
        n.nodes[1].ep.respond(n.now, tx, StatusCode::TRYING, None),
        Err(sansip::endpoint::SendError::InvalidState)
    );
    n.flush();
    n.run_until(40_000);
    let codes: Vec<(u64, u16)> = n
        .between(1, 0)
        .into_iter()
        .filter_map(|(t, m)| m.status().map(|s| (t, s.as_u16())))
        .collect();
    assert_eq!(
        n.acknowledged(1).len(),
        1,
        "the 180 was never retransmitted; the callee sent {codes:?}"
    );
}

// ----- RSeq numbering -----------------------------------------------------------------

/// RFC 3262 §3: only the *first* RSeq of a transaction must lie in 1..=2^31-1; each
/// later one "MUST" be one higher (the header is `1*DIGIT`; as with CSeq, room is
/// left up to 2^32-1). `Uas::send` wraps from 2^31-1 to 1, and `RSeq::parse` (so
/// `reliable::reliable_rseq`, so the endpoint's UAC) refuses 2^31, so a second reliable
/// 1xx from a UAS that started near the top is neither numbered nor recognised right.
#[test]
fn rseq_continues_by_one_past_2_pow_31() {
    let top = (1u32 << 31) - 1;
    let s = Uas::new(top, 1)
        .send(core::time::Duration::from_millis(500), false)
        .unwrap();
    let s = s
        .uas
        .prack(&RAck::new(top, CSeq::new(1, Method::Invite).unwrap()));
    let s = s
        .uas
        .send(core::time::Duration::from_millis(500), false)
        .unwrap();
    let next = match s.actions[0] {
        UasAction::Send { rseq } => rseq,
        other => panic!("{other:?}"),
    };
    let parsed = RSeq::parse(b"2147483648").map(|r| r.get());
    let resp = b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nRequire: 100rel\r\nRSeq: 2147483648\r\nContent-Length: 0\r\n\r\n";
    let seen = reliable::reliable_rseq(&Message::parse(resp).unwrap());
    assert_eq!(
        (next, parsed.ok(), seen),
        (1 << 31, Some(1 << 31), Some(1 << 31)),
        "RSeq after 2^31-1"
    );
}
