//! A model of Xen's livepatch sysctl handlers and of the `xen_version`
//! hypercall, for tests and for the `fakexen` preload shim (feature `sim`).
//!
//! It follows the hypervisor's behaviour (xen-facts §3 and §9): the sysctl
//! entry checks (copy-in, interface version, XSM), the livepatch op checks
//! (the `pad`/`flags` rule of before and after Xen 4.19), the LIST handler
//! per interface version 0x13-0x16, UPLOAD, GET and ACTION with Xen's
//! payload state machine and its scheduled actions (`manage`), and
//! `XENVER_version`/`_extraversion`/`_build_id` (`version`), reading and
//! writing the guest's memory only through the handles and only inside
//! memory the [`GuestMemory`] accepts, exactly where Xen would. Scenario
//! knobs: preemption, list changes between hypercalls, injected errors,
//! what each payload's ELF file would tell Xen ([`Module`]), how long
//! actions stay pending, CPUs that miss the rendezvous, and lies a broken
//! hypervisor might tell.

use crate::abi::{
    __HYPERVISOR_sysctl, __HYPERVISOR_xen_version, XEN_SYSCTL_livepatch_op, LIVEPATCH_FLAG_FORCE,
    LIVEPATCH_LIST_MAX_NR, XEN_LIVEPATCH_NAME_SIZE, XEN_SYSCTL_LIVEPATCH_ACTION, XEN_SYSCTL_LIVEPATCH_GET,
    XEN_SYSCTL_LIVEPATCH_LIST, XEN_SYSCTL_LIVEPATCH_UPLOAD,
};
use crate::error::{Error, Result};
use crate::sysctl::{at, Buffer, Hypervisor, SYSCTL_SIZE};
use std::collections::BTreeMap;

mod caller;
pub mod elf;
mod manage;
mod memory;
mod persist;
pub mod scenario;
mod version;
pub use caller::{CArrays, CallerBuffers};
pub use manage::{Depends, FileFacts, Module, LIVEPATCH_MAX_SIZE};
pub use memory::{HeapBuffer, Ranges, Tracked};
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex, MutexGuard};
pub use version::{XenInfo, DEFAULT_BUILD_ID};

const EPERM: i64 = libc::EPERM as i64;
const EFAULT: i64 = libc::EFAULT as i64;
const EACCES: i64 = libc::EACCES as i64;
const EINVAL: i64 = libc::EINVAL as i64;
const E2BIG: i64 = libc::E2BIG as i64;
const ENOSYS: i64 = libc::ENOSYS as i64;
const ENOBUFS: i64 = libc::ENOBUFS as i64;
const EOPNOTSUPP: i64 = libc::EOPNOTSUPP as i64;

/// One loaded live patch as the hypervisor holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    /// Name without its NUL (1..=127 bytes).
    pub name: Vec<u8>,
    /// `LIVEPATCH_STATE_*`.
    pub state: u32,
    /// Result of the last action (0, or a negative errno).
    pub rc: i32,
    /// The raw `.modinfo` section (may be empty).
    pub metadata: Vec<u8>,
}

impl Payload {
    /// A CHECKED payload with `rc = 0`.
    pub fn new(name: impl AsRef<[u8]>, metadata: impl AsRef<[u8]>) -> Payload {
        Payload { name: name.as_ref().to_vec(), state: 1, rc: 0, metadata: metadata.as_ref().to_vec() }
    }

    /// Sets state and rc.
    pub fn with_state(mut self, state: u32, rc: i32) -> Payload {
        self.state = state;
        self.rc = rc;
        self
    }
}

/// `n` payloads `lp-00000`, ... each with exactly `meta_bytes` of metadata
/// made of `Kk=vvv...\0` strings.
pub fn generated(n: usize, meta_bytes: usize) -> Vec<Payload> {
    (0..n).map(|i| Payload::new(format!("lp-{i:05}"), metadata_of(i, meta_bytes))).collect()
}

