//! The aggregating layer (feature `endpoint`): transactions, dialogs and INVITE sessions
//! behind one quinn-proto-style API, over bounded storage sized by const generics.
//!
//! The [`Endpoint`] never touches a socket or a clock. The host feeds it what arrives
//! ([`Endpoint::handle_datagram`]) and the time ([`Endpoint::handle_timeout`]), gives
//! commands ([`Endpoint::invite`], [`Endpoint::respond`], [`Endpoint::hangup`], ...), and
//! after every input drains the outputs: [`Endpoint::poll_transmit`] (bytes and where to
//! send them), [`Endpoint::poll_event`] (what happened) and [`Endpoint::poll_timeout`]
//! (when to call `handle_timeout` next).
//!
//! What it does on its own, as RFC 3261 asks:
//! - matches requests and responses to transactions (§17.1.3, §17.2.3, with the RFC 2543
//!   fallback), retransmits and absorbs retransmissions (§17), stores the bytes that
//!   need resending;
//! - sends 100 Trying for an INVITE the host has not answered within 200 ms (§17.2.1);
//! - applies the request checks of [`check`] and answers 400, 405, 415,
//!   416, 420, 501, 505 itself; 481 for requests outside any dialog or transaction
//!   (§12.2.2, §9.2), 482 for merged requests (§8.2.2.2), 500 for an out-of-order CSeq
//!   (§12.2.2), 503 when a table is full (with an [`Event::Capacity`] to the host);
//! - adds `received` and fills `rport` in the top Via of requests it answers and sends
//!   responses where §18.2.2 and RFC 3581 say;
//! - runs the INVITE session (§13–15): ACKs every 2xx, BYEs extra forks, defers CANCEL
//!   until a provisional arrives, retransmits its own 2xx until the ACK and hangs up
//!   when none comes; re-INVITEs both ways ([`Endpoint::reinvite`],
//!   [`Endpoint::reinvite_without_offer`]), with 491 on glare and the §14.1 back-off;
//!   late offers (RFC 3264 §4) both ways, the ACK carrying the answer
//!   ([`Endpoint::ack_with_answer`], [`Event::AnswerReceived`]);
//! - with `100rel` among the extensions of [`EndpointConfig::capabilities`], reliable
//!   provisional responses (RFC 3262, [`reliable`]): INVITEs with an offer say
//!   `Supported: 100rel` (not those without: the answer to an offer in a reliable
//!   provisional response would go in the PRACK, §5, and the endpoint writes none, so a
//!   host should not add the header to them itself); a caller PRACKs the reliable provisional responses of each early
//!   dialog once and in order; a callee whose INVITE (or re-INVITE) requires or supports
//!   `100rel` sends its 1xx (not 100) with `Require: 100rel` and an RSeq, retransmits each
//!   until its PRACK (answered 200, [`Event::ProvisionalAcknowledged`], a body in it
//!   reported as [`Event::AnswerReceived`]; 481 for one that acknowledges nothing),
//!   refuses a second one, a 100 or a 2xx over an unacknowledged offer
//!   ([`SendError::InvalidState`]), and rejects the INVITE with 500 when no PRACK comes
//!   within 64*T1;
//! - with [`EndpointConfig::session_timer`], session timers (RFC 4028): its requests say
//!   `Supported: timer`, and INVITEs and re-INVITEs ask for a session interval
//!   (Session-Expires, Min-SE, §7.1, §7.4); the 2xx to an INVITE, re-INVITE or UPDATE
//!   carries the negotiated one (and `Require: timer` when the caller supports it, §9),
//!   one asking for less than Min-SE gets 422 (§6), and a call's INVITE or re-INVITE
//!   refused so goes again once asking for more (§7.4); the refresher sends a re-INVITE
//!   without an offer at half the interval (its 2xx's offer is answered in the ACK,
//!   [`Event::AnswerNeeded`]), the other side sends BYE when no refresh comes
//!   ([`dialog::EndReason::SessionExpired`], §10);
//! - answers Digest challenges (§22) to the calls it places and its subscriptions when
//!   given credentials ([`Request::credentials`], [`Subscribe::credentials`]): the
//!   request goes again with `Authorization` / `Proxy-Authorization`, the call or
//!   subscription goes on ([`Event::Reoriginated`]);
//! - keeps registrations (§10.2, [`Endpoint::register`]): answers Digest challenges
//!   (§22, [`auth`](crate::auth)), follows a 423's `Min-Expires`, refreshes the binding
//!   before it expires and removes it on request;
//! - keeps subscriptions as their subscriber (RFC 6665 §4.1, [`Endpoint::subscribe`]):
//!   routes NOTIFYs to them, follows `Subscription-State`, refreshes and unsubscribes,
//!   and keeps one per notifier when a SUBSCRIBE forks if asked (§4.1.2.4);
//! - serves subscriptions as their notifier (RFC 6665 §4.2,
//!   [`Endpoint::accept_subscription`]): answers refreshes and `Expires: 0` in the
//!   dialog, sends the NOTIFYs one at a time, ends them on expiry.
//!
//! Time is [`Instant`] (milliseconds chosen by the host); randomness (tags, branches,
//! Call-IDs) comes from [`EndpointConfig::seed`] and [`Endpoint::add_entropy`]: the same
//! inputs give the same outputs.
//!
//! # Capacity
//!
//! `TX` bounds the transactions in progress; a UDP server also keeps every finished
//! server transaction for 64*T1 (Timer J, RFC 3261 §17.2.2; Timer L, RFC 6026 §7.1) to
//! absorb retransmissions, and a caller keeps each answered INVITE for 64*T1 (Timer M,
//! RFC 6026 §7.2) to take 2xx responses of other forks, so a table alone sustains about
//! `TX / 64*T1` calls per second. With the `alloc` feature,
//! [`EndpointConfig::linger_records`] and [`EndpointConfig::linger_bytes`] move those
//! finished transactions out of the table into compact records (keys and last response,
//! or a caller's INVITE) that still answer retransmissions, detect merged requests, find
//! the INVITE of a late CANCEL and ACK and BYE a late fork's 2xx:
//!
//! ```
//! use sansip::endpoint::{Endpoint, EndpointConfig};
//! // Room for 16,000 calls/s at T1 = 500 ms: two records per call for 32 s.
//! let config = EndpointConfig {
//!     linger_records: 1_100_000,
//!     linger_bytes: 768 << 20,
//!     ..EndpointConfig::new("127.0.0.1:5060".parse()?, 42)
//! };
//! # let config = EndpointConfig { linger_records: 1_000, linger_bytes: 1 << 20, ..config };
//! let ep: Box<Endpoint<64, 32, 1500>> = Box::new(Endpoint::new(config));
//! assert_eq!(ep.lingering_count(), 0);
//! # Ok::<(), core::net::AddrParseError>(())
//! ```
//!
//! # Call transfer
//!
//! REFER (RFC 3515) and the NOTIFYs of its implicit subscription are requests within the
//! call's dialog, which the endpoint routes, checks and answers like any other; the
//! transfer itself is the host's. The transferor sends REFER with `Refer-To`
//! ([`Endpoint::request_in_call`]) and answers the NOTIFYs that follow; the transferee
//! answers the REFER ([`Event::IncomingRequest`] within the call) with 202, places the new
//! call ([`Endpoint::invite`]) and reports its progress in NOTIFYs with `Event: refer` and
//! a `message/sipfrag` body, which both sides list in
//! [`Capabilities::body_types`](crate::check::Capabilities). `tests/transfer.rs` runs a
//! blind transfer between three endpoints this way.
//!
//! In-dialog requests go to the address in the first route or the remote target when
//! that is an IP literal; otherwise to the address the dialog was set up with (name
//! resolution is the host's job: [`crate::locate`] says what to look up, RFC 3263).
//!
//! # Host run loop
//!
//! ```no_run
//! use std::net::UdpSocket;
//! use std::time::{Duration, Instant as StdInstant};
//! use sansip::endpoint::{Endpoint, EndpointConfig, Event};
//! use sansip::Instant;
//!
//! let socket = UdpSocket::bind("127.0.0.1:5060")?;
//! let mut ep: Box<Endpoint> = Box::new(Endpoint::new(EndpointConfig::new(socket.local_addr()?, 42)));
//! let start = StdInstant::now();
//! let now = || Instant::from_millis(start.elapsed().as_millis() as u64);
//! let (mut rx, mut tx) = ([0u8; 65_535], [0u8; 65_535]);
//! loop {
//!     // Sleep until a datagram arrives or the next timer is due; run the timers due
//!     // every round (early does nothing), so a stream of datagrams cannot hold them back.
//!     let wait = ep.poll_timeout().map(|t| t.saturating_duration_since(now()));
//!     socket.set_read_timeout(Some(wait.unwrap_or(Duration::from_secs(1)).max(Duration::from_millis(1))))?;
//!     if let Ok((n, from)) = socket.recv_from(&mut rx) {
//!         ep.handle_datagram(now(), from, &rx[..n]);
//!     }
//!     ep.handle_timeout(now());
//!     // Drain the events, then the transmits: commands given while handling an event
//!     // (this 200) queue datagrams that go out in the same round.
//!     while let Some(event) = ep.poll_event() {
//!         if let Event::IncomingRequest { tx, .. } = event {
//!             ep.respond(now(), tx, sansip::message::StatusCode::OK, None)?;
//!         }
//!     }
//!     while let Some(t) = ep.poll_transmit(&mut tx)? {
//!         socket.send_to(t.bytes, t.destination)?;
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod digest;
mod linger;
mod notifier;
mod registration;
mod sdp;
mod subscription;
mod table;
mod unkept;

pub use digest::{DigestCredentials, MAX_CREDENTIAL, MAX_REALMS};
pub use notifier::{Accept, DEFAULT_MIN_EXPIRES, MAX_NOTIFIERS, NotifierHandle};
pub use registration::{Binding, MAX_REGISTRATION_TEXT, MAX_REGISTRATIONS, RegistrationHandle};
pub use subscription::{MAX_EVENT, MAX_SUBSCRIPTIONS, Subscribe, SubscriptionHandle};

use core::fmt::{self, Write as _};
use core::net::{IpAddr, SocketAddr};

use heapless::{Deque, String, Vec};

use crate::check::{self, Capabilities, CoreHeaders, Verdict};
use crate::dialog::{self, Dialog, InviteSession, Notice, RequestKind, Sdp, SessionTimer, Tag};
use crate::encode::derive::crlf_framed;
use crate::encode::{BufferTooSmall, EncodeError, MessageBuilder, Value, ViaValue, text};
use crate::error::Capacity;
use crate::message::{Detached, HeaderKind, Host, Limits, Message, Method, Rport, StatusCode, lex};
use crate::reliable;
use crate::time::Instant;
use crate::transaction::{
    self, Action, ClientInvite, ClientKey, ClientNonInvite, MergeKey, Reliability, ServerInvite,
    ServerNonInvite, TimerId, TuSignal, client_invite, client_non_invite, key::RequestKey,
    server_invite, server_non_invite,
};

use digest::{Auth, CallAuths};
use linger::Linger;
use table::{
    ChainIndex, DeadlineHeap, HashKey, Queued, RawHandle, Table, Timers, TransmitQueue, TxBuf,
    hash_of,
};

/// Most events queued between two drains.
pub const EVENT_QUEUE: usize = 64;
/// Due timers fired per round of `handle_timeout` (more are taken in later rounds).
const TIMER_BATCH: usize = 64;
/// Room `handle_timeout` keeps in the event queue for the events one timer raises (a
/// timeout, a call's end, a retry, ...) before it fires the next one.
const STEP_EVENTS: usize = 4;
/// Most extra headers a host adds to one response or in-dialog request.
pub const MAX_EXTRA_HEADERS: usize = 8;
/// Longest extra header name (bytes).
pub const MAX_HEADER_NAME: usize = 32;
/// Longest extra header value (bytes).
pub const MAX_HEADER_VALUE: usize = 256;
/// Longest Content-Type (bytes).
const MAX_CONTENT_TYPE: usize = 64;

/// Largest error response the endpoint writes on its own (it copies the request's Via,
/// From, To, Call-ID and CSeq; 8 KiB holds any request within the default limits).
const MAX_REJECTION: usize = 8192;
/// Capacity for a Via value the endpoint writes or rewrites.
const MAX_VIA: usize = 256;
/// Capacity for short generated strings (tags, Call-IDs, Contact).
const MAX_SHORT: usize = 96;
/// Room for this endpoint's Contact value: `<sip:` user `@` sent-by transport `>`.
const MAX_CONTACT: usize = 192;

/// Settings of an [`Endpoint`].
#[derive(Clone, Copy, Debug)]
pub struct EndpointConfig {
    /// The address written in Via sent-by and Contact (where peers reach this endpoint).
    /// Not the unspecified address of a socket bound to every interface (`0.0.0.0`,
    /// `[::]`), which the endpoint would write as it is and no peer can reach: give the
    /// interface's address, or the public one a NAT maps this endpoint to.
    pub local: SocketAddr,
    /// Transaction timers T1, T2, T4 (RFC 3261 §17).
    pub timers: transaction::Config,
    /// Parser limits for received messages.
    pub limits: Limits,
    /// What this UA supports (the §8.2 checks; [`Capabilities::DEFAULT`] by default).
    /// The endpoint answers a request outside it itself, and the host never sees it:
    /// 405 or 501 for a method, 416 for a scheme, 420 for a `Require`, 415 for a body
    /// type. The default takes `application/sdp` and `multipart/mixed` bodies only, so a
    /// host that reads others (MESSAGE's `text/plain`, INFO's `application/dtmf-relay`,
    /// an event package's NOTIFY bodies) lists them:
    ///
    /// ```
    /// use sansip::check::Capabilities;
    /// use sansip::endpoint::EndpointConfig;
    ///
    /// let config = EndpointConfig {
    ///     capabilities: Capabilities {
    ///         body_types: &["application/sdp", "multipart/mixed", "text/plain"],
    ///         ..Capabilities::DEFAULT
    ///     },
    ///     ..EndpointConfig::new("192.0.2.1:5060".parse()?, 7)
    /// };
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub capabilities: Capabilities<'static>,
    /// User part of the Contact URI.
    pub contact_user: &'static str,
    /// User-Agent header value, if any.
    pub user_agent: Option<&'static str>,
    /// How long a placed call may stay in Proceeding without a final response before the
    /// endpoint gives up and CANCELs it (the UAC counterpart of the proxy's Timer C,
    /// RFC 3261 §16.6: more than 3 minutes).
    pub provisional_guard: core::time::Duration,
    /// The transport this endpoint's host runs (one per endpoint). It sets the Via
    /// transport, the Contact's `transport` parameter, the timers (retransmissions only on
    /// UDP; D, I, J and K are zero on the others, RFC 3261 §17) and where responses go
    /// (§18.2.2: back to the connection a request came on).
    pub transport: Transport,
    /// Session timers (RFC 4028), off (`None`) by default. When on:
    /// - `timer` counts among the extensions of [`capabilities`](Self::capabilities): a
    ///   `Require: timer` is accepted (a list of more than 15 extensions must name it
    ///   itself);
    /// - every request but ACK and CANCEL says `Supported: timer`; INVITEs and
    ///   re-INVITEs carry Session-Expires and Min-SE (§7.1, §7.4);
    /// - the 2xx to an INVITE, re-INVITE or UPDATE carries the negotiated
    ///   Session-Expires, with `Require: timer` when the caller supports it (§9); a
    ///   request asking for less than Min-SE gets 422 (§6), and a call's INVITE or
    ///   re-INVITE (a refresh, or the host's) refused so goes again once with the larger
    ///   interval (§7.4);
    /// - the negotiated timer runs: this side refreshes at half the interval with a
    ///   re-INVITE, or sends BYE when the peer's refresh does not come
    ///   ([`dialog::EndReason::SessionExpired`], §10); a 2xx with Session-Expires to an
    ///   UPDATE this side sent in the call restarts it too (§7.2), the refresher included.
    ///
    /// The endpoint writes Session-Expires, Min-SE and `Supported`/`Require: timer`
    /// itself: a host adds none of them.
    pub session_timer: Option<dialog::TimerConfig>,
    /// How registrations try again after a failure that may pass (no answer, 408, 480,
    /// most 5xx): `None` (the default) ends the registration with
    /// [`Event::RegistrationFailed`], and registering again is the host's policy;
    /// [`Retry::RFC5626`](crate::register::Retry::RFC5626) registers again with RFC 5626 §4.5's back-off
    /// ([`Event::RegistrationRetrying`]) until the host unregisters.
    pub registration_retry: Option<crate::register::Retry>,
    /// Seed of the generator for tags, branches and Call-IDs (a keyed PRF) and of the
    /// key of the endpoint's hash indexes. Give real entropy in production: tags and
    /// branches must be unguessable (RFC 3261 §19.3), and a peer that knows the key can
    /// choose keys that collide in the indexes. [`Endpoint::add_entropy`] adds more.
    pub seed: u64,
    /// Most finished transactions kept as compact records while they wait out Timer J
    /// or Timer L (server, 64*T1, RFC 3261 §17.2.2, RFC 6026 §7.1), Timer M (a call's
    /// INVITE answered 2xx, 64*T1, RFC 6026 §7.2; a re-INVITE once the host has drained
    /// [`Endpoint::poll_event`] after its 2xx), Timer D (an INVITE refused, 32 s over
    /// UDP, §17.1.1.2: the record keeps the ACK, sent again for a retransmitted final
    /// response) or Timer K (a non-INVITE request answered, T4, §17.1.2.2: a call's BYE or
    /// PRACK at once, the host's own requests and refused INVITEs once it has drained
    /// [`Endpoint::poll_event`] after the response) instead of as full entries of the `TX`
    /// table; 0 (the default) keeps them all in the table. A loaded UDP server needs
    /// about `2 * 64*T1 * calls per second` (1,024,000 for 16,000 calls/s at T1 =
    /// 500 ms), a caller one per call for 64*T1. Allocated once by [`Endpoint::new`].
    /// The handle of a transaction that became a record stops resolving
    /// ([`Endpoint::request`] and [`Endpoint::response`] give `None`; a call's 2xx stays
    /// readable with [`Endpoint::call_answer`]), as it would at the end of its timer, and
    /// the 2xx responses a lingering INVITE still takes (retransmissions, other forks) are
    /// ACKed and BYEd as before but raise no [`Event::Response`].
    #[cfg(feature = "alloc")]
    pub linger_records: usize,
    /// Bytes for those records: each holds the transaction's keys (about 150 bytes) and,
    /// for a non-INVITE server transaction, its final response; for a call's INVITE, the
    /// INVITE (2xx responses of other forks are ACKed and BYEd from it). A record that
    /// finds no room leaves its transaction in the table.
    #[cfg(feature = "alloc")]
    pub linger_bytes: usize,
}

/// The transport an endpoint's host runs. With a stream transport the host frames
/// messages itself ([`Message::parse_stream`](crate::message::Message::parse_stream)) and
/// hands each one to [`Endpoint::handle_datagram`], with the connection's peer address
/// as `from`; transmits go back to that address, which the host maps to the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Transport {
    /// UDP (RFC 3261 §18): unreliable, the endpoint retransmits.
    Udp,
    /// TCP (RFC 3261 §18).
    Tcp,
    /// TLS over TCP (RFC 3261 §26.2).
    Tls,
    /// WebSocket (RFC 7118).
    Ws,
    /// Secure WebSocket (RFC 7118).
    Wss,
}

impl Transport {
    /// The Via transport token (RFC 3261 §20.42, RFC 7118 §5).
    pub const fn via_token(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
            Transport::Ws => "WS",
            Transport::Wss => "WSS",
        }
    }

    /// The transaction layer's view: only UDP is unreliable.
    pub const fn reliability(self) -> Reliability {
        match self {
            Transport::Udp => Reliability::Unreliable,
            _ => Reliability::Reliable,
        }
    }

    /// The Contact URI `transport` parameter, if one is needed (UDP is the default).
    /// WebSocket has one value for both, `ws` (RFC 7118 §5.2, §10): whether it is secure
    /// is the Via's and the connection's business.
    const fn uri_param(self) -> &'static str {
        match self {
            Transport::Udp => "",
            Transport::Tcp => ";transport=tcp",
            Transport::Tls => ";transport=tls",
            Transport::Ws | Transport::Wss => ";transport=ws",
        }
    }
}

impl EndpointConfig {
    /// Defaults: RFC timers, default limits and capabilities, Contact user `sansip`.
    pub fn new(local: SocketAddr, seed: u64) -> Self {
        EndpointConfig {
            local,
            timers: transaction::Config::default(),
            limits: Limits::default(),
            capabilities: Capabilities::DEFAULT,
            contact_user: "sansip",
            user_agent: Some("sansip"),
            provisional_guard: core::time::Duration::from_secs(181),
            transport: Transport::Udp,
            session_timer: None,
            registration_retry: None,
            seed,
            #[cfg(feature = "alloc")]
            linger_records: 0,
            #[cfg(feature = "alloc")]
            linger_bytes: 0,
        }
    }
}

/// A transaction of this endpoint. Generation-checked: a handle to a finished
/// transaction stops resolving.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TxHandle(RawHandle);

/// A call (INVITE session) of this endpoint. Generation-checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CallHandle(RawHandle);

/// What happened, for the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Event {
    /// A new request (not a retransmission) passed the checks. Read it with
    /// [`Endpoint::request`] (where it came from: [`Endpoint::peer`]) and answer with
    /// [`Endpoint::respond`]. `call` is set for an
    /// INVITE (a new call, or a re-INVITE) and for requests within a call's dialog.
    ///
    /// Give every one a final response: no timer ends a server transaction before it
    /// has one (RFC 3261 §17.2), so a request left unanswered keeps its slot of the
    /// `TX` table (and a full table answers new requests 503). The endpoint answers
    /// retransmissions, and for an INVITE sends 100 Trying if the host has not
    /// responded within 200 ms (§17.2.1); the caller's CANCEL then ends it with 487
    /// ([`Event::CallTerminated`] with [`EndReason::Cancelled`](dialog::EndReason::Cancelled)).
    IncomingRequest {
        /// The server transaction.
        tx: TxHandle,
        /// The call it belongs to.
        call: Option<CallHandle>,
    },
    /// A response to a request this endpoint sent (provisional and final; for an
    /// INVITE, every 2xx including other forks', RFC 6026). Read it (headers, body)
    /// with [`Endpoint::response`] while handling the event: a final response stays
    /// readable at least until `poll_event` has been drained. A call's answer (the 2xx
    /// body) stays readable as long as the call with [`Endpoint::call_answer`].
    Response {
        /// The client transaction.
        tx: TxHandle,
        /// The call, for an INVITE or an in-dialog request.
        call: Option<CallHandle>,
        /// The status code.
        status: StatusCode,
    },
    /// A client transaction got no final response in time (Timer B or F: treat as 408,
    /// RFC 3261 §8.1.3.1), or a server transaction waited in vain for an ACK (Timer H).
    /// Over UDP that is 64*T1 (32 s with the default T1) after the request was sent,
    /// the request retransmitted meanwhile (Timer A or E); for a call's INVITE,
    /// [`Event::CallTerminated`] with [`EndReason::TimedOut`](dialog::EndReason::TimedOut) follows.
    TimedOut {
        /// The transaction.
        tx: TxHandle,
    },
    /// The host reported that sending for this transaction failed
    /// ([`Endpoint::handle_send_error`]; RFC 3261 §17.1.4, §17.2.4: treat as 503).
    TransportError {
        /// The transaction.
        tx: TxHandle,
    },
    /// The call is up: the 2xx was ACKed (UAC) or the ACK arrived (UAS).
    CallEstablished {
        /// The call.
        call: CallHandle,
    },
    /// The call is over; its handle no longer resolves.
    CallTerminated {
        /// The call.
        call: CallHandle,
        /// Why.
        reason: dialog::EndReason,
    },
    /// A table or queue was full: the peer got a 503 or the output was dropped.
    Capacity(Capacity),
    /// A registration's binding exists for `expires` seconds (its first 2xx, and every
    /// refresh; [`Endpoint::register`]).
    Registered {
        /// The registration.
        reg: RegistrationHandle,
        /// Seconds the registrar granted.
        expires: u32,
    },
    /// A registration's binding was removed ([`Endpoint::unregister`]); the handle no
    /// longer resolves.
    Unregistered {
        /// The registration.
        reg: RegistrationHandle,
    },
    /// A registration failed with this final response (408 when no response came, 401
    /// or 407 when the credentials were refused); the handle no longer resolves.
    RegistrationFailed {
        /// The registration.
        reg: RegistrationHandle,
        /// The status that ended it.
        status: StatusCode,
    },
    /// A registration's REGISTER failed in a way that may pass (no answer, 408, 480,
    /// most 5xx) and, with [`EndpointConfig::registration_retry`], the registration goes
    /// on: the next REGISTER goes after `after` ([`Retry`](crate::register::Retry), RFC 5626 §4.5). A
    /// binding an earlier 2xx made may still exist; [`Event::Registered`] follows the
    /// next success.
    RegistrationRetrying {
        /// The registration.
        reg: RegistrationHandle,
        /// The response that failed (408 when none came).
        status: StatusCode,
        /// The wait before the next REGISTER.
        after: core::time::Duration,
    },
    /// A NOTIFY of a subscription ([`Endpoint::subscribe`]): read it with
    /// [`Endpoint::request`] (its body is the state the package defines) and answer it
    /// with [`Endpoint::respond`] (200, RFC 6665 §4.1.3).
    Notify {
        /// The subscription.
        sub: SubscriptionHandle,
        /// The NOTIFY's server transaction.
        tx: TxHandle,
    },
    /// A subscription is active for `expires` seconds (its first `active` NOTIFY).
    SubscriptionActive {
        /// The subscription.
        sub: SubscriptionHandle,
        /// Seconds left.
        expires: u32,
    },
    /// The notifier holds a subscription pending (its first `pending` NOTIFY).
    SubscriptionPending {
        /// The subscription.
        sub: SubscriptionHandle,
    },
    /// The SUBSCRIBE of subscription `of` forked and another notifier installed a
    /// subscription too (RFC 6665 §4.1.2.4; [`Subscribe::forks`]): `sub` is that one, with
    /// its own dialog. The NOTIFY that made it follows as [`Event::Notify`] for `sub`;
    /// end it with [`Endpoint::unsubscribe`] if one notifier is enough.
    SubscriptionForked {
        /// The new subscription.
        sub: SubscriptionHandle,
        /// The subscription whose SUBSCRIBE forked.
        of: SubscriptionHandle,
    },
    /// A subscription ended; the handle no longer resolves.
    SubscriptionTerminated {
        /// The subscription.
        sub: SubscriptionHandle,
        /// Why.
        reason: crate::subscription::Ended,
    },
    /// UAC, late offer: the 2xx to an INVITE without a body carried the offer, so the
    /// ACK must carry the answer (RFC 3261 §13.2.1, RFC 3264 §4). Read the offer with
    /// [`Endpoint::call_answer`] and give the answer with [`Endpoint::ack_with_answer`];
    /// the ACK waits until then (the callee retransmits its 2xx meanwhile).
    AnswerNeeded {
        /// The call.
        call: CallHandle,
    },
    /// UAS: an ACK carried a body, the answer to the offer this side put in its 2xx
    /// (late offer, RFC 3264 §4), or a PRACK did (the answer to an offer in a reliable
    /// provisional response, or a new offer, RFC 3262 §5). Read it with
    /// [`Endpoint::call_answer`].
    AnswerReceived {
        /// The call.
        call: CallHandle,
    },
    /// The back-off after a 491 to this side's re-INVITE is over (RFC 3261 §14.1): send
    /// it again with [`Endpoint::reinvite`] if it is still wanted.
    RetryReInvite {
        /// The call.
        call: CallHandle,
    },
    /// A PRACK acknowledged the reliable provisional response numbered `rseq` of this
    /// call (RFC 3262 §3); the endpoint answered it 200. A 2xx held back because that
    /// response carried an offer can be sent now.
    ProvisionalAcknowledged {
        /// The call.
        call: CallHandle,
        /// The RSeq acknowledged.
        rseq: u32,
    },
    /// A request of a call placed with [`Request::credentials`] (its INVITE, a
    /// re-INVITE, a BYE, a [`request_in_call`](Endpoint::request_in_call)) or of a
    /// subscription with [`Subscribe::credentials`] got a 401 or 407 and was sent again
    /// with Digest credentials (RFC 3261 §8.1.3.5, §22.2, §22.3): same Call-ID, From tag
    /// and body, the CSeq one higher, a new branch. `retry` is its new client
    /// transaction; the call or subscription goes on (a call keeps its handle and
    /// state). The 401/407 came just before as an [`Event::Response`] of `tx`. With
    /// [`EndpointConfig::session_timer`], also a call's INVITE or re-INVITE refused with
    /// 422 and a larger Min-SE, sent again once asking for that interval (RFC 4028 §7.4;
    /// a re-INVITE with the dialog's next CSeq number).
    Reoriginated {
        /// The challenged request's client transaction.
        tx: TxHandle,
        /// The client transaction of the request sent again.
        retry: TxHandle,
    },
    /// The subscriber refreshed a subscription this endpoint serves
    /// ([`Endpoint::accept_subscription`]) for `expires` seconds; the endpoint answered
    /// and sent the NOTIFY that follows (RFC 6665 §4.2.1.2).
    NotifierRefreshed {
        /// The subscription.
        notifier: NotifierHandle,
        /// Seconds granted.
        expires: u32,
    },
    /// A subscription this endpoint serves is over (its last NOTIFY answered, or the
    /// subscriber gone); the handle no longer resolves.
    NotifierTerminated {
        /// The subscription.
        notifier: NotifierHandle,
        /// Why.
        reason: crate::notifier::Ended,
    },
}

/// One datagram to send.
#[derive(Debug, PartialEq, Eq)]
pub struct Transmit<'b> {
    /// Where to send it.
    pub destination: SocketAddr,
    /// The bytes, in the caller's buffer.
    pub bytes: &'b [u8],
}

/// Why a command failed. Nothing was sent and nothing changed, unless the variant says
/// otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SendError {
    /// A table is full.
    Capacity(Capacity),
    /// The handle does not resolve (finished, or never existed).
    UnknownHandle,
    /// The command does not fit the transaction or call state (e.g. a 1xx after a
    /// final response, a CANCEL after the call was answered).
    InvalidState,
    /// The message could not be written (too big for the slot, injection, ...).
    Encode(EncodeError),
    /// The SUBSCRIBE asked for a shorter subscription than the minimum: the endpoint
    /// answered it 423 with `Min-Expires` (RFC 6665 §4.2.1.1); nothing else was kept.
    IntervalTooBrief {
        /// The minimum, seconds.
        min_expires: u32,
    },
    /// The host's extra header number `index` (0-based, in the list the command was
    /// given) is one the endpoint writes itself in every message: Via, From, To,
    /// Call-ID, CSeq, Max-Forwards, Content-Type or Content-Length (compact forms too).
    /// A second one would make a message the peer refuses (400); give From and To,
    /// Call-ID and CSeq through [`Request`]'s fields and the Content-Type with the body.
    ReservedHeader {
        /// Position of the header in the host's list.
        index: usize,
    },
    /// The request's From or To (`header`) is not a name-addr or addr-spec (RFC 3261
    /// §20.10, §25.1), or carries a `tag` parameter it must not: the endpoint writes the
    /// From tag itself (§8.1.1.3; give the host's own as [`Request::from_tag`]), and a
    /// request outside a dialog has no To tag (§8.1.1.2) unless the host gives its
    /// Call-ID too. Sent as given, the peer would answer 400, or see two From tags.
    InvalidAddress {
        /// [`HeaderKind::From`] or [`HeaderKind::To`].
        header: HeaderKind,
    },
}

impl From<EncodeError> for SendError {
    fn from(e: EncodeError) -> Self {
        SendError::Encode(e)
    }
}

impl From<Capacity> for SendError {
    fn from(c: Capacity) -> Self {
        SendError::Capacity(c)
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Capacity(c) => write!(f, "capacity: {c}"),
            SendError::UnknownHandle => f.write_str("unknown or finished handle"),
            SendError::InvalidState => f.write_str("command does not fit the current state"),
            SendError::Encode(e) => write!(f, "cannot write the message: {e}"),
            SendError::IntervalTooBrief { min_expires } => {
                write!(
                    f,
                    "interval too brief (answered 423, Min-Expires {min_expires})"
                )
            }
            SendError::InvalidAddress { header } => write!(
                f,
                "the request's {} is not a name-addr or addr-spec, or has a tag it must not",
                header.as_str()
            ),
            SendError::ReservedHeader { index } => write!(
                f,
                "extra header {index} is one the endpoint writes itself (Via, From, To, \
                 Call-ID, CSeq, Max-Forwards, Content-Type, Content-Length)"
            ),
        }
    }
}

impl core::error::Error for SendError {}

/// A request to start: what the host chooses; the endpoint adds Via, tags, Call-ID,
/// CSeq, Max-Forwards, Contact and Content-Length.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The method.
    pub method: Method<'a>,
    /// The Request-URI, with its scheme: `sip:bob@example.com`, not `bob@example.com`
    /// (refused, [`EncodeError::InvalidStartLine`]). Where the request goes is the
    /// `to` address of the command, not this URI (resolving it is the host's,
    /// [`crate::locate`]).
    pub uri: &'a str,
    /// The From value without tag, e.g. `"Alice" <sip:alice@example.com>`.
    pub from: &'a str,
    /// The To value, e.g. `<sip:bob@example.com>`.
    pub to: &'a str,
    /// More headers, written as given after the endpoint's. Not those the endpoint
    /// writes itself (Via, From, To, Call-ID, CSeq, Max-Forwards, Content-Type,
    /// Content-Length: [`SendError::ReservedHeader`]); a Contact only on a method the
    /// endpoint writes none for (it writes one on INVITE, SUBSCRIBE, REGISTER and REFER).
    pub headers: &'a [(&'a str, &'a str)],
    /// A body and its Content-Type.
    pub body: Option<(&'a str, &'a [u8])>,
    /// The Call-ID to use again, `None` for a fresh one. A request retried with
    /// credentials after a 401 or 407 keeps the Call-ID and From tag of the first
    /// (RFC 3261 §8.1.3.5, §22.2), and a UA sends all its REGISTERs to one registrar
    /// with one Call-ID (§10.2). One that is not a Call-ID (`word [@ word]`, §25.1) is
    /// refused with [`SendError::InvalidState`].
    pub call_id: Option<&'a str>,
    /// The From tag to use again (a token of at most [`dialog::MAX_TAG`] bytes), `None`
    /// for a fresh one.
    pub from_tag: Option<&'a str>,
    /// The CSeq number: 1 for a new Call-ID, one more than the last request's when the
    /// Call-ID is used again (§8.1.3.5, §10.2.4). Below 2^31 (§8.1.1.5).
    pub cseq: u32,
    /// For a call ([`Endpoint::invite`]): the user's Digest credentials, `None` for
    /// none. When the INVITE, or a later request of the call (re-INVITE, BYE,
    /// [`request_in_call`](Endpoint::request_in_call)), gets a 401 or 407, the endpoint
    /// sends it again with `Authorization` / `Proxy-Authorization` answering the
    /// challenges (RFC 3261 §22.2, §22.3; both kinds when both arrive, a proxy's and
    /// then the UAS's in turn) and the call goes on ([`Event::Reoriginated`]). Later
    /// requests of the call carry the answers to the last challenge of each kind (§22.3),
    /// the ACK of a 2xx those of its INVITE (§22.1), a CANCEL none (§22.1). Each
    /// challenge is answered once: a realm that challenges again the credentials it was
    /// just given, without `stale=true`, refuses them, and the request fails with that
    /// 401/407 as it would without credentials. At most [`MAX_CREDENTIAL`] bytes each
    /// ([`SendError::Capacity`]); kept in the endpoint's storage for the call's slot.
    /// A call this side answers gets them with [`Endpoint::set_credentials`].
    /// Other requests of [`send_request`](Endpoint::send_request) are refused with
    /// credentials ([`SendError::InvalidState`]): answer their challenges with
    /// [`auth::answer_challenge`](crate::auth::answer_challenge), and use
    /// [`Endpoint::register`] and [`Endpoint::subscribe`] for registrations and
    /// subscriptions.
    pub credentials: Option<DigestCredentials<'a>>,
}

