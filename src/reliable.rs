//! Reliable provisional responses (RFC 3262: the option tag `100rel`, the RSeq and RAck
//! headers, the PRACK method) as pure machines in the crate's
//! `(state, event) -> (state, actions)` shape.
//!
//! - [`Uas`] is the answering side of one INVITE: it numbers each reliable provisional
//!   response (RSeq, §3), keeps one unacknowledged at a time, retransmits it with an
//!   interval that starts at T1 and doubles until a PRACK arrives, gives up after 64*T1
//!   (the UAS then rejects the INVITE with a 5xx), judges every PRACK (200 if it
//!   acknowledges the outstanding response, 481 otherwise) and says when a final response
//!   may go (§3: not a 2xx while a provisional with a session description is
//!   unacknowledged).
//! - [`Uac`] is the calling side within one (early) dialog: it PRACKs the first reliable
//!   provisional response and then only the one whose RSeq is one higher than the last
//!   (§4, with erratum 4604); retransmissions and responses out of order are ignored.
//!
//! [`wanted`] and [`reliable_rseq`] read what a request asks for and whether a response
//! is reliable.
//!
//! ```
//! use core::time::Duration;
//! use sansip::message::{CSeq, Method, RAck, StatusCode};
//! use sansip::reliable::{Uac, Uas, UasAction, Verdict};
//!
//! let t1 = Duration::from_millis(500);
//! // The UAS sends 180 reliably as RSeq 1000 for the INVITE with CSeq 1.
//! let s = Uas::new(1000, 1).send(t1, false).unwrap();
//! assert_eq!(s.actions[0], UasAction::Send { rseq: 1000 });
//! // The UAC PRACKs it once; a retransmission is not PRACKed again.
//! let (uac, v) = Uac::new().on_provisional(1000);
//! assert_eq!(v, Verdict::Prack);
//! assert_eq!(uac.on_provisional(1000).1, Verdict::Ignore);
//! // The PRACK stops the retransmissions and is answered 200.
//! let rack = RAck::new(1000, CSeq::new(1, Method::Invite).unwrap());
//! let s = s.uas.prack(&rack);
//! assert!(s.actions.contains(&UasAction::AnswerPrack(StatusCode::OK)));
//! assert!(!s.uas.is_waiting());
//! ```

use core::time::Duration;

use crate::message::{HeaderKind, Message, Method, RAck, StatusCode};

/// The option tag of reliable provisional responses (RFC 3262 §8.1).
pub const OPTION_TAG: &str = "100rel";

/// The largest RSeq (RFC 3262 §3: from 1 to 2^31 - 1).
const RSEQ_MAX: u32 = (1 << 31) - 1;

/// What a request says about reliable provisional responses (RFC 3262 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Wanted {
    /// `Require: 100rel`: every provisional response but 100 must be sent reliably (or
    /// the request refused with 420).
    Required,
    /// `Supported: 100rel`: the UAS may send them reliably.
    Supported,
    /// Neither: the UAS must not.
    No,
}

/// What `request` asks for: `Require` wins over `Supported`. Malformed tokens are
/// skipped (the request checks refuse a malformed Require before this is asked).
pub fn wanted(request: &Message<'_>) -> Wanted {
    let has = |kind| {
        request
            .tokens(kind)
            .flatten()
            .any(|t| t.eq_ignore_ascii_case(OPTION_TAG))
    };
    if has(HeaderKind::Require) {
        Wanted::Required
    } else if has(HeaderKind::Supported) {
        Wanted::Supported
    } else {
        Wanted::No
    }
}

/// The RSeq of a reliable provisional response: a 101–199 response carrying
/// `Require: 100rel` and a well-formed RSeq (RFC 3262 §4); `None` for anything else.
pub fn reliable_rseq(response: &Message<'_>) -> Option<u32> {
    let code = response.status()?.as_u16();
    if !(101..200).contains(&code) {
        return None;
    }
    let required = response
        .tokens(HeaderKind::Require)
        .flatten()
        .any(|t| t.eq_ignore_ascii_case(OPTION_TAG));
    if !required {
        return None;
    }
    response.rseq()?.ok().map(|r| r.get())
}

/// A reliable provisional response not yet acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Outstanding {
    rseq: u32,
    /// It carried a session description: no 2xx until it is acknowledged (§3).
    has_sdp: bool,
    /// Still retransmitted (not after a final response, §3, nor after giving up).
    retransmitting: bool,
    /// The timer's current interval, and the time since the first transmission when it
    /// fires.
    interval: Duration,
    waited: Duration,
}

