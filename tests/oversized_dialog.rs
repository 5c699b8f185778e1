//! A caller whose 2xx makes a dialog past the bounds a `Dialog` keeps (more Record-Routes
//! than `dialog::MAX_ROUTES`, more route bytes than `MAX_ROUTE_BYTES`, a To tag past
//! `MAX_TAG`). RFC 3261 §13.2.2.4 has every 2xx ACKed; a call the endpoint cannot keep is
//! ended at once with a BYE along the same route set (§15.1.1), and the host is told why
//! and that it ended. Both requests are written from the INVITE and the 2xx.

mod scripted_support;

use std::net::SocketAddr;

use sansip::Instant;
use sansip::dialog::{EndReason, MAX_ROUTE_BYTES, MAX_ROUTES, MAX_TAG};
use sansip::endpoint::{CallHandle, Event, Transport};
use sansip::error::Capacity;
use sansip::message::HeaderKind;
use scripted_support::*;

const CONTACT: &str = "sip:bob@127.0.0.1:5070;ob";

struct Outcome {
    /// (destination, Request-URI, Route values, CSeq) of the ACK, then of the BYE.
    sent: Vec<(SocketAddr, String, Vec<String>, String)>,
    events: Vec<Event>,
    /// The endpoint and the call, to go on with.
    ep: Box<Ep>,
    call: CallHandle,
}

/// Place a call and answer it 200 with Record-Routes `rr` and To tag `tag`.
fn answered(rr: &[String], tag: &str) -> Outcome {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (call, invite) = place_call(&mut ep, now, true);
    let contact = format!("<{CONTACT}>");
    let mut headers: Vec<(&str, &str)> = rr.iter().map(|r| ("Record-Route", r.as_str())).collect();
    headers.push(("Contact", &contact));
    // No tag: one written and taken out again (the builder refuses an empty one).
    let written = if tag.is_empty() { "untagged" } else { tag };
    let mut ok = response_to(&invite, 200, written, &headers, Some(b"v=0\r\n"));
    if tag.is_empty() {
        let text = String::from_utf8(ok).unwrap().replace(";tag=untagged", "");
        ok = text.into_bytes();
    }
    feed(&mut ep, now, &ok);
    let sent = sent(&mut ep)
        .iter()
        .map(|(to, bytes)| {
            let m = parse(bytes);
            let ruri = String::from_utf8(m.request_uri_raw().unwrap().to_vec()).unwrap();
            let routes = m
                .headers_of(HeaderKind::Route)
                .map(|h| String::from_utf8(h.value.to_vec()).unwrap())
                .collect();
            let cseq = m.cseq().unwrap().to_string();
            (*to, ruri, routes, cseq)
        })
        .collect();
    let events = events(&mut ep);
    Outcome {
        sent,
        events,
        ep,
        call,
    }
}

fn routes(n: usize, pad: usize, lr: bool) -> Vec<String> {
    (0..n)
        .map(|i| {
            let lr = if lr || i + 1 < n { ";lr" } else { "" };
            format!(
                "<sip:127.0.0.1:{};x={}{lr}>",
                6000 + i,
                "p".repeat(pad.max(1))
            )
        })
        .collect()
}

fn assert_ended(o: &Outcome, full: Capacity) {
    assert!(o.events.contains(&Event::Capacity(full)), "{:?}", o.events);
    assert!(
        o.events.iter().any(|e| matches!(
            e,
            Event::CallTerminated {
                reason: EndReason::LocalBye,
                ..
            }
        )),
        "{:?}",
        o.events
    );
    assert!(
        !o.events
            .iter()
            .any(|e| matches!(e, Event::CallEstablished { .. })),
        "{:?}",
        o.events
    );
}

#[test]
fn more_record_routes_than_a_dialog_keeps_get_ack_and_bye_along_them() {
    let rr = routes(MAX_ROUTES + 1, 0, true);
    let o = answered(&rr, "b1");
    assert_eq!(o.sent.len(), 2, "ACK and BYE");
    let reversed: Vec<String> = rr.iter().rev().cloned().collect();
    for ((to, ruri, route, _), method) in o.sent.iter().zip(["ACK", "BYE"]) {
        // Loose routing: the Request-URI is the Contact, the first hop the first route
        // (the last Record-Route, §12.1.2).
        assert_eq!(ruri, CONTACT, "{method}");
        assert_eq!(route, &reversed, "{method}");
        assert_eq!(
            *to,
            addr(&format!("127.0.0.1:{}", 6000 + MAX_ROUTES)),
            "{method}"
        );
    }
    assert_eq!(o.sent[0].3, "1 ACK");
    assert_eq!(o.sent[1].3, "2 BYE");
    assert_ended(&o, Capacity::RouteSet);
}

#[test]
fn record_routes_past_the_route_bytes_get_ack_and_bye_along_them() {
    let rr = routes(3, MAX_ROUTE_BYTES / 3, true);
    let o = answered(&rr, "b1");
    assert_eq!(o.sent.len(), 2);
    assert_eq!(o.sent[1].2.len(), 3);
    assert_eq!(o.sent[1].1, CONTACT);
    assert_ended(&o, Capacity::RouteSet);
}

