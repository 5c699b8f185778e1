//! Review s5b: dialog construction over TLS and SIPS (RFC 3261 §8.1.1.8, §12.1, §12.2),
//! target refresh by UPDATE (RFC 3311 §5), early dialogs turning confirmed (§12.2.2),
//! reliable transports (§17), RFC 3263 location. Driven through the public API: one
//! endpoint fed crafted datagrams from a scripted peer, its `poll_transmit` read back.
//! Each test asserts the RFC behaviour and cites its section.

mod scripted_support;

use scripted_support::*;

use sansip::Instant;
use sansip::endpoint::{CallHandle, Event, Request, Transport};
use sansip::message::{ContactValue, HeaderKind, Message, Method, StatusCode};

fn header(m: &Message<'_>, kind: HeaderKind) -> String {
    String::from_utf8_lossy(m.header(kind).unwrap().value).into_owned()
}

/// The URI of the first Contact of `m`.
fn contact_uri(m: &Message<'_>) -> String {
    match m.contacts().next().unwrap().unwrap() {
        ContactValue::Addr(na) => na.uri().as_str().to_owned(),
        other => panic!("{other:?}"),
    }
}

/// The Request-URI of `m`.
fn request_uri(m: &Message<'_>) -> String {
    m.request_uri().unwrap().unwrap().as_str().to_owned()
}

/// The transport token a Via of the scripted peer carries for `transport`.
fn token(transport: Transport) -> &'static str {
    transport.via_token()
}

/// A response from the scripted callee to `req` (Via, From, Call-ID, CSeq copied; To
/// with `tag`; Contact `contact`, and `extra` header lines).
fn answer_with(req: &[u8], code: u16, tag: Option<&str>, contact: &str, extra: &str) -> Vec<u8> {
    let m = parse(req);
    let to = match tag {
        Some(t) => format!("{};tag={t}", header(&m, HeaderKind::To)),
        None => header(&m, HeaderKind::To),
    };
    format!(
        "SIP/2.0 {code} Whatever\r\nVia: {}\r\nFrom: {}\r\nTo: {to}\r\nCall-ID: {}\r\nCSeq: {}\r\nContact: {contact}\r\n{extra}Content-Length: 0\r\n\r\n",
        header(&m, HeaderKind::Via),
        header(&m, HeaderKind::From),
        header(&m, HeaderKind::CallId),
        header(&m, HeaderKind::CSeq),
    )
    .into_bytes()
}

fn answer(req: &[u8], code: u16, tag: Option<&str>) -> Vec<u8> {
    answer_with(req, code, tag, &format!("<sip:bob@{PEER}>"), "")
}

/// A request from the scripted callee within the dialog of `invite` (sent by the
/// endpoint), whose To tag the callee chose as `tag`, with Contact `contact`.
fn from_callee_with(
    invite: &[u8],
    method: &str,
    branch: &str,
    cseq: u32,
    tag: &str,
    contact: &str,
) -> Vec<u8> {
    let m = parse(invite);
    format!(
        "{method} sip:alice@{LOCAL} SIP/2.0\r\nVia: SIP/2.0/UDP {PEER};branch={branch}\r\nMax-Forwards: 70\r\nFrom: {};tag={tag}\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {cseq} {method}\r\nContact: {contact}\r\nContent-Length: 0\r\n\r\n",
        header(&m, HeaderKind::To),
        header(&m, HeaderKind::From),
        header(&m, HeaderKind::CallId),
    )
    .into_bytes()
}

fn from_callee(invite: &[u8], method: &str, branch: &str, cseq: u32, tag: &str) -> Vec<u8> {
    from_callee_with(
        invite,
        method,
        branch,
        cseq,
        tag,
        &format!("<sip:bob@{PEER}>"),
    )
}

/// The endpoint places a call to `uri` at the scripted callee: gives the call and the
/// INVITE.
fn call_to(ep: &mut Ep, now: Instant, uri: &str) -> (CallHandle, Vec<u8>) {
    let req = Request {
        body: Some(("application/sdp", b"v=0\r\n")),
        ..Request::new(
            Method::Invite,
            uri,
            "<sip:alice@127.0.0.1>",
            "<sip:bob@127.0.0.1>",
        )
    };
    let call = ep.invite(now, addr(PEER), &req).unwrap();
    let out = sent(ep);
    assert_eq!(methods(&out), ["INVITE"]);
    (call, out[0].1.clone())
}

fn call_out(ep: &mut Ep, now: Instant) -> (CallHandle, Vec<u8>) {
    call_to(ep, now, &format!("sip:bob@{PEER}"))
}

/// An INVITE from the peer (Call-ID `s5b`, From tag `peer`) to `uri`, over `transport`.
fn invite_from_peer(uri: &str, transport: Transport) -> Vec<u8> {
    request_from_peer("INVITE", uri, transport, "z9hG4bKinv", 1, None)
}

