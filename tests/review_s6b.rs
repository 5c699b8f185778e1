//! Review s6b: the changes since 79abd4c (slot reuse, the caller's dialog built from the
//! response, the session stepped in place, re-INVITEs without an offer, the raised
//! dialog limits), through the public API: one endpoint fed datagrams a scripted peer
//! writes. Each test states the behaviour the RFC asks for and failed before its fix.

mod scripted_support;

use scripted_support::*;

use sansip::Instant;
use sansip::endpoint::{CallHandle, Event, Request, Transport};
use sansip::message::{HeaderKind, Message, Method};

const OFFER: &[u8] = b"v=0\r\no=callee 2 2 IN IP4 127.0.0.1\r\n";
const ANSWER: &[u8] = b"v=0\r\no=caller 2 2 IN IP4 127.0.0.1\r\n";

fn header(m: &Message<'_>, kind: HeaderKind) -> String {
    String::from_utf8_lossy(m.header(kind).unwrap().value).into_owned()
}

/// A response from the scripted callee to `req` (Via, From, Call-ID, CSeq copied; To
/// with `tag`; its Contact; `body` as SDP when given).
fn answer(req: &[u8], code: u16, tag: &str, body: Option<&[u8]>) -> Vec<u8> {
    let m = parse(req);
    let to = header(&m, HeaderKind::To);
    let to = if to.contains("tag=") {
        to
    } else {
        format!("{to};tag={tag}")
    };
    let mut out = format!(
        "SIP/2.0 {code} Whatever\r\nVia: {}\r\nFrom: {}\r\nTo: {to}\r\nCall-ID: {}\r\nCSeq: {}\r\nContact: <sip:bob@{PEER}>\r\n",
        header(&m, HeaderKind::Via),
        header(&m, HeaderKind::From),
        header(&m, HeaderKind::CallId),
        header(&m, HeaderKind::CSeq),
    )
    .into_bytes();
    match body {
        Some(b) => {
            out.extend_from_slice(
                format!(
                    "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n",
                    b.len()
                )
                .as_bytes(),
            );
            out.extend_from_slice(b);
        }
        None => out.extend_from_slice(b"Content-Length: 0\r\n\r\n"),
    }
    out
}

/// The single datagram of `out` that is a request with `method`.
fn only(out: &[(std::net::SocketAddr, Vec<u8>)], method: &str) -> Vec<u8> {
    let found: Vec<_> = out
        .iter()
        .filter(|(_, b)| parse(b).method().is_some_and(|m| m.to_string() == method))
        .collect();
    assert_eq!(found.len(), 1, "{method} in {:?}", methods(out));
    found[0].1.clone()
}

/// A call placed by the endpoint (with an offer) to the scripted peer, answered 2xx with
/// To tag `tag` and ACKed.
fn established(ep: &mut Ep, now: Instant, tag: &str) -> CallHandle {
    let req = Request {
        body: Some(("application/sdp", OFFER)),
        ..Request::new(
            Method::Invite,
            "sip:bob@127.0.0.1:5070",
            "<sip:alice@127.0.0.1>",
            "<sip:bob@127.0.0.1>",
        )
    };
    let call = ep.invite(now, addr(PEER), &req).unwrap();
    let invite = only(&sent(ep), "INVITE");
    feed(ep, now, &answer(&invite, 200, tag, Some(ANSWER)));
    only(&sent(ep), "ACK");
    assert!(events(ep).contains(&Event::CallEstablished { call }));
    call
}

// ----- re-INVITE without an offer -----------------------------------------------------

