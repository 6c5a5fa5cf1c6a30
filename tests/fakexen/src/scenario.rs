//! The scenario file (env `FAKEXEN_SCENARIO`): one directive per line, `#`
//! starts a comment. See tests/fakexen/README.md for the format.

use std::collections::BTreeMap;
use xc_livepatch::sim::{self, Change, Config, Lie, Payload, Xsm};

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
#[derive(Debug)]
pub struct Scenario {
    pub payloads: Vec<Payload>,
    pub config: Config,
    pub privcmd: Privcmd,
    pub hypercall_device: bool,
    pub strict: bool,
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

fn parse_num(s: &str) -> Result<u64, String> {
    let r = if let Some(h) = s.strip_prefix("0x") { u64::from_str_radix(h, 16) } else { s.parse() };
    r.map_err(|_| format!("bad number {s:?}"))
}

fn parse_state(s: &str) -> Result<u32, String> {
    match s.to_ascii_lowercase().as_str() {
        "checked" => Ok(1),
        "applied" => Ok(2),
        _ => parse_num(s).map(|n| n as u32),
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
    if s.len() % 2 != 0 {
        return Err("odd hex length".into());
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|_| format!("bad hex {s:?}"))).collect()
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
            "interface" => sc.config.interface_version = parse_num(arg(1)?).map_err(err)? as u32,
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
            "list-max-nr" => sc.config.list_max_nr = parse_num(arg(1)?).map_err(err)? as u32,
            "preempt" => sc.config.preempt_every = Some(parse_num(arg(1)?).map_err(err)? as u32),
            "payload" => sc.payloads.push(parse_payload(&toks[1..]).map_err(err)?),
            "generate" => {
                let n = parse_num(arg(1)?).map_err(err)? as usize;
                let m = parse_num(arg(2)?).map_err(err)? as usize;
                sc.payloads.extend(sim::generated(n, m));
            }
            "lie" => {
                sc.config.lie = Some(match arg(1)? {
                    "extra-entry" => Lie::ExtraEntry,
                    "no-progress" => Lie::NoProgress,
                    "long-name" => Lie::LongName,
                    "version-flap" => Lie::VersionFlap,
                    "name-bytes" => Lie::NameBytes(parse_num(arg(2)?).map_err(err)? as u32),
                    "meta-bytes" => Lie::MetadataBytes(parse_num(arg(2)?).map_err(err)? as u32),
                    o => return Err(err(format!("bad lie {o:?}"))),
                })
            }
            // at call|list|data K upload PAYLOAD | unload NAME | state NAME S RC | fail ERRNO
            "at" => {
                let k = parse_num(arg(2)?).map_err(err)?;
                let action = match arg(3)? {
                    "upload" => Action::Change(Change::Upload(parse_payload(&toks[4..]).map_err(err)?)),
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
            o => return Err(err(format!("unknown directive {o:?}"))),
        }
    }
    let _: &BTreeMap<u64, i32> = &sc.config.inject;
    Ok(sc)
}
