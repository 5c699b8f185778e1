//! Typed header views through the public API (RFC 3261 §20, RFC 3581, RFC 4475, RFC 5118,
//! RFC 6665, RFC 2617/7616/8760).

use core::net::{Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use sansip::ParseErrorKind;
use sansip::message::lex::CommaSeparated;
use sansip::message::{
    Algorithm, AuthScheme, CSeq, CallId, Challenge, ContentLength, ContentType, Credentials, Event,
    Expires, Host, MAGIC_COOKIE, MaxForwards, Method, RetryAfter, Rport, SubState,
    SubscriptionState, Timestamp, TokenList, TokenParamList, Transport, Via,
};

/// Parse every Via of a whole header value, as the message layer does.
fn vias(value: &[u8]) -> Vec<Result<Via<'_>, sansip::ParseError>> {
    CommaSeparated::new(value)
        .map(|r| r.and_then(|(off, v)| Via::parse(v).map_err(|e| e.shifted(off))))
        .collect()
}

fn v6(s: &str) -> Host<'static> {
    Host::Ipv6(s.parse::<Ipv6Addr>().unwrap())
}

// ---- Via: RFC 3261 §20.42, §18.2.1; RFC 3581; RFC 4475; RFC 5118 ----

#[test]
fn via_rfc3261_example() {
    // RFC 3261 §20.42
    let v =
        Via::parse(b"SIP/2.0/UDP erlang.bell-telephone.com:5060;branch=z9hG4bK87asdks7").unwrap();
    assert_eq!((v.protocol_name(), v.protocol_version()), ("SIP", "2.0"));
    assert_eq!(v.transport(), Transport::Udp);
    assert_eq!(v.sent_by().host, Host::Domain("erlang.bell-telephone.com"));
    assert_eq!(v.sent_by().port, Some(5060));
    assert_eq!(v.branch(), Some("z9hG4bK87asdks7"));
    assert!(v.is_rfc3261_branch());
    assert_eq!(v.received(), None);
    assert_eq!(v.rport(), Rport::Absent);
    let v = Via::parse(b"SIP/2.0/UDP 192.0.2.1:5060 ;received=192.0.2.207;branch=z9hG4bK77asjd")
        .unwrap();
    assert_eq!(
        v.received(),
        Some(Host::Ipv4(Ipv4Addr::new(192, 0, 2, 207)))
    );
    assert_eq!(v.sent_by().host, Host::Ipv4(Ipv4Addr::new(192, 0, 2, 1)));
}

#[test]
fn via_wsinv_lws_and_folding() {
    // RFC 4475 §3.1.1.1 wsinv: LWS around "/", folded lines, LWS around ";" and "=".
    let v = Via::parse(b"SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw").unwrap();
    assert_eq!(v.transport(), Transport::Udp);
    assert_eq!(v.branch(), Some("390skdjuw"));
    assert!(!v.is_rfc3261_branch());
    let all = vias(
        b"SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8  ,\r\n SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239",
    );
    assert_eq!(all.len(), 2);
    let a = all[0].as_ref().unwrap();
    assert_eq!(a.transport(), Transport::Tcp);
    assert_eq!(a.sent_by().host, Host::Domain("spindle.example.com"));
    assert_eq!(a.branch(), Some("z9hG4bK9ikj8"));
    let b = all[1].as_ref().unwrap();
    assert_eq!(b.transport(), Transport::Udp);
    assert_eq!(b.branch(), Some("z9hG4bK30239"));
}

#[test]
fn via_lws_around_sent_by_colon() {
    // RFC 3261 §25.1: sent-by = host [ COLON port ], COLON = SWS ":" SWS
    let v = Via::parse(b"SIP/2.0/UDP host.example.com : 5070;branch=z9hG4bK1").unwrap();
    assert_eq!(v.sent_by().port, Some(5070));
}

