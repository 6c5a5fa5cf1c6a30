//! Allocation failure injection over the library's REAL hypercall buffers
//! (issue "Hardening", part 2): this test binary interposes `mmap` and
//! `madvise` (its own definitions win over libc's for the crate linked into
//! it), makes each call a list makes fail in turn, and checks the result is
//! ENOMEM (or the injected errno), that every mapping the call made is gone,
//! that nothing was written to the caller, and that the next call succeeds.
//! The library keeps a small pool of buffers for reuse: it is emptied
//! before each traced call (so that the call maps) and after it (so that
//! any mapping still present is a leak).
//!
//! One #[test] only: the interposed functions are process-wide.

#[path = "hardening/common.rs"]
mod common;
#[path = "hardening/realbuf.rs"]
mod realbuf;

use common::*;
use core::ffi::{c_int, c_void};
use realbuf::{is_mapped, RealBufSim};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use xc_livepatch::hypercall_buffer::release_pool;
use xc_livepatch::list;
use xc_livepatch::sim::{Config, Payload};
use xc_livepatch::Error;

/// The thread whose calls are counted (0: none).
static TID: AtomicI64 = AtomicI64::new(0);
/// Calls counted so far (mmap and madvise together).
static CALLS: AtomicU64 = AtomicU64::new(0);
/// Fail the call with this 1-based number (0: none).
static FAIL_AT: AtomicU64 = AtomicU64::new(0);
static FAIL_ERRNO: AtomicI64 = AtomicI64::new(libc::ENOMEM as i64);
static FAILED: AtomicBool = AtomicBool::new(false);
static MAPPED: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());

fn tid() -> i64 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::syscall(libc::SYS_gettid) }
}

/// Whether this call (of the traced thread) must fail.
fn inject() -> bool {
    if TID.load(Ordering::Relaxed) != tid() {
        return false;
    }
    let n = CALLS.fetch_add(1, Ordering::Relaxed) + 1;
    if n == FAIL_AT.load(Ordering::Relaxed) {
        FAILED.store(true, Ordering::Relaxed);
        // SAFETY: this thread's errno slot.
        unsafe { *libc::__errno_location() = FAIL_ERRNO.load(Ordering::Relaxed) as c_int };
        return true;
    }
    false
}

/// mmap(2), counted and failed on demand (the exported `mmap` and `mmap64`).
///
/// # Safety
/// As mmap(2).
unsafe fn traced_mmap(
    addr: *mut c_void,
    len: usize,
    prot: c_int,
    flags: c_int,
    fd: c_int,
    off: libc::off_t,
) -> *mut c_void {
    if inject() {
        return libc::MAP_FAILED;
    }
    // SAFETY: forwards the caller's arguments to the system call.
    let p = unsafe { libc::syscall(libc::SYS_mmap, addr, len, prot, flags, fd, off) } as *mut c_void;
    if p != libc::MAP_FAILED && TID.load(Ordering::Relaxed) == tid() {
        if let Ok(mut m) = MAPPED.try_lock() {
            m.push((p as usize, len));
        }
    }
    p
}

include!("hardening/interpose_mmap.rs");
interpose_mmap!(traced_mmap);

/// # Safety
/// As madvise(2).
#[no_mangle]
pub unsafe extern "C" fn madvise(addr: *mut c_void, len: usize, advice: c_int) -> c_int {
    if inject() {
        return -1;
    }
    // SAFETY: forwards the caller's arguments to the system call.
    unsafe { libc::syscall(libc::SYS_madvise, addr, len, advice) as c_int }
}

/// Runs `f` with the interposers counting (and failing call `fail_at`).
/// The library's buffer pool is emptied before, so that every allocation
/// maps, and after, so that whatever `f` mapped must be gone unless leaked.
fn trace<T>(fail_at: u64, errno: i32, f: impl FnOnce() -> T) -> (T, u64, bool, Vec<(usize, usize)>) {
    release_pool();
    MAPPED.lock().unwrap().clear();
    CALLS.store(0, Ordering::Relaxed);
    FAIL_AT.store(fail_at, Ordering::Relaxed);
    FAIL_ERRNO.store(errno.into(), Ordering::Relaxed);
    FAILED.store(false, Ordering::Relaxed);
    TID.store(tid(), Ordering::Relaxed);
    let r = f();
    TID.store(0, Ordering::Relaxed);
    release_pool();
    let mapped = std::mem::take(&mut *MAPPED.lock().unwrap());
    (r, CALLS.load(Ordering::Relaxed), FAILED.load(Ordering::Relaxed), mapped)
}

fn payloads(n: usize) -> Vec<Payload> {
    (0..n).map(|i| payload(&format!("lp-{i:04}"))).collect()
}

