//! Review s5: the endpoint's request routing and the responses it sends by itself (RFC
//! 3261 §8.2, §9, §12.2.2, §13.3.1.4, §14, §15.1, §17, §18), driven through the public
//! API: one endpoint fed crafted datagrams from a scripted peer, its `poll_transmit`
//! read back. Each test asserts the RFC behaviour and cites its section.

use sansip::Instant;
use sansip::endpoint::{CallHandle, Event, Request, Transport, TxHandle};
use sansip::message::{Message, Method, StatusCode};

mod scripted_support;

use scripted_support::*;

/// A request from the peer (Call-ID `s5`, From tag `peer`); `to_tag` makes it in-dialog.
fn request(method: &str, branch: &str, cseq: u32, to_tag: Option<&str>) -> Vec<u8> {
    request_via(
        method,
        &format!("SIP/2.0/UDP {PEER};branch={branch}"),
        cseq,
        to_tag,
    )
}

/// [`request`] with the whole top Via value given.
fn request_via(method: &str, via: &str, cseq: u32, to_tag: Option<&str>) -> Vec<u8> {
    let to_tag = to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
    format!(
        "{method} sip:bob@{LOCAL} SIP/2.0\r\n\
         Via: {via}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:alice@127.0.0.1>;tag=peer\r\n\
         To: <sip:bob@127.0.0.1>{to_tag}\r\n\
         Call-ID: s5\r\n\
         CSeq: {cseq} {method}\r\n\
         Contact: <sip:alice@{PEER}>\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// An INVITE from the peer reaches the host; gives its transaction and call.
fn invite_in(ep: &mut Ep, now: Instant) -> (TxHandle, CallHandle) {
    feed(ep, now, &request("INVITE", "z9hG4bKinv", 1, None));
    let evs = events(ep);
    let (tx, call) = incoming(&evs)[0];
    (tx, call.unwrap())
}

/// The callee's To tag, read from `resp`.
fn to_tag(resp: &[u8]) -> String {
    parse(resp).to().unwrap().tag().unwrap().to_owned()
}

/// INVITE in, 180 out: the early dialog's To tag.
fn ringing(ep: &mut Ep, now: Instant) -> (TxHandle, CallHandle, String) {
    let (tx, call) = invite_in(ep, now);
    ep.respond(now, tx, StatusCode::RINGING, None).unwrap();
    let out = sent(ep);
    let tag = to_tag(&out.last().unwrap().1);
    (tx, call, tag)
}

/// INVITE in, 200 out, ACK in: the call is up; gives the callee's To tag.
fn established(ep: &mut Ep, now: Instant) -> (CallHandle, String) {
    let (tx, call) = invite_in(ep, now);
    ep.respond(
        now,
        tx,
        StatusCode::OK,
        Some(("application/sdp", b"v=0\r\n")),
    )
    .unwrap();
    let tag = to_tag(&sent(ep).last().unwrap().1);
    feed(ep, now, &request("ACK", "z9hG4bKack1", 1, Some(&tag)));
    assert!(
        events(ep)
            .iter()
            .any(|e| matches!(e, Event::CallEstablished { .. }))
    );
    (call, tag)
}

// ----- §9.2 CANCEL -------------------------------------------------------------------

/// RFC 3261 §9.2: the CANCEL is matched by "assuming that the request method is
/// anything but CANCEL or ACK" and applying §17.2.3; a match that is still pending gets
/// 200 to the CANCEL (a non-INVITE is then answered as usual). Only a CANCEL that
/// matches nothing gets 481.
#[test]
fn a_cancel_for_a_pending_non_invite_gets_200() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    feed(&mut ep, now, &request("OPTIONS", "z9hG4bKopt", 1, None));
    assert_eq!(incoming(&events(&mut ep)).len(), 1);
    feed(&mut ep, now, &request("CANCEL", "z9hG4bKopt", 1, None));
    assert_eq!(statuses(&sent(&mut ep)), [(200, "CANCEL".to_owned())]);
}

/// RFC 3261 §9.2: "If the UAS has already sent a final response for the original
/// request, the CANCEL request has no effect", yet the INVITE server transaction still
/// exists (Completed, waiting for the ACK), so the CANCEL is answered 200, not 481.
#[test]
fn a_cancel_after_a_non_2xx_final_gets_200() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (tx, _) = invite_in(&mut ep, now);
    ep.respond(now, tx, StatusCode::BUSY_HERE, None).unwrap();
    assert_eq!(statuses(&sent(&mut ep)), [(486, "INVITE".to_owned())]);
    feed(&mut ep, now, &request("CANCEL", "z9hG4bKinv", 1, None));
    assert_eq!(statuses(&sent(&mut ep)), [(200, "CANCEL".to_owned())]);
}

