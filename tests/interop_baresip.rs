//! The `uac` and `uas` examples against baresip, a widely deployed SIP user agent
//! (Debian package `baresip-core`), over 127.0.0.1: our caller to baresip answering on its
//! own, and baresip calling our callee, which hangs up, answers, or is busy.
//!
//! Ignored by default: they need `baresip` on the PATH. `.ci/run` installs it and runs
//! `cargo test -- --include-ignored`. Each test runs on its own ports with its own
//! configuration directory; baresip quits by itself (`-t`) and every process is killed
//! when its guard drops.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::{Guard, examples_dir, read, scratch, start_uas};

/// A configuration directory for baresip listening on `port` (UDP, loopback): the G.711
/// codecs, a sine tone read from a WAV file as its microphone and a WAV file as its
/// speaker, and one account that answers calls by itself.
fn baresip_config(dir: &Path, port: u16) {
    let d = dir.display();
    std::fs::write(
        dir.join("config"),
        format!(
            "poll_method epoll\n\
             sip_listen 127.0.0.1:{port}\n\
             audio_player aufile,{d}/out.wav\n\
             audio_source aufile,{d}/in.wav\n\
             audio_alert aufile,{d}/alert.wav\n\
             module_path /usr/lib/baresip/modules\n\
             module g711.so\n\
             module aufile.so\n\
             module_app account.so\n\
             module_app menu.so\n"
        ),
    )
    .expect("write baresip config");
    std::fs::write(
        dir.join("accounts"),
        "<sip:baresip@127.0.0.1>;regint=0;answermode=auto\n",
    )
    .expect("write baresip accounts");
    std::fs::write(dir.join("in.wav"), tone_wav()).expect("write in.wav");
}

/// Ten seconds of a 440 Hz tone, 8 kHz 16-bit mono PCM in a WAV file (the rate G.711
/// runs at, so baresip need not resample). baresip hangs up when its source ends, so
/// the tone outlasts every call here.
fn tone_wav() -> Vec<u8> {
    const RATE: u32 = 8000;
    let samples: Vec<u8> = (0..10 * RATE)
        .flat_map(|i| {
            let t = f64::from(i) / f64::from(RATE);
            let s = (8000.0 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()) as i16;
            s.to_le_bytes()
        })
        .collect();
    let len = samples.len() as u32;
    let mut w = Vec::new();
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + len).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes()); // PCM
    w.extend_from_slice(&1u16.to_le_bytes()); // mono
    w.extend_from_slice(&RATE.to_le_bytes());
    w.extend_from_slice(&(RATE * 2).to_le_bytes());
    w.extend_from_slice(&2u16.to_le_bytes());
    w.extend_from_slice(&16u16.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&len.to_le_bytes());
    w.extend_from_slice(&samples);
    w
}

/// Start baresip with the configuration in `dir`, quitting after `secs` (it hangs up its
/// calls then), running `commands` once it is up; its log goes to `dir/baresip.log`.
fn baresip(dir: &Path, secs: u32, commands: &[&str]) -> Guard {
    let mut cmd = Command::new("baresip");
    cmd.arg("-f")
        .arg(dir)
        .args(["-n", "127.0.0.1", "-t", &secs.to_string()]);
    for c in commands {
        cmd.args(["-e", c]);
    }
    let child = cmd
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.join("baresip.log")).expect("baresip.log"))
        .stderr(Stdio::null())
        .spawn()
        .expect("start baresip (install baresip-core)");
    Guard {
        child,
        name: "baresip",
    }
}

/// The first words of each line of a `uac`/`uas` log with direction `dir` (`<` received,
/// `>` sent): the method, or the status code.
fn heads(log: &str, dir: &str) -> Vec<String> {
    log.lines()
        .filter_map(|l| {
            let mut parts = l.splitn(4, ' ');
            let (_, d, _, first) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
            if d != dir {
                return None;
            }
            let word = first.strip_prefix("SIP/2.0 ").unwrap_or(first);
            Some(word.split(' ').next().unwrap_or("").to_owned())
        })
        .collect()
}

/// Our caller to baresip, which answers by itself: INVITE, 180, 200, ACK to its Contact,
/// then our BYE after 2 s, answered 200.
#[test]
#[ignore = "needs baresip"]
fn our_uac_calls_baresip() {
    let dir = scratch("baresip-callee");
    let port = 27164;
    baresip_config(&dir, port);
    let mut bs = baresip(&dir, 8, &[]);
    // Give it a moment to bind; the INVITE is retransmitted anyway.
    std::thread::sleep(Duration::from_millis(700));
    let out = dir.join("uac.log");
    let mut uac = Guard {
        child: Command::new(examples_dir().join("uac"))
            .args(["--bind", "127.0.0.1:27171", "call"])
            .arg(format!("sip:baresip@127.0.0.1:{port}"))
            .stdout(std::fs::File::create(&out).expect("uac.log"))
            .spawn()
            .expect("start uac"),
        name: "uac",
    };
    let status = uac.wait(Duration::from_secs(30));
    bs.wait(Duration::from_secs(20));
    let log = read(&out);
    let bs_log = read(&dir.join("baresip.log"));
    assert!(status.success(), "uac:\n{log}\nbaresip:\n{bs_log}");
    assert_eq!(heads(&log, ">"), ["INVITE", "ACK", "BYE"], "{log}");
    assert_eq!(heads(&log, "<"), ["180", "200", "200"], "{log}");
    assert!(bs_log.contains("Call established"), "{bs_log}");
    assert!(bs_log.contains("terminated"), "{bs_log}");
}

/// baresip calls our callee three times: `hangup` (our BYE after 2 s, which baresip
/// answers), `answer` (baresip's BYE when it quits, which we answer), and `busy` (486,
/// which baresip ACKs).
#[test]
#[ignore = "needs baresip"]
fn baresip_calls_our_uas() {
    let dir = scratch("baresip-caller");
    let (port, uas_port) = (27264, 27290);
    baresip_config(&dir, port);
    let _uas = start_uas(&dir, uas_port);
    for (user, secs) in [("hangup", 5), ("answer", 3), ("busy", 2)] {
        let dial = format!("/dial sip:{user}@127.0.0.1:{uas_port}");
        let status = baresip(&dir, secs, &[&dial]).wait(Duration::from_secs(20));
        assert!(status.success(), "baresip for {user}: {status}");
    }
    let log = read(&dir.join("uas.log"));
    assert_eq!(
        heads(&log, "<"),
        [
            "INVITE", "ACK", "200", "INVITE", "ACK", "BYE", "INVITE", "ACK"
        ],
        "{log}"
    );
    assert_eq!(
        heads(&log, ">"),
        ["180", "200", "BYE", "180", "200", "200", "486"],
        "{log}"
    );
}
