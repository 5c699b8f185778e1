//! Session 11: gaps left open in earlier sessions, each test failing before its fix.

mod scripted_support;

use sansip::Instant;
use sansip::endpoint::Event;
use sansip::message::{HeaderKind, Method, StatusCode};
use scripted_support::*;

/// The one REGISTER the endpoint sends now.
fn one_register(ep: &mut Ep) -> Vec<u8> {
    let out = sent(ep);
    assert_eq!(methods(&out), ["REGISTER"], "expected one REGISTER");
    out.into_iter().next().unwrap().1
}

/// A refresh carries the credentials of the last challenge (RFC 3261 §22.3). A registrar
/// whose nonce has expired challenges it again with a new nonce, often without
/// `stale=true`: that challenge did not refuse credentials answering it, so it is
/// answered once (§22.2). Credentials that did answer a challenge and are challenged
/// again without `stale` are refused, and the registration ends (§22.1).
#[test]
fn a_refresh_challenged_with_a_new_nonce_is_answered_once() {
    let (mut ep, reg, first) = registering(None, "alice", "secret");
    assert_eq!(nonce_in(&first, HeaderKind::Authorization), None);
    feed(&mut ep, Instant::ZERO, &www_challenge(&first, "n1"));
    let answer = one_register(&mut ep);
    assert_eq!(
        nonce_in(&answer, HeaderKind::Authorization).as_deref(),
        Some("n1")
    );
    feed(
        &mut ep,
        Instant::ZERO,
        &response_to(&answer, 200, "r", &[("Expires", "60")], None),
    );
    assert!(events(&mut ep).contains(&Event::Registered { reg, expires: 60 }));

    // The refresh, 54 s later, carries the kept credentials; the registrar wants a new
    // nonce, without saying the old one was stale.
    let t = Instant::from_millis(54_000);
    let out = run(&mut ep, t);
    assert_eq!(out.len(), 1);
    let refresh = out[0].1.clone();
    assert_eq!(
        nonce_in(&refresh, HeaderKind::Authorization).as_deref(),
        Some("n1")
    );
    feed(&mut ep, t, &www_challenge(&refresh, "n2"));
    let evs = events(&mut ep);
    assert!(
        !evs.iter()
            .any(|e| matches!(e, Event::RegistrationFailed { .. })),
        "{evs:?}"
    );
    let answer = one_register(&mut ep);
    assert_eq!(
        nonce_in(&answer, HeaderKind::Authorization).as_deref(),
        Some("n2")
    );
    feed(
        &mut ep,
        t,
        &response_to(&answer, 200, "r", &[("Expires", "60")], None),
    );
    assert!(events(&mut ep).contains(&Event::Registered { reg, expires: 60 }));

    // Next refresh: challenged anew and answered; the answer challenged again without
    // `stale` means the credentials are wrong.
    let t = Instant::from_millis(108_000);
    let out = run(&mut ep, t);
    assert_eq!(out.len(), 1);
    let refresh = out[0].1.clone();
    assert_eq!(
        nonce_in(&refresh, HeaderKind::Authorization).as_deref(),
        Some("n2")
    );
    feed(&mut ep, t, &www_challenge(&refresh, "n3"));
    let answer = one_register(&mut ep);
    assert_eq!(
        nonce_in(&answer, HeaderKind::Authorization).as_deref(),
        Some("n3")
    );
    feed(&mut ep, t, &www_challenge(&answer, "n4"));
    assert!(
        sent(&mut ep).is_empty(),
        "refused credentials are not sent again"
    );
    assert!(events(&mut ep).contains(&Event::RegistrationFailed {
        reg,
        status: StatusCode::UNAUTHORIZED
    }));
}

