//! Review s6: security and robustness of the endpoint and the writer against hostile or
//! malformed input and careless hosts, through the public API. Each test states the
//! behaviour the RFC (or the crate's design rules) ask for and failed before its fix.

use sansip::Instant;
use sansip::endpoint::{Endpoint, EndpointConfig, Event, Request, Transport};
use sansip::message::{HeaderKind, Method, StatusCode};

mod scripted_support;

use scripted_support::*;

/// Drain every transmit of `ep`.
fn drain<const TX: usize, const CALLS: usize, const MSG: usize, const QUEUE: usize>(
    ep: &mut Endpoint<TX, CALLS, MSG, QUEUE>,
) {
    let mut buf = vec![0u8; MSG];
    while ep.poll_transmit(&mut buf).unwrap().is_some() {}
}

// ----- events are never lost to a full queue ------------------------------------------

/// An endpoint that has sent `n` OPTIONS to a peer that will never answer.
fn options_sent(n: usize) -> Box<Endpoint<128, 4, 512>> {
    let mut ep: Box<Endpoint<128, 4, 512>> =
        Box::new(Endpoint::new(EndpointConfig::new(addr(LOCAL), 1)));
    for _ in 0..n {
        let r = Request::new(
            Method::Options,
            "sip:bob@127.0.0.1:5070",
            "<sip:alice@127.0.0.1>",
            "<sip:bob@127.0.0.1>",
        );
        ep.send_request(Instant::ZERO, addr(PEER), &r).unwrap();
        drain(&mut ep);
    }
    ep
}

/// RFC 3261 §17.1.2.2: when Timer F fires the client transaction "SHOULD inform the TU
/// about the timeout". A host that sent a burst of requests (more than
/// `EVENT_QUEUE`) to a peer that never answers must learn of every timeout: their
/// Timer Fs are due at the same instant, and one `handle_timeout` used to fire them all
/// and drop the events past the queue's 64 (counted as `queue_overflows`). It now leaves
/// the rest due, as it does when the transmit queue fills, and the host gets them on
/// its next call.
#[test]
fn a_burst_of_timeouts_reaches_the_host_whole() {
    const BURST: usize = 100;
    let mut ep = options_sent(BURST);
    let mut timed_out = 0;
    let mut rounds = 0;
    // The host loop of the crate docs: sleep until `poll_timeout`, fire, drain all.
    while let Some(t) = ep.poll_timeout() {
        rounds += 1;
        assert!(rounds < 10_000, "handle_timeout makes no progress");
        ep.handle_timeout(t);
        drain(&mut ep);
        while let Some(e) = ep.poll_event() {
            timed_out += usize::from(matches!(e, Event::TimedOut { .. }));
        }
    }
    assert_eq!(ep.stats().queue_overflows, 0, "events dropped");
    assert_eq!(timed_out, BURST, "every Timer F reaches the host");
    assert_eq!(ep.transaction_count(), 0);
}

/// RFC 3261 §17.1.4: a transport failure is reported to the TU (treated as 503).
/// A host that sends everything through one outbound proxy has many transactions
/// towards it; one `handle_send_error` for that address used to fail them all at once
/// and drop the events past the queue's 64, so the host never learned what became of
/// those requests. Now every transaction ends with exactly one event the host gets: a
/// `TransportError` while the queue has room, else the next failure report or its
/// timeout (`TimedOut`) ends it later.
#[test]
fn a_send_error_to_a_busy_destination_loses_no_event() {
    const BURST: usize = 100;
    let mut ep = options_sent(BURST);
    let now = Instant::ZERO;
    let mut ended = 0;
    let mut count = |ep: &mut Endpoint<128, 4, 512>| {
        while let Some(e) = ep.poll_event() {
            ended += usize::from(matches!(
                e,
                Event::TransportError { .. } | Event::TimedOut { .. }
            ));
        }
    };
    ep.handle_send_error(now, addr(PEER));
    drain(&mut ep);
    count(&mut ep);
    let mut rounds = 0;
    while let Some(t) = ep.poll_timeout() {
        rounds += 1;
        assert!(rounds < 10_000, "no progress");
        ep.handle_timeout(t);
        drain(&mut ep);
        count(&mut ep);
    }
    assert_eq!(ep.stats().queue_overflows, 0, "events dropped");
    assert_eq!(ended, BURST, "every request's end reaches the host");
}

