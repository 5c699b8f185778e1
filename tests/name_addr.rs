//! name-addr / addr-spec values through the public API.

use sansip::ParseErrorKind;
use sansip::message::lex::CommaSeparated;
use sansip::message::{ContactValue, DisplayName, Host, NameAddr, Qvalue, Uri};

fn na(s: &[u8]) -> NameAddr<'_> {
    NameAddr::parse(s).unwrap_or_else(|e| panic!("{}: {e}", String::from_utf8_lossy(s)))
}

#[test]
fn forms() {
    let v = na(b"\"Bob \\\"B\\\" Smith\" <sip:bob@biloxi.com>;tag=a6c85cf");
    assert_eq!(
        v.display_name(),
        Some(DisplayName::Quoted("Bob \\\"B\\\" Smith"))
    );
    assert!(
        v.display_name()
            .unwrap()
            .unescaped()
            .eq(b"Bob \"B\" Smith".iter().copied())
    );
    assert!(v.is_name_addr());
    assert_eq!(v.tag(), Some("a6c85cf"));
    assert_eq!(v.uri().as_sip().unwrap().user(), Some("bob"));

    let v = na(b"Bob  Smith <sip:bob@biloxi.com>");
    assert_eq!(v.display_name(), Some(DisplayName::Tokens("Bob  Smith")));
    assert!(!v.display_name().unwrap().is_quoted());
    assert_eq!(v.params().count(), 0);

    let v = na(b"<sip:bob@biloxi.com>");
    assert_eq!(v.display_name(), None);

    let v = na(b"  sip:bob@biloxi.com ; tag = 1928301774 ;X=\"a;b\" ");
    assert!(!v.is_name_addr());
    assert_eq!(v.uri().as_str(), "sip:bob@biloxi.com");
    assert_eq!(v.tag(), Some("1928301774"));
    assert_eq!(v.param("x"), Some(Some(&b"\"a;b\""[..])));
    assert_eq!(
        v.as_bytes(),
        b"sip:bob@biloxi.com ; tag = 1928301774 ;X=\"a;b\""
    );
    let p = v.params().next().unwrap().unwrap();
    assert_eq!(p.offset, 23);

    let v = na(b"<sip:a@b.c>;expires=3600;q=0.5;+sip.instance=\"<urn:uuid:1>\"");
    assert_eq!(v.expires(), Some(3600));
    assert_eq!(v.q(), Some(Qvalue(500)));
    let v = na(b"<sip:a@b.c>;expires=99999999999");
    assert_eq!(v.expires(), Some(u32::MAX));

    // Route with lr inside the brackets (URI parameter).
    let v = na(b"<sip:p1.example.com;lr>");
    assert!(v.uri().as_sip().unwrap().lr());
    let v = na(b"\"T. desk phone\" <sip:ted@[::ffff:192.0.2.2]>");
    assert!(matches!(v.uri().as_sip().unwrap().host(), Host::Ipv6(_)));
    let v = na(b"tel:+1-201-555-0123;tag=x");
    assert!(matches!(v.uri(), Uri::Tel(_)));
    assert_eq!(v.tag(), Some("x"));
}

#[test]
fn qvalues() {
    for (s, q) in [
        (&b"0"[..], Some(0)),
        (b"1", Some(1000)),
        (b"1.000", Some(1000)),
        (b"0.", Some(0)),
        (b"0.7", Some(700)),
        (b"0.25", Some(250)),
        (b"0.001", Some(1)),
        (b"1.001", None),
        (b"0.1234", None),
        (b"2", None),
        (b"", None),
        (b".5", None),
    ] {
        assert_eq!(
            Qvalue::parse(s).map(|q| q.0),
            q,
            "{}",
            String::from_utf8_lossy(s)
        );
    }
}