fn metadata_of(i: usize, bytes: usize) -> Vec<u8> {
    // The same bytes as `format!("K{k}={i}-")` + 50 'v' + NUL per string,
    // formatting `i` once per payload rather than once per string: under
    // Miri (scripts/test.d/45-miri.sh) the formatting machinery dominated,
    // about 15 ms a call, 1229 calls for 60 KiB of metadata.
    let tail = format!("={i}-");
    let mut m = Vec::with_capacity(bytes + 80);
    let mut k = 0;
    while m.len() < bytes {
        m.push(b'K');
        push_decimal(&mut m, k);
        m.extend_from_slice(tail.as_bytes());
        m.extend_from_slice(&[b'v'; 50]);
        m.push(0);
        k += 1;
    }
    m.truncate(bytes);
    if let Some(last) = m.last_mut() {
        *last = 0;
    }
    m
}

/// Appends `n` in decimal.
fn push_decimal(out: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[..len].iter().rev());
}

#[cfg(test)]
mod tests {
    /// The metadata as first written, with `format!` for every string.
    fn metadata_by_format(i: usize, bytes: usize) -> Vec<u8> {
        let mut m = Vec::new();
        let mut k = 0;
        while m.len() < bytes {
            m.extend_from_slice(format!("K{k}={i}-").as_bytes());
            m.resize(m.len() + 50, b'v');
            m.push(0);
            k += 1;
        }
        m.truncate(bytes);
        if let Some(last) = m.last_mut() {
            *last = 0;
        }
        m
    }

    #[test]
    fn generated_metadata_is_the_same_bytes_as_formatted_strings() {
        for (i, bytes) in [(0, 0), (0, 1), (7, 57), (12, 58), (123, 700), (99_999, 1200)] {
            assert_eq!(super::metadata_of(i, bytes), metadata_by_format(i, bytes), "payload {i}, {bytes} bytes");
        }
        // Keys past 9 and 99 (two and three digits).
        assert_eq!(super::metadata_of(3, 6000), metadata_by_format(3, 6000));
    }
}

/// How the XSM hook answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Xsm {
    /// The caller is the control domain.
    #[default]
    Allow,
    /// Dummy policy, not the control domain: EPERM.
    DenyDummy,
    /// FLASK denial: EACCES.
    DenyFlask,
}

/// Ways a broken hypervisor might lie in data-mode replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lie {
    /// Return one more entry than asked.
    ExtraEntry,
    /// Report this many more name bytes than copied.
    NameBytes(u32),
    /// Report this many more metadata bytes than copied.
    MetadataBytes(u32),
    /// Return 0 entries while reporting entries left.
    NoProgress,
    /// Write a name length of 129 for the first entry.
    LongName,
    /// Report a different version on every call.
    VersionFlap,
    /// GET writes this state (whatever the payload's).
    GetState(u32),
    /// GET writes this rc (whatever the payload's).
    GetRc(i32),
    /// A successful GET returns this value instead of 0.
    GetReturns(i64),
    /// An ACTION that would return 0 does its work and returns this value.
    ActionReturns(i64),
    /// An UPLOAD that would succeed returns 0 without loading anything.
    UploadPhantom,
    /// An UPLOAD that would succeed loads the payload and returns this value.
    UploadReturns(i64),
}

/// A change to the payload list, made just before a given hypercall.
#[derive(Debug, Clone)]
pub enum Change {
    /// Append a payload (an upload).
    Upload(Payload),
    /// Remove the named payload (an unload).
    Unload(Vec<u8>),
    /// Change a payload's state and rc (apply/revert): no version bump.
    SetState(Vec<u8>, u32, i32),
}

