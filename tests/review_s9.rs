//! Review s9: forked subscriptions, a re-INVITE lingering for Timer M, no second BYE for
//! a BYEd 2xx, and a re-INVITE following a 422 (RFC 4028 §7.4).

mod scripted_support;

use sansip::Instant;
use sansip::endpoint::Event;
use sansip::message::{HeaderKind, Method};
use scripted_support::*;

/// The `nc` of a request's Proxy-Authorization.
fn nc(bytes: &[u8]) -> Option<String> {
    let m = parse(bytes);
    let v = value(&m, HeaderKind::ProxyAuthorization)?;
    let at = v.find("nc=")? + 3;
    Some(v[at..at + 8].to_string())
}

/// RFC 4028 §7.4 with RFC 3261 §22.4 (RFC 2617 §3.2.2): the re-INVITE sent again after
/// a 422 is a new request, so its credentials count it (`nc` one higher, a new
/// `cnonce`); a copy of the refused one's `nc` is what a replay looks like, and a
/// server that checks it challenges the retry. The initial INVITE the same.
#[test]
fn a_request_sent_again_after_422_counts_its_credentials_anew() {
    for reinvite in [false, true] {
        let mut ep = timed();
        let now = Instant::ZERO;
        let (call, mut refused) = challenged_call(&mut ep, now);
        if reinvite {
            let headers = [
                ("Contact", CONTACT),
                ("Session-Expires", "120;refresher=uac"),
                ("Require", "timer"),
            ];
            feed(
                &mut ep,
                now,
                &response_to(&refused, 200, "b1", &headers, Some(SDP)),
            );
            assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
            events(&mut ep);
            ep.reinvite(now, call, &[], ("application/sdp", SDP))
                .unwrap();
            refused = sent(&mut ep).pop().unwrap().1;
        }
        assert!(nc(&refused).is_some());
        let tag = if reinvite { "b1" } else { "p2" };
        feed(
            &mut ep,
            now,
            &response_to(&refused, 422, tag, &[("Min-SE", "1800")], None),
        );
        let out = sent(&mut ep);
        assert_eq!(methods(&out), ["ACK", "INVITE"], "re-INVITE {reinvite}");
        let again = &out[1].1;
        let se = value(&parse(again), HeaderKind::SessionExpires).unwrap();
        assert!(se.starts_with("1800"), "{se}");
        let (before, after) = (nc(&refused).unwrap(), nc(again).unwrap());
        assert!(
            u32::from_str_radix(&after, 16).unwrap() > u32::from_str_radix(&before, 16).unwrap(),
            "re-INVITE {reinvite}: nc {before} then {after}"
        );
    }
}

/// RFC 3261 §13.2.2.4, §12.2.1.1: another fork's 2xx while the call is up is ACKed and
/// BYEd once; its retransmissions get the ACK alone, whether its dialog is kept or past
/// a `Dialog`'s bounds.
#[test]
fn another_forks_2xx_during_the_call_is_byed_once() {
    for routes in [1, sansip::dialog::MAX_ROUTES + 1] {
        let mut ep = endpoint(sansip::endpoint::Transport::Udp);
        let now = Instant::ZERO;
        let (call, invite) = place_call(&mut ep, now, true);
        feed(
            &mut ep,
            now,
            &response_to(&invite, 200, "b1", &[("Contact", CONTACT)], Some(SDP)),
        );
        assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
        events(&mut ep);
        let late = routed_ok(&invite, "c3", routes);
        feed(&mut ep, now, &late);
        let first = sent(&mut ep);
        assert_eq!(methods(&first), ["ACK", "BYE"], "routes {routes}");
        for _ in 0..2 {
            feed(&mut ep, now, &late);
            assert_eq!(methods(&sent(&mut ep)), ["ACK"], "routes {routes}");
        }
        assert!(ep.call_state(call).is_some());
    }
}

