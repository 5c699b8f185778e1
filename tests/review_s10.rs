//! Review s10: the call's own 2xx after the call ended, credentials for a call this side
//! answered, registrations that try again, and the peer's Min-SE in this side's
//! refreshes.

mod scripted_support;

use sansip::Instant;
use sansip::endpoint::{CallHandle, DigestCredentials, Event, RegistrationHandle, Transport};
use sansip::message::{HeaderKind, Method, StatusCode};
use sansip::register::{Retry, State};
use scripted_support::*;

/// An endpoint with lingering records on or off.
fn ep_with(linger: bool) -> Box<Ep> {
    if linger {
        lingering()
    } else {
        endpoint(Transport::Udp)
    }
}

/// The callee's 200 to `invite` with To tag `tag`, a Contact and an answer.
fn ok_from(invite: &[u8], tag: &str) -> Vec<u8> {
    response_to(invite, 200, tag, &[("Contact", CONTACT)], Some(SDP))
}

// ----- 1. the call's own 2xx after the call ended -----------------------------------

/// A second fork's 2xx while the call is up is ACKed and BYEd (§13.2.2.4). Once the
/// call is over (and its INVITE still waits out Timer M), a retransmission of that
/// fork's 2xx must get its ACK alone: its dialog was BYEd already, and a second BYE
/// repeats that BYE's CSeq number in a dialog the fork ended. With the fork's early
/// dialog (a 180 first) and without, lingering records on and off.
#[test]
fn a_late_forks_2xx_byed_during_the_call_is_not_byed_again_after_it() {
    for (linger, early) in [(false, false), (true, false), (false, true), (true, true)] {
        let case = format!("linger {linger}, early dialog {early}");
        let mut ep = ep_with(linger);
        let now = Instant::ZERO;
        let (call, invite) = place_call(&mut ep, now, true);
        if early {
            let ringing = response_to(&invite, 180, "b2", &[("Contact", CONTACT)], None);
            feed(&mut ep, now, &ringing);
            assert!(sent(&mut ep).is_empty(), "{case}");
        }
        feed(&mut ep, now, &ok_from(&invite, "b1"));
        assert_eq!(methods(&sent(&mut ep)), ["ACK"], "{case}");
        assert!(events(&mut ep).contains(&Event::CallEstablished { call }));
        let late = ok_from(&invite, "b2");
        feed(&mut ep, now, &late);
        let out = sent(&mut ep);
        assert_eq!(methods(&out), ["ACK", "BYE"], "{case}");
        let first_bye = summary(&out[1].1);
        feed(&mut ep, now, &response_to(&out[1].1, 200, "", &[], None));
        // While the call goes on, its retransmission gets the ACK alone.
        feed(&mut ep, now, &late);
        assert_eq!(methods(&sent(&mut ep)), ["ACK"], "{case}");
        ep.hangup(now, call).unwrap();
        let out = sent(&mut ep);
        assert_eq!(methods(&out), ["BYE"], "{case}");
        feed(&mut ep, now, &response_to(&out[0].1, 200, "", &[], None));
        assert!(
            events(&mut ep)
                .iter()
                .any(|e| matches!(e, Event::CallTerminated { call: c, .. } if *c == call)),
            "{case}"
        );
        feed(&mut ep, now, &late);
        let out = sent(&mut ep);
        assert_eq!(
            methods(&out),
            ["ACK"],
            "{case}: fork b2 was BYEd ({first_bye:?}), its 2xx gets the ACK alone; sent {:?}",
            out.iter().map(|(_, b)| summary(b)).collect::<Vec<_>>()
        );
    }
}