/// Scenario knobs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The hypervisor's sysctl interface version (0x13..=0x16).
    pub interface_version: u32,
    /// Whether livepatch is built in (otherwise ENOSYS).
    pub livepatch: bool,
    /// The XSM answer.
    pub xsm: Xsm,
    /// Preempt after every K entries copied in one call.
    pub preempt_every: Option<u32>,
    /// Changes applied before the hypercall with that 1-based number.
    pub changes: BTreeMap<u64, Vec<Change>>,
    /// Errors injected into the hypercall with that 1-based number, after
    /// the interface-version and XSM checks.
    pub inject: BTreeMap<u64, i32>,
    /// Errors injected into the hypercall with that 1-based number before
    /// any check, as a fault copying the struct in (EFAULT) or a failure in
    /// the kernel would be.
    pub inject_early: BTreeMap<u64, i32>,
    /// A lie told in every data-mode reply.
    pub lie: Option<Lie>,
    /// Largest `nr` accepted before E2BIG (Xen: 1024; lower it to exercise
    /// the E2BIG halving).
    pub list_max_nr: u32,
    /// Largest payload UPLOAD accepts (`LIVEPATCH_MAX_SIZE`, 2 MiB in every
    /// Xen from 4.14 to 4.22); larger is EINVAL.
    pub upload_max: u64,
    /// What the ELF file of the payload of that name tells Xen (loaded at
    /// the start or uploaded later); a name without an entry is a plain
    /// payload ([`Module::default`]).
    pub modules: BTreeMap<Vec<u8>, Module>,
    /// How long a scheduled APPLY/REVERT/REPLACE stays pending (rc -EAGAIN)
    /// in wall-clock time. Zero: it has run by the next hypercall, as on an
    /// idle real Xen.
    pub pending: std::time::Duration,
    /// How long the CPUs take to rendezvous for an action: longer than the
    /// action's timeout (0 = 30 ms), and the action ends with rc -EBUSY.
    pub rendezvous: std::time::Duration,
    /// What `xen_version` reports.
    pub xen: XenInfo,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            interface_version: 0x15,
            livepatch: true,
            xsm: Xsm::Allow,
            preempt_every: None,
            changes: BTreeMap::new(),
            inject: BTreeMap::new(),
            inject_early: BTreeMap::new(),
            lie: None,
            list_max_nr: LIVEPATCH_LIST_MAX_NR,
            upload_max: LIVEPATCH_MAX_SIZE,
            modules: BTreeMap::new(),
            pending: std::time::Duration::ZERO,
            rendezvous: std::time::Duration::ZERO,
            xen: XenInfo::default(),
        }
    }
}

/// What the simulated hypervisor counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Sysctl hypercalls.
    pub hypercalls: u64,
    /// LIST operations that reached the handler.
    pub list_calls: u64,
    /// LIST calls with `nr = 0`.
    pub probes: u64,
    /// E2BIG answers.
    pub e2big: u64,
    /// EACCES answers for a wrong interface version.
    pub version_mismatch: u64,
    /// Guest-memory faults (EFAULT).
    pub faults: u64,
    /// Entries copied to the guest.
    pub entries: u64,
    /// UPLOAD operations that reached the handler.
    pub upload_calls: u64,
    /// UPLOAD operations that carried `LIVEPATCH_FLAG_FORCE` in the op's
    /// flags word (counted before the op-level check, which a hypervisor
    /// before 4.19 fails with EINVAL).
    pub upload_forced: u64,
    /// Payload bytes UPLOAD copied from the guest.
    pub upload_bytes: u64,
    /// GET operations that reached the handler.
    pub get_calls: u64,
    /// ACTION operations that reached the handler.
    pub action_calls: u64,
    /// Scheduled actions that ran (completed, failed or timed out).
    pub actions_run: u64,
    /// `xen_version` hypercalls.
    pub xen_version_calls: u64,
}

/// Access to the calling guest's memory, as the hypervisor has it.
pub trait GuestMemory {
    /// Copies `out.len()` bytes from guest address `addr`; false on a fault.
    fn read(&self, addr: u64, out: &mut [u8]) -> bool;
    /// Copies `data` to guest address `addr`; false on a fault.
    fn write(&self, addr: u64, data: &[u8]) -> bool;
}