impl<'a> Request<'a> {
    /// A request with no extra headers and no body, a fresh Call-ID and From tag, and
    /// CSeq 1.
    pub fn new(method: Method<'a>, uri: &'a str, from: &'a str, to: &'a str) -> Self {
        Request {
            method,
            uri,
            from,
            to,
            headers: &[],
            body: None,
            call_id: None,
            from_tag: None,
            cseq: 1,
            credentials: None,
        }
    }
}

/// Counters of what the endpoint dropped or answered on its own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Stats {
    /// Datagrams dropped: unparseable responses, unanswerable requests (§8.1.3.3, ...).
    pub discarded: u64,
    /// Requests answered with an error by the endpoint itself.
    pub rejected: u64,
    /// Responses that matched no transaction or call.
    pub stray_responses: u64,
    /// Transmits or events lost to a full queue, or a message too big for its buffer.
    pub queue_overflows: u64,
}

type Bytes<const N: usize> = Vec<u8, N>;

// The RFC's names for the four machines.
#[allow(clippy::enum_variant_names)]
#[derive(Clone, Copy, Debug)]
enum Machine {
    ClientInvite(ClientInvite),
    ClientNonInvite(ClientNonInvite),
    ServerInvite(ServerInvite),
    ServerNonInvite(ServerNonInvite),
}

/// Network and timer input for any of the four machines.
#[derive(Clone, Copy, Debug)]
enum TxInput {
    Response(StatusCode),
    Request,
    Ack,
    Timer(TimerId),
    TransportError,
}

impl Machine {
    /// Step the machine in place, its actions pushed onto `actions` (empty): the
    /// machines write them there, and no `Step` is moved out through the returns.
    fn step(
        &mut self,
        cfg: &transaction::Config,
        input: TxInput,
        actions: &mut transaction::Actions,
    ) {
        // Each machine takes the inputs its RFC figure has; anything else is absorbed.
        macro_rules! feed {
            ($m:expr, $wrap:path, $ev:ty, { $($input:pat => $event:expr),* $(,)? }) => {{
                let event: Option<$ev> = match input {
                    $($input => Some($event),)*
                    #[allow(unreachable_patterns)]
                    _ => None,
                };
                if let Some(e) = event {
                    *self = $wrap($m.step_into(cfg, e, actions));
                }
            }};
        }
        match *self {
            Machine::ClientInvite(m) => feed!(m, Machine::ClientInvite, client_invite::Event, {
                TxInput::Response(c) => client_invite::Event::Response(c),
                TxInput::Timer(t) => client_invite::Event::Timer(t),
                TxInput::TransportError => client_invite::Event::TransportError,
            }),
            Machine::ClientNonInvite(m) => {
                feed!(m, Machine::ClientNonInvite, client_non_invite::Event, {
                    TxInput::Response(c) => client_non_invite::Event::Response(c),
                    TxInput::Timer(t) => client_non_invite::Event::Timer(t),
                    TxInput::TransportError => client_non_invite::Event::TransportError,
                })
            }
            Machine::ServerInvite(m) => feed!(m, Machine::ServerInvite, server_invite::Event, {
                TxInput::Request => server_invite::Event::Request,
                TxInput::Ack => server_invite::Event::Ack,
                TxInput::Timer(t) => server_invite::Event::Timer(t),
                TxInput::TransportError => server_invite::Event::TransportError,
            }),
            Machine::ServerNonInvite(m) => {
                feed!(m, Machine::ServerNonInvite, server_non_invite::Event, {
                    TxInput::Request => server_non_invite::Event::Request,
                    TxInput::Timer(t) => server_non_invite::Event::Timer(t),
                    TxInput::TransportError => server_non_invite::Event::TransportError,
                })
            }
        }
    }

    /// The TU's response `code` through the machine, in place (see [`step`](Self::step));
    /// on error the machine and `actions` are as they were.
    fn respond(
        &mut self,
        cfg: &transaction::Config,
        code: StatusCode,
        actions: &mut transaction::Actions,
    ) -> Result<(), SendError> {
        *self = match *self {
            Machine::ServerInvite(m) => Machine::ServerInvite(
                m.respond_into(cfg, code, actions)
                    .map_err(|_| SendError::InvalidState)?,
            ),
            Machine::ServerNonInvite(m) => Machine::ServerNonInvite(
                m.respond_into(cfg, code, actions)
                    .map_err(|_| SendError::InvalidState)?,
            ),
            _ => return Err(SendError::InvalidState),
        };
        Ok(())
    }

    /// A client transaction waiting for its final response (§17.1.1.2, §17.1.2.2).
    fn awaits_final(&self) -> bool {
        match self {
            Machine::ClientInvite(m) => matches!(
                m.state(),
                transaction::State::Calling | transaction::State::Proceeding
            ),
            Machine::ClientNonInvite(m) => matches!(
                m.state(),
                transaction::State::Trying | transaction::State::Proceeding
            ),
            _ => false,
        }
    }

    fn is_server(&self) -> bool {
        matches!(self, Machine::ServerInvite(_) | Machine::ServerNonInvite(_))
    }

    fn can_respond(&self) -> bool {
        match self {
            Machine::ServerInvite(m) => m.state() == transaction::State::Proceeding,
            Machine::ServerNonInvite(m) => {
                matches!(
                    m.state(),
                    transaction::State::Trying | transaction::State::Proceeding
                )
            }
            _ => false,
        }
    }
}

/// A transaction: its state and the bytes it keeps. The buffers sit beside the rest
/// so that a freed slot's are reused ([`Table::insert_reusing`]): a new
/// `heapless::Vec` writes its whole capacity, two MSG-sized ones per transaction.
struct TxEntry<const MSG: usize> {
    meta: TxMeta,
    /// The request sent (client) or received (server).
    request: Bytes<MSG>,
    /// Server: the last response sent. Client: the last response received. Written
    /// into as it is (see `Stored`).
    response: crate::encode::Stored<MSG>,
}

/// An entry split into its state (`meta`) and two `MSG`-byte buffers: the state is reached
/// through the entry (`e.machine`, `c.session`), as if it were one struct. A new entry
/// goes in a table slot reusing the buffers of the entry it last held (`insert_tx`,
/// `CallEntry::fill`).
macro_rules! entry_with_buffers {
    ($entry:ident, $meta:ty) => {
        impl<const MSG: usize> core::ops::Deref for $entry<MSG> {
            type Target = $meta;
            fn deref(&self) -> &$meta {
                &self.meta
            }
        }

        impl<const MSG: usize> core::ops::DerefMut for $entry<MSG> {
            fn deref_mut(&mut self) -> &mut $meta {
                &mut self.meta
            }
        }
    };
}

entry_with_buffers!(TxEntry, TxMeta);
entry_with_buffers!(CallEntry, CallMeta);

impl<const MSG: usize> CallEntry<MSG> {
    /// [`fill`](Self::fill) for a call whose dialog is built in it at once: the
    /// dialog `make` gives is not kept, but a dialog the slot held stays as room to
    /// build it in (a new one is 1.7 kB written); the dialog to build, its content
    /// stale.
    fn fill_building_dialog(
        slot: &mut Option<Self>,
        make: impl FnOnce() -> CallMeta,
    ) -> &mut Dialog {
        let e = match slot {
            Some(e) => {
                // Every field named, so that a new one is not forgotten.
                let CallMeta {
                    session,
                    dialog: _,
                    invite_tx,
                    uac_invite,
                    pending_tx,
                    reinvite,
                    peer,
                    ack_for,
                    ack_wanted,
                    local_tag,
                    timers,
                    reliable,
                    forks,
                    prack_tx,
                    lingering_invite,
                    timer_answer,
                    update_timer,
                    retried_422,
                    min_se_asked,
                    refreshing,
                } = make();
                let m = &mut e.meta;
                m.session = session;
                m.invite_tx = invite_tx;
                m.uac_invite = uac_invite;
                m.pending_tx = pending_tx;
                m.reinvite = reinvite;
                m.peer = peer;
                m.ack_for = ack_for;
                m.ack_wanted = ack_wanted;
                m.local_tag = local_tag;
                m.timers = timers;
                m.reliable = reliable;
                m.forks = forks;
                m.prack_tx = prack_tx;
                m.lingering_invite = lingering_invite;
                m.timer_answer = timer_answer;
                m.update_timer = update_timer;
                m.retried_422 = retried_422;
                m.min_se_asked = min_se_asked;
                m.refreshing = refreshing;
                e.answer.clear();
                e.ack.clear();
                e
            }
            None => slot.insert(CallEntry {
                meta: make(),
                answer: Bytes::new(),
                ack: Bytes::new(),
            }),
        };
        e.meta.dialog.get_or_insert_with(Dialog::empty)
    }

    /// Make `slot` hold the state `make` returns and empty buffers.
    fn fill(slot: &mut Option<Self>, make: impl FnOnce() -> CallMeta) {
        match slot {
            Some(e) => {
                e.meta = make();
                e.answer.clear();
                e.ack.clear();
            }
            None => {
                *slot = Some(CallEntry {
                    meta: make(),
                    answer: Bytes::new(),
                    ack: Bytes::new(),
                });
            }
        }
    }
}

/// The index hashes of a new transaction's keys, when the lookups before it computed
/// them (`None`: computed on insertion).
#[derive(Clone, Copy, Default)]
struct KeyHashes {
    /// Of its server or client key.
    key: Option<u64>,
    /// Of its merge key (§8.2.2.2).
    merge: Option<u64>,
}

/// Everything of a transaction but its buffers.
struct TxMeta {
    machine: Machine,
    client_key: Option<ClientKey>,
    server_key: Option<RequestKey>,
    merge_key: Option<MergeKey>,
    /// Client: where the request goes. Server: where responses go (§18.2.2).
    peer: SocketAddr,
    /// Server: the received request's header index, so that responses and dialogs are
    /// built from `request` without parsing it again. Client: empty (parsed on use).
    request_index: Detached,
    /// Server: the top Via with `received`/`rport` filled in (§18.2.1, RFC 3581).
    top_via: String<MAX_VIA>,
    /// Server: where the top Via the checks parsed lies in the request's first Via
    /// value (start, end), so that responses do not split that value again.
    top_via_span: Option<(u16, u16)>,
    /// Server: whether the request's To has a tag (its responses then add none).
    to_tagged: bool,
    /// Server: the request's CSeq number, read without parsing the stored request
    /// again. Client: `None` (read from the request when needed).
    cseq: Option<u32>,
    /// Server INVITE matched by the RFC 2543 fallback: the key its ACK for a non-2xx will
    /// have, with the To tag of the final response (§17.2.3).
    ack_key: Option<RequestKey>,
    /// Server: the To tag of this transaction's responses when it belongs to no call
    /// (§8.2.6.2: the same tag on every response of a transaction).
    to_tag: LazyTag,
    /// The transaction timers, then the endpoint's orphan guard.
    timers: Timers<TX_TIMERS>,
    call: Option<CallHandle>,
    /// Client INVITE whose call is over: the CSeq numbers its forks reached
    /// ([`write_fork_seqs`]), for the BYE to a fork that answers late.
    fork_seqs: ForkSeqs,
}

impl TxMeta {
    /// The state of a new slot's first transaction before `insert_tx` sets it.
    fn blank(machine: Machine) -> Self {
        TxMeta {
            machine,
            client_key: None,
            server_key: None,
            merge_key: None,
            peer: SocketAddr::from(([0, 0, 0, 0], 0)),
            request_index: Detached::empty(),
            top_via: String::new(),
            top_via_span: None,
            to_tagged: false,
            cseq: None,
            to_tag: LazyTag::NONE,
            ack_key: None,
            fork_seqs: ForkSeqs::new(),
            timers: Timers::new(),
            call: None,
        }
    }
}

impl<const MSG: usize> TxEntry<MSG> {
    /// The stored message `which`.
    fn stored(&self, which: TxBuf) -> &[u8] {
        match which {
            TxBuf::Request => &self.request,
            TxBuf::Response => &self.response,
        }
    }

    /// The stored request as a message.
    fn stored_request(&self, limits: &Limits) -> Option<Message<'_>> {
        stored_message(&self.request, &self.request_index, limits)
    }

    /// Keep the stored request's header index, parsing it once (a client transaction's
    /// INVITE is read for its early dialog and again for its confirmed one).
    fn index_request(&mut self, limits: &Limits) {
        if self.request_index.is_empty()
            && let Ok(m) = Message::parse_with(&self.request, limits)
        {
            self.request_index = m.detach();
        }
    }
}

/// Stored bytes as a message: from their index when there is one, else parsed.
fn stored_message<'m>(bytes: &'m [u8], index: &Detached, limits: &Limits) -> Option<Message<'m>> {
    Message::reattach(bytes, index).or_else(|| Message::parse_with(bytes, limits).ok())
}

/// [`stored_message`] filled in `msg`, an [`empty`](Message::empty) view of the stored
/// bytes: the view is some 700 bytes, each move of it a copy. `false` where that gives
/// `None`.
fn read_stored(msg: &mut Message<'_>, index: &Detached, limits: &Limits) -> bool {
    if msg.reattach_into(index) {
        return true;
    }
    *msg = Message::empty(msg.as_bytes());
    msg.read_datagram(limits).is_ok()
}
impl CallMeta {
    /// The call's own early dialog: its requests (INFO, UPDATE) count for its fork, whose
    /// BYE goes on from them (§12.2.1.1).
    fn keep_early_seqs(&mut self) {
        if let Some(d) = self
            .dialog
            .as_ref()
            .filter(|d| d.state() == dialog::DialogState::Early)
            && let Some(f) = self
                .forks
                .iter_mut()
                .find(|f| f.tag.is(d.id().remote_tag()))
        {
            f.keep_seqs_of(d);
        }
    }

    /// The CSeq number of the last PRACK sent in the fork with To tag `tag`, 0 if none.
    fn fork_seq(&self, tag: &str) -> u32 {
        self.forks
            .iter()
            .find(|f| f.tag.is(tag))
            .map_or(0, |f| f.local_seq)
    }
}

/// A call: its state and the messages it keeps, in buffers a freed slot's next call
/// reuses (as [`TxEntry`] does).
struct CallEntry<const MSG: usize> {
    meta: CallMeta,
    /// UAC: the 2xx that answered the INVITE (its body is the SDP answer, or the offer
    /// of a late-offer call). UAS: the last ACK that carried a body (a late offer's answer).
    answer: Bytes<MSG>,
    /// UAC, late offer (RFC 3264 §4: an offer in the 2xx, the answer in the ACK): the ACK
    /// the host's answer went out in, resent for every retransmission of that 2xx, and
    /// which 2xx it acknowledges. Empty otherwise.
    ack: Bytes<MSG>,
}

/// Everything of a call but its buffers.
struct CallMeta {
    session: InviteSession,
    /// The dialog the call runs on (UAC: the first confirmed fork; UAS: ours).
    dialog: Option<Dialog>,
    /// The INVITE transaction (initial INVITE, or the current re-INVITE).
    invite_tx: TxHandle,
    /// UAC: the initial INVITE's client transaction, for CANCEL.
    uac_invite: Option<TxHandle>,
    /// UAS: the transaction of a CANCEL being answered, or of a BYE.
    pending_tx: Option<TxHandle>,
    /// The last re-INVITE this side sent (its client transaction and CSeq number).
    reinvite: Option<(TxHandle, u32)>,
    /// Where the call's peer was reached (fallback destination for in-dialog requests).
    peer: SocketAddr,
    /// Which 2xx `ack` acknowledges.
    ack_for: Option<(Tag, u32)>,
    /// UAC, late offer: the 2xx whose ACK waits for the host's answer.
    ack_wanted: Option<(Tag, u32)>,
    /// Kept as text: every response of the call reads it as `&str` (a `Tag` would check
    /// its UTF-8 each time).
    local_tag: String<{ crate::dialog::MAX_TAG }>,
    /// The session's timers, then the provisional guard, the CANCEL guard (§9.1) and the
    /// retransmission timer of a reliable provisional response (RFC 3262 §3).
    timers: Timers<CALL_TIMERS>,
    /// UAS: the initial INVITE's transaction and its reliable provisional responses,
    /// when it asked for them (RFC 3262 §3) and this endpoint supports `100rel`.
    reliable: Option<(TxHandle, reliable::Uas)>,
    /// UAC: its early dialogs (forks), each with the reliable provisional responses
    /// PRACKed (RFC 3262 §4), the CSeq of its last PRACK and of the last request it sent;
    /// and the last PRACK's transaction.
    forks: heapless::Vec<ForkPrack, MAX_PRACKED_FORKS>,
    prack_tx: Option<TxHandle>,
    /// UAC: the key of the initial INVITE's transaction once it lingers as a record
    /// (answered 2xx, RFC 6026 Accepted), where its INVITE is then kept.
    lingering_invite: Option<ClientKey>,
    /// The session timer negotiated for the INVITE or re-INVITE being answered (RFC 4028
    /// §9), written in its 2xx and armed when that goes.
    timer_answer: Option<TimerAnswer>,
    /// The peer's UPDATE being answered and the session timer its 2xx carries (RFC 4028
    /// §9: an UPDATE refreshes the session as a re-INVITE does).
    update_timer: Option<(TxHandle, TimerAnswer)>,
    /// The INVITE in progress (UAC: the initial one; or this side's re-INVITE) was sent
    /// again after a 422 (RFC 4028 §7.4), which happens once for each.
    retried_422: bool,
    /// The largest Min-SE a 422 to this call's INVITE or re-INVITE, or a session
    /// refresh request of the peer's (its INVITE, re-INVITE or UPDATE), asked for (0:
    /// none): this side's later re-INVITEs carry it (RFC 4028 §7.4), or a proxy could
    /// lower their interval below what another one on the path insists on.
    min_se_asked: u32,
    /// This side's re-INVITE in progress is a session refresh the endpoint sent (§10):
    /// after a 491 the endpoint sends it again itself.
    refreshing: bool,
}

/// What a UAS's 2xx says of the session timer (RFC 4028 §9).
#[derive(Clone, Copy)]
struct TimerAnswer {
    interval: dialog::SessionInterval,
    refresher: crate::message::Refresher,
    require: bool,
    /// The request's Min-SE (0: none), which this side's refreshes keep (§7.4).
    min_se: u32,
}

/// A SIP endpoint: up to `TX` transactions and `CALLS` calls, each stored message up to
/// `MSG` bytes, up to `QUEUE` datagrams waiting for [`poll_transmit`](Self::poll_transmit),
/// and up to `SUBS` subscriptions ([`subscribe`](Self::subscribe)), `NOTIFIERS`
/// subscriptions served ([`accept_subscription`](Self::accept_subscription)) and `REGS`
/// registrations ([`register`](Self::register)). All storage is inline; put a large
/// endpoint in a `Box` or a `static`.
///
/// The defaults suit a server. A device sizes each table for what it does, and a table
/// it does not use can have no room at all (its commands then fail with
/// [`SendError::Capacity`]). With 8 transactions, 2 calls and 1500-byte messages, no
/// subscriptions either way and one registration, an endpoint takes under 100 KB on a
/// 64-bit target (some 70 KB less than with the default subscription and registration
/// tables); the README has a table.
///
/// ```
/// use sansip::endpoint::Endpoint;
/// // 8 transactions, 2 calls, 1500-byte messages, 8 queued datagrams, no subscriptions
/// // either way, one registration.
/// type Phone = Endpoint<8, 2, 1500, 8, 0, 0, 1>;
/// assert!(core::mem::size_of::<Phone>() < 100_000);
/// ```
pub struct Endpoint<
    const TX: usize = 32,
    const CALLS: usize = 16,
    const MSG: usize = 2048,
    const QUEUE: usize = 32,
    const SUBS: usize = MAX_SUBSCRIPTIONS,
    const NOTIFIERS: usize = MAX_NOTIFIERS,
    const REGS: usize = MAX_REGISTRATIONS,
> {
    config: EndpointConfig,
    session_config: dialog::Config,
    txs: Table<TxEntry<MSG>, TX>,
    calls: Table<CallEntry<MSG>, CALLS>,
    /// Digest credentials of the calls placed with some, by call slot.
    call_auths: CallAuths<CALLS>,
    /// Transaction keys (client and server) to slots.
    tx_index: ChainIndex<TX>,
    /// §8.2.2.2 merge keys of server transactions to slots.
    merge_index: ChainIndex<TX>,
    /// Dialog ids to call slots.
    call_index: ChainIndex<CALLS>,
    /// RFC 2543 ACK keys of server INVITE transactions to slots.
    ack_index: ChainIndex<TX>,
    transmits: TransmitQueue<MSG, QUEUE>,
    /// Earliest deadline of each transaction and call: `poll_timeout` is the root.
    tx_deadlines: DeadlineHeap<TX>,
    call_deadlines: DeadlineHeap<CALLS>,
    /// Finished server transactions waiting out Timer J or L as compact records.
    linger: Linger,
    /// Registrations kept (`register`).
    regs: registration::Registrations<REGS>,
    /// Subscriptions kept (`subscribe`).
    subs: subscription::Subscriptions<SUBS>,
    /// Dialogs of subscriptions keeping forks that ended: their NOTIFYs make no fork.
    ended_forks: subscription::EndedForks,
    /// Subscriptions served (`accept_subscription`).
    notifiers: notifier::Notifiers<MSG, NOTIFIERS>,
    events: Deque<Event, EVENT_QUEUE>,
    /// Client transactions that ended with the final response they reported (Timer K or
    /// D is zero over a reliable transport), kept until the host has drained the events,
    /// so that `response` and `request` still read them (see `poll_event`).
    finished: heapless::Vec<TxHandle, EVENT_QUEUE>,
    /// Client non-INVITE transactions in Completed (Timer K, T4 over UDP) whose final
    /// response the host was told of: once it has drained the events (and so could read
    /// the response) they linger as records (see `poll_event`).
    settled: heapless::Vec<TxHandle, EVENT_QUEUE>,
    /// The generator's counter and key (`next_random`).
    rng: u64,
    rng_key: (u64, u64),
    /// The secret key of the hash indexes (`tx_index`, ..., and the lingering records'),
    /// against hash flooding.
    hash_key: HashKey,
    stats: Stats,
    /// Body given with the TU command being carried out (a 2xx answer's SDP).
    pending_body: Option<(String<MAX_CONTENT_TYPE>, Bytes<MSG>)>,
    /// Extra headers given with the TU command being carried out.
    pending_headers: Vec<(String<MAX_HEADER_NAME>, String<MAX_HEADER_VALUE>), MAX_EXTRA_HEADERS>,
    /// This endpoint's sent-by (`host:port`), its Contact value and its address as
    /// Call-ID host, written once: every message carries one of them.
    sent_by: String<MAX_SHORT>,
    contacts: Contacts,
    local_ip: String<MAX_SHORT>,
    /// The extensions of the capabilities with `timer` added, when session timers are on
    /// and the host did not list it (RFC 4028 §3; see [`caps`](Self::caps)).
    extensions: Option<Vec<&'static str, MAX_EXTENSIONS>>,
}

/// Room for the extensions (option tags) of [`EndpointConfig::capabilities`] and the
/// `timer` the endpoint adds to them when [`EndpointConfig::session_timer`] is on; a
/// longer list must name `timer` itself.
const MAX_EXTENSIONS: usize = 16;

impl<
    const TX: usize,
    const CALLS: usize,
    const MSG: usize,
    const QUEUE: usize,
    const SUBS: usize,
    const NOTIFIERS: usize,
    const REGS: usize,
