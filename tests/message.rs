//! Message framing and the header index (RFC 3261 §7, §18.3, §20.14; RFC 5626 §3.5.1),
//! through the public API, with hand-written vectors in the spirit of RFC 4475.

use sansip::message::{
    Framed, HeaderKind, KeepAlive, Limits, MAX_HEADERS, Message, Method, StartLine, StatusCode,
};
use sansip::{Capacity, ParseErrorKind};

const INVITE: &[u8] = b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:bob@biloxi.example.com>\r\n\
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:alice@pc33.atlanta.example.com>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 4\r\n\
\r\n\
v=0\n";

fn kind(bytes: &[u8]) -> ParseErrorKind {
    Message::parse(bytes).unwrap_err().kind
}

#[test]
fn request_line_headers_and_body() {
    let m = Message::parse(INVITE).unwrap();
    assert!(m.is_request());
    assert_eq!(m.method(), Some(Method::Invite));
    assert_eq!(
        m.request_uri_raw(),
        Some(&b"sip:bob@biloxi.example.com"[..])
    );
    assert_eq!(m.version(), "SIP/2.0");
    assert_eq!(m.header_count(), 9);
    assert_eq!(m.body(), b"v=0\n");
    assert_eq!(m.header(HeaderKind::CSeq).unwrap().value, b"314159 INVITE");
    let via = m.header(HeaderKind::Via).unwrap();
    assert_eq!(&INVITE[via.offset..via.offset + 3], b"SIP");
    assert_eq!(m.header(HeaderKind::Route), None);
    assert_eq!(m.as_bytes(), INVITE);
}

#[test]
fn status_line() {
    let m = Message::parse(b"SIP/2.0 180 Ringing\r\nContent-Length: 0\r\n\r\n").unwrap();
    assert_eq!(m.status(), Some(StatusCode::RINGING));
    assert!(matches!(
        m.start_line(),
        StartLine::Response {
            reason: "Ringing",
            ..
        }
    ));
    // RFC 4475 §3.1.1.13: an empty reason phrase is valid.
    let m = Message::parse(b"SIP/2.0 100 \r\n\r\n").unwrap();
    assert!(matches!(
        m.start_line(),
        StartLine::Response { reason: "", .. }
    ));
    // RFC 4475 §3.1.1.12: UTF-8 in the reason phrase is valid.
    let m = Message::parse("SIP/2.0 200 Häppy dåy\r\n\r\n".as_bytes()).unwrap();
    assert!(matches!(
        m.start_line(),
        StartLine::Response {
            reason: "Häppy dåy",
            ..
        }
    ));
}

#[test]
fn bad_status_codes_are_refused() {
    // RFC 4475 §3.1.2.19: a code far above 699.
    assert_eq!(
        kind(b"SIP/2.0 4294967301 Big\r\n\r\n"),
        ParseErrorKind::StatusCode
    );
    assert_eq!(kind(b"SIP/2.0 700 Big\r\n\r\n"), ParseErrorKind::StatusCode);
    assert_eq!(
        kind(b"SIP/2.0 099 Small\r\n\r\n"),
        ParseErrorKind::StatusCode
    );
    assert_eq!(kind(b"SIP/2.0 2x0 OK\r\n\r\n"), ParseErrorKind::StatusCode);
}

#[test]
fn compact_forms_fold_to_full_names() {
    let m = Message::parse(
        b"BYE sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\ni: cid\r\nf: <sip:a@b>;tag=1\r\nt: <sip:c@d>\r\nl: 0\r\nm: <sip:a@h>\r\n\r\n",
    )
    .unwrap();
    for k in [
        HeaderKind::Via,
        HeaderKind::CallId,
        HeaderKind::From,
        HeaderKind::To,
        HeaderKind::ContentLength,
        HeaderKind::Contact,
    ] {
        assert!(m.header(k).is_some(), "{k:?}");
    }
    assert_eq!(m.header(HeaderKind::CallId).unwrap().name, "i");
    assert_eq!(m.header_named("call-id").unwrap().value, b"cid");
}

#[test]
fn line_folding_and_odd_whitespace() {
    // RFC 4475 §3.1.1.1 style: folded values, tabs, spaces before the colon.
    let msg = b"OPTIONS sip:x@y SIP/2.0\r\nSubject  \t:\r\n  folded\r\n\tvalue  \r\nCall-ID:\tabc \r\n\r\n";
    let m = Message::parse(msg).unwrap();
    let s = m.header(HeaderKind::Subject).unwrap();
    assert_eq!(s.value, b"folded\r\n\tvalue");
    assert_eq!(m.header(HeaderKind::CallId).unwrap().value, b"abc");
}

