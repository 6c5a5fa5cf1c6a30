//! Where the output goes: stdout (a closed pipe ends the command quietly),
//! or a file replaced atomically.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Writes `bytes` to stdout, or atomically to `file`. A reader that went
/// away (EPIPE, as `| head -c 10` does) is not an error.
pub fn write(file: Option<&Path>, bytes: &[u8]) -> io::Result<()> {
    match file {
        None => {
            let mut out = io::stdout().lock();
            match out.write_all(bytes).and_then(|()| out.flush()) {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                r => r,
            }
        }
        Some(path) => replace_atomically(path, bytes),
    }
}

/// A temporary file beside `path`, whose name node_exporter's textfile
/// collector (`*.prom`) never reads.
fn temporary_beside(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Writes a temporary file in the same directory, syncs it, and renames it
/// over `path`: readers see the old file or the new one, never half of it.
pub fn replace_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if path.file_name().is_none() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a file name"));
    }
    let tmp = temporary_beside(path);
    let result = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).mode(0o644).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "xc-livepatch-out-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn output_file_is_replaced_whole_and_no_temporary_is_left() {
        let d = scratch();
        let f = d.join("xen.prom");
        fs::write(&f, "old\n").unwrap();
        replace_atomically(&f, b"new\n").unwrap();
        assert_eq!(fs::read(&f).unwrap(), b"new\n");
        let names: Vec<_> = fs::read_dir(&d).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("xen.prom")]);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn unwritable_directory_fails_and_leaves_nothing() {
        let d = scratch();
        let f = d.join("missing-dir").join("xen.prom");
        assert!(replace_atomically(&f, b"x").is_err());
        assert!(!f.exists());
        fs::remove_dir_all(&d).unwrap();
    }
}
