//! `ensure [NAME=]FILE...`: glue between the hypervisor ([`Control`], the
//! listing), the payload files ([`crate::elf`]), the pure planner
//! ([`crate::plan`]) and the step runners ([`crate::upload`],
//! [`crate::actions`]). Observe, plan, print the plan, run it step by step,
//! stop at the first step that fails or at SIGINT/SIGTERM (at a step
//! boundary), observe again, report ([`crate::ensure_render`]).
//!
//! A payload this run uploaded and then could not apply (or replace with)
//! is unloaded again right away, as `load` does, when the hypervisor says
//! its action has ended (CHECKED, rc not -EAGAIN): the run leaves no payload
//! of its own making behind half done, and the next run plans its upload
//! again. One whose action is still pending is left as it is (an unload
//! would be EBUSY); the next run waits for it and plans from what it became.

use crate::actions::{self, Request};
use crate::args::EnsureArgs;
use crate::control::Control;
use crate::plan::{self, Loaded, Observed, PayloadFile, Target};
use crate::source::Source;
use crate::step::{After, Observer, Outcome, Step, CHECKED};
use crate::{elf, interrupt, upload};
use std::os::unix::ffi::OsStrExt as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use xc_livepatch::{Action, Payload};

/// One step run: its place in the plan, whether it is the cleanup after a
/// failed apply, and its record.
#[derive(Debug, Clone)]
pub struct Ran {
    /// Index into the plan (a cleanup step: the failed step's).
    pub index: usize,
    /// The unload of a payload this run uploaded and could not apply.
    pub cleanup: bool,
    /// What it did.
    pub step: Step,
}

/// Everything one run did and saw, for the renderers.
#[derive(Debug, Clone, Default)]
pub struct Run {
    /// The files of the stack, as given (`FILE` of `NAME=FILE`).
    pub files: Vec<PathBuf>,
    /// The target handed to the planner.
    pub target: Option<Target>,
    /// `--dry-run`.
    pub dry_run: bool,
    /// `--force`: every upload asks for `LIVEPATCH_FLAG_FORCE`.
    pub force: bool,
    /// The hypervisor's build id.
    pub build_id: Option<Vec<u8>>,
    /// LIST before the plan.
    pub before: Option<Vec<Payload>>,
    /// Why the planner refused the target.
    pub refusal: Option<String>,
    /// The plan.
    pub plan: Vec<plan::Step>,
    /// The steps run.
    pub ran: Vec<Ran>,
    /// LIST after the last step.
    pub after: Option<Vec<Payload>>,
    /// The signal that stopped the run.
    pub interrupted: Option<i32>,
    /// The exit status.
    pub exit_status: u8,
    /// The one-line summary of a failure, refusal or interruption.
    pub message: Option<String>,
    /// The whole run's time.
    pub elapsed: Duration,
}

impl Run {
    /// Whether a step that changes the hypervisor completed.
    pub fn changed(&self) -> bool {
        self.ran.iter().any(|r| r.step.outcome == Outcome::Completed)
    }
}

/// `NAME=FILE` (a NAME without `/`) or `FILE`, named as `load` names it.
pub fn parse_target(arg: &std::ffi::OsStr) -> (Vec<u8>, PathBuf) {
    let b = arg.as_bytes();
    if let Some(eq) = b.iter().position(|&c| c == b'=') {
        let (name, file) = (&b[..eq], &b[eq + 1..]);
        if !name.is_empty() && !name.contains(&b'/') && !file.is_empty() {
            return (name.to_vec(), PathBuf::from(std::ffi::OsStr::from_bytes(file)));
        }
    }
    let file = PathBuf::from(arg);
    (upload::load_name(&file), file)
}

