//! Review of session 11's changes: kept credentials challenged again, each request's own
//! challenge counts, `Retry::MIN_WAIT`, and forks arriving while a subscription ends.

mod scripted_support;

use std::collections::VecDeque;

use sansip::Instant;
use sansip::endpoint::{Event, Transport};
use sansip::message::{HeaderKind, Method};
use scripted_support::*;

/// A call placed with credentials through a challenging proxy, answered and ACKed.
fn established(ep: &mut Ep, now: Instant) -> sansip::endpoint::CallHandle {
    let (call, invite) = challenged_call(ep, now);
    let ok = response_to(&invite, 200, "b1", &[("Contact", CONTACT)], Some(SDP));
    feed(ep, now, &ok);
    assert_eq!(methods(&sent(ep)), ["ACK"]);
    assert!(events(ep).contains(&Event::CallEstablished { call }));
    call
}

/// Five requests of one call out at once (nothing bounds how many INFOs a call has out),
/// each challenged by a proxy that gives a new nonce every time: each is sent again at
/// most as often as one request alone would be (once for a nonce that is not stale,
/// RFC 3261 §22.1; twice for stale ones, RFC 2617 §3.2.1). Before, the fifth retry took
/// the place of the first among the four remembered, the first retry's challenge then
/// read as one to an original request, and the five went round for ever.
#[test]
fn more_challenged_requests_than_remembered_are_not_sent_again_for_ever() {
    for stale in [false, true] {
        let mut ep = endpoint(Transport::Tcp);
        let now = Instant::ZERO;
        let call = established(&mut ep, now);
        for _ in 0..5 {
            ep.request_in_call(now, call, Method::Info, &[], None)
                .unwrap();
        }
        let mut out: VecDeque<Vec<u8>> = sent(&mut ep).into_iter().map(|(_, b)| b).collect();
        assert_eq!(out.len(), 5);
        let (mut nonce, mut sent_again) = (0, 0);
        while let Some(request) = out.pop_front() {
            nonce += 1;
            feed(
                &mut ep,
                now,
                &proxy_challenge(&request, &format!("n-{nonce}"), stale),
            );
            for (_, again) in sent(&mut ep) {
                assert_eq!(parse(&again).method(), Some(Method::Info));
                sent_again += 1;
                out.push_back(again);
            }
            events(&mut ep);
            assert!(sent_again <= 100, "stale: {stale}: sent again for ever");
        }
        // Four chains remembered at once, each sent again as one alone would be; the
        // fifth request, challenged while four answers are out, fails with its 407.
        let per_request = if stale { 2 } else { 1 };
        assert_eq!(sent_again, 4 * per_request, "stale: {stale}");
        // None waits for its final response any more: the next request's challenge is
        // answered again.
        ep.request_in_call(now, call, Method::Info, &[], None)
            .unwrap();
        let info = sent(&mut ep).remove(0).1;
        feed(&mut ep, now, &proxy_challenge(&info, "n-last", stale));
        let out = sent(&mut ep);
        assert_eq!(methods(&out), ["INFO"], "stale: {stale}");
        assert_eq!(
            nonce_in(&out[0].1, HeaderKind::ProxyAuthorization).as_deref(),
            Some("n-last")
        );
    }
}

/// The `Expires` of a REGISTER.
fn expires_of(register: &[u8]) -> String {
    value(&parse(register), HeaderKind::Expires)
        .unwrap()
        .to_owned()
}

/// Pinned: the `Expires: 0` REGISTER carries the kept credentials (RFC 3261 §22.3); a
/// registrar whose nonce expired challenges it with a new one, and that challenge is
/// answered once (§10.2.2: the binding is removed); the answer challenged again is
/// refused (§22.1), and nothing more is sent.
#[test]
fn an_unregistration_whose_kept_credentials_are_challenged_is_answered_once() {
    for refuse_answer in [false, true] {
        let (mut ep, reg, first) = registering(None, "alice", "secret");
        feed(&mut ep, Instant::ZERO, &www_challenge(&first, "n1"));
        let answer = sent(&mut ep).remove(0).1;
        feed(
            &mut ep,
            Instant::ZERO,
            &response_to(&answer, 200, "r", &[("Expires", "600")], None),
        );
        assert!(events(&mut ep).contains(&Event::Registered { reg, expires: 600 }));
        let now = Instant::from_millis(1_000);
        ep.unregister(now, reg).unwrap();
        let removal = sent(&mut ep).remove(0).1;
        assert_eq!(expires_of(&removal), "0");
        assert_eq!(
            nonce_in(&removal, HeaderKind::Authorization).as_deref(),
            Some("n1")
        );
        feed(&mut ep, now, &www_challenge(&removal, "n2"));
        let out = sent(&mut ep);
        assert_eq!(methods(&out), ["REGISTER"]);
        let again = out[0].1.clone();
        assert_eq!(expires_of(&again), "0");
        assert_eq!(
            nonce_in(&again, HeaderKind::Authorization).as_deref(),
            Some("n2")
        );
        if refuse_answer {
            feed(&mut ep, now, &www_challenge(&again, "n3"));
            assert!(sent(&mut ep).is_empty(), "refused: not sent again");
            assert!(events(&mut ep).contains(&Event::RegistrationFailed {
                reg,
                status: sansip::message::StatusCode::UNAUTHORIZED
            }));
        } else {
            feed(&mut ep, now, &response_to(&again, 200, "r", &[], None));
            assert!(events(&mut ep).contains(&Event::Unregistered { reg }));
        }
        assert_eq!(ep.registration_count(), 0);
    }
}

