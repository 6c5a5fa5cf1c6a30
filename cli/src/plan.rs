//! The planner behind `xc-livepatch ensure`: from what LIST shows and what the
//! payload files say, the minimal steps that bring the hypervisor to the
//! target, or why Xen would refuse it. Pure: no I/O, no hypervisor.
//!
//! # The rules `ensure` follows
//!
//! The target is a stack of payload files, bottom first, and options:
//! afterwards every file's payload is APPLIED and the stack's payloads are the
//! bottom of the applied stack, in the given order (other payloads may stay
//! applied above them); with `--replace` the one cumulative payload is the
//! only applied one; `--absent` names are not loaded; with `--prune` no
//! payload outside the target stays loaded unapplied (CHECKED).
//!
//! The plan is made before the first step and holds no step the target does
//! not need. A target is refused, before any step, when:
//! - a name is empty, longer than 127 bytes or holds a NUL byte; a name or a
//!   build id is given twice; a name is both in the stack and `--absent`;
//! - a file lacks `.note.gnu.build-id` or `.livepatch.depends` (Xen refuses
//!   the upload), or its `.livepatch.xen_depends` is not the running
//!   hypervisor's build id;
//! - the depends chain does not hold: the first file must stack on the
//!   hypervisor's build id, each next one on the build id of the file before
//!   it (with `--replace`, the stack is one file made against the hypervisor);
//! - `--replace` would need a REPLACE of a payload with vetoing hooks
//!   (pre/post apply/revert): Xen refuses it (EOPNOTSUPP); the cumulative
//!   payload is put in place by REPLACE even when nothing is applied;
//! - a loaded payload of a target name has LIST metadata other than its
//!   file's `.modinfo`, and `--reload` is not given (both are shown); with
//!   `--reload` it is unloaded (reverted first when it is the top of the
//!   applied stack) and uploaded again;
//! - applying the stack needs a payload reverted that is neither in the
//!   target nor `--absent` (ensure never reverts a live patch it was not told
//!   about, except by `--replace`);
//! - a revert is needed but the applied order is unknown (below);
//! - an action is still pending on some payload (rc -EAGAIN): try again later
//!   (the command exits 2, as for EBUSY);
//! - LIST shows a state other than CHECKED or APPLIED, or a name twice.
//!
//! # What LIST cannot tell, and the side ensure takes
//!
//! - **The applied order.** LIST shows the load order. Every payload a target
//!   file describes (same name, same metadata) has a known place: the files'
//!   build ids and depends chain them from the hypervisor up, as Xen checks
//!   them at APPLY. So the target's APPLIED payloads must be the bottom of the
//!   stack, in order; any other applied payload sits above them, its order
//!   unknown. Only the top can be reverted: ensure reverts an unknown payload
//!   only when it is the only one applied above the target's, and refuses a
//!   revert when two or more are (with `--replace`, REPLACE reverts them all).
//!   A stack built with `apply --nodeps` is beyond what ensure can see: a
//!   target payload applied out of its depends order is refused.
//! - **Whether a CHECKED payload was reverted.** Xen refuses to APPLY a
//!   reverted payload that has writable data besides `.livepatch.funcs`
//!   ("Please unload"). LIST does not say whether a CHECKED payload was ever
//!   applied, so ensure takes every CHECKED target payload whose file is not
//!   safe to re-apply as possibly reverted: it unloads it and uploads it again
//!   before applying it (right in every case; two steps more when it was not).
//!   The same holds before a REPLACE (Xen does not check it there, but the
//!   payload's data would not be pristine).
//! - **Build ids of payloads without a file.** A loaded payload under another
//!   name with the same build id as a target file makes its upload fail
//!   (EEXIST); LIST cannot show it, so the plan cannot foresee it.
//! - **Hooks of applied payloads without a file.** REPLACE is refused by Xen
//!   (EOPNOTSUPP, nothing changed) if one of them has vetoing hooks; only the
//!   target file's hooks can be checked beforehand.
//!
//! # Step order
//!
//! Uploads (and unloads of CHECKED payloads uploaded again) come first: they
//! change nothing that runs, and Xen checks each file before any live change.
//! Then the one revert, the re-upload of a reverted payload, the applies
//! bottom up (or the REPLACE), and last the unloads of `--absent` and
//! `--prune` payloads, in LIST order.

mod refusal;
use refusal::show;
pub use refusal::Refusal;

use crate::step::{APPLIED, CHECKED, NAME_MAX};

#[cfg(test)]
mod model;
#[cfg(test)]
mod oracle;
#[cfg(test)]
mod random_tests;
#[cfg(test)]
mod table_tests;

