//! RFC 3261 §8.1.3, §8.2 and §18.3 checks through the public API, with hand-written
//! vectors for each RFC 4475 category (so `cargo test` alone covers them; the corpus
//! test runs the RFC's own messages).

use sansip::check::{self, Capabilities, Discard, Problem, Verdict, check_request, check_response};
use sansip::message::{HeaderKind, Limits, Message, Method, StatusCode};

fn request(start: &str, extra: &str, body: &str) -> Vec<u8> {
    format!(
        "{start}\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKcheck\r\nMax-Forwards: 70\r\n\
         From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>\r\nCall-ID: check-1\r\n\
         {extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn verdict(bytes: &[u8]) -> Result<(), u16> {
    match check::classify(bytes, &Capabilities::DEFAULT, &Limits::default()) {
        Verdict::Accept(_) => Ok(()),
        Verdict::Respond(_, r) => Err(r.status.as_u16()),
        Verdict::Discard(_) => Err(0),
    }
}

const OPTIONS: &str = "OPTIONS sip:bob@example.com SIP/2.0";

#[test]
fn valid_requests_are_accepted() {
    assert_eq!(
        verdict(&request(OPTIONS, "CSeq: 1 OPTIONS\r\n", "")),
        Ok(())
    );
    // RFC 4475 §3.1.1: escapes, odd whitespace, unknown params and transports are valid.
    let odd = request(
        "INVITE sip:%61lice@example.com;unknownparam SIP/2.0",
        "CSeq: 9 INVITE\r\nv: SIP/2.0/FOO host;branch=z9hG4bKx\r\nContent-Type: application/sdp\r\n",
        "v=0\r\n",
    );
    assert_eq!(verdict(&odd), Ok(()));
    // Max-Forwards: 0 is for a proxy to refuse; an endpoint processes it (RFC 4475 §3.3.11).
    let zero = String::from_utf8(request(OPTIONS, "CSeq: 1 OPTIONS\r\n", ""))
        .unwrap()
        .replace("Max-Forwards: 70", "Max-Forwards: 0");
    assert_eq!(verdict(zero.as_bytes()), Ok(()));
}

#[test]
fn version_505() {
    // RFC 4475 §3.1.2.16.
    let r = request(
        "OPTIONS sip:bob@example.com SIP/7.0",
        "CSeq: 1 OPTIONS\r\n",
        "",
    );
    assert_eq!(verdict(&r), Err(505));
}

#[test]
fn methods_501_and_405() {
    // §8.2.1 / RFC 4475 §3.1.1.2, §3.1.1.5: unknown → 501 with Allow.
    let r = request(
        "NEWMETHOD sip:bob@example.com SIP/2.0",
        "CSeq: 1 NEWMETHOD\r\n",
        "",
    );
    let msg = Message::parse(&r).unwrap();
    let rej = check_request(&msg, &Capabilities::DEFAULT).unwrap_err();
    assert_eq!(
        (rej.status, rej.problem),
        (StatusCode::NOT_IMPLEMENTED, Problem::UnknownMethod)
    );
    let mut out = [0u8; 1024];
    let n = rej
        .write_response(&msg, &Capabilities::DEFAULT, "t", &mut out)
        .unwrap();
    let resp = Message::parse(&out[..n]).unwrap();
    let allow: Vec<_> = resp.tokens(HeaderKind::Allow).map(Result::unwrap).collect();
    assert_eq!(allow.len(), Method::KNOWN.len());
    // Known but not allowed → 405 with Allow listing what is.
    let caps = Capabilities {
        methods: &[Method::Invite, Method::Ack, Method::Bye],
        ..Capabilities::DEFAULT
    };
    let r = request(OPTIONS, "CSeq: 1 OPTIONS\r\n", "");
    let msg = Message::parse(&r).unwrap();
    let rej = check_request(&msg, &caps).unwrap_err();
    assert_eq!(rej.status, StatusCode::METHOD_NOT_ALLOWED);
    let n = rej.write_response(&msg, &caps, "t", &mut out).unwrap();
    let resp = Message::parse(&out[..n]).unwrap();
    assert_eq!(
        resp.header(HeaderKind::Allow).unwrap().value,
        b"INVITE, ACK, BYE"
    );
}

#[test]
fn mandatory_headers_400() {
    // RFC 4475 §3.3.1 insuf: no From, To, Call-ID.
    let r = b"INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: 1 INVITE\r\n\r\n";
    let msg = Message::parse(r).unwrap();
    assert_eq!(
        check_request(&msg, &Capabilities::DEFAULT)
            .unwrap_err()
            .problem,
        Problem::MissingHeader(HeaderKind::From)
    );
    // RFC 4475 §3.3.9 multi01: two different To values.
    assert_eq!(
        verdict(&request(
            OPTIONS,
            "CSeq: 1 OPTIONS\r\nTo: <sip:other@example.net>\r\n",
            ""
        )),
        Err(400)
    );
    // The same value twice is tolerated.
    assert_eq!(
        verdict(&request(
            OPTIONS,
            "CSeq: 1 OPTIONS\r\nTo: <sip:bob@example.com>\r\n",
            ""
        )),
        Ok(())
    );
    // RFC 4475 §3.1.2.4 scalar02: CSeq out of range.
    assert_eq!(
        verdict(&request(
            OPTIONS,
            "CSeq: 36893488147419103232 OPTIONS\r\n",
            ""
        )),
        Err(400)
    );
    // Max-Forwards beyond 255.
    assert_eq!(
        verdict(&request(
            OPTIONS,
            "CSeq: 1 OPTIONS\r\nMax-Forwards: 300\r\n",
            ""
        )),
        Err(400)
    );
    // RFC 4475 §3.1.2.1 badinv01: empty Via elements.
    assert_eq!(
        verdict(&request(
            OPTIONS,
            "CSeq: 1 OPTIONS\r\nVia: SIP/2.0/UDP 192.0.2.15;;,;,,\r\n",
            ""
        )),
        Err(400)
    );
    // RFC 4475 §3.1.2.13 regbadct: a bare addr-spec Contact with `?`.
    assert_eq!(
        verdict(&request(
            OPTIONS,
            "CSeq: 1 OPTIONS\r\nContact: sip:u@example.com?Route=%3Csip:x%3E\r\n",
            ""
        )),
        Err(400)
    );
    // RFC 4475 §3.1.2.14 badaspec, §3.1.2.15 baddn, §3.1.2.6 quotbal.
    for from in [
        "From: < sip:a@example.com >;tag=1",
        "From: Bell, Alexander <sip:a@example.com>;tag=1",
        "From: \"Mr. J <sip:a@example.com>;tag=1",
    ] {
        let r = format!(
            "OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n{from}\r\nTo: <sip:b@example.com>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n"
        );
        assert_eq!(verdict(r.as_bytes()), Err(400), "{from}");
    }
}

#[test]
fn cseq_method_mismatch_400() {
    // RFC 4475 §3.1.2.17 mismatch01.
    let r = request(OPTIONS, "CSeq: 1 INVITE\r\n", "");
    let msg = Message::parse(&r).unwrap();
    assert_eq!(
        check_request(&msg, &Capabilities::DEFAULT)
            .unwrap_err()
            .problem,
        Problem::CSeqMethodMismatch
    );
    // mismatch02: an unknown method is reported first (501).
    assert_eq!(
        verdict(&request(
            "NEWMETHOD sip:b@example.com SIP/2.0",
            "CSeq: 1 INVITE\r\n",
            ""
        )),
        Err(501)
    );
}

#[test]
fn request_uri_400_and_416() {
    // RFC 4475 §3.3.2 unkscm and §3.3.4 novelsc → 416.
    assert_eq!(
        verdict(&request(
            "OPTIONS nobodyKnowsThisScheme:totallyopaque SIP/2.0",
            "CSeq: 1 OPTIONS\r\n",
            ""
        )),
        Err(416)
    );
    assert_eq!(
        verdict(&request(
            "OPTIONS soap.beep://192.0.2.103:3002 SIP/2.0",
            "CSeq: 1 OPTIONS\r\n",
            ""
        )),
        Err(416)
    );
    assert_eq!(
        verdict(&request(
            "OPTIONS tel:+1-201-555-0123 SIP/2.0",
            "CSeq: 1 OPTIONS\r\n",
            ""
        )),
        Err(416)
    );
    let tel = Capabilities {
        schemes: &["sip", "tel"],
        ..Capabilities::DEFAULT
    };
    let r = request(
        "OPTIONS tel:+1-201-555-0123 SIP/2.0",
        "CSeq: 1 OPTIONS\r\n",
        "",
    );
    assert_eq!(check_request(&Message::parse(&r).unwrap(), &tel), Ok(()));
    // RFC 4475 §3.1.2.5 ltgtruri: a Request-URI in angle brackets → 400.
    assert_eq!(
        verdict(&request(
            "OPTIONS <sip:b@example.com> SIP/2.0",
            "CSeq: 1 OPTIONS\r\n",
            ""
        )),
        Err(400)
    );
    // RFC 5118 §4.2: an IPv6 host without brackets → 400.
    assert_eq!(
        verdict(&request(
            "OPTIONS sip:2001:db8::10 SIP/2.0",
            "CSeq: 1 OPTIONS\r\n",
            ""
        )),
        Err(400)
    );
}

#[test]
fn start_line_errors_still_get_400() {
    // RFC 4475 §3.1.2.7 lwsstart, §3.1.2.9 trws, §3.1.2.8 lwsruri: the header section is
    // readable, so a response can be built.
    for start in [
        "OPTIONS  sip:b@example.com SIP/2.0",
        "OPTIONS sip:b@example.com SIP/2.0  ",
        "OPTIONS sip:b@example.com; lr SIP/2.0",
    ] {
        assert_eq!(
            verdict(&request(start, "CSeq: 1 OPTIONS\r\n", "")),
            Err(400),
            "{start:?}"
        );
    }
    // A request whose headers cannot answer it is dropped.
    assert_eq!(
        verdict(b"OPTIONS  sip:b@example.com SIP/2.0\r\nCall-ID: x\r\n\r\n"),
        Err(0)
    );
    assert_eq!(verdict(b"\x00\x01garbage"), Err(0));
}

#[test]
fn content_length_framing_400() {
    // RFC 4475 §3.1.2.2 clerr (short body), §3.1.2.3 ncl (negative), §3.1.2.8 mcl01.
    let mut r = request(OPTIONS, "CSeq: 1 OPTIONS\r\n", "");
    let short = String::from_utf8(r.clone())
        .unwrap()
        .replace("Content-Length: 0", "Content-Length: 9999");
    assert_eq!(verdict(short.as_bytes()), Err(400));
    let neg = String::from_utf8(r.clone())
        .unwrap()
        .replace("Content-Length: 0", "Content-Length: -999");
    assert_eq!(verdict(neg.as_bytes()), Err(400));
    let two = String::from_utf8(r.clone())
        .unwrap()
        .replace("Content-Length: 0", "Content-Length: 0\r\nl: 5");
    assert_eq!(verdict(two.as_bytes()), Err(400));
    // §18.3: extra bytes after Content-Length are ignored (RFC 4475 §3.1.1.8 dblreq).
    r.extend_from_slice(b"INVITE sip:junk SIP/2.0\r\n\r\n");
    assert_eq!(verdict(&r), Ok(()));
}

#[test]
fn require_420_lists_unsupported() {
    // RFC 4475 §3.3.5 bext01.
    let r = request(
        OPTIONS,
        "CSeq: 1 OPTIONS\r\nRequire: nothingSupportsThis, nothingSupportsThisEither\r\nProxy-Require: x\r\n",
        "",
    );
    let msg = Message::parse(&r).unwrap();
    let rej = check_request(&msg, &Capabilities::DEFAULT).unwrap_err();
    assert_eq!(rej.status, StatusCode::BAD_EXTENSION);
    let mut out = [0u8; 1024];
    let n = rej
        .write_response(&msg, &Capabilities::DEFAULT, "t", &mut out)
        .unwrap();
    let resp = Message::parse(&out[..n]).unwrap();
    let unsupported: Vec<_> = resp
        .tokens(HeaderKind::Unsupported)
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        unsupported,
        ["nothingSupportsThis", "nothingSupportsThisEither"]
    );
    // A supported extension passes; ACK and CANCEL are never refused for Require.
    let caps = Capabilities {
        extensions: &["nothingSupportsThis", "nothingSupportsThisEither"],
        ..Capabilities::DEFAULT
    };
    assert_eq!(check_request(&msg, &caps), Ok(()));
    let ack = request(
        "ACK sip:bob@example.com SIP/2.0",
        "CSeq: 1 ACK\r\nRequire: foo\r\n",
        "",
    );
    assert_eq!(verdict(&ack), Ok(()));
}