/// RFC 3261 §9.2 with §17.2.3: the CANCEL matches the INVITE on branch *and* sent-by;
/// one with the INVITE's branch from another sent-by matches nothing: 481, and the call
/// rings on.
#[test]
fn a_cancel_from_another_sent_by_gets_481() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (_tx, call, _) = ringing(&mut ep, now);
    let cancel = request_via(
        "CANCEL",
        "SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bKinv",
        1,
        None,
    );
    feed(&mut ep, now, &cancel);
    assert_eq!(statuses(&sent(&mut ep)), [(481, "CANCEL".to_owned())]);
    assert_eq!(
        ep.call_state(call),
        Some(sansip::dialog::SessionState::Proceeding)
    );
}

// ----- §15 BYE -----------------------------------------------------------------------

/// RFC 3261 §15: "the caller's UA MAY send a BYE for either confirmed or early
/// dialogs"; §15.1.2: the UAS answers the BYE 200 and the INVITE still pending 487.
#[test]
fn a_bye_in_an_early_dialog_gets_200_and_the_invite_487() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (_tx, call, tag) = ringing(&mut ep, now);
    feed(&mut ep, now, &request("BYE", "z9hG4bKbye", 2, Some(&tag)));
    let mut got = statuses(&sent(&mut ep));
    got.sort();
    assert_eq!(got, [(200, "BYE".to_owned()), (487, "INVITE".to_owned())]);
    assert_eq!(ep.call_state(call), None);
}

/// RFC 3261 §15.1.2 with §13.3.1.4: a BYE that arrives before the ACK ends the session;
/// the 2xx is no longer retransmitted and no BYE of ours follows.
#[test]
fn a_bye_before_the_ack_stops_the_2xx_retransmissions() {
    let mut ep = endpoint(Transport::Udp);
    let mut now = Instant::ZERO;
    let (tx, _) = invite_in(&mut ep, now);
    ep.respond(
        now,
        tx,
        StatusCode::OK,
        Some(("application/sdp", b"v=0\r\n")),
    )
    .unwrap();
    let tag = to_tag(&sent(&mut ep).last().unwrap().1);
    feed(&mut ep, now, &request("BYE", "z9hG4bKbye", 2, Some(&tag)));
    assert_eq!(statuses(&sent(&mut ep)), [(200, "BYE".to_owned())]);
    let mut later = Vec::new();
    while let Some(t) = ep.poll_timeout() {
        if t.as_millis() > 64_000 {
            break;
        }
        now = t;
        ep.handle_timeout(now);
        later.extend(sent(&mut ep));
    }
    assert!(
        later.is_empty(),
        "sent after the BYE: {:?} {:?}",
        statuses(&later),
        methods(&later)
    );
}

// ----- §13.3.1.4 2xx retransmission ----------------------------------------------------

/// RFC 3261 §13.3.1.4: the 2xx is retransmitted at T1, then doubling up to T2
/// (0.5, 1.5, 3.5, 7.5, 11.5, ... s after it went out); after 64*T1 without ACK the
/// session ends with a BYE.
#[test]
fn the_2xx_is_retransmitted_t1_doubling_to_t2_then_bye_at_64_t1() {
    let mut ep = endpoint(Transport::Udp);
    let mut now = Instant::ZERO;
    let (tx, _) = invite_in(&mut ep, now);
    ep.respond(
        now,
        tx,
        StatusCode::OK,
        Some(("application/sdp", b"v=0\r\n")),
    )
    .unwrap();
    sent(&mut ep);
    let mut ok_at = Vec::new();
    let mut bye_at = None;
    while let Some(t) = ep.poll_timeout() {
        if t.as_millis() > 40_000 {
            break;
        }
        now = t;
        ep.handle_timeout(now);
        for (_, b) in sent(&mut ep) {
            let m = parse(&b);
            match (m.status(), m.method()) {
                (Some(s), _) if s == StatusCode::OK => ok_at.push(now.as_millis()),
                (_, Some(Method::Bye)) if bye_at.is_none() => bye_at = Some(now.as_millis()),
                _ => {}
            }
        }
    }
    let expected: Vec<u64> = [500, 1_500, 3_500, 7_500]
        .into_iter()
        .chain((1..).map(|i| 7_500 + 4_000 * i).take_while(|&t| t < 32_000))
        .collect();
    assert_eq!(ok_at, expected);
    assert_eq!(bye_at, Some(32_000));
}

