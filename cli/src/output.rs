//! Where the output goes: stdout (a closed pipe ends the command quietly),
//! a regular file replaced atomically, or anything else (a device, a FIFO,
//! `/dev/stdout`) written in place as the shell's `>` would, never replaced.

use std::ffi::OsString;
use std::fs::{self, File, Metadata, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The mode of a file the command creates, whatever the umask: the
/// collector reading it usually runs as another user.
pub const NEW_FILE_MODE: u32 = 0o644;

/// Writes `bytes` to stdout, or to `file` (see [`to_path`]). A reader that
/// went away (EPIPE, as `| head -c 10` does) is not an error.
pub fn write(file: Option<&Path>, bytes: &[u8]) -> io::Result<()> {
    match file {
        None => {
            let mut out = io::stdout().lock();
            quiet_on_epipe(out.write_all(bytes).and_then(|()| out.flush()))
        }
        Some(path) => to_path(path, bytes),
    }
}

fn quiet_on_epipe(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        r => r,
    }
}

/// A regular file (also one reached through symbolic links) or no file yet:
/// replaced atomically. Anything else that exists (a device, a FIFO, a
/// socket, `/dev/stdout` when it is a pipe or a terminal, a dangling link):
/// opened for writing and written in place, never replaced or removed.
pub fn to_path(path: &Path, bytes: &[u8]) -> io::Result<()> {
    match fs::metadata(path) {
        Ok(m) if m.is_file() => {
            let target = if fs::symlink_metadata(path)?.is_symlink() { fs::canonicalize(path)? } else { path.into() };
            replace_atomically(&target, bytes, Some(&m))
        }
        Ok(_) => write_in_place(path, bytes),
        Err(e) if e.kind() == io::ErrorKind::NotFound && fs::symlink_metadata(path).is_err() => {
            replace_atomically(path, bytes, None)
        }
        Err(_) => write_in_place(path, bytes),
    }
}

/// `>` without O_CREAT and O_TRUNC, which mean nothing for a device or a
/// FIFO (a FIFO waits for its reader, as with the shell). If the path turned
/// into a regular file meanwhile, nothing is written.
fn write_in_place(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = OpenOptions::new().write(true).custom_flags(libc::O_NOCTTY).open(path)?;
    if f.metadata()?.is_file() {
        return Err(io::Error::other("became a regular file while it was opened; not written"));
    }
    quiet_on_epipe(f.write_all(bytes))
}

/// The temporary file's name prefix: `.NAME.` with NAME cut so that the
/// whole name (plus 8 random characters and `.tmp`) stays within NAME_MAX.
/// Its leading dot and `.tmp` suffix keep node_exporter's textfile
/// collector (`*.prom`) from reading it.
fn temporary_prefix(name: &std::ffi::OsStr) -> OsString {
    let b = name.as_bytes();
    let mut p = b".".to_vec();
    p.extend_from_slice(&b[..b.len().min(200)]);
    p.push(b'.');
    OsString::from_vec(p)
}

/// A new file gets [`NEW_FILE_MODE`]; a replacement gets the old file's
/// owner, group and mode (chown first: it clears set-ID bits).
fn give_owner_and_mode(f: &File, old: Option<&Metadata>) -> io::Result<()> {
    let mode = match old {
        None => NEW_FILE_MODE,
        Some(old) => {
            let now = f.metadata()?;
            if (now.uid(), now.gid()) != (old.uid(), old.gid()) {
                std::os::unix::fs::fchown(f, Some(old.uid()), Some(old.gid())).map_err(|e| {
                    io::Error::new(e.kind(), format!("cannot give the new file the owner and group of the old: {e}"))
                })?;
            }
            old.mode() & 0o7777
        }
    };
    f.set_permissions(Permissions::from_mode(mode))
}

/// Writes a temporary file in `path`'s directory (created exclusively, with
/// an unpredictable name), gives it the old file's owner, group and mode,
/// syncs it and renames it over `path`: readers see the old file or the new
/// one, never half of it. On failure the temporary file (and only it) is
/// removed, and the old file is untouched.
pub fn replace_atomically(path: &Path, bytes: &[u8], old: Option<&Metadata>) -> io::Result<()> {
    let name = path.file_name().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp =
        tempfile::Builder::new().prefix(&temporary_prefix(name)).suffix(".tmp").rand_bytes(8).tempfile_in(dir)?;
    give_owner_and_mode(tmp.as_file(), old)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    // On failure the error carries the temporary file, removed when dropped.
    tmp.persist(path).map(drop).map_err(|e| e.error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn scratch() -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "xc-livepatch-out-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn names(d: &Path) -> Vec<OsString> {
        let mut v: Vec<_> = fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name()).collect();
        v.sort();
        v
    }

    #[test]
    fn output_file_is_replaced_whole_and_no_temporary_is_left() {
        let d = scratch();
        let f = d.join("xen.prom");
        fs::write(&f, "old\n").unwrap();
        to_path(&f, b"new\n").unwrap();
        assert_eq!(fs::read(&f).unwrap(), b"new\n");
        assert_eq!(names(&d), vec![OsString::from("xen.prom")]);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn unwritable_directory_fails_and_leaves_nothing() {
        let d = scratch();
        let f = d.join("missing-dir").join("xen.prom");
        assert!(to_path(&f, b"x").is_err());
        assert!(!f.exists());
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn temporary_name_stays_within_name_max() {
        let long = OsString::from("a".repeat(255));
        assert_eq!(temporary_prefix(&long).len() + 8 + ".tmp".len(), 1 + 200 + 1 + 8 + 4);
        assert_eq!(temporary_prefix(std::ffi::OsStr::new("x.prom")), ".x.prom.");
    }

    #[test]
    fn a_symlink_to_a_regular_file_is_kept_and_its_target_replaced() {
        let d = scratch();
        fs::create_dir_all(d.join("real")).unwrap();
        fs::write(d.join("real/xen.prom"), "old\n").unwrap();
        std::os::unix::fs::symlink("real/xen.prom", d.join("link.prom")).unwrap();
        to_path(&d.join("link.prom"), b"new\n").unwrap();
        assert!(fs::symlink_metadata(d.join("link.prom")).unwrap().is_symlink());
        assert_eq!(fs::read(d.join("real/xen.prom")).unwrap(), b"new\n");
        assert_eq!(names(&d.join("real")), vec![OsString::from("xen.prom")]);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_dangling_symlink_is_neither_replaced_nor_followed_into_a_new_file() {
        let d = scratch();
        std::os::unix::fs::symlink("nowhere.prom", d.join("link.prom")).unwrap();
        assert_eq!(to_path(&d.join("link.prom"), b"new\n").unwrap_err().kind(), io::ErrorKind::NotFound);
        assert!(fs::symlink_metadata(d.join("link.prom")).unwrap().is_symlink());
        assert_eq!(names(&d), vec![OsString::from("link.prom")]);
        fs::remove_dir_all(&d).unwrap();
    }
}