/// A payload file, as its ELF says.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct PayloadFile {
    /// NAME of NAME=FILE, or the name `load` gives FILE.
    pub name: Vec<u8>,
    /// The path given, for messages only.
    pub file: Vec<u8>,
    /// `.note.gnu.build-id`.
    pub build_id: Option<Vec<u8>>,
    /// `.livepatch.depends`: the build id of what it stacks on.
    pub depends: Option<Vec<u8>>,
    /// `.livepatch.xen_depends`: the hypervisor build it was made for.
    pub xen_depends: Vec<u8>,
    /// It has preapply/postapply/prerevert/postrevert hooks.
    pub vetoing_hooks: bool,
    /// Its only writable section is `.livepatch.funcs` (Xen's `safe_to_reapply`).
    pub safe_to_reapply: bool,
    /// Its `.modinfo` bytes (what LIST shows as its metadata).
    pub modinfo: Vec<u8>,
}

/// One loaded payload as LIST (and GET) show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub name: Vec<u8>,
    /// 1 CHECKED, 2 APPLIED.
    pub state: u32,
    /// 0, -EAGAIN while an action is pending, or the last action's error.
    pub rc: i32,
    pub metadata: Vec<u8>,
}

/// What the hypervisor shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Observed {
    pub hypervisor_build_id: Vec<u8>,
    /// In LIST (load) order.
    pub loaded: Vec<Loaded>,
}

/// What must hold afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Target {
    /// Bottom first; all end APPLIED, in this order, at the bottom of the stack.
    pub stack: Vec<PayloadFile>,
    /// `--replace`: one cumulative payload, the only applied one afterwards.
    pub replace: bool,
    /// `--absent NAME...`: not loaded afterwards.
    pub absent: Vec<Vec<u8>>,
    /// `--prune`: CHECKED payloads not in the stack are unloaded.
    pub prune: bool,
    /// `--reload`: a loaded payload whose metadata differs from its file's is
    /// unloaded and uploaded again.
    pub reload: bool,
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// UPLOAD `target.stack[index]`.
    Upload {
        index: usize,
    },
    Apply {
        name: Vec<u8>,
    },
    Revert {
        name: Vec<u8>,
    },
    Replace {
        name: Vec<u8>,
    },
    Unload {
        name: Vec<u8>,
    },
}

impl Step {
    /// The subcommand's word: `upload`, `apply`, `revert`, `replace`, `unload`.
    pub fn verb(&self) -> &'static str {
        match self {
            Step::Upload { .. } => "upload",
            Step::Apply { .. } => "apply",
            Step::Revert { .. } => "revert",
            Step::Replace { .. } => "replace",
            Step::Unload { .. } => "unload",
        }
    }

    /// The payload's name (an upload's from the target it indexes).
    pub fn name<'a>(&'a self, target: &'a Target) -> &'a [u8] {
        match self {
            Step::Upload { index } => &target.stack[*index].name,
            Step::Apply { name } | Step::Revert { name } | Step::Replace { name } | Step::Unload { name } => name,
        }
    }

    /// One line: `upload NAME from FILE` (`upload NAME` when the file's path
    /// is not given), `apply NAME`, ... (bytes other than printable ASCII,
    /// and `\`, escaped as `\xNN`).
    pub fn describe(&self, target: &Target) -> String {
        let name = show(self.name(target));
        match self {
            Step::Upload { index } => match &target.stack[*index].file {
                file if file.is_empty() => format!("upload {name}"),
                file => format!("upload {name} from {}", show(file)),
            },
            Step::Replace { .. } => format!("replace all applied payloads with {name}"),
            _ => format!("{} {name}", self.verb()),
        }
    }
}

/// The steps, in order; empty when the target holds already.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// The minimal plan that brings `observed` to `target`, or why Xen (or the
/// rules in this module's docs) would refuse it.
pub fn plan(observed: &Observed, target: &Target) -> Result<Plan, Refusal> {
    check_target(target, &observed.hypervisor_build_id)?;
    check_observed(observed)?;
    let have = classify(observed, target)?;
    let mut b = Builder::new(observed, target);
    if target.replace {
        plan_replace(&mut b, have[0])?;
    } else {
        plan_stack(&mut b, &have)?;
    }
    b.cleanup();
    Ok(Plan { steps: b.steps })
}

/// A target name's loaded payload: none, the file's (same metadata), or another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Have {
    None,
    Same(u32),
    Other(u32),
}

fn check_name(name: &[u8]) -> Result<(), Refusal> {
    let why = if name.is_empty() {
        "it is empty"
    } else if name.len() > NAME_MAX {
        "it is longer than 127 bytes"
    } else if name.contains(&0) {
        "it holds a NUL byte"
    } else {
        return Ok(());
    };
    Err(Refusal::BadName { name: name.to_vec(), why })
}

