//! `cargo run --example call [-- --loss PERCENT --seed N --busy --cancel --hold --100rel]`
//!
//! A real SIP call over loopback UDP: a caller and a callee endpoint in one process, each
//! on its own `127.0.0.1` socket, with the host loop written out in plain std (no async
//! runtime). The caller sends INVITE; the callee's transaction sends 100 Trying when the
//! callee takes longer than 200 ms (RFC 3261 §17.2.1), rings (180), answers (200 with
//! SDP); the caller ACKs, both exchange a few dummy RTP packets on separate sockets (the
//! host's job, not SIP's), and the caller hangs up (BYE, 200). Every datagram is drawn in
//! a ladder diagram with its time.
//!
//! `--loss 30 --seed 7` drops 30 % of the SIP datagrams on purpose (marked `x`): the
//! retransmissions of RFC 3261 §17 still get the call through. `--busy` makes the callee
//! answer 486; `--cancel` makes the caller give up while it rings (CANCEL, 487); `--hold`
//! makes the caller put the call on hold half-way (a re-INVITE with `a=sendonly`, RFC 3261
//! §14, RFC 3264 §8.4) before it hangs up. `--100rel` turns on reliable provisional
//! responses on both sides (RFC 3262): the 180 carries `Require: 100rel` and an RSeq, and
//! the caller PRACKs it before the call is answered.

use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant as StdInstant};

use sansip::Instant;
use sansip::check::Capabilities;
use sansip::dialog::EndReason;
use sansip::endpoint::{CallHandle, Endpoint, EndpointConfig, Event, Request, TxHandle};
use sansip::message::{HeaderKind, Message, StatusCode};

type Ep = Endpoint<16, 4, 2048>;

struct Options {
    loss: u32,
    seed: u64,
    busy: bool,
    cancel: bool,
    hold: bool,
    reliable: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        loss: 0,
        seed: 1,
        busy: false,
        cancel: false,
        hold: false,
        reliable: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--loss" => {
                let v = args.next().ok_or("--loss needs a percentage")?;
                o.loss = v
                    .parse()
                    .ok()
                    .filter(|p| *p < 100)
                    .ok_or("--loss takes 0..=99")?;
            }
            "--seed" => {
                let v = args.next().ok_or("--seed needs a number")?;
                o.seed = v.parse().map_err(|_| "--seed takes a number")?;
            }
            "--busy" => o.busy = true,
            "--cancel" => o.cancel = true,
            "--hold" => o.hold = true,
            "--100rel" => o.reliable = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(o)
}

/// A deterministic coin for the lossy link.
struct Coin(u64);

impl Coin {
    fn drop(&mut self, percent: u32) -> bool {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % 100) < u64::from(percent)
    }
}

struct Side {
    ep: Box<Ep>,
    sip: UdpSocket,
    rtp: UdpSocket,
}

struct Ladder {
    start: StdInstant,
    caller: SocketAddr,
}

impl Ladder {
    fn header(&self, callee: SocketAddr) {
        println!("   time    caller {:<41} callee {}", self.caller, callee);
    }

    fn line(&self, from: SocketAddr, bytes: &[u8], lost: bool) {
        let t = self.start.elapsed().as_secs_f64();
        let label = match Message::parse(bytes) {
            Ok(m) => match (m.method(), m.status()) {
                (Some(method), _) => method.to_string(),
                (_, Some(code)) => {
                    let cseq = m.cseq().map(|c| c.method().to_string()).unwrap_or_default();
                    format!("{code} {} ({cseq})", code.reason())
                }
                _ => "?".into(),
            },
            Err(e) => format!("unparseable: {e}"),
        };
        const W: usize = 44;
        let arrow = if from == self.caller {
            let body = format!("-- {label} ");
            if lost {
                format!("|{body:-<w$}x", w = W / 2)
            } else {
                format!("|{body:-<W$}>|")
            }
        } else {
            let body = format!(" {label} --");
            if lost {
                format!("{:>w$}x{body:->w2$}|", "", w = W / 2, w2 = W / 2)
            } else {
                format!("|<{body:->W$}|")
            }
        };
        println!("{t:>8.3}  {arrow}");
    }
}

