//! `xc-livepatch ensure` over the simulated hypervisor (`--sim` with
//! `--sim-state`: one hypervisor across commands), with real payload files
//! (tests/fakexen/ensure-payloads.py, built with binutils as the real-Xen
//! stage builds its payloads): the stack from empty, no change on a second
//! run, --replace --prune, --absent, --dry-run, the lock, SIGINT/SIGTERM at
//! a step boundary, a failed apply.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_xc-livepatch");

/// The payload files, built once per test binary.
fn payloads() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fakexen/ensure-payloads.py");
        let st = Command::new("python3").arg(script).arg(d.path()).status().unwrap();
        assert!(st.success(), "ensure-payloads.py failed");
        d
    })
    .path()
}

/// One simulated hypervisor: a scenario (`extra` lines after the payload
/// modules), its state file, and the payload files under `p/`.
struct Hv {
    dir: tempfile::TempDir,
}

impl Hv {
    fn new(extra: &str) -> Hv {
        let dir = tempfile::tempdir().unwrap();
        let modules = std::fs::read_to_string(payloads().join("modules.scn")).unwrap();
        std::fs::write(dir.path().join("hv.scn"), format!("interface 0x15\n{modules}{extra}\n")).unwrap();
        std::os::unix::fs::symlink(payloads(), dir.path().join("p")).unwrap();
        Hv { dir }
    }

    fn path(&self, f: &str) -> PathBuf {
        self.dir.path().join(f)
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.current_dir(self.dir.path()).args(["--sim", "hv.scn", "--sim-state", "state"]).args(args);
        c.env_remove("XC_LIVEPATCH_LOCK");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// `ensure ARGS`, which must exit with `code`; its stdout.
    fn ensure(&self, args: &[&str], code: i32) -> String {
        let o = self.run(&[&["ensure"], args].concat());
        let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        assert_eq!(o.status.code(), Some(code), "ensure {args:?}:\n{text}");
        text
    }

    /// `name STATE` per loaded payload, in list order.
    fn state(&self) -> Vec<String> {
        let o = self.run(&["list", "--format", "dump"]);
        assert!(o.status.success());
        let text = String::from_utf8(o.stdout).unwrap();
        text.lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                let st = match f[1] {
                    "1" => "CHECKED",
                    "2" => "APPLIED",
                    s => s,
                };
                format!("{} {st}", f[0])
            })
            .collect()
    }

    fn json(&self, args: &[&str], code: i32) -> serde_json::Value {
        let o = self.run(&[&["ensure", "--json"], args].concat());
        assert_eq!(o.status.code(), Some(code), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    }
}

const STACK: [&str; 2] = ["p/base.livepatch", "p/top2.livepatch"];
const STACK3: [&str; 3] = ["p/base.livepatch", "p/mid.livepatch", "p/top.livepatch"];

#[test]
fn a_two_payload_stack_is_reached_from_empty_and_a_second_run_plans_nothing() {
    let hv = Hv::new("");
    let out = hv.ensure(&STACK, 0);
    assert!(out.contains("plan of 4 steps"), "{out}");
    assert!(out.contains("Applying top2... completed"), "{out}");
    assert_eq!(hv.state(), ["base APPLIED", "top2 APPLIED"]);
    let again = hv.ensure(&STACK, 0);
    assert!(again.contains("nothing to do: the target is reached (0 steps)"), "{again}");
    let d = hv.json(&STACK, 0);
    assert_eq!(
        (d["changed"].clone(), d["plan"].clone(), d["steps"].clone()),
        (false.into(), serde_json::json!([]), serde_json::json!([]))
    );
    assert_eq!(d["before"], d["after"]);
    assert_eq!(hv.state(), ["base APPLIED", "top2 APPLIED"]);
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let hv = Hv::new("");
    hv.ensure(&["p/base.livepatch"], 0);
    let before = std::fs::read(hv.path("state")).unwrap();
    let out = hv.ensure(&[&["--dry-run", "--replace", "--prune"], &["p/cum.livepatch"][..]].concat(), 0);
    assert!(out.contains("1. upload cum from p/cum.livepatch\n  2. replace cum\n"), "{out}");
    assert!(out.contains("dry run: nothing done"), "{out}");
    assert_eq!(std::fs::read(hv.path("state")).unwrap(), before);
    let d = hv.json(&["--dry-run", "p/base.livepatch", "p/top2.livepatch"], 0);
    assert_eq!((d["dry_run"].clone(), d["changed"].clone()), (true.into(), false.into()));
    assert_eq!(d["plan"].as_array().unwrap().len(), 2);
    assert_eq!(d["steps"], serde_json::json!([]));
    assert_eq!(std::fs::read(hv.path("state")).unwrap(), before);
}

#[test]
fn replace_with_prune_leaves_only_the_cumulative_payload_applied_and_none_checked() {
    let hv = Hv::new("");
    hv.ensure(&STACK, 0);
    let d = hv.json(&["--replace", "--prune", "p/cum.livepatch"], 0);
    assert_eq!(d["changed"], true);
    assert_eq!(hv.state(), ["cum APPLIED"]);
    hv.ensure(&["--replace", "--prune", "p/cum.livepatch"], 0);
    assert_eq!(hv.json(&["--replace", "--prune", "p/cum.livepatch"], 0)["changed"], false);
}

#[test]
fn absent_payloads_are_reverted_and_unloaded() {
    let hv = Hv::new("");
    hv.ensure(&STACK, 0);
    let out = hv.ensure(&["p/base.livepatch", "--absent", "top2"], 0);
    assert!(out.contains("1. revert top2\n  2. unload top2\n"), "{out}");
    assert_eq!(hv.state(), ["base APPLIED"]);
    assert!(hv.ensure(&["p/base.livepatch", "--absent", "top2"], 0).contains("nothing to do"));
}

