//! Over a reliable transport (TCP here) a client transaction ends with its final
//! response (Timer K and Timer D are zero, RFC 3261 §17.1.2.2, §17.1.1.2), yet the host
//! must still be able to read that response (a challenge, a 3xx's Contacts, a
//! Retry-After) when it handles the event that reported it, as it can over UDP.

mod scripted_support;

use sansip::Instant;
use sansip::endpoint::{Event, Request, Transport};
use sansip::message::{HeaderKind, Method, StatusCode};
use scripted_support::*;

/// The peer's `code` to `request`, with `headers`.
fn reply(request: &[u8], code: u16, headers: &[(&str, &str)]) -> Vec<u8> {
    response_to(request, code, "p1", headers, None)
}

#[test]
fn a_final_response_stays_readable_until_the_events_are_drained() {
    let now = Instant::ZERO;
    // OPTIONS answered 401: the host reads the challenge when it sees the response.
    let mut ep = endpoint(Transport::Tcp);
    let req = Request::new(
        Method::Options,
        "sip:bob@127.0.0.1:5070",
        "<sip:alice@127.0.0.1>",
        "<sip:bob@127.0.0.1>",
    );
    let tx = ep.send_request(now, addr(PEER), &req).unwrap();
    let options = sent(&mut ep).pop().unwrap().1;
    let challenge = "Digest realm=\"127.0.0.1\", nonce=\"n1\"";
    feed(
        &mut ep,
        now,
        &reply(&options, 401, &[("WWW-Authenticate", challenge)]),
    );
    let mut seen = false;
    while let Some(e) = ep.poll_event() {
        if let Event::Response { tx: t, status, .. } = e {
            assert_eq!((t, status), (tx, StatusCode::UNAUTHORIZED));
            let resp = ep
                .response(tx)
                .expect("the 401 is readable while its event is handled");
            assert_eq!(
                resp.header(HeaderKind::WwwAuthenticate).unwrap().value,
                challenge.as_bytes()
            );
            assert_eq!(ep.request(tx).unwrap().method(), Some(Method::Options));
            seen = true;
        }
    }
    assert!(seen);
    // Drained: the transaction, over for a while already, is let go.
    assert!(ep.response(tx).is_none());
    assert_eq!(ep.transaction_count(), 0);

    // An INVITE refused with 486 and Retry-After: readable the same way, and the ACK
    // went out (the transaction's own, §17.1.1.3).
    let mut ep = endpoint(Transport::Tcp);
    let req = Request {
        body: Some(("application/sdp", b"v=0\r\n")),
        ..Request::new(
            Method::Invite,
            "sip:bob@127.0.0.1:5070",
            "<sip:alice@127.0.0.1>",
            "<sip:bob@127.0.0.1>",
        )
    };
    let call = ep.invite(now, addr(PEER), &req).unwrap();
    let invite = sent(&mut ep).pop().unwrap().1;
    feed(&mut ep, now, &reply(&invite, 486, &[("Retry-After", "60")]));
    assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
    let mut retry_after = None;
    while let Some(e) = ep.poll_event() {
        if let Event::Response {
            tx,
            call: Some(c),
            status,
        } = e
        {
            assert_eq!((c, status), (call, StatusCode::BUSY_HERE));
            let resp = ep.response(tx).expect("the 486 is readable");
            retry_after = resp
                .header(HeaderKind::RetryAfter)
                .map(|h| h.value.to_vec());
        }
    }
    assert_eq!(retry_after.as_deref(), Some(&b"60"[..]));
    assert_eq!(ep.transaction_count(), 0);
    assert_eq!(ep.call_count(), 0);
}

/// Transactions kept only so that the host can read their final response are over:
/// `handle_send_error` passes them by and reaches the live ones behind them, however
/// many there are (it steps the table in batches).
#[test]
fn a_send_error_reaches_live_transactions_behind_finished_ones() {
    // An endpoint bigger than the harness's, built on a thread with room for it.
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(send_error_behind_finished)
        .unwrap()
        .join()
        .unwrap();
}

fn send_error_behind_finished() {
    use sansip::endpoint::{Endpoint, EndpointConfig};
    let now = Instant::ZERO;
    let mut ep: Box<Endpoint<128, 8, 2048>> = Box::new(Endpoint::new(EndpointConfig {
        transport: Transport::Tcp,
        ..EndpointConfig::new(addr(LOCAL), 7)
    }));
    let req = Request::new(
        Method::Options,
        "sip:bob@127.0.0.1:5070",
        "<sip:alice@127.0.0.1>",
        "<sip:bob@127.0.0.1>",
    );
    let mut buf = vec![0u8; 4096];
    let mut finished = 0;
    // 64 OPTIONS answered; the host reads ten of their events and leaves the rest.
    for _ in 0..64 {
        ep.send_request(now, addr(PEER), &req).unwrap();
        let t = ep.poll_transmit(&mut buf).unwrap().unwrap();
        let options = t.bytes.to_vec();
        ep.handle_datagram(now, addr(PEER), &reply(&options, 200, &[]));
        finished += 1;
    }
    for _ in 0..10 {
        assert!(ep.poll_event().is_some());
    }
    assert_eq!(ep.transaction_count(), finished);
    // One more, unanswered: the connection to the peer fails.
    let live = ep.send_request(now, addr(PEER), &req).unwrap();
    while ep.poll_transmit(&mut buf).unwrap().is_some() {}
    ep.handle_send_error(now, addr(PEER));
    let mut failed = false;
    while let Some(e) = ep.poll_event() {
        failed |= matches!(e, Event::TransportError { tx } if tx == live);
    }
    assert!(failed, "the live transaction learns of the failure");
    assert_eq!(ep.transaction_count(), 0);
}
