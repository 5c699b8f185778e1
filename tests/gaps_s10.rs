//! Session 10: gaps left open in earlier sessions, each test failing before its fix.

mod scripted_support;

use sansip::Instant;
use sansip::dialog::EndReason;
use sansip::endpoint::{CallHandle, Event, Transport};
use sansip::message::HeaderKind;
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
