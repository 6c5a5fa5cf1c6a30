//! Xen's UPLOAD, GET and ACTION handlers (xen/common/livepatch.c: `get_name`,
//! `verify_payload`, `livepatch_upload`, `livepatch_get`, `livepatch_action`,
//! `schedule_work`, and the work that `check_for_livepatch_work` runs later
//! on every CPU, `livepatch_do_action`), the same from 4.14 to 4.22.
//!
//! What the ELF file tells Xen is read from the uploaded bytes, as Xen reads
//! it ([`super::elf`]): its own build id, `.livepatch.depends`,
//! `.livepatch.xen_depends`, vetoing hooks and writable sections. The
//! scenario's [`Module`] per payload name says what a file cannot (an
//! action that fails, a refusal by Xen's other ELF checks) and describes
//! payloads loaded without a file. How they merge ([`module`]): a file's
//! build id and depends replace the module's `id=`/`depends=`; its vetoing
//! hooks add to `hooks=vetoing`; it is safe to re-apply only if both say so;
//! its `.modinfo` replaces `meta=`. An uploaded blob that is not an ELF64
//! with section headers and one of the three build-id sections is judged
//! as before: the ELF magic, then the module alone. A scheduled action runs at the first
//! hypercall after [`Config::pending`](super::Config::pending) has passed,
//! as a real Xen runs it when its CPUs next go idle.

use super::elf::{self, ElfFacts, Note};
use super::{get16, get32, get64, put32, GuestMemory, Lie, Payload, State, EFAULT, EINVAL, EOPNOTSUPP};
use crate::abi::{
    LIVEPATCH_ACTION_APPLY, LIVEPATCH_ACTION_APPLY_NODEPS, LIVEPATCH_ACTION_REPLACE, LIVEPATCH_ACTION_REVERT,
    LIVEPATCH_ACTION_UNLOAD, LIVEPATCH_STATE_APPLIED, LIVEPATCH_STATE_CHECKED, XEN_LIVEPATCH_NAME_SIZE,
};
use crate::sysctl::{at, SYSCTL_SIZE};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

const ENOENT: i64 = libc::ENOENT as i64;
const EEXIST: i64 = libc::EEXIST as i64;
const EBUSY: i64 = libc::EBUSY as i64;
const EAGAIN: i64 = libc::EAGAIN as i64;
const ENODATA: i64 = libc::ENODATA as i64;

/// `LIVEPATCH_MAX_SIZE` (xen/include/xen/livepatch.h): 2 MiB in every Xen
/// from 4.14 to 4.22.
pub const LIVEPATCH_MAX_SIZE: u64 = 2 << 20;

/// The timeout `schedule_work` uses when the caller's is 0.
const DEFAULT_TIMEOUT: Duration = Duration::from_millis(30);

/// Smallest ELF file Xen's loader reads (`sizeof(Elf64_Ehdr)`).
const ELF_HEADER: usize = 64;

/// The build id a payload's `.livepatch.depends` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Depends {
    /// The running hypervisor's ([`XenInfo::build_id`](super::XenInfo)).
    Hypervisor,
    /// These bytes (another payload's build id).
    Id(Vec<u8>),
}

/// What a payload's ELF file tells Xen, by payload name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// Xen's `safe_to_reapply`: its only writable section is
    /// `.livepatch.funcs` (or it has none), so once reverted it may be
    /// applied again; otherwise APPLY of a reverted payload sets its rc to
    /// -EINVAL ("Please unload").
    pub reapply: bool,
    /// Its `.note.gnu.build-id` (an UPLOAD with the build id of a loaded
    /// payload is EEXIST; APPLY of a payload that depends on this one).
    pub build_id: Option<Vec<u8>>,
    /// Its `.livepatch.depends`: checked by APPLY (against the top applied
    /// payload, or the hypervisor when none is applied) unless NODEPS, and
    /// by REPLACE (against the hypervisor). `None`: a model shortcut for a
    /// payload that satisfies every such check.
    pub depends: Option<Depends>,
    /// It has apply/revert pre/post hooks (REPLACE refuses: EOPNOTSUPP).
    pub vetoing_hooks: bool,
    /// Xen's ELF checks refuse the upload with this errno (a wrong
    /// `.livepatch.xen_depends` build id: EINVAL).
    pub reject: Option<i32>,
    /// Its `.modinfo`, what LIST reports once it is uploaded.
    pub metadata: Vec<u8>,
    /// Its apply (its own, or the apply step of a REPLACE) ends with rc = -errno.
    pub apply_ends: Option<i32>,
    /// Its revert (its own, or as one of the payloads a REPLACE reverts) ends
    /// with rc = -errno.
    pub revert_ends: Option<i32>,
}

