//! Review s6b: the changes since 79abd4c (slot reuse, the caller's dialog built from the
//! response, the session stepped in place, re-INVITEs without an offer, the raised
//! dialog limits), through the public API: one endpoint fed datagrams a scripted peer
//! writes. Each test states the behaviour the RFC asks for; those of a defect failed
//! before its fix (said in their docs), the others cover a path found sound.

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
/// A call placed with Digest credentials and an offer, from `from`: the call and its
/// INVITE.
fn invite_with_credentials(ep: &mut Ep, from: &str) -> (CallHandle, Vec<u8>) {
    let req = Request {
        credentials: Some(sansip::endpoint::DigestCredentials::new("alice", "secret")),
        body: Some(("application/sdp", OFFER)),
        ..Request::new(
            Method::Invite,
            "sip:bob@127.0.0.1:5070",
            from,
            "<sip:bob@127.0.0.1>",
        )
    };
    let call = ep.invite(Instant::ZERO, addr(PEER), &req).unwrap();
    (call, only(&sent(ep), "INVITE"))
}

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
/// offer as unanswered (before the fix).
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
/// `Capacity::String` (before the fix). A UUID tag goes out as given, and the call's
/// dialog has it.
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
/// It went out before the fix.
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

/// The callee of a call may send the offer-less re-INVITE too (RFC 3261 §14.1 lets
/// either side): the caller's 2xx offers, the host is asked for its answer, and the ACK
/// carries it (RFC 3264 §4), exactly once.
#[test]
fn the_callee_sends_an_offerless_reinvite() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let invite = format!(
        "INVITE sip:bob@{LOCAL} SIP/2.0\r\nVia: SIP/2.0/UDP {PEER};branch=z9hG4bKinv1\r\n\
         Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=peer\r\nTo: <sip:bob@127.0.0.1>\r\n\
         Call-ID: s6b-callee\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@{PEER}>\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n",
        OFFER.len()
    );
    let mut invite = invite.into_bytes();
    invite.extend_from_slice(OFFER);
    feed(&mut ep, now, &invite);
    let (tx, call) = incoming(&events(&mut ep))[0];
    let call = call.unwrap();
    ep.respond(
        now,
        tx,
        sansip::message::StatusCode::OK,
        Some(("application/sdp", ANSWER)),
    )
    .unwrap();
    let ok = sent(&mut ep);
    assert_eq!(statuses(&ok), [(200, "INVITE".to_string())]);
    let ok = parse(&ok[0].1);
    let ack = format!(
        "ACK sip:bob@{LOCAL} SIP/2.0\r\nVia: SIP/2.0/UDP {PEER};branch=z9hG4bKack1\r\n\
         Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=peer\r\nTo: {}\r\n\
         Call-ID: s6b-callee\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
        header(&ok, HeaderKind::To)
    );
    feed(&mut ep, now, ack.as_bytes());
    assert!(events(&mut ep).contains(&Event::CallEstablished { call }));
    ep.reinvite_without_offer(now, call, &[]).unwrap();
    let reinvite = only(&sent(&mut ep), "INVITE");
    assert!(parse(&reinvite).body().is_empty());
    let ok = answer(&reinvite, 200, "peer", Some(OFFER));
    feed(&mut ep, now, &ok);
    let evs = events(&mut ep);
    assert_eq!(
        evs.iter()
            .filter(|e| **e == Event::AnswerNeeded { call })
            .count(),
        1,
        "{evs:?}"
    );
    assert_eq!(ep.call_answer(call).unwrap().body(), OFFER);
    assert!(methods(&sent(&mut ep)).is_empty());
    ep.ack_with_answer(call, ("application/sdp", ANSWER))
        .unwrap();
    let ack = only(&sent(&mut ep), "ACK");
    assert_eq!(parse(&ack).body(), ANSWER);
    assert_eq!(
        parse(&ack).cseq().unwrap().seq(),
        parse(&reinvite).cseq().unwrap().seq()
    );
}

