//! # sansip
//!
//! A sans-IO, `no_std` SIP core (RFC 3261): a zero-copy message parser, a writer into
//! caller buffers, and the SIP state machines as pure functions
//! `(state, event) -> (state, actions)`. The crate never opens a socket, reads a clock,
//! draws random numbers or allocates on the hot path; the host supplies bytes, time and
//! randomness and carries out what the crate asks.
//!
//! | layer | what | RFC |
//! |---|---|---|
//! | [`message`] | [`Message`]: zero-copy view, header index, typed views, URIs, stream framing | RFC 3261 §7, §19, §20, §25 |
//! | [`encode`] | [`MessageBuilder`](encode::MessageBuilder) into `&mut [u8]` / `heapless::Vec` / `Vec` | §8.1.1, §8.2.6, §9.1, §17.1.1.3 |
//! | [`check`] | the checks a UA applies first (400, 405, 415, 416, 420, 501, 505; discard) | §8.1.3, §8.2, §18.3 |
//! | [`transaction`] | the four transaction machines, keys, branches | §17, RFC 6026 |
//! | [`dialog`] | dialogs and the INVITE session (forks, CANCEL, re-INVITE, BYE, session timers) | §12–15, RFC 4028 |
//! | [`register`] | a binding's registration: challenge, 423, refresh, removal | §10.2 |
//! | [`subscription`] | a subscriber's subscription: NOTIFY states, refresh, unsubscribe | RFC 6665 §4.1 |
//! | [`reliable`] | reliable provisional responses: RSeq, retransmission until PRACK, PRACK judging | RFC 3262 |
//! | [`notifier`] | a notifier's subscription: answers to SUBSCRIBE, NOTIFYs one at a time, expiry | RFC 6665 §4.2 |
//! | [`auth`] | Digest credentials for a challenge, and their check on a server | §22, RFC 2617, RFC 7616, RFC 8760 |
//! | [`locate`] | what to look up to reach a URI's server (none, A/AAAA, SRV, NAPTR) and in which order to try the answers | RFC 3263 §4, RFC 2782 |
//! | `endpoint` | (feature `endpoint`) all of the above behind `handle_*` / `poll_*` | |
//!
//! # The host run loop
//!
//! With the `endpoint` feature, a host feeds inputs and then drains every output, and
//! sleeps until the next datagram or `Endpoint::poll_timeout`:
//!
//! ```no_run
//! # #[cfg(feature = "endpoint")] {
//! use std::net::UdpSocket;
//! use std::time::{Duration, Instant as Clock};
//! use sansip::endpoint::{Endpoint, EndpointConfig, Event};
//! use sansip::{message::StatusCode, Instant};
//!
//! let socket = UdpSocket::bind("127.0.0.1:5060")?;
//! let mut ep: Box<Endpoint> = Box::new(Endpoint::new(EndpointConfig::new(socket.local_addr()?, 0x5eed)));
//! let start = Clock::now();
//! let now = || Instant::from_millis(start.elapsed().as_millis() as u64);
//! let (mut rx, mut tx) = ([0u8; 65_535], [0u8; 65_535]);
//! loop {
//!     // 1. Input: a datagram, waiting no longer than the next timer; then the timers
//!     //    due, every round (calling early does nothing), or a steady stream of
//!     //    datagrams would hold back retransmissions and timeouts.
//!     let wait = ep.poll_timeout().map_or(Duration::from_secs(1), |t| t.saturating_duration_since(now()));
//!     socket.set_read_timeout(Some(wait.max(Duration::from_millis(1))))?;
//!     if let Ok((n, from)) = socket.recv_from(&mut rx) {
//!         ep.handle_datagram(now(), from, &rx[..n]);
//!     }
//!     ep.handle_timeout(now());
//!     // 2. Events, the host's commands given as it handles them.
//!     while let Some(event) = ep.poll_event() {
//!         if let Event::IncomingRequest { tx, .. } = event {
//!             ep.respond(now(), tx, StatusCode::OK, None)?;
//!         }
//!     }
//!     // 3. Output: what the inputs and those commands queued, before sleeping again
//!     //    (drained before the events, the 200 would wait for the next wake-up).
//!     while let Some(t) = ep.poll_transmit(&mut tx)? {
//!         socket.send_to(t.bytes, t.destination)?;
//!     }
//! }
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Without the endpoint, the same shape applies one layer down: feed a transaction
//! machine an event, carry out its [`Action`](transaction::Action)s, map its timers to
//! deadlines (see [`transaction`]).
//!
//! # Features
//!
//! `std` (default), `alloc`, `endpoint` (default), `defmt` and/or `log` (with both on,
//! messages go to `log`), `arbitrary` (events and inputs for fuzzing and property tests). The library builds with
//! `--no-default-features` for `thumbv7em-none-eabihf`, with no heap.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

#[macro_use]
mod fmt;
pub mod auth;
pub mod check;
#[cfg(test)]
mod corpus_inputs;
pub mod dialog;
pub mod encode;
#[cfg(feature = "endpoint")]
pub mod endpoint;
pub mod error;
pub mod locate;
pub mod message;
pub mod notifier;
pub mod register;
pub mod reliable;
pub mod subscription;
pub mod time;
pub mod transaction;

pub use error::{Capacity, ParseError, ParseErrorKind};
pub use message::{Message, Method, StatusCode};
pub use time::{Duration, Instant};
