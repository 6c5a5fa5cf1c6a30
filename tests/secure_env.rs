//! `XC_LIVEPATCH_KEEP_BYTES` has `secure_getenv` semantics: a set-user-ID
//! (or set-group-ID, or file-capability) process, which the kernel marks
//! `AT_SECURE`, ignores it, as glibc ignores its own tunables there; a normal
//! process honours it, and a malformed value keeps the default.
//!
//! The test copies this very test binary into a fresh directory twice, once
//! plain and once owned by root with the set-user-ID bit, and runs each copy
//! as the user `nobody` (`setpriv`), so the set-user-ID copy runs with a real
//! user ID other than its effective one: `AT_SECURE` is 1 there. Each copy
//! runs only [`child_reports_what_the_pool_keeps`], which prints what the
//! library read from the variable and how much hypercall memory it keeps
//! after dropping a one-page buffer.
//!
//! Making a set-user-ID copy and switching to another user needs root: the
//! test is ignored by plain `cargo test` and run as root by
//! `scripts/test.d/40-hardening.sh`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use xc_livepatch::hypercall_buffer::{
    keep_bytes, mapped_bytes, release_pool, HypercallBuffer, DEFAULT_KEEP_BYTES, KEEP_BYTES_ENV, PAGE_SIZE,
};

/// Set in the copies' environment: the child half acts only when it is set.
const CHILD: &str = "XC_LIVEPATCH_TEST_SECURE_ENV_CHILD";
const CHILD_TEST: &str = "child_reports_what_the_pool_keeps";

/// What a child reported: `AT_SECURE`, `keep_bytes()`, and the bytes the
/// pool kept after a one-page buffer was dropped.
#[derive(Debug, PartialEq, Eq)]
struct Report {
    at_secure: u64,
    keep: usize,
    kept: usize,
}

#[test]
#[ignore = "the child half of the_knob_is_ignored_in_a_set_user_id_process_and_honoured_otherwise, run by it in a copy of this binary"]
fn child_reports_what_the_pool_keeps() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    // SAFETY: getauxval has no preconditions; it reads the auxiliary vector.
    let at_secure = unsafe { libc::getauxval(libc::AT_SECURE) };
    release_pool();
    drop(HypercallBuffer::new(1).expect("a one-page hypercall buffer"));
    println!("REPORT at_secure={at_secure} keep={} kept={}", keep_bytes(), mapped_bytes());
}

/// A fresh directory that `nobody` can enter, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let d = std::env::temp_dir().join(format!("xc-livepatch-secure-env.{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir(&d).expect("scratch directory");
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        Scratch(d)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A copy of this test binary at `to`, owned by root, with `mode`.
fn copy_of_this_binary(to: &Path, mode: u32) {
    std::fs::copy(std::env::current_exe().unwrap(), to).expect("copy the test binary");
    std::os::unix::fs::chown(to, Some(0), Some(0)).expect("chown root:root");
    // After chown, which clears the set-user-ID bit.
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Runs `bin` as `nobody` with `XC_LIVEPATCH_KEEP_BYTES=value`; its report.
fn run_as_nobody(bin: &Path, value: &str) -> Report {
    let out = Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
        .arg(bin)
        .args(["--ignored", "--exact", CHILD_TEST, "--nocapture", "--test-threads=1"])
        .current_dir(bin.parent().unwrap())
        .env(CHILD, "1")
        .env(KEEP_BYTES_ENV, value)
        .output()
        .expect("run setpriv (util-linux)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{} failed: {}\n{stdout}{}",
        bin.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    // libtest prints the test's name and the report on one line.
    let line =
        stdout.lines().find_map(|l| Some(l.split_once("REPORT ")?.1)).unwrap_or_else(|| panic!("no report:\n{stdout}"));
    let field = |k: &str| -> u64 {
        let v = line.split_whitespace().find_map(|w| w.strip_prefix(k)?.strip_prefix('=')).unwrap();
        v.parse().unwrap()
    };
    Report { at_secure: field("at_secure"), keep: field("keep") as usize, kept: field("kept") as usize }
}

#[test]
#[ignore = "needs root (a set-user-ID copy owned by root, run as nobody): run by scripts/test.d/40-hardening.sh"]
fn the_knob_is_ignored_in_a_set_user_id_process_and_honoured_otherwise() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(unsafe { libc::geteuid() }, 0, "this test needs root");
    let dir = Scratch::new();
    let (plain, setuid) = (dir.0.join("plain"), dir.0.join("setuid"));
    copy_of_this_binary(&plain, 0o755);
    copy_of_this_binary(&setuid, 0o4755);

    // A normal process honours the knob: 0 keeps nothing.
    let normal = run_as_nobody(&plain, "0");
    assert_eq!(normal, Report { at_secure: 0, keep: 0, kept: 0 }, "normal process, {KEEP_BYTES_ENV}=0");

    // A set-user-ID process ignores it: the default, which keeps the page.
    let secure = run_as_nobody(&setuid, "0");
    assert_eq!(secure.at_secure, 1, "the set-user-ID copy did not run AT_SECURE: {secure:?}");
    assert_eq!(
        secure,
        Report { at_secure: 1, keep: DEFAULT_KEEP_BYTES, kept: PAGE_SIZE },
        "set-user-ID process, {KEEP_BYTES_ENV}=0"
    );

    // A malformed value keeps the default in a normal process.
    for bad in ["1.5M", "-1", "64KB", "lots"] {
        let r = run_as_nobody(&plain, bad);
        assert_eq!(r, Report { at_secure: 0, keep: DEFAULT_KEEP_BYTES, kept: PAGE_SIZE }, "{KEEP_BYTES_ENV}={bad:?}");
    }
}
