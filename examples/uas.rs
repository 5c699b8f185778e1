//! A SIP user agent server over UDP (or TCP), for interop tests and load runs.
//!
//! ```text
//! cargo run --example uas -- --bind 127.0.0.1:5060 [--tcp] [--quiet] [--large] [--stats SECS] [--100rel]
//! ```
//!
//! What it does with an INVITE depends on the user part of the Request-URI:
//!
//! - `answer` (and any other user): 180, then 200 with a small SDP body right away;
//!   takes the ACK and the BYE.
//! - `ring`: 180, keeps ringing for 3 s (time for a CANCEL), then answers.
//! - `busy`: 486.
//! - `hangup`: answers, then hangs up itself (BYE) 2 s after the call is up.
//!
//! A SUBSCRIBE (any event package) is accepted as a subscription this side serves
//! (RFC 6665 §4.2, `Endpoint::accept_subscription`): 200 with `Expires` (up to an hour),
//! then one NOTIFY with a tiny body for `presence` (PIDF), `dialog` (dialog-info) and
//! `message-summary`, none for other packages; the endpoint answers the subscriber's
//! refreshes and ends the subscription with a last NOTIFY on `Expires: 0` or expiry.
//!
//! OPTIONS gets 200; any other request outside a call gets 200 too. Record-Route and
//! Contact are honoured by the endpoint's dialog layer. Runs until killed and logs one
//! line per message (time, direction, peer, first line) on stdout, unless `--quiet`.
//! `--large` sizes the endpoint for load runs: 65,000 live transactions, 16,384 calls,
//! 1,500-byte messages, and room for 2,200,000 finished transactions waiting out Timer J
//! or L as compact records in 1 GiB (what 32,000 calls/s need; the pages are touched
//! only as records arrive). `--stats SECS`
//! prints the endpoint's counters on stderr every SECS seconds. `--100rel` supports
//! reliable provisional responses (RFC 3262): an INVITE that requires or supports
//! `100rel` gets its 180 reliably and must PRACK it. `--tcp` listens on TCP instead of
//! UDP: messages are framed by Content-Length and responses go back on the connection
//! their request came on (`common/net.rs`).
//!
//! Load run (see the README): `cargo build --release --example uas`, then
//! `taskset -c 1 target/release/examples/uas --bind 127.0.0.1:5060 --quiet --large
//! --stats 1` and `taskset -c 0 sipp -sn uac -d 0 -r RATE -m COUNT 127.0.0.1:5060`.
//!
//! Exit status 2 on a usage or socket error.

#[path = "common/net.rs"]
mod net;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant as StdInstant, SystemTime, UNIX_EPOCH};

use net::Net;

use sansip::Instant;
use sansip::check::Capabilities;
use sansip::dialog::{EndReason, SessionState};
use sansip::endpoint::{
    Accept, CallHandle, Endpoint, EndpointConfig, Event, SendError, Transport, TxHandle,
};
use sansip::message::{HeaderKind, Message, Method, StatusCode, Uri};

/// The answer's SDP: enough for SIPp and most phones to accept the 200.
const SDP: &[u8] = b"v=0\r\no=sansip 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n\
t=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

/// The longest subscription granted, seconds.
const SUBSCRIPTION_SECS: u32 = 3600;

/// How long `ring` rings before it answers.
const RING_FOR: Duration = Duration::from_secs(3);
/// How long after the call is up `hangup` sends its BYE.
const HANGUP_AFTER: Duration = Duration::from_secs(2);

struct Options {
    bind: SocketAddr,
    quiet: bool,
    large: bool,
    stats_every: Option<Duration>,
    /// Reliable provisional responses (RFC 3262).
    reliable: bool,
    /// TCP rather than UDP.
    tcp: bool,
}

fn usage() -> ExitCode {
    eprintln!("usage: uas --bind ADDR [--tcp] [--quiet] [--large] [--stats SECS] [--100rel]");
    ExitCode::from(2)
}

fn parse_args() -> Option<Options> {
    let mut args = std::env::args().skip(1);
    let mut bind = None;
    let (mut quiet, mut large, mut stats_every, mut reliable) = (false, false, None, false);
    let mut tcp = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--bind" => bind = Some(args.next()?.parse().ok()?),
            "--quiet" => quiet = true,
            "--large" => large = true,
            "--100rel" => reliable = true,
            "--tcp" => tcp = true,
            "--stats" => stats_every = Some(Duration::from_secs(args.next()?.parse().ok()?)),
            _ => return None,
        }
    }
    Some(Options {
        bind: bind?,
        quiet,
        large,
        stats_every,
        reliable,
        tcp,
    })
}

