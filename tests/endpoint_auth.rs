//! Digest credentials for calls and subscriptions (RFC 3261 §8.1.3.5, §22.1-§22.3)
//! through the public endpoint API: a caller given credentials answers a 401 or 407 by
//! sending the request again and the call (or subscription) goes on. The peer is either a
//! second endpoint or hand-written responses, so that every byte the caller sends can be
//! checked.

use std::net::SocketAddr;

use sansip::Instant;
use sansip::auth::verify;
use sansip::dialog::{EndReason, SessionState};
use sansip::encode::{MessageBuilder, Value};
use sansip::endpoint::{
    CallHandle, DigestCredentials, Endpoint, EndpointConfig, Event, Request, SendError, TxHandle,
};
use sansip::message::{Credentials, HeaderKind, Message, Method, StatusCode};

type Ep = Endpoint<16, 8, 2048>;

const ALICE: DigestCredentials<'static> = DigestCredentials::new("alice", "wonderland");
const SDP: &[u8] = b"v=0\r\n";
const CALLER: &str = "127.0.0.1:5061";
const CALLEE: &str = "127.0.0.1:5062";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn status(code: u16) -> StatusCode {
    StatusCode::new(code).unwrap()
}

/// The caller: an endpoint, its clock and every event it reported.
struct Caller {
    ep: Box<Ep>,
    now: Instant,
    events: Vec<Event>,
}

impl Caller {
    fn new() -> Self {
        Caller {
            ep: Box::new(Endpoint::new(EndpointConfig::new(addr(CALLER), 11))),
            now: Instant::ZERO,
            events: Vec::new(),
        }
    }

    /// Every datagram queued, in order (all go to the callee).
    fn sent(&mut self) -> Vec<Vec<u8>> {
        let mut buf = vec![0u8; 65_535];
        let mut out = Vec::new();
        while let Some(t) = self.ep.poll_transmit(&mut buf).unwrap() {
            assert_eq!(t.destination, addr(CALLEE));
            out.push(t.bytes.to_vec());
        }
        self.drain();
        out
    }

    fn drain(&mut self) {
        while let Some(e) = self.ep.poll_event() {
            self.events.push(e);
        }
    }

    /// Deliver `bytes` from the callee; what the caller sends back.
    fn receive(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        self.ep.handle_datagram(self.now, addr(CALLEE), bytes);
        self.sent()
    }

    /// Place a call with `credentials` (and an SDP offer); the INVITE sent.
    fn call(&mut self, credentials: Option<DigestCredentials<'static>>) -> (CallHandle, Vec<u8>) {
        let req = Request {
            body: Some(("application/sdp", SDP)),
            credentials,
            ..Request::new(
                Method::Invite,
                "sip:bob@127.0.0.1:5062",
                "<sip:alice@127.0.0.1>",
                "<sip:bob@127.0.0.1>",
            )
        };
        let call = self.ep.invite(self.now, addr(CALLEE), &req).unwrap();
        let sent = self.sent();
        assert_eq!(sent.len(), 1);
        (call, sent.into_iter().next().unwrap())
    }

    fn reoriginated(&self) -> Vec<(TxHandle, TxHandle)> {
        self.events
            .iter()
            .filter_map(|e| match *e {
                Event::Reoriginated { tx, retry } => Some((tx, retry)),
                _ => None,
            })
            .collect()
    }

    fn ended(&self, call: CallHandle) -> Option<EndReason> {
        self.events.iter().find_map(|e| match *e {
            Event::CallTerminated { call: c, reason } if c == call => Some(reason),
            _ => None,
        })
    }
}

/// The callee's (or a proxy's) response `code` to `request`, with To tag `tag` and
/// `headers`; 1xx (but 100) and 2xx to an INVITE or SUBSCRIBE carry a Contact, a 2xx to
/// an INVITE an SDP answer.
fn reply(request: &[u8], code: u16, tag: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let req = Message::parse(request).unwrap();
    let mut b = MessageBuilder::response_to(&req, status(code), tag).unwrap();
    let dialog_creating = matches!(req.method(), Some(Method::Invite | Method::Subscribe));
    if dialog_creating && (101..300).contains(&code) {
        b.push("Contact", Value::Text("<sip:bob@127.0.0.1:5062>"));
    }
    for (name, value) in headers {
        b.push(name, Value::Text(value));
    }
    if req.method() == Some(Method::Invite) && (200..300).contains(&code) {
        b.set_body("application/sdp", SDP);
    }
    let mut buf = vec![0u8; 4096];
    let n = b.encode_into(&mut buf).unwrap();
    buf.truncate(n);
    buf
}

/// The request among `sent` with this method (exactly one).
fn only(sent: &[Vec<u8>], method: Method<'_>) -> Vec<u8> {
    let found: Vec<&Vec<u8>> = sent
        .iter()
        .filter(|b| Message::parse(b).unwrap().method() == Some(method))
        .collect();
    assert_eq!(found.len(), 1, "{method}: {:?}", lines(sent));
    found[0].clone()
}

/// First lines, for failure messages.
fn lines(sent: &[Vec<u8>]) -> Vec<String> {
    sent.iter()
        .map(|b| {
            String::from_utf8_lossy(&b[..b.iter().position(|&c| c == b'\r').unwrap_or(b.len())])
                .into_owned()
        })
        .collect()
}

/// The parsed credentials of `kind` in `request` (one at most).
fn creds<'m>(request: &'m Message<'m>, kind: HeaderKind) -> Option<Credentials<'m>> {
    let mut all = request.headers_of(kind);
    let first = all.next().map(|h| Credentials::parse(h.value).unwrap());
    assert!(all.next().is_none(), "one {kind} at most");
    first
}

fn header<'m>(m: &'m Message<'m>, kind: HeaderKind) -> Option<&'m [u8]> {
    m.header(kind).map(|h| h.value)
}