fn request_from_peer(
    method: &str,
    uri: &str,
    transport: Transport,
    branch: &str,
    cseq: u32,
    to_tag: Option<&str>,
) -> Vec<u8> {
    let scheme = if uri.starts_with("sips:") {
        "sips"
    } else {
        "sip"
    };
    let to_tag = to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
    format!(
        "{method} {uri} SIP/2.0\r\n\
         Via: SIP/2.0/{} {PEER};branch={branch}\r\n\
         Max-Forwards: 70\r\n\
         From: <{scheme}:alice@127.0.0.1>;tag=peer\r\n\
         To: <{scheme}:bob@127.0.0.1>{to_tag}\r\n\
         Call-ID: s5b\r\n\
         CSeq: {cseq} {method}\r\n\
         Contact: <{scheme}:alice@{PEER}>\r\n\
         Content-Length: 0\r\n\r\n",
        token(transport)
    )
    .into_bytes()
}

// ----- §12.1: the secure flag, §8.1.1.8: a SIPS Contact -------------------------------

/// RFC 3261 §12.1.2: "If the request was sent over TLS, and the Request-URI contained a
/// SIPS URI, the "secure" flag is set to TRUE." The endpoint's host runs TLS and the
/// caller's INVITE goes to a SIPS URI: its dialog is secure.
#[test]
fn a_call_placed_over_tls_to_a_sips_uri_has_a_secure_dialog() {
    let mut ep = endpoint(Transport::Tls);
    let now = Instant::ZERO;
    let (call, invite) = call_to(&mut ep, now, &format!("sips:bob@{PEER}"));
    feed(
        &mut ep,
        now,
        &answer_with(
            &invite,
            200,
            Some("callee"),
            &format!("<sips:bob@{PEER}>"),
            "",
        ),
    );
    assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
    let d = ep.call_dialog(call).expect("the call's dialog");
    assert!(d.is_secure(), "§12.1.2: TLS + SIPS Request-URI => secure");
}

/// RFC 3261 §12.1.1: "If the request arrived over TLS, and the Request-URI contained a
/// SIPS URI, the "secure" flag is set to TRUE."
#[test]
fn a_call_received_over_tls_for_a_sips_uri_has_a_secure_dialog() {
    let mut ep = endpoint(Transport::Tls);
    let now = Instant::ZERO;
    feed(
        &mut ep,
        now,
        &invite_from_peer(&format!("sips:bob@{LOCAL}"), Transport::Tls),
    );
    let evs = events(&mut ep);
    let (tx, call) = incoming(&evs)[0];
    let call = call.unwrap();
    ep.respond(
        now,
        tx,
        StatusCode::OK,
        Some(("application/sdp", b"v=0\r\n")),
    )
    .unwrap();
    sent(&mut ep);
    let d = ep.call_dialog(call).expect("the call's dialog");
    assert!(d.is_secure(), "§12.1.1: TLS + SIPS Request-URI => secure");
}

/// RFC 3261 §8.1.1.8: "If the Request-URI or top Route header field value contains a
/// SIPS URI, the Contact header field MUST contain a SIPS URI as well."
#[test]
fn an_invite_to_a_sips_uri_carries_a_sips_contact() {
    let mut ep = endpoint(Transport::Tls);
    let (_call, invite) = call_to(&mut ep, Instant::ZERO, &format!("sips:bob@{PEER}"));
    let contact = contact_uri(&parse(&invite));
    assert!(contact.starts_with("sips:"), "{contact}");
}

/// RFC 3261 §12.1.1: "If the request that initiated the dialog contained a SIPS URI in
/// the Request-URI [...], the Contact header field in the response MUST be a SIPS URI."
#[test]
fn the_answer_to_an_invite_for_a_sips_uri_carries_a_sips_contact() {
    let mut ep = endpoint(Transport::Tls);
    let now = Instant::ZERO;
    feed(
        &mut ep,
        now,
        &invite_from_peer(&format!("sips:bob@{LOCAL}"), Transport::Tls),
    );
    let evs = events(&mut ep);
    let (tx, _) = incoming(&evs)[0];
    ep.respond(
        now,
        tx,
        StatusCode::OK,
        Some(("application/sdp", b"v=0\r\n")),
    )
    .unwrap();
    let out = sent(&mut ep);
    let ok = out
        .iter()
        .map(|(_, b)| parse(b))
        .find(|m| m.status() == Some(StatusCode::OK))
        .unwrap();
    let contact = contact_uri(&ok);
    assert!(contact.starts_with("sips:"), "{contact}");
}

// ----- §8.1.2 / RFC 3263 §4.2: where in-dialog requests go ------------------------------

/// RFC 3263 §4.2 (used for in-dialog requests by RFC 3261 §8.1.2, §12.2.1.1): a target
/// with a numeric host and no port is reached on the default port of its transport:
/// 5061 for a SIPS URI (TLS), not 5060.
#[test]
fn a_bye_to_a_sips_target_without_a_port_goes_to_5061() {
    let mut ep = endpoint(Transport::Tls);
    let now = Instant::ZERO;
    let (call, invite) = call_to(&mut ep, now, &format!("sips:bob@{PEER}"));
    feed(
        &mut ep,
        now,
        &answer_with(&invite, 200, Some("callee"), "<sips:bob@127.0.0.1>", ""),
    );
    assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
    ep.hangup(now, call).unwrap();
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["BYE"]);
    assert_eq!(out[0].0, addr("127.0.0.1:5061"));
}

