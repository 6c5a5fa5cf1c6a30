//! Fuzz target: `list::get_sizes` + `list::list` against a HOSTILE hypervisor.
//!
//! The input drives three things, read in this order from one byte stream:
//!   1. the honest part of the model: a `sim::Sim` (payloads, interface
//!      version, preemption, E2BIG limit, list changes, injected errors);
//!   2. the caller: whether `get_sizes` runs first, `max`, `start`, the name
//!      and metadata capacities, and which allocation (if any) fails;
//!   3. a script, one action per hypercall: answer honestly (through the
//!      sim), answer honestly and then tamper with the reply (version,
//!      remaining count, byte totals larger than the capacities sent, reply
//!      count, arbitrary bytes written anywhere inside the buffer it was
//!      given), return an arbitrary errno, return an arbitrary count
//!      (negative, huge) with random buffer contents, or make no progress.
//!      When the input runs out every further call is answered honestly.
//!
//! What one input may ask is bounded so that an execution stays cheap (see
//! `SMALL_LIST` and below): at most 40 generated payloads, or 12 made from
//! the input, mostly with a batch limit (`list_max_nr`) of 1 to 16 so that
//! they still take several batches and E2BIG halvings; and, for one input in
//! 32, a growth mode with just more payloads than the library's first buffer
//! holds (1089 to 1096, generated once per process), batches in steps of 64.
//!
//! Invariants checked (any violation panics, which libFuzzer reports):
//!   * every call returns, within a bound on the number of hypercalls;
//!   * every request is well formed: LIST, pad/flags 0, nr <= 1024, the five
//!     regions its handles and capacities describe lie inside the buffer,
//!     after the 136-byte sysctl struct, and do not overlap;
//!   * the caller's five arrays sit between poisoned canaries and are
//!     pre-poisoned: nothing outside [0, done) entries and the reported byte
//!     counts is ever written, nothing at all on failure;
//!   * on success: done <= max, len[i] in 1..=128 and summing to the name
//!     bytes reported, each name NUL-terminated, metadata_len[i] summing to
//!     the metadata bytes reported, both within the capacities; with an
//!     honest hypervisor and a stable list, the output is exactly the
//!     payloads [start, start + done) and `left` is right;
//!   * with an honest hypervisor, a stable list and big-enough buffers the
//!     call succeeds and lists everything up to `max`;
//!   * on failure: an errno from the documented set, or one the model
//!     injected;
//!   * get_sizes allocates one buffer; list at most two alive at once (its
//!     buffer grows when full) and a bounded number in all; none is left
//!     alive after a call.

#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::AtomicU32;
use xc_livepatch::abi::LIVEPATCH_LIST_MAX_NR;
use xc_livepatch::list::{self, MAX_RESTARTS};
use xc_livepatch::sim::{self, CallerBuffers, Change, Config, GuestMemory, HeapBuffer, Payload, Sim, Tracked};
use xc_livepatch::sysctl::{Buffer, Hypervisor, SYSCTL_SIZE};
use xc_livepatch::Error;

// ---- the hostile hypervisor's buffers ---------------------------------------

/// The hostile hypervisor's buffers: heap memory, counted while alive.
type HBuf = Tracked<HeapBuffer>;

/// Guest memory that is exactly one buffer, the current hypercall's: what
/// `sim::Ranges` does for one registered range, without its lock and map
/// lookup on each of the five writes per listed entry (a sixth of the time
/// of a thousand-entry listing).
struct OneBuffer {
    /// Start of the buffer, every access derives from it.
    ptr: *mut u8,
    len: usize,
}

impl OneBuffer {
    /// `[addr, addr + n)` as a pointer into the buffer, if it lies inside.
    fn at(&self, addr: u64, n: usize) -> Option<*mut u8> {
        let off = usize::try_from(addr).ok()?.checked_sub(self.ptr.addr())?;
        (off.checked_add(n)? <= self.len).then(|| self.ptr.wrapping_add(off))
    }
}