/// A call's later requests carry the credentials of the INVITE's challenge (RFC 3261
/// §22.3). A proxy whose nonce expired during the call challenges the BYE with a new
/// nonce, often without `stale=true`: the BYE goes again, answering it (§22.2). The
/// answer challenged again is refused (§22.1): no third BYE.
#[test]
fn a_bye_whose_kept_credentials_are_challenged_is_sent_again_once() {
    for refuse_answer in [false, true] {
        let mut ep = endpoint(sansip::endpoint::Transport::Udp);
        let now = Instant::ZERO;
        let (call, invite) = challenged_call(&mut ep, now);
        assert_eq!(
            nonce_in(&invite, HeaderKind::ProxyAuthorization).as_deref(),
            Some("p-1")
        );
        let ok = response_to(&invite, 200, "b1", &[("Contact", CONTACT)], Some(SDP));
        feed(&mut ep, now, &ok);
        assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
        events(&mut ep);
        ep.hangup(now, call).unwrap();
        let out = sent(&mut ep);
        assert_eq!(methods(&out), ["BYE"]);
        let bye = out[0].1.clone();
        assert_eq!(
            nonce_in(&bye, HeaderKind::ProxyAuthorization).as_deref(),
            Some("p-1")
        );
        feed(&mut ep, now, &proxy_challenge(&bye, "p-2", false));
        let out = sent(&mut ep);
        assert_eq!(methods(&out), ["BYE"], "the BYE goes again");
        let again = out[0].1.clone();
        assert_eq!(
            nonce_in(&again, HeaderKind::ProxyAuthorization).as_deref(),
            Some("p-2")
        );
        assert!(
            parse(&again).cseq().unwrap().seq() > parse(&bye).cseq().unwrap().seq(),
            "a new transaction (§8.1.3.5)"
        );
        if refuse_answer {
            feed(&mut ep, now, &proxy_challenge(&again, "p-3", false));
            assert!(
                sent(&mut ep).is_empty(),
                "refused credentials are not sent again"
            );
        } else {
            feed(&mut ep, now, &response_to(&again, 200, "b1", &[], None));
            assert!(sent(&mut ep).is_empty());
        }
        let evs = events(&mut ep);
        assert!(
            evs.iter()
                .any(|e| matches!(e, Event::CallTerminated { call: c, .. } if *c == call)),
            "{evs:?}"
        );
    }
}

/// Two requests of one call challenged at once keep counts of their own: each is sent
/// again for at most two stale nonces in a row (RFC 2617 §3.2.1), however their
/// challenges interleave. Before, each challenge to the other request started the count
/// again, and a proxy saying `stale=true` to both had them sent for ever.
#[test]
fn two_challenged_requests_of_a_call_keep_their_own_counts() {
    let mut ep = endpoint(sansip::endpoint::Transport::Udp);
    let now = Instant::ZERO;
    let (call, invite) = challenged_call(&mut ep, now);
    let ok = response_to(&invite, 200, "b1", &[("Contact", CONTACT)], Some(SDP));
    feed(&mut ep, now, &ok);
    assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
    events(&mut ep);
    ep.request_in_call(now, call, Method::Info, &[], None)
        .unwrap();
    ep.request_in_call(now, call, Method::Message, &[], Some(("text/plain", b"hi")))
        .unwrap();
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["INFO", "MESSAGE"]);
    let (mut a, mut b) = (out[0].1.clone(), out[1].1.clone());
    let mut sent_again = [0, 0];
    for round in 0..4 {
        for (i, req) in [&mut a, &mut b].into_iter().enumerate() {
            feed(
                &mut ep,
                now,
                &proxy_challenge(req, &format!("s-{round}-{i}"), true),
            );
            let out = sent(&mut ep);
            match out.as_slice() {
                [] => {}
                [(_, again)] => {
                    *req = again.clone();
                    sent_again[i] += 1;
                }
                _ => panic!("{:?}", methods(&out)),
            }
        }
    }
    assert_eq!(sent_again, [2, 2]);
}

/// RFC 6665 §4.1.2.4, §4.2.2: once the host has ended a subscription keeping forks, a
/// NOTIFY from a notifier the SUBSCRIBE forked to gets 481 (the notifier then removes
/// its subscription) instead of making a fork the host must end by hand; the
/// terminating NOTIFY of the subscription's own dialog still ends it, and nothing is
/// left.
#[test]
fn a_fork_arriving_while_the_subscription_ends_gets_481() {
    let mut ep = endpoint(sansip::endpoint::Transport::Udp);
    let now = Instant::ZERO;
    let (sub, subscribe) = active_subscription(&mut ep, now);
    ep.unsubscribe(now, sub).unwrap();
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["SUBSCRIBE"]);
    feed(&mut ep, now, &response_to(&out[0].1, 200, "nA", &[], None));
    feed(
        &mut ep,
        now,
        &notify(&subscribe, "nB", 1, "presence", "active;expires=600", true),
    );
    let evs = events(&mut ep);
    assert!(
        !evs.iter()
            .any(|e| matches!(e, Event::SubscriptionForked { .. })),
        "{evs:?}"
    );
    assert_eq!(statuses(&sent(&mut ep)), [(481, "NOTIFY".to_string())]);
    assert_eq!(ep.subscription_count(), 1);
    feed(
        &mut ep,
        now,
        &notify(&subscribe, "nA", 2, "presence", "terminated", true),
    );
    let evs = events(&mut ep);
    assert!(
        evs.iter()
            .any(|e| matches!(e, Event::SubscriptionTerminated { sub: s, .. } if *s == sub)),
        "{evs:?}"
    );
    answer_notifies(&mut ep, now, &evs);
    assert_eq!(statuses(&sent(&mut ep)), [(200, "NOTIFY".to_string())]);
    assert_eq!(ep.subscription_count(), 0);
}
