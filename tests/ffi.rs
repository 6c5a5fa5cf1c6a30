//! The C entry points' argument checks, in libxenctrl's order, with its
//! errno values; nothing is written on failure. (Listing through the real
//! privcmd path is covered by tests/fakexen and tests/real-xen.)

use std::ptr::{null_mut, NonNull};
use xc_livepatch::abi::xen_livepatch_status;
use xc_livepatch::ffi::{xc_interface, xc_livepatch_list, xc_livepatch_list_get_sizes};

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap()
}

fn set_errno(v: i32) {
    // SAFETY: this thread's errno slot is always valid.
    unsafe { *libc::__errno_location() = v };
}

fn xch() -> *mut xc_interface {
    NonNull::<xc_interface>::dangling().as_ptr()
}

#[test]
fn get_sizes_with_a_null_argument_is_einval_and_writes_nothing() {
    let (mut nr, mut n, mut m) = (7u32, 8u32, 9u32);
    let cases: [(*mut xc_interface, *mut u32, *mut u32, *mut u32); 4] = [
        (null_mut(), &mut nr, &mut n, &mut m),
        (xch(), null_mut(), &mut n, &mut m),
        (xch(), &mut nr, null_mut(), &mut m),
        (xch(), &mut nr, &mut n, null_mut()),
    ];
    for (x, a, b, c) in cases {
        set_errno(0);
        // SAFETY: every non-NULL pointer is a live local.
        let r = unsafe { xc_livepatch_list_get_sizes(x, a, b, c) };
        assert_eq!((r, errno()), (-1, libc::EINVAL));
    }
    assert_eq!((nr, n, m), (7, 8, 9));
}

struct Args {
    info: [xen_livepatch_status; 4],
    name: [u8; 64],
    len: [u32; 4],
    meta: [u8; 64],
    mlen: [u32; 4],
    done: u32,
    left: u32,
}

impl Args {
    fn new() -> Args {
        Args {
            info: [xen_livepatch_status { state: 0xEE, rc: 0xEE }; 4],
            name: [0xEE; 64],
            len: [0xEE; 4],
            meta: [0xEE; 64],
            mlen: [0xEE; 4],
            done: 0xEE,
            left: 0xEE,
        }
    }
    fn untouched(&self) -> bool {
        let f = Args::new();
        self.info == f.info
            && self.name == f.name
            && self.len == f.len
            && self.meta == f.meta
            && self.mlen == f.mlen
            && self.done == f.done
            && self.left == f.left
    }
}

/// Calls xc_livepatch_list with pointer `null` (0..=8, or none) replaced by NULL.
fn call(a: &mut Args, max: u32, name_total: u32, null: Option<usize>) -> (i32, i32) {
    let p = |i: usize, ptr: *mut u8| if null == Some(i) { null_mut() } else { ptr };
    set_errno(0);
    // SAFETY: every non-NULL pointer is a live local array at least as large
    // as the size passed with it (max <= 4, totals <= 64).
    let r = unsafe {
        xc_livepatch_list(
            p(0, xch().cast()).cast(),
            max,
            0,
            p(1, a.info.as_mut_ptr().cast()).cast(),
            p(2, a.name.as_mut_ptr()).cast(),
            p(3, a.len.as_mut_ptr().cast()).cast(),
            name_total,
            p(4, a.meta.as_mut_ptr()).cast(),
            p(5, a.mlen.as_mut_ptr().cast()).cast(),
            64,
            p(6, (&mut a.done as *mut u32).cast()).cast(),
            p(7, (&mut a.left as *mut u32).cast()).cast(),
        )
    };
    (r, errno())
}

#[test]
fn list_with_any_null_pointer_is_einval_and_writes_nothing() {
    for i in 0..8 {
        let mut a = Args::new();
        assert_eq!(call(&mut a, 4, 64, Some(i)), (-1, libc::EINVAL), "NULL argument {i}");
        assert!(a.untouched());
    }
}

#[test]
fn list_with_max_zero_is_einval_before_name_size_zero() {
    let mut a = Args::new();
    assert_eq!(call(&mut a, 0, 0, None), (-1, libc::EINVAL));
    assert!(a.untouched());
}

#[test]
fn list_with_name_total_size_zero_is_enoent() {
    let mut a = Args::new();
    assert_eq!(call(&mut a, 4, 0, None), (-1, libc::ENOENT));
    assert!(a.untouched());
}

