//! The listing algorithm over the simulated hypervisor: every behaviour the
//! core promises, pinned by name.

use xc_livepatch::abi::LIVEPATCH_LIST_MAX_NR;
use xc_livepatch::list::{self, Listing};
use xc_livepatch::sim::{self, CallerBuffers, Change, Config, Lie, Payload, SimHypervisor, Xsm};
use xc_livepatch::sysctl::SYSCTL_SIZE;
use xc_livepatch::Error;

/// Caller buffers poisoned and between poisoned canaries.
type Bufs = CallerBuffers;

fn totals(ps: &[Payload]) -> (usize, usize) {
    (ps.iter().map(|p| p.name.len() + 1).sum(), ps.iter().map(|p| p.metadata.len()).sum())
}

/// Probe, allocate exactly, list from 0; check everything.
fn list_all(hv: &SimHypervisor) -> (Listing, Vec<Payload>) {
    let s = list::get_sizes(hv).expect("get_sizes");
    let mut b = Bufs::new(s.nr.max(1) as usize, (s.name_total_size as usize).max(1), s.metadata_total_size as usize);
    let r = b.list(hv, 0).expect("list");
    b.assert_untouched_beyond(r.done as usize, r.name_bytes as usize, r.metadata_bytes as usize);
    let e = b.entries(&r);
    (r, e)
}

fn hv(payloads: Vec<Payload>) -> SimHypervisor {
    SimHypervisor::new(payloads, Config::default())
}

fn hv_cfg(payloads: Vec<Payload>, f: impl FnOnce(&mut Config)) -> SimHypervisor {
    let mut c = Config::default();
    f(&mut c);
    SimHypervisor::new(payloads, c)
}

fn errno(r: Result<Listing, Error>) -> i32 {
    r.expect_err("expected an error").errno()
}

/// Sizes reduced under Miri (scripts/test.d/45-miri.sh), where one listed
/// payload costs about 60 ms: only where the check means the same at the
/// smaller size. Tests whose size is their point (Xen's 1024-entry batch,
/// buffer growth past 1088 entries) are ignored under Miri instead.
mod size {
    /// A caller's `max` far beyond the list. Under Miri 10 000: per-entry
    /// arrays sized by it would still take 160 kB, against 17 kB for one
    /// batch plus the slack.
    pub const HUGE_MAX: usize = if cfg!(miri) { 10_000 } else { 1_000_000 };
    /// Payloads for the resource count. Under Miri 30: one batch per call
    /// instead of three; one buffer per call is still what is counted.
    pub const MANY: usize = if cfg!(miri) { 30 } else { 3000 };
}

// ---- sizes and plain listings ----------------------------------------------

#[test]
fn probe_reports_count_and_totals_over_all_payloads() {
    let ps = vec![Payload::new("a", b"K=V\0"), Payload::new("bcd", b""), Payload::new("xyz", b"A=1\0B=2\0")];
    let h = hv(ps.clone());
    let s = list::get_sizes(&h).unwrap();
    assert_eq!((s.nr, s.name_total_size, s.metadata_total_size), (3, 2 + 4 + 4, 4 + 8));
    assert_eq!(s.version, 1);
}

#[test]
fn zero_payloads_probe_zero_and_list_nothing() {
    let h = hv(vec![]);
    let s = list::get_sizes(&h).unwrap();
    assert_eq!((s.nr, s.name_total_size, s.metadata_total_size), (0, 0, 0));
    let mut b = Bufs::new(4, 16, 16);
    let r = b.list(&h, 0).unwrap();
    assert_eq!((r.done, r.left), (0, 0));
    b.assert_untouched();
    // Any start is accepted with an empty list, as Xen does.
    assert_eq!(b.list(&h, 7).unwrap().done, 0);
}

fn lists_n(n: usize, meta: usize) -> SimHypervisor {
    let ps = sim::generated(n, meta);
    let h = hv(ps.clone());
    let (r, got) = list_all(&h);
    assert_eq!((r.done as usize, r.left), (n, 0));
    assert_eq!(got, ps);
    h
}

#[test]
fn lists_one_payload() {
    lists_n(1, 10);
}