/// Pinned: a zero retry policy still waits (`Retry::MIN_WAIT`, of which the endpoint
/// waits a random 50 to 100 %) before it registers again after a 503: no REGISTER loop
/// against a registrar failing at once.
#[test]
fn a_zero_retry_policy_waits_at_least_half_of_min_wait() {
    use sansip::register::Retry;
    use std::time::Duration;
    let zero = Retry {
        base: Duration::ZERO,
        max: Duration::ZERO,
    };
    let (mut ep, reg, first) = registering(Some(zero), "", "");
    let mut register = first;
    let mut at = Instant::ZERO;
    for _ in 0..3 {
        feed(&mut ep, at, &response_to(&register, 503, "r", &[], None));
        let after = events(&mut ep)
            .into_iter()
            .find_map(|e| match e {
                Event::RegistrationRetrying { reg: r, after, .. } if r == reg => Some(after),
                _ => None,
            })
            .expect("retrying");
        assert!(
            after >= Retry::MIN_WAIT / 2 && after <= Retry::MIN_WAIT,
            "{after:?}"
        );
        let ms = u64::try_from(after.as_millis()).unwrap();
        assert!(run(&mut ep, Instant::from_millis(at.as_millis() + ms - 1)).is_empty());
        let out = run(&mut ep, Instant::from_millis(at.as_millis() + ms));
        assert_eq!(out.len(), 1);
        register = out[0].1.clone();
        at = Instant::from_millis(at.as_millis() + ms);
    }
}

/// Pinned (RFC 6665 §4.1.2.4, §4.2.2): once the host ended the subscription and each
/// fork it made, a further notifier's first NOTIFY gets 481 and makes no fork.
#[test]
fn a_notifier_after_the_subscription_and_its_forks_ended_gets_481() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (sub, fork, subscribe) = forked(&mut ep, now);
    ep.unsubscribe(now, sub).unwrap();
    ep.unsubscribe(now, fork).unwrap();
    assert_eq!(methods(&sent(&mut ep)), ["SUBSCRIBE", "SUBSCRIBE"]);
    feed(
        &mut ep,
        now,
        &notify(&subscribe, "nC", 1, "presence", "active;expires=600", true),
    );
    let evs = events(&mut ep);
    assert!(
        !evs.iter()
            .any(|e| matches!(e, Event::SubscriptionForked { .. } | Event::Notify { .. })),
        "{evs:?}"
    );
    assert_eq!(statuses(&sent(&mut ep)), [(481, "NOTIFY".to_string())]);
    assert_eq!(ep.subscription_count(), 2);
}

/// Pinned: a re-INVITE carries the kept credentials (RFC 3261 §22.3); the proxy's
/// challenge with a new nonce is answered once, as a new transaction with the next CSeq
/// (§8.1.3.5), and that answer challenged again is refused (§22.1).
#[test]
fn a_reinvite_whose_kept_credentials_are_challenged_is_sent_again_once() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let call = established(&mut ep, now);
    ep.reinvite(now, call, &[], ("application/sdp", SDP))
        .unwrap();
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["INVITE"]);
    let reinvite = out[0].1.clone();
    assert_eq!(
        nonce_in(&reinvite, HeaderKind::ProxyAuthorization).as_deref(),
        Some("p-1")
    );
    feed(&mut ep, now, &proxy_challenge(&reinvite, "p-2", false));
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["ACK", "INVITE"]);
    let again = out[1].1.clone();
    assert_eq!(
        nonce_in(&again, HeaderKind::ProxyAuthorization).as_deref(),
        Some("p-2")
    );
    assert_eq!(
        parse(&again).cseq().unwrap().seq(),
        parse(&reinvite).cseq().unwrap().seq() + 1
    );
    feed(&mut ep, now, &proxy_challenge(&again, "p-3", false));
    assert_eq!(
        methods(&sent(&mut ep)),
        ["ACK"],
        "refused: only the ACK of the 407"
    );
}