#[test]
#[cfg_attr(
    miri,
    ignore = "kernel-only: stats /dev/xen, maps real hypercall buffers (PROT_NONE, MAP_FIXED, madvise, pthread_atfork)"
)]
fn without_a_privcmd_device_the_open_error_is_returned() {
    if std::path::Path::new("/dev/xen/privcmd").exists() || std::path::Path::new("/proc/xen/privcmd").exists() {
        return; // a Xen host: covered by the real-hypervisor tests
    }
    let mut a = Args::new();
    assert_eq!(call(&mut a, 4, 64, None), (-1, libc::ENOENT));
    // done/left are zeroed before the first hypercall, as libxenctrl does.
    assert_eq!((a.done, a.left), (0, 0));
    assert!(a.info == Args::new().info && a.name == Args::new().name);
    let (mut nr, mut n, mut m) = (1u32, 2u32, 3u32);
    // SAFETY: live locals.
    let r = unsafe { xc_livepatch_list_get_sizes(xch(), &mut nr, &mut n, &mut m) };
    assert_eq!((r, errno(), nr, n, m), (-1, libc::ENOENT, 1, 2, 3));
}

// ---- the C semantics over the simulated hypervisor ---------------------------

mod over_the_simulator {
    use super::{errno, set_errno, xch};
    use xc_livepatch::ffi::{get_sizes_on, list_on};
    use xc_livepatch::sim::{self, CallerBuffers, Change, Config, Payload, SimHypervisor};

    /// The five arrays of a C caller sized from get_sizes, poisoned, each
    /// between poisoned canaries; `done`/`left` poisoned too.
    struct CArgs {
        bufs: CallerBuffers,
        done: u32,
        left: u32,
    }

    const P32: u32 = 0xA5A5_A5A5;

    impl CArgs {
        fn sized_by_get_sizes(hv: &SimHypervisor) -> CArgs {
            let (mut nr, mut n, mut m) = (0u32, 0u32, 0u32);
            // SAFETY: live locals.
            assert_eq!(unsafe { get_sizes_on(hv, xch(), &mut nr, &mut n, &mut m) }, 0);
            CArgs { bufs: CallerBuffers::new(nr as usize, n as usize, m as usize), done: P32, left: P32 }
        }

        fn list(&mut self, hv: &SimHypervisor) -> (i32, i32) {
            set_errno(0);
            let c = self.bufs.c_arrays();
            // SAFETY: `c` holds the arrays of `self.bufs`, each valid for the
            // size passed with it, and nothing else touches them meanwhile.
            let r = unsafe {
                list_on(
                    hv,
                    xch(),
                    c.max,
                    0,
                    c.info,
                    c.name,
                    c.len,
                    c.name_total_size,
                    c.metadata,
                    c.metadata_len,
                    c.metadata_total_size,
                    &mut self.done,
                    &mut self.left,
                )
            };
            (r, errno())
        }

        fn untouched(&self) -> bool {
            self.bufs.is_untouched()
        }
    }

    fn ten_payloads(iface: u32) -> SimHypervisor {
        let mut ps = vec![Payload::new("lp-7chr", b"K=v\0")];
        ps.extend(sim::generated(9, 48));
        SimHypervisor::new(ps, Config { interface_version: iface, ..Config::default() })
    }

    #[test]
    fn list_outgrowing_the_sized_buffers_is_enobufs_with_nothing_written_on_every_interface() {
        for iface in [0x13, 0x14, 0x15, 0x16] {
            let h = ten_payloads(iface);
            let mut a = CArgs::sized_by_get_sizes(&h);
            // Issue #12's race: a 7-character name out, a 100-character name
            // with about 60 KiB of metadata in.
            h.sim().change(Change::Unload(b"lp-7chr".to_vec()));
            let meta = sim::generated(1, 60 << 10)[0].metadata.clone();
            h.sim().change(Change::Upload(Payload::new("n".repeat(100), meta)));
            assert_eq!(a.list(&h), (-1, libc::ENOBUFS), "interface {iface:#x}");
            assert_eq!((a.done, a.left), (0, 0), "interface {iface:#x}: done, left");
            assert!(a.untouched(), "interface {iface:#x}: buffers written");
            assert_eq!(h.sim().counters().faults, u64::from(iface < 0x16), "interface {iface:#x}: faults");
            // Probing again and listing gives all ten.
            let mut a = CArgs::sized_by_get_sizes(&h);
            assert_eq!(a.list(&h), (0, 0), "interface {iface:#x}: after a new probe");
            assert_eq!((a.done, a.left), (10, 0));
        }
    }

    #[test]
    fn list_faulting_while_the_sizes_still_fit_is_efault_with_nothing_written_on_every_interface() {
        for iface in [0x13, 0x14, 0x15, 0x16] {
            let h = ten_payloads(iface);
            let mut a = CArgs::sized_by_get_sizes(&h);
            let next = h.sim().counters().hypercalls + 1;
            h.sim().configure(|c| {
                c.inject.insert(next, libc::EFAULT);
            });
            assert_eq!(a.list(&h), (-1, libc::EFAULT), "interface {iface:#x}");
            assert_eq!((a.done, a.left), (0, 0));
            assert!(a.untouched());
        }
    }
}
