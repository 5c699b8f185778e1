//! An endpoint fed arbitrary datagrams (raw bytes and mutated real messages),
//! timeouts and commands (calls, registrations, subscriptions both as subscriber and as
//! notifier): it never panics, its tables stay within their bounds, and everything it
//! sends parses. Calls and subscriptions may carry Digest credentials, and any request
//! it sent may be challenged (401/407, one or both kinds, stale or not, one of two
//! realms): a CANCEL never carries credentials (RFC 3261 §22.1). The endpoint takes
//! reliable provisional responses (RFC 3262) both ways.
#![no_main]

use std::net::SocketAddr;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sansip::Instant;
use sansip::endpoint::{DigestCredentials, Endpoint, EndpointConfig, Event, Request};
use sansip::message::{Message, Method, StatusCode};
use sansip::notifier::{Authorization, Reason};
use sansip::time::Duration;

const INVITE: &[u8] = b"INVITE sip:bob@127.0.0.1:5062 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1;rport\r\n\
Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n\
Contact: <sip:a@127.0.0.1:5060>\r\nContent-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n";

#[derive(Arbitrary, Debug)]
enum Op {
    /// Raw bytes from the network.
    Datagram(Vec<u8>),
    /// A real INVITE with one byte replaced and a new branch digit.
    MutatedInvite { at: u16, byte: u8, branch: u8 },
    /// A response built from the last request the endpoint received or sent, with a
    /// Contact or not and `routes % 12` Record-Routes (past 8, more than a dialog keeps;
    /// the last strict when `routes` is odd).
    Response { code: u16, to_tag: bool, contact: bool, routes: u8 },
    /// Time passes.
    Wait(u16),
    /// Place a call, with Digest credentials or without.
    Invite { credentials: bool },
    Respond(u16),
    Cancel,
    HangUp,
    /// An INFO within the latest call, with a header.
    InCall(u8),
    /// A response with an extra header.
    RespondWith(u16, u8),
    /// The host's socket reports an error for the peer.
    SendError,
    /// A re-INVITE within the latest call, with or without an offer.
    ReInvite { offer: bool },
    /// The answer for the ACK of a late-offer call.
    AckWithAnswer,
    /// Register with the peer (it may challenge: `Response` answers the last REGISTER).
    Register,
    /// Remove the latest registration.
    Unregister,
    /// Subscribe to presence at the peer, with Digest credentials or without.
    Subscribe { credentials: bool, forks: bool },
    /// A 401 or 407 to the last request the endpoint sent, with a WWW-Authenticate
    /// and/or Proxy-Authenticate challenge: realm `realm % 2`, `stale=true` or not, and a
    /// nonce from `nonce` (the same nonce again, or a new one).
    Challenge { proxy: bool, www: bool, stale: bool, realm: u8, nonce: u8 },
    /// End the latest subscription.
    Unsubscribe,
    /// A NOTIFY for the last SUBSCRIBE sent: active, pending or terminated (`state % 3`).
    Notify { state: u8, cseq: u8 },
    /// An INVITE that requires (or supports) `100rel` (RFC 3262), on a new branch and
    /// Call-ID `r{n}`.
    ReliableInvite { require: bool, n: u8 },
    /// A PRACK for the last response the endpoint sent, its RAck's RSeq moved by `delta`.
    Prack { delta: i8, cseq: u8 },
    /// A reliable provisional response (code 180 + `code % 20`) to the last request the
    /// endpoint sent, with RSeq `rseq`.
    ReliableProvisional { code: u8, rseq: u8 },
    /// A SUBSCRIBE from the peer outside any dialog (`expires` 0 is a fetch, none when
    /// `u16::MAX`).
    IncomingSubscribe { expires: u16 },
    /// Serve the latest incoming request as a subscription.
    AcceptSubscription { expires: u16, min: u8, pending: bool, body: bool },
    /// A state change of the latest subscription served (`body` 0: keep the last).
    NotifyChange { active: bool, body: u8 },
    /// End the latest subscription served with reason `reason % 7`.
    TerminateSubscription { reason: u8, retry_after: Option<u8> },
    /// A SUBSCRIBE within the dialog of the last NOTIFY sent (refresh, or 0: unsubscribe).
    Resubscribe { expires: u16, cseq: u8, other_event: bool },
    /// Give the latest call (placed or answered) Digest credentials, or take them away.
    SetCredentials { on: bool },
}

type Ep = Endpoint<8, 4, 1024>;

