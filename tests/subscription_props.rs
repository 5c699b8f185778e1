//! The subscriber's machine under arbitrary event sequences (RFC 6665 §4.1): never a
//! panic, `Terminated` absorbs and is announced exactly once, at most one SUBSCRIBE is
//! out at a time.

use core::time::Duration;

use proptest::prelude::*;
use sansip::message::StatusCode;
use sansip::subscription::{Action, Event, MAX_ACTIONS, Notice, NotifyState, State, Subscription};

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        (
            prop::sample::select(vec![200u16, 202, 403, 408, 481, 489, 500]),
            prop::option::of(0u32..100_000),
        )
            .prop_map(|(c, expires)| Event::Response {
                code: StatusCode::new(c).unwrap(),
                expires,
            }),
        (
            prop::sample::select(vec![
                NotifyState::Active,
                NotifyState::Pending,
                NotifyState::Terminated
            ]),
            prop::option::of(0u32..100_000),
            prop::option::of(0u32..1000),
        )
            .prop_map(|(state, expires, retry_after)| Event::Notify {
                state,
                expires,
                retry_after,
            }),
        Just(Event::Timeout),
        Just(Event::Timer),
        Just(Event::Unsubscribe),
    ]
}

proptest! {
    #[test]
    fn arbitrary_sequences(expires in 0u32..100_000, events in prop::collection::vec(event(), 0..40)) {
        let t1x64 = Duration::from_secs(32);
        let mut sub = Subscription::new(expires);
        let mut ended = 0;
        // The first SUBSCRIBE is out.
        let mut out = 1;
        for e in events {
            let before = sub.state();
            if matches!(e, Event::Response { .. } | Event::Timeout) && out > 0 {
                out -= 1;
            }
            let step = sub.step(t1x64, e);
            prop_assert!(step.actions.len() <= MAX_ACTIONS);
            if before == State::Terminated {
                prop_assert!(step.actions.is_empty());
            }
            for a in &step.actions {
                match a {
                    Action::Send { .. } => {
                        out += 1;
                        prop_assert!(out <= 1, "two SUBSCRIBEs out at once");
                    }
                    Action::Notify(Notice::Terminated(_)) => ended += 1,
                    Action::StartTimer(d) => prop_assert!(!d.is_zero()),
                    _ => {}
                }
            }
            prop_assert_eq!(step.subscription.state() == State::Terminated, ended == 1);
            sub = step.subscription;
        }
        prop_assert!(ended <= 1);
    }
}
