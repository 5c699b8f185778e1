//! Session timers (RFC 4028) between two endpoints in one process, over a perfect
//! virtual link and virtual time: negotiation in the INVITE and its 2xx (§7, §9),
//! refreshes by re-INVITE (§10), BYE on expiry (§10), 422 with Min-SE (§6) and
//! `Require: timer` (§9).

mod timer_support;

use sansip::Instant;
use sansip::dialog::{EndReason, SessionState};
use sansip::endpoint::{CallHandle, Event, Request};
use sansip::message::{HeaderKind, Message, Method, Refresher, StatusCode};
use timer_support::*;

fn value<'a>(m: &Message<'a>, k: HeaderKind) -> Option<&'a str> {
    m.header(k).map(|h| std::str::from_utf8(h.value).unwrap())
}

fn session_expires(m: &Message<'_>) -> Option<(u32, Option<Refresher>)> {
    m.session_expires()
        .map(|r| r.unwrap())
        .map(|se| (se.delta_seconds(), se.refresher()))
}

fn supports_timer(m: &Message<'_>, k: HeaderKind) -> bool {
    m.tokens(k).any(|t| t.unwrap() == "timer")
}

#[test]
fn negotiated_in_the_invite_and_refreshed_by_the_caller_at_half_the_interval() {
    let mut p = Pair::new(timers(120, 90), timers(1800, 90));
    let (call, callee) = p.call(&[]);
    assert!(p.events_a.contains(&Event::CallEstablished { call }));

    // §7.1: the INVITE asks for the caller's interval and says it supports timers.
    let invites = p.sent('>', "INVITE");
    let invite = &invites[0].1;
    assert!(supports_timer(invite, HeaderKind::Supported));
    assert_eq!(session_expires(invite), Some((120, None)));
    assert_eq!(value(invite, HeaderKind::MinSe), Some("90"));
    // §9: the callee keeps 120 s (below its own 1800 s: never increased), leaves the
    // refreshes to the caller that supports them, and requires the extension.
    let oks = p.sent('<', "SIP/2.0 200");
    let ok = &oks[0].1;
    assert_eq!(session_expires(ok), Some((120, Some(Refresher::Uac))));
    assert!(supports_timer(ok, HeaderKind::Require));

    // §10: a refresh every 60 s, each an offer-less re-INVITE the callee answers; the
    // call outlives many intervals.
    p.run_until(600_000);
    assert_eq!(p.a.call_state(call), Some(SessionState::Confirmed));
    assert_eq!(p.b.call_state(callee), Some(SessionState::Confirmed));
    let refreshes = p.sent('>', "INVITE");
    let times: Vec<u64> = refreshes.iter().skip(1).map(|(t, _)| *t).collect();
    assert_eq!(
        times,
        (1..=10).map(|i| i * 60_000).collect::<Vec<_>>(),
        "refreshes at half the interval"
    );
    for (_, r) in refreshes.iter().skip(1) {
        // §7.4: the refresh carries the interval and keeps the refresher.
        assert_eq!(session_expires(r), Some((120, Some(Refresher::Uac))));
        assert!(supports_timer(r, HeaderKind::Supported));
        assert!(r.to().unwrap().tag().is_some(), "a re-INVITE");
        assert!(r.body().is_empty(), "no offer (RFC 3261 §14.1)");
    }
    // The callee's 2xx to each refresh names the interval again.
    for (_, ok) in p.sent('<', "SIP/2.0 200").iter().skip(1) {
        if ok.cseq().unwrap().method() == Method::Invite {
            assert_eq!(session_expires(ok), Some((120, Some(Refresher::Uac))));
        }
    }
    // Neither side sent BYE; the host saw no RetryReInvite it did not ask for.
    assert!(p.sent('>', "BYE").is_empty() && p.sent('<', "BYE").is_empty());
}

