//! Review s9b: Digest credentials kept per realm (RFC 3261 §22.1-§22.4) and the
//! endpoint's one-pass writer and lazy To tag, through the public API: one endpoint fed
//! crafted datagrams from a scripted peer, its `poll_transmit` read back. Each test
//! cites the RFC section it holds the endpoint to.

mod scripted_support;

use scripted_support::*;

use sansip::Instant;
use sansip::endpoint::{Binding, Event, Transport};
use sansip::message::{Credentials, HeaderKind, Message};

/// A response from the scripted peer to `req` (Via, From, To, Call-ID, CSeq copied, To
/// tagged `tag`), with `extra` header lines.
fn answer_with(req: &[u8], code: u16, tag: &str, extra: &str) -> Vec<u8> {
    let m = parse(req);
    let h = |k| String::from_utf8_lossy(m.header(k).unwrap().value).into_owned();
    format!(
        "SIP/2.0 {code} Whatever\r\nVia: {}\r\nFrom: {}\r\nTo: {};tag={tag}\r\nCall-ID: {}\r\nCSeq: {}\r\n{extra}Content-Length: 0\r\n\r\n",
        h(HeaderKind::Via),
        h(HeaderKind::From),
        h(HeaderKind::To),
        h(HeaderKind::CallId),
        h(HeaderKind::CSeq),
    )
    .into_bytes()
}

/// The realms of the credentials of `kind` in `request`.
fn realms(request: &[u8], kind: HeaderKind) -> Vec<String> {
    let m = Message::parse(request).unwrap();
    m.headers_of(kind)
        .map(|h| {
            Credentials::parse(h.value)
                .unwrap()
                .realm()
                .unwrap()
                .to_owned()
        })
        .collect()
}

// ----- A: Digest credentials per realm ------------------------------------------------

/// RFC 3261 §22.3 (and §10.2): a REGISTER through two authenticating proxies, gathered
/// into one 407 (§16.7 step 7), then challenged by the registrar's 401, goes again
/// answering all three realms: "the credentials for each realm" go on the request. The
/// REGISTER's extra headers had room for Expires and two answers only, so the third
/// (a proxy's) was dropped and the proxy challenged again.
#[test]
fn a_register_answers_every_realm_kept() {
    let mut ep = endpoint(Transport::Udp);
    let binding = Binding {
        registrar: "sip:127.0.0.1",
        aor: "<sip:alice@127.0.0.1>",
        expires: 3600,
        username: "alice",
        password: "wonderland",
        realm: None,
    };
    let _reg = ep.register(Instant::ZERO, addr(PEER), &binding).unwrap();
    let first = sent(&mut ep).remove(0).1;
    let proxies = "Proxy-Authenticate: Digest realm=\"p1.test\", nonce=\"a\", qop=\"auth\"\r\n\
                   Proxy-Authenticate: Digest realm=\"p2.test\", nonce=\"b\", qop=\"auth\"\r\n";
    feed(
        &mut ep,
        Instant::ZERO,
        &answer_with(&first, 407, "p", proxies),
    );
    let second = sent(&mut ep).remove(0).1;
    assert_eq!(
        realms(&second, HeaderKind::ProxyAuthorization),
        ["p1.test", "p2.test"]
    );
    let registrar = "WWW-Authenticate: Digest realm=\"reg.test\", nonce=\"c\", qop=\"auth\"\r\n";
    feed(
        &mut ep,
        Instant::ZERO,
        &answer_with(&second, 401, "r", registrar),
    );
    let out = sent(&mut ep);
    assert_eq!(out.len(), 1, "{:?}", events(&mut ep));
    let third = &out[0].1;
    assert_eq!(realms(third, HeaderKind::Authorization), ["reg.test"]);
    assert_eq!(
        realms(third, HeaderKind::ProxyAuthorization),
        ["p1.test", "p2.test"]
    );
    let _: Vec<Event> = events(&mut ep);
}

/// An endpoint that placed a call with credentials to the scripted peer: the INVITE.
fn calling(ep: &mut Ep) -> Vec<u8> {
    let req = sansip::endpoint::Request {
        credentials: Some(sansip::endpoint::DigestCredentials::new(
            "alice",
            "wonderland",
        )),
        ..sansip::endpoint::Request::new(
            sansip::message::Method::Invite,
            CALLEE,
            "<sip:alice@127.0.0.1>",
            "<sip:bob@127.0.0.1>",
        )
    };
    ep.invite(Instant::ZERO, addr(PEER), &req).unwrap();
    let out = sent(ep);
    assert_eq!(out.len(), 1);
    out[0].1.clone()
}

