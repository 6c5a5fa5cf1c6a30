//! What the simulated hypervisor reads of an uploaded ELF, as Xen does
//! (xen/common/livepatch.c, livepatch_elf.c, version.c): a small,
//! bounds-checked ELF64 section reader (no dependency) and the facts Xen
//! takes from the sections: the build ids of `.note.gnu.build-id`,
//! `.livepatch.depends` and `.livepatch.xen_depends` (the FIRST note of the
//! section, whatever its `sh_type`), whether an enabled vetoing hook is
//! there, and `safe_to_reapply`. Every offset and size comes from the
//! upload and is checked before use; a blob this reader cannot read is
//! `None` (the model then keeps its scenario-only behaviour).

/// A build-id section as Xen reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// No section of that name.
    Absent,
    /// The section is there, without a build id Xen reads (EINVAL).
    Unreadable,
    /// The build id.
    Id(Vec<u8>),
}

/// The facts Xen takes from a live-patch ELF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfFacts {
    /// `.note.gnu.build-id`.
    pub build_id: Note,
    /// `.livepatch.depends`.
    pub depends: Note,
    /// `.livepatch.xen_depends`.
    pub xen_depends: Note,
    /// An enabled preapply, postapply, prerevert or postrevert hook.
    pub vetoing_hooks: bool,
    /// No allocated, writable, non-executable section of non-zero size but
    /// `.livepatch.funcs`.
    pub safe_to_reapply: bool,
    /// `.modinfo`'s bytes, when it has one.
    pub modinfo: Option<Vec<u8>>,
}

const SHT_NOBITS: u32 = 8;
const SHT_RELA: u32 = 4;
const SHF_WRITE: u64 = 1;
const SHF_ALLOC: u64 = 2;
const SHF_EXECINSTR: u64 = 4;
const VETOING: [&[u8]; 4] = [
    b".livepatch.hooks.preapply",
    b".livepatch.hooks.postapply",
    b".livepatch.hooks.prerevert",
    b".livepatch.hooks.postrevert",
];

/// One section header.
#[derive(Debug, Clone, Copy)]
struct Section {
    name: u32,
    kind: u32,
    flags: u64,
    offset: u64,
    size: u64,
    info: u32,
}

/// The file and its section headers.
struct Elf<'a> {
    raw: &'a [u8],
    big: bool,
    sections: Vec<Section>,
    names: Section,
}

fn field(raw: &[u8], at: usize, len: usize, big: bool) -> Option<u64> {
    let b = raw.get(at..at.checked_add(len)?)?;
    let mut v = 0u64;
    for i in 0..len {
        let byte = if big { b[i] } else { b[len - 1 - i] };
        v = (v << 8) | u64::from(byte);
    }
    Some(v)
}

impl<'a> Elf<'a> {
    /// The section headers of an ELF64 file (`None`: not one, or damaged).
    fn parse(raw: &'a [u8]) -> Option<Elf<'a>> {
        if raw.len() < 64 || &raw[..4] != b"\x7fELF" || raw[4] != 2 {
            return None;
        }
        let big = match raw[5] {
            1 => false,
            2 => true,
            _ => return None,
        };
        let f = |at, len| field(raw, at, len, big);
        let (shoff, shentsize, shnum, shstrndx) = (f(0x28, 8)?, f(0x3a, 2)?, f(0x3c, 2)?, f(0x3e, 2)?);
        if shentsize != 64 || shnum == 0 || shstrndx >= shnum {
            return None;
        }
        let mut sections = Vec::new();
        for i in 0..shnum {
            let at = usize::try_from(shoff.checked_add(i * 64)?).ok()?;
            let g = |off: usize, len| field(raw, at.checked_add(off)?, len, big);
            sections.push(Section {
                name: g(0, 4)? as u32,
                kind: g(4, 4)? as u32,
                flags: g(8, 8)?,
                offset: g(0x18, 8)?,
                size: g(0x20, 8)?,
                info: g(0x2c, 4)? as u32,
            });
        }
        let names = sections[usize::try_from(shstrndx).ok()?];
        Some(Elf { raw, big, sections, names })
    }

    /// A section's bytes in the file (none for SHT_NOBITS or out of bounds).
    fn bytes(&self, s: &Section) -> Option<&'a [u8]> {
        if s.kind == SHT_NOBITS {
            return None;
        }
        let start = usize::try_from(s.offset).ok()?;
        self.raw.get(start..start.checked_add(usize::try_from(s.size).ok()?)?)
    }

