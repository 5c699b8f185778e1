//! Properties of the INVITE session machine over arbitrary event sequences.

use proptest::prelude::*;
use sansip::dialog::{
    Action, Config, DialogState, Event, InviteSession, MAX_SESSION_ACTIONS, SessionInterval,
    SessionState, SessionTimer, Tag,
};
use sansip::message::StatusCode;

fn tag() -> impl Strategy<Value = Tag> {
    prop::sample::select(vec!["", "a", "b", "c", "d"]).prop_map(|s| Tag::new(s).unwrap())
}

fn code() -> impl Strategy<Value = StatusCode> {
    prop_oneof![
        prop::sample::select(vec![
            100u16, 180, 183, 200, 202, 302, 408, 481, 486, 487, 491, 603
        ]),
        100u16..=699,
    ]
    .prop_map(|c| StatusCode::new(c).unwrap())
}

fn timer() -> impl Strategy<Value = SessionTimer> {
    prop::sample::select(vec![
        SessionTimer::Retransmit2xx,
        SessionTimer::AckTimeout,
        SessionTimer::Glare,
        SessionTimer::Refresh,
        SessionTimer::Expiry,
    ])
}

/// A session timer as negotiated (RFC 4028), or none.
fn interval() -> impl Strategy<Value = Option<SessionInterval>> {
    prop::option::of(
        (90u32..4000, any::<bool>()).prop_map(|(seconds, local_refresh)| SessionInterval {
            seconds,
            local_refresh,
        }),
    )
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        4 => (code(), prop::option::of(tag()), 1u32..4, any::<bool>())
            .prop_map(|(code, to_tag, cseq, body)| Event::Response { code, to_tag, cseq, body }),
        1 => Just(Event::InviteTransactionEnded),
        2 => (1u32..4, any::<bool>()).prop_map(|(cseq, body)| Event::Ack { cseq, body }),
        1 => Just(Event::Cancel),
        1 => (any::<bool>(), 1u32..4).prop_map(|(body, cseq)| Event::ReInvite { body, cseq }),
        1 => tag().prop_map(|remote_tag| Event::Bye { remote_tag }),
        3 => timer().prop_map(Event::Timer),
        1 => Just(Event::TuCancel),
        1 => Just(Event::TuHangUp),
        2 => Just(Event::TuAnswer),
        1 => code().prop_map(Event::TuReject),
        1 => (2u32..4, any::<bool>(), any::<u16>())
            .prop_map(|(cseq, body, random)| Event::TuReInvite { cseq, body, random }),
        1 => (1u32..5).prop_map(|cseq| Event::Reoriginated { cseq }),
        1 => interval().prop_map(Event::SessionExpires),
    ]
}

fn session() -> impl Strategy<Value = InviteSession> {
    prop_oneof![
        (1u32..3, any::<bool>()).prop_map(|(c, o)| InviteSession::uac(c, o)),
        (1u32..3, tag(), any::<bool>()).prop_map(|(c, t, o)| InviteSession::uas(c, t, o)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn session_invariants(mut s in session(), events in prop::collection::vec(event(), 0..40)) {
        let cfg = Config::default();
        let mut armed: Vec<SessionTimer> = Vec::new();
        let mut ended = None;
        for e in events {
            if let Event::Timer(t) = e {
                armed.retain(|x| *x != t);
            }
            let could_reoriginate = s.can_reoriginate();
            let before = s;
            let step = s.step(&cfg, e);
            s = step.session;
            // Sending the INVITE again with credentials asks for nothing more, and
            // changes nothing when it does not apply (§22.2).
            if let Event::Reoriginated { .. } = e {
                prop_assert!(step.actions.is_empty(), "{:?}", step.actions);
                if !could_reoriginate {
                    prop_assert_eq!(s, before);
                }
            }
            // The action list never fills up (so nothing was dropped).
            prop_assert!(step.actions.len() < MAX_SESSION_ACTIONS, "{:?}", step.actions);
            // Every 2xx is ACKed, with its own tag and CSeq (§13.2.2.4).
            if let Event::Response { code, to_tag, cseq, .. } = e
                && code.is_success()
            {
                let t = to_tag.unwrap_or(Tag::EMPTY);
                prop_assert!(
                    step.actions.iter().any(|a| matches!(a, Action::SendAck { remote_tag, cseq: c, .. } if *remote_tag == t && *c == cseq)),
                    "2xx not ACKed: {:?}", step.actions
                );
            }
            for a in &step.actions {
                match *a {
                    Action::StartTimer(t, d) => {
                        prop_assert!(!d.is_zero() || t == SessionTimer::Glare);
                        armed.retain(|x| *x != t);
                        armed.push(t);
                    }
                    Action::CancelTimer(t) => armed.retain(|x| *x != t),
                    _ => {}
                }
            }
            // Terminated is absorbing, and its reason never changes.
            if let Some(state) = ended {
                prop_assert_eq!(s.state(), state);
                let revived = step.actions.iter().any(|a| {
                    matches!(a, Action::StartTimer(..) | Action::SendCancel | Action::SendReInvite { .. })
                });
                prop_assert!(!revived, "{:?}", step.actions);
            }
            // RFC 4028 §10: at most one session timer runs, the one the interval in force
            // says (refresh for the refresher, expiry for the other side); none without
            // one. (A refresh that fired waits for the TU's refresh to be answered.)
            let session_timers: Vec<_> = armed
                .iter()
                .filter(|t| matches!(t, SessionTimer::Refresh | SessionTimer::Expiry))
                .copied()
                .collect();
            let allowed = match s.session_interval() {
                Some(i) if i.local_refresh => Some(SessionTimer::Refresh),
                Some(_) => Some(SessionTimer::Expiry),
                None => None,
            };
            prop_assert!(
                session_timers.len() <= 1 && session_timers.iter().all(|t| Some(*t) == allowed),
                "{:?} with {:?}", session_timers, s.session_interval()
            );
            // An interval is set only by a 2xx: never before one was sent or received.
            if let Event::SessionExpires(Some(_)) = e
                && !matches!(before.state(), SessionState::Accepted | SessionState::Confirmed)
            {
                prop_assert_eq!(s, before);
            }
            if s.is_terminated() {
                ended = Some(s.state());
                // No dialog outlives the session, and no timer is left running.
                prop_assert!(s.dialogs().all(|(_, st)| st == DialogState::Terminated));
                prop_assert!(armed.is_empty(), "timers left: {:?}", armed);
            }
        }
    }
}
