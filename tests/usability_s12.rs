//! Programs a new user writes with the endpoint API from the README and the rustdoc
//! alone, each run in-process between two or three `Endpoint`s over a virtual link:
//!
//! 1. a phone that registers with Digest credentials to a registrar whose host checks
//!    them with `auth::verify`, places a call through it (the registrar's host is a
//!    small back-to-back UA) and hangs up;
//! 2. an OPTIONS pinger that reports a peer up or down (Timer F when it stops
//!    answering), driven by `send_request` and `poll_timeout`;
//! 3. a callee that rejects a call with 486 after ringing, and one that answers with an
//!    SDP body the caller reads back.
//!
//! Plus the surprises those programs met, each pinned by a test.

use std::collections::HashMap;
use std::net::SocketAddr;

use sansip::Instant;
use sansip::auth;
use sansip::dialog::{EndReason, SessionState};
use sansip::endpoint::{
    Binding, CallHandle, DigestCredentials, Endpoint, EndpointConfig, Event, Request, SendError,
    TxHandle,
};
use sansip::message::{ContactValue, Credentials, HeaderKind, Message, Method, StatusCode, Uri};

type Ep = Endpoint<16, 8, 2048>;

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// One datagram seen on the virtual link.
#[derive(Debug, Clone)]
struct Wire {
    at: u64,
    from: SocketAddr,
    to: SocketAddr,
    bytes: Vec<u8>,
}

impl Wire {
    /// "INVITE" for a request, "200 INVITE" for a response.
    fn line(&self) -> String {
        let m = Message::parse(&self.bytes).unwrap();
        match (m.method(), m.status()) {
            (Some(method), _) => method.to_string(),
            (_, Some(code)) => format!("{} {}", code.as_u16(), m.cseq().unwrap().method()),
            _ => unreachable!(),
        }
    }
}

/// Endpoints on one virtual UDP network with virtual time: datagrams arrive at once,
/// except at addresses that are `down` (dropped on the floor).
struct Net {
    addrs: Vec<SocketAddr>,
    eps: Vec<Box<Ep>>,
    now: Instant,
    wire: Vec<Wire>,
    events: Vec<(u64, usize, Event)>,
    down: Vec<SocketAddr>,
}

impl Net {
    fn new(addrs: &[&str]) -> Self {
        let addrs: Vec<SocketAddr> = addrs.iter().map(|a| addr(a)).collect();
        let eps = addrs
            .iter()
            .enumerate()
            .map(|(i, a)| Box::new(Endpoint::new(EndpointConfig::new(*a, 100 + i as u64))))
            .collect();
        Net {
            addrs,
            eps,
            now: Instant::ZERO,
            wire: Vec::new(),
            events: Vec::new(),
            down: Vec::new(),
        }
    }

    /// The host loop of every endpoint, as the crate root documents it: after every
    /// input, drain `poll_transmit` (deliver) and `poll_event` (give each event to
    /// `host`, which may give commands), until nothing moves.
    fn pump(&mut self, host: &mut impl FnMut(usize, &mut Ep, Instant, Event)) {
        let mut buf = vec![0u8; 65_535];
        loop {
            let mut moved = false;
            for i in 0..self.eps.len() {
                while let Some(t) = self.eps[i].poll_transmit(&mut buf).unwrap() {
                    let (to, bytes) = (t.destination, t.bytes.to_vec());
                    let target = self.addrs.iter().position(|a| *a == to);
                    let delivered = !self.down.contains(&to) && target.is_some();
                    self.wire.push(Wire {
                        at: self.now.as_millis(),
                        from: self.addrs[i],
                        to,
                        bytes: bytes.clone(),
                    });
                    if let (true, Some(j)) = (delivered, target) {
                        self.eps[j].handle_datagram(self.now, self.addrs[i], &bytes);
                    }
                    moved = true;
                }
            }
            for i in 0..self.eps.len() {
                while let Some(e) = self.eps[i].poll_event() {
                    self.events.push((self.now.as_millis(), i, e));
                    host(i, &mut self.eps[i], self.now, e);
                    moved = true;
                }
            }
            if !moved {
                break;
            }
        }
    }

    /// Run every endpoint's timers (and the host's own `wake`, if sooner) up to `until`.
    fn run_until(&mut self, until: Instant, host: &mut impl FnMut(usize, &mut Ep, Instant, Event)) {
        self.pump(host);
        while let Some(t) = self.eps.iter().filter_map(|e| e.poll_timeout()).min() {
            if t > until {
                break;
            }
            self.now = self.now.max(t);
            for ep in &mut self.eps {
                ep.handle_timeout(self.now);
            }
            self.pump(host);
        }
        self.now = self.now.max(until);
    }

    /// The first lines of the datagrams between endpoints `a` and `b` (both ways), in order.
    fn ladder(&self, a: usize, b: usize) -> Vec<String> {
        let (a, b) = (self.addrs[a], self.addrs[b]);
        self.wire
            .iter()
            .filter(|w| (w.from == a && w.to == b) || (w.from == b && w.to == a))
            .map(|w| format!("{}{}", if w.from == a { "> " } else { "< " }, w.line()))
            .collect()
    }

    fn events_of(&self, i: usize) -> Vec<Event> {
        self.events
            .iter()
            .filter(|(_, j, _)| *j == i)
            .map(|(_, _, e)| *e)
            .collect()
    }
}

fn no_host(_: usize, _: &mut Ep, _: Instant, _: Event) {}

fn secs(s: u64) -> Instant {
    Instant::from_millis(s * 1000)
}

// ---------------------------------------------------------------------------------------
// 1. Phone, registrar with Digest, a call through it.
// ---------------------------------------------------------------------------------------

const PBX: usize = 0;
const ALICE: usize = 1;
const BOB: usize = 2;
const REALM: &str = "pbx.test";

/// The registrar and back-to-back UA a user writes on top of one endpoint: it
/// challenges REGISTER and INVITE (401, RFC 3261 §22), checks the answers with
/// `auth::verify`, keeps bindings, and relays a call from one registered phone to
/// another as two calls of its own endpoint.
#[derive(Default)]
struct Pbx {
    /// user -> password.
    users: HashMap<&'static str, &'static str>,
    /// user -> where its Contact says it is.
    bindings: HashMap<String, SocketAddr>,
    /// Nonces issued (the server's own state, RFC 3261 §22.4).
    nonces: Vec<String>,
    /// Caller leg -> (its INVITE transaction, the callee leg).
    legs: HashMap<CallHandle, (TxHandle, CallHandle)>,
    /// Callee leg -> caller leg.
    back: HashMap<CallHandle, CallHandle>,
    /// What each check of credentials gave.
    verdicts: Vec<(String, Result<bool, auth::AuthError>)>,
}