> Endpoint<TX, CALLS, MSG, QUEUE, SUBS, NOTIFIERS, REGS>
{
    /// A new endpoint.
    pub fn new(config: EndpointConfig) -> Self {
        const {
            assert!(
                TX > 0 && CALLS > 0 && TX < 65_535 && CALLS < 65_535,
                "handles hold 16-bit indices"
            )
        };
        let session_config = dialog::Config {
            t1: config.timers.t1,
            t2: config.timers.t2,
        };
        let mut sent_by = String::new();
        let _ = text::push_socket_addr(&mut sent_by, config.local); // fits: at most 47 bytes
        let mut local_ip = String::new();
        let _ = text::push_ip(&mut local_ip, config.local.ip()); // fits: at most 39 bytes
        let mut contact = String::new();
        let _ = write!(
            contact,
            "<sip:{}@{}{}>",
            config.contact_user,
            sent_by,
            config.transport.uri_param()
        );
        // A SIPS URI means TLS already (RFC 5630 §3.1.3: no `transport=tls`); over
        // secure WebSocket it says `transport=ws` (RFC 7118 §5).
        let mut contact_sips = String::new();
        let _ = write!(
            contact_sips,
            "<sips:{}@{}{}>",
            config.contact_user,
            sent_by,
            match config.transport {
                Transport::Tls => "",
                t => t.uri_param(),
            }
        );
        let extensions = timer_extensions(&config);
        let rng_key = (config.seed, config.seed ^ 0x9E37_79B9_7F4A_7C15);
        // The indexes' key, from the generator's key at values its counter never takes.
        let hash_key = HashKey(prf(rng_key, u64::MAX), prf(rng_key, u64::MAX - 1));
        #[cfg(feature = "alloc")]
        let linger = Linger::new(config.linger_records, config.linger_bytes, hash_key);
        #[cfg(not(feature = "alloc"))]
        let linger = Linger::new(0, 0, hash_key);
        Endpoint {
            config,
            session_config,
            txs: Table::new(),
            calls: Table::new(),
            call_auths: CallAuths::new(),
            tx_index: ChainIndex::new(),
            merge_index: ChainIndex::new(),
            call_index: ChainIndex::new(),
            ack_index: ChainIndex::new(),
            transmits: TransmitQueue::new(),
            tx_deadlines: DeadlineHeap::new(),
            call_deadlines: DeadlineHeap::new(),
            linger,
            regs: Table::new(),
            subs: Table::new(),
            ended_forks: subscription::EndedForks::default(),
            notifiers: Table::new(),
            events: Deque::new(),
            finished: heapless::Vec::new(),
            settled: heapless::Vec::new(),
            rng: 0,
            rng_key,
            hash_key,
            stats: Stats::default(),
            pending_body: None,
            pending_headers: Vec::new(),
            sent_by,
            contacts: Contacts::new(contact, contact_sips, config.user_agent),
            local_ip,
            extensions,
        }
    }

    /// Mix host entropy into the generator of tags, branches and Call-IDs.
    pub fn add_entropy(&mut self, entropy: u64) {
        // A new key from the old one and the entropy: secret if either was.
        self.rng_key = (prf(self.rng_key, entropy), prf(self.rng_key, !entropy));
    }

    /// The configuration.
    pub fn config(&self) -> &EndpointConfig {
        &self.config
    }

    /// Counters of dropped and auto-answered input.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Live transactions, lingering ones included (see
    /// [`EndpointConfig::linger_records`](EndpointConfig)).
    pub fn transaction_count(&self) -> usize {
        self.txs.len() + self.linger.len()
    }

    /// Finished server transactions kept as compact records until Timer J or L.
    pub fn lingering_count(&self) -> usize {
        self.linger.len()
    }

    /// Live calls.
    pub fn call_count(&self) -> usize {
        self.calls.len()
    }

    /// Where a transaction's messages go, while it lives. For a request received: where
    /// its responses go (RFC 3261 §18.2.2, RFC 3581 §4), the address the datagram came
    /// from, at its source port when the request asked for `rport` or came over a
    /// connection; a registrar or back-to-back UA takes that as the peer's reachable
    /// address when its Contact names a private one (behind NAT). For a request sent:
    /// the address it was sent to.
    pub fn peer(&self, tx: TxHandle) -> Option<SocketAddr> {
        Some(self.txs.get(tx.0)?.peer)
    }

    /// The request of a transaction: the one received (server) or sent (client).
    pub fn request(&self, tx: TxHandle) -> Option<Message<'_>> {
        let entry = self.txs.get(tx.0)?;
        entry.stored_request(&self.config.limits)
    }

    /// The latest response a client transaction received (a 401/407 challenge, a 3xx's
    /// Contacts, a REGISTER's Expires...), for as long as the transaction lives: at least
    /// until the host has drained [`poll_event`](Self::poll_event) after the event that
    /// reported its final response (over TCP, TLS and WebSocket the transaction ends with
    /// it), and over UDP T4 after a final response to a non-INVITE, 64*T1 for an INVITE
    /// (unless the transaction lingers as a record, [`EndpointConfig::linger_records`]:
    /// a non-INVITE one once the events were drained, a call's INVITE answered 2xx at
    /// once, whose 2xx [`Endpoint::call_answer`] keeps).
    pub fn response(&self, tx: TxHandle) -> Option<Message<'_>> {
        let e = self.txs.get(tx.0)?;
        if e.machine.is_server() || e.response.is_empty() {
            return None;
        }
        Message::parse_with(&e.response, &self.config.limits).ok()
    }

    /// The state of a call.
    pub fn call_state(&self, call: CallHandle) -> Option<dialog::SessionState> {
        self.calls.get(call.0).map(|c| c.session.state())
    }

    /// The peer's message with the session description of a call. For a call this
    /// endpoint placed: the 2xx that answered it (its body is the answer, or for a late
    /// offer the offer, [`Event::AnswerNeeded`]), or the 2xx with the offer to an
    /// offer-less re-INVITE ([`Endpoint::reinvite_without_offer`]). For a call it
    /// received: the last ACK or PRACK that carried a body (the answer to the offer of a
    /// late-offer call, [`Event::AnswerReceived`]); `None` before that.
    pub fn call_answer(&self, call: CallHandle) -> Option<Message<'_>> {
        let c = self.calls.get(call.0)?;
        if c.answer.is_empty() {
            return None;
        }
        Message::parse_with(&c.answer, &self.config.limits).ok()
    }

    /// The dialog a call runs on, once it has one.
    pub fn call_dialog(&self, call: CallHandle) -> Option<&Dialog> {
        self.calls.get(call.0)?.dialog.as_ref()
    }

    // ----- outputs -------------------------------------------------------------------

    /// The next datagram to send, written into `buf`. On [`BufferTooSmall`] the
    /// datagram stays queued.
    pub fn poll_transmit<'b>(
        &mut self,
        buf: &'b mut [u8],
    ) -> Result<Option<Transmit<'b>>, BufferTooSmall> {
        let Some((destination, queued)) = self.transmits.front() else {
            return Ok(None);
        };
        let bytes = match queued {
            Queued::Own(bytes) => bytes,
            // Unchanged since queued: the endpoint settles a reference before it
            // changes the bytes or reuses their slot.
            Queued::Stored { slot, which, len } => self
                .txs
                .value_at(slot)
                .and_then(|e| e.stored(which).get(..len))
                .unwrap_or(&[]),
        };
        debug_assert!(self.transmits.holds(bytes), "a queued datagram changed");
        if bytes.len() > buf.len() {
            return Err(BufferTooSmall {
                needed: bytes.len(),
            });
        }
        let out = &mut buf[..bytes.len()];
        out.copy_from_slice(bytes);
        self.transmits.pop();
        Ok(Some(Transmit {
            destination,
            bytes: out,
        }))
    }

    /// The next event. Once none is left, the client transactions that ended with the
    /// final response an event reported are let go: until then [`response`](Self::response)
    /// and [`request`](Self::request) read them, whatever the transport.
    pub fn poll_event(&mut self) -> Option<Event> {
        let event = self.events.pop_front();
        if event.is_none() && !(self.finished.is_empty() && self.settled.is_empty()) {
            self.let_go();
        }
        event
    }

    /// The end of [`poll_event`](Self::poll_event)'s queue: the transactions waiting
    /// for it let go. Out of line, so that an event taken sets up no frame for this.
    #[inline(never)]
    fn let_go(&mut self) {
        // Emptied in place: taking a vector would copy all its capacity.
        if !self.finished.is_empty() {
            for i in 0..self.finished.len() {
                let tx = self.finished[i];
                self.remove_tx(tx);
            }
            self.finished.clear();
        }
        if !self.settled.is_empty() {
            for i in 0..self.settled.len() {
                let tx = self.settled[i];
                self.linger_settled(tx);
            }
            self.settled.clear();
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next; `None` when
    /// only a datagram or a command can change anything.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let tx = self.tx_deadlines.peek().map(|(t, _)| t);
        let call = self.call_deadlines.peek().map(|(t, _)| t);
        tx.into_iter()
            .chain(call)
            .chain(self.linger.next_deadline())
            .chain(self.next_refresh())
            .chain(self.next_sub_timer())
            .chain(self.next_notifier_timer())
            .min()
    }

    // ----- inputs --------------------------------------------------------------------

    /// Expire every timer due at `now`. Calling it early or twice does nothing. When the
    /// transmit queue or the event queue fills, the timers still due stay due
    /// ([`poll_timeout`](Self::poll_timeout) is then `now` or earlier): drain both and call
    /// again.
    pub fn handle_timeout(&mut self, now: Instant) {
        // Earliest first, one timer at a time, each step seeing what the previous left.
        // Go on while the transmit queue and the event queue have room for one more
        // step's output; what is still due then stays due, `poll_timeout` says so, and
        // the host calls again after draining (a burst of timeouts, e.g. Timer F of many
        // requests sent at once, would otherwise lose its events past `EVENT_QUEUE`).
        // The cap guards against timers re-armed in the past (T1 = 0).
        self.linger.expire(now);
        self.fire_refreshes(now);
        self.fire_sub_timers(now);
        self.fire_notifier_timers(now);
        let mut budget = 4 * (TX + CALLS) + 64;
        while budget > 0
            && self.transmits.len() + 4 <= QUEUE
            && self.events.len() + STEP_EVENTS <= EVENT_QUEUE
        {
            budget -= 1;
            let tx = self.tx_deadlines.peek().filter(|(t, _)| *t <= now);
            let call = self.call_deadlines.peek().filter(|(t, _)| *t <= now);
            match (tx, call) {
                (Some((tt, _)), Some((ct, cs))) if ct < tt => self.fire_call_slot(now, cs),
                (Some((_, ts)), _) => self.fire_tx_slot(now, ts),
                (None, Some((_, cs))) => self.fire_call_slot(now, cs),
                (None, None) => break,
            }
        }
    }

    fn fire_tx_slot(&mut self, now: Instant, slot: u16) {
        let Some(h) = self.txs.handle_at(slot) else {
            self.tx_deadlines.set(slot, None);
            return;
        };
        let tx = TxHandle(h);
        let Some(i) = self.txs.get(h).and_then(|e| e.timers.earliest()) else {
            self.tx_deadlines.set(slot, None);
            return;
        };
        self.set_tx_timer(tx, i, None);
        match TimerId::ALL.get(i) {
            Some(&id) => self.step_tx(now, tx, TxInput::Timer(id), None),
            // ORPHAN_GUARD: an INVITE or re-INVITE whose call ended; if it still has no
            // final response, it never will.
            None if self.txs.get(h).is_some_and(|e| {
                matches!(e.machine, Machine::ClientInvite(m)
                    if matches!(m.state(), transaction::State::Calling | transaction::State::Proceeding))
            }) =>
            {
                self.remove_tx(tx);
                self.push_event(Event::TimedOut { tx });
            }
            None => {}
        }
    }

    fn fire_call_slot(&mut self, now: Instant, slot: u16) {
        let Some(h) = self.calls.handle_at(slot) else {
            self.call_deadlines.set(slot, None);
            return;
        };
        let Some(i) = self.calls.get(h).and_then(|c| c.timers.earliest()) else {
            self.call_deadlines.set(slot, None);
            return;
        };
        self.fire_call_timer(now, CallHandle(h), i);
    }

    fn set_tx_timer(&mut self, tx: TxHandle, i: usize, deadline: Option<Instant>) {
        if let Some(e) = self.txs.get_mut(tx.0) {
            e.timers.set(i, deadline);
            self.tx_deadlines.set(tx.0.index, e.timers.next());
        }
    }

    fn set_call_timer(&mut self, call: CallHandle, i: usize, deadline: Option<Instant>) {
        if let Some(c) = self.calls.get_mut(call.0) {
            c.timers.set(i, deadline);
            self.call_deadlines.set(call.0.index, c.timers.next());
        }
    }

    /// Take one received datagram from `from`. Never fails: what is wrong with it is
    /// answered (400, 481, ...) or dropped, as RFC 3261 says, and counted in [`stats`](Self::stats).
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, bytes: &[u8]) {
        let caps = self.caps();
        // The checks parse the core headers (top Via, From, To, Call-ID, CSeq) once;
        // routing reuses them.
        // The message is parsed in place and the checks write the core headers into
        // `core`: both are large, and a move of either would be a copy.
        let mut msg = Message::empty(bytes);
        let msg = &mut msg;
        let mut core = None;
        match msg.read_datagram(&self.config.limits) {
            Ok(()) if msg.is_request() => {
                let mut target = None;
                match check::check_request_headers(msg, &caps, &mut target, &mut core) {
                    Ok(()) => {
                        if let Some(core) = &core {
                            self.on_request(now, from, msg, core, target);
                        }
                    }
                    Err(rejection) => self.reject(msg, from, &rejection),
                }
            }
            // The Record-Route of a response that may create a dialog: see `on_response`.
            Ok(()) => match check::check_response_checked(msg, false, &mut core) {
                Ok(()) => {
                    if let Some(core) = &core {
                        self.on_response(now, msg, core);
                    }
                }
                Err(_) => self.stats.discarded += 1,
            },
            // Unparseable: answered with 400 if its headers allow, else dropped.
            Err(_) => match check::classify(bytes, &caps, &self.config.limits) {
                Verdict::Respond(msg, rejection) => self.reject(&msg, from, &rejection),
                _ => self.stats.discarded += 1,
            },
        }
    }

    fn reject(&mut self, msg: &Message<'_>, from: SocketAddr, rejection: &check::Rejection) {
        // RFC 3261 §17: an ACK is never answered.
        if msg.method() != Some(Method::Ack) {
            self.stats.rejected += 1;
            self.send_rejection(msg, from, rejection);
        }
    }

    /// The host could not send to `destination` (an ICMP error, a refused or reset
    /// connection). Every transaction sending there learns of it (RFC 3261 §17.1.4,
    /// §17.2.4) and the host gets [`Event::TransportError`] for each, as many as the
    /// event queue has room for: the others go on, and end at the next failure the host
    /// reports for them or by their timers ([`Event::TimedOut`]).
    pub fn handle_send_error(&mut self, now: Instant, destination: SocketAddr) {
        // In batches, since a step may add or remove transactions; each failed
        // transaction terminates, so the loop ends.
        loop {
            let hit: Vec<RawHandle, TIMER_BATCH> = self
                .txs
                .iter()
                // Transactions over already (`finished`) have nothing left to fail.
                .filter(|&(h, e)| e.peer == destination && !self.finished.contains(&TxHandle(h)))
                .map(|(h, _)| h)
                .take(TIMER_BATCH)
                .collect();
            if hit.is_empty() {
                break;
            }
            let before = self.txs.len();
            for h in hit {
                // No event lost to a full queue (see `handle_timeout`).
                if self.events.len() + STEP_EVENTS > EVENT_QUEUE {
                    return;
                }
                self.step_tx(now, TxHandle(h), TxInput::TransportError, None);
            }
            if self.txs.len() >= before {
                // Nothing terminated (machines that absorb transport errors): stop.
                break;
            }
        }
    }

    // ----- commands ------------------------------------------------------------------

    /// Send a request outside any dialog (OPTIONS, REGISTER, MESSAGE, ...) to `to`.
    /// For INVITE use [`invite`](Self::invite) (an INVITE given here places a call the
    /// same way and returns its INVITE's transaction; the call's handle comes in the
    /// events' `call`).
    ///
    /// What follows: an [`Event::Response`] for each response (read it with
    /// [`response`](Self::response)), the last one final; or, when no final response
    /// comes, [`Event::TimedOut`] (Timer F: 64*T1 over UDP, the request retransmitted
    /// meanwhile) or [`Event::TransportError`] after the host's
    /// [`handle_send_error`](Self::handle_send_error). Challenges (401/407) are the
    /// host's to answer here ([`auth::answer_challenge`](crate::auth::answer_challenge),
    /// then this request again with [`Request::call_id`], [`Request::from_tag`] and
    /// the next [`Request::cseq`]).
    ///
    /// Errors (nothing sent, nothing kept): [`SendError::InvalidState`] for ACK or
    /// CANCEL (the endpoint sends those itself), [`Request::credentials`] on anything
    /// but an INVITE, a CSeq of 0 or from 2^31, or a [`Request::call_id`] that is not
    /// one; [`SendError::Encode`] with [`EncodeError::InvalidStartLine`] for a
    /// Request-URI without its scheme (`bob@host` for `sip:bob@host`) or with a space
    /// or control byte, [`EncodeError::InvalidHeader`] for a header value with CR or
    /// LF (its `index` counts the headers as written, Via first), and
    /// [`EncodeError::BufferTooSmall`] for a request over `MSG` bytes;
    /// [`SendError::ReservedHeader`] for an extra header the endpoint writes itself;
    /// [`SendError::Capacity`] when the `TX` table is full or a text is longer than
    /// the endpoint keeps.
    pub fn send_request(
        &mut self,
        now: Instant,
        to: SocketAddr,
        req: &Request<'_>,
    ) -> Result<TxHandle, SendError> {
        // ACK and CANCEL are never requests of their own here: the endpoint sends them
        // as its transactions and sessions need (§17.1.1.3, §13.2.2.4, §9.1). An extension
        // method spelled like a known one is refused too.
        if matches!(req.method, Method::Ack | Method::Cancel)
            || matches!(req.method, Method::Extension(m) if Method::from_token(m).is_some_and(|k| k.is_known()))
        {
            return Err(SendError::InvalidState);
        }
        // Credentials are kept for calls (and subscriptions and registrations) only.
        if req.credentials.is_some() && req.method != Method::Invite {
            return Err(SendError::InvalidState);
        }
        if req.method == Method::Invite {
            return self.invite(now, to, req).and_then(|c| {
                self.calls
                    .get(c.0)
                    .map(|c| c.invite_tx)
                    .ok_or(SendError::UnknownHandle)
            });
        }
        self.start_request(now, to, req, &mut String::new())
    }

    /// Place a call: send an INVITE to `to` and start its session. With
    /// [`Request::credentials`], a 401 or 407 to the INVITE (or to a later request of
    /// the call) is answered and the call goes on. `req.method` is not read: the
    /// request is an INVITE.
    ///
    /// What follows: an [`Event::Response`] (with `call`) for each response; the
    /// endpoint ACKs a 2xx itself and reports [`Event::CallEstablished`] (the answer,
    /// the 2xx's body, is [`call_answer`](Self::call_answer)); any other end is
    /// [`Event::CallTerminated`] with its [`EndReason`](dialog::EndReason):
    /// `Rejected(status)` for 4xx–6xx (ACKed by the endpoint), `Redirected` for 3xx
    /// (the targets are in the response's Contact, [`response`](Self::response)),
    /// `TimedOut` without any response within 64*T1, `Cancelled` after
    /// [`cancel`](Self::cancel) or [`hangup`](Self::hangup).
    ///
    /// Errors (nothing sent, nothing kept): [`SendError::Capacity`] with
    /// [`Capacity::Dialogs`] when `CALLS` calls are kept already, or with
    /// [`Capacity::Transactions`] when the `TX` table is full; otherwise those of
    /// [`send_request`](Self::send_request).
    pub fn invite(
        &mut self,
        now: Instant,
        to: SocketAddr,
        req: &Request<'_>,
    ) -> Result<CallHandle, SendError> {
        let req = Request {
            method: Method::Invite,
            ..*req
        };
        if self.calls.len() >= CALLS {
            return Err(SendError::Capacity(Capacity::Dialogs));
        }
        // Checked before anything is sent.
        let auth = req.credentials.as_ref().map(Auth::new).transpose()?;
        // Written where it is kept until the call's entry is built: a tag is 128 bytes.
        let mut tag = String::new();
        let tx = self.start_request(now, to, &req, &mut tag)?;
        // Built in its slot: a call entry holds MSG-sized buffers, costly to move.
        let made = self.insert_call(|| CallMeta {
            session: InviteSession::uac(req.cseq, req.body.is_some()),
            dialog: None,
            invite_tx: tx,
            uac_invite: Some(tx),
            reinvite: None,
            pending_tx: None,
            peer: to,
            ack_for: None,
            ack_wanted: None,
            // Its bytes copied, not the whole buffer moved (a tag's 128 bytes): the same
            // text, which fits as it was written to the same capacity.
            local_tag: {
                let mut t = String::new();
                let _ = t.push_str(&tag);
                t
            },
            timers: Timers::new(),
            reliable: None,
            forks: heapless::Vec::new(),
            prack_tx: None,
            lingering_invite: None,
            timer_answer: None,
            update_timer: None,
            retried_422: false,
            min_se_asked: 0,
            refreshing: false,
        });
        let Some(call) = made.map(CallHandle) else {
            return Err(SendError::Capacity(Capacity::Dialogs));
        };
        if let Some(e) = self.txs.get_mut(tx.0) {
            e.call = Some(call);
        }
        self.call_auths.set(call, auth);
        Ok(call)
    }

    /// Answer a received request with `status` (and a body with its Content-Type).
    /// For an INVITE: 1xx rings, 2xx answers the call (the endpoint retransmits it until
    /// the ACK), 3xx–6xx rejects it.
    ///
    /// What follows for an INVITE: after a 2xx, [`Event::CallEstablished`] when the ACK
    /// arrives (its body, for a late offer, is [`Event::AnswerReceived`]), or, when none
    /// comes within 64*T1, a BYE and [`Event::CallTerminated`] with
    /// [`EndReason::NoAck`](dialog::EndReason::NoAck); after 3xx–6xx,
    /// [`Event::CallTerminated`] with `Rejected(status)` (the endpoint absorbs the ACK).
    ///
    /// Errors (nothing sent): [`SendError::UnknownHandle`] for a transaction that is
    /// over (or never existed); [`SendError::InvalidState`] once the request has its
    /// final response (a second one is refused), for a 1xx or 2xx to an INVITE whose
    /// call has ended, or against the rules of reliable provisional responses
    /// ([`crate::reliable`]); [`SendError::Capacity`]
    /// with [`Capacity::Buffer`] for a body over `MSG` bytes;
    /// [`SendError::ReservedHeader`] and [`SendError::Encode`] as for
    /// [`respond_with`](Self::respond_with)'s headers.
    pub fn respond(
        &mut self,
        now: Instant,
        tx: TxHandle,
        status: StatusCode,
        body: Option<(&str, &[u8])>,
    ) -> Result<(), SendError> {
        self.respond_with(now, tx, status, &[], body)
    }

    /// [`respond`](Self::respond) with extra headers (a registrar's WWW-Authenticate, a
    /// redirect's Contact, ...), written after the ones the endpoint copies: at most
    /// [`MAX_EXTRA_HEADERS`], each name up to [`MAX_HEADER_NAME`] and value up to
    /// [`MAX_HEADER_VALUE`] bytes ([`SendError::Capacity`] past them). Not one the
    /// endpoint writes itself ([`SendError::ReservedHeader`], see [`Request::headers`]);
    /// a name that is not a token or a value with CR or LF is
    /// [`SendError::Encode`]. On any error nothing is sent and the request can be
    /// answered again.
    ///
    /// ```no_run
    /// # use sansip::endpoint::{Endpoint, Event};
    /// # use sansip::message::StatusCode;
    /// # fn f(ep: &mut Endpoint, now: sansip::Instant, tx: sansip::endpoint::TxHandle) -> Result<(), sansip::endpoint::SendError> {
    /// // A registrar's challenge (RFC 3261 §22.1); check the answer with `auth::verify`.
    /// let challenge = r#"Digest realm="example.com", nonce="5e7a1b", qop="auth""#;
    /// ep.respond_with(now, tx, StatusCode::UNAUTHORIZED, &[("WWW-Authenticate", challenge)], None)?;
    /// # Ok(()) }
    /// ```
    pub fn respond_with(
        &mut self,
        now: Instant,
        tx: TxHandle,
        status: StatusCode,
        headers: &[(&str, &str)],
        body: Option<(&str, &[u8])>,
    ) -> Result<(), SendError> {
        let entry = self.txs.get(tx.0).ok_or(SendError::UnknownHandle)?;
        if !entry.machine.can_respond() {
            return Err(SendError::InvalidState);
        }
        let is_invite = matches!(entry.machine, Machine::ServerInvite(_));
        // A call that ended (a 481 or 408 to a request of ours, §12.2.1.2) while its
        // peer's re-INVITE waited: that INVITE still needs a final response (§17.2.1),
        // sent by the transaction alone; no 1xx or 2xx, which would make a dialog nobody keeps.
        let call = match entry.call {
            Some(c) if self.calls.get(c.0).is_none() => {
                if is_invite && (status.is_success() || !status.is_final()) {
                    return Err(SendError::InvalidState);
                }
                None
            }
            call => call,
        };
        // RFC 3262 §3: the initial INVITE of a call that asked for reliability.
        let reliable = call
            .and_then(|c| self.calls.get(c.0))
            .and_then(|c| c.reliable)
            .filter(|(t, _)| *t == tx)
            .map(|(_, r)| r);
        if let Some(r) = reliable
            && ((status.is_success() && !r.may_send_final(true))
                || (status == StatusCode::TRYING && r.is_waiting()))
        {
            // No 2xx while an offer in a provisional response is unacknowledged; no 100
            // in place of the provisional response retransmitted until its PRACK.
            return Err(SendError::InvalidState);
        }
        self.set_pending(headers, body)?;
        // RFC 4028 §9: the 2xx to the INVITE or re-INVITE being answered carries the
        // negotiated session timer.
        if is_invite
            && status.is_success()
            && let Some(a) = call
                .and_then(|c| self.calls.get(c.0))
                .filter(|c| c.invite_tx == tx)
                .and_then(|c| c.timer_answer)
            && let Err(e) = self.push_timer_answer(a)
        {
            self.clear_pending();
            return Err(e);
        }
        let result = match (
            call,
            is_invite,
            status.is_provisional(),
            status.is_success(),
        ) {
            (Some(call), true, true, _) if reliable.is_some() && status != StatusCode::TRYING => {
                self.send_reliable(now, tx, call, status, body.is_some())
            }
            (Some(call), true, false, true) => {
                let r = self.step_call(now, call, &dialog::Event::TuAnswer, None);
                if r.is_ok() {
                    self.refresh_target(tx, call);
                }
                r
            }
            (Some(call), true, false, false) => {
                self.step_call(now, call, &dialog::Event::TuReject(status), None)
            }
            _ => {
                // An UPDATE's 2xx refreshes the target too (RFC 6141 §3.4: only a 2xx).
                // Read before the response, which may end the transaction.
                if let Some(call) = call
                    && status.is_success()
                {
                    self.refresh_target(tx, call);
                }
                self.respond_update(now, tx, call, status)
            }
        };
        self.clear_pending();
        // A final response ends the retransmissions (§3); PRACKs are still answered.
        if result.is_ok()
            && status.is_final()
            && let Some(call) = call
            && reliable.is_some()
        {
            self.reliable_step(now, call, |r, _| r.final_sent());
        }
        result
    }

    /// Send the response of server transaction `tx` (not an INVITE's); the final response
    /// to an UPDATE that refreshes the session timer (RFC 4028 §9, §10) carries and
    /// restarts it when 2xx.
    fn respond_update(
        &mut self,
        now: Instant,
        tx: TxHandle,
        call: Option<CallHandle>,
        status: StatusCode,
    ) -> Result<(), SendError> {
        let timer = call
            .and_then(|c| self.calls.get(c.0))
            .and_then(|c| c.update_timer)
            .filter(|(t, _)| *t == tx && status.is_final())
            .map(|(_, a)| a);
        let (Some(call), Some(a)) = (call, timer) else {
            return self.send_response(now, tx, status);
        };
        if status.is_success() {
            self.push_timer_answer(a)?;
        }
        self.send_response(now, tx, status)?;
        if let Some(c) = self.calls.get_mut(call.0) {
            c.update_timer = None;
        }
        if status.is_success() {
            let _ = self.step_call(
                now,
                call,
                &dialog::Event::SessionExpires(Some(a.interval)),
                None,
            );
        }
        Ok(())
    }

    /// The call's request `tx` went again as `retry` (a challenge answered, a 422
    /// followed): the new transaction is the call's, and the old one only absorbs
    /// retransmissions of its final response now (§17.1.1.2, §17.1.2.2).
    fn hand_over(&mut self, call: CallHandle, tx: TxHandle, retry: TxHandle) {
        if let Some(e) = self.txs.get_mut(retry.0) {
            e.call = Some(call);
        }
        if let Some(e) = self.txs.get_mut(tx.0) {
            e.call = None;
        }
        let txs = &self.txs;
        if let Some(auth) = self.call_auths.get_mut(call) {
            auth.reoriginated(tx, retry, |t| {
                txs.get(t.0).is_some_and(|e| e.machine.awaits_final())
            });
        }
    }

    /// Whether this endpoint's messages go over TLS (TLS, or WebSocket over TLS): with a
    /// SIPS Request-URI its dialogs are secure (RFC 3261 §12.1.1, §12.1.2).
    pub(super) fn over_tls(&self) -> bool {
        matches!(self.config.transport, Transport::Tls | Transport::Wss)
    }

    /// What this endpoint supports: the configured capabilities, with `timer` among the
    /// extensions when session timers are on (RFC 4028 §3: a `Require: timer` is then
    /// accepted, not answered 420).
    fn caps(&self) -> Capabilities<'_> {
        match &self.extensions {
            Some(extensions) => Capabilities {
                extensions,
                ..self.config.capabilities
            },
            None => self.config.capabilities,
        }
    }

    /// Whether this endpoint takes reliable provisional responses (RFC 3262): `100rel`
    /// is among the extensions of its capabilities.
    fn supports_100rel(&self) -> bool {
        self.config
            .capabilities
            .extensions
            .iter()
            .any(|e| e.eq_ignore_ascii_case(reliable::OPTION_TAG))
    }

    /// Send provisional `status` on `tx`, the INVITE of `call`, reliably (RFC 3262 §3):
    /// `Require: 100rel` and the next RSeq, retransmitted until its PRACK.
    fn send_reliable(
        &mut self,
        now: Instant,
        tx: TxHandle,
        call: CallHandle,
        status: StatusCode,
        has_sdp: bool,
    ) -> Result<(), SendError> {
        let t1 = self.config.timers.t1;
        let uas = self
            .calls
            .get(call.0)
            .and_then(|c| c.reliable)
            .map(|(_, r)| r)
            .ok_or(SendError::InvalidState)?;
        let step = uas.send(t1, has_sdp).map_err(|_| SendError::InvalidState)?;
        let Some(&reliable::UasAction::Send { rseq }) = step.actions.first() else {
            return Err(SendError::InvalidState);
        };
        let mut number: String<10> = String::new();
        text::push_u32(&mut number, rseq).map_err(|_| SendError::Capacity(Capacity::String))?;
        self.push_pending("Require", reliable::OPTION_TAG)?;
        self.push_pending("RSeq", &number)?;
        self.send_response(now, tx, status)?;
        if let Some(c) = self.calls.get_mut(call.0) {
            c.reliable = Some((tx, step.uas));
        }
        self.run_reliable_actions(now, call, tx, &step.actions);
        Ok(())
    }

    /// Feed the reliability machine of `call` and carry out what it asks.
    fn reliable_step(
        &mut self,
        now: Instant,
        call: CallHandle,
        f: impl FnOnce(reliable::Uas, core::time::Duration) -> reliable::UasStep,
    ) -> Option<reliable::UasStep> {
        let t1 = self.config.timers.t1;
        let (tx, uas) = self.calls.get(call.0).and_then(|c| c.reliable)?;
        let step = f(uas, t1);
        if let Some(c) = self.calls.get_mut(call.0) {
            c.reliable = Some((tx, step.uas));
        }
        self.run_reliable_actions(now, call, tx, &step.actions);
        Some(step)
    }

    fn run_reliable_actions(
        &mut self,
        now: Instant,
        call: CallHandle,
        tx: TxHandle,
        actions: &[reliable::UasAction],
    ) {
        for action in actions {
            match *action {
                reliable::UasAction::StartTimer(d) => {
                    self.set_call_timer(call, RELIABLE_TIMER, Some(now.saturating_add(d)));
                }
                reliable::UasAction::CancelTimer => self.set_call_timer(call, RELIABLE_TIMER, None),
                // The INVITE transaction keeps the provisional response it sent last,
                // which is the outstanding one: no other may follow it unacknowledged.
                reliable::UasAction::Retransmit => {
                    if self.txs.get(tx.0).is_some_and(|e| e.machine.can_respond()) {
                        self.resend(tx, TxBuf::Response);
                    }
                }
                // §3: no PRACK within 64*T1: the INVITE is rejected with a 5xx.
                reliable::UasAction::GiveUp => {
                    let _ = self.step_call(
                        now,
                        call,
                        &dialog::Event::TuReject(StatusCode::SERVER_INTERNAL_ERROR),
                        None,
                    );
                }
                // Sending and PRACK answers are done by the callers.
                reliable::UasAction::Send { .. } | reliable::UasAction::AnswerPrack(_) => {}
            }
        }
    }

    /// Copy the host's extra headers and body for the command being carried out.
    fn set_pending(
        &mut self,
        headers: &[(&str, &str)],
        body: Option<(&str, &[u8])>,
    ) -> Result<(), SendError> {
        self.clear_pending();
        reserved_header(headers)?;
        for (name, value) in headers {
            self.push_pending(name, value)?;
        }
        let too_big = SendError::Capacity(Capacity::Buffer);
        if let Some((ct, b)) = body {
            if ct.len() > MAX_CONTENT_TYPE || b.len() > MSG {
                return Err(too_big);
            }
            // Filled in place: a body built aside would be copied in whole (`MSG` bytes).
            let (t, v) = self
                .pending_body
                .get_or_insert_with(|| (String::new(), Bytes::new()));
            t.clear();
            v.clear();
            // Both fit: checked above.
            let _ = t.push_str(ct);
            let _ = v.extend_from_slice(b);
        }
        Ok(())
    }

    /// Add a header to those the command being carried out writes.
    fn push_pending(&mut self, name: &str, value: &str) -> Result<(), SendError> {
        let too_big = SendError::Capacity(Capacity::Buffer);
        let entry = (
            String::try_from(name).map_err(|_| too_big)?,
            String::try_from(value).map_err(|_| too_big)?,
        );
        self.pending_headers
            .push(entry)
            .map_err(|_| SendError::Capacity(Capacity::Headers))
    }

    fn clear_pending(&mut self) {
        self.pending_body = None;
        self.pending_headers.clear();
    }

    /// Send a request within a call's dialog (INFO, MESSAGE, NOTIFY, UPDATE, REFER, ...;
    /// RFC 3261 §12.2.1.1: CSeq, Request-URI and Route from the dialog). BYE is
    /// [`hangup`](Self::hangup); INVITE, ACK and CANCEL are the session's. A 481 or 408
    /// (or no answer) ends the call (§12.2.1.2).
    ///
    /// Before the call is answered the request goes within its early dialog (UPDATE,
    /// RFC 3311 §5.1; INFO, RFC 6086 §4.2.1): the caller's is the first fork's that sent a
    /// provisional response with a To tag, the callee's exists once it has sent a
    /// provisional response other than 100. Without one, [`SendError::InvalidState`].
    pub fn request_in_call(
        &mut self,
        now: Instant,
        call: CallHandle,
        method: Method<'static>,
        headers: &[(&str, &str)],
        body: Option<(&str, &[u8])>,
    ) -> Result<TxHandle, SendError> {
        if matches!(
            method,
            Method::Invite | Method::Ack | Method::Cancel | Method::Bye
        ) || matches!(method, Method::Extension(m) if Method::from_token(m).is_some_and(|k| k.is_known()))
        {
            return Err(SendError::InvalidState);
        }
        if !self.has_dialog_for_requests(call) {
            return Err(SendError::InvalidState);
        }
        self.set_pending(headers, body)?;
        let result = self.send_in_dialog(now, call, method, None);
        self.clear_pending();
        result
    }

    /// Whether `call` has a dialog requests can go within: confirmed, or early (§12.1:
    /// the caller's made by a provisional response with a To tag; the callee's once it
    /// sent one, 100 aside).
    fn has_dialog_for_requests(&self, call: CallHandle) -> bool {
        let Some(c) = self.calls.get(call.0) else {
            return false;
        };
        match c.session.state() {
            dialog::SessionState::Confirmed => true,
            dialog::SessionState::Proceeding | dialog::SessionState::Accepted => {
                c.dialog.is_some()
                    && (c.session.role() == dialog::Role::Uac
                        || self.txs.get(c.invite_tx.0).is_some_and(|e| {
                            // The last response sent on the INVITE: a provisional
                            // response other than 100, or the 2xx.
                            e.response.starts_with(b"SIP/2.0 1")
                                && !e.response.starts_with(b"SIP/2.0 100")
                                || e.response.starts_with(b"SIP/2.0 2")
                        }))
            }
            _ => false,
        }
    }

    /// Send the ACK of a late-offer call with the host's `answer` (content type, bytes)
    /// to the offer in the 2xx ([`Event::AnswerNeeded`]; RFC 3261 §13.2.1, RFC 3264 §4).
    /// The endpoint keeps that ACK and sends it again for every retransmission of the
    /// 2xx. [`SendError::InvalidState`] if no ACK waits for an answer.
    pub fn ack_with_answer(
        &mut self,
        call: CallHandle,
        answer: (&str, &[u8]),
    ) -> Result<(), SendError> {
        let c = self.calls.get(call.0).ok_or(SendError::UnknownHandle)?;
        let (tag, cseq) = c.ack_wanted.ok_or(SendError::InvalidState)?;
        let (branch, sent_by) = self.via_parts();
        let via = self.via(&branch, &sent_by);
        let mut bytes = Bytes::<MSG>::new();
        let c = self.calls.get(call.0).ok_or(SendError::UnknownHandle)?;
        let d = c.dialog.as_ref().ok_or(SendError::InvalidState)?;
        let mut b = MessageBuilder::request(Method::Ack, "");
        d.ack_into(&mut b, cseq, via);
        // §22.1: the ACK carries the credentials of its INVITE.
        let invite = self.sent_invite(call, c, cseq);
        for h in invite.iter().flat_map(digest::credentials_of) {
            b.push(h.name, Value::Raw(h.value));
        }
        b.body(answer.0, answer.1).encode_appending(&mut bytes)?;
        let dest = dialog_destination(d, c.peer);
        let c = self.calls.get_mut(call.0).ok_or(SendError::UnknownHandle)?;
        c.ack.clone_from(&bytes);
        c.ack_for = Some((tag, cseq));
        c.ack_wanted = None;
        self.queue_transmit(dest, &bytes);
        Ok(())
    }

    /// Send a re-INVITE within an established call (RFC 3261 §14.1) with a new offer
    /// `body` (content type, bytes) and extra `headers`; the request carries this
    /// endpoint's Contact (a target refresh, §12.2.1.1). The answer arrives as
    /// [`Event::Response`] for the returned transaction; a 2xx is ACKed by the endpoint
    /// and refreshes the remote target, any other final response leaves the call as it
    /// was (§14.1), and 408 or 481 (or no response) ends the call (§12.2.1.2). After a
    /// 491 the endpoint waits the §14.1 back-off and then reports
    /// [`Event::RetryReInvite`].
    ///
    /// For a re-INVITE without an offer, see
    /// [`reinvite_without_offer`](Self::reinvite_without_offer).
    /// [`SendError::InvalidState`] if the call is not established, a re-INVITE (sent or
    /// received) is still open, the §14.1 back-off after a 491 is not over (the peer's
    /// re-INVITE may come in during it; [`Event::RetryReInvite`] still ends it), or the
    /// ACK of a 2xx waits for the host's answer
    /// ([`Event::AnswerNeeded`]; RFC 3264 §4).
    pub fn reinvite(
        &mut self,
        now: Instant,
        call: CallHandle,
        headers: &[(&str, &str)],
        body: (&str, &[u8]),
    ) -> Result<TxHandle, SendError> {
        self.send_reinvite(now, call, headers, Some(body))
    }

    /// Send a re-INVITE without an offer (RFC 3261 §14.1, RFC 3264 §4): the peer puts
    /// its offer in the 2xx, and the endpoint waits for the host's answer
    /// ([`Event::AnswerNeeded`], then [`ack_with_answer`](Self::ack_with_answer)) to
    /// send the ACK. Otherwise as [`reinvite`](Self::reinvite).
    pub fn reinvite_without_offer(
        &mut self,
        now: Instant,
        call: CallHandle,
        headers: &[(&str, &str)],
    ) -> Result<TxHandle, SendError> {
        self.send_reinvite(now, call, headers, None)
    }

    fn send_reinvite(
        &mut self,
        now: Instant,
        call: CallHandle,
        headers: &[(&str, &str)],
        body: Option<(&str, &[u8])>,
    ) -> Result<TxHandle, SendError> {
        let c = self.calls.get(call.0).ok_or(SendError::UnknownHandle)?;
        let d = c.dialog.as_ref().ok_or(SendError::InvalidState)?;
        // An ACK still waiting for the host's answer to a 2xx's offer: that INVITE is
        // not over for the peer (§14.1), and no new offer goes before the answer
        // (RFC 3264 §4).
        if !c.session.can_reinvite() || d.local_seq() >= CSEQ_LIMIT || c.ack_wanted.is_some() {
            return Err(SendError::InvalidState);
        }
        // `send_in_dialog` takes the dialog's next CSeq number; the session must know it
        // to tell the re-INVITE's responses from the INVITE's.
        let cseq = d.local_seq() + 1;
        let before = c.session;
        let random = self.next_random() as u16; // any bits will do
        self.set_pending(headers, body)?;
        if let Err(e) = self.push_timer_request(call) {
            self.clear_pending();
            return Err(e);
        }
        let result = self.step_call(
            now,
            call,
            &dialog::Event::TuReInvite {
                cseq,
                body: body.is_some(),
                random,
            },
            None,
        );
        self.clear_pending();
        if let Err(e) = result {
            // Nothing went out: the session is as it was, no re-INVITE pending.
            if let Some(c) = self.calls.get_mut(call.0) {
                c.session = before;
            }
            return Err(e);
        }
        self.calls
            .get(call.0)
            .and_then(|c| c.reinvite)
            .filter(|&(_, seq)| seq == cseq)
            .map(|(tx, _)| tx)
            .ok_or(SendError::InvalidState)
    }

    /// This side's re-INVITE of `call` ended without a response: the session takes it as
    /// the final response `code`, which ends its pending re-INVITE.
    fn reinvite_failed(&mut self, now: Instant, call: CallHandle, code: StatusCode) {
        let Some(c) = self.calls.get(call.0) else {
            return;
        };
        let (Some((_, cseq)), Some(tag)) = (c.reinvite, c.session.kept_dialog()) else {
            return;
        };
        let ev = dialog::Event::Response {
            code,
            to_tag: Some(tag),
            cseq,
            body: false,
        };
        let _ = self.step_call(now, call, &ev, None);
    }

    /// A target refresh request (a re-INVITE, it has a To tag, or an UPDATE, RFC 3311
    /// §5.2) answered with 2xx on server transaction `tx` refreshes the remote target
    /// (RFC 3261 §12.2.2; a failed one changes nothing, RFC 6141). Other requests leave it.
    fn refresh_target(&mut self, tx: TxHandle, call: CallHandle) {
        let Some(e) = self.txs.get(tx.0) else { return };
        // A request without a To tag (an initial INVITE) matches no dialog of ours: our
        // local tag is never empty (`matches_request` below). Settled without parsing it.
        if e.server_key.is_some() && !e.to_tagged {
            return;
        }
        let Some(req) = e.stored_request(&self.config.limits) else {
            return;
        };
        if !matches!(req.method(), Some(Method::Invite | Method::Update)) {
            return;
        }
        // Only a request within the dialog (To tag) refreshes it; the raw value says so
        // without parsing the name-addr again.
        if !req
            .value_of(HeaderKind::To)
            .is_some_and(|(to, _)| crate::encode::derive::has_tag(to))
        {
            return;
        }
        // Only the call's own dialog: a request in another fork's early dialog says
        // nothing about this one's target.
        if let Some(d) = self.calls.get_mut(call.0).and_then(|c| c.dialog.as_mut())
            && d.id().matches_request(&req)
        {
            let _ = d.refresh_target(&req);
        }
    }

    /// Give `call` Digest credentials from now on, or take them away (`None`): a call
    /// this side answered (a proxy that challenges the callee's BYE, re-INVITE or
    /// REFER), or one placed without them. Later requests of the call that get a 401 or
    /// 407 are sent again answering it, as [`Request::credentials`] describes (RFC 3261
    /// §22.2, §22.3). Challenges the call's old credentials answered are forgotten: the
    /// next request goes without `Authorization` until challenged again. A request
    /// already challenged is not sent again. The ACK of an INVITE sent with the old
    /// ones still carries them (§22.1).
    ///
    /// Errors: [`SendError::UnknownHandle`] for a call that is over; [`SendError::Capacity`]
    /// for a username, password or realm longer than [`MAX_CREDENTIAL`] (the call keeps
    /// the credentials it had).
    ///
    /// ```
    /// # use sansip::endpoint::{DigestCredentials, Endpoint, EndpointConfig, Event, SendError};
    /// # use sansip::Instant;
    /// # fn on_event(ep: &mut Endpoint<8, 4, 1500>, event: Event) -> Result<(), SendError> {
    /// // The account's password answers challenges to the calls it takes, too.
    /// if let Event::IncomingRequest { call: Some(call), .. } = event {
    ///     ep.set_credentials(call, Some(&DigestCredentials::new("bob", "secret")))?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_credentials(
        &mut self,
        call: CallHandle,
        credentials: Option<&DigestCredentials<'_>>,
    ) -> Result<(), SendError> {
        self.calls.get(call.0).ok_or(SendError::UnknownHandle)?;
        let auth = credentials.map(Auth::new).transpose()?;
        // The requests already sent with the old ones keep them: their ACKs carry them
        // (§22.1), read back from the INVITE or its lingering record.
        let auth = match (auth, self.call_auths.get(call)) {
            (Some(mut new), Some(old)) => {
                new.lingering_reinvite = old.lingering_reinvite.clone();
                Some(new)
            }
            (None, Some(old)) => Some(old.withdrawn()),
            (auth, None) => auth,
        };
        self.call_auths.set(call, auth);
        Ok(())
    }

    /// Cancel a call that has not been answered (RFC 3261 §9.1). Sent once a
    /// provisional response has arrived; before that it is deferred. The callee's 487
    /// (ACKed by the endpoint) then ends the call: [`Event::CallTerminated`] with
    /// [`EndReason::Cancelled`](dialog::EndReason::Cancelled). A 2xx that crosses the
    /// CANCEL is ACKed and the call ended with a BYE.
    ///
    /// Errors: [`SendError::UnknownHandle`] for a call that is over;
    /// [`SendError::InvalidState`] for a call this side received (answer it with a
    /// final response instead) or one already answered (use [`hangup`](Self::hangup)).
    pub fn cancel(&mut self, now: Instant, call: CallHandle) -> Result<(), SendError> {
        let c = self.calls.get(call.0).ok_or(SendError::UnknownHandle)?;
        if c.session.role() != dialog::Role::Uac {
            return Err(SendError::InvalidState);
        }
        self.step_call(now, call, &dialog::Event::TuCancel, None)
    }

    /// End a call whatever its state: CANCEL, BYE or reject, as fits (RFC 3261 §15).
    /// A call placed and not answered is cancelled (as [`cancel`](Self::cancel));
    /// one received and not answered is refused with 603 Decline; a callee that
    /// answered sends its BYE once the ACK has come (§15). [`Event::CallTerminated`]
    /// follows: [`EndReason::LocalBye`](dialog::EndReason::LocalBye) once a BYE is sent
    /// (its response also gives an [`Event::Response`]), `Cancelled`, or
    /// `Rejected(603)`.
    ///
    /// Errors: [`SendError::UnknownHandle`] for a call that is over (a second
    /// `hangup`, or after its `CallTerminated`).
    pub fn hangup(&mut self, now: Instant, call: CallHandle) -> Result<(), SendError> {
        if self.calls.get(call.0).is_none() {
            return Err(SendError::UnknownHandle);
        }
        self.step_call(now, call, &dialog::Event::TuHangUp, None)
    }

    // ----- requests ------------------------------------------------------------------

    fn on_request(
        &mut self,
        now: Instant,
        from: SocketAddr,
        msg: &Message<'_>,
        core: &CoreHeaders<'_>,
        target: Option<&str>,
    ) {
        let Some(method) = msg.method() else { return };
        // The key is borrowed from the result, not moved out of it (some 700 bytes).
        let made = RequestKey::from_parts(
            msg,
            &core.top_via,
            Some(&core.to),
            Some(&core.from),
            Some(&core.call_id),
            Some(&core.cseq),
        );
        let key = match &made {
            Ok(k) => k,
            // An ACK is never answered (§17); it cannot belong to anything we could find.
            Err(_) if method == Method::Ack => return,
            // A branch, sent-by or Call-ID too long for the key's bounded storage.
            Err(_) => return self.reply_stateless(msg, from, StatusCode::SERVICE_UNAVAILABLE),
        };
        if method == Method::Ack {
            return self.on_ack(now, msg, key, core);
        }
        // A retransmission: the transaction resends its last response (§17.2). The
        // key's hash is kept for the new transaction's index entry.
        let key_hash = hash_of(self.hash_key, 1, key);
        if let Some(h) = self.find_server_tx_hashed(key, key_hash) {
            return self.step_tx(now, TxHandle(h), TxInput::Request, None);
        }
        // The key as the lingering records hold it, made once for both lookups below.
        let probe = self.linger.probe(key);
        if let Some(found) = probe.as_ref().and_then(|p| self.linger.find(p)) {
            // Completed (Timer J): the final response again; Accepted (Timer L): absorbed.
            if !found.response.is_empty() && !self.transmits.push(found.peer, found.response) {
                self.stats.queue_overflows += 1;
            }
            return;
        }
        if method == Method::Cancel {
            return self.on_cancel(now, from, msg, key, key_hash, core);
        }
        // A NOTIFY of one of our subscriptions (RFC 6665 §4.4.1).
        if method == Method::Notify
            && let Some(sub) = self.subscription_for(msg, core)
        {
            return self.on_notify(now, from, msg, key, core, sub);
        }
        // A SUBSCRIBE refreshing or ending a subscription we serve (RFC 6665 §4.2.1.4).
        if let Some(n) = self.notifier_for(msg, core) {
            return self.on_resubscribe(now, from, msg, key, core, n);
        }
        if core.to.tag().is_some() {
            return self.on_in_dialog(now, from, msg, key, key_hash, core);
        }
        // §8.2.2.2: the same request over another path is a merged request.
        let merge = MergeKey::new(
            core.from.tag().unwrap_or(""),
            core.call_id.as_str(),
            core.cseq.seq(),
            core.cseq.method(),
        );
        // Borrowed where it was built: `ok()` would move the key (some 400 bytes).
        let merge = merge.as_ref().ok();
        let merge_hash = merge.map(|m| hash_of(self.hash_key, 3, m));
        if let (Some(m), Some(mh)) = (merge, merge_hash)
            && (self.is_merged(m, mh, key)
                || probe.as_ref().is_some_and(|p| self.linger.is_merged(m, p)))
        {
            self.stats.rejected += 1;
            return self.reply_stateless(msg, from, StatusCode::LOOP_DETECTED);
        }
        let hashes = KeyHashes {
            key: Some(key_hash),
            merge: merge_hash,
        };
        let Some(tx) = self.new_server_tx(now, from, msg, core, key, merge, hashes) else {
            return;
        };
        let call = if method == Method::Invite {
            let Some(timer_answer) = self.timer_verdict(now, tx, msg) else {
                return;
            };
            self.new_uas_call(tx, from, msg, core, target, timer_answer)
        } else {
            None
        };
        if method == Method::Invite && call.is_none() {
            return;
        }
        self.push_event(Event::IncomingRequest { tx, call });
    }

    fn on_ack(
        &mut self,
        now: Instant,
        msg: &Message<'_>,
        key: &RequestKey,
        core: &CoreHeaders<'_>,
    ) {
        // The ACK for a non-2xx final belongs to the INVITE transaction (§17.2.3); under
        // the RFC 2543 fallback it carries the final response's To tag.
        // Only RFC 2543 keys are in `ack_index` (`index_legacy_ack`): an RFC 3261 key
        // skips its lookup, and the hash.
        let legacy = matches!(key, RequestKey::Legacy(_));
        let found = self.find_server_tx(key).or_else(|| {
            if !legacy {
                return None;
            }
            self.ack_index
                .candidates(hash_of(self.hash_key, 5, key))
                .filter_map(|i| self.txs.handle_at(i))
                .find(|&h| {
                    self.txs
                        .get(h)
                        .is_some_and(|e| e.ack_key.as_ref() == Some(key))
                })
        });
        if let Some(h) = found {
            let is_2xx_sent = matches!(self.txs.get(h).map(|e| e.machine), Some(Machine::ServerInvite(m)) if m.state() == transaction::State::Accepted);
            if !is_2xx_sent {
                return self.step_tx(now, TxHandle(h), TxInput::Ack, None);
            }
        }
        // The ACK for a 2xx is its own transaction: it goes to the session (§13.3.1.4),
        // never one within another fork's early dialog (nothing there to acknowledge).
        let Some(call) = self.find_call_for_request(core) else {
            return;
        };
        if self
            .early_fork(call, core.from.tag().unwrap_or(""))
            .is_some()
        {
            return;
        }
        let cseq = &core.cseq;
        // §13.3.1.4: only the ACK of the INVITE being answered stops its 2xx; a late copy
        // of an earlier INVITE's ACK acknowledges nothing now (the session checks the
        // same; the copy is not even fed to it).
        let answering = self
            .calls
            .get(call.0)
            .and_then(|c| self.txs.get(c.invite_tx.0))
            .and_then(|e| match e.cseq {
                Some(seq) => Some(seq),
                None => e
                    .stored_request(&self.config.limits)
                    .and_then(|r| r.cseq().ok().map(|c| c.seq())),
            });
        if answering.is_some_and(|seq| seq != cseq.seq()) {
            return;
        }
        let body = !msg.body().is_empty();
        let _ = self.step_call(
            now,
            call,
            &dialog::Event::Ack {
                cseq: cseq.seq(),
                body,
            },
            None,
        );
        // An answer to the offer of our 2xx (late offer, RFC 3264 §4): kept for the host,
        // reported once (a retransmitted 2xx brings the same ACK again).
        if body
            && let Some(c) = self.calls.get_mut(call.0)
            && c.answer.as_slice() != msg.as_bytes()
        {
            c.answer.clear();
            if c.answer.extend_from_slice(msg.as_bytes()).is_ok() {
                self.push_event(Event::AnswerReceived { call });
            }
        }
        // The 2xx is acknowledged: its INVITE transaction only waits out Timer L now.
        if let Some(tx) = self.calls.get(call.0).map(|c| c.invite_tx) {
            self.linger_tx(tx);
        }
    }

    fn on_cancel(
        &mut self,
        now: Instant,
        from: SocketAddr,
        msg: &Message<'_>,
        key: &RequestKey,
        key_hash: u64,
        core: &CoreHeaders<'_>,
    ) {
        // §9.2: the CANCEL matches the INVITE transaction by the same rules.
        let invite_key = match key {
            RequestKey::Rfc3261(k) => k.cancelled_invite().map(RequestKey::Rfc3261),
            RequestKey::Legacy(k) => k.cancelled_invite().map(RequestKey::Legacy),
        };
        let invite = invite_key.as_ref().and_then(|ik| self.find_server_tx(ik));
        // An INVITE answered and acknowledged long ago lingers as a record: the CANCEL
        // found it, too late to matter, and gets its 200 (§9.2).
        let answered = invite.is_none()
            && invite_key
                .as_ref()
                .and_then(|ik| self.linger.probe(ik))
                .is_some_and(|p| self.linger.find(&p).is_some());
        // §9.2: a CANCEL may target any request but ACK and CANCEL. A non-INVITE it
        // finds goes on unaffected, and the CANCEL gets 200, not 481.
        let non_invite = invite.is_none()
            && !answered
            && match key {
                RequestKey::Rfc3261(k) => self
                    .config
                    .capabilities
                    .methods
                    .iter()
                    .filter(|m| !matches!(m, Method::Invite | Method::Ack | Method::Cancel))
                    .filter_map(|&m| {
                        transaction::ServerKey::new(
                            k.branch(),
                            k.sent_by_host(),
                            k.sent_by_port(),
                            m,
                        )
                        .ok()
                    })
                    .map(RequestKey::Rfc3261)
                    .any(|k| {
                        self.find_server_tx(&k).is_some()
                            || self
                                .linger
                                .probe(&k)
                                .is_some_and(|p| self.linger.find(&p).is_some())
                    }),
                RequestKey::Legacy(_) => false,
            };
        let hashes = KeyHashes {
            key: Some(key_hash),
            merge: None,
        };
        let Some(cancel_tx) = self.new_server_tx(now, from, msg, core, key, None, hashes) else {
            return;
        };
        if answered || non_invite {
            let _ = self.send_response(now, cancel_tx, StatusCode::OK);
            return;
        }
        let call = invite.and_then(|h| self.txs.get(h)).and_then(|e| e.call);
        match call {
            Some(call) => {
                if let Some(c) = self.calls.get_mut(call.0) {
                    c.pending_tx = Some(cancel_tx);
                }
                let _ = self.step_call(now, call, &dialog::Event::Cancel, None);
                // Already answered: the CANCEL still gets its 200 (§9.2), nothing else.
                if self
                    .txs
                    .get(cancel_tx.0)
                    .is_some_and(|e| e.machine.can_respond())
                {
                    let _ = self.send_response(now, cancel_tx, StatusCode::OK);
                }
                // A re-INVITE the session left pending is answered 487 too (§9.2); the
                // session hears it as the TU's rejection.
                if let Some(h) = invite
                    && self.txs.get(h).is_some_and(|e| e.machine.can_respond())
                {
                    let _ = self.respond(now, TxHandle(h), StatusCode::REQUEST_TERMINATED, None);
                }
            }
            None => {
                self.stats.rejected += 1;
                let _ = self.send_response(
                    now,
                    cancel_tx,
                    StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST,
                );
            }
        }
    }

    fn on_in_dialog(
        &mut self,
        now: Instant,
        from: SocketAddr,
        msg: &Message<'_>,
        key: &RequestKey,
        key_hash: u64,
        core: &CoreHeaders<'_>,
    ) {
        let Some(method) = msg.method() else { return };
        let call = self.find_call_for_request(core);
        let hashes = KeyHashes {
            key: Some(key_hash),
            merge: None,
        };
        let Some(tx) = self.new_server_tx(now, from, msg, core, key, None, hashes) else {
            return;
        };
        let Some(call) = call else {
            // §12.2.2: no dialog matches.
            self.stats.rejected += 1;
            let _ = self.send_response(now, tx, StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST);
            return;
        };
        let remote_tag = core.from.tag().unwrap_or("");
        if let Some(fork) = self.early_fork(call, remote_tag) {
            return self.on_early_fork_request(now, tx, call, fork, method, core.cseq.seq());
        }
        let verdict = match self.calls.get_mut(call.0).and_then(|c| c.dialog.as_mut()) {
            Some(d) => d.on_request_parts(core.call_id.as_str(), &core.from, &core.to, &core.cseq),
            None => Err(dialog::Reject::NoDialog),
        };
        if let Err(reject) = verdict {
            self.stats.rejected += 1;
            let _ = self.send_response(now, tx, reject.status());
            return;
        }
        if let Some(e) = self.txs.get_mut(tx.0) {
            e.call = Some(call);
        }
        match method {
            Method::Bye => {
                if let Some(c) = self.calls.get_mut(call.0) {
                    c.pending_tx = Some(tx);
                }
                // No tag, or one past MAX_TAG: the empty one.
                let bye = dialog::Event::Bye {
                    remote_tag: Tag::new_or_empty(core.from.tag().unwrap_or("")),
                };
                let _ = self.step_call(now, call, &bye, None);
                // A BYE the session did not answer (a stale dialog): 481.
                if self.txs.get(tx.0).is_some_and(|e| e.machine.can_respond()) {
                    let _ =
                        self.send_response(now, tx, StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST);
                }
            }
            Method::Invite => {
                // RFC 4028 §9: a re-INVITE asking for too short a session gets 422 before
                // the session hears of it.
                let Some(timer_answer) = self.timer_verdict(now, tx, msg) else {
                    return;
                };
                // RFC 3262 §3 applies to each INVITE: a re-INVITE that requires or
                // supports 100rel gets its own reliable provisional responses.
                if self.supports_100rel() && reliable::wanted(msg) != reliable::Wanted::No {
                    let uas = reliable::Uas::new(self.next_random() as u32, core.cseq.seq());
                    if let Some(c) = self.calls.get_mut(call.0) {
                        c.reliable = Some((tx, uas));
                    }
                }
                // The session answers the re-INVITE through `invite_tx`; if it refuses it
                // at once (491 glare, 500 before the ACK), the call's INVITE transaction
                // stays the one it was (its 2xx may still need retransmitting).
                let previous = self
                    .calls
                    .get_mut(call.0)
                    .map(|c| core::mem::replace(&mut c.invite_tx, tx));
                let body = !msg.body().is_empty();
                let cseq = core.cseq.seq();
                let _ = self.step_call(now, call, &dialog::Event::ReInvite { body, cseq }, None);
                if self.txs.get(tx.0).is_some_and(|e| e.machine.can_respond()) {
                    if let Some(c) = self.calls.get_mut(call.0) {
                        c.min_se_asked = c.min_se_asked.max(timer_answer.map_or(0, |a| a.min_se));
                        c.timer_answer = timer_answer;
                    }
                    self.push_event(Event::IncomingRequest {
                        tx,
                        call: Some(call),
                    });
                } else if let (Some(previous), Some(c)) = (previous, self.calls.get_mut(call.0)) {
                    c.invite_tx = previous;
                }
            }
            Method::Prack => self.on_prack(now, msg, tx, call),
            // RFC 4028 §9, §10: an UPDATE within the call's confirmed dialog is a session
            // refresh request too.
            Method::Update
                if self.config.session_timer.is_some()
                    && self
                        .calls
                        .get(call.0)
                        .is_some_and(|c| c.session.state() == dialog::SessionState::Confirmed) =>
            {
                let Some(answer) = self.timer_verdict(now, tx, msg) else {
                    return;
                };
                if let Some(c) = self.calls.get_mut(call.0) {
                    c.min_se_asked = c.min_se_asked.max(answer.map_or(0, |a| a.min_se));
                    c.update_timer = answer.map(|a| (tx, a));
                }
                self.push_event(Event::IncomingRequest {
                    tx,
                    call: Some(call),
                });
            }
            _ => self.push_event(Event::IncomingRequest {
                tx,
                call: Some(call),
            }),
        }
    }

    /// A request within the early dialog of fork `fork` of a call this side placed
    /// (§12.1.2), not the call's own dialog: checked for its CSeq (§12.2.2: 500 for one
    /// not above the last), then given to the host like any request in the call (UPDATE,
    /// INFO, ...). An INVITE there meets this side's INVITE in progress (491, §14.2); a
    /// BYE, which a callee must not send in an early dialog (§15), ends that early
    /// dialog alone (200, §15.1.2); a PRACK acknowledges nothing this side sent (481).
    fn on_early_fork_request(
        &mut self,
        now: Instant,
        tx: TxHandle,
        call: CallHandle,
        fork: usize,
        method: Method<'_>,
        seq: u32,
    ) {
        let Some(f) = self
            .calls
            .get_mut(call.0)
            .and_then(|c| c.forks.get_mut(fork))
        else {
            return;
        };
        if f.remote_seq.is_some_and(|last| seq <= last) {
            self.stats.rejected += 1;
            let _ = self.send_response(now, tx, StatusCode::SERVER_INTERNAL_ERROR);
            return;
        }
        f.remote_seq = Some(seq);
        let status = match method {
            Method::Invite => Some(StatusCode::REQUEST_PENDING),
            Method::Prack => Some(StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST),
            Method::Bye => {
                f.ended = true;
                Some(StatusCode::OK)
            }
            _ => None,
        };
        match status {
            Some(status) => {
                let _ = self.send_response(now, tx, status);
            }
            None => {
                if let Some(e) = self.txs.get_mut(tx.0) {
                    e.call = Some(call);
                }
                self.push_event(Event::IncomingRequest {
                    tx,
                    call: Some(call),
                });
            }
        }
    }

    /// A PRACK in the dialog of `call` (RFC 3262 §3): 200 if it acknowledges the
    /// outstanding reliable provisional response, 481 if it matches none, 400 without a
    /// well-formed RAck.
    fn on_prack(&mut self, now: Instant, msg: &Message<'_>, tx: TxHandle, call: CallHandle) {
        let rack = match msg.rack() {
            Some(Ok(r)) => r,
            _ => {
                self.stats.rejected += 1;
                let _ = self.send_response(now, tx, StatusCode::BAD_REQUEST);
                return;
            }
        };
        let status = self
            .reliable_step(now, call, |r, _| r.prack(&rack))
            .and_then(|step| {
                step.actions.iter().find_map(|a| match a {
                    reliable::UasAction::AnswerPrack(code) => Some(*code),
                    _ => None,
                })
            })
            .unwrap_or(StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST);
        let _ = self.send_response(now, tx, status);
        if status.is_success() {
            self.push_event(Event::ProvisionalAcknowledged {
                call,
                rseq: rack.rseq(),
            });
            // §5: a PRACK may carry the answer to an offer in the provisional response
            // (or a new offer): kept for the host like an ACK's.
            if !msg.body().is_empty()
                && let Some(c) = self.calls.get_mut(call.0)
            {
                c.answer.clear();
                if c.answer.extend_from_slice(msg.as_bytes()).is_ok() {
                    self.push_event(Event::AnswerReceived { call });
                }
            }
        } else {
            self.stats.rejected += 1;
        }
    }

    fn find_call_for_request(&self, core: &CoreHeaders<'_>) -> Option<CallHandle> {
        // §12.2.2: Call-ID, To tag = local tag, From tag = remote tag.
        self.find_call(
            core.call_id.as_str(),
            core.to.tag().unwrap_or(""),
            core.from.tag().unwrap_or(""),
        )
    }

    /// The call with a dialog of this id: its own, or, for a call this side placed, the
    /// early dialog of another fork (§12.1.2) while the INVITE may still be answered.
    fn find_call(&self, call_id: &str, local_tag: &str, remote_tag: &str) -> Option<CallHandle> {
        // Call-ID and local tag single out a call (the local tag is ours); the remote
        // tag then names one of its dialogs.
        let hash = hash_of(self.hash_key, 4, &(call_id, local_tag));
        self.call_index
            .candidates(hash)
            .filter_map(|i| self.calls.handle_at(i))
            .find(|&h| {
                self.calls.get(h).is_some_and(|c| match c.dialog.as_ref() {
                    Some(d) => {
                        let id = d.id();
                        id.call_id() == call_id
                            && id.local_tag() == local_tag
                            && (id.remote_tag() == remote_tag
                                || self.early_fork(CallHandle(h), remote_tag).is_some())
                    }
                    // A caller whose first early dialog ended (`dialog_gone`): other
                    // forks' early dialogs live on (§12.1.2); the Call-ID is the INVITE's.
                    None => {
                        c.local_tag == local_tag
                            && self.early_fork(CallHandle(h), remote_tag).is_some()
                            && self
                                .uac_invite_message(c)
                                .and_then(|m| m.call_id().ok())
                                .is_some_and(|id| id.as_str() == call_id)
                    }
                })
            })
            .map(CallHandle)
    }

    /// The early dialog (fork) of `call` with remote tag `tag`, other than the call's own
    /// dialog, while this side's INVITE may still be answered: until its transaction
    /// ends (§13.2.2.4; a non-2xx final response ends the call and them, §12.3). Only a
    /// call this side placed has forks.
    fn early_fork(&self, call: CallHandle, tag: &str) -> Option<usize> {
        let c = self.calls.get(call.0)?;
        if c.session.is_terminated() || !self.uac_invite_live(c) {
            return None;
        }
        if c.dialog
            .as_ref()
            .is_some_and(|d| d.id().remote_tag() == tag)
        {
            return None;
        }
        c.forks.iter().position(|f| f.tag.is(tag) && !f.ended)
    }

    /// The initial INVITE this side sent for call `c`: kept by its client transaction, or
    /// by the record that transaction lingers as once answered (RFC 6026 Accepted).
    fn uac_invite_message(&self, c: &CallEntry<MSG>) -> Option<Message<'_>> {
        if let Some(e) = c.uac_invite.and_then(|t| self.txs.get(t.0)) {
            return e.stored_request(&Limits::default());
        }
        let key = c.lingering_invite.as_ref()?;
        let found = self.linger.find(&self.linger.probe_client(key)?)?;
        Message::parse(split_trailer(found.response).0).ok()
    }

    /// The UAC dialog of call `c` that the dialog-creating response `msg` makes
    /// (§12.1.2): from `msg` alone when it `echoes_invite` (see `session_response`),
    /// else from the INVITE and `msg`. A 2xx without a usable Contact targets the
    /// INVITE's Request-URI instead, so that it can be ACKed and the call ended
    /// (`Dialog::uac_or_request_target`).
    fn uac_dialog(
        &self,
        c: &CallEntry<MSG>,
        msg: &Message<'_>,
        core: &CoreHeaders<'_>,
        echoes_invite: bool,
    ) -> Result<Dialog, dialog::DialogError> {
        let call_id = core.call_id.as_str();
        if echoes_invite {
            let seq = core.cseq.seq();
            let made = Dialog::uac_from_response(msg, &core.from, &core.to, call_id, seq);
            if made.is_ok() || !msg.status().is_some_and(StatusCode::is_success) {
                return made;
            }
        }
        let inv = self
            .uac_invite_message(c)
            .ok_or(dialog::DialogError::NotDialogCreating)?;
        Dialog::uac_or_request_target(&inv, msg, &core.to, call_id, self.over_tls())
    }

    /// Whether the initial INVITE of call `c` may still be answered: its transaction (or
    /// the record it lingers as) lives.
    fn uac_invite_live(&self, c: &CallEntry<MSG>) -> bool {
        c.uac_invite.and_then(|t| self.txs.get(t.0)).is_some()
            || c.lingering_invite.as_ref().is_some_and(|key| {
                self.linger
                    .probe_client(key)
                    .is_some_and(|p| self.linger.find(&p).is_some())
            })
    }

    /// Index `call` under its dialog's Call-ID and local tag.
    fn index_call(&mut self, call: CallHandle) {
        let Some(d) = self.calls.get(call.0).and_then(|c| c.dialog.as_ref()) else {
            return;
        };
        let id = d.id();
        let hash = hash_of(self.hash_key, 4, &(id.call_id(), id.local_tag()));
        self.call_index.insert(call.0.index, hash);
    }

    fn remove_call(&mut self, now: Instant, call: CallHandle) {
        let Some((uac_invite, reinvite, lingering)) = self.calls.get_mut(call.0).map(|c| {
            let c = &mut c.meta; // fields borrowed apart
            c.keep_early_seqs();
            (c.uac_invite, c.reinvite, c.lingering_invite.clone())
        }) else {
            return;
        };
        // A fork that answers after the call is over is ACKed and BYEd (§13.2.2.4); its
        // BYE goes on from the CSeq of its PRACKs (§12.2.1.1), kept with the INVITE
        // (written there in place: the list has room for every fork's tag).
        // Appended after the dialogs BYEd while the call went on (`mark_byed_in`).
        let forks = self.calls.get(call.0).map_or(&[][..], |c| &c.forks[..]);
        if !forks.is_empty() {
            if let Some(e) = uac_invite.and_then(|t| self.txs.get_mut(t.0)) {
                for f in forks {
                    push_list_entry(&mut e.fork_seqs, f.tag.as_bytes(), f.local_seq);
                }
            } else if let Some(trailer) = lingering
                .as_ref()
                .and_then(|key| self.linger.payload_mut(key))
                .and_then(|p| p.len().checked_sub(FORK_TRAILER).map(|at| &mut p[at..]))
            {
                // The room the INVITE's record kept for them.
                append_fork_seqs(forks, trailer);
            }
        }
        // The dialog a 2xx confirmed (UAC: the one the call ran on), ended by the peer
        // (its BYE, or a 481/408; a BYE of this side's marked it as it went, `SendBye`):
        // a retransmission of that 2xx, reaching the INVITE while it waits out Timer M,
        // gets its ACK again and no BYE of its own (§13.2.2.4, §12.2.1.1).
        let ended_here = |c: &CallEntry<MSG>| {
            matches!(
                c.session.state(),
                dialog::SessionState::Terminated(
                    dialog::EndReason::LocalBye
                        | dialog::EndReason::SessionExpired
                        | dialog::EndReason::Cancelled
                )
            )
        };
        if let Some(own) = self
            .calls
            .get(call.0)
            .filter(|c| !ended_here(c))
            .and_then(|c| c.dialog.as_ref())
            .filter(|d| d.state() != dialog::DialogState::Early)
            .filter(|_| uac_invite.is_some() || lingering.is_some())
        {
            let tag = own.id().remote_tag().as_bytes();
            mark_byed_in(
                &mut self.txs,
                &mut self.linger,
                uac_invite,
                lingering.as_ref(),
                tag,
            );
        }
        self.calls.free(call.0);
        self.call_index.remove(call.0.index);
        self.call_deadlines.set(call.0.index, None);
        // An INVITE or re-INVITE of ours still waiting for its final response (the call
        // ended by a BYE in its early dialog, or while a re-INVITE was out) loses the
        // call's guards with the call, and an INVITE client transaction has no timer in
        // Proceeding (§17.1.1.2): give it 64*T1 more, then drop it (as §9.1 does for a
        // cancelled INVITE).
        for tx in [uac_invite, reinvite.map(|(tx, _)| tx)]
            .into_iter()
            .flatten()
        {
            if matches!(self.txs.get(tx.0).map(|e| e.machine), Some(Machine::ClientInvite(m))
                if matches!(m.state(), transaction::State::Calling | transaction::State::Proceeding))
            {
                let guard = now.saturating_add(self.config.timers.t1_x64());
                self.set_tx_timer(tx, ORPHAN_GUARD, Some(guard));
            }
        }
    }

    fn find_server_tx(&self, key: &RequestKey) -> Option<RawHandle> {
        self.find_server_tx_hashed(key, hash_of(self.hash_key, 1, key))
    }

    /// [`find_server_tx`](Self::find_server_tx) with the key's `hash` at hand.
    fn find_server_tx_hashed(&self, key: &RequestKey, hash: u64) -> Option<RawHandle> {
        self.tx_index
            .candidates(hash)
            .filter_map(|i| self.txs.handle_at(i))
            .find(|&h| {
                self.txs
                    .get(h)
                    .is_some_and(|e| e.server_key.as_ref() == Some(key))
            })
    }

    /// [`find_client_tx`](Self::find_client_tx) for the key `ClientKey::new(branch,
    /// method)` would make (it must fit, `ClientKey::fits`), without making it: the same
    /// hash (its parts are these texts) and the same comparison.
    fn find_client_tx_by_parts(&self, branch: &str, method: Method<'_>) -> Option<RawHandle> {
        let hash = table::hash_parts(
            self.hash_key,
            2,
            &[branch.as_bytes(), method.as_str().as_bytes()],
        );
        let found = self
            .tx_index
            .candidates(hash)
            .filter_map(|i| self.txs.handle_at(i))
            .find(|&h| {
                self.txs
                    .get(h)
                    .and_then(|e| e.client_key.as_ref())
                    .is_some_and(|k| k.is(branch, method))
            });
        // Every test and fuzz run compares it with the lookup by the key it stands for.
        #[cfg(debug_assertions)]
        if let Ok(key) = ClientKey::new(branch, method) {
            debug_assert_eq!(hash, hash_of(self.hash_key, 2, &key));
            debug_assert_eq!(found, self.find_client_tx(&key));
        }
        found
    }

    /// The client transaction of `key`: the reference
    /// [`find_client_tx_by_parts`](Self::find_client_tx_by_parts) is checked against.
    #[cfg(debug_assertions)]
    fn find_client_tx(&self, key: &ClientKey) -> Option<RawHandle> {
        self.tx_index
            .candidates(hash_of(self.hash_key, 2, key))
            .filter_map(|i| self.txs.handle_at(i))
            .find(|&h| {
                self.txs
                    .get(h)
                    .is_some_and(|e| e.client_key.as_ref() == Some(key))
            })
    }

    /// §8.2.2.2: a server transaction with the same merge key but another transaction
    /// key exists.
    fn is_merged(&self, merge: &MergeKey, merge_hash: u64, key: &RequestKey) -> bool {
        self.merge_index
            .candidates(merge_hash)
            .filter_map(|i| self.txs.handle_at(i))
            .any(|h| {
                self.txs.get(h).is_some_and(|e| {
                    e.machine.is_server()
                        && e.merge_key.as_ref() == Some(merge)
                        && e.server_key.as_ref() != Some(key)
                })
            })
    }

    /// Put a transaction running `machine` in the table, its state set by `init` where
    /// it is kept (the state is some 3.6 kB: made apart, it would be copied in whole),
    /// with `request` as its stored request (copied into the slot: an entry holds two
    /// `MSG`-byte buffers), and its keys in the indexes.
    #[inline(always)]
    fn insert_tx(
        &mut self,
        request: &[u8],
        known: KeyHashes,
        machine: Machine,
        init: impl FnOnce(&mut TxMeta),
    ) -> Option<RawHandle> {
        // The slot taken is a free one, whose buffers are overwritten: what the
        // transmit queue holds of free slots is copied in first.
        self.settle_free_slots();
        let h = self.txs.insert_reusing(|slot| {
            let e = slot.get_or_insert_with(|| TxEntry {
                meta: TxMeta::blank(machine),
                request: Bytes::new(),
                response: crate::encode::Stored::new(),
            });
            e.request.clear();
            e.response.clear();
            e.meta.machine = machine;
            init(&mut e.meta);
        })?;
        let Some(e) = self.txs.get_mut(h) else {
            return Some(h);
        };
        if e.request.extend_from_slice(request).is_err() {
            // Callers hand over at most MSG bytes; should one not, nothing is stored.
            self.txs.free(h);
            return None;
        }
        let hk = self.hash_key;
        let server = e
            .server_key
            .as_ref()
            .map(|k| known.key.unwrap_or_else(|| hash_of(hk, 1, k)));
        let client = e
            .client_key
            .as_ref()
            .map(|k| known.key.unwrap_or_else(|| hash_of(hk, 2, k)));
        let merge = e
            .merge_key
            .as_ref()
            .map(|k| known.merge.unwrap_or_else(|| hash_of(hk, 3, k)));
        if let Some(hash) = server.or(client) {
            self.tx_index.insert(h.index, hash);
        }
        if let Some(hash) = merge {
            self.merge_index.insert(h.index, hash);
        }
        Some(h)
    }

    /// Put a new call in a free slot, reusing the buffers of the call it last held.
    fn insert_call(&mut self, make: impl FnOnce() -> CallMeta) -> Option<RawHandle> {
        self.calls
            .insert_reusing(|slot| CallEntry::fill(slot, make))
    }

    fn remove_tx(&mut self, tx: TxHandle) {
        if self.txs.free(tx.0) {
            self.tx_index.remove(tx.0.index);
            self.merge_index.remove(tx.0.index);
            self.ack_index.remove(tx.0.index);
            self.tx_deadlines.set(tx.0.index, None);
        }
    }

    /// A server transaction for the request `msg` (§17.2); `hashes` are those of its keys
    /// where the lookups before it computed them.
    #[allow(clippy::too_many_arguments)]
    fn new_server_tx(
        &mut self,
        now: Instant,
        from: SocketAddr,
        msg: &Message<'_>,
        core: &CoreHeaders<'_>,
        key: &RequestKey,
        merge_key: Option<&MergeKey>,
        hashes: KeyHashes,
    ) -> Option<TxHandle> {
        let reliability = self.config.transport.reliability();
        let cfg = self.config.timers;
        let mut actions = transaction::Actions::new();
        let machine = match msg.method() {
            Some(Method::Invite) => {
                Machine::ServerInvite(ServerInvite::start_into(&cfg, reliability, &mut actions))
            }
            _ => Machine::ServerNonInvite(ServerNonInvite::start_into(
                &cfg,
                reliability,
                &mut actions,
            )),
        };
        if msg.as_bytes().len() > MSG {
            self.stats.rejected += 1;
            self.reply_stateless(msg, from, StatusCode::REQUEST_ENTITY_TOO_LARGE);
            return None;
        }
        let mut top_via = String::new();
        let reliable = self.config.transport != Transport::Udp;
        let peer = route_with(msg, &core.top_via, from, reliable, &mut top_via);
        let to_tag = self.lazy_tag();
        // A request none of whose final responses fits the `MSG` store (they copy its
        // Vias, From, To, Call-ID and CSeq, §8.2.6.2) could never be answered, and its
        // transaction, which has no timer before its final response (§17.2.1, §17.2.2),
        // would hold its slot for ever: 513 (§21.5.7), nothing kept.
        if !self.final_response_fits(msg, &top_via, &to_tag) {
            self.stats.rejected += 1;
            self.reply_stateless(msg, from, StatusCode::MESSAGE_TOO_LARGE);
            return None;
        }
        let Some(h) = self.insert_tx(msg.as_bytes(), hashes, machine, |m| {
            // Every field but `machine` (set already) named: a new one must be set here.
            let TxMeta {
                machine: _,
                client_key: m_client_key,
                server_key: m_server_key,
                merge_key: m_merge_key,
                peer: m_peer,
                request_index: m_request_index,
                top_via: m_top_via,
                top_via_span: m_top_via_span,
                to_tagged: m_to_tagged,
                cseq: m_cseq,
                to_tag: m_to_tag,
                ack_key: m_ack_key,
                fork_seqs: m_fork_seqs,
                timers: m_timers,
                call: m_call,
            } = m;
            *m_client_key = None;
            // The keys' text copied into the reused slot's, not their room.
            key.store_in(m_server_key);
            match merge_key {
                Some(k) => k.store_in(m_merge_key),
                None => *m_merge_key = None,
            }
            *m_peer = peer;
            msg.detach_into(m_request_index);
            // Strings of one capacity: their text copied, not their room.
            m_top_via.clear();
            let _ = m_top_via.push_str(&top_via);
            *m_top_via_span = top_via_span(msg, &core.top_via);
            *m_to_tagged = core.to.tag().is_some();
            *m_cseq = Some(core.cseq.seq());
            *m_to_tag = to_tag;
            *m_ack_key = None;
            m_fork_seqs.clear();
            *m_timers = Timers::new();
            *m_call = None;
        }) else {
            // A full table: 503 and a word to the host (RFC 3261 §21.5.4).
            self.push_event(Event::Capacity(Capacity::Transactions));
            self.reply_stateless(msg, from, StatusCode::SERVICE_UNAVAILABLE);
            return None;
        };
        let tx = TxHandle(h);
        self.run_tx_actions(now, tx, &actions, None);
        Some(tx)
    }

    /// Whether a final response to `msg` without body or extra headers, with top Via
    /// `top_via`, To tag `tag` and the longest reason phrase, fits the `MSG` bytes a
    /// server transaction stores: the host can always end the transaction.
    fn final_response_fits(&self, msg: &Message<'_>, top_via: &str, to_tag: &LazyTag) -> bool {
        let server = self.config.user_agent.map_or(0, |ua| ua.len() + 10);
        // Most requests settle it by size: each header line the response copies grows
        // by at most 8 bytes (a full name for a compact one, `: `, the top Via split off
        // its line), the top Via by at most `MAX_VIA`, To by `;tag=` and the tag, and
        // the status line, Server and Content-Length are bounded.
        let headers = msg.as_bytes().len() - msg.body().len();
        let count = msg.header_count();
        let bound = headers + 8 * (count + 1) + MAX_VIA + 5 + LazyTag::LEN + 45 + server + 21;
        if bound <= MSG && count + 2 <= crate::encode::MAX_BUILDER_HEADERS {
            return true;
        }
        // The response with the longest canonical reason phrase, counted exactly.
        let tag = to_tag.text();
        let Ok(mut b) =
            MessageBuilder::response_to(msg, StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST, &tag)
        else {
            return false;
        };
        if !top_via.is_empty() {
            // The request's own top Via, with `rport` and `received` filled in.
            b.replace_first("Via", Value::Text(top_via), crlf_framed(msg));
        }
        if let Some(ua) = self.config.user_agent {
            b.push_named("Server", Value::Text(ua));
        }
        b.encoded_len().is_ok_and(|n| n <= MSG)
    }

    /// RFC 4028 §9: the session timer of the 2xx to INVITE or re-INVITE `msg` (server
    /// transaction `tx`), `Some(None)` when session timers are off. `None` when the
    /// request was refused here: 422 with Min-SE for too short an interval (§6), 400 for
    /// a malformed Session-Expires or Min-SE.
    fn timer_verdict(
        &mut self,
        now: Instant,
        tx: TxHandle,
        msg: &Message<'_>,
    ) -> Option<Option<TimerAnswer>> {
        let Some(cfg) = self.config.session_timer else {
            return Some(None);
        };
        let Ok(request) = dialog::TimerRequest::from_message(msg) else {
            self.stats.rejected += 1;
            let _ = self.send_response(now, tx, StatusCode::BAD_REQUEST);
            return None;
        };
        match cfg.uas_answer(request) {
            dialog::UasTimer::Accept {
                interval,
                refresher,
                require,
            } => Some(Some(TimerAnswer {
                interval,
                refresher,
                require,
                min_se: request.min_se.unwrap_or(0),
            })),
            dialog::UasTimer::TooSmall { min_se } => {
                self.stats.rejected += 1;
                // No TU command runs while a request is handled: the pending headers
                // are free.
                let mut value: String<10> = String::new();
                let _ = text::push_u32(&mut value, min_se);
                let _ = self.push_pending("Min-SE", &value);
                let _ = self.send_response(now, tx, StatusCode::SESSION_INTERVAL_TOO_SMALL);
                self.clear_pending();
                None
            }
        }
    }

    /// RFC 4028 §7.4: a 422 `resp` to client transaction `tx`, the INVITE of a call this
    /// side places, with a Min-SE above the interval the INVITE asked for: the INVITE goes
    /// again asking for that Min-SE (RFC 3261 §8.1.3.5: a new transaction with the same
    /// Call-ID, From, To and body, the CSeq one higher), once per call, and the call goes
    /// on ([`Event::Reoriginated`]). Whether it was sent; if not, the 422 ends the call.
    /// This side's re-INVITE (a session refresh, or the host's) likewise goes again once,
    /// with the dialog's next CSeq number; if not, it failed.
    #[inline(never)] // rare (a 422); out of `tx_to_tu`'s frame
    fn retry_session_interval(&mut self, now: Instant, tx: TxHandle, resp: &Message<'_>) -> bool {
        let Some(cfg) = self.config.session_timer else {
            return false;
        };
        let Some(call) = self.txs.get(tx.0).and_then(|e| e.call) else {
            return false;
        };
        // Which INVITE: `Some(false)` the initial one, `Some(true)` a re-INVITE.
        let Some(reinvite) = self.calls.get(call.0).and_then(|c| {
            if !c.session.can_reoriginate() || c.retried_422 {
                None
            } else if c.uac_invite == Some(tx) {
                Some(false)
            } else if c.reinvite.is_some_and(|(t, _)| t == tx) {
                Some(true)
            } else {
                None
            }
        }) else {
            return false;
        };
        let min_se = resp
            .min_se()
            .and_then(Result::ok)
            .map(|m| m.delta_seconds());
        let (branch, sent_by) = self.via_parts();
        let via = self.via(&branch, &sent_by);
        let Some(e) = self.txs.get(tx.0) else {
            return false;
        };
        let peer = e.peer;
        let Some(request) = e.stored_request(&Limits::default()) else {
            return false;
        };
        let sent = request.session_expires().and_then(Result::ok);
        let (Ok(cseq), Some(sent)) = (request.cseq(), sent) else {
            return false;
        };
        let Some(interval) = cfg.retry_after_422(sent.delta_seconds(), min_se) else {
            return false;
        };
        // Within the dialog the CSeq goes on from the dialog's (§12.2.1.1).
        let own_seq = self
            .calls
            .get(call.0)
            .and_then(|c| c.dialog.as_ref())
            .filter(|_| reinvite)
            .map_or(0, Dialog::local_seq);
        let next = own_seq.max(cseq.seq()).saturating_add(1);
        let mut bytes = Bytes::<MSG>::new();
        if next > CSEQ_LIMIT
            || digest::rewrite_request(
                &request,
                &digest::Rewrite {
                    new: Some((via, next)),
                    session: Some((interval, sent.refresher())),
                    ..digest::Rewrite::default()
                },
                &mut bytes,
            )
            .is_err()
        {
            return false;
        }
        // A new request: its credentials are answered anew (§22.4, RFC 7616 §3.4: a
        // copy of the refused one's nonce count reads as a replay).
        self.authorize_in_call(call, &mut bytes);
        let Ok(key) = ClientKey::new(&branch, Method::Invite) else {
            return false;
        };
        let Ok(retry) = self.start_client_tx(now, peer, &bytes, key, true) else {
            return false;
        };
        self.hand_over(call, tx, retry);
        if let Some(c) = self.calls.get_mut(call.0) {
            c.retried_422 = true;
            c.min_se_asked = c.min_se_asked.max(interval);
            if reinvite {
                c.reinvite = Some((retry, next));
                if let Some(d) = c.dialog.as_mut() {
                    d.set_local_seq(next);
                }
            } else {
                c.uac_invite = Some(retry);
                c.invite_tx = retry;
                // The 422 ended the early dialogs of the refused INVITE (§13.2.2.3).
                c.forks.clear();
                if c.dialog.take().is_some() {
                    self.call_index.remove(call.0.index);
                }
            }
        }
        let _ = self.step_call(now, call, &dialog::Event::Reoriginated { cseq: next }, None);
        self.push_event(Event::Reoriginated { tx, retry });
        true
    }

    /// RFC 4028 §9: the Session-Expires (and `Require: timer`) of a 2xx, among the
    /// headers of the response being sent.
    fn push_timer_answer(&mut self, a: TimerAnswer) -> Result<(), SendError> {
        let value = session_expires_text(a.interval.seconds, Some(a.refresher));
        self.push_pending("Session-Expires", &value)?;
        if a.require {
            self.push_pending("Require", dialog::TIMER_OPTION_TAG)?;
        }
        Ok(())
    }

    /// RFC 4028 §7.4: a re-INVITE says `Supported: timer`, the session interval in force
    /// (with its refresher, who stays the same) or, without one, the configured interval,
    /// and this side's Min-SE; neither below the Min-SE a 422 or the peer's session
    /// refresh requests in the call asked for.
    fn push_timer_request(&mut self, call: CallHandle) -> Result<(), SendError> {
        let Some(cfg) = self.config.session_timer else {
            return Ok(());
        };
        let c = self.calls.get(call.0);
        let current = c.and_then(|c| c.session.session_interval());
        // §7.4: at least the largest Min-SE a 422 or a refresh request of the peer's in
        // this call asked for.
        let asked = c.map_or(0, |c| c.min_se_asked);
        let value = match current {
            Some(i) => session_expires_text(i.seconds.max(asked), Some(i.refresher_as_uac())),
            None => session_expires_text(cfg.request_interval().max(asked), None),
        };
        let mut min_se: String<10> = String::new();
        let _ = text::push_u32(&mut min_se, cfg.effective_min_se().max(asked));
        self.push_pending("Supported", dialog::TIMER_OPTION_TAG)?;
        self.push_pending("Session-Expires", &value)?;
        self.push_pending("Min-SE", &min_se)
    }

    /// What a session step means for the session timer (RFC 4028 §10): a 2xx to an
    /// INVITE or re-INVITE, sent or received, (re)starts it; a refresh due goes out as a
    /// re-INVITE; a refresh that met glare goes again after the §14.1 back-off.
    fn session_timer_step(
        &mut self,
        now: Instant,
        call: CallHandle,
        actions: &[dialog::Action],
        msg: Option<&Message<'_>>,
    ) {
        let Some(cfg) = self.config.session_timer else {
            return;
        };
        for &action in actions {
            let interval = match action {
                // UAS, §9: the 2xx went with the interval negotiated from its request.
                dialog::Action::Respond {
                    to: RequestKind::Invite | RequestKind::ReInvite,
                    code,
                    ..
                } if code.is_success() => self
                    .calls
                    .get_mut(call.0)
                    .map(|c| c.timer_answer.take().map(|a| a.interval)),
                // UAC, §7.2: the 2xx that answered this side's INVITE or re-INVITE.
                dialog::Action::Tu(n @ (Notice::Confirmed(_) | Notice::ReInviteAccepted)) => {
                    let current = self.calls.get_mut(call.0).and_then(|c| {
                        c.refreshing = false;
                        c.session.session_interval()
                    });
                    msg.filter(|m| m.status().is_some_and(StatusCode::is_success))
                        .map(|m| {
                            let se = m.session_expires().and_then(Result::ok);
                            let agreed =
                                cfg.uac_2xx(se.map(|se| (se.delta_seconds(), se.refresher())));
                            // A refresher whose refresh a peer without session timers
                            // answered (no Session-Expires) goes on refreshing at the
                            // interval in force (§7.2: it MAY), for the proxies that
                            // asked; only a timer the peer ran is switched off that way.
                            match (n, agreed, current) {
                                (Notice::ReInviteAccepted, None, Some(i)) if i.local_refresh => {
                                    Some(i)
                                }
                                _ => agreed,
                            }
                        })
                }
                dialog::Action::Tu(Notice::RefreshDue) => {
                    self.send_refresh(now, call);
                    None
                }
                dialog::Action::Tu(Notice::RetryReInvite)
                    if self.calls.get(call.0).is_some_and(|c| c.refreshing) =>
                {
                    self.send_refresh(now, call);
                    None
                }
                dialog::Action::Tu(Notice::ReInviteFailed(code))
                    if code != StatusCode::REQUEST_PENDING =>
                {
                    if let Some(c) = self.calls.get_mut(call.0) {
                        c.refreshing = false;
                    }
                    None
                }
                _ => None,
            };
            if let Some(interval) = interval {
                let _ = self.step_call(now, call, &dialog::Event::SessionExpires(interval), None);
            }
        }
    }

    /// RFC 4028 §10: refresh the session with a re-INVITE without an offer (RFC 3261
    /// §14.1 allows one; the peer's 2xx then offers its current session description and
    /// the ACK carries the host's answer, [`Event::AnswerNeeded`]). This keeps no copy of
    /// this side's session description per call. The session gives no refresh due while
    /// a re-INVITE (ours or the peer's) is in progress: its 2xx refreshes the session, and
    /// should it fail, the refresh falls due again T2 later.
    fn send_refresh(&mut self, now: Instant, call: CallHandle) {
        if let Some(c) = self.calls.get_mut(call.0) {
            c.refreshing = true;
        }
        if self.send_reinvite(now, call, &[], None).is_err()
            && let Some(c) = self.calls.get_mut(call.0)
        {
            c.refreshing = false;
        }
    }

    fn new_uas_call(
        &mut self,
        tx: TxHandle,
        from: SocketAddr,
        msg: &Message<'_>,
        core: &CoreHeaders<'_>,
        target: Option<&str>,
        timer_answer: Option<TimerAnswer>,
    ) -> Option<CallHandle> {
        let tag = self.random_tag();
        // RFC 3262 §3: provisional responses go reliably when the INVITE requires or
        // supports it and so does this endpoint. The first RSeq is random.
        let reliable = (self.supports_100rel() && reliable::wanted(msg) != reliable::Wanted::No)
            .then(|| {
                (
                    tx,
                    reliable::Uas::new(self.next_random() as u32, core.cseq.seq()),
                )
            });
        let tls = self.over_tls();
        // The tags are checked here and built in the call's slot below (each is some 130
        // bytes, and every move a copy). The local one, a random tag of 16 bytes, always
        // fits; the remote one fits up to MAX_TAG bytes (as `Tag::new` checks).
        let remote = core.from.tag().unwrap_or("");
        let tags = if remote.len() > dialog::MAX_TAG {
            Err(dialog::DialogError::Capacity(Capacity::String))
        } else {
            Ok(())
        };
        let cseq = core.cseq.seq();
        // The checks read the first Contact (and refused a malformed one).
        let target = target.ok_or(crate::dialog::DialogError::MissingContact);
        let build = |d: &mut Dialog| {
            Dialog::uas_parts_into(
                d,
                msg,
                &core.from,
                &core.to,
                core.call_id.as_str(),
                cseq,
                target,
                &tag,
                tls,
            )
        };
        let offer = !msg.body().is_empty();
        let made = match tags {
            Err(e) => Err(e),
            // Built in its slot, dialog and all: a call entry holds MSG-sized buffers and
            // a dialog of some 1.7 kB, costly to move. A dialog that cannot be made takes
            // no slot.
            Ok(()) if self.calls.len() < CALLS => {
                let mut failed = None;
                let h = self.calls.try_insert_reusing(|slot| {
                    let d = CallEntry::fill_building_dialog(slot, || CallMeta {
                        session: InviteSession::uas(cseq, Tag::new_or_empty(remote), offer),
                        dialog: None,
                        invite_tx: tx,
                        uac_invite: None,
                        reinvite: None,
                        pending_tx: None,
                        peer: from,
                        ack_for: None,
                        ack_wanted: None,
                        local_tag: {
                            let mut t = String::new();
                            let _ = t.push_str(&tag); // fits: 16 bytes
                            t
                        },
                        timers: Timers::new(),
                        reliable,
                        forks: heapless::Vec::new(),
                        prack_tx: None,
                        lingering_invite: None,
                        timer_answer,
                        update_timer: None,
                        retried_422: false,
                        min_se_asked: timer_answer.map_or(0, |a| a.min_se),
                        refreshing: false,
                    });
                    // Built over what the slot held: `uas_parts_into` writes every field.
                    let made = build(d);
                    failed = made.err();
                    failed.is_none()
                });
                match failed {
                    Some(e) => Err(e),
                    None => Ok(h),
                }
            }
            // A full table: the dialog's own error first, as when it was made first.
            Ok(_) => build(&mut Dialog::empty()).map(|()| None),
        };
        let code = match made {
            Ok(Some(h)) => {
                let call = CallHandle(h);
                if let Some(e) = self.txs.get_mut(tx.0) {
                    e.call = Some(call);
                }
                self.index_call(call);
                return Some(call);
            }
            Ok(None) => {
                self.push_event(Event::Capacity(Capacity::Dialogs));
                StatusCode::SERVICE_UNAVAILABLE
            }
            // §8.1.1.8: an INVITE carries a Contact; without a usable one no dialog
            // can be made, and that is the peer's error, not this endpoint's.
            Err(dialog::DialogError::MissingContact | dialog::DialogError::Malformed(_)) => {
                StatusCode::BAD_REQUEST
            }
            // A Call-ID, tag or URI too long for the dialog's bounded storage.
            Err(_) => {
                self.push_event(Event::Capacity(Capacity::String));
                StatusCode::SERVER_INTERNAL_ERROR
            }
        };
        // Answered once, statelessly, like a request refused for a full transaction
        // table: through the transaction, Timer G would resend the 503 to a source
        // nothing has verified for 32 s (§17.2.1), holding a slot meanwhile.
        self.stats.rejected += 1;
        self.remove_tx(tx);
        self.reply_stateless(msg, from, code);
        None
    }

    // ----- responses -----------------------------------------------------------------

    fn on_response(&mut self, now: Instant, msg: &Message<'_>, core: &CoreHeaders<'_>) {
        // §18.1.2: a response whose top Via sent-by is not the one this endpoint writes
        // is silently discarded.
        let sent_by = core.top_via.sent_by();
        let default_port = if self.config.transport == Transport::Tls {
            5061
        } else {
            5060
        };
        let ours = match sent_by.host {
            Host::Ipv4(a) => IpAddr::V4(a) == self.config.local.ip(),
            Host::Ipv6(a) => IpAddr::V6(a) == self.config.local.ip(),
            Host::Domain(_) => false,
        } && sent_by.port.unwrap_or(default_port) == self.config.local.port();
        if !ours {
            self.stats.discarded += 1;
            return;
        }
        // The client key's parts (§17.1.3), looked up as they are: the key itself, two
        // strings copied, is made only where it is kept or probed for (no transaction).
        let branch = core.top_via.branch().unwrap_or("");
        let method = core.cseq.method();
        let (Some(code), true) = (msg.status(), ClientKey::fits(branch, method)) else {
            self.stats.discarded += 1;
            return;
        };
        let h = self.find_client_tx_by_parts(branch, method);
        // A 2xx that creates a dialog (to a request outside one: a record lingers only
        // for an initial INVITE) with a malformed Record-Route gives no route set to ACK
        // or BYE along (§12.1.2): malformed (§18.1.2). Within a dialog the route set
        // stays (§12.2.1.2), and the response is not read for one; a provisional response
        // still counts for its transaction (§17.1.1.2, §9.1), only its early dialog is
        // not made.
        // The stored request is read again last: only for a malformed Record-Route.
        if code.is_success()
            && check::creates_dialog(msg, &core.cseq)
            && msg.record_routes().any(|r| r.is_err())
            && h.is_none_or(|h| {
                self.txs
                    .get(h)
                    .and_then(|e| e.stored_request(&Limits::default()))
                    .is_some_and(|r| r.to().is_ok_and(|to| to.tag().is_none()))
            })
        {
            self.stats.discarded += 1;
            return;
        }
        let Some(h) = h else {
            // `fits` said it is made.
            let Ok(key) = ClientKey::new(branch, method) else {
                self.stats.discarded += 1;
                return;
            };
            // An INVITE answered 2xx whose transaction lingers as a record (RFC 6026
            // Accepted): a 2xx of any fork still reaches its call, or is ACKed and BYEd
            // when the call is over; anything else is absorbed.
            let lingering = self
                .linger
                .probe_client(&key)
                .as_ref()
                .and_then(|p| self.linger.find(p))
                .map(|f| {
                    let (invite, seqs) = split_trailer(f.response);
                    (
                        f.call,
                        f.peer,
                        Bytes::<MSG>::from_slice(invite).ok(),
                        ForkSeqs::from_slice(seqs).unwrap_or_default(),
                    )
                });
            // An INVITE refused, waiting out Timer D as a record that holds its ACK
            // (the only INVITE records without a call): a retransmitted final response
            // gets the ACK again (§17.1.1.2).
            if code.as_u16() >= 300 && core.cseq.method() == Method::Invite {
                let ack = self
                    .linger
                    .probe_client(&key)
                    .as_ref()
                    .and_then(|p| self.linger.find(p))
                    .filter(|f| f.call.is_none())
                    .map(|f| (f.peer, Bytes::<MSG>::from_slice(f.response).ok()));
                if let Some((peer, ack)) = ack {
                    if let Some(ack) = ack {
                        self.queue_transmit(peer, &ack);
                    }
                    return;
                }
            }
            if let Some((call, peer, invite, seqs)) = lingering {
                // A BYE's or PRACK's record absorbs its final response again.
                if code.is_success() && core.cseq.method() == Method::Invite {
                    match call.filter(|c| self.calls.get(c.0).is_some()) {
                        Some(call) => self.session_response(now, call, msg, core),
                        None => {
                            if let Some(invite) = invite {
                                let tls = self.over_tls();
                                if self.ack_and_bye_orphan_of(
                                    now,
                                    &invite,
                                    peer,
                                    msg,
                                    tls,
                                    &seqs,
                                    Sends::AckAndBye,
                                ) {
                                    self.mark_byed(None, Some(&key), msg);
                                }
                            }
                        }
                    }
                }
                return;
            }
            // A 2xx retransmission after the INVITE transaction ended: re-ACK (§13.2.2.4).
            // A response's dialog id: From tag = local tag, To tag = remote tag (§12.2.1.2).
            let call = self.find_call(
                core.call_id.as_str(),
                core.from.tag().unwrap_or(""),
                core.to.tag().unwrap_or(""),
            );
            match call {
                Some(call) if code.is_success() && core.cseq.method() == Method::Invite => {
                    self.session_response(now, call, msg, core);
                }
                _ => self.stats.stray_responses += 1,
            }
            return;
        };
        let tx = TxHandle(h);
        // Keep the latest response: the host reads it with `response` (a challenge, a
        // redirect's Contacts), and the ACK for a non-2xx final is built from it.
        self.settle_response(tx);
        if let Some(e) = self.txs.get_mut(h) {
            e.response.clear();
            if e.response.extend_from_slice(msg.as_bytes()).is_err() {
                self.stats.queue_overflows += 1;
            }
        }
        self.step_tx(now, tx, TxInput::Response(code), Some((msg, core)));
        self.linger_client_tx(tx);
    }

    /// Turn client transaction `tx` into a lingering record when all it still does is
    /// wait out its timer: a call's BYE or PRACK in Completed (Timer K, T4 over UDP,
    /// §17.1.2.2) only absorbs retransmitted final responses; the initial INVITE in
    /// Accepted (Timer M, RFC 6026 §7.2) only takes 2xx responses of other forks, for
    /// which the record keeps the INVITE and the call (a re-INVITE likewise, once the
    /// host has drained the events, `linger_reinvite`).
    fn linger_client_tx(&mut self, tx: TxHandle) {
        let Some(e) = self.txs.get(tx.0) else { return };
        let (Some(key), Some(deadline)) = (&e.client_key, e.timers.next()) else {
            return;
        };
        let m = match e.machine {
            // A refused INVITE: its response the host may read (a 3xx's Contacts) until
            // it has drained the events.
            Machine::ClientInvite(m) if m.state() == transaction::State::Completed => {
                self.settle(tx);
                return;
            }
            Machine::ClientInvite(m) => m,
            Machine::ClientNonInvite(m) if m.state() == transaction::State::Completed => {
                // The host never holds a call's BYE or PRACK: the endpoint sends them
                // for the call. Other requests' responses the host may read until it
                // has drained the events (`settled`).
                let own = e.call.is_some()
                    && (key.method() == Method::Bye || key.method() == Method::Prack);
                if !own {
                    self.settle(tx);
                } else if self
                    .linger
                    .push_client(deadline, key, e.peer, (&[], &[], 0), None)
                {
                    self.remove_tx(tx);
                }
                return;
            }
            _ => return,
        };
        let Some(call) = e.call else { return };
        if m.state() != transaction::State::Accepted {
            return;
        }
        match self.calls.get(call.0).map(|c| c.uac_invite == Some(tx)) {
            Some(true) => {}
            // A re-INVITE (this side's within the call, caller or callee): its 2xx the
            // host may read until it has drained the events (`linger_settled`).
            Some(false) => {
                self.settle(tx);
                return;
            }
            None => return,
        }
        let (request, seqs) = (&e.request, &e.fork_seqs);
        if !push_invite_record(&mut self.linger, deadline, key, e.peer, request, seqs, call) {
            return;
        }
        let key = key.clone();
        if let Some(c) = self.calls.get_mut(call.0) {
            c.lingering_invite = Some(key);
        }
        self.remove_tx(tx);
    }

    /// Let client transaction `tx` linger once the host has drained the events (see
    /// `settled`); a full list keeps it in the table, as before.
    fn settle(&mut self, tx: TxHandle) {
        if !self.settled.contains(&tx) {
            let _ = self.settled.push(tx);
        }
    }

    /// Client transaction `tx` (see `settled`) lingers as a record if it is still
    /// waiting out Timer K: its response was for the host to read, and it has.
    fn linger_settled(&mut self, tx: TxHandle) {
        let Some(e) = self.txs.get(tx.0) else { return };
        // An INVITE refused keeps its ACK, sent again for each retransmitted final
        // response (Timer D, §17.1.1.2); the record of any other request only absorbs.
        let ack = match e.machine {
            Machine::ClientNonInvite(m) if m.state() == transaction::State::Completed => None,
            Machine::ClientInvite(m) if m.state() == transaction::State::Accepted => {
                return self.linger_reinvite(tx);
            }
            Machine::ClientInvite(m) if m.state() == transaction::State::Completed => {
                match self.ack_for_final(tx) {
                    Some(ack) => Some(ack),
                    None => return,
                }
            }
            _ => return,
        };
        let payload = ack.as_deref().unwrap_or_default();
        if let (Some(key), Some(deadline)) = (&e.client_key, e.timers.next())
            && self
                .linger
                .push_client(deadline, key, e.peer, (payload, &[], 0), None)
        {
            self.remove_tx(tx);
        }
    }

    /// A re-INVITE answered 2xx (Timer M, RFC 6026 §7.2) lingers as a record holding it
    /// and its call, as the initial INVITE does: a retransmitted 2xx still reaches the
    /// session, which ACKs it again (§13.2.2.4), or is ACKed from the record once the call
    /// is over.
    fn linger_reinvite(&mut self, tx: TxHandle) {
        let Some(e) = self.txs.get(tx.0) else { return };
        let (Some(key), Some(deadline), Some(call)) = (&e.client_key, e.timers.next(), e.call)
        else {
            return;
        };
        // The same layout as the initial INVITE's record (`split_trailer`); a re-INVITE's
        // 2xx gets no BYE, so its trailer stays empty.
        let (request, seqs) = (&e.request, &e.fork_seqs);
        if !push_invite_record(&mut self.linger, deadline, key, e.peer, request, seqs, call) {
            return;
        }
        // The ACK of its 2xx carries its credentials (§22.1): read from the record.
        if let Some(auth) = self.call_auths.get_mut(call) {
            auth.lingering_reinvite = Some(key.clone());
        }
        self.remove_tx(tx);
    }

    /// Feed a response to the INVITE (or re-INVITE) to its call's session.
    fn session_response(
        &mut self,
        now: Instant,
        call: CallHandle,
        msg: &Message<'_>,
        core: &CoreHeaders<'_>,
    ) {
        let Some(code) = msg.status() else {
            return;
        };
        let cseq = &core.cseq;
        let tls = self.over_tls();
        // A 2xx's long tag gets its stand-in: that fork is ACKed and BYEd (a provisional
        // response with one makes no early dialog, as before).
        let to_tag = match core.to.tag() {
            Some(t) if code.is_success() => Some(self.session_tag(t)),
            t => t.and_then(|t| Tag::new(t).ok()),
        };
        // A fork's 2xx ends its early dialog: it becomes the call's confirmed dialog, or
        // one that is ACKed and BYEd (§13.2.2.4); requests within it are no longer taken
        // as early-dialog requests of the call.
        if code.is_success()
            && let Some(tag) = &to_tag
            && let Some(f) = self
                .calls
                .get_mut(call.0)
                .and_then(|c| c.forks.iter_mut().find(|f| f.tag == *tag))
        {
            f.ended = true;
        }
        let ev = dialog::Event::Response {
            code,
            to_tag,
            cseq: cseq.seq(),
            body: !msg.body().is_empty(),
        };
        // §12.1.2: the first provisional with a To tag (and a Contact) gives the UAC an
        // early dialog, so that requests within it (UPDATE, INFO) find the call; the
        // first 2xx replaces it with its own confirmed dialog (the same fork's, or the
        // one that answered). Other forks' dialogs are built when an action needs them.
        let early = code.as_u16() > 100
            && code.is_provisional()
            && core.to.tag().is_some()
            && self
                .calls
                .get(call.0)
                .is_some_and(|c| c.session.role() == dialog::Role::Uac && c.dialog.is_none());
        // The early dialog this 2xx confirms, if the same UAS sent both: confirmed from
        // itself, without reading the INVITE again (§13.2.2.4).
        let confirms = code.is_success()
            && self.calls.get(call.0).is_some_and(|c| {
                c.dialog.as_ref().is_some_and(|d| {
                    d.state() == dialog::DialogState::Early
                        && Some(d.id().remote_tag()) == core.to.tag()
                })
            });
        // Outside TLS a dialog-creating response that echoes the INVITE's From tag and
        // CSeq (§8.2.6.2) makes the dialog alone; otherwise the INVITE is read too.
        let echoes_invite = !tls
            && self.calls.get(call.0).is_some_and(|c| {
                core.from.tag().is_some_and(|t| c.local_tag == t)
                    && cseq.seq() == c.session.invite_cseq()
            });
        let uac_invite = self.calls.get(call.0).and_then(|c| c.uac_invite);
        if let Some(e) = uac_invite.and_then(|t| self.txs.get_mut(t.0))
            && !echoes_invite
            && (early || (code.is_success() && !confirms))
        {
            e.index_request(&Limits::default());
        }
        if early && echoes_invite {
            // From the response alone (see `uac_dialog`), built in the call's slot: a
            // dialog is some 1.7 kB, and each move of one a copy.
            if let Some(c) = self.calls.get_mut(call.0) {
                let (from, to, call_id) = (&core.from, &core.to, core.call_id.as_str());
                let d = c.meta.dialog.insert(Dialog::empty());
                if Dialog::uac_from_response_into(d, msg, from, to, call_id, cseq.seq()).is_ok() {
                    self.index_call(call);
                } else {
                    c.meta.dialog = None;
                }
            }
        } else if early {
            let made = self
                .calls
                .get(call.0)
                .and_then(|c| self.uac_dialog(c, msg, core, echoes_invite).ok());
            // Moved in as it is: the dialog is some 1.7 kB, and each rewrap a copy.
            if made.is_some()
                && let Some(c) = self.calls.get_mut(call.0)
            {
                c.dialog = made;
                self.index_call(call);
            }
        }
        let needs_dialog = code.is_success()
            && self.calls.get(call.0).is_some_and(|c| {
                c.session.role() == dialog::Role::Uac
                    && c.dialog
                        .as_ref()
                        .is_none_or(|d| d.state() != dialog::DialogState::Confirmed)
            });
        if needs_dialog && confirms {
            // The early dialog confirmed where it is: what the general path below does
            // with a confirmed copy of it (same id and CSeq numbers, so the fork's and
            // the early dialog's numbers are read before), without the copies of a
            // ~1.7 kB dialog. On error `confirm_uac` leaves it unchanged.
            let mut unkept = None;
            let confirmed = self.calls.get_mut(call.0).is_some_and(|c| {
                let Some(early) = c.meta.dialog.as_ref() else {
                    return false;
                };
                let tag = early.id().remote_tag();
                let seq = c.fork_seq(tag).max(early.local_seq());
                let remote = c
                    .forks
                    .iter()
                    .find(|f| f.tag.is(tag))
                    .and_then(|f| f.remote_seq)
                    .max(early.remote_seq());
                let Some(d) = c.meta.dialog.as_mut() else {
                    return false;
                };
                if let Err(e) = d.confirm_uac(msg) {
                    unkept = Some(e);
                    return false;
                }
                if seq > d.local_seq() {
                    d.set_local_seq(seq);
                }
                d.set_remote_seq(remote);
                c.answer.clear();
                let _ = c.answer.extend_from_slice(msg.as_bytes());
                true
            });
            // The 2xx's route set (§13.2.2.4: recomputed from it) past the bounds: the
            // early dialog's is not the 2xx's, so the 2xx is ACKed and BYEd as below.
            if let Some(e @ dialog::DialogError::Capacity(_)) = unkept {
                self.end_unkept_call(now, call, msg, e);
                return;
            }
            // The early dialog was indexed when it was made, and confirming it keeps its
            // Call-ID and local tag: indexed again only if it was let go meanwhile.
            if confirmed && !self.call_index.is_linked(call.0.index) {
                self.index_call(call);
            }
        } else if needs_dialog {
            let made = self
                .calls
                .get(call.0)
                .map(|c| self.uac_dialog(c, msg, core, echoes_invite));
            // Past the bounds, or without a To tag (an RFC 2543 peer's): the 2xx is
            // ACKed and its dialog BYEd straight from the messages.
            if let Some(Err(
                e @ (dialog::DialogError::Capacity(_) | dialog::DialogError::NotDialogCreating),
            )) = made
            {
                self.end_unkept_call(now, call, msg, e);
                return;
            }
            if let (Some(Ok(mut d)), Some(c)) = (made, self.calls.get_mut(call.0)) {
                // The same dialog, early until now: requests sent within it (PRACK,
                // UPDATE) used CSeq numbers the confirmed dialog continues (§12.2.1.1).
                let mut seq = c.fork_seq(d.id().remote_tag());
                // §12.2.2: the peer's requests in the early dialog (UPDATE, INFO) set its
                // remote CSeq, which the confirmed dialog keeps.
                let mut remote = c
                    .forks
                    .iter()
                    .find(|f| f.tag.is(d.id().remote_tag()))
                    .and_then(|f| f.remote_seq);
                if let Some(early) = c.meta.dialog.as_ref() {
                    if early.id().remote_tag() == d.id().remote_tag() {
                        seq = seq.max(early.local_seq());
                        remote = remote.max(early.remote_seq());
                    } else if let Some(f) = c
                        .meta
                        .forks
                        .iter_mut()
                        .find(|f| f.tag.is(early.id().remote_tag()))
                    {
                        // Another fork's early dialog, replaced as the call's: its fork
                        // entry goes on checking the CSeq of its requests, and keeps the
                        // CSeq of ours (an INFO or UPDATE sent in it), for its BYE should
                        // it answer later (§12.2.1.1).
                        f.keep_seqs_of(early);
                    }
                }
                if seq > d.local_seq() {
                    d.set_local_seq(seq);
                }
                d.set_remote_seq(remote);
                c.dialog = Some(d);
                c.answer.clear();
                let _ = c.answer.extend_from_slice(msg.as_bytes());
                self.index_call(call);
            }
        }
        // §12.1.2: each provisional response with a new To tag makes an early dialog,
        // kept so that requests within it find the call. RFC 3262 §4: a reliable
        // provisional response is PRACKed once and in order within its early dialog
        // (each fork numbers its own); one seen again or out of order is not processed
        // further.
        // The event's To tag is this provisional's (`Tag::new` of it), not built again.
        if code.is_provisional()
            && code.as_u16() > 100
            && let Some(tag) = to_tag.as_ref()
            && let Some(c) = self.calls.get_mut(call.0)
        {
            let i = match c.forks.iter().position(|f| f.tag == *tag) {
                Some(i) => Some(i),
                None => c
                    .forks
                    .push(ForkPrack {
                        tag: *tag,
                        prack: reliable::Uac::new(),
                        local_seq: cseq.seq(),
                        remote_seq: None,
                        ended: false,
                    })
                    .ok()
                    .map(|()| c.forks.len() - 1),
            };
            if let Some(rseq) = reliable::reliable_rseq(msg)
                && let Some(f) = i.and_then(|i| c.forks.get_mut(i))
            {
                let (uac, verdict) = f.prack.on_provisional(rseq);
                f.prack = uac;
                if verdict == reliable::Verdict::Ignore {
                    return;
                }
                self.send_prack(now, call, msg, core, rseq, cseq.seq());
            }
        }
        // A 2xx to this side's re-INVITE refreshes the remote target (§12.2.1.2, §14.1).
        if code.is_success()
            && let Some(c) = self.calls.get_mut(call.0)
            && c.reinvite.is_some_and(|(_, seq)| seq == cseq.seq())
            && let Some(d) = c.dialog.as_mut()
        {
            let _ = d.refresh_target(msg);
        }
        let _ = self.step_call(now, call, &ev, Some(msg));
    }

    /// PRACK the reliable provisional response `msg` (`rseq`) to the INVITE with CSeq
    /// number `invite_seq`, within its early dialog: the call's own, or the fork's, built
    /// from the INVITE and `msg` and numbered on from that fork's last PRACK (RFC 3262
    /// §4, §7.2).
    fn send_prack(
        &mut self,
        now: Instant,
        call: CallHandle,
        msg: &Message<'_>,
        core: &CoreHeaders<'_>,
        rseq: u32,
        invite_seq: u32,
    ) {
        let Some(tag) = core.to.tag() else { return };
        let Ok(remote_tag) = Tag::new(tag) else {
            return;
        };
        let fork = match self.fork_dialog(call, remote_tag, Some(msg)) {
            Fork::Own => None,
            Fork::Other(d) => Some(d),
            Fork::Unbuildable => return,
        };
        let mut rack: String<MAX_SHORT> = String::new();
        let written = text::push_u32(&mut rack, rseq).is_ok()
            && rack.push(' ').is_ok()
            && text::push_u32(&mut rack, invite_seq).is_ok()
            && rack.push_str(" INVITE").is_ok();
        self.clear_pending();
        if !written || self.push_pending("RAck", &rack).is_err() {
            return;
        }
        let fork_seq = fork.as_ref().map(|d| d.local_seq() + 1);
        let sent = self.send_in_dialog(now, call, Method::Prack, fork);
        self.clear_pending();
        if let (Ok(tx), Some(c)) = (sent, self.calls.get_mut(call.0)) {
            c.prack_tx = Some(tx);
            let seq = fork_seq.or_else(|| c.dialog.as_ref().map(Dialog::local_seq));
            if let (Some(seq), Some(f)) = (seq, c.forks.iter_mut().find(|f| f.tag.is(tag))) {
                f.local_seq = f.local_seq.max(seq);
            }
        }
    }

    // ----- transactions --------------------------------------------------------------

    fn step_tx(&mut self, now: Instant, tx: TxHandle, input: TxInput, msg: Received<'_, '_>) {
        let Some(e) = self.txs.get_mut(tx.0) else {
            return;
        };
        let mut actions = transaction::Actions::new();
        e.machine.step(&self.config.timers, input, &mut actions);
        self.run_tx_actions(now, tx, &actions, msg);
    }

    fn run_tx_actions(
        &mut self,
        now: Instant,
        tx: TxHandle,
        actions: &[Action],
        msg: Received<'_, '_>,
    ) {
        // A final response reported to the host in this step: if the transaction ends
        // with it, the host still reads it (`finished`).
        let mut reported_final = false;
        for action in actions {
            match *action {
                Action::SendRequest => self.resend(tx, TxBuf::Request),
                Action::SendResponse => self.resend(tx, TxBuf::Response),
                Action::SendAck => self.send_ack_for_final(tx),
                Action::SendTrying => {
                    let _ = self.write_response(tx, StatusCode::TRYING, None);
                    self.resend(tx, TxBuf::Response);
                }
                Action::StartTimer(id, d) => {
                    self.set_tx_timer(tx, timer_index(id), Some(now.saturating_add(d)))
                }
                Action::CancelTimer(id) => self.set_tx_timer(tx, timer_index(id), None),
                Action::ToTu(signal) => {
                    reported_final |= matches!(signal, TuSignal::Final(_));
                    self.tx_to_tu(now, tx, signal, msg);
                }
                Action::Terminated => {
                    let client = self.txs.get(tx.0).is_some_and(|e| !e.machine.is_server());
                    if !(reported_final && client && self.finished.push(tx).is_ok()) {
                        self.remove_tx(tx);
                    }
                }
            }
        }
    }

    // Out of line: inlined, its many paths made `run_tx_actions` set up a large frame
    // and a score of addresses for every step, most of which only arm timers.
    #[inline(never)]
    fn tx_to_tu(&mut self, now: Instant, tx: TxHandle, signal: TuSignal, msg: Received<'_, '_>) {
        let Some(e) = self.txs.get(tx.0) else { return };
        let call = e.call;
        let client_invite = matches!(e.machine, Machine::ClientInvite(_));
        let server_invite = matches!(e.machine, Machine::ServerInvite(_));
        match signal {
            TuSignal::Provisional(status) | TuSignal::Final(status) => {
                self.push_event(Event::Response { tx, call, status });
                if status.is_final() && call.is_none() && !client_invite {
                    self.registration_response(now, tx, msg.map(|(m, _)| m));
                    self.subscription_response(now, tx, msg);
                    self.notifier_response(now, tx, msg.map(|(m, _)| m));
                }
                if client_invite && let Some(call) = call {
                    let guard = status
                        .is_provisional()
                        .then(|| now.saturating_add(self.config.provisional_guard));
                    self.set_call_timer(call, PROVISIONAL_GUARD, guard);
                    if status.is_final() {
                        self.set_call_timer(call, CANCEL_GUARD, None);
                    }
                }
                // §8.1.3.5, §22.2, §22.3: a call placed with credentials answers a
                // challenge to any of its requests by sending it again, and goes on.
                if matches!(status.as_u16(), 401 | 407)
                    && call.is_some()
                    && let Some((msg, _)) = msg
                    && self.answer_call_challenge(now, tx, msg)
                {
                    return;
                }
                // RFC 4028 §7.4: a 422 to the call's INVITE or re-INVITE is followed once,
                // with the larger interval it asks for.
                if status == StatusCode::SESSION_INTERVAL_TOO_SMALL
                    && call.is_some()
                    && let Some((msg, _)) = msg
                    && self.retry_session_interval(now, tx, msg)
                {
                    return;
                }
                // §12.2.1.2, RFC 3311 §5.1: a 2xx to this side's UPDATE (a target refresh
                // request) replaces the remote target of the dialog it was sent in.
                if status.is_success()
                    && let (Some(call), Some((msg, core))) = (call, msg)
                    && core.cseq.method() == Method::Update
                    && let Some(d) = self.calls.get_mut(call.0).and_then(|c| c.dialog.as_mut())
                    && d.id().matches_response(msg)
                {
                    let _ = d.refresh_target(msg);
                    // RFC 4028 §7.2, §10: with session timers on, this side's UPDATE is a
                    // session refresh request (it says `Supported: timer`), and the
                    // Session-Expires of its 2xx (re)starts the timer, the refresher
                    // included; a 2xx without one leaves the timer as it was (the peer
                    // did not take the UPDATE as a refresh).
                    if let Some(cfg) = self.config.session_timer
                        && let Some(se) = msg.session_expires().and_then(Result::ok)
                    {
                        let interval = cfg.uac_2xx(Some((se.delta_seconds(), se.refresher())));
                        let event = dialog::Event::SessionExpires(interval);
                        let _ = self.step_call(now, call, &event, None);
                    }
                }
                match (call, msg) {
                    // A 2xx after the call ended (a late fork, or a race with the
                    // hang-up, while Timer M runs): it still gets its ACK, then a BYE
                    // (§13.2.2.4, RFC 6026 §8.4).
                    (Some(call), Some((msg, _)))
                        if client_invite
                            && self.calls.get(call.0).is_none()
                            && status.is_success() =>
                    {
                        self.ack_and_bye_orphan(now, tx, msg);
                    }
                    // Any other response for a call that is over: nothing to do.
                    (Some(call), Some(_)) if client_invite && self.calls.get(call.0).is_none() => {}
                    (Some(call), Some((msg, core))) if client_invite => {
                        self.session_response(now, call, msg, core)
                    }
                    // A response to an in-dialog request: 481/408 end the dialog
                    // (§12.2.1.2), with no BYE: the peer has no such dialog.
                    // A PRACK refused says only that the provisional response is gone
                    // (RFC 3262 §3), not the dialog.
                    (Some(call), Some(_))
                        if matches!(status.as_u16(), 408 | 481)
                            && self
                                .calls
                                .get(call.0)
                                .is_none_or(|c| c.prack_tx != Some(tx)) =>
                    {
                        self.dialog_gone(now, call, status);
                    }
                    _ => {}
                }
            }
            TuSignal::Timeout | TuSignal::TransportError => {
                self.push_event(if signal == TuSignal::Timeout {
                    Event::TimedOut { tx }
                } else {
                    Event::TransportError { tx }
                });
                if call.is_none() && !client_invite && !server_invite {
                    self.registration_response(now, tx, None);
                    self.subscription_response(now, tx, None);
                    self.notifier_response(now, tx, None);
                }
                let own_reinvite = call
                    .and_then(|c| self.calls.get(c.0))
                    .is_some_and(|c| c.reinvite.is_some_and(|(t, _)| t == tx));
                if let Some(call) = call
                    && own_reinvite
                    && signal == TuSignal::Timeout
                {
                    // A re-INVITE without answer: as a 408 (§12.2.1.2, §14.1). With a
                    // session timer in force it was a session refresh, and the session
                    // ends with BYE (RFC 4028 §10).
                    let refresh = self
                        .calls
                        .get(call.0)
                        .is_some_and(|c| c.session.session_interval().is_some());
                    if refresh {
                        self.reinvite_failed(now, call, StatusCode::REQUEST_TIMEOUT);
                    } else {
                        self.dialog_gone(now, call, StatusCode::REQUEST_TIMEOUT);
                    }
                } else if let Some(call) = call
                    && own_reinvite
                {
                    // It could not be sent: as a 503 (§8.1.3.1), which leaves the session
                    // as it was and lets the TU try again (§14.1).
                    self.reinvite_failed(now, call, StatusCode::SERVICE_UNAVAILABLE);
                } else if let Some(call) = call
                    && client_invite
                {
                    let _ = self.step_call(now, call, &dialog::Event::InviteTransactionEnded, None);
                } else if let Some(call) = call
                    && server_invite
                    && self
                        .calls
                        .get(call.0)
                        .is_some_and(|c| c.invite_tx == tx && !c.session.is_terminated())
                {
                    // The INVITE can no longer be answered (§17.2.4): the call is over.
                    self.remove_call(now, call);
                    self.push_event(Event::CallTerminated {
                        call,
                        reason: dialog::EndReason::TimedOut,
                    });
                } else if let Some(call) = call
                    && !server_invite
                    && signal == TuSignal::Timeout
                {
                    // An in-dialog request timed out: as a 408 (§8.1.3.1, §12.2.1.2).
                    self.dialog_gone(now, call, StatusCode::REQUEST_TIMEOUT);
                }
            }
            TuSignal::Ack => {}
        }
    }

    /// The 2xx `msg` answering `call` makes no dialog a `Dialog` keeps (`why`: past its
    /// bounds, or no To tag): the call cannot go on, so the 2xx is ACKed (§13.2.2.4) and
    /// the dialog BYEd at once, both written from the INVITE and the 2xx, and the host
    /// learns that the call ended (and which bound, [`Event::Capacity`]).
    fn end_unkept_call(
        &mut self,
        now: Instant,
        call: CallHandle,
        msg: &Message<'_>,
        why: dialog::DialogError,
    ) {
        let byed = self.ack_and_bye_of_call(now, call, msg, Sends::AckAndBye);
        if let dialog::DialogError::Capacity(full) = why {
            self.push_event(Event::Capacity(full));
        }
        // A 2xx that raced the host's CANCEL ends the call as a kept one does.
        let reason = if self.calls.get(call.0).is_some_and(|c| c.session.gave_up()) {
            dialog::EndReason::Cancelled
        } else {
            dialog::EndReason::LocalBye
        };
        let (invite, lingering) = self
            .calls
            .get(call.0)
            .map_or((None, None), |c| (c.uac_invite, c.lingering_invite.clone()));
        self.remove_call(now, call);
        // Its retransmissions reach the INVITE once the call is gone (written there
        // after the forks' numbers `remove_call` writes).
        if byed {
            self.mark_byed(invite, lingering.as_ref(), msg);
        }
        self.push_event(Event::CallTerminated { call, reason });
    }

    /// ACK the 2xx `msg` answering `call` and BYE the dialog it created (or only one of
    /// them, `which`), as if the call were over (see
    /// [`ack_and_bye_orphan_of`](Self::ack_and_bye_orphan_of)). Whether a BYE went.
    fn ack_and_bye_of_call(
        &mut self,
        now: Instant,
        call: CallHandle,
        msg: &Message<'_>,
        which: Sends,
    ) -> bool {
        let tls = self.over_tls();
        if let Some(c) = self.calls.get_mut(call.0) {
            c.meta.keep_early_seqs();
        }
        let sent = self.calls.get(call.0).and_then(|c| {
            let invite = Bytes::<MSG>::from_slice(self.uac_invite_message(c)?.as_bytes()).ok()?;
            Some((invite, c.peer, write_fork_seqs(&c.forks)))
        });
        sent.is_some_and(|(invite, peer, seqs)| {
            self.ack_and_bye_orphan_of(now, &invite, peer, msg, tls, &seqs, which)
        })
    }

    /// ACK a 2xx to INVITE `tx` whose call is over, and BYE the dialog it created.
    fn ack_and_bye_orphan(&mut self, now: Instant, tx: TxHandle, msg: &Message<'_>) {
        let tls = self.over_tls();
        let Some(e) = self.txs.get(tx.0) else { return };
        let (peer, seqs) = (e.peer, e.fork_seqs.clone());
        let mut invite = Bytes::<MSG>::new();
        let _ = invite.extend_from_slice(&e.request);
        if self.ack_and_bye_orphan_of(now, &invite, peer, msg, tls, &seqs, Sends::AckAndBye) {
            self.mark_byed(Some(tx), None, msg);
        }
    }

    /// The dialog of 2xx `msg` was BYEd: a retransmission of it that reaches the INVITE
    /// (its transaction `tx`, or the record `lingering` names) gets the ACK alone. Kept
    /// among the forks' CSeq numbers ([`push_byed`]); without room, as before.
    fn mark_byed(
        &mut self,
        tx: Option<TxHandle>,
        lingering: Option<&ClientKey>,
        msg: &Message<'_>,
    ) {
        let tag = msg.to().ok().and_then(|to| to.tag()).unwrap_or("");
        mark_byed_in(
            &mut self.txs,
            &mut self.linger,
            tx,
            lingering,
            tag.as_bytes(),
        );
    }

    /// ACK and BYE the dialog the 2xx `msg` to `invite` (sent to `peer` for a call now
    /// over) created (§13.2.2.4, RFC 6026 §8.4), only ACK the 2xx to a re-INVITE (its
    /// dialog is over already); `tls`: the endpoint runs TLS or WSS;
    /// `fork_seqs`: the CSeq numbers the call's forks reached ([`write_fork_seqs`]) and
    /// the dialogs BYEd already, whose 2xx gets the ACK alone ([`push_byed`]);
    /// `which`: the ACK, the BYE or both. Whether a BYE went.
    #[allow(clippy::too_many_arguments)] // the pieces of a call that is gone
    fn ack_and_bye_orphan_of(
        &mut self,
        now: Instant,
        invite: &[u8],
        peer: SocketAddr,
        msg: &Message<'_>,
        tls: bool,
        fork_seqs: &[u8],
        which: Sends,
    ) -> bool {
        let Ok(inv) = Message::parse(invite) else {
            self.stats.stray_responses += 1;
            return false;
        };
        let Ok(cseq) = msg.cseq() else { return false };
        let remote_tag = msg.to().ok().and_then(|to| to.tag()).unwrap_or("");
        // A retransmission of a 2xx whose dialog was BYEd: its ACK again, and no BYE,
        // whose CSeq number would repeat the first's (§12.2.1.1, §13.2.2.4).
        let which = match which {
            _ if !fork_byed(fork_seqs, remote_tag) => which,
            Sends::Bye => return false,
            _ => Sends::Ack,
        };
        // A dialog past the bounds a `Dialog` keeps (a long Record-Route set, a huge tag)
        // is still ACKed and BYEd: its requests are written from the INVITE and the 2xx.
        let mut d = match Dialog::uac_or_request_target_of(&inv, msg, tls) {
            Ok(mut d) => {
                d.confirm();
                Some(d)
            }
            Err(dialog::DialogError::Capacity(_) | dialog::DialogError::NotDialogCreating) => None,
            Err(_) => {
                self.stats.stray_responses += 1;
                return false;
            }
        };
        let fork_seq = fork_seq_in(fork_seqs, remote_tag);
        if let Some(d) = d.as_mut()
            && fork_seq > d.local_seq()
        {
            d.set_local_seq(fork_seq);
        }
        let mut bytes = Bytes::<MSG>::new();
        let (ack_branch, sent_by) = self.via_parts();
        // A late offer's 2xx: the ACK carries an answer rejecting its streams (§13.2.2.4).
        let rejection = inv
            .body()
            .is_empty()
            .then(|| sdp::rejecting_answer(msg))
            .flatten();
        // Each builder borrows the dialog or the scratch: the ACK is written and sent in
        // a block of its own.
        let mut scratch = unkept::Scratch::new();
        let dest = {
            let mut ack = MessageBuilder::request(Method::Ack, "");
            let via = self.via(&ack_branch, &sent_by);
            let dest = match &d {
                Some(d) => {
                    d.ack_into(&mut ack, cseq.seq(), via);
                    Some(dialog_destination(d, peer))
                }
                None => unkept::unkept_request(
                    &inv,
                    msg,
                    Method::Ack,
                    cseq.seq(),
                    via,
                    &mut ack,
                    &mut scratch,
                )
                .ok()
                .map(|hop| destination_of(hop, peer)),
            };
            let Some(dest) = dest else {
                self.stats.stray_responses += 1;
                return false;
            };
            // §22.1: the ACK carries the credentials of its INVITE, read from the INVITE
            // itself: the call (and its slot's credentials) may be gone.
            for h in digest::credentials_of(&inv) {
                ack.push(h.name, Value::Raw(h.value));
            }
            if let Some(answer) = &rejection {
                ack.set_body("application/sdp", answer);
            }
            if which != Sends::Bye && ack.encode_appending(&mut bytes).is_ok() {
                self.queue_transmit(dest, &bytes);
            }
            dest
        };
        if which == Sends::Ack {
            return false;
        }
        // A re-INVITE's 2xx: its dialog ended with the call (a BYE sent or received, or
        // a 481/408), so the ACK is all it needs; another BYE would repeat the CSeq
        // number of the one sent (§12.2.1.1).
        if inv.to().is_ok_and(|to| to.tag().is_some()) {
            return false;
        }
        let (bye_branch, _) = self.via_parts();
        let via = self.via(&bye_branch, &sent_by);
        bytes.clear();
        let mut bye = MessageBuilder::request(Method::Bye, "");
        let built = match d.as_mut() {
            Some(d) => d.request_into(&mut bye, Method::Bye, via, None).is_ok(),
            None => {
                let seq = fork_seq.max(cseq.seq()) + 1;
                let scratch = &mut scratch;
                unkept::unkept_request(&inv, msg, Method::Bye, seq, via, &mut bye, scratch).is_ok()
            }
        };
        built
            && bye.encode_appending(&mut bytes).is_ok()
            && ClientKey::new(&bye_branch, Method::Bye)
                .is_ok_and(|key| self.start_client_tx(now, dest, &bytes, key, false).is_ok())
    }

    /// The dialog of `call` no longer exists at the peer (a 481 or 408 to an in-dialog
    /// request): the call ends without BYE.
    fn dialog_gone(&mut self, now: Instant, call: CallHandle, status: StatusCode) {
        let Some(c) = self.calls.get_mut(call.0) else {
            return;
        };
        if c.session.is_terminated() {
            return;
        }
        match (c.session.role(), c.session.state()) {
            // An early dialog that is gone ends alone (§12.2.1.2): the INVITE goes on, and
            // this fork or another may still answer it (a 2xx makes its dialog anew).
            (
                dialog::Role::Uac,
                dialog::SessionState::Calling | dialog::SessionState::Proceeding,
            ) => {
                if let Some(d) = c.dialog.take() {
                    // That fork's early dialog alone is over; its CSeq numbers are kept
                    // should it still answer (§12.2.1.1).
                    let tag = d.id().remote_tag();
                    if let Some(f) = c.forks.iter_mut().find(|f| f.tag.is(tag)) {
                        f.ended = true;
                        f.keep_seqs_of(&d);
                    }
                    // The call stays indexed (Call-ID, local tag) while other forks'
                    // early dialogs live (§12.1.2).
                    if c.forks.iter().all(|f| f.ended) {
                        self.call_index.remove(call.0.index);
                    }
                }
            }
            // The callee's early dialog is its only one: the INVITE is declined, which
            // ends the call (§15).
            (dialog::Role::Uas, dialog::SessionState::Proceeding) => {
                let _ = self.step_call(now, call, &dialog::Event::TuHangUp, None);
            }
            _ => {
                self.remove_call(now, call);
                self.push_event(Event::CallTerminated {
                    call,
                    reason: dialog::EndReason::DialogGone(status),
                });
            }
        }
    }

    /// The ACK for the non-2xx final response stored in client INVITE `tx`, built from
    /// the INVITE and that response (§17.1.1.3), sent to the INVITE's destination.
    #[inline(never)] // rare (a non-2xx final response); see `tx_to_tu`
    fn send_ack_for_final(&mut self, tx: TxHandle) {
        let Some(e) = self.txs.get(tx.0) else { return };
        let peer = e.peer;
        match self.ack_for_final(tx) {
            Some(bytes) => self.queue_transmit(peer, &bytes),
            None => self.stats.queue_overflows += 1,
        }
    }

    /// The ACK of INVITE client transaction `tx` for the non-2xx final response it keeps
    /// (§17.1.1.3: same branch, the response's To).
    fn ack_for_final(&self, tx: TxHandle) -> Option<Bytes<MSG>> {
        let e = self.txs.get(tx.0)?;
        let invite = e.stored_request(&Limits::default())?;
        let resp = Message::parse(&e.response).ok()?;
        let mut bytes = Bytes::<MSG>::new();
        MessageBuilder::ack_for(&invite, &resp)
            .ok()?
            .encode_appending(&mut bytes)
            .ok()?;
        Some(bytes)
    }

    /// Queue the stored bytes `which` of `tx` to its peer.
    fn resend(&mut self, tx: TxHandle, which: TxBuf) {
        let Some(e) = self.txs.get(tx.0) else { return };
        let bytes = e.stored(which);
        if bytes.is_empty() {
            return;
        }
        // Queued in place: copied once, into the host's buffer (see `TransmitQueue`).
        if !self.transmits.push_stored(e.peer, tx.0.index, which, bytes) {
            self.stats.queue_overflows += 1;
        }
    }

    /// Copy into the transmit queue the stored bytes it refers to in the free slots,
    /// one of which an insert is about to reuse: see [`TransmitQueue`]. Inlined to the
    /// test of whether it refers to any.
    #[inline(always)]
    fn settle_free_slots(&mut self) {
        if self.transmits.has_stored() {
            self.settle_transmits(None);
        }
    }

    /// [`settle_free_slots`](Self::settle_free_slots) for the response of `tx`, which
    /// is about to be replaced.
    #[inline(always)]
    fn settle_response(&mut self, tx: TxHandle) {
        if self.transmits.has_stored() {
            self.settle_transmits(Some(tx.0.index));
        }
    }

    /// Copy into the transmit queue the stored bytes it refers to: the response of
    /// slot `response_of`, or with `None` those of every free slot.
    #[inline(never)]
    fn settle_transmits(&mut self, response_of: Option<u16>) {
        let txs = &self.txs;
        self.transmits.settle(
            |slot, which| match response_of {
                Some(index) => slot == index && which == TxBuf::Response,
                None => !txs.is_live(slot),
            },
            |slot, which| txs.value_at(slot).map_or(&[], |e| e.stored(which)),
        );
    }

    /// Build the response `status` to the request of server transaction `tx` into its
    /// response buffer (§8.2.6, with the endpoint's To tag, Contact for dialog-creating
    /// 1xx/2xx, the pending body, and the top Via rewritten per §18.2.1).
    fn write_response(
        &mut self,
        tx: TxHandle,
        status: StatusCode,
        call: Option<CallHandle>,
    ) -> Result<(), SendError> {
        // The response is written over the last one, which may wait in the queue.
        self.settle_response(tx);
        // A call's responses carry its local tag; others get a fresh one (stored bytes
        // make retransmissions identical). Borrowed, not copied: `calls` and `txs` are
        // apart.
        let call_tag = call
            .and_then(|c| self.calls.get(c.0))
            .map(|c| c.local_tag.as_str());
        let contacts = &self.contacts;
        let ua = self.config.user_agent;
        let limits = self.config.limits;
        let pending = self
            .pending_body
            .as_ref()
            .map(|(ct, b)| (ct.as_str(), b.as_slice()));
        let extra = &self.pending_headers;
        let e = self.txs.get_mut(tx.0).ok_or(SendError::UnknownHandle)?;
        let TxEntry {
            meta,
            request,
            response,
        } = e;
        let TxMeta {
            request_index,
            top_via,
            top_via_span,
            to_tagged,
            to_tag,
            ..
        } = meta;
        let own;
        let tag = match call_tag {
            Some(tag) => tag,
            // Not read: the request's To has a tag, or the response is a 100 (see
            // `push_response_headers`).
            None if *to_tagged || status == StatusCode::TRYING => "",
            None => {
                own = to_tag.text();
                own.as_str()
            }
        };
        let mut request = Message::empty(request);
        if !read_stored(&mut request, request_index, &limits) {
            return Err(SendError::InvalidState);
        }
        let mut b = MessageBuilder::response(status);
        b.push_response_headers(&request, status, tag, Some(*to_tagged), *top_via_span)
            .map_err(EncodeError::from)?;
        // Copied from the request: see `crlf_framed`.
        let copied = crlf_framed(&request);
        if !top_via.is_empty() {
            // The request's own top Via, with `rport` and `received` filled in.
            b.replace_first("Via", Value::Text(top_via), copied);
        }
        let dialog_creating = request.method() == Some(Method::Invite)
            && status.as_u16() > 100
            && status.as_u16() < 300;
        // A 2xx to UPDATE, a target refresh, carries the Contact too (RFC 3311 §5.2).
        let update_2xx = request.method() == Some(Method::Update) && status.is_success();
        if dialog_creating || update_2xx {
            // §12.1.1: SIPS if the request's Request-URI, top Record-Route or (without
            // Record-Route) Contact is.
            // Read from the bytes: the request's checks parsed these already.
            let top = match request.value_of(HeaderKind::RecordRoute) {
                Some((rr, _)) => sips_bytes(rr),
                None => request
                    .value_of(HeaderKind::Contact)
                    .is_some_and(|(c, _)| sips_bytes(c)),
            };
            let sips = request.request_uri_raw().is_some_and(sips_bytes) || top;
            b.push_named_vouched("Contact", Value::Text(contacts.get(sips)), contacts.vouched);
        }
        // §12.1.1: a response that may establish a dialog (101-299 to INVITE, 2xx to a
        // SUBSCRIBE, REFER or the NOTIFY that makes a subscription's dialog, RFC 6665
        // §4.1.2.4) copies every Record-Route value of the request, in order, so that
        // the peer's route set keeps the proxies that asked to stay on the path.
        let copies_record_route = dialog_creating
            || (status.is_success()
                && matches!(
                    request.method(),
                    Some(Method::Subscribe | Method::Refer | Method::Notify)
                ));
        if copies_record_route {
            for (rr, _) in request.values_of(HeaderKind::RecordRoute) {
                b.push_maybe_trusted("Record-Route", Value::Raw(rr), copied);
            }
        }
        if let Some(ua) = ua {
            b.push_named_vouched("Server", Value::Text(ua), contacts.user_agent_vouched);
        }
        for (name, value) in extra {
            b.push(name, Value::Text(value));
        }
        if let Some((ct, body)) = pending
            && status.as_u16() >= 180
        {
            b.set_body(ct, body);
        }
        // The last response stays (it answers retransmissions) unless this one fits.
        b.encode_replacing_stored(response)?;
        Ok(())
    }

    /// Write and send response `status` on server transaction `tx`.
    fn send_response(
        &mut self,
        now: Instant,
        tx: TxHandle,
        status: StatusCode,
    ) -> Result<(), SendError> {
        let e = self.txs.get(tx.0).ok_or(SendError::UnknownHandle)?;
        if !e.machine.can_respond() {
            return Err(SendError::InvalidState);
        }
        let call = e.call;
        self.write_response(tx, status, call)?;
        if status.as_u16() >= 300 {
            self.index_legacy_ack(tx, call);
        }
        let e = self.txs.get_mut(tx.0).ok_or(SendError::UnknownHandle)?;
        let mut actions = transaction::Actions::new();
        e.machine
            .respond(&self.config.timers, status, &mut actions)?;
        let non_invite = matches!(e.machine, Machine::ServerNonInvite(_));
        self.run_tx_actions(now, tx, &actions, None);
        // An INVITE transaction lingers only once its 2xx is acknowledged (`on_ack`):
        // until then the session retransmits the 2xx it holds.
        if non_invite {
            self.linger_tx(tx);
        }
        Ok(())
    }

    /// Turn server transaction `tx` into a lingering record if all it still does is wait
    /// out Timer J (non-INVITE, Completed) or Timer L (INVITE, Accepted, 2xx no longer
    /// retransmitted). Without room for the record it stays a full entry.
    fn linger_tx(&mut self, tx: TxHandle) {
        let Some(e) = self.txs.get(tx.0) else { return };
        let (waiting, response): (bool, &[u8]) = match e.machine {
            Machine::ServerNonInvite(m) => {
                (m.state() == transaction::State::Completed, &e.response)
            }
            Machine::ServerInvite(m) => (m.state() == transaction::State::Accepted, &[]),
            _ => (false, &[]),
        };
        let retransmitting = e.call.and_then(|c| self.calls.get(c.0)).is_some_and(|c| {
            c.invite_tx == tx
                && (c
                    .timers
                    .get(session_timer_index(SessionTimer::Retransmit2xx))
                    .is_some()
                    || c.timers
                        .get(session_timer_index(SessionTimer::AckTimeout))
                        .is_some())
        });
        let (Some(key), Some(deadline)) = (&e.server_key, e.timers.next()) else {
            return;
        };
        if !waiting
            || retransmitting
            || e.ack_key.is_some()
            || !self
                .linger
                .push(deadline, key, e.merge_key.as_ref(), e.peer, response)
        {
            return;
        }
        self.remove_tx(tx);
    }

    /// For an INVITE matched by the RFC 2543 fallback, index the key its ACK will carry:
    /// the INVITE's key with the To tag of the final response just written (§17.2.3).
    fn index_legacy_ack(&mut self, tx: TxHandle, call: Option<CallHandle>) {
        let Some(e) = self.txs.get(tx.0) else { return };
        let Some(RequestKey::Legacy(k)) = &e.server_key else {
            return;
        };
        if !matches!(e.machine, Machine::ServerInvite(_)) {
            return;
        }
        let tag = match call.and_then(|c| self.calls.get(c.0)) {
            Some(c) => c.local_tag.clone(),
            None => String::try_from(e.to_tag.text().as_str()).unwrap_or_default(),
        };
        let Ok(ack) = k.for_ack(&tag).map(RequestKey::Legacy) else {
            return;
        };
        let hash = hash_of(self.hash_key, 5, &ack);
        if let Some(e) = self.txs.get_mut(tx.0) {
            e.ack_key = Some(ack);
            self.ack_index.insert(tx.0.index, hash);
        }
    }

    /// Start a client transaction for a new request outside any dialog. Returns the
    /// transaction; the From tag is written to `tag` (empty on entry).
    fn start_request(
        &mut self,
        now: Instant,
        to: SocketAddr,
        req: &Request<'_>,
        tag: &mut String<{ crate::dialog::MAX_TAG }>,
    ) -> Result<TxHandle, SendError> {
        if req.cseq == 0 || req.cseq > CSEQ_LIMIT {
            return Err(SendError::InvalidState);
        }
        // A host's Request-URI without its scheme (`bob@host`) would go out as a start
        // line no peer accepts (§25.1): refused as the writer refuses one with a space.
        if !has_scheme(req.uri) {
            return Err(SendError::Encode(EncodeError::InvalidStartLine));
        }
        // §8.1.1.2, §8.1.1.3: a From or To the peer would refuse (`alice`), a From tag
        // beside the one written here, or a To tag on a request of no dialog the host
        // continues (it gives the Call-ID of one).
        if !address_ok(req.from, false) {
            return Err(SendError::InvalidAddress {
                header: HeaderKind::From,
            });
        }
        if !address_ok(req.to, req.call_id.is_some()) {
            return Err(SendError::InvalidAddress {
                header: HeaderKind::To,
            });
        }
        let (branch, sent_by) = self.via_parts();
        // A host's tag may be as long as a dialog keeps (a peer's UUID tag, used again).
        // Written in the caller's room, not returned: a tag is 128 bytes.
        match req.from_tag {
            Some(t) => tag
                .push_str(t)
                .map_err(|_| SendError::Capacity(Capacity::String))?,
            // `unwrap_or_default` before: a random tag that does not fit is empty.
            None => {
                if tag.push_str(self.random_tag().as_str()).is_err() {
                    tag.clear();
                }
            }
        }
        let mut call_id: String<{ crate::dialog::MAX_CALL_ID }> = String::new();
        match req.call_id {
            // `word [@ word]` (§25.1), exactly as it was received, or it is not the same.
            Some(c)
                if crate::message::CallId::parse(c.as_bytes()).map(|id| id.as_str()) != Ok(c) =>
            {
                return Err(SendError::InvalidState);
            }
            Some(c) => call_id
                .push_str(c)
                .map_err(|_| SendError::Capacity(Capacity::String))?,
            // Empty: made above.
            None => self.push_call_id(&mut call_id),
        }
        let via = self.via(&branch, &sent_by);
        reserved_header(req.headers)?;
        let mut b = MessageBuilder::request(req.method, req.uri);
        // Trusted: what the endpoint made (the Call-ID too, or the host's checked above);
        // the host's values are checked when written.
        b.push_trusted("Via", Value::Via(via));
        b.push_trusted("Max-Forwards", Value::Number(70));
        // A tag the endpoint made is hex digits (`random_tag`), a tag
        // (`made_tags_pass_the_check`): only the host's URI is checked then, here.
        let from_ok = req.from_tag.is_none()
            && !tag.is_empty()
            && crate::encode::value_may_be_written(&Value::Text(req.from));
        b.push_named_vouched("From", Value::Tagged(req.from.as_bytes(), tag), from_ok);
        b.push_named("To", Value::Text(req.to));
        b.push_trusted("Call-ID", Value::Text(&call_id));
        // A known method's CSeq always passes the writer's check.
        b.push_named_vouched(
            "CSeq",
            Value::CSeq(req.cseq, req.method),
            req.method.is_known(),
        );
        if matches!(
            req.method,
            Method::Invite | Method::Subscribe | Method::Register | Method::Refer
        ) {
            // §8.1.1.8: SIPS when the Request-URI or the top Route is.
            let top_route = req
                .headers
                .iter()
                .find(|(n, _)| HeaderKind::from_name(n.as_bytes()) == HeaderKind::Route)
                .is_some_and(|(_, v)| sips_text(v));
            let sips = sips_text(req.uri) || top_route;
            b.push_named_vouched(
                "Contact",
                Value::Text(self.contacts.get(sips)),
                self.contacts.vouched,
            );
        }
        if let Some(ua) = self.config.user_agent {
            b.push_named_vouched(
                "User-Agent",
                Value::Text(ua),
                self.contacts.user_agent_vouched,
            );
        }
        // RFC 3262 §4: a UAC that supports reliable provisional responses says so (unless
        // the host writes its own Supported). Only with an offer: to an INVITE without
        // one, a reliable provisional response may carry the offer, whose answer must go
        // in the PRACK (§5), which this endpoint does not write.
        if req.method == Method::Invite
            && req.body.is_some()
            && self.supports_100rel()
            && !req
                .headers
                .iter()
                .any(|(n, _)| HeaderKind::from_name(n.as_bytes()) == HeaderKind::Supported)
        {
            b.push_trusted("Supported", Value::Text(reliable::OPTION_TAG));
        }
        // RFC 4028 §7.1: every request but ACK says the UAC supports session timers; an
        // INVITE asks for one.
        if let Some(cfg) = self.config.session_timer
            && !matches!(req.method, Method::Ack | Method::Cancel)
        {
            b.push_trusted("Supported", Value::Text(dialog::TIMER_OPTION_TAG));
            if req.method == Method::Invite {
                b.push_trusted(
                    "Session-Expires",
                    Value::SessionExpires(cfg.request_interval(), None),
                );
                b.push_trusted("Min-SE", Value::Number(cfg.effective_min_se()));
            }
        }
        for (name, value) in req.headers {
            b.push(name, Value::Text(value));
        }
        if let Some((ct, body)) = req.body {
            b.set_body(ct, body);
        }
        let mut bytes = Bytes::<MSG>::new();
        b.encode_appending(&mut bytes)?;
        drop(b); // ends its borrow of `self.contacts`
        let key = ClientKey::new(&branch, req.method)
            .map_err(|_| SendError::Capacity(Capacity::Branch))?;
        self.start_client_tx(now, to, &bytes, key, req.method == Method::Invite)
    }

    fn start_client_tx(
        &mut self,
        now: Instant,
        to: SocketAddr,
        request: &[u8],
        key: ClientKey,
        invite: bool,
    ) -> Result<TxHandle, SendError> {
        let cfg = self.config.timers;
        let reliability = self.config.transport.reliability();
        let mut actions = transaction::Actions::new();
        let machine = if invite {
            Machine::ClientInvite(ClientInvite::start_into(&cfg, reliability, &mut actions))
        } else {
            Machine::ClientNonInvite(ClientNonInvite::start_into(&cfg, reliability, &mut actions))
        };
        let h = self
            .insert_tx(request, KeyHashes::default(), machine, |m| {
                let TxMeta {
                    machine: _,
                    client_key,
                    server_key,
                    merge_key,
                    peer,
                    request_index,
                    top_via,
                    top_via_span,
                    to_tagged,
                    cseq,
                    to_tag,
                    ack_key,
                    fork_seqs,
                    timers,
                    call,
                } = m;
                *client_key = Some(key);
                *server_key = None;
                *merge_key = None;
                *peer = to;
                *request_index = Detached::empty();
                top_via.clear();
                *top_via_span = None;
                *to_tagged = false;
                *cseq = None;
                *to_tag = LazyTag::NONE;
                *ack_key = None;
                fork_seqs.clear();
                *timers = Timers::new();
                *call = None;
            })
            .ok_or(SendError::Capacity(Capacity::Transactions))?;
        let tx = TxHandle(h);
        self.run_tx_actions(now, tx, &actions, None);
        Ok(tx)
    }

    /// Send an in-dialog request (BYE) on the call's dialog, or on a fork's dialog
    /// built from `fork_response`.
    fn send_in_dialog(
        &mut self,
        now: Instant,
        call: CallHandle,
        method: Method<'static>,
        mut fork: Option<Dialog>,
    ) -> Result<TxHandle, SendError> {
        let branch = self.new_branch();
        let sent_by = self.sent_by.as_str();
        let via = self.via(&branch, sent_by);
        let mut bytes = Bytes::<MSG>::new();
        let dest = {
            let c = self.calls.get_mut(call.0).ok_or(SendError::UnknownHandle)?;
            let fallback = c.peer;
            let d = match fork.as_mut() {
                Some(d) => d,
                None => c.dialog.as_mut().ok_or(SendError::InvalidState)?,
            };
            let hop = first_hop(d);
            d.set_hop(hop);
            let dest = hop.unwrap_or(fallback);
            // Target refresh requests carry the Contact (§12.2.1.1, RFC 3311 §5.1).
            let contact = matches!(method, Method::Invite | Method::Update)
                .then(|| self.contacts.for_dialog(d));
            let mut b = MessageBuilder::request(method, "");
            d.request_into(&mut b, method, via, contact)
                .map_err(|_| SendError::InvalidState)?;
            // The first header is the endpoint's own Via: trusted.
            b.replace_first("Via", Value::Via(via), true);
            // RFC 4028 §7.1: `Supported: timer` in every request (a re-INVITE has it among
            // its session timer headers already, `push_timer_request`).
            if self.config.session_timer.is_some() && method != Method::Invite {
                b.push_trusted("Supported", Value::Text(dialog::TIMER_OPTION_TAG));
            }
            for (name, value) in &self.pending_headers {
                b.push(name, Value::Text(value));
            }
            if let Some((ct, body)) = &self.pending_body {
                b.set_body(ct, body);
            }
            b.encode_appending(&mut bytes)?;
            dest
        };
        // §22.3 (and §22.2): the challenges the call was given are answered on its later
        // requests too.
        self.authorize_in_call(call, &mut bytes);
        let key =
            ClientKey::new(&branch, method).map_err(|_| SendError::Capacity(Capacity::Branch))?;
        let tx = self.start_client_tx(now, dest, &bytes, key, method == Method::Invite)?;
        if let Some(e) = self.txs.get_mut(tx.0) {
            e.call = Some(call);
        }
        Ok(tx)
    }

    // ----- calls ---------------------------------------------------------------------

    fn fire_call_timer(&mut self, now: Instant, call: CallHandle, index: usize) {
        let Some(uac_invite) = self.calls.get(call.0).map(|c| c.uac_invite) else {
            return;
        };
        self.set_call_timer(call, index, None);
        match index {
            // No final response for too long after a provisional: give up (CANCEL).
            PROVISIONAL_GUARD => {
                let _ = self.step_call(now, call, &dialog::Event::TuHangUp, None);
            }
            // §9.1: no final response 64*T1 after the CANCEL: the INVITE transaction is
            // considered cancelled and destroyed.
            RELIABLE_TIMER => {
                self.reliable_step(now, call, |r, t1| r.timer(t1));
            }
            CANCEL_GUARD => {
                if let Some(tx) = uac_invite
                    && matches!(self.txs.get(tx.0).map(|e| e.machine), Some(Machine::ClientInvite(m))
                        if matches!(m.state(), transaction::State::Calling | transaction::State::Proceeding))
                {
                    self.remove_tx(tx);
                    let _ = self.step_call(now, call, &dialog::Event::InviteTransactionEnded, None);
                }
            }
            _ => {
                let Some(&timer) = SESSION_TIMERS.get(index) else {
                    return;
                };
                let _ = self.step_call(now, call, &dialog::Event::Timer(timer), None);
            }
        }
    }

    /// Feed the session of `call` and carry out what it asks. `msg` is the message that
    /// caused the event, when there is one (a response to the INVITE).
    fn step_call(
        &mut self,
        now: Instant,
        call: CallHandle,
        // Borrowed: an event with a tag is some 140 bytes.
        event: &dialog::Event,
        msg: Option<&Message<'_>>,
    ) -> Result<(), SendError> {
        let c = self.calls.get_mut(call.0).ok_or(SendError::UnknownHandle)?;
        // A TU command the session cannot take changes nothing and does nothing; the
        // session before it is kept to tell (and to go back to, see below). Other events
        // step the session where it is.
        let command = matches!(
            *event,
            dialog::Event::TuCancel
                | dialog::Event::TuAnswer
                | dialog::Event::TuReject(_)
                | dialog::Event::TuHangUp
                | dialog::Event::TuReInvite { .. }
        );
        // A snapshot, not a copy: the session's forks' tags are most of its 700 bytes,
        // and a TU command changes them only along with an action (`snapshot` says why
        // restoring from it is exact).
        let before = command.then(|| c.session.snapshot());
        #[cfg(debug_assertions)]
        let full = c.session;
        let mut actions = heapless::Vec::new();
        c.session
            .step_in_place(&self.session_config, event, &mut actions);
        let unchanged = command && actions.is_empty() && before == Some(c.session.snapshot());
        #[cfg(debug_assertions)]
        assert_eq!(
            unchanged,
            command && actions.is_empty() && full == c.session
        );
        if unchanged {
            return Err(SendError::InvalidState);
        }
        let mut result = Ok(());
        for (i, action) in actions.iter().enumerate() {
            let r = self.run_call_action(now, call, action, msg);
            // An answer, rejection or re-INVITE whose message (the step's first action)
            // could not be sent changes nothing: the session stays as it was, and the
            // host can try again (a smaller body, another status). A hang-up or CANCEL
            // goes on regardless (its guards end the call).
            let retryable = matches!(
                *event,
                dialog::Event::TuAnswer
                    | dialog::Event::TuReject(_)
                    | dialog::Event::TuReInvite { .. }
            );
            if retryable
                && i == 0
                && r.is_err()
                && let (Some(before), Some(c)) = (before, self.calls.get_mut(call.0))
            {
                c.session.restore(&before);
                #[cfg(debug_assertions)]
                assert!(c.session == full);
                return r;
            }
            if result.is_ok() {
                result = r;
            }
        }
        self.session_timer_step(now, call, &actions, msg);
        result
    }

    /// Carry out one action of the call's session. The timer actions, about a third of
    /// them, are done here; the rest out of line, in a function whose frame (some 9 kB:
    /// messages are built there) is set up only for them.
    #[inline(always)]
    fn run_call_action(
        &mut self,
        now: Instant,
        call: CallHandle,
        action: &dialog::Action,
        msg: Option<&Message<'_>>,
    ) -> Result<(), SendError> {
        match *action {
            dialog::Action::StartTimer(t, d) => {
                self.set_call_timer(call, session_timer_index(t), Some(now.saturating_add(d)));
                Ok(())
            }
            dialog::Action::CancelTimer(t) => {
                self.set_call_timer(call, session_timer_index(t), None);
                Ok(())
            }
            _ => self.run_call_send(now, call, action, msg),
        }
    }

    /// [`run_call_action`](Self::run_call_action) for every action (the timer ones
    /// included, as there).
    #[inline(never)]
    fn run_call_send(
        &mut self,
        now: Instant,
        call: CallHandle,
        action: &dialog::Action,
        msg: Option<&Message<'_>>,
    ) -> Result<(), SendError> {
        // By reference: an action holds a tag, copied only where it is used.
        match *action {
            dialog::Action::SendAck {
                ref remote_tag,
                cseq,
                sdp,
            } => {
                // The own dialog settled first: a `Fork` or its `Result` has a dialog's
                // room, and each move of one copies all of it, even when it holds none.
                let fork = if self.is_own_dialog(call, remote_tag) {
                    None
                } else {
                    self.other_fork(now, call, *remote_tag, msg, Sends::Ack)?
                };
                // Late offer on the call's own dialog: the ACK carries the host's answer
                // (`ack_with_answer`), for every copy of the 2xx (§13.2.2.4). Extra forks
                // get a bare ACK before their BYE.
                if sdp == Sdp::Answer && fork.is_none() {
                    let c = self.calls.get_mut(call.0).ok_or(SendError::UnknownHandle)?;
                    if c.ack_for == Some((*remote_tag, cseq)) {
                        // A retransmitted 2xx: the same ACK again (§13.2.2.4).
                        let dest = c
                            .dialog
                            .as_ref()
                            .map_or(c.peer, |d| dialog_destination(d, c.peer));
                        let bytes = c.ack.clone();
                        self.queue_transmit(dest, &bytes);
                    } else if c.ack_wanted != Some((*remote_tag, cseq)) {
                        c.ack_wanted = Some((*remote_tag, cseq));
                        // The host reads the offer there (`call_answer`): an offer-less
                        // re-INVITE's 2xx replaces the INVITE's.
                        if let Some(m) = msg {
                            c.answer.clear();
                            let _ = c.answer.extend_from_slice(m.as_bytes());
                        }
                        self.push_event(Event::AnswerNeeded { call });
                    }
                    return Ok(());
                }
                let branch = self.new_branch();
                let sent_by = self.sent_by.as_str();
                let via = self.via(&branch, sent_by);
                let mut bytes = Bytes::<MSG>::new();
                let dest = {
                    let c = self.calls.get(call.0).ok_or(SendError::UnknownHandle)?;
                    let d = fork
                        .as_ref()
                        .or(c.dialog.as_ref())
                        .ok_or(SendError::InvalidState)?;
                    // An extra fork's 2xx with an offer (a late-offer call): its ACK
                    // carries an answer rejecting every stream, its BYE follows (§13.2.2.4).
                    let rejection = match (sdp, msg) {
                        (Sdp::Answer, Some(m)) if self.pending_body.is_none() => {
                            sdp::rejecting_answer(m)
                        }
                        _ => None,
                    };
                    let mut b = MessageBuilder::request(Method::Ack, "");
                    d.ack_into(&mut b, cseq, via);
                    // The first header is the endpoint's own Via: trusted.
                    b.replace_first("Via", Value::Via(via), true);
                    let invite = self.sent_invite(call, c, cseq);
                    for h in invite.iter().flat_map(digest::credentials_of) {
                        b.push(h.name, Value::Raw(h.value));
                    }
                    if let Some((ct, body)) = &self.pending_body {
                        b.set_body(ct, body);
                    } else if let Some(answer) = &rejection {
                        b.set_body("application/sdp", answer);
                    }
                    b.encode_appending(&mut bytes)?;
                    (first_hop(d), c.peer)
                };
                // The call's own dialog keeps its first hop for the BYE.
                if fork.is_none()
                    && let Some(d) = self.calls.get_mut(call.0).and_then(|c| c.dialog.as_mut())
                {
                    d.set_hop(dest.0);
                }
                self.queue_transmit(dest.0.unwrap_or(dest.1), &bytes);
            }
            dialog::Action::SendBye { ref remote_tag } => {
                // §13.2.2.4: a 2xx is ACKed before its dialog is BYEd. A late offer whose
                // answer the host has not given yet gets "a valid answer in the ACK": one
                // rejecting every stream of the offer (RFC 3264 §6), or none if the offer
                // is not SDP the endpoint can read (a BYE without ACK is worse).
                let rejection = self.calls.get(call.0).and_then(|c| {
                    c.ack_wanted.filter(|(t, _)| t == remote_tag)?;
                    sdp::rejecting_answer(&Message::parse_with(&c.answer, &Limits::default()).ok()?)
                });
                if let Some(answer) = rejection {
                    // On success the ACK no longer waits; on failure it goes bare below.
                    let _ = self.ack_with_answer(call, ("application/sdp", &answer));
                }
                let unacked = self
                    .calls
                    .get_mut(call.0)
                    .and_then(|c| c.ack_wanted.take_if(|(t, _)| t == remote_tag));
                if let Some((_, cseq)) = unacked {
                    self.run_call_action(
                        now,
                        call,
                        &dialog::Action::SendAck {
                            remote_tag: *remote_tag,
                            cseq,
                            sdp: Sdp::None,
                        },
                        msg,
                    )?;
                }
                // The own dialog settled first (see `SendAck`).
                let fork = if self.is_own_dialog(call, remote_tag) {
                    None
                } else {
                    self.other_fork(now, call, *remote_tag, msg, Sends::Bye)?
                };
                let bye = self.send_in_dialog(now, call, Method::Bye, fork)?;
                if let Some(c) = self.calls.get_mut(call.0) {
                    c.pending_tx = Some(bye);
                }
                // The dialog is BYEd (the call's or another fork's): its 2xx retransmitted
                // once the call is over gets the ACK alone (§12.2.1.1), kept with the
                // INVITE beyond the call. Only once the BYE went: one that could not be
                // sent leaves that 2xx to be BYEd when it comes again.
                if let Some(c) = self.calls.get(call.0) {
                    let (invite, lingering) = (c.uac_invite, c.lingering_invite.as_ref());
                    let tag = remote_tag.as_bytes();
                    mark_byed_in(&mut self.txs, &mut self.linger, invite, lingering, tag);
                }
            }
            dialog::Action::SendCancel => {
                let c = self.calls.get(call.0).ok_or(SendError::UnknownHandle)?;
                let invite = c
                    .uac_invite
                    .and_then(|t| self.txs.get(t.0))
                    .ok_or(SendError::InvalidState)?;
                let peer = invite.peer;
                let mut bytes = Bytes::<MSG>::new();
                let inv = invite
                    .stored_request(&Limits::default())
                    .ok_or(SendError::InvalidState)?;
                MessageBuilder::cancel_for(&inv)
                    .map_err(EncodeError::from)?
                    .encode_appending(&mut bytes)?;
                let key = cancel_key(&inv).map_err(|_| SendError::InvalidState)?;
                // Armed first: even if the CANCEL cannot be sent (a full table), §9.1's
                // 64*T1 still ends the INVITE.
                let guard = now.saturating_add(self.config.timers.t1_x64());
                self.set_call_timer(call, CANCEL_GUARD, Some(guard));
                self.start_client_tx(now, peer, &bytes, key, false)?;
            }
            dialog::Action::SendReInvite { .. } => {
                // Only `reinvite` gives the session the command that asks for this.
                let tx = self.send_in_dialog(now, call, Method::Invite, None)?;
                let seq = self
                    .calls
                    .get(call.0)
                    .and_then(|c| c.dialog.as_ref())
                    .map(Dialog::local_seq);
                if let (Some(c), Some(seq)) = (self.calls.get_mut(call.0), seq) {
                    c.reinvite = Some((tx, seq));
                    // The initial INVITE is long answered: a 422 is followed once more.
                    c.retried_422 = false;
                }
            }
            dialog::Action::Respond { to, code, .. } => {
                let c = self.calls.get(call.0).ok_or(SendError::UnknownHandle)?;
                let tx = match to {
                    RequestKind::Invite | RequestKind::ReInvite => Some(c.invite_tx),
                    RequestKind::Cancel | RequestKind::Bye => c.pending_tx,
                };
                let Some(tx) = tx else { return Ok(()) };
                // §14.2: a 500 to a second INVITE carries Retry-After, 0 to 10 s at random.
                // A TU command is never running here (the peer's re-INVITE caused this),
                // so the pending headers are free.
                let retry = to == RequestKind::ReInvite
                    && code == StatusCode::SERVER_INTERNAL_ERROR
                    && self.pending_headers.is_empty();
                if retry {
                    let mut secs: String<2> = String::new();
                    let _ = text::push_u32(&mut secs, (self.next_random() % 11) as u32);
                    let _ = self.push_pending("Retry-After", &secs);
                }
                let sent = self.send_response(now, tx, code);
                if retry {
                    self.pending_headers.clear();
                }
                sent?;
            }
            dialog::Action::Retransmit2xx => {
                if let Some(tx) = self.calls.get(call.0).map(|c| c.invite_tx) {
                    // The INVITE server transaction keeps the 2xx while in Accepted.
                    self.resend(tx, TxBuf::Response);
                }
            }
            dialog::Action::StartTimer(t, d) => {
                self.set_call_timer(call, session_timer_index(t), Some(now.saturating_add(d)));
            }
            dialog::Action::CancelTimer(t) => {
                self.set_call_timer(call, session_timer_index(t), None)
            }
            dialog::Action::Tu(notice) => match notice {
                Notice::Confirmed(tag) => {
                    // The dialog of the fork that answered; an early dialog of another
                    // fork (its 2xx made none: no Contact) is not the call's.
                    let ours = self.calls.get_mut(call.0).and_then(|c| {
                        let d = c.dialog.as_mut()?;
                        if tag.is(d.id().remote_tag()) {
                            d.confirm();
                            Some(true)
                        } else {
                            c.dialog = None;
                            Some(false)
                        }
                    });
                    if ours == Some(false) {
                        self.call_index.remove(call.0.index);
                    }
                    self.push_event(Event::CallEstablished { call });
                }
                Notice::Terminated(reason) => {
                    self.remove_call(now, call);
                    self.push_event(Event::CallTerminated { call, reason });
                }
                // A refresh the endpoint sent goes again by itself (`session_timer_step`).
                Notice::RetryReInvite if !self.calls.get(call.0).is_some_and(|c| c.refreshing) => {
                    self.push_event(Event::RetryReInvite { call })
                }
                _ => {}
            },
        }
        Ok(())
    }

    /// The session's name for the To tag `tag` of a response: the tag, or, past
    /// `MAX_TAG`, a stand-in from its hash that no tag on the wire can be (it starts
    /// with a space), so that forks with long tags stay apart (§12.1.2).
    fn session_tag(&self, tag: &str) -> Tag {
        Tag::new(tag).unwrap_or_else(|_| {
            let mut name: String<17> = String::new();
            let _ = name.push(' '); // fits: 1 + 16 bytes
            let _ = text::push_hex64(&mut name, hash_of(self.hash_key, 6, tag));
            Tag::new(&name).unwrap_or(Tag::EMPTY)
        })
    }

    /// `msg` if it is a 2xx of the fork the session knows as `tag`
    /// ([`session_tag`](Self::session_tag)), which a session action about that fork was
    /// taken for.
    fn unkept_2xx<'m, 'a>(
        &self,
        msg: Option<&'m Message<'a>>,
        tag: Tag,
    ) -> Option<&'m Message<'a>> {
        msg.filter(|m| {
            let to_tag = m
                .to()
                .ok()
                .and_then(|t| t.tag())
                .map(|t| self.session_tag(t));
            m.status().is_some_and(StatusCode::is_success) && to_tag.unwrap_or(Tag::EMPTY) == tag
        })
    }

    /// The dialog a session's ACK or BYE goes in for fork `remote_tag`, not the call's
    /// own (see [`fork_dialog`](Self::fork_dialog)). Another fork's 2xx whose dialog a
    /// `Dialog` cannot keep (past its bounds) gets what `sends` says written from the
    /// messages instead (its ACK for every copy of the 2xx, its BYE when the session asks
    /// for it after the first copy alone, as a kept fork's), and `InvalidState`.
    fn other_fork(
        &mut self,
        now: Instant,
        call: CallHandle,
        remote_tag: Tag,
        msg: Option<&Message<'_>>,
        sends: Sends,
    ) -> Result<Option<Dialog>, SendError> {
        match self.fork_dialog(call, remote_tag, msg) {
            Fork::Unbuildable => {
                if let Some(m) = self.unkept_2xx(msg, remote_tag)
                    && self.ack_and_bye_of_call(now, call, m, sends)
                {
                    // Its 2xx after the call gets the ACK alone, as a kept fork's (`SendBye`).
                    let (invite, lingering) = self
                        .calls
                        .get(call.0)
                        .map_or((None, None), |c| (c.uac_invite, c.lingering_invite.clone()));
                    self.mark_byed(invite, lingering.as_ref(), m);
                }
                Err(SendError::InvalidState)
            }
            f => f.into_option(),
        }
    }

    /// The dialog of fork `remote_tag` when it is not the call's own: built from the
    /// response that created it (§13.2.2.4; confirmed by a 2xx, early by a provisional
    /// response, RFC 3262 §4), its CSeq going on from the fork's PRACKs.
    fn fork_dialog(&self, call: CallHandle, remote_tag: Tag, msg: Option<&Message<'_>>) -> Fork {
        let tls = self.over_tls();
        let Some(c) = self.calls.get(call.0) else {
            return Fork::Unbuildable;
        };
        if self.is_own_dialog(call, &remote_tag) {
            return Fork::Own;
        }
        let built = (|| {
            let inv = self.uac_invite_message(c)?;
            let msg = msg?;
            let mut d = Dialog::uac_or_request_target_of(&inv, msg, tls).ok()?;
            if msg.status().is_some_and(StatusCode::is_success) {
                d.confirm();
            }
            // Requests after the fork's PRACKs go on from their CSeq (§12.2.1.1).
            let seq = c.fork_seq(remote_tag.as_str());
            if seq > d.local_seq() {
                d.set_local_seq(seq);
            }
            Some(d)
        })();
        // Never fall back to the call's own dialog for another fork: an ACK or BYE with
        // the wrong To tag would end the call that is up.
        built.map_or(Fork::Unbuildable, Fork::Other)
    }

    /// Whether `remote_tag` names the call's own dialog ([`Fork::Own`]).
    fn is_own_dialog(&self, call: CallHandle, remote_tag: &Tag) -> bool {
        self.calls.get(call.0).is_some_and(|c| {
            c.dialog
                .as_ref()
                .is_some_and(|d| remote_tag.is(d.id().remote_tag()))
        })
    }

    // ----- helpers -------------------------------------------------------------------

    fn push_event(&mut self, e: Event) {
        if self.events.push_back(e).is_err() {
            self.stats.queue_overflows += 1;
        }
    }

    fn queue_transmit(&mut self, to: SocketAddr, bytes: &[u8]) {
        if !self.transmits.push(to, bytes) {
            self.stats.queue_overflows += 1;
        }
    }

    /// Answer `msg` without a transaction (tables full, or nothing to keep).
    fn reply_stateless(&mut self, msg: &Message<'_>, from: SocketAddr, status: StatusCode) {
        let rejection = check::Rejection {
            status,
            problem: check::Problem::Malformed(crate::ParseError::new(
                crate::ParseErrorKind::Header,
                0,
            )),
        };
        self.send_rejection(msg, from, &rejection);
    }

    /// Write the response a rejection calls for (with the headers it needs) and send it
    /// where §18.2.2 says, its top Via carrying `received`/`rport`.
    fn send_rejection(
        &mut self,
        msg: &Message<'_>,
        from: SocketAddr,
        rejection: &check::Rejection,
    ) {
        let tag = self.random_tag();
        let caps = self.caps();
        let mut buf = [0u8; MAX_REJECTION];
        let Ok(n) = rejection.write_response(msg, &caps, &tag, &mut buf) else {
            self.stats.queue_overflows += 1;
            return;
        };
        let Ok(resp) = Message::parse(&buf[..n]) else {
            return;
        };
        let (destination, via) = response_route(msg, from, self.config.transport != Transport::Udp);
        let mut out = [0u8; MAX_REJECTION];
        match rewrite_top_via(&resp, &via, &mut out) {
            Ok(n) => self.queue_transmit(destination, &out[..n]),
            Err(_) => self.stats.queue_overflows += 1,
        }
    }

    /// A fresh branch (RFC 3261 §8.1.1.7) and this endpoint's sent-by, for a Via of its own.
    fn via_parts(&mut self) -> (transaction::Branch, String<MAX_SHORT>) {
        let branch = self.new_branch();
        (branch, self.sent_by.clone())
    }

    /// A new branch (see [`via_parts`](Self::via_parts)), where the caller borrows the
    /// sent-by from `self.sent_by` rather than copying it.
    fn new_branch(&mut self) -> transaction::Branch {
        transaction::generate_branch(self.next_random())
    }

    /// This endpoint's Via with `branch`, asking for `rport` (RFC 3581).
    fn via<'v>(&self, branch: &'v str, sent_by: &'v str) -> ViaValue<'v> {
        ViaValue {
            transport: self.config.transport.via_token(),
            sent_by,
            branch,
            rport: true,
        }
    }

    /// The next value of the generator: a keyed PRF (SipHash-2-4, keyed from the host's
    /// seed and entropy) over a counter. Its outputs go on the wire as tags, branches and
    /// Call-IDs, which must be unguessable (RFC 3261 §19.3, §8.1.1.4, §8.1.1.7): one
    /// output tells nothing about the next, as the raw output of an invertible mixer
    /// (SplitMix64) did.
    fn next_random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(1);
        prf(self.rng_key, self.rng)
    }

    /// A fresh Call-ID: 64 random bits `@` this endpoint's address (RFC 3261 §8.1.1.4).
    /// It is at most 16 + 1 + 39 bytes, which every caller's `N` holds.
    fn new_call_id<const N: usize>(&mut self) -> String<N> {
        let mut call_id = String::new();
        self.push_call_id(&mut call_id);
        call_id
    }

    /// [`new_call_id`](Self::new_call_id) written into `call_id`, empty: where the
    /// caller keeps it, not returned and copied there.
    fn push_call_id<const N: usize>(&mut self, call_id: &mut String<N>) {
        let _ = text::push_hex64(call_id, self.next_random());
        let _ = call_id.push('@');
        let _ = call_id.push_str(&self.local_ip);
    }

    /// [`random_tag`](Self::random_tag) drawn now and written out when read.
    fn lazy_tag(&mut self) -> LazyTag {
        self.rng = self.rng.wrapping_add(1);
        LazyTag {
            key: self.rng_key,
            n: self.rng,
            drawn: true,
        }
    }

    /// A tag with 64 bits of randomness (RFC 3261 §19.3 asks for at least 32).
    fn random_tag(&mut self) -> String<16> {
        let mut s = String::new();
        let _ = text::push_hex64(&mut s, self.next_random()); // fits exactly
        s
    }
}

