//! Scenario files: a simulated hypervisor described in text, one directive
//! per line (`#` starts a comment). The format is documented in
//! `tests/fakexen/README.md`; the `fakexen` preload shim and the
//! `xc-livepatch --sim` command read the same files.
//!
//! [`Events`] fires a scenario's scheduled `at list|data K` events before
//! the hypercalls they name; [`ScenarioHypervisor`] runs a whole scenario
//! in-process as a [`Hypervisor`].

use super::{Change, Config, Depends, Lie, Module, Payload, SimBuffer, SimHypervisor, Xsm};
use crate::error::Error;
use crate::sysctl::{at, Buffer, Hypervisor, SYSCTL_SIZE};
use core::sync::atomic::AtomicU32;
use std::sync::Mutex;

/// When a scheduled event fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum When {
    /// Before the k-th LIST hypercall that carries the hypervisor's own
    /// interface version (probes and data calls; 1-based).
    List(u64),
    /// Before the k-th LIST data call (nr > 0) with the right version.
    Data(u64),
}

/// What a scheduled event does.
#[derive(Debug, Clone)]
pub enum Action {
    /// A list change (upload, unload, state change).
    Change(Change),
    /// Fail that hypercall with this errno (after the version/XSM checks).
    Fail(i32),
}

/// Where privcmd is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Privcmd {
    /// `/dev/xen/privcmd`.
    Dev,
    /// Only xenfs' `/proc/xen/privcmd`.
    Proc,
    /// Neither (not a Xen dom0).
    Absent,
}

/// A parsed scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The payloads loaded at the start.
    pub payloads: Vec<Payload>,
    /// The model's knobs (interface version, XSM, preemption, lies,
    /// `at call K` changes and errors).
    pub config: Config,
    /// Where privcmd is found.
    pub privcmd: Privcmd,
    /// Whether `/dev/xen/hypercall` exists.
    pub hypercall_device: bool,
    /// Strict memory mode (the fakexen shim only).
    pub strict: bool,
    /// `at list|data K` events.
    pub events: Vec<(When, Action)>,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            payloads: Vec::new(),
            config: Config::default(),
            privcmd: Privcmd::Dev,
            hypercall_device: true,
            strict: true,
            events: Vec::new(),
        }
    }
}

fn errno_by_name(s: &str) -> Option<i32> {
    let s = s.trim_start_matches('-');
    if let Ok(n) = s.parse::<i32>() {
        return Some(n);
    }
    Some(match s {
        "EPERM" => libc::EPERM,
        "ENOENT" => libc::ENOENT,
        "E2BIG" => libc::E2BIG,
        "EAGAIN" => libc::EAGAIN,
        "ENOMEM" => libc::ENOMEM,
        "EACCES" => libc::EACCES,
        "EFAULT" => libc::EFAULT,
        "EBUSY" => libc::EBUSY,
        "EEXIST" => libc::EEXIST,
        "EINVAL" => libc::EINVAL,
        "ENOSPC" => libc::ENOSPC,
        "ENOSYS" => libc::ENOSYS,
        "EOVERFLOW" => libc::EOVERFLOW,
        "EOPNOTSUPP" => libc::EOPNOTSUPP,
        "ENOBUFS" => libc::ENOBUFS,
        "ETIMEDOUT" => libc::ETIMEDOUT,
        "EIO" => libc::EIO,
        _ => return None,
    })
}

/// An rc: a number, or `-ENAME`.
fn parse_rc(s: &str) -> Result<i32, String> {
    if let Ok(n) = s.parse::<i32>() {
        return Ok(n);
    }
    let e = errno_by_name(s).ok_or_else(|| format!("bad rc {s:?}"))?;
    Ok(if s.starts_with('-') { -e } else { e })
}

fn parse_u64(s: &str) -> Result<u64, core::num::ParseIntError> {
    if let Some(h) = s.strip_prefix("0x") {
        u64::from_str_radix(h, 16)
    } else {
        s.parse()
    }
}

fn parse_num(s: &str) -> Result<u64, String> {
    parse_u64(s).map_err(|_| format!("bad number {s:?}"))
}

