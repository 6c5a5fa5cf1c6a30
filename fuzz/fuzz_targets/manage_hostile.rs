//! Fuzz target: `manage::{upload, status, act_raw}` and their C entry points
//! against a HOSTILE hypervisor.
//!
//! The input chooses the call (upload, GET through the Rust API, GET through
//! the C function, an action with arbitrary cmd/timeout/flags), its name and
//! payload, which interface version the hypervisor accepts (or none), whether
//! the allocation fails, and then, per hypercall, the answer: an errno, or a
//! return value (0 or anything else) with arbitrary bytes written anywhere in
//! the 136-byte sysctl and the rest of the buffer.
//!
//! Invariants checked (a violation panics, which libFuzzer reports):
//!   * every request is well formed: cmd 27, the op asked for, op pad 0, the
//!     name handle inside the buffer after the sysctl, `size` = length + 1,
//!     the name's bytes and its NUL, the name pads 0; an upload's payload
//!     handle and size describe exactly the caller's bytes, inside the
//!     buffer; an action's cmd, timeout and flags as asked, its pad 0;
//!   * at most four hypercalls (the interface candidates), then one version
//!     is kept: later requests carry it;
//!   * the call succeeds exactly when the hypervisor accepted the version
//!     and returned 0; GET then reports exactly the state and rc the
//!     hypervisor left at their offsets;
//!   * on failure: an errno the hypervisor gave, EACCES when every version
//!     was refused, EOVERFLOW for a return value other than 0, the
//!     allocation's ENOMEM, or EINVAL for a bad name; through the C
//!     function, `*status` is untouched;
//!   * one buffer per call, none alive after it.

#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};
use xc_livepatch::abi::xen_livepatch_status;
use xc_livepatch::ffi::{self, xc_interface};
use xc_livepatch::manage;
use xc_livepatch::sim::{HeapBuffer, Tracked};
use xc_livepatch::sysctl::{at, Buffer, Hypervisor, INTERFACE_CANDIDATES, SYSCTL_SIZE};
use xc_livepatch::{Error, State};

type HBuf = Tracked<HeapBuffer>;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Upload,
    Get,
    GetC,
    Action { cmd: u32, timeout: u32, flags: u32 },
}

impl Op {
    fn wire(self) -> u32 {
        match self {
            Op::Upload => 0,
            Op::Get | Op::GetC => 1,
            Op::Action { .. } => 3,
        }
    }
}

struct Hostile<'a> {
    u: RefCell<Unstructured<'a>>,
    accepts: Option<u32>,
    op: Op,
    name: Vec<u8>,
    payload: Vec<u8>,
    fail_alloc: bool,
    calls: Cell<u32>,
    /// The errno and return value of the last hypercall that passed the
    /// version check, and what GET's fields then held.
    last: RefCell<Option<(Result<i64, i32>, u32, i32)>>,
    live: Rc<Cell<u32>>,
    allocs: Cell<u32>,
    cache: AtomicU32,
    hint: AtomicU32,
}

fn get32(b: &[u8], off: usize) -> u32 {
    u32::from_ne_bytes(b[off..off + 4].try_into().unwrap())
}
fn get64(b: &[u8], off: usize) -> u64 {
    u64::from_ne_bytes(b[off..off + 8].try_into().unwrap())
}

