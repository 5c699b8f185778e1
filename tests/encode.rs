//! The writer and the derived messages (RFC 3261 §8.2.6, §9.1, §17.1.1.3), checked by
//! parsing what was written.

use proptest::prelude::*;
use sansip::encode::{
    BuildError, EncodeError, MAX_BUILDER_HEADERS, MessageBuilder, Value, ViaValue, Write,
};
use sansip::message::{HeaderKind, Message, Method, StatusCode};

const INVITE: &[u8] = b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8, SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1\r\n\
Via: SIP/2.0/UDP gw.example.com;branch=z9hG4bKg1\r\n\
Max-Forwards: 70\r\n\
Route: <sip:p1.example.com;lr>\r\n\
Route: <sip:p2.example.com;lr>\r\n\
To: Bob <sip:bob@biloxi.example.com>\r\n\
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n\
CSeq: 314159 INVITE\r\n\
Timestamp: 54\r\n\
Content-Length: 0\r\n\r\n";

fn written(b: &MessageBuilder<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    let n = b.encode(&mut out).unwrap();
    assert_eq!(n, out.len());
    assert_eq!(b.encoded_len().unwrap(), n);
    out
}

fn value<'a>(m: &Message<'a>, k: HeaderKind) -> &'a [u8] {
    m.header(k).unwrap().value
}

#[test]
fn response_to_copies_headers_and_adds_to_tag() {
    // RFC 3261 §8.2.6.2.
    let req = Message::parse(INVITE).unwrap();
    let bytes =
        written(&MessageBuilder::response_to(&req, StatusCode::RINGING, "a6c85cf").unwrap());
    let m = Message::parse(&bytes).unwrap();
    assert_eq!(m.status(), Some(StatusCode::RINGING));
    // Every Via value, in order (the top one on a line of its own).
    let branches = |m: &Message<'_>| -> Vec<String> {
        m.vias()
            .map(|v| v.unwrap().branch().unwrap().to_string())
            .collect()
    };
    assert_eq!(branches(&m), ["z9hG4bKnashds8", "z9hG4bKp1", "z9hG4bKg1"]);
    assert_eq!(branches(&m), branches(&req));
    assert_eq!(m.headers_of(HeaderKind::Via).count(), 3);
    // A server can replace the top Via (§18.2.1).
    let with = MessageBuilder::response_to(&req, StatusCode::OK, "t")
        .unwrap()
        .with_top_via(
            "SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8;received=192.0.2.1",
        );
    let bytes2 = written(&with);
    let m2 = Message::parse(&bytes2).unwrap();
    assert_eq!(
        m2.top_via().unwrap().received().map(|h| h.to_string()),
        Some("192.0.2.1".into())
    );
    assert_eq!(branches(&m2), branches(&req));
    assert_eq!(
        value(&m, HeaderKind::To),
        b"Bob <sip:bob@biloxi.example.com>;tag=a6c85cf"
    );
    assert_eq!(value(&m, HeaderKind::From), value(&req, HeaderKind::From));
    assert_eq!(
        value(&m, HeaderKind::CallId),
        value(&req, HeaderKind::CallId)
    );
    assert_eq!(value(&m, HeaderKind::CSeq), b"314159 INVITE");
    assert!(m.header(HeaderKind::Timestamp).is_none());
    // A 100 Trying carries no To tag but echoes Timestamp (§8.2.6.1).
    let bytes = written(&MessageBuilder::response_to(&req, StatusCode::TRYING, "a6c85cf").unwrap());
    let m = Message::parse(&bytes).unwrap();
    assert_eq!(
        value(&m, HeaderKind::To),
        b"Bob <sip:bob@biloxi.example.com>"
    );
    assert_eq!(value(&m, HeaderKind::Timestamp), b"54");
}

#[test]
fn response_keeps_an_existing_to_tag() {
    let req = Message::parse(
        b"BYE sip:a@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:b@h>;tag=1\r\nTo: <sip:a@h>;tag=2\r\nCall-ID: c\r\nCSeq: 2 BYE\r\n\r\n",
    )
    .unwrap();
    let bytes = written(&MessageBuilder::response_to(&req, StatusCode::OK, "other").unwrap());
    assert_eq!(
        value(&Message::parse(&bytes).unwrap(), HeaderKind::To),
        b"<sip:a@h>;tag=2"
    );
}