/// The bounds on a scenario file and what it asks for, so that no file can
/// make a reader panic, abort or take unbounded memory or time
/// (documented in `tests/fakexen/README.md`).
pub mod bounds {
    /// The largest scenario file read, in bytes.
    pub const FILE_BYTES: u64 = 4 << 20;
    /// The most payloads a scenario may hold: loaded at the start
    /// (`payload`, `generate`) and uploaded by its events, together.
    pub const PAYLOADS: u64 = 65_536;
    /// The most metadata bytes of one payload.
    pub const METADATA_BYTES: u64 = 1 << 20;
    /// The most name and metadata bytes of all payloads together.
    pub const TOTAL_BYTES: u64 = 32 << 20;
}

/// A number (decimal, or hex after `0x`) no larger than `max`; `what`
/// names it in the error.
pub(crate) fn bounded(s: &str, max: u64, what: &str) -> Result<u64, String> {
    match parse_u64(s) {
        Ok(n) if n <= max => Ok(n),
        Err(e) if *e.kind() != core::num::IntErrorKind::PosOverflow => Err(format!("bad number {s:?}")),
        _ => Err(format!("{what} {s} is out of range (at most {max})")),
    }
}

/// A number that fits a `u32` (a hypervisor field).
pub(crate) fn bounded_u32(s: &str, what: &str) -> Result<u32, String> {
    bounded(s, u32::MAX.into(), what).map(|n| n as u32)
}

/// What a scenario's payloads have taken of [`bounds`] so far.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    payloads: u64,
    bytes: u64,
}

impl Budget {
    /// Takes `payloads` more payloads of `bytes` names and metadata in all.
    pub(crate) fn take(&mut self, payloads: u64, bytes: u64) -> Result<(), String> {
        let p = self.payloads.saturating_add(payloads);
        let b = self.bytes.saturating_add(bytes);
        if p > bounds::PAYLOADS {
            return Err(format!("more than {} payloads in all", bounds::PAYLOADS));
        }
        if b > bounds::TOTAL_BYTES {
            return Err(format!("more than {} bytes of payload names and metadata in all", bounds::TOTAL_BYTES));
        }
        (self.payloads, self.bytes) = (p, b);
        Ok(())
    }

    /// Takes one payload, whose metadata must be within its own bound.
    pub(crate) fn payload(&mut self, p: Payload) -> Result<Payload, String> {
        if p.metadata.len() as u64 > bounds::METADATA_BYTES {
            return Err(format!("more than {} bytes of metadata in one payload", bounds::METADATA_BYTES));
        }
        self.take(1, (p.name.len() + p.metadata.len()) as u64)?;
        Ok(p)
    }
}

/// Reads a scenario file: a regular file (a FIFO or a device is refused
/// without waiting on it) of at most [`bounds::FILE_BYTES`] bytes of UTF-8.
/// The error is one line naming the file.
pub fn read_file(path: &std::path::Path) -> Result<String, String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let name = path.display();
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| format!("cannot read scenario {name}: {e}"))?;
    let kind = f.metadata().map_err(|e| format!("cannot read scenario {name}: {e}"))?.file_type();
    if !kind.is_file() {
        return Err(format!(
            "scenario {name}: not a regular file ({})",
            if kind.is_dir() { "a directory" } else { "a device, FIFO or socket" }
        ));
    }
    let mut bytes = Vec::new();
    f.take(bounds::FILE_BYTES + 1).read_to_end(&mut bytes).map_err(|e| format!("cannot read scenario {name}: {e}"))?;
    if bytes.len() as u64 > bounds::FILE_BYTES {
        return Err(format!("scenario {name}: larger than {} bytes", bounds::FILE_BYTES));
    }
    String::from_utf8(bytes).map_err(|_| format!("scenario {name}: not UTF-8 text"))
}

#[cfg(test)]
#[path = "scenario_bounds_tests.rs"]
mod bounds_tests;

fn parse_state(s: &str) -> Result<u32, String> {
    match s.to_ascii_lowercase().as_str() {
        "checked" => Ok(1),
        "applied" => Ok(2),
        _ => bounded_u32(s, "state"),
    }
}

