//! UPLOAD, GET and ACTION on the wire: the exact request bytes the library
//! sends (the offsets of xen-facts §9, spelled out here as numbers rather
//! than taken from the library), how it reads the replies, how it finds the
//! interface version with the request itself, and what the C functions
//! write (nothing on failure) and refuse (before any hypercall).

use std::cell::{Cell, RefCell};
use std::sync::atomic::AtomicU32;
use xc_livepatch::ffi::{self, xc_interface};
use xc_livepatch::manage::{self, Action, ActionOptions, Status};
use xc_livepatch::sysctl::{Buffer, Hypervisor};
use xc_livepatch::{abi::xen_livepatch_status, Error, State};

/// Plain heap memory standing in for a hypercall buffer.
struct Mem(Vec<u8>);

impl Buffer for Mem {
    fn as_mut_ptr(&mut self) -> *mut u8 {
        self.0.as_mut_ptr()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn as_slice(&self) -> &[u8] {
        &self.0
    }
    fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.0
    }
}

/// One sysctl as the hypervisor saw it: the 136 bytes and what the name and
/// payload handles pointed at.
#[derive(Debug, Clone)]
struct Seen {
    sysctl: Vec<u8>,
    name: Vec<u8>,
    payload: Vec<u8>,
}

/// How the model answers a request (it may write into the 136 bytes).
type Reply = Box<dyn Fn(&mut [u8]) -> i64>;

/// A hypervisor that accepts one interface version, records every request
/// and answers with `reply` (which may also write into the struct).
struct Wire {
    iface: u32,
    reply: Reply,
    seen: RefCell<Vec<Seen>>,
    allocs: Cell<u32>,
    fail_alloc: bool,
    cache: AtomicU32,
    hint: AtomicU32,
}

impl Wire {
    fn new(iface: u32, reply: impl Fn(&mut [u8]) -> i64 + 'static) -> Wire {
        Wire {
            iface,
            reply: Box::new(reply),
            seen: RefCell::default(),
            allocs: Cell::new(0),
            fail_alloc: false,
            cache: AtomicU32::new(0),
            hint: AtomicU32::new(0),
        }
    }

    fn calls(&self) -> usize {
        self.seen.borrow().len()
    }

    fn last(&self) -> Seen {
        self.seen.borrow().last().cloned().expect("a hypercall was made")
    }
}