fn main() -> ExitCode {
    let Some(opts) = parse_args() else {
        return usage();
    };
    let result = if opts.large {
        run::<65_000, 16_384, 1_500>(&opts)
    } else {
        run::<1_024, 512, 2_048>(&opts)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("uas: {e}");
            ExitCode::from(2)
        }
    }
}

/// A boxed endpoint. It keeps its tables inline and `Endpoint::new` returns it by
/// value, so it passes through the stack: build it on a short-lived thread with a stack
/// big enough, whose memory goes back to the system when the thread ends.
fn boxed_endpoint<const TX: usize, const CALLS: usize, const MSG: usize>(
    config: EndpointConfig,
) -> Result<Box<Endpoint<TX, CALLS, MSG>>, String> {
    let stack = std::mem::size_of::<Endpoint<TX, CALLS, MSG>>() * 8 + (16 << 20);
    std::thread::Builder::new()
        .stack_size(stack)
        .spawn(move || Box::new(Endpoint::new(config)))
        .map_err(|e| format!("cannot start a thread to build the endpoint: {e}"))?
        .join()
        .map_err(|_| "building the endpoint failed".to_owned())
}

/// Something to do later, on the host's own clock.
enum Later {
    Answer(TxHandle),
    HangUp(CallHandle),
}