#[test]
fn unknown_methods_and_extension_headers() {
    let m = Message::parse(
        b"!interesting-Method0123456789_*+`.%indeed'~ sip:a@b SIP/2.0\r\nX-Y: z\r\n\r\n",
    )
    .unwrap();
    assert_eq!(
        m.method(),
        Some(Method::Extension(
            "!interesting-Method0123456789_*+`.%indeed'~"
        ))
    );
    assert_eq!(m.header_named("x-y").unwrap().value, b"z");
    assert_eq!(m.headers_named("X-Y").count(), 1);
    assert_eq!(m.header(HeaderKind::Other), None);
}

#[test]
fn nul_bytes_in_body_and_quoted_values_are_kept() {
    let msg = b"MESSAGE sip:a@b SIP/2.0\r\nTo: \"\\\x00\x07\" <sip:a@b>\r\nContent-Length: 3\r\n\r\n\x00\x01\x02";
    let m = Message::parse(msg).unwrap();
    assert_eq!(m.body(), b"\x00\x01\x02");
    assert_eq!(
        m.header(HeaderKind::To).unwrap().value,
        b"\"\\\x00\x07\" <sip:a@b>"
    );
}

#[test]
fn bare_lf_messages_are_accepted() {
    let m = Message::parse(b"SIP/2.0 200 OK\nVia: SIP/2.0/UDP h\n folded\nContent-Length: 2\n\nok")
        .unwrap();
    assert_eq!(
        m.header(HeaderKind::Via).unwrap().value,
        b"SIP/2.0/UDP h\n folded"
    );
    assert_eq!(m.body(), b"ok");
}

#[test]
fn bare_cr_and_mixed_line_ends_are_refused() {
    let e = Message::parse(b"SIP/2.0 200 OK\r\nSubject: a\rb\r\n\r\n").unwrap_err();
    assert_eq!((e.kind, e.offset), (ParseErrorKind::HeaderValue, 26));
    assert_eq!(
        kind(b"SIP/2.0 200 OK\r\nSubject: a\nCall-ID: b\r\n\r\n"),
        ParseErrorKind::HeaderValue
    );
    assert_eq!(
        kind(b"SIP/2.0 200 OK\nSubject: a\r\n\n"),
        ParseErrorKind::HeaderValue
    );
}

#[test]
fn malformed_start_lines() {
    assert_eq!(kind(b""), ParseErrorKind::Empty);
    assert_eq!(kind(b"\r\n\r\n"), ParseErrorKind::Empty);
    assert_eq!(kind(b"INVITE\r\n\r\n"), ParseErrorKind::StartLine);
    // RFC 4475 §3.1.2.7/§3.1.2.9/§3.1.2.10: extra or trailing spaces in the Request-Line.
    assert_eq!(
        kind(b"INVITE  sip:a@b SIP/2.0\r\n\r\n"),
        ParseErrorKind::RequestUri
    );
    assert_eq!(
        kind(b"INVITE sip:a@b  SIP/2.0\r\n\r\n"),
        ParseErrorKind::Version
    );
    assert_eq!(
        kind(b"INVITE sip:a@b SIP/2.0  \r\n\r\n"),
        ParseErrorKind::Version
    );
    assert_eq!(
        kind(b"INVITE sip:a@b SIP/2.0 x\r\n\r\n"),
        ParseErrorKind::Version
    );
    assert_eq!(
        kind(b"INV:ITE sip:a@b SIP/2.0\r\n\r\n"),
        ParseErrorKind::Method
    );
    assert_eq!(
        kind(b"INVITE sip:a@b HTTP/1.1\r\n\r\n"),
        ParseErrorKind::Version
    );
    // RFC 4475 §3.1.2.16: another SIP version parses; the UAS answers 505.
    let m = Message::parse(b"OPTIONS sip:a@b SIP/7.0\r\n\r\n").unwrap();
    assert_eq!(m.version(), "SIP/7.0");
}

#[test]
fn malformed_headers() {
    assert_eq!(
        kind(b"SIP/2.0 200 OK\r\nNo colon here\r\n\r\n"),
        ParseErrorKind::HeaderName
    );
    assert_eq!(
        kind(b"SIP/2.0 200 OK\r\n: empty name\r\n\r\n"),
        ParseErrorKind::HeaderName
    );
    // A datagram that ends after a whole header line lacks only the empty line: tolerated.
    let m = Message::parse(b"SIP/2.0 200 OK\r\nVia: x\r\n").unwrap();
    assert_eq!((m.header_count(), m.body()), (1, &b""[..]));
    assert_eq!(
        kind(b"SIP/2.0 200 OK\r\nVia: x"),
        ParseErrorKind::HeadersUnterminated
    );
}