/// RFC 3261 §13.3.1.4: "This is independent of whatever transport protocols are used to
/// send the response": over TCP the 2xx is retransmitted too, until the ACK.
#[test]
fn the_2xx_is_retransmitted_over_tcp_too() {
    let mut ep = endpoint(Transport::Tcp);
    let mut now = Instant::ZERO;
    let (tx, _) = invite_in(&mut ep, now);
    ep.respond(
        now,
        tx,
        StatusCode::OK,
        Some(("application/sdp", b"v=0\r\n")),
    )
    .unwrap();
    sent(&mut ep);
    let mut oks = 0;
    while let Some(t) = ep.poll_timeout() {
        if t.as_millis() > 2_000 {
            break;
        }
        now = t;
        ep.handle_timeout(now);
        oks += statuses(&sent(&mut ep)).len();
    }
    assert_eq!(oks, 2, "retransmitted at 0.5 s and 1.5 s");
}

/// RFC 3261 §13.3.1.4: retransmissions cease when "an ACK request for the response" is
/// received; an ACK with another CSeq number acknowledges another INVITE (§12.2.2 /
/// §13.3.1.4) and does not stop them.
#[test]
fn an_ack_with_another_cseq_does_not_stop_the_2xx() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (tx, _) = invite_in(&mut ep, now);
    ep.respond(
        now,
        tx,
        StatusCode::OK,
        Some(("application/sdp", b"v=0\r\n")),
    )
    .unwrap();
    let tag = to_tag(&sent(&mut ep).last().unwrap().1);
    feed(&mut ep, now, &request("ACK", "z9hG4bKack9", 9, Some(&tag)));
    assert!(
        !events(&mut ep)
            .iter()
            .any(|e| matches!(e, Event::CallEstablished { .. }))
    );
    let t = ep.poll_timeout().unwrap();
    ep.handle_timeout(t);
    assert_eq!(statuses(&sent(&mut ep)), [(200, "INVITE".to_owned())]);
}

// ----- §12.2.2 in-dialog requests --------------------------------------------------------

/// RFC 3261 §12.2.2: a request in the dialog with a CSeq lower than the last one is
/// out of order: 500; the host does not see it.
#[test]
fn an_in_dialog_request_with_a_lower_cseq_gets_500() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (_call, tag) = established(&mut ep, now);
    feed(
        &mut ep,
        now,
        &request("INFO", "z9hG4bKinfo5", 5, Some(&tag)),
    );
    let evs = events(&mut ep);
    let (info, _) = incoming(&evs)[0];
    ep.respond(now, info, StatusCode::OK, None).unwrap();
    sent(&mut ep);
    feed(
        &mut ep,
        now,
        &request("INFO", "z9hG4bKinfo3", 3, Some(&tag)),
    );
    assert_eq!(statuses(&sent(&mut ep)), [(500, "INFO".to_owned())]);
    assert!(incoming(&events(&mut ep)).is_empty());
}

/// RFC 3261 §12.2.2: a request whose To tag names no dialog gets 481, whatever its
/// method (here a re-INVITE, which would otherwise start a call).
#[test]
fn a_reinvite_for_an_unknown_dialog_gets_481() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    feed(
        &mut ep,
        now,
        &request("INVITE", "z9hG4bKre", 1, Some("nosuch")),
    );
    assert_eq!(statuses(&sent(&mut ep)), [(481, "INVITE".to_owned())]);
    assert!(incoming(&events(&mut ep)).is_empty());
    assert_eq!(ep.call_count(), 0);
}

// ----- §14.2 re-INVITE ---------------------------------------------------------------------