impl GuestMemory for OneBuffer {
    fn read(&self, addr: u64, out: &mut [u8]) -> bool {
        match self.at(addr, out.len()) {
            // SAFETY: the bytes lie inside the hypercall's buffer, alive and
            // exclusively borrowed by `honest` for the whole hypercall.
            Some(p) => unsafe {
                core::ptr::copy(p.cast_const(), out.as_mut_ptr(), out.len());
                true
            },
            None => out.is_empty(),
        }
    }

    fn write(&self, addr: u64, data: &[u8]) -> bool {
        match self.at(addr, data.len()) {
            // SAFETY: as in `read`.
            Some(p) => unsafe {
                core::ptr::copy(data.as_ptr(), p, data.len());
                true
            },
            None => data.is_empty(),
        }
    }
}

// ---- the hostile hypervisor --------------------------------------------------

const E_COMMON: [i32; 14] = [
    libc::EACCES,
    libc::EPERM,
    libc::EINVAL,
    libc::EFAULT,
    libc::E2BIG,
    libc::ENOBUFS,
    libc::ENOSYS,
    libc::EAGAIN,
    libc::EBUSY,
    libc::ENOMEM,
    libc::EOPNOTSUPP,
    libc::ENOENT,
    libc::EIO,
    libc::EOVERFLOW,
];

struct Hostile<'a> {
    sim: Sim,
    script: RefCell<Unstructured<'a>>,
    iface: AtomicU32,
    hint: AtomicU32,
    live: Rc<Cell<i64>>,
    peak_live: Cell<i64>,
    allocs: Cell<u64>,
    /// (1-based allocation number, errno)
    fail_alloc: Option<(u64, i32)>,
    calls: Cell<u64>,
    call_limit: Cell<u64>,
    /// Errnos the model returned or made the allocator return.
    injected: RefCell<Vec<i32>>,
    /// Whether any reply was not the honest sim's.
    tampered: Cell<bool>,
    /// Stuck: every further reply makes no progress (a consistently broken
    /// hypervisor, not just a few bad replies).
    stuck: Cell<bool>,
}

/// The sim's answer as the `Hypervisor` trait carries it.
fn sim_result(r: i64) -> xc_livepatch::Result<i64> {
    if r < 0 {
        Err(Error::Hypervisor { errno: i32::try_from(-r).unwrap_or(libc::EIO) })
    } else {
        Ok(r)
    }
}

fn get32(b: &[u8], o: usize) -> u32 {
    u32::from_ne_bytes(b[o..o + 4].try_into().unwrap())
}
fn get64(b: &[u8], o: usize) -> u64 {
    u64::from_ne_bytes(b[o..o + 8].try_into().unwrap())
}
fn put32(b: &mut [u8], o: usize, v: u32) {
    b[o..o + 4].copy_from_slice(&v.to_ne_bytes());
}

/// Offsets inside struct xen_sysctl (xen-facts §1.6): the library's own table.
use xc_livepatch::sysctl::at::{LEN as H_LEN, META, META_LEN as H_META_LEN, META_TOTAL, NAME, NAME_TOTAL, NR, VERSION};