fuzz_target!(|ops: Vec<Op>| {
    let me: SocketAddr = "127.0.0.1:5062".parse().unwrap();
    let peer: SocketAddr = "127.0.0.1:5060".parse().unwrap();
    // A few lingering records (and a ring small enough to run out) next to the table.
    let config = EndpointConfig {
        linger_records: 6,
        linger_bytes: 2_048,
        // Reliable provisional responses both ways (RFC 3262).
        capabilities: sansip::check::Capabilities {
            extensions: &["100rel"],
            ..sansip::check::Capabilities::DEFAULT
        },
        // Session timers (RFC 4028) at their shortest: refreshes and expiries happen.
        session_timer: Some(sansip::dialog::TimerConfig {
            session_expires: 90,
            min_se: 90,
        }),
        // Registrations that fail try again (RFC 5626 §4.5 back-off).
        registration_retry: Some(sansip::register::Retry::RFC5626),
        ..EndpointConfig::new(me, 7)
    };
    let mut ep: Box<Ep> = Box::new(Endpoint::new(config));
    let mut now = Instant::ZERO;
    let mut buf = vec![0u8; 4096];
    let mut txs = Vec::new();
    let mut calls = Vec::new();
    let mut regs = Vec::new();
    let mut subs = Vec::new();
    let mut last_subscribe: Vec<u8> = Vec::new();
    let mut last_notify: Vec<u8> = Vec::new();
    let mut notifiers = Vec::new();
    let mut subscribes = 0u32;
    let mut last_sent: Vec<u8> = Vec::new();
    let mut last_request: Vec<u8> = Vec::new();
    for op in ops.into_iter().take(64) {
        match op {
            Op::Datagram(d) => ep.handle_datagram(now, peer, &d),
            Op::MutatedInvite { at, byte, branch } => {
                let mut m = INVITE.to_vec();
                let i = usize::from(at) % m.len();
                m[i] = byte;
                if let Some(p) = m.windows(8).position(|w| w == b"z9hG4bK1") {
                    m[p + 7] = b'0' + branch % 10;
                }
                ep.handle_datagram(now, peer, &m);
            }
            Op::Response { code, to_tag, contact, routes } => {
                let rr: Vec<String> = (0..routes % 12)
                    .map(|i| {
                        let lr = if routes % 2 == 1 && i + 1 == routes % 12 { "" } else { ";lr" };
                        format!("<sip:127.0.0.{}:5060{lr}>", i + 1)
                    })
                    .collect();
                if let (Ok(req), Some(code)) = (Message::parse(&last_sent), StatusCode::new(code)) {
                    if req.is_request() {
                        let tag = if to_tag { "t9" } else { "" };
                        if let Ok(mut b) = sansip::encode::MessageBuilder::response_to(&req, code, tag) {
                            for r in &rr {
                                b.push("Record-Route", sansip::encode::Value::Text(r));
                            }
                            if contact {
                                b.push("Contact", sansip::encode::Value::Text("<sip:x@127.0.0.1:5060;ob>"));
                            }
                            // What a registrar adds: a challenge, a minimum expiry.
                            match code.as_u16() {
                                401 => b.push("WWW-Authenticate", sansip::encode::Value::Text("Digest realm=\"x\", nonce=\"n\", qop=auth")),
                                407 => b.push("Proxy-Authenticate", sansip::encode::Value::Text("Digest realm=\"x\", nonce=\"n\", stale=true")),
                                423 => b.push("Min-Expires", sansip::encode::Value::Number(120)),
                                _ => {}
                            }
                            let mut out = [0u8; 4096];
                            if let Ok(n) = b.encode_into(&mut out) {
                                ep.handle_datagram(now, peer, &out[..n]);
                            }
                        }
                    }
                }
            }
            Op::Wait(ms) => {
                now = now + Duration::from_millis(u64::from(ms) * 16);
                ep.handle_timeout(now);
            }
            Op::Invite { credentials } => {
                let req = Request {
                    credentials: credentials.then_some(sansip::endpoint::DigestCredentials::new("b", "p")),
                    ..Request::new(Method::Invite, "sip:x@127.0.0.1:5060", "<sip:b@127.0.0.1>", "<sip:x@127.0.0.1>")
                };
                if let Ok(c) = ep.invite(now, peer, &req) {
                    calls.push(c);
                }
            }
            Op::Respond(code) => {
                if let (Some(&tx), Some(code)) = (txs.last(), StatusCode::new(code)) {
                    let _ = ep.respond(now, tx, code, None);
                }
            }
            Op::Cancel => {
                if let Some(&c) = calls.last() {
                    let _ = ep.cancel(now, c);
                }
            }
            Op::HangUp => {
                if let Some(&c) = calls.last() {
                    let _ = ep.hangup(now, c);
                }
            }
            Op::SetCredentials { on } => {
                if let Some(&c) = calls.last() {
                    let creds = DigestCredentials::new("bob", "secret");
                    let _ = ep.set_credentials(c, on.then_some(&creds));
                }
            }
            Op::InCall(n) => {
                if let Some(&c) = calls.last() {
                    let v = n.to_string();
                    let _ = ep.request_in_call(now, c, Method::Info, &[("X-N", &v)], None);
                }
            }
            Op::RespondWith(code, n) => {
                if let (Some(&tx), Some(code)) = (txs.last(), StatusCode::new(code)) {
                    let v = n.to_string();
                    let _ = ep.respond_with(now, tx, code, &[("X-N", &v)], Some(("application/sdp", b"v=0\r\n")));
                }
            }
            Op::SendError => ep.handle_send_error(now, peer),
            Op::Register => {
                let binding = sansip::endpoint::Binding {
                    registrar: "sip:127.0.0.1:5060",
                    aor: "<sip:b@127.0.0.1>",
                    expires: 60,
                    username: "b",
                    password: "p",
                    realm: None,
                };
                if let Ok(r) = ep.register(now, peer, &binding) {
                    regs.push(r);
                }
            }
            Op::Subscribe { credentials, forks } => {
                let sub = sansip::endpoint::Subscribe {
                    uri: "sip:x@127.0.0.1:5060",
                    from: "<sip:b@127.0.0.1>",
                    to: "<sip:x@127.0.0.1>",
                    event: "presence",
                    expires: 60,
                    accept: None,
                    credentials: credentials.then_some(sansip::endpoint::DigestCredentials::new("b", "p")),
                    forks,
                };
                if let Ok(s) = ep.subscribe(now, peer, &sub) {
                    subs.push(s);
                }
            }
            Op::Challenge { proxy, www, stale, realm, nonce } => {
                if let Ok(req) = Message::parse(&last_request) {
                    let code = if proxy && !www { 407 } else { 401 };
                    let realm = ["a.test", "b.test"][usize::from(realm % 2)];
                    let challenge = format!(
                        "Digest realm=\"{realm}\", nonce=\"n{nonce}\", qop=\"auth\"{}",
                        if stale { ", stale=true" } else { "" }
                    );
                    let built = StatusCode::new(code)
                        .and_then(|code| sansip::encode::MessageBuilder::response_to(&req, code, "t9").ok());
                    if let Some(mut b) = built {
                        if www {
                            b.push("WWW-Authenticate", sansip::encode::Value::Text(&challenge));
                        }
                        if proxy {
                            b.push("Proxy-Authenticate", sansip::encode::Value::Text(&challenge));
                        }
                        let mut out = [0u8; 4096];
                        if let Ok(n) = b.encode_into(&mut out) {
                            ep.handle_datagram(now, peer, &out[..n]);
                        }
                    }
                }
            }
            Op::Unsubscribe => {
                if let Some(&s) = subs.last() {
                    let _ = ep.unsubscribe(now, s);
                }
            }
            Op::Notify { state, cseq } => {
                // The notifier's side of the last SUBSCRIBE, made by hand.
                if let Ok(req) = Message::parse(&last_subscribe) {
                    // Some NOTIFYs come from another notifier the SUBSCRIBE forked to.
                    let tag = ["nt", "nt2", "nt3"][usize::from(state / 3 % 3)];
                    if let Ok(mut d) = sansip::dialog::Dialog::uas(&req, tag, false) {
                        for _ in 0..cseq % 4 {
                            let via = sansip::encode::ViaValue { transport: "UDP", sent_by: "127.0.0.1:5060", branch: "z9hG4bKx", rport: false };
                            let _ = d.request(Method::Notify, via, None);
                        }
                        let branch = format!("z9hG4bKn{state}{cseq}");
                        let via = sansip::encode::ViaValue { transport: "UDP", sent_by: "127.0.0.1:5060", branch: &branch, rport: false };
                        if let Ok(mut b) = d.request(Method::Notify, via, Some("<sip:x@127.0.0.1:5060>")) {
                            b.push("Event", sansip::encode::Value::Text("presence"));
                            let st = ["active;expires=60", "pending", "terminated;retry-after=5"][usize::from(state % 3)];
                            b.push("Subscription-State", sansip::encode::Value::Text(st));
                            let mut out = [0u8; 2048];
                            if let Ok(n) = b.encode_into(&mut out) {
                                ep.handle_datagram(now, peer, &out[..n]);
                            }
                        }
                    }
                }
            }
            Op::ReliableInvite { require, n } => {
                let text = String::from_utf8_lossy(INVITE)
                    .replace("branch=z9hG4bK1", &format!("branch=z9hG4bKr{n}"))
                    .replace("Call-ID: c1", &format!("Call-ID: r{n}"))
                    .replace(
                        "Max-Forwards: 70\r\n",
                        if require { "Max-Forwards: 70\r\nRequire: 100rel\r\n" } else { "Max-Forwards: 70\r\nSupported: 100rel\r\n" },
                    );
                ep.handle_datagram(now, peer, text.as_bytes());
            }
            Op::Prack { delta, cseq } => {
                if let Ok(resp) = Message::parse(&last_sent) {
                    let value = |k| resp.header(k).map(|h| String::from_utf8_lossy(h.value).into_owned());
                    use sansip::message::HeaderKind as K;
                    if let (Some(from), Some(to), Some(id), Some(c)) =
                        (value(K::From), value(K::To), value(K::CallId), resp.cseq().ok())
                    {
                        let rseq = resp.rseq().and_then(Result::ok).map_or(1, |r| r.get());
                        let rseq = rseq.saturating_add_signed(i32::from(delta)).max(1);
                        let prack = format!(
                            "PRACK sip:b@127.0.0.1:5062 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKp{cseq}{delta}\r\n\
                             Max-Forwards: 70\r\nFrom: {from}\r\nTo: {to}\r\nCall-ID: {id}\r\nCSeq: {} PRACK\r\n\
                             RAck: {rseq} {} INVITE\r\nContent-Length: 0\r\n\r\n",
                            c.seq().saturating_add(1 + u32::from(cseq % 4)),
                            c.seq()
                        );
                        ep.handle_datagram(now, peer, prack.as_bytes());
                    }
                }
            }
            Op::ReliableProvisional { code, rseq } => {
                let code = StatusCode::new(180 + u16::from(code % 20));
                if let (Ok(req), Some(code)) = (Message::parse(&last_request), code) {
                    if let Ok(mut b) = sansip::encode::MessageBuilder::response_to(&req, code, "t9") {
                        let rseq = u32::from(rseq) + 1;
                        b.push("Require", sansip::encode::Value::Text("100rel"));
                        b.push("RSeq", sansip::encode::Value::Number(rseq));
                        b.push("Contact", sansip::encode::Value::Text("<sip:x@127.0.0.1:5060>"));
                        let mut out = [0u8; 4096];
                        if let Ok(n) = b.encode_into(&mut out) {
                            ep.handle_datagram(now, peer, &out[..n]);
                        }
                    }
                }
            }
            Op::IncomingSubscribe { expires } => {
                subscribes += 1;
                let expires = if expires == u16::MAX { String::new() } else { format!("Expires: {expires}\r\n") };
                let m = format!(
                    "SUBSCRIBE sip:b@127.0.0.1:5062 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKs{subscribes};rport\r\n\
Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=s{subscribes}\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: s{subscribes}\r\n\
CSeq: 1 SUBSCRIBE\r\nContact: <sip:a@127.0.0.1:5060>\r\nEvent: presence;id=1\r\n{expires}Content-Length: 0\r\n\r\n"
                );
                ep.handle_datagram(now, peer, m.as_bytes());
            }
            Op::AcceptSubscription { expires, min, pending, body } => {
                if let Some(&tx) = txs.last() {
                    let accept = sansip::endpoint::Accept {
                        expires: u32::from(expires),
                        min_expires: u32::from(min),
                        authorization: if pending { Authorization::Pending } else { Authorization::Active },
                        body: body.then_some(("application/pidf+xml", b"<open/>".as_slice())),
                    };
                    if let Ok(n) = ep.accept_subscription(now, tx, &accept) {
                        notifiers.push(n);
                    }
                }
            }
            Op::NotifyChange { active, body } => {
                if let Some(&n) = notifiers.last() {
                    let text = vec![b'x'; usize::from(body) * 8];
                    let body = (body > 0).then_some(("application/pidf+xml", text.as_slice()));
                    let a = if active { Authorization::Active } else { Authorization::Pending };
                    let _ = ep.notify(now, n, a, body);
                }
            }
            Op::TerminateSubscription { reason, retry_after } => {
                if let Some(&n) = notifiers.last() {
                    let reasons = [Reason::Deactivated, Reason::Probation, Reason::Rejected, Reason::Timeout, Reason::Giveup, Reason::Noresource, Reason::Invariant];
                    let _ = ep.terminate_subscription(now, n, reasons[usize::from(reason % 7)], retry_after.map(u32::from));
                }
            }
            Op::Resubscribe { expires, cseq, other_event } => {
                // The subscriber's side of the dialog, from the last NOTIFY it got.
                if let Ok(notify) = Message::parse(&last_notify) {
                    let tag = notify.to().ok().and_then(|t| t.tag().map(str::to_owned)).unwrap_or_default();
                    if let Ok(mut d) = sansip::dialog::Dialog::uas(&notify, &tag, false) {
                        let via = sansip::encode::ViaValue { transport: "UDP", sent_by: "127.0.0.1:5060", branch: "z9hG4bKx", rport: false };
                        for _ in 0..cseq % 4 + 1 {
                            let _ = d.request(Method::Subscribe, via, None);
                        }
                        let branch = format!("z9hG4bKr{expires}{cseq}");
                        let via = sansip::encode::ViaValue { transport: "UDP", sent_by: "127.0.0.1:5060", branch: &branch, rport: true };
                        if let Ok(mut b) = d.request(Method::Subscribe, via, Some("<sip:a@127.0.0.1:5060>")) {
                            b.push("Event", sansip::encode::Value::Text(if other_event { "dialog" } else { "presence;id=1" }));
                            b.push("Expires", sansip::encode::Value::Number(u32::from(expires)));
                            let mut out = [0u8; 2048];
                            if let Ok(n) = b.encode_into(&mut out) {
                                ep.handle_datagram(now, peer, &out[..n]);
                            }
                        }
                    }
                }
            }
            Op::Unregister => {
                if let Some(&r) = regs.last() {
                    let _ = ep.unregister(now, r);
                }
            }
            Op::AckWithAnswer => {
                if let Some(&c) = calls.last() {
                    let _ = ep.ack_with_answer(c, ("application/sdp", b"v=0\r\n"));
                }
            }
            Op::ReInvite { offer } => {
                if let Some(&c) = calls.last() {
                    let _ = if offer {
                        ep.reinvite(now, c, &[], ("application/sdp", b"v=0\r\n"))
                    } else {
                        ep.reinvite_without_offer(now, c, &[])
                    };
                }
            }
        }
        while let Ok(Some(t)) = ep.poll_transmit(&mut buf) {
            // Everything the endpoint sends is a well-formed message.
            let sent = t.bytes.to_vec();
            assert!(Message::parse(&sent).is_ok(), "sent unparseable bytes: {:?}", String::from_utf8_lossy(&sent));
            if let Ok(m) = Message::parse(&sent) {
                if m.method() == Some(Method::Subscribe) {
                    last_subscribe = sent.clone();
                }
                // §22.1: a CANCEL cannot be challenged and never carries credentials.
                if m.method() == Some(Method::Cancel) {
                    assert!(m.header(sansip::message::HeaderKind::Authorization).is_none());
                    assert!(m.header(sansip::message::HeaderKind::ProxyAuthorization).is_none());
                }
                if m.is_request() {
                    last_request = sent.clone();
                }
            }
            if Message::parse(&sent).is_ok_and(|m| m.method() == Some(Method::Notify)) {
                last_notify = sent.clone();
            }
            last_sent = sent;
        }
        while let Some(e) = ep.poll_event() {
            match e {
                Event::IncomingRequest { tx, call } => {
                    txs.push(tx);
                    if let Some(c) = call {
                        calls.push(c);
                    }
                }
                _ => {}
            }
        }
        // Within the configured storage: 8 table entries and 6 lingering records, 4 calls.
        assert!(ep.lingering_count() <= 6);
        assert!(ep.transaction_count() <= 8 + 6 && ep.call_count() <= 4);
        assert!(ep.registration_count() <= sansip::endpoint::MAX_REGISTRATIONS);
        assert!(ep.subscription_count() <= sansip::endpoint::MAX_SUBSCRIPTIONS);
        assert!(ep.notifier_count() <= sansip::endpoint::MAX_NOTIFIERS);
        // Every deadline is in the future or due now: nothing is lost.
        if let Some(t) = ep.poll_timeout() {
            let _ = t;
        }
    }
});
