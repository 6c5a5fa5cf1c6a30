//! What a live-patch file says about itself, read with the `object` crate:
//! one reader for `upload`'s checks and for `inspect`. It reads what Xen
//! reads (xen/common/livepatch.c, RELEASE-4.14.0 to RELEASE-4.22.0): the
//! class, type and machine; the GNU build-id notes of `.note.gnu.build-id`,
//! `.livepatch.depends` and `.livepatch.xen_depends` from the sections'
//! bytes whatever their `sh_type` (see [`build_id_note`]); the replaced
//! functions of `.livepatch.funcs`; the hooks; whether the payload can be
//! applied again after a revert; and `.modinfo`.
//!
//! [`inspect`] fails only when the file is not an ELF live patch at all, or
//! its `.livepatch.xen_depends` (what `upload` checks) cannot be read as Xen
//! reads it. Anything else Xen would refuse is listed in
//! [`Payload::problems`].

use object::elf::{SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHT_NOBITS};
use object::read::elf::{ElfFile64, ElfSection64, SectionHeader as _};
use object::{Architecture, Endianness, FileKind, Object, ObjectKind, ObjectSection, ObjectSymbol, RelocationTarget};

#[path = "elf_funcs.rs"]
mod funcs;
pub use funcs::{Func, FUNC_SIZE, PAYLOAD_VERSION};

/// The section naming the hypervisor build the payload was made for.
pub const XEN_DEPENDS: &str = ".livepatch.xen_depends";
/// The section naming the build id the payload stacks on.
pub const DEPENDS: &str = ".livepatch.depends";
/// The section holding the payload's own build id.
pub const OWN_BUILD_ID: &str = ".note.gnu.build-id";
/// The array of `struct livepatch_func`.
pub const FUNCS: &str = ".livepatch.funcs";
/// The NUL-separated `key=value` metadata LIST returns.
pub const MODINFO: &str = ".modinfo";

/// The facts the planner (`cli/src/plan.rs`) needs of one payload file;
/// the payload's name is the command line's, not the file's.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StackFacts {
    /// Its own build id (`.note.gnu.build-id`); `None` when the file has no
    /// readable one (Xen refuses its upload: see [`Payload::problems`]).
    pub build_id: Option<Vec<u8>>,
    /// What it must be applied on top of (`.livepatch.depends`): the
    /// hypervisor's build id for the bottom of a stack, else the build id of
    /// the payload below. `None` as for `build_id`.
    pub depends: Option<Vec<u8>>,
    /// It has an enabled vetoing hook (preapply, postapply, prerevert or
    /// postrevert: Xen's `has_payload_any_vetoing_hooks`), so REPLACE with
    /// it, or over it, is refused (EOPNOTSUPP).
    pub vetoing_hooks: bool,
    /// It can be applied again after a revert without an unload and a new
    /// upload: it has no writable allocated section of non-zero size other
    /// than `.livepatch.funcs` (Xen's `safe_to_reapply`).
    pub safe_to_reapply: bool,
    /// The bytes of `.modinfo` (empty when it has none): what LIST shows as
    /// the payload's metadata once it is uploaded.
    pub modinfo: Vec<u8>,
}

/// One of Xen's eight hook sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HookKind {
    /// The section's name, `.livepatch.hooks.<word>`.
    pub section: &'static str,
    /// Whether Xen counts it as vetoing (REPLACE refuses it).
    pub vetoing: bool,
    /// Whether the section is an array of hooks (load, unload) rather than one.
    pub multi: bool,
}

/// Xen's hook sections, in its order.
pub const HOOKS: [HookKind; 8] = [
    HookKind { section: ".livepatch.hooks.load", vetoing: false, multi: true },
    HookKind { section: ".livepatch.hooks.unload", vetoing: false, multi: true },
    HookKind { section: ".livepatch.hooks.preapply", vetoing: true, multi: false },
    HookKind { section: ".livepatch.hooks.apply", vetoing: false, multi: false },
    HookKind { section: ".livepatch.hooks.postapply", vetoing: true, multi: false },
    HookKind { section: ".livepatch.hooks.prerevert", vetoing: true, multi: false },
    HookKind { section: ".livepatch.hooks.revert", vetoing: false, multi: false },
    HookKind { section: ".livepatch.hooks.postrevert", vetoing: true, multi: false },
];