/// A tag of the endpoint's generator, drawn (the counter advanced, the key of the
/// moment kept) but its PRF output and hex written only when read: a server
/// transaction's own tag is read only for a response into an untagged To outside a
/// call, and most transactions belong to calls or are within dialogs.
#[derive(Clone, Copy, Debug)]
struct LazyTag {
    key: (u64, u64),
    n: u64,
    /// `false`: no tag (a client transaction's), read as empty.
    drawn: bool,
}

impl LazyTag {
    const NONE: LazyTag = LazyTag {
        key: (0, 0),
        n: 0,
        drawn: false,
    };
    /// Length of a drawn tag's text: 16 hex digits.
    const LEN: usize = 16;

    /// The tag's text: what `random_tag` returned at the draw.
    fn text(&self) -> String<16> {
        let mut s = String::new();
        if self.drawn {
            let _ = text::push_hex64(&mut s, prf(self.key, self.n)); // fits exactly
        }
        s
    }
}

/// [`SendError::ReservedHeader`] for the first of a host's extra `headers` that the
/// endpoint writes itself: a second one makes a message peers refuse (RFC 3261 §20:
/// one each of these per message).
fn reserved_header(headers: &[(&str, &str)]) -> Result<(), SendError> {
    let reserved = |name: &str| {
        matches!(
            HeaderKind::from_name(name.as_bytes()),
            HeaderKind::Via
                | HeaderKind::From
                | HeaderKind::To
                | HeaderKind::CallId
                | HeaderKind::CSeq
                | HeaderKind::MaxForwards
                | HeaderKind::ContentType
                | HeaderKind::ContentLength
        )
    };
    match headers.iter().position(|(name, _)| reserved(name)) {
        Some(index) => Err(SendError::ReservedHeader { index }),
        None => Ok(()),
    }
}

