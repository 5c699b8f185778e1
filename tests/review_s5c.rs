//! Review of the session-5 changes (lingering client transactions, early dialogs per
//! fork for a caller, the review-s5/s5b fixes): each test states the RFC-correct
//! behaviour through the public API.

mod review_s4_support;

use review_s4_support::*;
use sansip::endpoint::{CallHandle, Event, TxHandle};
use sansip::message::{HeaderKind, Message, Method, StatusCode};

fn value(m: &Message<'_>, kind: HeaderKind) -> String {
    String::from_utf8_lossy(m.header(kind).unwrap().value).into_owned()
}

/// A request from the callee at `port` within the dialog its response `resp` made.
fn in_dialog_of(resp: &Message<'_>, port: u16, method: &str, seq: u32) -> Vec<u8> {
    format!(
        "{method} sip:alice@127.0.0.1:5061 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-s5c-{method}-{seq}-{port}\r\n\
         Max-Forwards: 70\r\n\
         From: {to}\r\n\
         To: {from}\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: {seq} {method}\r\n\
         Contact: <sip:bob@127.0.0.1:{port}>\r\n\
         Content-Length: 0\r\n\r\n",
        to = value(resp, HeaderKind::To),
        from = value(resp, HeaderKind::From),
        call_id = value(resp, HeaderKind::CallId),
    )
    .into_bytes()
}

/// The caller's (node 0's) answers to node `to`'s requests of `method`, in order.
fn answers(n: &Net, to: usize, method: Method<'_>) -> Vec<u16> {
    n.between(0, to)
        .into_iter()
        .filter(|(_, m)| m.cseq().is_ok_and(|c| c.method() == method))
        .filter_map(|(_, m)| m.status().map(|s| s.as_u16()))
        .collect()
}

/// The requests node 0's host was given: transaction, call, method.
fn given(n: &Net) -> Vec<(TxHandle, Option<CallHandle>, String)> {
    n.nodes[0]
        .events
        .iter()
        .filter_map(|e| match e {
            Event::IncomingRequest { tx, call } => {
                let m = n.nodes[0].ep.request(*tx)?;
                Some((*tx, *call, m.method()?.as_str().to_string()))
            }
            _ => None,
        })
        .collect()
}

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
    n.fork.push((addr(5062), addr(5063)));
    let call = n.invite(0, 1, Some(SDP));
    let (tx1, _) = n.incoming(1).unwrap();
    let (tx2, _) = n.incoming(2).unwrap();
    for (i, tx) in [(1, tx1), (2, tx2)] {
        n.nodes[i]
            .ep
            .respond(n.now, tx, StatusCode::RINGING, None)
            .unwrap();
        n.flush();
    }
    let r2 = n.responses(2, 0, 180)[0].1.as_bytes().to_vec();
    let r2 = Message::parse(&r2).unwrap();
    // Fork 2's early dialog works before.
    n.deliver(addr(5063), addr(5061), &in_dialog_of(&r2, 5063, "INFO", 1));
    n.flush();
    assert_eq!(given(&n).pop().map(|g| (g.1, g.2)), Some((Some(call), "INFO".into())));
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
    n.deliver(addr(5063), addr(5061), &in_dialog_of(&r2, 5063, "INFO", 2));
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
    n.deliver(addr(5062), addr(5061), &in_dialog_of(&r1, 5062, "INFO", 7));
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
    n.fork.push((addr(5062), addr(5063)));
    let call = n.invite(0, 1, Some(SDP));
    let (tx1, _) = n.incoming(1).unwrap();
    let (tx2, _) = n.incoming(2).unwrap();
    for (i, tx) in [(1, tx1), (2, tx2)] {
        n.nodes[i]
            .ep
            .respond(n.now, tx, StatusCode::RINGING, None)
            .unwrap();
        n.flush();
    }
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
    assert_eq!(n.responses(2, 0, 200).len(), 2, "the 2xx and the 200 to BYE");
    let ok2 = n.responses(2, 0, 200)[0].1.as_bytes().to_vec();
    let ok2 = Message::parse(&ok2).unwrap();
    let before = given(&n).len();

    // A request within fork 2's ended dialog (sent before its callee saw the BYE, say).
    n.deliver(addr(5063), addr(5061), &in_dialog_of(&ok2, 5063, "INFO", 5));
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
    let mut n = Net::with_linger(&[true, true, true], 64, 64 * 1024);
    n.fork.push((addr(5062), addr(5063)));
    let call = n.invite(0, 1, Some(SDP));
    let (tx1, _) = n.incoming(1).unwrap();
    let (tx2, _) = n.incoming(2).unwrap();
    for (i, tx) in [(1, tx1), (2, tx2)] {
        n.nodes[i]
            .ep
            .respond(n.now, tx, StatusCode::RINGING, None)
            .unwrap();
        n.flush();
    }
    assert_eq!(n.requests(0, 2, Method::Prack).len(), 1);
    n.nodes[1]
        .ep
        .respond(n.now, tx1, StatusCode::OK, Some(("application/sdp", SDP)))
        .unwrap();
    n.flush();
    assert!(n.nodes[0].ep.lingering_count() >= 1, "the INVITE lingers");
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
// once the call is freed its forks' CSeq numbers are gone, and the orphan BYE is built
// from the INVITE alone, so it reuses the PRACK's CSeq.
#[test]
#[ignore = "review-s5c: orphan BYE after the call ended reuses a PRACKed fork's CSeq (§12.2.1.1), 500 from the fork"]
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