    fn name(&self, s: &Section) -> Option<&'a [u8]> {
        let table = self.bytes(&self.names)?;
        let tail = table.get(usize::try_from(s.name).ok()?..)?;
        Some(&tail[..tail.iter().position(|&b| b == 0)?])
    }

    /// The first section named `name` (index 0, the null section, skipped,
    /// as Xen's `livepatch_elf_sec_by_name`).
    fn by_name(&self, name: &[u8]) -> Option<(usize, Section)> {
        self.sections.iter().enumerate().skip(1).find(|(_, s)| self.name(s) == Some(name)).map(|(i, s)| (i, *s))
    }

    /// Xen's `parse_buildid` of section `name`.
    fn build_id(&self, name: &[u8]) -> Note {
        let Some((_, s)) = self.by_name(name) else { return Note::Absent };
        match self.bytes(&s).and_then(|b| first_build_id_note(b, self.big)) {
            Some(id) => Note::Id(id.to_vec()),
            None => Note::Unreadable,
        }
    }

    /// Whether the hook section `name` holds a set pointer: non-zero bytes,
    /// or a RELA entry patching it.
    fn hook_enabled(&self, name: &[u8]) -> bool {
        let Some((index, s)) = self.by_name(name) else { return false };
        if self.bytes(&s).is_some_and(|b| b.iter().any(|&x| x != 0)) {
            return true;
        }
        self.sections.iter().any(|r| {
            r.kind == SHT_RELA
                && usize::try_from(r.info).ok() == Some(index)
                && self.bytes(r).is_some_and(|b| {
                    b.chunks_exact(24).any(|e| field(e, 0, 8, self.big).is_some_and(|off| off < s.size))
                })
        })
    }

    fn safe_to_reapply(&self) -> bool {
        // From index 1, as Xen's move_payload (the null section is never a payload's).
        let writable: Vec<&Section> = self
            .sections
            .iter()
            .skip(1)
            .filter(|s| {
                s.flags & SHF_ALLOC != 0 && s.flags & SHF_EXECINSTR == 0 && s.flags & SHF_WRITE != 0 && s.size != 0
            })
            .collect();
        match writable.as_slice() {
            [] => true,
            [only] => self.name(only) == Some(b".livepatch.funcs"),
            _ => false,
        }
    }
}

/// Xen's `xen_build_id_check` on a section's bytes: the first note only;
/// longer than a note header; type NT_GNU_BUILD_ID; name at least 4 bytes,
/// "GNU\0"; sizes within the section; the id not empty (and, beyond Xen,
/// within the section once the name is padded).
pub fn first_build_id_note(b: &[u8], big: bool) -> Option<&[u8]> {
    if b.len() <= 12 {
        return None;
    }
    let w = |at| field(b, at, 4, big).map(|v| v as usize);
    let (namesz, descsz, kind) = (w(0)?, w(4)?, w(8)?);
    if kind != 3 || namesz < 4 || namesz.checked_add(descsz)? > b.len() - 12 || b.get(12..16)? != b"GNU\0" {
        return None;
    }
    let desc = 12 + namesz.checked_next_multiple_of(4)?;
    if descsz == 0 {
        return None;
    }
    b.get(desc..desc.checked_add(descsz)?)
}

/// The facts of `raw`, when it is an ELF64 file whose section headers this
/// reader can read and that has one of the three build-id sections (a
/// live patch); otherwise `None`.
pub fn facts(raw: &[u8]) -> Option<ElfFacts> {
    let elf = Elf::parse(raw)?;
    let named = [&b".note.gnu.build-id"[..], b".livepatch.depends", b".livepatch.xen_depends"];
    if !named.iter().any(|n| elf.by_name(n).is_some()) {
        return None;
    }
    Some(ElfFacts {
        build_id: elf.build_id(b".note.gnu.build-id"),
        depends: elf.build_id(b".livepatch.depends"),
        xen_depends: elf.build_id(b".livepatch.xen_depends"),
        vetoing_hooks: VETOING.iter().any(|h| elf.hook_enabled(h)),
        safe_to_reapply: elf.safe_to_reapply(),
        modinfo: elf.by_name(b".modinfo").and_then(|(_, s)| elf.bytes(&s)).map(<[u8]>::to_vec),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damaged_headers_are_not_read_and_never_panic() {
        assert_eq!(facts(b""), None);
        let mut h = vec![0u8; 64];
        h[..6].copy_from_slice(b"\x7fELF\x02\x01");
        assert_eq!(facts(&h), None, "no sections");
        // Every truncation and every single-byte value at a header field.
        for at in [0x28usize, 0x3a, 0x3c, 0x3e] {
            for v in [0u8, 1, 0x40, 0xff] {
                let mut x = h.clone();
                x[at] = v;
                let _ = facts(&x);
            }
        }
    }

    #[test]
    fn only_the_first_note_is_read() {
        let note = |kind: u32, id: &[u8]| {
            let mut n: Vec<u8> = [4u32, id.len() as u32, kind].iter().flat_map(|w| w.to_le_bytes()).collect();
            n.extend_from_slice(b"GNU\0");
            n.extend_from_slice(id);
            n
        };
        assert_eq!(first_build_id_note(&note(3, &[7; 20]), false), Some(&[7u8; 20][..]));
        assert_eq!(first_build_id_note(&[note(1, &[0; 16]), note(3, &[7; 20])].concat(), false), None);
        assert_eq!(first_build_id_note(&note(3, &[]), false), None);
    }
}