/// RFC 3261 §9.1 race: the host cancels a ringing call, the callee's 2xx crosses the
/// CANCEL; the 2xx is ACKed and BYEd, the call ends. A retransmission of that 2xx
/// after the call ended gets its ACK alone (one BYE per dialog).
#[test]
fn a_2xx_that_raced_the_cancel_is_byed_once() {
    for linger in [false, true] {
        let mut ep = ep_with(linger);
        let now = Instant::ZERO;
        let (call, invite) = ringing_call(&mut ep, now);
        ep.cancel(now, call).unwrap();
        let out = sent(&mut ep);
        assert_eq!(methods(&out), ["CANCEL"]);
        let cancel = out[0].1.clone();
        let ok = ok_from(&invite, "b1");
        feed(&mut ep, now, &ok);
        let out = sent(&mut ep);
        assert_eq!(methods(&out), ["ACK", "BYE"], "linger {linger}");
        feed(&mut ep, now, &response_to(&cancel, 200, "b1", &[], None));
        feed(&mut ep, now, &response_to(&out[1].1, 200, "", &[], None));
        sent(&mut ep);
        let evs = events(&mut ep);
        assert!(
            evs.iter()
                .any(|e| matches!(e, Event::CallTerminated { call: c, .. } if *c == call)),
            "linger {linger}: {evs:?}"
        );
        feed(&mut ep, now, &ok);
        assert_eq!(methods(&sent(&mut ep)), ["ACK"], "linger {linger}");
    }
}

// ----- 2. credentials for a call this side answered ----------------------------------

/// Whether `request` answers the proxy's challenge with `password`.
fn answers_with(request: &[u8], password: &str) -> bool {
    let m = parse(request);
    let Some(h) = m.header(HeaderKind::ProxyAuthorization) else {
        return false;
    };
    let creds = sansip::message::Credentials::parse(h.value).unwrap();
    sansip::auth::verify(&creds, m.method().unwrap(), password, m.body()) == Ok(true)
}

/// The callee's re-INVITE, challenged and sent again with its credentials: the
/// re-INVITE sent again.
fn challenged_reinvite(ep: &mut Ep, now: Instant, call: CallHandle) -> Vec<u8> {
    ep.reinvite(now, call, &[], ("application/sdp", SDP))
        .unwrap();
    let reinvite = sent(ep).pop().unwrap().1;
    feed(ep, now, &challenge(&reinvite));
    let out = sent(ep);
    assert_eq!(methods(&out), ["ACK", "INVITE"]);
    assert!(answers_with(&out[1].1, "secret"));
    out[1].1.clone()
}

/// RFC 3261 §22.1: the ACK of a 2xx carries the credentials of its INVITE. A host that
/// takes the call's credentials away (or replaces them) while its challenged re-INVITE
/// waits for its 2xx has not changed what that re-INVITE carried: its ACK still carries
/// them (a proxy that wanted them on the re-INVITE wants them on its ACK, which it
/// cannot challenge).
#[test]
fn the_ack_of_a_challenged_reinvite_keeps_its_credentials_whatever_the_host_does_next() {
    const BOB: DigestCredentials<'static> = DigestCredentials::new("bob", "secret");
    const NEW: DigestCredentials<'static> = DigestCredentials::new("bob", "rotated");
    for (replace, linger) in [
        (Some(&NEW), false),
        (None, false),
        (Some(&NEW), true),
        (None, true),
    ] {
        let case = format!("replaced with {replace:?}, linger {linger}");
        let mut ep = ep_with(linger);
        let now = Instant::ZERO;
        let call = answered(&mut ep, now, "s10r-ack", Some(&BOB));
        let again = challenged_reinvite(&mut ep, now, call);
        let contact = [("Contact", "<sip:alice@127.0.0.1:5070>")];
        let ok = response_to(&again, 200, "", &contact, Some(SDP));
        if linger {
            // Answered and read: the re-INVITE lingers as a record (Timer M), and a
            // retransmission of its 2xx (the ACK was lost) is ACKed from there.
            feed(&mut ep, now, &ok);
            assert_eq!(methods(&sent(&mut ep)), ["ACK"], "{case}");
            events(&mut ep);
        }
        ep.set_credentials(call, replace).unwrap();
        feed(&mut ep, now, &ok);
        let out = sent(&mut ep);
        assert_eq!(methods(&out), ["ACK"], "{case}");
        assert_eq!(
            value(&parse(&out[0].1), HeaderKind::ProxyAuthorization),
            value(&parse(&again), HeaderKind::ProxyAuthorization),
            "{case}: the re-INVITE's credentials"
        );
    }
}