/// Unescapes `\xNN`, `\0`, `\n`, `\t`, `\s` (space), `\\`.
pub fn unescape(s: &str) -> Result<Vec<u8>, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let c = *b.get(i + 1).ok_or("trailing backslash")?;
        i += 2;
        match c {
            b'0' => out.push(0),
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b's' => out.push(b' '),
            b'\\' => out.push(b'\\'),
            b'x' => {
                let h = s.get(i..i + 2).ok_or("short \\x escape")?;
                out.push(u8::from_str_radix(h, 16).map_err(|_| format!("bad \\x{h}"))?);
                i += 2;
            }
            _ => return Err(format!("unknown escape \\{}", c as char)),
        }
    }
    Ok(out)
}

fn unhex(s: &str) -> Result<Vec<u8>, String> {
    if !s.len().is_multiple_of(2) {
        return Err("odd hex length".into());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()).ok_or_else(|| format!("bad hex {s:?}")))
        .collect()
}

/// `NAME [state=S] [rc=R] [meta=ESC] [metahex=HEX] [metarepeat=N]`
fn parse_payload(toks: &[&str]) -> Result<Payload, String> {
    let name = unescape(toks.first().ok_or("payload needs a name")?)?;
    let mut p = Payload::new(name, b"");
    for t in &toks[1..] {
        let (k, v) = t.split_once('=').ok_or_else(|| format!("expected key=value, got {t:?}"))?;
        match k {
            "state" => p.state = parse_state(v)?,
            "rc" => p.rc = parse_rc(v)?,
            "meta" => p.metadata.extend(unescape(v)?),
            "metahex" => p.metadata.extend(unhex(v)?),
            _ => return Err(format!("unknown payload key {k:?}")),
        }
    }
    Ok(p)
}

