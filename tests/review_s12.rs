//! Review 12: stream transports, through the public API.
//!
//! Reviewed: [`Message::parse_stream`] framing (RFC 3261 §18.3, §7.5, §20.14; RFC 5626
//! §3.5.1 keep-alives: pipelined messages, a message split across reads, leading CRLFs,
//! huge or malformed Content-Length, an oversized header section) and the endpoint run
//! with `Transport::Tcp`, `Tls`, `Ws` and `Wss`: the Via transport token and the Contact
//! `transport` parameter it writes (RFC 3261 §18.2.1, §20.42, RFC 7118 §5, RFC 5630),
//! Content-Length on everything it writes (§20.14), no retransmission by Timers A, E, G
//! on a reliable transport and Timers D, I, J, K at zero (§17), responses sent back where
//! the request came from (§18.2.2), the TU's 2xx retransmission (§13.3.1.4), and a
//! request whose Via says UDP although it came over a stream.

mod scripted_support;

use sansip::endpoint::{Event, Request, Transport};
use sansip::message::{ContactValue, Framed, HeaderKind, Limits, Message, Method, StatusCode, Uri};
use sansip::{Capacity, Instant, ParseErrorKind};
use scripted_support::*;

// ----- framing ----------------------------------------------------------------------

const OPTIONS: &[u8] = b"OPTIONS sip:bob@127.0.0.1:5062 SIP/2.0\r\n\
Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK-s12-1\r\n\
Max-Forwards: 70\r\n\
From: <sip:alice@127.0.0.1>;tag=a\r\n\
To: <sip:bob@127.0.0.1>\r\n\
Call-ID: s12-1\r\n\
CSeq: 1 OPTIONS\r\n\
Content-Type: text/plain\r\n\
Content-Length: 5\r\n\r\nhello";

const OK: &[u8] = b"SIP/2.0 200 OK\r\nl: 0\r\n\r\n";

/// Frame everything in `bytes`: what each frame was and the bytes it used; stops at
/// `Incomplete` (returned as `None` last) or at an error.
fn frames(bytes: &[u8], limits: &Limits) -> Vec<Option<(String, usize)>> {
    let mut out = Vec::new();
    let mut at = 0;
    loop {
        match Message::parse_stream(&bytes[at..], limits) {
            Ok(Framed::Message(m, used)) => {
                let what = match m.method() {
                    Some(method) => method.to_string(),
                    None => m.status().unwrap().as_u16().to_string(),
                };
                out.push(Some((what, used)));
                at += used;
            }
            Ok(Framed::KeepAlive(k, used)) => {
                out.push(Some((format!("{k:?}"), used)));
                at += used;
            }
            Ok(Framed::Incomplete { .. }) => {
                out.push(None);
                return out;
            }
            Err(e) => panic!("at {at}: {e:?}"),
        }
    }
}

/// RFC 3261 §18.3: on a stream, Content-Length says where each message ends, so
/// messages sent back to back frame one after the other, each reporting exactly the
/// bytes it used; RFC 5626 §3.5.1 keep-alives between them frame as such.
#[test]
fn pipelined_messages_and_keep_alives_frame_back_to_back() {
    let l = Limits::default();
    let stream = [b"\r\n\r\n", OPTIONS, b"\r\n", OK, OPTIONS, b"\r\n\r\n"].concat();
    let got = frames(&stream, &l);
    let want = [
        Some(("Ping".to_string(), 4)),
        Some(("OPTIONS".to_string(), OPTIONS.len())),
        Some(("Pong".to_string(), 2)),
        Some(("200".to_string(), OK.len())),
        Some(("OPTIONS".to_string(), OPTIONS.len())),
        Some(("Ping".to_string(), 4)),
        None,
    ];
    assert_eq!(got, want);
    // The body is the declared five bytes, not the rest of the stream.
    let Ok(Framed::Message(m, _)) = Message::parse_stream(&stream[4..], &l) else {
        panic!()
    };
    assert_eq!(m.body(), b"hello");
    assert_eq!(m.as_bytes(), OPTIONS);
}

/// RFC 3261 §18.3: a message split across reads is not a message until all of it, body
/// included, is in: every cut gives `Incomplete`, never an error and never a message
/// with a short body; the whole gives the message.
#[test]
fn a_message_cut_anywhere_waits_for_the_rest() {
    let l = Limits::default();
    // Once the header section is in, `Incomplete` says how long the whole message is.
    let head_len = OPTIONS.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    for cut in 0..OPTIONS.len() {
        let want = (cut >= head_len).then_some(OPTIONS.len());
        match Message::parse_stream(&OPTIONS[..cut], &l) {
            Ok(Framed::Incomplete { total }) if total == want => {}
            other => panic!("cut {cut}: {other:?}"),
        }
        // The rest arriving completes it, whatever follows.
        let whole = [OPTIONS, OK].concat();
        let Ok(Framed::Message(m, used)) = Message::parse_stream(&whole, &l) else {
            panic!("cut {cut}")
        };
        assert_eq!((used, m.body()), (OPTIONS.len(), &b"hello"[..]));
    }
}