impl Pbx {
    /// `Some(user)` if the request carries credentials for a known user, made from a
    /// nonce this registrar issued, that `auth::verify` accepts.
    fn authenticated(&mut self, req: &Message<'_>) -> Option<String> {
        let header = req.header(HeaderKind::Authorization)?;
        let creds = Credentials::parse(header.value).ok()?;
        let user = creds.username()?.to_owned();
        let password = self.users.get(user.as_str())?;
        if creds.realm() != Some(REALM)
            || !self
                .nonces
                .iter()
                .any(|n| Some(n.as_str()) == creds.nonce())
        {
            return None;
        }
        let verdict = auth::verify(&creds, req.method().unwrap(), password, req.body());
        self.verdicts.push((user.clone(), verdict));
        (verdict == Ok(true)).then_some(user)
    }

    fn challenge(&mut self, ep: &mut Ep, now: Instant, tx: TxHandle) {
        let nonce = format!("n{}", self.nonces.len());
        let value = format!("Digest realm=\"{REALM}\", nonce=\"{nonce}\", qop=\"auth\"");
        self.nonces.push(nonce);
        let unauthorized = StatusCode::UNAUTHORIZED;
        ep.respond_with(now, tx, unauthorized, &[("WWW-Authenticate", &value)], None)
            .unwrap();
    }

    fn on_event(&mut self, ep: &mut Ep, now: Instant, event: Event) {
        match event {
            Event::IncomingRequest { tx, call } => {
                let req = ep.request(tx).unwrap();
                let method = req.method().unwrap();
                let user = self.authenticated(&req);
                match (method, user) {
                    (Method::Register, Some(user)) => {
                        let contact = match req.contacts().next() {
                            Some(Ok(ContactValue::Addr(a))) => a,
                            other => panic!("REGISTER without a Contact: {other:?}"),
                        };
                        let Uri::Sip(uri) = contact.uri() else {
                            panic!()
                        };
                        // Where the REGISTER came from (its Contact may name a private
                        // address behind NAT).
                        self.bindings.insert(user, ep.peer(tx).unwrap());
                        // §10.3 step 8: the 200 lists the bindings with their expires.
                        let granted = format!("<{}>;expires=300", uri.as_str());
                        ep.respond_with(now, tx, StatusCode::OK, &[("Contact", &granted)], None)
                            .unwrap();
                    }
                    (Method::Invite, Some(_)) => {
                        let callee = req
                            .request_uri()
                            .and_then(Result::ok)
                            .and_then(|u| match u {
                                Uri::Sip(s) => s.user().map(str::to_owned),
                                _ => None,
                            })
                            .unwrap();
                        let Some(&at) = self.bindings.get(&callee) else {
                            let not_found = StatusCode::NOT_FOUND;
                            return ep.respond(now, tx, not_found, None).unwrap();
                        };
                        let offer = req.body().to_vec();
                        let content_type =
                            req.header(HeaderKind::ContentType).unwrap().value.to_vec();
                        let content_type = std::str::from_utf8(&content_type).unwrap();
                        let uri = format!("sip:{callee}@{at}");
                        let to = format!("<sip:{callee}@pbx.test>");
                        let onward = Request {
                            body: Some((content_type, &offer)),
                            ..Request::new(Method::Invite, &uri, "<sip:alice@pbx.test>", &to)
                        };
                        let b = ep.invite(now, at, &onward).unwrap();
                        let a = call.unwrap();
                        self.legs.insert(a, (tx, b));
                        self.back.insert(b, a);
                    }
                    (Method::Register | Method::Invite, None) => self.challenge(ep, now, tx),
                    // BYE (and anything else within a call) is answered; the call
                    // ends by itself (CallTerminated follows).
                    _ => ep.respond(now, tx, StatusCode::OK, None).unwrap(),
                }
            }
            // The callee leg rings or answers: relay to the caller leg.
            Event::Response {
                call: Some(b),
                status,
                ..
            } if self.back.contains_key(&b) => {
                let a = self.back[&b];
                let (tx, _) = self.legs[&a];
                if status.is_provisional() && status != StatusCode::TRYING {
                    ep.respond(now, tx, status, None).unwrap();
                } else if status.is_success() {
                    let answer = ep.call_answer(b).unwrap();
                    let body = answer.body().to_vec();
                    ep.respond(now, tx, status, Some(("application/sdp", &body)))
                        .unwrap();
                }
            }
            // Either side hung up: hang up the other leg.
            Event::CallTerminated { call, .. } => {
                let other = self
                    .legs
                    .remove(&call)
                    .map(|(_, b)| b)
                    .or_else(|| self.back.remove(&call));
                if let Some(other) = other {
                    self.legs.remove(&other);
                    self.back.remove(&other);
                    let _ = ep.hangup(now, other);
                }
            }
            _ => {}
        }
    }
}

fn pbx_net() -> (Net, Pbx) {
    let net = Net::new(&["127.0.0.1:5060", "127.0.0.1:5061", "127.0.0.1:5062"]);
    let mut pbx = Pbx::default();
    pbx.users.insert("alice", "wonderland");
    pbx.users.insert("bob", "builder");
    (net, pbx)
}

fn binding<'a>(user: &'a str, aor: &'a str, password: &'a str) -> Binding<'a> {
    Binding {
        registrar: "sip:pbx.test",
        aor,
        expires: 600,
        username: user,
        password,
        realm: None,
    }
}

