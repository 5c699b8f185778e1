//! The `uac` and `uas` examples talking through Kamailio, a stateful proxy that
//! record-routes (RFC 3261 §16): loose routing of the ACK and BYE through the proxy
//! (§12.2.1.1, §16.12), a BYE from the callee along the reversed route set, CANCEL hop by
//! hop (§9.2, §16.10), a 486 relayed, and an OPTIONS forwarded.
//!
//! Ignored by default: they need `kamailio` (Debian package `kamailio`) at
//! `/usr/sbin/kamailio` or on the PATH. `.ci/run` installs it and runs
//! `cargo test -- --include-ignored`. Each test runs its own Kamailio and `uas` on its own
//! ports over 127.0.0.1; every process is killed when its guard drops and every run is
//! bounded in time.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{Guard, examples_dir, read, scratch, start_uas};

/// Where Debian puts the modules the configuration loads.
const MODULES: &str = "/usr/lib/x86_64-linux-gnu/kamailio/modules/";

/// A Kamailio configuration: listen on `proxy`, record-route every dialog-creating
/// request and send it to the `uas` at `uas` (its user part kept, as a location
/// service would retarget it), route in-dialog requests by their Route (loose routing),
/// and relay CANCEL and ACK to the transaction they belong to.
fn config(proxy: u16, uas: u16) -> String {
    format!(
        r#"#!KAMAILIO
debug=2
log_stderror=yes
children=1
disable_tcp=yes
auto_aliases=no
listen=udp:127.0.0.1:{proxy}
mpath="{MODULES}"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
request_route {{
    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        exit;
    }}
    if (has_totag()) {{
        if (loose_route()) {{
            t_relay();
            exit;
        }}
        if (is_method("ACK")) {{
            if (t_check_trans()) {{
                t_relay();
            }}
            exit;
        }}
        sl_send_reply("404", "Not here");
        exit;
    }}
    if (is_method("CANCEL")) {{
        if (t_check_trans()) {{
            t_relay();
        }}
        exit;
    }}
    t_check_trans();
    record_route();
    rewritehostport("127.0.0.1:{uas}");
    t_relay();
}}
"#
    )
}

fn kamailio_binary() -> &'static str {
    if Path::new("/usr/sbin/kamailio").exists() {
        "/usr/sbin/kamailio"
    } else {
        "kamailio"
    }
}