/// Parses a scenario file's text.
pub fn parse(text: &str) -> Result<Scenario, String> {
    let mut sc = Scenario::default();
    let mut budget = Budget::default();
    for (ln, line) in text.lines().enumerate() {
        let line = match line.find(" #") {
            Some(i) => &line[..i],
            None => line,
        };
        let toks: Vec<&str> = line.split_whitespace().collect();
        if toks.is_empty() || toks[0].starts_with('#') {
            continue;
        }
        let err = |e: String| format!("line {}: {e}", ln + 1);
        let arg = |i: usize| toks.get(i).copied().ok_or_else(|| err(format!("{} needs an argument", toks[0])));
        match toks[0] {
            "interface" => sc.config.interface_version = bounded_u32(arg(1)?, "interface").map_err(err)?,
            "livepatch" => sc.config.livepatch = matches!(arg(1)?, "on" | "present" | "yes"),
            "xsm" => {
                sc.config.xsm = match arg(1)? {
                    "allow" => Xsm::Allow,
                    "deny" | "dummy-deny" => Xsm::DenyDummy,
                    "flask-deny" | "flask" => Xsm::DenyFlask,
                    o => return Err(err(format!("bad xsm {o:?}"))),
                }
            }
            "hypercall-device" => sc.hypercall_device = matches!(arg(1)?, "present" | "on" | "yes"),
            "privcmd" => {
                sc.privcmd = match arg(1)? {
                    "dev" => Privcmd::Dev,
                    "proc" => Privcmd::Proc,
                    "absent" => Privcmd::Absent,
                    o => return Err(err(format!("bad privcmd {o:?}"))),
                }
            }
            "strict" => sc.strict = matches!(arg(1)?, "on" | "yes"),
            "list-max-nr" => sc.config.list_max_nr = bounded_u32(arg(1)?, "list-max-nr").map_err(err)?,
            "preempt" => sc.config.preempt_every = Some(bounded_u32(arg(1)?, "preempt").map_err(err)?),
            "payload" => sc.payloads.push(parse_payload(&toks[1..]).and_then(|p| budget.payload(p)).map_err(err)?),
            "generate" => {
                let n = bounded(arg(1)?, bounds::PAYLOADS, "generate: payload count").map_err(err)?;
                let m = bounded(arg(2)?, bounds::METADATA_BYTES, "generate: metadata size").map_err(err)?;
                // Names `lp-00000`..`lp-65535`: 8 bytes each.
                budget.take(n, n * (8 + m)).map_err(err)?;
                sc.payloads.extend(super::generated(n as usize, m as usize));
            }
            "lie" => {
                sc.config.lie = Some(match arg(1)? {
                    "extra-entry" => Lie::ExtraEntry,
                    "no-progress" => Lie::NoProgress,
                    "long-name" => Lie::LongName,
                    "version-flap" => Lie::VersionFlap,
                    "name-bytes" => Lie::NameBytes(bounded_u32(arg(2)?, "name-bytes").map_err(err)?),
                    "meta-bytes" => Lie::MetadataBytes(bounded_u32(arg(2)?, "meta-bytes").map_err(err)?),
                    _ => parse_manage_lie(&toks).map_err(err)?,
                })
            }
            // at call|list|data K upload PAYLOAD | unload NAME | state NAME S RC | fail ERRNO
            "at" => {
                let k = parse_num(arg(2)?).map_err(err)?;
                let action = match arg(3)? {
                    "upload" => Action::Change(Change::Upload(
                        parse_payload(&toks[4..]).and_then(|p| budget.payload(p)).map_err(err)?,
                    )),
                    "unload" => Action::Change(Change::Unload(unescape(arg(4)?).map_err(err)?)),
                    "state" => Action::Change(Change::SetState(
                        unescape(arg(4)?).map_err(err)?,
                        parse_state(arg(5)?).map_err(err)?,
                        parse_rc(arg(6)?).map_err(err)?,
                    )),
                    "fail" => Action::Fail(errno_by_name(arg(4)?).ok_or_else(|| err("bad errno".into()))?),
                    o => return Err(err(format!("bad action {o:?}"))),
                };
                match arg(1)? {
                    // Raw hypercall numbers: handed to the simulator as is.
                    "call" => match action {
                        Action::Change(c) => sc.config.changes.entry(k).or_default().push(c),
                        Action::Fail(e) => {
                            sc.config.inject.insert(k, e);
                        }
                    },
                    "list" => sc.events.push((When::List(k), action)),
                    "data" => sc.events.push((When::Data(k), action)),
                    o => return Err(err(format!("bad trigger {o:?}"))),
                }
            }
            "module" | "pending" | "rendezvous" | "upload-max" | "xen-version" | "extraversion" | "build-id" => {
                parse_manage_directive(&mut sc, &toks).map_err(err)?
            }
            o => return Err(err(format!("unknown directive {o:?}"))),
        }
    }
    Ok(sc)
}

// ---- the directives of UPLOAD, GET, ACTION and xen_version ------------------

/// `module`, `pending`, `rendezvous`, `upload-max`, `xen-version`,
/// `extraversion`, `build-id`.
fn parse_manage_directive(sc: &mut Scenario, toks: &[&str]) -> Result<(), String> {
    let arg = |i: usize| toks.get(i).copied().ok_or_else(|| format!("{} needs an argument", toks[0]));
    let cfg = &mut sc.config;
    match toks[0] {
        "module" => {
            let name = unescape(arg(1)?)?;
            let m = parse_module(&toks[2..], cfg.modules.remove(&name).unwrap_or_default())?;
            cfg.modules.insert(name, m);
        }
        "pending" => cfg.pending = parse_duration(arg(1)?)?,
        "rendezvous" => cfg.rendezvous = parse_duration(arg(1)?)?,
        "upload-max" => cfg.upload_max = parse_num(arg(1)?)?,
        "xen-version" => {
            let (major, minor) = arg(1)?.split_once('.').ok_or("xen-version needs MAJOR.MINOR")?;
            cfg.xen.major = parse_num(major)?.try_into().map_err(|_| "major version too large")?;
            cfg.xen.minor = parse_num(minor)?.try_into().map_err(|_| "minor version too large")?;
        }
        "extraversion" => cfg.xen.extraversion = unescape(arg(1)?)?,
        "build-id" => {
            cfg.xen.build_id = match arg(1)? {
                "none" => None,
                h => Some(unhex(h)?),
            }
        }
        o => return Err(format!("unknown directive {o:?}")),
    }
    Ok(())
}

