//! fork() and listing (issue "Hardening", part 4), over the library's REAL
//! hypercall buffers (anonymous MAP_LOCKED + MADV_DONTFORK pages here, as
//! without /dev/xen/hypercall) and the simulated hypervisor:
//!  * a child forked while another thread is inside a list call (stopped
//!    inside its hypercall, the model having written half the reply) does
//!    not have the parent's in-flight buffer (nor the pooled ones) at all,
//!    and lists successfully itself; the parent's call then completes with
//!    the right data;
//!  * children forked between calls, while other threads keep listing, list
//!    successfully, and the parent's listings stay correct.
//!
//! The shared-mapping case (/dev/xen/hypercall pages that a fork would share)
//! is covered in C under fakexen: tests/hardening/lpstress.c (mode fork).

#[path = "hardening/common.rs"]
mod common;
#[path = "hardening/realbuf.rs"]
mod realbuf;

use common::*;
use realbuf::{is_mapped, Hook, RealBufSim};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use xc_livepatch::sim::{Config, Payload};

/// Serialises the tests of this binary: fork() copies whatever the other
/// test's threads hold.
static SERIAL: Mutex<()> = Mutex::new(());

fn payloads(n: usize) -> Vec<Payload> {
    (0..n).map(|i| payload(&format!("lp-{i:04}"))).collect()
}

fn to_sim(v: Vec<xc_livepatch::Payload>) -> Vec<Payload> {
    to_sim_ref(&v)
}

fn to_sim_ref(v: &[xc_livepatch::Payload]) -> Vec<Payload> {
    v.iter().map(|p| Payload::new(p.name_bytes(), p.metadata_raw())).collect()
}

/// Runs `f` in a forked child; returns its exit status (0 = ok), failing
/// the test if it does not end within `limit`.
fn in_child(limit: Duration, f: impl FnOnce() -> i32) -> i32 {
    // SAFETY: the child only runs `f` (which uses no lock another thread may
    // hold, see the callers) and then _exit()s.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(99);
        // SAFETY: leaves the child without running the parent's atexit/test
        // harness machinery.
        unsafe { libc::_exit(code) };
    }
    let t0 = Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: waiting for our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            if libc::WIFEXITED(status) {
                return libc::WEXITSTATUS(status);
            }
            panic!("child ended abnormally (status {status:#x})");
        }
        if t0.elapsed() > limit {
            // SAFETY: our own child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            // SAFETY: reaping our own child.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            panic!("child did not finish within {limit:?} (deadlock after fork?)");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn a_child_forked_during_a_list_call_lists_and_does_not_share_the_buffer() {
    let _s = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let expected = payloads(300);
    for round in 0..20 {
        let hv = Arc::new(RealBufSim::new(expected.clone(), Config { preempt_every: Some(40), ..Config::default() }));
        // Warm the pool so that the child inherits pooled buffers too.
        assert_eq!(to_sim(xc_livepatch::list_from(&*hv).unwrap()), expected);

        // The hook stops the lister inside its (3 + round % 4)-th data call,
        // after the model wrote that batch, until the fork is done.
        let (inside_tx, inside_rx) = mpsc::channel::<()>();
        let (forked_tx, forked_rx) = mpsc::channel::<()>();
        let inside_tx = Mutex::new(Some(inside_tx));
        let forked_rx = Mutex::new(forked_rx);
        let calls = AtomicU64::new(0);
        let stop_at = 3 + round % 4;
        let hook: Hook = Box::new(move |_buf| {
            if calls.fetch_add(1, Ordering::Relaxed) + 1 == stop_at {
                if let Some(tx) = inside_tx.lock().unwrap().take() {
                    tx.send(()).unwrap();
                    forked_rx.lock().unwrap().recv().unwrap();
                }
            }
        });
        *hv.hook.lock().unwrap() = Some(Arc::new(hook));
        let lister = {
            let hv = hv.clone();
            std::thread::spawn(move || xc_livepatch::list_from(&*hv).map(to_sim))
        };
        inside_rx.recv_timeout(Duration::from_secs(20)).expect("the lister never got inside its hypercall");
        let inflight = hv.regions.ranges();
        assert!(!inflight.is_empty());
        let code = in_child(Duration::from_secs(20), || {
            // No lock is held: the lister waits in the hook, outside the
            // model's and the registry's locks.
            *hv.hook.lock().unwrap() = None;
            for &(a, l) in &inflight {
                if is_mapped(a) || is_mapped(a + l - 1) {
                    return 2; // the parent's in-flight buffer leaked into the child
                }
            }
            match xc_livepatch::list_from(&*hv) {
                Ok(v) if to_sim_ref(&v) == expected => 0,
                Ok(_) => 3,
                Err(_) => 4,
            }
        });
        forked_tx.send(()).unwrap();
        let parent = lister.join().unwrap();
        assert_eq!(
            code, 0,
            "round {round}: child failed (2: in-flight buffer present in the child, 3: wrong data, 4: error)"
        );
        assert_eq!(parent.expect("parent's in-flight call"), expected, "round {round}: parent's listing");
        *hv.hook.lock().unwrap() = None;
    }
}

#[test]
fn children_forked_between_calls_list_while_the_parent_keeps_listing() {
    let _s = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let expected = payloads(200);
    let hv = Arc::new(RealBufSim::new(expected.clone(), Config { preempt_every: Some(25), ..Config::default() }));
    let stop = Arc::new(AtomicBool::new(false));
    let listed = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let (hv, stop, listed, expected) = (hv.clone(), stop.clone(), listed.clone(), expected.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    assert_eq!(to_sim(xc_livepatch::list_from(&*hv).unwrap()), expected);
                    listed.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let payload_copy = expected.clone();
    for _ in 0..30 {
        std::thread::sleep(Duration::from_millis(3));
        // The listing threads may hold the model's locks at the moment of the
        // fork (a test artefact: Xen has no user-space lock), so the child
        // talks to a fresh model; the library's own state (device fds, pool,
        // fork handlers) is inherited as it is.
        let code = in_child(Duration::from_secs(20), || {
            let own = RealBufSim::new(payload_copy.clone(), Config { preempt_every: Some(25), ..Config::default() });
            for _ in 0..20 {
                match xc_livepatch::list_from(&own) {
                    Ok(v) if to_sim_ref(&v) == payload_copy => {}
                    Ok(_) => return 3,
                    Err(_) => return 4,
                }
            }
            0
        });
        assert_eq!(code, 0, "child failed (3: wrong data, 4: error)");
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().expect("a parent lister failed");
    }
    assert!(listed.load(Ordering::Relaxed) > 30);
    assert_eq!(hv.regions.count(), 0, "buffers left alive");
}

#[test]
fn pooled_and_in_flight_buffers_are_marked_dontfork() {
    // Direct check of the property the C fork test relies on, from the
    // kernel's view: a child sees none of the parent's hypercall buffers.
    let _s = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut bufs: Vec<_> =
        (0..3).map(|i| xc_livepatch::hypercall_buffer::HypercallBuffer::new(4096 * (i + 1)).unwrap()).collect();
    let addrs: Vec<(usize, usize)> = bufs.iter_mut().map(|b| (b.as_mut_ptr() as usize, b.len())).collect();
    drop(bufs.pop()); // one goes to the pool
    let code = in_child(Duration::from_secs(10), || {
        if addrs.iter().any(|&(a, l)| is_mapped(a) || is_mapped(a + l - 1)) {
            1
        } else {
            0
        }
    });
    assert_eq!(code, 0, "a hypercall buffer is present in the child");
}