/// Print one log line: wall-clock time, direction, peer, first line of the message.
fn log(quiet: bool, dir: &str, peer: SocketAddr, bytes: &[u8]) {
    if quiet {
        return;
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let end = bytes
        .windows(2)
        .position(|w| w == b"\r\n")
        .unwrap_or(bytes.len().min(120));
    println!(
        "{}.{:03} {dir} {peer} {}",
        now.as_secs(),
        now.subsec_millis(),
        String::from_utf8_lossy(&bytes[..end])
    );
}

/// The user part of a request's Request-URI, if it has one.
fn uri_user(msg: &Message<'_>) -> Option<String> {
    match Uri::parse(msg.request_uri_raw()?).ok()? {
        Uri::Sip(u) => u.user().map(str::to_owned),
        _ => None,
    }
}

/// What the host keeps beside the endpoint.
struct Host {
    quiet: bool,
    start: StdInstant,
    out: Vec<u8>,
    /// Our own timers (ringing, hanging up).
    later: Vec<(StdInstant, Later)>,
    /// Calls of the `hangup` user, to hang up once established.
    hangup_calls: Vec<CallHandle>,
    capacity_events: u64,
    /// Calls ended by the caller's BYE, and calls ended any other way (no ACK, ...).
    ended_bye: u64,
    ended_other: u64,
}

impl Host {
    fn now(&self) -> Instant {
        Instant::from_millis(self.start.elapsed().as_millis() as u64)
    }

    /// Send every queued datagram and handle every event; events may queue more
    /// datagrams, so loop until both are empty.
    fn drain<const TX: usize, const CALLS: usize, const MSG: usize>(
        &mut self,
        ep: &mut Endpoint<TX, CALLS, MSG>,
        net: &mut Net,
    ) -> Result<(), String> {
        loop {
            let mut busy = false;
            loop {
                match ep.poll_transmit(&mut self.out) {
                    Ok(Some(t)) => {
                        busy = true;
                        log(self.quiet, ">", t.destination, t.bytes);
                        // Over TCP a failed send (no connection to the peer) ends the
                        // transactions sending there (RFC 3261 §18.4); over UDP a lost
                        // datagram is what retransmissions are for.
                        let destination = t.destination;
                        if net.send(destination, t.bytes).is_err() && net.is_stream() {
                            ep.handle_send_error(self.now(), destination);
                        }
                    }
                    Ok(None) => break,
                    Err(e) => return Err(format!("transmit buffer: {e:?}")),
                }
            }
            while let Some(event) = ep.poll_event() {
                busy = true;
                let now = self.now();
                match event {
                    Event::IncomingRequest { tx, call } => {
                        on_request(ep, now, tx, call, &mut self.later, &mut self.hangup_calls);
                    }
                    // A late offer: this side's 200 carried the offer, the ACK the answer.
                    Event::AnswerReceived { call } if !self.quiet => {
                        let len = ep.call_answer(call).map_or(0, |m| m.body().len());
                        println!("late offer: the ACK carried a {len}-byte answer");
                    }
                    Event::CallEstablished { call } => {
                        if let Some(pos) = self.hangup_calls.iter().position(|c| *c == call) {
                            self.hangup_calls.swap_remove(pos);
                            self.later
                                .push((StdInstant::now() + HANGUP_AFTER, Later::HangUp(call)));
                        }
                    }
                    Event::CallTerminated { call, reason } => {
                        self.hangup_calls.retain(|c| *c != call);
                        if reason == EndReason::RemoteBye {
                            self.ended_bye += 1;
                        } else {
                            self.ended_other += 1;
                        }
                    }
                    Event::NotifierRefreshed { expires, .. } if !self.quiet => {
                        println!("subscription refreshed for {expires} s");
                    }
                    Event::NotifierTerminated { reason, .. } if !self.quiet => {
                        println!("subscription over: {reason:?}");
                    }
                    Event::Capacity(c) => {
                        self.capacity_events += 1;
                        if !self.quiet {
                            println!("capacity: {c}");
                        }
                    }
                    _ => {}
                }
            }
            if !busy {
                return Ok(());
            }
        }
    }
}

/// Most datagrams read in one go before the timers are looked at again.
const BATCH: usize = 64;

fn run<const TX: usize, const CALLS: usize, const MSG: usize>(
    opts: &Options,
) -> Result<(), String> {
    let mut net = Net::bind(opts.bind, opts.tcp)?;
    let local = net.local_addr()?;
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
        ^ u64::from(std::process::id());
    let config = EndpointConfig {
        // Records for finished transactions (Timer J / L) when sized for load.
        linger_records: if opts.large { 2_200_000 } else { 4_096 },
        linger_bytes: if opts.large { 1 << 30 } else { 4 << 20 },
        capabilities: if opts.reliable {
            Capabilities {
                extensions: &["100rel"],
                ..Capabilities::DEFAULT
            }
        } else {
            Capabilities::DEFAULT
        },
        transport: if opts.tcp {
            Transport::Tcp
        } else {
            Transport::Udp
        },
        ..EndpointConfig::new(local, seed)
    };
    let mut ep = boxed_endpoint::<TX, CALLS, MSG>(config)?;
    let mut host = Host {
        quiet: opts.quiet,
        start: StdInstant::now(),
        out: vec![0u8; 65_535],
        later: Vec::new(),
        hangup_calls: Vec::new(),
        capacity_events: 0,
        ended_bye: 0,
        ended_other: 0,
    };
    let mut rx = vec![0u8; 65_535];
    let mut next_stats = opts.stats_every.map(|d| StdInstant::now() + d);
    if !opts.quiet {
        println!("uas listening on {local}");
    }
    loop {
        // The endpoint's next timer: fire it if due, else sleep until it (or ours, or a
        // datagram). `poll_timeout` looks at every timer, so it is asked once per round.
        let deadline = ep.poll_timeout();
        let t_now = host.now();
        if deadline.is_some_and(|d| d <= t_now) {
            ep.handle_timeout(t_now);
            host.drain(&mut ep, &mut net)?;
        }
        let mut wait = deadline
            .map(|t| Duration::from_millis(t.saturating_duration_since(t_now).as_millis() as u64))
            .unwrap_or(Duration::from_secs(1));
        let std_now = StdInstant::now();
        for (at, _) in &host.later {
            wait = wait.min(at.saturating_duration_since(std_now));
        }
        if let Some(at) = next_stats {
            wait = wait.min(at.saturating_duration_since(std_now));
        }
        // One read waiting up to `wait`, then whatever else is already queued (up to
        // BATCH), draining the outputs after every message.
        let mut got = 0;
        while got < BATCH {
            let wait = (got == 0).then_some(wait);
            let Some((n, from)) = net.recv(&mut rx, wait) else {
                break;
            };
            log(opts.quiet, "<", from, &rx[..n]);
            ep.handle_datagram(host.now(), from, &rx[..n]);
            host.drain(&mut ep, &mut net)?;
            got += 1;
        }
        // Our own timers.
        let std_now = StdInstant::now();
        let mut i = 0;
        while i < host.later.len() {
            if host.later[i].0 <= std_now {
                let (_, what) = host.later.swap_remove(i);
                let now = host.now();
                // The call may be gone (cancelled, hung up): errors are expected then.
                let _ = match what {
                    Later::Answer(tx) => {
                        ep.respond(now, tx, StatusCode::OK, Some(("application/sdp", SDP)))
                    }
                    Later::HangUp(call) => ep.hangup(now, call),
                };
                host.drain(&mut ep, &mut net)?;
            } else {
                i += 1;
            }
        }
        if let Some(at) = next_stats
            && at <= std_now
        {
            let s = ep.stats();
            eprintln!(
                "uas stats: transactions {} lingering {} calls {} ended-by-bye {} ended-otherwise {} discarded {} rejected {} stray {} overflows {} capacity-events {}",
                ep.transaction_count(),
                ep.lingering_count(),
                ep.call_count(),
                host.ended_bye,
                host.ended_other,
                s.discarded,
                s.rejected,
                s.stray_responses,
                s.queue_overflows,
                host.capacity_events
            );
            next_stats = opts.stats_every.map(|d| std_now + d);
        }
    }
}

fn on_request<const TX: usize, const CALLS: usize, const MSG: usize>(
    ep: &mut Endpoint<TX, CALLS, MSG>,
    now: Instant,
    tx: TxHandle,
    call: Option<CallHandle>,
    later: &mut Vec<(StdInstant, Later)>,
    hangup_calls: &mut Vec<CallHandle>,
) {
    let (method, user) = match ep.request(tx) {
        Some(m) => (m.method(), uri_user(&m)),
        None => return,
    };
    if method == Some(Method::Subscribe) && call.is_none() {
        accept_subscription(ep, now, tx);
        return;
    }
    let is_new_call = method == Some(Method::Invite)
        && call.is_some_and(|c| ep.call_state(c) == Some(SessionState::Proceeding));
    // Errors below mean the transaction or call went away meanwhile: nothing to do.
    if method != Some(Method::Invite) || !is_new_call {
        // OPTIONS, re-INVITE, INFO, ...: accept.
        let body = (method == Some(Method::Invite)).then_some(("application/sdp", SDP));
        let _ = ep.respond(now, tx, StatusCode::OK, body);
        return;
    }
    match user.as_deref() {
        Some("busy") => {
            let _ = ep.respond(now, tx, StatusCode::BUSY_HERE, None);
        }
        Some("ring") => {
            let _ = ep.respond(now, tx, StatusCode::RINGING, None);
            later.push((StdInstant::now() + RING_FOR, Later::Answer(tx)));
        }
        other => {
            let _ = ep.respond(now, tx, StatusCode::RINGING, None);
            let _ = ep.respond(now, tx, StatusCode::OK, Some(("application/sdp", SDP)));
            if other == Some("hangup")
                && let Some(call) = call
            {
                hangup_calls.push(call);
            }
        }
    }
}

/// Serve the subscription of an out-of-dialog SUBSCRIBE: the endpoint sends the 200 and
/// the first NOTIFY, with a small body for the packages this example knows.
fn accept_subscription<const TX: usize, const CALLS: usize, const MSG: usize>(
    ep: &mut Endpoint<TX, CALLS, MSG>,
    now: Instant,
    tx: TxHandle,
) {
    let package = ep.request(tx).and_then(|m| {
        let value = m.header(HeaderKind::Event)?.value;
        let event = sansip::message::Event::parse(value).ok()?;
        Some(event.package().to_owned())
    });
    let Some(package) = package else {
        // RFC 6665 §8.2.1: a SUBSCRIBE names its event package; 489 (Bad Event).
        let _ = ep.respond(now, tx, StatusCode::BAD_EVENT, None);
        return;
    };
    let body: Option<(&str, &[u8])> = match package.as_str() {
        "presence" => Some((
            "application/pidf+xml",
            b"<?xml version=\"1.0\"?>\n<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" \
entity=\"sip:uas@127.0.0.1\"><tuple id=\"t1\"><status><basic>open</basic></status></tuple>\
</presence>\n",
        )),
        "dialog" => Some((
            "application/dialog-info+xml",
            b"<?xml version=\"1.0\"?>\n<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" \
version=\"0\" state=\"full\" entity=\"sip:uas@127.0.0.1\"/>\n",
        )),
        "message-summary" => Some((
            "application/simple-message-summary",
            b"Messages-Waiting: no\r\n",
        )),
        _ => None,
    };
    let accept = Accept {
        body,
        ..Accept::new(SUBSCRIPTION_SECS)
    };
    match ep.accept_subscription(now, tx, &accept) {
        // Answered already: 200 and the NOTIFY are queued, or 423 went out.
        Ok(_) | Err(SendError::IntervalTooBrief { .. }) => {}
        Err(SendError::Capacity(_)) => {
            let _ = ep.respond(now, tx, StatusCode::SERVICE_UNAVAILABLE, None);
        }
        Err(_) => {
            let _ = ep.respond(now, tx, StatusCode::BAD_REQUEST, None);
        }
    }
}
