//! `.livepatch.funcs`: the array of Xen's `struct livepatch_func` (public
//! sysctl.h, the same from 4.14 to 4.22): `name` (a pointer, filled by a
//! relocation in `.rela.livepatch.funcs` into a string section),
//! `new_addr`, `old_addr` (0: looked up by name), `new_size` and
//! `old_size` (u32), `version` (u8), 39 bytes of padding and a 32-byte
//! expectation: 104 bytes on a 64-bit hypervisor.

use super::{section_bytes, Elf, Relocs, FUNCS};
use object::Endianness;

/// `sizeof(struct livepatch_func)` on a 64-bit hypervisor.
pub const FUNC_SIZE: usize = 104;
/// `LIVEPATCH_PAYLOAD_VERSION` in Xen 4.14 to 4.22; others are refused
/// (EOPNOTSUPP).
pub const PAYLOAD_VERSION: u8 = 2;

/// One replaced function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Func {
    /// The name of the function it replaces, when its relocation resolves
    /// to a string in the file.
    pub name: Option<Vec<u8>>,
    /// The size of the new code (0: the old code is replaced by NOPs).
    pub new_size: u32,
    /// The size of the code replaced.
    pub old_size: u32,
    /// The payload format version (`LIVEPATCH_PAYLOAD_VERSION`).
    pub version: u8,
    /// Whether the new code's address is set (a relocation or a value).
    pub new_addr_set: bool,
    /// The old code's address as written in the file (0: Xen looks the
    /// name up in its symbols and the loaded payloads').
    pub old_addr: u64,
}

fn u32_at(b: &[u8], at: usize, e: Endianness) -> u32 {
    let w = [b[at], b[at + 1], b[at + 2], b[at + 3]];
    if e == Endianness::Little {
        u32::from_le_bytes(w)
    } else {
        u32::from_be_bytes(w)
    }
}

fn u64_at(b: &[u8], at: usize, e: Endianness) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    if e == Endianness::Little {
        u64::from_le_bytes(w)
    } else {
        u64::from_be_bytes(w)
    }
}

/// The functions of `.livepatch.funcs`, with what Xen would refuse in them.
pub fn read(file: &Elf<'_>, problems: &mut Vec<String>) -> Vec<Func> {
    let Some(section) = super::by_name(file, FUNCS) else { return Vec::new() };
    let bytes = match section_bytes(file, &section) {
        Ok(b) => b,
        Err(why) => {
            problems.push(format!("its {FUNCS} section {why}"));
            return Vec::new();
        }
    };
    if bytes.len() % FUNC_SIZE != 0 {
        problems
            .push(format!("its {FUNCS} section is {} bytes, not a multiple of {FUNC_SIZE} (Xen: EINVAL)", bytes.len()));
    }
    let e = file.endian();
    let relocs = Relocs::of(&section);
    let mut funcs = Vec::new();
    for (i, f) in bytes.chunks_exact(FUNC_SIZE).enumerate() {
        let at = (i * FUNC_SIZE) as u64;
        let func = Func {
            name: relocs.string(file, at),
            new_addr_set: relocs.has(at + 8) || u64_at(f, 8, e) != 0,
            old_addr: u64_at(f, 16, e),
            new_size: u32_at(f, 24, e),
            old_size: u32_at(f, 28, e),
            version: f[32],
        };
        if func.version != PAYLOAD_VERSION {
            problems.push(format!(
                "its function {i} has payload format version {}, not {PAYLOAD_VERSION} (Xen: EOPNOTSUPP)",
                func.version
            ));
        }
        if func.old_size == 0 {
            problems.push(format!("its function {i} replaces 0 bytes (old_size 0; Xen: EINVAL)"));
        }
        funcs.push(func);
    }
    funcs
}
