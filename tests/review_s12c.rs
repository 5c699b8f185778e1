//! Review 12c: the parser's and writer's fast paths, through the public API.
//!
//! Reviewed (`git diff 44cb292..` of `src/message` and `src/encode`): the header reader
//! (a line's first byte below 0x0E taken as its end, folded lines taken back and read
//! again, the start-line fast path, the name table keyed on the name and its colon, the
//! `text` cache that ends up to 15 bytes before the body depending on the input's
//! address), the typed fast paths (`lex::trim`, `;tag=` and the tag word tests, the URI
//! user word test), the writer's fast paths (pieces of 17 to 32 bytes, the status line,
//! numbers, a short Content-Length, the word-at-a-time value checks) and
//! `Framed::Incomplete { total }`.
//!
//! The oracles are independent of the fast paths: the RFC 3261 grammar written simply
//! here, or the parser's general path reached through the public API: a datagram longer
//! than 65,535 bytes is read line by line by the general header reader (the fast one
//! needs 16-bit positions), and a start line spelling its version `sip/2.0` is read by
//! the general start-line reader (the fast one wants `SIP/2.0`; RFC 3261 §7.1 makes the
//! version case-insensitive).

use sansip::encode::{MessageBuilder, Value};
use sansip::message::{Framed, Limits, Message, Method, StartLine, StatusCode, Uri, lex};

/// Limits that take a datagram past the fast reader's 16-bit bound.
const BIG: Limits = Limits {
    max_message: 1 << 20,
    max_headers: 64,
};

/// Bytes appended to a message (after its Content-Length body, so ignored) to make the
/// datagram too long for the fast header reader.
const PAD: usize = 70_000;

/// Everything the public accessors say about a message, as text (no addresses).
fn views(m: &Message<'_>) -> String {
    let mut s = format!("{:?}\n", m.start_line());
    for h in m.headers() {
        s += &format!("{:?} {:?} {:?} {}\n", h.kind, h.name, h.value, h.offset);
    }
    s += &format!("uri {:?}\n", m.request_uri());
    s += &format!("from {:?}\nto {:?}\n", m.from(), m.to());
    s += &format!("call-id {:?}\ncseq {:?}\n", m.call_id(), m.cseq());
    s += &format!("top via {:?}\n", m.top_via());
    s += &format!("vias {:?}\n", m.vias().collect::<Vec<_>>());
    s += &format!("contacts {:?}\n", m.contacts().collect::<Vec<_>>());
    s += &format!("routes {:?}\n", m.routes().collect::<Vec<_>>());
    s += &format!("rr {:?}\n", m.record_routes().collect::<Vec<_>>());
    s += &format!("mf {:?} cl {:?}\n", m.max_forwards(), m.content_length());
    s += &format!("ct {:?} exp {:?}\n", m.content_type(), m.expires());
    s += &format!("se {:?} minse {:?}\n", m.session_expires(), m.min_se());
    s += &format!("subject {:?}\n", m.header_named("Subject"));
    s
}

/// The head and views of `parse_with(bytes, BIG)`, or its error.
fn read(bytes: &[u8]) -> String {
    match Message::parse_with(bytes, &BIG) {
        Ok(m) => views(&m),
        Err(e) => format!("error {e:?}"),
    }
}

/// `bytes` (a message with a Content-Length) read by the general header reader: the same
/// message in a datagram too long for the fast one.
fn read_general(bytes: &[u8]) -> String {
    // One long buffer reused (rewriting 70 kB for each of the many cases would be slow):
    // what lies past the message is ignored, past its Content-Length.
    thread_local! {
        static LONG: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    LONG.with(|long| {
        let mut long = long.borrow_mut();
        if long.len() < bytes.len() + PAD {
            long.resize(bytes.len() + PAD, b'x');
        }
        long[..bytes.len()].copy_from_slice(bytes);
        read(&long[..bytes.len() + PAD])
    })
}

/// `bytes` copied at `offset` bytes past a 16-aligned address.
fn at_offset(bytes: &[u8], offset: usize) -> (Vec<u8>, usize) {
    let mut room = vec![0u8; bytes.len() + 32];
    let lead = room.as_ptr().addr().wrapping_neg() & 15;
    let at = lead + offset;
    room[at..at + bytes.len()].copy_from_slice(bytes);
    (room, at)
}

/// Messages whose header sections end in every way the `text` cache's end can cut:
/// non-UTF-8 and multi-byte characters in the last bytes before the body, folds, tabs,
/// compact forms, bare-LF line ends.
fn messages() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    let head = "INVITE sip:bob@example.com SIP/2.0\r\n\
        Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK776asdhds\r\n\
        Max-Forwards: 70\r\n\
        To: Bob <sip:bob@example.com>\r\n\
        From: \"Al\u{e9}\" <sip:alice@example.com>;tag=1928301774\r\n\
        Call-ID: a84b4c76e66710@pc33.example.com\r\n\
        CSeq: 314159 INVITE\r\n\
        Contact: <sip:alice@pc33.example.com>\r\n";
    for tail in [
        &b""[..],
        b"Subject: caf\xc3\xa9\r\n",
        b"Subject: \xff\r\n",
        b"Subject: \xc3\r\n",
        b"Subject: a\xe2\x82\xacb\r\n",
        b"Subject: x\r\n folded \xc3\xa9\r\n",
        b"v: SIP/2.0/TCP b;branch=z9hG4bK2\r\n",
        b"Subject:\ta\tb\t\r\n",
        b"Route: <sip:p1.example.com;lr>,\r\n <sip:p2.example.com;lr>\r\n",
        b"Record-Route: <sip:\xc3\xa9@p1>\r\n",
        b"Expires: 7\r\ni: other-call-id\r\n",
        b"Session-Expires: 90;refresher=uac\r\nMin-SE: 90\r\n",
    ] {
        for pad in 0..16 {
            let mut m = head.as_bytes().to_vec();
            m.extend_from_slice(b"X-Pad: ");
            m.extend(std::iter::repeat_n(b'p', pad + 1));
            m.extend_from_slice(b"\r\n");
            m.extend_from_slice(tail);
            m.extend_from_slice(b"Content-Type: text/plain\r\nContent-Length: 4\r\n\r\nbody");
            out.push(m);
        }
    }
    // Bare-LF line ends and a response.
    out.push(
        b"SIP/2.0 200 OK\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nTo: <sip:a@b>;tag=x\n\
        From: <sip:c@d>;tag=\xc3\xa9\nCall-ID: c\nCSeq: 1 INVITE\nl: 2\n\nhi"
            .to_vec(),
    );
    out.push(b"SIP/2.0 180 Ringing\r\nCall-ID: c\xff\r\nContent-Length: 0\r\n\r\n".to_vec());
    out
}

