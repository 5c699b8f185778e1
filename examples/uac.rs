//! A SIP user agent client over UDP: one call, one cancelled call, one OPTIONS or one
//! registration.
//!
//! ```text
//! cargo run --example uac -- --bind 127.0.0.1:5070 call     sip:answer@127.0.0.1:5060
//! cargo run --example uac -- --bind 127.0.0.1:5070 call     sip:answer@127.0.0.1:5060 alice secret
//! cargo run --example uac -- --bind 127.0.0.1:5070 cancel   sip:ring@127.0.0.1:5060
//! cargo run --example uac -- --bind 127.0.0.1:5070 options  sip:127.0.0.1:5060
//! cargo run --example uac -- --bind 127.0.0.1:5070 register sip:127.0.0.1:5060 alice secret
//! ```
//!
//! - `call`: INVITE; the endpoint ACKs the 2xx; hold the call 2 s (`--hold SECS`
//!   anywhere in the arguments says how long), then BYE. Success is
//!   a 2xx to the INVITE and a 2xx to the BYE (or the callee hanging up first). With
//!   USER and PASSWORD, a 401 or 407 to the INVITE (or to the BYE) is answered with
//!   Digest credentials and the call goes on (`Request::credentials`, RFC 3261 §22.2,
//!   §22.3), as PBXs that challenge every INVITE expect.
//! - `cancel`: INVITE; CANCEL after the first provisional response. Success is a 487.
//! - `options`: OPTIONS. Success is a 2xx.
//! - `register`: register `<sip:USER@host>` with this endpoint's Contact for 600 s
//!   (`Endpoint::register`: a 401 or 407 is answered with Digest credentials for USER and
//!   PASSWORD, RFC 3261 §10.2, §22). Success is `Event::Registered`.
//!
//! The destination is located from the URI as RFC 3263 says (`sansip::locate`): an IP
//! address as it is, a domain name by its A/AAAA records (`sip:answer@localhost`), on
//! the URI's port or else the default port (std offers no SRV or NAPTR lookup). Over UDP,
//! or over TCP when the URI says `;transport=tcp` (`common/net.rs` frames the stream).
//! Logs one line per message (time, direction, peer, first line). Exit status 0 on the
//! expected outcome, 1 otherwise (including no outcome within 40 s, more with a longer
//! `--hold`), 2 on a usage or socket error.

#[path = "common/net.rs"]
mod net;

use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::time::{Duration, Instant as StdInstant, SystemTime, UNIX_EPOCH};

use sansip::Instant;
use sansip::dialog::EndReason;
use sansip::endpoint::{
    self, Binding, DigestCredentials, Endpoint, EndpointConfig, Event, Request,
};
use sansip::locate::{self, Plan};
use sansip::message::{Method, StatusCode, Transport, Uri};

use net::Net;

/// A small SDP offer.
const SDP: &[u8] = b"v=0\r\no=sansip 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n\
t=0 0\r\nm=audio 6002 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
/// How long a `call` is held before the BYE, unless `--hold` says otherwise.
const HOLD: Duration = Duration::from_secs(2);
/// The whole run gives up after this.
const GIVE_UP: Duration = Duration::from_secs(40);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Call,
    Cancel,
    Options,
    Register,
}

type Ep = Endpoint<32, 8, 2_048>;

fn usage() -> ExitCode {
    eprintln!(
        "usage: uac --bind ADDR [--hold SECS] call URI [USER PASSWORD] | cancel|options URI | register URI USER PASSWORD"
    );
    ExitCode::from(2)
}

