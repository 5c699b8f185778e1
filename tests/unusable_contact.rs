//! A caller whose 2xx carries no usable Contact (none, a malformed one, or one longer than
//! a dialog keeps). RFC 3261 §13.3.1.4 requires one, but §13.2.2.4 has every 2xx ACKed
//! and the call can only be ended with a BYE: the endpoint targets the INVITE's
//! Request-URI instead, where the INVITE itself went.

mod scripted_support;

use sansip::Instant;
use sansip::encode::{MessageBuilder, Value};
use sansip::endpoint::{Event, Transport};
use sansip::message::Method;
use scripted_support::*;

const RURI: &str = CALLEE;

/// The callee's `code` to `invite`, To tag `tag`, with `contact` if any.
fn answer(invite: &[u8], code: u16, tag: &str, contact: Option<&str>) -> Vec<u8> {
    let contact: Vec<(&str, &str)> = contact.map(|c| ("Contact", c)).into_iter().collect();
    response_to(
        invite,
        code,
        tag,
        &contact,
        (code >= 200).then_some(b"v=0\r\n"),
    )
}

fn request_uri(bytes: &[u8]) -> String {
    String::from_utf8(parse(bytes).request_uri_raw().unwrap().to_vec()).unwrap()
}

/// The call placed, answered 2xx with `contact` (after a 180 with `early_contact` when
/// given): the ACK's and then the BYE's Request-URIs.
fn ack_and_bye_targets(
    early_contact: Option<Option<&str>>,
    contact: Option<&str>,
) -> (String, String) {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (call, invite) = place_call(&mut ep, now, true);
    if let Some(early) = early_contact {
        feed(&mut ep, now, &answer(&invite, 180, "b1", early));
    }
    feed(&mut ep, now, &answer(&invite, 200, "b1", contact));
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["ACK"], "{contact:?}");
    let ack = request_uri(&out[0].1);
    assert!(
        events(&mut ep).contains(&Event::CallEstablished { call }),
        "{contact:?}"
    );
    ep.hangup(now, call).unwrap();
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["BYE"], "{contact:?}");
    assert_eq!(out[0].0, addr(PEER));
    (ack, request_uri(&out[0].1))
}

#[test]
fn a_2xx_without_a_usable_contact_is_acked_and_byed_at_the_request_uri() {
    let long = format!("<sip:{}@127.0.0.1:5070>", "b".repeat(300));
    for contact in [
        None,
        Some("<sip:bob@127.0.0.1:5070;x=\"unterminated>"),
        Some(long.as_str()),
    ] {
        let (ack, bye) = ack_and_bye_targets(None, contact);
        assert_eq!(ack, RURI, "{contact:?}");
        assert_eq!(bye, RURI, "{contact:?}");
    }
    // A usable Contact is the target, as always.
    let (ack, bye) = ack_and_bye_targets(None, Some("<sip:bob@127.0.0.1:5070;ob>"));
    assert_eq!(
        (ack.as_str(), bye.as_str()),
        ("sip:bob@127.0.0.1:5070;ob", "sip:bob@127.0.0.1:5070;ob")
    );
}

/// An early dialog (the 180 had a Contact) confirmed by a 2xx without one keeps the
/// 180's Contact as its target; without either, the Request-URI is the target.
#[test]
fn a_2xx_without_contact_confirms_the_early_dialog_with_its_target() {
    let (ack, bye) = ack_and_bye_targets(Some(Some("<sip:bob@127.0.0.1:5070;early>")), None);
    assert_eq!(ack, "sip:bob@127.0.0.1:5070;early");
    assert_eq!(bye, "sip:bob@127.0.0.1:5070;early");
    let (ack, bye) = ack_and_bye_targets(Some(None), None);
    assert_eq!((ack.as_str(), bye.as_str()), (RURI, RURI));
}

/// The callee's side: an INVITE without a usable Contact (none, `*`, or a malformed one)
/// is the caller's error (§8.1.1.8: a dialog-creating request carries one): 400, no call,
/// and no capacity event for the host, as a Call-ID too long to keep gets.
#[test]
fn an_invite_without_a_usable_contact_gets_400() {
    for contact in [
        None,
        Some("*"),
        Some("<sip:alice@127.0.0.1;x=\"unterminated>"),
    ] {
        let mut ep = endpoint(Transport::Udp);
        let mut b = MessageBuilder::request(Method::Invite, "sip:bob@127.0.0.1:5062")
            .header(
                "Via",
                Value::Text("SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKnc1"),
            )
            .header("Max-Forwards", Value::Number(70))
            .header("From", Value::Text("<sip:alice@127.0.0.1>;tag=a1"))
            .header("To", Value::Text("<sip:bob@127.0.0.1>"))
            .header("Call-ID", Value::Text("no-contact@127.0.0.1"))
            .header("CSeq", Value::CSeq(1, Method::Invite));
        if let Some(c) = contact {
            b.push("Contact", Value::Text(c));
        }
        let mut buf = vec![0u8; 2048];
        let n = b.encode_into(&mut buf).unwrap();
        feed(&mut ep, Instant::ZERO, &buf[..n]);
        let out = sent(&mut ep);
        assert_eq!(statuses(&out), [(400, "INVITE".to_owned())], "{contact:?}");
        let evs = events(&mut ep);
        assert!(
            !evs.iter()
                .any(|e| matches!(e, Event::IncomingRequest { .. } | Event::Capacity(_))),
            "{contact:?}: {evs:?}"
        );
        assert_eq!(ep.call_count(), 0);
    }
}