// ----- time near the end of `Instant` ----------------------------------------------------

/// RFC 3261 §17.1.2.2: Timer E retransmits a non-INVITE request until Timer F (64*T1)
/// ends the transaction. `Instant` saturates at its end: a host whose clock reads near
/// `u64::MAX` milliseconds (a wrapped subtraction is enough) had Timer F and every
/// re-armed Timer E land on the same last instant, and E, the lower timer, always fired
/// first and was re-armed there again: the request was retransmitted for ever, about 29
/// datagrams per `handle_timeout`, and never timed out. Timers due at the same instant
/// now fire in the order they were armed, so F ends the transaction.
#[test]
fn timers_at_the_end_of_time_still_end_the_transaction() {
    let mut ep = endpoint(sansip::endpoint::Transport::Udp);
    let now = Instant::from_millis(u64::MAX - 1_000);
    let r = Request::new(
        Method::Options,
        "sip:bob@127.0.0.1:5070",
        "<sip:alice@127.0.0.1>",
        "<sip:bob@127.0.0.1>",
    );
    ep.send_request(now, addr(PEER), &r).unwrap();
    let mut datagrams = sent(&mut ep).len();
    let mut timed_out = false;
    let mut rounds = 0;
    while let Some(t) = ep.poll_timeout() {
        rounds += 1;
        assert!(
            rounds < 100,
            "the host is called for ever; {datagrams} datagrams sent"
        );
        ep.handle_timeout(t);
        datagrams += sent(&mut ep).len();
        timed_out |= events(&mut ep)
            .iter()
            .any(|e| matches!(e, Event::TimedOut { .. }));
    }
    assert!(timed_out, "Timer F reaches the host");
    assert!(datagrams <= 11, "{datagrams} datagrams for one request");
}

// ----- every request passed to the host can be answered --------------------------------

/// An OPTIONS from the scripted peer whose second Via carries `pad` bytes of parameter:
/// a response copies every Via (RFC 3261 §8.2.6.2) and adds the endpoint's To tag,
/// `received`/`rport` (§18.2.1, RFC 3581) and Server, so it is bigger than the request.
fn padded_options(branch: &str, pad: usize) -> Vec<u8> {
    format!(
        "OPTIONS sip:bob@{LOCAL} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {PEER};branch={branch};rport\r\n\
         Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKproxy;x={}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:alice@127.0.0.1>;tag=peer\r\n\
         To: <sip:bob@127.0.0.1>\r\n\
         Call-ID: {branch}\r\n\
         CSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n",
        "p".repeat(pad)
    )
    .into_bytes()
}

/// A server transaction has no timer before its final response (RFC 3261 §17.2.2,
/// Trying and Proceeding wait for the TU), so a request the endpoint passes to the host
/// must be one the host can answer. A request that fits the `MSG` store but whose
/// responses, which copy its Vias, From, To, Call-ID and CSeq and add the endpoint's
/// own headers, do not, used to reach the host, whose every `respond` then failed
/// (`BufferTooSmall`): the transaction stayed for ever, and `TX` such datagrams filled
/// the table, every later request getting 503. The endpoint now refuses such a request
/// itself (513 Message Too Large, §21.5.7, when even that fits) and keeps nothing.
#[test]
fn a_request_whose_response_cannot_be_stored_does_not_hold_a_transaction() {
    let mut ep = endpoint(sansip::endpoint::Transport::Udp);
    let mut now = Instant::ZERO;
    // Just under the 2048-byte store of `Ep`.
    let pad = 2047 - padded_options("z9hG4bKbig10", 0).len();
    for i in 10..42 {
        let big = padded_options(&format!("z9hG4bKbig{i}"), pad);
        assert_eq!(big.len(), 2047);
        feed(&mut ep, now, &big);
        for (tx, _) in incoming(&events(&mut ep)) {
            // What reaches the host can be answered.
            ep.respond(now, tx, sansip::StatusCode::OK, None)
                .unwrap_or_else(|e| panic!("request {i} cannot be answered: {e}"));
        }
        sent(&mut ep);
    }
    // Long past every timer: nothing the peer sent holds a slot.
    now = Instant::from_millis(3_600_000);
    ep.handle_timeout(now);
    sent(&mut ep);
    events(&mut ep);
    assert_eq!(ep.transaction_count(), 0, "stuck server transactions");
    // A request of ordinary size still reaches the host.
    feed(&mut ep, now, &padded_options("z9hG4bKsmall", 10));
    assert_eq!(statuses(&sent(&mut ep)), []);
    assert_eq!(incoming(&events(&mut ep)).len(), 1, "the table is not full");
}