#[test]
fn content_length_rules() {
    // §18.3: bytes after Content-Length are not part of the message (RFC 4475 dblreq).
    let m = Message::parse(b"SIP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nokINVITE junk").unwrap();
    assert_eq!(m.body(), b"ok");
    assert!(m.as_bytes().ends_with(b"ok"));
    // §18.3: a body shorter than Content-Length is an error (RFC 4475 clerr).
    let e = Message::parse(b"SIP/2.0 200 OK\r\nContent-Length: 9999\r\n\r\nshort").unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::BodyTruncated);
    // Negative and non-numeric lengths (RFC 4475 ncl).
    let e = Message::parse(b"SIP/2.0 200 OK\r\nContent-Length: -999\r\n\r\n").unwrap_err();
    assert_eq!((e.kind, e.offset), (ParseErrorKind::ContentLength, 32));
    assert_eq!(
        kind(b"SIP/2.0 200 OK\r\nl: 99999999999\r\n\r\n"),
        ParseErrorKind::ContentLength
    );
    // Two values that disagree (RFC 4475 mcl01).
    assert_eq!(
        kind(b"SIP/2.0 200 OK\r\nContent-Length: 2\r\nl: 3\r\n\r\nabc"),
        ParseErrorKind::ContentLength
    );
    // No Content-Length on a datagram: the body is the rest.
    assert_eq!(
        Message::parse(b"SIP/2.0 200 OK\r\n\r\nrest")
            .unwrap()
            .body(),
        b"rest"
    );
}

#[test]
fn limits_are_enforced() {
    let small = Limits {
        max_message: 20,
        ..Limits::default()
    };
    assert_eq!(
        Message::parse_with(INVITE, &small).unwrap_err().kind,
        ParseErrorKind::Capacity(Capacity::MessageSize)
    );
    let few = Limits {
        max_headers: 3,
        ..Limits::default()
    };
    assert_eq!(
        Message::parse_with(INVITE, &few).unwrap_err().kind,
        ParseErrorKind::Capacity(Capacity::Headers)
    );
    let mut many = b"SIP/2.0 200 OK\r\n".to_vec();
    for _ in 0..MAX_HEADERS + 1 {
        many.extend_from_slice(b"X: y\r\n");
    }
    many.extend_from_slice(b"\r\n");
    assert_eq!(kind(&many), ParseErrorKind::Capacity(Capacity::Headers));
}

#[test]
fn leading_crlf_is_skipped() {
    let m = Message::parse(b"\r\n\r\nSIP/2.0 200 OK\r\n\r\n").unwrap();
    assert_eq!(m.status(), Some(StatusCode::OK));
}

#[test]
fn stream_framing() {
    let l = Limits::default();
    let two = [INVITE, b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"].concat();
    // Every prefix shorter than the first message is Incomplete, never an error.
    for cut in 0..INVITE.len() {
        match Message::parse_stream(&two[..cut], &l) {
            Ok(Framed::Incomplete { .. }) | Ok(Framed::KeepAlive(..)) => {}
            other => panic!("cut {cut}: {other:?}"),
        }
    }
    let Ok(Framed::Message(m, used)) = Message::parse_stream(&two, &l) else {
        panic!()
    };
    assert_eq!(used, INVITE.len());
    assert_eq!(m.body(), b"v=0\n");
    let Ok(Framed::Message(m, used2)) = Message::parse_stream(&two[used..], &l) else {
        panic!()
    };
    assert_eq!(m.status(), Some(StatusCode::OK));
    assert_eq!(used + used2, two.len());
    // Content-Length is mandatory on streams.
    let e = Message::parse_stream(b"SIP/2.0 200 OK\r\n\r\n", &l).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::ContentLengthRequired);
    // RFC 5626 §3.5.1 keep-alives.
    assert!(matches!(
        Message::parse_stream(b"\r\n\r\nSIP", &l),
        Ok(Framed::KeepAlive(KeepAlive::Ping, 4))
    ));
    assert!(matches!(
        Message::parse_stream(b"\r\nSIP", &l),
        Ok(Framed::KeepAlive(KeepAlive::Pong, 2))
    ));
    assert!(matches!(
        Message::parse_stream(b"\r\n", &l),
        Ok(Framed::KeepAlive(KeepAlive::Pong, 2))
    ));
    assert!(matches!(
        Message::parse_stream(b"\r\n\r", &l),
        Ok(Framed::Incomplete { total: None })
    ));
    // A CRLF followed by anything but the rest of a ping is a pong: never stuck.
    assert!(matches!(
        Message::parse_stream(b"\r\n\rX", &l),
        Ok(Framed::KeepAlive(KeepAlive::Pong, 2))
    ));
    // An endless header section stops at the size limit.
    let small = Limits {
        max_message: 64,
        ..l
    };
    let junk = [b'a'; 100];
    assert_eq!(
        Message::parse_stream(&junk, &small).unwrap_err().kind,
        ParseErrorKind::Capacity(Capacity::MessageSize)
    );
}