/// Start Kamailio on `proxy` in front of a `uas` on `uas`, logging to `dir/kamailio.log`;
/// returns once it listens.
fn start_kamailio(dir: &Path, proxy: u16, uas: u16) -> Guard {
    let cfg = dir.join("kamailio.cfg");
    std::fs::write(&cfg, config(proxy, uas)).expect("write kamailio.cfg");
    let log = dir.join("kamailio.log");
    let child = Command::new(kamailio_binary())
        .arg("-f")
        .arg(&cfg)
        // Foreground, log to stderr, small shared and private memory, run files in `dir`.
        .args(["-DD", "-E", "-m", "32", "-M", "4", "-Y"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("create kamailio.log"))
        .spawn()
        .expect("start kamailio (install the kamailio package)");
    let mut guard = Guard {
        child,
        name: "kamailio",
    };
    // Ready once it answers: an OPTIONS with Max-Forwards 0 gets its own 483, nothing
    // is forwarded.
    let probe = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind probe");
    probe
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("probe timeout");
    let local = probe.local_addr().expect("probe address");
    let options = format!(
        "OPTIONS sip:127.0.0.1:{proxy} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bKprobe\r\n\
         Max-Forwards: 0\r\nFrom: <sip:probe@127.0.0.1>;tag=p\r\nTo: <sip:127.0.0.1>\r\n\
         Call-ID: probe@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf = [0u8; 2048];
    loop {
        if let Ok(Some(status)) = guard.child.try_wait() {
            panic!("kamailio exited early: {status}\n{}", read(&log));
        }
        let _ = probe.send_to(options.as_bytes(), ("127.0.0.1", proxy));
        if probe
            .recv(&mut buf)
            .is_ok_and(|n| buf[..n].starts_with(b"SIP/2.0 483"))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "kamailio did not start\n{}",
            read(&log)
        );
    }
    guard
}

/// Run `uac --bind 127.0.0.1:uac_port ARGS` (bounded): its success and log.
fn uac(dir: &Path, uac_port: u16, args: &[&str]) -> (bool, String) {
    let out = dir.join("uac.log");
    let mut guard = Guard {
        child: Command::new(examples_dir().join("uac"))
            .args(["--bind", &format!("127.0.0.1:{uac_port}")])
            .args(args)
            .stdout(std::fs::File::create(&out).expect("uac.log"))
            .spawn()
            .expect("start uac"),
        name: "uac",
    };
    let status = guard.wait(Duration::from_secs(45));
    (status.success(), read(&out))
}

/// The lines of `log` (a `uac` or `uas` log) with direction `dir` (`<` received, `>`
/// sent): (peer, first line).
fn lines(log: &str, dir: &str) -> Vec<(String, String)> {
    log.lines()
        .filter_map(|l| {
            let mut parts = l.splitn(4, ' ');
            let (_, d, peer, first) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
            (d == dir).then(|| (peer.to_owned(), first.to_owned()))
        })
        .collect()
}

/// The first words of each line: the method, or the status code.
fn heads(lines: &[(String, String)]) -> Vec<String> {
    lines
        .iter()
        .map(|(_, first)| {
            if let Some(rest) = first.strip_prefix("SIP/2.0 ") {
                rest.split(' ').next().unwrap_or("").to_owned()
            } else {
                first.split(' ').next().unwrap_or("").to_owned()
            }
        })
        .collect()
}

/// Every line in `lines` came from or went to `peer`.
fn all_via(lines: &[(String, String)], peer: &str) -> bool {
    lines.iter().all(|(p, _)| p == peer)
}

/// A call through the proxy: the ACK and the BYE follow the Record-Route through it
/// (loose routing), with the callee's Contact as their Request-URI.
#[test]
#[ignore = "needs kamailio"]
fn call_through_a_record_routing_proxy() {
    let dir = scratch("kamailio-call");
    let (proxy, uas_port, uac_port) = (26180, 26190, 26171);
    let _uas = start_uas(&dir, uas_port);
    let _kamailio = start_kamailio(&dir, proxy, uas_port);
    let (ok, log) = uac(
        &dir,
        uac_port,
        &["call", &format!("sip:answer@127.0.0.1:{proxy}")],
    );
    let uas_log = read(&dir.join("uas.log"));
    assert!(
        ok,
        "uac:\n{log}\nuas:\n{uas_log}\nkamailio:\n{}",
        read(&dir.join("kamailio.log"))
    );
    let via = format!("127.0.0.1:{proxy}");
    let sent = lines(&log, ">");
    assert_eq!(heads(&sent), ["INVITE", "ACK", "BYE"], "{log}");
    assert!(all_via(&sent, &via), "{log}");
    let target = format!("sip:sansip@127.0.0.1:{uas_port}");
    assert!(sent[1].1.starts_with(&format!("ACK {target} ")), "{log}");
    assert!(sent[2].1.starts_with(&format!("BYE {target} ")), "{log}");
    let got = lines(&uas_log, "<");
    assert_eq!(heads(&got), ["INVITE", "ACK", "BYE"], "{uas_log}");
    assert!(
        all_via(&got, &via),
        "the uas heard only the proxy:\n{uas_log}"
    );
    assert_eq!(
        heads(&lines(&uas_log, ">")),
        ["180", "200", "200"],
        "{uas_log}"
    );
}

/// The callee hangs up: its BYE goes to the proxy (the route set it learnt from the
/// INVITE's Record-Route) with the caller's Contact as Request-URI, and the caller's 200
/// comes back the same way.
#[test]
#[ignore = "needs kamailio"]
fn callee_bye_through_the_proxy() {
    let dir = scratch("kamailio-callee-bye");
    let (proxy, uas_port, uac_port) = (26280, 26290, 26271);
    let _uas = start_uas(&dir, uas_port);
    let _kamailio = start_kamailio(&dir, proxy, uas_port);
    // The caller holds longer than the callee's 2 s, so the callee's BYE comes first.
    let (ok, log) = uac(
        &dir,
        uac_port,
        &[
            "--hold",
            "15",
            "call",
            &format!("sip:hangup@127.0.0.1:{proxy}"),
        ],
    );
    let uas_log = read(&dir.join("uas.log"));
    assert!(ok, "uac:\n{log}\nuas:\n{uas_log}");
    assert!(log.contains("call ended: RemoteBye"), "{log}");
    let via = format!("127.0.0.1:{proxy}");
    let uas_sent = lines(&uas_log, ">");
    assert_eq!(heads(&uas_sent), ["180", "200", "BYE"], "{uas_log}");
    assert!(all_via(&uas_sent, &via), "{uas_log}");
    assert!(
        uas_sent[2]
            .1
            .starts_with(&format!("BYE sip:sansip@127.0.0.1:{uac_port} ")),
        "{uas_log}"
    );
    assert_eq!(
        heads(&lines(&uas_log, "<")),
        ["INVITE", "ACK", "200"],
        "{uas_log}"
    );
    let got = lines(&log, "<");
    assert!(heads(&got).ends_with(&["BYE".to_owned()]), "{log}");
    assert!(all_via(&got, &via), "{log}");
}

/// CANCEL while ringing: the proxy answers the caller's CANCEL and cancels its own
/// branch to the callee (§16.10); the callee's 487 is ACKed by the proxy, and the 487
/// it relays is ACKed by the caller, hop by hop (§17.1.1.3).
#[test]
#[ignore = "needs kamailio"]
fn cancel_through_the_proxy() {
    let dir = scratch("kamailio-cancel");
    let (proxy, uas_port, uac_port) = (26380, 26390, 26371);
    let _uas = start_uas(&dir, uas_port);
    let _kamailio = start_kamailio(&dir, proxy, uas_port);
    let (ok, log) = uac(
        &dir,
        uac_port,
        &["cancel", &format!("sip:ring@127.0.0.1:{proxy}")],
    );
    let uas_log = read(&dir.join("uas.log"));
    assert!(ok, "uac:\n{log}\nuas:\n{uas_log}");
    assert_eq!(
        heads(&lines(&log, ">")),
        ["INVITE", "CANCEL", "ACK"],
        "{log}"
    );
    let got = heads(&lines(&log, "<"));
    assert!(got.contains(&"487".to_owned()), "{log}");
    assert_eq!(
        heads(&lines(&uas_log, "<")),
        ["INVITE", "CANCEL", "ACK"],
        "{uas_log}"
    );
    assert_eq!(
        heads(&lines(&uas_log, ">")),
        ["180", "200", "487"],
        "{uas_log}"
    );
}

/// A 486 from the callee is relayed; each hop ACKs the one it got (§17.1.1.3). An
/// OPTIONS is forwarded and answered.
#[test]
#[ignore = "needs kamailio"]
fn busy_and_options_through_the_proxy() {
    let dir = scratch("kamailio-busy");
    let (proxy, uas_port, uac_port) = (26480, 26490, 26471);
    let _uas = start_uas(&dir, uas_port);
    let _kamailio = start_kamailio(&dir, proxy, uas_port);
    let (ok, log) = uac(
        &dir,
        uac_port,
        &["call", &format!("sip:busy@127.0.0.1:{proxy}")],
    );
    assert!(!ok, "a 486 is the uac's failure:\n{log}");
    assert!(log.contains("Rejected(StatusCode(486))"), "{log}");
    assert_eq!(heads(&lines(&log, ">")), ["INVITE", "ACK"], "{log}");
    let (ok, log) = uac(
        &dir,
        uac_port + 1,
        &["options", &format!("sip:127.0.0.1:{proxy}")],
    );
    assert!(ok, "{log}");
    let uas_log = read(&dir.join("uas.log"));
    assert_eq!(
        heads(&lines(&uas_log, "<")),
        ["INVITE", "ACK", "OPTIONS"],
        "{uas_log}"
    );
    assert_eq!(heads(&lines(&uas_log, ">")), ["486", "200"], "{uas_log}");
}