type Call<'a> = &'a dyn Fn(&RealBufSim) -> Result<Vec<Payload>, Error>;

fn fail_each(label: &str, hv: &RealBufSim, call: Call) {
    let expected = call(hv).unwrap_or_else(|e| panic!("{label}: reference call: {e}"));
    let (r, per_call, _, mapped) = trace(0, 0, || call(hv));
    assert_eq!(r.unwrap(), expected);
    assert!(per_call >= 2, "{label}: mmap/madvise not interposed? ({per_call} calls)");
    assert!(mapped.iter().all(|&(a, _)| !is_mapped(a)), "{label}: a successful call left a mapping outside the pool");
    for errno in [libc::ENOMEM, libc::EAGAIN] {
        for nth in 1..=per_call {
            let (r, _, failed, mapped) = trace(nth, errno, || call(hv));
            assert!(failed, "{label}: call {nth} was not reached");
            match r {
                Err(e) => assert_eq!(e.errno(), errno, "{label}: call {nth}/{per_call} failing with {errno}: got {e}"),
                Ok(_) => panic!("{label}: call {nth}/{per_call} failed but the list call succeeded"),
            }
            for (a, l) in &mapped {
                assert!(!is_mapped(*a), "{label}: failure at {nth}: mapping {a:#x}+{l} left behind");
            }
            assert_eq!(hv.regions.count(), 0, "{label}: failure at {nth}: buffer left registered");
            assert_eq!(call(hv).unwrap(), expected, "{label}: the call after failure {nth}");
        }
    }
    eprintln!("{label}: {per_call} mmap/madvise calls per call; each failure handled");
}

#[test]
fn every_mmap_and_madvise_of_a_list_upload_get_or_action_call_can_fail_cleanly() {
    for iface in [0x15, 0x16] {
        for n in [0usize, 3, 1200] {
            let hv = RealBufSim::new(
                payloads(n),
                Config { interface_version: iface, preempt_every: Some(50), ..Config::default() },
            );
            fail_each(&format!("get_sizes {iface:#x}/{n}"), &hv, &|hv| sizes_as_payloads(hv));
            let s = list::get_sizes(&hv).unwrap();
            let (max, nc, mc) =
                ((s.nr as usize).max(1), (s.name_total_size as usize).max(1), s.metadata_total_size as usize);
            fail_each(&format!("list {iface:#x}/{n}"), &hv, &|hv| list_canaried(hv, max, nc, mc));
            fail_each(&format!("list_from {iface:#x}/{n}"), &hv, &|hv| api_as_payloads(hv));
        }
    }
    every_mmap_and_madvise_of_an_upload_a_get_and_an_action_can_fail_cleanly();
}

/// A payload the model accepts: the ELF magic, then `n` bytes.
fn elf(n: usize) -> Vec<u8> {
    let mut v = b"\x7fELF".to_vec();
    v.resize(n, 0x5A);
    v
}

/// Part of the one test below (the interposers' counts are process-wide, so
/// two tests must not run them at once).
fn every_mmap_and_madvise_of_an_upload_a_get_and_an_action_can_fail_cleanly() {
    use xc_livepatch::manage;
    use xc_livepatch::sim::Change;
    // Small (pooled) and 1.5 MiB (beyond the kept-memory cap: mapped and
    // unmapped within the call); interfaces 0x15 (probe: 0x16 refused first),
    // 0x16 and 0x13.
    for (iface, size) in [(0x15, 4096), (0x16, 1536 << 10), (0x13, 100)] {
        let hv = RealBufSim::new(Vec::new(), Config { interface_version: iface, ..Config::default() });
        let payload = elf(size);
        let held = |hv: &RealBufSim| hv.sim.payloads();
        // Each call starts from the same state: "lp" not loaded.
        let upload = |hv: &RealBufSim| {
            hv.sim.change(Change::Unload(b"lp".to_vec()));
            manage::upload(hv, b"lp", &payload).map(|()| held(hv))
        };
        fail_each(&format!("upload {iface:#x}/{size} B"), &hv, &upload);
        let get = |hv: &RealBufSim| {
            manage::status(hv, b"lp").map(|s| vec![Payload::new("lp", "").with_state(s.state.raw(), s.rc)])
        };
        fail_each(&format!("get {iface:#x}"), &hv, &get);
        // "lp" loaded again before each unload.
        let unload = |hv: &RealBufSim| {
            if held(hv).is_empty() {
                hv.sim.change(Change::Upload(Payload::new("lp", "")));
            }
            manage::act_raw(hv, b"lp", 1, 0, 0).map(|()| held(hv))
        };
        fail_each(&format!("unload {iface:#x}"), &hv, &unload);
    }
}
