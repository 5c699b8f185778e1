//! A caller keeps an early dialog per fork (RFC 3261 §12.1.2): requests a callee sends
//! within its early dialog (UPDATE, INFO) reach the host, whichever fork sent them, until
//! the INVITE transaction ends (§13.2.2.4).

mod review_s4_support;

use review_s4_support::*;
use sansip::endpoint::Event;
use sansip::message::{Message, Method, StatusCode};

#[test]
fn requests_in_every_forks_early_dialog_reach_the_caller() {
    // Node 0 calls node 1; a forking proxy also rings nodes 2 and 3.
    let mut n = Net::new(&[false, false, false, false]);
    n.fork.push((addr(5062), addr(5063)));
    n.fork.push((addr(5062), addr(5064)));
    let call = n.invite(0, 1, Some(SDP));
    let mut txs = Vec::new();
    for i in 1..=3 {
        let (tx, _) = n.incoming(i).unwrap();
        n.nodes[i]
            .ep
            .respond(n.now, tx, StatusCode::RINGING, None)
            .unwrap();
        n.flush();
        txs.push(tx);
    }
    let ringing = |n: &Net, i: usize| n.responses(i, 0, 180)[0].1.as_bytes().to_vec();
    let (r1, r2, r3) = (ringing(&n, 1), ringing(&n, 2), ringing(&n, 3));
    let r2 = Message::parse(&r2).unwrap();
    let r3 = Message::parse(&r3).unwrap();

    // An UPDATE in the second fork's early dialog: the host gets it with the call and
    // answers it (before, 481: only the first fork's early dialog was known).
    n.deliver(
        addr(5063),
        addr(5061),
        &in_early_dialog(&r2, 5063, "UPDATE", 1),
    );
    n.flush();
    let (tx, got_call, method) = given(&n).pop().unwrap();
    assert_eq!((got_call, method.as_str()), (Some(call), "UPDATE"));
    n.nodes[0]
        .ep
        .respond(n.now, tx, StatusCode::OK, None)
        .unwrap();
    n.flush();
    assert_eq!(answers(&n, 2, Method::Update), [200]);
    // §12.2.2: a request not above the fork's last CSeq gets 500.
    n.deliver(
        addr(5063),
        addr(5061),
        &in_early_dialog(&r2, 5063, "INFO", 1),
    );
    n.flush();
    assert_eq!(answers(&n, 2, Method::Info), [500]);
    // §14.2: an INVITE there meets the caller's own INVITE in progress.
    n.deliver(
        addr(5063),
        addr(5061),
        &in_early_dialog(&r2, 5063, "INVITE", 2),
    );
    n.flush();
    assert_eq!(answers(&n, 2, Method::Invite), [491]);

    // The first fork's early dialog works as before.
    let r1 = Message::parse(&r1).unwrap();
    n.deliver(
        addr(5062),
        addr(5061),
        &in_early_dialog(&r1, 5062, "INFO", 1),
    );
    n.flush();
    assert_eq!(given(&n).pop().unwrap().2, "INFO");

    // A BYE in the third fork's early dialog ends that early dialog alone (§15.1.2).
    n.deliver(
        addr(5064),
        addr(5061),
        &in_early_dialog(&r3, 5064, "BYE", 1),
    );
    n.flush();
    assert_eq!(answers(&n, 3, Method::Bye), [200]);
    n.deliver(
        addr(5064),
        addr(5061),
        &in_early_dialog(&r3, 5064, "INFO", 2),
    );
    n.flush();
    assert_eq!(answers(&n, 3, Method::Info), [481]);
    assert!(
        !n.nodes[0]
            .events
            .iter()
            .any(|e| matches!(e, Event::CallTerminated { .. })),
        "the call goes on"
    );

    // Node 1 answers: the call is up with it, and the second fork's early dialog lives on
    // until the INVITE transaction ends (§13.2.2.4, 64*T1 after the 2xx).
    n.nodes[1]
        .ep
        .respond(
            n.now,
            txs[0],
            StatusCode::OK,
            Some(("application/sdp", SDP)),
        )
        .unwrap();
    n.flush();
    assert!(
        n.nodes[0]
            .events
            .iter()
            .any(|e| matches!(e, Event::CallEstablished { call: c } if *c == call))
    );
    n.deliver(
        addr(5063),
        addr(5061),
        &in_early_dialog(&r2, 5063, "INFO", 3),
    );
    n.flush();
    let (tx, got_call, method) = given(&n).pop().unwrap();
    assert_eq!((got_call, method.as_str()), (Some(call), "INFO"));
    n.nodes[0]
        .ep
        .respond(n.now, tx, StatusCode::OK, None)
        .unwrap();
    n.flush();
    assert_eq!(answers(&n, 2, Method::Info), [500, 200]);
    n.run_until(40_000);
    n.deliver(
        addr(5063),
        addr(5061),
        &in_early_dialog(&r2, 5063, "INFO", 4),
    );
    n.flush();
    assert_eq!(answers(&n, 2, Method::Info), [500, 200, 481]);
}