/// Credentials replaced mid-call answer the next challenge with the new password;
/// taken away, the next challenge ends the request as without credentials. The
/// challenge the old ones answered is not answered on later requests (the docs).
#[test]
fn credentials_replaced_or_taken_away_mid_call() {
    const BOB: DigestCredentials<'static> = DigestCredentials::new("bob", "secret");
    const NEW: DigestCredentials<'static> = DigestCredentials::new("bob", "rotated");
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let call = answered(&mut ep, now, "s10r-replace", Some(&BOB));
    ep.request_in_call(now, call, Method::Info, &[], None)
        .unwrap();
    let info = sent(&mut ep).pop().unwrap().1;
    feed(&mut ep, now, &challenge(&info));
    let again = sent(&mut ep).pop().unwrap().1;
    assert!(answers_with(&again, "secret"));
    let seq = parse(&again).cseq().unwrap().seq();
    feed(&mut ep, now, &response_to(&again, 200, "", &[], None));
    ep.set_credentials(call, Some(&NEW)).unwrap();
    ep.request_in_call(now, call, Method::Info, &[], None)
        .unwrap();
    let info = sent(&mut ep).pop().unwrap().1;
    assert!(
        parse(&info)
            .header(HeaderKind::ProxyAuthorization)
            .is_none()
    );
    assert_eq!(parse(&info).cseq().unwrap().seq(), seq + 1);
    feed(&mut ep, now, &challenge(&info));
    let again = sent(&mut ep).pop().unwrap().1;
    assert!(answers_with(&again, "rotated"));
    assert_eq!(parse(&again).cseq().unwrap().seq(), seq + 2);
    feed(&mut ep, now, &response_to(&again, 200, "", &[], None));
    ep.set_credentials(call, None).unwrap();
    ep.hangup(now, call).unwrap();
    let bye = sent(&mut ep).pop().unwrap().1;
    assert_eq!(parse(&bye).cseq().unwrap().seq(), seq + 3);
    assert!(parse(&bye).header(HeaderKind::ProxyAuthorization).is_none());
    feed(&mut ep, now, &challenge(&bye));
    assert!(
        methods(&sent(&mut ep)).is_empty(),
        "no credentials: no retry"
    );
}

/// Handles are generation-checked: credentials of a call that ended do not pass to the
/// next call in its slot, and its stale handle is refused.
#[test]
fn credentials_stay_with_their_call() {
    const BOB: DigestCredentials<'static> = DigestCredentials::new("bob", "secret");
    let mut ep = endpoint(Transport::Udp);
    let now = Instant::ZERO;
    let first = answered(&mut ep, now, "s10r-first", Some(&BOB));
    ep.hangup(now, first).unwrap();
    let bye = sent(&mut ep).pop().unwrap().1;
    feed(&mut ep, now, &response_to(&bye, 200, "", &[], None));
    events(&mut ep);
    let second = answered(&mut ep, now, "s10r-second", None);
    assert_ne!(first, second);
    assert_eq!(
        ep.set_credentials(first, Some(&BOB)),
        Err(sansip::endpoint::SendError::UnknownHandle)
    );
    ep.hangup(now, second).unwrap();
    let bye = sent(&mut ep).pop().unwrap().1;
    feed(&mut ep, now, &challenge(&bye));
    assert!(
        methods(&sent(&mut ep)).is_empty(),
        "the second call has none"
    );
}

// ----- 3. registrations that try again ------------------------------------------------

/// The wait a `RegistrationRetrying` event of `reg` gives.
fn retrying(evs: &[Event], reg: RegistrationHandle) -> Option<(StatusCode, std::time::Duration)> {
    evs.iter().find_map(|e| match e {
        Event::RegistrationRetrying {
            reg: r,
            status,
            after,
        } if *r == reg => Some((*status, *after)),
        _ => None,
    })
}

