//! fakexen: an LD_PRELOAD shim that makes one process believe it runs in a Xen
//! dom0. It emulates `/dev/xen/privcmd` (and xenfs' `/proc/xen/privcmd`) and
//! `/dev/xen/hypercall`, answering `IOCTL_PRIVCMD_HYPERCALL` with the project's
//! one hypervisor model, `xc_livepatch::sim`.
//!
//! Interposed: `open`/`open64`/`openat`/`openat64`/`__open_2`/`__open64_2`/
//! `__openat_2`/`__openat64_2`, `close`, `dup2`, `dup3`, `ioctl`,
//! `mmap`/`mmap64`, `munmap`, `madvise`, `mlock`, `munlock`. Everything not
//! about the emulated devices goes to the next definition (libc) through
//! `dlsym(RTLD_NEXT)`.
//!
//! Strict memory mode (default on): the model may only touch memory mapped
//! from the hypercall device or locked anonymous memory (MAP_LOCKED or
//! mlock); anything else fails with EFAULT and is logged (`fakexen:` line) to
//! `$FAKEXEN_LOG`, or to stderr when that is unset.
//!
//! Environment: `FAKEXEN_SCENARIO` (scenario file), `FAKEXEN_COUNTERS`
//! (counters written there at exit), `FAKEXEN_LOG`, `FAKEXEN_TRACE=1` (log
//! every hypercall), `FAKEXEN_STATE` (the hypervisor's state is read from
//! that file at start, when it is not empty, and written back at exit, so
//! that a sequence of processes sees one hypervisor), `FAKEXEN_KILL_AFTER=N`
//! (tests only: right after the Nth hypercall of the process, the state and
//! the counters are written as at exit and the process raises SIGKILL, as
//! if killed between that hypercall and the next).
//!
//! Exported for test programs (`dlsym(RTLD_DEFAULT, ...)`): `fakexen_reset`
//! (back to the scenario's initial state) and `fakexen_state` (the state as
//! text, for comparing two runs).

#![allow(clippy::missing_safety_doc, unused_unsafe)]

mod maps;

use core::ffi::{c_char, c_int, c_ulong, c_void, CStr};
use maps::{Kind, Ranges};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard, OnceLock};
use xc_livepatch::sim::scenario::{self, Events, Privcmd, Scenario};
use xc_livepatch::sim::{GuestMemory, Sim};

const IOCTL_PRIVCMD_HYPERCALL: c_ulong = 0x0030_5000;
/// `_IOC(_IOC_NONE, 'P', 5, sizeof(privcmd_dm_op_t) = 16)`.
const IOCTL_PRIVCMD_DM_OP: c_ulong = 0x0010_5005;
/// `_IOC(_IOC_NONE, 'P', 6, sizeof(domid_t) = 2)`.
const IOCTL_PRIVCMD_RESTRICT: c_ulong = 0x0002_5006;
const PAGE: usize = 4096;

// ---- the real functions -----------------------------------------------------

macro_rules! real {
    ($name:literal, $ty:ty) => {{
        static P: AtomicUsize = AtomicUsize::new(0);
        let mut p = P.load(Relaxed);
        if p == 0 {
            // SAFETY: dlsym with a NUL-terminated name; RTLD_NEXT finds the
            // definition after this library's (libc's).
            p = unsafe { libc::dlsym(libc::RTLD_NEXT, concat!($name, "\0").as_ptr().cast()) } as usize;
            if p == 0 {
                die(concat!("no next definition of ", $name));
            }
            P.store(p, Relaxed);
        }
        // SAFETY: the symbol is libc's function of that C type.
        unsafe { core::mem::transmute::<usize, $ty>(p) }
    }};
}

