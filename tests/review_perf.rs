//! Review of the performance refactors, through the public endpoint API: the writer's
//! trust in values copied from a peer's message (folded, CRLF or bare-LF framed), and a
//! callee's dialog built in a reused call slot.

mod scripted_support;

use sansip::Instant;
use sansip::endpoint::Transport;
use sansip::message::{HeaderKind, Message, StatusCode};
use scripted_support::*;

/// Every datagram parses, with no header a peer value smuggled in.
fn assert_clean(out: &[(std::net::SocketAddr, Vec<u8>)]) {
    for (_, bytes) in out {
        let m = Message::parse(bytes).unwrap_or_else(|e| {
            panic!("{e:?}: {}", String::from_utf8_lossy(bytes));
        });
        assert!(
            m.headers()
                .all(|h| !h.name.eq_ignore_ascii_case("X-Injected")),
            "{}",
            String::from_utf8_lossy(bytes)
        );
        assert!(
            !bytes.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r'),
            "bare LF: {}",
            String::from_utf8_lossy(bytes)
        );
    }
}

fn invite(eol: &str, fold: &str) -> Vec<u8> {
    format!(
        "INVITE sip:bob@127.0.0.1:5062 SIP/2.0{eol}\
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKfold1{fold};rport{eol}\
Record-Route: <sip:p1.example;lr>,{fold}<sip:p2.example;lr>{eol}\
From: \"A{fold}B\" <sip:alice@127.0.0.1>;tag=f1{eol}\
To: <sip:bob@127.0.0.1>{fold};x=1{eol}\
Call-ID: fold-call{eol}\
CSeq: 1 INVITE{eol}\
Contact: <sip:alice@127.0.0.1:5070>{eol}\
Timestamp: 5{fold}1{eol}\
Content-Length: 0{eol}{eol}"
    )
    .into_bytes()
}

/// The responses to an INVITE with folded values, CRLF or bare-LF framed, are clean.
#[test]
fn responses_to_folded_requests_are_clean() {
    for (eol, fold) in [("\r\n", "\r\n "), ("\n", "\n "), ("\n", "\n\t")] {
        let mut ep = endpoint(Transport::Udp);
        let now = Instant::ZERO;
        feed(&mut ep, now, &invite(eol, fold));
        let evs = events(&mut ep);
        let mut out = sent(&mut ep);
        if let Some(&(tx, _)) = incoming(&evs).first() {
            for code in [100, 180, 200] {
                let _ = ep.respond(now, tx, StatusCode::new(code).unwrap(), None);
                out.extend(sent(&mut ep));
            }
        }
        assert_clean(&out);
        if eol == "\r\n" {
            let oks: Vec<_> = out
                .iter()
                .filter(|(_, b)| parse(b).status() == Some(StatusCode::OK))
                .collect();
            assert_eq!(oks.len(), 1, "{eol:?}");
            assert_eq!(
                parse(&oks[0].1).headers_of(HeaderKind::RecordRoute).count(),
                1
            );
        }
    }
}

/// The ACK for a bare-LF framed non-2xx with a folded To is clean (or not sent).
#[test]
fn ack_for_a_folded_bare_lf_refusal_is_clean() {
    for (eol, fold) in [("\r\n", "\r\n "), ("\n", "\n ")] {
        let mut ep = endpoint(Transport::Udp);
        let now = Instant::ZERO;
        let (_, inv) = place_call(&mut ep, now, false);
        let m = parse(&inv);
        let via = m.header(HeaderKind::Via).unwrap().value;
        let from = m.header(HeaderKind::From).unwrap().value;
        let cid = m.header(HeaderKind::CallId).unwrap().value;
        let cseq = m.header(HeaderKind::CSeq).unwrap().value;
        let resp = format!(
            "SIP/2.0 486 Busy Here{eol}Via: {}{eol}From: {}{eol}\
To: <sip:bob@127.0.0.1>;tag=t1{fold};x=1{eol}Call-ID: {}{eol}CSeq: {}{eol}\
Content-Length: 0{eol}{eol}",
            String::from_utf8_lossy(via),
            String::from_utf8_lossy(from),
            String::from_utf8_lossy(cid),
            String::from_utf8_lossy(cseq),
        );
        feed(&mut ep, now, resp.as_bytes());
        let out = sent(&mut ep);
        assert_clean(&out);
        if eol == "\r\n" {
            assert_eq!(methods(&out), ["ACK"]);
        }
    }
}

fn uas_invite(call_id: &str, rr: &[&str], sips: bool) -> Vec<u8> {
    let mut s = format!(
        "INVITE {}:bob@127.0.0.1:5062 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK{call_id}\r\n\
From: <sip:alice@127.0.0.1>;tag=f-{call_id}\r\nTo: <sip:bob@127.0.0.1>\r\n\
Call-ID: {call_id}\r\nCSeq: 7 INVITE\r\nContact: <sip:alice@127.0.0.1:5070>\r\n",
        if sips { "sips" } else { "sip" }
    );
    for r in rr {
        s.push_str(&format!("Record-Route: {r}\r\n"));
    }
    s.push_str("Content-Length: 0\r\n\r\n");
    s.into_bytes()
}

/// A callee's dialog built in a reused call slot keeps nothing of the call before it:
/// route set, remote CSeq, target.
#[test]
fn a_reused_call_slot_keeps_nothing_of_its_last_call() {
    let mut ep = endpoint(Transport::Udp);
    let mut now = Instant::ZERO;
    let mut slots = Vec::new();
    let rrs: [&[&str]; 2] = [&["<sip:p1.example;lr>", "<sip:p2.example;lr>"], &[]];
    // Eight call slots, taken in turn: every slot is reused by a call with the other
    // route set.
    for i in 0..17 {
        let cid = &format!("c{i}");
        let rr = rrs[(i / 8) % 2];
        feed(&mut ep, now, &uas_invite(cid, rr, false));
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
        let ok = sent(&mut ep).pop().unwrap().1;
        let ack = format!(
            "ACK sip:bob@127.0.0.1:5062 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKack{cid}\r\n\
From: <sip:alice@127.0.0.1>;tag=f-{cid}\r\nTo: {}\r\nCall-ID: {cid}\r\nCSeq: 7 ACK\r\nContent-Length: 0\r\n\r\n",
            String::from_utf8_lossy(parse(&ok).header(HeaderKind::To).unwrap().value)
        );
        feed(&mut ep, now, ack.as_bytes());
        events(&mut ep);
        let d = ep.call_dialog(call).unwrap();
        assert_eq!(d.route_set().count(), rr.len(), "{cid}");
        assert_eq!(d.remote_seq(), Some(7));
        assert_eq!(d.local_seq(), 0);
        ep.hangup(now, call).unwrap();
        let bye = sent(&mut ep);
        assert_eq!(methods(&bye), ["BYE"]);
        let m = parse(&bye[0].1);
        assert_eq!(m.headers_of(HeaderKind::Route).count(), rr.len(), "{cid}");
        assert_eq!(m.call_id().unwrap().as_str(), cid);
        let resp = response_to(&bye[0].1, 200, "x", &[], None);
        feed(&mut ep, now, &resp);
        events(&mut ep);
        now = now + std::time::Duration::from_secs(40);
        ep.handle_timeout(now);
        events(&mut ep);
        sent(&mut ep);
        slots.push(format!("{call:?}"));
    }
    assert!(slots[8].contains("index: 0") && slots[0].contains("index: 0"));
}
