//! RFC 3261 §13.2.2.4: "If the 2xx contains an offer ..., the ACK MUST carry an answer in
//! its body. If the offer in the 2xx response is not acceptable, the UAC core MUST
//! generate a valid answer in the ACK and then send a BYE immediately." For a late-offer
//! call the endpoint writes that answer itself when the host cannot: it rejects every
//! offered stream (RFC 3264 §6, port zero, same m= lines in the same order).

mod scripted_support;

use sansip::Instant;
use sansip::endpoint::{Event, Request, Transport};
use sansip::message::{HeaderKind, Method};
use scripted_support::*;

const OFFER: &[u8] = b"v=0\r\no=bob 7 7 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n\
t=0 0\r\nm=audio 7000 RTP/AVP 8 0\r\nm=video 7002 RTP/AVP 97\r\n";

/// The callee's 2xx to `invite` with To tag `tag` and an SDP offer.
fn ok_with_offer(invite: &[u8], tag: &str) -> Vec<u8> {
    let contact = [("Contact", "<sip:bob@127.0.0.1:5070>")];
    response_to(invite, 200, tag, &contact, Some(OFFER))
}

fn streams(body: &[u8]) -> Vec<String> {
    std::str::from_utf8(body)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("m="))
        .map(str::to_owned)
        .collect()
}

/// A late-offer INVITE (no body) answered 2xx with an offer by two forks: the first is
/// the call's (its ACK waits for the host's answer); the second is ACKed at once with an
/// answer rejecting its streams, then BYEd. The host then hangs up before answering the
/// first: its ACK carries the rejecting answer too, then the BYE.
#[test]
fn unanswered_offers_get_a_rejecting_answer_in_the_ack() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let req = Request::new(
        Method::Invite,
        "sip:bob@127.0.0.1:5070",
        "<sip:alice@127.0.0.1>",
        "<sip:bob@127.0.0.1>",
    );
    let call = ep.invite(now, addr(PEER), &req).unwrap();
    let invite = sent(&mut ep).pop().unwrap().1;
    assert!(parse(&invite).body().is_empty(), "a late offer");
    feed(&mut ep, now, &ok_with_offer(&invite, "fork-a"));
    assert!(
        sent(&mut ep).is_empty(),
        "the ACK waits for the host's answer"
    );
    assert!(events(&mut ep).contains(&Event::AnswerNeeded { call }));

    feed(&mut ep, now, &ok_with_offer(&invite, "fork-b"));
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["ACK", "BYE"]);
    let ack = parse(&out[0].1);
    assert_eq!(ack.to().unwrap().tag(), Some("fork-b"));
    assert_eq!(
        ack.header(HeaderKind::ContentType).unwrap().value,
        b"application/sdp"
    );
    assert_eq!(
        streams(ack.body()),
        ["m=audio 0 RTP/AVP 8", "m=video 0 RTP/AVP 97"]
    );
    assert_eq!(parse(&out[1].1).to().unwrap().tag(), Some("fork-b"));

    ep.hangup(now, call).unwrap();
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["ACK", "BYE"]);
    let ack = parse(&out[0].1);
    assert_eq!(ack.to().unwrap().tag(), Some("fork-a"));
    assert_eq!(
        streams(ack.body()),
        ["m=audio 0 RTP/AVP 8", "m=video 0 RTP/AVP 97"]
    );
    // A retransmission of the 2xx (the ACK was lost) is ACKed again (§13.2.2.4).
    feed(&mut ep, now, &ok_with_offer(&invite, "fork-a"));
    // The call is over: the 2xx is ACKed (with the rejecting answer again), and not
    // BYEd again: the call's BYE ended its dialog (§12.2.1.1).
    let again = sent(&mut ep);
    assert_eq!(methods(&again), ["ACK"]);
    let ack = parse(&again[0].1);
    assert_eq!(ack.to().unwrap().tag(), Some("fork-a"));
    assert_eq!(
        streams(ack.body()),
        ["m=audio 0 RTP/AVP 8", "m=video 0 RTP/AVP 97"]
    );
}