/// RFC 3261 §7.5: CRLFs before the start line are ignored on a stream. Under RFC 5626
/// §3.5.1 a double CRLF is a ping and a single one a pong; either way the message that
/// follows frames intact.
#[test]
fn leading_crlfs_before_a_message_are_consumed() {
    let l = Limits::default();
    let stream = [b"\r\n\r\n\r\n", OK].concat();
    assert_eq!(
        frames(&stream, &l),
        [
            Some(("Ping".to_string(), 4)),
            Some(("Pong".to_string(), 2)),
            Some(("200".to_string(), OK.len())),
            None
        ]
    );
    // A lone CRLF right before a message: a pong, then the message.
    let stream = [b"\r\n", OK].concat();
    assert_eq!(
        frames(&stream, &l),
        [
            Some(("Pong".to_string(), 2)),
            Some(("200".to_string(), OK.len())),
            None
        ]
    );
}

/// RFC 3261 §20.14, §18.3: a Content-Length that is not a number, is negative, does not
/// fit, or disagrees with another Content-Length cannot frame the stream: a typed
/// `ContentLength` error at once, never `Incomplete` (which would wait forever) and
/// never a panic.
#[test]
fn a_malformed_content_length_is_a_typed_error() {
    let l = Limits::default();
    for value in [
        "-1",
        "abc",
        "",
        "1 2",
        "0x10",
        "99999999999999999999",
        "4294967296",
        "5, 5",
        "+5",
    ] {
        let msg = format!("SIP/2.0 200 OK\r\nContent-Length: {value}\r\n\r\n");
        let e = Message::parse_stream(msg.as_bytes(), &l).unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::ContentLength, "{value:?}");
    }
    // `1*DIGIT` (§20.14): leading zeros are digits.
    let zeros = b"SIP/2.0 200 OK\r\nContent-Length: 002\r\n\r\nabNEXT";
    assert!(matches!(
        Message::parse_stream(zeros, &l),
        Ok(Framed::Message(m, n)) if n == zeros.len() - 4 && m.body() == b"ab"
    ));
    let two = b"SIP/2.0 200 OK\r\nContent-Length: 1\r\nl: 2\r\n\r\nab";
    assert_eq!(
        Message::parse_stream(two, &l).unwrap_err().kind,
        ParseErrorKind::ContentLength
    );
    // Two that agree are one length.
    let same = b"SIP/2.0 200 OK\r\nContent-Length: 2\r\nl: 2\r\n\r\nab";
    assert!(matches!(
        Message::parse_stream(same, &l),
        Ok(Framed::Message(m, n)) if n == same.len() && m.body() == b"ab"
    ));
}

/// RFC 3261 §18.3 with the configured bound: a Content-Length that takes the message past
/// `max_message` is refused as soon as the header section is in (a `MessageSize`
/// capacity error), so a peer cannot make the host buffer up to 4 GiB waiting for it.
#[test]
fn a_huge_content_length_is_refused_without_waiting_for_the_body() {
    let l = Limits::default();
    for value in ["4294967295", "65536", "70000"] {
        let msg = format!("SIP/2.0 200 OK\r\nContent-Length: {value}\r\n\r\n");
        let e = Message::parse_stream(msg.as_bytes(), &l).unwrap_err();
        assert_eq!(
            e.kind,
            ParseErrorKind::Capacity(Capacity::MessageSize),
            "{value}"
        );
    }
    // Exactly at the bound: waited for, then framed.
    let head = "SIP/2.0 200 OK\r\nContent-Length: 1000\r\n\r\n";
    let small = Limits {
        max_message: head.len() + 1000,
        ..l
    };
    let mut msg = head.as_bytes().to_vec();
    assert!(matches!(
        Message::parse_stream(&msg, &small),
        Ok(Framed::Incomplete { .. })
    ));
    msg.resize(head.len() + 1000, b'x');
    assert!(matches!(
        Message::parse_stream(&msg, &small),
        Ok(Framed::Message(_, n)) if n == msg.len()
    ));
    let tight = Limits {
        max_message: head.len() + 999,
        ..l
    };
    assert_eq!(
        Message::parse_stream(head.as_bytes(), &tight)
            .unwrap_err()
            .kind,
        ParseErrorKind::Capacity(Capacity::MessageSize)
    );
}

/// RFC 3261 §18.3: Content-Length is mandatory on a stream; a message without it is a
/// `ContentLengthRequired` error as soon as its header section is in, request or
/// response.
#[test]
fn content_length_is_required_on_streams() {
    let l = Limits::default();
    let no_length = b"OPTIONS sip:b@h SIP/2.0\r\nCall-ID: x\r\n\r\nbody";
    assert_eq!(
        Message::parse_stream(no_length, &l).unwrap_err().kind,
        ParseErrorKind::ContentLengthRequired
    );
}