#[test]
fn lists_three_payloads() {
    lists_n(3, 100);
}

#[test]
#[cfg_attr(miri, ignore = "1024 payloads (Xen's batch limit, not reducible): ~1 min under Miri")]
fn lists_1024_payloads_in_one_data_call() {
    let h = lists_n(1024, 64);
    let c = h.sim().counters();
    // 0x16 refused, 0x15 probe (get_sizes), then one data call.
    assert_eq!((c.version_mismatch, c.list_calls - c.probes, c.e2big), (1, 1, 0));
}

#[test]
#[cfg_attr(miri, ignore = "1025 payloads (Xen's batch limit + 1, not reducible): ~1 min under Miri")]
fn lists_1025_payloads_in_two_data_calls_without_e2big() {
    let h = lists_n(1025, 64);
    let c = h.sim().counters();
    assert_eq!((c.list_calls - c.probes, c.e2big), (2, 0));
}

#[test]
#[cfg_attr(miri, ignore = "5000 payloads, 20 MB (five 1024-entry batches): ~5 min under Miri")]
fn lists_5000_payloads_with_4k_metadata() {
    let h = lists_n(5000, 4096);
    let c = h.sim().counters();
    assert_eq!((c.list_calls - c.probes, c.e2big), (5, 0));
    // One buffer for get_sizes, one for the list call.
    assert_eq!(h.allocations(), 2);
    assert_eq!(h.live_buffers(), 0);
}

#[test]
fn names_of_1_and_127_characters() {
    let ps = vec![Payload::new("x", b""), Payload::new("n".repeat(127), b"NAMELEN=127\0"), Payload::new("y", b"")];
    let h = hv(ps.clone());
    assert_eq!(list_all(&h).1, ps);
}

#[test]
fn empty_and_multi_key_metadata_are_returned_raw() {
    let ps = vec![
        Payload::new("none", b""),
        Payload::new("multi", b"LIVEPATCH_RULEZ=1\0VERSION=2\0"),
        Payload::new("edge", b"A=1\0\0B=2\0"),
        Payload::new("lone", b"\0"),
        Payload::new("utf8", "NAME=h\u{e9}llo \u{2713}\0".as_bytes()),
        Payload::new("noterm", b"A=x;y"),
    ];
    let h = hv(ps.clone());
    assert_eq!(list_all(&h).1, ps);
}

#[test]
fn states_and_rc_values_are_passed_through() {
    let ps = vec![
        Payload::new("a", b"").with_state(2, 0),
        Payload::new("b", b"").with_state(1, -11),
        Payload::new("c", b"").with_state(7, -16),
        Payload::new("d", b"").with_state(0, -22),
    ];
    let h = hv(ps.clone());
    assert_eq!(list_all(&h).1, ps);
}

// ---- start, batches, preemption ---------------------------------------------

#[test]
fn start_is_honoured_on_every_batch() {
    let ps = sim::generated(50, 20);
    let h = hv_cfg(ps.clone(), |c| c.preempt_every = Some(7));
    let (n, m) = totals(&ps[5..]);
    let mut b = Bufs::new(45, n, m);
    let r = b.list(&h, 5).unwrap();
    assert_eq!((r.done, r.left), (45, 0));
    assert_eq!(b.entries(&r), ps[5..].to_vec());
    let c = h.sim().counters();
    assert_eq!(c.list_calls - c.probes, 7, "ceil(45 / 7) data calls");
}

#[test]
fn max_below_the_payload_count_reports_left() {
    let ps = sim::generated(10, 8);
    let h = hv(ps.clone());
    let (n, m) = totals(&ps);
    let mut b = Bufs::new(4, n, m);
    let r = b.list(&h, 2).unwrap();
    assert_eq!((r.done, r.left), (4, 4));
    assert_eq!(b.entries(&r), ps[2..6].to_vec());
    b.assert_untouched_beyond(4, r.name_bytes as usize, r.metadata_bytes as usize);
}

#[test]
fn start_beyond_the_list_is_einval() {
    let h = hv(sim::generated(3, 0));
    let mut b = Bufs::new(3, 64, 0);
    assert_eq!(errno(b.list(&h, 3)), libc::EINVAL);
    b.assert_untouched();
}