#[test]
fn no_refresh_ends_the_call_with_bye_before_the_interval_is_over() {
    // The caller asks for 100 s with itself as refresher (the headers a UAC with session
    // timers writes), but its endpoint runs none and never refreshes.
    let mut p = Pair::new(None, timers(1800, 90));
    let (call, callee) = p.call(&[
        ("Supported", "timer"),
        ("Session-Expires", "100;refresher=uac"),
    ]);
    let oks = p.sent('<', "SIP/2.0 200");
    assert_eq!(
        session_expires(&oks[0].1),
        Some((100, Some(Refresher::Uac)))
    );
    // §10: BYE at 100 - min(32, 100/3) = 68 s after the 2xx.
    p.run_until(67_999);
    assert_eq!(p.b.call_state(callee), Some(SessionState::Confirmed));
    p.run_until(70_000);
    let byes = p.sent('<', "BYE");
    assert_eq!(byes.len(), 1);
    assert_eq!(byes[0].0, 68_000);
    // §7.1: every request of an endpoint with session timers says it supports them.
    assert!(supports_timer(&byes[0].1, HeaderKind::Supported));
    assert!(p.events_b.contains(&Event::CallTerminated {
        call: callee,
        reason: EndReason::SessionExpired
    }));
    assert!(p.events_a.contains(&Event::CallTerminated {
        call,
        reason: EndReason::RemoteBye
    }));
}

#[test]
fn the_callee_refreshes_when_the_caller_has_no_session_timer() {
    // The caller's endpoint runs no session timer (no `Supported: timer`): §9 makes the
    // callee the refresher, without `Require: timer`.
    let mut p = Pair::new(None, timers(100, 90));
    let (call, callee) = p.call(&[]);
    let ok = &p.sent('<', "SIP/2.0 200")[0].1;
    assert_eq!(session_expires(ok), Some((100, Some(Refresher::Uas))));
    assert!(ok.header(HeaderKind::Require).is_none());
    p.run_until(175_000);
    // Its refreshes: re-INVITEs at half the interval, refresher=uac now that the callee
    // sends them (§7.4: the same party keeps refreshing). The caller's 2xx names no
    // Session-Expires; the callee refreshes on for the path (§7.2).
    let refreshes = p.sent('<', "INVITE");
    let times: Vec<u64> = refreshes.iter().map(|(t, _)| *t).collect();
    assert_eq!(times, [50_000, 100_000, 150_000]);
    for (_, r) in &refreshes {
        assert_eq!(session_expires(r), Some((100, Some(Refresher::Uac))));
    }
    assert_eq!(p.a.call_state(call), Some(SessionState::Confirmed));
    assert_eq!(p.b.call_state(callee), Some(SessionState::Confirmed));
    // The caller's host answered each with an offer, the callee's host each offer in
    // the ACK (`AnswerNeeded`).
    let answers = p
        .events_b
        .iter()
        .filter(|e| matches!(e, Event::AnswerNeeded { .. }))
        .count();
    assert_eq!(answers, 3);
}

fn invite_request() -> Request<'static> {
    Request {
        body: Some(("application/sdp", SDP)),
        ..Request::new(
            Method::Invite,
            "sip:bob@127.0.0.1:5062",
            "<sip:alice@127.0.0.1>",
            "<sip:bob@127.0.0.1>",
        )
    }
}

