//! Review s7: RFC conformance of the pure layers (transactions, the INVITE session, the
//! subscriber and notifier, registration), driven through their public `step` APIs with
//! no endpoint in between. Each test asserts the behaviour the RFC asks for and cites its
//! section; those of a defect failed before its fix (said in their docs), the others pin
//! a path found sound.

use core::time::Duration;

use sansip::dialog::{Action, Config, Event, InviteSession, SessionState, Tag};
use sansip::message::StatusCode;

fn tag(s: &str) -> Tag {
    Tag::new(s).unwrap()
}

fn code(c: u16) -> StatusCode {
    StatusCode::new(c).unwrap()
}

/// A callee whose call is up: INVITE answered 200 and ACKed.
fn callee_up(cfg: &Config) -> InviteSession {
    let s = InviteSession::uas(1, tag("caller"), true);
    let s = s.step(cfg, Event::TuAnswer).session;
    let s = s
        .step(
            cfg,
            Event::Ack {
                cseq: 1,
                body: false,
            },
        )
        .session;
    assert_eq!(s.state(), SessionState::Confirmed);
    s
}

/// RFC 3261 §15 / §13.3.1.4: a callee that hangs up while its 2xx to a re-INVITE waits
/// for the ACK defers the BYE until the ACK arrives, and then sends it. Before the fix
/// the deferred BYE was forgotten when the ACK came: the call stayed up for ever.
#[test]
fn callee_bye_deferred_during_reinvite_is_sent_on_its_ack() {
    let cfg = Config::default();
    let s = callee_up(&cfg);
    let s = s
        .step(
            &cfg,
            Event::ReInvite {
                body: true,
                cseq: 2,
            },
        )
        .session;
    let s = s.step(&cfg, Event::TuAnswer).session;
    let step = s.step(&cfg, Event::TuHangUp);
    assert!(
        !step
            .actions
            .iter()
            .any(|a| matches!(a, Action::SendBye { .. })),
        "no BYE before the ACK of the 2xx: {:?}",
        step.actions
    );
    let step = step.session.step(
        &cfg,
        Event::Ack {
            cseq: 2,
            body: false,
        },
    );
    assert!(
        step.actions
            .iter()
            .any(|a| matches!(a, Action::SendBye { remote_tag } if *remote_tag == tag("caller"))),
        "the deferred BYE goes out with the ACK: {:?}",
        step.actions
    );
    assert!(step.session.is_terminated());
}

/// RFC 3261 §9.2: a CANCEL that matches the INVITE server transaction after the final
/// response was sent has no effect on the INVITE, but "as long as the CANCEL matched an
/// existing transaction, the UAS answers the CANCEL request itself with a 200 (OK)".
/// A callee that rejected the call (its INVITE transaction still in Completed, absorbing
/// retransmissions) answered such a CANCEL 481 before the fix.
#[test]
fn callee_answers_a_late_cancel_200_after_rejecting() {
    let cfg = Config::default();
    let s = InviteSession::uas(1, tag("caller"), true);
    let s = s.step(&cfg, Event::TuReject(code(486))).session;
    assert!(s.is_terminated());
    let step = s.step(&cfg, Event::Cancel);
    assert_eq!(
        step.actions.as_slice(),
        [Action::Respond {
            to: sansip::dialog::RequestKind::Cancel,
            code: StatusCode::OK,
            sdp: sansip::dialog::Sdp::None,
        }],
        "200 to the CANCEL, nothing for the INVITE"
    );
}

/// RFC 3261 §9.2: the same for a CANCEL that crosses the caller's BYE on the early
/// dialog (§15.1.2: the INVITE got 487, the session is over): 200, and the INVITE is
/// not answered a second time. Before the fix the CANCEL got 481.
#[test]
fn callee_answers_cancel_200_after_early_bye() {
    let cfg = Config::default();
    let s = InviteSession::uas(1, tag("caller"), true);
    let step = s.step(
        &cfg,
        Event::Bye {
            remote_tag: tag("caller"),
        },
    );
    assert!(step.session.is_terminated());
    let step = step.session.step(&cfg, Event::Cancel);
    assert_eq!(
        step.actions.as_slice(),
        [Action::Respond {
            to: sansip::dialog::RequestKind::Cancel,
            code: StatusCode::OK,
            sdp: sansip::dialog::Sdp::None,
        }]
    );
}