/// RFC 4028 §7.4: once a session refresh of the dialog was refused with 422, the later
/// refreshes of that dialog carry Min-SE with the largest value a 422 gave (so that no
/// proxy on the way lowers the interval below what another one insists on). After the
/// 422 the retry said 1800, and the next refresh went back to this side's own 90.
#[test]
fn refreshes_after_a_422_keep_its_min_se() {
    let mut ep = timed();
    let call = timed_call(&mut ep);
    let out = run(&mut ep, Instant::from_millis(60_000));
    let (now, refresh) = out[0].clone();
    feed(
        &mut ep,
        now,
        &response_to(&refresh, 422, "b1", &[("Min-SE", "1800")], None),
    );
    let again = sent(&mut ep).pop().unwrap().1;
    assert_eq!(value(&parse(&again), HeaderKind::MinSe), Some("1800"));
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
    sent(&mut ep);
    let out = run(&mut ep, Instant::from_millis(60_000 + 900_000));
    assert_eq!(out.len(), 1);
    let next = parse(&out[0].1);
    assert_eq!(next.method(), Some(Method::Invite));
    assert_eq!(
        value(&next, HeaderKind::SessionExpires),
        Some("1800;refresher=uac")
    );
    assert_eq!(value(&next, HeaderKind::MinSe), Some("1800"));
    // The host's own re-INVITE the same.
    feed(
        &mut ep,
        out[0].0,
        &response_to(&out[0].1, 200, "b1", &headers, Some(SDP)),
    );
    events(&mut ep);
    let _ = ep.ack_with_answer(call, ("application/sdp", SDP));
    sent(&mut ep);
    ep.reinvite(out[0].0, call, &[], ("application/sdp", SDP))
        .unwrap();
    let host = sent(&mut ep).pop().unwrap().1;
    assert_eq!(value(&parse(&host), HeaderKind::MinSe), Some("1800"));
}

// ----- forked subscriptions -----------------------------------------------------------

/// RFC 6665 §4.4.1, §4.1.2.4: a fork's first NOTIFY retransmitted makes no second fork
/// (its transaction answers it again); a NOTIFY from a third notifier but for another
/// `id`, another package or another Call-ID is no fork of this subscription (481); a
/// fork's first NOTIFY that cannot make a dialog (no Contact) leaves nothing behind.
#[test]
fn forks_are_made_once_and_only_for_the_subscription() {
    let mut ep = endpoint(sansip::endpoint::Transport::Udp);
    let now = Instant::ZERO;
    let (_, _, subscribe) = forked(&mut ep, now);
    feed(
        &mut ep,
        now,
        &notify(&subscribe, "nB", 1, "presence", "active;expires=600", true),
    );
    assert!(events(&mut ep).is_empty());
    assert_eq!(statuses(&sent(&mut ep)), [(200, "NOTIFY".to_string())]);
    assert_eq!(ep.subscription_count(), 2);
    for event in ["presence;id=7", "dialog"] {
        feed(
            &mut ep,
            now,
            &notify(&subscribe, "nC", 1, event, "active", true),
        );
        assert!(events(&mut ep).is_empty(), "{event}");
        assert_eq!(
            statuses(&sent(&mut ep)),
            [(481, "NOTIFY".to_string())],
            "{event}"
        );
    }
    let other = String::from_utf8(subscribe.clone())
        .unwrap()
        .replace("Call-ID: ", "Call-ID: x");
    feed(
        &mut ep,
        now,
        &notify(other.as_bytes(), "nC", 1, "presence", "active", true),
    );
    assert!(events(&mut ep).is_empty());
    assert_eq!(statuses(&sent(&mut ep)), [(481, "NOTIFY".to_string())]);
    feed(
        &mut ep,
        now,
        &notify(&subscribe, "nD", 1, "presence", "active", false),
    );
    let evs = events(&mut ep);
    assert!(
        !evs.iter()
            .any(|e| matches!(e, Event::SubscriptionForked { .. })),
        "{evs:?}"
    );
    assert_eq!(statuses(&sent(&mut ep)), [(400, "NOTIFY".to_string())]);
    assert_eq!(ep.subscription_count(), 2);
}