/// The same for a request with more Via header lines than a response can hold
/// (`MAX_BUILDER_HEADERS`): no response to it can be written, so none reaches the host
/// and no transaction is kept for it (RFC 3261 §8.2.6.2, §17.2.2).
#[test]
fn a_request_with_more_vias_than_a_response_holds_does_not_hold_a_transaction() {
    let mut ep = endpoint(sansip::endpoint::Transport::Udp);
    let now = Instant::ZERO;
    let proxies: String = (0..30)
        .map(|i| format!("Via: SIP/2.0/UDP 192.0.2.{i};branch=z9hG4bKp{i}\r\n"))
        .collect();
    let req = format!(
        "OPTIONS sip:bob@{LOCAL} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {PEER};branch=z9hG4bKvias\r\n{proxies}\
         Max-Forwards: 70\r\n\
         From: <sip:alice@127.0.0.1>;tag=peer\r\n\
         To: <sip:bob@127.0.0.1>\r\n\
         Call-ID: vias\r\n\
         CSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n"
    );
    feed(&mut ep, now, req.as_bytes());
    sent(&mut ep);
    for (tx, _) in incoming(&events(&mut ep)) {
        ep.respond(now, tx, sansip::StatusCode::OK, None)
            .unwrap_or_else(|e| panic!("the request cannot be answered: {e}"));
    }
    sent(&mut ep);
    ep.handle_timeout(Instant::from_millis(3_600_000));
    assert_eq!(ep.transaction_count(), 0, "a stuck server transaction");
}

// ----- tags, branches and Call-IDs are unguessable -------------------------------------

/// The inverse of `x * c` modulo 2^64 for an odd `c` (Newton's iteration).
fn inverse(c: u64) -> u64 {
    let mut x = c; // correct to 3 bits
    for _ in 0..6 {
        x = x.wrapping_mul(2u64.wrapping_sub(c.wrapping_mul(x)));
    }
    x
}

/// The inverse of `z ^ (z >> s)`.
fn unshift(z: u64, s: u32) -> u64 {
    let mut x = z;
    for _ in 0..64 / s {
        x = z ^ (x >> s);
    }
    x
}

/// What an attacker who read one 64-bit random value the endpoint wrote (a To tag)
/// predicts for the next one, taking the generator for SplitMix64 (a bijective
/// finaliser over a counter): invert the finaliser, step the counter, apply it again.
fn splitmix_successor(out: u64) -> u64 {
    const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
    const M1: u64 = 0xBF58_476D_1CE4_E5B9;
    const M2: u64 = 0x94D0_49BB_1331_11EB;
    let mut z = unshift(out, 31);
    z = unshift(z.wrapping_mul(inverse(M2)), 27);
    let state = unshift(z.wrapping_mul(inverse(M1)), 30);
    let mut z = state.wrapping_add(GAMMA);
    z = (z ^ (z >> 30)).wrapping_mul(M1);
    z = (z ^ (z >> 27)).wrapping_mul(M2);
    z ^ (z >> 31)
}

/// The To tag the endpoint gives its 200 to an OPTIONS from the scripted peer.
fn tag_of_answer(ep: &mut Ep, now: Instant, branch: &str) -> u64 {
    feed(ep, now, &padded_options(branch, 1));
    let (tx, _) = incoming(&events(ep))[0];
    ep.respond(now, tx, sansip::StatusCode::OK, None).unwrap();
    let out = sent(ep);
    let tag = parse(&out[0].1).to().unwrap().tag().unwrap().to_owned();
    u64::from_str_radix(&tag, 16).unwrap()
}

