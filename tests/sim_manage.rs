//! The simulated hypervisor's UPLOAD, GET and ACTION handlers and its
//! `xen_version`, driven with raw requests (the bytes libxenctrl sends), held
//! to what xen/common/livepatch.c and xen/common/kernel.c do (xen-facts §9).

use std::time::{Duration, Instant};
use xc_livepatch::abi::{
    XENVER_build_id, XENVER_extraversion, XENVER_version, XEN_SYSCTL_livepatch_op, LIVEPATCH_ACTION_APPLY as APPLY,
    LIVEPATCH_ACTION_APPLY_NODEPS as NODEPS, LIVEPATCH_ACTION_REPLACE as REPLACE, LIVEPATCH_ACTION_REVERT as REVERT,
    LIVEPATCH_ACTION_UNLOAD as UNLOAD, XEN_SYSCTL_LIVEPATCH_ACTION, XEN_SYSCTL_LIVEPATCH_GET,
    XEN_SYSCTL_LIVEPATCH_UPLOAD,
};
use xc_livepatch::sim::scenario::{self, ScenarioHypervisor};
use xc_livepatch::sim::{Config, Depends, Lie, Module, Payload, SimHypervisor, Xsm, LIVEPATCH_MAX_SIZE};
use xc_livepatch::sysctl::{at, Buffer, Hypervisor};
use xc_livepatch::Error;

const CHECKED: u32 = 1;
const APPLIED: u32 = 2;
const NAME_AT: usize = 256;
const PAYLOAD_AT: usize = 4096;
const EAGAIN: i32 = -libc::EAGAIN;

/// A plausible payload: the ELF magic and a header's worth of bytes.
fn elf(len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len.max(64)];
    v[..4].copy_from_slice(b"\x7fELF");
    v
}

/// One request, as libxenctrl lays it out (name bytes beside the struct).
#[derive(Clone)]
struct Req {
    iface: u32,
    flags: u32,
    sub: u32,
    name: Vec<u8>,
    /// `name.size`; default strlen + 1.
    size: Option<u16>,
    pad: [u16; 3],
    /// Name handle: `None` points at the bytes in the buffer.
    handle: Option<u64>,
    payload: Vec<u8>,
    upload_size: Option<u64>,
    cmd: u32,
    timeout: u32,
    aflags: u32,
    apad: u32,
}

impl Req {
    fn new(sub: u32, name: &str) -> Req {
        let mut n = name.as_bytes().to_vec();
        n.push(0);
        Req {
            iface: 0x15,
            flags: 0,
            sub,
            name: n,
            size: None,
            pad: [0; 3],
            handle: None,
            payload: Vec::new(),
            upload_size: None,
            cmd: 0,
            timeout: 0,
            aflags: 0,
            apad: 0,
        }
    }
    fn upload(name: &str, payload: Vec<u8>) -> Req {
        Req { payload, ..Req::new(XEN_SYSCTL_LIVEPATCH_UPLOAD, name) }
    }
    fn get(name: &str) -> Req {
        Req::new(XEN_SYSCTL_LIVEPATCH_GET, name)
    }
    fn action(name: &str, cmd: u32) -> Req {
        Req { cmd, ..Req::new(XEN_SYSCTL_LIVEPATCH_ACTION, name) }
    }
}

/// Runs `r`; returns the hypercall's result and the struct after it.
fn run<H: Hypervisor>(hv: &H, r: &Req) -> (Result<i64, i32>, Vec<u8>) {
    let mut buf = hv.alloc(PAYLOAD_AT + r.payload.len()).unwrap();
    let base = buf.as_mut_ptr() as u64;
    let b = buf.as_mut_slice();
    b.fill(0);
    let put32 = |b: &mut [u8], off: usize, v: u32| b[off..off + 4].copy_from_slice(&v.to_ne_bytes());
    let put64 = |b: &mut [u8], off: usize, v: u64| b[off..off + 8].copy_from_slice(&v.to_ne_bytes());
    put32(b, at::CMD, XEN_SYSCTL_livepatch_op);
    put32(b, at::IFACE, r.iface);
    put32(b, at::OP_CMD, r.sub);
    put32(b, at::OP_PAD, r.flags);
    b[NAME_AT..NAME_AT + r.name.len()].copy_from_slice(&r.name);
    put64(b, at::NAME_HANDLE, r.handle.unwrap_or(base + NAME_AT as u64));
    let size = r.size.unwrap_or(r.name.len() as u16);
    b[at::NAME_SIZE..at::NAME_SIZE + 2].copy_from_slice(&size.to_ne_bytes());
    for (i, p) in r.pad.iter().enumerate() {
        b[at::NAME_PAD + 2 * i..at::NAME_PAD + 2 * i + 2].copy_from_slice(&p.to_ne_bytes());
    }
    match r.sub {
        XEN_SYSCTL_LIVEPATCH_UPLOAD => {
            b[PAYLOAD_AT..PAYLOAD_AT + r.payload.len()].copy_from_slice(&r.payload);
            put64(b, at::UPLOAD_SIZE, r.upload_size.unwrap_or(r.payload.len() as u64));
            put64(b, at::UPLOAD_PAYLOAD, base + PAYLOAD_AT as u64);
        }
        XEN_SYSCTL_LIVEPATCH_ACTION => {
            put32(b, at::ACTION_CMD, r.cmd);
            put32(b, at::ACTION_TIMEOUT, r.timeout);
            put32(b, at::ACTION_FLAGS, r.aflags);
            put32(b, at::ACTION_PAD, r.apad);
        }
        _ => {}
    }
    let res = match hv.sysctl(&mut buf) {
        Ok(v) => Ok(v),
        Err(Error::Hypervisor { errno }) => Err(errno),
        Err(e) => panic!("unexpected {e:?}"),
    };
    (res, buf.as_slice()[..136].to_vec())
}

fn rc<H: Hypervisor>(hv: &H, r: &Req) -> Result<i64, i32> {
    run(hv, r).0
}

