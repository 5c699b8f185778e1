//! Subscriptions between two in-process endpoints through the public API: `a` subscribes
//! with `Endpoint::subscribe` (RFC 6665 §4.1), `b` serves the subscription with
//! `Endpoint::accept_subscription` (§4.2): SUBSCRIBE, 200, NOTIFYs, refreshes, the end
//! in each way it can come, and one NOTIFY at a time.

use std::net::SocketAddr;

use sansip::Instant;
use sansip::check::Capabilities;
use sansip::endpoint::{
    Accept, Endpoint, EndpointConfig, Event, MAX_NOTIFIERS, NotifierHandle, SendError, Subscribe,
    SubscriptionHandle, TxHandle,
};
use sansip::error::Capacity;
use sansip::message::{HeaderKind, Message, Method, StatusCode};
use sansip::notifier::{Authorization, Ended, Reason, State};

type Ep = Endpoint<32, 8, 2048>;

const A: &str = "127.0.0.1:5061";
const B: &str = "127.0.0.1:5062";
const PIDF: &str = "application/pidf+xml";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// The subscriber `a`, the notifier `b`, a virtual link and clock, and what each saw.
struct Pair {
    a: Box<Ep>,
    b: Box<Ep>,
    now: Instant,
    events_a: Vec<Event>,
    events_b: Vec<Event>,
    /// Every datagram `b` sent, in order.
    sent_b: Vec<Vec<u8>>,
    /// What `a`'s host answers NOTIFYs with.
    notify_answer: StatusCode,
    /// The NOTIFYs `a` received, in order.
    notifies: Vec<Vec<u8>>,
    /// Drop what `a` sends (a subscriber gone silent).
    a_mute: bool,
}

impl Pair {
    fn new() -> Self {
        // NOTIFY bodies go through the §8.2.3 check like any request's.
        let a = EndpointConfig {
            capabilities: Capabilities {
                body_types: &["application/sdp", PIDF],
                ..Capabilities::DEFAULT
            },
            ..EndpointConfig::new(addr(A), 1)
        };
        Pair {
            a: Box::new(Endpoint::new(a)),
            b: Box::new(Endpoint::new(EndpointConfig::new(addr(B), 2))),
            now: Instant::ZERO,
            events_a: Vec::new(),
            events_b: Vec::new(),
            sent_b: Vec::new(),
            notify_answer: StatusCode::OK,
            notifies: Vec::new(),
            a_mute: false,
        }
    }

    /// Deliver every queued datagram both ways, `a`'s host answering each NOTIFY, until
    /// both sides are quiet.
    fn flush(&mut self) {
        let mut buf = vec![0u8; 65_535];
        loop {
            let mut moved = false;
            while let Some(t) = self.a.poll_transmit(&mut buf).unwrap() {
                assert_eq!(t.destination, addr(B));
                moved = true;
                if !self.a_mute {
                    let bytes = t.bytes.to_vec();
                    self.b.handle_datagram(self.now, addr(A), &bytes);
                }
            }
            while let Some(t) = self.b.poll_transmit(&mut buf).unwrap() {
                assert_eq!(t.destination, addr(A));
                let bytes = t.bytes.to_vec();
                self.sent_b.push(bytes.clone());
                self.a.handle_datagram(self.now, addr(B), &bytes);
                moved = true;
            }
            while let Some(e) = self.a.poll_event() {
                if let Event::Notify { tx, .. } = e {
                    let m = self.a.request(tx).unwrap();
                    self.notifies.push(m.as_bytes().to_vec());
                    self.a
                        .respond(self.now, tx, self.notify_answer, None)
                        .unwrap();
                    moved = true;
                }
                self.events_a.push(e);
            }
            while let Some(e) = self.b.poll_event() {
                self.events_b.push(e);
            }
            if !moved {
                break;
            }
        }
    }

