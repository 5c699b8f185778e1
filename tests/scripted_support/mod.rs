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
    place(ep, now, offer.then_some(("application/sdp", SDP)), None)
}

/// Place a call from alice to bob at the scripted peer with `body` and `credentials`:
/// the call and the INVITE sent.
fn place(
    ep: &mut Ep,
    now: Instant,
    body: Option<(&str, &[u8])>,
    credentials: Option<sansip::endpoint::DigestCredentials<'_>>,
) -> (CallHandle, Vec<u8>) {
    let req = Request {
        body,
        credentials,
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

/// The scripted callee's Contact.
pub const CONTACT: &str = "<sip:bob@127.0.0.1:5070>";
/// The SDP every scripted offer and answer carries.
pub const SDP: &[u8] = b"v=0\r\n";

/// `n` loose-routing proxies' Record-Route values.
pub fn routes(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("<sip:127.0.0.1:{};lr>", 6000 + i))
        .collect()
}

/// The callee's 2xx to `invite`, To tag `tag`, through `routes` record-routing hops
/// (see [`routes`]), with a Contact.
pub fn routed_ok(invite: &[u8], tag: &str, routes: usize) -> Vec<u8> {
    let rr = self::routes(routes);
    let mut headers: Vec<(&str, &str)> = rr.iter().map(|r| ("Record-Route", r.as_str())).collect();
    headers.push(("Contact", CONTACT));
    response_to(invite, 200, tag, &headers, None)
}

/// The value of the first header of kind `k`, as text.
pub fn value<'a>(m: &Message<'a>, k: sansip::message::HeaderKind) -> Option<&'a str> {
    m.header(k).map(|h| std::str::from_utf8(h.value).unwrap())
}

/// An endpoint with session timers on: 120 s asked for, Min-SE 90.
pub fn timed() -> Box<Ep> {
    Box::new(Endpoint::new(EndpointConfig {
        session_timer: Some(sansip::dialog::TimerConfig {
            session_expires: 120,
            min_se: 90,
        }),
        ..EndpointConfig::new(addr(LOCAL), 7)
    }))
}

/// Run `ep`'s timers up to `until`: what it sent, and when.
pub fn run(ep: &mut Ep, until: Instant) -> Vec<(Instant, Vec<u8>)> {
    let mut out = Vec::new();
    while let Some(t) = ep.poll_timeout().filter(|&t| t <= until) {
        ep.handle_timeout(t);
        out.extend(sent(ep).into_iter().map(|(_, b)| (t, b)));
    }
    out
}

/// A proxy's Digest challenge (RFC 3261 §22.3).
pub const PROXY_CHALLENGE: &str = "Digest realm=\"proxy.test\", nonce=\"p-1\", qop=\"auth\"";

/// Place a call from alice, with her Digest credentials and an SDP offer, whose INVITE a
/// proxy answers 407 ([`PROXY_CHALLENGE`]): the call and the INVITE sent again with
/// `Proxy-Authorization` (after the ACK of the 407).
pub fn challenged_call(ep: &mut Ep, now: Instant) -> (CallHandle, Vec<u8>) {
    let alice = sansip::endpoint::DigestCredentials::new("alice", "wonderland");
    let (call, invite) = place(ep, now, Some(("application/sdp", SDP)), Some(alice));
    let challenge = [("Proxy-Authenticate", PROXY_CHALLENGE)];
    feed(ep, now, &response_to(&invite, 407, "p", &challenge, None));
    let out = sent(ep);
    assert_eq!(methods(&out), ["ACK", "INVITE"]);
    (call, out[1].1.clone())
}

/// The scripted endpoint with lingering records on.
pub fn lingering() -> Box<Ep> {
    Box::new(Endpoint::new(EndpointConfig {
        linger_records: 256,
        linger_bytes: 1 << 20,
        ..EndpointConfig::new(addr(LOCAL), 7)
    }))
}

/// (method, CSeq number, To tag) of a request.
pub fn summary(bytes: &[u8]) -> (String, u32, String) {
    let m = parse(bytes);
    (
        m.method().unwrap().to_string(),
        m.cseq().unwrap().seq(),
        m.to().unwrap().tag().unwrap_or("").to_string(),
    )
}

/// A call with a 120 s session interval this side refreshes: the call and the time its
/// 2xx came.
pub fn timed_call(ep: &mut Ep) -> CallHandle {
    let now = Instant::ZERO;
    let (call, invite) = place_call(ep, now, true);
    let headers = [
        ("Contact", CONTACT),
        ("Session-Expires", "120;refresher=uac"),
        ("Require", "timer"),
    ];
    feed(
        ep,
        now,
        &response_to(&invite, 200, "b1", &headers, Some(SDP)),
    );
    assert_eq!(methods(&sent(ep)), ["ACK"]);
    assert!(events(ep).contains(&Event::CallEstablished { call }));
    call
}

