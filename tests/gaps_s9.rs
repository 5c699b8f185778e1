//! Gaps s9: a re-INVITE's finished client transaction lingers as a record (Timer M), a
//! retransmitted 2xx whose dialog was BYEd gets its ACK again and no second BYE, and a
//! session refresh refused with 422 goes again once with the Min-SE asked for
//! (RFC 4028 §7.4).

mod scripted_support;

use sansip::Instant;
use sansip::dialog::{EndReason, MAX_ROUTES, SessionState};
use sansip::endpoint::{CallHandle, Event, Transport};
use sansip::message::{HeaderKind, Method};
use sansip::time::Duration;
use scripted_support::*;

/// A call placed and answered 200 by fork `b1`: the call and its INVITE.
fn up(ep: &mut Ep, now: Instant) -> (CallHandle, Vec<u8>) {
    let (call, invite) = place_call(ep, now, true);
    feed(
        ep,
        now,
        &response_to(&invite, 200, "b1", &[("Contact", CONTACT)], Some(SDP)),
    );
    assert_eq!(methods(&sent(ep)), ["ACK"]);
    assert!(events(ep).contains(&Event::CallEstablished { call }));
    (call, invite)
}

// ----- 1. a re-INVITE's client transaction lingers as a record -------------------------

/// RFC 6026 §7.2: a re-INVITE answered 2xx waits out Timer M (32 s over UDP). With
/// lingering records it waits as a record once the host has drained the events, so that
/// re-INVITEs faster than `TX` per 32 s (session refreshes of many calls, a host that
/// re-INVITEs often) are not refused a transaction. The record still takes a
/// retransmitted 2xx, which is ACKed again (§13.2.2.4). It used to keep its table slot:
/// the 16th re-INVITE in a row found the table full.
#[test]
fn reinvites_in_a_row_within_timer_m_linger_and_their_2xx_is_acked_again() {
    let mut ep = lingering();
    let mut now = Instant::ZERO;
    let (call, _) = up(&mut ep, now);
    let mut oks = Vec::new();
    for i in 0..40 {
        now = now + Duration::from_millis(100);
        let tx = ep
            .reinvite(now, call, &[], ("application/sdp", SDP))
            .unwrap_or_else(|e| panic!("re-INVITE {i}: {e:?}"));
        let out = sent(&mut ep);
        assert_eq!(methods(&out), ["INVITE"]);
        let ok = response_to(&out[0].1, 200, "b1", &[("Contact", CONTACT)], Some(SDP));
        feed(&mut ep, now, &ok);
        let acks = sent(&mut ep);
        assert_eq!(methods(&acks), ["ACK"], "re-INVITE {i}");
        // The host reads the 2xx while it handles the events.
        let evs = std::iter::from_fn(|| {
            let e = ep.poll_event();
            if let Some(Event::Response { tx: t, .. }) = e {
                assert_eq!(t, tx);
                assert!(ep.response(tx).is_some(), "the 2xx is there to read");
            }
            e
        })
        .collect::<Vec<_>>();
        assert!(
            evs.iter()
                .any(|e| matches!(e, Event::Response { tx: t, .. } if *t == tx))
        );
        oks.push((ok, summary(&acks[0].1)));
    }
    assert_eq!(ep.call_state(call), Some(SessionState::Confirmed));
    // In the table: none of them (`transaction_count` counts the records too).
    let full = ep.transaction_count() - ep.lingering_count();
    assert_eq!((full, ep.lingering_count()), (0, 41));
    // The first re-INVITE's 2xx again, its ACK crossed by it: ACKed again.
    let (ok, ack) = &oks[0];
    feed(&mut ep, now, ok);
    let out = sent(&mut ep);
    assert_eq!(
        out.iter().map(|(_, b)| summary(b)).collect::<Vec<_>>(),
        std::slice::from_ref(ack)
    );
    // So is the last one's.
    let (ok, ack) = &oks[39];
    feed(&mut ep, now, ok);
    let out = sent(&mut ep);
    assert_eq!(
        out.iter().map(|(_, b)| summary(b)).collect::<Vec<_>>(),
        std::slice::from_ref(ack)
    );
    // Timer M: the records go.
    ep.handle_timeout(now + Duration::from_secs(40));
    assert_eq!(ep.lingering_count(), 0);
}

/// A re-INVITE's record whose call ended meanwhile: a retransmitted 2xx still gets its
/// ACK, and no BYE (the dialog is over, §12.2.1.1), as from the transaction.
#[test]
fn a_lingering_reinvites_2xx_after_the_call_ended_is_acked_only() {
    let mut ep = lingering();
    let now = Instant::ZERO;
    let (call, _) = up(&mut ep, now);
    ep.reinvite(now, call, &[], ("application/sdp", SDP))
        .unwrap();
    let reinvite = sent(&mut ep).pop().unwrap().1;
    let ok = response_to(&reinvite, 200, "b1", &[("Contact", CONTACT)], Some(SDP));
    feed(&mut ep, now, &ok);
    let ack = sent(&mut ep).pop().unwrap().1;
    events(&mut ep);
    assert_eq!(ep.lingering_count(), 2, "the INVITE and the re-INVITE");
    ep.hangup(now, call).unwrap();
    assert_eq!(methods(&sent(&mut ep)), ["BYE"]);
    events(&mut ep);
    feed(&mut ep, now, &ok);
    let out = sent(&mut ep);
    assert_eq!(
        out.iter().map(|(_, b)| summary(b)).collect::<Vec<_>>(),
        [summary(&ack)]
    );
}