    /// Jump to the next timer of either side and fire it.
    fn advance(&mut self) -> bool {
        let next = [self.a.poll_timeout(), self.b.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        let Some(t) = next else { return false };
        self.now = self.now.max(t);
        self.a.handle_timeout(self.now);
        self.b.handle_timeout(self.now);
        self.flush();
        true
    }

    /// Run the timers until `done` holds (or the clock passes `limit_ms`).
    fn run_until(&mut self, limit_ms: u64, done: impl Fn(&Pair) -> bool) {
        while !done(self) && self.now.as_millis() < limit_ms && self.advance() {}
        assert!(done(self), "not done by {} ms", self.now.as_millis());
    }

    /// `a` subscribes to `b`'s presence for `expires` seconds; `b`'s SUBSCRIBE transaction.
    fn subscribe(&mut self, expires: u32) -> (SubscriptionHandle, TxHandle) {
        let sub = Subscribe {
            accept: Some(PIDF),
            ..Subscribe::new(
                "sip:bob@127.0.0.1:5062",
                "<sip:alice@127.0.0.1>",
                "<sip:bob@127.0.0.1>",
                "presence;id=7",
                expires,
            )
        };
        let sub = self.a.subscribe(self.now, addr(B), &sub).unwrap();
        self.flush();
        let tx = self
            .events_b
            .iter()
            .rev()
            .find_map(|e| match e {
                Event::IncomingRequest { tx, call: None } => Some(*tx),
                _ => None,
            })
            .expect("the SUBSCRIBE reached b");
        assert_eq!(
            self.b.request(tx).unwrap().method(),
            Some(Method::Subscribe)
        );
        (sub, tx)
    }

    /// A subscription `b` accepted (active, with a first state), both sides settled.
    fn established(&mut self) -> (SubscriptionHandle, NotifierHandle) {
        let (sub, tx) = self.subscribe(600);
        let accept = Accept {
            body: Some((PIDF, b"<open/>")),
            ..Accept::new(3600)
        };
        let n = self.b.accept_subscription(self.now, tx, &accept).unwrap();
        self.flush();
        assert!(
            self.events_a
                .contains(&Event::SubscriptionActive { sub, expires: 600 }),
            "{:?}",
            self.events_a
        );
        (sub, n)
    }

    fn ended_b(&self) -> Vec<(NotifierHandle, Ended)> {
        self.events_b
            .iter()
            .filter_map(|e| match e {
                Event::NotifierTerminated { notifier, reason } => Some((*notifier, *reason)),
                _ => None,
            })
            .collect()
    }

    fn last_notify(&self) -> Message<'_> {
        Message::parse(self.notifies.last().expect("a NOTIFY")).unwrap()
    }
}

fn header<'m>(m: &Message<'m>, kind: HeaderKind) -> &'m str {
    std::str::from_utf8(m.header(kind).map_or(&b""[..], |h| h.value)).unwrap()
}

fn sent_method(bytes: &[u8]) -> Option<String> {
    Message::parse(bytes)
        .ok()
        .and_then(|m| m.method().map(|m| m.to_string()))
}