fn preempted(k: u32) {
    let ps = sim::generated(40, 33);
    let h = hv_cfg(ps.clone(), |c| c.preempt_every = Some(k));
    let (_, got) = list_all(&h);
    assert_eq!(got, ps);
    let c = h.sim().counters();
    assert_eq!(c.list_calls - c.probes, 40u64.div_ceil(k.into()));
}

#[test]
fn preemption_every_entry_continues_from_the_next_index() {
    preempted(1);
}

#[test]
fn preemption_every_7_entries_continues_from_the_next_index() {
    preempted(7);
}

#[test]
fn e2big_halves_the_batch_and_retries() {
    let ps = sim::generated(100, 5);
    let h = hv_cfg(ps.clone(), |c| c.list_max_nr = 30);
    let (_, got) = list_all(&h);
    assert_eq!(got, ps);
    let c = h.sim().counters();
    // 100 -> E2BIG, 50 -> E2BIG, 25 x 4.
    assert_eq!((c.e2big, c.list_calls - c.probes - c.e2big), (2, 4));
}

#[test]
fn e2big_at_a_batch_of_one_is_returned() {
    let h = hv_cfg(sim::generated(4, 0), |c| c.list_max_nr = 0);
    let mut b = Bufs::new(4, 64, 0);
    assert_eq!(errno(b.list(&h, 0)), libc::E2BIG);
    b.assert_untouched();
}

// ---- the list changing under us --------------------------------------------

#[test]
fn upload_mid_listing_restarts_from_scratch() {
    let ps = sim::generated(20, 10);
    let extra = Payload::new("late", b"L=1\0");
    // Hypercalls: 1 = 0x16 refused, 2 = probe, 3.. = data; upload before 4.
    let h = hv_cfg(ps.clone(), |c| {
        c.preempt_every = Some(5);
        c.changes.insert(4, vec![Change::Upload(extra.clone())]);
    });
    let s = list::get_sizes(&h).unwrap();
    let mut b = Bufs::new(s.nr as usize + 5, s.name_total_size as usize + 64, s.metadata_total_size as usize + 64);
    let r = b.list(&h, 0).unwrap();
    let mut want = ps.clone();
    want.push(extra);
    assert_eq!((r.done, r.left), (21, 0));
    assert_eq!(b.entries(&r), want);
    assert_eq!(r.version, 2);
    b.assert_untouched_beyond(21, r.name_bytes as usize, r.metadata_bytes as usize);
}

#[test]
fn unload_mid_listing_restarts_from_scratch() {
    let ps = sim::generated(20, 10);
    let h = hv_cfg(ps.clone(), |c| {
        c.preempt_every = Some(5);
        c.changes.insert(5, vec![Change::Unload(b"lp-00002".to_vec())]);
    });
    let (r, got) = list_all(&h);
    let mut want = ps.clone();
    want.remove(2);
    assert_eq!((r.done, r.left), (19, 0));
    assert_eq!(got, want);
}

#[test]
fn four_version_changes_are_tolerated_and_the_fifth_is_ebusy() {
    let ps = sim::generated(10, 4);
    let churn = |changes: u64| {
        hv_cfg(ps.clone(), |c| {
            c.preempt_every = Some(2);
            // A listing of 10 needs 5 data calls; change the list before the
            // second call of each attempt. Probe = calls 1-2, data from 3.
            let mut call = 4;
            for k in 0..changes {
                c.changes.insert(call, vec![Change::Upload(Payload::new(format!("new{k}"), b""))]);
                call += 2; // the restarted attempt's first call, then this one
            }
        })
    };
    let h = churn(4);
    let s = list::get_sizes(&h).unwrap();
    let mut b = Bufs::new(64, 4096, 4096);
    let r = b.list(&h, 0).unwrap();
    assert_eq!(r.done as usize, 14);
    assert_eq!(s.nr, 10);

    let h = churn(5);
    list::get_sizes(&h).unwrap();
    let mut b = Bufs::new(64, 4096, 4096);
    assert_eq!(errno(b.list(&h, 0)), libc::EBUSY);
    b.assert_untouched();
}

