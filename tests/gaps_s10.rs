//! Session 10: gaps left open in earlier sessions, each test failing before its fix.

mod scripted_support;

use sansip::Instant;
use sansip::dialog::EndReason;
use sansip::endpoint::{CallHandle, DigestCredentials, Event, SendError, Transport};
use sansip::message::{HeaderKind, Method, StatusCode};
use scripted_support::*;

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

/// An INVITE from the scripted peer (From tag `peer`) to this endpoint.
fn invite_from_peer() -> Vec<u8> {
    format!(
        "INVITE sip:bob@{LOCAL} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {PEER};branch=z9hG4bK-s10-inv\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:alice@127.0.0.1>;tag=peer\r\n\
         To: <sip:bob@127.0.0.1>\r\n\
         Call-ID: s10-callee\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:alice@{PEER}>\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// A call the scripted peer placed, answered 200 and ACKed: the call and the 200.
fn answered(ep: &mut Ep, now: Instant, credentials: Option<&DigestCredentials<'_>>) -> CallHandle {
    let invite = invite_from_peer();
    feed(ep, now, &invite);
    let evs = events(ep);
    let (tx, call) = incoming(&evs)[0];
    let call = call.expect("an INVITE makes a call");
    if let Some(c) = credentials {
        ep.set_credentials(call, Some(c)).unwrap();
    }
    ep.respond(now, tx, StatusCode::OK, Some(("application/sdp", SDP)))
        .unwrap();
    let ok = sent(ep).pop().unwrap().1;
    let tag = parse(&ok).to().unwrap().tag().unwrap().to_owned();
    let ack = String::from_utf8(invite)
        .unwrap()
        .replace("INVITE sip:", "ACK sip:")
        .replace("CSeq: 1 INVITE", "CSeq: 1 ACK")
        .replace("z9hG4bK-s10-inv", "z9hG4bK-s10-ack")
        .replace(
            "To: <sip:bob@127.0.0.1>",
            &format!("To: <sip:bob@127.0.0.1>;tag={tag}"),
        );
    feed(ep, now, ack.as_bytes());
    assert!(events(ep).contains(&Event::CallEstablished { call }));
    call
}

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
        let call = answered(&mut ep, now, with.then_some(&BOB));
        ep.hangup(now, call).unwrap();
        let bye = sent(&mut ep).pop().unwrap().1;
        assert_eq!(parse(&bye).method(), Some(Method::Bye));
        assert!(parse(&bye).header(HeaderKind::ProxyAuthorization).is_none());
        let challenge = response_to(
            &bye,
            407,
            "",
            &[("Proxy-Authenticate", PROXY_CHALLENGE)],
            None,
        );
        feed(&mut ep, now, &challenge);
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
    let call = answered(&mut ep, now, None);
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
    let call = answered(&mut ep, now, Some(&bob));
    ep.reinvite(now, call, &[], ("application/sdp", SDP))
        .unwrap();
    let reinvite = sent(&mut ep).pop().unwrap().1;
    let challenge = |req: &[u8]| {
        response_to(
            req,
            407,
            "",
            &[("Proxy-Authenticate", PROXY_CHALLENGE)],
            None,
        )
    };
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
