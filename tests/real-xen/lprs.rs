//! Real-Xen harness helper (built as the cargo example `real-xen-lprs`; never part of the
//! library): the Rust `list_from()` over the real hypervisor, through a wrapper
//! [`Hypervisor`] that counts what the hypervisor answered to every sysctl, so the test
//! sees the re-probes that `list()` does internally.
//!
//! ```text
//! lprs race IFACE UNLOAD NAME FILE    list_from() with UNLOAD unloaded and NAME uploaded
//!                                     (`lpraw IFACE ...`) right after its first size
//!                                     probe: prints the dump; exit 0 only if it probed
//!                                     again and succeeded
//! lprs loop N EXPECTED CHURN [MS]     N list_from() snapshots while another process
//!                                     churns (MS milliseconds after each size probe);
//!                                     each must be EXPECTED plus at most one copy of
//!                                     each CHURN entry (the --dump format)
//! ```
//! Counts go to stderr (race) or stdout (loop) as `key=value`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::process::{Command, ExitCode};
use std::sync::atomic::AtomicU32;
use xc_livepatch::abi::{XEN_SYSCTL_livepatch_op, XEN_SYSCTL_LIVEPATCH_LIST};
use xc_livepatch::sysctl::at;
use xc_livepatch::{Error, Hypervisor, Payload, Result, Xen};

type Hook = Box<dyn FnOnce()>;