/// What a challenged request and its retry must share (RFC 3261 §8.1.3.5, §22.2): the
/// Call-ID, From (with tag), To and body; the CSeq one higher; a new branch.
fn assert_retry_of(first: &[u8], retry: &[u8]) {
    let (a, b) = (
        Message::parse(first).unwrap(),
        Message::parse(retry).unwrap(),
    );
    assert_eq!(a.method(), b.method());
    assert_eq!(a.request_uri_raw(), b.request_uri_raw());
    assert_eq!(a.call_id().unwrap().as_str(), b.call_id().unwrap().as_str());
    assert_eq!(header(&a, HeaderKind::From), header(&b, HeaderKind::From));
    assert_eq!(header(&a, HeaderKind::To), header(&b, HeaderKind::To));
    assert_eq!(a.body(), b.body());
    assert_eq!(b.cseq().unwrap().seq(), a.cseq().unwrap().seq() + 1);
    assert_eq!(b.cseq().unwrap().method(), a.cseq().unwrap().method());
    assert_ne!(
        a.top_via().unwrap().branch(),
        b.top_via().unwrap().branch(),
        "a new transaction"
    );
}

const PROXY_CHALLENGE: &str = "Digest realm=\"proxy.test\", nonce=\"p-1\", qop=\"auth\"";
const UAS_CHALLENGE: &str =
    "Digest realm=\"pbx.test\", nonce=\"u-1\", qop=\"auth\", algorithm=SHA-256, opaque=\"o1\"";

/// Two endpoints: the caller places a call with credentials, the callee (here in the
/// role of the proxy that authenticates) answers 407 with `Proxy-Authenticate`, checks
/// the Proxy-Authorization of the second INVITE with `auth::verify` and answers 200.
/// ACK and BYE carry the credentials too (§22.1, §22.3).
#[test]
fn invite_407_then_invite_with_proxy_authorization_then_200_ack_bye() {
    let mut a = Caller::new();
    let mut b: Box<Ep> = Box::new(Endpoint::new(EndpointConfig::new(addr(CALLEE), 12)));
    let mut b_events = Vec::new();
    let mut buf = vec![0u8; 65_535];
    // Deliver everything both ways until quiet; the caller's datagrams are kept.
    let mut wire: Vec<Vec<u8>> = Vec::new();
    let mut flush = |a: &mut Caller, b: &mut Ep, b_events: &mut Vec<Event>| loop {
        let from_a = a.sent();
        for d in &from_a {
            b.handle_datagram(a.now, addr(CALLER), d);
        }
        wire.extend(from_a.iter().cloned());
        let mut moved = !from_a.is_empty();
        while let Some(t) = b.poll_transmit(&mut buf).unwrap() {
            a.ep.handle_datagram(a.now, addr(CALLEE), t.bytes);
            moved = true;
        }
        while let Some(e) = b.poll_event() {
            b_events.push(e);
        }
        if !moved {
            return std::mem::take(&mut wire);
        }
    };
    let req = Request {
        body: Some(("application/sdp", SDP)),
        credentials: Some(ALICE),
        ..Request::new(
            Method::Invite,
            "sip:bob@127.0.0.1:5062",
            "<sip:alice@127.0.0.1>",
            "<sip:bob@127.0.0.1>",
        )
    };
    let call = a.ep.invite(a.now, addr(CALLEE), &req).unwrap();
    let wire1 = flush(&mut a, &mut b, &mut b_events);
    let first = only(&wire1, Method::Invite);
    let incoming = |events: &[Event]| -> Vec<TxHandle> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::IncomingRequest { tx, .. } => Some(*tx),
                _ => None,
            })
            .collect()
    };
    let rx = incoming(&b_events)[0];
    assert!(
        b.request(rx)
            .unwrap()
            .header(HeaderKind::ProxyAuthorization)
            .is_none()
    );
    b.respond_with(
        a.now,
        rx,
        StatusCode::PROXY_AUTHENTICATION_REQUIRED,
        &[("Proxy-Authenticate", PROXY_CHALLENGE)],
        None,
    )
    .unwrap();
    let wire2 = flush(&mut a, &mut b, &mut b_events);
    // The transaction layer ACKs the 407 (without credentials: its INVITE had none), and
    // the INVITE goes again at once.
    let ack = only(&wire2, Method::Ack);
    let ack = Message::parse(&ack).unwrap();
    assert_eq!(ack.cseq().unwrap().seq(), 1);
    assert!(ack.header(HeaderKind::ProxyAuthorization).is_none());
    let second = only(&wire2, Method::Invite);
    assert_retry_of(&first, &second);
    let (tx, retry) = a.reoriginated()[0];
    assert_eq!(a.ep.request(retry).unwrap().as_bytes(), &second[..]);
    assert!(a.events.contains(&Event::Response {
        tx,
        call: Some(call),
        status: StatusCode::PROXY_AUTHENTICATION_REQUIRED
    }));
    // The call keeps its handle and goes on; nothing ended.
    assert_eq!(a.ep.call_state(call), Some(SessionState::Calling));
    assert_eq!(a.ended(call), None);
    // The callee's host checks the credentials (RFC 2617 §3.2.2) with the password.
    let rx2 = *incoming(&b_events).last().unwrap();
    assert_ne!(rx2, rx);
    let authorization = {
        let req = b.request(rx2).unwrap();
        assert!(req.header(HeaderKind::Authorization).is_none());
        let c = creds(&req, HeaderKind::ProxyAuthorization).expect("Proxy-Authorization");
        assert_eq!(c.username(), Some("alice"));
        assert_eq!(c.realm(), Some("proxy.test"));
        assert_eq!(c.param("uri"), Some("sip:bob@127.0.0.1:5062"));
        assert_eq!(c.param("nc"), Some("00000001"));
        assert_eq!(verify(&c, Method::Invite, "wonderland", SDP), Ok(true));
        assert_eq!(verify(&c, Method::Invite, "not-it", SDP), Ok(false));
        req.header(HeaderKind::ProxyAuthorization)
            .unwrap()
            .value
            .to_vec()
    };
    b.respond(a.now, rx2, StatusCode::OK, Some(("application/sdp", SDP)))
        .unwrap();
    let wire3 = flush(&mut a, &mut b, &mut b_events);
    assert!(a.events.contains(&Event::CallEstablished { call }));
    assert!(
        a.events.contains(&Event::Response {
            tx: retry,
            call: Some(call),
            status: StatusCode::OK
        }),
        "the retry's responses are the call's"
    );
    // §22.1: the ACK of the 2xx duplicates the INVITE's Proxy-Authorization.
    let ack = only(&wire3, Method::Ack);
    let ack = Message::parse(&ack).unwrap();
    assert_eq!(ack.cseq().unwrap().seq(), 2);
    assert_eq!(
        header(&ack, HeaderKind::ProxyAuthorization),
        Some(&authorization[..])
    );
    assert!(
        b_events
            .iter()
            .any(|e| matches!(e, Event::CallEstablished { .. }))
    );
    // BYE: within the dialog, with the proxy's credentials again (§22.3), next nc.
    a.ep.hangup(a.now, call).unwrap();
    let wire4 = flush(&mut a, &mut b, &mut b_events);
    let bye = only(&wire4, Method::Bye);
    let bye = Message::parse(&bye).unwrap();
    assert_eq!(bye.cseq().unwrap().seq(), 3);
    let c = creds(&bye, HeaderKind::ProxyAuthorization).expect("Proxy-Authorization");
    assert_eq!(c.param("nc"), Some("00000002"));
    assert_eq!(verify(&c, Method::Bye, "wonderland", b""), Ok(true));
    assert_eq!(a.ended(call), Some(EndReason::LocalBye));
    assert!(
        a.events
            .iter()
            .any(|e| matches!(e, Event::Response { tx, status, .. }
            if *status == StatusCode::OK
                && a.ep.request(*tx).and_then(|r| r.method()) == Some(Method::Bye))),
        "the BYE was answered 200"
    );
    // Everything winds down on both sides.
    for _ in 0..200 {
        let next = [a.ep.poll_timeout(), b.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        let Some(t) = next else { break };
        a.now = a.now.max(t);
        a.ep.handle_timeout(a.now);
        b.handle_timeout(a.now);
        flush(&mut a, &mut b, &mut b_events);
    }
    assert_eq!(
        (
            a.ep.transaction_count(),
            a.ep.call_count(),
            b.transaction_count(),
            b.call_count()
        ),
        (0, 0, 0, 0)
    );
}