/// `Limits::max_message` documents that the header section must end within the first
/// 65,535 bytes whatever the limit: on a stream, a header section that has not ended by
/// then is refused at once (a `MessageSize` capacity error) rather than buffered up to a
/// larger `max_message` first.
#[test]
fn an_endless_header_section_is_refused_at_64_kib_whatever_the_limit() {
    let big = Limits {
        max_message: 1 << 20,
        ..Limits::default()
    };
    let mut head = b"SIP/2.0 200 OK\r\nX: ".to_vec();
    head.resize(70_000, b'a');
    assert_eq!(
        Message::parse_stream(&head, &big).unwrap_err().kind,
        ParseErrorKind::Capacity(Capacity::MessageSize)
    );
    // Ended beyond the 64 KiB: refused too, with the same error.
    head.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(
        Message::parse_stream(&head, &big).unwrap_err().kind,
        ParseErrorKind::Capacity(Capacity::MessageSize)
    );
    // The longest header section the index holds (its last value ending at byte
    // 65,535) is waited for to its last byte, then framed.
    let mut head = b"SIP/2.0 200 OK\r\nContent-Length: 0\r\nX: ".to_vec();
    head.resize(65_535, b'a');
    head.extend_from_slice(b"\r\n\r\n");
    for cut in [65_535, head.len() - 1] {
        assert!(
            matches!(
                Message::parse_stream(&head[..cut], &big),
                Ok(Framed::Incomplete { .. })
            ),
            "{cut}"
        );
    }
    assert!(matches!(
        Message::parse_stream(&head, &big),
        Ok(Framed::Message(_, n)) if n == head.len()
    ));
    // A body beyond 64 KiB is fine under a larger limit.
    let mut msg = b"SIP/2.0 200 OK\r\nContent-Length: 100000\r\n\r\n".to_vec();
    let head_len = msg.len();
    msg.resize(head_len + 100_000, b'b');
    assert!(matches!(
        Message::parse_stream(&msg, &big),
        Ok(Framed::Message(m, n)) if n == msg.len() && m.body().len() == 100_000
    ));
}

/// More header lines than `Limits::max_headers`: a `Headers` capacity error on a stream
/// as in a datagram.
#[test]
fn too_many_headers_on_a_stream_is_a_capacity_error() {
    let few = Limits {
        max_headers: 4,
        ..Limits::default()
    };
    assert_eq!(
        Message::parse_stream(OPTIONS, &few).unwrap_err().kind,
        ParseErrorKind::Capacity(Capacity::Headers)
    );
}

/// What a stream carries, one item at a time, for the property below.
#[derive(Clone, Copy, Debug)]
enum Item {
    Options,
    Ok,
    Ping,
    /// A pong, then a message: not cut inside the CRLF pair's neighbour.
    PongThenOk,
    /// Bare-LF line ends, then a message (§7.5).
    LeadThenOk,
}

impl Item {
    fn bytes(self) -> Vec<u8> {
        match self {
            Item::Options => OPTIONS.to_vec(),
            Item::Ok => OK.to_vec(),
            Item::Ping => b"\r\n\r\n".to_vec(),
            Item::PongThenOk => [b"\r\n", OK].concat(),
            Item::LeadThenOk => [b"\n\n", OK].concat(),
        }
    }

    fn frames(self) -> Vec<(String, usize)> {
        let ok = ("200".to_string(), OK.len());
        match self {
            Item::Options => vec![("OPTIONS".to_string(), OPTIONS.len())],
            Item::Ok => vec![ok],
            Item::Ping => vec![("Ping".to_string(), 4)],
            Item::PongThenOk => vec![("Pong".to_string(), 2), ok],
            Item::LeadThenOk => vec![("200".to_string(), OK.len() + 2)],
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]

    /// RFC 3261 §18.3, RFC 5626 §3.5.1: a host that appends each read to a buffer and
    /// frames while it can, consuming the bytes each frame used, gets the same frames
    /// however the stream was cut into reads (a ping is not cut: CRLF then CRLF in two
    /// reads is two pongs, which is what a receiver can know then).
    #[test]
    fn framing_does_not_depend_on_how_the_stream_was_read(
        items in proptest::collection::vec(
            proptest::prop_oneof![
                proptest::strategy::Just(Item::Options),
                proptest::strategy::Just(Item::Ok),
                proptest::strategy::Just(Item::Ping),
                proptest::strategy::Just(Item::PongThenOk),
                proptest::strategy::Just(Item::LeadThenOk),
            ],
            1..8,
        ),
        cuts in proptest::collection::vec(0usize..2000, 0..12),
    ) {
        let l = Limits::default();
        let mut stream = Vec::new();
        let mut want = Vec::new();
        // Where a cut may fall: not inside a ping, nor between a pong and what follows
        // its CRLF when that could complete a ping.
        let mut forbidden = Vec::new();
        for item in &items {
            let at = stream.len();
            match item {
                Item::Ping => forbidden.extend(at + 1..at + 4),
                Item::PongThenOk => forbidden.extend(at + 1..at + 4),
                _ => {}
            }
            stream.extend(item.bytes());
            want.extend(item.frames());
        }
        let mut cuts: Vec<usize> = cuts
            .into_iter()
            .map(|c| c % (stream.len() + 1))
            .filter(|c| !forbidden.contains(c))
            .collect();
        cuts.sort_unstable();
        cuts.push(stream.len());
        let mut got = Vec::new();
        let mut buf: Vec<u8> = Vec::new();
        let mut read = 0;
        for cut in cuts {
            buf.extend_from_slice(&stream[read..cut]);
            read = cut;
            loop {
                match Message::parse_stream(&buf, &l) {
                    Ok(Framed::Message(m, used)) => {
                        let what = match m.method() {
                            Some(method) => method.to_string(),
                            None => m.status().unwrap().as_u16().to_string(),
                        };
                        got.push((what, used));
                        buf.drain(..used);
                    }
                    Ok(Framed::KeepAlive(k, used)) => {
                        got.push((format!("{k:?}"), used));
                        buf.drain(..used);
                    }
                    Ok(Framed::Incomplete { .. }) => break,
                    Err(e) => proptest::prop_assert!(false, "{e:?} at {read}"),
                }
            }
        }
        proptest::prop_assert!(buf.is_empty(), "left over: {buf:?}");
        proptest::prop_assert_eq!(got, want);
    }
}

// ----- the endpoint over streams -----------------------------------------------------

const STREAMS: [Transport; 4] = [
    Transport::Tcp,
    Transport::Tls,
    Transport::Ws,
    Transport::Wss,
];

fn options() -> Request<'static> {
    Request::new(
        Method::Options,
        "sip:bob@127.0.0.1:5070",
        "<sip:alice@127.0.0.1>",
        "<sip:bob@127.0.0.1>",
    )
}

