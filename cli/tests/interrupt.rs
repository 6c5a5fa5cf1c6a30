//! SIGINT and SIGTERM sent to the command while an action stays pending
//! (cli/tests/manage/pending.scn: every action pending for 30 s): each
//! step's leading text is on stdout before the wait, the signal ends the
//! wait with what was last read, exit 128 + the signal, and `--json` is
//! still one document, marked interrupted.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Far beyond what any step takes on a loaded machine, far below the 30 s
/// the scenario's actions stay pending.
const BOUND: Duration = Duration::from_secs(25);

fn pending_scn() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/manage/pending.scn")
}

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_xc-livepatch"))
        .arg("--sim")
        .arg(pending_scn())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn xc-livepatch")
}

/// Reads `r` in a thread; what was read so far comes on the channel.
fn reader(mut r: impl Read + Send + 'static) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = r.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    rx
}

/// Collects from `rx` until `want` has been seen (or BOUND passed).
fn until(rx: &mpsc::Receiver<Vec<u8>>, got: &mut Vec<u8>, want: &[u8]) {
    let t0 = Instant::now();
    while !got.windows(want.len()).any(|w| w == want) {
        let left = BOUND.checked_sub(t0.elapsed()).unwrap_or_else(|| {
            panic!("no {:?} within {BOUND:?}; got {:?}", String::from_utf8_lossy(want), String::from_utf8_lossy(got))
        });
        if let Ok(b) = rx.recv_timeout(left) {
            got.extend(b);
        }
    }
}

/// Whether `pid` catches signal `sig` (/proc/PID/status, SigCgt).
fn catches(pid: u32, sig: i32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let mask = status.lines().find_map(|l| l.strip_prefix("SigCgt:")).map(str::trim).unwrap_or("0");
    u64::from_str_radix(mask, 16).is_ok_and(|m| m & (1 << (sig - 1)) != 0)
}

fn kill(child: &Child, sig: &str) {
    let st = Command::new("kill").args(["-s", sig, &child.id().to_string()]).status().unwrap();
    assert!(st.success(), "kill -s {sig}");
}

/// Waits for the child's end (at most BOUND); its exit code and stderr.
fn finish(mut child: Child, out: &mpsc::Receiver<Vec<u8>>, got: &mut Vec<u8>) -> (Option<i32>, String) {
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed() > BOUND {
            let _ = child.kill();
            panic!("still running {BOUND:?} after the signal");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    while let Ok(b) = out.recv_timeout(Duration::from_secs(5)) {
        got.extend(b);
    }
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (status.code(), err)
}

#[test]
fn sigint_during_a_pending_apply_prints_what_was_started_and_the_last_state_and_exits_130() {
    let t0 = Instant::now();
    let mut child = spawn(&["apply", "other", "--wait", "60s"]);
    let out = reader(child.stdout.take().unwrap());
    let mut got = Vec::new();
    // The leading text is written before the wait, as xen-livepatch's.
    until(&out, &mut got, b"Applying other... ");
    kill(&child, "INT");
    let (code, err) = finish(child, &out, &mut got);
    assert_eq!(String::from_utf8_lossy(&got), "Applying other... interrupted\n");
    assert_eq!(
        err,
        "xc-livepatch: SIGINT: stopped waiting for the apply of other; at the last read it was CHECKED with rc -11 \
         (Resource temporarily unavailable); the hypervisor may still finish the apply\n"
    );
    assert_eq!(code, Some(130));
    assert!(t0.elapsed() < BOUND, "waited for the action: {:?}", t0.elapsed());
}

#[test]
fn sigterm_with_json_gives_one_document_marked_interrupted_and_exits_143() {
    let mut child = spawn(&["apply", "other", "--wait", "60s", "--json"]);
    let out = reader(child.stdout.take().unwrap());
    let t0 = Instant::now();
    while !catches(child.id(), libc::SIGTERM) {
        assert!(t0.elapsed() < BOUND, "the command never caught SIGTERM");
        std::thread::sleep(Duration::from_millis(10));
    }
    // Once the handler is in place, give it time to reach the wait (it is
    // marked interrupted wherever the signal lands: before the call, the
    // first read after it sees the flag).
    std::thread::sleep(Duration::from_millis(200));
    kill(&child, "TERM");
    let mut got = Vec::new();
    let (code, err) = finish(child, &out, &mut got);
    assert_eq!(code, Some(143), "stderr: {err}");
    assert_eq!(err, "");
    let doc: serde_json::Value = serde_json::from_slice(&got).expect("one JSON document");
    assert_eq!(doc["interrupted"], "SIGTERM");
    assert_eq!((doc["ok"].clone(), doc["exit_status"].clone()), (false.into(), 143.into()));
    let step = &doc["steps"][0];
    assert_eq!(step["result"], "interrupted");
    assert_eq!((step["after"]["state"].as_str(), step["after"]["rc"].as_i64()), (Some("CHECKED"), Some(-11)));
    assert_eq!(step["errno"]["name"], "EINTR");
}

#[test]
fn a_second_sigint_as_timeout_sends_it_changes_nothing() {
    // `timeout -s INT` signals the command, then its process group: two in a
    // row. The second must not kill the command before it says what it did.
    let mut child = spawn(&["apply", "other", "--wait", "60s"]);
    let out = reader(child.stdout.take().unwrap());
    let mut got = Vec::new();
    until(&out, &mut got, b"Applying other... ");
    kill(&child, "INT");
    kill(&child, "INT");
    let (code, err) = finish(child, &out, &mut got);
    assert_eq!(String::from_utf8_lossy(&got), "Applying other... interrupted\n");
    assert!(err.starts_with("xc-livepatch: SIGINT: stopped waiting for the apply of other;"), "{err:?}");
    assert_eq!(code, Some(130));
}

#[path = "../src/testpayload.rs"]
mod testpayload;

/// A payload the simulator takes as Xen would: its own build id, stacked on
/// the hypervisor `id` and made for it.
fn livepatch(dir: &std::path::Path, id: &[u8]) -> PathBuf {
    testpayload::build(dir, "f", &testpayload::Spec::new(0xf1, id, id))
}

#[test]
fn sigint_during_loads_apply_shows_the_upload_done_and_leaves_no_clean_up_half_done() {
    let list = Command::new(env!("CARGO_BIN_EXE_xc-livepatch"))
        .arg("--sim")
        .arg(pending_scn())
        .args(["list", "--json"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let hex = doc["xen_build_id"].as_str().unwrap();
    let id: Vec<u8> = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
    let dir = tempfile::tempdir().unwrap();
    let file = livepatch(dir.path(), &id);
    let mut child = spawn(&["load", file.to_str().unwrap(), "--wait", "60s"]);
    let out = reader(child.stdout.take().unwrap());
    let mut got = Vec::new();
    until(&out, &mut got, b"Applying f... ");
    kill(&child, "INT");
    let (code, err) = finish(child, &out, &mut got);
    assert_eq!(
        String::from_utf8_lossy(&got),
        format!("Uploading {}... completed\nApplying f... interrupted\n", file.display())
    );
    assert!(err.starts_with("xc-livepatch: SIGINT: stopped waiting for the apply of f; "), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(code, Some(130));
}