/// The planner's view of a payload file, from its ELF ([`elf::inspect`]).
pub fn payload_file(name: &[u8], bytes: &[u8]) -> Result<PayloadFile, String> {
    let p = elf::inspect(bytes)?;
    Ok(PayloadFile {
        name: name.to_vec(),
        file: Vec::new(),
        build_id: p.stack.build_id,
        depends: p.stack.depends,
        xen_depends: p.xen_depends,
        vetoing_hooks: p.stack.vetoing_hooks,
        safe_to_reapply: p.stack.safe_to_reapply,
        modinfo: p.stack.modinfo,
    })
}

/// What LIST shows, as the planner takes it.
pub fn observed(build_id: &[u8], payloads: &[Payload]) -> Observed {
    Observed {
        hypervisor_build_id: build_id.to_vec(),
        loaded: payloads
            .iter()
            .map(|p| Loaded {
                name: p.name_bytes().to_vec(),
                state: p.state.raw(),
                rc: p.rc,
                metadata: p.metadata_raw().to_vec(),
            })
            .collect(),
    }
}

/// The name of a planned step's payload.
pub fn step_name<'a>(s: &'a plan::Step, target: &'a Target) -> &'a [u8] {
    s.name(target)
}

/// Lists, waiting (at most `wait`) while an action is still pending on a
/// payload: the plan is made from settled states. `Err`: one line.
fn settled_list(source: &Source, wait: Duration) -> Result<Vec<Payload>, (String, u8)> {
    let deadline = Instant::now().checked_add(wait);
    let mut gap = Duration::from_millis(1);
    loop {
        let s = source.snapshot().map_err(|f| (crate::run::error_line("cannot list live patches", &f.error), 1))?;
        let pending = s.payloads.iter().find(|p| p.rc == -libc::EAGAIN);
        let Some(p) = pending else { return Ok(s.payloads) };
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if left == Some(Duration::ZERO) {
            let m = format!("xc-livepatch: ensure: an action on {} is still pending; try again\n", p.name());
            return Err((m, 2));
        }
        std::thread::sleep(left.map_or(gap, |l| gap.min(l)));
        gap = (gap * 2).min(actions::MAX_POLL_GAP);
    }
}

/// Reads the stack's files; `Err`: one line.
fn read_stack(a: &EnsureArgs) -> Result<(Vec<PayloadFile>, Vec<PathBuf>), String> {
    let mut stack: Vec<PayloadFile> = Vec::new();
    let mut files = Vec::new();
    for arg in &a.payloads {
        let (name, file) = parse_target(arg);
        if stack.iter().any(|p| p.name == name) {
            return Err(format!("{} is given twice", String::from_utf8_lossy(&name)));
        }
        if name.len() > crate::step::NAME_MAX {
            let n = name.len();
            return Err(format!(
                "the name {} is {n} bytes long; Xen takes at most 127",
                String::from_utf8_lossy(&name)
            ));
        }
        let bytes = upload::read_regular(&file).map_err(|r| format!("{}: {}", file.display(), refusal_words(&r)))?;
        let mut p = payload_file(&name, &bytes).map_err(|w| format!("{} is {w}", file.display()))?;
        p.file = file.as_os_str().as_bytes().to_vec();
        stack.push(p);
        files.push(file);
    }
    Ok((stack, files))
}

fn refusal_words(r: &crate::step::Refusal) -> String {
    use crate::step::Refusal as R;
    match r {
        R::Open(e) | R::Read(e) => crate::errno::strerror(*e),
        R::NotRegular(k) => format!("is {k}, not a regular file"),
        R::TooLarge { size, limit, whose } => format!("is {size} bytes, more than {whose} accepts ({limit})"),
        r => format!("{r:?}"),
    }
}

