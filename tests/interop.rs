//! SIPp against the `uas` and `uac` examples over 127.0.0.1 (issue 6).
//!
//! Ignored by default: they need `sipp` (Debian package `sip-tester`) on the PATH.
//! `.ci/run` installs it and runs `cargo test -- --include-ignored`. Each test uses its
//! own ports, so they run in parallel; every child process is killed when its guard
//! drops, and every SIPp run is bounded (`-m`, `-timeout`, `-timeout_error`, and a
//! wall-clock limit here).

mod support;

use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use support::{Guard, examples_dir, read, scratch, start_uas_with};

/// Run SIPp in `dir` with a message trace in `dir/sipp.msg`, bounded by `limit`.
/// `args` are the scenario, target and count options.
fn sipp(dir: &Path, local_port: u16, args: &[&str], limit: Duration) -> (ExitStatus, String) {
    let msg = dir.join("sipp.msg");
    let timeout = format!("{}s", limit.as_secs().saturating_sub(5).max(5));
    let child = Command::new("sipp")
        .current_dir(dir)
        .args(args)
        .args(["-i", "127.0.0.1", "-p", &local_port.to_string()])
        .args(["-timeout", &timeout, "-timeout_error", "-nostdin"])
        .args(["-trace_msg", "-message_file"])
        .arg(&msg)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("sipp.err")).expect("create sipp.err"))
        .spawn()
        .expect("start sipp (install sip-tester)");
    let mut guard = Guard {
        child,
        name: "sipp",
    };
    let status = guard.wait(limit);
    (status, read(&msg))
}

fn scenario(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sipp")
        .join(name)
        .display()
        .to_string()
}

/// What SIPp received, in order: `"BYE"` for a request, `"200 INVITE"` for a response
/// (status and CSeq method), read from its `-trace_msg` log.
fn received(trace: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = trace.lines().peekable();
    while let Some(l) = lines.next() {
        if !l.contains("message received") {
            continue;
        }
        let mut first = None;
        let mut cseq_method = "";
        while let Some(l) = lines.next_if(|l| !l.starts_with("-----")) {
            let l = l.trim();
            if first.is_none() && !l.is_empty() {
                first = Some(l);
            } else if let Some(v) = l.strip_prefix("CSeq:") {
                cseq_method = v.split_whitespace().nth(1).unwrap_or("");
            }
        }
        let Some(first) = first else { continue };
        out.push(match first.strip_prefix("SIP/2.0 ") {
            Some(rest) => format!("{} {cseq_method}", &rest[..rest.len().min(3)]),
            None => first.split(' ').next().unwrap_or("").to_owned(),
        });
    }
    out
}

/// Run one of our scenarios against `uas`; assert SIPp succeeded. Returns the trace.
fn uas_scenario(
    test: &str,
    port: u16,
    file: &str,
    user: &str,
    calls: u32,
    limit: Duration,
) -> String {
    uas_scenario_with(test, port, &[], file, user, calls, limit).0
}

/// [`uas_scenario`] with more `uas` options; returns the trace and the `uas` log.
fn uas_scenario_with(
    test: &str,
    port: u16,
    uas_args: &[&str],
    file: &str,
    user: &str,
    calls: u32,
    limit: Duration,
) -> (String, String) {
    let dir = scratch(test);
    let _uas = start_uas_with(&dir, port, uas_args);
    let sf = scenario(file);
    let m = calls.to_string();
    let target = format!("127.0.0.1:{port}");
    let (status, trace) = sipp(
        &dir,
        port + 1,
        &["-sf", &sf, "-s", user, "-m", &m, "-r", "5", &target],
        limit,
    );
    let log = read(&dir.join("uas.log"));
    assert_eq!(
        status.code(),
        Some(0),
        "sipp {file} failed ({status}); sipp stderr:\n{}\nuas log:\n{log}\nsipp trace:\n{trace}",
        read(&dir.join("sipp.err")),
    );
    (trace, log)
}

/// What SIPp received (see [`received`]), sorted: calls overlap, so their order is not
/// compared.
fn received_sorted(trace: &str) -> Vec<String> {
    let mut got = received(trace);
    got.sort();
    got
}