#[test]
fn body_415_and_accept_406() {
    // RFC 4475 §3.3.7 invut.
    let r = request(
        "INVITE sip:b@example.com SIP/2.0",
        "CSeq: 1 INVITE\r\nContent-Type: application/unknownformat\r\n",
        "<audio> <pcmu port=\"443\"/> </audio>",
    );
    let msg = Message::parse(&r).unwrap();
    let rej = check_request(&msg, &Capabilities::DEFAULT).unwrap_err();
    assert_eq!(rej.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let mut out = [0u8; 1024];
    let n = rej
        .write_response(&msg, &Capabilities::DEFAULT, "t", &mut out)
        .unwrap();
    let resp = Message::parse(&out[..n]).unwrap();
    assert_eq!(
        resp.header(HeaderKind::Accept).unwrap().value,
        b"application/sdp, multipart/mixed"
    );
    // A body without Content-Type, or with an unknown encoding.
    assert_eq!(
        verdict(&request(
            "MESSAGE sip:b@example.com SIP/2.0",
            "CSeq: 1 MESSAGE\r\n",
            "hi"
        )),
        Err(415)
    );
    assert_eq!(
        verdict(&request(
            "INVITE sip:b@example.com SIP/2.0",
            "CSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Encoding: gzip\r\n",
            "v=0"
        )),
        Err(415)
    );
    // RFC 4475 §3.3.15 sdp01: Accept admits nothing an INVITE can be answered with.
    let r = request(
        "INVITE sip:b@example.com SIP/2.0",
        "CSeq: 1 INVITE\r\nAccept: text/nobodyKnowsThis\r\nContent-Type: application/sdp\r\n",
        "v=0",
    );
    assert_eq!(verdict(&r), Err(406));
    let r = request(
        "INVITE sip:b@example.com SIP/2.0",
        "CSeq: 1 INVITE\r\nAccept: application/*, text/html\r\nContent-Type: application/sdp\r\n",
        "v=0",
    );
    assert_eq!(verdict(&r), Ok(()));
}

#[test]
fn responses_are_discarded_not_answered() {
    let ok = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n";
    assert_eq!(check_response(&Message::parse(ok).unwrap()), Ok(()));
    // §8.1.3.3: more than one Via (RFC 4475 §3.3.10 bcast).
    let two = String::from_utf8(ok.to_vec()).unwrap().replace(
        "Via: SIP/2.0/UDP h;branch=z9hG4bK1",
        "Via: SIP/2.0/UDP h;branch=z9hG4bK1, SIP/2.0/UDP 255.255.255.255;branch=z9hG4bK2",
    );
    assert_eq!(
        check_response(&Message::parse(two.as_bytes()).unwrap()),
        Err(Discard::MultipleVias)
    );
    // RFC 4475 §3.1.2.19 bigcode and §3.1.2.4 scalarlg: dropped.
    assert_eq!(
        verdict(b"SIP/2.0 4294967301 better not break the receiver\r\nVia: SIP/2.0/UDP h\r\n\r\n"),
        Err(0)
    );
    let big = String::from_utf8(ok.to_vec())
        .unwrap()
        .replace("CSeq: 1 INVITE", "CSeq: 36893488147419103232 INVITE");
    assert_eq!(verdict(big.as_bytes()), Err(0));
    // §18.3: a response with a short body is dropped, not answered.
    let short = String::from_utf8(ok.to_vec())
        .unwrap()
        .replace("\r\n\r\n", "\r\nContent-Length: 10\r\n\r\nabc");
    assert_eq!(verdict(short.as_bytes()), Err(0));
}