/// RFC 3261 §14.2: "A UAS that receives a second INVITE before it sends the final
/// response to a first INVITE with a lower CSeq sequence number on the same dialog MUST
/// return a 500 (Server Internal Error) response to the second INVITE and MUST include
/// a Retry-After header field with a randomly chosen value of between 0 and 10 seconds."
#[test]
fn a_second_reinvite_while_one_is_pending_gets_500_with_retry_after() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (_call, tag) = established(&mut ep, now);
    feed(
        &mut ep,
        now,
        &request("INVITE", "z9hG4bKre1", 2, Some(&tag)),
    );
    assert_eq!(incoming(&events(&mut ep)).len(), 1);
    sent(&mut ep);
    feed(
        &mut ep,
        now,
        &request("INVITE", "z9hG4bKre2", 3, Some(&tag)),
    );
    let out = sent(&mut ep);
    assert_eq!(statuses(&out), [(500, "INVITE".to_owned())]);
    let resp = parse(&out[0].1);
    let retry = resp
        .headers()
        .find(|h| h.name.eq_ignore_ascii_case("Retry-After"))
        .map(|h| String::from_utf8_lossy(h.value).into_owned())
        .expect("Retry-After");
    assert!(retry.trim().parse::<u32>().unwrap() <= 10);
}

// ----- §18 transport -------------------------------------------------------------------------

/// RFC 3261 §18.2.2: without `rport` (RFC 3581) an unreliable response goes to the
/// source address at the sent-by port, 5060 when the sent-by has none; §18.2.1 adds
/// `received` only when the sent-by host differs from the source.
#[test]
fn responses_without_rport_go_to_the_sent_by_port() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let opts = request_via(
        "OPTIONS",
        "SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bKp1",
        1,
        None,
    );
    feed(&mut ep, now, &opts);
    let (tx, _) = incoming(&events(&mut ep))[0];
    ep.respond(now, tx, StatusCode::OK, None).unwrap();
    let out = sent(&mut ep);
    assert_eq!(out[0].0, addr("127.0.0.1:5099"));
    assert_eq!(parse(&out[0].1).top_via().unwrap().received(), None);
    let opts = request_via(
        "OPTIONS",
        "SIP/2.0/UDP client.example.com;branch=z9hG4bKp2",
        1,
        None,
    );
    let opts = String::from_utf8(opts)
        .unwrap()
        .replace("tag=peer", "tag=p2");
    feed(&mut ep, now, opts.as_bytes());
    let (tx, _) = incoming(&events(&mut ep))[0];
    ep.respond(now, tx, StatusCode::OK, None).unwrap();
    let out = sent(&mut ep);
    assert_eq!(out[0].0, addr("127.0.0.1:5060"));
    assert_eq!(
        parse(&out[0].1)
            .top_via()
            .unwrap()
            .received()
            .map(|r| r.to_string()),
        Some("127.0.0.1".to_owned())
    );
}

/// RFC 3261 §18.1.2: "If the value of the sent-by parameter in that header field does
/// not correspond to a value that the client transport is configured to insert into
/// requests, the response MUST be silently discarded." A response with our branch but
/// another sent-by does not reach the transaction.
#[test]
fn a_response_with_a_foreign_sent_by_is_discarded() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let uri = format!("sip:alice@{PEER}");
    let req = Request::new(
        Method::Options,
        &uri,
        "<sip:bob@127.0.0.1>",
        "<sip:alice@127.0.0.1>",
    );
    let tx = ep.send_request(now, addr(PEER), &req).unwrap();
    let out = sent(&mut ep);
    let options = String::from_utf8(out[0].1.clone()).unwrap();
    let m = parse(options.as_bytes());
    let branch = m.top_via().unwrap().branch().unwrap().to_owned();
    let head = |via: &str| {
        format!(
            "SIP/2.0 200 OK\r\nVia: {via}\r\nFrom: {}\r\nTo: {};tag=x\r\nCall-ID: {}\r\nCSeq: {}\r\nContent-Length: 0\r\n\r\n",
            String::from_utf8_lossy(m.header(sansip::message::HeaderKind::From).unwrap().value),
            String::from_utf8_lossy(m.header(sansip::message::HeaderKind::To).unwrap().value),
            m.call_id().unwrap(),
            String::from_utf8_lossy(m.header(sansip::message::HeaderKind::CSeq).unwrap().value),
        )
    };
    let foreign = head(&format!("SIP/2.0/UDP 10.9.9.9:5062;branch={branch}"));
    feed(&mut ep, now, foreign.as_bytes());
    assert!(
        !events(&mut ep)
            .iter()
            .any(|e| matches!(e, Event::Response { tx: t, .. } if *t == tx)),
        "a response with another sent-by reached the transaction"
    );
    let ours = head(&format!("SIP/2.0/UDP {LOCAL};branch={branch};rport=5062"));
    feed(&mut ep, now, ours.as_bytes());
    assert!(
        events(&mut ep)
            .iter()
            .any(|e| matches!(e, Event::Response { tx: t, .. } if *t == tx))
    );
}

