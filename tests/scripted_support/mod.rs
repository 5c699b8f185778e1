//! One endpoint under test, fed datagrams a scripted peer writes, its `poll_transmit`
//! and `poll_event` read back: the harness of the review tests that script the peer.
#![allow(dead_code)]

use std::net::SocketAddr;

use sansip::Instant;
use sansip::encode::{MessageBuilder, Value};
use sansip::endpoint::{CallHandle, Endpoint, EndpointConfig, Event, Request, Transport, TxHandle};
use sansip::message::{Message, Method, StatusCode};

pub type Ep = Endpoint<16, 8, 2048>;

/// The endpoint under test.
pub const LOCAL: &str = "127.0.0.1:5062";
/// The scripted peer.
pub const PEER: &str = "127.0.0.1:5070";

pub fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

pub fn endpoint(transport: Transport) -> Box<Ep> {
    Box::new(Endpoint::new(EndpointConfig {
        transport,
        ..EndpointConfig::new(addr(LOCAL), 7)
    }))
}

/// Everything the endpoint sends now: destination and datagram.
pub fn sent(ep: &mut Ep) -> Vec<(SocketAddr, Vec<u8>)> {
    let mut buf = vec![0u8; 8192];
    let mut out = Vec::new();
    while let Some(t) = ep.poll_transmit(&mut buf).unwrap() {
        out.push((t.destination, t.bytes.to_vec()));
    }
    out
}

pub fn events(ep: &mut Ep) -> Vec<Event> {
    std::iter::from_fn(|| ep.poll_event()).collect()
}

pub fn parse(bytes: &[u8]) -> Message<'_> {
    Message::parse(bytes).unwrap()
}

/// (status, CSeq method) of every response in `out`.
pub fn statuses(out: &[(SocketAddr, Vec<u8>)]) -> Vec<(u16, String)> {
    out.iter()
        .map(|(_, b)| parse(b))
        .filter_map(|m| Some((m.status()?.as_u16(), m.cseq().unwrap().method().to_string())))
        .collect()
}

/// The methods of every request in `out`.
pub fn methods(out: &[(SocketAddr, Vec<u8>)]) -> Vec<String> {
    out.iter()
        .filter_map(|(_, b)| parse(b).method().map(|m| m.to_string()))
        .collect()
}

pub fn incoming(evs: &[Event]) -> Vec<(TxHandle, Option<CallHandle>)> {
    evs.iter()
        .filter_map(|e| match e {
            Event::IncomingRequest { tx, call } => Some((*tx, *call)),
            _ => None,
        })
        .collect()
}

pub fn feed(ep: &mut Ep, now: Instant, bytes: &[u8]) {
    ep.handle_datagram(now, addr(PEER), bytes);
}

/// The scripted peer's response `code` to `request`, with To tag `tag` (unless the
/// request's To has one), `headers`, and `body` as `application/sdp` if any.
pub fn response_to(
    request: &[u8],
    code: u16,
    tag: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Vec<u8> {
    let req = parse(request);
    let mut b = MessageBuilder::response_to(&req, StatusCode::new(code).unwrap(), tag).unwrap();
    for (name, value) in headers {
        b.push(name, Value::Text(value));
    }
    if let Some(body) = body {
        b.set_body("application/sdp", body);
    }
    let mut buf = vec![0u8; 4096];
    let n = b.encode_into(&mut buf).unwrap();
    buf.truncate(n);
    buf
}

/// The Request-URI of the calls [`place_call`] places: the scripted peer.
pub const CALLEE: &str = "sip:bob@127.0.0.1:5070";

/// Place a call from alice to bob at the scripted peer, with an SDP offer if `offer`:
/// the call and the INVITE sent.
pub fn place_call(ep: &mut Ep, now: sansip::Instant, offer: bool) -> (CallHandle, Vec<u8>) {
    let req = Request {
        body: offer.then_some(("application/sdp", b"v=0\r\n".as_slice())),
        ..Request::new(
            Method::Invite,
            CALLEE,
            "<sip:alice@127.0.0.1>",
            "<sip:bob@127.0.0.1>",
        )
    };
    let call = ep.invite(now, addr(PEER), &req).unwrap();
    let invite = sent(ep).pop().unwrap().1;
    (call, invite)
}