/// GET's (state, rc), or its errno.
fn status<H: Hypervisor>(hv: &H, name: &str) -> Result<(u32, i32), i32> {
    let (r, b) = run(hv, &Req::get(name));
    r.map(|_| {
        let state = u32::from_ne_bytes(b[at::GET_STATE..at::GET_STATE + 4].try_into().unwrap());
        (state, i32::from_ne_bytes(b[at::GET_RC..at::GET_RC + 4].try_into().unwrap()))
    })
}

fn hv_with(payloads: Vec<Payload>, f: impl FnOnce(&mut Config)) -> SimHypervisor {
    let mut cfg = Config::default();
    f(&mut cfg);
    SimHypervisor::new(payloads, cfg)
}

fn module(name: &str, hv_cfg: &mut Config, m: Module) {
    hv_cfg.modules.insert(name.as_bytes().to_vec(), m);
}

const EINVAL: Result<i64, i32> = Err(libc::EINVAL);

// ---- names --------------------------------------------------------------

#[test]
fn names_of_size_0_or_above_128_or_without_final_nul_or_with_pads_are_einval_in_every_op() {
    let hv = hv_with(vec![Payload::new("a", b"")], |_| {});
    for base in [Req::get("a"), Req::action("a", UNLOAD), Req::upload("b", elf(64))] {
        assert_eq!(rc(&hv, &Req { size: Some(0), ..base.clone() }), EINVAL);
        let long = Req { name: vec![b'x'; 129], size: Some(129), ..base.clone() };
        assert_eq!(rc(&hv, &long), EINVAL);
        assert_eq!(rc(&hv, &Req { name: b"ab".to_vec(), ..base.clone() }), EINVAL, "no final NUL");
        for i in 0..3 {
            let mut pad = [0; 3];
            pad[i] = 1;
            assert_eq!(rc(&hv, &Req { pad, ..base.clone() }), EINVAL, "pad[{i}]");
        }
    }
    assert_eq!(hv.sim().payloads().len(), 1);
}

#[test]
fn a_128_byte_name_is_accepted_and_xen_compares_up_to_the_first_nul() {
    let hv = hv_with(vec![], |_| {});
    let name127 = "n".repeat(127);
    assert_eq!(rc(&hv, &Req::upload(&name127, elf(64))), Ok(0));
    assert_eq!(status(&hv, &name127), Ok((CHECKED, 0)));
    // "a\0junk\0": the last byte is a NUL, Xen's strcmp stops at the first.
    assert_eq!(rc(&hv, &Req::upload("a", elf(64))), Ok(0));
    assert_eq!(rc(&hv, &Req { name: b"a\0junk\0".to_vec(), ..Req::get("") }), Ok(0));
}

#[test]
fn an_unreadable_name_is_efault_for_get_and_action_but_einval_for_upload() {
    let hv = hv_with(vec![Payload::new("a", b"")], |_| {});
    let bad = Some(0x10);
    assert_eq!(rc(&hv, &Req { handle: bad, ..Req::get("a") }), Err(libc::EFAULT));
    assert_eq!(rc(&hv, &Req { handle: bad, ..Req::action("a", APPLY) }), Err(libc::EFAULT));
    assert_eq!(rc(&hv, &Req { handle: bad, ..Req::upload("b", elf(64)) }), EINVAL);
}

// ---- UPLOAD ---------------------------------------------------------------

#[test]
fn upload_leaves_a_checked_payload_with_rc_0_and_bumps_the_list_version() {
    let hv = hv_with(vec![], |c| module("p", c, Module { metadata: b"K=v\0".to_vec(), ..Module::default() }));
    let v = hv.sim().version();
    assert_eq!(rc(&hv, &Req::upload("p", elf(100))), Ok(0));
    assert_eq!(hv.sim().payloads(), vec![Payload::new("p", b"K=v\0")]);
    assert_eq!(hv.sim().version(), v + 1);
    assert_eq!(hv.sim().counters().upload_bytes, 100);
}

#[test]
fn upload_of_size_0_or_above_the_maximum_is_einval_and_the_maximum_itself_loads() {
    let hv = hv_with(vec![], |_| {});
    assert_eq!(rc(&hv, &Req { upload_size: Some(0), ..Req::upload("p", elf(64)) }), EINVAL);
    assert_eq!(rc(&hv, &Req::upload("p", elf(LIVEPATCH_MAX_SIZE as usize + 1))), EINVAL);
    assert_eq!(rc(&hv, &Req::upload("p", elf(LIVEPATCH_MAX_SIZE as usize))), Ok(0));
    let small = hv_with(vec![], |c| c.upload_max = 1000);
    assert_eq!(rc(&small, &Req::upload("p", elf(1001))), EINVAL);
    assert_eq!(rc(&small, &Req::upload("p", elf(1000))), Ok(0));
    assert_eq!(LIVEPATCH_MAX_SIZE, 2 << 20);
}

#[test]
fn upload_of_a_loaded_name_is_eexist_before_the_payload_is_read() {
    let hv = hv_with(vec![Payload::new("p", b"")], |_| {});
    assert_eq!(rc(&hv, &Req::upload("p", elf(64))), Err(libc::EEXIST));
    // Duplicate name wins over an unreadable payload (checked first in Xen).
    assert_eq!(rc(&hv, &Req { upload_size: Some(1 << 20), ..Req::upload("p", elf(64)) }), Err(libc::EEXIST));
    assert_eq!(rc(&hv, &Req { upload_size: Some(1 << 20), ..Req::upload("q", elf(64)) }), Err(libc::EFAULT));
}