#[test]
fn a_to_tag_past_the_bound_gets_ack_and_bye() {
    let tag = "t".repeat(MAX_TAG + 1);
    let o = answered(&[], &tag);
    assert_eq!(o.sent.len(), 2);
    for (to, ruri, route, _) in &o.sent {
        assert_eq!((ruri.as_str(), route.len()), (CONTACT, 0));
        assert_eq!(*to, addr(PEER));
    }
    assert_ended(&o, Capacity::String);
}

/// A strict router first (no `lr`, §12.2.1.1): it takes the Request-URI and the remote
/// target goes last, as for a kept dialog.
#[test]
fn a_strict_first_router_takes_the_request_uri() {
    // The last Record-Route is the first route, and the strict one.
    let rr = routes(MAX_ROUTES + 1, 0, false);
    let o = answered(&rr, "b1");
    assert_eq!(o.sent.len(), 2);
    let first = rr.last().unwrap();
    for (to, ruri, route, _) in &o.sent {
        assert_eq!(ruri, first.trim_start_matches('<').trim_end_matches('>'));
        assert_eq!(route.len(), MAX_ROUTES + 1);
        assert_eq!(route.last().unwrap(), &format!("<{CONTACT}>"));
        assert_eq!(*to, addr(&format!("127.0.0.1:{}", 6000 + MAX_ROUTES)));
    }
}

/// Within the bounds nothing changes: the call is up and its dialog keeps the routes.
#[test]
fn a_dialog_within_the_bounds_is_kept() {
    let o = answered(&routes(MAX_ROUTES, 0, true), "b1");
    assert_eq!(o.sent.len(), 1, "the ACK alone {:?}", o.events);
    assert!(
        o.events
            .iter()
            .any(|e| matches!(e, Event::CallEstablished { .. }))
    );
}

/// A 2xx without a To tag (an RFC 2543 peer's) makes a dialog whose remote tag is null
/// (§12.1.2): it is ACKed, the call is up, and its BYE carries a To without a tag.
#[test]
fn a_2xx_without_a_to_tag_makes_a_dialog_with_a_null_tag() {
    let mut o = answered(&[], "");
    assert_eq!(o.sent.len(), 1, "the ACK alone: {:?}", o.events);
    assert!(
        o.events
            .iter()
            .any(|e| matches!(e, Event::CallEstablished { .. })),
        "{:?}",
        o.events
    );
    o.ep.hangup(Instant::ZERO, o.call).unwrap();
    let out = sent(&mut o.ep);
    assert_eq!(methods(&out), ["BYE"]);
    let bye = parse(&out[0].1);
    assert_eq!(bye.to().unwrap().tag(), None);
    assert_eq!(bye.request_uri_raw().unwrap(), CONTACT.as_bytes());
}

/// A second fork's 2xx past the bounds, after the first fork's answered the call: that
/// fork alone is ACKed and BYEd along its own route set; the call stays up.
#[test]
fn another_forks_2xx_past_the_bounds_gets_ack_and_bye_and_the_call_stays() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (call, invite) = place_call(&mut ep, now, false);
    let contact = format!("<{CONTACT}>");
    let first = response_to(&invite, 200, "a1", &[("Contact", &contact)], None);
    feed(&mut ep, now, &first);
    assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
    let rr = routes(MAX_ROUTES + 1, 1, true);
    let mut headers: Vec<(&str, &str)> = rr.iter().map(|r| ("Record-Route", r.as_str())).collect();
    headers.push(("Contact", &contact));
    feed(
        &mut ep,
        now,
        &response_to(&invite, 200, "b2", &headers, None),
    );
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["ACK", "BYE"]);
    for (to, bytes) in &out {
        let m = parse(bytes);
        assert_eq!(m.to().unwrap().tag(), Some("b2"));
        assert_eq!(m.headers_of(HeaderKind::Route).count(), MAX_ROUTES + 1);
        assert_eq!(*to, addr(&format!("127.0.0.1:{}", 6000 + MAX_ROUTES)));
    }
    let evs = events(&mut ep);
    assert!(
        !evs.iter()
            .any(|e| matches!(e, Event::CallTerminated { .. })),
        "{evs:?}"
    );
    // The call that is up is still this side's to end.
    ep.hangup(now, call).unwrap();
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["BYE"]);
    assert_eq!(parse(&out[0].1).to().unwrap().tag(), Some("a1"));
}

/// A 2xx whose Record-Route is malformed gives no route set to ACK along (§12.1.2): it
/// is discarded as malformed (§18.1.2), so the INVITE goes on waiting, as for a 2xx
/// lost on the way, until Timer B ends the call.
#[test]
fn a_2xx_with_a_malformed_record_route_is_discarded() {
    let rr = ["<sip:127.0.0.1:6000;lr".to_owned()];
    let mut o = answered(&rr, "b1");
    assert!(o.sent.is_empty());
    assert!(o.events.is_empty(), "{:?}", o.events);
    let later = Instant::ZERO + sansip::time::Duration::from_secs(40);
    o.ep.handle_timeout(later);
    let evs = events(&mut o.ep);
    assert!(
        evs.iter().any(|e| matches!(
            e,
            Event::CallTerminated {
                reason: EndReason::TimedOut,
                ..
            }
        )),
        "{evs:?}"
    );
}
