//! The external corpus in `../shared/corpus` (RFC 4475, RFC 5118, ~800 real captures),
//! checked against MANIFEST.tsv. Run with `cargo test --test corpus -- --include-ignored`.

use std::path::PathBuf;

use sansip::message::Message;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
}

struct Entry {
    file: String,
    expected: String,
}

fn manifest() -> Vec<Entry> {
    let text =
        std::fs::read_to_string(corpus_dir().join("MANIFEST.tsv")).expect("read MANIFEST.tsv");
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let mut cols = l.split('\t');
            let file = cols.next()?.to_string();
            let expected = cols.nth(2)?.to_string();
            Some(Entry { file, expected })
        })
        .collect()
}

/// Files whose manifest verdict allows LF line ends but that carry a second defect the
/// parser refuses by design: a Content-Length that counts the CRLF body the file had
/// before its line ends were changed (RFC 3261 §18.3: a short body is an error), or a
/// deliberately broken header line in Kamailio's test set (`Call-ID;`, a file cut mid-line).
fn second_defect(file: &str, kind: sansip::ParseErrorKind) -> bool {
    use sansip::ParseErrorKind as K;
    let lf_archive = file.starts_with("rfc5118/") && !file.starts_with("rfc5118/wire/");
    let kamailio = file.starts_with("realworld/kamailio-test-misc/");
    (lf_archive || kamailio) && kind == K::BodyTruncated
        || kamailio && matches!(kind, K::HeaderName | K::HeadersUnterminated)
}

/// Everything the manifest calls valid parses; nothing panics.
#[test]
#[ignore = "needs ../shared/corpus"]
fn every_valid_message_parses() {
    let entries = manifest();
    assert!(entries.len() > 800, "manifest has {} rows", entries.len());
    let mut failures = Vec::new();
    let mut parsed = 0;
    for e in &entries {
        let bytes = std::fs::read(corpus_dir().join(&e.file)).expect("read corpus file");
        let result = Message::parse(&bytes);
        let must_parse = e.expected.starts_with("valid") || e.expected.starts_with("lenient-only");
        match (&result, must_parse) {
            (Ok(_), _) => parsed += 1,
            (Err(err), true) if second_defect(&e.file, err.kind) => {}
            (Err(err), true) => failures.push(format!("{}: {err} ({})", e.file, e.expected)),
            (Err(_), false) => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        entries.len(),
        failures.join("\n")
    );
    assert!(parsed > 800);
}

/// The verdict `check::classify` reaches, as `inspect` prints it.
fn verdict(bytes: &[u8]) -> (String, String) {
    use sansip::check::{self, Capabilities, Verdict};
    match check::classify(
        bytes,
        &Capabilities::DEFAULT,
        &sansip::message::Limits::default(),
    ) {
        Verdict::Accept(_) => ("accept".into(), String::new()),
        Verdict::Respond(_, r) => (format!("respond {}", r.status), r.problem.to_string()),
        Verdict::Discard(d) => ("discard".into(), d.to_string()),
    }
}

/// What the manifest allows for a file of the RFC 4475 / RFC 5118 sets.
fn allowed(expected: &str) -> Vec<String> {
    let mut out = Vec::new();
    let lower = expected.to_ascii_lowercase();
    for (i, _) in lower.match_indices("respond ") {
        let code: String = lower[i + 8..].chars().take(3).collect();
        out.push(format!("respond {code}"));
    }
    for alt in ["(400 acceptable)", "(or 400)", "400,"] {
        if lower.contains(alt) {
            out.push("respond 400".into());
        }
    }
    if lower.contains("drop") || lower.contains("discard") {
        out.push("discard".into());
    }
    if lower.starts_with("valid") && !lower.starts_with("valid-but") {
        out.push("accept".into());
    }
    if lower.starts_with("valid-but") && !lower.contains("respond") {
        out.push("accept".into());
    }
    if lower.contains("or fall back") {
        out.push("accept".into());
    }
    if lower.starts_with("invalid-may-reject") {
        out.push("accept".into());
    }
    if lower.contains("endpoint process normally") || lower.contains("registrar respond") {
        out.push("accept".into());
    }
    out
}

/// Every RFC 4475 and RFC 5118 message gets the verdict its RFC names (as MANIFEST.tsv
/// records it): accept, the response code, or discard.
#[test]
#[ignore = "needs ../shared/corpus"]
fn torture_verdicts_match_the_rfcs() {
    let text =
        std::fs::read_to_string(corpus_dir().join("MANIFEST.tsv")).expect("read MANIFEST.tsv");
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, expected) = (cols[0], cols[3]);
        let torture = file.starts_with("rfc4475/") || file.starts_with("rfc5118/wire/");
        if !torture || expected.starts_with("unspecified") {
            continue;
        }
        let bytes = std::fs::read(corpus_dir().join(file)).expect("read corpus file");
        let (got, why) = verdict(&bytes);
        let ok = allowed(expected);
        checked += 1;
        if !ok.contains(&got) {
            failures.push(format!("{file}: got `{got}` ({why}), manifest: {expected}"));
        }
    }
    assert!(checked >= 60, "checked {checked}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Captured messages that are refused on purpose, with the reason.
fn known_refusal(file: &str, why: &str) -> bool {
    const KNOWN: [(&str, &str); 3] = [
        // RFC 5118 §4.2: an IPv6 host in a URI must be bracketed (the phone wrote
        // `sip:9876@fe80:0:0:0:21a:a0ff:fe07:32e0`); the same rule rejects `ipv6-bad`.
        ("realworld/hep-ipv6/", "From"),
        // The To tag holds control bytes 0x18 0x01: the capture is corrupted, and the
        // 481 answers copy the same To.
        ("realworld/hep-erspan/", "To"),
        // `To: ...;tag=` with an empty tag (RFC 3261 §19.3: a tag is a token).
        ("realworld/kamailio-test-misc/pingtel.sip", "To"),
    ];
    KNOWN
        .iter()
        .any(|(prefix, header)| file.starts_with(prefix) && why.contains(header))
}

/// Real captured traffic is never refused for its syntax: no 400 and no discard except
/// a response with several Vias, which RFC 3261 §8.1.3.3 tells a UAC to drop.
#[test]
#[ignore = "needs ../shared/corpus"]
fn captured_traffic_is_not_refused_for_syntax() {
    let mut failures = Vec::new();
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for e in manifest()
        .iter()
        .filter(|e| e.file.starts_with("realworld/") && e.expected.starts_with("valid"))
    {
        let bytes = std::fs::read(corpus_dir().join(&e.file)).expect("read corpus file");
        let (got, why) = verdict(&bytes);
        *counts.entry(got.clone()).or_default() += 1;
        let syntax =
            got == "respond 400" || (got == "discard" && !why.contains("more than one Via"));
        if syntax && !known_refusal(&e.file, &why) {
            failures.push(format!("{}: {got} ({why})", e.file));
        }
    }
    eprintln!("verdicts over captured traffic: {counts:?}");
    assert!(
        failures.is_empty(),
        "{} refused:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