#[test]
fn upload_of_something_not_elf_or_rejected_by_the_scenario_or_with_a_loaded_build_id_fails() {
    let hv = hv_with(vec![Payload::new("old", b"")], |c| {
        module("bad", c, Module { reject: Some(libc::EINVAL), ..Module::default() });
        module("old", c, Module { build_id: Some(vec![1, 2]), ..Module::default() });
        module("twin", c, Module { build_id: Some(vec![1, 2]), ..Module::default() });
    });
    let mut not_elf = elf(64);
    not_elf[0] = b'M';
    assert_eq!(rc(&hv, &Req::upload("p", not_elf)), EINVAL);
    assert_eq!(rc(&hv, &Req::upload("p", b"\x7fELF".to_vec())), EINVAL, "shorter than an ELF header");
    assert_eq!(rc(&hv, &Req::upload("bad", elf(64))), EINVAL);
    assert_eq!(rc(&hv, &Req::upload("twin", elf(64))), Err(libc::EEXIST));
    assert_eq!(hv.sim().payloads().len(), 1);
}

// ---- GET ----------------------------------------------------------------

#[test]
fn get_of_an_unknown_name_is_enoent_and_a_known_one_gets_state_and_rc() {
    let hv = hv_with(vec![Payload::new("a", b"").with_state(APPLIED, -libc::ENOMEM)], |_| {});
    assert_eq!(status(&hv, "b"), Err(libc::ENOENT));
    assert_eq!(status(&hv, "a"), Ok((APPLIED, -libc::ENOMEM)));
}

// ---- ACTION -------------------------------------------------------------

#[test]
fn action_with_pad_is_einval_with_an_unknown_cmd_eopnotsupp_and_unknown_name_enoent() {
    let hv = hv_with(vec![Payload::new("a", b"")], |_| {});
    assert_eq!(rc(&hv, &Req { apad: 1, ..Req::action("a", APPLY) }), EINVAL);
    assert_eq!(rc(&hv, &Req::action("a", 0)), Err(libc::EOPNOTSUPP));
    assert_eq!(rc(&hv, &Req::action("a", 5)), Err(libc::EOPNOTSUPP));
    assert_eq!(rc(&hv, &Req::action("zz", APPLY)), Err(libc::ENOENT));
    // Xen reads only the NODEPS bit of the action's flags.
    assert_eq!(rc(&hv, &Req { aflags: 0xffff_fff0, ..Req::action("a", APPLY) }), Ok(0));
}

#[test]
fn apply_returns_once_scheduled_rc_stays_eagain_while_pending_then_applied() {
    let hv = hv_with(vec![Payload::new("a", b"")], |c| c.pending = Duration::from_secs(3600));
    assert_eq!(rc(&hv, &Req::action("a", APPLY)), Ok(0));
    assert_eq!(status(&hv, "a"), Ok((CHECKED, EAGAIN)));
    assert!(hv.sim().action_pending());
    let now = hv_with(vec![Payload::new("a", b"")], |_| {});
    assert_eq!(rc(&now, &Req::action("a", APPLY)), Ok(0));
    assert_eq!(status(&now, "a"), Ok((APPLIED, 0)), "the next hypercall sees it done");
    assert_eq!(now.sim().counters().actions_run, 1);
}

#[test]
fn a_pending_duration_is_wall_clock_time() {
    let hv = hv_with(vec![Payload::new("a", b"")], |c| c.pending = Duration::from_millis(150));
    let t = Instant::now();
    assert_eq!(rc(&hv, &Req::action("a", APPLY)), Ok(0));
    let early = status(&hv, "a");
    let elapsed = t.elapsed();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(status(&hv, "a"), Ok((APPLIED, 0)));
    if elapsed < Duration::from_millis(150) {
        assert_eq!(early, Ok((CHECKED, EAGAIN)));
    }
}

#[test]
fn while_an_action_is_scheduled_its_payload_is_ebusy_and_another_payload_is_stuck_at_eagain() {
    let ps = vec![Payload::new("a", b""), Payload::new("b", b"")];
    let hv = hv_with(ps, |c| c.pending = Duration::from_secs(3600));
    assert_eq!(rc(&hv, &Req::action("a", APPLY)), Ok(0));
    for cmd in [UNLOAD, REVERT, APPLY, REPLACE, 9] {
        assert_eq!(rc(&hv, &Req::action("a", cmd)), Err(libc::EBUSY), "cmd {cmd}");
    }
    // Another payload: schedule_work refuses, after Xen set its rc to -EAGAIN.
    assert_eq!(rc(&hv, &Req::action("b", APPLY)), Err(libc::EBUSY));
    assert_eq!(status(&hv, "b"), Ok((CHECKED, EAGAIN)));
    // UNLOAD of another payload is synchronous and not refused.
    assert_eq!(rc(&hv, &Req::action("b", UNLOAD)), Ok(0));
}

#[test]
fn unload_only_from_checked_at_once_bumping_the_version() {
    let hv = hv_with(vec![Payload::new("c", b""), Payload::new("a", b"").with_state(APPLIED, 0)], |_| {});
    let v = hv.sim().version();
    assert_eq!(rc(&hv, &Req::action("a", UNLOAD)), EINVAL);
    assert_eq!(rc(&hv, &Req::action("c", UNLOAD)), Ok(0));
    assert_eq!(status(&hv, "c"), Err(libc::ENOENT));
    assert_eq!(hv.sim().version(), v + 1);
}

#[test]
fn revert_only_of_the_last_applied_else_ebusy_and_a_checked_one_is_a_silent_0() {
    let ps = vec![Payload::new("a", b"").with_state(APPLIED, 0), Payload::new("b", b""), Payload::new("c", b"")];
    let hv = hv_with(ps, |_| {});
    assert_eq!(rc(&hv, &Req::action("b", APPLY)), Ok(0));
    assert_eq!(status(&hv, "b"), Ok((APPLIED, 0)));
    assert_eq!(rc(&hv, &Req::action("a", REVERT)), Err(libc::EBUSY), "b is on top");
    assert_eq!(rc(&hv, &Req::action("c", REVERT)), Ok(0));
    assert_eq!(status(&hv, "c"), Ok((CHECKED, 0)));
    assert!(!hv.sim().action_pending(), "nothing was scheduled");
    assert_eq!(rc(&hv, &Req::action("b", REVERT)), Ok(0));
    assert_eq!(status(&hv, "b"), Ok((CHECKED, 0)));
    assert_eq!(rc(&hv, &Req::action("a", REVERT)), Ok(0));
    assert_eq!(status(&hv, "a"), Ok((CHECKED, 0)));
}