// ----- the caller's side: a scripted callee ------------------------------------------------

/// The header `name` of `m` as text.
fn header(m: &Message<'_>, kind: sansip::message::HeaderKind) -> String {
    String::from_utf8_lossy(m.header(kind).unwrap().value).into_owned()
}

/// A response from the scripted callee to `req` (Via, From, Call-ID, CSeq copied; To
/// with `tag`; a Contact at the peer for dialog-creating ones).
fn answer(req: &[u8], code: u16, tag: Option<&str>) -> Vec<u8> {
    use sansip::message::HeaderKind as H;
    let m = parse(req);
    let to = match tag {
        Some(t) => format!("{};tag={t}", header(&m, H::To)),
        None => header(&m, H::To),
    };
    format!(
        "SIP/2.0 {code} Whatever\r\nVia: {}\r\nFrom: {}\r\nTo: {to}\r\nCall-ID: {}\r\nCSeq: {}\r\nContact: <sip:bob@{PEER}>\r\nContent-Length: 0\r\n\r\n",
        header(&m, H::Via),
        header(&m, H::From),
        header(&m, H::CallId),
        header(&m, H::CSeq),
    )
    .into_bytes()
}

/// A request from the scripted callee within the dialog of `invite` (sent by the
/// endpoint), whose To tag the callee chose as `tag`.
fn from_callee(invite: &[u8], method: &str, branch: &str, cseq: u32, tag: &str) -> Vec<u8> {
    use sansip::message::HeaderKind as H;
    let m = parse(invite);
    format!(
        "{method} sip:alice@{LOCAL} SIP/2.0\r\nVia: SIP/2.0/UDP {PEER};branch={branch}\r\nMax-Forwards: 70\r\nFrom: {};tag={tag}\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {cseq} {method}\r\nContact: <sip:bob@{PEER}>\r\nContent-Length: 0\r\n\r\n",
        header(&m, H::To),
        header(&m, H::From),
        header(&m, H::CallId),
    )
    .into_bytes()
}

/// The endpoint places a call to the scripted callee: gives the call and the INVITE.
fn call_out(ep: &mut Ep, now: Instant, cseq: u32) -> (CallHandle, Vec<u8>) {
    let uri = format!("sip:bob@{PEER}");
    let req = Request {
        body: Some(("application/sdp", b"v=0\r\n")),
        cseq,
        ..Request::new(
            Method::Invite,
            &uri,
            "<sip:alice@127.0.0.1>",
            "<sip:bob@127.0.0.1>",
        )
    };
    let call = ep.invite(now, addr(PEER), &req).unwrap();
    let out = sent(ep);
    assert_eq!(methods(&out), ["INVITE"]);
    (call, out[0].1.clone())
}

/// RFC 3261 §14.2: "A UAS that receives an INVITE on a dialog while an INVITE it had
/// sent on that dialog is in progress MUST return a 491 (Request Pending)". The caller's
/// INVITE is in progress on the early dialog a 180 made (the session answers 491 in
/// Calling already, but not once a provisional response has arrived).
#[test]
fn a_reinvite_in_the_early_dialog_of_a_ringing_caller_gets_491() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (_call, invite) = call_out(&mut ep, now, 1);
    feed(&mut ep, now, &answer(&invite, 180, Some("callee")));
    events(&mut ep);
    assert!(sent(&mut ep).is_empty());
    feed(
        &mut ep,
        now,
        &from_callee(&invite, "INVITE", "z9hG4bKcre", 1, "callee"),
    );
    assert_eq!(statuses(&sent(&mut ep)), [(491, "INVITE".to_owned())]);
}

/// RFC 3261 §9.1 and §15: a CANCEL waits for a provisional response; when a 2xx comes
/// instead, the caller ACKs it and ends the call with BYE (it gave up).
#[test]
fn a_cancel_deferred_until_a_2xx_ends_in_ack_and_bye() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (call, invite) = call_out(&mut ep, now, 1);
    ep.cancel(now, call).unwrap();
    assert!(sent(&mut ep).is_empty(), "no CANCEL before a provisional");
    feed(&mut ep, now, &answer(&invite, 200, Some("callee")));
    assert_eq!(methods(&sent(&mut ep)), ["ACK", "BYE"]);
}

