//! Review s8: a caller's 2xx whose dialog is past a `Dialog`'s bounds, a 2xx without a
//! To tag, and the host's own requests lingering as records.

mod scripted_support;

use sansip::Instant;
use sansip::dialog::MAX_ROUTES;
use sansip::endpoint::{Event, Transport};
use sansip::message::Method;
use scripted_support::*;

/// Another fork's 2xx past the bounds is ACKed and BYEd once; a retransmission of it
/// (its ACK crossed it) gets the ACK again, as a kept fork's does, and no second BYE:
/// one reusing the first's CSeq number is a new request with a number not above it
/// (RFC 3261 §12.2.1.1, §13.2.2.4).
#[test]
fn another_forks_unkept_2xx_retransmitted_gets_no_second_bye() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (_, invite) = place_call(&mut ep, now, false);
    let first = response_to(&invite, 200, "a1", &[("Contact", CONTACT)], None);
    feed(&mut ep, now, &first);
    assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
    let other = routed_ok(&invite, "b2", MAX_ROUTES + 1);
    feed(&mut ep, now, &other);
    assert_eq!(methods(&sent(&mut ep)), ["ACK", "BYE"]);
    events(&mut ep);
    feed(&mut ep, now, &other);
    let out = sent(&mut ep);
    assert_eq!(
        methods(&out),
        ["ACK"],
        "a retransmitted 2xx is ACKed again only"
    );
    assert_eq!(parse(&out[0].1).to().unwrap().tag(), Some("b2"));
}

/// The same for a kept fork: the reference behaviour.
#[test]
fn another_forks_kept_2xx_retransmitted_gets_no_second_bye() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (_, invite) = place_call(&mut ep, now, false);
    let first = response_to(&invite, 200, "a1", &[("Contact", CONTACT)], None);
    feed(&mut ep, now, &first);
    assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
    let other = response_to(&invite, 200, "b2", &[("Contact", CONTACT)], None);
    feed(&mut ep, now, &other);
    assert_eq!(methods(&sent(&mut ep)), ["ACK", "BYE"]);
    events(&mut ep);
    feed(&mut ep, now, &other);
    assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
}

/// Another fork's 2xx with a To tag past `MAX_TAG`: ACKed and BYEd once, and only ACKed
/// again when retransmitted.
#[test]
fn another_forks_2xx_with_a_long_tag_gets_one_bye() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (_, invite) = place_call(&mut ep, now, false);
    let first = response_to(&invite, 200, "a1", &[("Contact", CONTACT)], None);
    feed(&mut ep, now, &first);
    assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
    let tag = "t".repeat(sansip::dialog::MAX_TAG + 1);
    let other = response_to(&invite, 200, &tag, &[("Contact", CONTACT)], None);
    feed(&mut ep, now, &other);
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["ACK", "BYE"]);
    assert_eq!(parse(&out[1].1).to().unwrap().tag(), Some(tag.as_str()));
    events(&mut ep);
    feed(&mut ep, now, &other);
    assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
}

/// The 2xx confirming an early dialog (same To tag as the 180) whose own route set is past
/// the bounds: its route set is the 2xx's (RFC 3261 §13.2.2.4, §12.1.2), not the 180's, so
/// it is ACKed and BYEd along those routes and the call ends, as for a 2xx with no early
/// dialog before it.
#[test]
fn a_2xx_confirming_an_early_dialog_past_the_bounds_is_acked_along_its_routes() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (_, invite) = ringing_call(&mut ep, now);
    assert!(sent(&mut ep).is_empty());
    feed(&mut ep, now, &routed_ok(&invite, "b1", MAX_ROUTES + 1));
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["ACK", "BYE"]);
    for (to, bytes) in &out {
        let m = parse(bytes);
        assert_eq!(
            m.headers_of(sansip::message::HeaderKind::Route).count(),
            MAX_ROUTES + 1
        );
        assert_eq!(*to, addr(&format!("127.0.0.1:{}", 6000 + MAX_ROUTES)));
    }
    let evs = events(&mut ep);
    assert!(
        evs.contains(&Event::Capacity(sansip::error::Capacity::RouteSet)),
        "{evs:?}"
    );
    assert!(
        !evs.iter()
            .any(|e| matches!(e, Event::CallEstablished { .. })),
        "{evs:?}"
    );
    assert!(
        evs.iter()
            .any(|e| matches!(e, Event::CallTerminated { .. })),
        "{evs:?}"
    );
    assert_eq!(ep.call_count(), 0);
}

