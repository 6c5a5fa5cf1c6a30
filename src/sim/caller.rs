//! A caller's five output buffers for tests: poisoned, between poisoned
//! canaries, so that any byte written outside what a listing reports is seen.

use super::Payload;
use crate::abi::{xen_livepatch_status, XEN_LIVEPATCH_NAME_SIZE};
use crate::error::Error;
use crate::list::{self, Listing, Out, Output};
use crate::sysctl::Hypervisor;

/// Canary elements on each side of every buffer.
pub const GUARD: usize = 64;
/// The poison byte.
pub const POISON: u8 = 0xA5;
const P32: u32 = 0xA5A5_A5A5;
const PSTATUS: xen_livepatch_status = xen_livepatch_status { state: P32, rc: P32 as i32 };

/// [`CallerBuffers`] as the arguments of `xc_livepatch_list` (see
/// [`CallerBuffers::c_arrays`]).
#[derive(Debug, Clone, Copy)]
pub struct CArrays {
    /// `max`: entries of `info`, `len` and `metadata_len`.
    pub max: u32,
    /// `info`.
    pub info: *mut xen_livepatch_status,
    /// `name`.
    pub name: *mut core::ffi::c_char,
    /// `len`.
    pub len: *mut u32,
    /// `name_total_size`: bytes of `name`.
    pub name_total_size: u32,
    /// `metadata`.
    pub metadata: *mut core::ffi::c_char,
    /// `metadata_len`.
    pub metadata_len: *mut u32,
    /// `metadata_total_size`: bytes of `metadata`.
    pub metadata_total_size: u32,
}

/// `max` entries and the two byte capacities, poisoned, with canaries.
#[derive(Debug, Clone)]
pub struct CallerBuffers {
    info: Vec<xen_livepatch_status>,
    name: Vec<u8>,
    len: Vec<u32>,
    meta: Vec<u8>,
    mlen: Vec<u32>,
    max: usize,
    name_cap: usize,
    meta_cap: usize,
}

impl CallerBuffers {
    /// Buffers for `max` entries, `name_cap` name bytes, `meta_cap` metadata bytes.
    pub fn new(max: usize, name_cap: usize, meta_cap: usize) -> CallerBuffers {
        CallerBuffers {
            info: vec![PSTATUS; max + 2 * GUARD],
            name: vec![POISON; name_cap + 2 * GUARD],
            len: vec![P32; max + 2 * GUARD],
            meta: vec![POISON; meta_cap + 2 * GUARD],
            mlen: vec![P32; max + 2 * GUARD],
            max,
            name_cap,
            meta_cap,
        }
    }

    /// Lists into the buffers (between the canaries).
    pub fn list<H: Hypervisor>(&mut self, hv: &H, start: u32) -> Result<Listing, Error> {
        let mut out = Output {
            info: Out::from_slice(&mut self.info[GUARD..GUARD + self.max]),
            name: Out::from_slice(&mut self.name[GUARD..GUARD + self.name_cap]),
            len: Out::from_slice(&mut self.len[GUARD..GUARD + self.max]),
            metadata: Out::from_slice(&mut self.meta[GUARD..GUARD + self.meta_cap]),
            metadata_len: Out::from_slice(&mut self.mlen[GUARD..GUARD + self.max]),
        };
        list::list(hv, start, &mut out)
    }

    /// The five arrays (between the canaries) as a C caller passes them to
    /// `xc_livepatch_list`. The pointers are valid while `self` lives and is
    /// not otherwise accessed.
    pub fn c_arrays(&mut self) -> CArrays {
        CArrays {
            max: self.max as u32,
            info: self.info[GUARD..].as_mut_ptr(),
            name: self.name[GUARD..].as_mut_ptr().cast(),
            len: self.len[GUARD..].as_mut_ptr(),
            name_total_size: self.name_cap as u32,
            metadata: self.meta[GUARD..].as_mut_ptr().cast(),
            metadata_len: self.mlen[GUARD..].as_mut_ptr(),
            metadata_total_size: self.meta_cap as u32,
        }
    }

    /// Whether nothing at all was written, canaries included.
    pub fn is_untouched(&self) -> bool {
        self.info.iter().all(|s| *s == PSTATUS)
            && self.name.iter().all(|&b| b == POISON)
            && self.len.iter().all(|&x| x == P32)
            && self.meta.iter().all(|&b| b == POISON)
            && self.mlen.iter().all(|&x| x == P32)
    }

    /// Panics unless everything outside the first `done` entries and the
    /// first `name_bytes` / `meta_bytes` bytes, canaries included, is poison.
    pub fn assert_untouched_beyond(&self, done: usize, name_bytes: usize, meta_bytes: usize) {
        let e = GUARD + done;
        assert!(
            self.info[..GUARD].iter().chain(&self.info[e..]).all(|s| *s == PSTATUS),
            "info written outside [0, done)"
        );
        assert!(self.len[..GUARD].iter().chain(&self.len[e..]).all(|&x| x == P32), "len written outside [0, done)");
        assert!(
            self.mlen[..GUARD].iter().chain(&self.mlen[e..]).all(|&x| x == P32),
            "metadata_len written outside [0, done)"
        );
        let (n, m) = (GUARD + name_bytes, GUARD + meta_bytes);
        assert!(
            self.name[..GUARD].iter().chain(&self.name[n..]).all(|&b| b == POISON),
            "name written outside the reported bytes"
        );
        assert!(
            self.meta[..GUARD].iter().chain(&self.meta[m..]).all(|&b| b == POISON),
            "metadata written outside the reported bytes"
        );
    }

    /// Panics unless nothing at all was written.
    pub fn assert_untouched(&self) {
        self.assert_untouched_beyond(0, 0, 0);
    }

    /// The listed entries. Panics if anything outside them was written, or if
    /// lengths and NULs are inconsistent with what `r` reports.
    pub fn entries(&self, r: &Listing) -> Vec<Payload> {
        self.assert_untouched_beyond(r.done as usize, r.name_bytes as usize, r.metadata_bytes as usize);
        let (mut no, mut mo) = (GUARD, GUARD);
        let v = (0..r.done as usize)
            .map(|i| {
                let l = self.len[GUARD + i] as usize;
                let ml = self.mlen[GUARD + i] as usize;
                assert!((1..=XEN_LIVEPATCH_NAME_SIZE as usize).contains(&l), "len[{i}] = {l}");
                assert_eq!(self.name[no + l - 1], 0, "name {i} not NUL-terminated");
                let p = Payload::new(&self.name[no..no + l - 1], &self.meta[mo..mo + ml])
                    .with_state(self.info[GUARD + i].state, self.info[GUARD + i].rc);
                no += l;
                mo += ml;
                p
            })
            .collect();
        assert_eq!(no - GUARD, r.name_bytes as usize, "len[] do not add up to the name bytes");
        assert_eq!(mo - GUARD, r.metadata_bytes as usize, "metadata_len[] do not add up to the metadata bytes");
        v
    }
}