#[test]
fn response_needs_a_request_with_mandatory_headers() {
    let resp = Message::parse(b"SIP/2.0 200 OK\r\n\r\n").unwrap();
    assert_eq!(
        MessageBuilder::response_to(&resp, StatusCode::OK, "t").unwrap_err(),
        BuildError::NotARequest
    );
    let req = Message::parse(b"BYE sip:a@h SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\n").unwrap();
    assert_eq!(
        MessageBuilder::response_to(&req, StatusCode::OK, "t").unwrap_err(),
        BuildError::MissingHeader(HeaderKind::From)
    );
}

#[test]
fn ack_for_non_2xx() {
    // RFC 3261 §17.1.1.3.
    let invite = Message::parse(INVITE).unwrap();
    let resp_bytes =
        written(&MessageBuilder::response_to(&invite, StatusCode::BUSY_HERE, "b0b").unwrap());
    let resp = Message::parse(&resp_bytes).unwrap();
    let bytes = written(&MessageBuilder::ack_for(&invite, &resp).unwrap());
    let ack = Message::parse(&bytes).unwrap();
    assert_eq!(ack.method(), Some(Method::Ack));
    assert_eq!(ack.request_uri_raw(), invite.request_uri_raw());
    let vias: Vec<_> = ack.headers_of(HeaderKind::Via).map(|h| h.value).collect();
    assert_eq!(
        vias,
        [&b"SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8"[..]]
    );
    assert_eq!(value(&ack, HeaderKind::To), value(&resp, HeaderKind::To));
    assert_eq!(
        value(&ack, HeaderKind::From),
        value(&invite, HeaderKind::From)
    );
    assert_eq!(
        value(&ack, HeaderKind::CallId),
        value(&invite, HeaderKind::CallId)
    );
    assert_eq!(value(&ack, HeaderKind::CSeq), b"314159 ACK");
    let routes: Vec<_> = ack.headers_of(HeaderKind::Route).map(|h| h.value).collect();
    assert_eq!(
        routes,
        [&b"<sip:p1.example.com;lr>"[..], b"<sip:p2.example.com;lr>"]
    );
    assert!(ack.body().is_empty());
    assert_eq!(
        MessageBuilder::ack_for(&invite, &invite).unwrap_err(),
        BuildError::NotAResponse
    );
}

/// §22.1: an ACK (which cannot be challenged) carries the INVITE's Authorization and
/// Proxy-Authorization values; a CANCEL (which cannot be challenged either) none.
#[test]
fn ack_for_carries_the_invites_credentials_and_cancel_none() {
    let with_credentials = String::from_utf8(INVITE.to_vec()).unwrap().replacen(
        "Call-ID:",
        "Proxy-Authorization: Digest username=\"a\", realm=\"p\", nonce=\"1\", uri=\"sip:b@h\", response=\"00\"\r\n\
         Authorization: Digest username=\"a\", realm=\"u\", nonce=\"2\", uri=\"sip:b@h\", response=\"11\"\r\n\
         Call-ID:",
        1,
    );
    let invite = Message::parse(with_credentials.as_bytes()).unwrap();
    let resp_bytes =
        written(&MessageBuilder::response_to(&invite, StatusCode::BUSY_HERE, "b0b").unwrap());
    let resp = Message::parse(&resp_bytes).unwrap();
    let bytes = written(&MessageBuilder::ack_for(&invite, &resp).unwrap());
    let ack = Message::parse(&bytes).unwrap();
    for kind in [HeaderKind::Authorization, HeaderKind::ProxyAuthorization] {
        assert!(value(&invite, kind).starts_with(b"Digest"));
        assert_eq!(value(&ack, kind), value(&invite, kind));
    }
    let bytes = written(&MessageBuilder::cancel_for(&invite).unwrap());
    let cancel = Message::parse(&bytes).unwrap();
    assert!(cancel.header(HeaderKind::Authorization).is_none());
    assert!(cancel.header(HeaderKind::ProxyAuthorization).is_none());
}

