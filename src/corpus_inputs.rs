//! The external corpus (`../shared/corpus`: RFC 4475, RFC 5118, captured traffic) and
//! deterministic mutants of it: the inputs on which unit tests compare a rewritten check
//! or a fast path with the code it replaced. Those tests are ignored by default (they
//! need the corpus); run them with `cargo test --lib -- --ignored corpus`.

use std::vec::Vec;

/// Mutants made of each corpus message.
const MUTANTS: usize = 24;

/// Bytes that matter to the header grammars, which mutations insert or write.
const INTERESTING: &[u8] = b",;:<>\"@. \t\r\n=0129%[]/\\?*x";

/// Every corpus message, each followed by its mutants: one to three byte changes,
/// insertions, deletions or a truncation, from a fixed seed.
pub(crate) fn inputs() -> Vec<Vec<u8>> {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let manifest =
        std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("read ../shared/corpus");
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut out = Vec::new();
    for line in manifest.lines().skip(1) {
        let Some(file) = line.split('\t').next() else {
            continue;
        };
        let bytes = std::fs::read(dir.join(file)).expect("read a corpus file");
        for _ in 0..MUTANTS {
            out.push(mutant(&bytes, &mut seed));
        }
        out.push(bytes);
    }
    assert!(out.len() > 10_000, "{}", out.len());
    out
}

/// xorshift64: a fixed sequence, so that every run compares the same inputs.
fn next(seed: &mut u64) -> usize {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed as usize
}

fn mutant(bytes: &[u8], seed: &mut u64) -> Vec<u8> {
    let mut m = bytes.to_vec();
    for _ in 0..1 + next(seed) % 3 {
        if m.is_empty() {
            break;
        }
        let at = next(seed) % m.len();
        let byte = match next(seed) % 4 {
            0 => next(seed) as u8,
            _ => INTERESTING[next(seed) % INTERESTING.len()],
        };
        match next(seed) % 8 {
            0..=2 => m[at] = byte,
            3..=5 => m.insert(at, byte),
            6 => {
                m.remove(at);
            }
            _ => m.truncate(at),
        }
    }
    m
}
