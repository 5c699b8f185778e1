//! The README's main command: `cargo run --example call` makes a real call over
//! loopback UDP, draws the ladder and exits 0, also with loss on the link.

mod support;

use std::process::Command;

fn run_call(args: &[&str]) -> (bool, String) {
    let dir = support::build_examples(&["call"]);
    let out = Command::new(dir.join("call"))
        .args(args)
        .output()
        .expect("run the call example");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn arrows(ladder: &str, what: &str) -> usize {
    ladder
        .lines()
        .filter(|l| l.contains(what) && (l.contains('>') || l.contains('<') || l.contains('x')))
        .count()
}

#[test]
fn the_call_example_completes() {
    let (ok, ladder) = run_call(&[]);
    assert!(ok, "{ladder}");
    for step in [
        "-- INVITE",
        "100 Trying",
        "180 Ringing",
        "200 OK (INVITE)",
        "-- ACK",
        "-- BYE",
        "200 OK (BYE)",
    ] {
        assert!(ladder.contains(step), "missing {step}:\n{ladder}");
    }
    assert!(ladder.contains("call over: LocalBye"));
}

#[test]
fn the_call_example_survives_thirty_percent_loss() {
    let (ok, ladder) = run_call(&["--loss", "30", "--seed", "7"]);
    assert!(ok, "{ladder}");
    // Datagrams were dropped (x) and retransmitted: something was sent more than once.
    assert!(ladder.contains('x'), "{ladder}");
    let resent = [
        "-- INVITE",
        "200 OK (INVITE)",
        "-- ACK",
        "-- BYE",
        "200 OK (BYE)",
    ]
    .iter()
    .any(|s| arrows(&ladder, s) > 1);
    assert!(resent, "{ladder}");
    assert!(ladder.contains("call over: LocalBye"));
}

#[test]
fn busy_and_cancel() {
    let (ok, ladder) = run_call(&["--busy"]);
    assert!(ok && ladder.contains("486 Busy Here"), "{ladder}");
    let (ok, ladder) = run_call(&["--cancel"]);
    assert!(
        ok && ladder.contains("-- CANCEL") && ladder.contains("487 Request Terminated"),
        "{ladder}"
    );
}

#[test]
fn hold_with_a_reinvite() {
    let (ok, ladder) = run_call(&["--hold"]);
    assert!(ok, "{ladder}");
    // Two INVITEs (the call, the hold), each answered 200 and ACKed.
    assert_eq!(arrows(&ladder, "-- INVITE"), 2, "{ladder}");
    assert_eq!(arrows(&ladder, "-- ACK"), 2, "{ladder}");
    assert!(ladder.contains("re-INVITE answered 200 OK"), "{ladder}");
    assert!(ladder.contains("call over: LocalBye"), "{ladder}");
    // And through a lossy link.
    let (ok, ladder) = run_call(&["--hold", "--loss", "30", "--seed", "3"]);
    assert!(
        ok && ladder.contains("re-INVITE answered 200 OK"),
        "{ladder}"
    );
}

#[test]
fn reliable_provisional_responses() {
    let (ok, ladder) = run_call(&["--100rel"]);
    assert!(ok, "{ladder}");
    // The 180 is PRACKed once and the PRACK answered, before the call is answered.
    assert_eq!(arrows(&ladder, "-- PRACK"), 1, "{ladder}");
    let prack_ok = ladder.find("200 OK (PRACK)").expect("PRACK answered");
    let answered = ladder.find("200 OK (INVITE)").expect("call answered");
    assert!(prack_ok < answered, "{ladder}");
    assert!(ladder.contains("call over: LocalBye"), "{ladder}");
    // Through a lossy link: the lost 200 to the PRACK gets the PRACK retransmitted.
    let (ok, ladder) = run_call(&["--100rel", "--loss", "30", "--seed", "7"]);
    assert!(ok && arrows(&ladder, "-- PRACK") > 1, "{ladder}");
}

/// `uac` locates a domain-name URI with a port (RFC 3263 §4.2 via `sansip::locate`:
/// A/AAAA records of `localhost`, the URI's port) and gets OPTIONS answered by `uas`
/// over loopback.
#[test]
fn uac_locates_a_domain_name() {
    let dir = support::build_examples(&["uas", "uac"]);
    let mut uas = Command::new(dir.join("uas"))
        .args(["--bind", "127.0.0.1:25290"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start uas");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let out = Command::new(dir.join("uac"))
        .args([
            "--bind",
            "127.0.0.1:25291",
            "options",
            "sip:localhost:25290",
        ])
        .output()
        .expect("run uac");
    let _ = uas.kill();
    let _ = uas.wait();
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("> 127.0.0.1:25290 OPTIONS"), "{log}");
    // An unknown transport is refused before anything is sent.
    let bad = Command::new(dir.join("uac"))
        .args([
            "--bind",
            "127.0.0.1:25291",
            "options",
            "sip:localhost:25290;transport=quic",
        ])
        .output()
        .expect("run uac");
    assert_eq!(bad.status.code(), Some(2));
}