#[derive(Debug)]
struct State {
    cfg: Config,
    payloads: Vec<Payload>,
    version: u32,
    counters: Counters,
    live: manage::Live,
}

/// The simulated hypervisor.
#[derive(Debug)]
pub struct Sim {
    state: Mutex<State>,
}

impl Sim {
    /// A hypervisor holding `payloads`, configured by `cfg`.
    pub fn new(payloads: Vec<Payload>, cfg: Config) -> Sim {
        let live = manage::Live::new(&payloads);
        Sim { state: Mutex::new(State { cfg, payloads, version: 1, counters: Counters::default(), live }) }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The counters so far.
    pub fn counters(&self) -> Counters {
        self.lock().counters
    }

    /// The payloads now held.
    pub fn payloads(&self) -> Vec<Payload> {
        self.lock().payloads.clone()
    }

    /// The list's generation counter.
    pub fn version(&self) -> u32 {
        self.lock().version
    }

    /// Applies a change now (uploads and unloads bump the version).
    pub fn change(&self, c: Change) {
        apply(&mut self.lock(), c);
    }

    /// Edits the configuration.
    pub fn configure(&self, f: impl FnOnce(&mut Config)) {
        f(&mut self.lock().cfg);
    }

    /// Whether an APPLY/REVERT/REPLACE is scheduled and has not run yet
    /// (it runs at the first hypercall after [`Config::pending`]).
    pub fn action_pending(&self) -> bool {
        let mut st = self.lock();
        manage::run_due_work(&mut st);
        st.live.work_scheduled()
    }

    /// Runs hypercall `op` with its arguments as privcmd passes them: for
    /// sysctl, `args[0]` is the guest address of a `struct xen_sysctl`; for
    /// `xen_version`, `args[0]` is the `XENVER_*` command and `args[1]` the
    /// guest address of its argument (0: NULL). Returns the hypercall's
    /// value: >= 0, or a negative errno.
    pub fn hypercall(&self, mem: &dyn GuestMemory, op: u64, args: [u64; 5]) -> i64 {
        let mut st = self.lock();
        // A scheduled action runs when the CPUs next go idle: before this
        // hypercall is handled, once its pending time is over.
        manage::run_due_work(&mut st);
        if op == u64::from(__HYPERVISOR_xen_version) {
            st.counters.xen_version_calls += 1;
            return version::xen_version(&st, mem, args[0], args[1]);
        }
        if op != u64::from(__HYPERVISOR_sysctl) {
            return -ENOSYS;
        }
        let arg = args[0];
        st.counters.hypercalls += 1;
        let n = st.counters.hypercalls;
        if let Some(cs) = st.cfg.changes.remove(&n) {
            for c in cs {
                apply(&mut st, c);
            }
        }
        let r = sysctl(&mut st, mem, arg, n);
        match -r {
            EFAULT => st.counters.faults += 1,
            E2BIG => st.counters.e2big += 1,
            _ => {}
        }
        r
    }
}

fn apply(st: &mut State, c: Change) {
    match c {
        Change::Upload(p) => {
            st.payloads.push(p);
            st.version += 1;
        }
        Change::Unload(name) => {
            if let Some(i) = st.payloads.iter().position(|p| p.name == name) {
                st.payloads.remove(i);
                st.version += 1;
                st.live.forget(&name);
            }
        }
        Change::SetState(name, state, rc) => {
            for p in st.payloads.iter_mut().filter(|p| p.name == name) {
                p.state = state;
                p.rc = rc;
            }
        }
    }
}

fn get32(b: &[u8], off: usize) -> u32 {
    u32::from_ne_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}
fn get64(b: &[u8], off: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[off..off + 8]);
    u64::from_ne_bytes(a)
}
fn put32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_ne_bytes());
}
fn get16(b: &[u8], off: usize) -> u16 {
    u16::from_ne_bytes([b[off], b[off + 1]])
}

