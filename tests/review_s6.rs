//! Review s6: security and robustness of the endpoint and the writer against hostile or
//! malformed input and careless hosts, through the public API. Each test states the
//! behaviour the RFC (or the crate's design rules) ask for and failed before its fix.

use sansip::Instant;
use sansip::endpoint::{Endpoint, EndpointConfig, Event, Request};
use sansip::message::Method;

mod scripted_support;

use scripted_support::*;

/// Drain every transmit of `ep`.
fn drain<const TX: usize, const CALLS: usize, const MSG: usize, const QUEUE: usize>(
    ep: &mut Endpoint<TX, CALLS, MSG, QUEUE>,
) {
    let mut buf = vec![0u8; MSG];
    while ep.poll_transmit(&mut buf).unwrap().is_some() {}
}

// ----- events are never lost to a full queue ------------------------------------------

/// RFC 3261 §17.1.2.2: when Timer F fires the client transaction "SHOULD inform the TU
/// about the timeout". A host that sent a burst of requests (more than
/// `EVENT_QUEUE`) to a peer that never answers must learn of every timeout: their
/// Timer Fs are due at the same instant, and one `handle_timeout` used to fire them all
/// and drop the events past the queue's 64 (counted as `queue_overflows`). It now leaves
/// the rest due, as it does when the transmit queue fills, and the host gets them on
/// its next call.
#[test]
fn a_burst_of_timeouts_reaches_the_host_whole() {
    const BURST: usize = 100;
    let mut ep: Box<Endpoint<128, 4, 512>> =
        Box::new(Endpoint::new(EndpointConfig::new(addr(LOCAL), 1)));
    let now = Instant::ZERO;
    for _ in 0..BURST {
        let r = Request::new(
            Method::Options,
            "sip:bob@127.0.0.1:5070",
            "<sip:alice@127.0.0.1>",
            "<sip:bob@127.0.0.1>",
        );
        ep.send_request(now, addr(PEER), &r).unwrap();
        drain(&mut ep);
    }
    let mut timed_out = 0;
    let mut rounds = 0;
    // The host loop of the crate docs: sleep until `poll_timeout`, fire, drain all.
    while let Some(t) = ep.poll_timeout() {
        rounds += 1;
        assert!(rounds < 10_000, "handle_timeout makes no progress");
        ep.handle_timeout(t);
        drain(&mut ep);
        while let Some(e) = ep.poll_event() {
            timed_out += usize::from(matches!(e, Event::TimedOut { .. }));
        }
    }
    assert_eq!(ep.stats().queue_overflows, 0, "events dropped");
    assert_eq!(timed_out, BURST, "every Timer F reaches the host");
    assert_eq!(ep.transaction_count(), 0);
}