/// The same message at every offset from a 16-aligned address gives the same views (and
/// errors) through every public accessor, datagram, stream or salvaged request: the
/// `text` cache's end depends on the address, its answers must not (it is a cache).
#[test]
fn every_accessor_is_the_same_at_every_alignment() {
    let mut compared = 0;
    for msg in messages() {
        let want = read(&msg);
        assert!(!want.starts_with("error"), "{want}");
        assert_eq!(
            read_general(&msg),
            want,
            "{:?}",
            String::from_utf8_lossy(&msg)
        );
        for offset in 0..16 {
            let (room, at) = at_offset(&msg, offset);
            let bytes = &room[at..at + msg.len()];
            assert_eq!(read(bytes), want, "offset {offset}");
            // The lenient reader a UAS answers a broken request with (RFC 3261 §8.2).
            let salvaged = |b: &[u8]| Message::salvage_request(b, &BIG).map(|m| views(&m));
            assert_eq!(salvaged(bytes), salvaged(&msg), "salvage, offset {offset}");
            match Message::parse_stream(bytes, &Limits::default()) {
                Ok(Framed::Message(m, used)) => {
                    assert_eq!(used, msg.len());
                    assert_eq!(views(&m), want, "stream, offset {offset}");
                }
                other => panic!("{other:?}"),
            }
            compared += 1;
        }
    }
    assert!(compared > 200, "{compared}");
}

/// A header line with `value` (any bytes) in a message, with `name`.
fn with_header(name: &[u8], value: &[u8]) -> Vec<u8> {
    let mut m = b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
        Call-ID: c\r\nCSeq: 1 OPTIONS\r\n"
        .to_vec();
    m.extend_from_slice(name);
    m.extend_from_slice(b": ");
    m.extend_from_slice(value);
    m.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
    m
}

/// The lengths around the readers' and writers' word boundaries.
const LENGTHS: [usize; 14] = [1, 2, 7, 8, 9, 14, 15, 16, 17, 23, 31, 32, 33, 40];

/// RFC 3261 §7.3.1: a header value runs to the line end (CRLF) and its LWS at both ends
/// is not part of it. Every byte value at every position of values of each length
/// around the word boundaries, under a known name, a compact one and an unknown one: a
/// byte other than CR and LF (tabs, other controls, DEL, bytes from 0x80) is part of the
/// value, as the general reader has it; a CR or LF not part of CRLF is refused. The fast
/// reader agrees with the general one (errors and their offsets too), and with the
/// address of the input.
#[test]
fn every_byte_of_a_header_value_reads_as_the_general_reader_reads_it() {
    let mut compared = 0;
    for name in [&b"Subject"[..], b"i", b"X-Unknown"] {
        for len in LENGTHS {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut value = b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH"[..len].to_vec();
                    value[at] = b;
                    let msg = with_header(name, &value);
                    let got = read(&msg);
                    assert_eq!(got, read_general(&msg), "{name:?} {value:?}");
                    let (room, off) = at_offset(&msg, (at + b as usize) % 16);
                    assert_eq!(read(&room[off..off + msg.len()]), got, "{value:?}");
                    let m = Message::parse(&msg);
                    if b == b'\r' || b == b'\n' {
                        assert!(m.is_err(), "{value:?}");
                    } else {
                        let m = m.unwrap();
                        let h = m
                            .headers()
                            .filter(|h| h.name.as_bytes() == name)
                            .last()
                            .unwrap();
                        let want: &[u8] = {
                            let mut v = &value[..];
                            while let [b' ' | b'\t', rest @ ..] = v {
                                v = rest;
                            }
                            while let [rest @ .., b' ' | b'\t'] = v {
                                v = rest;
                            }
                            v
                        };
                        assert_eq!(h.value, want, "{value:?}");
                    }
                    compared += 1;
                }
            }
        }
    }
    assert!(compared > 100_000, "{compared}");
}

