//! Review s7b: the changes of 830ebaa..8d9a7f7 (realm-bound credentials, remote targets
//! without `method` or `?headers`, 2xx responses without a usable Contact, finished
//! client transactions kept for the host, rejecting answers to unanswered late offers,
//! session timers, the performance branch and the merges), through the public API: two
//! endpoints over a perfect virtual link and virtual time. Each test states the
//! behaviour the RFC asks for; those of a defect failed before its fix (said in their
//! docs), the others cover a path found sound.

mod timer_support;

use sansip::dialog::SessionState;
use sansip::endpoint::Event;
use sansip::message::{Method, StatusCode};
use timer_support::*;

/// Session timers asking for `session_expires`, Min-SE 90 s.
fn timers90(session_expires: u32) -> Option<sansip::dialog::TimerConfig> {
    timers(session_expires, 90)
}

/// The harness's pair, `a`'s host holding the re-INVITEs it receives.
fn pair(a: Option<sansip::dialog::TimerConfig>, b: Option<sansip::dialog::TimerConfig>) -> Pair {
    Pair {
        a_holds: true,
        ..Pair::new(a, b)
    }
}

/// RFC 4028 §10: the refresher refreshes the session before the other side's expiry,
/// even when its refresh fell due while the peer's re-INVITE was in progress and that
/// re-INVITE then failed (only a 2xx refreshes). The caller refreshes a 120 s session
/// (due at 60 s; the callee gives up at 88 s); the callee's re-INVITE at 59 s is
/// refused 488 at 61 s. Before the fix the refresh that fell due was dropped (the
/// endpoint could not send it) and none followed: the callee sent BYE at 88 s.
#[test]
fn a_refresh_due_during_a_failed_reinvite_still_goes() {
    let mut p = pair(timers90(120), timers90(1800));
    let (call, callee) = p.call(&[]);
    p.run_until(59_000);
    p.b.reinvite(p.now, callee, &[], ("application/sdp", SDP))
        .unwrap();
    p.flush();
    assert_eq!(p.held.len(), 1, "a's host holds the callee's re-INVITE");
    p.run_until(61_000);
    let tx = p.held.pop().unwrap();
    p.a.respond(p.now, tx, StatusCode::NOT_ACCEPTABLE_HERE, None)
        .unwrap();
    p.flush();
    p.run_until(200_000);
    assert!(
        p.sent('<', "BYE").is_empty(),
        "the callee's session expired"
    );
    assert_eq!(p.a.call_state(call), Some(SessionState::Confirmed));
    assert_eq!(p.b.call_state(callee), Some(SessionState::Confirmed));
    let refreshes: Vec<u64> = p
        .sent('>', "INVITE")
        .iter()
        .skip(1)
        .map(|(t, _)| *t)
        .collect();
    assert!(
        refreshes
            .first()
            .is_some_and(|&t| (61_000..88_000).contains(&t)),
        "{refreshes:?}"
    );
}

/// The callee `b` sends a re-INVITE (with an offer, or without one so that the 2xx
/// carries the offer) and hangs up; its BYE and `a`'s 2xx to the re-INVITE cross, so the
/// 2xx reaches `b` after its call is over.
fn hang_up_during_own_reinvite(offer: bool) -> Pair {
    let mut p = pair(None, None);
    let (_, callee) = p.call(&[]);
    p.run_until(1_000);
    if offer {
        p.b.reinvite(p.now, callee, &[], ("application/sdp", SDP))
            .unwrap();
    } else {
        p.b.reinvite_without_offer(p.now, callee, &[]).unwrap();
    }
    p.flush();
    let tx = p.held.pop().expect("a's host holds the re-INVITE");
    // The BYE waits in b's queue while the 2xx reaches b.
    p.b.hangup(p.now, callee).unwrap();
    let sdp: &[u8] = b"v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
    p.a.respond(p.now, tx, StatusCode::OK, Some(("application/sdp", sdp)))
        .unwrap();
    let mut buf = vec![0u8; 65_535];
    while let Some(t) = p.a.poll_transmit(&mut buf).unwrap() {
        let bytes = t.bytes.to_vec();
        p.b.handle_datagram(p.now, addr(A), &bytes);
        p.wire.push((p.now.as_millis(), '>', bytes));
    }
    p.flush();
    p.run_until(40_000);
    p
}

/// RFC 3261 §13.2.2.4, §12.2.1.1: the 2xx to a re-INVITE that comes after this side's
/// BYE is ACKed (with an answer rejecting every stream when it carries the offer, RFC
/// 3264 §6), and nothing more: the dialog is already BYEd, and a second BYE would be a
/// new request with the CSeq number of the first. Before the fix the endpoint took the
/// 2xx for an orphan's (a late fork's) and sent a second BYE with CSeq 2, answered 481.
#[test]
fn a_reinvite_2xx_after_the_hang_up_is_acked_and_not_byed_again() {
    for offer in [true, false] {
        let p = hang_up_during_own_reinvite(offer);
        let acks = p.sent('<', "ACK");
        let (_, ack) = acks.last().unwrap();
        assert_eq!(acks.len(), 1, "offer {offer}: the re-INVITE's 2xx is ACKed");
        if offer {
            assert!(ack.body().is_empty(), "the 2xx carried the answer");
        } else {
            let body = String::from_utf8_lossy(ack.body()).into_owned();
            assert!(body.contains("m=audio 0 RTP/AVP 0"), "{body}");
        }
        let byes = p.sent('<', "BYE");
        assert_eq!(byes.len(), 1, "offer {offer}: one BYE");
        assert!(p.sent('>', "SIP/2.0 481").is_empty());
    }
}

/// RFC 4028 §7.2, §9, §10: both sides run session timers, the caller refreshes a 120 s
/// session; at 30 s the callee sends an UPDATE (a media change, RFC 3311), which the
/// caller answers 2xx with the Session-Expires it negotiated for it. Whatever that 2xx
/// says, someone must go on refreshing: the call outlives several intervals. Before the
/// fix the caller's 2xx handed the refreshes to the callee (`refresher=uac`, §9: the
/// UPDATE named none), whose endpoint ignored the Session-Expires of a 2xx to UPDATE: no
/// one refreshed, and the callee's expiry ended the call at 88 s.
#[test]
fn an_update_from_the_non_refresher_keeps_the_session_refreshed() {
    let mut p = pair(timers90(120), timers90(120));
    p.a_holds = false;
    let (call, callee) = p.call(&[]);
    p.run_until(30_000);
    p.b.request_in_call(p.now, callee, Method::Update, &[], None)
        .unwrap();
    p.flush();
    let tx = p
        .events_a
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::IncomingRequest { tx, .. } => Some(*tx),
            _ => None,
        })
        .unwrap();
    assert_eq!(p.a.request(tx).unwrap().method(), Some(Method::Update));
    p.a.respond(p.now, tx, StatusCode::OK, None).unwrap();
    p.flush();
    p.run_until(600_000);
    assert!(p.sent('<', "BYE").is_empty() && p.sent('>', "BYE").is_empty());
    assert_eq!(p.a.call_state(call), Some(SessionState::Confirmed));
    assert_eq!(p.b.call_state(callee), Some(SessionState::Confirmed));
}