type OpenFn = unsafe extern "C" fn(*const c_char, c_int, libc::mode_t) -> c_int;
type OpenatFn = unsafe extern "C" fn(c_int, *const c_char, c_int, libc::mode_t) -> c_int;
type Open2Fn = unsafe extern "C" fn(*const c_char, c_int) -> c_int;
type Openat2Fn = unsafe extern "C" fn(c_int, *const c_char, c_int) -> c_int;
type CloseFn = unsafe extern "C" fn(c_int) -> c_int;
type Dup2Fn = unsafe extern "C" fn(c_int, c_int) -> c_int;
type Dup3Fn = unsafe extern "C" fn(c_int, c_int, c_int) -> c_int;
type IoctlFn = unsafe extern "C" fn(c_int, c_ulong, *mut c_void) -> c_int;
type MmapFn = unsafe extern "C" fn(*mut c_void, usize, c_int, c_int, c_int, libc::off_t) -> *mut c_void;
type MunmapFn = unsafe extern "C" fn(*mut c_void, usize) -> c_int;
type MadviseFn = unsafe extern "C" fn(*mut c_void, usize, c_int) -> c_int;
type MlockFn = unsafe extern "C" fn(*const c_void, usize) -> c_int;

fn die(msg: &str) -> ! {
    let line = format!("fakexen: fatal: {msg}\n");
    // SAFETY: writing a live buffer to fd 2, then leaving the process.
    unsafe {
        libc::write(2, line.as_ptr().cast(), line.len());
        libc::_exit(97)
    }
}

fn set_errno(e: c_int) {
    // SAFETY: this thread's errno slot.
    unsafe { *libc::__errno_location() = e };
}

// ---- re-entrancy guard ------------------------------------------------------

thread_local! {
    static BUSY: Cell<bool> = const { Cell::new(false) };
}

/// Held while the shim's own code runs: anything the shim itself calls goes
/// straight to libc.
struct Guard;

fn enter() -> Option<Guard> {
    BUSY.try_with(|b| {
        if b.get() {
            None
        } else {
            b.set(true);
            Some(Guard)
        }
    })
    .ok()
    .flatten()
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = BUSY.try_with(|b| b.set(false));
    }
}

// ---- process-wide state -----------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dev {
    Privcmd,
    Hypercall,
}

#[derive(Debug, Clone, Copy)]
struct DevFd {
    dev: Dev,
    /// Domain the fd was restricted to (IOCTL_PRIVCMD_RESTRICT).
    restricted: Option<u16>,
}

static FDS: Mutex<BTreeMap<c_int, DevFd>> = Mutex::new(BTreeMap::new());
static SAFE: Mutex<Ranges> = Mutex::new(Ranges::new());

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Counters kept by the shim itself (the model keeps its own).
#[derive(Default)]
struct Counts {
    hypercall_ioctls: AtomicU64,
    other_ioctls: AtomicU64,
    privcmd_opens: AtomicU64,
    hypercall_dev_opens: AtomicU64,
    device_mappings: AtomicU64,
    device_bytes: AtomicU64,
    locked_mappings: AtomicU64,
    locked_bytes: AtomicU64,
    mlocks: AtomicU64,
    strict_violations: AtomicU64,
}

static COUNTS: OnceLock<Counts> = OnceLock::new();

fn counts() -> &'static Counts {
    COUNTS.get_or_init(Counts::default)
}

struct Shim {
    sim: Sim,
    scen: Scenario,
    events: Events,
    log: Option<String>,
    trace: bool,
}

static SHIM: OnceLock<Shim> = OnceLock::new();

fn shim() -> &'static Shim {
    SHIM.get_or_init(|| {
        let scen = match std::env::var_os("FAKEXEN_SCENARIO") {
            None => Scenario::default(),
            Some(p) => {
                let text = scenario::read_file(std::path::Path::new(&p)).unwrap_or_else(|e| die(&e));
                scenario::parse(&text).unwrap_or_else(|e| die(&format!("scenario {}: {e}", p.to_string_lossy())))
            }
        };
        let sim = Sim::new(scen.payloads.clone(), scen.config.clone());
        if let Some(text) = state_file().and_then(|p| std::fs::read_to_string(p).ok()).filter(|t| !t.is_empty()) {
            sim.load_state(&text).unwrap_or_else(|e| die(&format!("FAKEXEN_STATE: {e}")));
        }
        let events = Events::new(&scen);
        Shim {
            sim,
            scen,
            events,
            log: std::env::var("FAKEXEN_LOG").ok().filter(|s| !s.is_empty()),
            trace: std::env::var("FAKEXEN_TRACE").is_ok_and(|v| v == "1"),
        }
    })
}

