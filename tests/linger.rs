//! Lingering server transactions (`EndpointConfig::linger_records`): after the final
//! response (non-INVITE) or the ACK of the 2xx (INVITE), a server transaction waits out
//! Timer J / Timer L as a compact record that still answers retransmissions, still
//! detects merged requests and still lets a late CANCEL find its INVITE.

use std::net::SocketAddr;

use sansip::Instant;
use sansip::endpoint::{Endpoint, EndpointConfig, Event, TxHandle};
use sansip::message::{Message, StatusCode};
use sansip::time::Duration;

type Ep = Endpoint<16, 8, 2048>;

const PEER: &str = "127.0.0.1:5070";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn uas(linger_records: usize, linger_bytes: usize) -> Box<Ep> {
    Box::new(Endpoint::new(EndpointConfig {
        linger_records,
        linger_bytes,
        ..EndpointConfig::new(addr("127.0.0.1:5062"), 9)
    }))
}

/// A request from the peer: `branch` and CSeq number pick the transaction.
fn request(method: &str, branch: &str, cseq: u32, to_tag: Option<&str>) -> Vec<u8> {
    let to_tag = to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
    format!(
        "{method} sip:bob@127.0.0.1:5062 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5070;branch={branch}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:alice@127.0.0.1>;tag=caller\r\n\
         To: <sip:bob@127.0.0.1>{to_tag}\r\n\
         Call-ID: linger-test\r\n\
         CSeq: {cseq} {method}\r\n\
         Contact: <sip:alice@127.0.0.1:5070>\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// Everything `ep` sends, as owned datagrams.
fn sent(ep: &mut Ep) -> Vec<Vec<u8>> {
    let mut buf = vec![0u8; 4096];
    let mut out = Vec::new();
    while let Some(t) = ep.poll_transmit(&mut buf).unwrap() {
        assert_eq!(t.destination, addr(PEER));
        out.push(t.bytes.to_vec());
    }
    out
}

fn status(bytes: &[u8]) -> u16 {
    Message::parse(bytes).unwrap().status().unwrap().as_u16()
}

fn events(ep: &mut Ep) -> Vec<Event> {
    std::iter::from_fn(|| ep.poll_event()).collect()
}

/// INVITE, 200, ACK: the call is up; returns the callee's To tag.
fn establish(ep: &mut Ep, now: Instant) -> String {
    ep.handle_datagram(now, addr(PEER), &request("INVITE", "z9hG4bKinv", 1, None));
    let tx: TxHandle = events(ep)
        .iter()
        .find_map(|e| match e {
            Event::IncomingRequest { tx, .. } => Some(*tx),
            _ => None,
        })
        .expect("the INVITE reaches the host");
    ep.respond(now, tx, StatusCode::OK, None).unwrap();
    let ok = sent(ep).pop().expect("a 200");
    let ok = Message::parse(&ok).unwrap();
    let tag = ok.to().unwrap().tag().unwrap().to_owned();
    ep.handle_datagram(
        now,
        addr(PEER),
        &request("ACK", "z9hG4bKack", 1, Some(&tag)),
    );
    assert!(
        events(ep)
            .iter()
            .any(|e| matches!(e, Event::CallEstablished { .. }))
    );
    tag
}

#[test]
fn finished_server_transactions_linger_as_records_and_still_answer() {
    let mut ep = uas(64, 64 * 1024);
    let now = Instant::ZERO;
    let tag = establish(&mut ep, now);
    // The INVITE transaction, acknowledged, is a record now: the table is empty.
    assert_eq!((ep.lingering_count(), ep.transaction_count()), (1, 1));

    // A retransmitted INVITE is absorbed (RFC 6026 Accepted): nothing sent, no event.
    ep.handle_datagram(now, addr(PEER), &request("INVITE", "z9hG4bKinv", 1, None));
    assert!(sent(&mut ep).is_empty());
    assert!(events(&mut ep).is_empty());

    // A merged copy of the INVITE (same From tag, Call-ID, CSeq; another branch): 482.
    ep.handle_datagram(now, addr(PEER), &request("INVITE", "z9hG4bKcopy", 1, None));
    let out = sent(&mut ep);
    assert_eq!(out.iter().map(|b| status(b)).collect::<Vec<_>>(), [482]);

    // A CANCEL that finds the answered INVITE gets 200 and changes nothing (§9.2).
    ep.handle_datagram(now, addr(PEER), &request("CANCEL", "z9hG4bKinv", 1, None));
    assert_eq!(
        sent(&mut ep).iter().map(|b| status(b)).collect::<Vec<_>>(),
        [200]
    );
    assert_eq!(ep.call_count(), 1);

    // BYE: 200, the call ends, the BYE transaction lingers with its response.
    let bye = request("BYE", "z9hG4bKbye", 2, Some(&tag));
    ep.handle_datagram(now, addr(PEER), &bye);
    let first = sent(&mut ep);
    assert_eq!(first.iter().map(|b| status(b)).collect::<Vec<_>>(), [200]);
    assert_eq!(ep.call_count(), 0);
    assert!(
        events(&mut ep)
            .iter()
            .any(|e| matches!(e, Event::CallTerminated { .. }))
    );
    assert_eq!(ep.lingering_count(), 3, "INVITE, CANCEL and BYE");
    assert_eq!(ep.transaction_count(), 3, "nothing left in the table");

    // The retransmitted BYE gets the very same 200, from the record (§17.2.2).
    let later = now + Duration::from_secs(10);
    ep.handle_datagram(later, addr(PEER), &bye);
    assert_eq!(sent(&mut ep), first);
    assert!(events(&mut ep).is_empty());

    // 64*T1 after they were finished, the records are gone.
    assert_eq!(ep.poll_timeout(), Some(now + Duration::from_secs(32)));
    ep.handle_timeout(now + Duration::from_millis(31_999));
    assert_eq!(ep.lingering_count(), 3);
    ep.handle_timeout(now + Duration::from_secs(32));
    assert_eq!((ep.lingering_count(), ep.transaction_count()), (0, 0));
    assert_eq!(ep.poll_timeout(), None);

    // And a BYE retransmitted after that finds nothing: 481 (§12.2.2).
    ep.handle_datagram(now + Duration::from_secs(33), addr(PEER), &bye);
    let out = sent(&mut ep);
    assert_eq!(out.iter().map(|b| status(b)).collect::<Vec<_>>(), [481]);
}

#[test]
fn without_linger_room_transactions_stay_full_entries() {
    for (records, bytes) in [(0, 0), (1, 64 * 1024), (64, 64)] {
        let mut ep = uas(records, bytes);
        let now = Instant::ZERO;
        let tag = establish(&mut ep, now);
        let bye = request("BYE", "z9hG4bKbye", 2, Some(&tag));
        ep.handle_datagram(now, addr(PEER), &bye);
        let first = sent(&mut ep);
        assert_eq!(first.iter().map(|b| status(b)).collect::<Vec<_>>(), [200]);
        // One record at most (records = 1): the other transaction stays in the table.
        let expected = if records == 1 { 1 } else { 0 };
        assert_eq!(
            ep.lingering_count(),
            expected,
            "{records} records, {bytes} bytes"
        );
        assert_eq!(ep.transaction_count(), 2);
        // Either way the retransmitted BYE gets the same 200.
        ep.handle_datagram(now, addr(PEER), &bye);
        assert_eq!(sent(&mut ep), first);
        ep.handle_timeout(now + Duration::from_secs(32));
        assert_eq!(ep.transaction_count(), 0);
    }
}

#[test]
fn a_loaded_uas_keeps_its_table_small() {
    // 500 calls, each INVITE/200/ACK/BYE/200, one every 10 ms: 1,000 finished
    // transactions wait out 64*T1 in records while a table of 16 is never full.
    let mut ep = uas(2_000, 1 << 20);
    let mut now = Instant::ZERO;
    for call in 0..500u32 {
        let branch = |m: &str| format!("z9hG4bK{m}{call}");
        let call_id = format!("load-{call}");
        let with_call_id = |b: Vec<u8>| {
            String::from_utf8(b)
                .unwrap()
                .replace("linger-test", &call_id)
                .into_bytes()
        };
        ep.handle_datagram(
            now,
            addr(PEER),
            &with_call_id(request("INVITE", &branch("i"), 1, None)),
        );
        let tx = events(&mut ep)
            .iter()
            .find_map(|e| match e {
                Event::IncomingRequest { tx, .. } => Some(*tx),
                _ => None,
            })
            .unwrap_or_else(|| panic!("call {call} reaches the host"));
        ep.respond(now, tx, StatusCode::OK, None).unwrap();
        let ok = sent(&mut ep).pop().unwrap();
        let tag = Message::parse(&ok)
            .unwrap()
            .to()
            .unwrap()
            .tag()
            .unwrap()
            .to_owned();
        ep.handle_datagram(
            now,
            addr(PEER),
            &with_call_id(request("ACK", &branch("a"), 1, Some(&tag))),
        );
        ep.handle_datagram(
            now,
            addr(PEER),
            &with_call_id(request("BYE", &branch("b"), 2, Some(&tag))),
        );
        assert_eq!(
            sent(&mut ep).iter().map(|b| status(b)).collect::<Vec<_>>(),
            [200]
        );
        assert_eq!(ep.transaction_count() - ep.lingering_count(), 0);
        let _ = events(&mut ep);
        now = now + Duration::from_millis(10);
        ep.handle_timeout(now);
    }
    // 5 s of calls, all still within 64*T1: every one of them lingers.
    assert_eq!(ep.lingering_count(), 1_000);
    assert_eq!(ep.stats().rejected, 0);
    ep.handle_timeout(now + Duration::from_secs(32));
    assert_eq!(ep.transaction_count(), 0);
}

/// Everything `ep` sends, with destinations.
fn sent_to(ep: &mut Ep) -> Vec<(SocketAddr, Vec<u8>)> {
    let mut buf = vec![0u8; 4096];
    let mut out = Vec::new();
    while let Some(t) = ep.poll_transmit(&mut buf).unwrap() {
        out.push((t.destination, t.bytes.to_vec()));
    }
    out
}

/// A 2xx to `invite` from the fork with To tag `tag` at `port`.
fn ok_from(invite: &[u8], tag: &str, port: u16) -> Vec<u8> {
    use sansip::encode::{MessageBuilder, Value};
    let inv = Message::parse(invite).unwrap();
    let contact = format!("<sip:bob@127.0.0.1:{port}>");
    let b = MessageBuilder::response_to(&inv, StatusCode::OK, tag)
        .unwrap()
        .header("Contact", Value::Text(&contact));
    let mut out = vec![0u8; 2048];
    let n = b.encode_into(&mut out).unwrap();
    out.truncate(n);
    out
}

fn method_and_tag(bytes: &[u8]) -> (String, String) {
    let m = Message::parse(bytes).unwrap();
    (
        m.method().unwrap().as_str().to_owned(),
        m.to().unwrap().tag().unwrap_or("").to_owned(),
    )
}

/// RFC 6026 §7.2: the caller's INVITE transaction, answered 2xx, waits out Timer M as a
/// record; 2xx responses still reach it: a retransmission is ACKed again, another fork's
/// 2xx is ACKed and BYEd while the call is up and after it ended, and the record goes at
/// 64*T1.
#[test]
fn an_answered_invite_lingers_as_a_record_and_still_takes_2xx_from_forks() {
    use sansip::endpoint::Request;
    use sansip::message::Method;
    let mut ep = uas(64, 64 * 1024);
    let now = Instant::ZERO;
    let req = Request::new(
        Method::Invite,
        "sip:bob@127.0.0.1:5070",
        "<sip:alice@127.0.0.1>",
        "<sip:bob@127.0.0.1>",
    );
    let call = ep.invite(now, addr(PEER), &req).unwrap();
    let invite = sent(&mut ep).pop().unwrap();
    assert_eq!(ep.transaction_count(), 1);

    // Fork a answers: ACK, and the transaction becomes a record.
    ep.handle_datagram(now, addr(PEER), &ok_from(&invite, "a", 5070));
    let out = sent_to(&mut ep);
    assert_eq!(out.len(), 1);
    assert_eq!(method_and_tag(&out[0].1), ("ACK".into(), "a".into()));
    assert_eq!((ep.lingering_count(), ep.transaction_count()), (1, 1));
    // Its 2xx again: ACKed again (§13.2.2.4).
    ep.handle_datagram(now, addr(PEER), &ok_from(&invite, "a", 5070));
    let again = sent_to(&mut ep);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].0, out[0].0);
    assert_eq!(method_and_tag(&again[0].1), ("ACK".into(), "a".into()));

    // Fork b answers too, while the call is up: ACK and BYE to fork b (§13.2.2.4).
    ep.handle_datagram(now, addr("127.0.0.1:5071"), &ok_from(&invite, "b", 5071));
    let to_b: Vec<_> = sent_to(&mut ep)
        .iter()
        .map(|(d, b)| (*d, method_and_tag(b)))
        .collect();
    let b = addr("127.0.0.1:5071");
    assert_eq!(
        to_b,
        [
            (b, ("ACK".into(), "b".into())),
            (b, ("BYE".into(), "b".into()))
        ]
    );
    assert!(
        !events(&mut ep)
            .iter()
            .any(|e| matches!(e, Event::CallTerminated { .. })),
        "the call with fork a goes on"
    );

    // The call ends: its BYE, answered, lingers too (Timer K) and absorbs its 200 again.
    ep.hangup(now, call).unwrap();
    let bye = sent_to(&mut ep)
        .into_iter()
        .find(|(_, b)| method_and_tag(b).0 == "BYE")
        .unwrap()
        .1;
    let bye_ok = {
        use sansip::encode::MessageBuilder;
        let m = Message::parse(&bye).unwrap();
        let mut out = vec![0u8; 2048];
        let n = MessageBuilder::response_to(&m, StatusCode::OK, "a")
            .unwrap()
            .encode_into(&mut out)
            .unwrap();
        out.truncate(n);
        out
    };
    let _ = events(&mut ep);
    ep.handle_datagram(now, addr(PEER), &bye_ok);
    let _ = events(&mut ep);
    // Two records (the INVITE, this BYE) and one entry: fork b's BYE, still unanswered.
    assert_eq!((ep.lingering_count(), ep.transaction_count()), (2, 3));
    ep.handle_datagram(now, addr(PEER), &bye_ok);
    assert!(sent_to(&mut ep).is_empty() && events(&mut ep).is_empty());
    // A late 2xx of fork c still gets its ACK and BYE (RFC 6026 §8.4).
    ep.handle_datagram(now, addr("127.0.0.1:5072"), &ok_from(&invite, "c", 5072));
    let to_c: Vec<_> = sent_to(&mut ep)
        .iter()
        .map(|(_, b)| method_and_tag(b))
        .collect();
    assert_eq!(
        to_c,
        [("ACK".into(), "c".into()), ("BYE".into(), "c".into())]
    );

    // Timer M (64*T1): the records go; the BYE to fork c, unanswered, times out.
    let later = now + Duration::from_secs(40);
    ep.handle_timeout(later);
    assert_eq!(ep.lingering_count(), 0);
}

