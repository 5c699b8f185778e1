//! Review of session 11's changes: kept credentials challenged again, each request's own
//! challenge counts, `Retry::MIN_WAIT`, and forks arriving while a subscription ends.

mod scripted_support;

use std::collections::VecDeque;

use sansip::Instant;
use sansip::endpoint::{Event, Transport};
use sansip::message::{HeaderKind, Method};
use scripted_support::*;

/// The proxy's challenge with nonce `nonce` to `request`, saying `stale=true` if `stale`.
fn proxy_challenge(request: &[u8], nonce: &str, stale: bool) -> Vec<u8> {
    let stale = if stale { ", stale=true" } else { "" };
    let challenge = format!("Digest realm=\"proxy.test\", nonce=\"{nonce}\", qop=\"auth\"{stale}");
    response_to(
        request,
        407,
        "b1",
        &[("Proxy-Authenticate", challenge.as_str())],
        None,
    )
}

/// The nonce of the `Proxy-Authorization` a request carries, if any.
fn proxy_nonce_of(request: &[u8]) -> Option<String> {
    let m = parse(request);
    let value = value(&m, HeaderKind::ProxyAuthorization)?;
    let at = value.find("nonce=\"")? + 7;
    let len = value[at..].find('"')?;
    Some(value[at..at + len].to_owned())
}

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
        assert_eq!(proxy_nonce_of(&out[0].1).as_deref(), Some("n-last"));
    }
}