/// SIPp's built-in `uac` scenario places five calls to `uas` on `port` (SIPp on
/// `port + 1`), with `transport` options for both (`&[]` for UDP): each is answered, and
/// its ACK and BYE reach `uas` from SIPp's address.
fn sipp_uac_calls_uas(test: &str, port: u16, transport: (&[&str], &[&str])) {
    let dir = scratch(test);
    let _uas = start_uas_with(&dir, port, transport.0);
    let target = format!("127.0.0.1:{port}");
    let mut args = vec!["-sn", "uac", "-s", "answer", "-m", "5", "-r", "10"];
    args.extend_from_slice(transport.1);
    args.push(&target);
    let (status, trace) = sipp(&dir, port + 1, &args, Duration::from_secs(30));
    assert_eq!(
        status.code(),
        Some(0),
        "sipp {args:?}: {status}\n{}\nuas log:\n{}",
        read(&dir.join("sipp.err")),
        read(&dir.join("uas.log"))
    );
    // Five calls, each answered and its BYE confirmed.
    let got = received(&trace);
    let count = |what: &str| got.iter().filter(|l| *l == what).count();
    assert_eq!(count("200 INVITE"), 5, "{got:?}");
    assert_eq!(count("200 BYE"), 5, "{got:?}");
    let log = read(&dir.join("uas.log"));
    let sipp_at = format!("< 127.0.0.1:{}", port + 1);
    assert_eq!(log.matches(&format!("{sipp_at} BYE")).count(), 5, "{log}");
    assert_eq!(log.matches(&format!("{sipp_at} ACK")).count(), 5, "{log}");
}

#[test]
#[ignore = "needs sipp"]
fn sipp_uac_calls_our_uas() {
    sipp_uac_calls_uas("uac-vs-uas", 25060, (&[], &[]));
}

/// The same over TCP (`uas --tcp`, `sipp -t t1`): SIPp connects, and every response
/// and the callee's requests go back on its connection (RFC 3261 §18.2.2); the messages
/// are framed by Content-Length (§18.3).
#[test]
#[ignore = "needs sipp"]
fn sipp_uac_calls_our_uas_over_tcp() {
    sipp_uac_calls_uas("uac-vs-uas-tcp", 25260, (&["--tcp"], &["-t", "t1"]));
}

/// SIPp with `sipp_args` (with a message trace in `dir/sipp.msg`) started in the
/// background, then the `uac` example with `uac_args`: both exit statuses (each bounded),
/// the uac's log and SIPp's trace.
fn sipp_against_uac(
    dir: &Path,
    sipp_args: &[&str],
    uac_args: &[&str],
) -> (ExitStatus, ExitStatus, String, String) {
    let mut sipp = Guard {
        child: Command::new("sipp")
            .current_dir(dir)
            .args(sipp_args)
            .args(["-timeout", "30s", "-timeout_error", "-nostdin"])
            .args(["-trace_msg", "-message_file"])
            .arg(dir.join("sipp.msg"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("sipp.err")).expect("sipp.err"))
            .spawn()
            .expect("start sipp (install sip-tester)"),
        name: "sipp",
    };
    // Give SIPp a moment to bind; our requests are retransmitted anyway.
    std::thread::sleep(Duration::from_millis(300));
    let out = dir.join("uac.log");
    let mut uac = Guard {
        child: Command::new(examples_dir().join("uac"))
            .args(uac_args)
            .stdout(std::fs::File::create(&out).expect("uac.log"))
            .spawn()
            .expect("start uac"),
        name: "uac",
    };
    let uac_status = uac.wait(Duration::from_secs(45));
    let sipp_status = sipp.wait(Duration::from_secs(35));
    (
        uac_status,
        sipp_status,
        read(&out),
        read(&dir.join("sipp.msg")),
    )
}

#[test]
#[ignore = "needs sipp"]
fn our_uac_calls_sipp_uas() {
    let dir = scratch("uas-vs-uac");
    let (uac_status, sipp_status, log, _) = sipp_against_uac(
        &dir,
        &["-sn", "uas", "-i", "127.0.0.1", "-p", "25070", "-m", "1"],
        &[
            "--bind",
            "127.0.0.1:25071",
            "call",
            "sip:service@127.0.0.1:25070",
        ],
    );
    assert!(uac_status.success(), "uac: {uac_status}\n{log}");
    assert_eq!(
        sipp_status.code(),
        Some(0),
        "sipp -sn uas: {sipp_status}\n{}\nuac log:\n{log}",
        read(&dir.join("sipp.err"))
    );
    assert!(log.contains("> 127.0.0.1:25070 ACK"), "{log}");
    assert!(log.contains("> 127.0.0.1:25070 BYE"), "{log}");
}

