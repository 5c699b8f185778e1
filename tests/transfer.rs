//! Call transfer with REFER (RFC 3515) between three endpoints, through the public API
//! only: what a host does with `request_in_call`, `respond`, `invite` and `hangup`. The
//! crate keeps no transfer state of its own: REFER and its NOTIFYs are requests within the
//! call's dialog, which the endpoint routes, checks and answers like any other.
//!
//! Alice calls Bob; Bob transfers Alice to Carol (a blind transfer, RFC 5589 §6): REFER
//! with `Refer-To` Carol, 202, Alice's NOTIFYs carrying the new call's progress as
//! `message/sipfrag` (RFC 3515 §2.4.4), Bob's BYE once the transfer worked, and Alice's
//! call with Carol going on.

use std::collections::HashMap;
use std::net::SocketAddr;

use sansip::Instant;
use sansip::check::Capabilities;
use sansip::dialog::EndReason;
use sansip::endpoint::{CallHandle, Endpoint, EndpointConfig, Event, Request, TxHandle};
use sansip::message::{HeaderKind, Method, StatusCode};

type Ep = Endpoint<16, 8, 2048>;

const ALICE: &str = "127.0.0.1:5061";
const BOB: &str = "127.0.0.1:5062";
const CAROL: &str = "127.0.0.1:5063";
const SDP: &[u8] = b"v=0\r\n";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Three endpoints on a loss-free in-memory network; each keeps the events it gave.
struct Net {
    eps: HashMap<SocketAddr, Box<Ep>>,
    events: HashMap<SocketAddr, Vec<Event>>,
    now: Instant,
}

impl Net {
    fn new() -> Self {
        // NOTIFY bodies of a REFER are `message/sipfrag` (RFC 3515 §2.4.5), which the
        // host lists among the bodies it takes or its NOTIFYs get 415.
        let caps = Capabilities {
            body_types: &["application/sdp", "message/sipfrag"],
            ..Capabilities::DEFAULT
        };
        let mut eps = HashMap::new();
        for (i, a) in [ALICE, BOB, CAROL].into_iter().enumerate() {
            let config = EndpointConfig {
                capabilities: caps,
                ..EndpointConfig::new(addr(a), 40 + i as u64)
            };
            eps.insert(addr(a), Box::new(Endpoint::new(config)));
        }
        Net {
            eps,
            events: HashMap::new(),
            now: Instant::ZERO,
        }
    }

    fn ep(&mut self, at: &str) -> &mut Ep {
        self.eps.get_mut(&addr(at)).unwrap()
    }

    /// Deliver every datagram until the network is quiet; the events each endpoint gave.
    fn run(&mut self) -> HashMap<SocketAddr, Vec<Event>> {
        let mut buf = vec![0u8; 4096];
        let mut new: HashMap<SocketAddr, Vec<Event>> = HashMap::new();
        loop {
            let mut moved = false;
            let froms: Vec<SocketAddr> = self.eps.keys().copied().collect();
            for from in froms {
                while let Some(t) = self
                    .eps
                    .get_mut(&from)
                    .unwrap()
                    .poll_transmit(&mut buf)
                    .unwrap()
                {
                    let (to, n) = (t.destination, t.bytes.len());
                    let bytes = buf[..n].to_vec();
                    self.eps
                        .get_mut(&to)
                        .expect("sent to one of the three")
                        .handle_datagram(self.now, from, &bytes);
                    moved = true;
                }
                while let Some(e) = self.eps.get_mut(&from).unwrap().poll_event() {
                    new.entry(from).or_default().push(e);
                    self.events.entry(from).or_default().push(e);
                    moved = true;
                }
            }
            if !moved {
                return new;
            }
        }
    }
}

/// The first new request of `method` among `events` at `at`: its transaction and call.
fn incoming(
    net: &Net,
    at: &str,
    events: &[Event],
    method: Method<'_>,
) -> Option<(TxHandle, Option<CallHandle>)> {
    let ep = &net.eps[&addr(at)];
    events.iter().find_map(|e| match *e {
        Event::IncomingRequest { tx, call } => {
            (ep.request(tx)?.method()? == method).then_some((tx, call))
        }
        _ => None,
    })
}

fn established(events: &[Event]) -> Option<CallHandle> {
    events.iter().find_map(|e| match *e {
        Event::CallEstablished { call } => Some(call),
        _ => None,
    })
}

/// Alice's NOTIFY within the transferred call: the new call's progress as a sipfrag.
fn notify(net: &mut Net, call: CallHandle, state: &str, frag: &'static [u8]) {
    let now = net.now;
    net.ep(ALICE)
        .request_in_call(
            now,
            call,
            Method::Notify,
            &[("Event", "refer"), ("Subscription-State", state)],
            Some(("message/sipfrag", frag)),
        )
        .unwrap();
}