impl Default for Module {
    fn default() -> Self {
        Module {
            reapply: true,
            build_id: None,
            depends: None,
            vetoing_hooks: false,
            reject: None,
            metadata: Vec::new(),
            apply_ends: None,
            revert_ends: None,
        }
    }
}

/// What an uploaded live-patch file said, kept per payload name while it
/// is loaded (merged into its [`Module`] as the module documentation says).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFacts {
    /// Its `.note.gnu.build-id`.
    pub build_id: Vec<u8>,
    /// Its `.livepatch.depends`.
    pub depends: Vec<u8>,
    /// An enabled vetoing hook.
    pub vetoing_hooks: bool,
    /// Xen's `safe_to_reapply`.
    pub reapply: bool,
}

/// The one scheduled action (`struct livepatch_work`).
#[derive(Debug, Clone)]
pub(super) struct Work {
    pub(super) name: Vec<u8>,
    pub(super) cmd: u32,
    pub(super) timeout_ns: u32,
    pub(super) due: Instant,
}

/// The handlers' state beside the payload list.
#[derive(Debug, Default)]
pub(super) struct Live {
    /// Payloads reverted at least once (Xen's `reverted`).
    reverted: BTreeSet<Vec<u8>>,
    /// The applied list, in the order applied (bottom first).
    applied: Vec<Vec<u8>>,
    /// The scheduled action, until it runs.
    work: Option<Work>,
    /// What the uploaded files said, by payload name.
    files: BTreeMap<Vec<u8>, FileFacts>,
}

impl Live {
    /// The state for a hypervisor holding `payloads`: those APPLIED were
    /// applied in list order.
    pub(super) fn new(payloads: &[Payload]) -> Live {
        let applied = payloads.iter().filter(|p| p.state == LIVEPATCH_STATE_APPLIED).map(|p| p.name.clone()).collect();
        Live { applied, ..Live::default() }
    }

    /// Forgets an unloaded payload.
    pub(super) fn forget(&mut self, name: &[u8]) {
        self.reverted.remove(name);
        self.files.remove(name);
        self.applied.retain(|n| n != name);
    }

    /// Whether an action is scheduled and has not run.
    pub(super) fn work_scheduled(&self) -> bool {
        self.work.is_some()
    }

    pub(super) fn applied(&self) -> &[Vec<u8>] {
        &self.applied
    }

    pub(super) fn reverted(&self) -> impl Iterator<Item = &Vec<u8>> {
        self.reverted.iter()
    }

    pub(super) fn work(&self) -> Option<&Work> {
        self.work.as_ref()
    }

    pub(super) fn push_applied(&mut self, name: Vec<u8>) {
        self.applied.push(name);
    }

    pub(super) fn mark_reverted(&mut self, name: Vec<u8>) {
        self.reverted.insert(name);
    }

    pub(super) fn files(&self) -> &BTreeMap<Vec<u8>, FileFacts> {
        &self.files
    }

    pub(super) fn set_file(&mut self, name: Vec<u8>, f: FileFacts) {
        self.files.insert(name, f);
    }

    pub(super) fn set_work(&mut self, w: Work) {
        self.work = Some(w);
    }

    fn work_on(&self, name: &[u8]) -> bool {
        self.work.as_ref().is_some_and(|w| w.name == name)
    }
}

/// The scenario's module of `name`, merged with what its uploaded file
/// said (see the module documentation).
fn module(st: &State, name: &[u8]) -> Module {
    let mut m = st.cfg.modules.get(name).cloned().unwrap_or_default();
    if let Some(f) = st.live.files.get(name) {
        m.build_id = Some(f.build_id.clone());
        m.depends = Some(Depends::Id(f.depends.clone()));
        m.vetoing_hooks |= f.vetoing_hooks;
        m.reapply &= f.reapply;
    }
    m
}

fn index(st: &State, name: &[u8]) -> Option<usize> {
    st.payloads.iter().position(|p| p.name == name)
}

