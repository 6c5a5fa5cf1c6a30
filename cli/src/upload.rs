//! `upload NAME FILE` and `load FILE`: xen-livepatch's `upload_func` and
//! `load_func`, with the checks it leaves to Xen done first, each refused
//! with one clear line before anything is uploaded: the name's length, a
//! file that is not a regular file, larger than Xen accepts, not an ELF live
//! patch, or made for another hypervisor build (unless `--force`).

use crate::actions::{self, Request};
use crate::control::Control;
use crate::elf;
use crate::step::{Kind, Observer, Outcome, PayloadFacts, Refusal, Silent, Step, NAME_MAX};
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

/// How an upload treats the payload's build id and `LIVEPATCH_FLAG_FORCE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadMode {
    /// Compare the file's `.livepatch.xen_depends` with the running
    /// hypervisor's build id first (refused when they differ).
    pub check_build_id: bool,
    /// Ask for `LIVEPATCH_FLAG_FORCE` (sent where the hypervisor takes it).
    pub force_flag: bool,
}

impl UploadMode {
    /// `upload` and `load`: `--force` skips the command's build-id check
    /// and asks for the flag; without it, the check and no flag.
    pub fn from_force(force: bool) -> UploadMode {
        UploadMode { check_build_id: !force, force_flag: force }
    }
}

/// Uploads `file` as `name`; `force` as [`UploadMode::from_force`].
pub fn upload(ctl: &impl Control, name: &[u8], file: &Path, force: bool) -> Step {
    upload_with(ctl, name, file, UploadMode::from_force(force), &mut Silent)
}

/// [`upload`] in `mode`, telling `obs` when the upload is asked for and
/// when it ended.
pub fn upload_with(ctl: &impl Control, name: &[u8], file: &Path, mode: UploadMode, obs: &mut dyn Observer) -> Step {
    let t0 = Instant::now();
    let mut step = Step::new(Kind::Upload, name);
    step.file = Some(file.to_path_buf());
    step.outcome = match checked_payload(ctl, name, file, mode.check_build_id, &mut step) {
        Ok(bytes) => {
            let send = force_flag(ctl, mode.force_flag, &mut step);
            obs.started(&step);
            match ctl.upload(name, &bytes, send) {
                Ok(()) => Outcome::Completed,
                Err(e) => Outcome::Failed(e.errno()),
            }
        }
        Err(r) => Outcome::Refused(r),
    };
    step.elapsed = t0.elapsed();
    obs.ended(&step);
    step
}

/// Whether to send `LIVEPATCH_FLAG_FORCE`: when `--force` was given and the
/// hypervisor takes it (recorded in `step.force_flag`).
fn force_flag(ctl: &impl Control, force: bool, step: &mut Step) -> bool {
    let send = force && ctl.takes_force();
    step.force_flag = force.then_some(send);
    send
}