/// RFC 3261 §7.3.1, §25.1: `field-name = token`, then `HCOLON = *( SP / HTAB ) ":" SWS`.
/// Every byte value at every position of known names (short, compact, of 14 to 16 bytes,
/// prefixes of other names) and unknown ones: the fast reader's table agrees with the
/// general reader, a token byte makes a name read as it is spelled (its kind that of
/// the name, case-insensitively), any other byte but SP, HTAB and the colon is refused.
#[test]
fn every_byte_of_a_header_name_reads_as_the_general_reader_reads_it() {
    let names: [&[u8]; 16] = [
        b"Via",
        b"v",
        b"To",
        b"t",
        b"Call-ID",
        b"CSeq",
        b"Content-Length",
        b"Content-Type",
        b"Accept-Language",
        b"Accept-Encoding",
        b"Content-Encoding",
        b"Content-Disposition",
        b"Max-Forwards",
        b"Expires",
        b"Min-SE",
        b"X-Fifteen-Bytes",
    ];
    let mut compared = 0;
    for name in names {
        for at in 0..name.len() {
            for b in 0..=255u8 {
                let mut n = name.to_vec();
                n[at] = b;
                let msg = with_header(&n, b"v");
                let got = read(&msg);
                assert_eq!(got, read_general(&msg), "{n:?}");
                let (room, off) = at_offset(&msg, (at + b as usize) % 16);
                assert_eq!(read(&room[off..off + msg.len()]), got, "{n:?}");
                let kind = sansip::message::HeaderKind::from_name(&n);
                if kind == sansip::message::HeaderKind::ContentLength {
                    // Its value, `v`, is not a number (RFC 3261 §20.14).
                    assert!(got.starts_with("error"), "{n:?}");
                } else if lex::is_token(b) {
                    let m = Message::parse(&msg).unwrap();
                    let text = std::str::from_utf8(&n).unwrap();
                    let h = m.headers().filter(|h| h.name == text).last().unwrap();
                    assert_eq!(h.name, text);
                    assert_eq!(h.value, b"v");
                    assert_eq!(h.kind, kind);
                } else if !matches!(b, b' ' | b'\t' | b':') {
                    assert!(got.starts_with("error"), "{n:?}: {got}");
                }
                compared += 1;
            }
        }
        // White space before the colon (`Via :`), and the name cut or extended.
        for spelled in [
            [name, b" "].concat(),
            [name, b"\t"].concat(),
            [name, b"  "].concat(),
            name[..name.len() - 1].to_vec(),
            [name, b"x"].concat(),
            name.to_ascii_uppercase(),
            name.to_ascii_lowercase(),
        ] {
            if spelled.is_empty() {
                continue;
            }
            let msg = with_header(&spelled, b"v");
            assert_eq!(read(&msg), read_general(&msg), "{spelled:?}");
            compared += 1;
        }
    }
    assert!(compared > 20_000, "{compared}");
}

/// RFC 3261 §7.3.1: a line starting with SP or HTAB continues the header before it.
/// Known and unknown headers folded once or twice, with CRLF and with bare LF, among
/// repeated headers (the index's repeat flags when a line is taken back): as the
/// general reader reads them.
#[test]
fn folded_lines_read_as_the_general_reader_reads_them() {
    let lines: [&[u8]; 8] = [
        b"Via: SIP/2.0/UDP a;branch=z9hG4bK1\r\n",
        b"Via: SIP/2.0/UDP b\r\n ;branch=z9hG4bK2\r\n",
        b"v:\r\n SIP/2.0/UDP c;branch=z9hG4bK3\r\n\t\r\n",
        b"Subject: a\r\n\tb\r\n  c\r\n",
        b"X-A: 1\r\n 2\r\n",
        b"Route: <sip:r1;lr>\r\n",
        b"Route:\r\n <sip:r2;lr>\r\n",
        b"Content-Length: \r\n 0\r\n",
    ];
    let mut compared = 0;
    for mask in 0..(1u32 << 16) {
        // Up to four lines out of the eight (in any order); a sample of the orders.
        if mask.count_ones() > 4 || mask % 3 == 1 {
            continue;
        }
        let mut head = b"BYE sip:a@b SIP/2.0\r\nCall-ID: c\r\n".to_vec();
        let mut k = mask;
        while k != 0 {
            let i = (k.trailing_zeros() % 8) as usize;
            head.extend_from_slice(lines[i]);
            k &= k - 1;
        }
        head.extend_from_slice(b"Content-Length: 0\r\n\r\n");
        for crlf in [true, false] {
            let msg = if crlf {
                head.clone()
            } else {
                String::from_utf8(head.clone())
                    .unwrap()
                    .replace("\r\n", "\n")
                    .into_bytes()
            };
            let got = read(&msg);
            assert_eq!(
                got,
                read_general(&msg),
                "{:?}",
                String::from_utf8_lossy(&msg)
            );
            compared += 1;
        }
    }
    assert!(compared > 3_000, "{compared}");
}