/// RFC 3261 §19.3: tags must be "cryptographically random", and Call-IDs (§8.1.1.4)
/// and branches (§8.1.1.7) unguessable too: whoever can predict them can forge, from
/// anywhere, responses to this endpoint's requests (they are matched by branch,
/// §17.1.3) and requests within its dialogs (Call-ID and tags, §12.2.2), e.g. a BYE.
/// The endpoint wrote the raw output of SplitMix64, whose finaliser is a bijection: one
/// To tag gave away the generator's state and with it every later tag, branch and
/// Call-ID. Its values now come from a keyed PRF (SipHash) over the counter.
#[test]
fn the_next_tag_cannot_be_computed_from_the_last_one() {
    let mut ep = endpoint(sansip::endpoint::Transport::Udp);
    let mut last = tag_of_answer(&mut ep, Instant::ZERO, "z9hG4bKguess0");
    for i in 1..40 {
        // Each answered OPTIONS waits out Timer J (64*T1) in the table.
        let now = Instant::from_millis(i * 40_000);
        ep.handle_timeout(now);
        let next = tag_of_answer(&mut ep, now, &format!("z9hG4bKguess{i}"));
        assert_ne!(next, splitmix_successor(last), "tag {i} was predicted");
        last = next;
    }
}

// ----- tags as live traffic writes them ------------------------------------------------