/// The whole story: SUBSCRIBE, 200, NOTIFY (active), a change, a refresh and its
/// NOTIFY, an unsubscription and the terminating NOTIFY; then nothing is left.
#[test]
fn subscribe_notify_refresh_unsubscribe() {
    let mut p = Pair::new();
    let (sub, tx) = p.subscribe(600);
    let accept = Accept {
        body: Some((PIDF, b"<open/>")),
        ..Accept::new(3600)
    };
    let n = p.b.accept_subscription(p.now, tx, &accept).unwrap();
    assert_eq!(p.b.notifier_state(n), Some(State::Active));
    p.flush();
    // §4.2.1.1: 200 with Expires (never more than asked), Contact and a To tag.
    let ok = Message::parse(&p.sent_b[0]).unwrap();
    assert_eq!(ok.status(), Some(StatusCode::OK));
    assert_eq!(header(&ok, HeaderKind::Expires), "600");
    assert!(ok.header(HeaderKind::Contact).is_some());
    let tag = ok.to().unwrap().tag().unwrap().to_owned();
    // §4.2.1.2: the NOTIFY at once, within the dialog.
    let notify = p.last_notify();
    assert_eq!(notify.method(), Some(Method::Notify));
    assert_eq!(
        header(&notify, HeaderKind::SubscriptionState),
        "active;expires=600"
    );
    assert_eq!(header(&notify, HeaderKind::Event), "presence;id=7");
    assert_eq!(header(&notify, HeaderKind::ContentType), PIDF);
    assert_eq!(notify.body(), b"<open/>");
    assert!(notify.header(HeaderKind::Contact).is_some());
    assert_eq!(notify.from().unwrap().tag(), Some(tag.as_str()));
    assert_eq!(notify.cseq().unwrap().seq(), 1);
    assert_eq!(
        notify.request_uri_raw(),
        Some(&b"sip:sansip@127.0.0.1:5061"[..]),
        "the subscriber's Contact is the remote target"
    );
    assert!(
        p.events_a
            .contains(&Event::SubscriptionActive { sub, expires: 600 })
    );
    // A change: the subscriber gets an Event::Notify with the new state.
    p.events_a.clear();
    p.b.notify(p.now, n, Authorization::Active, Some((PIDF, b"<closed/>")))
        .unwrap();
    p.flush();
    assert!(
        p.events_a
            .iter()
            .any(|e| matches!(e, Event::Notify { sub: s, .. } if *s == sub))
    );
    assert_eq!(p.last_notify().body(), b"<closed/>");
    assert_eq!(p.last_notify().cseq().unwrap().seq(), 2);
    // The subscriber refreshes 540 s in (a tenth early): 200 and a NOTIFY with the
    // current state follow (§4.2.1.2), and b's host hears of it.
    let before = p.notifies.len();
    p.run_until(600_000, |p| {
        p.events_b
            .iter()
            .any(|e| matches!(e, Event::NotifierRefreshed { .. }))
    });
    assert_eq!(p.now.as_millis(), 540_000);
    assert!(p.events_b.contains(&Event::NotifierRefreshed {
        notifier: n,
        expires: 600
    }));
    assert_eq!(p.notifies.len(), before + 1);
    let refreshed = p.last_notify();
    assert_eq!(
        header(&refreshed, HeaderKind::SubscriptionState),
        "active;expires=600"
    );
    assert_eq!(refreshed.body(), b"<closed/>");
    assert_eq!(
        p.a.subscription_state(sub),
        Some(sansip::subscription::State::Active)
    );
    // Unsubscribe: 200 with Expires 0, then the terminating NOTIFY; both sides end.
    p.a.unsubscribe(p.now, sub).unwrap();
    p.flush();
    let terminated = p.last_notify();
    assert_eq!(
        header(&terminated, HeaderKind::SubscriptionState),
        "terminated;reason=timeout"
    );
    assert!(p.events_a.contains(&Event::SubscriptionTerminated {
        sub,
        reason: sansip::subscription::Ended::Unsubscribed
    }));
    assert_eq!(p.ended_b(), [(n, Ended::Unsubscribed)]);
    assert_eq!(p.b.notifier_state(n), None);
    assert_eq!((p.a.subscription_count(), p.b.notifier_count()), (0, 0));
    // The transactions wait out their timers, then nothing is left anywhere.
    p.run_until(2_000_000, |p| {
        p.a.transaction_count() == 0 && p.b.transaction_count() == 0
    });
    assert_eq!(p.b.poll_timeout(), None);
}