/// Our caller over TCP (`;transport=tcp` in the URI) to SIPp's UAS over TCP.
#[test]
#[ignore = "needs sipp"]
fn our_uac_calls_sipp_uas_over_tcp() {
    let dir = scratch("uas-vs-uac-tcp");
    let (uac_status, sipp_status, log, _) = sipp_against_uac(
        &dir,
        &[
            "-sn",
            "uas",
            "-t",
            "t1",
            "-i",
            "127.0.0.1",
            "-p",
            "25270",
            "-m",
            "1",
        ],
        &[
            "--bind",
            "127.0.0.1:25271",
            "call",
            "sip:service@127.0.0.1:25270;transport=tcp",
        ],
    );
    assert!(uac_status.success(), "uac: {uac_status}\n{log}");
    assert_eq!(
        sipp_status.code(),
        Some(0),
        "sipp -sn uas -t t1: {sipp_status}\n{}\nuac log:\n{log}",
        read(&dir.join("sipp.err"))
    );
    assert!(log.contains("> 127.0.0.1:25270 ACK"), "{log}");
    assert!(log.contains("> 127.0.0.1:25270 BYE"), "{log}");
    assert!(log.contains("uac: BYE answered 200"), "{log}");
}

#[test]
#[ignore = "needs sipp"]
fn cancel_while_ringing() {
    let trace = uas_scenario(
        "cancel",
        25080,
        "cancel.xml",
        "ring",
        2,
        Duration::from_secs(30),
    );
    let got = received(&trace);
    // Per call: 180, 200 to the CANCEL, 487; never a 200 to the INVITE, even after
    // the `ring` user's ringing time is over.
    assert_eq!(
        got,
        ["180 INVITE", "200 CANCEL", "487 INVITE"].repeat(2),
        "{got:?}"
    );
}

#[test]
#[ignore = "needs sipp"]
fn busy_here() {
    let trace = uas_scenario(
        "busy",
        25090,
        "busy.xml",
        "busy",
        2,
        Duration::from_secs(20),
    );
    let got = received(&trace);
    // One 486 per call: the ACK stopped the retransmissions.
    assert_eq!(got, ["486 INVITE"; 2], "{got:?}");
}

#[test]
#[ignore = "needs sipp"]
fn callee_hangs_up() {
    let trace = uas_scenario(
        "callee-bye",
        25100,
        "callee_bye.xml",
        "hangup",
        1,
        Duration::from_secs(25),
    );
    let got = received(&trace);
    assert_eq!(got, ["180 INVITE", "200 INVITE", "BYE"], "{got:?}");
}

#[test]
#[ignore = "needs sipp"]
fn options_answered() {
    let trace = uas_scenario(
        "options",
        25110,
        "options.xml",
        "anyone",
        3,
        Duration::from_secs(20),
    );
    let got = received(&trace);
    assert_eq!(got, ["200 OPTIONS"; 3], "{got:?}");
}

/// The 200 is retransmitted while the ACK is withheld, and the callee gives up with a
/// BYE after 64*T1 = 32 s (RFC 3261 §13.3.1.4). Takes about 33 s.
#[test]
#[ignore = "needs sipp"]
fn withheld_ack() {
    let trace = uas_scenario(
        "noack",
        25120,
        "noack.xml",
        "answer",
        1,
        Duration::from_secs(50),
    );
    let got = received(&trace);
    let oks = got.iter().filter(|l| *l == "200 INVITE").count();
    // Sent at 0, 0.5, 1.5, 3.5, 7.5, 11.5, ... 31.5 s: 10 in all; allow timing slack.
    assert!(oks >= 8, "expected the 200 retransmitted, got {got:?}");
    assert_eq!(got.last().map(String::as_str), Some("BYE"), "{got:?}");
}

