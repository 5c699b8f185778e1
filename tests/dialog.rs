//! Dialog layer and INVITE session (RFC 3261 §12–15), driven with messages made by the
//! crate's builders and parsed back.

use sansip::Capacity;
use sansip::dialog::{
    Action, Config, Dialog, DialogError, DialogState, EndReason, Event, InviteSession, MAX_CALL_ID,
    MAX_ROUTE_BYTES, MAX_TAG, MAX_URI, Notice, Reject, RequestKind, ResponseEffect, Role, Sdp,
    SessionState, SessionTimer, Tag,
};
use sansip::encode::{MessageBuilder, Value, ViaValue};
use sansip::message::{Message, Method, StatusCode};
use std::time::Duration;

fn via(branch: &str) -> ViaValue<'_> {
    ViaValue {
        transport: "UDP",
        sent_by: "192.0.2.1:5060",
        branch,
        rport: false,
    }
}

fn encode(b: &MessageBuilder<'_>) -> Vec<u8> {
    let mut buf = vec![0u8; 2048];
    let n = b.encode_into(&mut buf).expect("encode");
    buf.truncate(n);
    buf
}

/// An INVITE from alice (tag a1) to `ruri`, with extra headers.
fn invite(ruri: &str, extra: &[(&str, &str)]) -> Vec<u8> {
    let mut b = MessageBuilder::request(Method::Invite, ruri)
        .header("Via", Value::Via(via("z9hG4bKinv")))
        .header("Max-Forwards", Value::Number(70))
        .header(
            "From",
            Value::Tagged(b"\"Alice\" <sip:alice@atlanta.example.com>", "a1"),
        )
        .header("To", Value::Text("<sip:bob@biloxi.example.com>"))
        .header("Call-ID", Value::Text("call-1@192.0.2.1"))
        .header("CSeq", Value::CSeq(7, Method::Invite))
        .header("Contact", Value::Text("<sip:alice@192.0.2.1>"));
    for (n, v) in extra {
        b.push(n, Value::Text(v));
    }
    encode(&b)
}

/// The response to `req` with To tag `tag` and extra headers.
fn response(req: &[u8], code: u16, tag: &str, extra: &[(&str, &str)]) -> Vec<u8> {
    let req = Message::parse(req).unwrap();
    let mut b = MessageBuilder::response_to(&req, StatusCode::new(code).unwrap(), tag).unwrap();
    for (n, v) in extra {
        b.push(n, Value::Text(v));
    }
    encode(&b)
}

const RR: &[(&str, &str)] = &[
    ("Record-Route", "<sip:p1.example.com;lr>"),
    (
        "Record-Route",
        "<sip:p2.example.com;lr>, <sip:p3.example.com;lr>",
    ),
    ("Contact", "<sip:bob@192.0.2.4;transport=udp>"),
];

fn uac_dialog(code: u16, extra: &[(&str, &str)]) -> Dialog {
    let inv = invite("sip:bob@biloxi.example.com", &[]);
    let resp = response(&inv, code, "b1", extra);
    Dialog::uac(
        &Message::parse(&inv).unwrap(),
        &Message::parse(&resp).unwrap(),
        false,
    )
    .unwrap()
}

// ---- §12.1.2 UAC creation --------------------------------------------------------------

#[test]
fn uac_dialog_from_2xx() {
    let d = uac_dialog(200, RR);
    assert_eq!(d.state(), DialogState::Confirmed);
    assert_eq!(d.id().call_id(), "call-1@192.0.2.1");
    assert_eq!(d.id().local_tag(), "a1");
    assert_eq!(d.id().remote_tag(), "b1");
    assert_eq!(d.local_seq(), 7);
    assert_eq!(d.remote_seq(), None);
    assert_eq!(d.local_uri(), "sip:alice@atlanta.example.com");
    assert_eq!(d.remote_uri(), "sip:bob@biloxi.example.com");
    assert_eq!(d.remote_target(), "sip:bob@192.0.2.4;transport=udp");
    // Record-Route reversed.
    let routes: Vec<&str> = d.route_set().collect();
    assert_eq!(
        routes,
        [
            "sip:p3.example.com;lr",
            "sip:p2.example.com;lr",
            "sip:p1.example.com;lr"
        ]
    );
    assert!(!d.is_secure());
}

#[test]
fn uac_creation_table() {
    // (code, To tag, result state or error)
    let cases: &[(u16, &str, Result<DialogState, DialogError>)] = &[
        (180, "b1", Ok(DialogState::Early)),
        (183, "b1", Ok(DialogState::Early)),
        (200, "b1", Ok(DialogState::Confirmed)),
        (202, "b1", Ok(DialogState::Confirmed)),
        (100, "", Err(DialogError::NotDialogCreating)),
        (486, "b1", Err(DialogError::NotDialogCreating)),
        (302, "b1", Err(DialogError::NotDialogCreating)),
    ];
    let inv = invite("sip:bob@biloxi.example.com", &[]);
    for (code, tag, want) in cases {
        let resp = response(&inv, *code, tag, &[("Contact", "<sip:bob@192.0.2.4>")]);
        let got = Dialog::uac(
            &Message::parse(&inv).unwrap(),
            &Message::parse(&resp).unwrap(),
            false,
        )
        .map(|d| d.state());
        assert_eq!(&got, want, "code {code}");
    }
    // A 180 without a To tag creates nothing (response_to adds no tag to a 100 only, so
    // strip it by hand).
    let resp = String::from_utf8(response(&inv, 180, "b1", &[]))
        .unwrap()
        .replace(";tag=b1", "");
    let r = Dialog::uac(
        &Message::parse(&inv).unwrap(),
        &Message::parse(resp.as_bytes()).unwrap(),
        false,
    );
    assert_eq!(r, Err(DialogError::NotDialogCreating));
    // A 2xx without Contact.
    let resp = response(&inv, 200, "b1", &[]);
    let r = Dialog::uac(
        &Message::parse(&inv).unwrap(),
        &Message::parse(&resp).unwrap(),
        false,
    );
    assert_eq!(r, Err(DialogError::MissingContact));
}

#[test]
fn secure_flag() {
    for (ruri, tls, secure) in [
        ("sips:bob@biloxi.example.com", true, true),
        ("sips:bob@biloxi.example.com", false, false),
        ("sip:bob@biloxi.example.com", true, false),
    ] {
        let inv = invite(ruri, &[]);
        let resp = response(&inv, 200, "b1", &[("Contact", "<sips:bob@192.0.2.4>")]);
        let d = Dialog::uac(
            &Message::parse(&inv).unwrap(),
            &Message::parse(&resp).unwrap(),
            tls,
        )
        .unwrap();
        assert_eq!(d.is_secure(), secure, "{ruri} tls={tls}");
        let d = Dialog::uas(&Message::parse(&inv).unwrap(), "b1", tls).unwrap();
        assert_eq!(d.is_secure(), secure, "uas {ruri} tls={tls}");
    }
}