/// A hook section the file has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    /// Which one.
    pub kind: HookKind,
    /// How many function pointers it holds (its size / 8).
    pub count: u64,
    /// Whether a pointer is set (a relocation or non-zero bytes); Xen calls
    /// a single hook, and counts it as vetoing, only when it is.
    pub enabled: bool,
}

/// Everything [`inspect`] reads from a live-patch file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Payload {
    /// What the planner needs.
    pub stack: StackFacts,
    /// The hypervisor build it was made for (`.livepatch.xen_depends`).
    pub xen_depends: Vec<u8>,
    /// The functions it replaces, in `.livepatch.funcs` order.
    pub funcs: Vec<Func>,
    /// Its hook sections, in Xen's order.
    pub hooks: Vec<Hook>,
    /// Its writable allocated sections of non-zero size (what decides
    /// [`StackFacts::safe_to_reapply`]).
    pub writable: Vec<String>,
    /// What Xen would refuse in it, known from the file alone, one phrase
    /// each ("its .livepatch.depends section ...").
    pub problems: Vec<String>,
}

/// The machine this command (and so the hypervisor under it) runs on.
fn host_architecture() -> Option<Architecture> {
    if cfg!(target_arch = "x86_64") {
        Some(Architecture::X86_64)
    } else if cfg!(target_arch = "aarch64") {
        Some(Architecture::Aarch64)
    } else {
        None
    }
}

type Elf<'d> = ElfFile64<'d, Endianness>;

/// Reads `bytes` as a live patch; `Err` says why it is not one, in words
/// that complete "FILE is ...".
pub fn inspect(bytes: &[u8]) -> Result<Payload, String> {
    let file = relocatable_object(bytes)?;
    let xen_depends = match section_build_id(&file, XEN_DEPENDS) {
        None => {
            return Err(format!(
                "not a live patch: it has no {XEN_DEPENDS} section (the build id of the hypervisor it was made for)"
            ))
        }
        Some(r) => r.map_err(|why| format!("not a valid live patch: {why}"))?,
    };
    let mut p = Payload { xen_depends, ..Payload::default() };
    p.stack.build_id = required_build_id(&file, OWN_BUILD_ID, &mut p.problems);
    p.stack.depends = required_build_id(&file, DEPENDS, &mut p.problems);
    p.funcs = funcs::read(&file, &mut p.problems);
    p.hooks = hooks(&file, &mut p.problems);
    p.stack.vetoing_hooks = p.hooks.iter().any(|h| h.kind.vetoing && h.enabled);
    p.writable = writable_sections(&file);
    p.stack.safe_to_reapply = p.writable.is_empty() || p.writable == [FUNCS];
    p.stack.modinfo = modinfo(&file, &mut p.problems);
    if p.funcs.is_empty() && p.hooks.iter().all(|h| h.count == 0) {
        p.problems.push(format!("it has neither functions ({FUNCS}) nor hooks to run (Xen: EINVAL)"));
    }
    Ok(p)
}

/// `bytes` as a 64-bit ELF relocatable object for this machine.
fn relocatable_object(bytes: &[u8]) -> Result<Elf<'_>, String> {
    match FileKind::parse(bytes) {
        Ok(FileKind::Elf64) => {}
        Ok(FileKind::Elf32) => return Err("a 32-bit ELF file; Xen live patches are 64-bit".into()),
        _ => return Err("not an ELF file; a live patch is an ELF relocatable object".into()),
    }
    let file = Elf::parse(bytes).map_err(|e| format!("a damaged ELF file ({e})"))?;
    let kind = match file.kind() {
        ObjectKind::Relocatable => None,
        ObjectKind::Executable => Some("an ELF executable (ET_EXEC)"),
        ObjectKind::Dynamic => Some("an ELF shared object or position-independent executable (ET_DYN)"),
        ObjectKind::Core => Some("an ELF core dump (ET_CORE)"),
        _ => Some("an ELF file of an unknown type"),
    };
    if let Some(kind) = kind {
        return Err(format!("{kind}, not a relocatable object (ET_REL) as live patches are"));
    }
    if let Some(host) = host_architecture() {
        if file.architecture() != host {
            return Err(format!("an ELF object for {:?}, not for this {host:?} machine", file.architecture()));
        }
    }
    Ok(file)
}