/// A header's value in `m`, as text.
fn header(m: &sansip::message::Message<'_>, kind: sansip::message::HeaderKind) -> String {
    String::from_utf8(m.header(kind).unwrap().value.to_vec()).unwrap()
}

/// A 2xx to SUBSCRIBE without a To tag (a notifier that forgot it; SUBSCRIBE is not an
/// RFC 2543 method, so the null tag of RFC 3261 §12.1.2 is no one's dialog): the NOTIFY,
/// whose From carries the notifier's tag (§8.1.1.3), makes the subscription's dialog, as
/// a NOTIFY before any 2xx does (RFC 6665 §4.1.2.4). It used to be refused 481, the
/// subscription left on a dialog no NOTIFY matches.
#[test]
fn a_subscribe_2xx_without_a_to_tag_leaves_the_dialog_to_the_notify() {
    use sansip::endpoint::Subscribe;
    use sansip::message::HeaderKind;
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let sub = ep
        .subscribe(
            now,
            addr(PEER),
            &Subscribe::new(
                &format!("sip:bob@{PEER}"),
                "<sip:alice@127.0.0.1>",
                "<sip:bob@127.0.0.1>",
                "presence",
                100,
            ),
        )
        .unwrap();
    let subscribe = sent(&mut ep).pop().unwrap().1;
    let m = parse(&subscribe);
    let ok = format!(
        "SIP/2.0 202 Accepted\r\nVia: {}\r\nFrom: {}\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {}\r\nContact: <sip:bob@{PEER}>\r\nExpires: 100\r\nContent-Length: 0\r\n\r\n",
        header(&m, HeaderKind::Via),
        header(&m, HeaderKind::From),
        header(&m, HeaderKind::To),
        header(&m, HeaderKind::CallId),
        header(&m, HeaderKind::CSeq),
    );
    feed(&mut ep, now, ok.as_bytes());
    events(&mut ep);
    let notify = format!(
        "NOTIFY sip:sansip@{LOCAL} SIP/2.0\r\nVia: SIP/2.0/UDP {PEER};branch=z9hG4bKn1\r\nMax-Forwards: 70\r\nFrom: {};tag=notifier\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: 1 NOTIFY\r\nContact: <sip:bob@{PEER}>\r\nEvent: presence\r\nSubscription-State: active;expires=100\r\nContent-Length: 0\r\n\r\n",
        header(&m, HeaderKind::To),
        header(&m, HeaderKind::From),
        header(&m, HeaderKind::CallId),
    );
    feed(&mut ep, now, notify.as_bytes());
    let out = sent(&mut ep);
    assert!(
        !statuses(&out).contains(&(481, "NOTIFY".into())),
        "{:?}",
        statuses(&out)
    );
    let evs = events(&mut ep);
    assert!(
        evs.iter()
            .any(|e| matches!(e, Event::Notify { sub: s, .. } if *s == sub)),
        "{evs:?}"
    );
}

/// The endpoint's INVITE answered 200 with `rr` (whole `Record-Route:` lines), To tag b1.
fn ok_with(invite: &[u8], rr: &str) -> Vec<u8> {
    use sansip::message::HeaderKind;
    let m = parse(invite);
    format!(
        "SIP/2.0 200 OK\r\nVia: {}\r\n{rr}From: {}\r\nTo: {};tag=b1\r\nCall-ID: {}\r\nCSeq: {}\r\nContact: {CONTACT}\r\nContent-Length: 0\r\n\r\n",
        header(&m, HeaderKind::Via),
        header(&m, HeaderKind::From),
        header(&m, HeaderKind::To),
        header(&m, HeaderKind::CallId),
        header(&m, HeaderKind::CSeq),
    )
    .into_bytes()
}

/// Every Route value of `m`, in order, whatever the lines they are written on.
fn route_values(m: &sansip::message::Message<'_>) -> Vec<String> {
    m.routes()
        .map(|r| format!("<{}>", r.unwrap().uri().as_str()))
        .collect()
}

/// Place a call, answer it with `rr`, and give what went out and the events.
fn answered_with(rr: &str) -> (Vec<(std::net::SocketAddr, Vec<u8>)>, Vec<Event>) {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (_, invite) = place_call(&mut ep, now, false);
    feed(&mut ep, now, &ok_with(&invite, rr));
    (sent(&mut ep), events(&mut ep))
}