/// A request from the scripted peer in the dialog of Call-ID `tags`, From tag `tag`.
fn caller_request(method: &str, branch: &str, tag: &str, to_tag: Option<&str>) -> Vec<u8> {
    let to_tag = to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
    format!(
        "{method} sip:bob@{LOCAL} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {PEER};branch={branch}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:alice@127.0.0.1>;tag={tag}\r\n\
         To: <sip:bob@127.0.0.1>{to_tag}\r\n\
         Call-ID: tags\r\n\
         CSeq: 1 {method}\r\n\
         Contact: <sip:alice@{PEER}>\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// The parser accepts a tag as live traffic writes it, not only as the token RFC 3261
/// §25.1 asks for (`&`, `^`, `:` from captured Cisco and Pingtel phones: any visible
/// ASCII but `"<>,;=`), and the endpoint makes calls with such peers; but the writer
/// refused to write such a tag back (`Value::Tagged` wanted a token), so every request
/// within the dialog failed: the callee's host could not hang up (`Encode`), the call
/// held its slot until the peer ended it, and a few such calls filled the table. Tags
/// the parser accepts are now written back as they came (§12.2.1.1: the remote tag
/// goes in the To of every request within the dialog).
#[test]
fn a_callee_can_hang_up_on_a_caller_whose_tag_is_not_a_token() {
    for tag in ["7618c7618^", "5af571e&Sy", "a:b"] {
        let mut ep = endpoint(Transport::Udp);
        let now = Instant::ZERO;
        feed(
            &mut ep,
            now,
            &caller_request("INVITE", "z9hG4bKt1", tag, None),
        );
        let (tx, call) = incoming(&events(&mut ep))[0];
        let call = call.unwrap();
        ep.respond(now, tx, StatusCode::OK, None).unwrap();
        let ok = sent(&mut ep).pop().unwrap().1;
        let local = parse(&ok).to().unwrap().tag().unwrap().to_owned();
        feed(
            &mut ep,
            now,
            &caller_request("ACK", "z9hG4bKt2", tag, Some(&local)),
        );
        events(&mut ep);
        ep.hangup(now, call)
            .unwrap_or_else(|e| panic!("tag {tag}: no BYE: {e}"));
        let out = sent(&mut ep);
        assert_eq!(methods(&out), ["BYE"], "tag {tag}");
        let bye = parse(&out[0].1);
        assert_eq!(bye.to().unwrap().tag(), Some(tag));
    }
}

/// The same on the caller's side: a 2xx whose To tag is not a token still gets its ACK
/// (RFC 3261 §13.2.2.4: every 2xx is ACKed), and the call can be hung up.
#[test]
fn a_caller_acks_a_callee_whose_tag_is_not_a_token() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let r = Request::new(
        Method::Invite,
        "sip:bob@127.0.0.1:5070",
        "<sip:alice@127.0.0.1>",
        "<sip:bob@127.0.0.1>",
    );
    let call = ep.invite(now, addr(PEER), &r).unwrap();
    let invite = sent(&mut ep).remove(0).1;
    let m = parse(&invite);
    let value = |k| String::from_utf8_lossy(m.header(k).unwrap().value).into_owned();
    let ok = format!(
        "SIP/2.0 200 OK\r\nVia: {}\r\nFrom: {}\r\nTo: {};tag=5af571e&Sy\r\n\
         Call-ID: {}\r\nCSeq: {}\r\nContact: <sip:bob@{PEER}>\r\nContent-Length: 0\r\n\r\n",
        value(HeaderKind::Via),
        value(HeaderKind::From),
        value(HeaderKind::To),
        value(HeaderKind::CallId),
        value(HeaderKind::CSeq),
    );
    feed(&mut ep, now, ok.as_bytes());
    assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
    ep.hangup(now, call).unwrap();
    assert_eq!(methods(&sent(&mut ep)), ["BYE"]);
}

// ----- tags and Call-IDs as long as live traffic writes them ---------------------------

/// Tags in live traffic are often UUIDs (36 characters) and reach 84 (a phone that
/// writes its branch into the tag); Call-IDs with an IPv6 host pass 64. A dialog stored
/// at most 32 bytes of tag and 64 of Call-ID, so such a caller's INVITE got 500 and a
/// callee's 2xx with such a tag was never ACKed. Both ends now hold 128.
#[test]
fn calls_with_tags_and_call_ids_as_long_as_live_traffic_writes_them() {
    let long_tag =
        "00E4EF38-be6170-0-16e4-5af571fa-27c1bb98-5af571faz9hG4bK-5af571fa-4ec53b84-45186f0a";
    let uuid = "0e99b1e7-ff50-4875-94ef-4ca5c27e2705";
    let call_id = "c3eF6f58-363323Cd-8058EB88-10300252@fe80:0:0:0:21a:a0ff:fe07:32e0";
    assert!(long_tag.len() > 64 && call_id.len() > 64);
    // Callee: the INVITE makes a call, which answers, takes the ACK and hangs up.
    for tag in [uuid, long_tag] {
        let mut ep = endpoint(Transport::Udp);
        let now = Instant::ZERO;
        let request = |method: &str, branch: &str, to_tag: &str| {
            String::from_utf8(caller_request(method, branch, tag, Some(to_tag)))
                .unwrap()
                .replace("Call-ID: tags", &format!("Call-ID: {call_id}"))
                .replace(";tag=\r\n", "\r\n")
                .into_bytes()
        };
        feed(&mut ep, now, &request("INVITE", "z9hG4bKl1", ""));
        let (tx, call) = incoming(&events(&mut ep))[0];
        let call = call.unwrap_or_else(|| panic!("tag {tag}: no call"));
        ep.respond(now, tx, StatusCode::OK, None).unwrap();
        let ok = sent(&mut ep).pop().unwrap().1;
        assert!(ok.starts_with(b"SIP/2.0 200"), "tag {tag}");
        let local = parse(&ok).to().unwrap().tag().unwrap().to_owned();
        feed(&mut ep, now, &request("ACK", "z9hG4bKl2", &local));
        events(&mut ep);
        ep.hangup(now, call).unwrap();
        let out = sent(&mut ep);
        let bye = parse(&out[0].1);
        assert_eq!(bye.to().unwrap().tag(), Some(tag));
        assert_eq!(bye.call_id().unwrap().as_str(), call_id);
    }
    // Caller: a 2xx with the long tag is ACKed, and the call hangs up.
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let r = Request::new(
        Method::Invite,
        "sip:bob@127.0.0.1:5070",
        "<sip:alice@127.0.0.1>",
        "<sip:bob@127.0.0.1>",
    );
    let call = ep.invite(now, addr(PEER), &r).unwrap();
    let invite = sent(&mut ep).remove(0).1;
    let m = parse(&invite);
    let value = |k| String::from_utf8_lossy(m.header(k).unwrap().value).into_owned();
    let ok = format!(
        "SIP/2.0 200 OK\r\nVia: {}\r\nFrom: {}\r\nTo: {};tag={long_tag}\r\n\
         Call-ID: {}\r\nCSeq: {}\r\nContact: <sip:bob@{PEER}>\r\nContent-Length: 0\r\n\r\n",
        value(HeaderKind::Via),
        value(HeaderKind::From),
        value(HeaderKind::To),
        value(HeaderKind::CallId),
        value(HeaderKind::CSeq),
    );
    feed(&mut ep, now, ok.as_bytes());
    assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
    ep.hangup(now, call).unwrap();
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["BYE"]);
    assert_eq!(parse(&out[0].1).to().unwrap().tag(), Some(long_tag));
}