/// The applied payloads, bottom first: those the scenario made APPLIED
/// directly (list order), then those applied through ACTION.
fn applied_stack(st: &State) -> Vec<Vec<u8>> {
    let is_applied = |n: &[u8]| st.payloads.iter().any(|p| p.name == n && p.state == LIVEPATCH_STATE_APPLIED);
    let mut v: Vec<Vec<u8>> = st
        .payloads
        .iter()
        .filter(|p| p.state == LIVEPATCH_STATE_APPLIED && !st.live.applied.contains(&p.name))
        .map(|p| p.name.clone())
        .collect();
    v.extend(st.live.applied.iter().filter(|n| is_applied(n)).cloned());
    v
}

/// `get_name`: the name as Xen's `strcmp` sees it (up to its first NUL),
/// or the errno.
fn get_name(mem: &dyn GuestMemory, op: &[u8; SYSCTL_SIZE]) -> Result<Vec<u8>, i64> {
    let size = usize::from(get16(op, at::NAME_SIZE));
    if size == 0 || size > XEN_LIVEPATCH_NAME_SIZE as usize {
        return Err(-EINVAL);
    }
    if (0..3).any(|i| get16(op, at::NAME_PAD + 2 * i) != 0) {
        return Err(-EINVAL);
    }
    let mut n = [0u8; XEN_LIVEPATCH_NAME_SIZE as usize];
    if !mem.read(get64(op, at::NAME_HANDLE), &mut n[..size]) {
        return Err(-EFAULT);
    }
    if n[size - 1] != 0 {
        return Err(-EINVAL);
    }
    let end = n.iter().position(|&b| b == 0).unwrap_or(size - 1);
    Ok(n[..end].to_vec())
}

/// `livepatch_upload`.
pub(super) fn upload(st: &mut State, mem: &dyn GuestMemory, op: &[u8; SYSCTL_SIZE]) -> i64 {
    st.counters.upload_calls += 1;
    // verify_payload: any fault or error reading the name is EINVAL here.
    let Ok(name) = get_name(mem, op) else { return -EINVAL };
    let size = get64(op, at::UPLOAD_SIZE);
    if size == 0 || size > st.cfg.upload_max {
        return -EINVAL;
    }
    let handle = get64(op, at::UPLOAD_PAYLOAD);
    if handle.checked_add(size).is_none() {
        return -EFAULT; // guest_handle_okay
    }
    if index(st, &name).is_some() {
        return -EEXIST;
    }
    let Ok(len) = usize::try_from(size) else { return -EFAULT };
    let mut raw = vec![0u8; len];
    if !mem.read(handle, &mut raw) {
        return -EFAULT;
    }
    st.counters.upload_bytes += size;
    let m = module(st, &name);
    let file = elf::facts(&raw);
    let r = load_payload_data(st, &raw, &m);
    if r != 0 {
        return r;
    }
    let facts = match file.as_ref().map(|f| file_facts(st, f)) {
        Some(Err(e)) => return e,
        Some(Ok(f)) => Some(f),
        None => None,
    };
    if st.cfg.lie == Some(Lie::UploadPhantom) {
        return 0;
    }
    st.live.forget(&name);
    let metadata = file.and_then(|f| f.modinfo).unwrap_or(m.metadata);
    st.payloads.push(Payload::new(&name, &metadata));
    if let Some(f) = facts {
        st.live.files.insert(name, f);
    }
    st.version += 1;
    match st.cfg.lie {
        Some(Lie::UploadReturns(n)) => n,
        _ => 0,
    }
}

/// What the model checks of Xen's ELF loading: the header, then the
/// scenario's verdict, then a build id already loaded.
fn load_payload_data(st: &State, raw: &[u8], m: &Module) -> i64 {
    if raw.len() < ELF_HEADER || !raw.starts_with(b"\x7fELF") {
        return -EINVAL;
    }
    if let Some(e) = m.reject {
        return -i64::from(e);
    }
    if let Some(id) = &m.build_id {
        if st.payloads.iter().any(|p| module(st, &p.name).build_id.as_ref() == Some(id)) {
            return -EEXIST;
        }
    }
    0
}

/// Xen's checks of a live-patch file's build-id sections, in its order
/// (`check_special_sections`, `prepare_payload`, `check_xen_buildid`):
/// a missing or unreadable `.note.gnu.build-id` or `.livepatch.depends`
/// EINVAL, a build id already loaded EEXIST, a `.livepatch.xen_depends`
/// that is missing, unreadable or not the hypervisor's EINVAL (not
/// compared when the scenario's hypervisor has no build id).
fn file_facts(st: &State, f: &ElfFacts) -> Result<FileFacts, i64> {
    let Note::Id(build_id) = f.build_id.clone() else { return Err(-EINVAL) };
    if st.payloads.iter().any(|p| module(st, &p.name).build_id.as_ref() == Some(&build_id)) {
        return Err(-EEXIST);
    }
    let Note::Id(depends) = f.depends.clone() else { return Err(-EINVAL) };
    match (&f.xen_depends, &st.cfg.xen.build_id) {
        (Note::Id(x), Some(id)) if x != id => return Err(-EINVAL),
        (Note::Id(_), _) => {}
        _ => return Err(-EINVAL),
    }
    Ok(FileFacts { build_id, depends, vetoing_hooks: f.vetoing_hooks, reapply: f.safe_to_reapply })
}