/// RFC 6665 §4.1.3, RFC 3261 §12.2.2: once the subscription of notifier `nA` has ended,
/// a NOTIFY of that dialog is for a subscription that no longer exists: 481 (which tells
/// the notifier so, §4.2.2). With another notifier's fork alive it used to be taken for
/// a new fork, bringing back the subscription the host was told had ended.
#[test]
fn a_notify_of_an_ended_dialog_makes_no_fork() {
    let mut ep = endpoint(sansip::endpoint::Transport::Udp);
    let now = Instant::ZERO;
    let (sub, fork, subscribe) = forked(&mut ep, now);
    feed(
        &mut ep,
        now,
        &notify(
            &subscribe,
            "nA",
            2,
            "presence",
            "terminated;reason=noresource",
            true,
        ),
    );
    let evs = events(&mut ep);
    assert!(
        evs.iter()
            .any(|e| matches!(e, Event::SubscriptionTerminated { sub: s, .. } if *s == sub)),
        "{evs:?}"
    );
    answer_notifies(&mut ep, now, &evs);
    sent(&mut ep);
    assert_eq!(ep.subscription_count(), 1);
    feed(
        &mut ep,
        now,
        &notify(&subscribe, "nA", 3, "presence", "active;expires=600", true),
    );
    let evs = events(&mut ep);
    assert!(evs.is_empty(), "{evs:?}");
    assert_eq!(statuses(&sent(&mut ep)), [(481, "NOTIFY".to_string())]);
    assert_eq!(ep.subscription_count(), 1);
    assert!(ep.subscription_state(fork).is_some());
}

/// Everything a parent and its fork hold goes: each unsubscribed in its own dialog
/// (RFC 6665 §4.1.2.3), their terminating NOTIFYs, then the timers: no subscription,
/// transaction or record is left.
#[test]
fn a_forked_subscription_unsubscribed_leaves_the_tables_empty() {
    let mut ep = endpoint(sansip::endpoint::Transport::Udp);
    let mut now = Instant::ZERO;
    let (sub, fork, subscribe) = forked(&mut ep, now);
    for (h, tag) in [(sub, "nA"), (fork, "nB")] {
        ep.unsubscribe(now, h).unwrap();
        let out = sent(&mut ep);
        assert_eq!(methods(&out), ["SUBSCRIBE"]);
        let m = parse(&out[0].1);
        assert_eq!(m.to().unwrap().tag(), Some(tag));
        assert_eq!(value(&m, HeaderKind::Expires), Some("0"));
        feed(&mut ep, now, &response_to(&out[0].1, 200, tag, &[], None));
        feed(
            &mut ep,
            now,
            &notify(
                &subscribe,
                tag,
                5,
                "presence",
                "terminated;reason=timeout",
                true,
            ),
        );
        let evs = events(&mut ep);
        assert!(
            evs.iter()
                .any(|e| matches!(e, Event::SubscriptionTerminated { sub: s, .. } if *s == h)),
            "{evs:?}"
        );
        answer_notifies(&mut ep, now, &evs);
        assert_eq!(statuses(&sent(&mut ep)), [(200, "NOTIFY".to_string())]);
    }
    assert_eq!(ep.subscription_count(), 0);
    while let Some(t) = ep.poll_timeout() {
        now = t;
        ep.handle_timeout(now);
        sent(&mut ep);
        events(&mut ep);
        assert!(
            now < Instant::from_millis(600_000),
            "a timer keeps coming back"
        );
    }
    assert_eq!(ep.transaction_count(), 0);
    assert_eq!(ep.subscription_count(), 0);
}