#[test]
fn typed_accessors() {
    let msg = b"SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP b.example.com:5070;branch=z9hG4bK2\r\n\
Call-ID: x@y\r\n\
v: SIP/2.0/UDP c.example.com;branch=z9hG4bK3;received=192.0.2.1\r\n\
CSeq: 7 INVITE\r\n\
Max-Forwards: 69\r\n\
Require: 100rel, timer\r\n\
Require: foo\r\n\
Content-Length: 0\r\n\r\n";
    let m = Message::parse(msg).unwrap();
    let branches: Vec<_> = m.vias().map(|v| v.unwrap().branch().unwrap()).collect();
    assert_eq!(branches, ["z9hG4bK1", "z9hG4bK2", "z9hG4bK3"]);
    assert_eq!(m.top_via().unwrap().sent_by().to_string(), "a.example.com");
    assert_eq!(m.cseq().unwrap().seq(), 7);
    assert_eq!(m.cseq().unwrap().method(), Method::Invite);
    assert_eq!(m.call_id().unwrap().as_str(), "x@y");
    assert_eq!(m.max_forwards().unwrap().unwrap().get(), 69);
    assert_eq!(m.content_length().unwrap().unwrap().get(), 0);
    assert!(m.expires().is_none());
    let tags: Vec<_> = m.tokens(HeaderKind::Require).map(Result::unwrap).collect();
    assert_eq!(tags, ["100rel", "timer", "foo"]);
}

#[test]
fn typed_errors_point_into_the_message() {
    let msg = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1,,\r\nCSeq: x INVITE\r\n\r\n";
    let m = Message::parse(msg).unwrap();
    let vias: Vec<_> = m.vias().collect();
    assert!(vias[0].is_ok());
    let e = *vias[1].as_ref().unwrap_err();
    assert_eq!(e.offset, msg.iter().position(|&b| b == b',').unwrap() + 1);
    let e = m.cseq().unwrap_err();
    let cseq_at = m.header(HeaderKind::CSeq).unwrap().offset;
    assert_eq!(cseq_at, 60);
    assert!((cseq_at..cseq_at + 8).contains(&e.offset), "{e}");
    assert_eq!(e.kind, ParseErrorKind::CSeq);
    assert_eq!(m.call_id().unwrap_err().kind, ParseErrorKind::MissingHeader);
    let bare = Message::parse(b"SIP/2.0 200 OK\r\n\r\n").unwrap();
    assert_eq!(
        bare.top_via().unwrap_err().kind,
        ParseErrorKind::MissingHeader
    );
}

#[test]
fn uri_and_address_accessors() {
    let msg = b"\r\nINVITE sips:bob@[2001:db8::1]:5061;transport=tcp SIP/2.0\r\n\
From: \"Alice\" <sip:alice@a.example.com>;tag=88\r\n\
t: sip:bob@b.example.com;tag=99\r\n\
Contact: <sip:alice@192.0.2.1>;expires=60, <sip:alice@pc.example.com>;q=0.5\r\n\
Record-Route: <sip:p2.example.com;lr>, <sip:p1.example.com;lr>\r\n\
Route: <sip:p3.example.com;lr>\r\n\r\n";
    let m = Message::parse(msg).unwrap();
    let uri = m.request_uri().unwrap().unwrap();
    let sip = uri.as_sip().unwrap();
    assert!(sip.is_secure());
    assert_eq!(sip.port(), Some(5061));
    assert_eq!(sip.transport(), Some("tcp"));
    assert_eq!(m.from().unwrap().tag(), Some("88"));
    assert_eq!(m.to().unwrap().tag(), Some("99"));
    let contacts: Vec<_> = m.contacts().map(Result::unwrap).collect();
    assert_eq!(contacts.len(), 2);
    assert!(
        matches!(contacts[0], sansip::message::ContactValue::Addr(a) if a.expires() == Some(60))
    );
    let rr: Vec<_> = m
        .record_routes()
        .map(|r| r.unwrap().uri().as_str())
        .collect();
    assert_eq!(rr, ["sip:p2.example.com;lr", "sip:p1.example.com;lr"]);
    assert_eq!(m.routes().count(), 1);
    // A bad Request-URI is reported where it is.
    let bad = b"INVITE <sip:bob@b.example.com> SIP/2.0\r\n\r\n";
    let e = Message::parse(bad)
        .unwrap()
        .request_uri()
        .unwrap()
        .unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::RequestUri);
    assert!((7..30).contains(&e.offset));
}