/// Whether a host's From or To `value` is a name-addr or addr-spec, with a `tag`
/// parameter only if `tagged` allows one.
fn address_ok(value: &str, tagged: bool) -> bool {
    // Nearly every host gives `<sip:user@host[:port]>`: a plain SIP URI in angle
    // brackets and nothing after them is a name-addr without a tag, settled by the URI
    // scan alone (a full parse of each of From and To was ~400 instructions).
    if let [b'<', uri @ .., b'>'] = value.as_bytes()
        && crate::message::is_plain_sip(uri)
    {
        return true;
    }
    crate::message::NameAddr::parse(value.as_bytes()).is_ok_and(|a| tagged || a.tag().is_none())
}

/// Whether `uri` starts with a scheme and its colon (RFC 3986 §3.1, which RFC 3261
/// §25.1's absoluteURI takes: `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"`).
fn has_scheme(uri: &str) -> bool {
    let b = uri.as_bytes();
    // `sip:` first: the Request-URI of nearly every request.
    if b.len() > 4 && b[..4].eq_ignore_ascii_case(b"sip:") {
        return true;
    }
    match b.iter().position(|&c| c == b':') {
        Some(n) if n > 0 => {
            b[0].is_ascii_alphabetic()
                && b[1..n]
                    .iter()
                    .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
        }
        _ => false,
    }
}