/// RFC 3263 §4.1/§4.2 (through RFC 3261 §8.1.2): the `maddr` parameter of the target
/// names the address to send to.
#[test]
fn a_bye_to_a_target_with_maddr_goes_to_the_maddr() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (call, invite) = call_out(&mut ep, now);
    feed(
        &mut ep,
        now,
        &answer_with(
            &invite,
            200,
            Some("callee"),
            "<sip:bob@example.com:5090;maddr=127.0.0.9>",
            "",
        ),
    );
    assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
    ep.hangup(now, call).unwrap();
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["BYE"]);
    assert_eq!(out[0].0, addr("127.0.0.9:5090"));
}

// ----- RFC 3311 §5: UPDATE is a target refresh request -----------------------------------

/// RFC 3261 §12.2.1.2: "If the response for a request within a dialog is a 2xx to a
/// target refresh request, the remote target [...] is replaced"; RFC 3311 §5.1: UPDATE is
/// a target refresh request. The callee answers the caller's UPDATE with a new Contact:
/// the caller's BYE goes there.
#[test]
fn a_2xx_to_our_update_refreshes_the_remote_target() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (call, invite) = call_out(&mut ep, now);
    feed(&mut ep, now, &answer(&invite, 200, Some("callee")));
    assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
    ep.request_in_call(now, call, Method::Update, &[], None)
        .unwrap();
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["UPDATE"]);
    feed(
        &mut ep,
        now,
        &answer_with(&out[0].1, 200, None, "<sip:bob@127.0.0.1:5071>", ""),
    );
    events(&mut ep);
    ep.hangup(now, call).unwrap();
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["BYE"]);
    assert_eq!(request_uri(&parse(&out[0].1)), "sip:bob@127.0.0.1:5071");
    assert_eq!(out[0].0, addr("127.0.0.1:5071"));
}

/// RFC 3261 §12.2.2 / RFC 3311 §5.2: a UAS that accepts a target refresh request
/// (UPDATE) replaces the remote target with its Contact. The callee's BYE goes to the
/// Contact of the caller's UPDATE.
#[test]
fn an_update_we_accept_refreshes_the_remote_target() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (call, invite) = call_out(&mut ep, now);
    feed(&mut ep, now, &answer(&invite, 200, Some("callee")));
    assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
    events(&mut ep);
    feed(
        &mut ep,
        now,
        &from_callee_with(
            &invite,
            "UPDATE",
            "z9hG4bKupd",
            7,
            "callee",
            "<sip:bob@127.0.0.1:5071>",
        ),
    );
    let evs = events(&mut ep);
    let (tx, c) = incoming(&evs)[0];
    assert_eq!(c, Some(call));
    ep.respond(now, tx, StatusCode::OK, None).unwrap();
    assert_eq!(statuses(&sent(&mut ep)), [(200, "UPDATE".to_owned())]);
    ep.hangup(now, call).unwrap();
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["BYE"]);
    assert_eq!(request_uri(&parse(&out[0].1)), "sip:bob@127.0.0.1:5071");
    assert_eq!(out[0].0, addr("127.0.0.1:5071"));
}

/// RFC 3311 §5.2 with RFC 6141 §3.4: an UPDATE that is refused does not change the
/// remote target (passes on the current code: pins that the fix above only applies to
/// a 2xx).
#[test]
fn an_update_we_refuse_leaves_the_remote_target() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (call, invite) = call_out(&mut ep, now);
    feed(&mut ep, now, &answer(&invite, 200, Some("callee")));
    assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
    events(&mut ep);
    feed(
        &mut ep,
        now,
        &from_callee_with(
            &invite,
            "UPDATE",
            "z9hG4bKupd",
            7,
            "callee",
            "<sip:bob@127.0.0.1:5071>",
        ),
    );
    let evs = events(&mut ep);
    let (tx, _) = incoming(&evs)[0];
    ep.respond(now, tx, StatusCode::new(488).unwrap(), None)
        .unwrap();
    sent(&mut ep);
    ep.hangup(now, call).unwrap();
    let out = sent(&mut ep);
    assert_eq!(request_uri(&parse(&out[0].1)), format!("sip:bob@{PEER}"));
}

// ----- §12.2.2: the early dialog's remote CSeq -------------------------------------------