#[test]
fn via_transports_known_and_unknown() {
    // RFC 4475 §3.1.1.10 transports; RFC 7118 WS/WSS; case-insensitive.
    let cases: [(&[u8], Transport<'_>); 8] = [
        (
            b"SIP/2.0/UDP t1.example.com;branch=z9hG4bKkdjuw",
            Transport::Udp,
        ),
        (
            b"SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf",
            Transport::Sctp,
        ),
        (
            b"SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj",
            Transport::Tls,
        ),
        (
            b"SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en",
            Transport::Other("UNKNOWN"),
        ),
        (
            b"SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee",
            Transport::Tcp,
        ),
        (
            b"SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK56sdasks",
            Transport::Ws,
        ),
        (
            b"SIP/2.0/wss df7jal23ls0d.invalid;branch=z9hG4bK56sdasks",
            Transport::Wss,
        ),
        (b"SIP/2.0/udp a.b", Transport::Udp),
    ];
    for (value, t) in cases {
        assert_eq!(Via::parse(value).unwrap().transport(), t);
    }
    assert!(Transport::Tcp.is_reliable() && !Transport::Udp.is_reliable());
    assert_eq!(Transport::Other("UNKNOWN").as_str(), "UNKNOWN");
}

#[test]
fn via_badinv01_is_rejected() {
    // RFC 4475 §3.1.2.1: `;;,;,,` after the sent-by is syntactically invalid.
    let all = vias(b"SIP/2.0/UDP 192.0.2.15;;,;,,");
    assert!(all[0].is_err());
    assert!(all.iter().all(Result::is_err));
    assert_eq!(all[0].as_ref().unwrap_err().kind, ParseErrorKind::Via);
    assert_eq!(all[0].as_ref().unwrap_err().offset, 23);
}

#[test]
fn via_badbranch_parses() {
    // RFC 4475 §3.2.1: branch is exactly the magic cookie.
    let v = Via::parse(b"SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK").unwrap();
    assert_eq!(v.branch(), Some("z9hG4bK"));
    assert!(v.is_rfc3261_branch());
    // the cookie is case-sensitive (RFC 3261 §8.1.1.7)
    assert!(
        !Via::parse(b"SIP/2.0/UDP a;branch=Z9HG4BKx")
            .unwrap()
            .is_rfc3261_branch()
    );
}

#[test]
fn via_rfc5118_ipv6() {
    // RFC 5118 §4.1, §4.7, §4.9: IPv6 sent-by with and without port.
    let v = Via::parse(b"SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3-111").unwrap();
    assert_eq!(v.sent_by().host, v6("2001:db8::9:1"));
    assert_eq!(v.sent_by().port, None);
    let v = Via::parse(b"SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3-111").unwrap();
    assert_eq!(v.sent_by().port, Some(6050));
    let v = Via::parse(b"SIP/2.0/UDP [::ffff:192.0.2.10]:19823;branch=z9hG4bKbh19").unwrap();
    assert_eq!(v.sent_by().port, Some(19823));
    let v = Via::parse(b"SIP/2.0/TCP [2001:db8::9:255];branch=z9hG4bK451jj;received=192.0.2.200")
        .unwrap();
    assert_eq!(
        v.received(),
        Some(Host::Ipv4(Ipv4Addr::new(192, 0, 2, 200)))
    );
}

#[test]
fn via_rfc5118_received_with_and_without_brackets() {
    // RFC 5118 §4.5
    let with =
        Via::parse(b"SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255];branch=z9hG4bKas3-111")
            .unwrap();
    assert_eq!(with.received(), Some(v6("2001:db8::9:255")));
    assert_eq!(with.branch(), Some("z9hG4bKas3-111"));
    let without =
        Via::parse(b"SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;branch=z9hG4bKas3")
            .unwrap();
    assert_eq!(without.received(), Some(v6("2001:db8::9:255")));
    assert!(Via::parse(b"SIP/2.0/UDP a;received=example.com").is_err());
    assert!(Via::parse(b"SIP/2.0/UDP a;received").is_err());
}

#[test]
fn via_rport_rfc3581() {
    let v = Via::parse(b"SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bKkjshdyff").unwrap();
    assert_eq!(v.rport(), Rport::Requested);
    let v = Via::parse(
        b"SIP/2.0/UDP 10.1.1.1:4540;received=192.0.2.1;rport=9988;branch=z9hG4bKkjshdyff",
    )
    .unwrap();
    assert_eq!(v.rport(), Rport::Port(9988));
    assert!(Via::parse(b"SIP/2.0/UDP a;rport=70000").is_err());
}

#[test]
fn via_maddr_ttl_and_raw_params() {
    let v =
        Via::parse(b"SIP/2.0/UDP a.example.com;maddr=224.2.0.1;ttl=16;branch=z9hG4bK1;x;y=\"q;v\"")
            .unwrap();
    assert_eq!(v.maddr(), Some(Host::Ipv4(Ipv4Addr::new(224, 2, 0, 1))));
    assert_eq!(v.ttl(), Some(16));
    let names: Vec<_> = v.params().map(|p| p.unwrap().name).collect();
    assert_eq!(names, [&b"maddr"[..], b"ttl", b"branch", b"x", b"y"]);
    assert_eq!(v.param("Y").unwrap().value, Some(&b"\"q;v\""[..]));
    assert_eq!(
        Via::parse(b"SIP/2.0/UDP a;ttl=255").unwrap().ttl(),
        Some(255)
    );
    assert!(Via::parse(b"SIP/2.0/UDP a;ttl=256").is_err());
}

#[test]
fn via_malformed() {
    for bad in [
        &b""[..],
        b"SIP/2.0/UDP",
        b"SIP/2.0/UDP ",
        b"SIP/2.0 host",
        b"SIP/2.0/UDPhost",
        b"SIP/2.0/UDP host extra",
        b"SIP/2.0/UDP host;branch",
        b"SIP/2.0/UDP host:",
        b"SIP/2.0/UDP host:99999",
        b"SIP/2.0/UDP [::1",
        b"SIP/2.0/UDP host;a=\"open",
    ] {
        let e = Via::parse(bad).unwrap_err();
        assert!(e.offset <= bad.len(), "{bad:?} {e:?}");
    }
    assert_eq!(
        Via::parse(b"SIP/2.0/UDP host extra").unwrap_err().offset,
        17
    );
}

// ---- CSeq §20.16, Max-Forwards §20.22, Content-Length §20.14, Expires §20.19 ----

#[test]
fn cseq() {
    let c = CSeq::parse(b"4711 INVITE").unwrap();
    assert_eq!((c.seq(), c.method()), (4711, Method::Invite));
    // RFC 4475 wsinv: leading zeros and a folded line between number and method.
    let c = CSeq::parse(b"0009\r\n  INVITE").unwrap();
    assert_eq!((c.seq(), c.method()), (9, Method::Invite));
    assert_eq!(
        CSeq::parse(b"1 FOO").unwrap().method(),
        Method::Extension("FOO")
    );
    assert_eq!(CSeq::parse(b"2147483647 ACK").unwrap().seq(), (1 << 31) - 1);
    // RFC 3261 §8.1.1.5: must be < 2^31; RFC 4475 scalar02 / scalarlg: huge numbers.
    for bad in [
        &b"2147483648 INVITE"[..],
        b"36893488147419103232 REGISTER",
        b"9292394834772304023312 OPTIONS",
        b"INVITE",
        b"1",
        b"1INVITE",
        b"-1 INVITE",
        b"1 INVITE x",
        b"1 IN VITE",
    ] {
        assert_eq!(
            CSeq::parse(bad).unwrap_err().kind,
            ParseErrorKind::CSeq,
            "{bad:?}"
        );
    }
    assert_eq!(CSeq::parse(b"1 INVITE x").unwrap_err().offset, 9);
    assert_eq!(CSeq::new(1, Method::Bye).unwrap().to_string(), "1 BYE");
    assert!(CSeq::new(1 << 31, Method::Bye).is_none());
}

#[test]
fn max_forwards() {
    assert_eq!(MaxForwards::parse(b"70").unwrap().get(), 70);
    assert_eq!(MaxForwards::parse(b"0068").unwrap().get(), 68); // wsinv
    assert_eq!(MaxForwards::parse(b"0").unwrap().get(), 0);
    assert_eq!(MaxForwards::parse(b"255").unwrap().get(), 255);
    assert!(MaxForwards::parse(b"300").is_err()); // scalar02
    assert!(MaxForwards::parse(b"").is_err());
    assert!(MaxForwards::parse(b"7 0").is_err());
}

#[test]
fn content_length() {
    assert_eq!(ContentLength::parse(b"150").unwrap().get(), 150);
    assert_eq!(ContentLength::parse(b" 0 ").unwrap().get(), 0);
    // mcl01: each of the two values is fine on its own; the conflict is the message's.
    assert_eq!(ContentLength::parse(b"13").unwrap().get(), 13);
    assert_eq!(ContentLength::parse(b"5").unwrap().get(), 5);
    // RFC 4475 §3.1.2.3 ncl
    let e = ContentLength::parse(b"-999").unwrap_err();
    assert_eq!((e.kind, e.offset), (ParseErrorKind::ContentLength, 0));
    assert!(ContentLength::parse(b"five").is_err());
    assert!(ContentLength::parse(b"4294967296").is_err());
    assert!(ContentLength::parse(b"").is_err());
}

#[test]
fn expires_saturates() {
    assert_eq!(Expires::parse(b"3600").unwrap().get(), 3600);
    // RFC 4475 §3.1.2.4 scalar02: larger than 2^32-1 → saturates (documented choice).
    let big = b"10000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000";
    assert_eq!(Expires::parse(big).unwrap().get(), u32::MAX);
    assert!(Expires::parse(b"-1").is_err());
    assert!(Expires::parse(b"Thu, 01 Dec 1994 16:00:00 GMT").is_err());
}

#[test]
fn call_id() {
    assert_eq!(
        CallId::parse(b"f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com")
            .unwrap()
            .as_str(),
        "f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com"
    );
    assert_eq!(
        CallId::parse(b" wsinv.ndaksdj@192.0.2.1 ")
            .unwrap()
            .as_str(),
        "wsinv.ndaksdj@192.0.2.1"
    );
    // word characters include ()<>:\"/[]?{}
    assert!(CallId::parse(b"a<b>:c/[d]?{e}\"\\@x").is_ok());
    let long = [b'a'; 2000];
    assert_eq!(CallId::parse(&long).unwrap().as_str().len(), 2000);
    for bad in [&b""[..], b"a@b@c", b"@a", b"a@", b"a b", b"a;b"] {
        assert!(CallId::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn content_type() {
    // RFC 3261 §20.15
    let ct = ContentType::parse(b"application/sdp").unwrap();
    assert!(ct.is("application", "sdp"));
    assert_eq!((ct.media_type(), ct.subtype()), ("application", "sdp"));
    let ct = ContentType::parse(b"text/html; charset=ISO-8859-4").unwrap();
    assert!(ct.is("TEXT", "Html"));
    assert_eq!(ct.param("CHARSET").unwrap().value, Some(&b"ISO-8859-4"[..]));
    let ct = ContentType::parse(b"multipart / mixed ;boundary=\"--b,1\"").unwrap();
    assert!(ct.is("multipart", "mixed"));
    for bad in [
        &b""[..],
        b"application",
        b"application/",
        b"/sdp",
        b"application/sdp x",
        b"application/sdp;",
        b"application/sdp;a=b c",
        b"app lication/sdp",
    ] {
        assert!(ContentType::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn retry_after() {
    // RFC 3261 §20.33
    let r = RetryAfter::parse(b"18000;duration=3600").unwrap();
    assert_eq!(
        (r.seconds(), r.duration(), r.comment()),
        (18000, Some(3600), None)
    );
    let r = RetryAfter::parse(b"120 (I'm in a meeting)").unwrap();
    assert_eq!(r.comment(), Some(&b"I'm in a meeting"[..]));
    let r = RetryAfter::parse(b"5 (a (nested) \\) c) ; x=1").unwrap();
    assert_eq!(r.comment(), Some(&b"a (nested) \\) c"[..]));
    assert_eq!(r.param("x").unwrap().value, Some(&b"1"[..]));
    // RFC 4475 scalarlg: huge value saturates.
    assert_eq!(
        RetryAfter::parse(b"949302838503028349304023988")
            .unwrap()
            .seconds(),
        u32::MAX
    );
    for bad in [
        &b""[..],
        b"x",
        b"5 (open",
        b"5 x",
        b"5;duration=x",
        b"5;duration",
    ] {
        assert!(RetryAfter::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn event_rfc6665() {
    let e = Event::parse(b"dialog").unwrap();
    assert_eq!(
        (e.event_type(), e.package(), e.id()),
        ("dialog", "dialog", None)
    );
    let e = Event::parse(b"presence.winfo ; id = 1a ; other").unwrap();
    assert_eq!(e.package(), "presence");
    assert_eq!(e.templates().collect::<Vec<_>>(), ["winfo"]);
    assert_eq!(e.id(), Some("1a"));
    assert!(e.param("other").is_some());
    for bad in [
        &b""[..],
        b".a",
        b"a.",
        b"a..b",
        b"a;id",
        b"a b",
        b"a;id=\"x\"",
    ] {
        assert!(Event::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn subscription_state_rfc6665() {
    let s = SubscriptionState::parse(b"active;expires=600").unwrap();
    assert_eq!((s.state(), s.expires()), (SubState::Active, Some(600)));
    assert_eq!(
        SubscriptionState::parse(b"PENDING").unwrap().state(),
        SubState::Pending
    );
    let s = SubscriptionState::parse(b"terminated;reason=noresource").unwrap();
    assert_eq!(
        (s.state(), s.reason()),
        (SubState::Terminated, Some("noresource"))
    );
    let s = SubscriptionState::parse(b"terminated;reason=giveup;retry-after=30").unwrap();
    assert_eq!(s.retry_after(), Some(30));
    assert_eq!(
        SubscriptionState::parse(b"waiting").unwrap().state(),
        SubState::Other("waiting")
    );
    for bad in [
        &b""[..],
        b"active;expires=x",
        b"active;expires",
        b"active x",
        b";a",
    ] {
        assert!(SubscriptionState::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn token_lists() {
    // Require/Supported/Allow (RFC 3261 §20.32, §20.37, §20.5)
    let t: Vec<_> = TokenList::new(b"INVITE, ACK,OPTIONS ,\r\n CANCEL")
        .map(Result::unwrap)
        .collect();
    assert_eq!(t, ["INVITE", "ACK", "OPTIONS", "CANCEL"]);
    assert_eq!(TokenList::new(b"").count(), 0); // empty Supported
    assert_eq!(TokenList::new(b"   ").count(), 0);
    let r: Vec<_> = TokenList::new(b"a,,b").collect();
    assert!(r[1].is_err());
    let e = TokenList::new(b"ok, bad tag").nth(1).unwrap().unwrap_err();
    assert_eq!((e.kind, e.offset), (ParseErrorKind::Token, 7));
}

// ---- Authentication: RFC 3261 §20.7, §20.27, §20.44, §22.4; RFC 2617; RFC 8760 ----

#[test]
fn challenge_digest() {
    // RFC 3261 §20.44 with RFC 8760 algorithm
    let c = Challenge::parse(
        b"Digest realm=\"atlanta.com\",\r\n domain=\"sip:boxesbybob.com\", qop=\"auth\",\r\n nonce=\"f84f1cec41e6cbe5aea9c8e88d359\",\r\n opaque=\"\", stale=FALSE, algorithm=MD5",
    )
    .unwrap();
    assert_eq!(c.scheme(), AuthScheme::Digest);
    assert_eq!(c.realm(), Some("atlanta.com"));
    assert_eq!(c.domain(), Some("sip:boxesbybob.com"));
    assert_eq!(c.nonce(), Some("f84f1cec41e6cbe5aea9c8e88d359"));
    assert_eq!(c.opaque(), Some(""));
    assert_eq!(c.stale(), Some(false));
    assert_eq!(c.algorithm(), Some(Algorithm::Md5));
    assert_eq!(c.qop_options().collect::<Vec<_>>(), ["auth"]);
    assert_eq!(c.params().count(), 7);
    let c = Challenge::parse(
        b"digest realm=\"r\", qop=\"auth, auth-int\", algorithm=sha-512-256-SESS, stale=true",
    )
    .unwrap();
    assert_eq!(c.scheme(), AuthScheme::Digest);
    assert_eq!(c.qop_options().collect::<Vec<_>>(), ["auth", "auth-int"]);
    assert_eq!(c.algorithm(), Some(Algorithm::Sha512_256Sess));
    assert_eq!(c.stale(), Some(true));
    assert_eq!(
        Challenge::parse(b"Digest realm=x").unwrap().algorithm(),
        None
    );
    assert_eq!(
        Challenge::parse(b"Digest algorithm=foo")
            .unwrap()
            .algorithm(),
        Some(Algorithm::Other("foo"))
    );
}

#[test]
fn algorithms_rfc8760() {
    for (t, a) in [
        ("MD5", Algorithm::Md5),
        ("md5-sess", Algorithm::Md5Sess),
        ("SHA-256", Algorithm::Sha256),
        ("SHA-256-sess", Algorithm::Sha256Sess),
        ("SHA-512-256", Algorithm::Sha512_256),
        ("SHA-512-256-sess", Algorithm::Sha512_256Sess),
    ] {
        assert_eq!(Algorithm::from_token(t), a);
        assert!(a.as_str().eq_ignore_ascii_case(t));
    }
}

#[test]
fn challenge_quoted_escapes_kept() {
    let c = Challenge::parse(b"Digest realm=\"a\\\"b, c\", nonce=n").unwrap();
    assert_eq!(c.realm(), Some("a\\\"b, c"));
    assert_eq!(c.nonce(), Some("n"));
}

#[test]
fn credentials_digest() {
    // RFC 3261 §20.7 with RFC 2617 qop fields
    let c = Credentials::parse(
        b"Digest username=\"Alice\", realm=\"atlanta.com\",\r\n nonce=\"84a4cc6f3082121f32b42a2187831a9e\",\r\n uri=\"sip:bob@biloxi.com\", qop=auth, nc=00000001, cnonce=\"0a4f113b\",\r\n response=\"7587245234b3434cc3412213e5f113a5432\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\", algorithm=SHA-256",
    )
    .unwrap();
    assert_eq!(c.scheme(), AuthScheme::Digest);
    assert_eq!(c.username(), Some("Alice"));
    assert_eq!(c.realm(), Some("atlanta.com"));
    assert_eq!(c.nonce(), Some("84a4cc6f3082121f32b42a2187831a9e"));
    assert_eq!(c.uri(), Some("sip:bob@biloxi.com"));
    assert_eq!(c.qop(), Some("auth"));
    assert_eq!(c.nc(), Some(1));
    assert_eq!(c.cnonce(), Some("0a4f113b"));
    assert_eq!(c.response(), Some("7587245234b3434cc3412213e5f113a5432"));
    assert_eq!(c.opaque(), Some("5ccc069c403ebaf9f0171e9517f40e41"));
    assert_eq!(c.algorithm(), Some(Algorithm::Sha256));
    assert_eq!(
        Credentials::parse(b"Digest nc=FFFFFFFF").unwrap().nc(),
        Some(u32::MAX)
    );
    assert!(Credentials::parse(b"Digest nc=1").is_err());
    assert!(Credentials::parse(b"Digest nc=0000000g").is_err());
}

#[test]
fn credentials_unknown_scheme_regaut01() {
    // RFC 4475 §3.3.7 regaut01
    let c = Credentials::parse(b"NoOneKnowsThisScheme opaque-data=here").unwrap();
    assert_eq!(c.scheme(), AuthScheme::Other("NoOneKnowsThisScheme"));
    assert_eq!(c.param("opaque-data"), Some("here"));
    assert_eq!(c.username(), None);
    // RFC 7235 token68 (e.g. RFC 8898 Bearer)
    let c = Credentials::parse(b"Bearer mF_9.B5f-4.1JqM==").unwrap();
    assert_eq!(c.token68(), Some("mF_9.B5f-4.1JqM=="));
    assert_eq!(c.params().count(), 0);
}

#[test]
fn auth_malformed() {
    for bad in [
        &b""[..],
        b"Digest realm",
        b"Digest realm=",
        b"Digest realm=\"open",
        b"Digest realm=a,",
        b"Digest realm=a,,nonce=b",
        b"Digest realm=a nonce=b",
        b"Digest,realm=a",
        b"Digest=x",
        b"Digest bad token",
    ] {
        assert!(Challenge::parse(bad).is_err(), "{bad:?}");
        assert!(Credentials::parse(bad).is_err(), "{bad:?}");
    }
    assert_eq!(
        Challenge::parse(b"Digest realm=a nonce=b")
            .unwrap_err()
            .offset,
        15
    );
}

// ---- properties ----

proptest! {
    #[test]
    fn parsers_never_panic(b in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = Via::parse(&b);
        let _ = CSeq::parse(&b);
        let _ = MaxForwards::parse(&b);
        let _ = ContentLength::parse(&b);
        let _ = Expires::parse(&b);
        let _ = CallId::parse(&b);
        let _ = ContentType::parse(&b);
        let _ = RetryAfter::parse(&b);
        let _ = Event::parse(&b);
        let _ = SubscriptionState::parse(&b);
        let _ = Challenge::parse(&b);
        let _ = Credentials::parse(&b);
        let _ = TokenList::new(&b).count();
        let _ = TokenParamList::new(&b).count();
        let _ = Timestamp::parse(&b);
        let _ = vias(&b);
    }

    #[test]
    fn sip_like_input_never_panics(s in "[A-Za-z0-9 ;,=:/\\[\\]\"\\\\().@<>\r\n\t-]{0,80}") {
        let b = s.as_bytes();
        if let Ok(v) = Via::parse(b) {
            prop_assert!(v.params().all(|p| p.is_ok()));
        }
        if let Ok(c) = Challenge::parse(b) {
            prop_assert!(c.params().all(|p| p.is_ok()));
        }
        if let Ok(c) = Credentials::parse(b) {
            prop_assert!(c.params().all(|p| p.is_ok()));
        }
        let _ = CSeq::parse(b);
        let _ = RetryAfter::parse(b);
        let _ = ContentType::parse(b);
        let _ = Event::parse(b);
    }

    #[test]
    fn via_round_trip(
        transport in prop_oneof![Just("UDP".to_string()), Just("tcp".to_string()), Just("TLS".to_string()), Just("WSS".to_string()), "[A-Za-z]{1,8}"],
        host in prop_oneof![
            "[a-z][a-z0-9-]{0,10}(\\.[a-z][a-z0-9-]{0,10}){0,3}",
            any::<[u8; 4]>().prop_map(|a| Ipv4Addr::from(a).to_string()),
            any::<[u16; 8]>().prop_map(|a| format!("[{}]", Ipv6Addr::from(a))),
        ],
        port in proptest::option::of(any::<u16>()),
        branch in "[A-Za-z0-9.!%*_+`'~-]{1,30}",
        received in proptest::option::of(any::<[u8; 4]>()),
        rport in prop_oneof![Just(Rport::Absent), Just(Rport::Requested), any::<u16>().prop_map(Rport::Port)],
        ttl in proptest::option::of(any::<u8>()),
        sp in "[ \t]{0,2}",
    ) {
        let mut s = format!("SIP{sp}/{sp}2.0{sp}/{sp}{transport} {host}");
        if let Some(p) = port { s += &format!("{sp}:{sp}{p}"); }
        s += &format!("{sp};{sp}branch{sp}={sp}{branch}");
        if let Some(r) = received { s += &format!(";received={}", Ipv4Addr::from(r)); }
        match rport {
            Rport::Absent => {}
            Rport::Requested => s += ";rport",
            Rport::Port(p) => s += &format!(";rport={p}"),
        }
        if let Some(t) = ttl { s += &format!(";ttl={t}"); }
        s += &sp;
        let v = Via::parse(s.as_bytes()).unwrap();
        prop_assert_eq!(v.protocol_name(), "SIP");
        prop_assert_eq!(v.protocol_version(), "2.0");
        prop_assert!(v.transport().as_str().eq_ignore_ascii_case(&transport));
        prop_assert_eq!(v.sent_by().host.to_string(), host.clone());
        prop_assert_eq!(v.sent_by().port, port);
        prop_assert_eq!(v.branch(), Some(branch.as_str()));
        prop_assert_eq!(v.received(), received.map(|r| Host::Ipv4(Ipv4Addr::from(r))));
        prop_assert_eq!(v.rport(), rport);
        prop_assert_eq!(v.ttl(), ttl);
        // and the rebuilt canonical form parses to the same components
        let again = format!("SIP/2.0/{} {};branch={}", v.transport(), v.sent_by(), branch);
        let w = Via::parse(again.as_bytes()).unwrap();
        prop_assert_eq!(w.sent_by(), v.sent_by());
        prop_assert_eq!(w.transport(), v.transport());
    }
}

#[test]
fn via_bare_ipv6_sent_by_is_accepted_liberally() {
    // Live capture (corpus realworld/hep-ipv6): unbracketed IPv6 sent-by with a port.
    let v = Via::parse(b"SIP/2.0/UDP fe80:0:0:0:21a:a0ff:fe07:32e0:5060;branch=z9hG4bKkdjuw8495")
        .unwrap();
    assert_eq!(v.sent_by().host, v6("fe80::21a:a0ff:fe07:32e0"));
    assert_eq!(v.sent_by().port, Some(5060));
    assert_eq!(v.branch(), Some("z9hG4bKkdjuw8495"));
    // A complete address without a port stays a complete address.
    let v = Via::parse(b"SIP/2.0/UDP 2001:db8::9:1;branch=z9hG4bK1").unwrap();
    assert_eq!(
        (v.sent_by().host, v.sent_by().port),
        (v6("2001:db8::9:1"), None)
    );
    assert!(Via::parse(b"SIP/2.0/UDP a:b:c").is_err());
}

#[test]
fn token_param_lists() {
    // Accept-Encoding / Accept-Language (RFC 3261 §20.2, §20.3)
    let items: Vec<_> = TokenParamList::new(b"gzip ; q=0.5 , da, en-gb;q=0.8")
        .map(Result::unwrap)
        .map(|(t, p)| (t, p.count()))
        .collect();
    assert_eq!(items, [("gzip", 1), ("da", 0), ("en-gb", 1)]);
    let (_, mut p) = TokenParamList::new(b"a, b;q=1").nth(1).unwrap().unwrap();
    assert_eq!(p.next().unwrap().unwrap().offset, 5);
    assert_eq!(TokenParamList::new(b"").count(), 0);
    let e = TokenParamList::new(b"a, b;").nth(1).unwrap().unwrap_err();
    assert_eq!((e.kind, e.offset), (ParseErrorKind::Token, 5));
    assert!(TokenParamList::new(b"a b").next().unwrap().is_err());
}

#[test]
fn timestamp_rfc3261_20_38() {
    let t = Timestamp::parse(b" 54.21 \r\n 0.3 ").unwrap();
    assert_eq!((t.time(), t.delay()), ("54.21", Some("0.3")));
    assert_eq!(Timestamp::parse(b"54.").unwrap().time(), "54.");
    assert_eq!(Timestamp::parse(b"1 5").unwrap().delay(), Some("5"));
    // delay = *DIGIT [ "." *DIGIT ]: a lone "." is grammatical.
    assert_eq!(Timestamp::parse(b"1 .").unwrap().delay(), Some("."));
    for bad in [&b""[..], b".5", b"x", b"1 2 3", b"1.2.3", b"1x", b"1 a"] {
        assert!(Timestamp::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn magic_cookie() {
    assert_eq!(MAGIC_COOKIE, "z9hG4bK");
}