/// SipHash-2-4 of `x` under `key`, as core's `SipHasher` gives it for `write_u64(x)`
/// (`prf_matches_core`), taken as one whole word rather than through the byte-stream
/// `write`.
fn prf(key: (u64, u64), x: u64) -> u64 {
    use core::hash::Hasher as _;
    let mut h = table::SipHasher::<2, 4>::new(key.0, key.1);
    // `write_u64` hashes the native-endian bytes, which SipHash reads little-endian.
    h.word(u64::from_le_bytes(x.to_ne_bytes()));
    h.finish()
}

/// Timers of a transaction: the machine's, then the orphan guard (see `remove_call`).
const TX_TIMERS: usize = TimerId::ALL.len() + 1;
const ORPHAN_GUARD: usize = TimerId::ALL.len();

/// The largest CSeq number: they stay below 2^31 (RFC 3261 §8.1.1.5).
const CSEQ_LIMIT: u32 = (1 << 31) - 1;

/// Timers of a call: the five session timers, the endpoint's two guards, then the
/// retransmission timer of a reliable provisional response.
const CALL_TIMERS: usize = 8;
/// Index of the provisional guard in a call's timers.
const PROVISIONAL_GUARD: usize = SESSION_TIMERS.len();
/// Index of the CANCEL guard (§9.1: 64*T1 without a final response after CANCEL).
const CANCEL_GUARD: usize = PROVISIONAL_GUARD + 1;
/// Index of the retransmission timer of a reliable provisional response (RFC 3262 §3).
const RELIABLE_TIMER: usize = CANCEL_GUARD + 1;

