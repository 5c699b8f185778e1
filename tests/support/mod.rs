//! Helpers shared by the integration tests that run the examples.
#![allow(dead_code)] // each test file uses its own share

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

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

/// Kills its child on drop, whatever happened to the test.
pub struct Guard {
    /// The child process.
    pub child: Child,
    /// Its name, for failure messages.
    pub name: &'static str,
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Guard {
    /// Wait for the child to exit, at most `limit`; kill it and fail past that.
    pub fn wait(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Ok(None) => {
                    let _ = self.child.kill();
                    panic!("{} still running after {limit:?}: killed", self.name);
                }
                Err(e) => panic!("waiting for {}: {e}", self.name),
            }
        }
    }
}

/// The directory the examples are built in (`uas` and `uac` built first).
pub fn examples_dir() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| build_examples(&["uas", "uac"]))
        .clone()
}

/// A scratch directory for logs, removed at the start of the next run.
pub fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sansip-interop-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Start `uas --bind 127.0.0.1:port`, logging to `dir/uas.log`; returns once it listens.
pub fn start_uas(dir: &Path, port: u16) -> Guard {
    start_uas_with(dir, port, &[])
}

/// [`start_uas`] with more options.
pub fn start_uas_with(dir: &Path, port: u16, extra: &[&str]) -> Guard {
    let log = dir.join("uas.log");
    let out = std::fs::File::create(&log).expect("create uas log");
    let child = Command::new(examples_dir().join("uas"))
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .args(extra)
        .stdout(out)
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start uas");
    let mut guard = Guard { child, name: "uas" };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !read(&log).contains("listening") {
        if let Ok(Some(status)) = guard.child.try_wait() {
            panic!("uas exited early: {status}");
        }
        assert!(Instant::now() < deadline, "uas did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    guard
}