/// Requests the host sends before the call is answered go within the early dialog (RFC
/// 3311 §5.1 UPDATE, RFC 6086 INFO), from either side, once it exists; the confirmed
/// dialog numbers on from them (§12.2.1.1).
#[test]
fn either_side_sends_within_the_early_dialog() {
    let mut n = Net::new(&[false, false]);
    let call = n.invite(0, 1, Some(SDP));
    let (tx, callee_call) = n.incoming(1).unwrap();
    // No early dialog yet on either side.
    let info = |n: &mut Net, node: usize, c| {
        let now = n.now;
        n.nodes[node]
            .ep
            .request_in_call(now, c, Method::Info, &[], None)
    };
    assert!(info(&mut n, 0, call).is_err());
    assert!(info(&mut n, 1, callee_call).is_err());
    n.nodes[1]
        .ep
        .respond(n.now, tx, StatusCode::RINGING, None)
        .unwrap();
    n.flush();

    // The caller's INFO reaches the callee within its dialog.
    info(&mut n, 0, call).unwrap();
    n.flush();
    let got = n.requests(0, 1, Method::Info);
    assert_eq!(got.len(), 1);
    let info_seq = got[0].cseq().unwrap().seq();
    let (info_tx, c) = n.incoming(1).unwrap();
    assert_eq!(c, callee_call);
    n.nodes[1]
        .ep
        .respond(n.now, info_tx, StatusCode::OK, None)
        .unwrap();
    n.flush();
    assert_eq!(answers_from(&n, 1, Method::Info), [200]);

    // The callee's UPDATE reaches the caller within the caller's early dialog.
    let now = n.now;
    n.nodes[1]
        .ep
        .request_in_call(now, callee_call, Method::Update, &[], None)
        .unwrap();
    n.flush();
    let (update_tx, c) = n.incoming(0).unwrap();
    assert_eq!(c, call);
    n.nodes[0]
        .ep
        .respond(n.now, update_tx, StatusCode::OK, None)
        .unwrap();
    n.flush();
    assert_eq!(answers(&n, 1, Method::Update), [200]);

    // Answered and hung up: the caller's BYE numbers on from its INFO.
    n.nodes[1]
        .ep
        .respond(n.now, tx, StatusCode::OK, Some(("application/sdp", SDP)))
        .unwrap();
    n.flush();
    let now = n.now;
    n.nodes[0].ep.hangup(now, call).unwrap();
    n.flush();
    let bye = n.requests(0, 1, Method::Bye);
    assert_eq!(bye.len(), 1);
    assert!(bye[0].cseq().unwrap().seq() > info_seq);
    assert_eq!(answers_from(&n, 1, Method::Bye), [200]);
}

/// The callee's answers to requests of `method`, in order.
fn answers_from(n: &Net, from: usize, method: Method<'_>) -> Vec<u16> {
    n.between(from, 0)
        .into_iter()
        .filter(|(_, m)| m.cseq().is_ok_and(|c| c.method() == method))
        .filter_map(|(_, m)| m.status().map(|s| s.as_u16()))
        .collect()
}