/// Most early dialogs (forks) a caller keeps for one call (RFC 3261 §12.1.2): requests
/// within them reach the host, and their reliable provisional responses are PRACKed
/// (RFC 3262 §4). Requests within the early dialogs of further forks get 481, and their
/// reliable provisional responses are not PRACKed.
pub const MAX_PRACKED_FORKS: usize = 4;

/// The CSeq numbers a call's forks reached, as bytes: per fork its tag's length, the tag
/// and the number (little-endian).
type ForkSeqs = heapless::Vec<u8, FORK_TRAILER>;

/// Room a call's lingering INVITE record keeps after the INVITE for its forks' CSeq
/// numbers, written when the call ends (`0xFF` until then: no fork).
const FORK_TRAILER: usize = MAX_PRACKED_FORKS * (1 + crate::dialog::MAX_TAG + 4);

/// Store a call's INVITE or re-INVITE answered 2xx as its lingering record (Timer M): the
/// request, then room for the forks' CSeq numbers, holding `seqs`, the entries its
/// transaction had (the dialogs BYEd so far, [`push_byed`]) ([`split_trailer`]); `false`
/// if there is no room.
fn push_invite_record(
    linger: &mut Linger,
    deadline: Instant,
    key: &ClientKey,
    peer: SocketAddr,
    request: &[u8],
    seqs: &[u8],
    call: CallHandle,
) -> bool {
    // The entries, then 0xFF up to FORK_TRAILER bytes (`seqs` holds at most that).
    let room = FORK_TRAILER.saturating_sub(seqs.len());
    linger.push_client(deadline, key, peer, (request, seqs, room), Some(call))
}

/// A lingering INVITE record's bytes: the INVITE, then the forks' CSeq numbers.
fn split_trailer(payload: &[u8]) -> (&[u8], &[u8]) {
    payload.split_at(payload.len().saturating_sub(FORK_TRAILER))
}

fn write_fork_seqs(forks: &[ForkPrack]) -> ForkSeqs {
    let mut out = ForkSeqs::new();
    for f in forks {
        // Fits: at most MAX_PRACKED_FORKS forks of at most MAX_TAG bytes each.
        push_list_entry(&mut out, f.tag.as_bytes(), f.local_seq);
    }
    out
}

/// Write the forks' CSeq numbers into `seqs` (entries, then `0xFF` room) after the
/// entries it holds; a fork without room is left out (its BYE then starts from the
/// 2xx's CSeq, as without a record).
fn append_fork_seqs(forks: &[ForkPrack], seqs: &mut [u8]) {
    let mut at = fork_seqs_end(seqs);
    for f in forks {
        if let Some(end) = write_entry(seqs, at, f.tag.as_bytes(), f.local_seq) {
            at = end;
        }
    }
}

/// The CSeq number fork `tag` reached in `seqs` ([`write_fork_seqs`]); 0 if none.
fn fork_seq_in(seqs: &[u8], tag: &str) -> u32 {
    fork_entries(seqs)
        .find(|&(t, n)| t == tag.as_bytes() && n != BYED)
        .map_or(0, |(_, n)| n)
}

/// The number of a fork entry that says the dialog with that To tag was BYEd (no CSeq
/// number reaches it, `CSEQ_LIMIT`).
const BYED: u32 = u32::MAX;

/// The entries of `seqs` ([`write_fork_seqs`], [`push_byed`]): To tag and number. A
/// record's trailer ends with `0xFF` bytes, which no tag's length is.
fn fork_entries(mut seqs: &[u8]) -> impl Iterator<Item = (&[u8], u32)> {
    core::iter::from_fn(move || {
        let (&len, rest) = seqs.split_first().filter(|(l, _)| **l != 0xFF)?;
        let len = usize::from(len);
        let (t, n) = (rest.get(..len)?, rest.get(len..len + 4)?);
        seqs = &rest[len + 4..];
        Some((t, n.try_into().map_or(0, u32::from_le_bytes)))
    })
}

/// Where the entries of `seqs` end.
fn fork_seqs_end(seqs: &[u8]) -> usize {
    fork_entries(seqs).map(|(t, _)| 1 + t.len() + 4).sum()
}

/// Whether `seqs` says the dialog with To tag `tag` was BYEd.
fn fork_byed(seqs: &[u8], tag: &str) -> bool {
    fork_entries(seqs).any(|(t, n)| t == tag.as_bytes() && n == BYED)
}

/// [`Endpoint::mark_byed`] for the dialog with To tag `tag`, over the endpoint's
/// transactions and records (a free function, so that the tag may be borrowed from
/// another of its tables).
fn mark_byed_in<const MSG: usize, const TX: usize>(
    txs: &mut Table<TxEntry<MSG>, TX>,
    linger: &mut Linger,
    tx: Option<TxHandle>,
    lingering: Option<&ClientKey>,
    tag: &[u8],
) {
    if let Some(e) = tx.and_then(|tx| txs.get_mut(tx.0)) {
        push_byed_entry(&mut e.fork_seqs, tag);
    } else if let Some(trailer) = lingering
        .and_then(|key| linger.payload_mut(key))
        .and_then(|p| p.len().checked_sub(FORK_TRAILER).map(|at| &mut p[at..]))
    {
        push_byed(trailer, tag);
    }
}

/// [`push_byed`] for a list of entries alone (a transaction's, with no `0xFF` room):
/// appended in place, as `push_byed` would write it into the list followed by its room.
fn push_byed_entry(seqs: &mut ForkSeqs, tag: &[u8]) -> bool {
    push_list_entry(seqs, tag, BYED)
}