/// The start line's fast path (`SIP/2.0` and a known method) agrees with the general
/// reader (reached with the version spelled `sip/2.0`, RFC 3261 §7.1) on every byte value
/// at every position of Request-URIs of each length around the word boundaries, of
/// status codes and reason phrases, and with what follows the line.
#[test]
fn every_byte_of_a_start_line_reads_as_the_general_reader_reads_it() {
    let rest = "\r\nCall-ID: c\r\nContent-Length: 0\r\n\r\n";
    let start_of = |m: &str| -> String {
        match Message::parse(m.as_bytes()) {
            Ok(m) => match m.start_line() {
                StartLine::Request { method, uri, .. } => format!("{method:?} {uri:?}"),
                StartLine::Response { code, reason, .. } => format!("{code:?} {reason:?}"),
            },
            Err(e) => format!("error {:?}", e.kind),
        }
    };
    let mut compared = 0;
    for method in ["INVITE", "ACK", "OPTIONS", "MESSAGE", "PUBLISH"] {
        for len in LENGTHS {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut uri =
                        b"sip:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH"[..len + 4].to_vec();
                    uri[4 + at] = b;
                    let uri = String::from_utf8_lossy(&uri).into_owned();
                    let fast = start_of(&format!("{method} {uri} SIP/2.0{rest}"));
                    let general = start_of(&format!("{method} {uri} sip/2.0{rest}"));
                    assert_eq!(fast, general, "{method} {uri:?}");
                    compared += 1;
                }
            }
        }
    }
    for code in ["200", "180", "486", "603", "199"] {
        for reason in [
            "OK",
            "Ringing",
            "Busy Here",
            "Decline",
            "",
            "OK ",
            "Ringing\t",
        ] {
            for at in 0..=reason.len() {
                for b in 0..=127u8 {
                    let mut r = reason.as_bytes().to_vec();
                    r.insert(at, b);
                    let r = String::from_utf8(r).unwrap();
                    for after in ["", "\r", "\n"] {
                        let fast = start_of(&format!("SIP/2.0 {code} {r}{after}{rest}"));
                        let general = start_of(&format!("sip/2.0 {code} {r}{after}{rest}"));
                        assert_eq!(fast, general, "{code} {r:?} {after:?}");
                        compared += 1;
                    }
                }
            }
        }
    }
    assert!(compared > 50_000, "{compared}");
}

/// `lex::trim` (public) is RFC 3261 §25.1 LWS stripped from both ends: SP, HTAB, CR and LF
/// (the bytes of a fold). Every byte value at each end and in the middle of strings of
/// each length around the word boundaries, and every string of up to two bytes.
#[test]
fn trim_strips_exactly_lws() {
    let lws = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let want = |s: &[u8]| -> (usize, Vec<u8>) {
        let start = s.iter().position(|&b| !lws(b)).unwrap_or(s.len());
        let end = s.iter().rposition(|&b| !lws(b)).map_or(start, |e| e + 1);
        (start, s[start..end].to_vec())
    };
    let mut compared = 0;
    let mut check = |s: &[u8]| {
        let (off, t) = lex::trim(s);
        assert_eq!((off, t.to_vec()), want(s), "{s:?}");
        compared += 1;
    };
    for a in 0..=255u8 {
        check(&[a]);
        for b in 0..=255u8 {
            check(&[a, b]);
        }
    }
    for len in LENGTHS {
        for at in 0..len {
            for b in 0..=255u8 {
                let mut s = b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH"[..len].to_vec();
                s[at] = b;
                check(&s);
                let mut spaced = s.clone();
                spaced.insert(0, b' ');
                check(&spaced);
            }
        }
    }
    assert!(compared > 70_000, "{compared}");
}

/// A tag as the parser takes it (RFC 3261 §25.1 token, widened as `Value::Tagged` says
/// to what live traffic writes): visible ASCII but `"<>,;=`.
fn tag_byte(b: u8) -> bool {
    (0x21..=0x7e).contains(&b) && !b"\"<>,;=".contains(&b)
}

/// RFC 3261 §19.3: From's `tag` parameter. Tags of every length to 20, every byte value
/// at every position: a tag of tag bytes is the tag; any tag reads as it reads with the
/// parameter's name in upper case (`;TAG=`, RFC 3261 §7.3.1: parameter names are
/// case-insensitive), which the `;tag=` fast path does not take.
#[test]
fn every_byte_of_a_tag_reads_as_the_general_path_reads_it() {
    let mut compared = 0;
    for len in 1..=20 {
        for at in 0..len {
            for b in 0..=255u8 {
                let mut tag = b"0123456789abcdefABCDEF"[..len].to_vec();
                tag[at] = b;
                let from = |param: &[u8]| {
                    let value = [&b"<sip:alice@example.com>;"[..], param, b"=", &tag].concat();
                    let msg = with_header(b"From", &value);
                    Message::parse(&msg).map_err(|e| e.kind).and_then(|m| {
                        m.from()
                            .map(|f| f.tag().map(str::to_owned))
                            .map_err(|e| e.kind)
                    })
                };
                let fast = from(b"tag");
                assert_eq!(fast, from(b"TAG"), "{tag:?}");
                if tag.iter().all(|&c| tag_byte(c)) {
                    assert_eq!(fast, Ok(Some(String::from_utf8(tag.clone()).unwrap())));
                }
                compared += 1;
            }
        }
    }
    assert!(compared > 50_000, "{compared}");
}