/// §22.1: credentials a realm challenges again without `stale=true` were refused; the
/// UAC must not send them again. The call fails with that 401, as without credentials.
#[test]
fn a_second_401_for_the_same_realm_ends_the_call() {
    let mut a = Caller::new();
    let (call, first) = a.call(Some(ALICE));
    let sent = a.receive(&reply(
        &first,
        401,
        "u1",
        &[("WWW-Authenticate", UAS_CHALLENGE)],
    ));
    let second = only(&sent, Method::Invite);
    assert_retry_of(&first, &second);
    {
        let m = Message::parse(&second).unwrap();
        let c = creds(&m, HeaderKind::Authorization).expect("Authorization");
        assert_eq!(c.realm(), Some("pbx.test"));
        assert_eq!(c.param("algorithm"), Some("SHA-256"));
        assert_eq!(c.param("opaque"), Some("o1"));
        assert_eq!(verify(&c, Method::Invite, "wonderland", SDP), Ok(true));
        assert!(m.header(HeaderKind::ProxyAuthorization).is_none());
    }
    // The same realm again, a new nonce, not stale: refused.
    let again = UAS_CHALLENGE.replace("u-1", "u-2");
    let sent = a.receive(&reply(
        &second,
        401,
        "u2",
        &[("WWW-Authenticate", again.as_str())],
    ));
    assert_eq!(
        lines(&sent),
        ["ACK sip:bob@127.0.0.1:5062 SIP/2.0"],
        "no third INVITE"
    );
    // §22.1: the ACK of that 401 carries the credentials of the INVITE it acknowledges.
    let ack = Message::parse(&sent[0]).unwrap();
    assert!(ack.header(HeaderKind::Authorization).is_some());
    assert_eq!(
        a.ended(call),
        Some(EndReason::Rejected(StatusCode::UNAUTHORIZED))
    );
    assert_eq!(a.reoriginated().len(), 1);
    assert_eq!(a.ep.call_state(call), None);
}

/// RFC 2617 §3.2.1: `stale=true` means the credentials were right and the nonce old:
/// the request goes again with the new nonce (at most twice in a row).
#[test]
fn a_stale_nonce_is_answered_again() {
    let mut a = Caller::new();
    let (call, first) = a.call(Some(ALICE));
    let sent = a.receive(&reply(
        &first,
        407,
        "p1",
        &[("Proxy-Authenticate", PROXY_CHALLENGE)],
    ));
    let second = only(&sent, Method::Invite);
    let stale = "Digest realm=\"proxy.test\", nonce=\"p-2\", qop=\"auth\", stale=true";
    let sent = a.receive(&reply(&second, 407, "p2", &[("Proxy-Authenticate", stale)]));
    let third = only(&sent, Method::Invite);
    assert_retry_of(&second, &third);
    {
        let m = Message::parse(&third).unwrap();
        let c = creds(&m, HeaderKind::ProxyAuthorization).unwrap();
        assert_eq!(c.nonce(), Some("p-2"));
        assert_eq!(c.param("nc"), Some("00000001"), "a new nonce counts from 1");
        assert_eq!(verify(&c, Method::Invite, "wonderland", SDP), Ok(true));
    }
    // A second stale one is answered too; a third in a row is not.
    let sent = a.receive(&reply(&third, 407, "p3", &[("Proxy-Authenticate", stale)]));
    let fourth = only(&sent, Method::Invite);
    let sent = a.receive(&reply(&fourth, 407, "p4", &[("Proxy-Authenticate", stale)]));
    assert!(
        sent.iter()
            .all(|b| Message::parse(b).unwrap().method() != Some(Method::Invite)),
        "{:?}",
        lines(&sent)
    );
    assert_eq!(
        a.ended(call),
        Some(EndReason::Rejected(
            StatusCode::PROXY_AUTHENTICATION_REQUIRED
        ))
    );
    assert_eq!(a.reoriginated().len(), 3);

    // The answered stale nonce leads to the call.
    let mut a = Caller::new();
    let (call, first) = a.call(Some(ALICE));
    let second = only(
        &a.receive(&reply(
            &first,
            407,
            "p1",
            &[("Proxy-Authenticate", PROXY_CHALLENGE)],
        )),
        Method::Invite,
    );
    let third = only(
        &a.receive(&reply(&second, 407, "p2", &[("Proxy-Authenticate", stale)])),
        Method::Invite,
    );
    a.receive(&reply(&third, 200, "bob", &[]));
    assert!(a.events.contains(&Event::CallEstablished { call }));
}