#[test]
fn cancel_for_invite() {
    // RFC 3261 §9.1.
    let invite = Message::parse(INVITE).unwrap();
    let bytes = written(&MessageBuilder::cancel_for(&invite).unwrap());
    let cancel = Message::parse(&bytes).unwrap();
    assert_eq!(cancel.method(), Some(Method::Cancel));
    assert_eq!(cancel.request_uri_raw(), invite.request_uri_raw());
    assert_eq!(cancel.headers_of(HeaderKind::Via).count(), 1);
    assert_eq!(
        value(&cancel, HeaderKind::To),
        value(&invite, HeaderKind::To)
    );
    assert_eq!(value(&cancel, HeaderKind::CSeq), b"314159 CANCEL");
    assert_eq!(cancel.headers_of(HeaderKind::Route).count(), 2);
}

#[test]
fn too_small_buffers_are_untouched_and_say_what_is_needed() {
    let b =
        MessageBuilder::request(Method::Options, "sip:x@y").header("Call-ID", Value::Text("abc"));
    let needed = b.encoded_len().unwrap();
    for len in 0..needed {
        let mut buf = vec![0xAAu8; len];
        assert_eq!(
            b.encode_into(&mut buf),
            Err(EncodeError::BufferTooSmall { needed })
        );
        assert!(buf.iter().all(|&x| x == 0xAA));
    }
    let mut hv: heapless::Vec<u8, 16> = heapless::Vec::new();
    assert_eq!(
        b.encode(&mut hv),
        Err(EncodeError::BufferTooSmall { needed })
    );
    assert!(hv.is_empty());
    let mut hv: heapless::Vec<u8, 256> = heapless::Vec::new();
    assert_eq!(b.encode(&mut hv), Ok(needed));
    assert_eq!(hv.remaining(), 256 - needed);
}

#[test]
fn header_injection_and_capacity_are_refused() {
    let b = MessageBuilder::request(Method::Options, "sip:x@y")
        .header("Subject", Value::Text("a\r\nVia: evil"));
    assert_eq!(
        b.encoded_len(),
        Err(EncodeError::InvalidHeader { index: 0 })
    );
    let b =
        MessageBuilder::request(Method::Options, "sip:x@y").header("Bad Name", Value::Text("v"));
    assert_eq!(
        b.encoded_len(),
        Err(EncodeError::InvalidHeader { index: 0 })
    );
    // A line fold is fine.
    let b = MessageBuilder::request(Method::Options, "sip:x@y")
        .header("Subject", Value::Text("a\r\n b"));
    assert!(b.encoded_len().is_ok());
    let b = MessageBuilder::request(Method::Options, "sip:x@y").header("l", Value::Number(3));
    assert_eq!(
        b.encoded_len(),
        Err(EncodeError::InvalidHeader { index: 0 })
    );
    let b = MessageBuilder::request(Method::Options, "sip:x y");
    assert_eq!(b.encoded_len(), Err(EncodeError::InvalidStartLine));
    let mut b = MessageBuilder::request(Method::Options, "sip:x@y");
    for _ in 0..=MAX_BUILDER_HEADERS {
        b.push("X", Value::Number(1));
    }
    assert_eq!(
        b.encoded_len(),
        Err(EncodeError::Capacity(sansip::Capacity::Headers))
    );
}