/// RFC 3261 §20.33: Retry-After may carry a comment and a `duration`; the delay is the
/// number. A first REGISTER answered 503 with one waits no less (RFC 5626 §4.5 would
/// draw 30-60 s), then goes with the next CSeq number.
#[test]
fn retry_after_with_a_comment_is_honoured() {
    let (mut ep, reg, first) = registering(Some(Retry::RFC5626), "alice", "wonderland");
    let header = [("Retry-After", "300 (down for maintenance);duration=60")];
    feed(
        &mut ep,
        Instant::ZERO,
        &response_to(&first, 503, "r", &header, None),
    );
    let evs = events(&mut ep);
    let (status, after) = retrying(&evs, reg).unwrap_or_else(|| panic!("{evs:?}"));
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(after, std::time::Duration::from_secs(300));
    assert_eq!(ep.registration_state(reg), Some(State::Retrying));
    assert!(run(&mut ep, Instant::from_millis(299_999)).is_empty());
    let out = run(&mut ep, Instant::from_millis(300_000));
    assert_eq!(out.len(), 1);
    assert_eq!(parse(&out[0].1).cseq().unwrap().seq(), 2);
}

/// Degenerate policies neither panic nor spin: a zero base (and maximum) waits
/// `Retry::MIN_WAIT` (of which the endpoint waits a random half to all), not zero; a huge
/// one waits as long as an `Instant` reaches.
#[test]
fn degenerate_retry_policies_do_not_panic() {
    let zero = Retry {
        base: std::time::Duration::ZERO,
        max: std::time::Duration::ZERO,
    };
    let (mut ep, reg, first) = registering(Some(zero), "alice", "wonderland");
    feed(
        &mut ep,
        Instant::ZERO,
        &response_to(&first, 500, "r", &[], None),
    );
    let evs = events(&mut ep);
    let (status, after) = retrying(&evs, reg).expect("retrying");
    assert_eq!(status, StatusCode::SERVER_INTERNAL_ERROR);
    assert!(
        (Retry::MIN_WAIT / 2..=Retry::MIN_WAIT).contains(&after),
        "{after:?}"
    );
    let at = Instant::ZERO + after;
    assert_eq!(ep.poll_timeout(), Some(at));
    ep.handle_timeout(Instant::ZERO);
    assert!(sent(&mut ep).is_empty(), "not at once");
    ep.handle_timeout(at);
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["REGISTER"], "once");

    let huge = Retry {
        base: std::time::Duration::MAX,
        max: std::time::Duration::MAX,
    };
    let (mut ep, reg, first) = registering(Some(huge), "alice", "wonderland");
    feed(
        &mut ep,
        Instant::ZERO,
        &response_to(&first, 503, "r", &[], None),
    );
    let evs = events(&mut ep);
    assert!(retrying(&evs, reg).is_some(), "{evs:?}");
    assert_eq!(ep.registration_state(reg), Some(State::Retrying));
    ep.unregister(Instant::ZERO, reg).unwrap();
    assert!(events(&mut ep).contains(&Event::Unregistered { reg }));
}

/// §10.2.8 on a retried REGISTER: its 423 raises the expiry asked for, and the 2xx ends
/// the retries; the next failure starts the back-off from its first step again.
#[test]
fn a_retried_register_follows_a_423() {
    let (mut ep, reg, first) = registering(Some(Retry::RFC5626), "alice", "wonderland");
    feed(
        &mut ep,
        Instant::ZERO,
        &response_to(&first, 504, "r", &[], None),
    );
    let (_, after) = retrying(&events(&mut ep), reg).unwrap();
    let t = Instant::ZERO + after;
    let out = run(&mut ep, t);
    assert_eq!(out.len(), 1);
    feed(
        &mut ep,
        t,
        &response_to(&out[0].1, 423, "r", &[("Min-Expires", "3600")], None),
    );
    let out = sent(&mut ep);
    assert_eq!(methods(&out), ["REGISTER"]);
    let m = parse(&out[0].1);
    assert_eq!(value(&m, HeaderKind::Expires), Some("3600"));
    assert_eq!(m.cseq().unwrap().seq(), 3);
    feed(
        &mut ep,
        t,
        &response_to(&out[0].1, 200, "r", &[("Expires", "3600")], None),
    );
    assert!(events(&mut ep).contains(&Event::Registered { reg, expires: 3600 }));
    // The refresh at 3240 s fails: 30-60 s, the first step again.
    let refresh_at = t + std::time::Duration::from_secs(3240);
    let out = run(&mut ep, refresh_at);
    assert_eq!(out.len(), 1);
    assert_eq!(value(&parse(&out[0].1), HeaderKind::Expires), Some("3600"));
    feed(
        &mut ep,
        refresh_at,
        &response_to(&out[0].1, 503, "r", &[], None),
    );
    let (_, after) = retrying(&events(&mut ep), reg).unwrap();
    assert!(
        (std::time::Duration::from_secs(30)..=std::time::Duration::from_secs(60)).contains(&after),
        "{after:?}"
    );
}