/// Without credentials a challenge ends the call exactly as before.
#[test]
fn without_credentials_a_challenge_ends_the_call() {
    let mut a = Caller::new();
    let (call, first) = a.call(None);
    let sent = a.receive(&reply(
        &first,
        407,
        "p1",
        &[("Proxy-Authenticate", PROXY_CHALLENGE)],
    ));
    assert_eq!(lines(&sent), ["ACK sip:bob@127.0.0.1:5062 SIP/2.0"]);
    assert_eq!(
        a.ended(call),
        Some(EndReason::Rejected(
            StatusCode::PROXY_AUTHENTICATION_REQUIRED
        ))
    );
    assert!(a.reoriginated().is_empty());
    // The host can still read the challenge, as before.
    assert!(
        a.events
            .iter()
            .any(|e| matches!(e, Event::Response { status, .. }
                if *status == StatusCode::PROXY_AUTHENTICATION_REQUIRED))
    );
    // With credentials, a challenge this crate cannot answer (another scheme, or an
    // algorithm it does not compute) ends the call the same way.
    for challenge in [
        "Basic realm=\"x\"",
        "Digest realm=\"x\", nonce=\"n\", algorithm=SHA-512-256",
    ] {
        let mut a = Caller::new();
        let (call, first) = a.call(Some(ALICE));
        let sent = a.receive(&reply(&first, 401, "u", &[("WWW-Authenticate", challenge)]));
        assert_eq!(lines(&sent).len(), 1, "only the ACK: {:?}", lines(&sent));
        assert_eq!(
            a.ended(call),
            Some(EndReason::Rejected(StatusCode::UNAUTHORIZED))
        );
    }
}

/// A proxy's 407 and then the UAS's 401 (§22.3), both answered: the third INVITE carries
/// both, the proxy's with the next nonce count. A response with both kinds of challenge
/// gets both answers at once.
#[test]
fn a_proxy_challenge_then_a_uas_challenge_and_both_at_once() {
    let mut a = Caller::new();
    let (call, first) = a.call(Some(ALICE));
    let second = only(
        &a.receive(&reply(
            &first,
            407,
            "p1",
            &[("Proxy-Authenticate", PROXY_CHALLENGE)],
        )),
        Method::Invite,
    );
    let third = only(
        &a.receive(&reply(
            &second,
            401,
            "u1",
            &[("WWW-Authenticate", UAS_CHALLENGE)],
        )),
        Method::Invite,
    );
    assert_retry_of(&second, &third);
    {
        let m = Message::parse(&third).unwrap();
        let proxy = creds(&m, HeaderKind::ProxyAuthorization).unwrap();
        let uas = creds(&m, HeaderKind::Authorization).unwrap();
        assert_eq!(proxy.realm(), Some("proxy.test"));
        assert_eq!(proxy.param("nc"), Some("00000002"));
        assert_eq!(uas.realm(), Some("pbx.test"));
        assert_eq!(uas.param("nc"), Some("00000001"));
        for c in [proxy, uas] {
            assert_eq!(verify(&c, Method::Invite, "wonderland", SDP), Ok(true));
        }
    }
    a.receive(&reply(&third, 180, "bob", &[]));
    a.receive(&reply(&third, 200, "bob", &[]));
    assert!(a.events.contains(&Event::CallEstablished { call }));
    assert_eq!(a.ep.call_dialog(call).unwrap().local_seq(), 3);

    // Both challenges in one 401 (a forking proxy gathers them, §22.3).
    let mut a = Caller::new();
    let (_, first) = a.call(Some(ALICE));
    let sent = a.receive(&reply(
        &first,
        401,
        "u1",
        &[
            ("Proxy-Authenticate", PROXY_CHALLENGE),
            ("WWW-Authenticate", UAS_CHALLENGE),
        ],
    ));
    let second = only(&sent, Method::Invite);
    let m = Message::parse(&second).unwrap();
    assert_eq!(
        creds(&m, HeaderKind::ProxyAuthorization).unwrap().realm(),
        Some("proxy.test")
    );
    assert_eq!(
        creds(&m, HeaderKind::Authorization).unwrap().realm(),
        Some("pbx.test")
    );
}

/// Every credential of `kind` in `request`: (realm, nonce count), each checked with
/// `auth::verify` against the password for `method` and `body`.
fn all_creds(request: &[u8], kind: HeaderKind, body: &[u8]) -> Vec<(String, String)> {
    let m = Message::parse(request).unwrap();
    let method = m.method().unwrap();
    m.headers_of(kind)
        .map(|h| {
            let c = Credentials::parse(h.value).unwrap();
            assert_eq!(verify(&c, method, "wonderland", body), Ok(true));
            (
                c.realm().unwrap().to_owned(),
                c.param("nc").unwrap().to_owned(),
            )
        })
        .collect()
}

