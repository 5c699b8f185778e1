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