/// The machine: a retry answers challenges anew (a proxy's 407 then the registrar's 401
/// each round), so two rounds of two challenges do not add up past `MAX_AUTH_TRIES`.
#[test]
fn challenge_counts_start_again_with_each_retry() {
    use sansip::register::{Event as RegEvent, Notice, Registration};
    let resp = |code: u16| RegEvent::Response {
        code: StatusCode::new(code).unwrap(),
        expires: None,
        min_expires: None,
        stale: false,
        refused: false,
    };
    let (r, _) = Registration::new(600);
    let mut r = r.with_retry(Retry::RFC5626);
    for round in 0..3 {
        r = r.step(resp(407)).registration;
        r = r.step(resp(401)).registration;
        assert_eq!(r.state(), State::Registering, "round {round}");
        let s = r.step(resp(503));
        assert!(
            s.actions
                .iter()
                .any(|a| matches!(a, sansip::register::Action::Notify(Notice::Retrying { .. }))),
            "round {round}"
        );
        r = s.registration.step(RegEvent::Refresh).registration;
    }
    assert_eq!(r.cseq(), 1 + 3 * 3, "CSeq one up per REGISTER");
}

// ----- 4. the peer's Min-SE in this side's refreshes -----------------------------------

/// RFC 4028 §7.4 through the UPDATE path: the caller's UPDATE (a session refresh
/// request, §9) raises Min-SE to 1500 and hands the refreshes to this side; this side's
/// next refresh asks for no less, in Session-Expires and Min-SE.
#[test]
fn the_peers_update_min_se_is_kept_for_this_sides_refresh() {
    let mut ep = timed();
    let now = Instant::ZERO;
    let id = "s10r-update";
    let invite = String::from_utf8(invite_from_peer(id))
        .unwrap()
        .replace(
            "Content-Length: 0\r\n",
            "Supported: timer\r\nSession-Expires: 1800;refresher=uac\r\nContent-Length: 0\r\n",
        )
        .into_bytes();
    feed(&mut ep, now, &invite);
    let evs = events(&mut ep);
    let (tx, call) = incoming(&evs)[0];
    let call = call.unwrap();
    ep.respond(now, tx, StatusCode::OK, Some(("application/sdp", SDP)))
        .unwrap();
    let ok = sent(&mut ep).pop().unwrap().1;
    let tag = parse(&ok).to().unwrap().tag().unwrap().to_owned();
    feed(&mut ep, now, &from_peer_in_call(id, &tag, "ACK", 1, ""));
    assert!(events(&mut ep).contains(&Event::CallEstablished { call }));
    let extra = "Supported: timer\r\nSession-Expires: 1500;refresher=uas\r\nMin-SE: 1500\r\n";
    feed(
        &mut ep,
        now,
        &from_peer_in_call(id, &tag, "UPDATE", 2, extra),
    );
    let evs = events(&mut ep);
    let (tx, _) = incoming(&evs)[0];
    ep.respond(now, tx, StatusCode::OK, None).unwrap();
    let ok = sent(&mut ep).pop().unwrap().1;
    assert_eq!(
        value(&parse(&ok), HeaderKind::SessionExpires),
        Some("1500;refresher=uas")
    );
    // This side refreshes at half the interval (§10).
    let out = run(&mut ep, Instant::from_millis(750_000));
    assert_eq!(out.len(), 1, "the refresh");
    let refresh = parse(&out[0].1);
    assert_eq!(refresh.method(), Some(Method::Invite));
    assert_eq!(value(&refresh, HeaderKind::MinSe), Some("1500"));
    let se = value(&refresh, HeaderKind::SessionExpires).unwrap();
    let secs: u32 = se.split(';').next().unwrap().parse().unwrap();
    assert!(secs >= 1500, "{se}");
}