/// RFC 3261 §12.2.2: a request whose CSeq is lower than the dialog's remote CSeq is out
/// of order (500). The callee's INFO in the early dialog set the remote CSeq to 5; the
/// 2xx confirms that same dialog (§13.2.2.4), so a new INFO with CSeq 4 is still out of
/// order.
#[test]
fn the_early_dialogs_remote_cseq_carries_into_the_confirmed_dialog() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (call, invite) = call_out(&mut ep, now);
    feed(&mut ep, now, &answer(&invite, 180, Some("callee")));
    events(&mut ep);
    feed(
        &mut ep,
        now,
        &from_callee(&invite, "INFO", "z9hG4bKinfo5", 5, "callee"),
    );
    let evs = events(&mut ep);
    let (tx, c) = incoming(&evs)[0];
    assert_eq!(c, Some(call));
    ep.respond(now, tx, StatusCode::OK, None).unwrap();
    assert_eq!(statuses(&sent(&mut ep)), [(200, "INFO".to_owned())]);
    feed(&mut ep, now, &answer(&invite, 200, Some("callee")));
    assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
    events(&mut ep);
    feed(
        &mut ep,
        now,
        &from_callee(&invite, "INFO", "z9hG4bKinfo4", 4, "callee"),
    );
    assert_eq!(statuses(&sent(&mut ep)), [(500, "INFO".to_owned())]);
}

// ----- §17: reliable transports -----------------------------------------------------------

/// RFC 3261 §17.1.2.2 (Timer K), §17.2.2 (Timer J), §17.1.1.2 (Timer D), §17.2.1
/// (Timer I): zero on a reliable transport, so every transaction is gone as soon as it
/// completes (a client transaction once the host has drained the events that report its
/// final response). New coverage: the endpoint-level tests only check the end of a whole call.
#[test]
fn completed_transactions_end_at_once_over_tcp() {
    let mut ep = endpoint(Transport::Tcp);
    let now = Instant::ZERO;
    // Client non-INVITE: 200 -> Completed -> K = 0.
    let req = Request::new(
        Method::Options,
        "sip:bob@127.0.0.1:5070",
        "<sip:alice@127.0.0.1>",
        "<sip:bob@127.0.0.1>",
    );
    ep.send_request(now, addr(PEER), &req).unwrap();
    let out = sent(&mut ep);
    feed(&mut ep, now, &answer(&out[0].1, 200, Some("b")));
    ep.handle_timeout(now);
    // The host reads the response while it handles the event (tests/stream_transport.rs);
    // once the events are drained the transaction is gone.
    events(&mut ep);
    assert_eq!(ep.transaction_count(), 0, "Timer K is 0 over TCP");
    // Server non-INVITE: 200 -> Completed -> J = 0.
    feed(
        &mut ep,
        now,
        &request_from_peer(
            "OPTIONS",
            &format!("sip:bob@{LOCAL}"),
            Transport::Tcp,
            "z9hG4bKopt",
            1,
            None,
        ),
    );
    let evs = events(&mut ep);
    let (tx, _) = incoming(&evs)[0];
    ep.respond(now, tx, StatusCode::OK, None).unwrap();
    sent(&mut ep);
    ep.handle_timeout(now);
    assert_eq!(ep.transaction_count(), 0, "Timer J is 0 over TCP");
    // Client INVITE: 486 -> ACK, Completed -> D = 0.
    let (_call, invite) = call_out(&mut ep, now);
    feed(&mut ep, now, &answer(&invite, 486, Some("busy")));
    assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
    ep.handle_timeout(now);
    events(&mut ep);
    assert_eq!(ep.transaction_count(), 0, "Timer D is 0 over TCP");
    // Server INVITE: 486 -> ACK -> Confirmed -> I = 0.
    feed(
        &mut ep,
        now,
        &invite_from_peer(&format!("sip:bob@{LOCAL}"), Transport::Tcp),
    );
    let evs = events(&mut ep);
    let (tx, _) = incoming(&evs)[0];
    ep.respond(now, tx, StatusCode::BUSY_HERE, None).unwrap();
    let out = sent(&mut ep);
    let to = header(&parse(&out.last().unwrap().1), HeaderKind::To);
    let tag = to.split("tag=").nth(1).unwrap().to_owned();
    feed(
        &mut ep,
        now,
        &request_from_peer(
            "ACK",
            &format!("sip:bob@{LOCAL}"),
            Transport::Tcp,
            "z9hG4bKinv",
            1,
            Some(&tag),
        ),
    );
    ep.handle_timeout(now);
    assert_eq!(ep.transaction_count(), 0, "Timer I is 0 over TCP");
    // Nothing was retransmitted (§17.1.1.2, §17.1.2.2, §17.2.1: no A, E, G on TCP).
    let later = Instant::from_millis(40_000);
    ep.handle_timeout(later);
    assert!(sent(&mut ep).is_empty());
}

// ----- RFC 6665 §4.1.2.2: a subscription whose refreshes fail ---------------------------

/// A request the endpoint sent (`req`), answered by the scripted notifier with `code`,
/// To tag `notifier`, and `extra` header lines.
fn answer_sub(req: &[u8], code: u16, extra: &str) -> Vec<u8> {
    let m = parse(req);
    let to = header(&m, HeaderKind::To);
    let to = if to.contains("tag=") {
        to
    } else {
        format!("{to};tag=notifier")
    };
    format!(
        "SIP/2.0 {code} Whatever\r\nVia: {}\r\nFrom: {}\r\nTo: {to}\r\nCall-ID: {}\r\nCSeq: {}\r\nContact: <sip:bob@{PEER}>\r\n{extra}Content-Length: 0\r\n\r\n",
        header(&m, HeaderKind::Via),
        header(&m, HeaderKind::From),
        header(&m, HeaderKind::CallId),
        header(&m, HeaderKind::CSeq),
    )
    .into_bytes()
}