/// §4.2.1.3: accepted pending; the authorization turns it active.
#[test]
fn pending_then_authorized() {
    let mut p = Pair::new();
    let (sub, tx) = p.subscribe(600);
    let accept = Accept {
        authorization: Authorization::Pending,
        ..Accept::new(300)
    };
    let n = p.b.accept_subscription(p.now, tx, &accept).unwrap();
    p.flush();
    assert_eq!(
        header(&p.last_notify(), HeaderKind::SubscriptionState),
        "pending;expires=300"
    );
    assert!(p.last_notify().body().is_empty());
    assert!(p.events_a.contains(&Event::SubscriptionPending { sub }));
    assert_eq!(p.b.notifier_state(n), Some(State::Pending));
    // Ten seconds later the TU authorizes it: `expires` is the time left.
    p.now = Instant::from_millis(10_000);
    p.b.notify(p.now, n, Authorization::Active, Some((PIDF, b"<open/>")))
        .unwrap();
    p.flush();
    assert_eq!(
        header(&p.last_notify(), HeaderKind::SubscriptionState),
        "active;expires=290"
    );
    assert!(
        p.events_a
            .contains(&Event::SubscriptionActive { sub, expires: 290 })
    );
    assert_eq!(p.b.notifier_state(n), Some(State::Active));
    // The TU ends it with a reason of its own; that NOTIFY carries no state.
    p.b.terminate_subscription(p.now, n, Reason::Noresource, None)
        .unwrap();
    assert_eq!(
        p.b.notify(p.now, n, Authorization::Active, None),
        Err(SendError::InvalidState)
    );
    p.flush();
    let last = p.last_notify();
    assert_eq!(
        header(&last, HeaderKind::SubscriptionState),
        "terminated;reason=noresource"
    );
    assert!(last.body().is_empty());
    assert_eq!(
        p.ended_b(),
        [(
            n,
            Ended::ByTu {
                reason: Reason::Noresource
            }
        )]
    );
    assert_eq!((p.a.subscription_count(), p.b.notifier_count()), (0, 0));
}

/// §4.2.1.4: a subscription not refreshed ends at its expiry with
/// `terminated;reason=timeout`.
#[test]
fn expiry_without_refresh() {
    let mut p = Pair::new();
    let (sub, tx) = p.subscribe(600);
    // Granted 120 s (the offer), not the 600 asked for.
    let n =
        p.b.accept_subscription(p.now, tx, &Accept::new(120))
            .unwrap();
    p.flush();
    assert!(
        p.events_a
            .contains(&Event::SubscriptionActive { sub, expires: 120 })
    );
    // The subscriber goes silent: its refreshes (and its 200s) are lost.
    p.a_mute = true;
    p.run_until(400_000, |p| !p.ended_b().is_empty());
    assert_eq!(p.ended_b(), [(n, Ended::Expired)]);
    let last = p.last_notify();
    assert_eq!(
        header(&last, HeaderKind::SubscriptionState),
        "terminated;reason=timeout"
    );
    // The last NOTIFY left at the expiry, 120 s in (retransmitted: the subscriber's
    // 200s are lost); without an answer it ends 64*T1 later.
    let last_sent = p
        .sent_b
        .iter()
        .filter(|b| sent_method(b).as_deref() == Some("NOTIFY"))
        .count();
    assert!(last_sent >= 3, "{last_sent}");
    assert_eq!(p.b.notifier_count(), 0);
    assert_eq!(p.now.as_millis(), 120_000 + 32_000);
}

/// §4.2.2: a NOTIFY answered 481 ends the subscription at once (no terminating NOTIFY:
/// the subscriber has none).
#[test]
fn notify_answered_481_ends_the_notifier() {
    let mut p = Pair::new();
    let (_, n) = p.established();
    let sent = p.notifies.len();
    p.notify_answer = StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST;
    p.b.notify(p.now, n, Authorization::Active, Some((PIDF, b"<busy/>")))
        .unwrap();
    p.flush();
    assert_eq!(
        p.ended_b(),
        [(
            n,
            Ended::NotifyFailed(StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST)
        )]
    );
    assert_eq!(p.notifies.len(), sent + 1, "no NOTIFY after the 481");
    assert_eq!(p.b.notifier_count(), 0);
    assert_eq!(
        p.b.notify(p.now, n, Authorization::Active, None),
        Err(SendError::UnknownHandle)
    );
}