/// A hang-up whose BYE could not be sent (a full transaction table) still ends the
/// call; the dialog was not BYEd, so a retransmission of its 2xx (the peer never saw
/// the ACK) is the one chance left to end it at the peer: ACK and BYE.
#[test]
fn a_2xx_whose_bye_never_went_is_byed_when_it_comes_again() {
    for linger in [false, true] {
        let mut ep = ep_with(linger);
        let now = Instant::ZERO;
        let (call, invite) = place_call(&mut ep, now, true);
        let ok = ok_from(&invite, "b1");
        feed(&mut ep, now, &ok);
        assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
        events(&mut ep);
        let mut options = Vec::new();
        loop {
            let req = sansip::endpoint::Request::new(
                Method::Options,
                CALLEE,
                "<sip:alice@127.0.0.1>",
                "<sip:bob@127.0.0.1>",
            );
            match ep.send_request(now, addr(PEER), &req) {
                Ok(_) => options.push(sent(&mut ep).pop().unwrap().1),
                Err(_) => break,
            }
        }
        let hung = ep.hangup(now, call);
        let out = sent(&mut ep);
        assert!(
            methods(&out).is_empty(),
            "linger {linger}: no room for the BYE"
        );
        let evs = events(&mut ep);
        assert!(
            evs.iter()
                .any(|e| matches!(e, Event::CallTerminated { call: c, .. } if *c == call)),
            "linger {linger}: {hung:?} {evs:?}"
        );
        // The OPTIONS are answered and wait out Timer K (T4): the table has room again,
        // while the INVITE still waits out Timer M (64*T1).
        for o in &options {
            feed(&mut ep, now, &response_to(o, 200, "o", &[], None));
        }
        let later = Instant::from_millis(6_000);
        run(&mut ep, later);
        events(&mut ep);
        feed(&mut ep, later, &ok);
        let out = sent(&mut ep);
        assert_eq!(methods(&out), ["ACK", "BYE"], "linger {linger}");
    }
}

/// RFC 5626 §4.5 retries are for a registrar that was away; back, it no longer knows the
/// nonces it gave, and challenges afresh (no `stale`: RFC 2617 §3.2.1 says so only of
/// a nonce it knows to be old). The retried REGISTER used to carry credentials built
/// on the old nonce, so that challenge read as a refusal of them (§22.1) and ended the
/// registration; the retry now answers challenges anew, as the machine counts them.
#[test]
fn a_retry_after_the_registrar_came_back_answers_its_fresh_challenge() {
    let (mut ep, reg, first) = registering(Some(Retry::RFC5626), "alice", "wonderland");
    let now = Instant::ZERO;
    let ch1 = [(
        "WWW-Authenticate",
        "Digest realm=\"r\", nonce=\"n1\", qop=\"auth\"",
    )];
    feed(&mut ep, now, &response_to(&first, 401, "r", &ch1, None));
    let second = sent(&mut ep).remove(0).1;
    assert!(parse(&second).header(HeaderKind::Authorization).is_some());
    feed(
        &mut ep,
        now,
        &response_to(&second, 200, "r", &[("Expires", "600")], None),
    );
    let refresh_at = Instant::from_millis(540_000);
    let out = run(&mut ep, refresh_at);
    feed(
        &mut ep,
        refresh_at,
        &response_to(&out[0].1, 503, "r", &[], None),
    );
    let (_, after) = retrying(&events(&mut ep), reg).unwrap();
    let t = refresh_at + after;
    let out = run(&mut ep, t);
    assert_eq!(out.len(), 1);
    let retried = out[0].1.clone();
    let ch2 = [(
        "WWW-Authenticate",
        "Digest realm=\"r\", nonce=\"n2\", qop=\"auth\"",
    )];
    feed(&mut ep, t, &response_to(&retried, 401, "r", &ch2, None));
    let out = sent(&mut ep);
    let evs = events(&mut ep);
    assert_eq!(methods(&out), ["REGISTER"], "{evs:?}");
    let answer = value(&parse(&out[0].1), HeaderKind::Authorization)
        .unwrap()
        .to_owned();
    assert!(answer.contains("nonce=\"n2\""), "{answer}");
    feed(
        &mut ep,
        t,
        &response_to(&out[0].1, 200, "r", &[("Expires", "600")], None),
    );
    assert!(events(&mut ep).contains(&Event::Registered { reg, expires: 600 }));
}