/// Found sound, pinned: a caller's session answers a CANCEL 481, since it has no INVITE
/// server transaction the CANCEL could match (§9.2).
#[test]
fn caller_answers_cancel_481() {
    let cfg = Config::default();
    let step = InviteSession::uac(1, true).step(&cfg, Event::Cancel);
    assert_eq!(
        step.actions.as_slice(),
        [Action::Respond {
            to: sansip::dialog::RequestKind::Cancel,
            code: StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST,
            sdp: sansip::dialog::Sdp::None,
        }]
    );
}

/// The crate's rule 1 (DESIGN.md: no panics on any input) for the session's timers: a
/// host-supplied T1 so large that 64*T1 overflows a `Duration` saturates, as the
/// transaction timers do (`transaction::Config::t1_x64`). Before the fix answering the
/// INVITE panicked ("overflow when multiplying duration by scalar").
#[test]
fn huge_t1_saturates_the_2xx_timers() {
    let cfg = Config {
        t1: Duration::MAX,
        t2: Duration::MAX,
    };
    let step = InviteSession::uas(1, tag("caller"), true).step(&cfg, Event::TuAnswer);
    assert!(step.actions.contains(&Action::StartTimer(
        sansip::dialog::SessionTimer::AckTimeout,
        Duration::MAX
    )));
    let step = step.session.step(
        &cfg,
        Event::Timer(sansip::dialog::SessionTimer::Retransmit2xx),
    );
    assert!(step.actions.contains(&Action::StartTimer(
        sansip::dialog::SessionTimer::Retransmit2xx,
        Duration::MAX
    )));
}

/// RFC 3261 §13.3.1.4 / §14.2: the UAS retransmits a re-INVITE's 2xx until *its* ACK,
/// the one with the re-INVITE's CSeq number (§13.2.2.4: the ACK repeats the INVITE's
/// CSeq number). A late copy of the initial INVITE's ACK (CSeq 1; the caller ACKs every
/// 2xx copy it got) acknowledges nothing now. Before the fix the session could not tell
/// the re-INVITE's CSeq and took any ACK as its ACK: the 2xx retransmissions stopped, and
/// if the real ACK (with the answer to an offer in the 2xx) was lost it was never asked
/// for again.
#[test]
fn reinvite_2xx_is_retransmitted_until_the_ack_with_its_cseq() {
    use sansip::dialog::SessionTimer;
    let cfg = Config::default();
    let s = callee_up(&cfg);
    let s = s
        .step(
            &cfg,
            Event::ReInvite {
                body: false,
                cseq: 2,
            },
        )
        .session;
    let s = s.step(&cfg, Event::TuAnswer).session;
    let step = s.step(
        &cfg,
        Event::Ack {
            cseq: 1,
            body: false,
        },
    );
    assert!(
        step.actions.is_empty(),
        "an old ACK stops nothing: {:?}",
        step.actions
    );
    assert!(!step.session.can_reinvite(), "the re-INVITE is not over");
    let step = step
        .session
        .step(&cfg, Event::Timer(SessionTimer::Retransmit2xx));
    assert!(step.actions.contains(&Action::Retransmit2xx));
    let step = step.session.step(
        &cfg,
        Event::Ack {
            cseq: 2,
            body: true,
        },
    );
    assert!(
        step.actions
            .contains(&Action::CancelTimer(SessionTimer::Retransmit2xx))
    );
    assert!(step.session.can_reinvite());
}