#[test]
fn apply_or_replace_of_an_applied_payload_is_a_silent_0() {
    let hv = hv_with(vec![Payload::new("a", b"").with_state(APPLIED, 0)], |_| {});
    assert_eq!(rc(&hv, &Req::action("a", APPLY)), Ok(0));
    assert_eq!(rc(&hv, &Req::action("a", REPLACE)), Ok(0));
    assert!(!hv.sim().action_pending());
    assert_eq!(status(&hv, "a"), Ok((APPLIED, 0)));
}

#[test]
fn a_reverted_payload_is_applied_again_only_if_safe_to_reapply() {
    let ps = vec![Payload::new("safe", b""), Payload::new("data", b"")];
    let hv = hv_with(ps, |c| module("data", c, Module { reapply: false, ..Module::default() }));
    for name in ["safe", "data"] {
        assert_eq!(rc(&hv, &Req::action(name, APPLY)), Ok(0));
        assert_eq!(rc(&hv, &Req::action(name, REVERT)), Ok(0));
        assert_eq!(status(&hv, name), Ok((CHECKED, 0)));
    }
    assert_eq!(rc(&hv, &Req::action("data", APPLY)), Ok(0), "Xen returns 0 ...");
    assert_eq!(status(&hv, "data"), Ok((CHECKED, -libc::EINVAL)), "... with rc -EINVAL: Please unload");
    assert!(!hv.sim().action_pending());
    assert_eq!(rc(&hv, &Req::action("safe", APPLY)), Ok(0));
    assert_eq!(status(&hv, "safe"), Ok((APPLIED, 0)));
    // Unloaded and uploaded again, it is a new payload.
    assert_eq!(rc(&hv, &Req::action("data", UNLOAD)), Ok(0));
    assert_eq!(rc(&hv, &Req::upload("data", elf(64))), Ok(0));
    assert_eq!(rc(&hv, &Req::action("data", APPLY)), Ok(0));
    assert_eq!(status(&hv, "data"), Ok((APPLIED, 0)));
}

#[test]
fn replace_reverts_every_applied_payload_and_applies_this_one() {
    let ps = vec![
        Payload::new("a", b"").with_state(APPLIED, 0),
        Payload::new("b", b"").with_state(APPLIED, 0),
        Payload::new("r", b""),
    ];
    let hv = hv_with(ps, |_| {});
    assert_eq!(rc(&hv, &Req::action("r", REPLACE)), Ok(0));
    assert_eq!(status(&hv, "r"), Ok((APPLIED, 0)));
    assert_eq!(status(&hv, "a"), Ok((CHECKED, 0)));
    assert_eq!(status(&hv, "b"), Ok((CHECKED, 0)));
    // Both count as reverted now.
    assert_eq!(rc(&hv, &Req::action("r", REVERT)), Ok(0));
    assert_eq!(rc(&hv, &Req::action("a", APPLY)), Ok(0));
    assert_eq!(status(&hv, "a"), Ok((APPLIED, 0)));
}

#[test]
fn replace_with_vetoing_hooks_anywhere_is_eopnotsupp() {
    let ps = vec![Payload::new("h", b"").with_state(APPLIED, 0), Payload::new("r", b"")];
    let hv = hv_with(ps, |c| module("h", c, Module { vetoing_hooks: true, ..Module::default() }));
    assert_eq!(rc(&hv, &Req::action("r", REPLACE)), Err(libc::EOPNOTSUPP));
    assert_eq!(status(&hv, "r"), Ok((CHECKED, 0)));
}

#[test]
fn a_failed_revert_stops_a_replace_with_einval() {
    let ps = vec![Payload::new("a", b"").with_state(APPLIED, 0), Payload::new("r", b"")];
    let hv = hv_with(ps, |c| module("a", c, Module { revert_ends: Some(libc::EIO), ..Module::default() }));
    assert_eq!(rc(&hv, &Req::action("r", REPLACE)), Ok(0));
    assert_eq!(status(&hv, "r"), Ok((CHECKED, -libc::EINVAL)));
    assert_eq!(status(&hv, "a"), Ok((APPLIED, -libc::EIO)));
}

#[test]
fn depends_is_checked_against_the_top_payload_or_the_hypervisor_unless_nodeps() {
    let xen = xc_livepatch::sim::XenInfo::default().build_id.unwrap();
    let ps = vec![Payload::new("base", b""), Payload::new("top", b""), Payload::new("stray", b"")];
    let hv = hv_with(ps, |c| {
        let on_xen = Module { build_id: Some(vec![0xb1]), depends: Some(Depends::Hypervisor), ..Module::default() };
        module("base", c, on_xen);
        module("top", c, Module { depends: Some(Depends::Id(vec![0xb1])), ..Module::default() });
        module("stray", c, Module { depends: Some(Depends::Id(vec![0xee])), ..Module::default() });
    });
    assert_eq!(rc(&hv, &Req::action("top", APPLY)), EINVAL, "nothing applied: checked against Xen");
    assert_eq!(rc(&hv, &Req::action("top", REPLACE)), EINVAL, "replace: always against Xen");
    assert_eq!(status(&hv, "top"), Ok((CHECKED, 0)), "rc untouched by a refused action");
    assert_eq!(rc(&hv, &Req::action("base", APPLY)), Ok(0));
    assert_eq!(rc(&hv, &Req::action("stray", APPLY)), EINVAL);
    assert_eq!(rc(&hv, &Req::action("top", APPLY)), Ok(0));
    assert_eq!(status(&hv, "top"), Ok((APPLIED, 0)));
    assert_eq!(rc(&hv, &Req { aflags: NODEPS, ..Req::action("stray", APPLY) }), Ok(0));
    assert_eq!(status(&hv, "stray"), Ok((APPLIED, 0)));
    assert_eq!(xen.len(), 20);
    let no_id = hv_with(vec![Payload::new("base", b"")], |c| {
        c.xen.build_id = None;
        module("base", c, Module { depends: Some(Depends::Hypervisor), ..Module::default() });
    });
    assert_eq!(rc(&no_id, &Req::action("base", APPLY)), Err(libc::ENODATA));
}

