//! Messages built from arbitrary parts: whatever the builder agrees to write parses
//! back to the same start line, headers and body (`parse(write(m)) == m`).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sansip::encode::{MessageBuilder, Value};
use sansip::message::{Message, Method, StatusCode};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    request: bool,
    method: &'a str,
    uri: &'a str,
    code: u16,
    headers: Vec<(&'a str, &'a str)>,
    body: &'a [u8],
}

fuzz_target!(|input: Input<'_>| {
    let Some(method) = Method::from_token(input.method) else { return };
    let mut b = if input.request {
        MessageBuilder::request(method, input.uri)
    } else {
        let Some(code) = StatusCode::new(input.code) else { return };
        MessageBuilder::response(code)
    };
    for (name, value) in &input.headers {
        b.push(name, Value::Text(value));
    }
    b = b.body("application/octet-stream", input.body);
    let mut buf = vec![0u8; 70_000];
    let Ok(n) = b.encode_into(&mut buf) else { return };
    // The builder refuses what would not parse: anything it wrote must parse.
    let m = Message::parse(&buf[..n]).expect("the crate's own output parses");
    if input.request {
        assert_eq!(m.method(), Some(method));
        assert_eq!(m.request_uri_raw(), Some(input.uri.as_bytes()));
    }
    assert_eq!(m.body(), input.body);
    for (h, (name, value)) in m.headers().zip(b.headers()) {
        assert_eq!(h.name, *name);
        if let Value::Text(v) = value {
            assert_eq!(h.value, v.trim_matches([' ', '\t', '\r', '\n']).as_bytes());
        }
    }
});
