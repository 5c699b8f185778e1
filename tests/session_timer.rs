//! Session timers (RFC 4028) through the public API: the Session-Expires and Min-SE
//! views and their writing (§4, §5), the negotiation of interval and refresher (§7, §9)
//! and the pure INVITE session's refresh and expiry (§10).

use std::time::Duration;

use sansip::ParseErrorKind;
use sansip::dialog::{
    Action, Config, EndReason, Event, InviteSession, MIN_SE_FLOOR, Notice, SessionInterval,
    SessionState, SessionTimer, Tag, TimerConfig, TimerRequest, UasTimer,
};
use sansip::encode::{MessageBuilder, Value, ViaValue};
use sansip::message::{HeaderKind, Message, Method, MinSe, Refresher, SessionExpires, StatusCode};

// ---- Message layer: RFC 4028 §4, §5 ----

#[test]
fn session_expires_values() {
    let se = SessionExpires::parse(b"1800").unwrap();
    assert_eq!((se.delta_seconds(), se.refresher()), (1800, None));
    let se = SessionExpires::parse(b" 4000 ; refresher = UAC ;x=\"y\"").unwrap();
    assert_eq!(
        (se.delta_seconds(), se.refresher()),
        (4000, Some(Refresher::Uac))
    );
    assert_eq!(se.param("x").unwrap().value, Some(&b"\"y\""[..]));
    assert_eq!(se.params().count(), 2);
    let se = SessionExpires::parse(b"90;refresher=uas").unwrap();
    assert_eq!(se.refresher(), Some(Refresher::Uas));
    // Below 90 is a value the UAS refuses (§9), not a syntax error.
    assert_eq!(SessionExpires::parse(b"0").unwrap().delta_seconds(), 0);
    // Huge values saturate, as Expires does.
    assert_eq!(
        SessionExpires::parse(b"99999999999999999999")
            .unwrap()
            .delta_seconds(),
        u32::MAX
    );
}

#[test]
fn malformed_session_expires_are_typed_errors_at_their_offset() {
    for (bad, at) in [
        (&b""[..], 0),
        (b"abc", 0),
        (b"-90", 0),
        (b"1800 x", 5),
        (b"1800;refresher=proxy", 5),
        (b"1800;refresher", 5),
        (b"1800;refresher=uac;refresher=uas", 19),
        (b"1800;", 5),
        (b"1800;a=b c", 9),
        (b"1.5", 1),
    ] {
        let e = SessionExpires::parse(bad).unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::Header, "{bad:?}");
        assert_eq!(e.offset, at, "{bad:?}");
    }
}

#[test]
fn min_se_values() {
    assert_eq!(MinSe::parse(b"90").unwrap().delta_seconds(), 90);
    let m = MinSe::parse(b"120 ;lr;x=1").unwrap();
    assert_eq!(m.delta_seconds(), 120);
    assert_eq!(m.params().count(), 2);
    for bad in [&b""[..], b"x", b"-1", b"90 90", b"90;=", b"0x5A"] {
        let e = MinSe::parse(bad).unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::Header, "{bad:?}");
    }
}