/// `do_sysctl` for the livepatch op (xen-facts §3.1).
fn sysctl(st: &mut State, mem: &dyn GuestMemory, addr: u64, call_no: u64) -> i64 {
    if let Some(e) = st.cfg.inject_early.remove(&call_no) {
        return -i64::from(e);
    }
    let mut op = [0u8; SYSCTL_SIZE];
    if !mem.read(addr, &mut op) {
        return -EFAULT;
    }
    if get32(&op, at::IFACE) != st.cfg.interface_version {
        st.counters.version_mismatch += 1;
        return -EACCES;
    }
    match st.cfg.xsm {
        Xsm::Allow => {}
        Xsm::DenyDummy => return -EPERM,
        Xsm::DenyFlask => return -EACCES,
    }
    if let Some(e) = st.cfg.inject.remove(&call_no) {
        return -i64::from(e);
    }
    if get32(&op, at::CMD) != XEN_SYSCTL_livepatch_op {
        return -ENOSYS;
    }
    if !st.cfg.livepatch {
        return -ENOSYS; // livepatch_op stub; no copy-back
    }
    let r = livepatch_op(st, mem, &mut op);
    if r == -ENOSYS || r == -EOPNOTSUPP {
        return r;
    }
    if !mem.write(addr, &op) {
        return -EFAULT;
    }
    r
}