/// What the target alone (and the hypervisor's build id) decides.
fn check_target(target: &Target, hypervisor: &[u8]) -> Result<(), Refusal> {
    let stack = &target.stack;
    for (i, f) in stack.iter().enumerate() {
        check_name(&f.name)?;
        if stack[..i].iter().any(|g| g.name == f.name) {
            return Err(Refusal::DuplicateName { name: f.name.clone() });
        }
    }
    for a in &target.absent {
        check_name(a)?;
        if stack.iter().any(|f| &f.name == a) {
            return Err(Refusal::AbsentInStack { name: a.clone() });
        }
    }
    if target.replace && stack.len() != 1 {
        return Err(Refusal::ReplaceNeedsOne { count: stack.len() });
    }
    for (i, f) in stack.iter().enumerate() {
        let Some(id) = &f.build_id else {
            return Err(Refusal::MissingNote { name: f.name.clone(), note: ".note.gnu.build-id" });
        };
        let Some(dep) = &f.depends else {
            return Err(Refusal::MissingNote { name: f.name.clone(), note: ".livepatch.depends" });
        };
        if let Some(g) = stack[..i].iter().find(|g| g.build_id.as_ref() == Some(id)) {
            return Err(Refusal::DuplicateBuildId {
                first: g.name.clone(),
                second: f.name.clone(),
                build_id: id.clone(),
            });
        }
        if f.xen_depends != hypervisor {
            return Err(Refusal::WrongHypervisor {
                name: f.name.clone(),
                xen_depends: f.xen_depends.clone(),
                hypervisor: hypervisor.to_vec(),
            });
        }
        let (below, expected) = match i {
            0 => (None, hypervisor),
            _ => (Some(stack[i - 1].name.clone()), stack[i - 1].build_id.as_deref().unwrap_or_default()),
        };
        if dep != expected {
            return Err(Refusal::BrokenChain {
                name: f.name.clone(),
                depends: dep.clone(),
                below,
                expected: expected.to_vec(),
            });
        }
    }
    Ok(())
}

/// What is not trusted from LIST: states, names given twice, a pending action.
fn check_observed(observed: &Observed) -> Result<(), Refusal> {
    for (i, p) in observed.loaded.iter().enumerate() {
        if observed.loaded[..i].iter().any(|q| q.name == p.name) {
            return Err(Refusal::ListedTwice { name: p.name.clone() });
        }
        if p.state != CHECKED && p.state != APPLIED {
            return Err(Refusal::UnexpectedState { name: p.name.clone(), state: p.state });
        }
    }
    if let Some(p) = observed.loaded.iter().find(|p| p.rc == -libc::EAGAIN) {
        return Err(Refusal::Pending { name: p.name.clone() });
    }
    Ok(())
}

/// Each target file's loaded payload; a different one without `reload` is refused.
fn classify(observed: &Observed, target: &Target) -> Result<Vec<Have>, Refusal> {
    let mut have = Vec::with_capacity(target.stack.len());
    for f in &target.stack {
        have.push(match observed.loaded.iter().find(|p| p.name == f.name) {
            None => Have::None,
            Some(p) if p.metadata == f.modinfo => Have::Same(p.state),
            Some(p) if target.reload => Have::Other(p.state),
            Some(p) => {
                return Err(Refusal::MetadataDiffers {
                    name: f.name.clone(),
                    loaded: p.metadata.clone(),
                    file: f.modinfo.clone(),
                })
            }
        });
    }
    Ok(have)
}

/// The steps so far and the LIST they leave (name, state), in load order.
struct Builder<'a> {
    target: &'a Target,
    list: Vec<(Vec<u8>, u32)>,
    steps: Vec<Step>,
}

impl<'a> Builder<'a> {
    fn new(observed: &Observed, target: &'a Target) -> Self {
        let list = observed.loaded.iter().map(|p| (p.name.clone(), p.state)).collect();
        Builder { target, list, steps: Vec::new() }
    }

    fn set(&mut self, name: &[u8], state: u32) {
        if let Some(e) = self.list.iter_mut().find(|e| e.0 == name) {
            e.1 = state;
        }
    }

    fn upload(&mut self, index: usize) {
        self.list.push((self.target.stack[index].name.clone(), CHECKED));
        self.steps.push(Step::Upload { index });
    }

    fn unload(&mut self, name: &[u8]) {
        self.list.retain(|e| e.0 != name);
        self.steps.push(Step::Unload { name: name.to_vec() });
    }