impl Hostile<'_> {
    fn byte(&self) -> u8 {
        self.u.borrow_mut().arbitrary().unwrap_or(0)
    }

    /// The offset of guest address `addr` in `b`, with `len` bytes there.
    fn inside(b: &[u8], addr: u64, len: usize) -> usize {
        let off = addr.checked_sub(b.as_ptr() as u64).expect("a handle below the buffer") as usize;
        assert!(off >= SYSCTL_SIZE && off + len <= b.len(), "a handle outside the buffer: {off}+{len}");
        off
    }

    fn check_request(&self, b: &[u8]) {
        assert_eq!(get32(b, at::CMD), 27);
        assert_eq!(get32(b, at::OP_CMD), self.op.wire());
        assert_eq!(get32(b, at::OP_PAD), 0);
        let size = u16::from_ne_bytes([b[at::NAME_SIZE], b[at::NAME_SIZE + 1]]) as usize;
        assert_eq!(size, self.name.len() + 1);
        let off = Self::inside(b, get64(b, at::NAME_HANDLE), size);
        assert_eq!(&b[off..off + size - 1], &self.name[..]);
        assert_eq!(b[off + size - 1], 0);
        assert!(b[at::NAME_PAD..at::NAME_PAD + 6].iter().all(|&x| x == 0));
        match self.op {
            Op::Upload => {
                assert_eq!(get64(b, at::UPLOAD_SIZE), self.payload.len() as u64);
                let off = Self::inside(b, get64(b, at::UPLOAD_PAYLOAD), self.payload.len());
                assert_eq!(&b[off..off + self.payload.len()], &self.payload[..]);
            }
            Op::Action { cmd, timeout, flags } => {
                assert_eq!(
                    [get32(b, at::ACTION_CMD), get32(b, at::ACTION_TIMEOUT), get32(b, at::ACTION_FLAGS)],
                    [cmd, timeout, flags]
                );
                assert_eq!(get32(b, at::ACTION_PAD), 0);
            }
            Op::Get | Op::GetC => assert_eq!(get64(b, at::GET_STATE), 0, "GET's status goes out zeroed"),
        }
    }

    fn answer(&self, b: &mut [u8]) -> Result<i64, i32> {
        let r = match self.byte() % 4 {
            0 => Err([libc::ENOENT, libc::EINVAL, libc::EBUSY, libc::EEXIST, libc::EFAULT, libc::EPERM]
                [self.byte() as usize % 6]),
            1 => Ok(i64::from(self.byte() as i8)),
            _ => Ok(0),
        };
        for _ in 0..self.byte() % 8 {
            let off = self.byte() as usize % b.len();
            b[off] = self.byte();
        }
        r
    }
}

impl Hypervisor for Hostile<'_> {
    type Buffer = HBuf;

    fn alloc(&self, bytes: usize) -> xc_livepatch::Result<HBuf> {
        self.allocs.set(self.allocs.get() + 1);
        if self.fail_alloc {
            return Err(Error::Os { call: "mmap", errno: libc::ENOMEM });
        }
        self.live.set(self.live.get() + 1);
        let live = self.live.clone();
        Ok(Tracked::new(HeapBuffer::new(bytes), move |_| live.set(live.get() - 1)))
    }

    fn sysctl(&self, buf: &mut HBuf) -> xc_livepatch::Result<i64> {
        self.calls.set(self.calls.get() + 1);
        assert!(self.calls.get() <= 4, "more hypercalls than interface candidates");
        let b = buf.as_mut_slice();
        self.check_request(b);
        let iface = get32(b, at::IFACE);
        assert!(INTERFACE_CANDIDATES.contains(&iface));
        if self.accepts != Some(iface) {
            return Err(Error::Hypervisor { errno: libc::EACCES });
        }
        let r = self.answer(b);
        *self.last.borrow_mut() = Some((r, get32(b, at::GET_STATE), get32(b, at::GET_RC) as i32));
        r.map_err(|errno| Error::Hypervisor { errno })
    }

    fn interface_cache(&self) -> &AtomicU32 {
        &self.cache
    }

    fn count_hint(&self) -> &AtomicU32 {
        &self.hint
    }
}

fn setup(data: &[u8]) -> Option<Hostile<'_>> {
    let mut u = Unstructured::new(data);
    let sel: u8 = u.arbitrary().ok()?;
    let op = match sel % 4 {
        0 => Op::Upload,
        1 => Op::Get,
        2 => Op::GetC,
        _ => Op::Action { cmd: u.arbitrary().ok()?, timeout: u.arbitrary().ok()?, flags: u.arbitrary().ok()? },
    };
    let accepts = match u.arbitrary::<u8>().ok()? % 5 {
        4 => None,
        i => Some(INTERFACE_CANDIDATES[i as usize]),
    };
    let fail_alloc = u.arbitrary::<u8>().ok()? == 0xFF;
    let name_len = u.arbitrary::<u8>().ok()? as usize % 140;
    let name: Vec<u8> = u.bytes(name_len).ok()?.to_vec();
    let payload_len = u.arbitrary::<u16>().ok()? as usize % 9000;
    let payload = u.bytes(payload_len).unwrap_or(&[]).to_vec();
    Some(Hostile {
        u: RefCell::new(u),
        accepts,
        op,
        name,
        payload,
        fail_alloc,
        calls: Cell::new(0),
        last: RefCell::new(None),
        live: Rc::default(),
        allocs: Cell::new(0),
        cache: AtomicU32::new(0),
        hint: AtomicU32::new(0),
    })
}