fn log(msg: &str) {
    let line = format!("fakexen: {msg}\n");
    match SHIM.get().and_then(|s| s.log.as_ref()) {
        Some(path) => {
            let f = std::fs::OpenOptions::new().create(true).append(true).open(path);
            if let Ok(mut f) = f {
                let _ = f.write_all(line.as_bytes());
            }
        }
        None => {
            // SAFETY: writing a live buffer to fd 2.
            unsafe { libc::write(2, line.as_ptr().cast(), line.len()) };
        }
    }
}

// ---- guest memory -----------------------------------------------------------

/// Copies from this process's memory without risking a SIGSEGV.
fn peek(addr: u64, out: &mut [u8]) -> bool {
    if out.is_empty() {
        return true;
    }
    let local = libc::iovec { iov_base: out.as_mut_ptr().cast(), iov_len: out.len() };
    let remote = libc::iovec { iov_base: addr as *mut c_void, iov_len: out.len() };
    // SAFETY: the local iovec is our own buffer; the kernel checks the remote one.
    let n = unsafe { libc::process_vm_readv(libc::getpid(), &local, 1, &remote, 1, 0) };
    n == out.len() as isize
}

fn poke(addr: u64, data: &[u8]) -> bool {
    if data.is_empty() {
        return true;
    }
    let local = libc::iovec { iov_base: data.as_ptr() as *mut c_void, iov_len: data.len() };
    let remote = libc::iovec { iov_base: addr as *mut c_void, iov_len: data.len() };
    // SAFETY: as in `peek`; the kernel checks the destination is writable.
    let n = unsafe { libc::process_vm_writev(libc::getpid(), &local, 1, &remote, 1, 0) };
    n == data.len() as isize
}

/// The calling process's memory as the hypervisor sees it.
///
/// In strict mode the map of hypercall-safe ranges stays locked for the whole
/// hypercall (munmap takes the same lock), so a checked range cannot vanish
/// before it is copied, and copies are plain memory copies, as cheap as a
/// real hypervisor's: a process_vm_* system call per access would dominate
/// every timing taken over this shim. The range that satisfied the last check
/// is remembered, since one hypercall touches one or a few buffers.
struct Guest {
    safe: Option<std::sync::MutexGuard<'static, Ranges>>,
    last: std::cell::Cell<(usize, usize)>,
}

impl Guest {
    fn new(strict: bool) -> Guest {
        Guest { safe: strict.then(|| lock(&SAFE)), last: std::cell::Cell::new((0, 0)) }
    }

    /// Whether `[addr, addr + len)` may be accessed; counts and logs a
    /// violation otherwise.
    fn check(&self, what: &str, addr: u64, len: usize) -> bool {
        let Some(safe) = self.safe.as_ref() else { return true };
        if len == 0 {
            return true;
        }
        let a = addr as usize;
        let Some(b) = a.checked_add(len) else { return self.violation(what, addr, len) };
        let (ls, le) = self.last.get();
        if ls <= a && b <= le {
            return true;
        }
        match safe.covering(a, b) {
            Some(r) => {
                self.last.set(r);
                true
            }
            None => self.violation(what, addr, len),
        }
    }

    fn violation(&self, what: &str, addr: u64, len: usize) -> bool {
        counts().strict_violations.fetch_add(1, Relaxed);
        log(&format!(
            "strict: hypervisor {what} of {len} bytes at {addr:#x}: not hypercall-device or locked memory -> EFAULT"
        ));
        false
    }
}

impl GuestMemory for Guest {
    fn read(&self, addr: u64, out: &mut [u8]) -> bool {
        if self.safe.is_none() {
            return peek(addr, out);
        }
        if !self.check("read", addr, out.len()) {
            return false;
        }
        // SAFETY: the range lies in live hypercall-device, locked or mlocked
        // mappings (mapped readable and writable), which cannot be unmapped
        // while the map lock is held.
        unsafe { core::ptr::copy(addr as usize as *const u8, out.as_mut_ptr(), out.len()) };
        true
    }
    fn write(&self, addr: u64, data: &[u8]) -> bool {
        if self.safe.is_none() {
            return poke(addr, data);
        }
        if !self.check("write", addr, data.len()) {
            return false;
        }
        // SAFETY: as in `read`.
        unsafe { core::ptr::copy(data.as_ptr(), addr as usize as *mut u8, data.len()) };
        true
    }
}