#[test]
fn cpus_that_do_not_rendezvous_within_the_timeout_end_the_action_with_ebusy() {
    let slow =
        |rendezvous_ms| hv_with(vec![Payload::new("a", b"")], |c| c.rendezvous = Duration::from_millis(rendezvous_ms));
    let hv = slow(31);
    assert_eq!(rc(&hv, &Req::action("a", APPLY)), Ok(0), "timeout 0 is 30 ms");
    assert_eq!(status(&hv, "a"), Ok((CHECKED, -libc::EBUSY)));
    let hv = slow(30);
    assert_eq!(rc(&hv, &Req::action("a", APPLY)), Ok(0));
    assert_eq!(status(&hv, "a"), Ok((APPLIED, 0)));
    let hv = slow(50);
    assert_eq!(rc(&hv, &Req { timeout: 60_000_000, ..Req::action("a", APPLY) }), Ok(0));
    assert_eq!(status(&hv, "a"), Ok((APPLIED, 0)));
    assert_eq!(rc(&hv, &Req { timeout: 40_000_000, ..Req::action("a", REVERT) }), Ok(0));
    assert_eq!(status(&hv, "a"), Ok((APPLIED, -libc::EBUSY)));
}

#[test]
fn an_action_the_scenario_fails_ends_with_that_rc_and_no_state_change() {
    let hv = hv_with(vec![Payload::new("a", b"")], |c| {
        module("a", c, Module { apply_ends: Some(libc::ENOMEM), ..Module::default() })
    });
    assert_eq!(rc(&hv, &Req::action("a", APPLY)), Ok(0));
    assert_eq!(status(&hv, "a"), Ok((CHECKED, -libc::ENOMEM)));
}

// ---- the entry checks apply to every op -----------------------------------

#[test]
fn a_wrong_interface_version_is_eacces_and_flags_follow_the_4_19_rule_for_every_op() {
    let ops = [Req::get("a"), Req::action("a", APPLY), Req::upload("u", elf(64))];
    let hv = hv_with(vec![Payload::new("a", b"")], |_| {});
    for r in &ops {
        assert_eq!(rc(&hv, &Req { iface: 0x16, ..r.clone() }), Err(libc::EACCES));
        assert_eq!(rc(&hv, &Req { flags: 1, ..r.clone() }), EINVAL, "0x15 before 4.19: pad must be 0");
    }
    // Xen 4.21+ (0x16), and 4.19/4.20 (still 0x15): FORCE (bit 0) lets
    // unknown bits pass, unknown bits alone are EINVAL.
    for (v, hv) in [
        (0x16, hv_with(vec![Payload::new("a", b"")], |c| c.interface_version = 0x16)),
        (0x15, hv_with(vec![Payload::new("a", b"")], |c| c.xen.minor = 19)),
    ] {
        for r in &ops {
            assert_eq!(rc(&hv, &Req { iface: v, flags: 2, ..r.clone() }), EINVAL);
            assert_ne!(rc(&hv, &Req { iface: v, flags: 3, ..r.clone() }), EINVAL, "FORCE lets unknown bits pass");
        }
    }
}

// ---- lies ---------------------------------------------------------------

#[test]
fn a_lying_hypervisor_says_what_the_scenario_tells_it() {
    let lying = |l| hv_with(vec![Payload::new("a", b"")], |c| c.lie = Some(l));
    assert_eq!(status(&lying(Lie::GetState(7)), "a"), Ok((7, 0)));
    assert_eq!(status(&lying(Lie::GetRc(5)), "a"), Ok((CHECKED, 5)));
    assert_eq!(rc(&lying(Lie::GetReturns(3)), &Req::get("a")), Ok(3));
    let hv = lying(Lie::ActionReturns(1));
    assert_eq!(rc(&hv, &Req::action("a", APPLY)), Ok(1));
    assert_eq!(status(&hv, "a"), Ok((APPLIED, 0)), "the action ran");
    assert_eq!(rc(&hv, &Req::action("zz", APPLY)), Err(libc::ENOENT), "errors stay errors");
    let hv = lying(Lie::UploadPhantom);
    assert_eq!(rc(&hv, &Req::upload("u", elf(64))), Ok(0));
    assert_eq!(status(&hv, "u"), Err(libc::ENOENT));
    let hv = lying(Lie::UploadReturns(9));
    assert_eq!(rc(&hv, &Req::upload("u", elf(64))), Ok(9));
    assert_eq!(status(&hv, "u"), Ok((CHECKED, 0)));
}

// ---- xen_version ----------------------------------------------------------

fn xv<H: Hypervisor>(hv: &H, cmd: u32, arg: Option<&[u8]>) -> (Result<i64, i32>, Vec<u8>) {
    let mut buf = arg.map(|a| {
        let mut b = hv.alloc(a.len()).unwrap();
        b.as_mut_slice()[..a.len()].copy_from_slice(a);
        b
    });
    let r = match hv.xen_version(cmd, buf.as_mut()) {
        Ok(v) => Ok(v),
        Err(Error::Hypervisor { errno }) => Err(errno),
        Err(e) => panic!("{e:?}"),
    };
    (r, buf.map(|b| b.as_slice()[..arg.unwrap().len()].to_vec()).unwrap_or_default())
}