/// The build id of a section Xen requires; a missing or unreadable one is
/// a problem.
fn required_build_id(file: &Elf<'_>, name: &str, problems: &mut Vec<String>) -> Option<Vec<u8>> {
    match section_build_id(file, name) {
        Some(Ok(id)) => Some(id),
        Some(Err(why)) => {
            problems.push(why);
            None
        }
        None => {
            problems.push(format!("it has no {name} section (Xen: EINVAL)"));
            None
        }
    }
}

/// The first section named `name`, as Xen's `livepatch_elf_sec_by_name`
/// finds it: from index 1, the null section at index 0 is never one (the
/// `object` crate's `section_by_name` would return it).
fn by_name<'d, 'f>(file: &'f Elf<'d>, name: &str) -> Option<ElfSection64<'d, 'f, Endianness>> {
    file.sections().find(|s| s.index().0 != 0 && s.name_bytes() == Ok(name.as_bytes()))
}

/// The bytes of a section as Xen sees them; `Err` for one whose bytes are
/// not in the file (SHT_NOBITS) or lie outside it.
fn section_bytes<'d>(file: &Elf<'d>, section: &ElfSection64<'d, '_, Endianness>) -> Result<&'d [u8], String> {
    let header = section.elf_section_header();
    if header.sh_type(file.endian()) == SHT_NOBITS {
        return Err("has no bytes in the file (SHT_NOBITS)".into());
    }
    header.data(file.endian(), file.data()).map_err(|_| "lies outside the file (Xen: EINVAL)".into())
}

/// The GNU build id of section `name` (the first of that name, see
/// [`by_name`]): `None` when there is no such section.
fn section_build_id(file: &Elf<'_>, name: &str) -> Option<Result<Vec<u8>, String>> {
    let section = by_name(file, name)?;
    let read = section_bytes(file, &section)
        .and_then(|b| build_id_note(b, file.endian()).map(<[u8]>::to_vec))
        .map_err(|why| format!("its {name} section {why}"));
    Some(read)
}

/// The build id in `bytes`, read as Xen's `parse_buildid` and
/// `xen_build_id_check` read a section (xen/common/livepatch.c, version.c):
/// only the FIRST note counts, whatever the section's `sh_type`; the
/// section must be longer than a note header; the note must be of type
/// NT_GNU_BUILD_ID (else ENODATA), its name at least 4 bytes and starting
/// "GNU\0" (else EINVAL, ENODATA), name and description sizes within the
/// section, and the description (the id) not empty. Xen turns each refusal
/// into EINVAL for the upload. `Err` completes "its SECTION section ...".
pub fn build_id_note(bytes: &[u8], endian: Endianness) -> Result<&[u8], String> {
    const HEADER: usize = 12;
    if bytes.len() <= HEADER {
        return Err(format!("is {} bytes, too short for a note (Xen: EINVAL)", bytes.len()));
    }
    let word = |at: usize| {
        let b = [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]];
        if endian == Endianness::Little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }
    };
    let (namesz, descsz, n_type) = (word(0) as usize, word(4) as usize, word(8));
    if n_type != object::elf::NT_GNU_BUILD_ID {
        return Err(format!(
            "begins with a note of type {n_type}, not NT_GNU_BUILD_ID (3): Xen reads only the first note (ENODATA, so EINVAL)"
        ));
    }
    let room = bytes.len() - HEADER;
    if namesz < 4 || namesz.checked_add(descsz).is_none_or(|n| n > room) {
        return Err(format!(
            "holds a note whose sizes (name {namesz}, build id {descsz}) do not fit its {room} bytes (Xen: EINVAL)"
        ));
    }
    if &bytes[HEADER..HEADER + 4] != b"GNU\0" {
        return Err("begins with a note whose owner is not \"GNU\" (Xen: ENODATA, so EINVAL)".into());
    }
    let desc = HEADER + namesz.next_multiple_of(4);
    if descsz == 0 {
        return Err("holds an empty build id (Xen: EINVAL)".into());
    }
    // Xen bounds name + description without the name's padding; a note that
    // fits only without it would make Xen read past the section.
    bytes.get(desc..desc + descsz).ok_or_else(|| "holds a build id that runs past the section's end".to_string())
}