#[test]
fn the_json_document_gives_the_plan_each_steps_document_and_the_states() {
    let hv = Hv::new("");
    let d = hv.json(&STACK, 0);
    let kinds: Vec<_> = d["plan"].as_array().unwrap().iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["upload", "apply", "upload", "apply"]);
    let steps = d["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 4);
    for (i, s) in steps.iter().enumerate() {
        assert_eq!((s["index"].as_u64(), s["cleanup"].as_bool()), (Some(i as u64), Some(false)));
        assert_eq!(s["step"]["result"], "completed");
        assert!(s["step"]["elapsed_ns"].as_u64().is_some());
    }
    assert_eq!(steps[1]["step"]["after"]["state"], "APPLIED");
    assert_eq!(d["before"], serde_json::json!([]));
    assert_eq!(d["after"].as_array().unwrap().len(), 2);
    assert_eq!(d["after"][0]["metadata"], serde_json::json!(["PAYLOAD=base", "VERSION=1"]));
    assert_eq!(d["hypervisor_build_id"], "5e6d0b1c2738495a6b7c8d9eafb0c1d2e3f40516");
    assert_eq!(d["target"]["stack"][1]["depends"], d["target"]["stack"][0]["build_id"]);
    assert_eq!(
        (d["changed"].clone(), d["ok"].clone(), d["interrupted"].clone()),
        (true.into(), true.into(), serde_json::Value::Null)
    );
}

#[test]
fn a_failed_apply_stops_the_run_and_unloads_what_this_run_uploaded() {
    let hv = Hv::new("module top2 apply-ends=EBUSY");
    let o = hv.run(&[&["ensure"], &STACK[..]].concat());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("step 4 of 4 (apply top2) failed, 3 steps done before it; top2 unloaded again"), "{err}");
    assert!(err.contains("the state now: base APPLIED\n"), "{err}");
    assert_eq!(hv.state(), ["base APPLIED"]);
    let d = hv.json(&STACK, 2);
    let last = d["steps"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["cleanup"].as_bool(), last["step"]["step"].as_str()), (Some(true), Some("unload")));
}

/// Waits until `f` holds (at most a minute: a hang guard).
fn until(what: &str, f: impl Fn() -> bool) {
    let t0 = Instant::now();
    while !f() {
        assert!(t0.elapsed() < Duration::from_secs(60), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn lock_holder(hv: &Hv) -> Option<u32> {
    std::fs::read_to_string(hv.path("state.lock")).ok()?.trim().parse().ok()
}

#[test]
fn a_second_driver_waits_for_the_first_and_plans_from_its_result_or_names_its_pid() {
    // Each action stays pending 200 ms: the first run holds the lock > 1 s.
    let hv = Hv::new("pending 200ms");
    let first = hv.cmd(&[&["ensure"], &STACK3[..]].concat()).stdout(Stdio::piped()).spawn().unwrap();
    until("the first run to hold the lock", || lock_holder(&hv) == Some(first.id()));
    let busy = hv.run(&[&["ensure", "--lock-wait", "0"], &STACK3[..]].concat());
    let err = String::from_utf8_lossy(&busy.stderr);
    assert_eq!(busy.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("is locked by process {}", first.id())), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let second = hv.run(&[&["ensure", "--json"], &STACK3[..]].concat());
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success());
    assert!(String::from_utf8_lossy(&first.stdout).contains("plan of 6 steps"));
    let d: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!((d["plan"].clone(), d["changed"].clone()), (serde_json::json!([]), false.into()));
    assert_eq!(d["before"].as_array().unwrap().len(), 3);
    assert_eq!(hv.state(), ["base APPLIED", "mid APPLIED", "top APPLIED"]);
}

#[test]
fn sigint_and_sigterm_stop_at_the_next_step_boundary_and_a_new_run_finishes() {
    for (sig, name, code) in [(libc::SIGINT, "SIGINT", 130), (libc::SIGTERM, "SIGTERM", 143)] {
        let hv = Hv::new("pending 300ms");
        let child = hv.cmd(&[&["ensure", "--json"], &STACK3[..]].concat()).stdout(Stdio::piped()).spawn().unwrap();
        // Once base is uploaded, its apply is the step under way.
        until("the first upload", || std::fs::read_to_string(hv.path("state")).is_ok_and(|s| s.contains("payload ")));
        // SAFETY: a signal to our own child.
        #[allow(unsafe_code)]
        let r = unsafe { libc::kill(child.id() as i32, sig) };
        assert_eq!(r, 0);
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(code), "{name}");
        let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(d["interrupted"], name);
        let steps = d["steps"].as_array().unwrap();
        // Stopped at a boundary: each step run ended as asked, and not all.
        assert!(!steps.is_empty() && steps.len() < 6, "{name}: {} steps", steps.len());
        assert!(steps.iter().all(|s| s["step"]["result"] == "completed"), "{name}: {steps:?}");
        assert!(d["message"].as_str().unwrap().contains(&format!("interrupted by {name} after step {}", steps.len())));
        let rest = hv.json(&STACK3, 0);
        assert_eq!(rest["plan"].as_array().unwrap().len(), 6 - steps.len(), "{name}");
        assert_eq!(hv.state(), ["base APPLIED", "mid APPLIED", "top APPLIED"]);
    }
}

#[test]
fn replace_takes_exactly_one_file() {
    let hv = Hv::new("");
    let o = hv.run(&[&["ensure", "--replace"], &STACK[..]].concat());
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--replace takes exactly one"));
}