/// The peer answers `status` to the one request `ep` sent; the response, to send again.
fn answer_sent(ep: &mut Ep, status: StatusCode) -> Vec<u8> {
    let out = sent(ep);
    assert_eq!(out.len(), 1);
    let request = Message::parse(&out[0]).unwrap();
    let mut buf = [0u8; 2048];
    let n = sansip::encode::MessageBuilder::response_to(&request, status, "t")
        .unwrap()
        .encode_into(&mut buf)
        .unwrap();
    ep.handle_datagram(Instant::ZERO, addr(PEER), &buf[..n]);
    buf[..n].to_vec()
}

/// The host's own non-INVITE requests (OPTIONS here) over UDP: a final response leaves
/// the client transaction in Completed for T4 (Timer K, RFC 3261 §17.1.2.2), where it
/// only absorbs retransmitted responses. Once the host has read the response (drained
/// `poll_event` after it), the transaction lingers as a record, so a host that sends
/// more than `TX` requests per T4 is not refused for a full table.
#[test]
fn answered_requests_of_the_host_linger_as_records_once_read() {
    let mut ep = uas(64, 64 * 1024);
    let now = Instant::ZERO;
    let req = sansip::endpoint::Request::new(
        sansip::message::Method::Options,
        "sip:bob@127.0.0.1:5070",
        "<sip:alice@127.0.0.1>",
        "<sip:bob@127.0.0.1>",
    );
    // Three times the table, within one T4.
    for i in 0..48 {
        let tx = ep
            .send_request(now, addr(PEER), &req)
            .unwrap_or_else(|e| panic!("request {i}: {e}"));
        let ok = answer_sent(&mut ep, StatusCode::OK);
        // Until the host has drained the events, the response is there to read.
        assert_eq!(
            ep.response(tx).and_then(|m| m.status()),
            Some(StatusCode::OK),
            "request {i}"
        );
        let evs: Vec<Event> = std::iter::from_fn(|| ep.poll_event()).collect();
        assert!(
            evs.contains(&Event::Response {
                tx,
                call: None,
                status: StatusCode::OK
            }),
            "{evs:?}"
        );
        // A retransmission of the 200 reaching the record is absorbed.
        ep.handle_datagram(now, addr(PEER), &ok);
        assert!(ep.poll_event().is_none(), "request {i}");
        assert!(sent(&mut ep).is_empty());
    }
    // Records end at their Timer K.
    ep.handle_timeout(now + Duration::from_secs(6));
    assert_eq!(ep.poll_timeout(), None);
}