/// A caller whose call is up: INVITE (CSeq 1) answered 200 by "callee" and ACKed.
fn caller_up(cfg: &Config) -> InviteSession {
    let step = InviteSession::uac(1, true).step(
        cfg,
        Event::Response {
            code: StatusCode::OK,
            to_tag: Some(tag("callee")),
            cseq: 1,
            body: true,
        },
    );
    assert_eq!(step.session.state(), SessionState::Confirmed);
    step.session
}

/// The caller's re-INVITE (CSeq 2) crossed the callee's and got 491: the §14.1 back-off
/// runs.
fn caller_in_glare_backoff(cfg: &Config) -> InviteSession {
    use sansip::dialog::SessionTimer;
    let s = caller_up(cfg);
    let s = s
        .step(
            cfg,
            Event::TuReInvite {
                cseq: 2,
                body: true,
                random: 0,
            },
        )
        .session;
    let step = s.step(
        cfg,
        Event::Response {
            code: code(491),
            to_tag: Some(tag("callee")),
            cseq: 2,
            body: false,
        },
    );
    assert!(step.actions.contains(&Action::StartTimer(
        SessionTimer::Glare,
        Duration::from_millis(2100)
    )));
    step.session
}

fn retries(actions: &[Action]) -> bool {
    actions.contains(&Action::Tu(sansip::dialog::Notice::RetryReInvite))
}

/// RFC 3261 §14.1: after a 491 the owner of the Call-ID waits 2.1-4 s, the other side
/// 0-2 s, and then "the UAC SHOULD attempt the re-INVITE once more". So the other side's
/// retry always reaches the owner during the owner's back-off; the owner answers it and
/// is still told, once its own wait is over, that it may retry. Before the fix the
/// peer's re-INVITE cancelled the back-off and the caller never heard `RetryReInvite`:
/// its re-INVITE was lost in every glare.
#[test]
fn glare_backoff_survives_the_peers_retry() {
    use sansip::dialog::SessionTimer;
    let cfg = Config::default();
    let s = caller_in_glare_backoff(&cfg);
    // The callee retries first (0-2 s): the caller answers it.
    let step = s.step(
        &cfg,
        Event::ReInvite {
            body: true,
            cseq: 5,
        },
    );
    assert!(
        !step
            .actions
            .contains(&Action::CancelTimer(SessionTimer::Glare)),
        "{:?}",
        step.actions
    );
    let s = step.session.step(&cfg, Event::TuAnswer).session;
    assert!(!s.can_reinvite(), "the peer's re-INVITE waits for its ACK");
    let s = s
        .step(
            &cfg,
            Event::Ack {
                cseq: 5,
                body: false,
            },
        )
        .session;
    assert!(!s.can_reinvite(), "the back-off is not over yet (§14.1)");
    // The caller's own back-off ends: it may send its re-INVITE again.
    let step = s.step(&cfg, Event::Timer(SessionTimer::Glare));
    assert!(retries(&step.actions), "{:?}", step.actions);
    assert!(step.session.can_reinvite());
}

/// The same, when the back-off ends while the peer's re-INVITE is still in progress:
/// the retry is announced once that INVITE transaction is over (§14.1: no re-INVITE
/// while another is in progress in either direction).
#[test]
fn glare_retry_waits_for_the_peers_reinvite_to_finish() {
    use sansip::dialog::SessionTimer;
    let cfg = Config::default();
    let s = caller_in_glare_backoff(&cfg);
    let s = s
        .step(
            &cfg,
            Event::ReInvite {
                body: true,
                cseq: 5,
            },
        )
        .session;
    let step = s.step(&cfg, Event::Timer(SessionTimer::Glare));
    assert!(!retries(&step.actions), "{:?}", step.actions);
    assert!(!step.session.can_reinvite());
    // The TU rejects the peer's re-INVITE: the INVITE transaction in progress is over.
    let step = step.session.step(&cfg, Event::TuReject(code(488)));
    assert!(retries(&step.actions), "{:?}", step.actions);
    assert!(step.session.can_reinvite());
}
