//! What stays mapped between calls (issue #11): after a listing returns, the
//! library keeps at most `keep_bytes()` (default 1 MiB) of hypercall buffers
//! mapped. Listings run the model on the library's real hypercall buffers
//! (no /dev/xen/hypercall here: locked anonymous memory, so the kernel's
//! own count, VmLck in /proc/self/status, sees them too).
//!
//! One test function only: the pool and the counts are process-wide.

#[path = "hardening/realbuf.rs"]
mod realbuf;

use realbuf::{RealBuf, RealBufSim};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use xc_livepatch::hypercall_buffer::{keep_bytes, mapped_bytes, release_pool, DEFAULT_KEEP_BYTES};
use xc_livepatch::list;
use xc_livepatch::sim::{self, CallerBuffers, Config};
use xc_livepatch::sysctl::Buffer;

/// Locked memory of this process, in bytes, as the kernel counts it.
fn locked_bytes() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmLck:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<usize>().unwrap() * 1024
}

fn no_device() -> bool {
    !std::path::Path::new("/dev/xen/hypercall").exists()
}

/// Lists everything twice, through the C-style call and the Rust API;
/// returns the most hypercall memory mapped during any of their hypercalls.
fn list_everything(hv: &RealBufSim, n: usize) -> usize {
    let peak = Arc::new(AtomicUsize::new(0));
    let p = peak.clone();
    *hv.hook.lock().unwrap() = Some(Arc::new(Box::new(move |_: &mut RealBuf| {
        p.fetch_max(mapped_bytes(), Ordering::Relaxed);
    })));
    let s = list::get_sizes(hv).unwrap();
    let mut b = CallerBuffers::new(s.nr as usize, s.name_total_size as usize, s.metadata_total_size as usize);
    assert_eq!(b.list(hv, 0).unwrap().done as usize, n);
    assert_eq!(xc_livepatch::list_from(hv).unwrap().len(), n);
    *hv.hook.lock().unwrap() = None;
    peak.load(Ordering::Relaxed)
}

#[test]
#[cfg_attr(miri, ignore = "kernel-only: real hypercall buffers (MAP_FIXED, MAP_LOCKED, madvise) and /proc/self/status")]
fn at_most_the_cap_stays_mapped_after_a_large_listing_small_listings_map_nothing_an_upload_keeps_nothing() {
    assert_eq!(keep_bytes(), DEFAULT_KEEP_BYTES, "run without XC_LIVEPATCH_KEEP_BYTES");
    release_pool();
    let (mapped0, locked0) = (mapped_bytes(), locked_bytes());
    assert_eq!(mapped0, 0);

    // 2000 payloads with 1 KiB of metadata each: a buffer of about 2.1 MiB.
    let big = RealBufSim::new(sim::generated(2000, 1024), Config::default());
    let peak = list_everything(&big, 2000);
    assert!(peak > 2 << 20, "the listing mapped {peak} bytes");
    let kept = mapped_bytes();
    assert!(kept <= 1 << 20, "{kept} bytes stay mapped after a large listing");
    assert_eq!(big.regions.count(), 0);
    if no_device() {
        let locked = locked_bytes() - locked0;
        assert_eq!(locked, kept, "VmLck grew by {locked}, the pool says {kept}");
    }

    // A small listing keeps its buffers, and the next maps nothing.
    let small = RealBufSim::new(sim::generated(100, 200), Config::default());
    list_everything(&small, 100);
    let kept_small = mapped_bytes();
    assert!(kept_small > 0 && kept_small <= keep_bytes());
    let hook_saw = list_everything(&small, 100);
    assert_eq!(hook_saw, kept_small, "a steady-state listing mapped more");
    assert_eq!(mapped_bytes(), kept_small);
    // An upload of 2 MiB (the largest payload Xen 4.17 takes): one buffer
    // holding the sysctl, the name and the payload, mapped for the call and
    // unmapped before it returns; the pool is as it was.
    let up = RealBufSim::new(Vec::new(), Config::default());
    let during = Arc::new(AtomicUsize::new(0));
    let d = during.clone();
    *up.hook.lock().unwrap() = Some(Arc::new(Box::new(move |b: &mut RealBuf| {
        d.fetch_max(mapped_bytes(), Ordering::Relaxed);
        assert!(b.len() >= 2 << 20);
    })));
    let mut elf = b"\x7fELF".to_vec();
    elf.resize(2 << 20, 0);
    xc_livepatch::manage::upload(&up, b"big", &elf).unwrap();
    let upload_peak = during.load(Ordering::Relaxed) - kept_small;
    let one_copy = (264 + (2 << 20) as usize).next_multiple_of(4096);
    assert_eq!(
        upload_peak, one_copy,
        "the upload mapped {upload_peak} bytes beside the pool, not one buffer of {one_copy}"
    );
    assert_eq!(mapped_bytes(), kept_small, "the upload's buffer stayed mapped");
    assert_eq!(up.sim.payloads().len(), 1);
    eprintln!(
        "large listing: {peak} bytes mapped during the call, {kept} kept after it; small listing: {kept_small} kept, reused; 2 MiB upload: {upload_peak} mapped during, 0 kept"
    );
    release_pool();
    assert_eq!(mapped_bytes(), 0);
}