/// A NOTIFY of the scripted notifier in the dialog of `subscribe`.
fn notify_for(subscribe: &[u8], cseq: u32, state: &str) -> Vec<u8> {
    let m = parse(subscribe);
    format!(
        "NOTIFY sip:sansip@{LOCAL} SIP/2.0\r\nVia: SIP/2.0/UDP {PEER};branch=z9hG4bKn{cseq}\r\nMax-Forwards: 70\r\nFrom: {};tag=notifier\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {cseq} NOTIFY\r\nContact: <sip:bob@{PEER}>\r\nEvent: presence\r\nSubscription-State: {state}\r\nContent-Length: 0\r\n\r\n",
        header(&m, HeaderKind::To),
        header(&m, HeaderKind::From),
        header(&m, HeaderKind::CallId),
    )
    .into_bytes()
}

/// RFC 6665 §4.1.2.2: "If a SUBSCRIBE request to refresh a subscription fails with any
/// error code other than those listed above, the original subscription is still
/// considered valid for the duration of the most recently known "Expires" value as
/// negotiated by the most recent successful SUBSCRIBE transaction, or as communicated by
/// a NOTIFY request in its "Subscription-State" header field "expires" parameter." Past
/// that it is over: a subscriber whose every refresh gets 503 must not believe itself
/// subscribed for ever.
#[test]
fn a_subscription_whose_refreshes_keep_failing_ends_when_it_expires() {
    use sansip::endpoint::Subscribe;
    let mut ep = endpoint(Transport::Udp);
    let mut now = Instant::ZERO;
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
    let out = sent(&mut ep);
    let subscribe = out[0].1.clone();
    feed(
        &mut ep,
        now,
        &answer_sub(&subscribe, 200, "Expires: 100\r\n"),
    );
    feed(
        &mut ep,
        now,
        &notify_for(&subscribe, 1, "active;expires=100"),
    );
    for (tx, _) in incoming(&events(&mut ep)) {
        ep.respond(now, tx, StatusCode::OK, None).unwrap();
    }
    for e in events(&mut ep) {
        if let Event::Notify { tx, .. } = e {
            ep.respond(now, tx, StatusCode::OK, None).unwrap();
        }
    }
    sent(&mut ep);
    // Every refresh is answered 503 (a failure that leaves the subscription valid).
    let mut ended = None;
    while let Some(t) = ep.poll_timeout() {
        if t.as_millis() > 200_000 {
            break;
        }
        now = t;
        ep.handle_timeout(now);
        for (_, bytes) in sent(&mut ep) {
            let m = parse(&bytes);
            if m.method() == Some(Method::Subscribe) {
                feed(&mut ep, now, &answer_sub(&bytes, 503, "Retry-After: 1\r\n"));
            }
        }
        for e in events(&mut ep) {
            if let Event::SubscriptionTerminated { sub: s, .. } = e {
                assert_eq!(s, sub);
                ended.get_or_insert(now.as_millis());
            }
        }
    }
    let state = ep.subscription_state(sub);
    let ended = ended.unwrap_or_else(|| {
        panic!("the subscription ends once its 100 s are over; at 200 s it is {state:?}")
    });
    // T4 of grace for a terminating NOTIFY the notifier sends at the expiry (§4.2.2).
    assert!(ended <= 100_000 + 5_000, "ended at {ended} ms");
}

// ----- §12.2.1.1 / §16.12.1.2: routing in-dialog requests ---------------------------------