/// Bob's host: answer each NOTIFY of the transfer with 200; the sipfrag bodies.
fn take_notifies(net: &mut Net, events: &[Event]) -> Vec<Vec<u8>> {
    let now = net.now;
    let bob = net.ep(BOB);
    let mut frags = Vec::new();
    for e in events {
        if let Event::IncomingRequest { tx, call: Some(_) } = *e {
            let req = bob.request(tx).unwrap();
            if req.method() == Some(Method::Notify) {
                assert_eq!(req.header(HeaderKind::Event).unwrap().value, b"refer");
                frags.push(req.body().to_vec());
                bob.respond(now, tx, StatusCode::OK, None).unwrap();
            }
        }
    }
    frags
}

#[test]
fn blind_transfer_with_refer() {
    let mut net = Net::new();
    // Alice calls Bob; Bob answers at once.
    let now = net.now;
    let to_bob = net
        .ep(ALICE)
        .invite(
            now,
            addr(BOB),
            &Request {
                body: Some(("application/sdp", SDP)),
                ..Request::new(
                    Method::Invite,
                    "sip:bob@127.0.0.1:5062",
                    "<sip:alice@127.0.0.1>",
                    "<sip:bob@127.0.0.1>",
                )
            },
        )
        .unwrap();
    let ev = net.run();
    let (invite, bob_call) = incoming(&net, BOB, &ev[&addr(BOB)], Method::Invite).unwrap();
    let bob_call = bob_call.unwrap();
    net.ep(BOB)
        .respond(now, invite, StatusCode::OK, Some(("application/sdp", SDP)))
        .unwrap();
    let ev = net.run();
    assert_eq!(established(&ev[&addr(ALICE)]), Some(to_bob));

    // Bob refers Alice to Carol (RFC 3515 §2.4.1); Alice accepts with 202.
    net.ep(BOB)
        .request_in_call(
            now,
            bob_call,
            Method::Refer,
            &[("Refer-To", "<sip:carol@127.0.0.1:5063>")],
            None,
        )
        .unwrap();
    let ev = net.run();
    let (refer, in_call) = incoming(&net, ALICE, &ev[&addr(ALICE)], Method::Refer).unwrap();
    assert_eq!(
        in_call,
        Some(to_bob),
        "the REFER is within the call's dialog"
    );
    let target = {
        let req = net.ep(ALICE).request(refer).unwrap();
        let refer_to = req.header(HeaderKind::ReferTo).unwrap();
        String::from_utf8(refer_to.value.to_vec()).unwrap()
    };
    assert_eq!(target, "<sip:carol@127.0.0.1:5063>");
    net.ep(ALICE)
        .respond(now, refer, StatusCode::new(202).unwrap(), None)
        .unwrap();
    // The implicit subscription's first NOTIFY (RFC 3515 §2.4.4), then the new call.
    notify(
        &mut net,
        to_bob,
        "active;expires=60",
        b"SIP/2.0 100 Trying\r\n",
    );
    let to_carol = net
        .ep(ALICE)
        .invite(
            now,
            addr(CAROL),
            &Request {
                body: Some(("application/sdp", SDP)),
                ..Request::new(
                    Method::Invite,
                    "sip:carol@127.0.0.1:5063",
                    "<sip:alice@127.0.0.1>",
                    "<sip:carol@127.0.0.1>",
                )
            },
        )
        .unwrap();
    let ev = net.run();
    let statuses: Vec<StatusCode> = ev[&addr(BOB)]
        .iter()
        .filter_map(|e| match *e {
            Event::Response { status, call, .. } if call == Some(bob_call) => Some(status),
            _ => None,
        })
        .collect();
    assert_eq!(statuses, [StatusCode::new(202).unwrap()], "the REFER's 202");
    assert_eq!(
        take_notifies(&mut net, &ev[&addr(BOB)]),
        [b"SIP/2.0 100 Trying\r\n".to_vec()]
    );
    let (carol_invite, _) = incoming(&net, CAROL, &ev[&addr(CAROL)], Method::Invite).unwrap();
    net.ep(CAROL)
        .respond(
            now,
            carol_invite,
            StatusCode::OK,
            Some(("application/sdp", SDP)),
        )
        .unwrap();
    let ev = net.run();
    assert_eq!(established(&ev[&addr(ALICE)]), Some(to_carol));
    // The transfer worked: the last NOTIFY ends the subscription; Bob hangs up.
    notify(
        &mut net,
        to_bob,
        "terminated;reason=noresource",
        b"SIP/2.0 200 OK\r\n",
    );
    let ev = net.run();
    assert_eq!(
        take_notifies(&mut net, &ev[&addr(BOB)]),
        [b"SIP/2.0 200 OK\r\n".to_vec()]
    );
    net.ep(BOB).hangup(now, bob_call).unwrap();
    let ev = net.run();
    assert!(ev[&addr(ALICE)].contains(&Event::CallTerminated {
        call: to_bob,
        reason: EndReason::RemoteBye
    }));
    assert_eq!(net.ep(ALICE).call_count(), 1, "Alice is with Carol");
    assert_eq!(net.ep(BOB).call_count(), 0);
    assert_eq!(net.ep(CAROL).call_count(), 1);
}
