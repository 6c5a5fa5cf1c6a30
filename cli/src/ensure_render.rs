//! An `ensure` run ([`crate::ensure::Run`]) as text (the plan, each step
//! as xen-livepatch's lines, one summary line) or as one JSON document
//! (schema: `cli/schema/xc-livepatch-ensure.schema.json`).

use crate::ensure::{step_name, Ran, Run};
use crate::lines::{self, Stream};
use crate::plan::{self, PayloadFile, Target};
use crate::step::state_name;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use std::io::Write as _;
use std::os::unix::ffi::OsStrExt as _;
use xc_livepatch::xenver::hex;
use xc_livepatch::Payload;

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn word(s: &plan::Step) -> &'static str {
    match s {
        plan::Step::Upload { .. } => "upload",
        plan::Step::Apply { .. } => "apply",
        plan::Step::Revert { .. } => "revert",
        plan::Step::Replace { .. } => "replace",
        plan::Step::Unload { .. } => "unload",
    }
}

/// `upload base from p/base.livepatch`, `apply base`.
pub fn describe(run: &Run, s: &plan::Step) -> String {
    let Some(t) = &run.target else { return word(s).into() };
    let name = lossy(step_name(s, t));
    match s {
        plan::Step::Upload { index } => format!("upload {name} from {}", run.files[*index].display()),
        _ => format!("{} {name}", word(s)),
    }
}

fn out(bytes: &[u8]) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(bytes).and_then(|()| o.flush());
}