/// `livepatch_op` (xen-facts §3.2) and `livepatch_list` (§3.3, §3.4).
fn livepatch_op(st: &mut State, mem: &dyn GuestMemory, op: &mut [u8; SYSCTL_SIZE]) -> i64 {
    let iface = st.cfg.interface_version;
    let flags = get32(op, at::OP_PAD);
    if get32(op, at::OP_CMD) == XEN_SYSCTL_LIVEPATCH_UPLOAD && flags & LIVEPATCH_FLAG_FORCE != 0 {
        st.counters.upload_forced += 1;
    }
    if iface >= 0x16 || st.cfg.xen.at_least(4, 19) {
        // 4.19+: unknown flag bits are refused unless FORCE (bit 0) is set.
        if flags & !LIVEPATCH_FLAG_FORCE != 0 && flags & LIVEPATCH_FLAG_FORCE == 0 {
            return -EINVAL;
        }
    } else if flags != 0 {
        return -EINVAL;
    }
    match get32(op, at::OP_CMD) {
        XEN_SYSCTL_LIVEPATCH_LIST => {}
        XEN_SYSCTL_LIVEPATCH_UPLOAD => return manage::upload(st, mem, op),
        XEN_SYSCTL_LIVEPATCH_GET => return manage::get(st, mem, op),
        XEN_SYSCTL_LIVEPATCH_ACTION => return manage::action(st, mem, op),
        _ => return -EOPNOTSUPP,
    }
    st.counters.list_calls += 1;
    use crate::sysctl::at::{
        IDX, LEN as H_LEN, META as H_META, META_LEN as H_META_LEN, META_TOTAL, NAME as H_NAME, NAME_TOTAL, NR, PAD,
        STATUS as H_STATUS, VERSION,
    };

    let idx = get32(op, IDX);
    let nr = get32(op, NR);
    if nr > st.cfg.list_max_nr {
        return -E2BIG;
    }
    if get32(op, PAD) != 0 {
        return -EINVAL;
    }
    let cnt = st.payloads.len() as u32;
    if idx >= cnt && cnt > 0 {
        return -EINVAL;
    }
    let lie = st.cfg.lie;
    if nr == 0 {
        st.counters.probes += 1;
        let names: u64 = st.payloads.iter().map(|p| p.name.len() as u64 + 1).sum();
        let metas: u64 = st.payloads.iter().map(|p| p.metadata.len() as u64).sum();
        put32(op, NAME_TOTAL, names as u32);
        put32(op, META_TOTAL, metas as u32);
        put32(op, NR, cnt);
        put32(op, VERSION, st.version);
        return 0;
    }

    let (h_status, h_name, h_len) = (get64(op, H_STATUS), get64(op, H_NAME), get64(op, H_LEN));
    let (h_meta, h_meta_len) = (get64(op, H_META), get64(op, H_META_LEN));
    let name_cap = u64::from(get32(op, NAME_TOTAL));
    let meta_cap = u64::from(get32(op, META_TOTAL));
    let mut name_off = 0u64;
    let mut meta_off = 0u64;
    let (mut name_out, mut meta_out) = (0u64, 0u64);
    let mut copied = 0u32;
    let mut visited = idx;
    let mut rc = 0i64;
    for p in st.payloads.iter().skip(idx as usize) {
        visited += 1;
        let name_len = p.name.len() as u64 + 1;
        let meta_len = p.metadata.len() as u64;
        if iface >= 0x16 {
            if name_off + name_len > name_cap || meta_off + meta_len > meta_cap {
                rc = -ENOBUFS;
                break;
            }
        } else {
            // 2019 semantics: totals grow before the entry is copied.
            name_out += name_len;
            meta_out += meta_len;
        }
        let i = u64::from(copied);
        let reported_len = if lie == Some(Lie::LongName) && copied == 0 { 129 } else { name_len as u32 };
        let mut status = [0u8; 8];
        status[..4].copy_from_slice(&p.state.to_ne_bytes());
        status[4..].copy_from_slice(&p.rc.to_ne_bytes());
        // The name and its NUL are one copy, as in Xen (names longer than
        // Xen allows, which only a test could make, take two).
        let name_at = h_name.wrapping_add(name_off);
        let mut with_nul = [0u8; XEN_LIVEPATCH_NAME_SIZE as usize];
        let name_ok = if p.name.len() < with_nul.len() {
            with_nul[..p.name.len()].copy_from_slice(&p.name);
            mem.write(name_at, &with_nul[..p.name.len() + 1])
        } else {
            mem.write(name_at, &p.name) && mem.write(name_at.wrapping_add(name_len - 1), &[0])
        };
        let ok = name_ok
            && mem.write(h_len.wrapping_add(4 * i), &reported_len.to_ne_bytes())
            && mem.write(h_status.wrapping_add(8 * i), &status)
            && mem.write(h_meta.wrapping_add(meta_off), &p.metadata)
            && mem.write(h_meta_len.wrapping_add(4 * i), &(meta_len as u32).to_ne_bytes());
        if !ok {
            rc = -EFAULT;
            break;
        }
        copied += 1;
        name_off += name_len;
        meta_off += meta_len;
        if iface >= 0x16 {
            name_out += name_len;
            meta_out += meta_len;
        }
        st.counters.entries += 1;
        if copied == nr {
            break;
        }
        if st.cfg.preempt_every.is_some_and(|k| k > 0 && copied.is_multiple_of(k)) {
            break;
        }
    }
    let mut left = cnt - visited.min(cnt);
    let mut version = st.version;
    match lie {
        Some(Lie::NameBytes(n)) => name_out += u64::from(n),
        Some(Lie::MetadataBytes(n)) => meta_out += u64::from(n),
        Some(Lie::ExtraEntry) if rc == 0 => copied += 1,
        Some(Lie::NoProgress) if rc == 0 => {
            copied = 0;
            name_out = 0;
            meta_out = 0;
            left = left.max(1);
        }
        Some(Lie::VersionFlap) => {
            st.version += 1;
            version = st.version;
        }
        _ => {}
    }
    put32(op, NAME_TOTAL, name_out as u32);
    put32(op, META_TOTAL, meta_out as u32);
    put32(op, NR, left);
    put32(op, VERSION, version);
    if rc != 0 {
        return rc;
    }
    i64::from(copied)
}

// ---- the simulator as a `Hypervisor` for in-process use ---------------------

/// Failure injection for [`SimHypervisor::alloc`].
#[derive(Debug, Default, Clone, Copy)]
pub struct AllocFailure {
    /// Fail the allocation with this 1-based number.
    pub nth: Option<u64>,
}

/// [`Sim`] as a [`Hypervisor`]: buffers come from the heap and are the only
/// memory the simulated hypervisor will touch.
#[derive(Debug, Clone)]
pub struct SimHypervisor {
    inner: Arc<SimInner>,
}