// ----- a failed command changes nothing ------------------------------------------------

/// `SendError`: "Nothing was sent and nothing changed". A callee's host that answers
/// an INVITE with a 2xx too big for the endpoint's `MSG` store (a large SDP) gets
/// `Encode(BufferTooSmall)`, and must be able to answer again, with a smaller body or
/// a rejection (RFC 3261 §13.3.1: the INVITE gets a final response). The session used
/// to move to Accepted all the same: every later answer was `InvalidState`, the
/// "retransmitted 2xx" was the 100 Trying, the caller never got a final response, and
/// after 64*T1 the endpoint sent a BYE for a dialog the caller never had.
#[test]
fn a_2xx_that_cannot_be_written_leaves_the_call_answerable() {
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    feed(
        &mut ep,
        now,
        &caller_request("INVITE", "z9hG4bKbig", "caller", None),
    );
    let (tx, call) = incoming(&events(&mut ep))[0];
    let call = call.unwrap();
    sent(&mut ep);
    let huge = vec![b'a'; 2048];
    let err = ep
        .respond(now, tx, StatusCode::OK, Some(("application/sdp", &huge)))
        .unwrap_err();
    assert!(
        matches!(
            err,
            sansip::endpoint::SendError::Encode(_) | sansip::endpoint::SendError::Capacity(_)
        ),
        "{err:?}"
    );
    assert_eq!(sent(&mut ep), [], "nothing was sent");
    assert_eq!(
        ep.call_state(call),
        Some(sansip::dialog::SessionState::Proceeding),
        "nothing changed"
    );
    // The host answers again with a body that fits.
    ep.respond(
        now,
        tx,
        StatusCode::OK,
        Some(("application/sdp", b"v=0\r\n")),
    )
    .unwrap();
    assert_eq!(statuses(&sent(&mut ep)), [(200, "INVITE".to_owned())]);
}

// ----- no amplification towards an unverified source ------------------------------------

/// An INVITE refused because the endpoint's call table is full is answered once, and
/// statelessly, as one refused because the transaction table is full already was: the
/// 503 went through the INVITE server transaction, so Timer G resent it about ten times
/// over Timer H's 32 s (RFC 3261 §17.2.1) to the INVITE's source, which nothing has
/// verified (a spoofed INVITE of 255 bytes drew some 2.5 KB), and the transaction held
/// a slot of the table for those 32 s, just when the endpoint is overloaded.
#[test]
fn an_invite_refused_for_a_full_call_table_draws_one_503() {
    let mut ep = endpoint(Transport::Udp);
    let mut now = Instant::ZERO;
    let invite = |i: usize| {
        format!(
            "INVITE sip:bob@{LOCAL} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {PEER};branch=z9hG4bKfull{i}\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:alice@127.0.0.1>;tag=f{i}\r\n\
             To: <sip:bob@127.0.0.1>\r\n\
             Call-ID: full{i}\r\n\
             CSeq: 1 INVITE\r\n\
             Contact: <sip:alice@{PEER}>\r\n\
             Content-Length: 0\r\n\r\n"
        )
    };
    // `Ep` holds 8 calls; the host leaves them ringing.
    for i in 0..8 {
        feed(&mut ep, now, invite(i).as_bytes());
        assert_eq!(incoming(&events(&mut ep)).len(), 1);
    }
    sent(&mut ep);
    let txs = ep.transaction_count();
    feed(&mut ep, now, invite(8).as_bytes());
    let mut refusals = statuses(&sent(&mut ep));
    assert_eq!(ep.transaction_count(), txs, "no transaction kept for it");
    while let Some(t) = ep.poll_timeout().filter(|t| t.as_millis() <= 40_000) {
        now = t;
        ep.handle_timeout(now);
        refusals.extend(
            statuses(&sent(&mut ep))
                .into_iter()
                .filter(|(s, _)| *s == 503),
        );
    }
    assert_eq!(refusals, [(503, "INVITE".to_owned())]);
}