#[test]
fn capacity_errors() {
    let long = "x".repeat(MAX_CALL_ID + 1);
    let inv = invite("sip:bob@biloxi.example.com", &[]);
    let inv_s = String::from_utf8(inv.clone())
        .unwrap()
        .replace("call-1@192.0.2.1", &long);
    let resp = response(inv_s.as_bytes(), 200, "b1", &[("Contact", "<sip:b@h>")]);
    let r = Dialog::uac(
        &Message::parse(inv_s.as_bytes()).unwrap(),
        &Message::parse(&resp).unwrap(),
        false,
    );
    assert_eq!(r, Err(DialogError::Capacity(Capacity::String)));

    let big_contact = format!("<sip:{}@h>", "u".repeat(MAX_URI));
    let resp = response(&inv, 200, "b1", &[("Contact", &big_contact)]);
    let r = Dialog::uac(
        &Message::parse(&inv).unwrap(),
        &Message::parse(&resp).unwrap(),
        false,
    );
    assert_eq!(r, Err(DialogError::Capacity(Capacity::String)));

    let rr = (0..9)
        .map(|i| format!("<sip:p{i}.example.com;lr>"))
        .collect::<Vec<_>>()
        .join(", ");
    let resp = response(
        &inv,
        200,
        "b1",
        &[("Record-Route", &rr), ("Contact", "<sip:b@h>")],
    );
    let r = Dialog::uac(
        &Message::parse(&inv).unwrap(),
        &Message::parse(&resp).unwrap(),
        false,
    );
    assert_eq!(r, Err(DialogError::Capacity(Capacity::RouteSet)));
    let inv_rr = invite("sip:bob@biloxi.example.com", &[("Record-Route", &rr)]);
    let r = Dialog::uas(&Message::parse(&inv_rr).unwrap(), "b1", false);
    assert_eq!(r, Err(DialogError::Capacity(Capacity::RouteSet)));
    // Bytes rather than count: 7 routes, over MAX_ROUTE_BYTES together.
    let rr = (0..7)
        .map(|i| {
            format!(
                "<sip:p{i}.{}.example.com;lr>",
                "d".repeat(MAX_ROUTE_BYTES / 7)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let resp = response(
        &inv,
        200,
        "b1",
        &[("Record-Route", &rr), ("Contact", "<sip:b@h>")],
    );
    let r = Dialog::uac(
        &Message::parse(&inv).unwrap(),
        &Message::parse(&resp).unwrap(),
        false,
    );
    assert_eq!(r, Err(DialogError::Capacity(Capacity::RouteSet)));
}

// ---- §12.1.1 UAS creation --------------------------------------------------------------

/// A Contact's `method` parameter and `?headers` do not become part of the remote target:
/// a Request-URI may carry neither (RFC 3261 §19.1.1, table). Everything else stays as
/// written, a `?` in the user part included; a tel: target is kept whole.
#[test]
fn remote_target_leaves_out_method_and_headers() {
    for (contact, target) in [
        (
            "<sip:bob@192.0.2.4;method=INVITE;transport=udp?Subject=hi&Priority=urgent>",
            "sip:bob@192.0.2.4;transport=udp",
        ),
        ("<sip:bob@192.0.2.4?Subject=hi>", "sip:bob@192.0.2.4"),
        ("<sip:bob@192.0.2.4;METHOD=BYE>", "sip:bob@192.0.2.4"),
        (
            "<sips:b%3Fo?b@[2001:db8::1]:5061;lr;x=1;method=REGISTER;ob>",
            "sips:b%3Fo?b@[2001:db8::1]:5061;lr;x=1;ob",
        ),
        ("<sip:b?x@192.0.2.4;ob>", "sip:b?x@192.0.2.4;ob"),
        (
            "<tel:+15551234567;phone-context=example.com>",
            "tel:+15551234567;phone-context=example.com",
        ),
    ] {
        let extra = [("Contact", contact)];
        let d = uac_dialog(200, &extra);
        assert_eq!(d.remote_target(), target, "UAC, {contact}");
        let inv = String::from_utf8(invite("sip:bob@biloxi.example.com", &[]))
            .unwrap()
            .replace(
                "Contact: <sip:alice@192.0.2.1>",
                &format!("Contact: {contact}"),
            );
        let mut d = Dialog::uas(&Message::parse(inv.as_bytes()).unwrap(), "b9", false).unwrap();
        assert_eq!(d.remote_target(), target, "UAS, {contact}");
        // A target refresh reads the Contact the same way.
        d.confirm();
        let reinv = in_dialog(Method::Invite, 8, "b9", Some(contact));
        let m = Message::parse(&reinv).unwrap();
        d.on_request(&m).unwrap();
        d.refresh_target(&m).unwrap();
        assert_eq!(d.remote_target(), target, "refresh, {contact}");
        // The Request-URI of the next request is the remote target.
        let bye = encode(&d.request(Method::Bye, via("z9hG4bKb"), None).unwrap());
        let bye = Message::parse(&bye).unwrap();
        assert_eq!(
            std::str::from_utf8(bye.request_uri_raw().unwrap()).unwrap(),
            target
        );
    }
}

#[test]
fn uas_dialog_from_request() {
    let inv = invite(
        "sip:bob@biloxi.example.com",
        &[(
            "Record-Route",
            "<sip:p1.example.com;lr>, <sip:p2.example.com;lr>",
        )],
    );
    let d = Dialog::uas(&Message::parse(&inv).unwrap(), "b9", false).unwrap();
    assert_eq!(d.state(), DialogState::Early);
    assert_eq!(d.id().local_tag(), "b9");
    assert_eq!(d.id().remote_tag(), "a1");
    assert_eq!(d.remote_seq(), Some(7));
    assert_eq!(d.local_seq(), 0);
    assert_eq!(d.local_uri(), "sip:bob@biloxi.example.com");
    assert_eq!(d.remote_uri(), "sip:alice@atlanta.example.com");
    assert_eq!(d.remote_target(), "sip:alice@192.0.2.1");
    // Record-Route in order.
    assert_eq!(
        d.route_set().collect::<Vec<_>>(),
        ["sip:p1.example.com;lr", "sip:p2.example.com;lr"]
    );
    let mut d = d;
    d.confirm();
    assert_eq!(d.state(), DialogState::Confirmed);
    // The UAS's first request has CSeq 1.
    let mut d2 = d.clone();
    let bye = encode(&d2.request(Method::Bye, via("z9hG4bKb"), None).unwrap());
    let bye = Message::parse(&bye).unwrap();
    assert_eq!(bye.cseq().unwrap().seq(), 1);
    assert_eq!(bye.from().unwrap().tag(), Some("b9"));
    assert_eq!(bye.to().unwrap().tag(), Some("a1"));
    assert_eq!(bye.request_uri_raw(), Some(&b"sip:alice@192.0.2.1"[..]));
    let routes: Vec<String> = bye
        .routes()
        .map(|r| r.unwrap().uri().as_str().to_owned())
        .collect();
    assert_eq!(routes, ["sip:p1.example.com;lr", "sip:p2.example.com;lr"]);
}

// ---- §12.2.1.1 in-dialog requests --------------------------------------------------------

#[test]
fn loose_routing_request() {
    let mut d = uac_dialog(200, RR);
    let bytes = encode(
        &d.request(
            Method::Info,
            via("z9hG4bKi1"),
            Some("<sip:alice@192.0.2.1>"),
        )
        .unwrap(),
    );
    let m = Message::parse(&bytes).unwrap();
    assert_eq!(m.method(), Some(Method::Info));
    assert_eq!(
        m.request_uri_raw(),
        Some(&b"sip:bob@192.0.2.4;transport=udp"[..])
    );
    let routes: Vec<String> = m
        .routes()
        .map(|r| r.unwrap().uri().as_str().to_owned())
        .collect();
    assert_eq!(
        routes,
        [
            "sip:p3.example.com;lr",
            "sip:p2.example.com;lr",
            "sip:p1.example.com;lr"
        ]
    );
    assert_eq!(m.cseq().unwrap().seq(), 8);
    assert_eq!(m.cseq().unwrap().method(), Method::Info);
    assert_eq!(
        m.from().unwrap().uri().as_str(),
        "sip:alice@atlanta.example.com"
    );
    assert_eq!(m.from().unwrap().tag(), Some("a1"));
    assert_eq!(m.to().unwrap().uri().as_str(), "sip:bob@biloxi.example.com");
    assert_eq!(m.to().unwrap().tag(), Some("b1"));
    assert_eq!(m.call_id().unwrap().as_str(), "call-1@192.0.2.1");
    assert_eq!(m.max_forwards().unwrap().unwrap().get(), 70);
    assert_eq!(m.top_via().unwrap().branch(), Some("z9hG4bKi1"));
    assert!(m.contacts().next().is_some());
    // CSeq increments by one per request.
    let bytes = encode(&d.request(Method::Bye, via("z9hG4bKi2"), None).unwrap());
    assert_eq!(Message::parse(&bytes).unwrap().cseq().unwrap().seq(), 9);
    assert_eq!(d.local_seq(), 9);
}

#[test]
fn strict_routing_request() {
    // Record-Route reversed: the first route is p2, a strict router (no lr) with a method
    // parameter and a header, which a Request-URI may not hold (§19.1.1).
    let d_rr = [
        ("Record-Route", "<sip:p1.example.com;lr>"),
        (
            "Record-Route",
            "<sip:p2.example.com;transport=tcp;method=INVITE?X=y>",
        ),
        ("Contact", "<sip:bob@192.0.2.4;transport=udp>"),
    ];
    let mut d = uac_dialog(200, &d_rr);
    let bytes = encode(&d.request(Method::Bye, via("z9hG4bKs"), None).unwrap());
    let m = Message::parse(&bytes).unwrap();
    assert_eq!(
        m.request_uri_raw(),
        Some(&b"sip:p2.example.com;transport=tcp"[..])
    );
    let routes: Vec<String> = m
        .routes()
        .map(|r| r.unwrap().uri().as_str().to_owned())
        .collect();
    assert_eq!(
        routes,
        ["sip:p1.example.com;lr", "sip:bob@192.0.2.4;transport=udp"]
    );
}

#[test]
fn no_route_set() {
    let mut d = uac_dialog(200, &[("Contact", "<sip:bob@192.0.2.4>")]);
    let bytes = encode(&d.request(Method::Options, via("z9hG4bKn"), None).unwrap());
    let m = Message::parse(&bytes).unwrap();
    assert_eq!(m.request_uri_raw(), Some(&b"sip:bob@192.0.2.4"[..]));
    assert_eq!(m.routes().count(), 0);
}

#[test]
fn ack_for_2xx_reuses_invite_cseq() {
    let mut d = uac_dialog(200, RR);
    let bytes = encode(&d.ack(7, via("z9hG4bKa")));
    let m = Message::parse(&bytes).unwrap();
    assert_eq!(m.method(), Some(Method::Ack));
    assert_eq!(m.cseq().unwrap().seq(), 7);
    assert_eq!(m.cseq().unwrap().method(), Method::Ack);
    assert_eq!(m.routes().count(), 3);
    assert_eq!(d.local_seq(), 7, "ACK does not consume a CSeq");
    // Nor does a request built with method ACK.
    let _ = encode(&d.request(Method::Ack, via("z9hG4bKa2"), None).unwrap());
    assert_eq!(d.local_seq(), 7);
}

// ---- §12.2.2 UAS processing -------------------------------------------------------------

/// A request from alice within the dialog `call-1`/`b9`/`a1`.
fn in_dialog(method: Method<'_>, cseq: u32, to_tag: &str, contact: Option<&str>) -> Vec<u8> {
    let mut b = MessageBuilder::request(method, "sip:bob@192.0.2.4")
        .header("Via", Value::Via(via("z9hG4bKx")))
        .header(
            "From",
            Value::Tagged(b"<sip:alice@atlanta.example.com>", "a1"),
        )
        .header("To", Value::Tagged(b"<sip:bob@biloxi.example.com>", to_tag))
        .header("Call-ID", Value::Text("call-1@192.0.2.1"))
        .header("CSeq", Value::CSeq(cseq, method));
    if let Some(c) = contact {
        b.push("Contact", Value::Text(c));
    }
    encode(&b)
}

#[test]
fn uas_request_checks() {
    let inv = invite("sip:bob@biloxi.example.com", &[]);
    let mut d = Dialog::uas(&Message::parse(&inv).unwrap(), "b9", false).unwrap();
    d.confirm();
    // (method, cseq, to tag, expected)
    let table: &[(Method<'_>, u32, &str, Result<bool, u16>)] = &[
        (Method::Ack, 7, "b9", Ok(false)), // ACK for the INVITE: same CSeq is fine
        (Method::Info, 6, "b9", Err(500)), // lower CSeq
        (Method::Info, 7, "b9", Err(500)), // equal CSeq
        (Method::Info, 8, "other", Err(481)), // another dialog
        (Method::Info, 8, "b9", Ok(false)),
        (Method::Invite, 9, "b9", Ok(true)), // target refresh
        (Method::Update, 10, "b9", Ok(true)),
        (Method::Info, 9, "b9", Err(500)),
        (Method::Bye, 11, "b9", Ok(false)),
    ];
    for (method, cseq, tag, want) in table {
        let bytes = in_dialog(*method, *cseq, tag, None);
        let got = d
            .on_request(&Message::parse(&bytes).unwrap())
            .map(|a| a.target_refresh)
            .map_err(|r| r.status().as_u16());
        assert_eq!(&got, want, "{method} {cseq} {tag}");
    }
    assert_eq!(d.remote_seq(), Some(11));
    d.terminate();
    let bytes = in_dialog(Method::Info, 12, "b9", None);
    assert_eq!(
        d.on_request(&Message::parse(&bytes).unwrap()),
        Err(Reject::NoDialog)
    );
}

#[test]
fn target_refresh_and_failed_refresh() {
    let inv = invite("sip:bob@biloxi.example.com", &[]);
    let mut d = Dialog::uas(&Message::parse(&inv).unwrap(), "b9", false).unwrap();
    d.confirm();
    // A re-INVITE with a new Contact: the target changes once it is accepted.
    let reinv = in_dialog(
        Method::Invite,
        8,
        "b9",
        Some("<sip:alice@198.51.100.7:5070>"),
    );
    let m = Message::parse(&reinv).unwrap();
    assert_eq!(d.on_request(&m).map(|a| a.target_refresh), Ok(true));
    assert_eq!(
        d.remote_target(),
        "sip:alice@192.0.2.1",
        "not before it is accepted"
    );
    d.refresh_target(&m).unwrap();
    assert_eq!(d.remote_target(), "sip:alice@198.51.100.7:5070");

    // UAC side: a 2xx to a re-INVITE refreshes; a 488 does not; a 481 ends the dialog.
    let mut d = uac_dialog(200, RR);
    let reinv = encode(
        &d.request(
            Method::Invite,
            via("z9hG4bKr"),
            Some("<sip:alice@192.0.2.1>"),
        )
        .unwrap(),
    );
    let fail = response(&reinv, 488, "b1", &[("Contact", "<sip:bob@203.0.113.1>")]);
    assert_eq!(
        d.on_response(&Message::parse(&fail).unwrap()),
        Ok(ResponseEffect::None)
    );
    assert_eq!(d.remote_target(), "sip:bob@192.0.2.4;transport=udp");
    assert_eq!(d.state(), DialogState::Confirmed);
    let ok = response(&reinv, 200, "b1", &[("Contact", "<sip:bob@203.0.113.1>")]);
    assert_eq!(
        d.on_response(&Message::parse(&ok).unwrap()),
        Ok(ResponseEffect::TargetRefreshed)
    );
    assert_eq!(d.remote_target(), "sip:bob@203.0.113.1");
    // A 2xx to a non-refresh request changes nothing.
    let info = encode(&d.request(Method::Info, via("z9hG4bKq"), None).unwrap());
    let ok = response(&info, 200, "b1", &[("Contact", "<sip:bob@203.0.113.99>")]);
    assert_eq!(
        d.on_response(&Message::parse(&ok).unwrap()),
        Ok(ResponseEffect::None)
    );
    assert_eq!(d.remote_target(), "sip:bob@203.0.113.1");
    // Another dialog's response.
    let other = String::from_utf8(response(&info, 200, "b1", &[]))
        .unwrap()
        .replace(";tag=b1", ";tag=zz");
    assert_eq!(
        d.on_response(&Message::parse(other.as_bytes()).unwrap()),
        Err(DialogError::NotThisDialog)
    );
}

#[test]
fn early_dialog_confirmed_by_2xx() {
    let inv = invite("sip:bob@biloxi.example.com", &[]);
    let ringing = response(&inv, 180, "b1", &[("Contact", "<sip:bob@192.0.2.4>")]);
    let mut d = Dialog::uac(
        &Message::parse(&inv).unwrap(),
        &Message::parse(&ringing).unwrap(),
        false,
    )
    .unwrap();
    assert_eq!(d.state(), DialogState::Early);
    let ok = response(&inv, 200, "b1", &[("Contact", "<sip:bob@192.0.2.5>")]);
    assert_eq!(
        d.on_response(&Message::parse(&ok).unwrap()),
        Ok(ResponseEffect::Confirmed)
    );
    assert_eq!(d.state(), DialogState::Confirmed);
    assert_eq!(d.remote_target(), "sip:bob@192.0.2.5");
}

#[test]
fn responses_481_408_end_the_dialog() {
    for code in [481, 408] {
        let mut d = uac_dialog(200, RR);
        let info = encode(&d.request(Method::Info, via("z9hG4bKq"), None).unwrap());
        let r = response(&info, code, "b1", &[]);
        assert_eq!(
            d.on_response(&Message::parse(&r).unwrap()),
            Ok(ResponseEffect::Terminated)
        );
        assert_eq!(d.state(), DialogState::Terminated);
    }
    let mut d = uac_dialog(200, RR);
    let info = encode(&d.request(Method::Info, via("z9hG4bKq"), None).unwrap());
    let r = response(&info, 404, "b1", &[]);
    assert_eq!(
        d.on_response(&Message::parse(&r).unwrap()),
        Ok(ResponseEffect::None)
    );
    assert_eq!(d.state(), DialogState::Confirmed);
}

#[test]
fn dialog_size() {
    let size = std::mem::size_of::<Dialog>();
    println!("size_of::<Dialog>() = {size}");
    println!(
        "size_of::<InviteSession>() = {}",
        std::mem::size_of::<InviteSession>()
    );
    println!("size_of::<Event>() = {}", std::mem::size_of::<Event>());
    println!("size_of::<Action>() = {}", std::mem::size_of::<Action>());
    // Bounded storage sized for live traffic (128-byte tags and Call-IDs, 256-byte URIs,
    // a 512-byte route set): under 2 KiB, and nothing else hides in it.
    let strings = 128 + 2 * 128 + 3 * 256 + 512;
    assert!(size <= 2048 && size < strings + 128, "{size}");
}

// ---- INVITE session ----------------------------------------------------------------------

fn tag(s: &str) -> Tag {
    Tag::new(s).unwrap()
}

fn resp(code: u16, t: Option<&str>, cseq: u32) -> Event {
    Event::Response {
        code: StatusCode::new(code).unwrap(),
        to_tag: t.map(tag),
        cseq,
        body: false,
    }
}

/// Run events, collecting every action.
fn run(mut s: InviteSession, events: &[Event]) -> (InviteSession, Vec<Action>) {
    let cfg = Config::default();
    let mut all = Vec::new();
    for e in events {
        let step = s.step(&cfg, *e);
        s = step.session;
        all.extend(step.actions);
    }
    (s, all)
}

fn ack(t: &str, cseq: u32) -> Action {
    Action::SendAck {
        remote_tag: tag(t),
        cseq,
        sdp: Sdp::None,
    }
}

fn bye(t: &str) -> Action {
    Action::SendBye { remote_tag: tag(t) }
}

#[test]
fn forking() {
    // One INVITE, two 180s with different To tags, two 200s; the second fork is ACKed
    // and BYEd (§13.2.2.4); then BYE on the kept dialog. Messages go through the
    // builder/parser and the dialogs are kept by the host as the module docs say.
    let inv = invite("sip:bob@biloxi.example.com", &[]);
    let inv_m = Message::parse(&inv).unwrap();
    let r180_1 = response(&inv, 180, "f1", &[("Contact", "<sip:bob@192.0.2.11>")]);
    let r180_2 = response(&inv, 180, "f2", &[("Contact", "<sip:bob@192.0.2.12>")]);
    let r200_1 = response(&inv, 200, "f1", &[("Contact", "<sip:bob@192.0.2.11>")]);
    let r200_2 = response(&inv, 200, "f2", &[("Contact", "<sip:bob@192.0.2.12>")]);
    let cfg = Config::default();
    let mut s = InviteSession::uac(7, true);
    let mut dialogs: Vec<Dialog> = Vec::new();
    let mut acks = Vec::new();
    let mut byes = Vec::new();
    for raw in [&r180_1, &r180_2, &r200_1, &r200_2, &r200_1, &r200_2] {
        let m = Message::parse(raw).unwrap();
        let to_tag = m.to().unwrap().tag().map(tag);
        let step = s.step(
            &cfg,
            Event::Response {
                code: m.status().unwrap(),
                to_tag,
                cseq: m.cseq().unwrap().seq(),
                body: false,
            },
        );
        s = step.session;
        for a in step.actions {
            match a {
                Action::Tu(Notice::EarlyDialog(_)) => {
                    dialogs.push(Dialog::uac(&inv_m, &m, false).unwrap())
                }
                Action::Tu(Notice::Confirmed(t)) => {
                    let d = dialogs
                        .iter_mut()
                        .find(|d| d.id().remote_tag() == t.as_str())
                        .unwrap();
                    assert_eq!(d.on_response(&m), Ok(ResponseEffect::Confirmed));
                }
                Action::SendAck {
                    remote_tag, cseq, ..
                } => {
                    let d = dialogs
                        .iter()
                        .find(|d| d.id().remote_tag() == remote_tag.as_str())
                        .unwrap();
                    let bytes = encode(&d.ack(cseq, via("z9hG4bKack")));
                    let ackm = Message::parse(&bytes).unwrap();
                    acks.push((
                        ackm.to().unwrap().tag().unwrap().to_owned(),
                        ackm.cseq().unwrap().seq(),
                    ));
                }
                Action::SendBye { remote_tag } => {
                    let d = dialogs
                        .iter_mut()
                        .find(|d| d.id().remote_tag() == remote_tag.as_str())
                        .unwrap();
                    let bytes = encode(&d.request(Method::Bye, via("z9hG4bKbye"), None).unwrap());
                    let m = Message::parse(&bytes).unwrap();
                    byes.push((
                        m.to().unwrap().tag().unwrap().to_owned(),
                        m.request_uri_raw().unwrap().to_vec(),
                    ));
                    d.terminate();
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert_eq!(dialogs.len(), 2);
    // Both 200s ACKed, and both retransmissions too, with the INVITE's CSeq.
    assert_eq!(
        acks,
        [
            ("f1".into(), 7),
            ("f2".into(), 7),
            ("f1".into(), 7),
            ("f2".into(), 7)
        ]
    );
    // Only the second fork BYEd, once, at its own target.
    assert_eq!(byes, [("f2".to_owned(), b"sip:bob@192.0.2.12".to_vec())]);
    assert_eq!(s.state(), SessionState::Confirmed);
    assert_eq!(s.kept_dialog(), Some(tag("f1")));
    let states: Vec<_> = s
        .dialogs()
        .map(|(t, st)| (t.as_str().to_owned(), st))
        .collect();
    assert_eq!(
        states,
        [
            ("f1".into(), DialogState::Confirmed),
            ("f2".into(), DialogState::Terminated)
        ]
    );
    // Hang up: BYE on the kept dialog.
    let (s, actions) = run(s, &[Event::TuHangUp]);
    assert_eq!(
        actions,
        [
            bye("f1"),
            Action::Tu(Notice::Terminated(EndReason::LocalBye))
        ]
    );
    assert!(s.dialogs().all(|(_, st)| st == DialogState::Terminated));
    // A late 200 retransmission after BYE is still ACKed, and only ACKed.
    let (_, actions) = run(s, &[resp(200, Some("f1"), 7)]);
    assert_eq!(actions, [ack("f1", 7)]);
}

#[test]
fn fork_overflow_is_acked_and_byed() {
    let mut evs: Vec<Event> = (0..6)
        .map(|i| resp(180, Some(&format!("t{i}")), 1))
        .collect();
    evs.push(resp(200, Some("t5"), 1));
    evs.push(resp(200, Some("t4"), 1));
    let (s, actions) = run(InviteSession::uac(1, true), &evs);
    let early = actions
        .iter()
        .filter(|a| matches!(a, Action::Tu(Notice::EarlyDialog(_))))
        .count();
    assert_eq!(early, 4, "MAX_FORKS early dialogs");
    assert!(actions.contains(&Action::Tu(Notice::Confirmed(tag("t5")))));
    assert_eq!(s.kept_dialog(), Some(tag("t5")));
    assert_eq!(&actions[actions.len() - 2..], [ack("t4", 1), bye("t4")]);
}

#[test]
fn cancel_while_ringing() {
    // UAC: 180, TU cancels → CANCEL; 487 ends the session.
    let (s, actions) = run(
        InviteSession::uac(1, true),
        &[
            resp(180, Some("b"), 1),
            Event::TuCancel,
            resp(487, Some("b"), 1),
        ],
    );
    assert_eq!(
        actions,
        [
            Action::Tu(Notice::EarlyDialog(tag("b"))),
            Action::SendCancel,
            Action::Tu(Notice::Terminated(EndReason::Cancelled)),
        ]
    );
    assert!(s.dialogs().all(|(_, st)| st == DialogState::Terminated));
    // UAS: CANCEL → 200 to the CANCEL and 487 to the INVITE (§9.2); the ACK for the
    // 487 is absorbed by the transaction, and a late ACK changes nothing here.
    let (s, actions) = run(
        InviteSession::uas(1, tag("a1"), true),
        &[
            Event::Cancel,
            Event::Ack {
                cseq: 1,
                body: false,
            },
        ],
    );
    assert_eq!(
        actions,
        [
            Action::Respond {
                to: RequestKind::Cancel,
                code: StatusCode::OK,
                sdp: Sdp::None
            },
            Action::Respond {
                to: RequestKind::Invite,
                code: StatusCode::REQUEST_TERMINATED,
                sdp: Sdp::None
            },
            Action::Tu(Notice::Terminated(EndReason::Cancelled)),
        ]
    );
    assert_eq!(s.state(), SessionState::Terminated(EndReason::Cancelled));
    // Another CANCEL the host matched to the INVITE transaction (still in Completed):
    // 200 and nothing else (§9.2; a CANCEL matching no transaction is the host's 481).
    let (_, actions) = run(s, &[Event::Cancel]);
    assert_eq!(
        actions,
        [Action::Respond {
            to: RequestKind::Cancel,
            code: StatusCode::OK,
            sdp: Sdp::None,
        }]
    );
    // A CANCEL after the 2xx: 200, no effect.
    let (s, actions) = run(
        InviteSession::uas(1, tag("a1"), true),
        &[Event::TuAnswer, Event::Cancel],
    );
    assert_eq!(
        actions.last(),
        Some(&Action::Respond {
            to: RequestKind::Cancel,
            code: StatusCode::OK,
            sdp: Sdp::None
        })
    );
    assert_eq!(s.state(), SessionState::Accepted);
}

#[test]
fn cancel_racing_200() {
    let (s, actions) = run(
        InviteSession::uac(1, true),
        &[
            resp(180, Some("b"), 1),
            Event::TuCancel,
            resp(200, Some("b"), 1),
            resp(487, Some("b"), 1), // never comes in practice; must be harmless
            resp(200, Some("b"), 1), // retransmission: ACK again, no second BYE
        ],
    );
    assert_eq!(
        actions,
        [
            Action::Tu(Notice::EarlyDialog(tag("b"))),
            Action::SendCancel,
            ack("b", 1),
            bye("b"),
            Action::Tu(Notice::Terminated(EndReason::Cancelled)),
            ack("b", 1),
        ]
    );
    assert!(s.is_terminated());
}

#[test]
fn cancel_before_provisional_is_deferred() {
    // Until a provisional arrives (§9.1).
    let (s, actions) = run(InviteSession::uac(1, true), &[Event::TuCancel]);
    assert!(actions.is_empty());
    assert_eq!(s.state(), SessionState::Calling);
    let (s, actions) = run(s, &[resp(100, None, 1)]);
    assert_eq!(actions, [Action::SendCancel]);
    let (_, actions) = run(s, &[resp(180, Some("b"), 1)]);
    assert_eq!(
        actions,
        [Action::Tu(Notice::EarlyDialog(tag("b")))],
        "one CANCEL only"
    );
    // Or until the INVITE transaction times out: no CANCEL at all.
    let (s, actions) = run(
        InviteSession::uac(1, true),
        &[Event::TuCancel, Event::InviteTransactionEnded],
    );
    assert_eq!(
        actions,
        [Action::Tu(Notice::Terminated(EndReason::TimedOut))]
    );
    assert!(s.is_terminated());
    // Or a 2xx arrives first: ACK, then BYE.
    let (_, actions) = run(
        InviteSession::uac(1, true),
        &[Event::TuHangUp, resp(200, Some("b"), 1)],
    );
    assert_eq!(
        actions,
        [
            ack("b", 1),
            bye("b"),
            Action::Tu(Notice::Terminated(EndReason::Cancelled))
        ]
    );
}

/// §8.1.3.5, §22.2: an INVITE challenged with 401/407 and sent again with credentials
/// goes on as the same session with the new CSeq; a re-INVITE likewise.
#[test]
fn reoriginated_invite_and_reinvite() {
    // A provisional made an early dialog; the 407 ends it, the new INVITE (CSeq 2) starts
    // from Calling.
    let s = InviteSession::uac(1, true);
    assert!(s.can_reoriginate());
    let (s, _) = run(s, &[resp(100, None, 1), resp(183, Some("p"), 1)]);
    assert_eq!(s.dialogs().count(), 1);
    let (s, actions) = run(s, &[Event::Reoriginated { cseq: 2 }]);
    assert!(actions.is_empty());
    assert_eq!(s.state(), SessionState::Calling);
    assert_eq!(s.dialogs().count(), 0);
    // The challenged INVITE's responses no longer count; the new one's do.
    let (s, actions) = run(s, &[resp(407, Some("p"), 1)]);
    assert!(actions.is_empty());
    assert_eq!(s.state(), SessionState::Calling);
    // §9.1: a CANCEL waits for a provisional response to the new INVITE.
    let (s, actions) = run(s, &[Event::TuCancel]);
    assert!(actions.is_empty());
    let (s, actions) = run(s, &[resp(180, Some("b"), 2)]);
    assert_eq!(
        actions,
        [
            Action::Tu(Notice::EarlyDialog(tag("b"))),
            Action::SendCancel
        ]
    );
    // The TU gave up: the INVITE is not sent again.
    assert!(!s.can_reoriginate());
    let (s2, actions) = run(s, &[Event::Reoriginated { cseq: 3 }]);
    assert!(actions.is_empty());
    assert_eq!(s2, s);
    // Answered: the 2xx to CSeq 2 confirms the call.
    let (s, actions) = run(
        InviteSession::uac(1, true),
        &[Event::Reoriginated { cseq: 2 }, resp(200, Some("b"), 2)],
    );
    assert_eq!(
        actions,
        [ack("b", 2), Action::Tu(Notice::Confirmed(tag("b")))]
    );
    assert!(!s.can_reoriginate(), "confirmed, no re-INVITE out");
    // A re-INVITE (CSeq 2) challenged and sent again as CSeq 3: its 2xx is the one.
    let (s, _) = run(
        s,
        &[Event::TuReInvite {
            cseq: 3,
            body: true,
            random: 0,
        }],
    );
    assert!(s.can_reoriginate());
    let (s, actions) = run(
        s,
        &[Event::Reoriginated { cseq: 4 }, resp(200, Some("b"), 4)],
    );
    assert_eq!(actions, [ack("b", 4), Action::Tu(Notice::ReInviteAccepted)]);
    assert!(s.can_reinvite());
    // A UAS session has nothing to send again.
    let s = InviteSession::uas(1, tag("a"), true);
    assert!(!s.can_reoriginate());
}

#[test]
fn final_responses_end_early_dialogs() {
    let table: &[(u16, EndReason, bool)] = &[
        (486, EndReason::Rejected(StatusCode::BUSY_HERE), false),
        (603, EndReason::Rejected(StatusCode::DECLINE), false),
        (
            302,
            EndReason::Redirected(StatusCode::MOVED_TEMPORARILY),
            true,
        ),
        (
            399,
            EndReason::Redirected(StatusCode::new(399).unwrap()),
            true,
        ),
        (
            487,
            EndReason::Rejected(StatusCode::REQUEST_TERMINATED),
            false,
        ), // no CANCEL sent
    ];
    for (code, reason, redirect) in table {
        let (s, actions) = run(
            InviteSession::uac(1, true),
            &[
                resp(180, Some("x"), 1),
                resp(183, Some("y"), 1),
                resp(*code, Some("x"), 1),
            ],
        );
        assert_eq!(s.state(), SessionState::Terminated(*reason), "{code}");
        assert_eq!(
            actions.contains(&Action::Tu(Notice::Redirect(
                StatusCode::new(*code).unwrap()
            ))),
            *redirect
        );
        assert_eq!(s.dialogs().count(), 2);
        assert!(
            s.dialogs().all(|(_, st)| st == DialogState::Terminated),
            "{code}"
        );
    }
    // The 3xx's targets are read from its Contact by the host.
    let inv = invite("sip:bob@biloxi.example.com", &[]);
    let r302 = response(
        &inv,
        302,
        "x",
        &[(
            "Contact",
            "<sip:bob@192.0.2.20>, <sip:bob@192.0.2.21>;q=0.5",
        )],
    );
    let m = Message::parse(&r302).unwrap();
    assert_eq!(m.contacts().count(), 2);
}

/// Virtual-time harness: maps StartTimer/CancelTimer to deadlines (ms).
struct Clock {
    now: u64,
    timers: Vec<(SessionTimer, u64)>,
}

impl Clock {
    fn apply(&mut self, actions: &[Action], log: &mut Vec<(u64, Action)>) {
        for a in actions {
            match *a {
                Action::StartTimer(t, d) => {
                    self.timers.retain(|(x, _)| *x != t);
                    self.timers.push((t, self.now + d.as_millis() as u64));
                }
                Action::CancelTimer(t) => self.timers.retain(|(x, _)| *x != t),
                other => log.push((self.now, other)),
            }
        }
    }

    fn next(&mut self) -> Option<SessionTimer> {
        let i = (0..self.timers.len()).min_by_key(|&i| self.timers[i].1)?;
        let (t, at) = self.timers.remove(i);
        self.now = at;
        Some(t)
    }
}

#[test]
fn uas_2xx_retransmitted_until_ack_timeout() {
    let cfg = Config::default();
    let mut clock = Clock {
        now: 0,
        timers: Vec::new(),
    };
    let mut log = Vec::new();
    let step = InviteSession::uas(1, tag("a1"), true).step(&cfg, Event::TuAnswer);
    assert_eq!(
        step.actions[0],
        Action::Respond {
            to: RequestKind::Invite,
            code: StatusCode::OK,
            sdp: Sdp::Answer
        }
    );
    clock.apply(&step.actions, &mut log);
    let mut s = step.session;
    while let Some(t) = clock.next() {
        let step = s.step(&cfg, Event::Timer(t));
        s = step.session;
        clock.apply(&step.actions, &mut log);
    }
    let retransmits: Vec<u64> = log
        .iter()
        .filter(|(_, a)| *a == Action::Retransmit2xx)
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(
        retransmits,
        [
            500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500
        ]
    );
    let byes: Vec<_> = log
        .iter()
        .filter(|(_, a)| matches!(a, Action::SendBye { .. }))
        .collect();
    assert_eq!(byes, [&(32_000, bye("a1"))]);
    assert_eq!(s.state(), SessionState::Terminated(EndReason::NoAck));
    assert!(clock.timers.is_empty(), "every timer fired or cancelled");
}

#[test]
fn uas_ack_stops_retransmissions() {
    let (s, actions) = run(
        InviteSession::uas(3, tag("a1"), false),
        &[
            Event::TuAnswer,
            Event::Timer(SessionTimer::Retransmit2xx),
            Event::Ack {
                cseq: 3,
                body: true,
            },
            Event::Timer(SessionTimer::Retransmit2xx), // stale
            Event::Ack {
                cseq: 3,
                body: true,
            }, // retransmitted ACK
        ],
    );
    let cfg = Config::default();
    assert_eq!(
        actions,
        [
            Action::Respond {
                to: RequestKind::Invite,
                code: StatusCode::OK,
                sdp: Sdp::Offer
            },
            Action::StartTimer(SessionTimer::Retransmit2xx, cfg.t1),
            Action::StartTimer(SessionTimer::AckTimeout, cfg.t1 * 64),
            Action::Retransmit2xx,
            Action::StartTimer(SessionTimer::Retransmit2xx, cfg.t1 * 2),
            Action::CancelTimer(SessionTimer::Retransmit2xx),
            Action::CancelTimer(SessionTimer::AckTimeout),
            Action::Tu(Notice::Confirmed(tag("a1"))),
        ]
    );
    assert_eq!(s.state(), SessionState::Confirmed);
}

#[test]
fn uas_hang_up_before_ack_waits_for_it() {
    // §15: the callee must not send BYE before the ACK.
    let (s, actions) = run(
        InviteSession::uas(1, tag("a1"), true),
        &[Event::TuAnswer, Event::TuHangUp],
    );
    assert!(!actions.iter().any(|a| matches!(a, Action::SendBye { .. })));
    let (s2, actions) = run(
        s,
        &[Event::Ack {
            cseq: 1,
            body: false,
        }],
    );
    assert_eq!(
        &actions[actions.len() - 2..],
        [
            bye("a1"),
            Action::Tu(Notice::Terminated(EndReason::LocalBye))
        ]
    );
    assert!(s2.is_terminated());
}

#[test]
fn glare_backoff() {
    // (role, random, back-off ms): owner of the Call-ID 2.1–4 s, the other 0–2 s (§14.1).
    let table: &[(Role, u16, u64)] = &[
        (Role::Uac, 0, 2100),
        (Role::Uac, 190, 4000),
        (Role::Uac, 191, 2100),
        (Role::Uac, 57, 2670),
        (Role::Uas, 0, 0),
        (Role::Uas, 200, 2000),
        (Role::Uas, 201, 0),
        (Role::Uas, 33, 330),
    ];
    for &(role, random, ms) in table {
        let confirmed = match role {
            Role::Uac => run(InviteSession::uac(1, true), &[resp(200, Some("b"), 1)]).0,
            Role::Uas => {
                run(
                    InviteSession::uas(1, tag("a"), true),
                    &[
                        Event::TuAnswer,
                        Event::Ack {
                            cseq: 1,
                            body: false,
                        },
                    ],
                )
                .0
            }
        };
        let (s, actions) = run(
            confirmed,
            &[
                Event::TuReInvite {
                    cseq: 2,
                    body: true,
                    random,
                },
                // The peer's re-INVITE crosses ours: 491 (§14.2).
                Event::ReInvite {
                    body: true,
                    cseq: 7,
                },
                resp(491, Some(if role == Role::Uac { "b" } else { "a" }), 2),
            ],
        );
        assert_eq!(
            actions,
            [
                Action::SendReInvite { sdp: Sdp::Offer },
                Action::Respond {
                    to: RequestKind::ReInvite,
                    code: StatusCode::REQUEST_PENDING,
                    sdp: Sdp::None
                },
                Action::StartTimer(SessionTimer::Glare, Duration::from_millis(ms)),
                Action::Tu(Notice::ReInviteFailed(StatusCode::REQUEST_PENDING)),
            ],
            "{role:?} {random}"
        );
        assert_eq!(s.state(), SessionState::Confirmed);
        assert!(!s.can_reinvite());
        let (s, actions) = run(
            s,
            &[Event::TuReInvite {
                cseq: 3,
                body: true,
                random,
            }],
        );
        assert!(actions.is_empty(), "no re-INVITE during the back-off");
        let (s, actions) = run(s, &[Event::Timer(SessionTimer::Glare)]);
        assert_eq!(actions, [Action::Tu(Notice::RetryReInvite)]);
        assert!(s.can_reinvite());
    }
}

#[test]
fn reinvite_outcomes() {
    let up = run(
        InviteSession::uac(1, false),
        &[Event::Response {
            code: StatusCode::OK,
            to_tag: Some(tag("b")),
            cseq: 1,
            body: true,
        }],
    );
    // Offer in the 2xx: the ACK carries the answer (§13.2.1).
    assert_eq!(
        up.1[0],
        Action::SendAck {
            remote_tag: tag("b"),
            cseq: 1,
            sdp: Sdp::Answer
        }
    );
    let s = up.0;
    // Accepted re-INVITE: ACK with its CSeq.
    let (s2, actions) = run(
        s,
        &[
            Event::TuReInvite {
                cseq: 2,
                body: true,
                random: 0,
            },
            resp(200, Some("b"), 2),
        ],
    );
    assert_eq!(
        actions,
        [
            Action::SendReInvite { sdp: Sdp::Offer },
            ack("b", 2),
            Action::Tu(Notice::ReInviteAccepted)
        ]
    );
    assert!(s2.can_reinvite());
    // Failed re-INVITE: the session is as it was.
    let (s3, actions) = run(
        s,
        &[
            Event::TuReInvite {
                cseq: 2,
                body: true,
                random: 0,
            },
            resp(488, Some("b"), 2),
        ],
    );
    assert_eq!(
        actions[1],
        Action::Tu(Notice::ReInviteFailed(StatusCode::NOT_ACCEPTABLE_HERE))
    );
    assert_eq!(s3, s);
    // 481 or 408 to the re-INVITE ends the dialog (§12.2.1.2).
    for code in [481, 408] {
        let (s4, _) = run(
            s,
            &[
                Event::TuReInvite {
                    cseq: 2,
                    body: true,
                    random: 0,
                },
                resp(code, Some("b"), 2),
            ],
        );
        assert_eq!(
            s4.state(),
            SessionState::Terminated(EndReason::DialogGone(StatusCode::new(code).unwrap()))
        );
    }
    // UAS of a re-INVITE: reject leaves it confirmed; accept retransmits until ACK.
    let (s5, actions) = run(
        s,
        &[
            Event::ReInvite {
                body: true,
                cseq: 5,
            },
            Event::TuReject(StatusCode::NOT_ACCEPTABLE_HERE),
        ],
    );
    assert_eq!(
        actions,
        [
            Action::Tu(Notice::ReInviteReceived(Sdp::Answer)),
            Action::Respond {
                to: RequestKind::ReInvite,
                code: StatusCode::NOT_ACCEPTABLE_HERE,
                sdp: Sdp::None
            },
        ]
    );
    assert_eq!(s5, s);
    let (s6, actions) = run(
        s,
        &[
            Event::ReInvite {
                body: false,
                cseq: 5,
            },
            // a second one before the answer: 500 (§14.2)
            Event::ReInvite {
                body: false,
                cseq: 6,
            },
            Event::TuAnswer,
            Event::Ack {
                cseq: 5,
                body: true,
            },
        ],
    );
    assert_eq!(
        actions[1],
        Action::Respond {
            to: RequestKind::ReInvite,
            code: StatusCode::SERVER_INTERNAL_ERROR,
            sdp: Sdp::None
        }
    );
    assert_eq!(
        actions[2],
        Action::Respond {
            to: RequestKind::ReInvite,
            code: StatusCode::OK,
            sdp: Sdp::Offer
        }
    );
    assert_eq!(
        actions.last(),
        Some(&Action::CancelTimer(SessionTimer::AckTimeout))
    );
    assert!(s6.can_reinvite());
}

#[test]
fn bye_ends_session_and_later_requests_get_481() {
    let s = run(InviteSession::uac(1, true), &[resp(200, Some("b"), 1)]).0;
    let (s, actions) = run(
        s,
        &[Event::Bye {
            remote_tag: tag("b"),
        }],
    );
    assert_eq!(
        actions,
        [
            Action::Respond {
                to: RequestKind::Bye,
                code: StatusCode::OK,
                sdp: Sdp::None
            },
            Action::Tu(Notice::Terminated(EndReason::RemoteBye)),
        ]
    );
    let gone = StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST;
    let (s, actions) = run(
        s,
        &[
            Event::Bye {
                remote_tag: tag("b"),
            },
            Event::ReInvite {
                body: true,
                cseq: 5,
            },
        ],
    );
    assert_eq!(
        actions,
        [
            Action::Respond {
                to: RequestKind::Bye,
                code: gone,
                sdp: Sdp::None
            },
            Action::Respond {
                to: RequestKind::ReInvite,
                code: gone,
                sdp: Sdp::None
            },
        ]
    );
    assert_eq!(s.state(), SessionState::Terminated(EndReason::RemoteBye));
    // A BYE for a dialog we do not know: 481, session untouched.
    let up = run(InviteSession::uac(1, true), &[resp(200, Some("b"), 1)]).0;
    let (s, actions) = run(
        up,
        &[Event::Bye {
            remote_tag: tag("zz"),
        }],
    );
    assert_eq!(
        actions,
        [Action::Respond {
            to: RequestKind::Bye,
            code: gone,
            sdp: Sdp::None
        }]
    );
    assert_eq!(s, up);
    // BYE while the UAS INVITE is pending: 200, then 487 for the INVITE (§15.1.2).
    let (_, actions) = run(
        InviteSession::uas(1, tag("a"), true),
        &[Event::Bye {
            remote_tag: tag("a"),
        }],
    );
    assert_eq!(
        actions[1],
        Action::Respond {
            to: RequestKind::Invite,
            code: StatusCode::REQUEST_TERMINATED,
            sdp: Sdp::None
        }
    );
}

#[test]
fn offer_answer_carriers() {
    // (role, offer in INVITE) → what the 2xx / ACK carries.
    let (_, a) = run(InviteSession::uas(1, tag("a"), true), &[Event::TuAnswer]);
    assert_eq!(
        a[0],
        Action::Respond {
            to: RequestKind::Invite,
            code: StatusCode::OK,
            sdp: Sdp::Answer
        }
    );
    let (_, a) = run(InviteSession::uas(1, tag("a"), false), &[Event::TuAnswer]);
    assert_eq!(
        a[0],
        Action::Respond {
            to: RequestKind::Invite,
            code: StatusCode::OK,
            sdp: Sdp::Offer
        }
    );
    let (_, a) = run(
        InviteSession::uac(1, true),
        &[Event::Response {
            code: StatusCode::OK,
            to_tag: Some(tag("b")),
            cseq: 1,
            body: true,
        }],
    );
    assert_eq!(
        a[0],
        Action::SendAck {
            remote_tag: tag("b"),
            cseq: 1,
            sdp: Sdp::None
        }
    );
    let (_, a) = run(
        InviteSession::uac(1, false),
        &[Event::Response {
            code: StatusCode::OK,
            to_tag: Some(tag("b")),
            cseq: 1,
            body: true,
        }],
    );
    assert_eq!(
        a[0],
        Action::SendAck {
            remote_tag: tag("b"),
            cseq: 1,
            sdp: Sdp::Answer
        }
    );
}

#[test]
fn tag_capacity() {
    assert_eq!(Tag::new(&"t".repeat(MAX_TAG + 1)), Err(Capacity::String));
    assert_eq!(
        Tag::new(&"t".repeat(MAX_TAG)).unwrap().as_str().len(),
        MAX_TAG
    );
}

#[test]
fn cseq_exhausted() {
    // §8.1.1.5: CSeq numbers stay below 2^31; the dialog refuses to go past.
    let inv = String::from_utf8(invite("sip:bob@biloxi.example.com", &[]))
        .unwrap()
        .replace("CSeq: 7 INVITE", "CSeq: 2147483647 INVITE");
    let resp = response(inv.as_bytes(), 200, "b1", &[("Contact", "<sip:b@h>")]);
    let mut d = Dialog::uac(
        &Message::parse(inv.as_bytes()).unwrap(),
        &Message::parse(&resp).unwrap(),
        false,
    )
    .unwrap();
    assert_eq!(d.local_seq(), 2_147_483_647);
    assert_eq!(
        d.request(Method::Bye, via("z9hG4bKz"), None).err(),
        Some(DialogError::CSeqExhausted)
    );
    assert_eq!(d.local_seq(), 2_147_483_647);
    // The ACK still works: it reuses the INVITE's number.
    let bytes = encode(&d.ack(2_147_483_647, via("z9hG4bKz")));
    assert_eq!(
        Message::parse(&bytes).unwrap().cseq().unwrap().seq(),
        2_147_483_647
    );
}

#[test]
fn config_from_transaction_config() {
    let tx = sansip::transaction::Config {
        t1: Duration::from_millis(200),
        ..Default::default()
    };
    let c = Config::from(&tx);
    assert_eq!(
        (c.t1, c.t2),
        (Duration::from_millis(200), Duration::from_secs(4))
    );
    assert_eq!(
        Config::default(),
        Config::from(&sansip::transaction::Config::default())
    );
}

/// RFC 3261 §13.2.2.4 and RFC 3264 §4: every copy of the 2xx to a re-INVITE sent without
/// an offer carries the peer's offer, and each copy's ACK must carry the answer: the
/// session says so for a retransmission too, not only for the first 2xx (which ends the
/// pending re-INVITE). A 2xx to an earlier re-INVITE that had an offer does not.
#[test]
fn every_2xx_to_an_offerless_reinvite_asks_for_the_answer_in_its_ack() {
    let ok = |cseq| Event::Response {
        code: StatusCode::OK,
        to_tag: Some(tag("b")),
        cseq,
        body: true,
    };
    let confirmed = run(InviteSession::uac(1, true), &[resp(200, Some("b"), 1)]).0;
    let reinvite = |cseq, body| Event::TuReInvite {
        cseq,
        body,
        random: 0,
    };
    let (_, actions) = run(
        confirmed,
        &[
            reinvite(2, true),
            ok(2),
            reinvite(3, false),
            ok(3),
            ok(3),
            ok(2),
        ],
    );
    let acks: Vec<_> = actions
        .iter()
        .filter_map(|a| match a {
            Action::SendAck { cseq, sdp, .. } => Some((*cseq, *sdp)),
            _ => None,
        })
        .collect();
    assert_eq!(
        acks,
        [
            (2, Sdp::None),
            (3, Sdp::Answer),
            (3, Sdp::Answer),
            (2, Sdp::None)
        ]
    );
}
