//! `cargo run --example inspect -- FILE...`
//!
//! Reads each file as one UDP datagram and prints one tab-separated line per file: the
//! file name, the verdict a UAS with the crate's default capabilities reaches
//! (`accept`, `respond NNN`, or `discard`), and a one-line detail. Exit status 0 when
//! every file was read, 2 on a usage or IO error.

use std::process::ExitCode;

use sansip::check::{self, Capabilities, Verdict};
use sansip::message::{Limits, Message, StartLine};

fn summary(m: &Message<'_>) -> String {
    let head = match m.start_line() {
        StartLine::Request { method, uri, .. } => {
            format!("{method} {}", String::from_utf8_lossy(uri))
        }
        StartLine::Response { code, reason, .. } => format!("{code} {reason}"),
    };
    format!(
        "{head}, {} headers, body {} bytes",
        m.header_count(),
        m.body().len()
    )
}

fn main() -> ExitCode {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: inspect FILE...");
        return ExitCode::from(2);
    }
    let caps = Capabilities::DEFAULT;
    let limits = Limits::default();
    let mut status = ExitCode::SUCCESS;
    for file in &files {
        let bytes = match std::fs::read(file) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{file}: {e}");
                status = ExitCode::from(2);
                continue;
            }
        };
        let (verdict, detail) = match check::classify(&bytes, &caps, &limits) {
            Verdict::Accept(m) => ("accept".to_string(), summary(&m)),
            Verdict::Respond(m, r) => (
                format!("respond {}", r.status),
                format!("{}: {}", summary(&m), r.problem),
            ),
            Verdict::Discard(d) => ("discard".to_string(), d.to_string()),
        };
        println!("{file}\t{verdict}\t{detail}");
    }
    status
}