#[test]
fn an_interval_below_min_se_gets_422_and_the_caller_asks_again_for_min_se() {
    let mut p = Pair::new(timers(120, 90), timers(1800, 300));
    let call = p.a.invite(p.now, addr(B), &invite_request()).unwrap();
    p.flush();
    // §6: the 422 says the smallest interval the callee takes; its host never saw the
    // INVITE.
    let refused = p.sent('<', "SIP/2.0 422");
    assert_eq!(refused.len(), 1);
    assert_eq!(value(&refused[0].1, HeaderKind::MinSe), Some("300"));
    // §7.4: the caller sends the INVITE again (same Call-ID and From tag, CSeq one
    // higher) asking for 300 s, by itself.
    let invites = p.sent('>', "INVITE");
    assert_eq!(invites.len(), 2);
    let (first, again) = (&invites[0].1, &invites[1].1);
    assert_eq!(session_expires(again), Some((300, None)));
    assert!(supports_timer(again, HeaderKind::Supported));
    assert_eq!(value(again, HeaderKind::MinSe), Some("300"));
    assert_eq!(again.call_id().unwrap(), first.call_id().unwrap());
    assert_eq!(again.from().unwrap().tag(), first.from().unwrap().tag());
    assert_eq!(again.cseq().unwrap().seq(), first.cseq().unwrap().seq() + 1);
    assert_eq!(again.body(), SDP);
    assert!(
        p.events_a
            .iter()
            .any(|e| matches!(e, Event::Reoriginated { .. }))
    );
    let (tx, _) = p.incoming_invite();
    p.b.respond(p.now, tx, StatusCode::OK, Some(("application/sdp", SDP)))
        .unwrap();
    p.flush();
    assert!(p.events_a.contains(&Event::CallEstablished { call }));
    let ok = &p.sent('<', "SIP/2.0 200")[0].1;
    assert_eq!(session_expires(ok), Some((300, Some(Refresher::Uac))));
}

/// `a` (session timers on, asking for 120 s) calls `b`, whose host refuses every INVITE
/// with 422 and the given Min-SE values in turn; what the call ends with.
fn refused_422(min_se: &[Option<&str>]) -> (Pair, CallHandle) {
    let mut p = Pair::new(timers(120, 90), None);
    let call = p.a.invite(p.now, addr(B), &invite_request()).unwrap();
    p.flush();
    for m in min_se {
        let (tx, _) = *p
            .events_b
            .iter()
            .filter_map(|e| match e {
                Event::IncomingRequest {
                    tx,
                    call: Some(call),
                } => Some((*tx, *call)),
                _ => None,
            })
            .collect::<Vec<_>>()
            .last()
            .unwrap();
        let headers: Vec<(&str, &str)> = m.iter().map(|v| ("Min-SE", *v)).collect();
        p.b.respond_with(
            p.now,
            tx,
            StatusCode::SESSION_INTERVAL_TOO_SMALL,
            &headers,
            None,
        )
        .unwrap();
        p.flush();
    }
    (p, call)
}

#[test]
fn a_422_is_followed_once_and_only_with_a_larger_min_se() {
    let rejected = |p: &Pair, call| {
        p.events_a.contains(&Event::CallTerminated {
            call,
            reason: EndReason::Rejected(StatusCode::SESSION_INTERVAL_TOO_SMALL),
        })
    };
    // No Min-SE, or one no larger than the interval asked: nothing to retry with.
    for m in [None, Some("120"), Some("100")] {
        let (p, call) = refused_422(&[m]);
        assert_eq!(p.sent('>', "INVITE").len(), 1, "{m:?}");
        assert!(rejected(&p, call), "{m:?}");
    }
    // A second 422 (a proxy further on wants more still) ends the call.
    let (p, call) = refused_422(&[Some("200"), Some("400")]);
    let invites = p.sent('>', "INVITE");
    assert_eq!(invites.len(), 2);
    assert_eq!(session_expires(&invites[1].1), Some((200, None)));
    assert!(rejected(&p, call));
}

