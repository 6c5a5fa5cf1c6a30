//! One driver at a time: every managing subcommand (`upload`, `apply`,
//! `revert`, `replace`, `unload`, `load`, `ensure`) holds an exclusive
//! `flock(2)` on one file for its whole run; `list` and `inspect` take none.
//!
//! Which file: `XC_LIVEPATCH_LOCK` if set (the tests' override, e.g. for
//! programs run under fakexen, which believe they talk to a real
//! hypervisor); else, under `--sim` with `--sim-state FILE`, `FILE.lock` (the
//! drivers of that one simulated hypervisor); else, under `--sim` without a
//! state file, none (each process has a hypervisor of its own); else
//! [`SYSTEM_LOCK`].
//!
//! Why `flock` on a file under `/run/lock`: the kernel drops the lock when
//! the holder exits, however it exits (SIGKILL included), so a stale lock
//! cannot outlive a crashed driver and nothing has to be cleaned up;
//! `/run/lock` is a tmpfs that every FHS system has and empties at boot. The
//! holder writes its PID into the file (after taking the lock), which is
//! what a waiter that gives up names. The lock is advisory: it serialises
//! the drivers that take it (ours), not Debian's `xen-livepatch` or xapi.

use std::fs::File;
use std::io::{Read as _, Seek as _, Write as _};
use std::os::fd::AsRawFd as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The lock file of the real hypervisor.
pub const SYSTEM_LOCK: &str = "/run/lock/xc-livepatch.lock";
/// The environment variable that overrides the lock file's path.
pub const LOCK_ENV: &str = "XC_LIVEPATCH_LOCK";
/// How often a waiting driver tries again.
const RETRY: Duration = Duration::from_millis(10);

/// The lock file for this run, or `None` when nothing is shared.
pub fn path_for(sim: Option<&Path>, sim_state: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(LOCK_ENV).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    match (sim, sim_state) {
        (None, _) => Some(PathBuf::from(SYSTEM_LOCK)),
        (Some(_), Some(state)) => {
            let mut p = state.as_os_str().to_owned();
            p.push(".lock");
            Some(PathBuf::from(p))
        }
        (Some(_), None) => None,
    }
}

/// The lock, held until dropped (or the process exits).
#[derive(Debug)]
pub struct Held {
    _file: File,
}

/// Takes the lock on `path`, waiting at most `wait` for another driver to
/// let go. The error is one line (without the program's name).
pub fn acquire(path: &Path, wait: Duration) -> Result<Held, String> {
    let mut file = open(path).map_err(|e| format!("cannot open the lock file {}: {e}", path.display()))?;
    let deadline = Instant::now().checked_add(wait);
    loop {
        match try_flock(&file) {
            Ok(true) => break,
            Ok(false) => {}
            Err(e) => return Err(format!("cannot lock {}: {e}", path.display())),
        }
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if left == Some(Duration::ZERO) {
            return Err(busy(&mut file, path, wait));
        }
        std::thread::sleep(left.map_or(RETRY, |l| RETRY.min(l)));
    }
    // Ours now: say who holds it. A file opened read-only (another user's)
    // still locks; its PID is then not written, which only a waiter misses.
    let _ = file.set_len(0).and_then(|()| file.rewind()).and_then(|()| writeln!(file, "{}", std::process::id()));
    Ok(Held { _file: file })
}

fn open(path: &Path) -> std::io::Result<File> {
    let rw = File::options().read(true).write(true).create(true).mode(0o644).custom_flags(libc::O_CLOEXEC).open(path);
    match rw {
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => File::open(path),
        r => r,
    }
}

/// `flock(LOCK_EX | LOCK_NB)`: `Ok(false)` when another holds it.
#[allow(unsafe_code)]
fn try_flock(file: &File) -> std::io::Result<bool> {
    loop {
        // SAFETY: flock on a file descriptor this File owns and keeps open;
        // no memory is passed.
        let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if r == 0 {
            return Ok(true);
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EWOULDBLOCK) => return Ok(false),
            Some(libc::EINTR) => continue,
            _ => return Err(e),
        }
    }
}

/// The line of a driver that gave up: who holds the lock, as its file says.
fn busy(file: &mut File, path: &Path, wait: Duration) -> String {
    let mut text = String::new();
    let _ = file.rewind().and_then(|()| file.take(32).read_to_string(&mut text));
    let holder = match text.trim().parse::<u32>() {
        Ok(pid) => format!("process {pid}"),
        Err(_) => "another process (its PID not yet written)".into(),
    };
    format!(
        "another xc-livepatch is managing live patches: {} is locked by {holder} (waited {}); try again, or give --lock-wait",
        path.display(),
        crate::lock::human(wait)
    )
}

/// `0s`, `250ms`, `1m`: a duration as `--lock-wait` takes it.
pub fn human(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        if d.as_secs().is_multiple_of(60) && d.as_secs() > 0 {
            format!("{}m", d.as_secs() / 60)
        } else {
            format!("{}s", d.as_secs())
        }
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_fails_at_once_with_the_first_ones_pid() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("l");
        let held = acquire(&p, Duration::ZERO).unwrap();
        let e = acquire(&p, Duration::ZERO).unwrap_err();
        assert!(e.contains(&format!("locked by process {}", std::process::id())), "{e}");
        drop(held);
        acquire(&p, Duration::ZERO).unwrap();
    }

    #[test]
    fn a_waiter_gets_the_lock_once_it_is_let_go() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("l");
        let held = acquire(&p, Duration::ZERO).unwrap();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(held);
        });
        let t0 = Instant::now();
        acquire(&p, Duration::from_secs(30)).unwrap();
        assert!(t0.elapsed() >= Duration::from_millis(90));
        t.join().unwrap();
    }

    #[test]
    fn the_lock_file_follows_the_hypervisor_asked_for() {
        // (XC_LIVEPATCH_LOCK is not set in the unit tests.)
        assert_eq!(path_for(None, None), Some(PathBuf::from(SYSTEM_LOCK)));
        assert_eq!(path_for(Some(Path::new("s.scn")), None), None);
        assert_eq!(path_for(Some(Path::new("s.scn")), Some(Path::new("/t/st"))), Some(PathBuf::from("/t/st.lock")));
    }

    #[test]
    fn durations_print_as_they_are_given() {
        assert_eq!(human(Duration::ZERO), "0s");
        assert_eq!(human(Duration::from_secs(60)), "1m");
        assert_eq!(human(Duration::from_millis(250)), "250ms");
    }
}
