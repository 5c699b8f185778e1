//! Two endpoints with session timers (RFC 4028) over a perfect virtual link and virtual
//! time, with hosts that answer as a softphone would: the harness of
//! `tests/session_timer_endpoint.rs` and `tests/review_s7b.rs`.
#![allow(dead_code)] // each test file uses its own share

use std::net::SocketAddr;

use sansip::Instant;
use sansip::dialog::TimerConfig;
use sansip::endpoint::{CallHandle, Endpoint, EndpointConfig, Event, Request, TxHandle};
use sansip::message::{Message, Method, StatusCode};

pub type Ep = Endpoint<16, 8, 2048>;

/// The caller.
pub const A: &str = "127.0.0.1:5061";
/// The callee.
pub const B: &str = "127.0.0.1:5062";
/// The session description every host sends.
pub const SDP: &[u8] = b"v=0\r\n";

pub fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Session timers on, asking for `session_expires` with Min-SE `min_se`.
pub fn timers(session_expires: u32, min_se: u32) -> Option<TimerConfig> {
    Some(TimerConfig {
        session_expires,
        min_se,
    })
}

/// Two endpoints whose hosts do what a softphone would: the callee answers the INVITE
/// when told to, every re-INVITE at once with 200 and a session description (unless `a`
/// holds them, `a_holds`), and every offer in a 2xx with an answer in the ACK.
pub struct Pair {
    pub a: Box<Ep>,
    pub b: Box<Ep>,
    pub now: Instant,
    /// Every datagram: time, direction ('>' a to b, '<' b to a), bytes.
    pub wire: Vec<(u64, char, Vec<u8>)>,
    pub events_a: Vec<Event>,
    pub events_b: Vec<Event>,
    /// Lose everything `b` sends.
    pub b_lost: bool,
    /// Whether `a`'s host keeps the re-INVITEs it receives (`held`) for the test to answer.
    pub a_holds: bool,
    /// Re-INVITEs `a`'s host keeps unanswered.
    pub held: Vec<TxHandle>,
}

impl Pair {
    pub fn new(a: Option<TimerConfig>, b: Option<TimerConfig>) -> Self {
        let config = |at, seed, session_timer| EndpointConfig {
            session_timer,
            ..EndpointConfig::new(addr(at), seed)
        };
        Pair {
            a: Box::new(Endpoint::new(config(A, 1, a))),
            b: Box::new(Endpoint::new(config(B, 2, b))),
            now: Instant::ZERO,
            wire: Vec::new(),
            events_a: Vec::new(),
            events_b: Vec::new(),
            b_lost: false,
            a_holds: false,
            held: Vec::new(),
        }
    }

    pub fn flush(&mut self) {
        let mut buf = vec![0u8; 65_535];
        loop {
            let mut moved = false;
            while let Some(t) = self.a.poll_transmit(&mut buf).unwrap() {
                let bytes = t.bytes.to_vec();
                self.b.handle_datagram(self.now, addr(A), &bytes);
                self.wire.push((self.now.as_millis(), '>', bytes));
                moved = true;
            }
            while let Some(t) = self.b.poll_transmit(&mut buf).unwrap() {
                let bytes = t.bytes.to_vec();
                if !self.b_lost {
                    self.a.handle_datagram(self.now, addr(B), &bytes);
                    self.wire.push((self.now.as_millis(), '<', bytes));
                    moved = true;
                }
            }
            while let Some(e) = self.a.poll_event() {
                moved |= self.host(true, e);
            }
            while let Some(e) = self.b.poll_event() {
                moved |= self.host(false, e);
            }
            if !moved {
                break;
            }
        }
    }

    /// The host's part: answer re-INVITEs and offers in 2xx responses.
    pub fn host(&mut self, is_a: bool, e: Event) -> bool {
        let now = self.now;
        let ep = if is_a { &mut self.a } else { &mut self.b };
        let mut acted = false;
        match e {
            Event::IncomingRequest { tx, call: Some(_) }
                if ep.request(tx).is_some_and(|r| {
                    r.method() == Some(Method::Invite) && r.to().is_ok_and(|t| t.tag().is_some())
                }) =>
            {
                if is_a && self.a_holds {
                    self.held.push(tx);
                } else {
                    ep.respond(now, tx, StatusCode::OK, Some(("application/sdp", SDP)))
                        .unwrap();
                    acted = true;
                }
            }
            Event::AnswerNeeded { call } => {
                ep.ack_with_answer(call, ("application/sdp", SDP)).unwrap();
                acted = true;
            }
            _ => {}
        }
        if is_a {
            self.events_a.push(e);
        } else {
            self.events_b.push(e);
        }
        acted
    }

    /// Jump to the next timer of either side (not past `limit_ms`) and fire it.
    pub fn advance(&mut self, limit_ms: u64) -> bool {
        let next = [self.a.poll_timeout(), self.b.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        let Some(t) = next.filter(|t| t.as_millis() <= limit_ms) else {
            return false;
        };
        self.now = self.now.max(t);
        self.a.handle_timeout(self.now);
        self.b.handle_timeout(self.now);
        self.flush();
        true
    }

    pub fn run_until(&mut self, limit_ms: u64) {
        while self.advance(limit_ms) {}
        self.now = self.now.max(Instant::from_millis(limit_ms));
    }

    /// `a` calls `b` with extra headers; `b` answers 200 at once.
    pub fn call(&mut self, headers: &[(&str, &str)]) -> (CallHandle, CallHandle) {
        let req = Request {
            body: Some(("application/sdp", SDP)),
            headers,
            ..Request::new(
                Method::Invite,
                "sip:bob@127.0.0.1:5062",
                "<sip:alice@127.0.0.1>",
                "<sip:bob@127.0.0.1>",
            )
        };
        let call = self.a.invite(self.now, addr(B), &req).unwrap();
        self.flush();
        let (tx, callee) = self.incoming_invite();
        self.b
            .respond(self.now, tx, StatusCode::OK, Some(("application/sdp", SDP)))
            .unwrap();
        self.flush();
        (call, callee)
    }

    pub fn incoming_invite(&self) -> (TxHandle, CallHandle) {
        self.events_b
            .iter()
            .find_map(|e| match e {
                Event::IncomingRequest {
                    tx,
                    call: Some(call),
                } => Some((*tx, *call)),
                _ => None,
            })
            .expect("the INVITE reached b's host")
    }

    /// The messages that went `dir` whose start line begins with `start`, parsed.
    pub fn sent(&self, dir: char, start: &str) -> Vec<(u64, Message<'_>)> {
        self.wire
            .iter()
            .filter(|(_, d, b)| *d == dir && b.starts_with(start.as_bytes()))
            .map(|(t, _, b)| (*t, Message::parse(b).unwrap()))
            .collect()
    }
}