/// Every message written carries Content-Length (RFC 3261 §20.14: MUST on a stream),
/// which frames it: `parse_stream` takes it whole.
fn assert_framed(bytes: &[u8]) {
    let m = parse(bytes);
    assert!(
        m.header(HeaderKind::ContentLength).is_some(),
        "no Content-Length:\n{}",
        String::from_utf8_lossy(bytes)
    );
    match Message::parse_stream(bytes, &Limits::default()) {
        Ok(Framed::Message(_, n)) => assert_eq!(n, bytes.len()),
        other => panic!("{other:?}"),
    }
}

/// The `transport` parameter of the first Contact's URI.
fn contact_transport<'a>(m: &Message<'a>) -> Option<&'a str> {
    match m.contacts().next()?.ok()? {
        ContactValue::Addr(a) => match a.uri() {
            Uri::Sip(u) => u.transport(),
            _ => None,
        },
        ContactValue::Star => None,
    }
}

/// RFC 3261 §18.2.1, §20.42, RFC 7118 §5: the top Via of each request names the
/// transport it goes over — `TCP`, `TLS`, `WS`, `WSS` — and the Contact's `transport`
/// parameter says how to reach this UA again: `tcp`, `tls`, and `ws` for both WebSocket
/// flavours (RFC 7118 §5.2). Every message carries Content-Length (§20.14).
#[test]
fn requests_name_their_stream_transport_in_via_and_contact() {
    let now = Instant::ZERO;
    for (transport, token, param) in [
        (Transport::Tcp, "TCP", Some("tcp")),
        (Transport::Tls, "TLS", Some("tls")),
        (Transport::Ws, "WS", Some("ws")),
        (Transport::Wss, "WSS", Some("ws")),
    ] {
        let mut ep = endpoint(transport);
        let (_, invite) = place_call(&mut ep, now, true);
        assert_framed(&invite);
        let m = parse(&invite);
        let via = m.top_via().unwrap();
        assert_eq!(via.transport().as_str(), token, "{transport:?}");
        assert_eq!(
            contact_transport(&m),
            param,
            "{transport:?}: {}",
            value(&m, HeaderKind::Contact).unwrap()
        );
        // The ACK and the BYE of the same call, the same way.
        let ok = routed_ok(&invite, "b1", 0);
        feed(&mut ep, now, &ok);
        let out = sent(&mut ep);
        assert_eq!(methods(&out), ["ACK"]);
        assert_framed(&out[0].1);
        assert_eq!(
            parse(&out[0].1).top_via().unwrap().transport().as_str(),
            token
        );
        let call = events(&mut ep)
            .iter()
            .find_map(|e| match e {
                Event::CallEstablished { call } => Some(*call),
                _ => None,
            })
            .unwrap();
        ep.hangup(now, call).unwrap();
        let out = sent(&mut ep);
        assert_eq!(methods(&out), ["BYE"]);
        assert_framed(&out[0].1);
        assert_eq!(
            parse(&out[0].1).top_via().unwrap().transport().as_str(),
            token
        );
        // A non-INVITE outside a call.
        ep.send_request(now, addr(PEER), &options()).unwrap();
        let out = sent(&mut ep);
        assert_framed(&out[0].1);
        assert_eq!(
            parse(&out[0].1).top_via().unwrap().transport().as_str(),
            token
        );
    }
}

/// The peer's INVITE over a stream: [`invite_from_peer`] with `via` as its top Via.
fn invite_via(call_id: &str, via: &str) -> Vec<u8> {
    let invite = String::from_utf8(invite_from_peer(call_id)).unwrap();
    let old = format!("SIP/2.0/UDP {PEER};branch=z9hG4bK-{call_id}-inv");
    assert!(invite.contains(&old));
    invite.replace(&old, via).into_bytes()
}

/// Everything `ep` sends up to `until`, each checked to carry Content-Length.
fn run_framed(ep: &mut Ep, until: Instant) -> Vec<(Instant, Vec<u8>)> {
    let out = run(ep, until);
    for (_, bytes) in &out {
        assert_framed(bytes);
    }
    out
}

fn timed_out(evs: &[Event]) -> usize {
    evs.iter()
        .filter(|e| matches!(e, Event::TimedOut { .. }))
        .count()
}