/// The real hypervisor, with every LIST answer counted.
#[derive(Default)]
struct Counting {
    probes: Cell<u32>,
    lists: Cell<u32>,
    errnos: RefCell<HashMap<i32, u32>>,
    after_first_probe: RefCell<Option<Hook>>,
    /// Pause after every size probe (loop mode): room for the churn to change the list.
    window: Cell<std::time::Duration>,
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_ne_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

impl Hypervisor for Counting {
    type Buffer = <Xen as Hypervisor>::Buffer;
    fn alloc(&self, bytes: usize) -> Result<Self::Buffer> {
        Xen.alloc(bytes)
    }
    fn sysctl(&self, buf: &mut Self::Buffer) -> Result<i64> {
        let s = buf.as_slice();
        let is_list =
            u32_at(s, at::CMD) == XEN_SYSCTL_livepatch_op && u32_at(s, at::OP_CMD) == XEN_SYSCTL_LIVEPATCH_LIST;
        let probe = is_list && u32_at(s, at::NR) == 0;
        let r = Xen.sysctl(buf);
        match &r {
            Ok(_) if probe => {
                self.probes.set(self.probes.get() + 1);
                if let Some(h) = self.after_first_probe.borrow_mut().take() {
                    h();
                }
                std::thread::sleep(self.window.get());
            }
            Ok(_) if is_list => self.lists.set(self.lists.get() + 1),
            Ok(_) => {}
            // the hypervisor's own errno (not the library's mapping of it)
            Err(Error::Hypervisor { errno }) => *self.errnos.borrow_mut().entry(*errno).or_default() += 1,
            Err(e) => *self.errnos.borrow_mut().entry(e.errno()).or_default() += 1,
        }
        r
    }
    fn interface_cache(&self) -> &AtomicU32 {
        Xen.interface_cache()
    }
    fn count_hint(&self) -> &AtomicU32 {
        Xen.count_hint()
    }
}

impl Counting {
    fn reset(&self) {
        self.probes.set(0);
        self.lists.set(0);
        self.errnos.borrow_mut().clear();
    }
    fn errno_text(&self) -> String {
        let mut v: Vec<_> = self.errnos.borrow().iter().map(|(k, v)| (*k, *v)).collect();
        v.sort();
        v.iter().map(|(e, n)| format!(" errno{e}={n}")).collect()
    }
}

fn dump(payloads: &[Payload]) -> String {
    let mut o = format!("count {}\n", payloads.len());
    for p in payloads {
        let hex: String = p.metadata_raw().iter().map(|b| format!("{b:02x}")).collect();
        // The name escaped as xc-livepatch's dump does (one line per payload).
        let mut name = Vec::new();
        for &b in p.name_bytes() {
            match b {
                b'\\' => name.extend_from_slice(b"\\\\"),
                0..=0x1f | 0x7f => name.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
                _ => name.push(b),
            }
        }
        o.push_str(&format!("{}\t{}\t{}\t{}\n", String::from_utf8_lossy(&name), p.state.raw(), p.rc, hex));
    }
    o
}

fn lpraw(args: &[&str]) {
    match Command::new("lpraw").args(args).status() {
        Ok(s) if s.success() => {}
        other => eprintln!("lprs: lpraw {args:?}: {other:?}"),
    }
}

fn race(iface: &str, unload: &str, name: &str, file: &str) -> ExitCode {
    let hv = Counting::default();
    if let Err(e) = xc_livepatch::interface_version_of(&hv) {
        eprintln!("lprs: interface probe failed: {e}");
        return ExitCode::from(2);
    }
    hv.reset();
    let (i, u, n, f) = (iface.to_string(), unload.to_string(), name.to_string(), file.to_string());
    *hv.after_first_probe.borrow_mut() = Some(Box::new(move || {
        lpraw(&[&i, "unload", &u]);
        lpraw(&[&i, "upload1", &n, &f]);
    }));
    let r = xc_livepatch::list_from(&hv);
    let facts =
        format!("size probes={} list calls={} hypervisor errors:{}", hv.probes.get(), hv.lists.get(), hv.errno_text());
    match r {
        Ok(p) => {
            print!("{}", dump(&p));
            let reprobed = hv.probes.get() >= 2;
            eprintln!(
                "list() returned {} payloads; {facts}; re-probed: {}",
                p.len(),
                if reprobed { "yes" } else { "NO" }
            );
            if reprobed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("list() failed: {e} (errno {}); {facts}", e.errno());
            ExitCode::from(1)
        }
    }
}

type Entry = (String, String);

fn parse(text: &str) -> (Option<usize>, Vec<Entry>) {
    let mut count = None;
    let mut v = Vec::new();
    for l in text.lines() {
        if count.is_none() && v.is_empty() {
            if let Some(c) = l.strip_prefix("count ") {
                count = c.parse().ok();
                continue;
            }
        }
        let (a, b) = l.split_once('\t').unwrap_or((l, ""));
        v.push((a.to_string(), b.to_string()));
    }
    (count, v)
}

/// A snapshot is consistent if, without the churn entries (each exactly as expected and
/// at most once), it is exactly the static list.
fn consistent(stat: &[Entry], churn: &HashMap<String, String>, got: &[Entry]) -> std::result::Result<usize, String> {
    let mut seen = HashMap::new();
    let mut rest = Vec::new();
    for (i, (n, r)) in got.iter().enumerate() {
        if let Some(want) = churn.get(n) {
            if *seen.entry(n.clone()).and_modify(|c| *c += 1).or_insert(1) > 1 {
                return Err(format!("entry {i}: churn payload {n} listed twice"));
            }
            if want != r {
                return Err(format!("entry {i}: churn payload {n} has wrong state/rc/metadata"));
            }
        } else {
            rest.push((n, r));
        }
    }
    if rest.len() != stat.len() {
        return Err(format!("{} static entries, expected {}", rest.len(), stat.len()));
    }
    for (i, ((n, r), (en, er))) in rest.iter().zip(stat).enumerate() {
        if *n != en || *r != er {
            return Err(format!("static entry {i}: expected {en}, got {n} (or different state/rc/metadata)"));
        }
    }
    Ok(seen.len())
}

fn lp_loop(n: u32, expected: &str, churn: &str, window_ms: u64) -> ExitCode {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{p}: {e}"));
    let (_, stat) = parse(&read(expected));
    let churn: HashMap<String, String> = parse(&read(churn)).1.into_iter().collect();
    let hv = Counting::default();
    // the interface probe's EACCES answers are not the listing's: probe first
    let _ = xc_livepatch::interface_version_of(&hv);
    hv.window.set(std::time::Duration::from_millis(window_ms));
    let (mut ok, mut torn, mut reprobed, mut errs) = (0u32, 0u32, 0u32, HashMap::<i32, u32>::new());
    let mut hv_errnos = HashMap::<i32, u32>::new();
    let t0 = std::time::Instant::now();
    for i in 0..n {
        hv.reset();
        let r = xc_livepatch::list_from(&hv);
        for (e, c) in hv.errnos.borrow().iter() {
            *hv_errnos.entry(*e).or_default() += c;
        }
        if hv.probes.get() >= 2 {
            reprobed += 1;
        }
        match r {
            Ok(p) => {
                let (count, got) = parse(&dump(&p));
                match consistent(&stat, &churn, &got).and_then(|c| {
                    if count == Some(got.len()) {
                        Ok(c)
                    } else {
                        Err("count line".into())
                    }
                }) {
                    Ok(_) => ok += 1,
                    Err(why) => {
                        torn += 1;
                        println!("TORN snapshot {i}: {why}");
                    }
                }
            }
            Err(e) => *errs.entry(e.errno()).or_default() += 1,
        }
    }
    let fmt = |m: &HashMap<i32, u32>| {
        let mut v: Vec<_> = m.iter().collect();
        v.sort();
        v.iter().map(|(e, c)| format!(" errno{e}={c}")).collect::<String>()
    };
    println!(
        "rust-loop snapshots={n} consistent={ok} torn={torn} reprobed={reprobed} hypervisor_enobufs={} hypervisor_efault={} hypervisor_errors:{} list_errors:{} seconds={:.2}",
        hv_errnos.get(&libc::ENOBUFS).copied().unwrap_or(0),
        hv_errnos.get(&libc::EFAULT).copied().unwrap_or(0),
        fmt(&hv_errnos),
        fmt(&errs),
        t0.elapsed().as_secs_f64()
    );
    if torn == 0 && ok > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn main() -> ExitCode {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    match a.as_slice() {
        ["race", iface, unload, name, file] => race(iface, unload, name, file),
        ["loop", n, expected, churn] => lp_loop(n.parse().unwrap_or(1), expected, churn, 0),
        ["loop", n, expected, churn, ms] => lp_loop(n.parse().unwrap_or(1), expected, churn, ms.parse().unwrap_or(0)),
        _ => {
            eprintln!("usage: lprs race IFACE UNLOAD NAME FILE | lprs loop N EXPECTED CHURN [MS]");
            ExitCode::from(2)
        }
    }
}