/// A NOTIFY that gets no answer at all (Timer F) ends the subscription too (§4.2.2);
/// one answered 500 does not (RFC 5057: that transaction only).
#[test]
fn notify_failures_500_and_timeout() {
    let mut p = Pair::new();
    let (_, n) = p.established();
    p.notify_answer = StatusCode::SERVER_INTERNAL_ERROR;
    p.b.notify(p.now, n, Authorization::Active, None).unwrap();
    p.flush();
    assert_eq!(p.b.notifier_state(n), Some(State::Active));
    p.a_mute = true;
    p.b.notify(p.now, n, Authorization::Active, None).unwrap();
    p.run_until(100_000, |p| !p.ended_b().is_empty());
    assert_eq!(
        p.ended_b(),
        [(n, Ended::NotifyFailed(StatusCode::REQUEST_TIMEOUT))]
    );
    assert_eq!(p.now.as_millis(), 32_000, "Timer F, 64*T1");
}

/// §4.2.2: one NOTIFY out at a time; changes meanwhile coalesce into one NOTIFY with
/// the latest state, sent after the final response; CSeq numbers rise by one.
#[test]
fn one_notify_at_a_time() {
    let mut p = Pair::new();
    let (_, n) = p.established();
    let mut buf = vec![0u8; 65_535];
    let mut sent = Vec::new();
    for body in [&b"<one/>"[..], b"<two/>", b"<three/>"] {
        p.b.notify(p.now, n, Authorization::Active, Some((PIDF, body)))
            .unwrap();
        while let Some(t) = p.b.poll_transmit(&mut buf).unwrap() {
            sent.push(t.bytes.to_vec());
        }
    }
    assert_eq!(sent.len(), 1, "one NOTIFY out");
    let first = Message::parse(&sent[0]).unwrap();
    assert_eq!(first.body(), b"<one/>");
    assert_eq!(first.cseq().unwrap().seq(), 2);
    // Its 200 releases exactly one more, with the latest state.
    p.a.handle_datagram(p.now, addr(B), &sent[0]);
    p.flush();
    let bodies: Vec<Vec<u8>> = p.notifies[1..]
        .iter()
        .map(|b| Message::parse(b).unwrap().body().to_vec())
        .collect();
    assert_eq!(bodies, [b"<one/>".to_vec(), b"<three/>".to_vec()]);
    assert_eq!(p.last_notify().cseq().unwrap().seq(), 3);
    assert_eq!(p.b.notifier_state(n), Some(State::Active));
    // A termination while a NOTIFY is out waits for it too, and is the last.
    p.b.notify(p.now, n, Authorization::Active, Some((PIDF, b"<four/>")))
        .unwrap();
    p.b.terminate_subscription(p.now, n, Reason::Deactivated, Some(5))
        .unwrap();
    p.flush();
    let states: Vec<String> = p.notifies[3..]
        .iter()
        .map(|b| header(&Message::parse(b).unwrap(), HeaderKind::SubscriptionState).to_owned())
        .collect();
    assert_eq!(
        states,
        [
            "active;expires=600",
            "terminated;reason=deactivated;retry-after=5"
        ]
    );
    assert_eq!(p.b.notifier_count(), 0);
}

