//! `upload NAME FILE` and `load FILE`: xen-livepatch's `upload_func` and
//! `load_func`, with the checks it leaves to Xen done first, each refused
//! with one clear line before anything is uploaded: the name's length, a
//! file that is not a regular file, larger than Xen accepts, not an ELF live
//! patch, or made for another hypervisor build (unless `--force`).

use crate::actions::{self, Request};
use crate::control::Control;
use crate::elf;
use crate::step::{Kind, Outcome, PayloadFacts, Refusal, Step, NAME_MAX};
use std::fs::{File, Metadata};
use std::io::Read as _;
use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _};
use std::path::Path;
use std::time::{Duration, Instant};
use xc_livepatch::Action;

/// `LIVEPATCH_MAX_SIZE`: the largest payload Xen 4.14 to 4.22 accept.
pub const XEN_MAX_SIZE: u64 = 2 << 20;
/// The largest size the upload's 32-bit `size` field carries.
pub const U32_MAX_SIZE: u64 = u32::MAX as u64;

/// Uploads `file` as `name`; `force` skips the build-id comparison.
pub fn upload(ctl: &impl Control, name: &[u8], file: &Path, force: bool) -> Step {
    let t0 = Instant::now();
    let mut step = Step::new(Kind::Upload, name);
    step.file = Some(file.to_path_buf());
    step.outcome = match checked_payload(ctl, name, file, force, &mut step) {
        Ok(bytes) => match ctl.upload(name, &bytes) {
            Ok(()) => Outcome::Completed,
            Err(e) => Outcome::Failed(e.errno()),
        },
        Err(r) => Outcome::Refused(r),
    };
    step.elapsed = t0.elapsed();
    step
}

/// The file's bytes once every check has passed.
fn checked_payload(
    ctl: &impl Control,
    name: &[u8],
    file: &Path,
    force: bool,
    step: &mut Step,
) -> Result<Vec<u8>, Refusal> {
    if name.len() > NAME_MAX {
        return Err(Refusal::NameTooLong(name.len()));
    }
    let bytes = read_regular(file)?;
    let facts = elf::inspect(&bytes).map_err(Refusal::NotLivePatch)?;
    step.payload = Some(PayloadFacts {
        size: bytes.len() as u64,
        xen_depends: facts.xen_depends.clone(),
        build_id: facts.build_id,
    });
    if !force {
        let running = ctl.build_id().map_err(|e| Refusal::BuildIdUnknown(e.errno()))?;
        if running != facts.xen_depends {
            return Err(Refusal::WrongBuildId { payload: facts.xen_depends, hypervisor: running });
        }
    }
    Ok(bytes)
}

fn errno_of(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}

/// What kind of file this is, when it is not a regular one.
fn not_regular(m: &Metadata) -> Option<&'static str> {
    let t = m.file_type();
    Some(if t.is_file() {
        return None;
    } else if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else {
        "not a regular file"
    })
}

/// Opens `file` without blocking (a FIFO that appears between the checks
/// must not hang the command), checks that it is a regular file of an
/// acceptable size, and reads it.
fn read_regular(file: &Path) -> Result<Vec<u8>, Refusal> {
    let m = std::fs::metadata(file).map_err(|e| Refusal::Open(errno_of(&e)))?;
    if let Some(kind) = not_regular(&m) {
        return Err(Refusal::NotRegular(kind));
    }
    let mut f = File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(file)
        .map_err(|e| Refusal::Open(errno_of(&e)))?;
    let m = f.metadata().map_err(|e| Refusal::Open(errno_of(&e)))?;
    if let Some(kind) = not_regular(&m) {
        return Err(Refusal::NotRegular(kind));
    }
    let size = m.len();
    if size > U32_MAX_SIZE {
        return Err(Refusal::TooLarge { size, limit: U32_MAX_SIZE, whose: "the upload's 32-bit size field" });
    }
    if size > XEN_MAX_SIZE {
        return Err(Refusal::TooLarge { size, limit: XEN_MAX_SIZE, whose: "Xen (LIVEPATCH_MAX_SIZE)" });
    }
    let mut bytes = Vec::with_capacity(size as usize);
    // One byte more than the limit: a file that grew meanwhile is caught.
    f.by_ref().take(XEN_MAX_SIZE + 1).read_to_end(&mut bytes).map_err(|e| Refusal::Read(errno_of(&e)))?;
    if bytes.len() as u64 > XEN_MAX_SIZE {
        return Err(Refusal::TooLarge {
            size: bytes.len() as u64,
            limit: XEN_MAX_SIZE,
            whose: "Xen (LIVEPATCH_MAX_SIZE)",
        });
    }
    Ok(bytes)
}

/// `load`'s name: POSIX `basename` of `file`, cut at its last `.`.
pub fn load_name(file: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt as _;
    let b = file.as_os_str().as_bytes();
    let trimmed = match b.iter().rposition(|&c| c != b'/') {
        Some(end) => &b[..=end],
        // Empty, or only slashes: basename gives "." or "/".
        None => return if b.is_empty() { b".".to_vec() } else { b"/".to_vec() },
    };
    let base = match trimmed.iter().rposition(|&c| c == b'/') {
        Some(i) => &trimmed[i + 1..],
        None => trimmed,
    };
    match base.iter().rposition(|&c| c == b'.') {
        Some(i) => base[..i].to_vec(),
        None => base.to_vec(),
    }
}

/// `load FILE`: upload it under [`load_name`], apply it, and if the apply
/// fails, unload it. The steps taken, in order.
pub fn load(ctl: &impl Control, file: &Path, nodeps: bool, force: bool, wait: Duration) -> Vec<Step> {
    let name = load_name(file);
    let up = upload(ctl, &name, file, force);
    if !up.ok() {
        return vec![up];
    }
    let apply = actions::run(ctl, Request { action: Action::Apply, name: &name, nodeps, wait });
    if apply.ok() {
        return vec![up, apply];
    }
    let unload = actions::run(ctl, Request { action: Action::Unload, name: &name, nodeps: false, wait });
    vec![up, apply, unload]
}

/// The status of a `load`: the upload's if it failed, else the apply's (the
/// unload after a failed apply does not change it), as xen-livepatch.
pub fn load_ret(steps: &[Step]) -> i32 {
    steps.iter().take(2).map(Step::ret).find(|&r| r != 0).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_names_are_basename_without_the_last_extension() {
        for (path, want) in [
            ("/tmp/xsa-1.livepatch", "xsa-1"),
            ("lp.a.b", "lp.a"),
            ("dir/noext", "noext"),
            ("dir/x.lp/", "x"),
            (".hidden", ""),
            ("a.d/file", "file"),
            ("/", "/"),
        ] {
            assert_eq!(load_name(Path::new(path)), want.as_bytes(), "{path}");
        }
    }
}
