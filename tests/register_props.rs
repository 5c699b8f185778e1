//! The registration machine under arbitrary event sequences (RFC 3261 §10.2): never a
//! panic, CSeq numbers only grow, one REGISTER out at a time, `Done` absorbs, and every
//! registration ends in exactly one of Registered-then-Unregistered or Failed. With a
//! retry policy, a registration waiting to try again has no REGISTER out and got there
//! with a `Retrying` notice.

use proptest::prelude::*;
use sansip::message::StatusCode;
use sansip::register::{Action, Event, MAX_ACTIONS, Notice, Registration, Retry, State};

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        (
            prop::sample::select(vec![
                100u16, 200, 202, 401, 403, 407, 408, 423, 480, 500, 503
            ]),
            prop::option::of(0u32..100_000),
            prop::option::of(0u32..100_000),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(
                |(c, expires, min_expires, stale, refused)| Event::Response {
                    code: StatusCode::new(c).unwrap(),
                    expires,
                    min_expires,
                    stale,
                    refused,
                }
            ),
        Just(Event::Timeout),
        Just(Event::Refresh),
        Just(Event::Unregister),
    ]
}

proptest! {
    #[test]
    fn arbitrary_sequences(expires in 0u32..100_000, retry in any::<bool>(), events in prop::collection::vec(event(), 0..40)) {
        let (mut reg, first) = Registration::new(expires);
        if retry {
            reg = reg.with_retry(Retry::RFC5626);
        }
        let mut last_cseq = match first.as_slice() {
            [Action::Send { cseq, .. }] => *cseq,
            other => panic!("{other:?}"),
        };
        let mut ended = 0;
        // §10.2: at most one REGISTER out at a time (the first one is out now).
        let mut out = 1;
        for e in events {
            if matches!(e, Event::Response { .. } | Event::Timeout) && out > 0 {
                out -= 1;
            }
            let done_before = reg.state() == State::Done;
            let step = reg.step(e);
            prop_assert!(step.actions.len() <= MAX_ACTIONS);
            if done_before {
                prop_assert!(step.actions.is_empty());
                prop_assert_eq!(step.registration.state(), State::Done);
            }
            for a in &step.actions {
                match a {
                    Action::Send { cseq, .. } => {
                        prop_assert!(*cseq > last_cseq, "CSeq {} after {}", cseq, last_cseq);
                        last_cseq = *cseq;
                        out += 1;
                        prop_assert!(out <= 1, "two REGISTERs out at once");
                    }
                    Action::Notify(Notice::Unregistered | Notice::Failed(_)) => ended += 1,
                    Action::StartRefresh(d) => prop_assert!(d.as_secs() >= 1),
                    _ => {}
                }
            }
            let retrying = step
                .actions
                .iter()
                .any(|a| matches!(a, Action::Notify(Notice::Retrying { .. })));
            if step.registration.state() == State::Retrying {
                prop_assert!(retry);
                prop_assert_eq!(out, 0, "waiting with a REGISTER out");
                prop_assert!(retrying || reg.state() == State::Retrying);
            }
            if matches!(step.registration.state(), State::Done) && !done_before {
                prop_assert_eq!(ended, 1, "Done is reached with one final notice");
            }
            reg = step.registration;
        }
        prop_assert!(ended <= 1);
        prop_assert_eq!(reg.cseq(), last_cseq);
    }
}