impl Hostile<'_> {
    fn byte(&self) -> u8 {
        self.script.borrow_mut().arbitrary::<u8>().unwrap_or(0)
    }
    fn u32(&self) -> u32 {
        self.script.borrow_mut().arbitrary::<u32>().unwrap_or(0)
    }
    fn i64(&self) -> i64 {
        self.script.borrow_mut().arbitrary::<i64>().unwrap_or(0)
    }
    fn errno(&self) -> i32 {
        let b = self.byte();
        let e = if b < 128 { E_COMMON[b as usize % E_COMMON.len()] } else { 1 + (self.u32() % 4095) as i32 };
        self.injected.borrow_mut().push(e);
        e
    }

    /// The request must be a sane LIST whose regions lie inside the buffer.
    fn check_request(&self, buf: &HBuf) {
        let b = buf.as_slice();
        let base = b.as_ptr() as u64;
        let end = base + b.len() as u64;
        assert_eq!(get32(b, 0), 27, "sysctl cmd");
        assert_eq!(get32(b, 8), 2, "livepatch cmd LIST");
        assert_eq!(get32(b, 12), 0, "op pad/flags");
        assert_eq!(get32(b, 28), 0, "list pad");
        let nr = u64::from(get32(b, NR));
        assert!(nr <= 1024, "nr {nr} > 1024");
        if nr == 0 {
            return;
        }
        let regions = [
            ("status", get64(b, 40), 8 * nr),
            ("name", get64(b, NAME), u64::from(get32(b, NAME_TOTAL))),
            ("len", get64(b, H_LEN), 4 * nr),
            ("metadata", get64(b, META), u64::from(get32(b, META_TOTAL))),
            ("metadata_len", get64(b, H_META_LEN), 4 * nr),
        ];
        for (what, h, n) in regions {
            assert!(
                h >= base + SYSCTL_SIZE as u64 && h.checked_add(n).is_some_and(|e| e <= end),
                "{what} region [{h:#x}, +{n}) outside the buffer [{base:#x}, {end:#x}) or over the sysctl"
            );
        }
        for (i, (wa, ha, na)) in regions.iter().enumerate() {
            for (wb, hb, nb) in &regions[i + 1..] {
                if *na > 0 && *nb > 0 {
                    assert!(ha + na <= *hb || hb + nb <= *ha, "regions {wa} and {wb} overlap");
                }
            }
        }
    }

    fn honest(&self, buf: &mut HBuf) -> i64 {
        // Guest memory = exactly the buffer of the current hypercall; `mem`
        // is dropped before the borrow of the buffer ends.
        let mem = OneBuffer { ptr: buf.as_mut_ptr(), len: buf.len() };
        self.sim.hypercall(&mem, 35, [buf.as_mut_ptr() as u64, 0, 0, 0, 0])
    }

    fn scribble(&self, buf: &mut HBuf) {
        let n = 1 + self.byte() as usize % 4;
        for _ in 0..n {
            let len = buf.len();
            let off = self.u32() as usize % len;
            let k = (self.byte() as usize % 16 + 1).min(len - off);
            let fill = self.byte();
            let b = buf.as_mut_slice();
            for (j, x) in b[off..off + k].iter_mut().enumerate() {
                *x = fill.wrapping_add(j as u8);
            }
        }
    }

    /// Tampers with an honest reply in place; returns the new count.
    fn tamper(&self, buf: &mut HBuf, mut count: i64, name_cap: u32, meta_cap: u32) -> i64 {
        let n = 1 + self.byte() % 3;
        for _ in 0..n {
            let what = self.byte() % 12;
            let b = buf.as_mut_slice();
            match what {
                0 => put32(b, VERSION, get32(b, VERSION).wrapping_add(1 + self.byte() as u32 % 2)),
                1 => put32(b, NR, self.u32() % 3000),
                2 => put32(b, NAME_TOTAL, name_cap.wrapping_add(1 + self.byte() as u32)),
                3 => put32(b, META_TOTAL, meta_cap.wrapping_add(1 + self.byte() as u32)),
                4 => put32(b, NAME_TOTAL, get32(b, NAME_TOTAL).wrapping_add(self.byte() as u32).wrapping_sub(128)),
                5 => put32(b, META_TOTAL, get32(b, META_TOTAL).wrapping_add(self.byte() as u32).wrapping_sub(128)),
                6 => count = count.wrapping_add(i64::from(self.byte() as i8)),
                7 => count = self.i64(),
                8 => {
                    // One bogus len[i] or metadata_len[i] in the arrays.
                    let h = get64(b, if self.byte() & 1 == 0 { H_LEN } else { H_META_LEN });
                    let base = b.as_ptr() as u64;
                    let i = u64::from(self.byte());
                    let v = match self.byte() % 4 {
                        0 => 0,
                        1 => 129,
                        2 => self.u32(),
                        _ => self.byte() as u32,
                    };
                    if let Some(off) = h.checked_sub(base).and_then(|o| o.checked_add(4 * i)) {
                        if off as usize + 4 <= b.len() {
                            put32(b, off as usize, v);
                        }
                    }
                }
                9 => put32(b, VERSION, self.u32()),
                _ => self.scribble(buf),
            }
        }
        count
    }
}

