//! Helpers shared by the integration tests that run the examples.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Build `names` (examples) next to this test binary and return their directory. The
/// test binary lives in `target/<profile>/deps`; the examples go to
/// `target/<profile>/examples`, built with the same profile.
pub fn build_examples(names: &[&str]) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary in target/<profile>/deps")
        .to_path_buf();
    let target_dir = profile_dir.parent().expect("target dir").to_path_buf();
    let mut cmd = Command::new(env!("CARGO"));
    cmd.arg("build");
    for n in names {
        cmd.args(["--example", n]);
    }
    cmd.arg("--manifest-path")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target_dir);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    let status = cmd.status().expect("run cargo build --example");
    assert!(status.success(), "cargo build of the examples failed");
    profile_dir.join("examples")
}