/// §22.1: the ACK of a 2xx carries the credentials of its INVITE. An offer-less
/// re-INVITE challenged with 401 goes again with `Authorization` (§22.2); the ACK the
/// host's answer goes in carries them too.
#[test]
fn the_answer_ack_of_a_challenged_offerless_reinvite_carries_its_credentials() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (call, invite) = invite_with_credentials(&mut ep, "<sip:alice@127.0.0.1>");
    feed(&mut ep, now, &answer(&invite, 200, "b1", Some(ANSWER)));
    only(&sent(&mut ep), "ACK");
    events(&mut ep);
    ep.reinvite_without_offer(now, call, &[]).unwrap();
    let first = only(&sent(&mut ep), "INVITE");
    let mut challenge = answer(&first, 401, "b1", None);
    let at = challenge.len() - b"Content-Length: 0\r\n\r\n".len();
    challenge.splice(
        at..at,
        b"WWW-Authenticate: Digest realm=\"pbx.test\", nonce=\"u-1\", qop=\"auth\", algorithm=SHA-256\r\n"
            .iter()
            .copied(),
    );
    feed(&mut ep, now, &challenge);
    let out = sent(&mut ep);
    let retry = only(&out, "INVITE");
    let retry_msg = parse(&retry);
    assert!(retry_msg.header(HeaderKind::Authorization).is_some());
    assert!(retry_msg.body().is_empty(), "still no offer");
    feed(&mut ep, now, &answer(&retry, 200, "b1", Some(OFFER)));
    assert!(events(&mut ep).contains(&Event::AnswerNeeded { call }));
    ep.ack_with_answer(call, ("application/sdp", ANSWER))
        .unwrap();
    let ack = only(&sent(&mut ep), "ACK");
    let ack = parse(&ack);
    assert_eq!(ack.body(), ANSWER);
    assert_eq!(ack.cseq().unwrap().seq(), retry_msg.cseq().unwrap().seq());
    assert_eq!(
        header(&ack, HeaderKind::Authorization),
        header(&retry_msg, HeaderKind::Authorization)
    );
}

/// §14.1: a 491 to an offer-less re-INVITE leaves the call up; after the back-off the
/// host is told (`Event::RetryReInvite`) and may send it again, answered in its ACK.
#[test]
fn an_offerless_reinvite_refused_491_goes_again_after_the_backoff() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let call = established(&mut ep, now, "b1");
    events(&mut ep);
    ep.reinvite_without_offer(now, call, &[]).unwrap();
    let first = only(&sent(&mut ep), "INVITE");
    feed(&mut ep, now, &answer(&first, 491, "b1", None));
    only(&sent(&mut ep), "ACK");
    assert!(!events(&mut ep).contains(&Event::AnswerNeeded { call }));
    let mut t = now;
    let mut retry = false;
    while let Some(next) = ep.poll_timeout() {
        if next.as_millis() > 5_000 {
            break;
        }
        t = next;
        ep.handle_timeout(t);
        sent(&mut ep);
        retry |= events(&mut ep).contains(&Event::RetryReInvite { call });
        if retry {
            break;
        }
    }
    assert!(retry, "no RetryReInvite within 5 s");
    ep.reinvite_without_offer(t, call, &[]).unwrap();
    let again = only(&sent(&mut ep), "INVITE");
    assert!(parse(&again).cseq().unwrap().seq() > parse(&first).cseq().unwrap().seq());
    feed(&mut ep, t, &answer(&again, 200, "b1", Some(OFFER)));
    assert!(events(&mut ep).contains(&Event::AnswerNeeded { call }));
    ep.ack_with_answer(call, ("application/sdp", ANSWER))
        .unwrap();
    assert_eq!(parse(&only(&sent(&mut ep), "ACK")).body(), ANSWER);
}

// ----- the caller's dialog made from the response ---------------------------------------

