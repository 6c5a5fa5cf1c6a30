//! What a live-patch file says about itself, read with the `object` crate:
//! a 64-bit ELF relocatable object for this machine, the build id of the
//! hypervisor it was made for (the GNU build-id note in
//! `.livepatch.xen_depends`) and its own (`.note.gnu.build-id`). Xen checks
//! the same and more (xen/common/livepatch.c); this is only what lets the
//! command refuse clearly before uploading.

use object::elf::NT_GNU_BUILD_ID;
use object::read::elf::{ElfFile64, SectionHeader as _};
use object::{Architecture, Endianness, FileKind, Object, ObjectKind};

/// The section naming the hypervisor build the payload was made for.
pub const XEN_DEPENDS: &str = ".livepatch.xen_depends";
/// The section holding the payload's own build id.
const OWN_BUILD_ID: &str = ".note.gnu.build-id";

/// The build ids of a live-patch file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadElf {
    /// The hypervisor build id it was made for.
    pub xen_depends: Vec<u8>,
    /// Its own build id, if it has one.
    pub build_id: Option<Vec<u8>>,
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

/// Reads `bytes` as a live patch; `Err` says why it is not one, in words
/// that complete "FILE is ...".
pub fn inspect(bytes: &[u8]) -> Result<PayloadElf, String> {
    match FileKind::parse(bytes) {
        Ok(FileKind::Elf64) => {}
        Ok(FileKind::Elf32) => return Err("a 32-bit ELF file; Xen live patches are 64-bit".into()),
        _ => return Err("not an ELF file; a live patch is an ELF relocatable object".into()),
    }
    let file = ElfFile64::<Endianness>::parse(bytes).map_err(|e| format!("a damaged ELF file ({e})"))?;
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
    let xen_depends = gnu_build_id(&file, XEN_DEPENDS)?.ok_or_else(|| {
        format!("not a live patch: it has no {XEN_DEPENDS} section (the build id of the hypervisor it was made for)")
    })?;
    let build_id = gnu_build_id(&file, OWN_BUILD_ID).ok().flatten();
    Ok(PayloadElf { xen_depends, build_id })
}

/// The GNU build-id note of section `name`: `Ok(None)` when there is no
/// such section, `Err` when it is there without a usable note.
fn gnu_build_id(file: &ElfFile64<'_, Endianness>, name: &str) -> Result<Option<Vec<u8>>, String> {
    let Some(section) = file.section_by_name(name) else { return Ok(None) };
    let endian = file.endian();
    let header = section.elf_section_header();
    let bad = |why: String| format!("not a valid live patch: its {name} section {why}");
    let mut notes = header
        .notes(endian, file.data())
        .map_err(|e| bad(format!("cannot be read as notes ({e})")))?
        .ok_or_else(|| bad("is not a note section (SHT_NOTE)".into()))?;
    while let Some(note) = notes.next().map_err(|e| bad(format!("holds a damaged note ({e})")))? {
        if note.name() == b"GNU" && note.n_type(endian) == NT_GNU_BUILD_ID && !note.desc().is_empty() {
            return Ok(Some(note.desc().to_vec()));
        }
    }
    Err(bad("holds no GNU build-id note".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_empty_files_are_not_elf() {
        for b in [&b"hello, this is not a live patch\n"[..], b"", b"\x7fELF"] {
            let e = inspect(b).unwrap_err();
            assert!(e.starts_with("not an ELF file") || e.starts_with("a damaged"), "{b:?}: {e}");
        }
    }

    #[test]
    fn a_32_bit_elf_header_is_named() {
        let mut h = vec![0u8; 52];
        h[..6].copy_from_slice(b"\x7fELF\x01\x01");
        assert!(inspect(&h).unwrap_err().contains("32-bit"));
    }

    #[test]
    fn the_running_program_is_an_executable_not_a_live_patch() {
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let e = inspect(&me).unwrap_err();
        assert!(e.contains("not a relocatable object"), "{e}");
    }
}