#[test]
fn xen_version_reports_version_extraversion_and_build_id_as_xen_does() {
    let hv = hv_with(vec![], |_| {});
    assert_eq!(xv(&hv, XENVER_version, None).0, Ok(4 << 16 | 17));
    let (r, extra) = xv(&hv, XENVER_extraversion, Some(&[0xaa; 16]));
    assert_eq!((r, &extra[..3]), (Ok(0), &b".7\0"[..]));
    assert!(extra[2..].iter().all(|&b| b == 0), "NUL-padded to 16 bytes");
    assert_eq!(xv(&hv, XENVER_build_id, None).0, Ok(20), "NULL: the size");
    let mut arg = vec![0u8; 4 + 20];
    assert_eq!(xv(&hv, XENVER_build_id, Some(&arg)).0, EINVAL, "len 0");
    arg[..4].copy_from_slice(&19u32.to_ne_bytes());
    assert_eq!(xv(&hv, XENVER_build_id, Some(&arg)).0, Err(libc::ENOBUFS));
    arg[..4].copy_from_slice(&20u32.to_ne_bytes());
    let (r, out) = xv(&hv, XENVER_build_id, Some(&arg));
    assert_eq!(r, Ok(20));
    assert_eq!(out[4..], xc_livepatch::sim::XenInfo::default().build_id.unwrap()[..]);
    assert_eq!(xv(&hv, 99, None).0, Err(libc::ENOSYS));
    assert_eq!(hv.sim().counters().xen_version_calls, 7);
    assert_eq!(hv.sim().counters().hypercalls, 0, "no sysctl");
}

#[test]
fn xen_version_build_id_is_enodata_without_one_and_eperm_when_xsm_denies() {
    let none = hv_with(vec![], |c| c.xen.build_id = None);
    assert_eq!(xv(&none, XENVER_build_id, None).0, Err(libc::ENODATA));
    let denied = hv_with(vec![], |c| c.xsm = Xsm::DenyDummy);
    assert_eq!(xv(&denied, XENVER_build_id, None).0, Err(libc::EPERM));
    assert_eq!(xv(&denied, XENVER_version, None).0, Ok(4 << 16 | 17));
    let flask = hv_with(vec![], |c| c.xsm = Xsm::DenyFlask);
    assert_eq!(&xv(&flask, XENVER_extraversion, Some(&[0; 16])).1[..9], b"<denied>\0");
    let long = hv_with(vec![], |c| c.xen.extraversion = b"-0123456789abcdefgh".to_vec());
    assert_eq!(xv(&long, XENVER_extraversion, Some(&[0xff; 16])).1, b"-0123456789abcd\0");
}

// ---- scenario files ---------------------------------------------------------