    /// Unload (if loaded) and upload `target.stack[index]` again.
    fn reupload(&mut self, index: usize) {
        let name = self.target.stack[index].name.clone();
        if self.list.iter().any(|e| e.0 == name) {
            self.unload(&name);
        }
        self.upload(index);
    }

    fn revert(&mut self, name: &[u8]) {
        self.set(name, CHECKED);
        self.steps.push(Step::Revert { name: name.to_vec() });
    }

    fn apply(&mut self, name: &[u8]) {
        self.set(name, APPLIED);
        self.steps.push(Step::Apply { name: name.to_vec() });
    }

    fn replace(&mut self, name: &[u8]) {
        for e in self.list.iter_mut() {
            e.1 = if e.0 == name { APPLIED } else { CHECKED };
        }
        self.steps.push(Step::Replace { name: name.to_vec() });
    }

    /// Unload what `--absent` and `--prune` leave out, in LIST order.
    fn cleanup(&mut self) {
        let t = self.target;
        let gone: Vec<Vec<u8>> = (self.list.iter())
            .filter(|(n, s)| {
                *s == CHECKED && (t.absent.contains(n) || (t.prune && !t.stack.iter().any(|f| &f.name == n)))
            })
            .map(|(n, _)| n.clone())
            .collect();
        for n in gone {
            self.unload(&n);
        }
    }

    /// APPLIED payloads in LIST order, except those `keep` says are known.
    fn applied_except(&self, keep: impl Fn(&[u8]) -> bool) -> Vec<Vec<u8>> {
        (self.list.iter()).filter(|(n, s)| *s == APPLIED && !keep(n)).map(|(n, _)| n.clone()).collect()
    }
}

/// Without `--replace`: the stack on the hypervisor, bottom up.
fn plan_stack(b: &mut Builder, have: &[Have]) -> Result<(), Refusal> {
    let t = b.target;
    let n = t.stack.len();
    let k = have.iter().take_while(|h| **h == Have::Same(APPLIED)).count();
    if let Some(i) = (k..n).find(|&i| have[i] == Have::Same(APPLIED)) {
        let below = (i > 0).then(|| t.stack[i - 1].name.clone());
        return Err(Refusal::OutOfOrder { name: t.stack[i].name.clone(), below });
    }
    // Applied payloads above the target's known ones, order unknown.
    let unknown = b.applied_except(|name| t.stack[..k].iter().any(|f| f.name == name));
    let must_go = |name: &[u8]| t.absent.iter().any(|a| a == name) || t.stack.iter().any(|f| f.name == name);
    if k < n {
        if let Some(u) = unknown.iter().find(|u| !must_go(u)) {
            return Err(Refusal::WouldRevert { name: u.clone(), for_: t.stack[k].name.clone() });
        }
    }
    let revert: Vec<Vec<u8>> = unknown.iter().filter(|u| must_go(u)).cloned().collect();
    if !revert.is_empty() && unknown.len() > 1 {
        return Err(Refusal::UnknownOrder { applied: unknown, revert: revert[0].clone() });
    }
    for (i, (f, h)) in t.stack.iter().zip(have).enumerate().skip(k) {
        match *h {
            Have::None => b.upload(i),
            Have::Same(CHECKED) if !f.safe_to_reapply => b.reupload(i),
            Have::Other(CHECKED) => b.reupload(i),
            _ => {}
        }
    }
    for name in &revert {
        b.revert(name);
    }
    for (i, h) in have.iter().enumerate().skip(k) {
        if *h == Have::Other(APPLIED) {
            b.reupload(i);
        }
    }
    for f in &t.stack[k..] {
        b.apply(&f.name);
    }
    Ok(())
}

/// `--replace`: one cumulative payload, made against the hypervisor.
fn plan_replace(b: &mut Builder, have: Have) -> Result<(), Refusal> {
    let c = &b.target.stack[0];
    let others = b.applied_except(|name| have == Have::Same(APPLIED) && name == c.name);
    if have == Have::Same(APPLIED) {
        // c stacks on the hypervisor: it is the bottom, the others above it.
        match others.len() {
            0 => {}
            1 => b.revert(&others[0]),
            _ => return Err(Refusal::UnknownOrder { applied: others.clone(), revert: others[0].clone() }),
        }
        return Ok(());
    }
    if c.vetoing_hooks {
        return Err(Refusal::VetoingHooks { name: c.name.clone() });
    }
    match have {
        Have::Same(_) if c.safe_to_reapply => {}
        Have::Other(APPLIED) => {
            if others.len() > 1 {
                return Err(Refusal::UnknownOrder { applied: others.clone(), revert: c.name.clone() });
            }
            b.revert(&c.name);
            b.reupload(0);
        }
        _ => b.reupload(0),
    }
    b.replace(&c.name);
    Ok(())
}