/// `livepatch_get`.
pub(super) fn get(st: &mut State, mem: &dyn GuestMemory, op: &mut [u8; SYSCTL_SIZE]) -> i64 {
    st.counters.get_calls += 1;
    let name = match get_name(mem, op) {
        Ok(n) => n,
        Err(e) => return e,
    };
    let Some(i) = index(st, &name) else { return -ENOENT };
    let (mut state, mut rc) = (st.payloads[i].state, st.payloads[i].rc);
    match st.cfg.lie {
        Some(Lie::GetState(s)) => state = s,
        Some(Lie::GetRc(r)) => rc = r,
        _ => {}
    }
    put32(op, at::GET_STATE, state);
    put32(op, at::GET_RC, rc as u32);
    match st.cfg.lie {
        Some(Lie::GetReturns(n)) => n,
        _ => 0,
    }
}

/// `livepatch_action`.
pub(super) fn action(st: &mut State, mem: &dyn GuestMemory, op: &[u8; SYSCTL_SIZE]) -> i64 {
    st.counters.action_calls += 1;
    if get32(op, at::ACTION_PAD) != 0 {
        return -EINVAL;
    }
    let name = match get_name(mem, op) {
        Ok(n) => n,
        Err(e) => return e,
    };
    let Some(i) = index(st, &name) else { return -ENOENT };
    if st.live.work_on(&name) {
        return -EBUSY;
    }
    let (cmd, timeout, flags) = (get32(op, at::ACTION_CMD), get32(op, at::ACTION_TIMEOUT), get32(op, at::ACTION_FLAGS));
    let r = match cmd {
        LIVEPATCH_ACTION_UNLOAD => unload(st, i),
        LIVEPATCH_ACTION_REVERT => revert(st, i, timeout),
        LIVEPATCH_ACTION_APPLY => apply(st, i, timeout, flags),
        LIVEPATCH_ACTION_REPLACE => replace(st, i, timeout),
        _ => -EOPNOTSUPP,
    };
    match st.cfg.lie {
        Some(Lie::ActionReturns(n)) if r == 0 => n,
        _ => r,
    }
}

/// UNLOAD: only a CHECKED payload, at once.
fn unload(st: &mut State, i: usize) -> i64 {
    if st.payloads[i].state != LIVEPATCH_STATE_CHECKED {
        return -EINVAL;
    }
    let p = st.payloads.remove(i);
    st.live.forget(&p.name);
    st.version += 1;
    0
}

/// REVERT: only the top APPLIED payload; any other state is a silent 0.
fn revert(st: &mut State, i: usize, timeout: u32) -> i64 {
    if st.payloads[i].state != LIVEPATCH_STATE_APPLIED {
        return 0;
    }
    let name = st.payloads[i].name.clone();
    if applied_stack(st).last() != Some(&name) {
        return -EBUSY;
    }
    st.payloads[i].rc = -EAGAIN as i32;
    schedule(st, name, LIVEPATCH_ACTION_REVERT, timeout)
}

/// APPLY: only a CHECKED payload; any other state is a silent 0.
fn apply(st: &mut State, i: usize, timeout: u32, flags: u32) -> i64 {
    if st.payloads[i].state != LIVEPATCH_STATE_CHECKED {
        return 0;
    }
    let name = st.payloads[i].name.clone();
    let m = module(st, &name);
    if st.live.reverted.contains(&name) && !m.reapply {
        st.payloads[i].rc = -EINVAL as i32;
        return 0;
    }
    if flags & LIVEPATCH_ACTION_APPLY_NODEPS == 0 {
        let r = build_id_dep(st, &m, applied_stack(st).is_empty());
        if r != 0 {
            return r;
        }
    }
    st.payloads[i].rc = -EAGAIN as i32;
    schedule(st, name, LIVEPATCH_ACTION_APPLY, timeout)
}