/// More Record-Routes than a builder has Route headers for (17 here): the ACK and BYE
/// still go along all of them (RFC 3261 §13.2.2.4: every 2xx is ACKed), the values past
/// the room sharing a header (§7.3.1). They used to be neither sent, the call reported
/// ended by a BYE all the same.
#[test]
fn a_2xx_with_more_record_routes_than_header_room_is_acked_and_byed() {
    let n = 17;
    let rr: String = (0..n)
        .map(|i| format!("Record-Route: <sip:127.0.0.1:{};lr>\r\n", 6000 + i))
        .collect();
    let (out, evs) = answered_with(&rr);
    assert_eq!(methods(&out), ["ACK", "BYE"], "{evs:?}");
    let want: Vec<String> = (0..n)
        .rev()
        .map(|i| format!("<sip:127.0.0.1:{};lr>", 6000 + i))
        .collect();
    for (to, bytes) in &out {
        let m = parse(bytes);
        assert_eq!(route_values(&m), want);
        assert_eq!(m.request_uri_raw().unwrap(), b"sip:bob@127.0.0.1:5070");
        assert_eq!(*to, addr(&format!("127.0.0.1:{}", 6000 + n - 1)));
    }
}

/// Record-Routes written as bare addr-specs, which the parser takes (and a kept dialog
/// routes along): past the bounds they are ACKed and BYEd along them too, in angle
/// brackets as a kept dialog writes them. They used to be neither sent.
#[test]
fn bare_record_routes_past_the_bounds_are_acked_and_byed() {
    let n = MAX_ROUTES + 1;
    let rr: String = (0..n)
        .map(|i| format!("Record-Route: sip:127.0.0.1:{};lr\r\n", 6000 + i))
        .collect();
    let (out, evs) = answered_with(&rr);
    assert_eq!(methods(&out), ["ACK", "BYE"], "{evs:?}");
    // `;lr` of a bare addr-spec is a header parameter: the first route is a strict
    // router, which takes the Request-URI; the remote target goes last.
    let mut want: Vec<String> = (0..n - 1)
        .rev()
        .map(|i| format!("<sip:127.0.0.1:{}>", 6000 + i))
        .collect();
    want.push(CONTACT.to_owned());
    for (to, bytes) in &out {
        let m = parse(bytes);
        assert_eq!(route_values(&m), want);
        let first = format!("sip:127.0.0.1:{}", 6000 + n - 1);
        assert_eq!(m.request_uri_raw().unwrap(), first.as_bytes());
        assert_eq!(*to, addr(&format!("127.0.0.1:{}", 6000 + n - 1)));
    }
}

/// A strict first router whose URI has a `method` parameter and headers: they cannot go
/// in a Request-URI (RFC 3261 §19.1.1), and a kept dialog leaves them out; so does the
/// request of a dialog past the bounds.
#[test]
fn a_strict_first_router_loses_what_a_request_uri_may_not_carry() {
    let n = MAX_ROUTES + 1;
    let rr: String = (0..n)
        .map(|i| {
            if i + 1 == n {
                format!(
                    "Record-Route: <sip:127.0.0.1:{};method=INVITE?x=y>\r\n",
                    6000 + i
                )
            } else {
                format!("Record-Route: <sip:127.0.0.1:{};lr>\r\n", 6000 + i)
            }
        })
        .collect();
    let (out, evs) = answered_with(&rr);
    assert_eq!(methods(&out), ["ACK", "BYE"], "{evs:?}");
    for (_, bytes) in &out {
        let m = parse(bytes);
        let first = format!("sip:127.0.0.1:{}", 6000 + n - 1);
        assert_eq!(m.request_uri_raw().unwrap(), first.as_bytes());
        assert_eq!(route_values(&m).len(), n);
    }
}

/// A 2xx to a re-INVITE creates no dialog: its Record-Route is not read (RFC 3261
/// §12.2.1.2: a target refresh leaves the route set as it is), so a malformed one (say a
/// proxy copied it from the request) does not make the 2xx malformed. It is ACKed
/// (§13.2.2.4), as before the checks read it.
#[test]
fn a_reinvite_2xx_with_a_malformed_record_route_is_acked() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (call, invite) = place_call(&mut ep, now, false);
    let ok = response_to(&invite, 200, "b1", &[("Contact", CONTACT)], None);
    feed(&mut ep, now, &ok);
    assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
    events(&mut ep);
    ep.reinvite(now, call, &[], ("application/sdp", b"v=0\r\n"))
        .unwrap();
    let reinvite = sent(&mut ep).pop().unwrap().1;
    let ok = response_to(
        &reinvite,
        200,
        "b1",
        &[
            ("Contact", CONTACT),
            ("Record-Route", "<sip:127.0.0.1:6000;lr"),
        ],
        Some(b"v=0\r\n"),
    );
    feed(&mut ep, now, &ok);
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["ACK"], "{:?}", events(&mut ep));
}