/// A call with credentials: the ACK of a re-INVITE's 2xx carries the re-INVITE's
/// credentials (§22.1), also for a retransmitted 2xx that reaches the re-INVITE's record.
#[test]
fn a_lingering_reinvites_2xx_is_acked_again_with_its_credentials() {
    let mut ep = lingering();
    let now = Instant::ZERO;
    let (call, invite) = challenged_call(&mut ep, now);
    feed(
        &mut ep,
        now,
        &response_to(&invite, 200, "b1", &[("Contact", CONTACT)], Some(SDP)),
    );
    assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
    events(&mut ep);
    ep.reinvite(now, call, &[], ("application/sdp", SDP))
        .unwrap();
    let reinvite = sent(&mut ep).pop().unwrap().1;
    let creds = |b: &[u8]| value(&parse(b), HeaderKind::ProxyAuthorization).map(str::to_owned);
    assert!(creds(&reinvite).is_some());
    let ok = response_to(&reinvite, 200, "b1", &[("Contact", CONTACT)], Some(SDP));
    feed(&mut ep, now, &ok);
    let ack = sent(&mut ep).pop().unwrap().1;
    assert_eq!(creds(&ack), creds(&reinvite));
    let before = ep.lingering_count();
    events(&mut ep);
    assert_eq!(ep.lingering_count(), before + 1, "the re-INVITE lingers");
    feed(&mut ep, now, &ok);
    let again = sent(&mut ep).pop().unwrap().1;
    assert_eq!(summary(&again), summary(&ack));
    assert_eq!(
        creds(&again),
        creds(&reinvite),
        "§22.1: the re-INVITE's credentials"
    );
}

// ----- 2. a BYEd 2xx retransmitted gets no second BYE ---------------------------------

/// The call's own 2xx past the bounds a `Dialog` keeps is ACKed and BYEd and the call
/// ends; a retransmission of it (its ACK crossed it) gets the ACK again and no second
/// BYE, whose CSeq would repeat the first's (RFC 3261 §12.2.1.1, §13.2.2.4), as another
/// fork's does (review_s8). With and without lingering records, and for a 2xx
/// confirming an early dialog.
#[test]
fn the_calls_own_unkept_2xx_retransmitted_gets_no_second_bye() {
    for (linger, early) in [(false, false), (true, false), (false, true), (true, true)] {
        let case = format!("linger {linger}, early dialog {early}");
        let mut ep = if linger {
            lingering()
        } else {
            endpoint(Transport::Udp)
        };
        let now = Instant::ZERO;
        let (call, invite) = place_call(&mut ep, now, false);
        if early {
            feed(
                &mut ep,
                now,
                &response_to(&invite, 180, "b1", &[("Contact", CONTACT)], None),
            );
            assert!(sent(&mut ep).is_empty());
        }
        let ok = routed_ok(&invite, "b1", MAX_ROUTES + 1);
        feed(&mut ep, now, &ok);
        let first = sent(&mut ep);
        assert_eq!(methods(&first), ["ACK", "BYE"], "{case}");
        assert!(
            events(&mut ep).contains(&Event::CallTerminated {
                call,
                reason: EndReason::LocalBye
            }),
            "{case}"
        );
        for _ in 0..2 {
            feed(&mut ep, now, &ok);
            let out = sent(&mut ep);
            assert_eq!(methods(&out), ["ACK"], "{case}: ACKed again only");
            assert_eq!(summary(&out[0].1), summary(&first[0].1), "{case}");
        }
    }
}

/// A fork that answers after the call ended (RFC 6026 §8.4) is ACKed and BYEd; its 2xx
/// again gets the ACK again and no second BYE, from the INVITE's transaction and from
/// the record it lingers as.
#[test]
fn a_late_forks_2xx_retransmitted_gets_no_second_bye() {
    for linger in [false, true] {
        let mut ep = if linger {
            lingering()
        } else {
            endpoint(Transport::Udp)
        };
        let now = Instant::ZERO;
        let (call, invite) = up(&mut ep, now);
        ep.hangup(now, call).unwrap();
        assert_eq!(methods(&sent(&mut ep)), ["BYE"]);
        events(&mut ep);
        assert_eq!(ep.lingering_count(), usize::from(linger));
        let late = response_to(&invite, 200, "c3", &[("Contact", CONTACT)], None);
        feed(&mut ep, now, &late);
        let first = sent(&mut ep);
        assert_eq!(methods(&first), ["ACK", "BYE"], "linger {linger}");
        for _ in 0..2 {
            feed(&mut ep, now, &late);
            let out = sent(&mut ep);
            assert_eq!(methods(&out), ["ACK"], "linger {linger}: ACKed again only");
            assert_eq!(summary(&out[0].1), summary(&first[0].1));
        }
    }
}

