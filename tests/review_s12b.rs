//! Review 12b: today's performance rewrites, adversarially, through the public API.
//!
//! Reviewed: the transmit queue holding references to a transaction's stored bytes
//! (d309bee: settled before the bytes change or their slot is reused), the vouched
//! headers of dialogs and the endpoint (7755bd7, 51d384a), the header reader's rewrites
//! (folded lines, the text cache, the start-line fast path, the name hash table), the
//! typed fast paths (trim, `;tag=`, tag words, URI user words), and
//! `SendError::InvalidAddress` / `Framed::Incomplete { total }`.
//!
//! The queue is checked differentially: one scripted run drains `poll_transmit` after
//! every step, the same run again drains it only now and then (so references wait in the
//! queue while slots end, are reused, and get new responses); a queue is FIFO and
//! draining changes nothing else, so both must send the same datagrams in the same order.

use std::net::SocketAddr;

use sansip::Instant;
use sansip::endpoint::{Endpoint, EndpointConfig, Event, Request, Transport, TxHandle};
use sansip::message::{Message, Method, StatusCode};

/// Three transactions, so that slots are reused all the time; a queue deep enough that
/// nothing overflows while it is not drained.
type Small = Endpoint<3, 2, 2048, 256>;

const LOCAL: &str = "127.0.0.1:5062";
const PEER: &str = "127.0.0.1:5070";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// A tiny deterministic generator (xorshift), so that a failing seed replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn peer_request(method: &str, n: usize, transport: &str) -> Vec<u8> {
    let (seq_method, branch) = match method {
        // A CANCEL names the INVITE's branch (§9.1).
        "CANCEL" => ("CANCEL", format!("z9hG4bK-inv{n}")),
        "INVITE" => ("INVITE", format!("z9hG4bK-inv{n}")),
        m => (m, format!("z9hG4bK-{m}{n}")),
    };
    format!(
        "{method} sip:bob@{LOCAL} SIP/2.0\r\n\
         Via: SIP/2.0/{transport} {PEER};branch={branch}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:alice@127.0.0.1>;tag=p{n}\r\n\
         To: <sip:bob@127.0.0.1>\r\n\
         Call-ID: c{n}\r\n\
         CSeq: 1 {seq_method}\r\n\
         Contact: <sip:alice@{PEER}>\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// The scripted peer's response `code` to `request`.
fn peer_response(request: &Message<'_>, code: u16, tag: &str) -> Vec<u8> {
    let b =
        sansip::encode::MessageBuilder::response_to(request, StatusCode::new(code).unwrap(), tag)
            .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = b.encode_into(&mut buf).unwrap();
    buf.truncate(n);
    buf
}

/// Run script `seed` over `transport`, draining the transmit queue after every step when
/// `eager`, else only at a few random steps: every datagram sent, in order.
fn script(seed: u64, transport: Transport, eager: bool) -> Vec<(SocketAddr, Vec<u8>)> {
    let token = match transport {
        Transport::Udp => "UDP",
        _ => "TCP",
    };
    let mut ep: Box<Small> = Box::new(Endpoint::new(EndpointConfig {
        transport,
        ..EndpointConfig::new(addr(LOCAL), 7)
    }));
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    // Draining never depends on `eager` for its own random choices: one stream drives
    // the script, another the lazy drains.
    let mut drains = Rng(seed ^ 0x5555_aaaa_1234_9876 | 1);
    let mut now = Instant::ZERO;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 4096];
    let mut sent_by_peer: Vec<Vec<u8>> = Vec::new();
    let mut invites: Vec<usize> = Vec::new();
    let mut incoming: Vec<TxHandle> = Vec::new();
    let mut outgoing: Vec<TxHandle> = Vec::new();
    let mut drain = |ep: &mut Small, out: &mut Vec<(SocketAddr, Vec<u8>)>| {
        while let Some(t) = ep.poll_transmit(&mut buf).unwrap() {
            out.push((t.destination, t.bytes.to_vec()));
        }
    };
    for n in 0..80 {
        match rng.below(9) {
            0 | 1 => {
                let r = peer_request("OPTIONS", n, token);
                ep.handle_datagram(now, addr(PEER), &r);
                sent_by_peer.push(r);
            }
            2 => {
                let r = peer_request("INVITE", n, token);
                ep.handle_datagram(now, addr(PEER), &r);
                sent_by_peer.push(r);
                invites.push(n);
            }
            3 if !sent_by_peer.is_empty() => {
                // A retransmission: the stored response (or a 100) is sent again.
                let r = sent_by_peer[rng.below(sent_by_peer.len())].clone();
                ep.handle_datagram(now, addr(PEER), &r);
            }
            4 if !incoming.is_empty() => {
                let tx = incoming[rng.below(incoming.len())];
                let code = [180, 183, 200, 404, 486][rng.below(5)];
                let _ = ep.respond(now, tx, StatusCode::new(code).unwrap(), None);
            }
            5 if !invites.is_empty() => {
                let r = peer_request("CANCEL", invites[rng.below(invites.len())], token);
                ep.handle_datagram(now, addr(PEER), &r);
            }
            6 => {
                let req = Request::new(
                    Method::Options,
                    "sip:bob@127.0.0.1:5070",
                    "<sip:alice@127.0.0.1>",
                    "<sip:bob@127.0.0.1>",
                );
                if let Ok(tx) = ep.send_request(now, addr(PEER), &req) {
                    outgoing.push(tx);
                }
            }
            7 if !outgoing.is_empty() => {
                let tx = outgoing[rng.below(outgoing.len())];
                let code = [100, 200, 407, 500][rng.below(4)];
                if let Some(r) = ep.request(tx).map(|m| peer_response(&m, code, "q")) {
                    ep.handle_datagram(now, addr(PEER), &r);
                }
            }
            _ => {
                now = Instant::from_millis(now.as_millis() + [100, 500, 2_000, 40_000][rng.below(4)]);
                while let Some(t) = ep.poll_timeout().filter(|&t| t <= now) {
                    ep.handle_timeout(t);
                    if eager {
                        drain(&mut ep, &mut out);
                    }
                }
            }
        }
        while let Some(e) = ep.poll_event() {
            if let Event::IncomingRequest { tx, .. } = e {
                incoming.push(tx);
            }
        }
        if eager || drains.below(6) == 0 {
            drain(&mut ep, &mut out);
        }
    }
    drain(&mut ep, &mut out);
    assert_eq!(ep.stats().queue_overflows, 0, "seed {seed}");
    out
}

/// d309bee: a datagram queued as a reference to a transaction's stored bytes is sent as
/// it was when queued, whatever happens before the host takes it (the transaction ends,
/// its slot is reused, a new response replaces the stored one, a retransmission timer
/// fires): the same bytes as with the queue drained at once (the old code copied them
/// when queued).
#[test]
fn queued_references_send_the_bytes_they_were_queued_with() {
    for transport in [Transport::Udp, Transport::Tcp] {
        for seed in 1..400 {
            let eager = script(seed, transport, true);
            let lazy = script(seed, transport, false);
            assert_eq!(eager.len(), lazy.len(), "seed {seed} {transport:?}");
            for (i, (a, b)) in eager.iter().zip(&lazy).enumerate() {
                assert!(
                    a == b,
                    "seed {seed} {transport:?} datagram {i}:\n{}\n---\n{}",
                    String::from_utf8_lossy(&a.1),
                    String::from_utf8_lossy(&b.1)
                );
            }
        }
    }
}