fn log(dir: &str, peer: SocketAddr, bytes: &[u8]) {
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

/// Where to send for `uri`, located as RFC 3263 says (`sansip::locate`) with what the
/// standard library can look up: an IP address is used as it is, and a domain name is
/// resolved to A/AAAA records (std has no SRV or NAPTR queries, so a URI without a port
/// takes the fallback of §4.2: the default port), and whether over TCP (the URI says
/// `;transport=tcp`; this client speaks UDP and TCP only). The address of `bind`'s family
/// comes first.
fn destination(uri: &str, bind: SocketAddr) -> Result<(SocketAddr, bool), String> {
    let Ok(Uri::Sip(u)) = Uri::parse(uri.as_bytes()) else {
        return Err("need a sip: URI".into());
    };
    let plan = locate::plan(&u).map_err(|e| e.to_string())?;
    let (host, port, transport) = match plan {
        Plan::Address {
            ip,
            port,
            transport,
        } => (ip.to_string(), port, transport),
        Plan::Host {
            host,
            port,
            transport,
        } => (host.to_string(), port, transport),
        Plan::Srv {
            host,
            transport,
            secure,
        } => (
            host.to_string(),
            locate::default_port(transport, secure),
            transport,
        ),
        // No NAPTR and no SRV: UDP for sip (TLS for sips) on the default port (§4.1).
        Plan::Naptr { host, secure } => {
            let t = if secure {
                Transport::Tls
            } else {
                Transport::Udp
            };
            (host.to_string(), locate::default_port(t, secure), t)
        }
    };
    if !matches!(transport, Transport::Udp | Transport::Tcp) {
        return Err(format!(
            "this client speaks UDP and TCP only, the URI asks for {transport:?}"
        ));
    }
    let mut addrs: Vec<SocketAddr> = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| format!("{host}: {e}"))?
        .collect();
    addrs.sort_by_key(|a| a.is_ipv4() != bind.is_ipv4());
    addrs
        .first()
        .map(|&a| (a, transport == Transport::Tcp))
        .ok_or_else(|| format!("{host}: no address"))
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut hold = HOLD;
    if let Some(i) = args.iter().position(|a| a == "--hold") {
        let Some(secs) = args.get(i + 1).and_then(|s| s.parse::<u64>().ok()) else {
            return usage();
        };
        hold = Duration::from_secs(secs);
        args.drain(i..i + 2);
    }
    let (bind, mode, uri, user) = match args.as_slice() {
        [flag, bind, mode, uri] if flag == "--bind" => {
            let Ok(bind) = bind.parse::<SocketAddr>() else {
                return usage();
            };
            let mode = match mode.as_str() {
                "call" => Mode::Call,
                "cancel" => Mode::Cancel,
                "options" => Mode::Options,
                _ => return usage(),
            };
            (bind, mode, uri.clone(), None)
        }
        [flag, bind, mode, uri, user, password]
            if flag == "--bind" && matches!(mode.as_str(), "register" | "call") =>
        {
            let Ok(bind) = bind.parse::<SocketAddr>() else {
                return usage();
            };
            let mode = if mode == "call" {
                Mode::Call
            } else {
                Mode::Register
            };
            (
                bind,
                mode,
                uri.clone(),
                Some((user.clone(), password.clone())),
            )
        }
        _ => return usage(),
    };
    let (to, tcp) = match destination(&uri, bind) {
        Ok(to) => to,
        Err(e) => {
            eprintln!("uac: {uri}: {e}");
            return ExitCode::from(2);
        }
    };
    match run(bind, mode, &uri, (to, tcp), user.as_ref(), hold) {
        Ok(true) => {
            println!("uac: success");
            ExitCode::SUCCESS
        }
        Ok(false) => {
            println!("uac: failure");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("uac: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(
    bind: SocketAddr,
    mode: Mode,
    uri: &str,
    (to, tcp): (SocketAddr, bool),
    user: Option<&(String, String)>,
    hold: Duration,
) -> Result<bool, String> {
    let mut net = Net::bind(bind, tcp)?;
    let local = net.local_addr()?;
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(7)
        ^ u64::from(std::process::id());
    let config = EndpointConfig {
        transport: if tcp {
            endpoint::Transport::Tcp
        } else {
            endpoint::Transport::Udp
        },
        ..EndpointConfig::new(local, seed)
    };
    let mut ep: Box<Ep> = Box::new(Endpoint::new(config));
    let start = StdInstant::now();
    let now = || Instant::from_millis(start.elapsed().as_millis() as u64);
    let from = format!("<sip:sansip@{local}>");
    let to_hdr = format!("<{uri}>");
    // REGISTER: the address of record is USER at the registrar's host (From = To).
    let aor = match (mode, user) {
        (Mode::Register, Some((name, _))) => format!("<sip:{name}@{}>", to.ip()),
        _ => String::new(),
    };
    let mut req = Request::new(Method::Options, uri, &from, &to_hdr);
    let (mut call, mut options_tx) = (None, None);
    match mode {
        Mode::Register => {
            let (name, password) = user
                .map(|(n, p)| (n.as_str(), p.as_str()))
                .unwrap_or_default();
            let binding = Binding {
                registrar: uri,
                aor: &aor,
                expires: 600,
                username: name,
                password,
                realm: None,
            };
            ep.register(now(), to, &binding)
                .map_err(|e| format!("REGISTER: {e}"))?;
        }
        Mode::Options => {
            options_tx = Some(
                ep.send_request(now(), to, &req)
                    .map_err(|e| format!("OPTIONS: {e}"))?,
            );
        }
        Mode::Call | Mode::Cancel => {
            req.method = Method::Invite;
            req.body = Some(("application/sdp", SDP));
            req.credentials = user.map(|(name, password)| DigestCredentials::new(name, password));
            call = Some(
                ep.invite(now(), to, &req)
                    .map_err(|e| format!("INVITE: {e}"))?,
            );
        }
    }
    let mut rx = vec![0u8; 65_535];
    let mut out = vec![0u8; 65_535];
    let mut hangup_at: Option<StdInstant> = None;
    let mut cancelled = false;
    let mut got_487 = false;
    // A BYE challenged with credentials given: sent again (Event::Reoriginated follows at
    // once) or, if the challenge could not be answered, a failure.
    let mut challenged_bye = None;
    let mut outcome: Option<bool> = None;
    // After the outcome is known, linger briefly so the last messages (ACK, 200 to a
    // BYE) go out and retransmissions are absorbed.
    let mut linger_until: Option<StdInstant> = None;
    loop {
        let std_now = StdInstant::now();
        // A longer hold gives a call longer to finish.
        let give_up = GIVE_UP + hold.saturating_sub(HOLD);
        if std_now.duration_since(start) > give_up {
            println!("uac: gave up after {give_up:?}");
            return Ok(false);
        }
        if let Some(t) = linger_until
            && std_now >= t
        {
            return Ok(outcome.unwrap_or(false));
        }
        let t_now = now();
        let mut wait = ep
            .poll_timeout()
            .map(|t| Duration::from_millis(t.saturating_duration_since(t_now).as_millis() as u64))
            .unwrap_or(Duration::from_millis(200))
            .min(Duration::from_millis(200));
        if let Some(at) = hangup_at {
            wait = wait.min(at.saturating_duration_since(std_now));
        }
        // A timeout, or an ICMP error from an earlier send: the timers handle both.
        if let Some((n, peer)) = net.recv(&mut rx, Some(wait)) {
            log("<", peer, &rx[..n]);
            ep.handle_datagram(now(), peer, &rx[..n]);
        }
        ep.handle_timeout(now());
        if let (Some(at), Some(c)) = (hangup_at, call)
            && StdInstant::now() >= at
        {
            hangup_at = None;
            if let Err(e) = ep.hangup(now(), c) {
                println!("uac: hangup: {e}");
                outcome = Some(false);
            }
        }
        loop {
            let mut busy = false;
            loop {
                match ep.poll_transmit(&mut out) {
                    Ok(Some(t)) => {
                        busy = true;
                        log(">", t.destination, t.bytes);
                        let destination = t.destination;
                        if let Err(e) = net.send(destination, t.bytes) {
                            println!("uac: {e}");
                            // Over TCP the transactions sending there end (§18.4).
                            if net.is_stream() {
                                ep.handle_send_error(now(), destination);
                            }
                        }
                    }
                    Ok(None) => break,
                    Err(e) => return Err(format!("transmit buffer: {e:?}")),
                }
            }
            while let Some(event) = ep.poll_event() {
                busy = true;
                match event {
                    Event::Registered { expires, .. } => {
                        println!("uac: registered for {expires} s");
                        outcome = Some(true);
                    }
                    Event::RegistrationFailed { status, .. } => {
                        println!("uac: registration failed: {status}");
                        outcome = Some(false);
                    }
                    Event::Response { tx, status, .. } if Some(tx) == options_tx => {
                        // A provisional response leaves the outcome open.
                        outcome =
                            outcome.or((!status.is_provisional()).then(|| status.is_success()));
                    }
                    Event::Response { tx, status, .. }
                        if !status.is_provisional()
                            && ep.request(tx).and_then(|m| m.method()) == Some(Method::Bye) =>
                    {
                        println!("uac: BYE answered {status}");
                        if user.is_some() && matches!(status.as_u16(), 401 | 407) {
                            challenged_bye = Some(tx);
                            continue;
                        }
                        outcome = Some(outcome.unwrap_or(true) && status.is_success());
                    }
                    Event::Response { status, .. } => {
                        if mode == Mode::Cancel
                            && status.is_provisional()
                            && !cancelled
                            && let Some(c) = call
                        {
                            cancelled = true;
                            if let Err(e) = ep.cancel(now(), c) {
                                println!("uac: cancel: {e}");
                                outcome = Some(false);
                            }
                        }
                        if status == StatusCode::REQUEST_TERMINATED {
                            got_487 = true;
                        }
                    }
                    Event::CallEstablished { .. } => {
                        if mode == Mode::Call {
                            hangup_at = Some(StdInstant::now() + hold);
                        } else {
                            // Answered despite the CANCEL: hang up, and it is a failure.
                            if let Some(c) = call {
                                let _ = ep.hangup(now(), c);
                            }
                            outcome = Some(false);
                        }
                    }
                    Event::CallTerminated { reason, .. } => {
                        hangup_at = None;
                        let ok = match (mode, reason) {
                            // The outcome waits for the BYE's final response.
                            (Mode::Call, EndReason::LocalBye) => {
                                println!("uac: call ended: {reason:?}");
                                continue;
                            }
                            (Mode::Call, EndReason::RemoteBye) => true,
                            (Mode::Cancel, EndReason::Cancelled) => got_487,
                            (Mode::Cancel, EndReason::Rejected(s)) => {
                                s == StatusCode::REQUEST_TERMINATED
                            }
                            _ => false,
                        };
                        println!("uac: call ended: {reason:?}");
                        outcome = Some(outcome.unwrap_or(true) && ok);
                    }
                    Event::Reoriginated { tx, .. } => {
                        println!("uac: challenge answered with Digest credentials");
                        if challenged_bye == Some(tx) {
                            challenged_bye = None;
                        }
                    }
                    Event::TimedOut { .. } | Event::TransportError { .. } => {
                        println!("uac: transaction timed out or could not be sent");
                        outcome = Some(false);
                    }
                    // Something could not be kept (a call's dialog past its bounds, a
                    // full table): whatever follows, this run did not do what it should.
                    Event::Capacity(c) => {
                        println!("uac: capacity: {c}");
                        outcome = Some(false);
                    }
                    // Anything else the peer asks (OPTIONS, INFO, a re-INVITE): accept.
                    Event::IncomingRequest { tx, .. } => {
                        let _ = ep.respond(now(), tx, StatusCode::OK, None);
                    }
                    _ => {}
                }
            }
            if challenged_bye.take().is_some() {
                println!("uac: the BYE's challenge could not be answered");
                outcome = Some(false);
            }
            if !busy {
                break;
            }
        }
        if outcome.is_some() && linger_until.is_none() {
            linger_until = Some(StdInstant::now() + Duration::from_millis(500));
        }
    }
}