fn now(start: StdInstant) -> Instant {
    Instant::from_millis(start.elapsed().as_millis() as u64)
}

fn sdp(rtp: &UdpSocket) -> String {
    let a = rtp.local_addr().map(|a| a.port()).unwrap_or(0);
    format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {a} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    )
}

/// The RTP port in an SDP body (`m=audio PORT`).
fn rtp_port(body: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(body).ok()?;
    let line = text.lines().find(|l| l.starts_with("m=audio "))?;
    line.split(' ').nth(1)?.parse().ok()
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("{e}");
            }
            eprintln!(
                "usage: call [--loss PERCENT] [--seed N] [--busy] [--cancel] [--hold] [--100rel]"
            );
            return ExitCode::from(2);
        }
    };
    match run(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("call failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn bind() -> std::io::Result<UdpSocket> {
    let s = UdpSocket::bind("127.0.0.1:0")?;
    s.set_nonblocking(true)?;
    Ok(s)
}

fn side(name: &'static str, seed: u64, reliable: bool) -> std::io::Result<Side> {
    let sip = bind()?;
    let rtp = bind()?;
    let mut cfg = EndpointConfig::new(sip.local_addr()?, seed);
    cfg.contact_user = name;
    if reliable {
        cfg.capabilities = Capabilities {
            extensions: &["100rel"],
            ..Capabilities::DEFAULT
        };
    }
    Ok(Side {
        ep: Box::new(Endpoint::new(cfg)),
        sip,
        rtp,
    })
}

fn run(opts: &Options) -> Result<(), Box<dyn std::error::Error>> {
    let mut caller = side("alice", opts.seed, opts.reliable)?;
    let mut callee = side(
        "bob",
        opts.seed.wrapping_mul(31).wrapping_add(7),
        opts.reliable,
    )?;
    let (caller_addr, callee_addr) = (caller.sip.local_addr()?, callee.sip.local_addr()?);
    let start = StdInstant::now();
    let ladder = Ladder {
        start,
        caller: caller_addr,
    };
    ladder.header(callee_addr);
    let mut coin = Coin(opts.seed.max(1) ^ 0x2545_F491_4F6C_DD1D);

    let uri = format!("sip:bob@{callee_addr}");
    let offer = sdp(&caller.rtp);
    let req = Request {
        body: Some(("application/sdp", offer.as_bytes())),
        ..Request::new(
            sansip::message::Method::Invite,
            &uri,
            "\"Alice\" <sip:alice@127.0.0.1>",
            "<sip:bob@127.0.0.1>",
        )
    };
    let call: CallHandle = caller.ep.invite(now(start), callee_addr, &req)?;

    // The callee's script: ring after 300 ms (so the 100 Trying shows), answer 1 s later.
    let mut incoming: Option<(TxHandle, StdInstant)> = None;
    let mut answered = false;
    let mut rang = false;
    let mut established: Option<StdInstant> = None;
    let mut hung_up = false;
    let mut cancelled = false;
    // `--hold`: the re-INVITE's transaction, and whether it got its 200.
    let mut hold: Option<TxHandle> = None;
    let mut held: Option<bool> = None;
    // Not before this time (a refused re-INVITE is tried again later), and how often.
    let mut hold_not_before: Option<StdInstant> = None;
    let mut hold_attempts = 0;
    // The callee has the caller's ACK (before that it refuses a re-INVITE, §14.2).
    let mut callee_up = false;
    let mut peer_rtp: [Option<SocketAddr>; 2] = [None, None];
    let mut rtp_sent = [0u32; 2];
    let mut rtp_received = [0u32; 2];
    let mut outcome: Option<EndReason> = None;
    let deadline = start + Duration::from_secs(60);
    let mut buf = vec![0u8; 65_535];

    loop {
        if StdInstant::now() > deadline {
            return Err("the call did not finish within 60 s".into());
        }
        // Inputs: datagrams and timers for both endpoints.
        for s in [&mut caller, &mut callee] {
            loop {
                match s.sip.recv_from(&mut buf) {
                    Ok((n, from)) => s.ep.handle_datagram(now(start), from, &buf[..n]),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e.into()),
                }
            }
            s.ep.handle_timeout(now(start));
        }
        // Outputs: every transmit goes through the (possibly lossy) link.
        for s in [&mut caller, &mut callee] {
            while let Some(t) = s.ep.poll_transmit(&mut buf)? {
                let lost = opts.loss > 0 && coin.drop(opts.loss);
                ladder.line(s.sip.local_addr()?, t.bytes, lost);
                if !lost {
                    s.sip.send_to(t.bytes, t.destination)?;
                }
            }
        }
        // Events: the two users' scripts.
        while let Some(e) = caller.ep.poll_event() {
            match e {
                Event::Response {
                    call: Some(_),
                    status,
                    ..
                } if status == StatusCode::RINGING && opts.cancel && !cancelled => {
                    caller.ep.cancel(now(start), call)?;
                    cancelled = true;
                }
                Event::Response { tx, status, .. } if Some(tx) == hold && status.is_final() => {
                    println!(
                        "{:>8.3}  -- re-INVITE answered {status} {}",
                        start.elapsed().as_secs_f64(),
                        status.reason()
                    );
                    match status.as_u16() {
                        200..=299 => held = Some(true),
                        // Glare (RFC 3261 §14.1): wait for the endpoint's back-off.
                        491 => {
                            hold = None;
                            hold_not_before = Some(deadline);
                        }
                        // The callee still waits for the ACK of its 200 (a lost ACK): try
                        // again after its Retry-After (§14.2), a few times.
                        500 if hold_attempts < 4 => {
                            let secs = caller
                                .ep
                                .response(tx)
                                .and_then(|m| {
                                    let h = m.header(HeaderKind::RetryAfter)?;
                                    std::str::from_utf8(h.value).ok()?.trim().parse().ok()
                                })
                                .unwrap_or(1);
                            hold = None;
                            hold_not_before = Some(StdInstant::now() + Duration::from_secs(secs));
                        }
                        _ => held = Some(false),
                    }
                }
                Event::RetryReInvite { .. } => hold_not_before = None,
                Event::CallEstablished { .. } => {
                    established = Some(StdInstant::now());
                    if let Some(d) = caller.ep.call_dialog(call) {
                        println!(
                            "{:>8.3}  -- call established, Call-ID {}",
                            start.elapsed().as_secs_f64(),
                            d.id().call_id()
                        );
                    }
                }
                Event::CallTerminated { reason, .. } => outcome = Some(reason),
                _ => {}
            }
        }
        while let Some(e) = callee.ep.poll_event() {
            match e {
                Event::IncomingRequest { tx, call: Some(_) } if incoming.is_none() => {
                    if let Some(req) = callee.ep.request(tx) {
                        peer_rtp[1] =
                            rtp_port(req.body()).map(|p| SocketAddr::from(([127, 0, 0, 1], p)));
                    }
                    incoming = Some((tx, StdInstant::now()));
                }
                Event::CallEstablished { .. } => callee_up = true,
                // A re-INVITE within the call (`--hold`): accept the new offer at once,
                // receiving only (RFC 3264 §8.4).
                Event::IncomingRequest { tx, call: Some(_) } => {
                    let answer = sdp(&callee.rtp) + "a=recvonly\r\n";
                    let _ = callee.ep.respond(
                        now(start),
                        tx,
                        StatusCode::OK,
                        Some(("application/sdp", answer.as_bytes())),
                    );
                }
                _ => {}
            }
        }
        if let Some((tx, at)) = incoming
            && !answered
        {
            let t = now(start);
            if at.elapsed() >= Duration::from_millis(300) && callee.ep.request(tx).is_some() {
                if !rang {
                    // A CANCEL may have ended the INVITE meanwhile: then nothing to ring.
                    let _ = callee.ep.respond(t, tx, StatusCode::RINGING, None);
                    rang = true;
                }
                if opts.busy {
                    // Cancelled meanwhile: the INVITE already got its 487.
                    let _ = callee.ep.respond(t, tx, StatusCode::BUSY_HERE, None);
                    answered = true;
                } else if at.elapsed() >= Duration::from_millis(1_300) {
                    let answer = sdp(&callee.rtp);
                    let _ = callee.ep.respond(
                        t,
                        tx,
                        StatusCode::OK,
                        Some(("application/sdp", answer.as_bytes())),
                    );
                    answered = true;
                }
            }
        }
        // Media while the call is up: 20 ms packets for about a second (the host's job).
        if let Some(at) = established {
            if peer_rtp[0].is_none() {
                // The callee's RTP address is in the SDP answer of the 200 OK.
                peer_rtp[0] = caller
                    .ep
                    .call_answer(call)
                    .and_then(|m| rtp_port(m.body()))
                    .map(|p| SocketAddr::from(([127, 0, 0, 1], p)));
            }
            let due = (at.elapsed().as_millis() / 20) as u32;
            for (i, (s, peer)) in [(&caller.rtp, peer_rtp[0]), (&callee.rtp, peer_rtp[1])]
                .into_iter()
                .enumerate()
            {
                while rtp_sent[i] < due.min(50) {
                    if let Some(p) = peer {
                        let mut pkt = [0u8; 172];
                        pkt[0] = 0x80; // RTP version 2, PCMU
                        pkt[2..4].copy_from_slice(&(rtp_sent[i] as u16).to_be_bytes());
                        s.send_to(&pkt, p)?;
                    }
                    rtp_sent[i] += 1;
                }
                while let Ok((_, _)) = s.recv_from(&mut buf) {
                    rtp_received[i] += 1;
                }
            }
            if opts.hold
                && callee_up
                && hold.is_none()
                && held.is_none()
                && at.elapsed() >= Duration::from_millis(600)
                && hold_not_before.is_none_or(|t| StdInstant::now() >= t)
            {
                let offer = sdp(&caller.rtp) + "a=sendonly\r\n";
                println!(
                    "{:>8.3}  -- the caller puts the call on hold",
                    start.elapsed().as_secs_f64()
                );
                hold_attempts += 1;
                hold = Some(caller.ep.reinvite(
                    now(start),
                    call,
                    &[],
                    ("application/sdp", offer.as_bytes()),
                )?);
            }
            if at.elapsed() >= Duration::from_millis(1_200)
                && !hung_up
                && (!opts.hold || held.is_some())
            {
                println!(
                    "{:>8.3}  -- media: {} RTP packets sent, {} received (caller); {} sent, {} received (callee)",
                    start.elapsed().as_secs_f64(),
                    rtp_sent[0],
                    rtp_received[0],
                    rtp_sent[1],
                    rtp_received[1]
                );
                // Media is the host's job, but a call whose media never flowed is no call:
                // each side must have heard the other.
                if rtp_received.contains(&0) {
                    return Err("no RTP arrived on one side".into());
                }
                caller.ep.hangup(now(start), call)?;
                hung_up = true;
            }
        }
        // Done when the call is over on the caller's side and both sides are idle
        // apart from transaction timers absorbing late retransmissions.
        if let Some(reason) = outcome {
            let pending = caller.ep.call_count() + callee.ep.call_count();
            if pending == 0 {
                println!(
                    "{:>8.3}  -- call over: {reason:?}",
                    start.elapsed().as_secs_f64()
                );
                let expected = if opts.busy {
                    matches!(reason, EndReason::Rejected(c) if c == StatusCode::BUSY_HERE)
                } else if opts.cancel {
                    reason == EndReason::Cancelled
                } else {
                    reason == EndReason::LocalBye && (!opts.hold || held == Some(true))
                };
                return if expected {
                    Ok(())
                } else {
                    Err(format!("unexpected end: {reason:?}").into())
                };
            }
        }
        // Sleep until the next timer or for a millisecond, whichever comes first.
        let next = [caller.ep.poll_timeout(), callee.ep.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        let wait = next.map_or(Duration::from_millis(1), |t| {
            t.saturating_duration_since(now(start))
        });
        std::thread::sleep(wait.clamp(Duration::from_micros(200), Duration::from_millis(1)));
    }
}
