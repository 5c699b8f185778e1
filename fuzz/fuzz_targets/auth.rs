//! Digest authentication on arbitrary challenges and credentials: never a panic, and any
//! answer this crate computes is one its own check accepts (RFC 2617 §3.2.2).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sansip::auth::{DigestInput, authorization, verify};
use sansip::message::{Challenge, Credentials, Method};

fuzz_target!(|data: &[u8]| {
    // First byte: where the challenge ends; the rest: challenge, then password.
    let Some((&cut, rest)) = data.split_first() else { return };
    let cut = usize::from(cut).min(rest.len());
    let (challenge, password) = rest.split_at(cut);
    let password = String::from_utf8_lossy(password);
    if let Ok(c) = Credentials::parse(challenge) {
        let _ = verify(&c, Method::Register, &password, b"body");
    }
    let Ok(ch) = Challenge::parse(challenge) else { return };
    let input = DigestInput {
        username: "alice",
        password: &password,
        method: Method::Register,
        uri: "sip:example.com",
        cnonce: "0a4f113b",
        nonce_count: 1,
        body: b"body",
    };
    // With userhash the username is a hash only a user table maps back (verify refuses).
    let userhash = ch.userhash() == Some(true);
    if let Ok(value) = authorization(&ch, &input)
        && !userhash
    {
        let creds = Credentials::parse(value.as_bytes()).expect("our credentials parse");
        assert_eq!(
            verify(&creds, Method::Register, &password, b"body"),
            Ok(true),
            "{value}"
        );
    }
});