/// Two proxies on the path that both authenticate (RFC 3261 §22.3): the outbound proxy's
/// 407, then, once it lets the INVITE through, the home proxy's; then the UAS's 401.
/// Each retry answers every realm challenged so far (they used to be answered one at a
/// time, so the first proxy challenged again and the call failed), and so do the ACK
/// and the BYE. A forking proxy's 401 gathering two UASs' challenges (§16.7 step 7) gets
/// both answered at once; a third realm takes the place of the one kept longest.
#[test]
fn two_proxies_and_the_uas_are_answered_together() {
    let outbound = "Digest realm=\"outbound.test\", nonce=\"o-1\", qop=\"auth\"";
    let home = "Digest realm=\"home.test\", nonce=\"h-1\", qop=\"auth\"";
    let pair = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(r, n)| (r.to_string(), n.to_string()))
            .collect()
    };
    let mut a = Caller::new();
    let (call, first) = a.call(Some(ALICE));
    let second = only(
        &a.receive(&reply(
            &first,
            407,
            "p1",
            &[("Proxy-Authenticate", outbound)],
        )),
        Method::Invite,
    );
    assert_eq!(
        all_creds(&second, HeaderKind::ProxyAuthorization, SDP),
        pair(&[("outbound.test", "00000001")])
    );
    let third = only(
        &a.receive(&reply(&second, 407, "p2", &[("Proxy-Authenticate", home)])),
        Method::Invite,
    );
    assert_retry_of(&second, &third);
    assert_eq!(
        all_creds(&third, HeaderKind::ProxyAuthorization, SDP),
        pair(&[("outbound.test", "00000002"), ("home.test", "00000001")])
    );
    let fourth = only(
        &a.receive(&reply(
            &third,
            401,
            "u1",
            &[("WWW-Authenticate", UAS_CHALLENGE)],
        )),
        Method::Invite,
    );
    assert_eq!(
        all_creds(&fourth, HeaderKind::ProxyAuthorization, SDP),
        pair(&[("outbound.test", "00000003"), ("home.test", "00000002")])
    );
    assert_eq!(
        all_creds(&fourth, HeaderKind::Authorization, SDP),
        pair(&[("pbx.test", "00000001")])
    );
    let sent = a.receive(&reply(&fourth, 200, "bob", &[]));
    assert!(a.events.contains(&Event::CallEstablished { call }));
    // §22.1: the ACK of the 2xx duplicates the INVITE's credentials.
    let ack = only(&sent, Method::Ack);
    let values = |bytes: &[u8], kind| -> Vec<Vec<u8>> {
        let m = Message::parse(bytes).unwrap();
        m.headers_of(kind).map(|h| h.value.to_vec()).collect()
    };
    for kind in [HeaderKind::ProxyAuthorization, HeaderKind::Authorization] {
        assert_eq!(values(&ack, kind), values(&fourth, kind));
    }
    a.ep.hangup(a.now, call).unwrap();
    let bye = only(&a.sent(), Method::Bye);
    assert_eq!(
        all_creds(&bye, HeaderKind::ProxyAuthorization, b""),
        pair(&[("outbound.test", "00000004"), ("home.test", "00000003")])
    );
    assert_eq!(
        all_creds(&bye, HeaderKind::Authorization, b""),
        pair(&[("pbx.test", "00000002")])
    );

    // A forking proxy's 401 with the challenges of two UASs, then one of a third realm.
    let mut a = Caller::new();
    let (_, first) = a.call(Some(ALICE));
    let uas2 = "Digest realm=\"pbx2.test\", nonce=\"u-2\", qop=\"auth\"";
    let second = only(
        &a.receive(&reply(
            &first,
            401,
            "u1",
            &[
                ("WWW-Authenticate", UAS_CHALLENGE),
                ("WWW-Authenticate", uas2),
            ],
        )),
        Method::Invite,
    );
    assert_eq!(
        all_creds(&second, HeaderKind::Authorization, SDP),
        pair(&[("pbx.test", "00000001"), ("pbx2.test", "00000001")])
    );
    let uas3 = "Digest realm=\"pbx3.test\", nonce=\"u-3\", qop=\"auth\"";
    let third = only(
        &a.receive(&reply(&second, 401, "u3", &[("WWW-Authenticate", uas3)])),
        Method::Invite,
    );
    assert_eq!(
        all_creds(&third, HeaderKind::Authorization, SDP),
        pair(&[("pbx2.test", "00000002"), ("pbx3.test", "00000001")])
    );
}

/// Credentials for one realm (`DigestCredentials::in_realm`) answer only its challenges
/// (RFC 3261 §22.1): a challenge from any other realm ends the call as if there were no
/// credentials, and a response challenging both gets the answer for the named realm alone.
#[test]
fn credentials_for_one_realm_answer_no_other() {
    let pbx_only = ALICE.in_realm("pbx.test");
    // The proxy's realm is not theirs: the 407 ends the call, nothing is answered.
    let mut a = Caller::new();
    let (call, first) = a.call(Some(pbx_only));
    let sent = a.receive(&reply(
        &first,
        407,
        "p1",
        &[("Proxy-Authenticate", PROXY_CHALLENGE)],
    ));
    assert_eq!(lines(&sent), ["ACK sip:bob@127.0.0.1:5062 SIP/2.0"]);
    assert_eq!(
        a.ended(call),
        Some(EndReason::Rejected(
            StatusCode::PROXY_AUTHENTICATION_REQUIRED
        ))
    );
    assert!(a.reoriginated().is_empty());

    // Their own realm is answered as before.
    let mut a = Caller::new();
    let (_, first) = a.call(Some(pbx_only));
    let second = only(
        &a.receive(&reply(
            &first,
            401,
            "u1",
            &[("WWW-Authenticate", UAS_CHALLENGE)],
        )),
        Method::Invite,
    );
    let m = Message::parse(&second).unwrap();
    let uas = creds(&m, HeaderKind::Authorization).unwrap();
    assert_eq!(uas.realm(), Some("pbx.test"));
    assert_eq!(verify(&uas, Method::Invite, "wonderland", SDP), Ok(true));

    // Both realms challenge at once: only the named one gets an answer.
    let mut a = Caller::new();
    let (_, first) = a.call(Some(pbx_only));
    let second = only(
        &a.receive(&reply(
            &first,
            401,
            "u1",
            &[
                ("Proxy-Authenticate", PROXY_CHALLENGE),
                ("WWW-Authenticate", UAS_CHALLENGE),
            ],
        )),
        Method::Invite,
    );
    let m = Message::parse(&second).unwrap();
    assert!(creds(&m, HeaderKind::ProxyAuthorization).is_none());
    assert_eq!(
        creds(&m, HeaderKind::Authorization).unwrap().realm(),
        Some("pbx.test")
    );

    // A realm longer than a credential text is refused when the call is placed.
    use sansip::Capacity;
    use sansip::endpoint::MAX_CREDENTIAL;
    let long = "r".repeat(MAX_CREDENTIAL + 1);
    let req = Request {
        credentials: Some(ALICE.in_realm(&long)),
        ..Request::new(
            Method::Invite,
            "sip:bob@127.0.0.1:5062",
            "<sip:alice@127.0.0.1>",
            "<sip:bob@127.0.0.1>",
        )
    };
    let mut a = Caller::new();
    assert_eq!(
        a.ep.invite(a.now, addr(CALLEE), &req),
        Err(SendError::Capacity(Capacity::String))
    );
}