/// The Route header values of `m`, in order, one per value.
fn routes(m: &Message<'_>) -> Vec<String> {
    m.headers_of(HeaderKind::Route)
        .flat_map(|h| {
            String::from_utf8_lossy(h.value)
                .split(',')
                .map(|r| r.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// RFC 3261 §12.1.2: the caller's route set is the 2xx's Record-Route reversed;
/// §12.2.1.1: when its first entry has no `lr` (a strict router, §16.12.1.2), it becomes
/// the Request-URI (without the parameters a Request-URI may not have), the rest of the
/// route set follows as Route, and the remote target goes last; the request is sent to
/// that first entry. Passes: new coverage at the endpoint level (tests/dialog.rs covers
/// the `Dialog` alone).
#[test]
fn a_bye_through_a_strict_router_puts_it_in_the_request_uri() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (call, invite) = call_out(&mut ep, now);
    feed(
        &mut ep,
        now,
        &answer_with(
            &invite,
            200,
            Some("callee"),
            &format!("<sip:bob@{PEER}>"),
            "Record-Route: <sip:p2@127.0.0.1:5082;lr>, <sip:p1@127.0.0.1:5081;method=INVITE>\r\n",
        ),
    );
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["ACK"]);
    // The ACK of the 2xx is routed the same way (§13.2.2.4).
    let ack = parse(&out[0].1);
    assert_eq!(request_uri(&ack), "sip:p1@127.0.0.1:5081");
    assert_eq!(out[0].0, addr("127.0.0.1:5081"));
    ep.hangup(now, call).unwrap();
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["BYE"]);
    let bye = parse(&out[0].1);
    assert_eq!(request_uri(&bye), "sip:p1@127.0.0.1:5081");
    assert_eq!(
        routes(&bye),
        [
            "<sip:p2@127.0.0.1:5082;lr>".to_owned(),
            format!("<sip:bob@{PEER}>")
        ]
    );
    assert_eq!(out[0].0, addr("127.0.0.1:5081"));
}

/// Loose routing (§12.2.1.1): the first route has `lr`: the Request-URI is the remote
/// target, the Route headers are the route set in order, and the request goes to the
/// first route (§8.1.2). Passes: new coverage at the endpoint level.
#[test]
fn a_bye_through_loose_routers_keeps_the_target_as_request_uri() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (call, invite) = call_out(&mut ep, now);
    feed(
        &mut ep,
        now,
        &answer_with(
            &invite,
            200,
            Some("callee"),
            &format!("<sip:bob@{PEER}>"),
            "Record-Route: <sip:p2@127.0.0.1:5082;lr>\r\nRecord-Route: <sip:p1@127.0.0.1:5081;lr>\r\n",
        ),
    );
    sent(&mut ep);
    ep.hangup(now, call).unwrap();
    let out = sent(&mut ep);
    let bye = parse(&out[0].1);
    assert_eq!(request_uri(&bye), format!("sip:bob@{PEER}"));
    assert_eq!(
        routes(&bye),
        ["<sip:p1@127.0.0.1:5081;lr>", "<sip:p2@127.0.0.1:5082;lr>"]
    );
    assert_eq!(out[0].0, addr("127.0.0.1:5081"));
}

// ----- RFC 3263 / RFC 4168: SIPS over SCTP ----------------------------------------------

/// RFC 4168 §5 and RFC 3263 §4.1: a SIPS URI may ask for SCTP (TLS over SCTP, service
/// `SIPS+D2S`, SRV `_sips._sctp`, default port 5061). `locate::plan` refuses it as
/// insecure, although `select_naptr` keeps `SIPS+D2S` for a SIPS URI and `SrvName`
/// writes `_sips._sctp`.
#[test]
fn a_sips_uri_may_ask_for_sctp() {
    use sansip::locate::{self, Plan};
    use sansip::message::{Transport as T, Uri};
    let plan = |s: &'static str| match Uri::parse(s.as_bytes()).unwrap() {
        Uri::Sip(u) => locate::plan(&u),
        _ => unreachable!(),
    };
    assert_eq!(
        plan("sips:bob@example.com;transport=sctp"),
        Ok(Plan::Srv {
            host: "example.com",
            transport: T::Sctp,
            secure: true
        })
    );
    assert_eq!(
        plan("sips:bob@192.0.2.1;transport=sctp"),
        Ok(Plan::Address {
            ip: "192.0.2.1".parse().unwrap(),
            port: 5061,
            transport: T::Sctp
        })
    );
}

// ----- §10.2.4: the expiry granted to our binding -----------------------------------------

/// Datagrams sent: destination and bytes.
type Sent = Vec<(std::net::SocketAddr, Vec<u8>)>;

/// An endpoint over `transport` that has sent a REGISTER for `aor` to `registrar` at
/// time zero: the endpoint, the registration and what it sent.
fn registering(
    transport: Transport,
    registrar: &'static str,
    aor: &'static str,
) -> (Box<Ep>, sansip::endpoint::RegistrationHandle, Sent) {
    let mut ep = endpoint(transport);
    let binding = sansip::endpoint::Binding {
        registrar,
        aor,
        expires: 3600,
        username: "",
        password: "",
        realm: None,
    };
    let reg = ep.register(Instant::ZERO, addr(PEER), &binding).unwrap();
    let out = sent(&mut ep);
    (ep, reg, out)
}

/// Answer `register` with a 2xx listing `contacts` and `Expires: 1800`: the binding's
/// own `expires=60` must win.
fn assert_granted_60(
    ep: &mut Ep,
    register: &[u8],
    reg: sansip::endpoint::RegistrationHandle,
    contacts: &str,
) {
    let ok = answer_with(register, 200, Some("reg"), contacts, "Expires: 1800\r\n");
    feed(ep, Instant::ZERO, &ok);
    let events = events(ep);
    assert!(
        events.contains(&Event::Registered { reg, expires: 60 }),
        "our binding's own expires wins: {events:?}"
    );
}

