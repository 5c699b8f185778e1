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

// ----- B: the one-pass writer and the lazy To tag (probes: found correct) -------------

/// An OPTIONS from the scripted peer outside any dialog (its To has no tag).
fn options(branch: &str) -> Vec<u8> {
    format!(
        "OPTIONS sip:alice@{LOCAL} SIP/2.0\r\nVia: SIP/2.0/UDP {PEER};branch=z9hG4bK{branch}\r\nMax-Forwards: 70\r\nFrom: <sip:bob@{PEER}>;tag=b1\r\nTo: <sip:alice@{LOCAL}>\r\nCall-ID: opt-{branch}@{PEER}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// The To tag of a response.
fn to_tag(bytes: &[u8]) -> String {
    parse(bytes).to().unwrap().tag().unwrap().to_owned()
}

/// RFC 3261 §8.2.6.2 and §17.2.2: every response of one server transaction outside a
/// call carries the same To tag (the lazy tag, written when first read), and a
/// retransmitted request gets the stored response byte for byte. At the `MSG` edge
/// (RFC 3261 §18.1.1 is the host's; the store is 2048 bytes here): a final response one
/// byte too big is refused and the provisional one stays stored; one filling the store
/// exactly replaces a provisional response that left no room after it.
#[test]
fn a_transactions_responses_share_their_tag_and_the_store_edge_holds() {
    let mut ep = endpoint(Transport::Udp);
    let request = options("e1");
    feed(&mut ep, Instant::ZERO, &request);
    let tx = incoming(&events(&mut ep))[0].0;
    let code = |c| sansip::message::StatusCode::new(c).unwrap();
    let body = vec![b'x'; 2048];
    // The largest provisional response with a body that fits.
    let mut provisional = None;
    for len in (1000..=2048).rev() {
        if ep
            .respond(
                Instant::ZERO,
                tx,
                code(183),
                Some(("text/plain", &body[..len])),
            )
            .is_ok()
        {
            provisional = Some(sent(&mut ep).remove(0).1);
            break;
        }
    }
    let provisional = provisional.expect("a provisional response fits");
    assert!(provisional.len() > 2040, "{}", provisional.len());
    // The final response one byte past the store, then exactly filling it.
    let (mut too_big, mut exact) = (None, None);
    for len in (1000..=2048).rev() {
        match ep.respond(
            Instant::ZERO,
            tx,
            code(200),
            Some(("text/plain", &body[..len])),
        ) {
            Ok(()) => {
                exact = Some((len, sent(&mut ep).remove(0).1));
                break;
            }
            Err(_) => {
                assert!(sent(&mut ep).is_empty());
                // Still the provisional response for a retransmission.
                feed(&mut ep, Instant::ZERO, &request);
                let again = sent(&mut ep);
                assert_eq!(again.len(), 1);
                assert_eq!(again[0].1, provisional, "{len}");
                too_big = Some(len);
            }
        }
    }
    let (len, fin) = exact.expect("a final response fits");
    assert_eq!(too_big, Some(len + 1));
    assert_eq!(fin.len(), 2048, "fills the store exactly");
    assert_eq!(parse(&fin).body(), &body[..len]);
    assert_eq!(to_tag(&fin), to_tag(&provisional));
    feed(&mut ep, Instant::ZERO, &request);
    let again = sent(&mut ep);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].1, fin);
    // A second transaction draws its own tag.
    feed(&mut ep, Instant::ZERO, &options("e2"));
    let tx2 = incoming(&events(&mut ep))[0].0;
    ep.respond(Instant::ZERO, tx2, code(200), None).unwrap();
    let other = sent(&mut ep).remove(0).1;
    assert_ne!(to_tag(&other), to_tag(&fin));
    assert_eq!(to_tag(&other).len(), 16);
}