impl Hypervisor for Hostile<'_> {
    type Buffer = HBuf;

    fn alloc(&self, bytes: usize) -> xc_livepatch::Result<HBuf> {
        let n = self.allocs.get() + 1;
        self.allocs.set(n);
        if let Some((nth, e)) = self.fail_alloc {
            if nth == n {
                self.injected.borrow_mut().push(e);
                return Err(Error::Os { call: "mmap", errno: e });
            }
        }
        assert!(bytes <= 64 << 20, "allocation of {bytes} bytes for a small listing");
        self.live.set(self.live.get() + 1);
        self.peak_live.set(self.peak_live.get().max(self.live.get()));
        let live = self.live.clone();
        Ok(Tracked::new(HeapBuffer::new(bytes), move |_| live.set(live.get() - 1)))
    }

    fn sysctl(&self, buf: &mut HBuf) -> xc_livepatch::Result<i64> {
        let c = self.calls.get() + 1;
        self.calls.set(c);
        assert!(c <= self.call_limit.get(), "more than {} hypercalls: unbounded loop?", self.call_limit.get());
        assert!(buf.len() >= SYSCTL_SIZE);
        self.check_request(buf);
        let (name_cap, meta_cap) = (get32(buf.as_slice(), NAME_TOTAL), get32(buf.as_slice(), META_TOTAL));
        let action = if self.stuck.get() { 232 } else { self.byte() };
        let r: i64 = match action {
            // Mostly honest, so that deep states are reachable.
            0..=159 => return sim_result(self.honest(buf)),
            160..=191 => {
                self.tampered.set(true);
                let r = self.honest(buf);
                if r < 0 {
                    return sim_result(r);
                }
                // May be any i64, negative included: the trait promises
                // non-negative values, a hostile implementation need not.
                self.tamper(buf, r, name_cap, meta_cap)
            }
            192..=215 => {
                self.tampered.set(true);
                return Err(Error::Hypervisor { errno: self.errno() });
            }
            216..=231 => {
                // Garbage: random bytes anywhere, random fields, random count.
                self.tampered.set(true);
                self.scribble(buf);
                let b = buf.as_mut_slice();
                for o in [VERSION, NR, NAME_TOTAL, META_TOTAL] {
                    if self.byte() & 1 == 1 {
                        put32(b, o, self.u32());
                    }
                }
                self.i64()
            }
            232..=243 => {
                // Zero progress while claiming entries left; from 240 on,
                // for every call after this one too.
                self.tampered.set(true);
                if action >= 240 {
                    self.stuck.set(true);
                }
                let b = buf.as_mut_slice();
                put32(b, NR, if self.stuck.get() { 1 } else { 1 + self.u32() % 2000 });
                put32(b, NAME_TOTAL, 0);
                put32(b, META_TOTAL, 0);
                put32(b, VERSION, self.sim.version());
                0
            }
            _ => {
                // Lie larger than the capacity sent, after an honest copy.
                self.tampered.set(true);
                let r = self.honest(buf);
                let b = buf.as_mut_slice();
                if self.byte() & 1 == 0 {
                    put32(b, NAME_TOTAL, name_cap.saturating_add(1 + self.byte() as u32));
                } else {
                    put32(b, META_TOTAL, meta_cap.saturating_add(1 + self.byte() as u32));
                }
                r.max(0)
            }
        };
        Ok(r)
    }

    fn interface_cache(&self) -> &AtomicU32 {
        &self.iface
    }

    fn count_hint(&self) -> &AtomicU32 {
        &self.hint
    }
}

// ---- the caller ---------------------------------------------------------------

const DOCUMENTED: [i32; 12] = [
    libc::EINVAL,
    libc::ENOENT,
    libc::EACCES,
    libc::EPERM,
    libc::ENOSYS,
    libc::EFAULT,
    libc::E2BIG,
    libc::ENOBUFS,
    libc::EBUSY,
    libc::EOVERFLOW,
    libc::EIO,
    libc::ENOMEM,
];