/// §12.1.2: the caller's dialog is made from its INVITE and the dialog-creating
/// response. Outside TLS the endpoint makes it from the response alone when it echoes
/// the INVITE's From tag and CSeq (§8.2.6.2); the dialog must be the one
/// `Dialog::uac` makes from the INVITE that response answers: here a re-originated
/// INVITE after a 407 (its CSeq changed, §8.1.3.5), and a 2xx from another fork than
/// the early dialog's (§13.2.2.4).
#[test]
fn the_callers_dialog_is_the_one_its_invite_and_2xx_make() {
    use sansip::dialog::Dialog;
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let (call, first) = invite_with_credentials(&mut ep, "\"Alice\" <sip:alice@127.0.0.1;user=ip>");
    let mut challenge = answer(&first, 407, "px", None);
    let at = challenge.len() - b"Content-Length: 0\r\n\r\n".len();
    challenge.splice(
        at..at,
        b"Proxy-Authenticate: Digest realm=\"proxy.test\", nonce=\"p-1\", qop=\"auth\"\r\n"
            .iter()
            .copied(),
    );
    feed(&mut ep, now, &challenge);
    let out = sent(&mut ep);
    let retry = only(&out, "INVITE");
    assert!(parse(&retry).cseq().unwrap().seq() > parse(&first).cseq().unwrap().seq());
    // Fork A rings (an early dialog), fork B answers with a Record-Route.
    let ringing = answer(&retry, 180, "forkA", None);
    feed(&mut ep, now, &ringing);
    sent(&mut ep);
    let early = ep.call_dialog(call).unwrap().clone();
    assert_eq!(
        early,
        Dialog::uac(&parse(&retry), &parse(&ringing), false).unwrap()
    );
    let mut ok = answer(&retry, 200, "forkB", Some(ANSWER));
    let at = ok.iter().position(|&b| b == b'\n').unwrap() + 1;
    ok.splice(
        at..at,
        b"Record-Route: <sip:p2.test;lr>, <sip:p1.test;lr>\r\n"
            .iter()
            .copied(),
    );
    feed(&mut ep, now, &ok);
    let ack = only(&sent(&mut ep), "ACK");
    assert_eq!(
        parse(&ack).cseq().unwrap().seq(),
        parse(&retry).cseq().unwrap().seq()
    );
    let want = Dialog::uac(&parse(&retry), &parse(&ok), false).unwrap();
    assert_eq!(ep.call_dialog(call), Some(&want));
    assert_eq!(want.route_set().count(), 2);
}

/// RFC 3262 §4 and RFC 3261 §13.2.2.4: an early dialog whose reliable provisional
/// response was PRACKed, confirmed by a 2xx from the same UAS, is the dialog
/// `Dialog::uac` makes from the INVITE and the 2xx (route set reversed from the 2xx's
/// Record-Route, the 2xx's Contact as remote target) but for its local CSeq, which goes
/// on from the PRACK's (§12.2.1.1): the BYE follows it.
#[test]
fn a_pracked_early_dialog_confirmed_by_its_2xx() {
    use sansip::dialog::Dialog;
    let mut ep = Box::new(sansip::endpoint::Endpoint::new(
        sansip::endpoint::EndpointConfig {
            capabilities: sansip::check::Capabilities {
                extensions: &["100rel"],
                ..sansip::check::Capabilities::DEFAULT
            },
            ..sansip::endpoint::EndpointConfig::new(addr(LOCAL), 7)
        },
    ));
    let now = Instant::ZERO;
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
    let invite = only(&sent(&mut ep), "INVITE");
    let with = |mut m: Vec<u8>, lines: &[u8]| {
        let at = m.iter().position(|&b| b == b'\n').unwrap() + 1;
        m.splice(at..at, lines.iter().copied());
        m
    };
    let progress = with(
        answer(&invite, 183, "b1", None),
        b"Require: 100rel\r\nRSeq: 1\r\nRecord-Route: <sip:p1.test;lr>\r\n",
    );
    feed(&mut ep, now, &progress);
    let prack = only(&sent(&mut ep), "PRACK");
    let prack_seq = parse(&prack).cseq().unwrap().seq();
    assert!(prack_seq > parse(&invite).cseq().unwrap().seq());
    feed(&mut ep, now, &answer(&prack, 200, "b1", None));
    sent(&mut ep);
    let ok = with(
        answer(&invite, 200, "b1", Some(ANSWER)),
        b"Record-Route: <sip:p2.test;lr>, <sip:p1.test;lr>\r\n",
    );
    let ok = {
        // The 2xx names another Contact than the 183: the remote target is the 2xx's.
        let text = String::from_utf8(ok).unwrap();
        text.replacen(
            &format!("Contact: <sip:bob@{PEER}>"),
            "Contact: <sip:bob@127.0.0.1:5090>",
            1,
        )
        .into_bytes()
    };
    feed(&mut ep, now, &ok);
    only(&sent(&mut ep), "ACK");
    let want = Dialog::uac(&parse(&invite), &parse(&ok), false).unwrap();
    let got = ep.call_dialog(call).unwrap();
    let fields = |d: &Dialog| {
        (
            d.id().clone(),
            d.state(),
            d.remote_seq(),
            d.local_uri().to_owned(),
            d.remote_uri().to_owned(),
            d.remote_target().to_owned(),
            d.route_set().map(str::to_owned).collect::<Vec<_>>(),
            d.is_secure(),
        )
    };
    assert_eq!(fields(got), fields(&want));
    assert_eq!(got.local_seq(), prack_seq);
    assert_eq!(got.remote_target(), "sip:bob@127.0.0.1:5090");
    assert_eq!(got.route_set().count(), 2);
    ep.hangup(now, call).unwrap();
    let bye = only(&sent(&mut ep), "BYE");
    assert_eq!(parse(&bye).cseq().unwrap().seq(), prack_seq + 1);
}