/// Place a call without an offer and let the scripted callee ring (180 with To tag `b1`
/// and a Contact: an early dialog): the call and its INVITE.
pub fn ringing_call(ep: &mut Ep, now: Instant) -> (CallHandle, Vec<u8>) {
    let (call, invite) = place_call(ep, now, false);
    feed(
        ep,
        now,
        &response_to(&invite, 180, "b1", &[("Contact", CONTACT)], None),
    );
    (call, invite)
}

/// An INVITE from the scripted peer (From tag `peer`, Call-ID `call_id`) to the endpoint
/// under test, without a body.
pub fn invite_from_peer(call_id: &str) -> Vec<u8> {
    format!(
        "INVITE sip:bob@{LOCAL} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {PEER};branch=z9hG4bK-{call_id}-inv\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:alice@127.0.0.1>;tag=peer\r\n\
         To: <sip:bob@127.0.0.1>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:alice@{PEER}>\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// The scripted caller's request `method` (CSeq `seq`, `extra` headers, no body) within
/// the call of [`invite_from_peer`] (`call_id`), the callee's To tag `tag`.
pub fn from_peer_in_call(call_id: &str, tag: &str, method: &str, seq: u32, extra: &str) -> Vec<u8> {
    format!(
        "{method} sip:bob@{LOCAL} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {PEER};branch=z9hG4bK-{call_id}-{method}-{seq}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:alice@127.0.0.1>;tag=peer\r\n\
         To: <sip:bob@127.0.0.1>;tag={tag}\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: {seq} {method}\r\n\
         Contact: <sip:alice@{PEER}>\r\n\
         {extra}Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// The scripted peer's `invite` (tags of [`invite_from_peer`]) answered 200 with an SDP
/// body, the call given `credentials` first if any, and ACKed: the call and the 200.
pub fn answer(
    ep: &mut Ep,
    now: Instant,
    invite: &[u8],
    credentials: Option<&sansip::endpoint::DigestCredentials<'_>>,
) -> (CallHandle, Vec<u8>) {
    feed(ep, now, invite);
    let evs = events(ep);
    let (tx, call) = incoming(&evs)[0];
    let call = call.expect("an INVITE makes a call");
    if let Some(c) = credentials {
        ep.set_credentials(call, Some(c)).unwrap();
    }
    ep.respond(now, tx, StatusCode::OK, Some(("application/sdp", SDP)))
        .unwrap();
    let ok = sent(ep).pop().unwrap().1;
    let (call_id, tag) = {
        let m = parse(&ok);
        let call_id = value(&m, sansip::message::HeaderKind::CallId)
            .unwrap()
            .to_owned();
        (call_id, m.to().unwrap().tag().unwrap().to_owned())
    };
    feed(ep, now, &from_peer_in_call(&call_id, &tag, "ACK", 1, ""));
    assert!(events(ep).contains(&Event::CallEstablished { call }));
    (call, ok)
}

/// A call the scripted peer placed (Call-ID `call_id`), answered 200 and ACKed, with
/// `credentials` given before the answer ([`answer`]).
pub fn answered(
    ep: &mut Ep,
    now: Instant,
    call_id: &str,
    credentials: Option<&sansip::endpoint::DigestCredentials<'_>>,
) -> CallHandle {
    answer(ep, now, &invite_from_peer(call_id), credentials).0
}

/// A proxy's 407 to `request` ([`PROXY_CHALLENGE`]).
pub fn challenge(request: &[u8]) -> Vec<u8> {
    response_to(
        request,
        407,
        "",
        &[("Proxy-Authenticate", PROXY_CHALLENGE)],
        None,
    )
}

/// An endpoint registering alice for 600 s at the scripted peer, as `username` with
/// `password` (empty: none), with `retry`: the endpoint, the registration and its first
/// REGISTER.
pub fn registering(
    retry: Option<sansip::register::Retry>,
    username: &str,
    password: &str,
) -> (Box<Ep>, sansip::endpoint::RegistrationHandle, Vec<u8>) {
    let mut ep = Box::new(Endpoint::new(EndpointConfig {
        registration_retry: retry,
        ..EndpointConfig::new(addr(LOCAL), 7)
    }));
    let binding = sansip::endpoint::Binding {
        registrar: "sip:127.0.0.1",
        aor: "<sip:alice@127.0.0.1>",
        expires: 600,
        username,
        password,
        realm: None,
    };
    let reg = ep.register(Instant::ZERO, addr(PEER), &binding).unwrap();
    let first = sent(&mut ep).remove(0).1;
    (ep, reg, first)
}

use sansip::endpoint::{Subscribe, SubscriptionHandle};
use sansip::message::HeaderKind;

/// A subscription to presence at the scripted peer, keeping forks if `forks`: its handle
/// and SUBSCRIBE.
pub fn subscribe(ep: &mut Ep, now: Instant, forks: bool) -> (SubscriptionHandle, Vec<u8>) {
    let asked = Subscribe {
        forks,
        ..Subscribe::new(
            CALLEE,
            "<sip:alice@127.0.0.1>",
            "<sip:bob@127.0.0.1>",
            "presence",
            600,
        )
    };
    let sub = ep.subscribe(now, addr(PEER), &asked).unwrap();
    let out = sent(ep);
    assert_eq!(methods(&out), ["SUBSCRIBE"]);
    (sub, out[0].1.clone())
}

/// Notifier `tag`'s NOTIFY number `seq` for `subscribe`, Event `event`,
/// `Subscription-State: state`; with a Contact unless `contact` is false.
pub fn notify(
    subscribe: &[u8],
    tag: &str,
    seq: u32,
    event: &str,
    state: &str,
    contact: bool,
) -> Vec<u8> {
    let s = parse(subscribe);
    let from = value(&s, HeaderKind::To).unwrap();
    let to = value(&s, HeaderKind::From).unwrap();
    let call_id = value(&s, HeaderKind::CallId).unwrap();
    let contact = if contact {
        format!("Contact: <sip:{tag}@127.0.0.1:5070>\r\n")
    } else {
        String::new()
    };
    format!(
        "NOTIFY sip:alice@127.0.0.1:5062 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK{tag}{seq}{}\r\n\
         Max-Forwards: 70\r\n\
         From: {from};tag={tag}\r\n\
         To: {to}\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: {seq} NOTIFY\r\n\
         {contact}\
         Event: {event}\r\n\
         Subscription-State: {state}\r\n\
         Content-Length: 0\r\n\r\n",
        event.len()
    )
    .into_bytes()
}

/// The NOTIFY events in `evs`, answered 200 (the host's part).
pub fn answer_notifies(ep: &mut Ep, now: Instant, evs: &[Event]) {
    for e in evs {
        if let Event::Notify { tx, .. } = e {
            ep.respond(now, *tx, sansip::message::StatusCode::OK, None)
                .unwrap();
        }
    }
}

/// A presence subscription keeping forks, made active by notifier `nA`'s NOTIFY after
/// its 202 (answered 200): the subscription and its SUBSCRIBE.
pub fn active_subscription(ep: &mut Ep, now: Instant) -> (SubscriptionHandle, Vec<u8>) {
    let (sub, subscribe) = subscribe(ep, now, true);
    feed(
        ep,
        now,
        &response_to(
            &subscribe,
            202,
            "nA",
            &[("Contact", "<sip:nA@127.0.0.1:5070>")],
            None,
        ),
    );
    let evs = events(ep);
    feed(
        ep,
        now,
        &notify(&subscribe, "nA", 1, "presence", "active;expires=600", true),
    );
    let evs2 = events(ep);
    answer_notifies(ep, now, &evs2);
    assert_eq!(
        statuses(&sent(ep)),
        [(200, "NOTIFY".to_string())],
        "{evs:?} {evs2:?}"
    );
    (sub, subscribe)
}

/// [`active_subscription`], then notifier `nB`'s first NOTIFY: the parent, the fork, the
/// SUBSCRIBE.
pub fn forked(ep: &mut Ep, now: Instant) -> (SubscriptionHandle, SubscriptionHandle, Vec<u8>) {
    let (sub, subscribe) = active_subscription(ep, now);
    feed(
        ep,
        now,
        &notify(&subscribe, "nB", 1, "presence", "active;expires=600", true),
    );
    let evs = events(ep);
    let Some(Event::SubscriptionForked { sub: fork, of }) = evs.first().copied() else {
        panic!("{evs:?}")
    };
    assert_eq!(of, sub);
    answer_notifies(ep, now, &evs);
    assert_eq!(statuses(&sent(ep)), [(200, "NOTIFY".to_string())]);
    assert_eq!(ep.subscription_count(), 2);
    (sub, fork, subscribe)
}

/// The registrar's Digest challenge with nonce `nonce` (not stale), a 401 to `request`.
pub fn www_challenge(request: &[u8], nonce: &str) -> Vec<u8> {
    let challenge = format!("Digest realm=\"registrar.test\", nonce=\"{nonce}\", qop=\"auth\"");
    response_to(
        request,
        401,
        "r",
        &[("WWW-Authenticate", challenge.as_str())],
        None,
    )
}

/// The proxy's Digest challenge with nonce `nonce`, a 407 to `request`, saying
/// `stale=true` if `stale`.
pub fn proxy_challenge(request: &[u8], nonce: &str, stale: bool) -> Vec<u8> {
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

/// The nonce of the credentials of `kind` (`Authorization` or `Proxy-Authorization`) a
/// request carries, if any.
pub fn nonce_in(request: &[u8], kind: HeaderKind) -> Option<String> {
    let m = parse(request);
    let value = value(&m, kind)?;
    let at = value.find("nonce=\"")? + 7;
    let len = value[at..].find('"')?;
    Some(value[at..at + len].to_owned())
}