/// What the UAS must do after a step of [`Uas`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum UasAction {
    /// Send the provisional response with `Require: 100rel` and `RSeq: rseq`, and keep
    /// its bytes for [`UasAction::Retransmit`].
    Send {
        /// Its RSeq.
        rseq: u32,
    },
    /// Send the outstanding provisional response again.
    Retransmit,
    /// (Re)arm the machine's one timer.
    StartTimer(Duration),
    /// Stop it.
    CancelTimer,
    /// Answer the PRACK with this status: 200 when it acknowledged the outstanding
    /// response, 481 when it matches no unacknowledged one (§3).
    AnswerPrack(StatusCode),
    /// No PRACK came within 64*T1 of the first transmission: reject the request with a
    /// 5xx (§3).
    GiveUp,
}

/// Most actions one step of [`Uas`] produces.
pub const MAX_ACTIONS: usize = 3;

/// The result of a step of [`Uas`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UasStep {
    /// The machine after the step.
    pub uas: Uas,
    /// What to do, in order.
    pub actions: heapless::Vec<UasAction, MAX_ACTIONS>,
}

/// [`Uas::send`] refused: a reliable provisional response is still unacknowledged, and
/// the UAS must not send another until it is (RFC 3262 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Unacknowledged;

impl core::fmt::Display for Unacknowledged {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("a reliable provisional response is not acknowledged yet")
    }
}

impl core::error::Error for Unacknowledged {}

/// The UAS side of one INVITE's reliable provisional responses: `Copy`, about fifty
/// bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Uas {
    next_rseq: u32,
    /// The CSeq number of the INVITE, which a PRACK's RAck repeats.
    cseq: u32,
    outstanding: Option<Outstanding>,
}

impl Uas {
    /// The machine for the INVITE with CSeq number `cseq`. `first_rseq` should be
    /// random (§3: the first RSeq is chosen from 1 to 2^31 - 1); a value outside that
    /// range is folded into it.
    pub fn new(first_rseq: u32, cseq: u32) -> Self {
        Uas {
            next_rseq: if (1..=RSEQ_MAX).contains(&first_rseq) {
                first_rseq
            } else {
                first_rseq % RSEQ_MAX + 1
            },
            cseq,
            outstanding: None,
        }
    }

    /// Whether a reliable provisional response waits for its PRACK.
    pub fn is_waiting(&self) -> bool {
        self.outstanding.is_some()
    }

    /// The RSeq the next reliable provisional response gets.
    pub fn next_rseq(&self) -> u32 {
        self.next_rseq
    }

    /// Whether a final response may be sent now (§3): anything but a 2xx always; a 2xx
    /// not while a provisional response with a session description is unacknowledged.
    pub fn may_send_final(&self, success: bool) -> bool {
        !(success && self.outstanding.is_some_and(|o| o.has_sdp))
    }

    /// Send a provisional response reliably (`has_sdp`: it carries a session
    /// description). `t1` is the transport's T1. Refused while one is unacknowledged.
    pub fn send(self, t1: Duration, has_sdp: bool) -> Result<UasStep, Unacknowledged> {
        if self.outstanding.is_some() {
            return Err(Unacknowledged);
        }
        let rseq = self.next_rseq;
        let mut uas = self;
        // RSeq grows by one per response (§3), past 2^31 if the first was near it; no
        // transaction lives long enough to run out of 32 bits (it would start at 1).
        uas.next_rseq = rseq.checked_add(1).unwrap_or(1);
        uas.outstanding = Some(Outstanding {
            rseq,
            has_sdp,
            retransmitting: true,
            interval: t1,
            waited: Duration::ZERO,
        });
        let mut step = UasStep {
            uas,
            actions: heapless::Vec::new(),
        };
        step.push(UasAction::Send { rseq });
        step.push(UasAction::StartTimer(t1));
        Ok(step)
    }

    /// A PRACK arrived with `rack` (§3): it acknowledges the outstanding response when
    /// its RSeq, CSeq number and method (INVITE) match; then the retransmissions stop.
    #[must_use]
    pub fn prack(self, rack: &RAck<'_>) -> UasStep {
        let mut step = UasStep {
            uas: self,
            actions: heapless::Vec::new(),
        };
        let matches = self.outstanding.is_some_and(|o| {
            o.rseq == rack.rseq() && rack.cseq() == self.cseq && rack.method() == Method::Invite
        });
        if matches {
            if self.outstanding.is_some_and(|o| o.retransmitting) {
                step.push(UasAction::CancelTimer);
            }
            step.uas.outstanding = None;
            step.push(UasAction::AnswerPrack(StatusCode::OK));
        } else {
            step.push(UasAction::AnswerPrack(
                StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST,
            ));
        }
        step
    }