/// §12.1.2: over TLS with a SIPS Request-URI the caller's dialog is secure; the early
/// dialog the 180 makes stays secure when its 2xx confirms it, equal to the dialog
/// `Dialog::uac` makes from the INVITE and the 2xx over TLS.
#[test]
fn a_sips_early_dialog_confirmed_over_tls_stays_secure() {
    use sansip::dialog::Dialog;
    let mut ep = endpoint(Transport::Tls);
    let now = Instant::ZERO;
    let req = Request {
        body: Some(("application/sdp", OFFER)),
        ..Request::new(
            Method::Invite,
            "sips:bob@127.0.0.1:5070",
            "<sips:alice@127.0.0.1>",
            "<sips:bob@127.0.0.1>",
        )
    };
    let call = ep.invite(now, addr(PEER), &req).unwrap();
    let invite = only(&sent(&mut ep), "INVITE");
    let sips = |m: Vec<u8>| {
        String::from_utf8(m)
            .unwrap()
            .replacen(
                &format!("<sip:bob@{PEER}>"),
                &format!("<sips:bob@{PEER}>"),
                1,
            )
            .into_bytes()
    };
    feed(&mut ep, now, &sips(answer(&invite, 180, "b1", None)));
    sent(&mut ep);
    assert!(ep.call_dialog(call).unwrap().is_secure());
    let ok = sips(answer(&invite, 200, "b1", Some(ANSWER)));
    feed(&mut ep, now, &ok);
    only(&sent(&mut ep), "ACK");
    let want = Dialog::uac(&parse(&invite), &parse(&ok), true).unwrap();
    assert!(want.is_secure());
    assert_eq!(ep.call_dialog(call), Some(&want));
}

// ----- slots reused ------------------------------------------------------------------

/// Every datagram `ep` has to send, in order.
fn drain<const TX: usize, const CALLS: usize, const MSG: usize, const QUEUE: usize>(
    ep: &mut sansip::endpoint::Endpoint<TX, CALLS, MSG, QUEUE>,
) -> Vec<Vec<u8>> {
    let mut buf = vec![0u8; 4096];
    let mut out = Vec::new();
    while let Some(t) = ep.poll_transmit(&mut buf).unwrap() {
        out.push(t.bytes.to_vec());
    }
    out
}

/// A freed transaction slot keeps its buffers for the next transaction (Table::
/// insert_reusing). With one slot, a second request reuses the first one's: the old
/// handle finds nothing, and the new transaction shows its own request and no response
/// until its own arrives (nothing of the previous occupant, RFC 3261 §17.1.2).
#[test]
fn a_reused_transaction_slot_shows_nothing_of_its_last_transaction() {
    type One = sansip::endpoint::Endpoint<1, 1, 2048>;
    let mut ep: Box<One> = Box::new(sansip::endpoint::Endpoint::new(
        sansip::endpoint::EndpointConfig::new(addr(LOCAL), 7),
    ));
    let options = |uri| {
        Request::new(
            Method::Options,
            uri,
            "<sip:alice@127.0.0.1>",
            "<sip:bob@127.0.0.1>",
        )
    };
    let now = Instant::ZERO;
    let first = ep
        .send_request(now, addr(PEER), &options("sip:bob@127.0.0.1:5070"))
        .unwrap();
    let sent_first = drain(&mut ep).remove(0);
    let reply = answer(&sent_first, 200, "b1", Some(OFFER));
    ep.handle_datagram(now, addr(PEER), &reply);
    assert_eq!(ep.response(first).unwrap().body(), OFFER);
    // Timer K (T4 over UDP) ends it and frees the slot.
    let mut t = now;
    while ep.transaction_count() > 0 {
        t = ep.poll_timeout().unwrap();
        ep.handle_timeout(t);
        drain(&mut ep);
    }
    let second = ep
        .send_request(t, addr(PEER), &options("sip:carol@127.0.0.1:5070"))
        .unwrap();
    drain(&mut ep);
    assert_ne!(second, first);
    assert!(ep.request(first).is_none() && ep.response(first).is_none());
    assert!(
        ep.response(second).is_none(),
        "the last transaction's response"
    );
    let req = ep.request(second).unwrap();
    assert_eq!(
        req.request_uri().unwrap().unwrap().as_str(),
        "sip:carol@127.0.0.1:5070"
    );
}