/// RFC 3261 §13.2.2.4, RFC 6026 §7.2: a re-INVITE's 2xx retransmitted from its record
/// while the next re-INVITE is out gets its own ACK again (its CSeq number), and the
/// re-INVITE out goes on: its 2xx is ACKed, and the records go with Timer M.
#[test]
fn a_lingering_reinvites_2xx_during_the_next_reinvite() {
    let mut ep = lingering();
    let now = Instant::ZERO;
    let (call, invite) = place_call(&mut ep, now, true);
    feed(
        &mut ep,
        now,
        &response_to(&invite, 200, "b1", &[("Contact", CONTACT)], Some(SDP)),
    );
    sent(&mut ep);
    events(&mut ep);
    ep.reinvite(now, call, &[], ("application/sdp", SDP))
        .unwrap();
    let first = sent(&mut ep).pop().unwrap().1;
    let ok = response_to(&first, 200, "b1", &[("Contact", CONTACT)], Some(SDP));
    feed(&mut ep, now, &ok);
    let ack = sent(&mut ep).pop().unwrap().1;
    events(&mut ep);
    assert_eq!(ep.lingering_count(), 2);
    ep.reinvite(now, call, &[], ("application/sdp", SDP))
        .unwrap();
    let second = sent(&mut ep).pop().unwrap().1;
    feed(&mut ep, now, &ok);
    let out = sent(&mut ep);
    assert_eq!(
        out.iter().map(|(_, b)| summary(b)).collect::<Vec<_>>(),
        [summary(&ack)]
    );
    let ok2 = response_to(&second, 200, "b1", &[("Contact", CONTACT)], Some(SDP));
    feed(&mut ep, now, &ok2);
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["ACK"]);
    assert_eq!(summary(&out[0].1).1, summary(&second).1);
    let evs = events(&mut ep);
    assert!(
        evs.iter().any(|e| matches!(e, Event::Response { .. })),
        "{evs:?}"
    );
    ep.hangup(now, call).unwrap();
    let bye = sent(&mut ep).pop().unwrap().1;
    feed(&mut ep, now, &response_to(&bye, 200, "b1", &[], None));
    events(&mut ep);
    ep.handle_timeout(Instant::from_millis(40_000));
    sent(&mut ep);
    events(&mut ep);
    assert_eq!((ep.transaction_count(), ep.lingering_count()), (0, 0));
}

/// RFC 4028 §7.4 with RFC 3261 §14.1: the session refresh sent again after a 422 meets
/// glare (491); the endpoint sends it again after the back-off, and a 422 to that one,
/// a new re-INVITE, is followed once more, with the dialog's next CSeq each time.
#[test]
fn a_refresh_after_422_then_491_follows_a_new_422() {
    let mut ep = timed();
    let call = timed_call(&mut ep);
    let out = run(&mut ep, Instant::from_millis(60_000));
    let (now, refresh) = out[0].clone();
    let seq = parse(&refresh).cseq().unwrap().seq();
    feed(
        &mut ep,
        now,
        &response_to(&refresh, 422, "b1", &[("Min-SE", "300")], None),
    );
    let again = sent(&mut ep).pop().unwrap().1;
    assert_eq!(parse(&again).cseq().unwrap().seq(), seq + 1);
    feed(&mut ep, now, &response_to(&again, 491, "b1", &[], None));
    assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
    events(&mut ep);
    let out = run(&mut ep, now + sansip::time::Duration::from_millis(5_000));
    // The refresh again after the back-off (and its retransmissions, Timer A).
    assert!(!out.is_empty() && out.iter().all(|(_, b)| *b == out[0].1));
    let (now, third) = out[out.len() - 1].clone();
    let m = parse(&third);
    assert_eq!(m.cseq().unwrap().seq(), seq + 2);
    assert_eq!(value(&m, HeaderKind::MinSe), Some("300"));
    feed(
        &mut ep,
        now,
        &response_to(&third, 422, "b1", &[("Min-SE", "600")], None),
    );
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["ACK", "INVITE"]);
    let fourth = parse(&out[1].1);
    assert_eq!(fourth.cseq().unwrap().seq(), seq + 3);
    assert_eq!(value(&fourth, HeaderKind::MinSe), Some("600"));
    assert!(
        value(&fourth, HeaderKind::SessionExpires)
            .unwrap()
            .starts_with("600")
    );
    assert!(ep.call_state(call).is_some());
}