/// A request with the given extra headers, written by the builder.
fn request(extra: &[(&str, Value<'_>)]) -> Vec<u8> {
    let mut b = MessageBuilder::request(Method::Invite, "sip:bob@example.com")
        .header(
            "Via",
            Value::Via(ViaValue {
                transport: "UDP",
                sent_by: "192.0.2.1:5060",
                branch: "z9hG4bK1",
                rport: false,
            }),
        )
        .header("Max-Forwards", Value::Number(70))
        .header("From", Value::Tagged(b"<sip:alice@example.com>", "a1"))
        .header("To", Value::Text("<sip:bob@example.com>"))
        .header("Call-ID", Value::Text("c1@192.0.2.1"))
        .header("CSeq", Value::CSeq(1, Method::Invite));
    for (n, v) in extra {
        b.push(n, *v);
    }
    let mut out = Vec::new();
    let n = b.encode(&mut out).unwrap();
    assert_eq!(b.encoded_len().unwrap(), n);
    out
}

#[test]
fn written_with_the_builder_and_read_from_a_message() {
    let bytes = request(&[
        ("Supported", Value::Tokens(&["timer"])),
        (
            "Session-Expires",
            Value::SessionExpires(1800, Some(Refresher::Uas)),
        ),
        ("Min-SE", Value::Number(120)),
    ]);
    let m = Message::parse(&bytes).unwrap();
    assert_eq!(
        m.header(HeaderKind::SessionExpires).unwrap().value,
        b"1800;refresher=uas"
    );
    let se = m.session_expires().unwrap().unwrap();
    assert_eq!(
        (se.delta_seconds(), se.refresher()),
        (1800, Some(Refresher::Uas))
    );
    assert_eq!(m.min_se().unwrap().unwrap().delta_seconds(), 120);
    assert_eq!(m.header(HeaderKind::MinSe).unwrap().name, "Min-SE");
    assert_eq!(HeaderKind::from_name(b"min-se"), HeaderKind::MinSe);

    let bytes = request(&[("Session-Expires", Value::SessionExpires(90, None))]);
    let m = Message::parse(&bytes).unwrap();
    assert_eq!(m.header(HeaderKind::SessionExpires).unwrap().value, b"90");
    assert!(m.min_se().is_none());
}

#[test]
fn compact_form_and_errors_in_a_message() {
    let bytes = request(&[
        ("x", Value::Text("300;refresher=uac")),
        ("min-se", Value::Text("bad")),
    ]);
    let m = Message::parse(&bytes).unwrap();
    let se = m.session_expires().unwrap().unwrap();
    assert_eq!(
        (se.delta_seconds(), se.refresher()),
        (300, Some(Refresher::Uac))
    );
    // The error is at its offset in the message.
    let e = m.min_se().unwrap().unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::Header);
    assert_eq!(&bytes[e.offset..e.offset + 3], b"bad");
    assert!(TimerRequest::from_message(&m).is_err());
}

// ---- Negotiation: RFC 4028 §7, §9 ----

fn req(se: Option<(u32, Option<Refresher>)>, min_se: Option<u32>, supported: bool) -> TimerRequest {
    TimerRequest {
        session_expires: se,
        min_se,
        supported,
    }
}

fn accept(seconds: u32, refresher: Refresher, require: bool) -> UasTimer {
    UasTimer::Accept {
        interval: SessionInterval {
            seconds,
            local_refresh: refresher == Refresher::Uas,
        },
        refresher,
        require,
    }
}

#[test]
fn uas_negotiation_table() {
    let cfg = TimerConfig {
        session_expires: 1800,
        min_se: 120,
    };
    let uac = Some(Refresher::Uac);
    let uas = Some(Refresher::Uas);
    for (request, expected) in [
        // §9: below Min-SE from a UAC that supports timers: 422 with our Min-SE (or the
        // request's, if larger).
        (
            req(Some((100, None)), None, true),
            UasTimer::TooSmall { min_se: 120 },
        ),
        (
            req(Some((100, None)), Some(110), true),
            UasTimer::TooSmall { min_se: 120 },
        ),
        (
            req(Some((100, None)), Some(150), true),
            UasTimer::TooSmall { min_se: 150 },
        ),
        // From one that does not: raised to Min-SE rather than a failed call; the UAS refreshes.
        (
            req(Some((100, None)), None, false),
            accept(120, Refresher::Uas, false),
        ),
        // ... and never below the request's own Min-SE.
        (
            req(Some((100, None)), Some(150), false),
            accept(150, Refresher::Uas, false),
        ),
        // Accepted as asked, the refresher as asked (§9 table 2).
        (
            req(Some((600, uac)), None, true),
            accept(600, Refresher::Uac, true),
        ),
        (
            req(Some((600, uas)), None, true),
            accept(600, Refresher::Uas, true),
        ),
        (
            req(Some((600, None)), None, true),
            accept(600, Refresher::Uac, true),
        ),
        (
            req(Some((600, uac)), None, false),
            accept(600, Refresher::Uas, false),
        ),
        // A larger interval is reduced to ours, never below the request's Min-SE.
        (
            req(Some((7200, None)), None, true),
            accept(1800, Refresher::Uac, true),
        ),
        (
            req(Some((7200, None)), Some(3600), true),
            accept(3600, Refresher::Uac, true),
        ),
        // No Session-Expires: the UAS asks for its own (at least the request's Min-SE).
        (req(None, None, true), accept(1800, Refresher::Uac, true)),
        (
            req(None, Some(2000), true),
            accept(2000, Refresher::Uac, true),
        ),
        (req(None, None, false), accept(1800, Refresher::Uas, false)),
    ] {
        assert_eq!(cfg.uas_answer(request), expected, "{request:?}");
    }
}

#[test]
fn a_min_se_below_90_counts_as_90() {
    let cfg = TimerConfig {
        session_expires: 30,
        min_se: 10,
    };
    assert_eq!(cfg.effective_min_se(), MIN_SE_FLOOR);
    assert_eq!(cfg.request_interval(), 90);
    assert_eq!(
        cfg.uas_answer(req(Some((60, None)), None, true)),
        UasTimer::TooSmall { min_se: 90 }
    );
}

#[test]
fn uac_reads_the_2xx_and_the_422() {
    let cfg = TimerConfig::default();
    assert_eq!(cfg.request_interval(), 1800);
    // §7.2: no Session-Expires, no session expiration.
    assert_eq!(cfg.uac_2xx(None), None);
    let i = cfg.uac_2xx(Some((900, Some(Refresher::Uac)))).unwrap();
    assert_eq!((i.seconds, i.local_refresh), (900, true));
    let i = cfg.uac_2xx(Some((900, Some(Refresher::Uas)))).unwrap();
    assert!(!i.local_refresh);
    // No refresher named: this side keeps the session alive.
    assert!(cfg.uac_2xx(Some((900, None))).unwrap().local_refresh);
    // A peer cannot make this side refresh faster than its Min-SE.
    assert_eq!(cfg.uac_2xx(Some((5, None))).unwrap().seconds, 90);
    // §7.4: retry once with the 422's larger Min-SE; not with a value no larger.
    assert_eq!(cfg.retry_after_422(1800, Some(3600)), Some(3600));
    assert_eq!(cfg.retry_after_422(1800, Some(1800)), None);
    assert_eq!(cfg.retry_after_422(1800, None), None);
}

#[test]
fn refresh_at_half_and_expiry_before_the_end() {
    let i = SessionInterval {
        seconds: 1800,
        local_refresh: true,
    };
    assert_eq!(i.refresh_after(), Duration::from_secs(900));
    // §10: the interval minus min(32 s, interval/3).
    assert_eq!(i.expire_after(), Duration::from_secs(1800 - 32));
    let short = SessionInterval {
        seconds: 90,
        local_refresh: false,
    };
    assert_eq!(short.expire_after(), Duration::from_secs(60));
    assert_eq!(short.refresh_after(), Duration::from_secs(45));
    assert_eq!(i.refresher_as_uac(), Refresher::Uac);
    assert_eq!(short.refresher_as_uac(), Refresher::Uas);
    // No overflow at the top.
    let max = SessionInterval {
        seconds: u32::MAX,
        local_refresh: false,
    };
    assert!(max.expire_after() < Duration::from_secs(u64::from(u32::MAX)));
}

// ---- The INVITE session: RFC 4028 §10 ----

fn tag(s: &str) -> Tag {
    Tag::new(s).unwrap()
}

fn step(s: InviteSession, e: Event) -> (InviteSession, Vec<Action>) {
    let st = s.step(&Config::default(), e);
    (st.session, st.actions.to_vec())
}

/// A UAC session whose INVITE (CSeq 1) got a 2xx from tag b1.
fn confirmed_uac() -> InviteSession {
    let (s, _) = step(
        InviteSession::uac(1, true),
        Event::Response {
            code: StatusCode::OK,
            to_tag: Some(tag("b1")),
            cseq: 1,
            body: true,
        },
    );
    assert_eq!(s.state(), SessionState::Confirmed);
    s
}

#[test]
fn the_refresher_is_told_at_half_the_interval_and_a_refresh_restarts_it() {
    let interval = SessionInterval {
        seconds: 600,
        local_refresh: true,
    };
    let (s, a) = step(confirmed_uac(), Event::SessionExpires(Some(interval)));
    assert_eq!(
        a,
        [Action::StartTimer(
            SessionTimer::Refresh,
            Duration::from_secs(300)
        )]
    );
    assert_eq!(s.session_interval(), Some(interval));
    let (s, a) = step(s, Event::Timer(SessionTimer::Refresh));
    assert_eq!(a, [Action::Tu(Notice::RefreshDue)]);
    // The refresh re-INVITE's 2xx restarts the same timer.
    let (s, a) = step(
        s,
        Event::TuReInvite {
            cseq: 2,
            body: true,
            random: 0,
        },
    );
    assert!(matches!(a[0], Action::SendReInvite { .. }));
    let (s, _) = step(
        s,
        Event::Response {
            code: StatusCode::OK,
            to_tag: Some(tag("b1")),
            cseq: 2,
            body: true,
        },
    );
    let (s, a) = step(s, Event::SessionExpires(Some(interval)));
    assert_eq!(
        a,
        [Action::StartTimer(
            SessionTimer::Refresh,
            Duration::from_secs(300)
        )]
    );
    // The refresher never ends the session on a timer.
    let (s, a) = step(s, Event::Timer(SessionTimer::Expiry));
    assert!(a.is_empty());
    assert_eq!(s.state(), SessionState::Confirmed);
}

#[test]
fn no_refresh_before_expiry_ends_the_session_with_bye() {
    let interval = SessionInterval {
        seconds: 1800,
        local_refresh: false,
    };
    let (s, a) = step(confirmed_uac(), Event::SessionExpires(Some(interval)));
    assert_eq!(
        a,
        [Action::StartTimer(
            SessionTimer::Expiry,
            Duration::from_secs(1768)
        )]
    );
    // A stray refresh timer does nothing for the side that does not refresh.
    let (s, a) = step(s, Event::Timer(SessionTimer::Refresh));
    assert!(a.is_empty());
    let (s, a) = step(s, Event::Timer(SessionTimer::Expiry));
    assert_eq!(
        a,
        [
            Action::SendBye {
                remote_tag: tag("b1")
            },
            Action::Tu(Notice::Terminated(EndReason::SessionExpired)),
        ]
    );
    assert_eq!(
        s.state(),
        SessionState::Terminated(EndReason::SessionExpired)
    );
    assert_eq!(s.session_interval(), None);
}

#[test]
fn the_uas_arms_on_its_2xx_and_a_timer_switches_off_or_changes_hands() {
    let s = InviteSession::uas(1, tag("a1"), true);
    // Before the 2xx there is nothing to time.
    let interval = SessionInterval {
        seconds: 90,
        local_refresh: false,
    };
    let (s, a) = step(s, Event::SessionExpires(Some(interval)));
    assert!(a.is_empty());
    assert_eq!(s.session_interval(), None);
    let (s, _) = step(s, Event::TuAnswer);
    assert_eq!(s.state(), SessionState::Accepted);
    let (s, a) = step(s, Event::SessionExpires(Some(interval)));
    assert_eq!(
        a,
        [Action::StartTimer(
            SessionTimer::Expiry,
            Duration::from_secs(60)
        )]
    );
    // A refresh that makes this side the refresher stops the expiry.
    let mine = SessionInterval {
        seconds: 120,
        local_refresh: true,
    };
    let (s, a) = step(s, Event::SessionExpires(Some(mine)));
    assert_eq!(
        a,
        [
            Action::CancelTimer(SessionTimer::Expiry),
            Action::StartTimer(SessionTimer::Refresh, Duration::from_secs(60)),
        ]
    );
    // §7.2: a 2xx without Session-Expires switches the timer off.
    let (s, a) = step(s, Event::SessionExpires(None));
    assert_eq!(a, [Action::CancelTimer(SessionTimer::Refresh)]);
    let (s, a) = step(s, Event::Timer(SessionTimer::Refresh));
    assert!(a.is_empty());
    assert_eq!(s.session_interval(), None);
}

#[test]
fn ending_the_session_stops_its_session_timer() {
    let interval = SessionInterval {
        seconds: 600,
        local_refresh: false,
    };
    let (s, _) = step(confirmed_uac(), Event::SessionExpires(Some(interval)));
    let (s, a) = step(
        s,
        Event::Bye {
            remote_tag: tag("b1"),
        },
    );
    assert!(a.contains(&Action::CancelTimer(SessionTimer::Expiry)));
    assert_eq!(s.state(), SessionState::Terminated(EndReason::RemoteBye));
    // Nothing fires after the end, nor re-arms.
    let (_, a) = step(s, Event::Timer(SessionTimer::Expiry));
    assert!(a.is_empty());
    let (_, a) = step(s, Event::SessionExpires(Some(interval)));
    assert!(a.is_empty());
}

#[test]
fn a_refresh_without_answer_ends_the_session_with_bye() {
    let interval = SessionInterval {
        seconds: 600,
        local_refresh: true,
    };
    let (s, _) = step(confirmed_uac(), Event::SessionExpires(Some(interval)));
    let (s, _) = step(s, Event::Timer(SessionTimer::Refresh));
    let reinvite = Event::TuReInvite {
        cseq: 2,
        body: false,
        random: 0,
    };
    let (s, _) = step(s, reinvite);
    let no_answer = |code| Event::Response {
        code: StatusCode::new(code).unwrap(),
        to_tag: Some(tag("b1")),
        cseq: 2,
        body: false,
    };
    // RFC 4028 §10: 408 (or a timeout, which the host feeds as 408): BYE.
    let (ended, a) = step(s, no_answer(408));
    assert_eq!(
        a,
        [
            Action::SendBye {
                remote_tag: tag("b1")
            },
            Action::CancelTimer(SessionTimer::Refresh),
            Action::Tu(Notice::Terminated(EndReason::DialogGone(
                StatusCode::REQUEST_TIMEOUT
            ))),
        ]
    );
    assert!(ended.is_terminated());
    // 481: the dialog is gone already, no BYE (RFC 3261 §12.2.1.2).
    let (_, a) = step(s, no_answer(481));
    assert!(!a.iter().any(|a| matches!(a, Action::SendBye { .. })));
    // Without a session timer a 408 to a re-INVITE ends the dialog without BYE, as before.
    let (s, _) = step(confirmed_uac(), reinvite);
    let (_, a) = step(s, no_answer(408));
    assert!(!a.iter().any(|a| matches!(a, Action::SendBye { .. })));
}