#[test]
fn state_changes_do_not_restart() {
    let ps = sim::generated(6, 4);
    let h = hv_cfg(ps.clone(), |c| {
        c.preempt_every = Some(2);
        c.changes.insert(4, vec![Change::SetState(b"lp-00005".to_vec(), 2, 0)]);
    });
    let (r, got) = list_all(&h);
    assert_eq!(r.done, 6);
    assert_eq!(got[5].state, 2);
    assert_eq!(h.sim().counters().list_calls - h.sim().counters().probes, 3);
}

// ---- errors from the hypervisor ---------------------------------------------

fn sizes_errno(h: &SimHypervisor) -> i32 {
    list::get_sizes(h).expect_err("expected an error").errno()
}

#[test]
fn xsm_denial_is_eperm() {
    let h = hv_cfg(sim::generated(2, 0), |c| c.xsm = Xsm::DenyDummy);
    assert_eq!(sizes_errno(&h), libc::EPERM);
    let mut b = Bufs::new(2, 64, 0);
    assert_eq!(errno(b.list(&h, 0)), libc::EPERM);
    b.assert_untouched();
}

#[test]
fn flask_denial_is_eacces() {
    let h = hv_cfg(sim::generated(2, 0), |c| c.xsm = Xsm::DenyFlask);
    let e = list::get_sizes(&h).unwrap_err();
    assert_eq!(e, Error::UnsupportedInterface);
    assert_eq!(e.errno(), libc::EACCES);
}

#[test]
fn livepatch_not_built_is_enosys() {
    let h = hv_cfg(sim::generated(2, 0), |c| c.livepatch = false);
    assert_eq!(sizes_errno(&h), libc::ENOSYS);
}

#[test]
fn unknown_interface_version_is_eacces() {
    for v in [0x12, 0x17] {
        let h = hv_cfg(sim::generated(2, 0), |c| c.interface_version = v);
        assert_eq!(sizes_errno(&h), libc::EACCES);
        assert_eq!(h.sim().counters().version_mismatch, 4, "all four candidates tried");
    }
}

#[test]
fn each_supported_interface_version_is_detected() {
    for (v, tries) in [(0x16, 1), (0x15, 2), (0x14, 3), (0x13, 4)] {
        let ps = sim::generated(5, 9);
        let h = hv_cfg(ps.clone(), |c| c.interface_version = v);
        assert_eq!(xc_livepatch::interface_version_of(&h).unwrap(), v);
        assert_eq!(h.sim().counters().hypercalls, tries);
        assert_eq!(list_all(&h).1, ps);
        // Cached: no further mismatches.
        assert_eq!(h.sim().counters().version_mismatch, tries - 1);
    }
}

#[test]
fn injected_hypervisor_errors_pass_through_and_write_nothing() {
    for e in [libc::EFAULT, libc::EAGAIN, libc::EINVAL, libc::ENOMEM] {
        // Call 3 is the data call (1: 0x16 refused, 2: probe).
        let h = hv_cfg(sim::generated(3, 3), |c| {
            c.inject.insert(3, e);
        });
        list::get_sizes(&h).unwrap();
        let mut b = Bufs::new(3, 64, 64);
        assert_eq!(errno(b.list(&h, 0)), e);
        b.assert_untouched();
        assert_eq!(h.live_buffers(), 0);
    }
}

#[test]
fn an_error_after_a_successful_batch_writes_nothing() {
    let h = hv_cfg(sim::generated(6, 3), |c| {
        c.preempt_every = Some(2);
        c.inject.insert(4, libc::EFAULT);
    });
    list::get_sizes(&h).unwrap();
    let mut b = Bufs::new(6, 128, 64);
    assert_eq!(errno(b.list(&h, 0)), libc::EFAULT);
    b.assert_untouched();
}

#[test]
fn interface_0x16_sends_capacities_and_enobufs_is_returned() {
    let ps = sim::generated(4, 10);
    let h = hv_cfg(ps.clone(), |c| c.interface_version = 0x16);
    let (n, m) = totals(&ps);
    let mut b = Bufs::new(4, n - 1, m);
    assert_eq!(errno(b.list(&h, 0)), libc::ENOBUFS);
    b.assert_untouched();
    let mut b = Bufs::new(4, n, m - 1);
    assert_eq!(errno(b.list(&h, 0)), libc::ENOBUFS);
    let mut b = Bufs::new(4, n, m);
    let r = b.list(&h, 0).unwrap();
    assert_eq!(b.entries(&r), ps);
}