#[test]
fn require_timer_is_accepted_only_with_session_timers_on() {
    let require = [("Require", "timer"), ("Session-Expires", "600")];
    // Off (the default): 420 Bad Extension, as before.
    let mut p = Pair::new(None, None);
    let req = Request {
        body: Some(("application/sdp", SDP)),
        headers: &require,
        ..Request::new(
            Method::Invite,
            "sip:bob@127.0.0.1:5062",
            "<sip:alice@127.0.0.1>",
            "<sip:bob@127.0.0.1>",
        )
    };
    p.a.invite(p.now, addr(B), &req).unwrap();
    p.flush();
    let bad = p.sent('<', "SIP/2.0 420");
    assert_eq!(bad.len(), 1);
    assert_eq!(value(&bad[0].1, HeaderKind::Unsupported), Some("timer"));
    // On: taken, and the 2xx carries the interval asked for.
    let mut p = Pair::new(None, timers(1800, 90));
    p.call(&require);
    assert!(p.sent('<', "SIP/2.0 420").is_empty());
    assert_eq!(
        session_expires(&p.sent('<', "SIP/2.0 200")[0].1),
        Some((600, Some(Refresher::Uac)))
    );
}

#[test]
fn off_by_default_nothing_changes() {
    let mut p = Pair::new(None, None);
    let (call, _) = p.call(&[]);
    let invite = &p.sent('>', "INVITE")[0].1;
    assert!(invite.session_expires().is_none() && invite.min_se().is_none());
    assert!(invite.header(HeaderKind::Supported).is_none());
    assert!(!supports_timer(invite, HeaderKind::Supported));
    let ok = &p.sent('<', "SIP/2.0 200")[0].1;
    assert!(ok.session_expires().is_none());
    p.run_until(3_600_000);
    assert_eq!(p.a.call_state(call), Some(SessionState::Confirmed));
    assert_eq!(p.sent('>', "INVITE").len(), 1);
}

#[test]
fn a_refresh_that_meets_glare_goes_again_after_the_back_off() {
    let mut p = Pair::new(timers(120, 90), timers(1800, 90));
    let (call, callee) = p.call(&[]);
    p.run_until(59_999);
    // At 60 s the callee's host changes the media just as the caller's refresh is due:
    // the two re-INVITEs cross and both get 491 (RFC 3261 §14.2).
    p.now = Instant::from_millis(60_000);
    p.b.reinvite(p.now, callee, &[], ("application/sdp", SDP))
        .unwrap();
    p.a.handle_timeout(p.now);
    p.flush();
    assert_eq!(p.sent('<', "SIP/2.0 491").len(), 1);
    assert_eq!(p.sent('>', "SIP/2.0 491").len(), 1);
    p.run_until(100_000);
    // §14.1: the caller (owner of the Call-ID) sends its refresh again after 2.1-4 s, by
    // itself: its host hears of no RetryReInvite.
    let invites = p.sent('>', "INVITE");
    let times: Vec<u64> = invites.iter().map(|(t, _)| *t).collect();
    assert_eq!(times.len(), 3, "{times:?}");
    assert!((62_100..=64_000).contains(&times[2]), "{times:?}");
    assert!(
        !p.events_a
            .iter()
            .any(|e| matches!(e, Event::RetryReInvite { .. }))
    );
    // The callee's own re-INVITE is its host's business (it gets RetryReInvite).
    assert!(
        p.events_b
            .iter()
            .any(|e| matches!(e, Event::RetryReInvite { .. }))
    );
    // The refresh went through: the callee's expiry restarted, the call is up.
    assert_eq!(p.a.call_state(call), Some(SessionState::Confirmed));
    assert_eq!(p.b.call_state(callee), Some(SessionState::Confirmed));
    assert!(p.sent('<', "BYE").is_empty());
}

