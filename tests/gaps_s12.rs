//! Session 12 gaps closed through the public API: a request's From and To are checked
//! when the host gives them (RFC 3261 §8.1.1.2, §8.1.1.3, §20.10, §25.1).
mod scripted_support;
use sansip::Instant;
use sansip::endpoint::{Request, SendError, Transport};
use sansip::message::{HeaderKind, Method};
use scripted_support::*;

const ALICE: &str = "<sip:alice@127.0.0.1>";
const BOB: &str = "<sip:bob@127.0.0.1>";

/// A From or To that is no name-addr or addr-spec (`alice`, a URI without its scheme,
/// an unclosed `<`) is refused with the header it is in, before anything is sent or
/// kept: sent as given, the peer would answer 400.
#[test]
fn a_from_or_to_that_is_no_address_is_refused() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    for bad in [
        "alice",
        "alice@127.0.0.1",
        "<sip:alice@127.0.0.1",
        "",
        "\"Al\" ",
    ] {
        for (from, to, header) in [(bad, BOB, HeaderKind::From), (ALICE, bad, HeaderKind::To)] {
            let options = Request::new(Method::Options, CALLEE, from, to);
            assert_eq!(
                ep.send_request(now, addr(PEER), &options).map(|_| ()),
                Err(SendError::InvalidAddress { header }),
                "{bad:?} as {header:?}"
            );
            let invite = Request::new(Method::Invite, CALLEE, from, to);
            assert_eq!(
                ep.invite(now, addr(PEER), &invite).map(|_| ()),
                Err(SendError::InvalidAddress { header }),
                "{bad:?} as {header:?}"
            );
        }
    }
    assert!(sent(&mut ep).is_empty());
    assert_eq!((ep.transaction_count(), ep.call_count()), (0, 0));
}

/// §8.1.1.3: the endpoint writes the From tag (the host's own goes in `from_tag`), so a
/// From that carries one is refused rather than sent with two; §8.1.1.2: a request
/// outside a dialog has no To tag, so one is refused unless the host also gives the
/// Call-ID of the dialog it continues.
#[test]
fn tags_in_from_and_to_are_refused_where_they_would_be_wrong() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let tagged_from = Request::new(Method::Options, CALLEE, "<sip:alice@x>;tag=1", BOB);
    assert_eq!(
        ep.send_request(now, addr(PEER), &tagged_from).map(|_| ()),
        Err(SendError::InvalidAddress {
            header: HeaderKind::From
        })
    );
    let tagged_to = Request::new(Method::Options, CALLEE, ALICE, "<sip:bob@x>;tag=2");
    assert_eq!(
        ep.send_request(now, addr(PEER), &tagged_to).map(|_| ()),
        Err(SendError::InvalidAddress {
            header: HeaderKind::To
        })
    );
    assert!(sent(&mut ep).is_empty());
    // With the dialog's Call-ID (a host continuing a dialog of its own), the To tag goes
    // out as given, and the host's From tag through `from_tag`.
    let within = Request {
        call_id: Some("c-s12@127.0.0.1"),
        from_tag: Some("1"),
        ..Request::new(Method::Options, CALLEE, ALICE, "<sip:bob@x>;tag=2")
    };
    ep.send_request(now, addr(PEER), &within).unwrap();
    let out = sent(&mut ep);
    assert_eq!(out.len(), 1);
    let m = parse(&out[0].1);
    assert_eq!(m.to().unwrap().tag(), Some("2"));
    assert_eq!(m.from().unwrap().tag(), Some("1"));
    // Plain addresses, bare addr-specs and display names go out as given.
    for (from, to) in [
        (ALICE, BOB),
        ("sip:alice@127.0.0.1", "sip:bob@127.0.0.1"),
        ("\"Alice\" <sip:alice@127.0.0.1>", "Bob <sip:bob@127.0.0.1>"),
        ("<tel:+15550100>", "<sips:bob@example.com>"),
    ] {
        let options = Request::new(Method::Options, CALLEE, from, to);
        ep.send_request(now, addr(PEER), &options).unwrap();
        let out = sent(&mut ep);
        let m = parse(&out[0].1);
        assert!(m.from().unwrap().tag().is_some(), "{from}");
        assert_eq!(m.to().unwrap().tag(), None, "{to}");
    }
}