#[test]
fn a_phone_registers_with_digest_calls_through_the_registrar_and_hangs_up() {
    let (mut net, mut pbx) = pbx_net();
    let pbx_addr = net.addrs[PBX];
    let now = net.now;
    let alice_reg = net.eps[ALICE]
        .register(
            now,
            pbx_addr,
            &binding("alice", "<sip:alice@pbx.test>", "wonderland"),
        )
        .unwrap();
    let bob_reg = net.eps[BOB]
        .register(
            now,
            pbx_addr,
            &binding("bob", "<sip:bob@pbx.test>", "builder"),
        )
        .unwrap();

    // The bob side answers every call 180, then 200 with its own SDP.
    const BOB_SDP: &[u8] = b"v=0\r\no=bob 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
    let mut host = |i: usize, ep: &mut Ep, now: Instant, e: Event| match i {
        PBX => pbx.on_event(ep, now, e),
        BOB => bob_answers(ep, now, e, BOB_SDP),
        _ => {}
    };
    net.pump(&mut host);

    // Each REGISTER was challenged once, answered, checked by auth::verify and granted.
    assert_eq!(
        net.ladder(ALICE, PBX),
        [
            "> REGISTER",
            "< 401 REGISTER",
            "> REGISTER",
            "< 200 REGISTER"
        ]
    );
    assert!(net.events_of(ALICE).contains(&Event::Registered {
        reg: alice_reg,
        expires: 300
    }));
    assert!(net.events_of(BOB).contains(&Event::Registered {
        reg: bob_reg,
        expires: 300
    }));
    let bob_at = net.addrs[BOB];
    assert_eq!(
        pbx.verdicts,
        [
            ("alice".to_string(), Ok(true)),
            ("bob".to_string(), Ok(true))
        ]
    );
    assert_eq!(pbx.bindings["bob"], bob_at);

    // Alice calls bob through the registrar, with the same credentials.
    const ALICE_SDP: &[u8] = b"v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 3000 RTP/AVP 0\r\n";
    let call = net.eps[ALICE]
        .invite(
            now,
            pbx_addr,
            &Request {
                body: Some(("application/sdp", ALICE_SDP)),
                credentials: Some(DigestCredentials::new("alice", "wonderland")),
                ..Request::new(
                    Method::Invite,
                    "sip:bob@pbx.test",
                    "\"Alice\" <sip:alice@pbx.test>",
                    "<sip:bob@pbx.test>",
                )
            },
        )
        .unwrap();
    let mut host = |i: usize, ep: &mut Ep, now: Instant, e: Event| match i {
        PBX => pbx.on_event(ep, now, e),
        BOB => bob_answers(ep, now, e, BOB_SDP),
        _ => {}
    };
    net.pump(&mut host);
    assert_eq!(
        net.eps[ALICE].call_state(call),
        Some(SessionState::Confirmed)
    );
    let alice_events = net.events_of(ALICE);
    assert!(
        alice_events.contains(&Event::CallEstablished { call }),
        "{alice_events:?}"
    );
    assert!(
        alice_events
            .iter()
            .any(|e| matches!(e, Event::Reoriginated { .. }))
    );
    // Bob's SDP came through the registrar to alice, and alice's to bob.
    assert_eq!(net.eps[ALICE].call_answer(call).unwrap().body(), BOB_SDP);
    let invite_to_bob = net
        .wire
        .iter()
        .find(|w| w.to == net.addrs[BOB] && w.line() == "INVITE")
        .unwrap();
    assert_eq!(
        Message::parse(&invite_to_bob.bytes).unwrap().body(),
        ALICE_SDP
    );

    // Alice hangs up; the registrar hangs up bob's leg.
    net.now = secs(10);
    net.eps[ALICE].hangup(net.now, call).unwrap();
    let until = secs(60);
    net.run_until(until, &mut host);
    assert_eq!(
        net.ladder(ALICE, PBX)[4..],
        [
            "> INVITE",
            "< 401 INVITE",
            "> ACK",
            "> INVITE",
            "< 180 INVITE",
            "< 200 INVITE",
            "> ACK",
            "> BYE",
            "< 200 BYE",
        ]
    );
    assert_eq!(
        net.ladder(PBX, BOB)[4..],
        [
            "> INVITE",
            "< 180 INVITE",
            "< 200 INVITE",
            "> ACK",
            "> BYE",
            "< 200 BYE"
        ]
    );
    assert!(net.events_of(ALICE).contains(&Event::CallTerminated {
        call,
        reason: EndReason::LocalBye
    }));
    assert!(net.events_of(BOB).iter().any(|e| matches!(
        e,
        Event::CallTerminated {
            reason: EndReason::RemoteBye,
            ..
        }
    )));
    assert_eq!(pbx.verdicts.len(), 3);
    assert_eq!(pbx.verdicts[2], ("alice".to_string(), Ok(true)));
    for i in [PBX, ALICE, BOB] {
        assert_eq!(net.eps[i].call_count(), 0, "endpoint {i}");
    }
}

#[test]
fn a_wrong_password_fails_the_registration_with_401() {
    let (mut net, mut pbx) = pbx_net();
    let pbx_addr = net.addrs[PBX];
    let reg = net.eps[ALICE]
        .register(
            net.now,
            pbx_addr,
            &binding("alice", "<sip:alice@pbx.test>", "guess"),
        )
        .unwrap();
    net.pump(&mut |i, ep: &mut Ep, now, e| {
        if i == PBX {
            pbx.on_event(ep, now, e)
        }
    });
    assert_eq!(
        net.ladder(ALICE, PBX),
        [
            "> REGISTER",
            "< 401 REGISTER",
            "> REGISTER",
            "< 401 REGISTER"
        ]
    );
    assert_eq!(pbx.verdicts, [("alice".to_string(), Ok(false))]);
    assert!(net.events_of(ALICE).contains(&Event::RegistrationFailed {
        reg,
        status: StatusCode::UNAUTHORIZED
    }));
    assert_eq!(net.eps[ALICE].registration_count(), 0);
}

// ---------------------------------------------------------------------------------------
// 2. OPTIONS pinger.
// ---------------------------------------------------------------------------------------

/// Pings a peer with OPTIONS every `every` of virtual time and reports each change.
struct Pinger {
    peer: SocketAddr,
    every: u64,
    next: Instant,
    out: Option<TxHandle>,
    up: Option<bool>,
    changes: Vec<(u64, bool)>,
}

impl Pinger {
    fn on_event(&mut self, now: Instant, e: Event) {
        let verdict = match e {
            Event::Response { tx, status, .. } if Some(tx) == self.out && status.is_final() => {
                // Any final response says the peer is there (§11.2: even a 4xx).
                true
            }
            Event::TimedOut { tx } | Event::TransportError { tx } if Some(tx) == self.out => false,
            _ => return,
        };
        self.out = None;
        if self.up != Some(verdict) {
            self.up = Some(verdict);
            self.changes.push((now.as_millis(), verdict));
        }
    }