/// Two more forks answer 2xx after the call is up, each with a To tag past `MAX_TAG`
/// (different tags, so different dialogs, RFC 3261 §12.1.2): each is ACKed and BYEd
/// (§13.2.2.4). The second used to be taken for a retransmission of the first and got
/// no BYE.
#[test]
fn two_forks_with_long_tags_each_get_a_bye() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (_, invite) = place_call(&mut ep, now, false);
    feed(
        &mut ep,
        now,
        &response_to(&invite, 200, "a1", &[("Contact", CONTACT)], None),
    );
    assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
    for t in ['x', 'y'] {
        let tag = t.to_string().repeat(sansip::dialog::MAX_TAG + 1);
        let other = response_to(&invite, 200, &tag, &[("Contact", CONTACT)], None);
        feed(&mut ep, now, &other);
        let out = sent(&mut ep);
        assert_eq!(methods(&out), ["ACK", "BYE"], "fork {t}");
        assert_eq!(parse(&out[1].1).to().unwrap().tag(), Some(tag.as_str()));
        events(&mut ep);
    }
}

/// The host hung up (CANCEL sent) and a 2xx past the bounds raced the CANCEL: ACKed and
/// BYEd, and the call ends `Cancelled`, as `EndReason::Cancelled` says ("the TU gave up
/// while a 2xx raced the CANCEL") and as a kept 2xx's call does. It used to end
/// `LocalBye`.
#[test]
fn an_unkept_2xx_racing_the_cancel_ends_the_call_cancelled() {
    use sansip::dialog::EndReason;
    for kept in [true, false] {
        let mut ep = endpoint(Transport::Udp);
        let now = Instant::ZERO;
        let (call, invite) = ringing_call(&mut ep, now);
        ep.hangup(now, call).unwrap();
        assert_eq!(methods(&sent(&mut ep)), ["CANCEL"]);
        events(&mut ep);
        let hops = if kept { 1 } else { MAX_ROUTES + 1 };
        feed(&mut ep, now, &routed_ok(&invite, "b1", hops));
        assert_eq!(methods(&sent(&mut ep)), ["ACK", "BYE"], "kept {kept}");
        let evs = events(&mut ep);
        assert!(
            evs.contains(&Event::CallTerminated {
                call,
                reason: EndReason::Cancelled
            }),
            "kept {kept}: {evs:?}"
        );
    }
}

/// The caller sent an INFO in the early dialog (CSeq 2); the 2xx confirming that dialog is
/// past the bounds, so it is ACKed and BYEd straight from the messages. The BYE's CSeq
/// goes on from the INFO's (RFC 3261 §12.2.1.1: one higher than the last request's in
/// the dialog), as a kept dialog's does.
#[test]
fn the_bye_of_an_unkept_2xx_goes_on_from_the_early_dialogs_cseq() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (call, invite) = ringing_call(&mut ep, now);
    events(&mut ep);
    ep.request_in_call(now, call, Method::Info, &[], None)
        .unwrap();
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["INFO"]);
    let info = out[0].1.clone();
    assert_eq!(parse(&info).cseq().unwrap().seq(), 2);
    feed(&mut ep, now, &response_to(&info, 200, "b1", &[], None));
    events(&mut ep);
    feed(&mut ep, now, &routed_ok(&invite, "b1", MAX_ROUTES + 1));
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["ACK", "BYE"]);
    assert_eq!(
        parse(&out[1].1).cseq().unwrap().seq(),
        3,
        "after the INFO's 2"
    );
}

/// A 180 with a malformed Record-Route: the early dialog it would make is not made, but
/// the INVITE's transaction takes it as any provisional response (RFC 3261 §17.1.1.2:
/// Proceeding, no more retransmissions), so the host's hang-up is a CANCEL (§9.1). It
/// used to be discarded whole: the INVITE went on being retransmitted and the CANCEL
/// waited for a provisional response that never counted.
#[test]
fn a_180_with_a_malformed_record_route_still_counts_as_provisional() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (call, invite) = place_call(&mut ep, now, false);
    let ringing = response_to(
        &invite,
        180,
        "b1",
        &[
            ("Contact", CONTACT),
            ("Record-Route", "<sip:127.0.0.1:6000;lr"),
        ],
        None,
    );
    feed(&mut ep, now, &ringing);
    let evs = events(&mut ep);
    assert!(
        evs.iter()
            .any(|e| matches!(e, Event::Response { status, .. } if status.as_u16() == 180)),
        "{evs:?}"
    );
    ep.hangup(now, call).unwrap();
    assert_eq!(methods(&sent(&mut ep)), ["CANCEL"]);
}