fn u16_at(b: &[u8], off: usize) -> u16 {
    u16::from_ne_bytes([b[off], b[off + 1]])
}
fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_ne_bytes(b[off..off + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_ne_bytes(b[off..off + 8].try_into().unwrap())
}

/// Reads `len` bytes at the guest address `addr`, which must lie inside
/// `mem` (the request's own buffer: where the library puts names and
/// payloads). Through the slice, so Miri's strict provenance holds.
fn guest(mem: &Mem, addr: u64, len: usize) -> Vec<u8> {
    let off = addr.checked_sub(mem.0.as_ptr() as u64).expect("a handle into the request's buffer") as usize;
    mem.0[off..off + len].to_vec()
}

impl Hypervisor for Wire {
    type Buffer = Mem;

    fn alloc(&self, bytes: usize) -> xc_livepatch::Result<Mem> {
        self.allocs.set(self.allocs.get() + 1);
        if self.fail_alloc {
            return Err(Error::Os { call: "mmap", errno: libc::ENOMEM });
        }
        // Unspecified contents, as a reused pool buffer has.
        Ok(Mem(vec![0xA5; bytes]))
    }

    fn sysctl(&self, buf: &mut Mem) -> xc_livepatch::Result<i64> {
        let name_size = u16_at(&buf.0, 24) as usize;
        let name = if name_size <= 128 { guest(buf, u64_at(&buf.0, 16), name_size) } else { Vec::new() };
        let upload = u32_at(&buf.0, 8) == 0;
        let payload = if upload { guest(buf, u64_at(&buf.0, 40), u64_at(&buf.0, 32) as usize) } else { Vec::new() };
        let b = &mut buf.0[..136];
        self.seen.borrow_mut().push(Seen { sysctl: b.to_vec(), name, payload });
        if u32_at(b, 4) != self.iface {
            return Err(Error::Hypervisor { errno: libc::EACCES });
        }
        match (self.reply)(b) {
            r if r < 0 => Err(Error::Hypervisor { errno: -r as i32 }),
            r => Ok(r),
        }
    }

    fn interface_cache(&self) -> &AtomicU32 {
        &self.cache
    }

    fn count_hint(&self) -> &AtomicU32 {
        &self.hint
    }
}

/// Bytes 48..136 of every management request are zero (libxenctrl zeroes
/// the whole struct), and so are the name's three pad words (26..32).
fn assert_zero_beyond(s: &[u8], from: usize) {
    assert!(s[26..32].iter().all(|&b| b == 0), "name pads: {:?}", &s[26..32]);
    assert!(s[from..136].iter().all(|&b| b == 0), "bytes {from}..136 must be zero");
}

#[test]
fn upload_sends_the_name_with_its_nul_and_the_payload_as_xen_lays_them_out() {
    let hv = Wire::new(0x15, |_| 0);
    let payload: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
    manage::upload(&hv, b"xsa-123", &payload).unwrap();
    let s = hv.last();
    assert_eq!(u32_at(&s.sysctl, 0), 27, "XEN_SYSCTL_livepatch_op");
    assert_eq!(u32_at(&s.sysctl, 4), 0x15);
    assert_eq!(u32_at(&s.sysctl, 8), 0, "XEN_SYSCTL_LIVEPATCH_UPLOAD");
    assert_eq!(u32_at(&s.sysctl, 12), 0, "op pad / flags");
    assert_eq!(u16_at(&s.sysctl, 24), 8, "strlen + 1");
    assert_eq!(s.name, b"xsa-123\0");
    assert_eq!(u64_at(&s.sysctl, 32), 5000);
    assert_eq!(s.payload, payload, "the payload's exact bytes");
    assert_zero_beyond(&s.sysctl, 48);
    assert_eq!(hv.allocs.get(), 1, "one buffer for struct, name and payload");
}

#[test]
fn get_sends_a_zeroed_status_and_reads_state_and_rc_from_the_reply() {
    let hv = Wire::new(0x15, |b| {
        b[32..36].copy_from_slice(&2u32.to_ne_bytes());
        b[36..40].copy_from_slice(&(-11i32).to_ne_bytes());
        0
    });
    let st = manage::status(&hv, b"p").unwrap();
    assert_eq!(st, Status { state: State::Applied, rc: -11 });
    let s = hv.last();
    assert_eq!(u32_at(&s.sysctl, 8), 1, "XEN_SYSCTL_LIVEPATCH_GET");
    assert_eq!(s.name, b"p\0");
    assert_zero_beyond(&s.sysctl, 32);
}

#[test]
fn actions_send_cmd_timeout_flags_and_a_zero_pad() {
    for (action, cmd) in [(Action::Unload, 1), (Action::Revert, 2), (Action::Apply, 3), (Action::Replace, 4)] {
        let hv = Wire::new(0x16, |_| 0);
        manage::act(&hv, b"lp_1", action, ActionOptions { timeout_ns: 123_456, nodeps: true }).unwrap();
        let s = hv.last();
        assert_eq!(u32_at(&s.sysctl, 8), 3, "XEN_SYSCTL_LIVEPATCH_ACTION");
        assert_eq!(u32_at(&s.sysctl, 32), cmd, "{action:?}");
        assert_eq!(u32_at(&s.sysctl, 36), 123_456);
        assert_eq!(u32_at(&s.sysctl, 40), 1, "LIVEPATCH_ACTION_APPLY_NODEPS");
        assert_eq!(u32_at(&s.sysctl, 44), 0, "pad");
        assert_eq!(s.name, b"lp_1\0");
        assert_zero_beyond(&s.sysctl, 48);
    }
}

#[test]
fn the_first_request_finds_the_interface_version_and_the_next_one_reuses_it() {
    // Xen 4.14: 0x16, 0x15 and 0x14 are refused with EACCES, 0x13 accepted.
    let hv = Wire::new(0x13, |_| 0);
    manage::act(&hv, b"a", Action::Apply, ActionOptions::default()).unwrap();
    let ifaces: Vec<u32> = hv.seen.borrow().iter().map(|s| u32_at(&s.sysctl, 4)).collect();
    assert_eq!(ifaces, [0x16, 0x15, 0x14, 0x13]);
    manage::status(&hv, b"a").unwrap();
    assert_eq!(hv.calls(), 5, "one hypercall once the version is known");
    assert_eq!(u32_at(&hv.last().sysctl, 4), 0x13);
}

#[test]
fn an_answer_from_after_the_version_check_proves_the_version() {
    let hv = Wire::new(0x15, |_| -(libc::ENOENT as i64));
    assert_eq!(manage::status(&hv, b"nope"), Err(Error::Hypervisor { errno: libc::ENOENT }));
    assert_eq!(hv.cache.load(std::sync::atomic::Ordering::Relaxed), 0x15);
}

#[test]
fn a_fault_before_the_version_check_proves_nothing_and_is_not_cached() {
    let hv = Wire::new(0x16, |_| -(libc::EFAULT as i64));
    assert_eq!(manage::status(&hv, b"x").unwrap_err().errno(), libc::EFAULT);
    assert_eq!(hv.cache.load(std::sync::atomic::Ordering::Relaxed), 0);
}

#[test]
fn every_version_refused_is_eacces_after_four_tries() {
    let hv = Wire::new(0x99, |_| 0);
    assert_eq!(manage::upload(&hv, b"x", b"\x7fELF").unwrap_err(), Error::UnsupportedInterface);
    assert_eq!(hv.calls(), 4);
}

#[test]
fn a_reply_other_than_zero_is_refused_as_eoverflow() {
    let hv = Wire::new(0x15, |b| {
        b[32..36].copy_from_slice(&1u32.to_ne_bytes());
        7
    });
    assert_eq!(manage::status(&hv, b"p").unwrap_err().errno(), libc::EOVERFLOW);
    assert_eq!(manage::act(&hv, b"p", Action::Apply, ActionOptions::default()).unwrap_err().errno(), libc::EOVERFLOW);
    assert_eq!(manage::upload(&hv, b"p", b"x").unwrap_err().errno(), libc::EOVERFLOW);
}

#[test]
fn bad_names_are_einval_before_any_allocation_or_hypercall() {
    let hv = Wire::new(0x15, |_| 0);
    let long = [b'n'; 128];
    assert_eq!(manage::status(&hv, &long).unwrap_err().errno(), libc::EINVAL);
    assert_eq!(manage::upload(&hv, b"a\0b", b"x").unwrap_err().errno(), libc::EINVAL);
    assert_eq!((hv.calls(), hv.allocs.get()), (0, 0));
    manage::status(&hv, &long[..127]).unwrap();
    assert_eq!(hv.last().name.len(), 128, "127 bytes and the NUL");
}

#[test]
fn an_allocation_failure_fails_the_call_without_a_hypercall() {
    let mut hv = Wire::new(0x15, |_| 0);
    hv.fail_alloc = true;
    assert_eq!(manage::upload(&hv, b"a", b"payload").unwrap_err().errno(), libc::ENOMEM);
    assert_eq!(hv.calls(), 0);
}

fn xch() -> *mut xc_interface {
    std::ptr::NonNull::dangling().as_ptr()
}

#[test]
fn c_get_leaves_status_untouched_on_failure_and_fills_it_on_success() {
    let hv = Wire::new(0x15, |_| -(libc::ENOENT as i64));
    let canary = xen_livepatch_status { state: 0xDEAD, rc: 0x5EED };
    let mut st = canary;
    // SAFETY: a NUL-terminated name and a valid status.
    let r = unsafe { ffi::get_on(&hv, xch(), c"gone".as_ptr(), &mut st) };
    assert_eq!((r, std::io::Error::last_os_error().raw_os_error()), (-1, Some(libc::ENOENT)));
    assert_eq!(st, canary, "libxenctrl writes *status even on failure; we do not");
    let hv = Wire::new(0x15, |b| {
        b[32..36].copy_from_slice(&1u32.to_ne_bytes());
        0
    });
    // SAFETY: as above.
    assert_eq!(unsafe { ffi::get_on(&hv, xch(), c"here".as_ptr(), &mut st) }, 0);
    assert_eq!(st, xen_livepatch_status { state: 1, rc: 0 });
}

#[test]
fn c_functions_refuse_null_pointers_and_long_names_with_einval_and_no_hypercall() {
    let hv = Wire::new(0x15, |_| 0);
    let mut st = xen_livepatch_status::default();
    let mut long = [b'x' as libc::c_char; 200];
    long[199] = 0;
    let name = c"ok".as_ptr();
    let payload = b"\x7fELF";
    // SAFETY: every non-NULL pointer is valid as each function requires; the
    // NULL ones are what is being refused.
    let results = unsafe {
        [
            ffi::get_on(&hv, std::ptr::null_mut(), name, &mut st),
            ffi::get_on(&hv, xch(), std::ptr::null(), &mut st),
            ffi::get_on(&hv, xch(), name, std::ptr::null_mut()),
            ffi::get_on(&hv, xch(), long.as_ptr(), &mut st),
            ffi::upload_on(&hv, xch(), name, std::ptr::null(), 4),
            ffi::upload_on(&hv, xch(), std::ptr::null(), payload.as_ptr(), 4),
            ffi::upload_on(&hv, std::ptr::null_mut(), name, payload.as_ptr(), 4),
            ffi::action_on(&hv, xch(), std::ptr::null(), Action::Apply, 0, 0),
            ffi::action_on(&hv, xch(), long.as_ptr(), Action::Revert, 0, 0),
            ffi::action_on(&hv, std::ptr::null_mut(), name, Action::Unload, 0, 0),
        ]
    };
    assert_eq!(results, [-1; 10]);
    assert_eq!(std::io::Error::last_os_error().raw_os_error(), Some(libc::EINVAL));
    assert_eq!((hv.calls(), hv.allocs.get()), (0, 0));
}

#[test]
fn c_success_leaves_errno_as_it_was() {
    // The probe's EACCES (0x16 refused on this 0x15 hypervisor) must not leak.
    let hv = Wire::new(0x15, |_| 0);
    // SAFETY: __errno_location is this thread's errno.
    unsafe { *libc::__errno_location() = 1234 };
    // SAFETY: a valid name and payload.
    let r = unsafe { ffi::upload_on(&hv, xch(), c"p".as_ptr(), b"abc".as_ptr(), 3) };
    assert_eq!((r, std::io::Error::last_os_error().raw_os_error()), (0, Some(1234)));
    assert_eq!(hv.calls(), 2);
}

#[test]
fn upload_with_force_sets_livepatch_flag_force_in_the_ops_flags_word_and_upload_never_does() {
    for (force, want) in [(true, 1), (false, 0)] {
        let hv = Wire::new(0x15, |_| 0);
        manage::upload_with(&hv, b"p", b"\x7fELF", force).unwrap();
        assert_eq!(u32_at(&hv.last().sysctl, 12), want, "op flags, force {force}");
        assert_zero_beyond(&hv.last().sysctl, 48);
    }
}

#[test]
fn the_c_upload_functions_send_the_flag_only_from_the_five_argument_form() {
    let hv = Wire::new(0x15, |_| 0);
    // SAFETY: a live NUL-terminated name and a 4-byte payload.
    let r = unsafe { ffi::upload_on(&hv, xch(), c"p".as_ptr(), b"\x7fELF".as_ptr(), 4) };
    assert_eq!((r, u32_at(&hv.last().sysctl, 12)), (0, 0));
    // SAFETY: as above.
    let r = unsafe { ffi::upload_with_on(&hv, xch(), c"p".as_ptr(), b"\x7fELF".as_ptr(), 4, true) };
    assert_eq!((r, u32_at(&hv.last().sysctl, 12)), (0, 1));
}