#[test]
fn an_update_refreshes_the_session_too() {
    // The caller refreshes by hand with UPDATE (RFC 4028 §10 allows it); its endpoint
    // runs no session timer.
    let mut p = Pair::new(None, timers(1800, 90));
    let asked = [
        ("Supported", "timer"),
        ("Session-Expires", "100;refresher=uac"),
    ];
    let (call, callee) = p.call(&asked);
    p.run_until(40_000);
    p.a.request_in_call(p.now, call, Method::Update, &asked, None)
        .unwrap();
    p.flush();
    let tx = p
        .events_b
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::IncomingRequest { tx, .. } => Some(*tx),
            _ => None,
        })
        .unwrap();
    assert_eq!(p.b.request(tx).unwrap().method(), Some(Method::Update));
    p.b.respond(p.now, tx, StatusCode::OK, None).unwrap();
    p.flush();
    let ok = p
        .sent('<', "SIP/2.0 200")
        .into_iter()
        .find(|(_, m)| m.cseq().unwrap().method() == Method::Update)
        .unwrap();
    assert_eq!(session_expires(&ok.1), Some((100, Some(Refresher::Uac))));
    assert!(supports_timer(&ok.1, HeaderKind::Require));
    // The expiry restarted at 40 s: no BYE at 68 s, one at 40 + 68 s.
    p.run_until(107_999);
    assert_eq!(p.b.call_state(callee), Some(SessionState::Confirmed));
    p.run_until(110_000);
    let byes = p.sent('<', "BYE");
    assert_eq!(byes.len(), 1);
    assert_eq!(byes[0].0, 108_000);
    assert!(p.events_b.contains(&Event::CallTerminated {
        call: callee,
        reason: EndReason::SessionExpired
    }));
}

#[test]
fn a_malformed_session_expires_gets_400() {
    let mut p = Pair::new(None, timers(1800, 90));
    let req = Request {
        headers: &[("Session-Expires", "soon")],
        ..invite_request()
    };
    let call = p.a.invite(p.now, addr(B), &req).unwrap();
    p.flush();
    assert_eq!(p.sent('<', "SIP/2.0 400").len(), 1);
    assert!(p.events_a.contains(&Event::CallTerminated {
        call,
        reason: EndReason::Rejected(StatusCode::BAD_REQUEST)
    }));
    // Without session timers the header is not read: the call goes through.
    let mut p = Pair::new(None, None);
    let (call, _) = p.call(&[("Session-Expires", "soon")]);
    assert!(p.events_a.contains(&Event::CallEstablished { call }));
}

#[test]
fn a_refresh_without_answer_ends_the_call_with_bye() {
    let mut p = Pair::new(timers(120, 90), timers(1800, 90));
    let (call, callee) = p.call(&[]);
    p.run_until(59_999);
    // From here on nothing the callee sends arrives: the refresh at 60 s goes unanswered.
    p.b_lost = true;
    p.run_until(100_000);
    // Timer B (64*T1 = 32 s) ends the refresh as a 408; RFC 4028 §10: BYE.
    // (Sent again and again: its 200 is lost too.)
    let byes = p.sent('>', "BYE");
    assert_eq!(byes[0].0, 92_000);
    let seqs: Vec<u32> = byes.iter().map(|(_, m)| m.cseq().unwrap().seq()).collect();
    assert!(seqs.iter().all(|&s| s == seqs[0]), "one BYE: {seqs:?}");
    assert!(p.events_a.contains(&Event::CallTerminated {
        call,
        reason: EndReason::DialogGone(StatusCode::REQUEST_TIMEOUT)
    }));
    // The callee, whose 2xx to the refresh was never ACKed, gave up on it at the same
    // time (RFC 3261 §13.3.1.4) or took the BYE.
    assert!(p.events_b.iter().any(|e| matches!(
        e,
        Event::CallTerminated { call: c, reason: EndReason::NoAck | EndReason::RemoteBye }
            if *c == callee
    )));
}

#[test]
fn every_request_says_supported_timer_only_an_invite_asks_for_one() {
    let mut p = Pair::new(timers(1800, 90), None);
    let options = Request::new(
        Method::Options,
        "sip:bob@127.0.0.1:5062",
        "<sip:alice@127.0.0.1>",
        "<sip:bob@127.0.0.1>",
    );
    p.a.send_request(p.now, addr(B), &options).unwrap();
    p.flush();
    let sent = &p.sent('>', "OPTIONS")[0].1;
    assert!(supports_timer(sent, HeaderKind::Supported));
    assert!(sent.session_expires().is_none() && sent.min_se().is_none());
}
