//! ELF symbol versions: one library for callers of either
//! `xc_livepatch_upload` prototype.
//!
//! Xen 4.19 gave `xc_livepatch_upload` a fifth argument, `bool force`.
//! Debian 12's libxenctrl (4.17) versions its symbols `VERS_4.17.0`, Debian
//! 13's (4.20) `libxenctrl_4.20.0`, so every caller's reference already says
//! which prototype it was compiled against. This library defines the node
//! of each (the version script build.rs passes to the linker) and
//! `xc_livepatch_upload` twice:
//!
//! - `xc_livepatch_upload@@VERS_4.17.0` (the default, four arguments: never
//!   a flag): Debian 12's programs (preloaded), unversioned references (Debian
//!   11's libxenctrl 4.14 has no versions; programs linked against release
//!   1.1 of this library; glibc gives them the oldest version), and every
//!   program the linker binds to the default (compiled without this header's
//!   help, for example a 4.20 program relinked with `-lxc_livepatch`);
//! - `xc_livepatch_upload@libxenctrl_4.20.0` (five arguments; `force`
//!   becomes `LIVEPATCH_FLAG_FORCE`): Debian 13's programs (preloaded), and
//!   programs built against a 4.19+ `<xenctrl.h>` and this header, whose
//!   `.symver` line binds the reference to this version.
//!
//! The seven other functions have one prototype in every release and keep
//! the base version, which glibc binds to a reference of any version.
//!
//! A caller the library cannot tell apart (a reference to the default)
//! gets the four-argument function: reading a fifth register a caller did
//! not set could make up a flag, while ignoring one a caller did set only
//! drops `force`, which a hypervisor before 4.19 would refuse anyway.

/// The version node of Xen 4.14-4.18's prototypes (Debian 12's name).
pub const VERS_4_17: &str = "VERS_4.17.0";
/// The version node of Xen 4.19+'s (Debian 13's name).
pub const VERS_4_20: &str = "libxenctrl_4.20.0";

/// The instruction that jumps to `{target}` leaving every argument register
/// as the caller set it.
#[cfg(target_arch = "x86_64")]
macro_rules! tail_jump {
    () => {
        "jmp {target}"
    };
}
#[cfg(target_arch = "aarch64")]
macro_rules! tail_jump {
    () => {
        "b {target}"
    };
}
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
compile_error!("src/ffi/versions.rs: add this architecture's tail jump");
pub(crate) use tail_jump;