// ---- what one input may ask of the model ------------------------------------
//
// Bounds keeping one execution cheap (a few hundred microseconds) while the
// library's batching, E2BIG halving, buffer growth and restarts stay
// reachable: a small per-call batch limit (`list_max_nr`) makes a few
// payloads take several batches; growth needs more entries than the
// library's first buffer holds (one full batch plus the slack), so one input
// mode lists just past that, with little metadata.

/// Generated payloads, outside the growth mode.
const SMALL_LIST: usize = 40;
/// Entries the library's first buffer holds without a probe: growth needs
/// more.
const FIRST_BUFFER: usize = (LIVEPATCH_LIST_MAX_NR + list::ENTRY_SLACK) as usize;
/// Payloads in the growth mode: a few more than the first buffer holds.
const GROWTH: core::ops::RangeInclusive<usize> = FIRST_BUFFER + 1..=FIRST_BUFFER + 8;
/// Metadata bytes per payload in the growth mode.
const GROWTH_META: core::ops::RangeInclusive<usize> = 0..=4;
/// Largest `max`: every growth-mode list fits.
const MAX_MAX: usize = FIRST_BUFFER + 2 * list::ENTRY_SLACK as usize;
/// Largest arbitrary name or metadata capacity, in bytes.
const MAX_CAP: usize = 16 << 10;

thread_local! {
    /// The growth mode's lists, generated once each (40 of them): building
    /// a thousand payloads cost more than listing them.
    static GROWTH_LISTS: RefCell<HashMap<(usize, usize), Rc<Vec<Payload>>>> = RefCell::new(HashMap::new());
}

fn payloads(u: &mut Unstructured) -> Rc<Vec<Payload>> {
    // An input that runs out early reads 0 here: not the growth mode.
    match u.arbitrary::<u8>().unwrap_or(0) % 32 {
        // Growth: just past the first buffer, next to no metadata; rare.
        31 => {
            let n = u.int_in_range(GROWTH).unwrap_or(*GROWTH.start());
            let meta = u.int_in_range(GROWTH_META).unwrap_or(0);
            return GROWTH_LISTS
                .with(|g| g.borrow_mut().entry((n, meta)).or_insert_with(|| Rc::new(sim::generated(n, meta))).clone());
        }
        0..=7 => {
            let n = u.int_in_range(0..=SMALL_LIST).unwrap_or(0);
            return Rc::new(sim::generated(n, u.int_in_range(0..=40usize).unwrap_or(0)));
        }
        _ => {}
    }
    let n = u.int_in_range(0..=12usize).unwrap_or(0);
    let hand_made = (0..n)
        .map(|i| {
            let nl = u.int_in_range(1..=127usize).unwrap_or(1);
            let mut name: Vec<u8> = u.bytes(nl).map(|b| b.to_vec()).unwrap_or_default();
            name.iter_mut().for_each(|b| *b = if *b == 0 { b'x' } else { *b });
            if name.is_empty() {
                name = format!("p{i}").into_bytes();
            }
            let ml = u.int_in_range(0..=80usize).unwrap_or(0);
            let meta = u.bytes(ml).map(|b| b.to_vec()).unwrap_or_default();
            let state = u.int_in_range(0..=3u32).unwrap_or(1);
            let rc = -(u.int_in_range(0..=20i32).unwrap_or(0));
            Payload::new(name, meta).with_state(state, rc)
        })
        .collect();
    Rc::new(hand_made)
}

