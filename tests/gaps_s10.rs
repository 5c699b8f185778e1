//! Session 10: gaps left open in earlier sessions, each test failing before its fix.

mod scripted_support;

use sansip::Instant;
use sansip::dialog::EndReason;
use sansip::endpoint::{
    Binding, CallHandle, DigestCredentials, Endpoint, EndpointConfig, Event, SendError, Transport,
};
use sansip::message::{HeaderKind, Method, StatusCode};
use sansip::register::{Retry, State};
use scripted_support::*;
use std::time::Duration;

/// A call up: INVITE with an offer, 200 with tag `b1`, ACK.
fn up(ep: &mut Ep, now: Instant) -> (CallHandle, Vec<u8>, Vec<u8>) {
    let (call, invite) = place_call(ep, now, true);
    let ok = response_to(&invite, 200, "b1", &[("Contact", CONTACT)], Some(SDP));
    feed(ep, now, &ok);
    assert_eq!(methods(&sent(ep)), ["ACK"]);
    assert!(events(ep).contains(&Event::CallEstablished { call }));
    (call, invite, ok)
}

/// The scripted callee's request `method` (CSeq `seq`) within the dialog the 2xx `ok`
/// made: From and To swapped, to the caller's Contact (RFC 3261 §12.2.1.1).
fn in_dialog_request(ok: &[u8], method: &str, seq: u32) -> Vec<u8> {
    let m = parse(ok);
    let from = value(&m, HeaderKind::From).unwrap();
    let to = value(&m, HeaderKind::To).unwrap();
    let call_id = value(&m, HeaderKind::CallId).unwrap();
    format!(
        "{method} sip:alice@{LOCAL} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {PEER};branch=z9hG4bK-peer-{method}-{seq}\r\n\
         Max-Forwards: 70\r\n\
         From: {to}\r\n\
         To: {from}\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: {seq} {method}\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

// ----- 1. the call's own 2xx after the call ended ------------------------------------

/// RFC 3261 §13.2.2.4: a retransmission of the 2xx that made the call is ACKed again.
/// When it comes after the call ended (its ACK was lost, the caller hung up at once),
/// the INVITE still waits out Timer M (RFC 6026 §7.2) and must ACK it, but the dialog
/// it made was ended by the call's own BYE: a second BYE would repeat that BYE's CSeq
/// number in a dialog the peer has ended (§12.2.1.1; the peer answers 481). It used to
/// get one. With and without lingering records, hung up by either side.
#[test]
fn the_calls_own_2xx_after_the_call_ended_gets_its_ack_alone() {
    for (linger, local) in [(true, false), (false, false), (true, true), (false, true)] {
        let case = format!("linger {linger}, local hangup {local}");
        let mut ep = if linger {
            lingering()
        } else {
            endpoint(Transport::Udp)
        };
        let now = Instant::ZERO;
        let (call, _invite, ok) = up(&mut ep, now);
        let first_ack = sent(&mut ep);
        assert!(first_ack.is_empty(), "{case}");
        if local {
            ep.hangup(now, call).unwrap();
            assert_eq!(methods(&sent(&mut ep)), ["BYE"], "{case}");
        } else {
            let bye = in_dialog_request(&ok, "BYE", 2);
            feed(&mut ep, now, &bye);
            assert_eq!(statuses(&sent(&mut ep)), [(200, "BYE".into())], "{case}");
        }
        let ended = events(&mut ep);
        assert!(
            ended.iter().any(|e| matches!(
                e,
                Event::CallTerminated { call: c, reason } if *c == call
                    && matches!(reason, EndReason::LocalBye | EndReason::RemoteBye)
            )),
            "{case}: {ended:?}"
        );
        for _ in 0..2 {
            feed(&mut ep, now, &ok);
            let out = sent(&mut ep);
            assert_eq!(methods(&out), ["ACK"], "{case}: the ACK again, no BYE");
            assert_eq!(parse(&out[0].1).to().unwrap().tag(), Some("b1"), "{case}");
        }
    }
}

// ----- 2. credentials for a call this side answered ----------------------------------

/// The Call-ID of the calls the scripted caller places here.
const CID: &str = "s10-callee";

/// Peer survey item 10: one account's credentials answer the challenges to every request
/// of its calls. A proxy that challenges the callee's BYE with 407 used to end it there
/// (a call this side answered had no way to carry credentials); with
/// `Endpoint::set_credentials` the BYE goes again with `Proxy-Authorization` and the
/// next CSeq number (RFC 3261 §22.3, §8.1.3.5). Without credentials it does not.
#[test]
fn a_callees_challenged_bye_is_sent_again_with_the_calls_credentials() {
    const BOB: DigestCredentials<'static> = DigestCredentials::new("bob", "secret");
    for with in [true, false] {
        let mut ep = endpoint(Transport::Udp);
        let now = Instant::ZERO;
        let call = answered(&mut ep, now, CID, with.then_some(&BOB));
        ep.hangup(now, call).unwrap();
        let bye = sent(&mut ep).pop().unwrap().1;
        assert_eq!(parse(&bye).method(), Some(Method::Bye));
        assert!(parse(&bye).header(HeaderKind::ProxyAuthorization).is_none());
        feed(&mut ep, now, &challenge(&bye));
        let out = sent(&mut ep);
        if !with {
            assert!(methods(&out).is_empty(), "no credentials, no second BYE");
            continue;
        }
        assert_eq!(methods(&out), ["BYE"]);
        let again = parse(&out[0].1);
        let first = parse(&bye);
        assert_eq!(again.cseq().unwrap().seq(), first.cseq().unwrap().seq() + 1);
        assert_eq!(
            value(&again, HeaderKind::CallId),
            value(&first, HeaderKind::CallId)
        );
        assert_eq!(again.to().unwrap().tag(), Some("peer"));
        let h = again
            .header(HeaderKind::ProxyAuthorization)
            .expect("answered");
        let creds = sansip::message::Credentials::parse(h.value).unwrap();
        assert_eq!(
            sansip::auth::verify(&creds, Method::Bye, "secret", b""),
            Ok(true)
        );
        assert!(
            events(&mut ep)
                .iter()
                .any(|e| matches!(e, Event::Reoriginated { .. }))
        );
    }
}

/// `set_credentials` refuses a call that is over and credentials past `MAX_CREDENTIAL`.
#[test]
fn set_credentials_is_checked() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let call = answered(&mut ep, now, CID, None);
    let long = "x".repeat(sansip::endpoint::MAX_CREDENTIAL + 1);
    assert!(matches!(
        ep.set_credentials(call, Some(&DigestCredentials::new("bob", &long))),
        Err(SendError::Capacity(_))
    ));
    ep.set_credentials(call, None).unwrap();
    ep.hangup(now, call).unwrap();
    sent(&mut ep);
    assert_eq!(
        ep.set_credentials(call, Some(&DigestCredentials::new("bob", "secret"))),
        Err(SendError::UnknownHandle)
    );
}

/// The same for the callee's re-INVITE and INFO: each challenged request goes again once,
/// answering the proxy, and the re-INVITE's 2xx is ACKed with its credentials (§22.1).
#[test]
fn a_callees_challenged_reinvite_and_info_are_sent_again() {
    let bob = DigestCredentials::new("bob", "secret");
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let call = answered(&mut ep, now, CID, Some(&bob));
    ep.reinvite(now, call, &[], ("application/sdp", SDP))
        .unwrap();
    let reinvite = sent(&mut ep).pop().unwrap().1;
    feed(&mut ep, now, &challenge(&reinvite));
    let out = sent(&mut ep);
    // The 407 is ACKed by its transaction (§17.1.1.3), then the re-INVITE goes again.
    assert_eq!(methods(&out), ["ACK", "INVITE"], "the re-INVITE again");
    let again = out[1].1.clone();
    let m = parse(&again);
    assert_eq!(
        m.cseq().unwrap().seq(),
        parse(&reinvite).cseq().unwrap().seq() + 1
    );
    assert!(m.header(HeaderKind::ProxyAuthorization).is_some());
    feed(
        &mut ep,
        now,
        &response_to(
            &again,
            200,
            "",
            &[("Contact", "<sip:alice@127.0.0.1:5070>")],
            Some(SDP),
        ),
    );
    let ack = sent(&mut ep);
    assert_eq!(methods(&ack), ["ACK"]);
    assert!(
        parse(&ack[0].1)
            .header(HeaderKind::ProxyAuthorization)
            .is_some()
    );
    ep.request_in_call(now, call, Method::Info, &[], None)
        .unwrap();
    let info = sent(&mut ep).pop().unwrap().1;
    assert!(
        parse(&info)
            .header(HeaderKind::ProxyAuthorization)
            .is_some(),
        "later requests carry the answer to the last challenge (§22.3)"
    );
}

// ----- 3. a registration that fails is tried again -----------------------------------

fn registers(out: &[(Instant, Vec<u8>)]) -> Vec<(Instant, u32)> {
    out.iter()
        .map(|(t, b)| (*t, parse(b)))
        .filter(|(_, m)| m.method() == Some(Method::Register))
        .map(|(t, m)| (t, m.cseq().unwrap().seq()))
        .collect()
}

/// With `EndpointConfig::registration_retry`, a refresh answered 503 with Retry-After 200
/// is sent again no sooner than 200 s later (RFC 3261 §21.5.4), one that gets no answer
/// after 30 to 60 s more (RFC 5626 §4.5: a random half to all of 30 s * 2^2), each with
/// the next CSeq of the same Call-ID (§10.2.4); the 200 that follows makes the
/// registration `Registered` again. Without it the 503 ends the registration, as before.
#[test]
fn a_failed_refresh_is_sent_again_after_the_back_off() {
    let (mut ep, reg, first) = registering(Some(Retry::RFC5626), "", "");
    feed(
        &mut ep,
        Instant::ZERO,
        &response_to(&first, 200, "r", &[("Expires", "600")], None),
    );
    assert!(events(&mut ep).contains(&Event::Registered { reg, expires: 600 }));
    let out = run(&mut ep, Instant::from_millis(540_000));
    assert_eq!(registers(&out), [(Instant::from_millis(540_000), 2)]);
    let refresh = out[0].1.clone();
    let t = Instant::from_millis(541_000);
    feed(
        &mut ep,
        t,
        &response_to(&refresh, 503, "r", &[("Retry-After", "200")], None),
    );
    let evs = events(&mut ep);
    let after = evs
        .iter()
        .find_map(|e| match e {
            Event::RegistrationRetrying {
                reg: r,
                status,
                after,
            } if *r == reg => {
                assert_eq!(*status, StatusCode::SERVICE_UNAVAILABLE);
                Some(*after)
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("retrying: {evs:?}"));
    assert_eq!(
        after,
        Duration::from_secs(200),
        "Retry-After above the 30-60 s drawn"
    );
    assert_eq!(ep.registration_state(reg), Some(State::Retrying));
    let out = run(&mut ep, Instant::from_millis(741_000));
    let again = registers(&out);
    assert_eq!(again, [(Instant::from_millis(741_000), 3)]);
    let second = out[0].1.clone();
    assert_eq!(
        value(&parse(&second), HeaderKind::CallId),
        value(&parse(&first), HeaderKind::CallId)
    );
    // No answer at all: Timer F (64*T1 = 32 s), then a wait of 60-120 s' half to all.
    let out = run(&mut ep, Instant::from_millis(773_000));
    assert!(
        registers(&out).iter().all(|&(_, seq)| seq == 3),
        "retransmissions only (Timer E)"
    );
    let evs = events(&mut ep);
    let after = evs
        .iter()
        .find_map(|e| match e {
            Event::RegistrationRetrying { status, after, .. } => {
                assert_eq!(*status, StatusCode::REQUEST_TIMEOUT);
                Some(*after)
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("retrying after the timeout: {evs:?}"));
    assert!(
        (Duration::from_secs(60)..=Duration::from_secs(120)).contains(&after),
        "{after:?}: 2 failures in a row"
    );
    let out = run(&mut ep, Instant::from_millis(773_000) + after);
    let third = registers(&out);
    assert_eq!(third, [(Instant::from_millis(773_000) + after, 4)]);
    feed(
        &mut ep,
        third[0].0,
        &response_to(&out[0].1, 200, "r", &[("Expires", "600")], None),
    );
    assert!(events(&mut ep).contains(&Event::Registered { reg, expires: 600 }));
    assert_eq!(
        ep.registration_state(reg),
        Some(State::Registered { expires: 600 })
    );

    let (mut ep, reg, first) = registering(None, "", "");
    feed(
        &mut ep,
        Instant::ZERO,
        &response_to(&first, 200, "r", &[("Expires", "600")], None),
    );
    let out = run(&mut ep, Instant::from_millis(540_000));
    feed(
        &mut ep,
        Instant::from_millis(541_000),
        &response_to(&out[0].1, 503, "r", &[], None),
    );
    assert!(events(&mut ep).contains(&Event::RegistrationFailed {
        reg,
        status: StatusCode::SERVICE_UNAVAILABLE
    }));
    assert_eq!(ep.registration_state(reg), None);
}

/// A registration waiting to try again is unregistered with `Expires: 0` (its binding
/// may exist), and one refused for good (403) still ends.
#[test]
fn a_retrying_registration_unregisters_and_a_403_still_ends_it() {
    let (mut ep, reg, first) = registering(Some(Retry::RFC5626), "", "");
    feed(
        &mut ep,
        Instant::ZERO,
        &response_to(&first, 200, "r", &[("Expires", "600")], None),
    );
    let out = run(&mut ep, Instant::from_millis(540_000));
    let t = Instant::from_millis(541_000);
    feed(&mut ep, t, &response_to(&out[0].1, 500, "r", &[], None));
    assert_eq!(ep.registration_state(reg), Some(State::Retrying));
    ep.unregister(t, reg).unwrap();
    let out = sent(&mut ep);
    assert_eq!(out.len(), 1);
    assert_eq!(value(&parse(&out[0].1), HeaderKind::Expires), Some("0"));
    feed(&mut ep, t, &response_to(&out[0].1, 200, "r", &[], None));
    assert!(events(&mut ep).contains(&Event::Unregistered { reg }));

    let (mut ep, reg, first) = registering(Some(Retry::RFC5626), "", "");
    feed(
        &mut ep,
        Instant::ZERO,
        &response_to(&first, 403, "r", &[], None),
    );
    assert!(events(&mut ep).contains(&Event::RegistrationFailed {
        reg,
        status: StatusCode::FORBIDDEN
    }));
}

// ----- 4. the peer's Min-SE in this side's refreshes ---------------------------------

/// RFC 4028 §7.4: a UA's session refresh requests carry a Min-SE no lower than the
/// largest of the 422s it got and of the session refresh requests it received in the
/// dialog; else a proxy could lower the interval below what the peer insists on. A
/// callee whose caller asked for Min-SE 1000 (and made it the refresher) refreshed
/// with its own 90.
#[test]
fn the_callees_refresh_carries_the_callers_min_se() {
    let mut ep = timed();
    let now = Instant::ZERO;
    let invite = String::from_utf8(invite_from_peer(CID))
        .unwrap()
        .replace(
            "Content-Length: 0\r\n",
            "Supported: timer\r\nSession-Expires: 1800;refresher=uas\r\nMin-SE: 1000\r\n\
             Content-Length: 0\r\n",
        )
        .into_bytes();
    let (call, ok) = answer(&mut ep, now, &invite, None);
    // §9: the callee may lower the interval to its own, but not below the Min-SE.
    assert_eq!(
        value(&parse(&ok), HeaderKind::SessionExpires),
        Some("1000;refresher=uas")
    );
    let tag = parse(&ok).to().unwrap().tag().unwrap().to_owned();
    // This side refreshes at half the interval (§10).
    let out = run(&mut ep, Instant::from_millis(500_000));
    assert_eq!(out.len(), 1, "the refresh");
    let refresh = parse(&out[0].1);
    assert_eq!(refresh.method(), Some(Method::Invite));
    assert_eq!(value(&refresh, HeaderKind::MinSe), Some("1000"));
    assert_eq!(
        value(&refresh, HeaderKind::SessionExpires),
        Some("1000;refresher=uac")
    );
    let t = Instant::from_millis(500_000);
    let ok = response_to(
        &out[0].1,
        200,
        "",
        &[
            ("Contact", "<sip:alice@127.0.0.1:5070>"),
            ("Session-Expires", "1000;refresher=uac"),
        ],
        Some(SDP),
    );
    feed(&mut ep, t, &ok);
    // The refresh had no offer: the 2xx's offer is answered in the ACK (§10).
    assert!(events(&mut ep).contains(&Event::AnswerNeeded { call }));
    ep.ack_with_answer(call, ("application/sdp", SDP)).unwrap();
    assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
    // The caller's own refresh raises its Min-SE to 1200 (and hands the refresh back).
    let reinvite = String::from_utf8(from_peer_in_call(CID, &tag, "INVITE", 2, ""))
        .unwrap()
        .replace(
            "Content-Length: 0\r\n",
            "Supported: timer\r\nSession-Expires: 1200;refresher=uas\r\nMin-SE: 1200\r\n\
             Content-Type: application/sdp\r\nContent-Length: 5\r\n",
        )
        + "v=0\r\n";
    feed(&mut ep, t, reinvite.as_bytes());
    let evs = events(&mut ep);
    let (tx, _) = incoming(&evs)[0];
    ep.respond(t, tx, StatusCode::OK, Some(("application/sdp", SDP)))
        .unwrap();
    let ok = sent(&mut ep).pop().unwrap().1;
    assert_eq!(
        value(&parse(&ok), HeaderKind::SessionExpires),
        Some("1200;refresher=uas")
    );
    feed(&mut ep, t, &from_peer_in_call(CID, &tag, "ACK", 2, ""));
    let out = run(&mut ep, Instant::from_millis(500_000 + 600_000));
    assert_eq!(out.len(), 1, "the next refresh");
    let refresh = parse(&out[0].1);
    assert_eq!(value(&refresh, HeaderKind::MinSe), Some("1200"));
}

// ----- 5. tables sized for a device ---------------------------------------------------

/// An endpoint for a phone: 8 transactions, 2 calls, 1500-byte messages, 8 queued
/// datagrams, no subscription tables, one registration.
type Phone = Endpoint<8, 2, 1500, 8, 0, 0, 1>;

/// The subscription, notifier and registration tables are sized by the endpoint's
/// `SUBS`, `NOTIFIERS` and `REGS` parameters: with none, `subscribe` and
/// `accept_subscription` fail with `Capacity` (nothing sent, the SUBSCRIBE still
/// answerable by the host), a second registration does too, and calls go on as ever.
#[test]
fn an_endpoint_without_subscription_tables_still_calls_and_registers() {
    use sansip::endpoint::{Accept, Subscribe};
    use sansip::error::Capacity;
    let mut ep: Box<Phone> = Box::new(Endpoint::new(EndpointConfig::new(addr(LOCAL), 7)));
    let now = Instant::ZERO;
    let sub = Subscribe::new(
        CALLEE,
        "<sip:alice@127.0.0.1>",
        "<sip:bob@127.0.0.1>",
        "presence",
        600,
    );
    assert_eq!(
        ep.subscribe(now, addr(PEER), &sub),
        Err(SendError::Capacity(Capacity::Subscriptions))
    );
    assert!(out(&mut ep).is_empty());
    // A peer's SUBSCRIBE reaches the host, which cannot serve it and answers 503.
    let subscribe = String::from_utf8(from_peer_in_call(CID, "x", "SUBSCRIBE", 1, ""))
        .unwrap()
        .replace(";tag=x", "")
        .replace(
            "Content-Length: 0\r\n",
            "Event: presence\r\nExpires: 600\r\nContent-Length: 0\r\n",
        );
    ep.handle_datagram(now, addr(PEER), subscribe.as_bytes());
    let tx = std::iter::from_fn(|| ep.poll_event())
        .find_map(|e| match e {
            Event::IncomingRequest { tx, call: None } => Some(tx),
            _ => None,
        })
        .expect("the SUBSCRIBE");
    assert_eq!(
        ep.accept_subscription(now, tx, &Accept::new(600)),
        Err(SendError::Capacity(Capacity::Notifiers))
    );
    ep.respond(now, tx, StatusCode::SERVICE_UNAVAILABLE, None)
        .unwrap();
    let sent = out(&mut ep);
    assert_eq!(sent.len(), 1);
    assert_eq!(
        parse(&sent[0]).status(),
        Some(StatusCode::SERVICE_UNAVAILABLE)
    );
    // One registration, not two.
    let binding = Binding {
        registrar: "sip:127.0.0.1",
        aor: "<sip:alice@127.0.0.1>",
        expires: 600,
        username: "",
        password: "",
        realm: None,
    };
    ep.register(now, addr(PEER), &binding).unwrap();
    assert_eq!(
        ep.register(now, addr(PEER), &binding),
        Err(SendError::Capacity(Capacity::Registrations))
    );
    // And a call, up and down.
    let req = sansip::endpoint::Request::new(
        Method::Invite,
        CALLEE,
        "<sip:alice@127.0.0.1>",
        "<sip:bob@127.0.0.1>",
    );
    let call = ep.invite(now, addr(PEER), &req).unwrap();
    let invite = out(&mut ep)
        .into_iter()
        .find(|m| parse(m).method() == Some(Method::Invite))
        .expect("the INVITE");
    let ok = response_to(&invite, 200, "b1", &[("Contact", CONTACT)], Some(SDP));
    ep.handle_datagram(now, addr(PEER), &ok);
    assert!(std::iter::from_fn(|| ep.poll_event()).any(|e| e == Event::CallEstablished { call }));
    ep.hangup(now, call).unwrap();
    let sent = out(&mut ep);
    assert!(sent.iter().any(|m| parse(m).method() == Some(Method::Bye)));
    assert!(core::mem::size_of::<Phone>() < 100_000);
}

/// Every datagram `ep` sends now.
fn out(ep: &mut Phone) -> Vec<Vec<u8>> {
    let mut buf = [0u8; 1500];
    let mut sent = Vec::new();
    while let Ok(Some(t)) = ep.poll_transmit(&mut buf) {
        sent.push(t.bytes.to_vec());
    }
    sent
}