    /// The timer fired: retransmit with the interval doubled, or give up once 64*T1
    /// has passed since the first transmission (§3).
    #[must_use]
    pub fn timer(self, t1: Duration) -> UasStep {
        let mut step = UasStep {
            uas: self,
            actions: heapless::Vec::new(),
        };
        let Some(mut o) = self.outstanding.filter(|o| o.retransmitting) else {
            return step;
        };
        let limit = t1.saturating_mul(64);
        o.waited = o.waited.saturating_add(o.interval);
        if o.waited >= limit {
            o.retransmitting = false;
            step.uas.outstanding = Some(o);
            step.push(UasAction::GiveUp);
            return step;
        }
        // The last wait is cut so that the machine gives up at 64*T1 exactly.
        o.interval = o.interval.saturating_mul(2).min(limit - o.waited);
        step.uas.outstanding = Some(o);
        step.push(UasAction::Retransmit);
        step.push(UasAction::StartTimer(o.interval));
        step
    }

    /// A final response went out: stop retransmitting, but keep answering PRACKs for
    /// what is still unacknowledged (§3).
    #[must_use]
    pub fn final_sent(self) -> UasStep {
        let mut step = UasStep {
            uas: self,
            actions: heapless::Vec::new(),
        };
        if let Some(mut o) = self.outstanding.filter(|o| o.retransmitting) {
            o.retransmitting = false;
            step.uas.outstanding = Some(o);
            step.push(UasAction::CancelTimer);
        }
        step
    }
}

impl UasStep {
    fn push(&mut self, action: UasAction) {
        // No step produces more than MAX_ACTIONS.
        let _ = self.actions.push(action);
    }
}

/// What [`Uac::on_provisional`] decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Verdict {
    /// Send a PRACK for it (with `RAck: rseq cseq INVITE`), within its early dialog, and
    /// process the response.
    Prack,
    /// A retransmission, or out of order: neither PRACK it nor process it further.
    Ignore,
}

/// The UAC side within one (early) dialog: the RSeq of the last reliable provisional
/// response taken in order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Uac {
    last: Option<u32>,
}

impl Uac {
    /// No reliable provisional response seen yet.
    pub const fn new() -> Self {
        Uac { last: None }
    }

    /// The RSeq of the last response taken, if any.
    pub fn last(&self) -> Option<u32> {
        self.last
    }