/// RFC 3261 §17.1.1.2 (Timer A) and §17.1.2.2 (Timer E): a client transaction
/// retransmits its request only over an unreliable transport. Over a stream the INVITE
/// and the OPTIONS go out once; Timers B and F still end them after 64*T1.
#[test]
fn requests_are_not_retransmitted_over_streams() {
    for transport in STREAMS {
        let now = Instant::ZERO;
        let mut ep = endpoint(transport);
        let (_, invite) = place_call(&mut ep, now, true);
        assert_framed(&invite);
        ep.send_request(now, addr(PEER), &options()).unwrap();
        assert_eq!(sent(&mut ep).len(), 1);
        events(&mut ep);
        let b = Instant::from_millis(64 * 500);
        let out = run_framed(&mut ep, Instant::from_millis(64 * 500 - 1));
        assert!(out.is_empty(), "{transport:?}: {} sent", out.len());
        assert_eq!(timed_out(&events(&mut ep)), 0);
        let out = run_framed(&mut ep, b);
        assert!(
            methods(
                &out.into_iter()
                    .map(|(_, b)| (addr(PEER), b))
                    .collect::<Vec<_>>()
            )
            .iter()
            .all(|m| m != "INVITE" && m != "OPTIONS")
        );
        assert_eq!(
            timed_out(&events(&mut ep)),
            2,
            "{transport:?}: Timers B and F"
        );
    }
}

/// RFC 3261 §17.2.1: Timer G retransmits a final non-2xx response only over an
/// unreliable transport; Timer H still bounds the wait for the ACK (64*T1), and once the
/// ACK comes Timer I is zero: the transaction ends at once.
#[test]
fn final_responses_are_not_retransmitted_over_streams() {
    for transport in STREAMS {
        let now = Instant::ZERO;
        let token = transport.via_token();
        let via = format!("SIP/2.0/{token} 192.0.2.9:5099;branch=z9hG4bK-s12-g");
        // Refused, ACKed: over at once.
        let mut ep = endpoint(transport);
        let invite = invite_via("s12-g", &via);
        feed(&mut ep, now, &invite);
        let (tx, _) = incoming(&events(&mut ep))[0];
        ep.respond(now, tx, StatusCode::BUSY_HERE, None).unwrap();
        let out = sent(&mut ep);
        assert_eq!(statuses(&out).last(), Some(&(486, "INVITE".to_string())));
        for (to, bytes) in &out {
            // §18.2.2: back where the request came from.
            assert_eq!(*to, addr(PEER), "{transport:?}");
            assert_framed(bytes);
        }
        let busy = out.last().unwrap().1.clone();
        let tag = parse(&busy).to().unwrap().tag().unwrap().to_owned();
        let ack = String::from_utf8(invite.clone())
            .unwrap()
            .replace("INVITE sip:", "ACK sip:")
            .replace("CSeq: 1 INVITE", "CSeq: 1 ACK")
            .replace(
                "To: <sip:bob@127.0.0.1>",
                &format!("To: <sip:bob@127.0.0.1>;tag={tag}"),
            );
        let out = run_framed(&mut ep, Instant::from_millis(2000));
        assert!(out.is_empty(), "{transport:?}: Timer G fired");
        feed(&mut ep, Instant::from_millis(2000), ack.as_bytes());
        events(&mut ep);
        assert!(sent(&mut ep).is_empty());
        assert_eq!(ep.transaction_count(), 0, "{transport:?}: Timer I is zero");

        // Refused, never ACKed: nothing more is sent, and Timer H ends it at 64*T1.
        let mut ep = endpoint(transport);
        feed(&mut ep, now, &invite);
        let (tx, _) = incoming(&events(&mut ep))[0];
        ep.respond(now, tx, StatusCode::BUSY_HERE, None).unwrap();
        sent(&mut ep);
        let out = run_framed(&mut ep, Instant::from_millis(64 * 500 - 1));
        assert!(out.is_empty(), "{transport:?}: Timer G fired");
        assert_eq!(ep.transaction_count(), 1);
        run_framed(&mut ep, Instant::from_millis(64 * 500));
        events(&mut ep);
        assert_eq!(ep.transaction_count(), 0, "{transport:?}: Timer H");
    }
}

/// RFC 3261 §17.2.2 (Timer J) and §17.1.2.2 (Timer K): over a reliable transport both
/// are zero: a non-INVITE transaction ends with its final response, on both sides.
#[test]
fn non_invite_transactions_end_with_their_final_response_over_streams() {
    for transport in STREAMS {
        let now = Instant::ZERO;
        let token = transport.via_token();
        let mut ep = endpoint(transport);
        let request = format!(
            "OPTIONS sip:bob@{LOCAL} SIP/2.0\r\n\
             Via: SIP/2.0/{token} {PEER};branch=z9hG4bK-s12-j\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:alice@127.0.0.1>;tag=a\r\n\
             To: <sip:bob@127.0.0.1>\r\n\
             Call-ID: s12-j\r\n\
             CSeq: 1 OPTIONS\r\n\
             Content-Length: 0\r\n\r\n"
        );
        feed(&mut ep, now, request.as_bytes());
        let (tx, _) = incoming(&events(&mut ep))[0];
        ep.respond(now, tx, StatusCode::OK, None).unwrap();
        let out = sent(&mut ep);
        assert_eq!(statuses(&out), [(200, "OPTIONS".to_string())]);
        assert_framed(&out[0].1);
        events(&mut ep);
        assert_eq!(ep.transaction_count(), 0, "{transport:?}: Timer J is zero");
        assert_eq!(ep.poll_timeout(), None, "{transport:?}");

        let client = ep.send_request(now, addr(PEER), &options()).unwrap();
        let sent_options = sent(&mut ep).pop().unwrap().1;
        feed(
            &mut ep,
            now,
            &response_to(&sent_options, 200, "p", &[], None),
        );
        assert!(events(&mut ep).contains(&Event::Response {
            tx: client,
            call: None,
            status: StatusCode::OK
        }));
        assert_eq!(ep.transaction_count(), 0, "{transport:?}: Timer K is zero");
        assert_eq!(ep.poll_timeout(), None, "{transport:?}");
    }
}