/// 423 with Min-Expires: for a first SUBSCRIBE (the endpoint answers it; nothing is
/// kept) and for a refresh (the subscription stays as it was). A SUBSCRIBE in the
/// dialog for another event package, or in no subscription's dialog, gets 481.
#[test]
fn interval_too_brief_and_unknown_subscriptions() {
    let mut p = Pair::new();
    let (sub, tx) = p.subscribe(30);
    assert_eq!(
        p.b.accept_subscription(p.now, tx, &Accept::new(3600)),
        Err(SendError::IntervalTooBrief { min_expires: 60 })
    );
    p.flush();
    let answer = Message::parse(p.sent_b.last().unwrap()).unwrap();
    assert_eq!(answer.status(), Some(StatusCode::INTERVAL_TOO_BRIEF));
    assert_eq!(header(&answer, HeaderKind::MinExpires), "60");
    assert_eq!(p.b.notifier_count(), 0);
    // RFC 6665 §4.1.2.1: the subscriber asks again, for the notifier's minimum; its
    // subscription goes on.
    assert!(
        !p.events_a
            .iter()
            .any(|e| matches!(e, Event::SubscriptionTerminated { sub: s, .. } if *s == sub))
    );
    let again = p
        .events_b
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::IncomingRequest { tx: t, .. } if *t != tx => Some(*t),
            _ => None,
        })
        .expect("the SUBSCRIBE sent again");
    let request = p.b.request(again).unwrap();
    assert_eq!(header(&request, HeaderKind::Expires), "60");
    assert_eq!(request.cseq().unwrap().seq(), 2);
    p.b.accept_subscription(p.now, again, &Accept::new(3600))
        .unwrap();
    p.flush();
    assert!(
        p.events_a
            .iter()
            .any(|e| matches!(e, Event::SubscriptionActive { sub: s, .. } if *s == sub))
    );
    // Its refresh asks for the minimum too, not the 30 s that got the 423: accepted.
    let served = p.b.notifier_count();
    p.run_until(120_000, |p| {
        p.events_b
            .iter()
            .any(|e| matches!(e, Event::NotifierRefreshed { expires: 60, .. }))
    });
    assert_eq!(p.b.notifier_count(), served);
    // A refresh below the minimum, made by hand within the dialog.
    let (_, n) = p.established();
    let notify = p.notifies.last().unwrap().clone();
    let notify = Message::parse(&notify).unwrap();
    let mut d =
        sansip::dialog::Dialog::uas(&notify, notify.to().unwrap().tag().unwrap(), false).unwrap();
    d.confirm();
    let mut subscribe = |event: &str, expires: u32, branch: &str| {
        use sansip::encode::{Value, ViaValue};
        let via = ViaValue {
            transport: "UDP",
            sent_by: A,
            branch,
            rport: true,
        };
        // The subscriber's SUBSCRIBE was CSeq 1: these go on from 2.
        while d.local_seq() < 1 {
            let _ = d.request(Method::Subscribe, via, None).unwrap();
        }
        let mut b = d
            .request(Method::Subscribe, via, Some("<sip:sansip@127.0.0.1:5061>"))
            .unwrap();
        b.push("Event", Value::Text(event));
        b.push("Expires", Value::Number(expires));
        let mut out = vec![0u8; 2048];
        let len = b.encode_into(&mut out).unwrap();
        out.truncate(len);
        out
    };
    let mut buf = vec![0u8; 65_535];
    let mut answer_to = |p: &mut Pair, bytes: &[u8]| {
        p.b.handle_datagram(p.now, addr(A), bytes);
        let t = p.b.poll_transmit(&mut buf).unwrap().expect("an answer");
        let m = Message::parse(t.bytes).unwrap();
        (
            m.status().unwrap(),
            header(&m, HeaderKind::MinExpires).to_owned(),
        )
    };
    let brief = subscribe("presence;id=7", 10, "z9hG4bKbrief");
    assert_eq!(
        answer_to(&mut p, &brief),
        (StatusCode::INTERVAL_TOO_BRIEF, "60".to_owned())
    );
    assert_eq!(p.b.notifier_state(n), Some(State::Active));
    // Another package (or another id) is not this subscription: 481.
    let other = subscribe("dialog", 600, "z9hG4bKother");
    assert_eq!(
        answer_to(&mut p, &other),
        (
            StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST,
            String::new()
        )
    );
    let other_id = subscribe("presence;id=8", 600, "z9hG4bKid8");
    assert_eq!(
        answer_to(&mut p, &other_id).0,
        StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST
    );
    assert_eq!(p.b.notifier_state(n), Some(State::Active));
    assert!(
        p.b.poll_transmit(&mut vec![0u8; 65_535]).unwrap().is_none(),
        "no NOTIFY after a refusal"
    );
    // Once the subscription is over its dialog is gone: 481, as for any unknown dialog.
    p.b.terminate_subscription(p.now, n, Reason::Rejected, None)
        .unwrap();
    p.flush();
    // (The first subscription, accepted at its second try, is still served.)
    assert_eq!(p.b.notifier_count(), 1);
    let late = subscribe("presence;id=7", 600, "z9hG4bKlate");
    assert_eq!(
        answer_to(&mut p, &late).0,
        StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST
    );
}