/// The file's bytes once every check has passed.
fn checked_payload(
    ctl: &impl Control,
    name: &[u8],
    file: &Path,
    check_build_id: bool,
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
        build_id: facts.stack.build_id,
    });
    if check_build_id {
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
pub fn read_regular(file: &Path) -> Result<Vec<u8>, Refusal> {
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
    load_with(ctl, file, nodeps, force, wait, &mut Silent)
}

/// [`load`], telling `obs` of each step. SIGINT or SIGTERM
/// ([`crate::interrupt`]) stops it: during the apply's wait (no clean-up:
/// the apply is still scheduled), or before the next step is asked for
/// (that step is then recorded as interrupted, not sent).
pub fn load_with(
    ctl: &impl Control,
    file: &Path,
    nodeps: bool,
    force: bool,
    wait: Duration,
    obs: &mut dyn Observer,
) -> Vec<Step> {
    let name = load_name(file);
    let up = upload_with(ctl, &name, file, UploadMode::from_force(force), obs);
    if !up.ok() {
        return vec![up];
    }
    let mut steps = vec![up];
    for action in [Action::Apply, Action::Unload] {
        if let Some(signal) = crate::interrupt::requested() {
            let mut s = Step::new(Kind::Act(action), &name);
            s.outcome = Outcome::Interrupted { signal, sent: false };
            obs.ended(&s);
            steps.push(s);
            break;
        }
        let nodeps = nodeps && action == Action::Apply;
        let s = actions::run_with(ctl, Request { action, name: &name, nodeps, wait }, obs);
        // Done when the apply succeeded, after the clean-up, or when a
        // signal stopped the wait.
        let done = s.ok() || action == Action::Unload || s.interrupted().is_some();
        steps.push(s);
        if done {
            break;
        }
    }
    steps
}

/// The status of a `load`: the upload's if it failed, else the apply's (the
/// unload after a failed apply does not change it), as xen-livepatch.
pub fn load_ret(steps: &[Step]) -> i32 {
    steps.iter().take(2).map(Step::ret).find(|&r| r != 0).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::step::After;
    use std::cell::RefCell;
    use std::path::PathBuf;
    use xc_livepatch::{ActionOptions, Error, State, Status};

    const XEN_ID: [u8; 20] = [0x5e; 20];

    /// An ELF relocatable object for this machine whose
    /// .livepatch.xen_depends names `xen_id`.
    fn livepatch(xen_id: &[u8]) -> Vec<u8> {
        use object::write::Object;
        use object::{Architecture, BinaryFormat, Endianness, SectionKind};
        let arch = if cfg!(target_arch = "aarch64") { Architecture::Aarch64 } else { Architecture::X86_64 };
        let mut o = Object::new(BinaryFormat::Elf, arch, Endianness::Little);
        let s = o.add_section(vec![], elf::XEN_DEPENDS.as_bytes().to_vec(), SectionKind::Note);
        let mut note = Vec::new();
        for w in [4u32, xen_id.len() as u32, object::elf::NT_GNU_BUILD_ID] {
            note.extend_from_slice(&w.to_le_bytes());
        }
        note.extend_from_slice(b"GNU\0");
        note.extend_from_slice(xen_id);
        note.resize(note.len().next_multiple_of(4), 0);
        o.set_section_data(s, note, 4);
        o.write().unwrap()
    }

    /// Records what reaches the hypervisor.
    #[derive(Default)]
    struct Recorder {
        uploads: RefCell<Vec<(Vec<u8>, usize)>>,
        acts: RefCell<Vec<Action>>,
        build_id: Option<Vec<u8>>,
    }

    impl Control for Recorder {
        fn status(&self, _: &[u8]) -> Result<Status, Error> {
            // Uploaded: CHECKED until acted on, then what the action leads to.
            match self.acts.borrow().last() {
                None => Ok(Status { state: State::Checked, rc: 0 }),
                Some(Action::Apply) => Ok(Status { state: State::Checked, rc: -libc::EBUSY }),
                Some(_) => Err(Error::Hypervisor { errno: libc::ENOENT }),
            }
        }
        fn upload(&self, name: &[u8], payload: &[u8], _: bool) -> Result<(), Error> {
            self.uploads.borrow_mut().push((name.to_vec(), payload.len()));
            Ok(())
        }
        fn act(&self, _: &[u8], a: Action, _: ActionOptions) -> Result<(), Error> {
            self.acts.borrow_mut().push(a);
            Ok(())
        }
        fn build_id(&self) -> Result<Vec<u8>, Error> {
            self.build_id.clone().ok_or(Error::Hypervisor { errno: libc::ENODATA })
        }
    }

    fn hv() -> Recorder {
        Recorder { build_id: Some(XEN_ID.to_vec()), ..Recorder::default() }
    }

    fn scratch(files: &[(&str, &[u8])]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (name, bytes) in files {
            std::fs::write(d.path().join(name), bytes).unwrap();
        }
        d
    }

    fn refused(hv: &Recorder, name: &[u8], file: &Path, force: bool) -> Refusal {
        let s = upload(hv, name, file, force);
        assert!(hv.uploads.borrow().is_empty(), "uploaded: {:?}", s);
        match s.outcome {
            Outcome::Refused(r) => r,
            o => panic!("not refused: {o:?}"),
        }
    }

    #[test]
    fn a_live_patch_for_this_hypervisor_is_uploaded_whole() {
        let lp = livepatch(&XEN_ID);
        let d = scratch(&[("lp.livepatch", &lp)]);
        let hv = hv();
        let s = upload(&hv, b"lp", &d.path().join("lp.livepatch"), false);
        assert_eq!(s.outcome, Outcome::Completed);
        assert_eq!(*hv.uploads.borrow(), vec![(b"lp".to_vec(), lp.len())]);
        assert_eq!(s.payload.unwrap().xen_depends, XEN_ID);
    }

    #[test]
    fn another_build_id_is_refused_unless_forced() {
        let d = scratch(&[("lp.livepatch", &livepatch(&[0xab; 20]))]);
        let f = d.path().join("lp.livepatch");
        let hv = hv();
        assert_eq!(
            refused(&hv, b"lp", &f, false),
            Refusal::WrongBuildId { payload: vec![0xab; 20], hypervisor: XEN_ID.to_vec() }
        );
        assert_eq!(upload(&hv, b"lp", &f, true).outcome, Outcome::Completed);
        // A hypervisor that does not say its build id: refused, unless forced.
        let silent = Recorder::default();
        assert_eq!(refused(&silent, b"lp", &f, false), Refusal::BuildIdUnknown(libc::ENODATA));
    }

    #[test]
    fn files_that_are_not_live_patches_are_refused_with_the_reason() {
        let mut no_note = livepatch(&XEN_ID);
        // Rename the section: ".livepatch.xen_depends" -> ".livepatch.xen_dependz".
        let at = no_note.windows(22).position(|w| w == elf::XEN_DEPENDS.as_bytes()).unwrap();
        no_note[at + 21] = b'z';
        let d = scratch(&[("text", b"not a live patch\n"), ("empty", b""), ("nonote", &no_note)]);
        let hv = hv();
        for (file, why) in
            [("text", "not an ELF file"), ("empty", "not an ELF file"), ("nonote", "no .livepatch.xen_depends section")]
        {
            match refused(&hv, b"lp", &d.path().join(file), true) {
                Refusal::NotLivePatch(w) => assert!(w.contains(why), "{file}: {w}"),
                r => panic!("{file}: {r:?}"),
            }
        }
        let me = std::env::current_exe().unwrap();
        assert!(matches!(refused(&hv, b"lp", &me, true), Refusal::NotLivePatch(_) | Refusal::TooLarge { .. }));
    }

    #[test]
    fn payloads_whose_notes_objcopy_made_are_uploaded_and_a_leading_other_note_is_refused() {
        use crate::testpayload::{build, note, Notes, Spec};
        let d = scratch(&[]);
        let host = hv();
        for notes in [Notes::AsmNote, Notes::AddSection, Notes::BinaryRename] {
            let mut spec = Spec::new(0xa1, &XEN_ID, &XEN_ID);
            spec.notes = notes;
            let f = build(d.path(), &format!("{notes:?}"), &spec);
            assert_eq!(upload(&host, b"lp", &f, false).outcome, Outcome::Completed, "{notes:?}");
        }
        let mut two = Spec::new(0xa2, &XEN_ID, &XEN_ID);
        two.raw_xen_depends = Some([note(&XEN_ID, 1), note(&XEN_ID, 3)].concat());
        match refused(&hv(), b"two", &build(d.path(), "two", &two), true) {
            Refusal::NotLivePatch(w) => assert!(w.contains("begins with a note of type 1"), "{w}"),
            r => panic!("{r:?}"),
        }
    }

    #[test]
    fn sizes_over_2_mib_and_4_gib_are_refused_before_reading() {
        let d = scratch(&[]);
        let hv = hv();
        // Xen 4.14 to 4.22's LIVEPATCH_MAX_SIZE, and the 32-bit size field's limit.
        for (size, limit) in [((2 << 20) + 1, 2 << 20), (1 << 32, (1 << 32) - 1)] {
            let f = d.path().join(format!("big-{size}"));
            let mut lp = livepatch(&XEN_ID);
            lp.resize(64 << 10, 0);
            std::fs::write(&f, &lp).unwrap();
            File::options().write(true).open(&f).unwrap().set_len(size).unwrap(); // sparse
            match refused(&hv, b"lp", &f, true) {
                Refusal::TooLarge { size: s, limit: l, .. } => assert_eq!((s, l), (size, limit)),
                r => panic!("{size}: {r:?}"),
            }
        }
        // Exactly 2 MiB is what Xen accepts.
        let f = d.path().join("exact");
        let mut lp = livepatch(&XEN_ID);
        lp.resize(2 << 20, 0);
        std::fs::write(&f, &lp).unwrap();
        assert_eq!(upload(&hv, b"lp", &f, false).outcome, Outcome::Completed);
    }

    #[test]
    fn missing_directories_fifos_and_devices_are_refused_without_blocking() {
        let d = scratch(&[]);
        let fifo = d.path().join("fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let hv = hv();
        let cases: [(PathBuf, Refusal); 4] = [
            (d.path().join("missing"), Refusal::Open(libc::ENOENT)),
            (d.path().to_path_buf(), Refusal::NotRegular("a directory")),
            (fifo, Refusal::NotRegular("a FIFO")),
            (PathBuf::from("/dev/null"), Refusal::NotRegular("a character device")),
        ];
        for (f, want) in cases {
            assert_eq!(refused(&hv, b"lp", &f, true), want, "{}", f.display());
        }
    }

    #[test]
    fn a_name_of_128_bytes_is_refused_before_the_file_is_read() {
        let hv = hv();
        assert_eq!(refused(&hv, &[b'n'; 128], Path::new("/nonexistent"), true), Refusal::NameTooLong(128));
    }

    #[test]
    fn load_unloads_after_a_failed_apply_and_keeps_the_applys_status() {
        let d = scratch(&[("xsa-9.livepatch", &livepatch(&XEN_ID))]);
        let hv = hv();
        let steps = load(&hv, &d.path().join("xsa-9.livepatch"), false, false, Duration::from_millis(50));
        assert_eq!(*hv.acts.borrow(), vec![Action::Apply, Action::Unload]);
        assert_eq!(hv.uploads.borrow()[0].0, b"xsa-9");
        let outcomes: Vec<_> = steps.iter().map(|s| s.outcome.clone()).collect();
        assert_eq!(outcomes, vec![Outcome::Completed, Outcome::EndedWithError(libc::EBUSY), Outcome::Completed]);
        assert_eq!(steps[2].after, After::Error(libc::ENOENT));
        assert_eq!(load_ret(&steps), libc::EBUSY);
    }

    /// Xen's model (the simulator) with `other` CHECKED and every action
    /// pending for 30 s, and `other`'s apply scheduled.
    #[cfg(feature = "sim")]
    fn another_action_pending() -> crate::source::Source {
        use xc_livepatch::sim::scenario::{parse, ScenarioHypervisor};
        let sc = parse("interface 0x15\npending 30s\npayload other state=checked\n").unwrap();
        let src = crate::source::Source::Sim(Box::new(ScenarioHypervisor::new(&sc)), None);
        let o = ActionOptions { timeout_ns: 0, nodeps: false };
        src.act(b"other", Action::Apply, o).unwrap();
        src
    }

    /// `DIR/NAME.livepatch`: a payload the simulator takes as Xen would (its
    /// own build id, .livepatch.depends on the hypervisor, made for it).
    #[cfg(feature = "sim")]
    fn whole_livepatch(src: &crate::source::Source, d: &tempfile::TempDir, name: &str) {
        use crate::testpayload::{build, Spec};
        let xen = src.build_id().unwrap();
        build(d.path(), name, &Spec::new(0xf1, &xen, &xen));
    }

    #[cfg(feature = "sim")]
    #[test]
    fn a_load_refused_while_another_action_is_pending_is_unloaded_again() {
        let src = another_action_pending();
        let d = scratch(&[]);
        whole_livepatch(&src, &d, "f");
        let steps = load(&src, &d.path().join("f.livepatch"), false, false, Duration::from_millis(50));
        let outcomes: Vec<_> = steps.iter().map(|s| s.outcome.clone()).collect();
        // Xen set f's rc to -EAGAIN, then schedule_work said EBUSY.
        assert_eq!(outcomes, vec![Outcome::Completed, Outcome::Failed(libc::EBUSY), Outcome::Completed]);
        assert_eq!(steps[2].before, Some(Status { state: State::Checked, rc: -libc::EAGAIN }));
        assert_eq!(src.status(b"f").map_err(|e| e.errno()), Err(libc::ENOENT));
        assert_eq!(load_ret(&steps), libc::EBUSY);
    }

    #[cfg(feature = "sim")]
    #[test]
    fn a_payload_left_at_eagain_by_a_refused_apply_can_be_unloaded_and_a_pending_one_cannot() {
        let src = another_action_pending();
        let d = scratch(&[]);
        whole_livepatch(&src, &d, "f");
        assert_eq!(upload(&src, b"f", &d.path().join("f.livepatch"), false).outcome, Outcome::Completed);
        let wait = Duration::from_millis(50);
        let apply = actions::run(&src, Request { action: Action::Apply, name: b"f", nodeps: false, wait });
        assert_eq!(apply.outcome, Outcome::Failed(libc::EBUSY));
        // `other`'s apply is really scheduled: xen-livepatch's "in progress".
        for a in [Action::Apply, Action::Revert, Action::Unload] {
            let s = actions::run(&src, Request { action: a, name: b"other", nodeps: false, wait });
            assert_eq!(s.outcome, Outcome::InProgress, "{a:?} of other");
        }
        let unload = actions::run(&src, Request { action: Action::Unload, name: b"f", nodeps: false, wait });
        assert_eq!(unload.outcome, Outcome::Completed);
        assert_eq!(unload.after, After::Error(libc::ENOENT));
    }

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
