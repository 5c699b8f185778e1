//! Digest authentication (RFC 2617, RFC 7616, RFC 3261 §22) through the public API, against
//! the examples of the RFCs.

use sansip::auth::{AuthError, DigestInput, answer_challenge, authorization, verify, verify_ha1};
use sansip::message::{Challenge, Credentials, Message, Method};

fn param<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    let c = Credentials::parse(value.as_bytes()).unwrap();
    c.param(name)
}

fn input<'a>(
    username: &'a str,
    password: &'a str,
    method: Method<'a>,
    uri: &'a str,
    cnonce: &'a str,
) -> DigestInput<'a> {
    DigestInput {
        username,
        password,
        method,
        uri,
        cnonce,
        nonce_count: 1,
        body: b"",
    }
}

#[test]
fn rfc2617_example() {
    // RFC 2617 §3.5.
    let ch = Challenge::parse(
        b"Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", \
          nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
    )
    .unwrap();
    let v = authorization(
        &ch,
        &input(
            "Mufasa",
            "Circle Of Life",
            Method::Extension("GET"),
            "/dir/index.html",
            "0a4f113b",
        ),
    )
    .unwrap();
    assert_eq!(
        param(&v, "response"),
        Some("6629fae49393a05397450978507c4ef1")
    );
    assert_eq!(
        param(&v, "qop"),
        Some("auth"),
        "auth preferred over auth-int"
    );
    assert_eq!(param(&v, "nc"), Some("00000001"));
    assert_eq!(
        param(&v, "opaque"),
        Some("5ccc069c403ebaf9f0171e9517f40e41")
    );
    assert_eq!(
        param(&v, "algorithm"),
        None,
        "absent in the challenge, absent here"
    );
    // The server side agrees, and refuses a wrong password.
    let creds = Credentials::parse(v.as_bytes()).unwrap();
    assert_eq!(
        verify(&creds, Method::Extension("GET"), "Circle Of Life", b""),
        Ok(true)
    );
    assert_eq!(
        verify(&creds, Method::Extension("GET"), "Circle of Life", b""),
        Ok(false)
    );
    assert_eq!(
        verify(&creds, Method::Extension("POST"), "Circle Of Life", b""),
        Ok(false)
    );
}

#[test]
fn rfc7616_examples_md5_and_sha256() {
    // RFC 7616 §3.9.1.
    for (algorithm, want) in [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        (
            "SHA-256",
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
        ),
    ] {
        let text = format!(
            "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm={algorithm}, \
             nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", \
             opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""
        );
        let ch = Challenge::parse(text.as_bytes()).unwrap();
        let v = authorization(
            &ch,
            &input(
                "Mufasa",
                "Circle of Life",
                Method::Extension("GET"),
                "/dir/index.html",
                "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
            ),
        )
        .unwrap();
        assert_eq!(param(&v, "response"), Some(want), "{algorithm}");
        assert_eq!(param(&v, "algorithm"), Some(algorithm));
        assert_eq!(
            param(&v, "cnonce"),
            Some("f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ")
        );
        let creds = Credentials::parse(v.as_bytes()).unwrap();
        assert_eq!(
            verify(&creds, Method::Extension("GET"), "Circle of Life", b""),
            Ok(true)
        );
    }
}