/// §4.4.3: a SUBSCRIBE with Expires 0 fetches the state: 200, one terminating NOTIFY
/// with the state, over.
#[test]
fn fetch() {
    let mut p = Pair::new();
    let (sub, tx) = p.subscribe(0);
    let accept = Accept {
        body: Some((PIDF, b"<open/>")),
        ..Accept::new(3600)
    };
    let n = p.b.accept_subscription(p.now, tx, &accept).unwrap();
    p.flush();
    let last = p.last_notify();
    assert_eq!(
        header(&last, HeaderKind::SubscriptionState),
        "terminated;reason=timeout"
    );
    assert_eq!(last.body(), b"<open/>");
    assert_eq!(p.ended_b(), [(n, Ended::Unsubscribed)]);
    assert!(
        p.events_a
            .iter()
            .any(|e| matches!(e, Event::SubscriptionTerminated { sub: s, .. } if *s == sub))
    );
}

/// The bound: MAX_NOTIFIERS subscriptions, then `Capacity::Notifiers` (nothing sent: the
/// host answers). Commands on requests that are not fresh SUBSCRIBEs are refused.
#[test]
fn capacity_and_misuse() {
    let mut b: Box<Endpoint<64, 8, 2048>> =
        Box::new(Endpoint::new(EndpointConfig::new(addr(B), 3)));
    let now = Instant::ZERO;
    let mut buf = vec![0u8; 65_535];
    let mut incoming = |b: &mut Endpoint<64, 8, 2048>, method: &str, i: usize| {
        let bytes = format!(
            "{method} sip:bob@127.0.0.1:5062 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK{method}{i}\r\n\
Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=f{i}\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: c{i}@x\r\n\
CSeq: 1 {method}\r\nContact: <sip:alice@127.0.0.1:5061>\r\nEvent: presence\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n"
        );
        b.handle_datagram(now, addr(A), bytes.as_bytes());
        while b.poll_transmit(&mut buf).unwrap().is_some() {}
        let mut tx = None;
        while let Some(e) = b.poll_event() {
            if let Event::IncomingRequest { tx: t, .. } = e {
                tx = Some(t);
            }
        }
        tx.expect("an incoming request")
    };
    for i in 0..MAX_NOTIFIERS {
        let tx = incoming(&mut b, "SUBSCRIBE", i);
        b.accept_subscription(now, tx, &Accept::new(600)).unwrap();
    }
    assert_eq!(b.notifier_count(), MAX_NOTIFIERS);
    let tx = incoming(&mut b, "SUBSCRIBE", 99);
    assert_eq!(
        b.accept_subscription(now, tx, &Accept::new(600)),
        Err(SendError::Capacity(Capacity::Notifiers))
    );
    // The host can still answer it.
    b.respond(now, tx, StatusCode::SERVICE_UNAVAILABLE, None)
        .unwrap();
    // Answered already, or not a SUBSCRIBE: refused, nothing made.
    assert_eq!(
        b.accept_subscription(now, tx, &Accept::new(600)),
        Err(SendError::InvalidState)
    );
    let options = incoming(&mut b, "OPTIONS", 100);
    assert_eq!(
        b.accept_subscription(now, options, &Accept::new(600)),
        Err(SendError::InvalidState)
    );
    assert_eq!(b.notifier_count(), MAX_NOTIFIERS);
}
