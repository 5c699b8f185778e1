//! The notifier's machine under arbitrary event sequences (RFC 6665 §4.2): never a
//! panic, at most one NOTIFY out at a time (§4.2.2), `Terminated` absorbs and is
//! announced exactly once, the terminating NOTIFY is the last NOTIFY sent, every
//! SUBSCRIBE gets exactly one answer, and no grant exceeds what was asked or offered.

use proptest::prelude::*;
use sansip::message::StatusCode;
use sansip::notifier::{
    Action, Answer, Authorization, Event, MAX_ACTIONS, Notice, Notifier, Reason, State,
};

fn authorization() -> impl Strategy<Value = Authorization> {
    prop::sample::select(vec![Authorization::Pending, Authorization::Active])
}

fn reason() -> impl Strategy<Value = Reason> {
    prop::sample::select(vec![
        Reason::Deactivated,
        Reason::Probation,
        Reason::Rejected,
        Reason::Timeout,
        Reason::Giveup,
        Reason::Noresource,
        Reason::Invariant,
    ])
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        (prop::option::of(0u32..5000), authorization()).prop_map(|(expires, authorization)| {
            Event::Accept {
                expires,
                authorization,
            }
        }),
        prop::option::of(prop_oneof![Just(0u32), 0u32..5000])
            .prop_map(|expires| Event::Refresh { expires }),
        Just(Event::Unsubscribe),
        authorization().prop_map(Event::Change),
        (reason(), prop::option::of(0u32..1000)).prop_map(|(reason, retry_after)| {
            Event::Terminate {
                reason,
                retry_after,
            }
        }),
        prop::sample::select(vec![
            200u16, 202, 302, 401, 404, 408, 415, 481, 489, 500, 503
        ])
        .prop_map(|c| Event::Response(StatusCode::new(c).unwrap())),
        Just(Event::Timeout),
        Just(Event::Timer),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_sequences(
        offer in 0u32..5000,
        min in 0u32..200,
        first in prop::option::of(0u32..5000),
        events in prop::collection::vec(event(), 0..48),
    ) {
        let mut n = Notifier::new(offer, min);
        let mut out = 0;
        let mut ended = 0;
        let mut final_sent = false;
        // Most runs should get past Idle: start with an Accept.
        let all = core::iter::once(Event::Accept { expires: first, authorization: Authorization::Pending })
            .chain(events);
        for e in all {
            let before = n.state();
            if matches!(e, Event::Response(_) | Event::Timeout) && out > 0 {
                out -= 1;
            }
            let step = n.step(e);
            prop_assert!(step.actions.len() <= MAX_ACTIONS);
            if before == State::Terminated {
                prop_assert!(step.actions.is_empty(), "{:?} after Terminated: {:?}", e, step.actions);
            }
            let answers = step.actions.iter().filter(|a| matches!(a, Action::Respond(_))).count();
            let is_subscribe = matches!(e, Event::Refresh { .. } | Event::Unsubscribe)
                && !matches!(before, State::Idle | State::Terminated)
                || matches!(e, Event::Accept { .. }) && before == State::Idle;
            prop_assert_eq!(answers, usize::from(is_subscribe), "{:?} in {:?}: {:?}", e, before, step.actions);
            let asked = match e {
                Event::Accept { expires, .. } | Event::Refresh { expires } => expires,
                Event::Unsubscribe => Some(0),
                _ => None,
            };
            for a in &step.actions {
                match a {
                    Action::Send(notify) => {
                        prop_assert!(!final_sent, "a NOTIFY after the terminating one");
                        out += 1;
                        prop_assert!(out <= 1, "two NOTIFYs out at once");
                        final_sent |= notify.is_final();
                    }
                    Action::Respond(Answer::Accepted { expires }) => {
                        prop_assert!(*expires <= offer);
                        if let Some(asked) = asked {
                            prop_assert!(*expires <= asked, "granted {} for {}", expires, asked);
                        }
                    }
                    Action::Respond(Answer::IntervalTooBrief { min_expires }) => {
                        let asked = asked.unwrap_or(u32::MAX);
                        prop_assert!(asked > 0 && asked < *min_expires);
                    }
                    Action::StartTimer(d) => prop_assert!(!d.is_zero()),
                    Action::Tell(Notice::Terminated(_)) => ended += 1,
                    _ => {}
                }
            }
            prop_assert_eq!(step.notifier.state() == State::Terminated, ended == 1);
            prop_assert_eq!(step.notifier.notify_out(), out == 1);
            n = step.notifier;
        }
        prop_assert!(ended <= 1);
    }
}