/// CANCEL after a challenged INVITE cancels the INVITE sent again (its branch and CSeq),
/// carries no credentials (§22.1: a CANCEL cannot be challenged), and waits for a
/// provisional response to that INVITE (§9.1).
#[test]
fn cancel_after_a_challenged_invite_cancels_the_new_branch() {
    let mut a = Caller::new();
    let (call, first) = a.call(Some(ALICE));
    a.receive(&reply(&first, 100, "", &[]));
    let second = only(
        &a.receive(&reply(
            &first,
            407,
            "p1",
            &[("Proxy-Authenticate", PROXY_CHALLENGE)],
        )),
        Method::Invite,
    );
    // Calling again: no provisional response to the new INVITE yet, so the CANCEL waits.
    assert_eq!(a.ep.call_state(call), Some(SessionState::Calling));
    a.ep.cancel(a.now, call).unwrap();
    assert!(
        a.sent().is_empty(),
        "§9.1: not before a provisional response"
    );
    let sent = a.receive(&reply(&second, 180, "bob", &[]));
    let cancel = only(&sent, Method::Cancel);
    let (c, inv) = (
        Message::parse(&cancel).unwrap(),
        Message::parse(&second).unwrap(),
    );
    assert_eq!(
        c.top_via().unwrap().branch(),
        inv.top_via().unwrap().branch(),
        "the CANCEL is for the current INVITE"
    );
    assert_eq!(c.cseq().unwrap().seq(), 2);
    assert_eq!(c.cseq().unwrap().method(), Method::Cancel);
    assert!(c.header(HeaderKind::ProxyAuthorization).is_none());
    assert!(c.header(HeaderKind::Authorization).is_none());
    // 200 to the CANCEL, 487 to the INVITE: cancelled. A CANCEL is never sent again
    // with credentials, even if challenged.
    let sent = a.receive(&reply(
        &cancel,
        407,
        "bob",
        &[("Proxy-Authenticate", PROXY_CHALLENGE)],
    ));
    assert!(sent.is_empty(), "{:?}", lines(&sent));
    let sent = a.receive(&reply(&second, 487, "bob", &[]));
    assert_eq!(lines(&sent), ["ACK sip:bob@127.0.0.1:5062 SIP/2.0"]);
    assert_eq!(a.ended(call), Some(EndReason::Cancelled));
    assert_eq!(a.reoriginated().len(), 1);
}

/// A call placed with credentials but never challenged: its BYE gets a 401 and goes
/// again with Authorization and the next CSeq, though the call ended when the BYE left.
#[test]
fn a_challenged_bye_is_sent_again() {
    let mut a = Caller::new();
    let (call, first) = a.call(Some(ALICE));
    let sent = a.receive(&reply(&first, 200, "bob", &[]));
    assert!(
        Message::parse(&only(&sent, Method::Ack))
            .unwrap()
            .header(HeaderKind::Authorization)
            .is_none()
    );
    a.ep.hangup(a.now, call).unwrap();
    let bye = only(&a.sent(), Method::Bye);
    assert!(
        Message::parse(&bye)
            .unwrap()
            .header(HeaderKind::Authorization)
            .is_none(),
        "no challenge yet, no credentials"
    );
    assert_eq!(a.ended(call), Some(EndReason::LocalBye));
    let sent = a.receive(&reply(
        &bye,
        401,
        "bob",
        &[("WWW-Authenticate", UAS_CHALLENGE)],
    ));
    let bye2 = only(&sent, Method::Bye);
    assert_retry_of(&bye, &bye2);
    let m = Message::parse(&bye2).unwrap();
    assert_eq!(m.cseq().unwrap().seq(), 3);
    let c = creds(&m, HeaderKind::Authorization).unwrap();
    assert_eq!(verify(&c, Method::Bye, "wonderland", b""), Ok(true));
    let (tx, retry) = a.reoriginated()[0];
    assert_eq!(a.ep.request(tx).unwrap().as_bytes(), &bye[..]);
    a.receive(&reply(&bye2, 200, "bob", &[]));
    assert!(a.events.contains(&Event::Response {
        tx: retry,
        call: Some(call),
        status: StatusCode::OK
    }));
    // Refused again (same realm, not stale): no third BYE.
    let mut a = Caller::new();
    let (call, first) = a.call(Some(ALICE));
    a.receive(&reply(&first, 200, "bob", &[]));
    a.ep.hangup(a.now, call).unwrap();
    let bye = only(&a.sent(), Method::Bye);
    let bye2 = only(
        &a.receive(&reply(
            &bye,
            401,
            "bob",
            &[("WWW-Authenticate", UAS_CHALLENGE)],
        )),
        Method::Bye,
    );
    let sent = a.receive(&reply(
        &bye2,
        401,
        "bob",
        &[("WWW-Authenticate", UAS_CHALLENGE)],
    ));
    assert!(sent.is_empty(), "{:?}", lines(&sent));
}