/// Runs the call; GET's state and rc when it succeeded.
fn run(hv: &Hostile<'_>) -> Result<Option<(u32, i32)>, Error> {
    match hv.op {
        Op::Upload => manage::upload(hv, &hv.name, &hv.payload).map(|()| None),
        Op::Get => manage::status(hv, &hv.name).map(|s| Some((s.state.raw(), s.rc))),
        Op::Action { cmd, timeout, flags } => manage::act_raw(hv, &hv.name, cmd, timeout, flags).map(|()| None),
        Op::GetC => run_c_get(hv),
    }
}

/// `xc_livepatch_get` over the hostile hypervisor, with a canary status.
fn run_c_get(hv: &Hostile<'_>) -> Result<Option<(u32, i32)>, Error> {
    let canary = xen_livepatch_status { state: 0xC0FFEE, rc: 0x0BAD };
    let mut st = canary;
    let mut cname = hv.name.clone();
    cname.push(0);
    let xch = std::ptr::NonNull::<xc_interface>::dangling().as_ptr();
    // SAFETY: a NUL-terminated name (it may hold an earlier NUL: then it is
    // shorter, which the check below accounts for) and a valid status.
    let r = unsafe { ffi::get_on(hv, xch, cname.as_ptr().cast(), &mut st) };
    let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
    if r == 0 {
        return Ok(Some((st.state, st.rc)));
    }
    assert_eq!(r, -1);
    assert_eq!(st, canary, "*status written on failure");
    Err(Error::Hypervisor { errno })
}

fuzz_target!(|data: &[u8]| {
    let Some(mut hv) = setup(data) else { return };
    // The C function sees the name only up to its first NUL.
    if hv.op == Op::GetC {
        if let Some(n) = hv.name.iter().position(|&b| b == 0) {
            hv.name.truncate(n);
        }
    }
    let bad_name = hv.name.len() > 127 || hv.name.contains(&0);
    let r = run(&hv);
    assert_eq!(hv.live.get(), 0, "a buffer is still alive after the call");
    assert!(hv.allocs.get() <= 1, "more than one buffer for one call");
    if bad_name {
        assert_eq!(r.as_ref().map_err(Error::errno), Err(libc::EINVAL));
        assert_eq!(hv.calls.get(), 0, "a hypercall for a name that cannot be sent");
        return;
    }
    if hv.fail_alloc {
        assert_eq!(r.map_err(|e| e.errno()), Err(libc::ENOMEM));
        return;
    }
    let last = *hv.last.borrow();
    match (last, r) {
        (None, Err(e)) => {
            // Every version refused.
            assert!(hv.accepts.is_none() || hv.calls.get() == 0);
            assert_eq!(e.errno(), libc::EACCES);
        }
        (Some((Ok(0), state, rc)), Ok(got)) => {
            if let Some(got) = got {
                assert_eq!(got, (state, rc), "GET reported other than what the hypervisor wrote");
                assert_eq!(State::from_raw(state).raw(), state);
            }
            assert_eq!(hv.cache.load(Ordering::Relaxed), hv.accepts.unwrap());
        }
        (Some((Ok(v), ..)), Err(e)) => {
            assert_ne!(v, 0, "a 0 reply failed: {e}");
            assert_eq!(e.errno(), libc::EOVERFLOW);
        }
        (Some((Err(errno), ..)), Err(e)) => assert_eq!(e.errno(), errno),
        (last, r) => panic!("hypervisor said {last:?}, the call gave {r:?}"),
    }
});