#[test]
fn rfc4475_valid() {
    // lwsdisp (§3.1.1.6): no LWS between the display name and '<'.
    let v = na(b"caller<sip:caller@example.com>;tag=323");
    assert_eq!(v.display_name(), Some(DisplayName::Tokens("caller")));
    assert_eq!(v.tag(), Some("323"));
    let v = na(b"\"caller\"<sip:caller@example.com>");
    assert_eq!(v.display_name(), Some(DisplayName::Quoted("caller")));
    // cparam01 (§3.3.12): after a bare addr-spec, the parameter is a header parameter.
    let v = na(b"sip:+19725552222@gw1.example.net;unknownparam");
    assert_eq!(v.param("unknownparam"), Some(None));
    assert_eq!(v.uri().as_sip().unwrap().param("unknownparam"), None);
    // cparam02 (§3.3.13): inside the brackets it is a URI parameter.
    let v = na(b"<sip:+19725552222@gw1.example.net;unknownparam>");
    assert_eq!(v.param("unknownparam"), None);
    assert_eq!(v.uri().as_sip().unwrap().param("unknownparam"), Some(None));
    // esc01 (§3.1.1.3)
    let v = na(b"<sip:I%20have%20spaces@example.net>;tag=938");
    assert_eq!(v.uri().as_sip().unwrap().user(), Some("I%20have%20spaces"));
    let v = na(b"sip:%75se%72@example.com");
    assert_eq!(v.uri().as_sip().unwrap().user(), Some("%75se%72"));
    let v = na(b"\r\n  <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>");
    assert!(v.uri().as_sip().unwrap().lr());
    // escnull (§3.1.1.4): two distinct bindings.
    let a = na(b"<sip:%00@host5.example.com>");
    let b = na(b"<sip:%00%00@host5.example.com>");
    assert!(!a.uri().equivalent(b.uri()));
    assert_eq!(
        na(b"sip:null-%00-null@example.com;tag=839923423").tag(),
        Some("839923423")
    );
    // unksm2 (§3.3.4)
    assert_eq!(na(b"isbn:2983792873").uri().scheme(), "isbn");
    assert_eq!(
        na(b"<http://www.example.com>;tag=3234233").uri().scheme(),
        "http"
    );
    assert_eq!(na(b"<name:John_Smith>").uri().scheme(), "name");
    // regescrt (§3.3.14)
    let v = na(b"<sip:user@example.com?Route=%3Csip:sip.example.com%3E>");
    assert_eq!(v.uri().as_sip().unwrap().headers().count(), 1);
    // intmeth (§3.1.1.2): quoted-pair NUL, BEL and DEL in the display name.
    let v = na(b"\"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f\" <sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>");
    let d = v.display_name().unwrap();
    assert_eq!(d.as_str(), "BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f");
    assert!(
        d.unescaped()
            .eq(b"BEL:\x07 NUL:\x00 DEL:\x7f".iter().copied())
    );
    assert_eq!(
        v.uri().as_sip().unwrap().user(),
        Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
    );
    // UTF-8 in a quoted display name.
    assert_eq!(
        na("\"Jürgen\" <sip:j@x.de>".as_bytes()).display_name(),
        Some(DisplayName::Quoted("Jürgen"))
    );
    // RFC 5118 Contact values.
    for s in [
        &b"\"Caller\" <sip:caller@[2001:db8::1]>"[..],
        b"\"Caller\" <sip:caller@[2001:db8::9:1]>",
        b"<sip:[2001:db8::10]:5070>;expires=60",
    ] {
        assert!(matches!(
            na(s).uri().as_sip().unwrap().host(),
            Host::Ipv6(_)
        ));
    }
}

#[test]
fn rfc4475_invalid() {
    // badaspec (§3.1.2.14): LWS inside the brackets.
    let e = NameAddr::parse(b"\"Watson, Thomas\" < sip:t.watson@example.org >").unwrap_err();
    assert_eq!((e.kind, e.offset), (ParseErrorKind::Uri, 18));
    // baddn (§3.1.2.15): unquoted display names with non-token characters. The caller
    // splits at the comma, and the first element is not an address.
    let v = b"Bell, Alexander <sip:a.g.bell@example.com>;tag=43";
    let first = CommaSeparated::new(v).next().unwrap().unwrap();
    assert_eq!(first, (0, &b"Bell"[..]));
    assert!(NameAddr::parse(first.1).is_err());
    assert!(NameAddr::parse(v).is_err());
    assert!(NameAddr::parse(b"Watson, Thomas <sip:t.watson@example.org>").is_err());
    assert!(NameAddr::parse(b"J. @User <sip:j@x.com>").is_err());
    // quotbal (§3.1.2.6): unterminated quoted string.
    let e = NameAddr::parse(b"\"Mr. J. User <sip:j.user@example.com>").unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::QuotedString);
    assert!(
        CommaSeparated::new(b"\"Mr. J. User <sip:j.user@example.com>")
            .next()
            .unwrap()
            .is_err()
    );
    // regbadct (§3.1.2.13): an escaped URI header needs the name-addr form.
    let e = NameAddr::parse(b"sip:user@example.com?Route=%3Csip:sip.example.com%3E").unwrap_err();
    assert_eq!((e.kind, e.offset), (ParseErrorKind::NameAddr, 20));
    // badinv01 (§3.1.2.1): empty parameters after a Contact.
    let e = NameAddr::parse(b"\"Joe\" <sip:joe@example.org>;;;;").unwrap_err();
    assert_eq!((e.kind, e.offset), (ParseErrorKind::NameAddr, 28));
    // ltgtruri: fine as a name-addr, but never as a Request-URI (see tests/uri.rs).
    assert!(NameAddr::parse(b"<sip:user@example.com>").is_ok());
}