/// RFC 3261 §13.3.1.4: the UAS core passes its 2xx to the transport again at T1, 2*T1,
/// ... capped at T2 until the ACK comes, "independent of whatever transport protocols
/// are used to send the response" (a proxy further on may forward it over UDP); with no
/// ACK after 64*T1 it ends the session with a BYE. Over a stream too.
#[test]
fn the_tu_retransmits_its_2xx_until_the_ack_over_streams() {
    for transport in STREAMS {
        let now = Instant::ZERO;
        let token = transport.via_token();
        let via = format!("SIP/2.0/{token} {PEER};branch=z9hG4bK-s12-2xx");
        let mut ep = endpoint(transport);
        feed(&mut ep, now, &invite_via("s12-2xx", &via));
        let (tx, _) = incoming(&events(&mut ep))[0];
        ep.respond(now, tx, StatusCode::OK, Some(("application/sdp", SDP)))
            .unwrap();
        let out = sent(&mut ep);
        let ok = out.last().unwrap().1.clone();
        assert_eq!(parse(&ok).status(), Some(StatusCode::OK));
        assert_framed(&ok);
        // The 2xx's Contact says how to reach this UA over the same transport.
        let param = contact_transport(&parse(&ok)).map(str::to_owned);
        let want = match transport {
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
            _ => "ws",
        };
        assert_eq!(param.as_deref(), Some(want), "{transport:?}");
        let out = run_framed(&mut ep, Instant::from_millis(64 * 500));
        let resent: Vec<u64> = out
            .iter()
            .filter(|(_, b)| *b == ok)
            .map(|(t, _)| t.as_millis())
            .collect();
        assert_eq!(
            resent,
            [
                500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500
            ],
            "{transport:?}"
        );
        let byes: Vec<_> = out
            .iter()
            .filter(|(_, b)| parse(b).method() == Some(Method::Bye))
            .collect();
        assert_eq!(
            byes.len(),
            1,
            "{transport:?}: no ACK in 64*T1 ends the call"
        );
    }
}

/// RFC 3261 §18.2.2: over a reliable transport the response goes back on the connection
/// the request came over — to the address it came from — whatever the Via's sent-by
/// says (here another host and port, without `rport`), and §18.2.1 adds `received`.
/// Stateless rejections go the same way. The Via's transport matching the stream (RFC
/// 7118 §5.4's WS example has an unresolvable `.invalid` sent-by) or not (a broken peer
/// that writes UDP over TCP) changes nothing: the endpoint answers on the stream it
/// runs, and without retransmitting.
#[test]
fn responses_go_back_where_the_request_came_from_over_streams() {
    for transport in STREAMS {
        for sent_by in ["192.0.2.9:5099", "df7jal23ls0d.invalid"] {
            for token in [transport.via_token(), "UDP"] {
                let now = Instant::ZERO;
                let mut ep = endpoint(transport);
                let via = format!("SIP/2.0/{token} {sent_by};branch=z9hG4bK-s12-r");
                feed(&mut ep, now, &invite_via("s12-r", &via));
                let (tx, _) = incoming(&events(&mut ep))[0];
                ep.respond(now, tx, StatusCode::RINGING, None).unwrap();
                ep.respond(now, tx, StatusCode::DECLINE, None).unwrap();
                let out = sent(&mut ep);
                assert_eq!(
                    statuses(&out).last(),
                    Some(&(603, "INVITE".to_string())),
                    "{transport:?} {via}"
                );
                for (to, bytes) in &out {
                    assert_eq!(*to, addr(PEER), "{transport:?} {via}");
                    assert_framed(bytes);
                    let m = parse(bytes);
                    let top = m.top_via().unwrap();
                    assert_eq!(top.transport().as_str(), token);
                    assert_eq!(
                        top.received().map(|h| h.to_string()).as_deref(),
                        Some("127.0.0.1"),
                        "{transport:?} {via}"
                    );
                }
                assert!(run(&mut ep, Instant::from_millis(10_000)).is_empty());

                // A stateless rejection: a BYE for no dialog gets 481, sent back the same way.
                let bye = format!(
                    "BYE sip:bob@{LOCAL} SIP/2.0\r\n\
                     Via: {via}-bye\r\n\
                     Max-Forwards: 70\r\n\
                     From: <sip:alice@127.0.0.1>;tag=a\r\n\
                     To: <sip:bob@127.0.0.1>;tag=nope\r\n\
                     Call-ID: s12-none\r\n\
                     CSeq: 2 BYE\r\n\
                     Content-Length: 0\r\n\r\n"
                );
                feed(&mut ep, now, bye.as_bytes());
                let out = sent(&mut ep);
                assert_eq!(statuses(&out), [(481, "BYE".to_string())], "{via}");
                assert_eq!(out[0].0, addr(PEER), "{transport:?} {via}");
                assert_framed(&out[0].1);
            }
        }
    }
}