/// §22.1 for the call's own 2xx retransmitted after the call ended: its ACK (the one
/// thing it still gets) carries the INVITE's credentials, also once the call's slot
/// went to a new call placed without any.
#[test]
fn the_ack_after_the_call_keeps_the_invites_credentials() {
    for linger in [false, true] {
        let mut ep = ep_with(linger);
        let now = Instant::ZERO;
        let (call, invite) = challenged_call(&mut ep, now);
        let ok = ok_from(&invite, "b1");
        feed(&mut ep, now, &ok);
        let out = sent(&mut ep);
        assert_eq!(methods(&out), ["ACK"]);
        let creds = value(&parse(&invite), HeaderKind::ProxyAuthorization).map(str::to_owned);
        assert!(creds.is_some());
        assert_eq!(
            value(&parse(&out[0].1), HeaderKind::ProxyAuthorization).map(str::to_owned),
            creds
        );
        ep.hangup(now, call).unwrap();
        let bye = sent(&mut ep).pop().unwrap().1;
        feed(&mut ep, now, &response_to(&bye, 200, "", &[], None));
        events(&mut ep);
        // New calls, without credentials, until one takes the ended call's slot.
        let slot = |c: CallHandle| format!("{c:?}").split(',').next().unwrap().to_owned();
        let reused = (0..8).any(|_| {
            let (next, _) = place_call(&mut ep, now, true);
            next != call && slot(next) == slot(call)
        });
        assert!(reused, "linger {linger}");
        feed(&mut ep, now, &ok);
        let out = sent(&mut ep);
        assert_eq!(methods(&out), ["ACK"], "linger {linger}");
        assert_eq!(
            value(&parse(&out[0].1), HeaderKind::ProxyAuthorization).map(str::to_owned),
            creds,
            "linger {linger}"
        );
    }
}

/// The same for a late fork whose dialog a `Dialog` cannot keep (more Record-Routes than
/// `MAX_ROUTES`): its ACK and BYE are written from the INVITE and the 2xx while the
/// call goes on, and once the call is over its 2xx again gets the ACK alone.
#[test]
fn an_unkept_late_forks_2xx_is_byed_once_across_the_calls_end() {
    for linger in [false, true] {
        let mut ep = ep_with(linger);
        let now = Instant::ZERO;
        let (call, invite) = place_call(&mut ep, now, true);
        feed(&mut ep, now, &ok_from(&invite, "b1"));
        assert_eq!(methods(&sent(&mut ep)), ["ACK"]);
        let late = routed_ok(&invite, "b2", sansip::dialog::MAX_ROUTES + 1);
        feed(&mut ep, now, &late);
        let out = sent(&mut ep);
        assert_eq!(methods(&out), ["ACK", "BYE"], "linger {linger}");
        feed(&mut ep, now, &response_to(&out[1].1, 200, "", &[], None));
        feed(&mut ep, now, &late);
        assert_eq!(methods(&sent(&mut ep)), ["ACK"], "linger {linger}");
        events(&mut ep);
        ep.hangup(now, call).unwrap();
        let bye = sent(&mut ep).pop().unwrap().1;
        feed(&mut ep, now, &response_to(&bye, 200, "", &[], None));
        feed(&mut ep, now, &late);
        let out = sent(&mut ep);
        assert_eq!(
            methods(&out),
            ["ACK"],
            "linger {linger}: {:?}",
            out.iter().map(|(_, b)| summary(b)).collect::<Vec<_>>()
        );
    }
}
