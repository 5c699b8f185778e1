//! The RFC 3262 machines under arbitrary event sequences: never a panic, one reliable
//! provisional response unacknowledged at a time, RSeq growing by one, a 200 for a PRACK
//! only when it acknowledges the outstanding response, a give-up only once 64*T1 has
//! passed without one, and the UAC PRACKing each RSeq at most once and only in order.

use core::time::Duration;

use proptest::prelude::*;
use sansip::message::{CSeq, Method, RAck, StatusCode};
use sansip::reliable::{Uac, Uas, UasAction, Verdict};

const T1: Duration = Duration::from_millis(500);
const CSEQ: u32 = 7;

#[derive(Clone, Debug)]
enum Op {
    Send(bool),
    Prack {
        delta: i8,
        cseq_ok: bool,
        invite: bool,
    },
    Timer,
    Final,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        any::<bool>().prop_map(Op::Send),
        (-2i8..=2, any::<bool>(), any::<bool>()).prop_map(|(delta, cseq_ok, invite)| Op::Prack {
            delta,
            cseq_ok,
            invite
        }),
        Just(Op::Timer),
        Just(Op::Final),
    ]
}

proptest! {
    #[test]
    fn uas_invariants(first in 1u32..(1 << 31), ops in prop::collection::vec(op(), 0..60)) {
        let mut uas = Uas::new(first, CSEQ);
        // The RSeq out and how long it has been retransmitted, as the model sees them.
        let mut out: Option<(u32, Duration, Duration, bool)> = None;
        let mut last_sent: Option<u32> = None;
        for op in ops {
            match op {
                Op::Send(sdp) => match uas.send(T1, sdp) {
                    Ok(s) => {
                        prop_assert!(out.is_none(), "two unacknowledged");
                        let UasAction::Send { rseq } = s.actions[0] else {
                            return Err(TestCaseError::fail("no Send"));
                        };
                        if let Some(prev) = last_sent {
                            prop_assert_eq!(rseq, prev + 1);
                        } else {
                            prop_assert_eq!(rseq, first);
                        }
                        last_sent = Some(rseq);
                        out = Some((rseq, Duration::ZERO, T1, true));
                        uas = s.uas;
                    }
                    Err(_) => prop_assert!(out.is_some()),
                },
                Op::Prack { delta, cseq_ok, invite } => {
                    let base = last_sent.unwrap_or(first);
                    let rseq = base.wrapping_add_signed(i32::from(delta)).max(1);
                    let cseq = if cseq_ok { CSEQ } else { CSEQ + 1 };
                    let method = if invite { Method::Invite } else { Method::Options };
                    let rack = RAck::new(rseq, CSeq::new(cseq, method).unwrap());
                    let s = uas.prack(&rack);
                    let good = out.is_some_and(|(r, ..)| r == rseq) && cseq_ok && invite;
                    let answer = s.actions.iter().find_map(|a| match a {
                        UasAction::AnswerPrack(c) => Some(*c),
                        _ => None,
                    });
                    let expected = if good { StatusCode::OK } else { StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST };
                    prop_assert_eq!(answer, Some(expected));
                    if good {
                        out = None;
                    }
                    prop_assert_eq!(s.uas.is_waiting(), out.is_some());
                    uas = s.uas;
                }
                Op::Timer => {
                    let s = uas.timer(T1);
                    match (&mut out, s.actions.as_slice()) {
                        (Some((_, waited, interval, true)), [UasAction::Retransmit, UasAction::StartTimer(next)]) => {
                            *waited += *interval;
                            prop_assert!(*waited < T1 * 64);
                            *interval = *next;
                        }
                        (Some((_, waited, interval, retransmitting @ true)), [UasAction::GiveUp]) => {
                            prop_assert_eq!(*waited + *interval, T1 * 64);
                            *retransmitting = false;
                        }
                        (Some((.., false)) | None, []) => {}
                        (model, actions) => {
                            return Err(TestCaseError::fail(format!("{model:?} {actions:?}")));
                        }
                    }
                    uas = s.uas;
                }
                Op::Final => {
                    let s = uas.final_sent();
                    if let Some((.., r)) = &mut out {
                        *r = false;
                    }
                    uas = s.uas;
                }
            }
        }
    }

    #[test]
    fn uac_pracks_each_rseq_once_in_order(rseqs in prop::collection::vec(1u32..20, 0..40)) {
        let mut uac = Uac::new();
        let mut pracked: Vec<u32> = Vec::new();
        for r in rseqs {
            let (next, verdict) = uac.on_provisional(r);
            if verdict == Verdict::Prack {
                prop_assert!(!pracked.contains(&r));
                if let Some(&last) = pracked.last() {
                    prop_assert_eq!(r, last + 1);
                }
                pracked.push(r);
            }
            uac = next;
        }
    }
}