#[derive(Debug)]
struct SimInner {
    sim: Sim,
    regions: Arc<Ranges>,
    iface: AtomicU32,
    hint: AtomicU32,
    allocs: Mutex<(u64, AllocFailure, usize)>,
}

impl SimHypervisor {
    /// A simulated hypervisor holding `payloads`.
    pub fn new(payloads: Vec<Payload>, cfg: Config) -> SimHypervisor {
        SimHypervisor {
            inner: Arc::new(SimInner {
                sim: Sim::new(payloads, cfg),
                regions: Arc::new(Ranges::default()),
                iface: AtomicU32::new(0),
                hint: AtomicU32::new(0),
                allocs: Mutex::new((0, AllocFailure::default(), 0)),
            }),
        }
    }

    /// The model behind it.
    pub fn sim(&self) -> &Sim {
        &self.inner.sim
    }

    /// Number of buffers allocated so far.
    pub fn allocations(&self) -> u64 {
        self.inner.allocs.lock().unwrap_or_else(|p| p.into_inner()).0
    }

    /// The largest buffer allocated so far, in bytes.
    pub fn max_allocation(&self) -> usize {
        self.inner.allocs.lock().unwrap_or_else(|p| p.into_inner()).2
    }

    /// Number of buffers alive now.
    pub fn live_buffers(&self) -> usize {
        self.inner.regions.count()
    }

    /// Makes the allocation with this 1-based number fail with ENOMEM.
    pub fn fail_allocation(&self, nth: Option<u64>) {
        self.inner.allocs.lock().unwrap_or_else(|p| p.into_inner()).1 = AllocFailure { nth };
    }
}

/// Heap memory registered with the simulator for its lifetime.
pub type SimBuffer = Tracked<HeapBuffer>;

impl Hypervisor for SimHypervisor {
    type Buffer = SimBuffer;

    fn alloc(&self, bytes: usize) -> Result<SimBuffer> {
        {
            let mut a = self.inner.allocs.lock().unwrap_or_else(|p| p.into_inner());
            a.0 += 1;
            if a.1.nth == Some(a.0) {
                return Err(Error::Os { call: "mmap", errno: libc::ENOMEM });
            }
            a.2 = a.2.max(bytes);
        }
        let mut heap = HeapBuffer::new(bytes);
        // SAFETY: the heap memory is owned by the SimBuffer, whose Drop
        // unregisters it before the memory is freed.
        unsafe { self.inner.regions.register(heap.as_mut_ptr(), heap.len()) };
        let regions = self.inner.regions.clone();
        Ok(Tracked::new(heap, move |h| regions.unregister(h.as_mut_ptr() as usize)))
    }

    fn sysctl(&self, buf: &mut SimBuffer) -> Result<i64> {
        let addr = buf.as_mut_ptr() as u64;
        let r = self.inner.sim.hypercall(&*self.inner.regions, u64::from(__HYPERVISOR_sysctl), [addr, 0, 0, 0, 0]);
        hypercall_result(r)
    }

    fn xen_version(&self, cmd: u32, buf: Option<&mut SimBuffer>) -> Result<i64> {
        let addr = buf.map_or(0, |b| b.as_mut_ptr() as u64);
        let args = [u64::from(cmd), addr, 0, 0, 0];
        hypercall_result(self.inner.sim.hypercall(&*self.inner.regions, u64::from(__HYPERVISOR_xen_version), args))
    }

    fn interface_cache(&self) -> &AtomicU32 {
        &self.inner.iface
    }

    fn count_hint(&self) -> &AtomicU32 {
        &self.inner.hint
    }
}

/// A hypercall's value as the `Hypervisor` trait returns it.
fn hypercall_result(r: i64) -> Result<i64> {
    if r < 0 {
        Err(Error::Hypervisor { errno: (-r) as i32 })
    } else {
        Ok(r)
    }
}
