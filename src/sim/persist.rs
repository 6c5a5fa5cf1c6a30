//! The model's changing state (the payloads, the list version, the applied
//! order, which payloads were reverted, the scheduled action) as text, so
//! that a sequence of processes (`xen-livepatch upload`, then `apply`, then
//! `list`, each under the fakexen shim) sees one hypervisor, and so that two
//! runs can be compared. One line per item; names, metadata and build ids
//! in hex (`file NAME BUILD-ID DEPENDS RV`: what an uploaded file said, R
//! safe to re-apply, V vetoing hooks, each 0 or 1).

use super::manage::Work;
use super::{Payload, Sim, State};
use std::fmt::Write as _;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn hex(b: &[u8]) -> String {
    if b.is_empty() {
        return "-".into();
    }
    b.iter().fold(String::with_capacity(2 * b.len()), |mut s, x| {
        let _ = write!(s, "{x:02x}");
        s
    })
}

fn unhex(s: &str) -> Result<Vec<u8>, String> {
    if s == "-" {
        return Ok(Vec::new());
    }
    if !s.len().is_multiple_of(2) {
        return Err(format!("odd hex length in {s:?}"));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()).ok_or_else(|| format!("bad hex {s:?}")))
        .collect()
}

fn num<T: std::str::FromStr>(s: Option<&str>) -> Result<T, String> {
    let s = s.ok_or("missing field")?;
    s.parse().map_err(|_| format!("bad number {s:?}"))
}

impl Sim {
    /// Replaces the payloads and the configuration, as a fresh hypervisor
    /// holding `payloads` (the counters are kept).
    pub fn reset(&self, payloads: Vec<Payload>, cfg: Config) {
        let mut st = self.lock();
        st.live = super::manage::Live::new(&payloads);
        st.payloads = payloads;
        st.cfg = cfg;
        st.version = 1;
    }

    /// The changing state as text ([`Sim::load_state`] reads it back). With
    /// `when`, the scheduled action's due time is included (as wall-clock
    /// time); without, the text compares equal for two runs that did the
    /// same things at different times.
    pub fn save_state(&self, when: bool) -> String {
        let mut st = self.lock();
        super::manage::run_due_work(&mut st);
        let mut o = format!("version {}\n", st.version);
        for p in &st.payloads {
            let _ = writeln!(o, "payload {} {} {} {}", hex(&p.name), p.state, p.rc, hex(&p.metadata));
        }
        for n in st.live.applied() {
            let _ = writeln!(o, "applied {}", hex(n));
        }
        for n in st.live.reverted() {
            let _ = writeln!(o, "reverted {}", hex(n));
        }
        for (n, f) in st.live.files() {
            let flags = format!("{}{}", u8::from(f.reapply), u8::from(f.vetoing_hooks));
            let _ = writeln!(o, "file {} {} {} {}", hex(n), hex(&f.build_id), hex(&f.depends), flags);
        }
        if let Some(w) = st.live.work() {
            let _ = write!(o, "work {} {} {}", hex(&w.name), w.cmd, w.timeout_ns);
            if when {
                let left = w.due.saturating_duration_since(Instant::now());
                let due = SystemTime::now() + left;
                let _ = write!(o, " {}", due.duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos());
            }
            o.push('\n');
        }
        o
    }

    /// Restores what [`Sim::save_state`] wrote (with the due time).
    pub fn load_state(&self, text: &str) -> Result<(), String> {
        let mut st = self.lock();
        load_into(&mut st, text)
    }
}

use super::Config;

fn load_into(st: &mut State, text: &str) -> Result<(), String> {
    st.payloads.clear();
    st.live = super::manage::Live::default();
    for (ln, line) in text.lines().enumerate() {
        let err = |e: String| format!("state line {}: {e}", ln + 1);
        let mut t = line.split_whitespace();
        match t.next() {
            None => {}
            Some("version") => st.version = num(t.next()).map_err(err)?,
            Some("payload") => {
                let name = unhex(t.next().unwrap_or("")).map_err(err)?;
                let state = num(t.next()).map_err(err)?;
                let rc = num(t.next()).map_err(err)?;
                let meta = unhex(t.next().unwrap_or("-")).map_err(err)?;
                st.payloads.push(Payload::new(name, meta).with_state(state, rc));
            }
            Some("applied") => st.live.push_applied(unhex(t.next().unwrap_or("")).map_err(err)?),
            Some("reverted") => st.live.mark_reverted(unhex(t.next().unwrap_or("")).map_err(err)?),
            Some("file") => {
                let name = unhex(t.next().unwrap_or("")).map_err(err)?;
                let build_id = unhex(t.next().unwrap_or("")).map_err(err)?;
                let depends = unhex(t.next().unwrap_or("")).map_err(err)?;
                let (reapply, vetoing_hooks) = match t.next() {
                    Some(f @ ("00" | "01" | "10" | "11")) => (f.starts_with('1'), f.ends_with('1')),
                    other => return Err(err(format!("bad file flags {other:?}"))),
                };
                st.live.set_file(name, super::FileFacts { build_id, depends, vetoing_hooks, reapply });
            }
            Some("work") => {
                let name = unhex(t.next().unwrap_or("")).map_err(err)?;
                let (cmd, timeout_ns) = (num(t.next()).map_err(err)?, num(t.next()).map_err(err)?);
                let due_ns: u128 = num(t.next()).map_err(err)?;
                let due_sys = UNIX_EPOCH + Duration::from_nanos(u64::try_from(due_ns).unwrap_or(u64::MAX));
                let left = due_sys.duration_since(SystemTime::now()).unwrap_or_default();
                st.live.set_work(Work { name, cmd, timeout_ns, due: Instant::now() + left });
            }
            Some(o) => return Err(err(format!("unknown item {o:?}"))),
        }
    }
    Ok(())
}