/// A re-INVITE and an INFO within a call that are challenged go again with the next CSeq
/// of the dialog; the re-INVITE's 2xx is ACKed with its credentials and the call stays
/// up.
#[test]
fn a_challenged_reinvite_and_info_are_sent_again() {
    let mut a = Caller::new();
    let (call, first) = a.call(Some(ALICE));
    a.receive(&reply(&first, 200, "bob", &[]));
    let reinvite_tx =
        a.ep.reinvite(a.now, call, &[], ("application/sdp", b"v=0\r\ns=hold\r\n"))
            .unwrap();
    let reinvite = only(&a.sent(), Method::Invite);
    let sent = a.receive(&reply(
        &reinvite,
        407,
        "bob",
        &[("Proxy-Authenticate", PROXY_CHALLENGE)],
    ));
    let reinvite2 = only(&sent, Method::Invite);
    assert_retry_of(&reinvite, &reinvite2);
    assert_eq!(a.reoriginated(), [(reinvite_tx, a.reoriginated()[0].1)]);
    {
        let m = Message::parse(&reinvite2).unwrap();
        assert_eq!(m.cseq().unwrap().seq(), 3);
        assert_eq!(m.body(), b"v=0\r\ns=hold\r\n");
        let c = creds(&m, HeaderKind::ProxyAuthorization).unwrap();
        assert_eq!(
            verify(&c, Method::Invite, "wonderland", b"v=0\r\ns=hold\r\n"),
            Ok(true)
        );
    }
    assert_eq!(a.ep.call_state(call), Some(SessionState::Confirmed));
    let sent = a.receive(&reply(&reinvite2, 200, "bob", &[]));
    let ack = only(&sent, Method::Ack);
    let ack = Message::parse(&ack).unwrap();
    assert_eq!(ack.cseq().unwrap().seq(), 3);
    let invite = Message::parse(&reinvite2).unwrap();
    assert_eq!(
        header(&ack, HeaderKind::ProxyAuthorization),
        header(&invite, HeaderKind::ProxyAuthorization),
        "§22.1: the ACK duplicates the re-INVITE's credentials"
    );
    // The session took the retry's 2xx: another re-INVITE may go.
    assert_eq!(a.ep.call_state(call), Some(SessionState::Confirmed));
    // INFO: the proxy's credentials go on it already (§22.3); a UAS challenge is
    // answered with both.
    a.ep.request_in_call(a.now, call, Method::Info, &[], None)
        .unwrap();
    let info = only(&a.sent(), Method::Info);
    {
        let m = Message::parse(&info).unwrap();
        assert_eq!(m.cseq().unwrap().seq(), 4);
        let c = creds(&m, HeaderKind::ProxyAuthorization).unwrap();
        assert_eq!(c.param("nc"), Some("00000002"));
        assert_eq!(verify(&c, Method::Info, "wonderland", b""), Ok(true));
    }
    let sent = a.receive(&reply(
        &info,
        401,
        "bob",
        &[("WWW-Authenticate", UAS_CHALLENGE)],
    ));
    let info2 = only(&sent, Method::Info);
    assert_retry_of(&info, &info2);
    {
        let m = Message::parse(&info2).unwrap();
        assert!(creds(&m, HeaderKind::Authorization).is_some());
        assert_eq!(
            creds(&m, HeaderKind::ProxyAuthorization)
                .unwrap()
                .param("nc"),
            Some("00000003")
        );
    }
    a.receive(&reply(&info2, 200, "bob", &[]));
    assert_eq!(a.ep.call_dialog(call).unwrap().local_seq(), 5);
    // The BYE goes on from there.
    a.ep.hangup(a.now, call).unwrap();
    let bye = only(&a.sent(), Method::Bye);
    assert_eq!(Message::parse(&bye).unwrap().cseq().unwrap().seq(), 6);
}

/// Credentials are bounded (MAX_CREDENTIAL), refused for requests the endpoint does not
/// keep them for, and never shown by `Debug`.
#[test]
fn credentials_are_bounded_and_kept_private() {
    use sansip::Capacity;
    use sansip::endpoint::MAX_CREDENTIAL;
    let mut a = Caller::new();
    let long = "x".repeat(MAX_CREDENTIAL + 1);
    let fits = "x".repeat(MAX_CREDENTIAL);
    for (user, pass) in [(long.as_str(), "pw"), ("alice", long.as_str())] {
        let req = Request {
            credentials: Some(DigestCredentials::new(user, pass)),
            ..Request::new(
                Method::Invite,
                "sip:bob@127.0.0.1",
                "<sip:a@h>",
                "<sip:b@h>",
            )
        };
        assert_eq!(
            a.ep.invite(a.now, addr(CALLEE), &req),
            Err(SendError::Capacity(Capacity::String))
        );
    }
    assert!(a.sent().is_empty(), "nothing sent");
    assert_eq!(a.ep.transaction_count(), 0);
    let req = Request {
        credentials: Some(DigestCredentials::new(&fits, &fits)),
        ..Request::new(
            Method::Invite,
            "sip:bob@127.0.0.1",
            "<sip:a@h>",
            "<sip:b@h>",
        )
    };
    assert!(a.ep.invite(a.now, addr(CALLEE), &req).is_ok());
    let options = Request {
        credentials: Some(ALICE),
        ..Request::new(
            Method::Options,
            "sip:bob@127.0.0.1",
            "<sip:a@h>",
            "<sip:b@h>",
        )
    };
    assert_eq!(
        a.ep.send_request(a.now, addr(CALLEE), &options),
        Err(SendError::InvalidState)
    );
    let shown = format!("{ALICE:?}");
    assert!(
        shown.contains("alice") && !shown.contains("wonderland"),
        "{shown}"
    );
}