/// RFC 3261 §10.2.1 with §18.2.1: a REGISTER over a stream binds a Contact that says how
/// to reach this UA (`transport=tcp`, `tls`, `ws`), its Via names the transport, and it
/// is not retransmitted (Timer E, §17.1.2.2).
#[test]
fn a_register_over_a_stream_binds_a_contact_with_its_transport() {
    for (transport, param) in [
        (Transport::Tcp, "tcp"),
        (Transport::Tls, "tls"),
        (Transport::Ws, "ws"),
        (Transport::Wss, "ws"),
    ] {
        let mut ep = endpoint(transport);
        let binding = sansip::endpoint::Binding {
            registrar: "sip:127.0.0.1",
            aor: "<sip:alice@127.0.0.1>",
            expires: 600,
            username: "",
            password: "",
            realm: None,
        };
        ep.register(Instant::ZERO, addr(PEER), &binding).unwrap();
        let out = sent(&mut ep);
        assert_eq!(methods(&out), ["REGISTER"]);
        assert_framed(&out[0].1);
        let m = parse(&out[0].1);
        assert_eq!(contact_transport(&m), Some(param), "{transport:?}");
        assert_eq!(
            m.top_via().unwrap().transport().as_str(),
            transport.via_token()
        );
        let out = run_framed(&mut ep, Instant::from_millis(64 * 500 - 1));
        assert!(out.is_empty(), "{transport:?}: Timer E fired");
    }
}

/// RFC 3261 §13.2.2.4 and RFC 6026 §8.4: the UAC ACKs every 2xx of its INVITE — the
/// UAS's retransmissions (which §13.3.1.4 sends over streams too) and other forks' —
/// while Timer M (64*T1, whatever the transport) runs; another fork's 2xx is BYEd. The
/// transport being reliable shortens none of that.
#[test]
fn a_caller_acks_every_2xx_over_a_stream() {
    for transport in STREAMS {
        let now = Instant::ZERO;
        let mut ep = endpoint(transport);
        let (_, invite) = place_call(&mut ep, now, true);
        let ok = response_to(&invite, 200, "b1", &[("Contact", CONTACT)], Some(SDP));
        feed(&mut ep, now, &ok);
        assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
        events(&mut ep);
        // The callee's TU sends its 2xx again (§13.3.1.4): ACKed again.
        let later = Instant::from_millis(4000);
        feed(&mut ep, later, &ok);
        let out = sent(&mut ep);
        assert_eq!(methods(&out), ["ACK"], "{transport:?}");
        assert_framed(&out[0].1);
        // Another fork answers: ACKed and BYEd.
        let other = response_to(&invite, 200, "b2", &[("Contact", CONTACT)], Some(SDP));
        feed(&mut ep, later, &other);
        let out = sent(&mut ep);
        assert_eq!(methods(&out), ["ACK", "BYE"], "{transport:?}");
        for (_, b) in &out {
            assert_framed(b);
            assert_eq!(parse(b).to().unwrap().tag(), Some("b2"));
        }
    }
}

/// RFC 3261 §7.5: line ends before the start line are ignored on a stream, and this
/// parser takes bare-LF line ends as `Message::parse` does: "\n\n" or "\n\r\n" before a
/// message (not an RFC 5626 keep-alive, which is CRLF) is skipped with it, as in a
/// datagram, rather than read as an empty message — an error that ends the stream.
#[test]
fn bare_lf_line_ends_before_a_message_are_skipped_on_a_stream() {
    let l = Limits::default();
    for lead in [&b"\n\n"[..], b"\n\r\n", b"\n\n\n", b"\n"] {
        let stream = [lead, OK, OK].concat();
        // As a datagram: the line ends are skipped.
        assert_eq!(
            Message::parse(&stream).unwrap().status(),
            Some(StatusCode::OK)
        );
        match Message::parse_stream(&stream, &l) {
            Ok(Framed::Message(m, used)) => {
                assert_eq!(m.status(), Some(StatusCode::OK));
                assert_eq!(used, lead.len() + OK.len(), "{lead:?}");
            }
            other => panic!("{lead:?}: {other:?}"),
        }
        // Line ends alone: wait for what follows.
        assert!(
            matches!(
                Message::parse_stream(lead, &l),
                Ok(Framed::Incomplete { .. })
            ),
            "{lead:?}"
        );
    }
    // Line ends without end are bounded like any header section.
    let small = Limits {
        max_message: 64,
        ..l
    };
    assert_eq!(
        Message::parse_stream(&[b'\n'; 64], &small)
            .unwrap_err()
            .kind,
        ParseErrorKind::Capacity(Capacity::MessageSize)
    );
}