/// RFC 3261 §25.1: `user = 1*( unreserved / escaped / user-unreserved )`. Users of every
/// length to 10, every byte value at every position, before `@h`: a user of those bytes
/// is the user (as written) and `h` the host, in the Request-URI and in From; a user
/// with any other byte (but `%`, `@` and `:`) is never read as the user.
#[test]
fn every_byte_of_a_uri_user_reads_by_the_grammar() {
    let user_byte = |b: u8| b.is_ascii_alphanumeric() || b"-_.!~*'()&=+$,;?/".contains(&b);
    let (mut compared, mut rejected) = (0, 0);
    for len in 1..=10 {
        for at in 0..len {
            for b in 0..=255u8 {
                let mut user = b"a1B2c3D4e5f6"[..len].to_vec();
                user[at] = b;
                if !user.iter().all(|&c| user_byte(c)) {
                    // Not a user by the grammar (a `%` that may start an escape, an `@`
                    // or `:` that ends it early aside): never read as the user.
                    if user.iter().any(|&c| matches!(c, b'%' | b'@' | b':')) {
                        continue;
                    }
                    let msg = [
                        &b"OPTIONS sip:"[..],
                        &user,
                        b"@h SIP/2.0\r\nContent-Length: 0\r\n\r\n",
                    ]
                    .concat();
                    if let Ok(m) = Message::parse(&msg)
                        && let Some(Ok(Uri::Sip(uri))) = m.request_uri()
                    {
                        assert_ne!(uri.user().map(str::as_bytes), Some(&user[..]), "{user:?}");
                    }
                    rejected += 1;
                    continue;
                }
                let user = String::from_utf8(user).unwrap();
                let msg = format!(
                    "OPTIONS sip:{user}@h SIP/2.0\r\nFrom: <sip:{user}@h>;tag=1\r\n\
                     Content-Length: 0\r\n\r\n"
                );
                let m = Message::parse(msg.as_bytes()).unwrap();
                let Some(Ok(Uri::Sip(uri))) = m.request_uri() else {
                    panic!("{user:?}");
                };
                assert_eq!((uri.user(), uri.host_str()), (Some(user.as_str()), "h"));
                let from = m.from().unwrap();
                let Uri::Sip(uri) = from.uri() else {
                    panic!("{user:?}");
                };
                assert_eq!((uri.user(), uri.host_str()), (Some(user.as_str()), "h"));
                compared += 1;
            }
        }
    }
    assert!(
        compared > 4_000 && rejected > 9_000,
        "{compared} {rejected}"
    );
}