#[test]
fn rejects() {
    for (bad, at) in [
        (&b""[..], 0),
        (b"   ", 3),
        (b"<sip:a@b.c", 0),
        (b"<sip:a@b.c> x", 12),
        (b"<sip:a@b.c>;", 12),
        (b"<sip:a@b.c>;tag", 12),
        (b"<sip:a@b.c>;tag=\"q\"", 12),
        (b"<sip:a@b.c>;expires=x", 12),
        (b"<sip:a@b.c>;q=2", 12),
        (b"\"a\" sip:a@b.c", 4),
        (b"sip:a@b.c?x=y", 9),
        (b"sip:a@b.c x", 10),
        (b"sip:a@b.c>", 9),
        (b"<>", 1),
        (b"\"a\x01\" <sip:a@b.c>", 2),
        (b"\"a\x7f\" <sip:a@b.c>", 2),
    ] {
        let e = NameAddr::parse(bad).unwrap_err();
        assert_eq!(e.offset, at, "{}: {e}", String::from_utf8_lossy(bad));
    }
    assert!(NameAddr::parse(b"\"a\xff\" <sip:a@b.c>").is_err());
}

#[test]
fn contact() {
    assert_eq!(ContactValue::parse(b"*").unwrap(), ContactValue::Star);
    assert_eq!(ContactValue::parse(b" *\t").unwrap(), ContactValue::Star);
    assert!(ContactValue::parse(b"**").is_err());
    let all: Vec<_> = CommaSeparated::new(
        b"\"Mr. Watson\" <sip:watson@worcester.bell-telephone.com>;q=0.7; expires=3600, \"Mr. Watson\" <mailto:watson@bell-telephone.com> ;q=0.1",
    )
    .map(|r| {
        let (_, v) = r.unwrap();
        match ContactValue::parse(v).unwrap() {
            ContactValue::Addr(a) => (a.uri().scheme(), a.q(), a.expires()),
            ContactValue::Star => unreachable!(),
        }
    })
    .collect();
    assert_eq!(
        all,
        [
            ("sip", Some(Qvalue(700)), Some(3600)),
            ("mailto", Some(Qvalue(100)), None)
        ]
    );
}

mod props {
    use proptest::prelude::*;
    use sansip::message::NameAddr;

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(v) = NameAddr::parse(&bytes) {
                let _ = (v.tag(), v.q(), v.expires(), v.display_name().map(|d| d.unescaped().count()));
                prop_assert!(v.params().all(|p| p.is_ok()));
            }
        }

        #[test]
        fn parse_never_panics_addr_like(s in "[\" a-z<>:@;=,?\\\\.\"]{0,40}") {
            if let Ok(v) = NameAddr::parse(s.as_bytes()) {
                prop_assert!(v.params().all(|p| p.is_ok()));
            }
        }

        #[test]
        fn generated_round_trip(
            name in proptest::option::of("[a-zA-Z0-9 ]{0,10}"),
            user in "[a-z]{1,8}", host in "[a-z]{1,8}\\.com", tag in "[a-zA-Z0-9-]{1,10}",
        ) {
            let s = match &name {
                Some(n) => format!("\"{n}\" <sip:{user}@{host}>;tag={tag}"),
                None => format!("sip:{user}@{host};tag={tag}"),
            };
            let v = NameAddr::parse(s.as_bytes()).unwrap();
            prop_assert_eq!(v.display_name().map(|d| d.as_str()), name.as_deref());
            prop_assert_eq!(v.uri().as_sip().unwrap().user(), Some(user.as_str()));
            prop_assert_eq!(v.tag(), Some(tag.as_str()));
        }
    }
}
