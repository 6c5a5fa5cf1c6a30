//! Hardening over the simulated hypervisor (issue "Hardening", parts 2 and 3):
//! allocation failure injection for every allocation of a list call, and
//! 8 threads x 1000 get_sizes + list while another thread uploads and
//! unloads payloads.

#[path = "hardening/common.rs"]
mod common;

use common::*;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use xc_livepatch::list;
use xc_livepatch::sim::{self, Change, Config, Payload, SimHypervisor};
use xc_livepatch::Error;

fn initial(n: usize) -> Vec<Payload> {
    (0..n).map(|i| payload(&format!("base-{i:04}"))).collect()
}

// ---- part 2: allocation failure ---------------------------------------------

/// Runs `call` once to count its allocations, then again with each of them
/// failing in turn: every failure is ENOMEM, frees everything, writes
/// nothing, and the next call succeeds.
fn fail_each_allocation(label: &str, hv: &SimHypervisor, call: &dyn Fn(&SimHypervisor) -> Result<Vec<Payload>, Error>) {
    let expected = call(hv).unwrap_or_else(|e| panic!("{label}: reference call failed: {e}"));
    let a0 = hv.allocations();
    call(hv).unwrap();
    let per_call = hv.allocations() - a0;
    assert!(per_call >= 1, "{label}: no allocation at all?");
    for nth in 1..=per_call {
        let base = hv.allocations();
        hv.fail_allocation(Some(base + nth));
        let r = call(hv);
        hv.fail_allocation(None);
        match r {
            Err(e) => assert_eq!(e.errno(), libc::ENOMEM, "{label}: allocation {nth}/{per_call}: {e}"),
            Ok(_) => panic!("{label}: allocation {nth}/{per_call} failed but the call succeeded"),
        }
        assert_eq!(hv.live_buffers(), 0, "{label}: allocation {nth}: buffers left alive");
        assert_eq!(call(hv).unwrap(), expected, "{label}: the call after the failure");
    }
    eprintln!("{label}: {per_call} allocation(s) per call, each failure handled");
}

#[test]
fn every_allocation_of_a_list_call_can_fail_cleanly() {
    for iface in [0x15, 0x16] {
        for n in [0usize, 1, 3, 1500] {
            let hv = SimHypervisor::new(
                initial(n),
                Config { interface_version: iface, preempt_every: Some(100), ..Config::default() },
            );
            // get_sizes alone.
            fail_each_allocation(&format!("get_sizes iface {iface:#x} n {n}"), &hv, &|hv| sizes_as_payloads(hv));
            // list with canaried caller buffers: nothing written on failure.
            let sizes = list::get_sizes(&hv).unwrap();
            let (max, nc, mc) = (
                (sizes.nr as usize).max(1),
                (sizes.name_total_size as usize).max(1),
                sizes.metadata_total_size as usize,
            );
            fail_each_allocation(&format!("list iface {iface:#x} n {n}"), &hv, &|hv| list_canaried(hv, max, nc, mc));
            // The Rust API (get_sizes + list, two allocations).
            fail_each_allocation(&format!("list_from iface {iface:#x} n {n}"), &hv, &|hv| api_as_payloads(hv));
        }
    }
}

// ---- part 3: concurrency --------------------------------------------------------

const THREADS: usize = 8;
const CALLS: usize = 1000;

#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    ok_incomplete: AtomicU64,
    ebusy: AtomicU64,
    enobufs: AtomicU64,
    efault: AtomicU64,
    einval: AtomicU64,
    rust_api_ok: AtomicU64,
    rust_api_err: AtomicU64,
}