/// Encode `b` and parse it back.
fn encode(b: &MessageBuilder<'_>) -> Result<Vec<u8>, sansip::encode::EncodeError> {
    let mut buf = vec![0u8; 4096];
    let n = b.encode_into(&mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

/// RFC 3261 §7.1, §25.1: a Request-URI holds no SP or control (and the writer writes
/// visible ASCII only). Every byte value at every position of URIs of each length around
/// the word boundaries: written exactly when every byte is visible ASCII, then read back
/// as written.
#[test]
fn every_byte_of_a_written_request_uri() {
    let mut compared = 0;
    for len in LENGTHS.iter().chain(&[3, 4, 5, 6, 24, 25, 48, 64]) {
        for at in 0..*len {
            for b in 0..=255u8 {
                let mut uri =
                    b"sip:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabc"
                        [..*len]
                        .to_vec();
                uri[at] = b;
                let builder = MessageBuilder::request_raw(Method::Options, &uri);
                let visible = uri.iter().all(|&c| (0x21..=0x7e).contains(&c));
                match encode(&builder) {
                    Ok(bytes) => {
                        assert!(visible, "{uri:?}");
                        let line = [&b"OPTIONS "[..], &uri, b" SIP/2.0\r\n"].concat();
                        assert!(bytes.starts_with(&line), "{uri:?}");
                    }
                    Err(e) => assert!(!visible, "{uri:?} {e:?}"),
                }
                compared += 1;
            }
        }
    }
    assert!(compared > 50_000, "{compared}");
}

/// RFC 3261 §7.3.1: a written value must not break the framing: a CR only as part of a
/// fold (CRLF then SP or HTAB), no bare LF; any other byte is written as it is. Every byte
/// value at every position of Raw and Text values of each length around the word
/// boundaries (the 17-to-32-byte copies, the word checks): refused exactly when it is a
/// CR or LF, else written byte for byte and read back as the value (LWS at its ends
/// trimmed).
#[test]
fn every_byte_of_a_written_header_value() {
    let mut compared = 0;
    for len in LENGTHS.iter().chain(&[3, 4, 5, 6, 24, 25, 48, 64]) {
        for at in 0..*len {
            for b in 0..=255u8 {
                let mut value =
                    b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabc"[..*len]
                        .to_vec();
                value[at] = b;
                let text = String::from_utf8(value.clone()).ok();
                let mut values = vec![Value::Raw(&value)];
                if let Some(t) = &text {
                    values.push(Value::Text(t));
                }
                for v in values {
                    let mut builder = MessageBuilder::request(Method::Options, "sip:a@b");
                    builder.push("X-V", v);
                    builder.push("Call-ID", Value::Text("c"));
                    match encode(&builder) {
                        Ok(bytes) => {
                            assert!(b != b'\r' && b != b'\n', "{value:?}");
                            let line = [&b"\r\nX-V: "[..], &value, b"\r\nCall-ID: c\r\n"].concat();
                            assert!(bytes.windows(line.len()).any(|w| w == line), "{value:?}");
                            let m = Message::parse(&bytes).unwrap();
                            let (_, want) = lex::trim(&value);
                            assert_eq!(m.header_named("X-V").unwrap().value, want, "{value:?}");
                        }
                        Err(e) => assert!(b == b'\r' || b == b'\n', "{value:?} {e:?}"),
                    }
                    compared += 1;
                }
            }
        }
    }
    // Folds at every position: written, and read back with the fold as LWS.
    for len in LENGTHS {
        for at in 1..len {
            let mut value = b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH"[..len].to_vec();
            for (fold, ok) in [
                (&b"\r\n "[..], true),
                (b"\r\n\t", true),
                (b"\r\nx", false),
                (b"\n ", false),
            ] {
                let mut v = value.clone();
                v.splice(at..at, fold.iter().copied());
                let mut builder = MessageBuilder::request(Method::Options, "sip:a@b");
                builder.push("X-V", Value::Raw(&v));
                assert_eq!(encode(&builder).is_ok(), ok, "{v:?}");
                compared += 1;
            }
            value.clear();
        }
    }
    assert!(compared > 100_000, "{compared}");
}

/// RFC 3261 §19.3 tags as written (`Value::Tagged`): every byte value at every position
/// of tags of each length to 20: written exactly when every byte is a tag byte, then read
/// back as the From tag.
#[test]
fn every_byte_of_a_written_tag() {
    let mut compared = 0;
    for len in 1..=20 {
        for at in 0..len {
            for b in 0..=127u8 {
                let mut tag = b"0123456789abcdefABCDEF"[..len].to_vec();
                tag[at] = b;
                let tag = String::from_utf8(tag).unwrap();
                let mut builder = MessageBuilder::request(Method::Options, "sip:a@b");
                builder.push("From", Value::Tagged(b"<sip:a@b>", &tag));
                let ok = tag.bytes().all(tag_byte);
                match encode(&builder) {
                    Ok(bytes) => {
                        assert!(ok, "{tag:?}");
                        let m = Message::parse(&bytes).unwrap();
                        assert_eq!(m.from().unwrap().tag(), Some(tag.as_str()));
                    }
                    Err(e) => assert!(!ok, "{tag:?} {e:?}"),
                }
                compared += 1;
            }
        }
    }
    assert!(compared > 20_000, "{compared}");
}

/// Numbers, CSeq, Session-Expires, the status line of every code and Content-Length of
/// every short body: written in decimal (RFC 3261 §25.1 `1*DIGIT`, §7.2
/// `Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF`, §20.14) and read
/// back.
#[test]
fn numbers_status_lines_and_content_lengths_are_written_in_decimal() {
    let mut ns: Vec<u32> = (0..=1100).collect();
    ns.extend([
        9_999,
        10_000,
        99_999,
        100_000,
        999_999_999,
        1_000_000_000,
        u32::MAX,
    ]);
    for n in ns {
        let mut builder = MessageBuilder::request(Method::Options, "sip:a@b");
        builder.push("Expires", Value::Number(n));
        builder.push("CSeq", Value::CSeq(n, Method::Options));
        builder.push("X-N", Value::Number(n));
        let bytes = encode(&builder).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.contains(&format!(
                "\r\nExpires: {n}\r\nCSeq: {n} OPTIONS\r\nX-N: {n}\r\n"
            )),
            "{text}"
        );
        let m = Message::parse(&bytes).unwrap();
        if n < 1 << 31 {
            assert_eq!(m.cseq().unwrap().seq(), n);
        }
    }
    for code in 100..=699u16 {
        let Some(code) = StatusCode::new(code) else {
            continue;
        };
        for reason in [None, Some(""), Some("Some Reason")] {
            let mut builder = MessageBuilder::response(code);
            if let Some(r) = reason {
                builder = builder.reason(r);
            }
            let bytes = encode(&builder).unwrap();
            let r = reason.unwrap_or(code.reason());
            let line = format!("SIP/2.0 {} {r}\r\n", code.as_u16());
            assert!(bytes.starts_with(line.as_bytes()), "{line}");
            let m = Message::parse(&bytes).unwrap();
            assert_eq!(m.status(), Some(code));
        }
    }
    let body = [b'x'; 130];
    for len in (0..=20).chain([99, 100, 101, 129, 130]) {
        let builder =
            MessageBuilder::request(Method::Message, "sip:a@b").body("text/plain", &body[..len]);
        let bytes = encode(&builder).unwrap();
        let tail = [
            format!("Content-Length: {len}\r\n\r\n").as_bytes(),
            &body[..len],
        ]
        .concat();
        assert!(bytes.ends_with(&tail), "{len}");
        let m = Message::parse(&bytes).unwrap();
        assert_eq!(m.body(), &body[..len]);
    }
}

/// `Framed::Incomplete { total }` (RFC 3261 §18.3: Content-Length frames a message on a
/// stream; §7.5: line ends before the start line are skipped with it): `None` until the
/// header section is in, then exactly the bytes the message will use, line ends before it
/// counted, Content-Length folded or compact; and the message then uses that many.
#[test]
fn incomplete_total_is_exact() {
    let mut compared = 0;
    for lead in ["", "\n", "\n\n", "\r", "\r\r\n", "\n\r\n"] {
        for cl in [
            "Content-Length: 5\r\n",
            "l: 5\r\n",
            "L:5\r\n",
            "Content-Length:\r\n 5\r\n",
            "Content-Length: \r\n\t5 \r\n",
            "content-length  :   5\r\n",
        ] {
            for body in ["hello", "hel\r\n"] {
                let head = format!(
                    "{lead}OPTIONS sip:a@b SIP/2.0\r\nCall-ID: c\r\n{cl}Subject: s\r\n\r\n"
                );
                let msg = format!("{head}{body}NEXT");
                let total = head.len() + body.len();
                for cut in 0..=msg.len() {
                    let got = Message::parse_stream(&msg.as_bytes()[..cut], &Limits::default());
                    match got {
                        Ok(Framed::Incomplete { total: t }) => {
                            assert!(cut < total, "{lead:?} {cl:?} {cut}");
                            if cut >= head.len() {
                                assert_eq!(t, Some(total), "{lead:?} {cl:?} {cut}");
                            } else {
                                assert_eq!(t, None, "{lead:?} {cl:?} {cut}");
                            }
                        }
                        Ok(Framed::Message(m, used)) => {
                            assert!(cut >= total, "{lead:?} {cl:?} {cut}");
                            assert_eq!(used, total);
                            assert_eq!(m.body(), body.as_bytes());
                            assert_eq!(m.as_bytes(), &msg.as_bytes()[..total]);
                        }
                        // "\r\n" at the front is a keep-alive (RFC 5626 §3.5.1), never cut.
                        Ok(Framed::KeepAlive(..)) => assert!(msg.starts_with("\r\n")),
                        Err(e) => panic!("{lead:?} {cl:?} {cut}: {e:?}"),
                    }
                    compared += 1;
                }
            }
        }
    }
    assert!(compared > 5_000, "{compared}");
}

/// RFC 3261 §8.2.6.2: a response copies every Via of the request, in order. Via lines
/// folded (which the fast reader records, takes back and leaves to the general one)
/// before, between and after others, in full and compact form: the index still knows
/// the Via is repeated, and the response holds every value.
#[test]
fn a_response_copies_every_via_of_a_request_with_folded_via_lines() {
    let vias: [&str; 5] = [
        "Via: SIP/2.0/UDP a;branch=z9hG4bK1\r\n",
        "Via: SIP/2.0/UDP b\r\n ;branch=z9hG4bK2\r\n",
        "v: SIP/2.0/UDP c;branch=z9hG4bK3\r\n\t\r\n",
        "Via:\r\n SIP/2.0/UDP d;branch=z9hG4bK4\r\n",
        "Subject: x\r\n y\r\n",
    ];
    let mut compared = 0;
    for mask in 1..(1u32 << 10) {
        // Up to three of the lines, in the order the bits give (repeats allowed).
        let picks: Vec<usize> = (0..3)
            .map(|k| ((mask >> (3 * k)) & 7) as usize)
            .filter(|&i| i < vias.len())
            .collect();
        let lines: String = picks.iter().map(|&i| vias[i]).collect();
        let msg = format!(
            "INVITE sip:a@h SIP/2.0\r\n{lines}From: <sip:b@h>;tag=1\r\nTo: <sip:a@h>\r\n\
             Call-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
        );
        let request = Message::parse(msg.as_bytes()).unwrap();
        let want: Vec<String> = request.vias().map(|v| format!("{v:?}")).collect();
        let general = read_general(msg.as_bytes());
        assert_eq!(read(msg.as_bytes()), general, "{msg}");
        match MessageBuilder::response_to(&request, StatusCode::OK, "t") {
            Ok(builder) => {
                let bytes = encode(&builder).unwrap();
                let response = Message::parse(&bytes).unwrap();
                let got: Vec<String> = response.vias().map(|v| format!("{v:?}")).collect();
                assert_eq!(got.len(), want.len(), "{msg}");
            }
            Err(e) => assert!(want.is_empty(), "{msg}: {e:?}"),
        }
        compared += 1;
    }
    assert!(compared > 500, "{compared}");
}

/// `bytes` under `limits`, by the fast reader and by the general one (the same message
/// padded past 65,535 bytes): the views or errors of each.
fn both_under(bytes: &[u8], max_headers: usize) -> (String, String) {
    let limits = Limits { max_headers, ..BIG };
    let read = |b: &[u8]| match Message::parse_with(b, &limits) {
        Ok(m) => views(&m),
        Err(e) => format!("error {e:?}"),
    };
    let mut long = bytes.to_vec();
    long.resize(bytes.len() + PAD, b'x');
    (read(bytes), read(&long))
}

/// RFC 3261 §7.3.1 with bare-LF line ends (which the parser accepts, as the main stacks
/// do), and under every header limit from 1 to 8 with folded lines at the limit (a line
/// taken back when the index is full): every byte value at every position of values
/// around the word boundaries, as the general reader reads them, errors and their
/// offsets too.
#[test]
fn bare_lf_lines_and_the_header_limit_read_as_the_general_reader_reads_them() {
    let mut compared = 0;
    for len in LENGTHS {
        for at in 0..len {
            for b in 0..=255u8 {
                let mut value = b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH"[..len].to_vec();
                value[at] = b;
                let msg = [
                    &b"MESSAGE sip:a@b SIP/2.0\nCall-ID: c\nSubject: "[..],
                    &value,
                    b"\nv: SIP/2.0/UDP h\nContent-Length: 0\n\n",
                ]
                .concat();
                let (fast, general) = both_under(&msg, 64);
                assert_eq!(fast, general, "{value:?}");
                compared += 1;
            }
        }
    }
    let lines = [
        "Call-ID: c\r\n",
        "Via: SIP/2.0/UDP a\r\n ;branch=z9hG4bK1\r\n",
        "To: <sip:a@b>\r\n",
        "To:\r\n <sip:a@b>\r\n",
        "Subject: s\r\n\tt\r\n",
        "Max-Forwards: 70\r\n",
    ];
    for mask in 0..(1u32 << 12) {
        let mut head = String::from("BYE sip:a@b SIP/2.0\r\n");
        for k in 0..4 {
            let i = ((mask >> (3 * k)) & 7) as usize;
            if i < lines.len() {
                head.push_str(lines[i]);
            }
        }
        head.push_str("CSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n");
        for max in 1..=8 {
            let (fast, general) = both_under(head.as_bytes(), max);
            assert_eq!(fast, general, "{max} {head:?}");
            compared += 1;
        }
    }
    assert!(compared > 20_000, "{compared}");
}

/// Header lines at the edges of the name table's words (RFC 3261 §7.3.1): an empty
/// name, colons in a row, a NUL where the table's zero padding is, white space and a
/// tab between a name and its colon or at its value's ends, a value of white space
/// only, a line end right after the colon, lines that end at each byte of the first 16:
/// as the general reader reads them.
#[test]
fn odd_header_lines_read_as_the_general_reader_reads_them() {
    let lines: &[&[u8]] = &[
        b":",
        b": v",
        b"::",
        b"Via::",
        b"To::x",
        b"\0:",
        b"To\0: x",
        b"T\0: x",
        b"v\0: x",
        b"Via\0\0\0\0\0: x",
        b"Content-Lengt\0: 0",
        b"Accept-Language\0: x",
        b"Via :x",
        b"Via\t: x",
        b"Via: \t x \t",
        b"Via:\t",
        b"Via: ",
        b"Via:",
        b"Accept-Language:",
        b"Accept-Language: ",
        b"Accept-Language:x",
        b"Accept-Languag:x",
        b"Accept-Languages:x",
        b"Subject:\x7f",
        b"Subject: \x0e\x1f",
        b"Subject: \x0d",
        b"Subject: a\x0db",
        b"Subject: \x0b\x0c",
        b"Subject:\xff\xfe",
        b"\xc3\xa9: x",
        b"To \x80: x",
    ];
    let mut compared = 0;
    for line in lines {
        for pad in 0..17 {
            for crlf in [true, false] {
                let end: &[u8] = if crlf { b"\r\n" } else { b"\n" };
                let mut msg = [&b"ACK sip:a@b SIP/2.0"[..], end].concat();
                msg.extend_from_slice(b"X-P: ");
                msg.extend(std::iter::repeat_n(b'p', pad));
                msg.extend_from_slice(end);
                msg.extend_from_slice(line);
                msg.extend_from_slice(end);
                msg.extend_from_slice(b"Content-Length: 0");
                msg.extend_from_slice(end);
                msg.extend_from_slice(end);
                let (fast, general) = both_under(&msg, 64);
                assert_eq!(fast, general, "{:?}", String::from_utf8_lossy(&msg));
                for offset in 0..16 {
                    let (room, at) = at_offset(&msg, offset);
                    assert_eq!(both_under(&room[at..at + msg.len()], 64).0, fast);
                }
                compared += 1;
            }
        }
    }
    assert!(compared > 1_000, "{compared}");
}

/// `encode_into` a buffer of every length short of the message: `BufferTooSmall` with the
/// exact length needed; at that length, the bytes `encode` writes to a `Vec`.
#[test]
fn every_short_buffer_is_refused_with_the_length_needed() {
    let body = [b'b'; 12];
    let mut builder =
        MessageBuilder::request(Method::Invite, "sip:bob@example.com:5060;transport=tcp")
            .body("application/sdp", &body);
    builder.push("Max-Forwards", Value::Number(70));
    builder.push("CSeq", Value::CSeq(4_000_000_000, Method::Invite));
    builder.push(
        "From",
        Value::Tagged(b"<sip:alice@example.com>", "0123456789abcdef0123"),
    );
    builder.push("Call-ID", Value::Text("abcdefghijklmnopqrstuvwxyz012345"));
    let mut whole = Vec::new();
    let needed = builder.encode(&mut whole).unwrap();
    assert_eq!(whole.len(), needed);
    for len in 0..needed {
        let mut buf = vec![0u8; len];
        assert_eq!(
            builder.encode_into(&mut buf),
            Err(sansip::encode::EncodeError::BufferTooSmall { needed }),
            "{len}"
        );
    }
    let mut buf = vec![0u8; needed + 7];
    assert_eq!(builder.encode_into(&mut buf), Ok(needed));
    assert_eq!(&buf[..needed], &whole[..]);
}

/// What a host reading `stream` `step` bytes at a time gets: the first answer that is not
/// `Incomplete`, framed on the bytes read so far.
fn framed_in_steps(stream: &[u8], step: usize, limits: &Limits) -> String {
    let mut have = 0;
    loop {
        have = (have + step).min(stream.len());
        match Message::parse_stream(&stream[..have], limits) {
            Ok(Framed::Incomplete { .. }) if have < stream.len() => {}
            Ok(Framed::Message(m, used)) => return format!("message {used} {:?}", m.body()),
            other => return format!("{other:?}"),
        }
    }
}

/// RFC 3261 §18.3: a stream is framed by its bytes, not by how they arrive: the same
/// bytes read in pieces of any size give the same answer. A header section whose last
/// value ends within the index's bound but which runs on past 64 KiB (white space after
/// the value, which trimming drops) was refused when it arrived in pieces (a prefix of
/// more than 65,539 bytes without its end) but taken when it arrived whole; it is
/// refused either way, as `Limits::max_message` and `parse_stream` say (the header
/// section must end within the first 64 KiB). One that ends exactly at the bound is
/// taken either way.
#[test]
fn a_long_header_section_is_framed_the_same_however_it_arrives() {
    let limits = Limits {
        max_message: 1 << 20,
        max_headers: 64,
    };
    let head = b"OPTIONS sip:a@b SIP/2.0\r\nCall-ID: c\r\nContent-Length: 2";
    for (head_end, taken) in [
        (65_538, true),
        (65_539, true),
        (65_540, false),
        (70_000, false),
    ] {
        let mut stream = head.to_vec();
        stream.resize(head_end - 4, b' ');
        stream.extend_from_slice(b"\r\n\r\nhiNEXT");
        let whole = framed_in_steps(&stream, stream.len(), &limits);
        if taken {
            assert_eq!(whole, format!("message {} [104, 105]", head_end + 2));
        } else {
            assert!(whole.contains("MessageSize"), "{head_end}: {whole}");
        }
        for step in [1_000, 4_096, 65_536, 65_539, 65_540, 65_541] {
            let got = framed_in_steps(&stream, step, &limits);
            assert_eq!(got, whole, "{head_end} by {step}");
        }
    }
}