/// REPLACE: only a CHECKED payload; depends checked against the hypervisor.
fn replace(st: &mut State, i: usize, timeout: u32) -> i64 {
    if st.payloads[i].state != LIVEPATCH_STATE_CHECKED {
        return 0;
    }
    let name = st.payloads[i].name.clone();
    let m = module(st, &name);
    let r = build_id_dep(st, &m, true);
    if r != 0 {
        return r;
    }
    if m.vetoing_hooks || applied_stack(st).iter().any(|n| module(st, n).vetoing_hooks) {
        return -EOPNOTSUPP;
    }
    st.payloads[i].rc = -EAGAIN as i32;
    schedule(st, name, LIVEPATCH_ACTION_REPLACE, timeout)
}

/// `build_id_dep`: the payload's depends against the hypervisor's build id
/// (`internal`) or the top applied payload's.
fn build_id_dep(st: &State, m: &Module, internal: bool) -> i64 {
    let Some(dep) = &m.depends else { return 0 };
    let have = if internal {
        match &st.cfg.xen.build_id {
            Some(id) => id.clone(),
            None => return -ENODATA,
        }
    } else {
        // A model shortcut, as for an absent depends: a top payload whose
        // build id the scenario does not give (no file, no id=) satisfies
        // any depends.
        let stack = applied_stack(st);
        match stack.last().and_then(|top| module(st, top).build_id) {
            Some(id) => id,
            None => return 0,
        }
    };
    let want = match dep {
        Depends::Hypervisor => st.cfg.xen.build_id.clone().unwrap_or_default(),
        Depends::Id(id) => id.clone(),
    };
    if want == have {
        0
    } else {
        -EINVAL
    }
}

/// `schedule_work`: one action at a time. The payload's rc was set to
/// -EAGAIN before, and stays so when this refuses (as in Xen).
fn schedule(st: &mut State, name: Vec<u8>, cmd: u32, timeout_ns: u32) -> i64 {
    if st.live.work.is_some() {
        return -EBUSY;
    }
    st.live.work = Some(Work { name, cmd, timeout_ns, due: Instant::now() + st.cfg.pending });
    0
}

/// Runs the scheduled action if its time has come.
pub(super) fn run_due_work(st: &mut State) {
    if st.live.work.as_ref().is_none_or(|w| Instant::now() < w.due) {
        return;
    }
    let Some(w) = st.live.work.take() else { return };
    st.counters.actions_run += 1;
    if index(st, &w.name).is_none() {
        return; // removed by a scenario change in between
    }
    let timeout = match w.timeout_ns {
        0 => DEFAULT_TIMEOUT,
        ns => Duration::from_nanos(u64::from(ns)),
    };
    // The CPUs did not rendezvous in time: nothing done, rc -EBUSY.
    let rc = if st.cfg.rendezvous > timeout {
        -EBUSY as i32
    } else {
        match w.cmd {
            LIVEPATCH_ACTION_APPLY => do_apply(st, &w.name),
            LIVEPATCH_ACTION_REVERT => do_revert(st, &w.name),
            _ => do_replace(st, &w.name),
        }
    };
    if let Some(i) = index(st, &w.name) {
        st.payloads[i].rc = rc;
    }
}

fn set_state(st: &mut State, name: &[u8], state: u32) {
    if let Some(i) = index(st, name) {
        st.payloads[i].state = state;
    }
}

fn do_apply(st: &mut State, name: &[u8]) -> i32 {
    if let Some(e) = module(st, name).apply_ends {
        return -e;
    }
    set_state(st, name, LIVEPATCH_STATE_APPLIED);
    st.live.applied.retain(|n| n != name);
    st.live.applied.push(name.to_vec());
    0
}

fn do_revert(st: &mut State, name: &[u8]) -> i32 {
    if let Some(e) = module(st, name).revert_ends {
        return -e;
    }
    set_state(st, name, LIVEPATCH_STATE_CHECKED);
    st.live.applied.retain(|n| n != name);
    st.live.reverted.insert(name.to_vec());
    0
}

/// Reverts every applied payload, top first (each gets its own rc), then
/// applies this one; a failed revert stops it with -EINVAL.
fn do_replace(st: &mut State, name: &[u8]) -> i32 {
    for other in applied_stack(st).iter().rev() {
        let rc = do_revert(st, other);
        if let Some(i) = index(st, other) {
            st.payloads[i].rc = rc;
        }
        if rc != 0 {
            return -EINVAL as i32;
        }
    }
    do_apply(st, name)
}