/// The relocations of one section, by the offset they patch.
struct Relocs(std::collections::HashMap<u64, (object::SymbolIndex, i64)>);

impl Relocs {
    fn of(section: &ElfSection64<'_, '_, Endianness>) -> Relocs {
        let mut map = std::collections::HashMap::new();
        for (at, r) in section.relocations() {
            if let RelocationTarget::Symbol(index) = r.target() {
                map.entry(at).or_insert((index, r.addend()));
            }
        }
        Relocs(map)
    }

    fn has(&self, offset: u64) -> bool {
        self.0.contains_key(&offset)
    }

    /// The NUL-terminated string the relocation at `offset` points to
    /// (symbol value + addend in the symbol's section), if it resolves.
    fn string(&self, file: &Elf<'_>, offset: u64) -> Option<Vec<u8>> {
        let &(index, addend) = self.0.get(&offset)?;
        let symbol = file.symbol_by_index(index).ok()?;
        let target = file.section_by_index(symbol.section_index()?).ok()?;
        let bytes = section_bytes(file, &target).ok()?;
        let at = usize::try_from(symbol.address().checked_add_signed(addend)?).ok()?;
        let tail = bytes.get(at..)?;
        let end = tail.iter().position(|&b| b == 0)?;
        Some(tail[..end].to_vec())
    }
}

/// The hook sections the file has, checked as Xen's
/// `LIVEPATCH_ASSIGN_SINGLE_HOOK` / `_MULTI_HOOK` check them.
fn hooks(file: &Elf<'_>, problems: &mut Vec<String>) -> Vec<Hook> {
    let mut found = Vec::new();
    for kind in HOOKS {
        let Some(section) = by_name(file, kind.section) else { continue };
        let size = section.elf_section_header().sh_size(file.endian());
        let fits = if kind.multi { size % 8 == 0 } else { size == 8 };
        if !fits {
            let want = if kind.multi { "a multiple of 8" } else { "8" };
            problems.push(format!("its {} section is {size} bytes, not {want} (Xen: EINVAL)", kind.section));
        }
        let count = size / 8;
        let relocs = Relocs::of(&section);
        let bytes = section_bytes(file, &section).unwrap_or(&[]);
        let enabled = relocs.0.keys().any(|&at| at < size) || bytes.iter().any(|&b| b != 0);
        found.push(Hook { kind, count, enabled });
    }
    found
}

/// The allocated, writable, non-executable sections of non-zero size, as
/// Xen's `move_payload` counts them for `safe_to_reapply`.
fn writable_sections(file: &Elf<'_>) -> Vec<String> {
    let e = file.endian();
    file.sections()
        .filter(|s| {
            let h = s.elf_section_header();
            if s.index().0 == 0 {
                return false; // Xen's move_payload starts at index 1
            }
            let flags = h.sh_flags(e);
            flags & u64::from(SHF_ALLOC) != 0
                && flags & u64::from(SHF_EXECINSTR) == 0
                && flags & u64::from(SHF_WRITE) != 0
                && h.sh_size(e) != 0
        })
        .map(|s| String::from_utf8_lossy(s.name_bytes().unwrap_or(b"?")).into_owned())
        .collect()
}

/// `.modinfo`'s bytes; Xen requires them to end with a NUL.
fn modinfo(file: &Elf<'_>, problems: &mut Vec<String>) -> Vec<u8> {
    let Some(section) = by_name(file, MODINFO) else { return Vec::new() };
    match section_bytes(file, &section) {
        Ok(b) if b.last() == Some(&0) => b.to_vec(),
        Ok(b) => {
            problems.push(format!("its {MODINFO} section does not end with a NUL (Xen: EINVAL)"));
            b.to_vec()
        }
        Err(why) => {
            problems.push(format!("its {MODINFO} section {why}"));
            Vec::new()
        }
    }
}

#[cfg(test)]
#[path = "elf_tests.rs"]
mod tests;