#[test]
fn without_qop_sess_auth_int_and_userhash() {
    // RFC 2069 style (no qop): H(HA1:nonce:HA2), no cnonce or nc written.
    let ch = Challenge::parse(
        b"Digest realm=\"biloxi.com\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\"",
    )
    .unwrap();
    let v = authorization(
        &ch,
        &input("bob", "zanzibar", Method::Register, "sip:biloxi.com", ""),
    )
    .unwrap();
    assert_eq!(
        param(&v, "response"),
        Some("4441045a8075db3ead543693997e2a0e")
    );
    assert_eq!(
        (param(&v, "cnonce"), param(&v, "nc"), param(&v, "qop")),
        (None, None, None)
    );
    let creds = Credentials::parse(v.as_bytes()).unwrap();
    assert_eq!(verify(&creds, Method::Register, "zanzibar", b""), Ok(true));

    // MD5-sess with auth-int (only auth-int offered), second use of the nonce.
    let ch = Challenge::parse(
        b"Digest realm=\"example.com\", nonce=\"n1\", algorithm=MD5-sess, qop=\"auth-int\"",
    )
    .unwrap();
    let body = b"v=0\r\n";
    let inp = DigestInput {
        nonce_count: 2,
        body,
        ..input(
            "alice",
            "secret",
            Method::Invite,
            "sip:bob@example.com",
            "c1",
        )
    };
    let v = authorization(&ch, &inp).unwrap();
    assert_eq!(
        param(&v, "response"),
        Some("5b6805fa563abebda5b8fc5446a00c35")
    );
    assert_eq!(param(&v, "nc"), Some("00000002"));
    let creds = Credentials::parse(v.as_bytes()).unwrap();
    assert_eq!(verify(&creds, Method::Invite, "secret", body), Ok(true));
    assert_eq!(
        verify(&creds, Method::Invite, "secret", b"v=1\r\n"),
        Ok(false),
        "body covered"
    );

    // RFC 7616 §3.4.4: userhash hides the user name.
    let ch = Challenge::parse(
        b"Digest realm=\"http-auth@example.org\", nonce=\"n\", algorithm=SHA-256, qop=auth, userhash=true",
    )
    .unwrap();
    let v = authorization(
        &ch,
        &input("Mufasa", "Circle of Life", Method::Register, "sip:a", "c"),
    )
    .unwrap();
    assert_eq!(
        param(&v, "username"),
        Some("a947aad205e80e429958a387394944c6b496301e79f89d35a4cc23b6ee12b5b6")
    );
    assert_eq!(param(&v, "userhash"), Some("true"));
    let creds = Credentials::parse(v.as_bytes()).unwrap();
    assert_eq!(
        verify(&creds, Method::Register, "Circle of Life", b""),
        Err(AuthError::InvalidInput)
    );
}

#[test]
fn verify_ha1_with_a_stored_hash() {
    let ch = Challenge::parse(b"Digest realm=\"example.com\", nonce=\"abc\", qop=auth").unwrap();
    let v = authorization(
        &ch,
        &input("alice", "secret", Method::Register, "sip:example.com", "x1"),
    )
    .unwrap();
    let creds = Credentials::parse(v.as_bytes()).unwrap();
    // A stored H(username:realm:password) (md5 of "alice:example.com:secret").
    let ha1 = b"b1726872c344b6dc8365b774f8fd6412";
    assert_eq!(verify_ha1(&creds, Method::Register, ha1, b""), Ok(true));
    assert_eq!(verify(&creds, Method::Register, "secret", b""), Ok(true));
    // Another user's hash does not pass.
    let wrong = b"7c3b6b1f0cb9f4e5b4c2cf2e6c8f0f2a";
    assert_eq!(verify_ha1(&creds, Method::Register, wrong, b""), Ok(false));
}

#[test]
fn escapes_errors_and_capacity() {
    // A realm with an escaped quote: hashed unescaped, echoed as received.
    let ch = Challenge::parse(b"Digest realm=\"a\\\"b\", nonce=\"n\"").unwrap();
    let v = authorization(&ch, &input("we\"ird", "p", Method::Register, "sip:a", "")).unwrap();
    assert!(v.contains("username=\"we\\\"ird\""), "{v}");
    assert!(v.contains("realm=\"a\\\"b\""), "{v}");
    let creds = Credentials::parse(v.as_bytes()).unwrap();
    assert_eq!(verify(&creds, Method::Register, "p", b""), Ok(true));

    let err = |c: &[u8], i: DigestInput<'_>| {
        authorization(&Challenge::parse(c).unwrap(), &i).unwrap_err()
    };
    let ok_input = input("u", "p", Method::Register, "sip:a", "c");
    assert_eq!(err(b"Basic realm=\"x\"", ok_input), AuthError::NotDigest);
    assert_eq!(
        err(b"Digest nonce=\"n\"", ok_input),
        AuthError::MissingParam("realm")
    );
    assert_eq!(
        err(b"Digest realm=\"r\"", ok_input),
        AuthError::MissingParam("nonce")
    );
    assert_eq!(
        err(
            b"Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256",
            ok_input
        ),
        AuthError::UnsupportedAlgorithm
    );
    assert_eq!(
        err(b"Digest realm=\"r\", nonce=\"n\", qop=\"foo\"", ok_input),
        AuthError::UnsupportedQop
    );
    assert_eq!(
        err(
            b"Digest realm=\"r\", nonce=\"n\", qop=auth",
            input("u", "p", Method::Register, "sip:a", "")
        ),
        AuthError::InvalidInput
    );
    assert_eq!(
        err(
            b"Digest realm=\"r\", nonce=\"n\"",
            input("u\r\n", "p", Method::Register, "sip:a", "")
        ),
        AuthError::InvalidInput
    );
    let long_nonce = format!("Digest realm=\"r\", nonce=\"{}\"", "n".repeat(1000));
    assert_eq!(err(long_nonce.as_bytes(), ok_input), AuthError::Capacity);
}