/// Observes and plans; fills `run` and returns `false` when the run ends
/// here (an error or a refusal, `run.exit_status` and `run.message` set).
fn observe_and_plan(source: &Source, a: &EnsureArgs, run: &mut Run) -> bool {
    let (stack, files) = match read_stack(a) {
        Ok(x) => x,
        Err(m) => return stop(run, 1, format!("xc-livepatch: ensure: {m}\n")),
    };
    run.files = files;
    let absent = a.absent.iter().map(|n| n.as_bytes().to_vec()).collect();
    let target = Target { stack, replace: a.replace, absent, prune: a.prune, reload: a.reload };
    run.target = Some(target.clone());
    let build_id = match source.build_id() {
        Ok(b) => b,
        Err(e) => return stop(run, 1, crate::run::error_line("ensure: cannot read the hypervisor's build id", &e)),
    };
    run.build_id = Some(build_id.clone());
    let before = match settled_list(source, a.wait.wait) {
        Ok(b) => b,
        Err((m, status)) => return stop(run, status, m),
    };
    let result = plan::plan(&observed(&build_id, &before), &target);
    run.before = Some(before);
    match result {
        Ok(p) => {
            run.plan = p.steps;
            true
        }
        Err(r) => {
            run.refusal = Some(r.to_string());
            let status = if r.is_retry_later() { 2 } else { 1 };
            stop(run, status, format!("xc-livepatch: ensure: refused before any step: {r}\n"))
        }
    }
}

fn stop(run: &mut Run, status: u8, message: String) -> bool {
    run.exit_status = status;
    run.message = Some(message);
    false
}

/// Runs one planned step, its lines written as it goes by `obs`.
fn run_step(source: &Source, s: &plan::Step, run: &Run, wait: Duration, obs: &mut dyn Observer) -> Step {
    let Some(target) = &run.target else { return Step::new(crate::step::Kind::Upload, b"") };
    let mut act = |action, name: &[u8]| actions::run_with(source, Request { action, name, nodeps: false, wait }, obs);
    match s {
        // The planner checked the files' xen_depends against the build id
        // read once for the plan: the upload does not read it again.
        plan::Step::Upload { index } => {
            let (name, file) = (&target.stack[*index].name, &run.files[*index]);
            let mode = upload::UploadMode { check_build_id: false, force_flag: run.force };
            upload::upload_with(source, name, file, mode, obs)
        }
        plan::Step::Apply { name } => act(Action::Apply, name),
        plan::Step::Revert { name } => act(Action::Revert, name),
        plan::Step::Replace { name } => act(Action::Replace, name),
        plan::Step::Unload { name } => act(Action::Unload, name),
    }
}

/// Whether a failed apply or replace has ended (so that its payload can be
/// unloaded): the hypervisor refused the call, or the action is over and
/// left the payload CHECKED.
fn ended_checked(step: &Step) -> bool {
    match (&step.outcome, step.after) {
        (Outcome::Failed(_), _) => true,
        (Outcome::TimedOut | Outcome::InProgress, _) => false,
        (_, After::Status(s)) => s.state.raw() == CHECKED && s.rc != -libc::EAGAIN,
        _ => false,
    }
}

/// Runs the plan; stops at the first failing step or at a signal.
fn run_plan(source: &Source, a: &EnsureArgs, run: &mut Run, obs: &mut dyn Observer) {
    let Some(target) = run.target.clone() else { return };
    let plan = run.plan.clone();
    let mut uploaded: Vec<&[u8]> = Vec::new();
    for (index, s) in plan.iter().enumerate() {
        if let Some(sig) = interrupt::requested() {
            run.interrupted = Some(sig);
            break;
        }
        let step = run_step(source, s, run, a.wait.wait, obs);
        let ok = step.ok();
        let signal = step.interrupted();
        run.ran.push(Ran { index, cleanup: false, step });
        if let Some(sig) = signal {
            // The signal came while the step's action was pending: the
            // hypervisor finishes it; the list after waits for that.
            run.interrupted = Some(sig);
            break;
        }
        if let (true, plan::Step::Upload { index: i }) = (ok, s) {
            uploaded.push(&target.stack[*i].name);
        }
        if ok {
            continue;
        }
        let last = &run.ran[run.ran.len() - 1].step;
        let name = step_name(s, &target).to_vec();
        let acted = matches!(s, plan::Step::Apply { .. } | plan::Step::Replace { .. });
        if acted && uploaded.contains(&name.as_slice()) && ended_checked(last) {
            if !a.wait.json {
                crate::ensure_render::print_cleanup(&name);
            }
            let req = Request { action: Action::Unload, name: &name, nodeps: false, wait: a.wait.wait };
            let step = actions::run_with(source, req, obs);
            run.ran.push(Ran { index, cleanup: true, step });
        }
        break;
    }
}