/// RFC 3261 §10.2.4: the 2xx to a REGISTER lists every binding of the address of record
/// (§10.3 step 8); the expiry of ours is its Contact's `expires` parameter, which wins over
/// the `Expires` header and over the other bindings' parameters. The refresh then goes on
/// the same Call-ID with the next CSeq (§10.2.4), a tenth of the lifetime early. Passes:
/// new coverage (the endpoint tests list only the endpoint's own binding).
#[test]
fn the_expiry_of_our_binding_is_read_among_all_bindings() {
    let (mut ep, reg, out) = registering(Transport::Udp, "sip:127.0.0.1", "<sip:alice@127.0.0.1>");
    let first = parse(&out[0].1);
    let ours = contact_uri(&first);
    let contacts = format!(
        "<sip:alice@10.0.0.1:5060>;expires=3000, <{ours}>;expires=60, <sip:alice@10.0.0.2>"
    );
    assert_granted_60(&mut ep, &out[0].1, reg, &contacts);
    // Timer K (UDP) ends the REGISTER's transaction first; nothing is sent before 54 s.
    let mut out = Vec::new();
    while let Some(t) = ep.poll_timeout() {
        ep.handle_timeout(t);
        out = sent(&mut ep);
        if !out.is_empty() {
            assert_eq!(t, Instant::from_millis(54_000));
            break;
        }
    }
    let refresh = parse(&out[0].1);
    assert_eq!(refresh.method(), Some(Method::Register));
    assert_eq!(
        refresh.call_id().unwrap().as_str(),
        first.call_id().unwrap().as_str()
    );
    assert_eq!(
        refresh.cseq().unwrap().seq(),
        first.cseq().unwrap().seq() + 1
    );
}

/// The same with a SIPS registrar over TLS: the REGISTER carries the SIPS Contact
/// (§8.1.1.8), and the registrar lists that binding with its `expires`, which wins over
/// the `Expires` header. Failed before: only the plain `sip:` Contact was looked for, so
/// the grant fell back to the header (1800).
#[test]
fn the_expiry_of_our_sips_binding_is_read_too() {
    let (mut ep, reg, out) =
        registering(Transport::Tls, "sips:127.0.0.1", "<sips:alice@127.0.0.1>");
    let ours = contact_uri(&parse(&out[0].1));
    assert!(ours.starts_with("sips:"), "{ours}");
    let contacts = format!("<sip:alice@10.0.0.1:5060>;expires=3000, <{ours}>;expires=60");
    assert_granted_60(&mut ep, &out[0].1, reg, &contacts);
}

// ----- RFC 6665 §4.1.2.4: a NOTIFY first, then a 2xx from another fork -------------------