/// §12.2.1.2: a 481 to a request within the caller's early dialog ends that early dialog
/// alone; the INVITE goes on and its 2xx still sets the call up.
#[test]
fn a_481_in_the_early_dialog_leaves_the_invite_going() {
    let mut n = Net::new(&[false, false]);
    let call = n.invite(0, 1, Some(SDP));
    let (tx, _) = n.incoming(1).unwrap();
    n.nodes[1]
        .ep
        .respond(n.now, tx, StatusCode::RINGING, None)
        .unwrap();
    n.flush();
    let now = n.now;
    n.nodes[0]
        .ep
        .request_in_call(now, call, Method::Info, &[], None)
        .unwrap();
    n.flush();
    let (info_tx, _) = n.incoming(1).unwrap();
    n.nodes[1]
        .ep
        .respond(
            n.now,
            info_tx,
            StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST,
            None,
        )
        .unwrap();
    n.flush();
    assert!(
        !n.nodes[0]
            .events
            .iter()
            .any(|e| matches!(e, Event::CallTerminated { .. })),
        "the call goes on"
    );
    assert!(n.requests(0, 1, Method::Cancel).is_empty());
    n.nodes[1]
        .ep
        .respond(n.now, tx, StatusCode::OK, Some(("application/sdp", SDP)))
        .unwrap();
    n.flush();
    assert!(
        n.nodes[0]
            .events
            .iter()
            .any(|e| matches!(e, Event::CallEstablished { call: c } if *c == call))
    );
    assert_eq!(n.requests(0, 1, Method::Ack).len(), 1);
}

/// A forked call where the caller sent an INFO in the first fork's early dialog (CSeq 2),
/// then fork 2 answers (and, with `hang_up`, that call is over too); fork 1 answering
/// late is ACKed and BYEd with a CSeq above its INFO's (§12.2.1.1, §13.2.2.4).
fn late_fork_after_info(hang_up: bool) -> (Net, u32) {
    let mut n = Net::new(&[false, false, false]);
    n.fork.push((addr(5062), addr(5063)));
    let call = n.invite(0, 1, Some(SDP));
    let (tx1, _) = n.incoming(1).unwrap();
    let (tx2, _) = n.incoming(2).unwrap();
    n.nodes[1]
        .ep
        .respond(n.now, tx1, StatusCode::RINGING, None)
        .unwrap();
    n.flush();
    let now = n.now;
    n.nodes[0]
        .ep
        .request_in_call(now, call, Method::Info, &[], None)
        .unwrap();
    n.flush();
    let info_seq = n.requests(0, 1, Method::Info)[0].cseq().unwrap().seq();
    let (info_tx, _) = n.incoming(1).unwrap();
    n.nodes[1]
        .ep
        .respond(n.now, info_tx, StatusCode::OK, None)
        .unwrap();
    n.flush();
    n.nodes[2]
        .ep
        .respond(n.now, tx2, StatusCode::OK, Some(("application/sdp", SDP)))
        .unwrap();
    n.flush();
    if hang_up {
        // The call with fork 2 is over (BYE, 200) before fork 1 answers.
        let now = n.now;
        n.nodes[0].ep.hangup(now, call).unwrap();
        n.flush();
        assert_eq!(n.nodes[0].ep.call_count(), 0);
    }
    n.nodes[1]
        .ep
        .respond(n.now, tx1, StatusCode::OK, Some(("application/sdp", SDP)))
        .unwrap();
    n.flush();
    (n, info_seq)
}

#[test]
fn a_late_forks_bye_goes_above_the_info_sent_in_its_early_dialog() {
    for hang_up in [false, true] {
        let (n, info_seq) = late_fork_after_info(hang_up);
        let byes = n.requests(0, 1, Method::Bye);
        assert_eq!(byes.len(), 1, "hang_up {hang_up}");
        assert!(
            byes[0].cseq().unwrap().seq() > info_seq,
            "hang_up {hang_up}: BYE CSeq {} not above the INFO's {info_seq}",
            byes[0].cseq().unwrap().seq()
        );
        assert!(n.responses(1, 0, 500).is_empty(), "hang_up {hang_up}");
    }
}