#[test]
fn short_buffers_on_interface_0x15_are_enobufs_as_on_0x16_and_write_nothing() {
    // Xen before 4.21 writes past a too-small buffer: it lands in our own
    // buffer (or its guard page), is detected, and nothing reaches the
    // caller; the errno is the one Xen 4.21 gives for the same buffers.
    let ps = sim::generated(4, 10);
    let h = hv(ps.clone());
    let (n, m) = totals(&ps);
    for (nc, mc) in [(n - 1, m), (n, m - 1), (1, 0)] {
        let mut b = Bufs::new(4, nc, mc);
        assert_eq!(errno(b.list(&h, 0)), libc::ENOBUFS);
        b.assert_untouched();
    }
}

#[test]
fn larger_buffers_than_needed_are_fine_and_untouched_beyond_the_data() {
    let ps = sim::generated(9, 17);
    let h = hv(ps.clone());
    let (n, m) = totals(&ps);
    let mut b = Bufs::new(20, n + 100, m + 100);
    let r = b.list(&h, 0).unwrap();
    assert_eq!((r.done, r.left, r.name_bytes as usize, r.metadata_bytes as usize), (9, 0, n, m));
    assert_eq!(b.entries(&r), ps);
    b.assert_untouched_beyond(9, n, m);
}

// ---- a lying hypervisor -----------------------------------------------------

/// The errno for a lie told by a Xen 4.21+ hypervisor (interface 0x16,
/// which is sent the capacities: any byte count beyond them is a lie).
fn lie(l: Lie) -> (i32, SimHypervisor) {
    lie_on(0x16, l)
}

fn lie_on(iface: u32, l: Lie) -> (i32, SimHypervisor) {
    let ps = sim::generated(8, 12);
    let h = hv_cfg(ps.clone(), |c| {
        c.lie = Some(l);
        c.interface_version = iface;
    });
    let (n, m) = totals(&ps);
    // Exactly sized buffers, as a probe would give.
    let mut b = Bufs::new(8, n, m);
    let e = errno(b.list(&h, 0));
    b.assert_untouched();
    assert_eq!(h.live_buffers(), 0);
    (e, h)
}

#[test]
fn lie_more_entries_than_asked_is_eoverflow() {
    assert_eq!(lie(Lie::ExtraEntry).0, libc::EOVERFLOW);
}

#[test]
fn lie_more_name_bytes_than_copied_is_eoverflow() {
    assert_eq!(lie(Lie::NameBytes(1)).0, libc::EOVERFLOW);
    assert_eq!(lie(Lie::NameBytes(u32::MAX / 2)).0, libc::EOVERFLOW);
}

#[test]
fn lie_more_metadata_bytes_than_copied_is_eoverflow() {
    assert_eq!(lie(Lie::MetadataBytes(1)).0, libc::EOVERFLOW);
    assert_eq!(lie(Lie::MetadataBytes(u32::MAX)).0, libc::EOVERFLOW);
}

#[test]
fn byte_counts_beyond_the_buffers_before_xen_4_21_are_enobufs_and_write_nothing() {
    // Before 0x16 Xen is not told the capacities, so more bytes than they
    // hold means the list outgrew them: refused, as 4.21 would, unwritten.
    for l in [Lie::NameBytes(1), Lie::MetadataBytes(1), Lie::MetadataBytes(1 << 20)] {
        assert_eq!(lie_on(0x15, l).0, libc::ENOBUFS);
    }
    // Other lies are lies on every interface version.
    assert_eq!(lie_on(0x15, Lie::ExtraEntry).0, libc::EOVERFLOW);
    assert_eq!(lie_on(0x15, Lie::LongName).0, libc::EOVERFLOW);
    assert_eq!(lie_on(0x15, Lie::NoProgress).0, libc::EIO);
}

#[test]
fn lie_name_length_over_128_is_eoverflow() {
    assert_eq!(lie(Lie::LongName).0, libc::EOVERFLOW);
}