/// The same for a call slot (its `answer` and `ack` buffers): a call placed in the slot
/// of a finished late-offer call has no peer message (`call_answer`) before its own 2xx,
/// and its 2xx gets a fresh ACK, not the last call's stored one (RFC 3261 §13.2.2.4).
#[test]
fn a_reused_call_slot_shows_nothing_of_its_last_call() {
    type One = sansip::endpoint::Endpoint<8, 1, 2048>;
    let mut ep: Box<One> = Box::new(sansip::endpoint::Endpoint::new(
        sansip::endpoint::EndpointConfig::new(addr(LOCAL), 7),
    ));
    let now = Instant::ZERO;
    // A late-offer call: the 2xx offers, the ACK answers; then it is hung up.
    let req = Request::new(
        Method::Invite,
        "sip:bob@127.0.0.1:5070",
        "<sip:alice@127.0.0.1>",
        "<sip:bob@127.0.0.1>",
    );
    let first = ep.invite(now, addr(PEER), &req).unwrap();
    let invite = drain(&mut ep).remove(0);
    ep.handle_datagram(now, addr(PEER), &answer(&invite, 200, "b1", Some(OFFER)));
    ep.ack_with_answer(first, ("application/sdp", ANSWER))
        .unwrap();
    drain(&mut ep);
    ep.hangup(now, first).unwrap();
    let bye = drain(&mut ep).remove(0);
    ep.handle_datagram(now, addr(PEER), &answer(&bye, 200, "b1", None));
    drain(&mut ep);
    assert_eq!(ep.call_count(), 0);
    // The next call, in the same slot, with an offer of its own.
    let req = Request {
        body: Some(("application/sdp", OFFER)),
        ..req
    };
    let second = ep.invite(now, addr(PEER), &req).unwrap();
    assert_ne!(second, first);
    assert!(ep.call_answer(first).is_none());
    assert!(ep.call_answer(second).is_none(), "the last call's 2xx");
    let invite = drain(&mut ep).remove(0);
    ep.handle_datagram(now, addr(PEER), &answer(&invite, 200, "b2", Some(ANSWER)));
    let out = drain(&mut ep);
    assert_eq!(out.len(), 1);
    let ack = parse(&out[0]);
    assert_eq!(ack.method(), Some(Method::Ack));
    assert!(ack.body().is_empty(), "the last call's ACK");
    assert_eq!(ack.to().unwrap().tag(), Some("b2"));
    assert_eq!(ep.call_answer(second).unwrap().body(), ANSWER);
}

/// §13.2.2.4 and §15: a host that hangs up while the ACK of an offer-less re-INVITE's
/// 2xx waits for its answer: the 2xx is acknowledged with "a valid answer", one rejecting
/// every offered stream (RFC 3264 §6), then the BYE goes, CSeq after the re-INVITE's.
#[test]
fn a_hang_up_while_the_answer_is_awaited_acks_then_byes() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let call = established(&mut ep, now, "b1");
    ep.reinvite_without_offer(now, call, &[]).unwrap();
    let reinvite = only(&sent(&mut ep), "INVITE");
    let offer = b"v=0\r\no=callee 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n\
t=0 0\r\nm=audio 6000 RTP/AVP 0 8\r\nm=video 6002 RTP/AVP 96\r\n";
    feed(&mut ep, now, &answer(&reinvite, 200, "b1", Some(offer)));
    assert!(events(&mut ep).contains(&Event::AnswerNeeded { call }));
    assert!(sent(&mut ep).is_empty());
    ep.hangup(now, call).unwrap();
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["ACK", "BYE"]);
    let seq = parse(&reinvite).cseq().unwrap().seq();
    let ack = parse(&out[0].1);
    assert_eq!(ack.cseq().unwrap().seq(), seq);
    assert_eq!(header(&ack, HeaderKind::ContentType), "application/sdp");
    let body = std::str::from_utf8(ack.body()).unwrap();
    let streams: Vec<&str> = body.lines().filter(|l| l.starts_with("m=")).collect();
    assert_eq!(
        streams,
        ["m=audio 0 RTP/AVP 0", "m=video 0 RTP/AVP 96"],
        "{body}"
    );
    assert_eq!(parse(&out[1].1).cseq().unwrap().seq(), seq + 1);
    assert_eq!(
        ep.ack_with_answer(call, ("application/sdp", ANSWER)),
        Err(sansip::endpoint::SendError::UnknownHandle),
        "the call is over"
    );
}