/// The INVITE among `out` (exactly one), or `None`.
fn invite_in(out: &[(std::net::SocketAddr, Vec<u8>)]) -> Option<Vec<u8>> {
    let mut invites = out
        .iter()
        .filter(|(_, b)| parse(b).method() == Some(sansip::message::Method::Invite));
    let first = invites.next().map(|(_, b)| b.clone());
    assert!(invites.next().is_none());
    first
}

/// RFC 3261 §22.1 refuses "the credentials that have just been rejected": a UAS's 401
/// rejects the `Authorization` it was given, not the `Proxy-Authorization` a proxy took
/// (§22.3). A proxy and the UAS (or registrar) behind it often share a realm (the
/// domain): the UAS's first 401 for that realm, after the proxy's 407 was answered, is
/// answered too; it was taken as a refusal and the call failed. A second 401 for the
/// realm, now that Authorization was sent, is a refusal.
#[test]
fn a_uas_challenge_of_the_proxys_realm_is_not_a_refusal() {
    let mut ep = endpoint(Transport::Udp);
    let first = calling(&mut ep);
    let proxy = "Proxy-Authenticate: Digest realm=\"example.test\", nonce=\"p\", qop=\"auth\"\r\n";
    feed(
        &mut ep,
        Instant::ZERO,
        &answer_with(&first, 407, "p", proxy),
    );
    let second = invite_in(&sent(&mut ep)).expect("the INVITE again");
    assert_eq!(
        realms(&second, HeaderKind::ProxyAuthorization),
        ["example.test"]
    );
    let uas = "WWW-Authenticate: Digest realm=\"example.test\", nonce=\"u\", qop=\"auth\"\r\n";
    feed(&mut ep, Instant::ZERO, &answer_with(&second, 401, "u", uas));
    let third = invite_in(&sent(&mut ep)).expect("answered, not refused");
    assert_eq!(realms(&third, HeaderKind::Authorization), ["example.test"]);
    assert_eq!(
        realms(&third, HeaderKind::ProxyAuthorization),
        ["example.test"]
    );
    // The UAS challenging its realm again rejects the Authorization it was given.
    let again = "WWW-Authenticate: Digest realm=\"example.test\", nonce=\"u2\", qop=\"auth\"\r\n";
    feed(
        &mut ep,
        Instant::ZERO,
        &answer_with(&third, 401, "u", again),
    );
    assert_eq!(invite_in(&sent(&mut ep)), None, "refused: no fourth INVITE");
}

/// RFC 3261 §22.3 for a REGISTER, as for a call: two authenticating proxies challenging
/// in turn, then the registrar, are three challenges in a row, each of a new realm, all
/// answered (refused credentials still end it at once, §22.1). The registration gave up
/// at the third.
#[test]
fn a_register_through_two_proxies_answers_three_challenges() {
    let mut ep = endpoint(Transport::Udp);
    let binding = Binding {
        registrar: "sip:127.0.0.1",
        aor: "<sip:alice@127.0.0.1>",
        expires: 3600,
        username: "alice",
        password: "wonderland",
        realm: None,
    };
    let reg = ep.register(Instant::ZERO, addr(PEER), &binding).unwrap();
    let mut request = sent(&mut ep).remove(0).1;
    for (code, header, realm) in [
        (407, "Proxy-Authenticate", "p1.test"),
        (407, "Proxy-Authenticate", "p2.test"),
        (401, "WWW-Authenticate", "reg.test"),
    ] {
        let challenge =
            format!("{header}: Digest realm=\"{realm}\", nonce=\"n\", qop=\"auth\"\r\n");
        feed(
            &mut ep,
            Instant::ZERO,
            &answer_with(&request, code, "x", &challenge),
        );
        let out = sent(&mut ep);
        assert_eq!(out.len(), 1, "{realm}: {:?}", events(&mut ep));
        request = out[0].1.clone();
    }
    assert_eq!(realms(&request, HeaderKind::Authorization), ["reg.test"]);
    assert_eq!(
        realms(&request, HeaderKind::ProxyAuthorization),
        ["p1.test", "p2.test"]
    );
    let ok = answer_with(
        &request,
        200,
        "x",
        "Contact: <sip:alice@127.0.0.1:5062>;expires=3600\r\n",
    );
    feed(&mut ep, Instant::ZERO, &ok);
    let evs = events(&mut ep);
    assert!(
        evs.iter()
            .any(|e| matches!(e, Event::Registered { reg: r, .. } if *r == reg)),
        "{evs:?}"
    );
}