#[test]
fn lie_zero_progress_is_eio_not_a_hang() {
    assert_eq!(lie(Lie::NoProgress).0, libc::EIO);
}

#[test]
fn lie_version_flapping_is_ebusy_after_four_restarts() {
    let ps = sim::generated(8, 12);
    let h = hv_cfg(ps.clone(), |c| {
        c.lie = Some(Lie::VersionFlap);
        c.preempt_every = Some(3);
    });
    let (n, m) = totals(&ps);
    let mut b = Bufs::new(8, n, m);
    assert_eq!(errno(b.list(&h, 0)), libc::EBUSY);
    b.assert_untouched();
}

// ---- resources ---------------------------------------------------------------

#[test]
fn one_buffer_per_call_and_none_left_behind() {
    let h = hv(sim::generated(size::MANY, 100));
    let s = list::get_sizes(&h).unwrap();
    for _ in 0..3 {
        let mut b = Bufs::new(s.nr as usize, s.name_total_size as usize, s.metadata_total_size as usize);
        b.list(&h, 0).unwrap();
    }
    assert_eq!(h.allocations(), 4);
    assert_eq!(h.live_buffers(), 0);
}

#[test]
fn allocation_failure_is_enomem_and_writes_nothing() {
    let h = hv(sim::generated(3, 3));
    h.fail_allocation(Some(1));
    assert_eq!(list::get_sizes(&h).unwrap_err().errno(), libc::ENOMEM);
    h.fail_allocation(Some(2));
    let mut b = Bufs::new(3, 64, 64);
    assert_eq!(errno(b.list(&h, 0)), libc::ENOMEM);
    b.assert_untouched();
    h.fail_allocation(None);
    assert_eq!(b.list(&h, 0).unwrap().done, 3);
}

// ---- the Rust API ------------------------------------------------------------

#[test]
fn rust_api_lists_owned_records_with_metadata_pairs() {
    let ps = vec![
        Payload::new("xsa-123", b"LIVEPATCH_RULEZ=1\0VERSION=2\0").with_state(2, 0),
        Payload::new("lp-null", b""),
        Payload::new("odd", b"justtext\0A=x=y\0\0").with_state(1, -11),
    ];
    let h = hv(ps);
    let got = xc_livepatch::list_from(&h).unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].name(), "xsa-123");
    assert_eq!(got[0].state, xc_livepatch::State::Applied);
    assert_eq!(got[0].metadata(), vec![("LIVEPATCH_RULEZ".into(), "1".into()), ("VERSION".into(), "2".into())]);
    assert!(got[1].metadata().is_empty() && got[1].metadata_raw().is_empty());
    assert_eq!(got[2].rc, -11);
    assert_eq!(got[2].metadata(), vec![("justtext".into(), String::new()), ("A".into(), "x=y".into())]);
    assert_eq!(got[2].metadata_raw(), b"justtext\0A=x=y\0\0");
}

#[test]
fn rust_api_retries_when_the_list_grows_after_the_probe() {
    let ps = sim::generated(5, 5);
    // Calls: 1 refused, 2 probe; upload before 3 (the data call).
    let h = hv_cfg(ps, |c| {
        c.changes.insert(3, vec![Change::Upload(Payload::new("grown", b"G=1\0"))]);
    });
    let got = xc_livepatch::list_from(&h).unwrap();
    assert_eq!(got.len(), 6);
    assert_eq!(got[5].name(), "grown");
}

#[test]
fn rust_api_on_an_empty_hypervisor_is_empty() {
    assert!(xc_livepatch::list_from(&hv(vec![])).unwrap().is_empty());
}