/// RFC 3261 §13.2.2.4 (and §14.1, which applies it to re-INVITEs): the UAC acknowledges
/// every retransmission of a 2xx, and RFC 3264 §4 / §13.2.1: when the INVITE had no
/// offer, the ACK carries the answer to the 2xx's offer. A retransmission of the 2xx to an
/// offer-less re-INVITE, before the host gave its answer, must send nothing (the ACK waits
/// for the answer, as for the initial INVITE's late offer), and after it, the same ACK
/// with the answer. The session forgot the re-INVITE had no offer once its first 2xx
/// arrived, so the endpoint sent a bare ACK for the retransmission: the callee took the
/// offer as unanswered.
#[test]
fn a_retransmitted_2xx_to_an_offerless_reinvite_gets_the_ack_with_the_answer() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let call = established(&mut ep, now, "b1");
    events(&mut ep);
    ep.reinvite_without_offer(now, call, &[]).unwrap();
    let reinvite = only(&sent(&mut ep), "INVITE");
    assert!(parse(&reinvite).body().is_empty());
    let ok = answer(&reinvite, 200, "b1", Some(OFFER));
    feed(&mut ep, now, &ok);
    assert!(events(&mut ep).contains(&Event::AnswerNeeded { call }));
    assert!(
        methods(&sent(&mut ep)).is_empty(),
        "the ACK waits for the answer"
    );
    // The 2xx again, before the answer: still nothing (no bare ACK).
    feed(&mut ep, now, &ok);
    assert_eq!(
        methods(&sent(&mut ep)),
        Vec::<String>::new(),
        "a bare ACK for a 2xx whose offer is not answered"
    );
    ep.ack_with_answer(call, ("application/sdp", ANSWER))
        .unwrap();
    let ack = only(&sent(&mut ep), "ACK");
    assert_eq!(parse(&ack).body(), ANSWER);
    // The 2xx again, after the answer: the same ACK, answer and all.
    feed(&mut ep, now, &ok);
    let again = only(&sent(&mut ep), "ACK");
    assert_eq!(parse(&again).body(), ANSWER, "the ACK lost its answer");
    assert_eq!(
        parse(&again).cseq().unwrap().seq(),
        parse(&reinvite).cseq().unwrap().seq()
    );
}

// ----- the raised dialog limits ---------------------------------------------------------

/// The dialog limits were raised so that tags of live traffic (UUIDs, 36 characters)
/// fit (`dialog::MAX_TAG` 128), and a host may give the Call-ID (up to
/// `dialog::MAX_CALL_ID`) and the From tag of a request it sends (`Request::from_tag`,
/// e.g. a call placed again with its tags, RFC 3261 §8.1.1.3, §19.3). The Call-ID took
/// 128 bytes, but a From tag longer than 16 bytes was refused with
/// `Capacity::String`. A UUID tag goes out as given, and the call's dialog has it.
#[test]
fn a_host_given_from_tag_as_long_as_a_uuid_is_sent() {
    const TAG: &str = "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b";
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let req = Request {
        from_tag: Some(TAG),
        body: Some(("application/sdp", OFFER)),
        ..Request::new(
            Method::Invite,
            "sip:bob@127.0.0.1:5070",
            "<sip:alice@127.0.0.1>",
            "<sip:bob@127.0.0.1>",
        )
    };
    let call = ep.invite(now, addr(PEER), &req).unwrap();
    let invite = only(&sent(&mut ep), "INVITE");
    assert_eq!(parse(&invite).from().unwrap().tag(), Some(TAG));
    feed(&mut ep, now, &answer(&invite, 200, "b1", Some(ANSWER)));
    let ack = only(&sent(&mut ep), "ACK");
    assert_eq!(parse(&ack).from().unwrap().tag(), Some(TAG));
    assert_eq!(ep.call_dialog(call).unwrap().id().local_tag(), TAG);
}

/// RFC 3264 §4: an agent "MUST NOT generate a new offer if it has received an offer
/// which it has not yet answered"; RFC 3261 §14.1: no new INVITE transaction while
/// another is in progress in either direction (the callee retransmits its 2xx until the
/// ACK, §13.3.1.4). While the ACK of an offer-less re-INVITE's 2xx waits for the host's
/// answer (`Event::AnswerNeeded`), another re-INVITE is refused; once answered it goes.
#[test]
fn no_reinvite_while_the_2xx_offer_waits_for_its_answer() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let call = established(&mut ep, now, "b1");
    ep.reinvite_without_offer(now, call, &[]).unwrap();
    let reinvite = only(&sent(&mut ep), "INVITE");
    feed(&mut ep, now, &answer(&reinvite, 200, "b1", Some(OFFER)));
    assert!(events(&mut ep).contains(&Event::AnswerNeeded { call }));
    sent(&mut ep);
    assert_eq!(
        ep.reinvite(now, call, &[], ("application/sdp", ANSWER)),
        Err(sansip::endpoint::SendError::InvalidState),
        "a new offer before the ACK answered the peer's"
    );
    assert_eq!(
        ep.reinvite_without_offer(now, call, &[]),
        Err(sansip::endpoint::SendError::InvalidState)
    );
    assert!(methods(&sent(&mut ep)).is_empty(), "no INVITE went out");
    ep.ack_with_answer(call, ("application/sdp", ANSWER))
        .unwrap();
    only(&sent(&mut ep), "ACK");
    ep.reinvite(now, call, &[], ("application/sdp", ANSWER))
        .unwrap();
    only(&sent(&mut ep), "INVITE");
}