/// [`push_entry`] for a list of entries alone: appended in place, as `push_entry` would
/// write it into the list followed by its room.
fn push_list_entry(seqs: &mut ForkSeqs, tag: &[u8], n: u32) -> bool {
    let fits = seqs.capacity() - seqs.len() >= 1 + tag.len() + 4;
    let Some(len) = u8::try_from(tag.len()).ok().filter(|&l| l != 0xFF && fits) else {
        return false;
    };
    // Fit: checked above.
    let _ = seqs.push(len);
    let _ = seqs.extend_from_slice(tag);
    let _ = seqs.extend_from_slice(&n.to_le_bytes());
    true
}

/// Write into `seqs` (entries, then `0xFF` room) that the dialog with To tag `tag` was
/// BYEd; `false` if there is no room.
fn push_byed(seqs: &mut [u8], tag: &[u8]) -> bool {
    push_entry(seqs, tag, BYED)
}

/// Write into `seqs` (entries, then `0xFF` room) the entry of To tag `tag` with number
/// `n`; `false` if there is no room.
fn push_entry(seqs: &mut [u8], tag: &[u8], n: u32) -> bool {
    write_entry(seqs, fork_seqs_end(seqs), tag, n).is_some()
}

/// Write the entry of To tag `tag` with number `n` into `seqs` at `at`: where it ends,
/// or `None` if it does not fit (or the tag's length would read as the room's `0xFF`).
fn write_entry(seqs: &mut [u8], at: usize, tag: &[u8], n: u32) -> Option<usize> {
    let len = u8::try_from(tag.len()).ok().filter(|&len| len != 0xFF)?;
    let end = at + 1 + tag.len() + 4;
    let out = seqs.get_mut(at..end)?;
    out[0] = len;
    out[1..1 + tag.len()].copy_from_slice(tag);
    out[1 + tag.len()..].copy_from_slice(&n.to_le_bytes());
    Some(end)
}

/// One early dialog (fork) of a call this side placed (RFC 3261 §12.1.2: each
/// provisional response with another To tag makes one).
struct ForkPrack {
    /// The fork's To tag.
    tag: Tag,
    /// Which of its reliable provisional responses were taken.
    prack: reliable::Uac,
    /// The CSeq number of the last PRACK sent in it: its later requests (the ACK of its
    /// 2xx excepted) go on from there (§12.2.1.1).
    local_seq: u32,
    /// The CSeq number of the last request the fork sent within its early dialog
    /// (§12.2.2: a lower or equal one gets 500).
    remote_seq: Option<u32>,
    /// No longer an early dialog: its 2xx confirmed it (the call's, or ACKed and BYEd,
    /// §13.2.2.4), or a 481/408 within it ended it (§12.2.1.2).
    ended: bool,
}

impl ForkPrack {
    /// Take on the CSeq numbers `early`, this fork's early dialog as the call kept it,
    /// reached in both directions (§12.2.1.1, §12.2.2).
    fn keep_seqs_of(&mut self, early: &Dialog) {
        self.local_seq = self.local_seq.max(early.local_seq());
        self.remote_seq = self.remote_seq.max(early.remote_seq());
    }
}

impl Fork {
    /// `None` for the call's own dialog, the fork's dialog, or `InvalidState` when it
    /// cannot be built (never the own dialog in its place).
    fn into_option(self) -> Result<Option<Dialog>, SendError> {
        match self {
            Fork::Own => Ok(None),
            Fork::Other(d) => Ok(Some(d)),
            Fork::Unbuildable => Err(SendError::InvalidState),
        }
    }
}

/// What [`Endpoint::ack_and_bye_orphan_of`] sends for a 2xx.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sends {
    AckAndBye,
    /// A retransmitted 2xx's ACK, or the first's before the session asks for its BYE.
    Ack,
    Bye,
}

/// Which dialog a session action about a fork's remote tag refers to.
#[allow(clippy::large_enum_variant)] // a short-lived value on the stack; no heap to box into
enum Fork {
    /// The call's own dialog.
    Own,
    /// Another fork's dialog, built from the 2xx that created it (§13.2.2.4).
    Other(Dialog),
    /// Another fork whose dialog cannot be built (no usable Contact).
    Unbuildable,
}

/// The message being handled and the core headers its checks parsed, when a step was
/// caused by one.
type Received<'m, 'a> = Option<(&'m Message<'a>, &'m CoreHeaders<'a>)>;

const SESSION_TIMERS: [SessionTimer; 5] = [
    SessionTimer::Retransmit2xx,
    SessionTimer::AckTimeout,
    SessionTimer::Glare,
    SessionTimer::Refresh,
    SessionTimer::Expiry,
];

fn session_timer_index(t: SessionTimer) -> usize {
    match t {
        SessionTimer::Retransmit2xx => 0,
        SessionTimer::AckTimeout => 1,
        SessionTimer::Glare => 2,
        SessionTimer::Refresh => 3,
        SessionTimer::Expiry => 4,
    }
}

/// The extensions of `config`'s capabilities with `timer` added, when session timers are
/// on and the list lacks it and has room (see [`MAX_EXTENSIONS`]); `None` keeps the list.
fn timer_extensions(config: &EndpointConfig) -> Option<Vec<&'static str, MAX_EXTENSIONS>> {
    let listed = config.capabilities.extensions;
    if config.session_timer.is_none()
        || listed
            .iter()
            .any(|e| e.eq_ignore_ascii_case(dialog::TIMER_OPTION_TAG))
    {
        return None;
    }
    let mut extensions = Vec::from_slice(listed).ok()?;
    extensions.push(dialog::TIMER_OPTION_TAG).ok()?;
    Some(extensions)
}

fn timer_index(id: TimerId) -> usize {
    // TimerId::ALL lists every timer once.
    TimerId::ALL.iter().position(|&t| t == id).unwrap_or(0)
}

/// Where responses to `msg` go and the top Via they carry (RFC 3261 §18.2.1, §18.2.2,
/// RFC 3581 §4): responses go to the source address, at the source port when `rport`
/// was asked for, else at the sent-by port (5060 if none); the Via gets `received` when
/// the sent-by host is not the source address and `rport` filled with the source port.
/// The top Via is parsed once for both.
fn response_route(
    msg: &Message<'_>,
    from: SocketAddr,
    reliable: bool,
) -> (SocketAddr, String<MAX_VIA>) {
    let mut top_via = String::new();
    match msg.top_via() {
        Ok(via) => (route_with(msg, &via, from, reliable, &mut top_via), top_via),
        Err(_) => (from, top_via),
    }
}

/// [`response_route`] with the top Via already parsed, the rewritten Via written in
/// `top_via` (empty if it does not fit): a `String<MAX_VIA>` returned is copied whole.
fn route_with(
    msg: &Message<'_>,
    via: &crate::message::Via<'_>,
    from: SocketAddr,
    reliable: bool,
    top_via: &mut String<MAX_VIA>,
) -> SocketAddr {
    // §18.2.2: over a reliable transport, back on the connection the request came on.
    let destination = match via.rport() {
        Rport::Absent if !reliable => {
            SocketAddr::new(from.ip(), via.sent_by().port.unwrap_or(5060))
        }
        _ => from,
    };
    top_via.clear();
    if rewritten_via(msg, via, from, top_via).is_none() {
        top_via.clear();
    }
    destination
}

/// The text of `via`, `msg`'s top Via (`vias().next()`), as [`first_via_element`]
/// gives it, without splitting the header again: its own text when that lies in the
/// first Via header (when not, that header holds no element, and the split gave none).
fn top_via_text<'a>(msg: &Message<'a>, via: &crate::message::Via<'a>) -> Option<&'a [u8]> {
    let (value, _) = msg.value_of(HeaderKind::Via)?;
    let top = via.text();
    let (within, at) = (value.as_ptr_range(), top.as_ptr_range());
    let top = (within.start <= at.start && at.end <= within.end).then_some(top);
    debug_assert_eq!(top, first_via_element(msg), "not the top Via");
    top
}

/// Where `via`, `msg`'s top Via, lies in its first Via header value (start, end), when
/// it lies there (see [`top_via_text`]).
fn top_via_span(msg: &Message<'_>, via: &crate::message::Via<'_>) -> Option<(u16, u16)> {
    let (value, _) = msg.value_of(HeaderKind::Via)?;
    let top = top_via_text(msg, via)?;
    let start = top.as_ptr() as usize - value.as_ptr() as usize;
    Some((
        u16::try_from(start).ok()?,
        u16::try_from(start + top.len()).ok()?,
    ))
}

/// The first element of the message's first Via header, split as the parser does:
/// what [`rewritten_via`] read before the parsed Via gave its text.
fn first_via_element<'a>(msg: &Message<'a>) -> Option<&'a [u8]> {
    let (value, _) = msg.value_of(HeaderKind::Via)?;
    let (_, top) = lex::CommaSeparated::new(value).next()?.ok()?;
    Some(top)
}

/// The rewritten top Via onto `out` (empty); `None` if there is none or it does not fit.
fn rewritten_via(
    msg: &Message<'_>,
    via: &crate::message::Via<'_>,
    from: SocketAddr,
    out: &mut String<MAX_VIA>,
) -> Option<()> {
    let top = top_via_text(msg, via)?;
    let same_host = match via.sent_by().host {
        Host::Ipv4(a) => IpAddr::V4(a) == from.ip(),
        Host::Ipv6(a) => IpAddr::V6(a) == from.ip(),
        Host::Domain(_) => false,
    };
    // The message's own text when it has it: no UTF-8 pass of its own.
    let text = match msg.text_of(top) {
        Some(text) => text,
        None => core::str::from_utf8(top).ok()?,
    };
    if via.rport() == Rport::Requested {
        push_rport_filled(out, text, from.port())?;
    } else {
        out.push_str(text).ok()?;
    }
    // RFC 3581 §4: with rport, received is added even when it equals the sent-by host.
    if (!same_host || via.rport() == Rport::Requested) && via.received().is_none() {
        out.push_str(";received=").ok()?;
        text::push_ip(out, from.ip()).ok()?;
    }
    Some(())
}

/// The Via value `text` with every bare `rport` parameter (case-insensitive, white space
/// around it allowed) given `port`, everything else kept, onto `out`; `None` if it does
/// not fit. The parameters are found with a byte search and the text between the ones
/// rewritten copied in one piece: splitting on `;` and copying part by part cost more
/// than the rest of the rewrite.
fn push_rport_filled<const N: usize>(out: &mut String<N>, text: &str, port: u16) -> Option<()> {
    let b = text.as_bytes();
    // `text[..copied]` is on `out`; the part before the first `;` is the sent-by.
    let mut copied = 0;
    let mut at = match lex::find_byte(b, b';') {
        Some(i) => i + 1,
        None => b.len() + 1,
    };
    while at <= b.len() {
        let end = lex::find_byte(&b[at..], b';').map_or(b.len(), |j| at + j);
        // `;` is ASCII: both ends are character boundaries. Trimming only shortens,
        // so a part shorter than `rport` is never one.
        let part = text.get(at..end)?;
        if part.len() >= 5 && part.trim().eq_ignore_ascii_case("rport") {
            out.push_str(text.get(copied..at)?).ok()?;
            out.push_str("rport=").ok()?;
            text::push_u32(out, u32::from(port)).ok()?;
            copied = end;
        }
        at = end + 1;
    }
    out.push_str(text.get(copied..)?).ok()
}

#[cfg(test)]
mod stored_tests {
    use super::*;

    /// In place, a stored message reads as `stored_message` gives it: from its index,
    /// parsed again without one, or not at all.
    #[test]
    fn read_stored_agrees_with_stored_message() {
        let bytes: &[u8] = b"INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
            Call-ID: c\r\nContent-Length: 0\r\n\r\n";
        let limits = Limits::default();
        let parsed = Message::parse(bytes).unwrap(); // unwrap: a valid message
        let other = Message::parse(b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n").unwrap(); // unwrap: valid
        let cases: [(&[u8], Detached); 4] = [
            (bytes, parsed.detach()),
            (bytes, Detached::empty()),
            (bytes, other.detach()),
            (b"not a message", Detached::empty()),
        ];
        for (i, (b, index)) in cases.iter().enumerate() {
            let want = stored_message(b, index, &limits);
            let mut got = Message::empty(b);
            let ok = read_stored(&mut got, index, &limits);
            assert_eq!(ok, want.is_some(), "{i}");
            if let Some(want) = want {
                assert_eq!(got.start_line(), want.start_line(), "{i}");
                assert!(got.headers().eq(want.headers()), "{i}");
                assert_eq!(got.body(), want.body(), "{i}");
            }
        }
    }
}

#[cfg(test)]
mod fork_seqs_tests {
    use super::*;

    /// A record's trailer: the forks' numbers, then `0xFF`; a BYEd dialog is written
    /// after them, found by `fork_byed` and skipped by `fork_seq_in`; no room, no mark.
    #[test]
    fn byed_marks_follow_the_forks_numbers() {
        let mut trailer = [0xFF; FORK_TRAILER];
        let mut seqs = ForkSeqs::new();
        for (tag, seq) in [("a1", 3u32), ("b2", 5)] {
            let _ = seqs.push(tag.len() as u8);
            let _ = seqs.extend_from_slice(tag.as_bytes());
            let _ = seqs.extend_from_slice(&seq.to_le_bytes());
        }
        trailer[..seqs.len()].copy_from_slice(&seqs);
        assert_eq!(fork_seqs_end(&trailer), seqs.len());
        assert!(!fork_byed(&trailer, "b2"));
        assert!(push_byed(&mut trailer, b"b2"));
        assert!(push_byed(&mut trailer, b""));
        assert!(fork_byed(&trailer, "b2") && fork_byed(&trailer, ""));
        assert!(!fork_byed(&trailer, "a1") && !fork_byed(&trailer, "c3"));
        assert_eq!(
            (fork_seq_in(&trailer, "a1"), fork_seq_in(&trailer, "b2")),
            (3, 5)
        );
        assert_eq!(fork_seq_in(&trailer, ""), 0);
        // A length byte of 0xFF would end the entries: the longest tag is 254 bytes.
        let long = "t".repeat(255);
        assert!(!push_byed(&mut trailer, long.as_bytes()));
        assert!(push_byed(&mut trailer, &long.as_bytes()[..254]));
        assert!(fork_byed(&trailer, &long[..254]));
        assert!(
            !push_byed(&mut trailer, &long.as_bytes()[..254]),
            "no room left"
        );
        assert_eq!(fork_seqs_end(&trailer), seqs.len() + 7 + 5 + 259);
    }

    /// `push_byed_entry` on a list writes what `push_byed` writes on the same list
    /// followed by its room, and fails where it fails: tags of every length up to past
    /// 255, onto lists filled to every point.
    #[test]
    fn byed_entries_appended_as_in_a_trailer() {
        let mut compared = 0;
        for fill in [0usize, 1, 100, 300, 400, FORK_TRAILER - 5, FORK_TRAILER] {
            for tag_len in [0usize, 1, 7, 128, 254, 255, 300] {
                let tag = "t".repeat(tag_len);
                // Entries of "f" tags numbered 1, as many whole ones as `fill` allows.
                let mut list = ForkSeqs::new();
                let entry = [1u8, b'f', 1, 0, 0, 0];
                while list.len() + entry.len() <= fill.min(FORK_TRAILER) {
                    let _ = list.extend_from_slice(&entry);
                }
                let mut room = [0xFF; FORK_TRAILER];
                room[..list.len()].copy_from_slice(&list);
                let in_room = push_byed(&mut room, tag.as_bytes());
                let appended = push_byed_entry(&mut list, tag.as_bytes());
                assert_eq!(appended, in_room, "fill {fill}, tag {tag_len}");
                assert_eq!(
                    &list[..],
                    &room[..fork_seqs_end(&room)],
                    "fill {fill}, tag {tag_len}"
                );
                assert_eq!(fork_byed(&list, &tag), appended);
                compared += 1;
            }
        }
        assert_eq!(compared, 49);
    }
}

#[cfg(test)]
mod vouched_tests {
    use super::*;

    /// The endpoint's own Contacts and User-Agent are vouched for exactly when they pass
    /// the writer's check; one that does not is still checked, and refused, on every
    /// message.
    #[test]
    fn own_texts_are_vouched_only_when_they_pass_the_check() {
        let s = |t: &str| String::<MAX_CONTACT>::try_from(t).unwrap(); // unwrap: short
        let c = Contacts::new(s("<sip:a@h>"), s("<sips:a@h>"), Some("sansip 1.0"));
        assert!(c.vouched && c.user_agent_vouched);
        let c = Contacts::new(s("<sip:a@h>"), s("<sips:a@h>\r\nX: y"), Some("ua\n"));
        assert!(!c.vouched && !c.user_agent_vouched);
        assert!(!Contacts::new(s("<sip:a@h>"), s("<sips:a@h>"), None).user_agent_vouched);
        let local: SocketAddr = "127.0.0.1:5060".parse().unwrap(); // unwrap: an address
        let peer: SocketAddr = "127.0.0.1:5062".parse().unwrap(); // unwrap: an address
        let req = Request::new(Method::Invite, "sip:b@127.0.0.1", "<sip:a@h>", "<sip:b@h>");
        for (ua, ok) in [
            (Some("sansip"), true),
            (Some("bad\r\nua"), false),
            (None, true),
        ] {
            let mut config = EndpointConfig::new(local, 1);
            config.user_agent = ua;
            let mut ep: std::boxed::Box<Endpoint<4, 4, 1500>> =
                std::boxed::Box::new(Endpoint::new(config));
            assert_eq!(ep.invite(Instant::ZERO, peer, &req).is_ok(), ok, "{ua:?}");
        }
    }
}

#[cfg(test)]
mod prf_tests {
    /// `prf` is core's SipHash-2-4 of `write_u64(x)` (its tags, branches and Call-IDs
    /// are what they were), for keys and inputs spread over the whole range.
    #[test]
    #[allow(deprecated)]
    fn prf_matches_core() {
        use core::hash::Hasher as _;
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for i in 0..2000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let key = (x.rotate_left(7), x ^ i);
            let input = [x, i, 0, u64::MAX][(i % 4) as usize];
            let mut core_h = core::hash::SipHasher::new_with_keys(key.0, key.1);
            core_h.write_u64(input);
            assert_eq!(super::prf(key, input), core_h.finish(), "{key:?} {input}");
        }
    }
}

#[cfg(test)]
mod top_via_tests {
    use super::*;

    fn agree(bytes: &[u8]) -> Option<bool> {
        let msg = Message::parse(bytes).ok()?;
        let via = msg.top_via().ok()?;
        Some(top_via_text(&msg, &via) == first_via_element(&msg) && span_agrees(&msg, &via))
    }

    /// A response's headers are the same whether its first Via value is split at the
    /// top Via's span or split again.
    fn span_agrees(msg: &Message<'_>, via: &crate::message::Via<'_>) -> bool {
        let span = top_via_span(msg, via);
        let (mut with, mut without) = (
            MessageBuilder::response(StatusCode::OK),
            MessageBuilder::response(StatusCode::OK),
        );
        let a = with.push_response_headers(msg, StatusCode::OK, "t1", None, span);
        let b = without.push_response_headers(msg, StatusCode::OK, "t1", None, None);
        a == b && with.headers() == without.headers()
    }

    /// A top Via in the first header, alone or first of a list, or after a first
    /// header holding no element (no rewrite then, as before).
    #[test]
    fn the_top_via_text_is_the_first_element_of_the_first_header() {
        let head = "INVITE sip:b@h SIP/2.0\r\n";
        let tail = "From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\n\
                    CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
        let vias = [
            "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n",
            "Via:  SIP/2.0/UDP h;branch=z9hG4bK1 \r\n",
            "Via: SIP/2.0/UDP h;branch=z9hG4bK1, SIP/2.0/TCP g\r\n",
            "Via: SIP / 2.0 / UDP h ; branch=z9hG4bK1 ,SIP/2.0/TCP g\r\n",
            "Via: SIP/2.0/UDP h;x=\"a,b\";branch=z9hG4bK1,SIP/2.0/TCP g\r\n",
            "Via:\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n",
            "Via: \t \r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n",
        ];
        let (mut none, mut spanned) = (0, 0);
        for v in vias {
            let bytes = std::format!("{head}{v}{tail}");
            assert_eq!(agree(bytes.as_bytes()), Some(true), "{v:?}");
            let msg = Message::parse(bytes.as_bytes()).unwrap(); // unwrap: agree parsed it
            none += usize::from(first_via_element(&msg).is_none());
            spanned += usize::from(top_via_span(&msg, &msg.top_via().unwrap()).is_some()); // unwrap: agree parsed it
        }
        // The first header without an element is among them, and spans to split at.
        assert!(none > 0);
        assert_eq!(spanned, vias.len() - none);
    }

    #[test]
    #[ignore = "needs ../shared/corpus"]
    fn the_top_via_text_agrees_on_the_corpus_and_mutants() {
        let (mut compared, mut differ) = (0, 0);
        for bytes in crate::corpus_inputs::inputs() {
            if let Some(same) = agree(&bytes) {
                compared += 1;
                differ += usize::from(!same);
            }
        }
        assert!(compared > 1000, "{compared}");
        assert_eq!(differ, 0, "{differ} of {compared} messages differ");
    }
}

#[cfg(test)]
mod rport_tests {
    use std::format;
    use std::vec::Vec;

    use super::*;

    /// [`push_rport_filled`] as it was written, part by part: the reference.
    fn reference(out: &mut String<MAX_VIA>, text: &str, port: u16) -> Option<()> {
        for (i, part) in text.split(';').enumerate() {
            if i > 0 {
                out.push(';').ok()?;
            }
            if i > 0 && part.trim().eq_ignore_ascii_case("rport") {
                out.push_str("rport=").ok()?;
                text::push_u32(out, u32::from(port)).ok()?;
            } else {
                out.push_str(part).ok()?;
            }
        }
        Some(())
    }

    fn agree(text: &str, port: u16) -> bool {
        let (mut a, mut b) = (String::<MAX_VIA>::new(), String::<MAX_VIA>::new());
        let (x, y) = (
            push_rport_filled(&mut a, text, port),
            reference(&mut b, text, port),
        );
        x == y && (x.is_none() || a == b)
    }

    /// Every list of up to four parameters from spellings that are and are not a bare
    /// `rport`, after a sent-by or none; values that overflow `MAX_VIA` too.
    #[test]
    fn rport_fill_agrees_with_the_part_by_part_rewrite() {
        let parts = [
            "",
            "rport",
            "RPort",
            " rport ",
            "\trport",
            "rport=5060",
            "rpor",
            "rportx",
            "x",
            "branch=z9hG4bK1",
            "rport\u{a0}",
            "\u{e9}rport",
        ];
        let mut n = 0;
        for head in ["SIP/2.0/UDP h", "", "rport"] {
            for a in parts {
                for b in parts {
                    for c in parts {
                        for d in ["", ";", ";rport", ";x"] {
                            let text = format!("{head};{a};{b};{c}{d}");
                            assert!(agree(&text, 5060), "{text:?}");
                            assert!(agree(&text[head.len()..], 7), "{text:?}");
                            n += 2;
                        }
                    }
                }
            }
        }
        for text in ["", ";", "rport", "x;rport", ";;rport;;"] {
            assert!(agree(text, 65535), "{text:?}");
        }
        // Overflow: just fitting, and one byte over, before and after the rewrite.
        let long: Vec<u8> = core::iter::repeat_n(b'a', MAX_VIA - 11).collect();
        let long = core::str::from_utf8(&long).unwrap(); // unwrap: ASCII
        for tail in [";rport", ";rport;", ";x", ";rport;xx", ";rport;xxxx"] {
            let text = format!("{long}{tail}");
            assert!(agree(&text, 5060), "{}", text.len());
            assert!(agree(&text, 5), "{}", text.len());
        }
        assert!(n > 10_000, "{n}");
    }
}

/// Copy `resp` into `out` with the value of its top Via replaced by `top_via`.
fn rewrite_top_via(resp: &Message<'_>, top_via: &str, out: &mut [u8]) -> Result<usize, SendError> {
    let bytes = resp.as_bytes();
    let via = resp.header(HeaderKind::Via);
    let first = via.and_then(|h| {
        lex::CommaSeparated::new(h.value)
            .next()
            .and_then(Result::ok)
            .map(|(o, v)| (h.offset + o, v.len()))
    });
    let (start, len) = match first {
        Some(x) if !top_via.is_empty() => x,
        _ => (bytes.len(), 0),
    };
    let needed = bytes.len() - len + if len == 0 { 0 } else { top_via.len() };
    if needed > out.len() {
        return Err(SendError::Encode(EncodeError::BufferTooSmall { needed }));
    }
    if len == 0 {
        out[..bytes.len()].copy_from_slice(bytes);
        return Ok(bytes.len());
    }
    out[..start].copy_from_slice(&bytes[..start]);
    out[start..start + top_via.len()].copy_from_slice(top_via.as_bytes());
    let rest = &bytes[start + len..];
    out[start + top_via.len()..needed].copy_from_slice(rest);
    Ok(needed)
}

/// This endpoint's Contact, written once as a SIP and as a SIPS URI (RFC 3261 §8.1.1.8:
/// SIPS for a request whose Request-URI or top Route is SIPS; §12.1.1: for the answer
/// to one).
pub(super) struct Contacts {
    sip: String<MAX_CONTACT>,
    sips: String<MAX_CONTACT>,
    /// Both Contacts pass the writer's check: checked once, they are pushed as trusted
    /// (they never change).
    pub(super) vouched: bool,
    /// So does the configured User-Agent (also the Server of responses).
    pub(super) user_agent_vouched: bool,
}

impl Contacts {
    fn new(sip: String<MAX_CONTACT>, sips: String<MAX_CONTACT>, ua: Option<&str>) -> Self {
        let ok = |t: &str| crate::encode::value_may_be_written(&Value::Text(t));
        Contacts {
            vouched: ok(&sip) && ok(&sips),
            user_agent_vouched: ua.is_some_and(ok),
            sip,
            sips,
        }
    }

    /// The SIPS one when `sips`.
    pub(super) fn get(&self, sips: bool) -> &str {
        if sips { &self.sips } else { &self.sip }
    }

    /// The one for requests within dialog `d`: SIPS when its remote target or first
    /// route is.
    pub(super) fn for_dialog(&self, d: &Dialog) -> &str {
        self.get(dialog_wants_sips(d))
    }
}

/// Whether a URI written as text (perhaps `<...>`, perhaps a name-addr) is a SIPS URI.
fn sips_text(s: &str) -> bool {
    sips_bytes(s.as_bytes())
}

/// Whether the first URI of a header value or Request-URI (an addr-spec, or a name-addr
/// whose display name may be quoted) is a SIPS URI: its scheme is `sips`, any case.
pub(super) fn sips_bytes(v: &[u8]) -> bool {
    // The common shapes settled at once (each as the scan below would settle it): an
    // addr-spec's `sip:`/`sips:` scheme ends the scan at its colon with no display
    // name; a leading `<` starts the URI at once.
    // Case folded a word at a time: OR-ing 0x20 maps only `S`/`s`, `I`/`i`, `P`/`p` to
    // the letters compared with; the colon is compared exactly.
    let word = |b: &[u8]| {
        b.first_chunk::<4>()
            .map(|w| u32::from_le_bytes(*w) | 0x2020_2020)
    };
    let sip = u32::from_le_bytes(*b"sip:");
    match v.first() {
        Some(b'<') => {
            return v.get(1..).and_then(word) == Some(u32::from_le_bytes(*b"sips"))
                && v.get(5) == Some(&b':');
        }
        // "sip" folded, then the colon as it is.
        Some(b's' | b'S') if word(v).map(|w| w & 0x00ff_ffff) == Some(sip & 0x00ff_ffff) => {
            match v.get(3) {
                Some(b':') => return false,
                Some(b's' | b'S') if v.get(4) == Some(&b':') => return true,
                _ => {}
            }
        }
        _ => {}
    }
    sips_scanned(v)
}

/// [`sips_bytes`] by a scan for the start of the first URI.
fn sips_scanned(v: &[u8]) -> bool {
    let mut i = 0;
    let mut quoted = false;
    let mut start = None;
    while i < v.len() {
        match v[i] {
            b'\\' if quoted => i += 1,
            b'"' => quoted = !quoted,
            b'<' if !quoted => {
                start = Some(i + 1);
                break;
            }
            // An addr-spec: no display name, no angle brackets.
            b':' | b',' | b';' if !quoted => break,
            _ => {}
        }
        i += 1;
    }
    let rest =
        &v[start.unwrap_or_else(|| v.iter().take_while(|b| b.is_ascii_whitespace()).count())..];
    rest.get(..5)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"sips:"))
}

/// Whether requests within `d` go to a SIPS Request-URI or top Route, so that their
/// Contact must be SIPS (§8.1.1.8).
pub(super) fn dialog_wants_sips(d: &Dialog) -> bool {
    sips_text(d.remote_target()) || d.route_set().next().is_some_and(sips_text)
}

/// A Session-Expires value: `delta-seconds[;refresher=uac|uas]` (RFC 4028 §4).
fn session_expires_text(seconds: u32, refresher: Option<crate::message::Refresher>) -> String<24> {
    let mut value = String::new();
    // 10 digits and `;refresher=uac` fit 24 bytes.
    let _ = match refresher {
        Some(r) => write!(value, "{seconds};refresher={r}"),
        None => write!(value, "{seconds}"),
    };
    value
}

/// Where an in-dialog request goes: the first route (loose routing) or the remote
/// target, when it (or its `maddr`) is an IP literal, on its port or its transport's
/// default (RFC 3263 §4.1, §4.2: 5061 for SIPS); else `fallback`.
fn dialog_destination(d: &Dialog, fallback: SocketAddr) -> SocketAddr {
    first_hop(d).unwrap_or(fallback)
}

/// The address `d`'s next request goes to, `None` when its first hop names a domain:
/// the dialog's cached one when kept ([`Dialog::set_hop`]), else worked out again.
fn first_hop(d: &Dialog) -> Option<SocketAddr> {
    let fresh = || address_of(d.route_set().next().unwrap_or(d.remote_target()));
    match d.hop().0 {
        Some(hop) => {
            debug_assert_eq!(hop, fresh(), "a stale first hop");
            hop
        }
        None => fresh(),
    }
}

/// Where a request whose first hop is the URI `target` (with or without angle
/// brackets) goes: the address it names (RFC 3263 §4 for a numeric host), or
/// `fallback` when it names a domain.
fn destination_of(target: &str, fallback: SocketAddr) -> SocketAddr {
    address_of(target).unwrap_or(fallback)
}

/// [`destination_of`] without its fallback: `None` where that one serves.
fn address_of(target: &str) -> Option<SocketAddr> {
    let target = target.trim_start_matches('<').trim_end_matches('>');
    // Given as `&str` too: no UTF-8 pass of its own.
    let uri = crate::message::Uri::parse_text(target.as_bytes(), Some(target)).ok()?;
    crate::locate::address_of(&uri)
}

/// The client key of the CANCEL for `invite`: same branch, method CANCEL (§9.1).
fn cancel_key(invite: &Message<'_>) -> Result<ClientKey, transaction::KeyError> {
    let via = invite.top_via()?;
    ClientKey::new(via.branch().unwrap_or(""), Method::Cancel)
}

#[cfg(test)]
mod sips_tests {
    use super::sips_bytes;

    /// `sips_bytes` as it was before its shortcuts, kept as their fallback: the
    /// reference they are compared with.
    fn sips_reference(v: &[u8]) -> bool {
        super::sips_scanned(v)
    }

    /// Every value of up to six bytes from the bytes the shortcuts look at (and those
    /// that fold onto them under OR 0x20) agrees with the reference.
    #[test]
    fn shortcuts_agree_on_every_short_value() {
        const ALPHABET: [u8; 11] = [
            b'<', b's', b'S', b'i', b'I', b'p', b'P', b':', 0x1a, b' ', b'"',
        ];
        let mut v = [0u8; 6];
        for len in 0..=6 {
            for mut n in 0..ALPHABET.len().pow(len as u32) {
                for b in v.iter_mut().take(len) {
                    *b = ALPHABET[n % ALPHABET.len()];
                    n /= ALPHABET.len();
                }
                assert_eq!(
                    sips_bytes(&v[..len]),
                    sips_reference(&v[..len]),
                    "{:?}",
                    &v[..len]
                );
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(5000))]
        /// Values made of the pieces that matter (schemes in any case, brackets,
        /// quotes, escapes, separators, white space) agree with the reference.
        #[test]
        fn shortcuts_agree_with_the_scan(pieces in proptest::collection::vec(
            proptest::sample::select(&[
                "sip:", "sips:", "SIP:", "SiPs:", "sip", "sips", "s", "S", "<", ">", "\"", "\\",
                ":", ",", ";", " ", "\t", "\r\n ", "bob@example.com", "a", "tel:", "*",
            ][..]),
            0..8,
        )) {
            let v = pieces.concat();
            proptest::prop_assert_eq!(sips_bytes(v.as_bytes()), sips_reference(v.as_bytes()), "{:?}", v);
        }

        #[test]
        fn shortcuts_agree_on_any_bytes(v in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..12)) {
            proptest::prop_assert_eq!(sips_bytes(&v), sips_reference(&v));
        }
    }

    #[test]
    fn the_first_uri_of_a_value_decides() {
        for (v, sips) in [
            (&b"sips:bob@example.com"[..], true),
            (b"SIPS:bob@example.com", true),
            (b"sip:bob@example.com", false),
            (b"<sips:p1.example.com;lr>, <sip:p2.example.com;lr>", true),
            (b"<sip:p1.example.com;lr>, <sips:p2.example.com;lr>", false),
            (b"\"A <b>: \\\"c\" <sips:bob@example.com>", true),
            (b"Bob <sip:bob@example.com>", false),
            (b"  Bob  <SiPs:bob@example.com>", true),
            (b"", false),
            // Folded lines, an addr-spec's params, lists, escapes, a Contact `*`.
            (b"\"Bob\"\r\n <sips:bob@example.com>", true),
            (b"sips:bob@example.com;transport=tcp", true),
            (b"sip:a@example.com, <sips:b@example.com>", false),
            (b"\"a\\\\\" <sips:bob@example.com>", true),
            (b"\"a, b; c: <d>\" <sip:bob@example.com>", false),
            (b"\"<sips:x>\" <sip:bob@example.com>", false),
            (b"*", false),
            (b"\t<SIPS:bob@example.com>", true),
        ] {
            assert_eq!(sips_bytes(v), sips, "{:?}", core::str::from_utf8(v));
        }
    }
}

#[cfg(test)]
mod address_tests {
    use std::string::String;

    use super::address_ok;
    use crate::message::NameAddr;

    /// `address_ok` without its shortcut: the reference.
    fn reference(v: &str, tagged: bool) -> bool {
        NameAddr::parse(v.as_bytes()).is_ok_and(|a| tagged || a.tag().is_none())
    }

    const PIECES: &[&str] = &[
        "<",
        ">",
        "sip:",
        "sips:",
        "tel:",
        "alice",
        "@",
        "127.0.0.1",
        "example.com",
        ":",
        "5060",
        ";tag=1",
        ";lr",
        "[::1]",
        "%41",
        " ",
        "\"A\" ",
        ",",
        "?",
        "0",
        "-",
        ".",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]
        /// The plain `<sip:...>` shortcut agrees with the full parse, for From (no tag)
        /// and for a To that may carry one.
        #[test]
        fn address_ok_agrees_with_the_parse(
            parts in proptest::collection::vec(proptest::sample::select(PIECES), 0..9),
            angle in proptest::bool::ANY,
        ) {
            let mut v: String = parts.concat();
            if angle {
                v = ["<sip:", &v, ">"].concat();
            }
            for tagged in [false, true] {
                proptest::prop_assert_eq!(address_ok(&v, tagged), reference(&v, tagged), "{:?}", v);
            }
        }
    }

    #[test]
    fn address_ok_takes_the_usual_shapes() {
        for v in [
            "<sip:alice@127.0.0.1>",
            "<sip:bob@example.com:5062>",
            "<sip:127.0.0.1>",
        ] {
            assert!(address_ok(v, false) && reference(v, false), "{v}");
        }
        for v in [
            "<sip:alice@127.0.0.1>;tag=1",
            "alice",
            "<sip:>",
            "<sip:a@b",
            "<sip:a@b>x",
        ] {
            assert!(!address_ok(v, false) && !reference(v, false), "{v}");
        }
    }
}