#[test]
fn the_buffer_follows_the_hypervisor_not_a_huge_max() {
    // A caller claiming room for a million entries, with a name buffer as
    // large, so that the name bytes (one at least per entry) do not cap the
    // entries either: only the sizing rule keeps the buffer's per-entry
    // arrays (16 bytes an entry) at one batch plus the slack, for a
    // hypervisor holding 10, instead of `max` entries (16 MB).
    let ps = sim::generated(10, 8);
    let h = hv(ps.clone());
    let (_, m) = totals(&ps);
    let (name_cap, meta_cap) = (size::HUGE_MAX, m + 10);
    let mut b = Bufs::new(size::HUGE_MAX, name_cap, meta_cap);
    let r = b.list(&h, 0).unwrap();
    assert_eq!(b.entries(&r), ps);
    assert_eq!(h.allocations(), 1);
    // The name and metadata capacities are in the buffer whole.
    let held = (LIVEPATCH_LIST_MAX_NR + list::ENTRY_SLACK) as usize;
    let bound = SYSCTL_SIZE.next_multiple_of(8) + 16 * held + name_cap + meta_cap;
    assert!(h.max_allocation() <= bound, "buffer of {} bytes, more than {bound}", h.max_allocation());
}

#[test]
#[cfg_attr(miri, ignore = "growth needs over 1088 entries (1024 + slack): ~3 min under Miri")]
fn without_a_probe_the_buffer_grows_and_keeps_what_it_listed() {
    // No get_sizes first: the buffer starts at one batch and grows once.
    let ps = sim::generated(3000, 20);
    let h = hv_cfg(ps.clone(), |c| c.preempt_every = Some(500));
    let (n, m) = totals(&ps);
    let mut b = Bufs::new(5000, n, m);
    let r = b.list(&h, 0).unwrap();
    assert_eq!((r.done, r.left), (3000, 0));
    assert_eq!(b.entries(&r), ps);
    assert_eq!(h.allocations(), 2);
    assert_eq!(h.live_buffers(), 0);
}

#[test]
#[cfg_attr(miri, ignore = "meaningful only beyond 1088 entries (1024 + slack): ~3 min under Miri")]
fn a_probe_sizes_the_buffer_so_it_never_grows() {
    let ps = sim::generated(3000, 20);
    let h = hv(ps.clone());
    list_all(&h);
    assert_eq!(h.allocations(), 2, "one for the probe, one for the list");
}

#[test]
fn a_list_shrinking_below_the_next_index_restarts_instead_of_einval() {
    let ps = sim::generated(12, 4);
    // Preempt every 5: data calls at 3, 4, 5 (1: 0x16 refused, 2: probe).
    // Before call 4, unload 8 payloads: index 5 is now beyond the list.
    let h = hv_cfg(ps.clone(), |c| {
        c.preempt_every = Some(5);
        c.changes.insert(4, (0..8).map(|i| Change::Unload(format!("lp-{i:05}").into_bytes())).collect());
    });
    let (r, got) = list_all(&h);
    assert_eq!((r.done, r.left), (4, 0));
    assert_eq!(got, ps[8..].to_vec());
}

#[test]
fn a_fault_before_the_version_check_is_returned_and_not_taken_for_a_version() {
    let ps = sim::generated(3, 5);
    let h = hv_cfg(ps.clone(), |c| {
        c.inject_early.insert(1, libc::EFAULT);
    });
    assert_eq!(list::get_sizes(&h).unwrap_err().errno(), libc::EFAULT);
    // Nothing was cached: the next call probes again and finds 0x15.
    assert_eq!(xc_livepatch::interface_version_of(&h).unwrap(), 0x15);
    assert_eq!(list_all(&h).1, ps);
}

// ---- the list outgrowing the caller's buffers between get_sizes and list ----

const EVERY_INTERFACE: [u32; 4] = [0x13, 0x14, 0x15, 0x16];

/// Issue #12's race: between the probe and the data call the payload with a
/// 7-character name is unloaded and one with a 100-character name and about
/// 60 KiB of metadata uploaded. Returns the hypervisor, the caller's buffers
/// (exactly the probed sizes, poisoned) and the listing's result.
fn outgrow_between_probe_and_list(iface: u32) -> (SimHypervisor, Bufs, Result<Listing, Error>) {
    let mut ps = vec![Payload::new("lp-7chr", b"K=v\0")];
    ps.extend(sim::generated(9, 48));
    let h = hv_cfg(ps, |c| c.interface_version = iface);
    let s = list::get_sizes(&h).unwrap();
    let mut b = Bufs::new(s.nr as usize, s.name_total_size as usize, s.metadata_total_size as usize);
    h.sim().change(Change::Unload(b"lp-7chr".to_vec()));
    h.sim().change(Change::Upload(Payload::new("n".repeat(100), sim::generated(1, 60 << 10)[0].metadata.clone())));
    let r = b.list(&h, 0);
    (h, b, r)
}