#[test]
fn answer_challenge_picks_the_header() {
    let text = |hdr: &str| {
        format!(
            "SIP/2.0 407 Proxy Authentication Required\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
             From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n{hdr}Content-Length: 0\r\n\r\n"
        )
    };
    let inp = input("alice", "secret", Method::Invite, "sip:bob@h", "c1");
    let t = text(
        "Proxy-Authenticate: Basic realm=\"x\"\r\nProxy-Authenticate: Digest realm=\"h\", nonce=\"n\", qop=auth\r\n",
    );
    let m = Message::parse(t.as_bytes()).unwrap();
    let (name, value) = answer_challenge(&m, &inp).unwrap();
    assert_eq!(name, "Proxy-Authorization");
    assert!(value.starts_with("Digest username=\"alice\", realm=\"h\""));
    let t = text("");
    let m = Message::parse(t.as_bytes()).unwrap();
    assert_eq!(answer_challenge(&m, &inp), Err(AuthError::NoChallenge));
    let t = text("WWW-Authenticate: Basic realm=\"x\"\r\n");
    let m = Message::parse(t.as_bytes()).unwrap();
    assert_eq!(answer_challenge(&m, &inp), Err(AuthError::NotDigest));
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the inputs, what a UAC computes is what a server accepts, and a
        /// different password is refused.
        #[test]
        fn answer_then_verify(
            user in "[a-zA-Z0-9\"\\\\ .@-]{1,24}",
            password in "[ -~]{0,24}",
            realm in "[a-zA-Z0-9.@-]{1,24}",
            nonce in "[a-zA-Z0-9+/=]{1,40}",
            cnonce in "[a-zA-Z0-9+/]{1,24}",
            uri in "sip:[a-z0-9]{1,10}@[a-z0-9.]{1,12}",
            nc in 1u32..,
            body in proptest::collection::vec(any::<u8>(), 0..64),
            algorithm in prop::sample::select(vec!["", ", algorithm=MD5", ", algorithm=MD5-sess", ", algorithm=SHA-256", ", algorithm=SHA-256-sess"]),
            qop in prop::sample::select(vec!["", ", qop=\"auth\"", ", qop=\"auth-int\"", ", qop=\"auth,auth-int\""]),
        ) {
            let text = format!("Digest realm=\"{realm}\", nonce=\"{nonce}\"{algorithm}{qop}");
            let ch = Challenge::parse(text.as_bytes()).unwrap();
            let inp = DigestInput {
                username: &user,
                password: &password,
                method: Method::Register,
                uri: &uri,
                cnonce: &cnonce,
                nonce_count: nc,
                body: &body,
            };
            let v = authorization(&ch, &inp).unwrap();
            let creds = Credentials::parse(v.as_bytes()).unwrap();
            prop_assert_eq!(verify(&creds, Method::Register, &password, &body), Ok(true));
            let other = format!("{password}x");
            prop_assert_eq!(verify(&creds, Method::Register, &other, &body), Ok(false));
        }

        /// Arbitrary challenges and credentials: an answer or a typed error, never a panic.
        #[test]
        fn arbitrary_input_never_panics(challenge in "Digest [ -~]{0,200}", password in "[ -~]{0,10}") {
            if let Ok(ch) = Challenge::parse(challenge.as_bytes()) {
                let _ = authorization(&ch, &input("u", &password, Method::Register, "sip:a", "c"));
            }
            if let Ok(c) = Credentials::parse(challenge.as_bytes()) {
                let _ = verify(&c, Method::Register, &password, b"");
            }
        }
    }
}

#[test]
fn verify_ha1_refuses_what_is_no_digest() {
    let ch = Challenge::parse(b"Digest realm=\"r\", nonce=\"n\"").unwrap();
    let v = authorization(&ch, &input("u", "p", Method::Register, "sip:a", "")).unwrap();
    let creds = Credentials::parse(v.as_bytes()).unwrap();
    assert_eq!(
        verify_ha1(&creds, Method::Register, &[b'a'; 65], b""),
        Err(AuthError::InvalidInput)
    );
}