// ----- 3. a session refresh refused with 422 goes again once --------------------------

/// RFC 4028 §7.4: the endpoint's session refresh refused with 422 and a Min-SE of 1800
/// goes again once, a new re-INVITE in the same dialog (CSeq one higher) asking for
/// 1800 s; its 2xx keeps the session, refreshed at half the new interval. It used to
/// fail like any refused re-INVITE, leaving the session to expire.
#[test]
fn a_refresh_refused_with_422_goes_again_with_the_min_se() {
    let mut ep = timed();
    let call = timed_call(&mut ep);
    let out = run(&mut ep, Instant::from_millis(60_000));
    assert_eq!(out.len(), 1);
    let refresh = out[0].1.clone();
    let m = parse(&refresh);
    assert_eq!(m.method(), Some(Method::Invite));
    assert_eq!(
        value(&m, HeaderKind::SessionExpires),
        Some("120;refresher=uac")
    );
    let (seq, call_id) = (
        m.cseq().unwrap().seq(),
        value(&m, HeaderKind::CallId).unwrap(),
    );
    let now = out[0].0;
    feed(
        &mut ep,
        now,
        &response_to(&refresh, 422, "b1", &[("Min-SE", "1800")], None),
    );
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["ACK", "INVITE"]);
    let again = out[1].1.clone();
    let m = parse(&again);
    assert_eq!(m.cseq().unwrap().seq(), seq + 1);
    assert_eq!(value(&m, HeaderKind::CallId), Some(call_id));
    assert_eq!(m.to().unwrap().tag(), Some("b1"));
    assert_eq!(
        value(&m, HeaderKind::SessionExpires),
        Some("1800;refresher=uac")
    );
    assert_eq!(value(&m, HeaderKind::MinSe), Some("1800"));
    assert!(
        m.body().is_empty(),
        "a refresh without an offer, as the first"
    );
    assert!(
        events(&mut ep)
            .iter()
            .any(|e| matches!(e, Event::Reoriginated { .. }))
    );
    let headers = [
        ("Contact", CONTACT),
        ("Session-Expires", "1800;refresher=uac"),
        ("Require", "timer"),
    ];
    feed(
        &mut ep,
        now,
        &response_to(&again, 200, "b1", &headers, Some(SDP)),
    );
    assert!(events(&mut ep).contains(&Event::AnswerNeeded { call }));
    ep.ack_with_answer(call, ("application/sdp", SDP)).unwrap();
    assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
    // The session goes on: the next refresh at half of 1800 s, no BYE before.
    let out = run(&mut ep, Instant::from_millis(60_000 + 900_000));
    let sent_methods: Vec<_> = out
        .iter()
        .map(|(t, b)| (t.as_millis(), parse(b).method().unwrap().to_string()))
        .collect();
    assert_eq!(sent_methods, [(960_000, "INVITE".to_string())]);
    assert_eq!(ep.call_state(call), Some(SessionState::Confirmed));
}

/// The re-INVITE sent again after a 422 refused with 422 once more: no third one, the
/// refresh fails as before. The host's own re-INVITE follows a 422 the same way.
#[test]
fn a_reinvite_follows_a_422_once() {
    for host in [false, true] {
        let mut ep = timed();
        let call = timed_call(&mut ep);
        let (refresh, now) = if host {
            let now = Instant::from_millis(1_000);
            ep.reinvite(now, call, &[], ("application/sdp", SDP))
                .unwrap();
            (sent(&mut ep).pop().unwrap().1, now)
        } else {
            let out = run(&mut ep, Instant::from_millis(60_000));
            (out[0].1.clone(), out[0].0)
        };
        assert_eq!(parse(&refresh).method(), Some(Method::Invite));
        feed(
            &mut ep,
            now,
            &response_to(&refresh, 422, "b1", &[("Min-SE", "1800")], None),
        );
        let out = sent(&mut ep);
        assert_eq!(methods(&out), ["ACK", "INVITE"], "host {host}");
        let again = out[1].1.clone();
        assert_eq!(
            value(&parse(&again), HeaderKind::SessionExpires),
            Some("1800;refresher=uac")
        );
        if host {
            assert_eq!(parse(&again).body(), SDP, "the host's offer again");
        }
        events(&mut ep);
        feed(
            &mut ep,
            now,
            &response_to(&again, 422, "b1", &[("Min-SE", "3600")], None),
        );
        assert_eq!(
            methods(&sent(&mut ep)),
            ["ACK"],
            "host {host}: not a third time"
        );
        assert!(
            !events(&mut ep)
                .iter()
                .any(|e| matches!(e, Event::Reoriginated { .. }))
        );
        assert_eq!(ep.call_state(call), Some(SessionState::Confirmed));
    }
}