fn config(u: &mut Unstructured, n: usize) -> Config {
    let mut cfg = Config {
        interface_version: [0x15, 0x16, 0x14, 0x13][u.int_in_range(0..=3usize).unwrap_or(0)],
        ..Config::default()
    };
    // Batches stay few: a growth-mode list preempts and limits its batches
    // in steps of 64 entries rather than 1.
    let scale = if n > SMALL_LIST { list::ENTRY_SLACK } else { 1 };
    let p = u.int_in_range(0..=9u32).unwrap_or(0);
    cfg.preempt_every = (p > 0 && p < 9).then_some(p * scale).or((p == 9).then_some(100));
    // Mostly a small batch limit, so that a few payloads take several
    // batches and E2BIG halvings; sometimes Xen's 1024.
    if u.int_in_range(0..=3u8).unwrap_or(0) > 0 {
        cfg.list_max_nr = u.int_in_range(1..=16u32).unwrap_or(1) * scale;
    }
    let changes = u.int_in_range(0..=3usize).unwrap_or(0);
    for k in 0..changes {
        let call = u.int_in_range(1..=24u64).unwrap_or(1);
        let c = match u.int_in_range(0..=2u8).unwrap_or(0) {
            0 => Change::Upload(Payload::new(format!("new-{k}"), format!("K={k}\0"))),
            1 => Change::Unload(format!("lp-{:05}", u.int_in_range(0..=n.max(1)).unwrap_or(0)).into_bytes()),
            _ => Change::SetState(b"lp-00000".to_vec(), 2, -11),
        };
        cfg.changes.entry(call).or_default().push(c);
    }
    if u.arbitrary::<u8>().unwrap_or(0) < 32 {
        let call = u.int_in_range(1..=24u64).unwrap_or(1);
        let e = E_COMMON[u.int_in_range(0..=E_COMMON.len() - 1).unwrap_or(0)];
        cfg.inject.insert(call, e);
    }
    cfg
}

fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let ps = payloads(&mut u);
    let n = ps.len();
    let cfg = config(&mut u, n);
    let stable = cfg.changes.is_empty() && cfg.inject.is_empty();
    let iface_ok = cfg.interface_version;

    // Caller arguments.
    let sizes_first = u.arbitrary::<bool>().unwrap_or(false);
    let start: u32 = match u.int_in_range(0..=7u8).unwrap_or(0) {
        0..=3 => 0,
        4 | 5 => u.int_in_range(0..=(n as u32 + 2)).unwrap_or(0),
        6 => u32::MAX - u.int_in_range(0..=3u32).unwrap_or(0),
        _ => u.arbitrary().unwrap_or(0),
    };
    let s = (start as usize).min(n);
    let max: usize = match u.int_in_range(0..=5u8).unwrap_or(0) {
        0 | 1 => (n - s).max(1),
        2 => n.max(1),
        3 => 0,
        _ => u.int_in_range(1..=MAX_MAX).unwrap_or(1),
    };
    let want = max.min(n - s);
    let need_name: usize = ps[s..s + want].iter().map(|p| p.name.len() + 1).sum();
    let need_meta: usize = ps[s..s + want].iter().map(|p| p.metadata.len()).sum();
    let cap = |u: &mut Unstructured, need: usize| -> usize {
        match u.int_in_range(0..=5u8).unwrap_or(0) {
            0..=2 => need,
            3 => need + u.int_in_range(0..=300usize).unwrap_or(0),
            4 => need.saturating_sub(u.int_in_range(0..=300usize).unwrap_or(0)),
            _ => u.int_in_range(0..=MAX_CAP).unwrap_or(0),
        }
    };
    let name_cap = cap(&mut u, need_name);
    let meta_cap = cap(&mut u, need_meta);
    let fail_alloc = match u.arbitrary::<u8>().unwrap_or(0) {
        0..=15 => Some((u.int_in_range(1..=2u64).unwrap_or(1), libc::ENOMEM)),
        16..=19 => Some((u.int_in_range(1..=2u64).unwrap_or(1), 1 + (u.arbitrary::<u16>().unwrap_or(0) % 4095) as i32)),
        _ => None,
    };
    let cached = match u.int_in_range(0..=3u8).unwrap_or(0) {
        0 => iface_ok,
        _ => 0,
    };
    // The payload-count hint a previous probe left (possibly stale or wrong).
    let hint: u32 = match u.int_in_range(0..=3u8).unwrap_or(0) {
        0 => 0,
        1 => n as u32,
        2 => u.int_in_range(0..=5000u32).unwrap_or(0),
        _ => u.arbitrary().unwrap_or(0),
    };

    let cfg_injected: Vec<i32> = cfg.inject.values().copied().collect();
    let hv = Hostile {
        sim: Sim::new(ps.as_ref().clone(), cfg),
        script: RefCell::new(u),
        iface: AtomicU32::new(cached),
        hint: AtomicU32::new(hint),
        live: Rc::new(Cell::new(0)),
        peak_live: Cell::new(0),
        allocs: Cell::new(0),
        fail_alloc,
        calls: Cell::new(0),
        call_limit: Cell::new(0),
        injected: RefCell::new(cfg_injected),
        tampered: Cell::new(false),
        stuck: Cell::new(false),
    };
    let allowed = |hv: &Hostile, e: &Error| {
        let errno = e.errno();
        assert!(
            DOCUMENTED.contains(&errno) || hv.injected.borrow().contains(&errno),
            "undocumented errno {errno} from {e:?}"
        );
    };

    if sizes_first {
        hv.call_limit.set(8);
        let a0 = hv.allocs.get();
        let r = list::get_sizes(&hv);
        assert!(hv.allocs.get() - a0 <= 1, "get_sizes allocated more than once");
        assert_eq!(hv.live.get(), 0, "get_sizes leaked a buffer");
        match &r {
            Ok(sz) if !hv.tampered.get() && stable && hv.sim.version() == 1 => {
                assert_eq!(sz.nr as usize, n);
                assert_eq!(sz.name_total_size as usize, ps.iter().map(|p| p.name.len() + 1).sum::<usize>());
                assert_eq!(sz.metadata_total_size as usize, ps.iter().map(|p| p.metadata.len()).sum::<usize>());
            }
            Ok(_) => {}
            Err(e) => allowed(&hv, e),
        }
    }

    // The list call. Bound: an interface probe, then per (re)start one call
    // per entry plus the E2BIG halvings plus a final one.
    let entries = max.min(name_cap) as u64;
    hv.calls.set(0);
    hv.call_limit.set(8 + u64::from(MAX_RESTARTS + 1) * (entries + 16));
    let a0 = hv.allocs.get();
    let tampered_before = hv.tampered.get();
    let version_before = hv.sim.version();
    let mut b = CallerBuffers::new(max, name_cap, meta_cap);
    let r = b.list(&hv, start);
    // One buffer, grown (a new one, the old one freed) only when full: at
    // most two alive at once, and a bounded number of growths.
    assert!(hv.peak_live.get() <= 2, "more than two buffers alive at once");
    assert!(
        hv.allocs.get() - a0 <= 2 + entries / u64::from(list::ENTRY_SLACK),
        "list allocated {} buffers for {entries} entries",
        hv.allocs.get() - a0
    );
    assert_eq!(hv.live.get(), 0, "list leaked a buffer");
    let honest = !hv.tampered.get() && !tampered_before && stable && hv.sim.version() == version_before;
    let alloc_failed = hv.fail_alloc.is_some_and(|(nth, _)| nth <= hv.allocs.get());

    match r {
        Ok(l) => {
            let done = l.done as usize;
            assert!(done <= max, "done {done} > max {max}");
            assert!(
                l.name_bytes as usize <= name_cap && l.metadata_bytes as usize <= meta_cap,
                "bytes beyond the capacities"
            );
            // Nothing written outside the entries and bytes reported; lengths
            // in 1..=128, names NUL-terminated, lengths adding up exactly.
            let got = b.entries(&l);
            if honest {
                assert_eq!(got.as_slice(), &ps[s..s + done], "honest listing differs from the payloads");
                assert_eq!(l.left as usize, n - s - done, "left");
                assert_eq!(done, want.min(entries as usize), "honest listing stopped early");
            }
        }
        Err(e) => {
            allowed(&hv, &e);
            b.assert_untouched();
            let fits = name_cap >= need_name && meta_cap >= need_meta && max > 0 && name_cap > 0;
            if honest && fits && !alloc_failed && (n == 0 || (start as usize) < n) {
                panic!("honest hypervisor, buffers big enough, yet {e:?}");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| run(data));
