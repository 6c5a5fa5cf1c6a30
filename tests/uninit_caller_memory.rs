//! Listing into caller memory as a C caller hands it over: uninitialised,
//! each array its own allocation of exactly the size passed, wrapped with
//! `Out::from_raw` as the C entry points wrap their pointers. Natively these
//! tests check what was written; under Miri (scripts/test.d/45-miri.sh) any
//! read of the uninitialised memory, or a write even one byte past one of the
//! five arrays, is reported as undefined behaviour.

use std::mem::MaybeUninit;
use xc_livepatch::abi::xen_livepatch_status;
use xc_livepatch::list::{self, Listing, Out, Output};
use xc_livepatch::sim::{self, Config, Payload, SimHypervisor};

/// The five arrays, uninitialised, of exactly the capacities given.
struct Uninit {
    info: Box<[MaybeUninit<xen_livepatch_status>]>,
    name: Box<[MaybeUninit<u8>]>,
    len: Box<[MaybeUninit<u32>]>,
    meta: Box<[MaybeUninit<u8>]>,
    mlen: Box<[MaybeUninit<u32>]>,
}

impl Uninit {
    fn new(max: usize, name_cap: usize, meta_cap: usize) -> Uninit {
        Uninit {
            info: Box::new_uninit_slice(max),
            name: Box::new_uninit_slice(name_cap),
            len: Box::new_uninit_slice(max),
            meta: Box::new_uninit_slice(meta_cap),
            mlen: Box::new_uninit_slice(max),
        }
    }

    fn list(&mut self, hv: &SimHypervisor) -> Listing {
        // SAFETY: each pointer is valid for writes of exactly the count given
        // with it, suitably aligned, and exclusively borrowed for `out`'s life.
        let mut out = unsafe {
            Output {
                info: Out::from_raw(self.info.as_mut_ptr().cast(), self.info.len()),
                name: Out::from_raw(self.name.as_mut_ptr().cast(), self.name.len()),
                len: Out::from_raw(self.len.as_mut_ptr().cast(), self.len.len()),
                metadata: Out::from_raw(self.meta.as_mut_ptr().cast(), self.meta.len()),
                metadata_len: Out::from_raw(self.mlen.as_mut_ptr().cast(), self.mlen.len()),
            }
        };
        list::list(hv, 0, &mut out).expect("list")
    }

    /// The entries `r` reports, reading only what it says was written.
    fn entries(&self, r: &Listing) -> Vec<Payload> {
        let n = r.done as usize;
        let info = written(&self.info[..n]);
        let lens = written(&self.len[..n]);
        let mlens = written(&self.mlen[..n]);
        let names = written(&self.name[..r.name_bytes as usize]);
        let metas = written(&self.meta[..r.metadata_bytes as usize]);
        let (mut no, mut mo) = (0, 0);
        (0..n)
            .map(|i| {
                let (l, ml) = (lens[i] as usize, mlens[i] as usize);
                assert_eq!(names[no + l - 1], 0, "name {i} not NUL-terminated");
                let p = Payload::new(&names[no..no + l - 1], &metas[mo..mo + ml]).with_state(info[i].state, info[i].rc);
                no += l;
                mo += ml;
                p
            })
            .collect()
    }
}

/// The values of a prefix the listing reported as written.
fn written<T: Copy>(prefix: &[MaybeUninit<T>]) -> Vec<T> {
    // SAFETY: callers pass only the prefix a successful listing reported
    // writing (the first `done` entries, the first name_bytes /
    // metadata_bytes bytes): every element is initialised.
    prefix.iter().map(|x| unsafe { x.assume_init() }).collect()
}

fn totals(ps: &[Payload]) -> (usize, usize) {
    (ps.iter().map(|p| p.name.len() + 1).sum(), ps.iter().map(|p| p.metadata.len()).sum())
}

#[test]
fn a_listing_into_uninitialised_buffers_of_exact_size_writes_exactly_the_entries() {
    let ps = sim::generated(6, 40);
    let hv = SimHypervisor::new(ps.clone(), Config::default());
    let s = list::get_sizes(&hv).unwrap();
    let (n, m) = totals(&ps);
    assert_eq!((s.nr as usize, s.name_total_size as usize, s.metadata_total_size as usize), (6, n, m));
    let mut u = Uninit::new(6, n, m);
    let r = u.list(&hv);
    assert_eq!((r.done, r.left, r.name_bytes as usize, r.metadata_bytes as usize), (6, 0, n, m));
    assert_eq!(u.entries(&r), ps);
}

#[test]
fn a_listing_in_several_batches_into_uninitialised_buffers_writes_exactly_the_entries() {
    // Preempted every 2 entries: three data calls into one internal buffer,
    // the whole re-checked, then one copy-out.
    let ps = sim::generated(6, 17);
    let hv = SimHypervisor::new(ps.clone(), Config { preempt_every: Some(2), ..Config::default() });
    let (n, m) = totals(&ps);
    let mut u = Uninit::new(6, n, m);
    let r = u.list(&hv);
    assert_eq!((r.done, r.name_bytes as usize, r.metadata_bytes as usize), (6, n, m));
    assert_eq!(hv.sim().counters().list_calls - hv.sim().counters().probes, 3);
    assert_eq!(u.entries(&r), ps);
}

#[test]
fn larger_uninitialised_buffers_are_written_only_up_to_what_is_reported() {
    // Room for more than the list: only the reported prefix is read. (That
    // nothing beyond it is written is pinned by tests/list.rs, whose buffers
    // are poisoned and between canaries.)
    let ps = vec![Payload::new("a", b"K=V\0"), Payload::new("bcd", b""), Payload::new("n".repeat(127), b"X=1\0")];
    let hv = SimHypervisor::new(ps.clone(), Config::default());
    let (n, m) = totals(&ps);
    let mut u = Uninit::new(10, n + 33, m + 7);
    let r = u.list(&hv);
    assert_eq!((r.done, r.left, r.name_bytes as usize, r.metadata_bytes as usize), (3, 0, n, m));
    assert_eq!(u.entries(&r), ps);
}