/// `uac register` against a SIPp registrar that challenges and then checks the Digest
/// credentials with its own implementation; a wrong password gets 403.
#[test]
#[ignore = "needs sipp"]
fn our_uac_registers_with_a_sipp_registrar() {
    for (password, port, expect_ok) in [("wonderland", 25140, true), ("not-it", 25142, false)] {
        let dir = scratch(&format!("register-{port}"));
        let (sf, local, bind, uri) = (
            scenario("registrar.xml"),
            port.to_string(),
            format!("127.0.0.1:{}", port + 1),
            format!("sip:127.0.0.1:{port}"),
        );
        let (uac_status, sipp_status, log, trace) = sipp_against_uac(
            &dir,
            &["-sf", &sf, "-i", "127.0.0.1", "-p", &local, "-m", "1"],
            &["--bind", &bind, "register", &uri, "alice", password],
        );
        assert_eq!(
            uac_status.success(),
            expect_ok,
            "uac: {uac_status}\n{log}\nsipp trace:\n{trace}"
        );
        assert_eq!(
            sipp_status.code(),
            Some(0),
            "sipp: {sipp_status}\n{}\n{log}",
            read(&dir.join("sipp.err"))
        );
        assert!(
            trace.contains("Authorization: Digest username=\"alice\""),
            "{trace}"
        );
        let verdict = if expect_ok {
            "SIP/2.0 200 OK"
        } else {
            "SIP/2.0 403 Forbidden"
        };
        assert!(trace.contains(verdict), "{trace}");
    }
}

/// `uac call` to a SIPp callee whose 200 has ten Record-Routes, more than a dialog
/// keeps: the 200 is ACKed and the call ended with a BYE, both along the ten routes
/// (each hop's URI in a Route header, in reverse order, §12.2.1.1), and the host is told
/// why.
#[test]
#[ignore = "needs sipp"]
fn our_uac_acks_and_byes_a_2xx_with_a_long_route_set() {
    let dir = scratch("long-route");
    let sf = scenario("long_route.xml");
    let (uac_status, sipp_status, log, trace) = sipp_against_uac(
        &dir,
        &["-sf", &sf, "-i", "127.0.0.1", "-p", "25150", "-m", "1"],
        &[
            "--bind",
            "127.0.0.1:25151",
            "call",
            "sip:callee@127.0.0.1:25150",
        ],
    );
    assert_eq!(
        sipp_status.code(),
        Some(0),
        "sipp: {sipp_status}\n{}\nuac log:\n{log}\nsipp trace:\n{trace}",
        read(&dir.join("sipp.err"))
    );
    // The call could not be kept: `uac` says so and fails.
    assert!(log.contains("uac: capacity"), "{log}");
    assert!(!uac_status.success(), "{log}");
    for method in ["ACK", "BYE"] {
        let sent = trace
            .split("-----")
            .find(|m| m.contains(&format!("{method} sip:callee@127.0.0.1:25150 SIP/2.0")))
            .unwrap_or_else(|| panic!("no {method} in the trace:\n{trace}"));
        let hops: Vec<&str> = sent
            .lines()
            .filter_map(|l| l.trim().strip_prefix("Route: "))
            .collect();
        let expected: Vec<String> = (1..=10)
            .rev()
            .map(|i| format!("<sip:127.0.0.1:25150;lr;hop={i}>"))
            .collect();
        assert_eq!(hops, expected, "{method}:\n{sent}");
    }
}