/// RFC 3262 §3: reliable provisional responses are retransmitted by the TU, like the
/// 2xx (§13.3.1.4), end to end and so over a stream too, until the PRACK.
#[test]
fn reliable_provisionals_are_retransmitted_over_streams() {
    let now = Instant::ZERO;
    let mut ep = Box::new(sansip::endpoint::Endpoint::new(
        sansip::endpoint::EndpointConfig {
            transport: Transport::Tcp,
            capabilities: sansip::check::Capabilities {
                extensions: &["100rel"],
                ..sansip::check::Capabilities::DEFAULT
            },
            ..sansip::endpoint::EndpointConfig::new(addr(LOCAL), 7)
        },
    ));
    let invite = String::from_utf8(invite_via(
        "s12-rel",
        &format!("SIP/2.0/TCP {PEER};branch=z9hG4bK-s12-rel"),
    ))
    .unwrap()
    .replace("Content-Length", "Supported: 100rel\r\nContent-Length");
    feed(&mut ep, now, invite.as_bytes());
    let (tx, _) = incoming(&events(&mut ep))[0];
    ep.respond(now, tx, StatusCode::RINGING, None).unwrap();
    let ringing = sent(&mut ep).pop().unwrap().1;
    let m = parse(&ringing);
    assert_eq!(value(&m, HeaderKind::Require), Some("100rel"));
    assert_framed(&ringing);
    let again: Vec<u64> = run_framed(&mut ep, Instant::from_millis(4000))
        .into_iter()
        .filter(|(_, b)| *b == ringing)
        .map(|(t, _)| t.as_millis())
        .collect();
    assert_eq!(again, [500, 1500, 3500]);
}

/// RFC 7118 §5: over WebSocket each SIP message is one WebSocket message, so the host
/// hands it over whole and Content-Length may be absent: the body runs to the end of
/// what was handed over, as in a datagram.
#[test]
fn a_websocket_message_without_content_length_is_taken_whole() {
    for transport in [Transport::Ws, Transport::Wss] {
        let now = Instant::ZERO;
        let mut ep = endpoint(transport);
        let invite = String::from_utf8(invite_via(
            "s12-ws",
            "SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK-s12-ws",
        ))
        .unwrap()
        .replace(
            "Content-Length: 0\r\n\r\n",
            "Content-Type: application/sdp\r\n\r\nv=0\r\n",
        );
        feed(&mut ep, now, invite.as_bytes());
        let (tx, _) = incoming(&events(&mut ep))[0];
        assert_eq!(ep.request(tx).unwrap().body(), b"v=0\r\n");
        ep.respond(now, tx, StatusCode::OK, Some(("application/sdp", SDP)))
            .unwrap();
        let out = sent(&mut ep);
        let ok = &out.last().unwrap().1;
        assert_eq!(parse(ok).status(), Some(StatusCode::OK));
        assert_eq!(out.last().unwrap().0, addr(PEER));
        assert_framed(ok);
    }
}

/// RFC 3261 §17.2.1: the INVITE server transaction sends 100 Trying when the TU has not
/// answered within 200 ms, over any transport; over a stream it is sent once (Timer G
/// and retransmissions are for unreliable transports only).
#[test]
fn an_unanswered_invite_gets_one_100_trying_over_a_stream() {
    for transport in STREAMS {
        let now = Instant::ZERO;
        let token = transport.via_token();
        let via = format!("SIP/2.0/{token} {PEER};branch=z9hG4bK-s12-100");
        let mut ep = endpoint(transport);
        feed(&mut ep, now, &invite_via("s12-100", &via));
        events(&mut ep);
        let out: Vec<_> = run_framed(&mut ep, Instant::from_millis(10_000))
            .into_iter()
            .map(|(_, b)| (addr(PEER), b))
            .collect();
        assert_eq!(
            statuses(&out),
            [(100, "INVITE".to_string())],
            "{transport:?}"
        );
    }
}

/// RFC 3261 §9.1 and §17.1.1.3 over a stream: the CANCEL goes out once (Timer E is for
/// unreliable transports, §17.1.2.2), the 487 is ACKed by the INVITE transaction with an
/// ACK that carries Content-Length (§20.14), and with Timers D and K at zero nothing is
/// left once the host has read the events.
#[test]
fn a_cancelled_call_over_a_stream() {
    for transport in STREAMS {
        let now = Instant::ZERO;
        let mut ep = endpoint(transport);
        let (call, invite) = ringing_call(&mut ep, now);
        events(&mut ep);
        ep.cancel(now, call).unwrap();
        let out = sent(&mut ep);
        assert_eq!(methods(&out), ["CANCEL"]);
        let cancel = out[0].1.clone();
        assert_framed(&cancel);
        assert_eq!(
            parse(&cancel).top_via().unwrap().transport().as_str(),
            transport.via_token()
        );
        assert!(run_framed(&mut ep, Instant::from_millis(2000)).is_empty());
        let t = Instant::from_millis(2000);
        feed(&mut ep, t, &response_to(&cancel, 200, "b1", &[], None));
        feed(&mut ep, t, &response_to(&invite, 487, "b1", &[], None));
        let out = sent(&mut ep);
        assert_eq!(methods(&out), ["ACK"], "{transport:?}");
        assert_framed(&out[0].1);
        assert_eq!(out[0].0, addr(PEER));
        events(&mut ep);
        assert_eq!(ep.transaction_count(), 0, "{transport:?}: Timers D and K");
        assert_eq!(ep.call_count(), 0);
    }
}
