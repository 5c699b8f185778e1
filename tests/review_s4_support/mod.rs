//! A small network of endpoints for the review tests: datagrams are routed by
//! destination address, an initial INVITE can be forked to more endpoints (as a forking
//! proxy would), and any datagram can be dropped by a filter.
#![allow(dead_code)]

use std::net::SocketAddr;

use sansip::Instant;
use sansip::check::Capabilities;
use sansip::endpoint::{CallHandle, Endpoint, EndpointConfig, Event, Request, Transport, TxHandle};
use sansip::message::{HeaderKind, Message, Method};

pub type Ep = Endpoint<16, 8, 2048>;

pub const WITH_100REL: Capabilities<'static> = Capabilities {
    extensions: &["100rel"],
    ..Capabilities::DEFAULT
};

pub const SDP: &[u8] = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

pub fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

pub struct Node {
    pub addr: SocketAddr,
    pub ep: Box<Ep>,
    pub events: Vec<Event>,
}

pub type Filter = Box<dyn FnMut(SocketAddr, SocketAddr, &Message<'_>) -> bool>;

pub struct Net {
    pub nodes: Vec<Node>,
    pub now: Instant,
    /// Every datagram delivered: time (ms), from, to, bytes.
    pub wire: Vec<(u64, SocketAddr, SocketAddr, Vec<u8>)>,
    /// An initial INVITE (no To tag) sent to `.0` is also delivered to `.1`.
    pub fork: Vec<(SocketAddr, SocketAddr)>,
    /// Datagrams for which this returns true are dropped.
    pub drop: Filter,
}

impl Net {
    /// Nodes on 127.0.0.1:5061, 5062, ...; `rel[i]`: node i has 100rel.
    pub fn new(rel: &[bool]) -> Self {
        Self::with_transport(rel, Transport::Udp)
    }

    pub fn with_transport(rel: &[bool], transport: Transport) -> Self {
        Self::with_config(rel, transport, |_| {})
    }

    /// Every node keeps finished transactions as lingering records
    /// (`EndpointConfig::linger_records`, `linger_bytes`).
    #[cfg(feature = "alloc")]
    pub fn with_linger(rel: &[bool], records: usize, bytes: usize) -> Self {
        Self::with_config(rel, Transport::Udp, |c| {
            c.linger_records = records;
            c.linger_bytes = bytes;
        })
    }

    /// Nodes as [`Net::with_transport`] makes them, each config then changed by `tweak`.
    pub fn with_config(
        rel: &[bool],
        transport: Transport,
        tweak: impl Fn(&mut EndpointConfig),
    ) -> Self {
        let nodes = rel
            .iter()
            .enumerate()
            .map(|(i, &r)| {
                let a = addr(5061 + i as u16);
                let config = EndpointConfig {
                    capabilities: if r {
                        WITH_100REL
                    } else {
                        Capabilities::DEFAULT
                    },
                    transport,
                    ..EndpointConfig::new(a, 11 + i as u64)
                };
                let mut config = config;
                tweak(&mut config);
                Node {
                    addr: a,
                    ep: Box::new(Endpoint::new(config)),
                    events: Vec::new(),
                }
            })
            .collect();
        Net {
            nodes,
            now: Instant::ZERO,
            wire: Vec::new(),
            fork: Vec::new(),
            drop: Box::new(|_, _, _| false),
        }
    }

    pub fn deliver(&mut self, from: SocketAddr, to: SocketAddr, bytes: &[u8]) {
        let msg = Message::parse(bytes).unwrap();
        if (self.drop)(from, to, &msg) {
            return;
        }
        let initial_invite =
            msg.method() == Some(Method::Invite) && msg.to().ok().and_then(|t| t.tag()).is_none();
        let mut targets = vec![to];
        if initial_invite {
            targets.extend(self.fork.iter().filter(|(a, _)| *a == to).map(|(_, b)| *b));
        }
        for t in targets {
            self.wire
                .push((self.now.as_millis(), from, t, bytes.to_vec()));
            if let Some(n) = self.nodes.iter_mut().find(|n| n.addr == t) {
                n.ep.handle_datagram(self.now, from, bytes);
            }
        }
    }

    pub fn flush(&mut self) {
        let mut buf = vec![0u8; 65_535];
        loop {
            let mut moved = false;
            for i in 0..self.nodes.len() {
                let from = self.nodes[i].addr;
                let mut out = Vec::new();
                while let Some(t) = self.nodes[i].ep.poll_transmit(&mut buf).unwrap() {
                    out.push((t.destination, t.bytes.to_vec()));
                }
                for (to, bytes) in out {
                    moved = true;
                    self.deliver(from, to, &bytes);
                }
            }
            for n in &mut self.nodes {
                while let Some(e) = n.ep.poll_event() {
                    n.events.push(e);
                }
            }
            if !moved {
                break;
            }
        }
    }

    pub fn advance(&mut self) -> bool {
        let next = self.nodes.iter().filter_map(|n| n.ep.poll_timeout()).min();
        let Some(t) = next else { return false };
        self.now = self.now.max(t);
        for n in &mut self.nodes {
            n.ep.handle_timeout(self.now);
        }
        self.flush();
        true
    }

    pub fn run_until(&mut self, ms: u64) {
        while self.now.as_millis() < ms && self.advance() {}
    }

    /// Node 0 calls node 1 with an offer, a forking proxy rings node 2 too, and both
    /// ring (180): the call and the two callees' INVITE transactions.
    pub fn ring_two_forks(&mut self) -> (CallHandle, TxHandle, TxHandle) {
        self.fork.push((addr(5062), addr(5063)));
        let call = self.invite(0, 1, Some(SDP));
        let (tx1, _) = self.incoming(1).unwrap();
        let (tx2, _) = self.incoming(2).unwrap();
        for (i, tx) in [(1, tx1), (2, tx2)] {
            let now = self.now;
            self.nodes[i]
                .ep
                .respond(now, tx, sansip::message::StatusCode::RINGING, None)
                .unwrap();
            self.flush();
        }
        (call, tx1, tx2)
    }

    /// Node `from` invites node `to` (with an offer unless `body` is None).
    pub fn invite(&mut self, from: usize, to: usize, body: Option<&'static [u8]>) -> CallHandle {
        self.invite_with(from, to, body, None)
    }

    pub fn invite_with(
        &mut self,
        from: usize,
        to: usize,
        body: Option<&'static [u8]>,
        credentials: Option<sansip::endpoint::DigestCredentials<'static>>,
    ) -> CallHandle {
        self.invite_full(from, to, body, credentials, &[])
    }

    /// An INVITE with extra `headers` written as given.
    pub fn invite_full(
        &mut self,
        from: usize,
        to: usize,
        body: Option<&'static [u8]>,
        credentials: Option<sansip::endpoint::DigestCredentials<'static>>,
        headers: &'static [(&'static str, &'static str)],
    ) -> CallHandle {
        let port = 5061 + to as u16;
        let uri = format!("sip:bob@127.0.0.1:{port}");
        let req = Request {
            body: body.map(|b| ("application/sdp", b)),
            credentials,
            headers,
            ..Request::new(
                Method::Invite,
                &uri,
                "<sip:alice@127.0.0.1>",
                "<sip:bob@127.0.0.1>",
            )
        };
        let dest = self.nodes[to].addr;
        let now = self.now;
        let call = self.nodes[from].ep.invite(now, dest, &req).unwrap();
        self.flush();
        call
    }

    /// The last new request with a call that node `i` was told about.
    pub fn incoming(&self, i: usize) -> Option<(TxHandle, CallHandle)> {
        self.nodes[i].events.iter().rev().find_map(|e| match e {
            Event::IncomingRequest { tx, call: Some(c) } => Some((*tx, *c)),
            _ => None,
        })
    }

    /// The datagrams delivered from node `from` to node `to`, parsed, with their times.
    pub fn between(&self, from: usize, to: usize) -> Vec<(u64, Message<'_>)> {
        let (f, t) = (self.nodes[from].addr, self.nodes[to].addr);
        self.wire
            .iter()
            .filter(|(_, a, b, _)| *a == f && *b == t)
            .map(|(ms, _, _, bytes)| (*ms, Message::parse(bytes).unwrap()))
            .collect()
    }

    pub fn requests(&self, from: usize, to: usize, method: Method<'_>) -> Vec<Message<'_>> {
        self.between(from, to)
            .into_iter()
            .filter(|(_, m)| m.method() == Some(method))
            .map(|(_, m)| m)
            .collect()
    }

    pub fn responses(&self, from: usize, to: usize, code: u16) -> Vec<(u64, Message<'_>)> {
        self.between(from, to)
            .into_iter()
            .filter(|(_, m)| m.status().map(|s| s.as_u16()) == Some(code))
            .collect()
    }

    pub fn acknowledged(&self, i: usize) -> Vec<u32> {
        self.nodes[i]
            .events
            .iter()
            .filter_map(|e| match e {
                Event::ProvisionalAcknowledged { rseq, .. } => Some(*rseq),
                _ => None,
            })
            .collect()
    }

    pub fn counts(&self) -> Vec<(usize, usize)> {
        self.nodes
            .iter()
            .map(|n| (n.ep.call_count(), n.ep.transaction_count()))
            .collect()
    }
}

// ----- requests within a callee's dialog, and what node 0 made of them ----------------

pub fn value(m: &Message<'_>, kind: HeaderKind) -> String {
    String::from_utf8_lossy(m.header(kind).unwrap().value).into_owned()
}

/// A request from the callee at `port` within the (early) dialog its response
/// `ringing` made: From and To swapped, the same Call-ID.
pub fn in_early_dialog(ringing: &Message<'_>, port: u16, method: &str, seq: u32) -> Vec<u8> {
    format!(
        "{method} sip:alice@127.0.0.1:5061 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-{method}-{seq}-{port}\r\n\
         Max-Forwards: 70\r\n\
         From: {to}\r\n\
         To: {from}\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: {seq} {method}\r\n\
         Contact: <sip:bob@127.0.0.1:{port}>\r\n\
         Content-Length: 0\r\n\r\n",
        to = value(ringing, HeaderKind::To),
        from = value(ringing, HeaderKind::From),
        call_id = value(ringing, HeaderKind::CallId),
    )
    .into_bytes()
}

/// The caller's answers to requests of `method`, in order.
pub fn answers(n: &Net, to: usize, method: Method<'_>) -> Vec<u16> {
    n.between(0, to)
        .into_iter()
        .filter(|(_, m)| m.cseq().is_ok_and(|c| c.method() == method))
        .filter_map(|(_, m)| m.status().map(|s| s.as_u16()))
        .collect()
}

/// The requests node 0's host was given, with their methods.
pub fn given(n: &Net) -> Vec<(TxHandle, Option<CallHandle>, String)> {
    n.nodes[0]
        .events
        .iter()
        .filter_map(|e| match e {
            Event::IncomingRequest { tx, call } => {
                let m = n.nodes[0].ep.request(*tx)?;
                Some((*tx, *call, m.method()?.as_str().to_string()))
            }
            _ => None,
        })
        .collect()
}