/// SUBSCRIBE → 401 → SUBSCRIBE with Authorization → 202 → NOTIFY: the subscription goes
/// on (README's former known gap). Its refresh carries the credentials, and a refresh and
/// an unsubscribe that are challenged are sent again too.
#[test]
fn a_challenged_subscribe_is_sent_again_then_notified() {
    use sansip::dialog::Dialog;
    use sansip::encode::ViaValue;
    use sansip::endpoint::Subscribe;
    use sansip::subscription::{Ended, State};
    let mut a = Caller::new();
    let sub =
        a.ep.subscribe(
            a.now,
            addr(CALLEE),
            &Subscribe {
                uri: "sip:bob@127.0.0.1:5062",
                from: "<sip:alice@127.0.0.1>",
                to: "<sip:bob@127.0.0.1>",
                event: "presence",
                expires: 600,
                accept: None,
                credentials: Some(ALICE),
                forks: false,
            },
        )
        .unwrap();
    let first = only(&a.sent(), Method::Subscribe);
    let sent = a.receive(&reply(
        &first,
        401,
        "n0",
        &[("WWW-Authenticate", UAS_CHALLENGE)],
    ));
    let second = only(&sent, Method::Subscribe);
    assert_retry_of(&first, &second);
    {
        let m = Message::parse(&second).unwrap();
        assert_eq!(header(&m, HeaderKind::Event), Some(&b"presence"[..]));
        let c = creds(&m, HeaderKind::Authorization).unwrap();
        assert_eq!(verify(&c, Method::Subscribe, "wonderland", b""), Ok(true));
    }
    assert_eq!(a.ep.subscription_state(sub), Some(State::Subscribing));
    assert!(
        !a.events
            .iter()
            .any(|e| matches!(e, Event::SubscriptionTerminated { .. })),
        "not ended"
    );
    // 202 from the notifier, then its NOTIFY: active.
    let subscribe = Message::parse(&second).unwrap();
    let mut notifier = Dialog::uas(&subscribe, "n1", false).unwrap();
    notifier.confirm();
    a.receive(&reply(&second, 202, "n1", &[("Expires", "600")]));
    let notify = |notifier: &mut Dialog, branch: &str, state: &str| {
        let via = ViaValue {
            transport: "UDP",
            sent_by: "127.0.0.1:5062",
            branch,
            rport: false,
        };
        let mut b = notifier
            .request(Method::Notify, via, Some("<sip:bob@127.0.0.1:5062>"))
            .unwrap();
        b.push("Event", Value::Text("presence"));
        b.push("Subscription-State", Value::Text(state));
        let mut buf = vec![0u8; 2048];
        let n = b.encode_into(&mut buf).unwrap();
        buf.truncate(n);
        buf
    };
    let bytes = notify(&mut notifier, "z9hG4bKnt1", "active;expires=600");
    a.receive(&bytes);
    let tx = a
        .events
        .iter()
        .find_map(|e| match *e {
            Event::Notify { sub: s, tx } if s == sub => Some(tx),
            _ => None,
        })
        .expect("the NOTIFY reached the subscription");
    assert!(
        a.events
            .contains(&Event::SubscriptionActive { sub, expires: 600 })
    );
    a.ep.respond(a.now, tx, StatusCode::OK, None).unwrap();
    a.sent();
    // The refresh (540 s later): in the dialog, CSeq 3, with credentials (nc 2).
    let refresh = loop {
        a.now = a.ep.poll_timeout().expect("a timer");
        a.ep.handle_timeout(a.now);
        let sent = a.sent();
        if !sent.is_empty() {
            break only(&sent, Method::Subscribe);
        }
    };
    assert_eq!(a.now.as_millis(), 540_000);
    {
        let m = Message::parse(&refresh).unwrap();
        assert_eq!(m.cseq().unwrap().seq(), 3);
        assert_eq!(m.to().unwrap().tag(), Some("n1"));
        let c = creds(&m, HeaderKind::Authorization).unwrap();
        assert_eq!(c.param("nc"), Some("00000002"));
        assert_eq!(verify(&c, Method::Subscribe, "wonderland", b""), Ok(true));
    }
    // A stale nonce on the refresh: sent again (CSeq 4), then accepted.
    let stale = UAS_CHALLENGE.replace("u-1", "u-2") + ", stale=true";
    let sent = a.receive(&reply(
        &refresh,
        401,
        "n1",
        &[("WWW-Authenticate", stale.as_str())],
    ));
    let refresh2 = only(&sent, Method::Subscribe);
    assert_retry_of(&refresh, &refresh2);
    a.receive(&reply(&refresh2, 200, "n1", &[("Expires", "600")]));
    assert_eq!(a.ep.subscription_state(sub), Some(State::Active));
    // Unsubscribe, challenged by a proxy: sent again, then the terminating NOTIFY.
    a.ep.unsubscribe(a.now, sub).unwrap();
    let bye = only(&a.sent(), Method::Subscribe);
    assert_eq!(
        header(&Message::parse(&bye).unwrap(), HeaderKind::Expires),
        Some(&b"0"[..])
    );
    let sent = a.receive(&reply(
        &bye,
        407,
        "n1",
        &[("Proxy-Authenticate", PROXY_CHALLENGE)],
    ));
    let bye2 = only(&sent, Method::Subscribe);
    assert_retry_of(&bye, &bye2);
    {
        let m = Message::parse(&bye2).unwrap();
        assert_eq!(m.cseq().unwrap().seq(), 6);
        assert!(creds(&m, HeaderKind::ProxyAuthorization).is_some());
        assert!(creds(&m, HeaderKind::Authorization).is_some());
    }
    a.receive(&reply(&bye2, 200, "n1", &[]));
    let bytes = notify(&mut notifier, "z9hG4bKnt2", "terminated;reason=timeout");
    a.receive(&bytes);
    assert!(a.events.contains(&Event::SubscriptionTerminated {
        sub,
        reason: Ended::Unsubscribed
    }));
    assert_eq!(a.reoriginated().len(), 3);

    // Without credentials the 401 ends the subscription, as before.
    let mut a = Caller::new();
    let sub =
        a.ep.subscribe(
            a.now,
            addr(CALLEE),
            &Subscribe {
                uri: "sip:bob@127.0.0.1:5062",
                from: "<sip:alice@127.0.0.1>",
                to: "<sip:bob@127.0.0.1>",
                event: "presence",
                expires: 600,
                accept: None,
                credentials: None,
                forks: false,
            },
        )
        .unwrap();
    let first = only(&a.sent(), Method::Subscribe);
    let sent = a.receive(&reply(
        &first,
        401,
        "n0",
        &[("WWW-Authenticate", UAS_CHALLENGE)],
    ));
    assert!(sent.is_empty());
    assert!(a.events.contains(&Event::SubscriptionTerminated {
        sub,
        reason: Ended::Rejected(StatusCode::UNAUTHORIZED)
    }));
}