// ---- the hypercall ioctl ----------------------------------------------------

fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_ne_bytes(b[o..o + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from_ne_bytes(b[o..o + 8].try_into().unwrap())
}

/// Fires the scenario's events for this call, if it is a LIST call with the
/// hypervisor's interface version.
fn before_call(sh: &Shim, sysctl_addr: u64) {
    let mut s = [0u8; 136];
    if !peek(sysctl_addr, &mut s) {
        return;
    }
    let (cmd, iface, sub, nr) = (u32_at(&s, 0), u32_at(&s, 4), u32_at(&s, 8), u32_at(&s, 24));
    if sh.trace {
        log(&format!(
            "hypercall sysctl cmd={cmd} iface={iface:#x} sub={sub} idx={} nr={nr} name_cap={} meta_cap={}",
            u32_at(&s, 20),
            u32_at(&s, 32),
            u32_at(&s, 36)
        ));
    }
    sh.events.before_sysctl(&sh.sim, &s);
}

fn hypercall_ioctl(dfd: DevFd, argp: *mut c_void) -> c_int {
    counts().hypercall_ioctls.fetch_add(1, Relaxed);
    let mut call = [0u8; 48];
    if !peek(argp as u64, &mut call) {
        set_errno(libc::EFAULT);
        return -1;
    }
    if dfd.restricted.is_some() {
        set_errno(libc::EPERM);
        return -1;
    }
    let sh = shim();
    let op = u64_at(&call, 0);
    let args: [u64; 5] = core::array::from_fn(|i| u64_at(&call, 8 + 8 * i));
    match op {
        35 => before_call(sh, args[0]),
        17 if sh.trace => log(&format!("hypercall xen_version cmd={} arg={:#x}", args[0], args[1])),
        _ => {}
    }
    let r = sh.sim.hypercall(&Guest::new(sh.scen.strict), op, args);
    if sh.trace {
        log(&format!("  -> {r}"));
    }
    if kill_after() == Some(counts().hypercall_ioctls.load(Relaxed)) {
        die_now();
    }
    if r < 0 {
        set_errno((-r) as c_int);
        -1
    } else {
        r as c_int
    }
}

fn device_ioctl(fd: c_int, dfd: DevFd, req: c_ulong, argp: *mut c_void) -> c_int {
    match (dfd.dev, req) {
        (Dev::Privcmd, IOCTL_PRIVCMD_HYPERCALL) => hypercall_ioctl(dfd, argp),
        (Dev::Privcmd, IOCTL_PRIVCMD_DM_OP) => {
            counts().other_ioctls.fetch_add(1, Relaxed);
            // privcmd_dm_op_t { domid_t dom; u16 num; ptr ubufs; }
            let mut b = [0u8; 16];
            if !peek(argp as u64, &mut b) {
                set_errno(libc::EFAULT);
                return -1;
            }
            let dom = u16::from_ne_bytes([b[0], b[1]]);
            let num = u16::from_ne_bytes([b[2], b[3]]);
            if dfd.restricted.is_some_and(|d| d != dom) {
                set_errno(libc::EPERM);
                return -1;
            }
            if num == 0 {
                // Linux answers the capability probe (num = 0) with 0.
                return 0;
            }
            set_errno(libc::ENOSYS); // no dm_op in this model
            -1
        }
        (Dev::Privcmd, IOCTL_PRIVCMD_RESTRICT) => {
            counts().other_ioctls.fetch_add(1, Relaxed);
            let mut b = [0u8; 2];
            if !peek(argp as u64, &mut b) {
                set_errno(libc::EFAULT);
                return -1;
            }
            let dom = u16::from_ne_bytes(b);
            let mut fds = lock(&FDS);
            if let Some(e) = fds.get_mut(&fd) {
                match e.restricted {
                    Some(d) if d != dom => {
                        set_errno(libc::EINVAL);
                        return -1;
                    }
                    _ => e.restricted = Some(dom),
                }
            }
            0
        }
        _ => {
            counts().other_ioctls.fetch_add(1, Relaxed);
            set_errno(libc::ENOTTY);
            -1
        }
    }
}

// ---- open and friends -------------------------------------------------------

/// Opens an emulated device, or returns None for any other path.
fn open_device(path: *const c_char, flags: c_int) -> Option<c_int> {
    if path.is_null() {
        return None;
    }
    // SAFETY: open's contract: a NUL-terminated path.
    let p = unsafe { CStr::from_ptr(path) }.to_bytes();
    let dev = match p {
        b"/dev/xen/privcmd" | b"/proc/xen/privcmd" => Dev::Privcmd,
        b"/dev/xen/hypercall" => Dev::Hypercall,
        _ => return None,
    };
    let sh = shim();
    let present = match (dev, p) {
        (Dev::Hypercall, _) => sh.scen.hypercall_device && sh.scen.privcmd != Privcmd::Absent,
        (_, b"/dev/xen/privcmd") => sh.scen.privcmd == Privcmd::Dev,
        _ => sh.scen.privcmd == Privcmd::Proc,
    };
    if !present {
        set_errno(libc::ENOENT);
        return Some(-1);
    }
    match dev {
        Dev::Privcmd => counts().privcmd_opens.fetch_add(1, Relaxed),
        Dev::Hypercall => counts().hypercall_dev_opens.fetch_add(1, Relaxed),
    };
    let keep = flags & (libc::O_CLOEXEC | libc::O_ACCMODE | libc::O_NONBLOCK);
    // SAFETY: a literal path; a real fd stands in for the device.
    let fd = unsafe { real!("open", OpenFn)(c"/dev/null".as_ptr(), keep, 0) };
    if fd >= 0 {
        lock(&FDS).insert(fd, DevFd { dev, restricted: None });
    }
    Some(fd)
}

fn forget_fd(fd: c_int) {
    lock(&FDS).remove(&fd);
}

fn device_of(fd: c_int) -> Option<DevFd> {
    lock(&FDS).get(&fd).copied()
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn open(path: *const c_char, flags: c_int, mode: libc::mode_t) -> c_int {
    if let Some(_g) = enter() {
        if let Some(fd) = open_device(path, flags) {
            return fd;
        }
    }
    // SAFETY: forwarding the caller's arguments unchanged.
    unsafe { real!("open", OpenFn)(path, flags, mode) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn open64(path: *const c_char, flags: c_int, mode: libc::mode_t) -> c_int {
    if let Some(_g) = enter() {
        if let Some(fd) = open_device(path, flags) {
            return fd;
        }
    }
    // SAFETY: forwarding the caller's arguments unchanged.
    unsafe { real!("open64", OpenFn)(path, flags, mode) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn __open_2(path: *const c_char, flags: c_int) -> c_int {
    if let Some(_g) = enter() {
        if let Some(fd) = open_device(path, flags) {
            return fd;
        }
    }
    // SAFETY: forwarding the caller's arguments unchanged.
    unsafe { real!("__open_2", Open2Fn)(path, flags) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn __open64_2(path: *const c_char, flags: c_int) -> c_int {
    if let Some(_g) = enter() {
        if let Some(fd) = open_device(path, flags) {
            return fd;
        }
    }
    // SAFETY: forwarding the caller's arguments unchanged.
    unsafe { real!("__open64_2", Open2Fn)(path, flags) }
}

fn absolute(path: *const c_char) -> bool {
    // SAFETY: a non-NULL path is NUL-terminated by contract; reading its first byte.
    !path.is_null() && unsafe { *path } == b'/' as c_char
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn openat(dirfd: c_int, path: *const c_char, flags: c_int, mode: libc::mode_t) -> c_int {
    if absolute(path) {
        if let Some(_g) = enter() {
            if let Some(fd) = open_device(path, flags) {
                return fd;
            }
        }
    }
    // SAFETY: forwarding the caller's arguments unchanged.
    unsafe { real!("openat", OpenatFn)(dirfd, path, flags, mode) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn openat64(dirfd: c_int, path: *const c_char, flags: c_int, mode: libc::mode_t) -> c_int {
    if absolute(path) {
        if let Some(_g) = enter() {
            if let Some(fd) = open_device(path, flags) {
                return fd;
            }
        }
    }
    // SAFETY: forwarding the caller's arguments unchanged.
    unsafe { real!("openat64", OpenatFn)(dirfd, path, flags, mode) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn __openat_2(dirfd: c_int, path: *const c_char, flags: c_int) -> c_int {
    if absolute(path) {
        if let Some(_g) = enter() {
            if let Some(fd) = open_device(path, flags) {
                return fd;
            }
        }
    }
    // SAFETY: forwarding the caller's arguments unchanged.
    unsafe { real!("__openat_2", Openat2Fn)(dirfd, path, flags) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn __openat64_2(dirfd: c_int, path: *const c_char, flags: c_int) -> c_int {
    if absolute(path) {
        if let Some(_g) = enter() {
            if let Some(fd) = open_device(path, flags) {
                return fd;
            }
        }
    }
    // SAFETY: forwarding the caller's arguments unchanged.
    unsafe { real!("__openat64_2", Openat2Fn)(dirfd, path, flags) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn close(fd: c_int) -> c_int {
    // SAFETY: forwarding the caller's argument unchanged.
    let r = unsafe { real!("close", CloseFn)(fd) };
    if r == 0 {
        if let Some(_g) = enter() {
            forget_fd(fd);
        }
    }
    r
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn dup2(old: c_int, new: c_int) -> c_int {
    // SAFETY: forwarding the caller's arguments unchanged.
    let r = unsafe { real!("dup2", Dup2Fn)(old, new) };
    if r >= 0 && old != new {
        if let Some(_g) = enter() {
            // The old file at `new` was closed: it is no longer a device
            // (xentoolcore's restrict puts /dev/null over the fds this way).
            forget_fd(new);
        }
    }
    r
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn dup3(old: c_int, new: c_int, flags: c_int) -> c_int {
    // SAFETY: forwarding the caller's arguments unchanged.
    let r = unsafe { real!("dup3", Dup3Fn)(old, new, flags) };
    if r >= 0 {
        if let Some(_g) = enter() {
            forget_fd(new);
        }
    }
    r
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn ioctl(fd: c_int, req: c_ulong, argp: *mut c_void) -> c_int {
    if let Some(_g) = enter() {
        if let Some(d) = device_of(fd) {
            return device_ioctl(fd, d, req, argp);
        }
    }
    // SAFETY: forwarding the caller's arguments unchanged.
    unsafe { real!("ioctl", IoctlFn)(fd, req, argp) }
}

// ---- memory -----------------------------------------------------------------

fn page_end(a: usize, len: usize) -> usize {
    a.saturating_add(len).saturating_add(PAGE - 1) & !(PAGE - 1)
}

unsafe fn do_mmap(
    addr: *mut c_void,
    len: usize,
    prot: c_int,
    flags: c_int,
    fd: c_int,
    off: libc::off_t,
) -> *mut c_void {
    let real = real!("mmap", MmapFn);
    let Some(_g) = enter() else {
        // SAFETY: forwarding the caller's arguments unchanged.
        return unsafe { real(addr, len, prot, flags, fd, off) };
    };
    let dev = if fd >= 0 { device_of(fd) } else { None };
    let (p, kind) = match dev {
        Some(d) => {
            if flags & libc::MAP_SHARED == 0 {
                // privcmd-buf (and privcmd) need VM_SHARED.
                set_errno(libc::EINVAL);
                return libc::MAP_FAILED;
            }
            // Zeroed shared pages stand in for the kernel's.
            let fl =
                (flags & !(libc::MAP_PRIVATE | libc::MAP_SHARED_VALIDATE)) | libc::MAP_SHARED | libc::MAP_ANONYMOUS;
            // SAFETY: an anonymous shared mapping with the caller's address,
            // length, protection and MAP_FIXED choice.
            let p = unsafe { real(addr, len, prot, fl, -1, 0) };
            (p, (d.dev == Dev::Hypercall).then_some(Kind::Device))
        }
        None => {
            let locked = flags & libc::MAP_LOCKED != 0 && flags & libc::MAP_ANONYMOUS != 0;
            // SAFETY: forwarding the caller's arguments unchanged.
            let mut p = unsafe { real(addr, len, prot, flags, fd, off) };
            if p == libc::MAP_FAILED && locked {
                // A dom0's root has no RLIMIT_MEMLOCK worry: model the
                // locked mapping even if this sandbox refuses the lock.
                // SAFETY: as above, without MAP_LOCKED.
                p = unsafe { real(addr, len, prot, flags & !libc::MAP_LOCKED, fd, off) };
            }
            (p, locked.then_some(Kind::MapLocked))
        }
    };
    if p != libc::MAP_FAILED {
        let a = p as usize;
        let b = page_end(a, len);
        let mut safe = lock(&SAFE);
        safe.remove(a, b, None);
        if let Some(k) = kind {
            safe.insert(a, b, k);
            let c = counts();
            if k == Kind::Device {
                c.device_mappings.fetch_add(1, Relaxed);
                c.device_bytes.fetch_add(len as u64, Relaxed);
            } else {
                c.locked_mappings.fetch_add(1, Relaxed);
                c.locked_bytes.fetch_add(len as u64, Relaxed);
            }
        }
    }
    p
}

include!("../../hardening/interpose_mmap.rs");
interpose_mmap!(do_mmap);

#[unsafe(no_mangle)]
pub unsafe extern "C" fn munmap(addr: *mut c_void, len: usize) -> c_int {
    // Forget the range first, and unmap with the map lock held, so that a
    // hypercall copying in another thread never touches unmapped memory.
    let guard = enter();
    let mut safe = guard.as_ref().map(|_| lock(&SAFE));
    if let Some(safe) = safe.as_mut() {
        let a = addr as usize;
        safe.remove(a, page_end(a, len), None);
    }
    // SAFETY: forwarding the caller's arguments unchanged.
    let r = unsafe { real!("munmap", MunmapFn)(addr, len) };
    drop(safe);
    r
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn madvise(addr: *mut c_void, len: usize, advice: c_int) -> c_int {
    // Forwarded as is: MADV_DONTFORK works on the stand-in pages too.
    // SAFETY: forwarding the caller's arguments unchanged.
    unsafe { real!("madvise", MadviseFn)(addr, len, advice) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlock(addr: *const c_void, len: usize) -> c_int {
    // SAFETY: forwarding the caller's arguments unchanged.
    let mut r = unsafe { real!("mlock", MlockFn)(addr, len) };
    if r != 0
        && matches!(std::io::Error::last_os_error().raw_os_error(), Some(libc::ENOMEM | libc::EPERM | libc::EAGAIN))
    {
        // RLIMIT_MEMLOCK in this sandbox; root on a dom0 would succeed.
        r = 0;
    }
    if r == 0 {
        if let Some(_g) = enter() {
            let a = addr as usize & !(PAGE - 1);
            lock(&SAFE).insert(a, page_end(addr as usize, len), Kind::Mlocked);
            counts().mlocks.fetch_add(1, Relaxed);
        }
    }
    r
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn munlock(addr: *const c_void, len: usize) -> c_int {
    // SAFETY: forwarding the caller's arguments unchanged.
    let r = unsafe { real!("munlock", MlockFn)(addr, len) };
    if r == 0 {
        if let Some(_g) = enter() {
            let a = addr as usize & !(PAGE - 1);
            lock(&SAFE).remove(a, page_end(addr as usize, len), Some(&[Kind::Mlocked, Kind::MapLocked]));
        }
    }
    r
}

// ---- counters at exit -------------------------------------------------------

fn counters_text() -> String {
    let c = counts();
    let s = SHIM.get().map(|s| s.sim.counters()).unwrap_or_default();
    let mut o = String::new();
    let mut kv = |k: &str, v: u64| {
        let _ = writeln!(o, "{k} {v}");
    };
    kv("hypercalls", c.hypercall_ioctls.load(Relaxed));
    kv("sysctls", s.hypercalls);
    kv("list_calls", s.list_calls);
    kv("probes", s.probes);
    kv("e2big", s.e2big);
    kv("version_mismatch", s.version_mismatch);
    kv("efaults", s.faults);
    kv("entries", s.entries);
    kv("upload_calls", s.upload_calls);
    kv("upload_forced", s.upload_forced);
    kv("upload_bytes", s.upload_bytes);
    kv("get_calls", s.get_calls);
    kv("action_calls", s.action_calls);
    kv("actions_run", s.actions_run);
    kv("xen_version_calls", s.xen_version_calls);
    kv("buffer_mappings", c.device_mappings.load(Relaxed) + c.locked_mappings.load(Relaxed));
    kv("bytes_mapped", c.device_bytes.load(Relaxed) + c.locked_bytes.load(Relaxed));
    kv("device_mappings", c.device_mappings.load(Relaxed));
    kv("locked_mappings", c.locked_mappings.load(Relaxed));
    kv("mlocks", c.mlocks.load(Relaxed));
    kv("strict_violations", c.strict_violations.load(Relaxed));
    kv("privcmd_opens", c.privcmd_opens.load(Relaxed));
    kv("hypercall_dev_opens", c.hypercall_dev_opens.load(Relaxed));
    kv("other_ioctls", c.other_ioctls.load(Relaxed));
    o
}

fn state_file() -> Option<std::ffi::OsString> {
    std::env::var_os("FAKEXEN_STATE").filter(|p| !p.is_empty())
}

/// Puts the simulated hypervisor back in the scenario's initial state.
#[unsafe(no_mangle)]
pub extern "C" fn fakexen_reset() {
    let _g = enter();
    let sh = shim();
    sh.sim.reset(sh.scen.payloads.clone(), sh.scen.config.clone());
}

/// Copies the hypervisor's state as text (without times: see
/// `Sim::save_state`), NUL-terminated, into `buf` of `len` bytes; returns
/// the text's length (truncated when it is `len` or more).
///
/// # Safety
/// `buf` must be writable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fakexen_state(buf: *mut c_char, len: usize) -> usize {
    let _g = enter();
    let text = shim().sim.save_state(false);
    if len > 0 && !buf.is_null() {
        let n = text.len().min(len - 1);
        // SAFETY: `buf` is writable for `len` > n bytes (the contract).
        unsafe {
            core::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), n);
            *buf.add(n) = 0;
        }
    }
    text.len()
}

/// `FAKEXEN_KILL_AFTER`: the hypercall after which the process dies.
fn kill_after() -> Option<u64> {
    static N: OnceLock<Option<u64>> = OnceLock::new();
    *N.get_or_init(|| std::env::var("FAKEXEN_KILL_AFTER").ok().and_then(|v| v.parse().ok()))
}

/// What a SIGKILL right after this hypercall leaves: the hypervisor's state
/// (it lives on, outside the process) and the counters, then the kill.
fn die_now() {
    at_exit();
    // SAFETY: raising a signal; SIGKILL cannot be caught, so it does not return.
    unsafe { libc::raise(libc::SIGKILL) };
}

extern "C" fn at_exit() {
    let _g = enter();
    if let (Some(path), Some(sh)) = (state_file(), SHIM.get()) {
        if let Err(e) = std::fs::write(&path, sh.sim.save_state(true)) {
            log(&format!("cannot write the state to {}: {e}", path.to_string_lossy()));
        }
    }
    if let Some(path) = std::env::var_os("FAKEXEN_COUNTERS").filter(|p| !p.is_empty()) {
        if let Err(e) = std::fs::write(&path, counters_text()) {
            let m = format!("fakexen: cannot write counters to {}: {e}\n", path.to_string_lossy());
            // SAFETY: writing a live buffer to fd 2.
            unsafe { libc::write(2, m.as_ptr().cast(), m.len()) };
        }
    }
}

#[used]
#[unsafe(link_section = ".fini_array")]
static FINI: extern "C" fn() = at_exit;