/// RFC 3261 §12.2.2 with §12.1.2: the caller's remote CSeq starts empty and takes the
/// callee's first number, whatever it is; the two directions count apart, so a BYE from
/// the callee with a CSeq below the caller's INVITE is in order.
#[test]
fn a_callee_request_below_the_callers_cseq_is_in_order() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (call, invite) = call_out(&mut ep, now, 100);
    feed(&mut ep, now, &answer(&invite, 200, Some("callee")));
    assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
    events(&mut ep);
    feed(
        &mut ep,
        now,
        &from_callee(&invite, "BYE", "z9hG4bKcbye", 1, "callee"),
    );
    assert_eq!(statuses(&sent(&mut ep)), [(200, "BYE".to_owned())]);
    assert_eq!(ep.call_state(call), None);
}

/// RFC 3261 §13.3.1.4 (applied to re-INVITEs by §14.2): the 2xx to a re-INVITE is
/// retransmitted until *its* ACK; a late copy of the initial INVITE's ACK (CSeq 1, a
/// duplicate from the network) acknowledges another INVITE and must not stop them.
#[test]
fn an_old_ack_does_not_stop_the_retransmissions_of_a_reinvite_2xx() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (_call, tag) = established(&mut ep, now);
    feed(
        &mut ep,
        now,
        &request("INVITE", "z9hG4bKre1", 2, Some(&tag)),
    );
    let (re, _) = incoming(&events(&mut ep))[0];
    ep.respond(
        now,
        re,
        StatusCode::OK,
        Some(("application/sdp", b"v=0\r\n")),
    )
    .unwrap();
    assert_eq!(statuses(&sent(&mut ep)), [(200, "INVITE".to_owned())]);
    // The initial INVITE's ACK again.
    feed(&mut ep, now, &request("ACK", "z9hG4bKack1", 1, Some(&tag)));
    ep.handle_timeout(Instant::from_millis(500));
    assert_eq!(
        statuses(&sent(&mut ep)),
        [(200, "INVITE".to_owned())],
        "the re-INVITE's 2xx is retransmitted at T1"
    );
}

/// RFC 3261 §17.2.1: a 3xx-6xx to an INVITE over UDP is retransmitted by Timer G (T1,
/// then doubling, capped at T2) until the ACK, and Timer H (64*T1) gives up.
#[test]
fn a_rejection_is_retransmitted_by_timer_g_until_timer_h() {
    let mut ep = endpoint(Transport::Udp);
    let mut now = Instant::ZERO;
    let (tx, _) = invite_in(&mut ep, now);
    ep.respond(now, tx, StatusCode::BUSY_HERE, None).unwrap();
    sent(&mut ep);
    let mut at = Vec::new();
    let mut timed_out = None;
    while let Some(t) = ep.poll_timeout() {
        if t.as_millis() > 40_000 {
            break;
        }
        now = t;
        ep.handle_timeout(now);
        at.extend(sent(&mut ep).iter().map(|_| now.as_millis()));
        if events(&mut ep)
            .iter()
            .any(|e| matches!(e, Event::TimedOut { .. }))
        {
            timed_out = Some(now.as_millis());
        }
    }
    let expected: Vec<u64> = [500, 1_500, 3_500, 7_500]
        .into_iter()
        .chain((1..).map(|i| 7_500 + 4_000 * i).take_while(|&t| t < 32_000))
        .collect();
    assert_eq!(at, expected);
    assert_eq!(timed_out, Some(32_000));
}

/// RFC 3261 §8.2.2.2: a request without To tag whose From tag, Call-ID and CSeq match a
/// transaction in progress but that arrived on another branch (a forking proxy's second
/// copy) is merged: 482, and the first copy's call goes on (table path, no lingering).
#[test]
fn a_merged_invite_gets_482_and_the_first_copy_rings_on() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (_tx, call, _) = ringing(&mut ep, now);
    let copy = request_via(
        "INVITE",
        "SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bKother",
        1,
        None,
    );
    ep.handle_datagram(now, addr("127.0.0.1:5071"), &copy);
    assert_eq!(statuses(&sent(&mut ep)), [(482, "INVITE".to_owned())]);
    assert!(incoming(&events(&mut ep)).is_empty());
    assert_eq!(ep.call_count(), 1);
    assert_eq!(
        ep.call_state(call),
        Some(sansip::dialog::SessionState::Proceeding)
    );
}

