//! Review of the raw-bytes SIPS/To-tag checks and of the forks' CSeq numbers kept after
//! the call: each test states the RFC-correct behaviour through the public API.

use sansip::encode::MessageBuilder;
use sansip::message::{HeaderKind, Message, StatusCode};

/// RFC 3261 §8.2.6.2: a response to a request whose To already has a tag copies that To
/// unchanged; §25.1: a generic-param value may be a quoted-string holding `>`.
#[test]
fn a_response_keeps_a_to_whose_quoted_param_holds_an_angle_bracket() {
    let req = b"BYE sip:bob@127.0.0.1:5062 SIP/2.0\r\n\
        Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-s5d-1\r\n\
        Max-Forwards: 70\r\n\
        From: <sip:alice@127.0.0.1>;tag=a\r\n\
        To: <sip:bob@127.0.0.1>;tag=b;note=\"x>y\"\r\n\
        Call-ID: s5d-1@127.0.0.1\r\n\
        CSeq: 2 BYE\r\n\
        Content-Length: 0\r\n\r\n";
    let req = Message::parse(req).unwrap();
    let b = MessageBuilder::response_to(&req, StatusCode::OK, "other").unwrap();
    let mut buf = vec![0u8; 2048];
    let n = b.encode_into(&mut buf).unwrap();
    let resp = Message::parse(&buf[..n]).unwrap();
    let to = String::from_utf8_lossy(resp.header(HeaderKind::To).unwrap().value).into_owned();
    assert_eq!(
        to, "<sip:bob@127.0.0.1>;tag=b;note=\"x>y\"",
        "a second tag added"
    );
}