    fn ping(&mut self, ep: &mut Ep, now: Instant) {
        if self.out.is_none() {
            let uri = format!("sip:{}", self.peer);
            let req = Request::new(
                Method::Options,
                &uri,
                "<sip:pinger@127.0.0.1>",
                "<sip:peer@127.0.0.1>",
            );
            self.out = Some(ep.send_request(now, self.peer, &req).unwrap());
        }
        self.next = Instant::from_millis(now.as_millis() + self.every);
    }
}

#[test]
fn an_options_pinger_reports_the_peer_up_down_and_up_again() {
    let mut net = Net::new(&["127.0.0.1:5061", "127.0.0.1:5062"]);
    let peer = net.addrs[1];
    let mut pinger = Pinger {
        peer,
        every: 40_000,
        next: Instant::ZERO,
        out: None,
        up: None,
        changes: Vec::new(),
    };
    let mut answered = 0;
    // The pinger's host loop: the next wake-up is the sooner of the endpoint's
    // poll_timeout and its own ping timer.
    let stop = secs(200);
    let down_from = secs(50);
    let back_at = secs(130);
    loop {
        let next = [
            net.eps[0].poll_timeout(),
            net.eps[1].poll_timeout(),
            Some(pinger.next),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap();
        if next > stop {
            break;
        }
        net.now = next;
        net.down = if next >= down_from && next < back_at {
            vec![peer]
        } else {
            vec![]
        };
        for ep in &mut net.eps {
            ep.handle_timeout(next);
        }
        if next >= pinger.next {
            pinger.ping(&mut net.eps[0], next);
        }
        net.pump(&mut |i, ep: &mut Ep, now, e| match (i, e) {
            (0, e) => pinger.on_event(now, e),
            (1, Event::IncomingRequest { tx, .. }) => {
                answered += 1;
                ep.respond(now, tx, StatusCode::OK, None).unwrap();
            }
            _ => {}
        });
    }
    // Pings at 0 and 40 s are answered; the one at 80 s (peer down since 50 s) times out
    // after 64*T1 = 32 s (Timer F, RFC 3261 §17.1.2.2) at 112 s; the one at 120 s has
    // its first transmissions lost, and a retransmission after 130 s is answered.
    assert_eq!(
        pinger.changes,
        [(0, true), (112_000, false), (131_500, true)]
    );
    // Answered: the pings at 0 and 40 s, the 120 s one's retransmission, 160 and 200 s.
    assert_eq!(answered, 5);
    let timed_out: Vec<u64> = net
        .events
        .iter()
        .filter(|(_, i, e)| *i == 0 && matches!(e, Event::TimedOut { .. }))
        .map(|(at, _, _)| *at)
        .collect();
    assert_eq!(timed_out, [112_000]);
    // The lost ping was sent 11 times over UDP (Timer E: 0.5, 1, 2, 4, 4, ... s).
    let sent_80: Vec<u64> = net
        .wire
        .iter()
        .filter(|w| w.from != peer && (80_000..112_000).contains(&w.at))
        .map(|w| w.at - 80_000)
        .collect();
    assert_eq!(
        sent_80,
        [
            0, 500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500
        ]
    );
    assert!(
        net.wire
            .iter()
            .filter(|w| w.from == peer)
            .all(|w| w.line() == "200 OPTIONS")
    );
}

// ---------------------------------------------------------------------------------------
// 3. A callee that rejects after ringing; one that answers with the host's SDP.
// ---------------------------------------------------------------------------------------

const OFFER: &[u8] = b"v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 3000 RTP/AVP 0\r\n";
const ANSWER: &[u8] = b"v=0\r\no=bob 7 7 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5004 RTP/AVP 0\r\n";

fn call_bob(net: &mut Net) -> CallHandle {
    let req = Request {
        body: Some(("application/sdp", OFFER)),
        ..Request::new(
            Method::Invite,
            "sip:bob@127.0.0.1:5062",
            "<sip:alice@127.0.0.1>",
            "<sip:bob@127.0.0.1>",
        )
    };
    net.eps[0].invite(net.now, net.addrs[1], &req).unwrap()
}

#[test]
fn a_busy_callee_rings_then_rejects_with_486() {
    let mut net = Net::new(&["127.0.0.1:5061", "127.0.0.1:5062"]);
    let call = call_bob(&mut net);
    let mut ringing = None;
    net.pump(&mut |i, ep: &mut Ep, now, e| {
        if let (1, Event::IncomingRequest { tx, call: Some(c) }) = (i, e) {
            ep.respond(now, tx, StatusCode::RINGING, None).unwrap();
            ringing = Some((tx, c));
        }
    });
    let (tx, callee_call) = ringing.unwrap();
    // The user is busy: 486 a second later.
    net.now = secs(1);
    net.eps[1]
        .respond(net.now, tx, StatusCode::BUSY_HERE, None)
        .unwrap();
    net.run_until(secs(60), &mut no_host);
    assert_eq!(
        net.ladder(0, 1),
        ["> INVITE", "< 180 INVITE", "< 486 INVITE", "> ACK"]
    );
    let caller: Vec<Event> = net.events_of(0);
    let statuses: Vec<u16> = caller
        .iter()
        .filter_map(|e| match e {
            Event::Response {
                call: Some(c),
                status,
                ..
            } if *c == call => Some(status.as_u16()),
            _ => None,
        })
        .collect();
    assert_eq!(statuses, [180, 486]);
    let busy = StatusCode::BUSY_HERE;
    assert!(caller.contains(&Event::CallTerminated {
        call,
        reason: EndReason::Rejected(busy)
    }));
    assert!(net.events_of(1).contains(&Event::CallTerminated {
        call: callee_call,
        reason: EndReason::Rejected(busy)
    }));
    assert_eq!((net.eps[0].call_count(), net.eps[1].call_count()), (0, 0));
    assert_eq!(
        (
            net.eps[0].transaction_count(),
            net.eps[1].transaction_count()
        ),
        (0, 0)
    );
}

#[test]
fn a_callee_answers_with_its_sdp_and_the_caller_reads_it() {
    let mut net = Net::new(&["127.0.0.1:5061", "127.0.0.1:5062"]);
    let call = call_bob(&mut net);
    let mut offer_seen = Vec::new();
    let mut answer_read = Vec::new();
    net.pump(&mut |i, ep: &mut Ep, now, e| match (i, e) {
        (1, Event::IncomingRequest { tx, call: Some(_) }) => {
            // The callee host reads the offer and writes its answer.
            offer_seen = ep.request(tx).unwrap().body().to_vec();
            ep.respond(now, tx, StatusCode::OK, Some(("application/sdp", ANSWER)))
                .unwrap();
        }
        // The caller reads the answer from the 2xx the event reports.
        (0, Event::Response { tx, status, .. }) if status == StatusCode::OK => {
            let response = ep
                .response(tx)
                .expect("the 2xx is readable while its event is handled");
            answer_read = response.body().to_vec();
        }
        _ => {}
    });
    assert_eq!(offer_seen, OFFER);
    assert_eq!(answer_read, ANSWER);
    assert_eq!(net.ladder(0, 1), ["> INVITE", "< 200 INVITE", "> ACK"]);
    // On the wire: the answer with its Content-Type and Content-Length.
    let ok = net.wire.iter().find(|w| w.line() == "200 INVITE").unwrap();
    let m = Message::parse(&ok.bytes).unwrap();
    assert_eq!(
        m.header(HeaderKind::ContentType).unwrap().value,
        b"application/sdp"
    );
    assert_eq!(
        m.content_length().unwrap().unwrap().get() as usize,
        ANSWER.len()
    );
    assert_eq!(m.body(), ANSWER);
    // And after the events, for as long as the call lives.
    assert_eq!(net.eps[0].call_answer(call).unwrap().body(), ANSWER);
    assert!(net.events_of(0).contains(&Event::CallEstablished { call }));
}

// ---------------------------------------------------------------------------------------
// Surprises met on the way.
// ---------------------------------------------------------------------------------------

/// A Request-URI written without its scheme (`bob@host` for `sip:bob@host`, a
/// registrar's bare domain) is refused when given, with the error a URI with a space
/// gets, rather than sent as a start line no peer accepts (RFC 3261 §25.1:
/// Request-URI = SIP-URI / SIPS-URI / absoluteURI, each with a scheme), which would
/// show up only as a Timer F timeout 32 s later.
#[test]
fn a_request_uri_without_a_scheme_is_refused_before_anything_is_sent() {
    let mut net = Net::new(&["127.0.0.1:5061", "127.0.0.1:5062"]);
    let (now, to) = (net.now, net.addrs[1]);
    let refused: Result<(), SendError> = Err(SendError::Encode(
        sansip::encode::EncodeError::InvalidStartLine,
    ));
    let ep = &mut net.eps[0];
    for uri in [
        "bob@127.0.0.1:5062",
        "127.0.0.1",
        ":bob@x",
        "1sip:bob@x",
        "s!p:bob@x",
    ] {
        let options = Request::new(Method::Options, uri, "<sip:a@x>", "<sip:b@x>");
        assert_eq!(
            ep.send_request(now, to, &options).map(|_| ()),
            refused,
            "{uri}"
        );
        let invite = Request::new(Method::Invite, uri, "<sip:a@x>", "<sip:b@x>");
        assert_eq!(ep.invite(now, to, &invite).map(|_| ()), refused, "{uri}");
    }
    let bare = Binding {
        registrar: "pbx.test",
        ..binding("alice", "<sip:alice@pbx.test>", "x")
    };
    assert_eq!(ep.register(now, to, &bare).map(|_| ()), refused);
    assert_eq!(
        (
            ep.transaction_count(),
            ep.call_count(),
            ep.registration_count()
        ),
        (0, 0, 0)
    );
    net.pump(&mut no_host);
    assert!(net.wire.is_empty());
    // Every scheme passes: sip, sips, tel, and any other absoluteURI.
    let ep = &mut net.eps[0];
    for uri in [
        "sip:bob@127.0.0.1:5062",
        "SIPS:bob@x",
        "tel:+15551234",
        "urn:service:sos",
        "x-my.s+c-1:opaque",
    ] {
        let options = Request::new(Method::Options, uri, "<sip:a@x>", "<sip:b@x>");
        assert!(ep.send_request(now, to, &options).is_ok(), "{uri}");
    }
    net.pump(&mut no_host);
    let sent: Vec<String> = net
        .wire
        .iter()
        .filter(|w| w.from == net.addrs[0])
        .map(Wire::line)
        .collect();
    assert_eq!(sent, ["OPTIONS"; 5]);
}

/// A header the endpoint writes itself (Via, From, To, Call-ID, CSeq, Max-Forwards,
/// Content-Type, Content-Length), given again among a command's extra headers, is
/// refused and named by its position in the host's list, rather than written twice
/// into a message the peer answers 400 (or, for Content-Length, refused with the index
/// of a header list the host never saw).
#[test]
fn a_header_the_endpoint_writes_itself_is_refused_by_its_position() {
    let mut net = Net::new(&["127.0.0.1:5061", "127.0.0.1:5062"]);
    let (now, to) = (net.now, net.addrs[1]);
    let ep = &mut net.eps[0];
    let reserved = [
        "Via",
        "v",
        "From",
        "f",
        "To",
        "t",
        "Call-ID",
        "i",
        "CSeq",
        "Max-Forwards",
        "content-type",
        "c",
        "Content-Length",
        "l",
    ];
    for name in reserved {
        let headers = [("X-Fine", "1"), (name, "1")];
        let refused = Err(SendError::ReservedHeader { index: 1 });
        let options = Request {
            headers: &headers,
            ..Request::new(
                Method::Options,
                "sip:bob@127.0.0.1:5062",
                "<sip:a@x>",
                "<sip:b@x>",
            )
        };
        assert_eq!(
            ep.send_request(now, to, &options).map(|_| ()),
            refused,
            "{name}"
        );
        let invite = Request {
            method: Method::Invite,
            ..options
        };
        assert_eq!(ep.invite(now, to, &invite).map(|_| ()), refused, "{name}");
    }
    assert_eq!((ep.transaction_count(), ep.call_count()), (0, 0));
    let shown = SendError::ReservedHeader { index: 1 }.to_string();
    assert!(
        shown.contains("header 1") && shown.contains("endpoint writes"),
        "{shown}"
    );
    net.pump(&mut no_host);
    assert!(net.wire.is_empty());

    // The same for a response and a request within a call; the command can be given again.
    let call = call_bob(&mut net);
    let mut invite_tx = None;
    net.pump(&mut |i, _: &mut Ep, _, e| {
        if let (1, Event::IncomingRequest { tx, .. }) = (i, e) {
            invite_tx = Some(tx);
        }
    });
    let tx = invite_tx.unwrap();
    let ep = &mut net.eps[1];
    let refused = Err(SendError::ReservedHeader { index: 0 });
    let sdp = Some(("application/sdp", ANSWER));
    assert_eq!(
        ep.respond_with(now, tx, StatusCode::OK, &[("To", "<sip:b@x>;tag=1")], sdp),
        refused
    );
    ep.respond_with(now, tx, StatusCode::OK, &[("X-Fine", "1")], sdp)
        .unwrap();
    net.pump(&mut no_host);
    assert_eq!(net.ladder(0, 1), ["> INVITE", "< 200 INVITE", "> ACK"]);
    let info = net.eps[0].request_in_call(now, call, Method::Info, &[("CSeq", "9 INFO")], None);
    assert_eq!(info.map(|_| ()), refused);
    net.pump(&mut no_host);
    assert_eq!(net.ladder(0, 1).len(), 3);
}

/// The README's "Using the endpoint" example, as written there (kept in step by
/// `the_readme_endpoint_example_is_this_one`), then checked.
#[test]
#[rustfmt::skip] // as the README writes it
fn the_readme_endpoint_example_runs() -> Result<(), Box<dyn std::error::Error>> {
    // README: begin
    use sansip::endpoint::{Endpoint, EndpointConfig, Event, Request};
    use sansip::message::{Method, StatusCode};
    use sansip::Instant;

    let (a, b) = ("127.0.0.1:5061".parse()?, "127.0.0.1:5062".parse()?);
    // 8 transactions, 2 calls, 1500-byte messages: a phone's tables.
    let mut caller = Box::new(Endpoint::<8, 2, 1500>::new(EndpointConfig::new(a, 1)));
    let mut callee = Box::new(Endpoint::<8, 2, 1500>::new(EndpointConfig::new(b, 2)));
    let now = Instant::ZERO; // the host's clock, in milliseconds
    let invite = Request {
        body: Some(("application/sdp", b"v=0\r\n(the offer)".as_slice())),
        ..Request::new(Method::Invite, "sip:bob@127.0.0.1:5062", "<sip:alice@example.com>", "<sip:bob@example.com>")
    };
    let call = caller.invite(now, b, &invite)?;
    let mut buf = [0u8; 65_535];
    loop {
        let mut moved = false;
        while let Some(t) = caller.poll_transmit(&mut buf)? {
            callee.handle_datagram(now, a, t.bytes); // the host's socket, here a wire
            moved = true;
        }
        while let Some(t) = callee.poll_transmit(&mut buf)? {
            caller.handle_datagram(now, b, t.bytes);
            moved = true;
        }
        while let Some(event) = callee.poll_event() {
            // Every request gets a final response: 180 first to ring, 486 to refuse.
            if let Event::IncomingRequest { tx, .. } = event {
                callee.respond(now, tx, StatusCode::OK, Some(("application/sdp", b"v=0\r\n(the answer)")))?;
            }
            moved = true;
        }
        while let Some(event) = caller.poll_event() {
            // Event::Response for the 200 (read it with `caller.response(tx)`), then:
            if event == (Event::CallEstablished { call }) {
                assert_eq!(caller.call_answer(call).unwrap().body(), b"v=0\r\n(the answer)");
            }
            moved = true;
        }
        if !moved {
            break;
        }
    }
    caller.hangup(now, call)?; // a BYE; Event::CallTerminated follows its 200
    // README: end
    let mut out = Vec::new();
    while let Some(t) = caller.poll_transmit(&mut buf)? {
        out.push(Message::parse(t.bytes)?.method().map(|m| m.to_string()));
        callee.handle_datagram(now, a, t.bytes);
    }
    assert_eq!(out, [Some("BYE".to_string())]);
    while let Some(t) = callee.poll_transmit(&mut buf)? {
        caller.handle_datagram(now, b, t.bytes);
    }
    let events: Vec<Event> = std::iter::from_fn(|| caller.poll_event()).collect();
    assert!(events.contains(&Event::CallTerminated { call, reason: EndReason::LocalBye }));
    Ok(())
}

/// The README's example is the one the test above runs.
#[test]
fn the_readme_endpoint_example_is_this_one() {
    let readme = include_str!("../README.md");
    let at = readme.find("## Using the endpoint").unwrap();
    let start = readme[at..].find("```rust\n").unwrap() + at + "```rust\n".len();
    let end = readme[start..].find("```").unwrap() + start;
    let this = include_str!("usability_s12.rs");
    let begin = this.find("    // README: begin\n").unwrap() + "    // README: begin\n".len();
    let stop = this.find("    // README: end").unwrap();
    let unindented: String = this[begin..stop]
        .lines()
        .map(|l| format!("{}\n", l.strip_prefix("    ").unwrap_or(l)))
        .collect();
    assert_eq!(unindented, readme[start..end]);
}

/// What `Event::IncomingRequest` tells a host that leaves requests unanswered: the
/// endpoint sends 100 Trying for an INVITE after 200 ms, the caller's CANCEL ends the
/// call with 487 (the callee's host learns of it as `CallTerminated` with `Cancelled`),
/// and an OPTIONS left unanswered keeps its transaction, with no timer to end it.
#[test]
fn a_host_that_never_answers() {
    let mut net = Net::new(&["127.0.0.1:5061", "127.0.0.1:5062"]);
    let call = call_bob(&mut net);
    let options = Request::new(
        Method::Options,
        "sip:bob@127.0.0.1:5062",
        "<sip:a@x>",
        "<sip:b@x>",
    );
    let ping = net.eps[0]
        .send_request(net.now, net.addrs[1], &options)
        .unwrap();
    net.run_until(secs(5), &mut no_host);
    let timeline: Vec<(u64, String)> = net
        .wire
        .iter()
        .filter(|w| w.from == net.addrs[1])
        .map(|w| (w.at, w.line()))
        .collect();
    assert_eq!(timeline, [(200, "100 INVITE".to_string())]);
    net.eps[0].cancel(net.now, call).unwrap();
    net.run_until(secs(300), &mut no_host);
    assert_eq!(
        net.ladder(0, 1)
            .iter()
            .filter(|l| !l.ends_with("OPTIONS"))
            .collect::<Vec<_>>(),
        [
            "> INVITE",
            "< 100 INVITE",
            "> CANCEL",
            "< 200 CANCEL",
            "< 487 INVITE",
            "> ACK"
        ]
    );
    assert!(net.events_of(0).contains(&Event::CallTerminated {
        call,
        reason: EndReason::Cancelled
    }));
    assert!(net.events_of(1).iter().any(|e| matches!(
        e,
        Event::CallTerminated {
            reason: EndReason::Cancelled,
            ..
        }
    )));
    // The OPTIONS: the caller gave up at 32 s (Timer F); the callee still holds it.
    assert!(net.events_of(0).contains(&Event::TimedOut { tx: ping }));
    assert_eq!(
        (
            net.eps[0].transaction_count(),
            net.eps[1].transaction_count()
        ),
        (0, 1)
    );
    assert_eq!(net.eps[1].poll_timeout(), None);
    let unanswered: Vec<TxHandle> = net
        .events_of(1)
        .iter()
        .filter_map(|e| match e {
            Event::IncomingRequest { tx, call: None } => Some(*tx),
            _ => None,
        })
        .collect();
    // Answered late, it goes (to nobody listening) and the slot is free.
    net.eps[1]
        .respond(net.now, unanswered[0], StatusCode::OK, None)
        .unwrap();
    net.run_until(secs(400), &mut no_host);
    assert_eq!(net.eps[1].transaction_count(), 0);
}

/// The errors the commands' documentation names, each met once.
#[test]
fn the_errors_the_docs_name() {
    let mut net = Net::new(&["127.0.0.1:5061", "127.0.0.1:5062"]);
    let (now, to) = (net.now, net.addrs[1]);
    let base = Request::new(
        Method::Options,
        "sip:bob@127.0.0.1:5062",
        "<sip:a@x>",
        "<sip:b@x>",
    );
    let ep = &mut net.eps[0];
    let send = |ep: &mut Ep, r: Request<'_>| ep.send_request(now, to, &r).map(|_| ());
    for m in [Method::Ack, Method::Cancel] {
        assert_eq!(
            send(ep, Request { method: m, ..base }),
            Err(SendError::InvalidState)
        );
    }
    let alice = Some(DigestCredentials::new("alice", "x"));
    assert_eq!(
        send(
            ep,
            Request {
                credentials: alice,
                ..base
            }
        ),
        Err(SendError::InvalidState)
    );
    for cseq in [0, 1 << 31] {
        assert_eq!(
            send(ep, Request { cseq, ..base }),
            Err(SendError::InvalidState)
        );
    }
    assert_eq!(
        send(
            ep,
            Request {
                call_id: Some("a b"),
                ..base
            }
        ),
        Err(SendError::InvalidState)
    );
    let big = vec![b'x'; 2048];
    let too_big = send(
        ep,
        Request {
            body: Some(("text/plain", &big)),
            ..base
        },
    );
    assert!(
        matches!(
            too_big,
            Err(SendError::Encode(
                sansip::encode::EncodeError::BufferTooSmall { .. }
            ))
        ),
        "{too_big:?}"
    );
    let cr = [("Subject", "a\r\nX: 1")];
    assert_eq!(
        send(
            ep,
            Request {
                headers: &cr,
                ..base
            }
        ),
        Err(SendError::Encode(
            sansip::encode::EncodeError::InvalidHeader { index: 7 }
        )),
        "Via, Max-Forwards, From, To, Call-ID, CSeq, User-Agent, then the host's"
    );
    assert_eq!(ep.transaction_count(), 0);

    // A call both ways: the callee's handle cannot cancel; a second final is refused;
    // a call over is an unknown handle.
    let call = call_bob(&mut net);
    let mut got = None;
    net.pump(&mut |i, _: &mut Ep, _, e| {
        if let (1, Event::IncomingRequest { tx, call: Some(c) }) = (i, e) {
            got = Some((tx, c));
        }
    });
    let (tx, callee_call) = got.unwrap();
    let callee = &mut net.eps[1];
    assert_eq!(
        callee.cancel(now, callee_call),
        Err(SendError::InvalidState)
    );
    let huge = vec![b'x'; 2049];
    assert_eq!(
        callee.respond(now, tx, StatusCode::OK, Some(("application/sdp", &huge))),
        Err(SendError::Capacity(sansip::Capacity::Buffer))
    );
    callee
        .respond(now, tx, StatusCode::BUSY_HERE, None)
        .unwrap();
    assert_eq!(
        callee.respond(now, tx, StatusCode::OK, None),
        Err(SendError::InvalidState)
    );
    net.run_until(secs(1), &mut no_host);
    assert_eq!(
        net.eps[0].hangup(net.now, call),
        Err(SendError::UnknownHandle)
    );
    assert_eq!(
        net.eps[0].cancel(net.now, call),
        Err(SendError::UnknownHandle)
    );
}

/// A registrar (or back-to-back UA) behind which phones sit behind NAT binds the
/// address their requests came from, not the private one their Contact names (RFC 3581
/// §4, RFC 5626): `Endpoint::peer` gives it, where the endpoint sends the responses.
#[test]
fn a_registrar_learns_where_a_request_came_from() {
    let mut phone: Box<Ep> = Box::new(Endpoint::new(EndpointConfig::new(addr("10.0.0.1:5061"), 1)));
    let mut registrar: Box<Ep> = Box::new(Endpoint::new(EndpointConfig::new(
        addr("127.0.0.1:5060"),
        2,
    )));
    let (now, registrar_at, nat) = (
        Instant::ZERO,
        addr("127.0.0.1:5060"),
        addr("192.0.2.7:40000"),
    );
    let reg = phone
        .register(
            now,
            registrar_at,
            &binding("alice", "<sip:alice@pbx.test>", ""),
        )
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let t = phone.poll_transmit(&mut buf).unwrap().unwrap();
    assert_eq!(t.destination, registrar_at);
    registrar.handle_datagram(now, nat, t.bytes);
    let Some(Event::IncomingRequest { tx, call: None }) = registrar.poll_event() else {
        panic!()
    };
    let contact = registrar
        .request(tx)
        .unwrap()
        .header(HeaderKind::Contact)
        .unwrap()
        .value
        .to_vec();
    assert_eq!(contact, b"<sip:sansip@10.0.0.1:5061>");
    assert_eq!(registrar.peer(tx), Some(nat));
    registrar
        .respond_with(
            now,
            tx,
            StatusCode::OK,
            &[("Contact", "<sip:sansip@10.0.0.1:5061>;expires=60")],
            None,
        )
        .unwrap();
    let t = registrar.poll_transmit(&mut buf).unwrap().unwrap();
    assert_eq!(t.destination, nat);
    phone.handle_datagram(now, registrar_at, t.bytes);
    let events: Vec<Event> = std::iter::from_fn(|| phone.poll_event()).collect();
    assert!(events.contains(&Event::Registered { reg, expires: 60 }));
    // A request this side sent: where it went.
    let options = Request::new(Method::Options, "sip:x@192.0.2.9", "<sip:a@x>", "<sip:b@x>");
    let sent = registrar
        .send_request(now, addr("192.0.2.9:5060"), &options)
        .unwrap();
    assert_eq!(registrar.peer(sent), Some(addr("192.0.2.9:5060")));
    // A finished transaction: no answer.
    registrar.handle_timeout(Instant::from_millis(40_000)); // Timer J: 64*T1
    assert_eq!(registrar.peer(tx), None);
}

/// A MESSAGE with a `text/plain` body reaches the host only once the body type is
/// listed in the capabilities (`EndpointConfig::capabilities`); before, the endpoint
/// answers 415 itself.
#[test]
fn a_message_body_reaches_the_host_once_its_type_is_listed() {
    let mut net = Net::new(&["127.0.0.1:5061", "127.0.0.1:5062"]);
    let (now, to) = (net.now, net.addrs[1]);
    let message = Request {
        body: Some(("text/plain", b"hello".as_slice())),
        ..Request::new(
            Method::Message,
            "sip:bob@127.0.0.1:5062",
            "<sip:a@x>",
            "<sip:b@x>",
        )
    };
    let mut read = Vec::new();
    let mut host = |i: usize, ep: &mut Ep, now: Instant, e: Event| {
        if let (1, Event::IncomingRequest { tx, .. }) = (i, e) {
            read.push(ep.request(tx).unwrap().body().to_vec());
            ep.respond(now, tx, StatusCode::OK, None).unwrap();
        }
    };
    net.eps[0].send_request(now, to, &message).unwrap();
    net.pump(&mut host);
    assert_eq!(net.ladder(0, 1), ["> MESSAGE", "< 415 MESSAGE"]);

    *net.eps[1] = Endpoint::new(EndpointConfig {
        capabilities: sansip::check::Capabilities {
            body_types: &["application/sdp", "multipart/mixed", "text/plain"],
            ..sansip::check::Capabilities::DEFAULT
        },
        ..EndpointConfig::new(to, 9)
    });
    net.eps[0].send_request(now, to, &message).unwrap();
    net.pump(&mut host);
    assert_eq!(net.ladder(0, 1)[2..], ["> MESSAGE", "< 200 MESSAGE"]);
    assert_eq!(read, [b"hello".to_vec()]);
}

/// What `invite`'s documentation says follows a redirect and a callee that never
/// answers: `Redirected` with the targets readable in the 3xx's Contact, and
/// `TimedOut` 64*T1 after the INVITE.
#[test]
fn what_follows_an_invite_redirected_or_unanswered() {
    let mut net = Net::new(&["127.0.0.1:5061", "127.0.0.1:5062"]);
    let call = call_bob(&mut net);
    let mut target = None;
    net.pump(&mut |i, ep: &mut Ep, now, e| match (i, e) {
        (1, Event::IncomingRequest { tx, .. }) => {
            let moved = StatusCode::MOVED_TEMPORARILY;
            let contact = [("Contact", "<sip:bob@192.0.2.20>")];
            ep.respond_with(now, tx, moved, &contact, None).unwrap();
        }
        (0, Event::Response { tx, status, .. }) if status == StatusCode::MOVED_TEMPORARILY => {
            let r = ep.response(tx).unwrap();
            target = r.header(HeaderKind::Contact).map(|h| h.value.to_vec());
        }
        _ => {}
    });
    assert_eq!(target.as_deref(), Some(b"<sip:bob@192.0.2.20>".as_slice()));
    let moved = StatusCode::MOVED_TEMPORARILY;
    assert!(net.events_of(0).contains(&Event::CallTerminated {
        call,
        reason: EndReason::Redirected(moved)
    }));
    assert_eq!(net.ladder(0, 1), ["> INVITE", "< 302 INVITE", "> ACK"]);

    // Nobody there: the INVITE is retransmitted (Timer A) and the call times out.
    net.down = vec![net.addrs[1]];
    let start = net.now.as_millis();
    let call = call_bob(&mut net);
    net.run_until(secs(100), &mut no_host);
    let ended: Vec<u64> = net
        .events
        .iter()
        .filter(|(_, i, e)| {
            *i == 0
                && *e
                    == Event::CallTerminated {
                        call,
                        reason: EndReason::TimedOut,
                    }
        })
        .map(|(at, _, _)| at - start)
        .collect();
    assert_eq!(ended, [32_000]);
    assert!(
        net.events.iter().any(|(at, i, e)| *i == 0
            && *at - start == 32_000
            && matches!(e, Event::TimedOut { .. }))
    );
    let invites = net.wire.iter().filter(|w| w.line() == "INVITE").count();
    assert_eq!(
        invites,
        1 + 7,
        "the first INVITE, then the second and its 6 retransmissions"
    );
}

/// Bob's host in the registrar scenario: an INVITE gets 180, then 200 with `sdp`; any
/// other request within a call 200.
fn bob_answers(ep: &mut Ep, now: Instant, e: Event, sdp: &[u8]) {
    if let Event::IncomingRequest { tx, call: Some(_) } = e {
        if ep.request(tx).unwrap().method() == Some(Method::Invite) {
            ep.respond(now, tx, StatusCode::RINGING, None).unwrap();
            ep.respond(now, tx, StatusCode::OK, Some(("application/sdp", sdp)))
                .unwrap();
        } else {
            ep.respond(now, tx, StatusCode::OK, None).unwrap();
        }
    }
}