/// RFC 3261 §15 / §17.2.1: a UA that hangs up while it has not answered the peer's
/// re-INVITE still owes it a final response (every INVITE server transaction ends with
/// one; §15.1.2 recommends 487 for requests pending when a dialog ends). Left alone the
/// transaction stays in Proceeding, which has no timer, for ever; and the host can no
/// longer answer it either (its call is gone).
#[test]
fn hanging_up_over_an_unanswered_reinvite_answers_it() {
    let mut ep = endpoint(Transport::Udp);
    let mut now = Instant::ZERO;
    let (call, tag) = established(&mut ep, now);
    feed(
        &mut ep,
        now,
        &request("INVITE", "z9hG4bKre1", 2, Some(&tag)),
    );
    let (re, _) = incoming(&events(&mut ep))[0];
    ep.hangup(now, call).unwrap();
    let out = sent(&mut ep);
    assert!(methods(&out).contains(&"BYE".to_owned()));
    let bye = out
        .iter()
        .find(|(_, b)| parse(b).method() == Some(Method::Bye))
        .unwrap()
        .1
        .clone();
    feed(&mut ep, now, &answer(&bye, 200, None));
    let mut finals = statuses(&out);
    // What the host may still do: answer it itself.
    let _ = ep.respond(now, re, StatusCode::REQUEST_TERMINATED, None);
    while let Some(t) = ep.poll_timeout() {
        if t.as_millis() > 100_000 {
            break;
        }
        now = t;
        ep.handle_timeout(now);
        finals.extend(statuses(&sent(&mut ep)));
    }
    finals.extend(statuses(&sent(&mut ep)));
    assert!(
        finals.iter().any(|(code, m)| *code >= 300 && m == "INVITE"),
        "the re-INVITE never got a final response: {finals:?}"
    );
    assert_eq!(ep.transaction_count(), 0, "a transaction was left behind");
}

/// RFC 3261 §12.2.1.2 with §17.2.1: a 481 to an in-dialog request ends the dialog; a
/// re-INVITE of the peer still waiting for the host's answer then still needs its final
/// response, and the host, which holds its transaction, must be able to give it.
#[test]
fn a_reinvite_pending_when_the_dialog_is_gone_can_still_be_answered() {
    let mut ep = endpoint(Transport::Udp);
    let mut now = Instant::ZERO;
    let (call, tag) = established(&mut ep, now);
    feed(
        &mut ep,
        now,
        &request("INVITE", "z9hG4bKre1", 2, Some(&tag)),
    );
    let (re, _) = incoming(&events(&mut ep))[0];
    ep.request_in_call(now, call, Method::Info, &[], None)
        .unwrap();
    let info = sent(&mut ep)
        .into_iter()
        .find(|(_, b)| parse(b).method() == Some(Method::Info))
        .unwrap()
        .1;
    feed(&mut ep, now, &answer(&info, 481, None));
    assert!(
        events(&mut ep)
            .iter()
            .any(|e| matches!(e, Event::CallTerminated { .. }))
    );
    let mut finals = statuses(&sent(&mut ep));
    if !finals.iter().any(|(c, m)| *c >= 300 && m == "INVITE") {
        ep.respond(now, re, StatusCode::REQUEST_TERMINATED, None)
            .expect("the host answers the re-INVITE it holds");
        finals.extend(statuses(&sent(&mut ep)));
    }
    assert!(
        finals.iter().any(|(c, m)| *c >= 300 && m == "INVITE"),
        "{finals:?}"
    );
    while let Some(t) = ep.poll_timeout() {
        if t.as_millis() > 100_000 {
            break;
        }
        now = t;
        ep.handle_timeout(now);
        sent(&mut ep);
    }
    assert_eq!(ep.transaction_count(), 0, "a transaction was left behind");
}

// ----- the client transactions' timers at the endpoint ------------------------------------

/// What the endpoint sent, with the time (ms).
type Timed<T> = Vec<(u64, T)>;

/// Times (ms) at which the endpoint sends something until `limit`, with the events.
fn run_until(ep: &mut Ep, limit: u64) -> (Timed<Vec<u8>>, Timed<Event>) {
    let mut out = Vec::new();
    let mut evs = Vec::new();
    while let Some(t) = ep.poll_timeout() {
        if t.as_millis() > limit {
            break;
        }
        ep.handle_timeout(t);
        out.extend(sent(ep).into_iter().map(|(_, b)| (t.as_millis(), b)));
        evs.extend(events(ep).into_iter().map(|e| (t.as_millis(), e)));
    }
    (out, evs)
}