/// `module NAME` keys: `reapply=yes|no id=HEX depends=xen|HEX hooks=vetoing|none
/// reject=ERRNO meta=ESC metahex=HEX apply-ends=ERRNO revert-ends=ERRNO`.
fn parse_module(toks: &[&str], mut m: Module) -> Result<Module, String> {
    let errno = |v: &str| errno_by_name(v).ok_or_else(|| format!("bad errno {v:?}"));
    for t in toks {
        let (k, v) = t.split_once('=').ok_or_else(|| format!("expected key=value, got {t:?}"))?;
        match k {
            "reapply" => m.reapply = parse_bool(v)?,
            "id" => m.build_id = Some(unhex(v)?),
            "depends" => m.depends = Some(if v == "xen" { Depends::Hypervisor } else { Depends::Id(unhex(v)?) }),
            "hooks" => m.vetoing_hooks = v == "vetoing",
            "reject" => m.reject = Some(errno(v)?),
            "meta" => m.metadata.extend(unescape(v)?),
            "metahex" => m.metadata.extend(unhex(v)?),
            "apply-ends" => m.apply_ends = Some(errno(v)?),
            "revert-ends" => m.revert_ends = Some(errno(v)?),
            _ => return Err(format!("unknown module key {k:?}")),
        }
    }
    Ok(m)
}

fn parse_bool(s: &str) -> Result<bool, String> {
    match s {
        "yes" | "on" | "true" => Ok(true),
        "no" | "off" | "false" => Ok(false),
        _ => Err(format!("expected yes or no, got {s:?}")),
    }
}

/// `0`, `N`ns, `N`us, `N`ms or `N`s, at most an hour (a deadline further out
/// could overflow the clock arithmetic, and no test waits that long).
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    use std::time::Duration;
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().map_err(|_| format!("bad duration {s:?}"))?;
    let d = parse_duration_unit(s, n, unit)?;
    if d > Duration::from_secs(3600) {
        return Err(format!("duration {s} is out of range (at most 3600s)"));
    }
    Ok(d)
}

fn parse_duration_unit(s: &str, n: u64, unit: &str) -> Result<std::time::Duration, String> {
    use std::time::Duration;
    match unit {
        "" if n == 0 => Ok(Duration::ZERO),
        "ns" => Ok(Duration::from_nanos(n)),
        "us" => Ok(Duration::from_micros(n)),
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        _ => Err(format!("bad duration {s:?} (a number with ns, us, ms or s)")),
    }
}

/// The lies of GET, ACTION and UPLOAD: `get-state N`, `get-rc RC`,
/// `get-returns N`, `action-returns N`, `upload-phantom`, `upload-returns N`.
fn parse_manage_lie(toks: &[&str]) -> Result<Lie, String> {
    let arg = |i: usize| toks.get(i).copied().ok_or_else(|| format!("lie {} needs an argument", toks[1]));
    let int = |s: &str| -> Result<i64, String> {
        match s.strip_prefix('-') {
            Some(t) => bounded(t, i64::MAX as u64, "a return value").map(|n| -(n as i64)),
            None => bounded(s, i64::MAX as u64, "a return value").map(|n| n as i64),
        }
    };
    Ok(match toks.get(1).copied().unwrap_or("") {
        "get-state" => Lie::GetState(parse_state(arg(2)?)?),
        "get-rc" => Lie::GetRc(parse_rc(arg(2)?)?),
        "get-returns" => Lie::GetReturns(int(arg(2)?)?),
        "action-returns" => Lie::ActionReturns(int(arg(2)?)?),
        "upload-phantom" => Lie::UploadPhantom,
        "upload-returns" => Lie::UploadReturns(int(arg(2)?)?),
        o => return Err(format!("bad lie {o:?}")),
    })
}

/// A scenario's `at list|data K` events, fired before the LIST hypercalls
/// they name (only calls carrying the hypervisor's own interface version
/// count).
#[derive(Debug)]
pub struct Events {
    interface_version: u32,
    state: Mutex<EventState>,
}

#[derive(Debug)]
struct EventState {
    pending: Vec<(When, Option<Action>)>,
    list_calls: u64,
    data_calls: u64,
}