/// RFC 3261 §7.3.1 framing: nothing a host hands the endpoint reaches the wire with a
/// line break of its own or a Content-Length of its own, whatever is pushed as trusted
/// or vouched around it (the writer's check runs on every untrusted header). Each
/// attempt fails and sends nothing; the endpoint goes on (a stored response intact).
#[test]
fn host_values_cannot_break_the_framing() {
    use sansip::endpoint::Request;
    use sansip::message::Method;
    let mut ep = endpoint(Transport::Udp);
    let base = Request::new(
        Method::Options,
        CALLEE,
        "<sip:alice@127.0.0.1>",
        "<sip:bob@127.0.0.1>",
    );
    let bad = [
        Request {
            to: "<sip:bob@127.0.0.1>\r\nX-Injected: 1",
            ..base
        },
        Request {
            from: "<sip:alice@127.0.0.1>\nX: 1",
            ..base
        },
        Request {
            headers: &[("Content-Length", "0")],
            ..base
        },
        Request {
            headers: &[("Subject", "a\r\nContent-Length: 0")],
            ..base
        },
        Request {
            headers: &[("Bad Name", "v")],
            ..base
        },
        Request {
            method: Method::Extension("FOO sip:x SIP/2.0\r\nX: 1\r\nBAR"),
            ..base
        },
        Request {
            uri: "sip:bob@127.0.0.1 SIP/2.0\r\nX: 1",
            ..base
        },
        Request {
            body: Some(("text/plain\r\nX: 1", b"hi")),
            ..base
        },
    ];
    for req in &bad {
        assert!(
            ep.send_request(Instant::ZERO, addr(PEER), req).is_err(),
            "{req:?}"
        );
        assert!(sent(&mut ep).is_empty());
    }
    ep.send_request(Instant::ZERO, addr(PEER), &base).unwrap();
    assert_eq!(sent(&mut ep).len(), 1);

    let request = options("inj");
    feed(&mut ep, Instant::ZERO, &request);
    let tx = incoming(&events(&mut ep))[0].0;
    let code = |c| sansip::message::StatusCode::new(c).unwrap();
    ep.respond(Instant::ZERO, tx, code(183), None).unwrap();
    let provisional = sent(&mut ep).remove(0).1;
    for headers in [
        &[("Subject", "a\r\nContent-Length: 0")][..],
        &[("Content-Length", "5")],
        &[("l", "5")],
        &[("X", "bare\nLF")],
        &[("X", "end\r")],
    ] {
        let r = ep.respond_with(Instant::ZERO, tx, code(200), headers, None);
        assert!(r.is_err(), "{headers:?}");
        assert!(sent(&mut ep).is_empty());
        feed(&mut ep, Instant::ZERO, &request);
        assert_eq!(sent(&mut ep)[0].1, provisional);
    }
    ep.respond(Instant::ZERO, tx, code(200), None).unwrap();
    assert_eq!(statuses(&sent(&mut ep))[0].0, 200);
}

/// The header-name word scan (RFC 3261 §7.3.1, `header-name HCOLON`, compact forms
/// §7.3.3) classifies every name as the kind of its token run, wherever the colon falls
/// against the scan's 8-byte words and 24-byte reach: known and compact names in odd
/// case, with white space before the colon, names with digits, names running past 24
/// bytes, a colon only after folded white space (refused, as before), at the end of the
/// message.
#[test]
fn header_names_are_classified_as_their_token_run() {
    use sansip::message::HeaderKind;
    let names = [
        "Via",
        "vIA",
        "v",
        "V",
        "i",
        "CALL-ID",
        "call-id",
        "Content-Length",
        "l",
        "Proxy-Authorization",
        "PROXY-AUTHENTICATE",
        "Record-Route",
        "Subscription-State",
        "X-1",
        "Via1",
        "1",
        "Max-Forwards2",
        "WWW-Authenticate-Extension-Long-Name",
        "abcdefghijklmnopqrstuvw",
        "abcdefghijklmnopqrstuvwx",
        "abcdefghijklmnopqrstuvwxy",
    ];
    for name in names {
        for sep in [":", " :", "\t:", ":  "] {
            for pad in 0..10 {
                let pre = "X-Pad: ".to_owned() + &"p".repeat(pad);
                let text = format!("OPTIONS sip:a@b SIP/2.0\r\n{pre}\r\n{name}{sep}0\r\n\r\n");
                let m =
                    Message::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{text:?} {e:?}"));
                let h = m.headers().nth(1).unwrap();
                assert_eq!(h.kind, HeaderKind::from_name(name.as_bytes()), "{text:?}");
                assert_eq!(h.value, b"0", "{text:?}");
            }
        }
        // The name last, the message ending right after its colon or before it.
        let text = format!("OPTIONS sip:a@b SIP/2.0\r\n{name}:");
        let _ = Message::parse(text.as_bytes());
        // A colon only after a line break is no HCOLON.
        let text = format!("OPTIONS sip:a@b SIP/2.0\r\n{name}\r\n : 0\r\n\r\n");
        assert!(Message::parse(text.as_bytes()).is_err(), "{text:?}");
    }
}