#[test]
fn scenario_files_set_modules_pending_rendezvous_limits_version_and_lies() {
    let sc = scenario::parse(
        "payload a\n\
         module a reapply=no id=0102 depends=xen hooks=vetoing reject=EINVAL meta=K=v\\0 apply-ends=EBUSY revert-ends=5\n\
         module b depends=abcd\n\
         pending 200ms\nrendezvous 31ms\nupload-max 4096\nxen-version 4.22\nextraversion -rc\nbuild-id 00ff\n\
         lie get-rc -EAGAIN\n",
    )
    .unwrap();
    let c = &sc.config;
    let a = &c.modules[&b"a".to_vec()];
    assert!(!a.reapply && a.vetoing_hooks);
    assert_eq!((a.build_id.as_deref(), a.depends.as_ref()), (Some(&[1u8, 2][..]), Some(&Depends::Hypervisor)));
    assert_eq!((a.reject, a.apply_ends, a.revert_ends), (Some(libc::EINVAL), Some(libc::EBUSY), Some(5)));
    assert_eq!(a.metadata, b"K=v\0");
    assert_eq!(c.modules[&b"b".to_vec()].depends, Some(Depends::Id(vec![0xab, 0xcd])));
    assert_eq!((c.pending, c.rendezvous), (Duration::from_millis(200), Duration::from_millis(31)));
    assert_eq!(c.upload_max, 4096);
    assert_eq!((c.xen.major, c.xen.minor, &c.xen.extraversion[..]), (4, 22, &b"-rc"[..]));
    assert_eq!(c.xen.build_id, Some(vec![0, 0xff]));
    assert_eq!(c.lie, Some(Lie::GetRc(-libc::EAGAIN)));
    for (text, lie) in [
        ("lie get-state 9", Lie::GetState(9)),
        ("lie get-returns 2", Lie::GetReturns(2)),
        ("lie action-returns 1", Lie::ActionReturns(1)),
        ("lie upload-phantom", Lie::UploadPhantom),
        ("lie upload-returns -3", Lie::UploadReturns(-3)),
    ] {
        assert_eq!(scenario::parse(text).unwrap().config.lie, Some(lie), "{text}");
    }
    assert_eq!(scenario::parse("build-id none").unwrap().config.xen.build_id, None);
    assert_eq!(scenario::parse("pending 0").unwrap().config.pending, Duration::ZERO);
    for bad in ["pending 5", "pending 1h", "module a reapply=maybe", "module a color=red", "xen-version 4", "lie fib"] {
        assert!(scenario::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_scenario_hypervisor_without_privcmd_answers_xen_version_with_enoent() {
    let sc = scenario::parse("privcmd absent").unwrap();
    let hv = ScenarioHypervisor::new(&sc);
    assert!(matches!(hv.xen_version(XENVER_version, None), Err(Error::Os { errno: libc::ENOENT, .. })));
    let sc = scenario::parse("xen-version 4.20\nextraversion .1").unwrap();
    assert_eq!(ScenarioHypervisor::new(&sc).xen_version(XENVER_version, None).unwrap(), 4 << 16 | 20);
}

// ---- the state carried between processes ----------------------------------

#[test]
#[cfg_attr(
    miri,
    ignore = "the pending action's due time is wall-clock time (SystemTime), which Miri's isolation refuses"
)]
fn saved_state_restores_payloads_applied_order_reverted_and_the_pending_action() {
    let ps = vec![Payload::new("a", b"K=v\0").with_state(APPLIED, 0), Payload::new("b", b""), Payload::new("c", b"")];
    let cfg = |c: &mut Config| {
        c.pending = Duration::from_secs(3600);
        module("b", c, Module { reapply: false, ..Module::default() });
    };
    let hv = hv_with(ps, |c| {
        cfg(c);
        c.pending = Duration::ZERO;
    });
    assert_eq!(rc(&hv, &Req::action("b", APPLY)), Ok(0));
    assert_eq!(rc(&hv, &Req::action("b", REVERT)), Ok(0));
    assert_eq!(rc(&hv, &Req::action("c", APPLY)), Ok(0));
    hv.sim().configure(|c| c.pending = Duration::from_secs(3600));
    assert_eq!(rc(&hv, &Req::action("c", REVERT)), Ok(0), "pending for an hour");
    let text = hv.sim().save_state(true);
    // A fresh hypervisor of the same scenario, with the state loaded.
    let next = hv_with(vec![], cfg);
    next.sim().load_state(&text).unwrap();
    assert_eq!(next.sim().payloads(), hv.sim().payloads());
    assert_eq!(next.sim().version(), hv.sim().version());
    assert_eq!(next.sim().save_state(false), hv.sim().save_state(false));
    assert!(next.sim().action_pending(), "c's revert is still pending");
    assert_eq!(status(&next, "c"), Ok((APPLIED, EAGAIN)));
    assert_eq!(rc(&next, &Req::action("a", REVERT)), Err(libc::EBUSY), "c is on top of a");
    assert_eq!(rc(&next, &Req::action("b", APPLY)), Ok(0));
    assert_eq!(status(&next, "b"), Ok((CHECKED, -libc::EINVAL)), "b was reverted");
    assert!(next.sim().load_state("bogus 1").is_err());
    // Not hex (a multi-byte character where two hex digits belong): an error, no panic.
    assert!(next.sim().load_state("payload a\u{e9}b 1 0 -").is_err());
    assert!(next.sim().load_state("payload 61 one 0 -").is_err());
}

#[test]
fn the_librarys_xenver_reads_the_version_and_build_id_the_scenario_sets() {
    use xc_livepatch::xenver;
    let sc = scenario::parse("xen-version 4.22\nextraversion .0-rc\nbuild-id 00112233445566778899aabbccddeeff0a0b0c0d")
        .unwrap();
    let hv = ScenarioHypervisor::new(&sc);
    assert_eq!(xenver::version(&hv).unwrap().to_string(), "4.22.0-rc");
    assert_eq!(xenver::hex(&xenver::build_id(&hv).unwrap()), "00112233445566778899aabbccddeeff0a0b0c0d");
    let none = ScenarioHypervisor::new(&scenario::parse("build-id none").unwrap());
    assert_eq!(xenver::build_id(&none).unwrap_err().errno(), libc::ENODATA);
}

// ---- payload files: the simulator reads the uploaded ELF as Xen does -------

#[path = "../cli/src/testpayload.rs"]
mod testpayload;
use testpayload::{build, Notes, Spec};

/// A scratch directory for payload files, removed when dropped.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let d = std::env::temp_dir().join(format!("sim-manage-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Scratch(d)
    }

    fn payload(&self, name: &str, spec: &Spec) -> Vec<u8> {
        std::fs::read(build(&self.0, name, spec)).unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn xen_id() -> Vec<u8> {
    xc_livepatch::sim::DEFAULT_BUILD_ID.to_vec()
}

#[test]
#[cfg_attr(miri, ignore = "runs binutils")]
fn an_uploaded_files_build_ids_are_read_whatever_the_section_type_and_a_duplicate_build_id_is_eexist() {
    let d = Scratch::new("ids");
    let hv = hv_with(vec![], |_| {});
    for (i, notes) in [Notes::AsmNote, Notes::AddSection, Notes::BinaryRename].into_iter().enumerate() {
        let mut spec = Spec::new(0xa0 + i as u8, &xen_id(), &xen_id());
        spec.notes = notes;
        let name = format!("p{i}");
        assert_eq!(rc(&hv, &Req::upload(&name, d.payload(&name, &spec))), Ok(0), "{notes:?}");
    }
    // Another name, the same build id as p1: Xen's "Already loaded as".
    let dup = d.payload("dup", &Spec::new(0xa1, &xen_id(), &xen_id()));
    assert_eq!(rc(&hv, &Req::upload("dup", dup)), Err(libc::EEXIST));
    // Made for another hypervisor build, or with a first note that is not a build id.
    let other = d.payload("other", &Spec::new(0xb0, &xen_id(), &[0x11; 20]));
    assert_eq!(rc(&hv, &Req::upload("other", other)), EINVAL);
    let mut two = Spec::new(0xb1, &xen_id(), &xen_id());
    // (the first note even holds the right bytes: only its type is wrong)
    two.raw_xen_depends = Some([testpayload::note(&xen_id(), 1), testpayload::note(&xen_id(), 3)].concat());
    assert_eq!(rc(&hv, &Req::upload("two", d.payload("two", &two))), EINVAL);
    assert_eq!(hv.sim().payloads().len(), 3);
}

#[test]
#[cfg_attr(miri, ignore = "runs binutils")]
fn depends_from_the_files_is_checked_against_the_top_and_only_the_top_is_reverted() {
    let d = Scratch::new("stack");
    let hv = hv_with(vec![], |_| {});
    let a = d.payload("a", &Spec::new(0xa1, &xen_id(), &xen_id()));
    let b = d.payload("b", &Spec::new(0xb2, &[0xa1; 20], &xen_id()));
    let c = d.payload("c", &Spec::new(0xc3, &[0xb2; 20], &xen_id()));
    for (n, p) in [("a", a), ("b", b), ("c", c)] {
        assert_eq!(rc(&hv, &Req::upload(n, p)), Ok(0), "{n}");
    }
    assert_eq!(rc(&hv, &Req::action("b", APPLY)), EINVAL, "b stacks on a, and nothing is applied");
    assert_eq!(rc(&hv, &Req::action("c", APPLY)), EINVAL);
    assert_eq!(rc(&hv, &Req::action("a", APPLY)), Ok(0));
    assert_eq!(rc(&hv, &Req::action("c", APPLY)), EINVAL, "c stacks on b, the top is a");
    assert_eq!(rc(&hv, &Req::action("b", APPLY)), Ok(0));
    assert_eq!(status(&hv, "b"), Ok((APPLIED, 0)));
    assert_eq!(rc(&hv, &Req::action("a", REVERT)), Err(libc::EBUSY), "a is below b");
    assert_eq!(rc(&hv, &Req::action("b", REPLACE)), Ok(0), "applied: a silent 0");
    assert_eq!(rc(&hv, &Req::action("b", REVERT)), Ok(0));
    assert_eq!(rc(&hv, &Req::action("a", REVERT)), Ok(0));
    assert_eq!(status(&hv, "a"), Ok((CHECKED, 0)));
}

#[test]
#[cfg_attr(miri, ignore = "runs binutils")]
fn a_files_vetoing_hook_refuses_replace_and_its_writable_data_the_reapply() {
    let d = Scratch::new("hooks");
    let hv = hv_with(vec![], |_| {});
    let mut hooked = Spec::new(0xa1, &xen_id(), &xen_id());
    hooked.hooks = vec!["prerevert"];
    let mut null_hook = Spec::new(0xa2, &xen_id(), &xen_id());
    null_hook.null_hooks = vec!["preapply"];
    let mut data = Spec::new(0xa3, &xen_id(), &xen_id());
    data.writable_data = true;
    data.modinfo = Some(b"VERSION=3\0".to_vec());
    for (n, s) in [("hooked", &hooked), ("null", &null_hook), ("data", &data)] {
        assert_eq!(rc(&hv, &Req::upload(n, d.payload(n, s))), Ok(0), "{n}");
    }
    assert_eq!(rc(&hv, &Req::action("hooked", REPLACE)), Err(libc::EOPNOTSUPP), "its own vetoing hook");
    assert_eq!(rc(&hv, &Req::action("hooked", APPLY)), Ok(0));
    assert_eq!(rc(&hv, &Req::action("data", REPLACE)), Err(libc::EOPNOTSUPP), "an applied one's");
    assert_eq!(rc(&hv, &Req::action("hooked", REVERT)), Ok(0));
    // A NULL vetoing hook is not called, so it does not veto.
    assert_eq!(rc(&hv, &Req::action("null", REPLACE)), Ok(0));
    assert_eq!(rc(&hv, &Req::action("null", REVERT)), Ok(0));
    // .data: once reverted, APPLY sets rc -EINVAL ("Please unload").
    assert_eq!(rc(&hv, &Req::action("data", APPLY)), Ok(0));
    assert_eq!(rc(&hv, &Req::action("data", REVERT)), Ok(0));
    assert_eq!(rc(&hv, &Req::action("data", APPLY)), Ok(0));
    assert_eq!(status(&hv, "data"), Ok((CHECKED, -libc::EINVAL)));
    // Functions only: applied again after a revert.
    let mut plain = Spec::new(0xa4, &xen_id(), &xen_id());
    plain.hooks = vec![];
    assert_eq!(rc(&hv, &Req::upload("plain", d.payload("plain", &plain))), Ok(0));
    for cmd in [APPLY, REVERT, APPLY] {
        assert_eq!(rc(&hv, &Req::action("plain", cmd)), Ok(0));
    }
    assert_eq!(status(&hv, "plain"), Ok((APPLIED, 0)));
    let listed = xc_livepatch::snapshot_from(&hv).unwrap();
    let meta = listed.payloads.iter().find(|p| p.name_bytes() == b"data").unwrap().metadata_raw().to_vec();
    assert_eq!(meta, b"VERSION=3\0", "LIST shows the file's .modinfo");
}

#[test]
#[cfg_attr(miri, ignore = "runs binutils")]
fn the_scenarios_module_says_what_a_file_cannot_and_the_facts_survive_the_state_file() {
    let d = Scratch::new("merge");
    let hv = hv_with(vec![], |c| module("f", c, Module { apply_ends: Some(libc::EIO), ..Module::default() }));
    let f = d.payload("f", &Spec::new(0xa1, &xen_id(), &xen_id()));
    assert_eq!(rc(&hv, &Req::upload("f", f)), Ok(0));
    assert_eq!(rc(&hv, &Req::action("f", APPLY)), Ok(0));
    assert_eq!(status(&hv, "f"), Ok((CHECKED, -libc::EIO)), "the module's failing apply");
    // A new process over the same state (FAKEXEN_STATE) still knows f's build id.
    let saved = hv.sim().save_state(true);
    assert!(saved.contains(&format!("file 66 {} {} 10", "a1".repeat(20), testpayload_hex(&xen_id()))), "{saved}");
    let again = hv_with(vec![], |_| {});
    again.sim().load_state(&saved).unwrap();
    let dup = d.payload("dup", &Spec::new(0xa1, &xen_id(), &xen_id()));
    assert_eq!(rc(&again, &Req::upload("g", dup)), Err(libc::EEXIST));
}

fn testpayload_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn livepatch_flag_force_is_einval_before_xen_4_19_and_accepted_from_it() {
    for (minor, want) in [(17, Err(libc::EINVAL)), (18, Err(libc::EINVAL)), (19, Ok(())), (22, Ok(()))] {
        let hv = hv_with(vec![], |c| c.xen.minor = minor);
        let r = xc_livepatch::manage::upload_with(&hv, b"p", &elf(64), true).map_err(|e| e.errno());
        assert_eq!(r, want, "Xen 4.{minor}");
        assert_eq!(hv.sim().counters().upload_forced, 1, "counted before the op-level check");
        assert_eq!(xc_livepatch::manage::upload_with(&hv, b"q", &elf(64), false).map_err(|e| e.errno()), Ok(()));
    }
}