fn concurrent(iface: u32) {
    // Besides the mutator thread (whose pace depends on the scheduler),
    // the model itself uploads or unloads before every 41st hypercall, so
    // every run sees the list change under it.
    let mut cfg = Config { interface_version: iface, preempt_every: Some(3), ..Config::default() };
    for k in 0..20_000u64 {
        let c = if k % 2 == 0 {
            Change::Upload(payload(&format!("cfg-{k:06}")))
        } else {
            Change::Unload(format!("cfg-{:06}", k - 1).into_bytes())
        };
        cfg.changes.insert(41 * (k + 1), vec![c]);
    }
    let hv = SimHypervisor::new(initial(20), cfg);
    let live0 = hv.live_buffers();
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let barrier = Arc::new(Barrier::new(THREADS + 1));

    // The mutator: uploads and unloads all the time (and flips states, which
    // do not bump the version).
    let mutator = {
        let (hv, stop, barrier) = (hv.clone(), stop.clone(), barrier.clone());
        std::thread::spawn(move || {
            barrier.wait();
            let mut k = 0u64;
            let mut changes = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let name = format!("up-{k:06}");
                hv.sim().change(Change::Upload(payload(&name)));
                if k >= 5 {
                    hv.sim().change(Change::Unload(format!("up-{:06}", k - 5).into_bytes()));
                }
                if k.is_multiple_of(7) {
                    hv.sim().change(Change::Unload(format!("base-{:04}", k % 20).into_bytes()));
                    hv.sim().change(Change::Upload(payload(&format!("base-{:04}", k % 20))));
                }
                k += 1;
                changes += 1;
                std::thread::sleep(std::time::Duration::from_micros(20));
            }
            changes
        })
    };

    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (hv, tally, barrier) = (hv.clone(), tally.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                for i in 0..CALLS {
                    if t == 0 && i % 4 == 0 {
                        // The Rust API retries by itself: Ok or EBUSY only.
                        match xc_livepatch::list_from(&hv) {
                            Ok(v) => {
                                let ps: Vec<Payload> =
                                    v.iter().map(|p| Payload::new(p.name_bytes(), p.metadata_raw())).collect();
                                assert_consistent(&ps);
                                tally.rust_api_ok.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) => {
                                assert!(
                                    matches!(e.errno(), libc::EBUSY | libc::EINVAL | libc::EFAULT),
                                    "list_from: {e}"
                                );
                                tally.rust_api_err.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        continue;
                    }
                    // Like xen-livepatch: probe, allocate exactly, list.
                    let s = match list::get_sizes(&hv) {
                        Ok(s) => s,
                        Err(e) => panic!("get_sizes: {e}"),
                    };
                    let max = (s.nr as usize).max(1);
                    let mut b = Bufs::new(max, (s.name_total_size as usize).max(1), s.metadata_total_size as usize + 1);
                    match b.list(&hv, 0) {
                        Ok(r) => {
                            let ps = b.entries(&r);
                            assert_eq!(ps.len(), r.done as usize);
                            assert!(r.done as usize <= max);
                            assert_consistent(&ps);
                            if r.done as usize == max && r.left == 0 {
                                tally.ok.fetch_add(1, Ordering::Relaxed);
                            } else {
                                // The list grew (left > 0) or shrank (done <
                                // max) since get_sizes: a consistent snapshot
                                // all the same; xen-livepatch reports it.
                                tally.ok_incomplete.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        Err(e) => {
                            b.assert_untouched();
                            let c = match e.errno() {
                                libc::EBUSY => &tally.ebusy,
                                libc::EFAULT if iface < 0x16 => &tally.efault,
                                // The list outgrew the buffers sized by
                                // get_sizes (Xen 4.21 says so; before, the
                                // library sees the reply exceed them).
                                libc::ENOBUFS => &tally.enobufs,
                                // The list shrank below start + done between
                                // two batches: Xen answers EINVAL before it
                                // writes the version back, so the library
                                // cannot tell this from a bad `start`.
                                libc::EINVAL => &tally.einval,
                                _ => panic!("iface {iface:#x}: unexpected error {e} ({})", e.errno()),
                            };
                            c.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker panicked");
    }
    stop.store(true, Ordering::Relaxed);
    let changes = mutator.join().unwrap();
    assert_eq!(hv.live_buffers(), live0, "live hypercall buffers did not return to the start value");
    let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
    eprintln!(
        "iface {iface:#x}: {} list calls: {} complete, {} consistent but grown/shrunk, {} EBUSY, {} EFAULT, {} ENOBUFS, {} EINVAL; \
         list_from: {} ok, {} err; {} mutations, {} hypercalls",
        THREADS * CALLS,
        g(&tally.ok),
        g(&tally.ok_incomplete),
        g(&tally.ebusy),
        g(&tally.efault),
        g(&tally.enobufs),
        g(&tally.einval),
        g(&tally.rust_api_ok),
        g(&tally.rust_api_err),
        changes,
        hv.sim().counters().hypercalls,
    );
    assert!(g(&tally.ok) > 0, "no call ever succeeded completely");
}

#[test]
fn eight_threads_list_while_payloads_come_and_go_iface_0x15() {
    concurrent(0x15);
}

#[test]
fn eight_threads_list_while_payloads_come_and_go_iface_0x16() {
    concurrent(0x16);
}

#[test]
fn generated_payloads_are_unaffected() {
    // Sanity: the simulator's own generator still lists (keeps `sim` used).
    let hv = SimHypervisor::new(sim::generated(3, 10), Config::default());
    assert_eq!(xc_livepatch::list_from(&hv).unwrap().len(), 3);
}