/// A caller's INVITE refused (486) waits out Timer D (32 s over UDP, RFC 3261
/// §17.1.1.2) in Completed, where it only answers a retransmitted final response with
/// the ACK again. With lingering records it waits as a record holding that ACK, so that
/// calls refused faster than `TX` per 32 s are not refused a transaction.
#[test]
fn refused_invites_linger_as_records_holding_their_ack() {
    let mut ep = uas(64, 64 * 1024);
    let now = Instant::ZERO;
    let req = sansip::endpoint::Request::new(
        sansip::message::Method::Invite,
        "sip:bob@127.0.0.1:5070",
        "<sip:alice@127.0.0.1>",
        "<sip:bob@127.0.0.1>",
    );
    // Three times the table of 16, within one Timer D.
    for i in 0..48 {
        let call = ep
            .invite(now, addr(PEER), &req)
            .unwrap_or_else(|e| panic!("call {i}: {e}"));
        let busy = answer_sent(&mut ep, StatusCode::BUSY_HERE);
        let ack = sent(&mut ep);
        assert_eq!(ack.len(), 1, "call {i}");
        assert_eq!(
            Message::parse(&ack[0]).unwrap().method(),
            Some(sansip::message::Method::Ack)
        );
        let evs: Vec<Event> = std::iter::from_fn(|| ep.poll_event()).collect();
        assert!(
            evs.iter()
                .any(|e| matches!(e, Event::CallTerminated { call: c, .. } if *c == call)),
            "{evs:?}"
        );
        // A retransmitted 486 gets the same ACK again, and nothing for the host.
        ep.handle_datagram(now, addr(PEER), &busy);
        assert_eq!(sent(&mut ep), ack, "call {i}");
        assert!(ep.poll_event().is_none(), "call {i}");
    }
    ep.handle_timeout(now + Duration::from_secs(33));
    assert_eq!(ep.poll_timeout(), None);
}