/// RFC 6665 §4.1.2.4 with RFC 3261 §12.2.1.2: the NOTIFY that came before the 2xx made
/// the subscription's dialog with its notifier (To tag `x`, Contact port 5071). A 2xx
/// from another fork (To tag `y`) belongs to another dialog and must not change this
/// one's remote target: the refresh goes to `x`'s Contact, with `x`'s tag.
#[test]
fn a_2xx_from_another_fork_does_not_retarget_the_notifiers_dialog() {
    use sansip::endpoint::Subscribe;
    let mut ep = endpoint(Transport::Udp);
    let mut now = Instant::ZERO;
    ep.subscribe(
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
    let subscribe = sent(&mut ep)[0].1.clone();
    let m = parse(&subscribe);
    let notify = format!(
        "NOTIFY sip:sansip@{LOCAL} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bKnx\r\nMax-Forwards: 70\r\nFrom: {};tag=x\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: 1 NOTIFY\r\nContact: <sip:bob@127.0.0.1:5071>\r\nEvent: presence\r\nSubscription-State: active;expires=100\r\nContent-Length: 0\r\n\r\n",
        header(&m, HeaderKind::To),
        header(&m, HeaderKind::From),
        header(&m, HeaderKind::CallId),
    );
    ep.handle_datagram(now, addr("127.0.0.1:5071"), notify.as_bytes());
    for e in events(&mut ep) {
        if let Event::Notify { tx, .. } = e {
            ep.respond(now, tx, StatusCode::OK, None).unwrap();
        }
    }
    sent(&mut ep);
    feed(
        &mut ep,
        now,
        &answer_with(
            &subscribe,
            200,
            Some("y"),
            "<sip:bob@127.0.0.1:5072>",
            "Expires: 100\r\n",
        ),
    );
    events(&mut ep);
    // The refresh, 90 s in.
    let mut refresh = None;
    while let Some(t) = ep.poll_timeout() {
        now = t;
        ep.handle_timeout(now);
        if let Some((to, bytes)) = sent(&mut ep)
            .into_iter()
            .find(|(_, b)| parse(b).method() == Some(Method::Subscribe))
        {
            refresh = Some((to, bytes));
            break;
        }
    }
    let (to, bytes) = refresh.expect("a refresh");
    let r = parse(&bytes);
    assert!(header(&r, HeaderKind::To).ends_with("tag=x"));
    assert_eq!(request_uri(&r), "sip:bob@127.0.0.1:5071");
    assert_eq!(to, addr("127.0.0.1:5071"));
}

// ----- §12.1.1: the callee's answers carry the Record-Route -------------------------------

/// The Record-Route values of `m`, in order, one per value.
fn record_routes(m: &Message<'_>) -> Vec<String> {
    m.headers_of(HeaderKind::RecordRoute)
        .flat_map(|h| {
            String::from_utf8_lossy(h.value)
                .split(',')
                .map(|r| r.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// RFC 3261 §12.1.1: "When a UAS responds to a request with a response that establishes a
/// dialog (such as a 2xx to INVITE), the UAS MUST copy all Record-Route header field
/// values from the request into the response [...] and MUST maintain the order of those
/// values." Without them the caller's route set is empty and its ACK and BYE bypass the
/// proxies that asked to stay on the path. The callee's own route set is the
/// Record-Route in order (§12.1.1), so its BYE goes through them.
#[test]
fn dialog_creating_responses_copy_the_record_route() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let invite = format!(
        "INVITE sip:bob@{LOCAL} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {PEER};branch=z9hG4bKrr\r\n\
         Max-Forwards: 70\r\n\
         Record-Route: <sip:p1@{PEER};lr>\r\n\
         Record-Route: <sip:p2@127.0.0.1:5081;lr;x=1>\r\n\
         From: <sip:alice@127.0.0.1>;tag=peer\r\n\
         To: <sip:bob@127.0.0.1>\r\n\
         Call-ID: s5b-rr\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:alice@127.0.0.1:5090>\r\n\
         Content-Length: 0\r\n\r\n"
    );
    feed(&mut ep, now, invite.as_bytes());
    let evs = events(&mut ep);
    let (tx, call) = incoming(&evs)[0];
    let call = call.unwrap();
    ep.respond(now, tx, StatusCode::RINGING, None).unwrap();
    ep.respond(
        now,
        tx,
        StatusCode::OK,
        Some(("application/sdp", b"v=0\r\n")),
    )
    .unwrap();
    let out = sent(&mut ep);
    let expected = [
        format!("<sip:p1@{PEER};lr>"),
        "<sip:p2@127.0.0.1:5081;lr;x=1>".to_owned(),
    ];
    for code in [180, 200] {
        let resp = out
            .iter()
            .map(|(_, b)| parse(b))
            .find(|m| m.status().map(|s| s.as_u16()) == Some(code))
            .unwrap();
        assert_eq!(record_routes(&resp), expected, "{code}");
    }
    // The callee's BYE follows its route set (new coverage).
    let tag = out
        .iter()
        .map(|(_, b)| parse(b))
        .find_map(|m| {
            let to = header(&m, HeaderKind::To);
            to.split("tag=").nth(1).map(str::to_owned)
        })
        .unwrap();
    feed(
        &mut ep,
        now,
        &request_from_peer(
            "ACK",
            "sip:sansip@127.0.0.1:5062",
            Transport::Udp,
            "z9hG4bKrrack",
            1,
            Some(&tag),
        )
        .replace_call_id("s5b-rr"),
    );
    events(&mut ep);
    ep.hangup(now, call).unwrap();
    let out = sent(&mut ep);
    let bye = out
        .iter()
        .map(|(d, b)| (*d, parse(b)))
        .find(|(_, m)| m.method() == Some(Method::Bye))
        .expect("a BYE");
    assert_eq!(request_uri(&bye.1), "sip:alice@127.0.0.1:5090");
    assert_eq!(routes(&bye.1), expected);
    assert_eq!(bye.0, addr(PEER));
}

/// Swap the Call-ID of a request written by [`request_from_peer`].
trait ReplaceCallId {
    fn replace_call_id(self, call_id: &str) -> Vec<u8>;
}

impl ReplaceCallId for Vec<u8> {
    fn replace_call_id(self, call_id: &str) -> Vec<u8> {
        String::from_utf8(self)
            .unwrap()
            .replace("Call-ID: s5b\r\n", &format!("Call-ID: {call_id}\r\n"))
            .into_bytes()
    }
}

// ----- follow-ups to this review -------------------------------------------------------

/// RFC 3311 §5.2: a 2xx to UPDATE (a target refresh) carries the UAS's Contact.
#[test]
fn a_2xx_to_an_update_carries_a_contact() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (call, invite) = call_out(&mut ep, now);
    feed(&mut ep, now, &answer(&invite, 200, Some("callee")));
    assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
    events(&mut ep);
    feed(
        &mut ep,
        now,
        &from_callee(&invite, "UPDATE", "z9hG4bKupd2", 7, "callee"),
    );
    let evs = events(&mut ep);
    let (tx, c) = incoming(&evs)[0];
    assert_eq!(c, Some(call));
    ep.respond(now, tx, StatusCode::OK, None).unwrap();
    let out = sent(&mut ep);
    assert_eq!(statuses(&out), [(200, "UPDATE".to_owned())]);
    assert_eq!(contact_uri(&parse(&out[0].1)), contact_uri(&parse(&invite)));
}

/// RFC 7118 §5.2: the URI `transport` parameter for WebSocket is `ws`, secure or not (a
/// `wss` value is not defined); the Via says `WSS`.
#[test]
fn a_secure_websocket_contact_says_transport_ws() {
    let mut ep = endpoint(Transport::Wss);
    let (_, invite) = call_out(&mut ep, Instant::ZERO);
    let m = parse(&invite);
    assert!(
        contact_uri(&m).ends_with(";transport=ws"),
        "{}",
        contact_uri(&m)
    );
    assert!(header(&m, HeaderKind::Via).starts_with("SIP/2.0/WSS "));
}