    /// A reliable provisional response with `rseq` arrived in this dialog: the first one
    /// is taken, then only the one numbered one higher than the last (§4, erratum 4604).
    #[must_use]
    pub fn on_provisional(self, rseq: u32) -> (Uac, Verdict) {
        let take = match self.last {
            None => true,
            Some(last) => rseq == last.wrapping_add(1),
        };
        if take {
            (Uac { last: Some(rseq) }, Verdict::Prack)
        } else {
            (self, Verdict::Ignore)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::CSeq;

    const T1: Duration = Duration::from_millis(500);

    fn rack(rseq: u32, cseq: u32, method: Method<'static>) -> RAck<'static> {
        RAck::new(rseq, CSeq::new(cseq, method).unwrap())
    }

    #[test]
    fn retransmits_doubling_and_gives_up_at_64_t1() {
        let mut uas = Uas::new(7, 1).send(T1, true).unwrap().uas;
        let mut at = T1;
        let mut fired = heapless::Vec::<Duration, 16>::new();
        loop {
            let s = uas.timer(T1);
            uas = s.uas;
            fired.push(at).unwrap();
            match s.actions.as_slice() {
                [UasAction::Retransmit, UasAction::StartTimer(next)] => at += *next,
                [UasAction::GiveUp] => break,
                other => panic!("{other:?}"),
            }
        }
        let ms: heapless::Vec<u128, 16> = fired.iter().map(|d| d.as_millis()).collect();
        // T1, 3T1, 7T1, 15T1, 31T1, 63T1, then 64T1.
        assert_eq!(ms, [500, 1500, 3500, 7500, 15500, 31500, 32000]);
        // Given up: no more timers, but a late PRACK is still answered 200.
        assert!(uas.timer(T1).actions.is_empty());
        let s = uas.prack(&rack(7, 1, Method::Invite));
        assert_eq!(
            s.actions.as_slice(),
            [UasAction::AnswerPrack(StatusCode::OK)]
        );
    }

    #[test]
    fn one_unacknowledged_at_a_time_and_rseq_grows_by_one() {
        let s = Uas::new(100, 5).send(T1, false).unwrap();
        assert_eq!(s.uas.send(T1, false), Err(Unacknowledged));
        let s = s.uas.prack(&rack(100, 5, Method::Invite));
        assert_eq!(
            s.actions.as_slice(),
            [
                UasAction::CancelTimer,
                UasAction::AnswerPrack(StatusCode::OK)
            ]
        );
        let s = s.uas.send(T1, false).unwrap();
        assert_eq!(s.actions[0], UasAction::Send { rseq: 101 });
    }

    #[test]
    fn pracks_that_match_nothing_get_481() {
        let s = Uas::new(100, 5).send(T1, false).unwrap();
        let no = UasAction::AnswerPrack(StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST);
        for r in [
            rack(99, 5, Method::Invite),
            rack(100, 4, Method::Invite),
            rack(100, 5, Method::Options),
        ] {
            let t = s.uas.prack(&r);
            assert_eq!(t.actions.as_slice(), [no]);
            assert!(t.uas.is_waiting());
        }
        // Acknowledged once; the same RAck again (a new PRACK, not a retransmission,
        // which the transaction absorbs) matches nothing any more.
        let s = s.uas.prack(&rack(100, 5, Method::Invite));
        assert_eq!(
            s.uas
                .prack(&rack(100, 5, Method::Invite))
                .actions
                .as_slice(),
            [no]
        );
    }

    #[test]
    fn no_2xx_while_an_offer_in_a_provisional_is_unacknowledged() {
        let with_sdp = Uas::new(1, 1).send(T1, true).unwrap().uas;
        assert!(!with_sdp.may_send_final(true));
        assert!(with_sdp.may_send_final(false));
        let without = Uas::new(1, 1).send(T1, false).unwrap().uas;
        assert!(without.may_send_final(true));
        // After a final response: no retransmissions, PRACKs still answered.
        let s = without.final_sent();
        assert_eq!(s.actions.as_slice(), [UasAction::CancelTimer]);
        assert!(s.uas.timer(T1).actions.is_empty());
        assert!(s.uas.is_waiting());
    }

    #[test]
    fn first_rseq_is_folded_into_range() {
        assert_eq!(Uas::new(0, 1).next_rseq(), 1);
        assert!((1..=RSEQ_MAX).contains(&Uas::new(u32::MAX, 1).next_rseq()));
        let s = Uas::new(RSEQ_MAX, 1).send(T1, false).unwrap();
        assert_eq!(s.actions[0], UasAction::Send { rseq: RSEQ_MAX });
        // Later ones go on past 2^31 - 1 (§3: each is one higher).
        assert_eq!(s.uas.next_rseq(), RSEQ_MAX + 1);
    }

    #[test]
    fn uac_pracks_in_order_only() {
        let (u, v) = Uac::new().on_provisional(50);
        assert_eq!((v, u.last()), (Verdict::Prack, Some(50)));
        assert_eq!(u.on_provisional(50).1, Verdict::Ignore); // retransmission
        assert_eq!(u.on_provisional(52).1, Verdict::Ignore); // 51 missing
        assert_eq!(u.on_provisional(49).1, Verdict::Ignore);
        let (u, v) = u.on_provisional(51);
        assert_eq!((v, u.last()), (Verdict::Prack, Some(51)));
    }

    #[test]
    fn reads_what_requests_and_responses_say() {
        let req = |extra: &str| {
            let mut b: heapless::Vec<u8, 512> = heapless::Vec::new();
            b.extend_from_slice(b"INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: 1 INVITE\r\n").unwrap();
            b.extend_from_slice(extra.as_bytes()).unwrap();
            b.extend_from_slice(b"Content-Length: 0\r\n\r\n").unwrap();
            b
        };
        let w = |extra: &str| wanted(&Message::parse(&req(extra)).unwrap());
        assert_eq!(w("Supported: timer, 100REL\r\n"), Wanted::Supported);
        assert_eq!(
            w("Supported: 100rel\r\nRequire: 100rel\r\n"),
            Wanted::Required
        );
        assert_eq!(w("Supported: timer\r\n"), Wanted::No);

        let resp = |text: &[u8]| reliable_rseq(&Message::parse(text).unwrap());
        assert_eq!(
            resp(b"SIP/2.0 180 Ringing\r\nRequire: 100rel\r\nRSeq: 9\r\nContent-Length: 0\r\n\r\n"),
            Some(9)
        );
        // No Require, a 100, or a bad RSeq: not reliable.
        assert_eq!(
            resp(b"SIP/2.0 180 Ringing\r\nRSeq: 9\r\nContent-Length: 0\r\n\r\n"),
            None
        );
        assert_eq!(
            resp(b"SIP/2.0 100 Trying\r\nRequire: 100rel\r\nRSeq: 9\r\nContent-Length: 0\r\n\r\n"),
            None
        );
        assert_eq!(
            resp(
                b"SIP/2.0 183 Progress\r\nRequire: 100rel\r\nRSeq: 0\r\nContent-Length: 0\r\n\r\n"
            ),
            None
        );
    }
}