/// `ensure`: returns the exit status.
pub fn ensure(source: &Source, a: &EnsureArgs) -> u8 {
    let t0 = Instant::now();
    if a.replace && a.payloads.len() != 1 {
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"xc-livepatch: ensure: --replace takes exactly one [NAME=]FILE (the cumulative payload)\n",
        );
        return 2;
    }
    interrupt::install();
    let mut run = Run { dry_run: a.dry_run, force: a.force, ..Run::default() };
    let json = a.wait.json;
    if observe_and_plan(source, a, &mut run) {
        if !json {
            crate::ensure_render::print_plan(&run);
        }
        if !a.dry_run {
            run_plan(source, a, &mut run, crate::manage::observer(json).as_mut());
        }
        // Nothing run, nothing changed: the list before is the list after
        // (a no-change run lists once).
        run.after = match (run.ran.is_empty(), run.interrupted) {
            (true, _) => run.before.clone(),
            (false, None) => source.snapshot().ok().map(|s| s.payloads),
            // An action the signal left pending ends within --wait: report
            // the state it leaves.
            (false, Some(_)) => settled_list(source, a.wait.wait).ok(),
        };
        conclude(&mut run);
    }
    run.elapsed = t0.elapsed();
    crate::ensure_render::finish(&run, source.name(), json)
}

/// The exit status and summary of a run that planned.
fn conclude(run: &mut Run) {
    let failed = run.ran.iter().find(|r| !r.cleanup && !r.step.ok());
    if let Some(sig) = run.interrupted {
        run.exit_status = interrupt::exit_status(sig);
        run.message = Some(crate::ensure_render::interrupted_line(run, sig));
    } else if let Some(f) = failed {
        run.exit_status = crate::step::exit_status(f.step.ret());
        run.message = Some(crate::ensure_render::failure_line(run, f));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn targets_are_name_equals_file_or_a_file_named_as_load_names_it() {
        assert_eq!(parse_target(OsStr::new("base=p/x.livepatch")), (b"base".to_vec(), "p/x.livepatch".into()));
        assert_eq!(parse_target(OsStr::new("p/xsa-1.livepatch")), (b"xsa-1".to_vec(), "p/xsa-1.livepatch".into()));
        // An '=' after a '/' is part of a path.
        assert_eq!(parse_target(OsStr::new("./a=b/c.lp")), (b"c".to_vec(), "./a=b/c.lp".into()));
        assert_eq!(parse_target(OsStr::new("=x.lp")), (b"=x".to_vec(), "=x.lp".into()));
    }

    fn failed_apply(outcome: Outcome, after: After) -> Step {
        let mut s = Step::new(crate::step::Kind::Act(Action::Apply), b"lp");
        s.outcome = outcome;
        s.after = after;
        s
    }

    #[test]
    fn only_an_ended_failed_apply_is_unloaded() {
        use xc_livepatch::{State, Status};
        let checked = |rc| After::Status(Status { state: State::Checked, rc });
        assert!(ended_checked(&failed_apply(Outcome::Failed(libc::EINVAL), After::NotAsked)));
        assert!(ended_checked(&failed_apply(Outcome::EndedWithError(libc::EBUSY), checked(-libc::EBUSY))));
        assert!(!ended_checked(&failed_apply(Outcome::TimedOut, checked(-libc::EAGAIN))));
        assert!(!ended_checked(&failed_apply(Outcome::EndedWithError(libc::EFAULT), After::Error(libc::EFAULT))));
    }
}