/// The plan, on stdout, before anything is done.
pub fn print_plan(run: &Run) {
    let mut t = String::new();
    if run.plan.is_empty() {
        t.push_str("ensure: nothing to do: the target is reached (0 steps)\n");
    } else {
        t.push_str(&format!("ensure: plan of {} step{}:\n", run.plan.len(), plural(run.plan.len())));
        for (i, s) in run.plan.iter().enumerate() {
            t.push_str(&format!("  {}. {}\n", i + 1, describe(run, s)));
        }
    }
    out(t.as_bytes());
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// One step's lines, as the step's own subcommand prints them.
pub fn print_step(r: &Ran) {
    if r.cleanup {
        let name = lossy(&r.step.name);
        out(format!("ensure: unloading {name} again: this run uploaded it and could not apply it\n").as_bytes());
    }
    for (stream, bytes) in lines::render_all(std::slice::from_ref(&r.step)).0 {
        match stream {
            Stream::Out => out(&bytes),
            Stream::Err => {
                let _ = std::io::stderr().lock().write_all(&bytes);
            }
        }
    }
}

/// `a APPLIED, b CHECKED` of the list after the run.
fn state_now(run: &Run) -> String {
    match &run.after {
        None => "unknown (the list failed)".into(),
        Some(ps) if ps.is_empty() => "no live patch loaded".into(),
        Some(ps) => {
            ps.iter().map(|p| format!("{} {}", p.name(), state_name(p.state.raw()))).collect::<Vec<_>>().join(", ")
        }
    }
}

/// The summary of a run stopped by a failing step.
pub fn failure_line(run: &Run, failed: &Ran) -> String {
    let (k, n) = (failed.index + 1, run.plan.len());
    let what = describe(run, &run.plan[failed.index]);
    let cleanup = match run.ran.iter().find(|r| r.cleanup) {
        Some(c) if c.step.ok() => format!("; {} unloaded again", lossy(&c.step.name)),
        Some(c) => format!("; unloading {} again failed too", lossy(&c.step.name)),
        None => String::new(),
    };
    format!(
        "xc-livepatch: ensure: step {k} of {n} ({what}) failed, {} step{} done before it{cleanup}; the state now: {}\n",
        k - 1,
        plural(k - 1),
        state_now(run)
    )
}

/// The summary of a run stopped by SIGINT or SIGTERM.
pub fn interrupted_line(run: &Run, sig: i32) -> String {
    let done = run.ran.iter().filter(|r| !r.cleanup).count();
    format!(
        "xc-livepatch: ensure: interrupted by {} after step {done} of {}, at a step boundary; the state now: {}; run ensure again to finish\n",
        signal_name(sig),
        run.plan.len(),
        state_now(run)
    )
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}

/// Prints the end of the run (the summary, or the JSON document); returns
/// the exit status.
pub fn finish(run: &Run, source: &'static str, json: bool) -> u8 {
    if json {
        let mut doc = serde_json::to_vec_pretty(&document(run, source)).unwrap_or_default();
        doc.push(b'\n');
        if let Err(e) = crate::output::write(None, &doc) {
            let _ = writeln!(std::io::stderr(), "xc-livepatch: cannot write stdout: {e}");
            return run.exit_status.max(1);
        }
    } else if let Some(m) = &run.message {
        let _ = std::io::stderr().lock().write_all(m.as_bytes());
    } else if run.dry_run {
        out(b"ensure: dry run: nothing done\n");
    } else if !run.plan.is_empty() {
        let n = run.ran.len();
        out(format!("ensure: done: {n} step{}, the target is reached\n", plural(n)).as_bytes());
    }
    run.exit_status
}

fn with_base64(m: &mut Map<String, Value>, key: &str, b: &[u8]) {
    m.insert(key.into(), Value::from(lossy(b)));
    if std::str::from_utf8(b).is_err() {
        m.insert(format!("{key}_base64"), Value::from(BASE64.encode(b)));
    }
}

fn file_value(p: &PayloadFile, file: &std::path::Path) -> Value {
    let mut m = Map::new();
    with_base64(&mut m, "name", &p.name);
    m.insert("file".into(), Value::from(lossy(file.as_os_str().as_bytes())));
    m.insert("build_id".into(), p.build_id.as_deref().map(hex).into());
    m.insert("depends".into(), p.depends.as_deref().map(hex).into());
    m.insert("xen_depends".into(), (!p.xen_depends.is_empty()).then(|| hex(&p.xen_depends)).into());
    m.insert("vetoing_hooks".into(), p.vetoing_hooks.into());
    m.insert("safe_to_reapply".into(), p.safe_to_reapply.into());
    let strings = crate::json::metadata_strings(&p.modinfo).into_iter().map(lossy).collect::<Vec<_>>();
    m.insert("metadata".into(), strings.into());
    m.insert("metadata_base64".into(), BASE64.encode(&p.modinfo).into());
    Value::Object(m)
}

fn target_value(run: &Run, t: &Target) -> Value {
    json!({
        "stack": t.stack.iter().zip(&run.files).map(|(p, f)| file_value(p, f)).collect::<Vec<_>>(),
        "replace": t.replace,
        "absent": t.absent.iter().map(|a| lossy(a)).collect::<Vec<_>>(),
        "prune": t.prune,
        "reload": t.reload,
    })
}

fn planned_value(run: &Run, t: &Target, s: &plan::Step) -> Value {
    let mut m = Map::new();
    m.insert("step".into(), word(s).into());
    with_base64(&mut m, "name", step_name(s, t));
    let file = match s {
        plan::Step::Upload { index } => Some(lossy(run.files[*index].as_os_str().as_bytes())),
        _ => None,
    };
    m.insert("file".into(), file.into());
    Value::Object(m)
}

fn payloads(ps: &Option<Vec<Payload>>) -> Value {
    ps.as_ref().map_or(Value::Null, |ps| ps.iter().map(crate::json::payload_value).collect())
}

/// The JSON document of a run.
pub fn document(run: &Run, source: &'static str) -> Value {
    let empty = Target { stack: vec![], replace: false, absent: vec![], prune: false, reload: false };
    let t = run.target.as_ref().unwrap_or(&empty);
    let steps: Vec<Value> = run
        .ran
        .iter()
        .map(|r| json!({"index": r.index, "cleanup": r.cleanup, "step": crate::report::step_value(&r.step)}))
        .collect();
    json!({
        "command": "ensure",
        "source": source,
        "hypervisor_build_id": run.build_id.as_deref().map(hex),
        "target": target_value(run, t),
        "dry_run": run.dry_run,
        "before": payloads(&run.before),
        "refusal": run.refusal,
        "plan": run.plan.iter().map(|s| planned_value(run, t, s)).collect::<Vec<_>>(),
        "steps": steps,
        "after": payloads(&run.after),
        "changed": run.changed(),
        "interrupted": run.interrupted.map(signal_name),
        "ok": run.exit_status == 0,
        "exit_status": run.exit_status,
        "message": run.message.as_deref().map(|m| m.trim_end().to_string()),
        "elapsed_ns": u64::try_from(run.elapsed.as_nanos()).unwrap_or(u64::MAX),
    })
}