fn u32_at(b: &[u8], o: usize) -> u32 {
    b.get(o..o + 4).map_or(0, |s| u32::from_ne_bytes([s[0], s[1], s[2], s[3]]))
}

impl Events {
    /// The events of `sc`, none fired yet.
    pub fn new(sc: &Scenario) -> Events {
        Events {
            interface_version: sc.config.interface_version,
            state: Mutex::new(EventState {
                pending: sc.events.iter().map(|(w, a)| (*w, Some(a.clone()))).collect(),
                list_calls: 0,
                data_calls: 0,
            }),
        }
    }

    /// Called with the `xen_sysctl` request just before `sim` runs it:
    /// counts it if it is a LIST with the right interface version and fires
    /// the events due (a change now; an error injected into this call).
    pub fn before_sysctl(&self, sim: &super::Sim, request: &[u8]) {
        use crate::abi::{XEN_SYSCTL_livepatch_op, XEN_SYSCTL_LIVEPATCH_LIST};
        if u32_at(request, at::CMD) != XEN_SYSCTL_livepatch_op
            || u32_at(request, at::OP_CMD) != XEN_SYSCTL_LIVEPATCH_LIST
            || u32_at(request, at::IFACE) != self.interface_version
        {
            return;
        }
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.list_calls += 1;
        if u32_at(request, at::NR) > 0 {
            st.data_calls += 1;
        }
        let (l, d) = (st.list_calls, if u32_at(request, at::NR) > 0 { st.data_calls } else { 0 });
        for (w, a) in st.pending.iter_mut() {
            let fire = match *w {
                When::List(k) => k == l,
                When::Data(k) => d != 0 && k == d,
            };
            if !fire {
                continue;
            }
            match a.take() {
                Some(Action::Change(c)) => sim.change(c),
                Some(Action::Fail(e)) => {
                    let next = sim.counters().hypercalls + 1;
                    sim.configure(|c| {
                        c.inject.insert(next, e);
                    });
                }
                None => {}
            }
        }
    }
}

/// A whole scenario as an in-process [`Hypervisor`]: the model with the
/// scenario's payloads and knobs, its scheduled events, and no privcmd
/// (ENOENT, as opening `/dev/xen/privcmd` gives) when it says `privcmd absent`.
#[derive(Debug)]
pub struct ScenarioHypervisor {
    hv: SimHypervisor,
    events: Events,
    privcmd: bool,
}

impl ScenarioHypervisor {
    /// Runs `sc`.
    pub fn new(sc: &Scenario) -> ScenarioHypervisor {
        ScenarioHypervisor {
            hv: SimHypervisor::new(sc.payloads.clone(), sc.config.clone()),
            events: Events::new(sc),
            privcmd: sc.privcmd != Privcmd::Absent,
        }
    }

    /// The simulated hypervisor inside.
    pub fn inner(&self) -> &SimHypervisor {
        &self.hv
    }
}

impl Hypervisor for ScenarioHypervisor {
    type Buffer = SimBuffer;

    fn alloc(&self, bytes: usize) -> crate::Result<SimBuffer> {
        self.hv.alloc(bytes)
    }

    fn sysctl(&self, buf: &mut SimBuffer) -> crate::Result<i64> {
        if !self.privcmd {
            return Err(Error::Os { call: "open(/dev/xen/privcmd)", errno: libc::ENOENT });
        }
        let n = SYSCTL_SIZE.min(buf.len());
        self.events.before_sysctl(self.hv.sim(), &buf.as_slice()[..n]);
        self.hv.sysctl(buf)
    }

    fn xen_version(&self, cmd: u32, buf: Option<&mut SimBuffer>) -> crate::Result<i64> {
        if !self.privcmd {
            return Err(Error::Os { call: "open(/dev/xen/privcmd)", errno: libc::ENOENT });
        }
        self.hv.xen_version(cmd, buf)
    }

    fn interface_cache(&self) -> &AtomicU32 {
        self.hv.interface_cache()
    }

    fn count_hint(&self) -> &AtomicU32 {
        self.hv.count_hint()
    }
}