/// `uac call URI USER PASSWORD` through a SIPp callee that plays a challenging proxy
/// (407) and then challenges itself (401): the INVITE is sent again with
/// Proxy-Authorization, then with both, SIPp checks the Digest answer with its own
/// implementation (`verifyauth`) and answers 200 (403 for a wrong password); ACK and BYE
/// follow (RFC 3261 §22.2, §22.3).
#[test]
#[ignore = "needs sipp"]
fn our_uac_calls_through_a_challenging_sipp() {
    for (password, port, expect_ok) in [("wonderland", 25160, true), ("not-it", 25162, false)] {
        let dir = scratch(&format!("challenge-{port}"));
        let (sf, local, bind, uri) = (
            scenario("challenge_invite.xml"),
            port.to_string(),
            format!("127.0.0.1:{}", port + 1),
            format!("sip:service@127.0.0.1:{port}"),
        );
        let (uac_status, sipp_status, log, trace) = sipp_against_uac(
            &dir,
            &["-sf", &sf, "-i", "127.0.0.1", "-p", &local, "-m", "1"],
            &["--bind", &bind, "call", &uri, "alice", password],
        );
        assert_eq!(
            uac_status.success(),
            expect_ok,
            "uac: {uac_status}\n{log}\nsipp trace:\n{trace}"
        );
        assert_eq!(
            sipp_status.code(),
            Some(0),
            "sipp: {sipp_status}\n{}\n{log}\nsipp trace:\n{trace}",
            read(&dir.join("sipp.err"))
        );
        // Three INVITEs, each final response ACKed (the 407, the 401, then the 200 or
        // the 403), the last INVITE with both answers.
        let sent = |what: &str| log.matches(&format!("> 127.0.0.1:{port} {what}")).count();
        assert_eq!(sent("INVITE"), 3, "{log}");
        assert_eq!(sent("ACK"), 3, "{log}");
        assert_eq!(sent("BYE"), usize::from(expect_ok), "{log}");
        assert_eq!(
            log.matches("uac: challenge answered with Digest credentials")
                .count(),
            2,
            "{log}"
        );
        assert!(
            trace.contains("Proxy-Authorization: Digest username=\"alice\""),
            "{trace}"
        );
        assert!(
            trace.contains("Authorization: Digest username=\"alice\", realm=\"sipp.test\""),
            "{trace}"
        );
        let verdict = if expect_ok {
            "SIP/2.0 200 OK"
        } else {
            "SIP/2.0 403 Forbidden"
        };
        assert!(trace.contains(verdict), "{trace}");
    }
}

/// A late offer (the INVITE without SDP, the answer in SIPp's ACK) and a re-INVITE that
/// puts the call on hold, against the `answer` user.
#[test]
#[ignore = "needs sipp"]
fn late_offer_and_reinvite() {
    let (trace, log) = uas_scenario_with(
        "late-offer",
        25150,
        &[],
        "late_offer_reinvite.xml",
        "answer",
        2,
        Duration::from_secs(30),
    );
    let mut want = ["180 INVITE", "200 INVITE", "200 INVITE", "200 BYE"].repeat(2);
    want.sort();
    assert_eq!(received_sorted(&trace), want);
    assert_eq!(
        log.matches("late offer: the ACK carried a").count(),
        2,
        "uas log:\n{log}"
    );
}

/// Reliable provisional responses (RFC 3262) with SIPp as the caller: its INVITE
/// requires `100rel`; the 180 must carry `Require: 100rel` and an RSeq (SIPp fails the
/// call otherwise), SIPp's PRACK repeats that RSeq in its RAck and gets 200.
#[test]
#[ignore = "needs sipp"]
fn reliable_provisional_responses() {
    let (trace, log) = uas_scenario_with(
        "prack",
        25180,
        &["--100rel"],
        "prack.xml",
        "ring",
        2,
        Duration::from_secs(40),
    );
    let mut got = received_sorted(&trace);
    got.retain(|m| m != "100 INVITE");
    let mut want = ["180 INVITE", "200 PRACK", "200 INVITE", "200 BYE"].repeat(2);
    want.sort();
    assert_eq!(got, want, "uas log:\n{log}");
}

/// SIPp subscribes to presence at `uas`, which serves the subscription (RFC 6665 §4.2):
/// 200, a NOTIFY `active` with a PIDF body; SIPp unsubscribes within the dialog and gets
/// 200 and the last NOTIFY, `terminated;reason=timeout`.
#[test]
#[ignore = "needs sipp"]
fn subscription_served_by_uas() {
    let trace = uas_scenario(
        "subscribe",
        25170,
        "subscribe.xml",
        "bob",
        1,
        Duration::from_secs(20),
    );
    let got = received(&trace);
    assert_eq!(
        got,
        ["200 SUBSCRIBE", "NOTIFY", "200 SUBSCRIBE", "NOTIFY"],
        "{trace}"
    );
    assert!(
        trace.contains("Subscription-State: active;expires=600"),
        "{trace}"
    );
    assert!(
        trace.contains("Subscription-State: terminated;reason=timeout"),
        "{trace}"
    );
    assert!(trace.contains("Event: presence"), "{trace}");
}
