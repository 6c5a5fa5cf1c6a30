//! `--output FILE` against hostile targets, as the command runs them: a
//! device, a FIFO, `/dev/stdout`, a planted temporary file, a umask, an old
//! file's owner, group and mode, a NAME_MAX name, and failing writes
//! (EFBIG under `ulimit -f 0`, ENOSPC on a full file system).
//!
//! The device cases first use private nodes (mknod, as root) so that a
//! regression replaces those, not the machine's /dev/null.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_xc-livepatch");

fn demo() -> String {
    format!("{}/../tests/fakexen/demo.scn", env!("CARGO_MANIFEST_DIR"))
}

fn many() -> String {
    format!("{}/../cli/tests/scenarios/03-many-payloads.scn", env!("CARGO_MANIFEST_DIR"))
}

/// The table the demo scenario lists, as written to stdout.
fn expected() -> Vec<u8> {
    let o = Command::new(BIN).args(["--sim", &demo(), "list"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    o.stdout
}

/// `xc-livepatch --sim demo list --output TARGET`, through `sh -c PRELUDE;
/// exec ...` (for umask, ulimit, or `$$`, the command's PID).
fn list_to(target: &Path, prelude: &str) -> Output {
    let script = format!("{prelude}\nexec \"$0\" --sim \"$1\" list --output \"$2\"");
    Command::new("sh").args(["-c", &script, BIN, &demo()]).arg(target).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let d = std::env::temp_dir().join(format!("xc-livepatch-output-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        Scratch(d)
    }

    fn names(&self) -> Vec<String> {
        let mut v: Vec<String> =
            fs::read_dir(&self.0).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn is_root() -> bool {
    fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn mknod(path: &Path, major: u32, minor: u32) -> bool {
    Command::new("mknod")
        .arg(path)
        .args(["c", &major.to_string(), &minor.to_string()])
        .status()
        .is_ok_and(|s| s.success())
}

/// A character device: written in place, kept; /dev/full's ENOSPC is one
/// error line and exit 1.
fn check_devices(null: &Path, full: &Path) {
    let o = list_to(null, "");
    assert_eq!(o.status.code(), Some(0), "{}: {}", null.display(), stderr(&o));
    assert!(fs::symlink_metadata(null).unwrap().file_type().is_char_device(), "{} was replaced", null.display());
    let o = list_to(full, "");
    assert_eq!(o.status.code(), Some(1), "{}: {}", full.display(), stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("No space left on device"), "{}", stderr(&o));
    assert!(fs::symlink_metadata(full).unwrap().file_type().is_char_device(), "{} was replaced", full.display());
}

#[test]
fn output_to_a_device_is_written_in_place_and_the_node_kept() {
    let s = Scratch::new("dev");
    if is_root() {
        assert!(mknod(&s.0.join("null"), 1, 3) && mknod(&s.0.join("full"), 1, 7), "mknod as root");
        check_devices(&s.0.join("null"), &s.0.join("full"));
    } else {
        eprintln!("not root: private device nodes skipped (the real /dev/null cannot be replaced either)");
    }
    check_devices(Path::new("/dev/null"), Path::new("/dev/full"));
}

#[test]
fn output_to_a_fifo_is_written_to_its_reader_and_the_fifo_kept() {
    let s = Scratch::new("fifo");
    let fifo = s.0.join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::read(fifo).unwrap())
    };
    let o = list_to(&fifo, "");
    // Checked before joining: a reader of a FIFO that was replaced (or
    // never opened) would wait for ever.
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(), "the FIFO was replaced");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(reader.join().unwrap(), expected());
}

#[test]
fn output_to_dev_stdout_goes_to_stdout_and_the_link_is_kept() {
    let s = Scratch::new("stdout");
    let link = s.0.join("stdout");
    std::os::unix::fs::symlink("/proc/self/fd/1", &link).unwrap();
    for target in [link.as_path(), Path::new("/dev/stdout")] {
        let o = Command::new(BIN)
            .args(["--sim", &demo(), "list", "--output"])
            .arg(target)
            .stdout(Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}: {}", target.display(), stderr(&o));
        assert_eq!(o.stdout, expected(), "{}", target.display());
        assert!(fs::symlink_metadata(target).unwrap().is_symlink(), "{} was replaced", target.display());
    }
    assert_eq!(s.names(), ["stdout"]);
}

#[test]
fn a_planted_temporary_file_is_neither_in_the_way_nor_removed() {
    let s = Scratch::new("planted");
    let target = s.0.join("x.prom");
    fs::write(&target, "old\n").unwrap();
    // The old name was `.x.prom.PID.tmp`: plant it for the command's PID
    // (sh execs it), owned by another user when we can.
    let prelude = "printf planted > \"$(dirname \"$2\")/.x.prom.$$.tmp\"; chown 65534:65534 \"$(dirname \"$2\")/.x.prom.$$.tmp\" 2>/dev/null; true";
    let o = list_to(&target, prelude);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(fs::read(&target).unwrap(), expected());
    let names = s.names();
    assert_eq!(names.len(), 2, "{names:?}");
    assert_eq!(fs::read(s.0.join(&names[0])).unwrap(), b"planted", "{names:?}");
}

#[test]
fn a_new_output_file_is_0644_whatever_the_umask() {
    let s = Scratch::new("umask");
    let target = s.0.join("new.prom");
    let o = list_to(&target, "umask 077");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(fs::metadata(&target).unwrap().mode() & 0o7777, 0o644);
    assert_eq!(fs::read(&target).unwrap(), expected());
}

#[test]
fn a_replaced_output_file_keeps_its_mode_owner_and_group() {
    let s = Scratch::new("owner");
    let target = s.0.join("x.prom");
    fs::write(&target, "old\n").unwrap();
    fs::set_permissions(&target, fs::Permissions::from_mode(0o640)).unwrap();
    let (uid, gid) = if is_root() {
        (0, 65534)
    } else {
        (fs::metadata(&target).unwrap().uid(), fs::metadata(&target).unwrap().gid())
    };
    std::os::unix::fs::chown(&target, Some(uid), Some(gid)).unwrap();
    for umask in ["umask 022", "umask 077"] {
        let o = list_to(&target, umask);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let m = fs::metadata(&target).unwrap();
        assert_eq!((m.mode() & 0o7777, m.uid(), m.gid()), (0o640, uid, gid), "{umask}");
        assert_eq!(fs::read(&target).unwrap(), expected());
    }
    if is_root() {
        // Another owner too.
        std::os::unix::fs::chown(&target, Some(65534), Some(0)).unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o604)).unwrap();
        let o = list_to(&target, "");
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let m = fs::metadata(&target).unwrap();
        assert_eq!((m.mode() & 0o7777, m.uid(), m.gid()), (0o604, 65534, 0));
    }
    assert_eq!(s.names(), ["x.prom"]);
}

#[test]
fn an_output_file_name_of_name_max_bytes_works() {
    let s = Scratch::new("namemax");
    for len in [250, 255] {
        let target = s.0.join("a".repeat(len));
        let o = list_to(&target, "");
        assert_eq!(o.status.code(), Some(0), "{len}: {}", stderr(&o));
        assert_eq!(fs::read(&target).unwrap(), expected());
        let o = list_to(&target, ""); // and replaced
        assert_eq!(o.status.code(), Some(0), "{len}: {}", stderr(&o));
    }
    assert_eq!(s.names().len(), 2);
}

/// A failed write: exit 1, one line naming the error, the old file intact
/// and nothing else left in the directory.
fn check_failure(s: &Scratch, target: &Path, o: &Output, error: &str) {
    assert_eq!(o.status.code(), Some(1), "{:?} {}", o.status, stderr(o));
    assert_eq!(stderr(o).lines().count(), 1, "{}", stderr(o));
    assert!(stderr(o).contains(error), "{}", stderr(o));
    assert_eq!(fs::read(target).unwrap(), b"old\n");
    assert_eq!(s.names(), [target.file_name().unwrap().to_string_lossy()]);
}

#[test]
fn a_write_beyond_ulimit_f_fails_with_efbig_and_keeps_the_old_file() {
    let s = Scratch::new("ulimit");
    let target = s.0.join("x.prom");
    fs::write(&target, "old\n").unwrap();
    let o = list_to(&target, "ulimit -f 0");
    check_failure(&s, &target, &o, "File too large");
}

/// A 16 KiB tmpfs, unmounted when dropped.
struct SmallFs(Scratch);

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0 .0).status();
    }
}

#[test]
fn a_full_file_system_fails_with_enospc_and_keeps_the_old_file() {
    let s = Scratch::new("enospc");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=16k", "tmpfs"])
        .arg(&s.0)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|st| st.success());
    if !mounted {
        assert!(!is_root(), "root could not mount a tmpfs");
        eprintln!("not root: the ENOSPC case needs a small tmpfs (mount), skipped");
        return;
    }
    let fsys = SmallFs(s);
    let target = fsys.0 .0.join("x.prom");
    fs::write(&target, "old\n").unwrap();
    // 1500 payloads: far more than 16 KiB.
    let o = Command::new(BIN).args(["--sim", &many(), "list", "--output"]).arg(&target).output().unwrap();
    check_failure(&fsys.0, &target, &o, "No space left on device");
}