#[test]
fn typed_values() {
    let via = ViaValue {
        transport: "TCP",
        sent_by: "[2001:db8::1]:5070",
        branch: "z9hG4bKabc",
        rport: false,
    };
    let b = MessageBuilder::response(StatusCode::METHOD_NOT_ALLOWED)
        .header("Via", Value::Via(via))
        .header(
            "Allow",
            Value::Methods(&[Method::Invite, Method::Ack, Method::Extension("FOO")]),
        )
        .header("Unsupported", Value::Tokens(&["100rel", "timer"]))
        .body("text/plain", b"hi");
    let bytes = written(&b);
    let m = Message::parse(&bytes).unwrap();
    assert_eq!(
        value(&m, HeaderKind::Via),
        b"SIP/2.0/TCP [2001:db8::1]:5070;branch=z9hG4bKabc"
    );
    assert_eq!(value(&m, HeaderKind::Allow), b"INVITE, ACK, FOO");
    assert_eq!(value(&m, HeaderKind::Unsupported), b"100rel, timer");
    assert_eq!(value(&m, HeaderKind::ContentType), b"text/plain");
    assert_eq!(value(&m, HeaderKind::ContentLength), b"2");
    assert_eq!(m.body(), b"hi");
    assert!(bytes.starts_with(b"SIP/2.0 405 Method Not Allowed\r\n"));
}

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9.!%*_+`'~-]{1,12}"
}

proptest! {
    /// parse(write(m)) == m for every message the builder makes.
    #[test]
    fn written_messages_parse_back(
        method in token(),
        user in "[a-z0-9]{1,8}",
        values in proptest::collection::vec(("[A-Za-z][A-Za-z0-9-]{0,10}", "[ -~]{0,30}"), 0..MAX_BUILDER_HEADERS),
        seq in any::<u32>(),
        body in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let uri = format!("sip:{user}@example.com");
        let m = Method::from_token(&method).unwrap();
        let mut b = MessageBuilder::request(m, &uri);
        for (n, v) in &values {
            b.push(n, Value::Text(v));
        }
        b.push("CSeq", Value::CSeq(seq, m));
        let b = if values.len() + 2 <= MAX_BUILDER_HEADERS { b.body("application/octet-stream", &body) } else { b };
        let Ok(_) = b.encoded_len() else {
            // Only a generated Content-Length (or its compact form) may be refused.
            prop_assert!(values.iter().any(|(n, _)| n.eq_ignore_ascii_case("l") || n.eq_ignore_ascii_case("content-length")));
            return Ok(());
        };
        let bytes = written(&b);
        let parsed = Message::parse(&bytes).unwrap();
        prop_assert_eq!(parsed.method(), Some(m));
        prop_assert_eq!(parsed.request_uri_raw(), Some(uri.as_bytes()));
        for (h, (n, v)) in parsed.headers().zip(b.headers()) {
            prop_assert_eq!(h.name, *n);
            match v {
                Value::Text(t) => prop_assert_eq!(h.value, t.trim_matches([' ', '\t']).as_bytes()),
                Value::CSeq(..) => { let want = format!("{seq} {method}"); prop_assert_eq!(h.value, want.as_bytes()) }
                _ => {}
            }
        }
        prop_assert_eq!(parsed.header_count(), b.headers().len() + 1);
        if values.len() + 2 <= MAX_BUILDER_HEADERS {
            prop_assert_eq!(parsed.body(), &body[..]);
        }
    }
}

#[test]
fn methods_and_sent_by_cannot_smuggle_lines() {
    let evil = Method::Extension("FOO sip:x SIP/2.0\r\nX-Injected: 1\r\nBAR");
    assert_eq!(
        MessageBuilder::request(evil, "sip:x@y").encoded_len(),
        Err(EncodeError::InvalidStartLine)
    );
    let b =
        MessageBuilder::request(Method::Options, "sip:x@y").header("CSeq", Value::CSeq(1, evil));
    assert_eq!(
        b.encoded_len(),
        Err(EncodeError::InvalidHeader { index: 0 })
    );
    let methods = [Method::Invite, evil];
    let b = MessageBuilder::request(Method::Options, "sip:x@y")
        .header("Allow", Value::Methods(&methods));
    assert_eq!(
        b.encoded_len(),
        Err(EncodeError::InvalidHeader { index: 0 })
    );
    let via = ViaValue {
        transport: "UDP",
        sent_by: "h;received=1.2.3.4",
        branch: "z9hG4bK1",
        rport: false,
    };
    let b = MessageBuilder::request(Method::Options, "sip:x@y").header("Via", Value::Via(via));
    assert_eq!(
        b.encoded_len(),
        Err(EncodeError::InvalidHeader { index: 0 })
    );
    let via = ViaValue {
        transport: "UDP",
        sent_by: "[2001:db8::1]:5060",
        branch: "z9hG4bK1",
        rport: false,
    };
    assert!(
        MessageBuilder::request(Method::Options, "sip:x@y")
            .header("Via", Value::Via(via))
            .encoded_len()
            .is_ok()
    );
}