/// RFC 3261 §17.1.1.2: over UDP the INVITE is retransmitted by Timer A (T1, doubling
/// without cap) until Timer B (64*T1) times the transaction out.
#[test]
fn an_unanswered_invite_follows_timers_a_and_b() {
    let mut ep = endpoint(Transport::Udp);
    let (call, _) = call_out(&mut ep, Instant::ZERO, 1);
    let (out, evs) = run_until(&mut ep, 40_000);
    let at: Vec<u64> = out.iter().map(|(t, _)| *t).collect();
    assert_eq!(at, [500, 1_500, 3_500, 7_500, 15_500, 31_500]);
    assert!(
        evs.iter()
            .any(|(t, e)| *t == 32_000 && matches!(e, Event::TimedOut { .. }))
    );
    assert_eq!(ep.call_state(call), None);
}

/// RFC 3261 §17.1.2.2: a non-INVITE is retransmitted by Timer E (T1 doubling, capped at
/// T2) in Trying, every T2 once a provisional response has come, until Timer F (64*T1).
#[test]
fn a_non_invite_follows_timers_e_and_f() {
    let mut ep = endpoint(Transport::Udp);
    let uri = format!("sip:alice@{PEER}");
    let req = Request::new(
        Method::Options,
        &uri,
        "<sip:bob@127.0.0.1>",
        "<sip:alice@127.0.0.1>",
    );
    let tx = ep.send_request(Instant::ZERO, addr(PEER), &req).unwrap();
    let options = sent(&mut ep).remove(0).1;
    let (out, _) = run_until(&mut ep, 2_000);
    let at: Vec<u64> = out.iter().map(|(t, _)| *t).collect();
    assert_eq!(at, [500, 1_500]);
    // A 100 at 2 s: Proceeding; the next E (armed for 3.5 s) fires, then every T2.
    feed(
        &mut ep,
        Instant::from_millis(2_000),
        &answer(&options, 100, None),
    );
    let (out, evs) = run_until(&mut ep, 40_000);
    let at: Vec<u64> = out.iter().map(|(t, _)| *t).collect();
    assert_eq!(
        at,
        [3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]
    );
    assert!(
        evs.iter()
            .any(|(t, e)| *t == 32_000 && *e == Event::TimedOut { tx })
    );
}

// ----- what the endpoint writes -----------------------------------------------------------

/// RFC 3261 §8.1.1.6: "A UAC MUST insert a Max-Forwards header field into each request
/// it originates"; §9.1 and §17.1.1.3 build CANCEL and ACK with one too. §17.1.1.3: the
/// ACK for a non-2xx has the INVITE's branch and Request-URI, the response's To (tag),
/// and goes where the INVITE went; §9.1: the CANCEL has the INVITE's Request-URI,
/// Call-ID, From, To, CSeq number and top Via.
#[test]
fn cancel_and_ack_for_a_non_2xx_are_built_from_the_invite() {
    use sansip::message::HeaderKind as H;
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (call, invite) = call_out(&mut ep, now, 7);
    let inv = parse(&invite);
    assert!(inv.header(H::MaxForwards).is_some());
    feed(&mut ep, now, &answer(&invite, 180, Some("callee")));
    ep.cancel(now, call).unwrap();
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["CANCEL"]);
    assert_eq!(out[0].0, addr(PEER));
    let cancel = parse(&out[0].1);
    assert!(cancel.header(H::MaxForwards).is_some());
    assert_eq!(
        cancel.request_uri().unwrap().unwrap().as_str(),
        inv.request_uri().unwrap().unwrap().as_str()
    );
    for kind in [H::CallId, H::From, H::To, H::Via] {
        assert_eq!(header(&cancel, kind), header(&inv, kind), "{kind:?}");
    }
    assert_eq!(cancel.cseq().unwrap().seq(), 7);
    feed(&mut ep, now, &answer(&out[0].1, 200, Some("callee")));
    feed(&mut ep, now, &answer(&invite, 487, Some("callee")));
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["ACK"]);
    assert_eq!(out[0].0, addr(PEER));
    let ack = parse(&out[0].1);
    assert!(ack.header(H::MaxForwards).is_some());
    assert_eq!(
        ack.top_via().unwrap().branch(),
        inv.top_via().unwrap().branch()
    );
    assert_eq!(ack.to().unwrap().tag(), Some("callee"));
    assert_eq!(
        ack.request_uri().unwrap().unwrap().as_str(),
        inv.request_uri().unwrap().unwrap().as_str()
    );
    assert_eq!(ack.cseq().unwrap().seq(), 7);
    assert_eq!(ack.cseq().unwrap().method(), Method::Ack);
}