#[test]
fn a_list_outgrowing_the_buffers_into_the_guard_page_is_enobufs_on_every_interface() {
    for iface in EVERY_INTERFACE {
        let (h, b, r) = outgrow_between_probe_and_list(iface);
        assert_eq!(errno(r), libc::ENOBUFS, "interface {iface:#x}");
        b.assert_untouched();
        assert_eq!(h.live_buffers(), 0);
        // Before 0x16 the hypervisor wrote past the library's buffer and
        // faulted (EFAULT); 0x16 refused by itself (ENOBUFS) and touched
        // nothing it was not given.
        let faults = h.sim().counters().faults;
        assert_eq!(faults, u64::from(iface < 0x16), "interface {iface:#x}: faults");
    }
}

#[test]
fn a_fault_on_a_data_call_while_the_sizes_still_fit_stays_efault_on_every_interface() {
    for iface in EVERY_INTERFACE {
        let ps = sim::generated(6, 40);
        let h = hv_cfg(ps.clone(), |c| {
            c.interface_version = iface;
            c.preempt_every = Some(2);
        });
        let s = list::get_sizes(&h).unwrap();
        let calls = h.sim().counters().hypercalls;
        // The second data call faults; the list is unchanged.
        h.sim().configure(|c| {
            c.inject.insert(calls + 2, libc::EFAULT);
        });
        let mut b = Bufs::new(s.nr as usize, s.name_total_size as usize, s.metadata_total_size as usize);
        assert_eq!(errno(b.list(&h, 0)), libc::EFAULT, "interface {iface:#x}");
        b.assert_untouched();
        assert_eq!(h.live_buffers(), 0);
        // And the next listing is whole.
        assert_eq!(list_all(&h).1, ps);
    }
}

#[test]
fn a_list_growing_within_the_last_page_is_enobufs_on_every_interface() {
    // Growth too small to reach the guard page: before 0x16 the reply's byte
    // counts exceed the buffers; 0x16 refuses by itself.
    for iface in EVERY_INTERFACE {
        let ps = sim::generated(5, 30);
        let h = hv_cfg(ps, |c| c.interface_version = iface);
        let s = list::get_sizes(&h).unwrap();
        let mut b = Bufs::new(s.nr as usize, s.name_total_size as usize, s.metadata_total_size as usize);
        h.sim().change(Change::Unload(b"lp-00000".to_vec()));
        h.sim().change(Change::Upload(Payload::new("lp-longer-name", b"LONGER=metadata\0")));
        assert_eq!(errno(b.list(&h, 0)), libc::ENOBUFS, "interface {iface:#x}");
        b.assert_untouched();
        assert_eq!(h.sim().counters().faults, 0, "interface {iface:#x}");
    }
}

#[test]
fn rust_api_lists_one_snapshot_after_the_list_outgrew_its_buffers_on_every_interface() {
    for iface in EVERY_INTERFACE {
        let mut ps = vec![Payload::new("lp-7chr", b"K=v\0")];
        ps.extend(sim::generated(9, 48));
        let big = Payload::new("n".repeat(100), sim::generated(1, 60 << 10)[0].metadata.clone());
        // The change lands between the first probe and the first data call.
        let first_data_call = 1 + (0x16 - u64::from(iface)) + 1;
        let h = hv_cfg(ps.clone(), |c| {
            c.interface_version = iface;
            c.changes.insert(first_data_call, vec![Change::Unload(b"lp-7chr".to_vec()), Change::Upload(big.clone())]);
        });
        let got = xc_livepatch::list_from(&h).unwrap();
        assert_eq!(got.len(), 10, "interface {iface:#x}");
        assert_eq!(got[9].name_bytes(), big.name.as_slice());
        assert_eq!(got[9].metadata_raw(), big.metadata.as_slice());
        assert_eq!(h.sim().counters().faults, u64::from(iface < 0x16), "interface {iface:#x}");
    }
}
