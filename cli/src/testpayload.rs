//! Test helper: real live-patch files made with binutils (`as`, `objcopy`,
//! `ld`, which `scripts/setup.sh` installs), the three ways payloads get
//! their build-id notes: `@note` sections in assembly (as
//! `tests/real-xen/gen-payloads.py` writes them), `objcopy --add-section` of
//! a note file (livepatch-build-tools' `livepatch-build`), and `objcopy -I
//! binary --rename-section=.data=...` (Xen's `xen/test/livepatch` Makefile).
//! The last two give `SHT_PROGBITS` sections. Shared by the command's unit
//! tests and the library's `tests/sim_manage.rs` (included by path).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// How the build-id notes get into the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notes {
    /// `.section NAME, "a", @note` in the assembly (SHT_NOTE).
    AsmNote,
    /// `objcopy --add-section NAME=note.bin` then `--set-section-flags
    /// NAME=alloc,readonly` (SHT_PROGBITS).
    AddSection,
    /// `objcopy -I binary --rename-section=.data=NAME,alloc,load,readonly,
    /// data,contents` of the note file, linked in with `ld -r` (SHT_PROGBITS).
    BinaryRename,
}

/// What to put in a payload.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Its own build id (`ld --build-id=0x...`).
    pub build_id: Vec<u8>,
    /// `.livepatch.depends`.
    pub depends: Vec<u8>,
    /// `.livepatch.xen_depends`.
    pub xen_depends: Vec<u8>,
    /// How the two notes are made.
    pub notes: Notes,
    /// Names of the functions it replaces (old_size 16, version 2).
    pub funcs: Vec<&'static str>,
    /// Hook sections (`preapply`, `load`...) with a real function.
    pub hooks: Vec<&'static str>,
    /// Hook sections holding a NULL pointer (present, not enabled).
    pub null_hooks: Vec<&'static str>,
    /// A writable `.data` section of 8 bytes (not safe to re-apply).
    pub writable_data: bool,
    /// `.modinfo`'s bytes (NUL-terminated strings).
    pub modinfo: Option<Vec<u8>>,
    /// Raw bytes for `.livepatch.xen_depends` instead of one note (the
    /// two-note file).
    pub raw_xen_depends: Option<Vec<u8>>,
}

impl Spec {
    /// One function, no hooks, notes in assembly.
    pub fn new(build_id: u8, depends: &[u8], xen: &[u8]) -> Spec {
        Spec {
            build_id: vec![build_id; 20],
            depends: depends.to_vec(),
            xen_depends: xen.to_vec(),
            notes: Notes::AsmNote,
            funcs: vec!["xen_extra_version"],
            hooks: vec![],
            null_hooks: vec![],
            writable_data: false,
            modinfo: None,
            raw_xen_depends: None,
        }
    }
}

/// A GNU build-id note (namesz 4, type 3, "GNU\0", the id, padded to 4).
pub fn note(id: &[u8], n_type: u32) -> Vec<u8> {
    let mut n = Vec::new();
    for w in [4u32, id.len() as u32, n_type] {
        n.extend_from_slice(&w.to_le_bytes());
    }
    n.extend_from_slice(b"GNU\0");
    n.extend_from_slice(id);
    n.resize(n.len().next_multiple_of(4), 0);
    n
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e} (binutils: scripts/setup.sh installs them)"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn asm_note(section: &str, note: &[u8]) -> String {
    let bytes: Vec<String> = note.iter().map(|b| format!("0x{b:02x}")).collect();
    format!("    .section {section}, \"a\", @note\n    .balign 4\n    .byte {}\n", bytes.join(","))
}

fn body(spec: &Spec) -> String {
    let mut s = String::new();
    for (i, f) in spec.funcs.iter().enumerate() {
        s += &format!(
            "    .section .rodata.n{i}, \"a\", @progbits\nname{i}:\n    .asciz \"{f}\"\n\
             \x20   .section .text.n{i}, \"ax\", @progbits\nnew{i}:\n    endbr64\n    xorl %eax, %eax\n    ret\nnew{i}_end:\n\
             \x20   .section .livepatch.funcs, \"aw\", @progbits\n    .balign 8\n    .quad name{i}\n    .quad new{i}\n\
             \x20   .quad 0\n    .long new{i}_end - new{i}\n    .long 16\n    .byte 2\n    .fill 39, 1, 0\n    .fill 32, 1, 0\n"
        );
    }
    for h in &spec.hooks {
        s += &format!(
            "    .section .text.h_{h}, \"ax\", @progbits\nhook_{h}:\n    endbr64\n    xorl %eax, %eax\n    ret\n\
             \x20   .section .livepatch.hooks.{h}, \"aw\", @progbits\n    .balign 8\n    .quad hook_{h}\n"
        );
    }
    for h in &spec.null_hooks {
        s += &format!("    .section .livepatch.hooks.{h}, \"aw\", @progbits\n    .balign 8\n    .quad 0\n");
    }
    if spec.writable_data {
        s += "    .data\n    .quad 42\n";
    }
    s
}

/// Writes the payload `spec` describes to `dir/name.livepatch`.
pub fn build(dir: &Path, name: &str, spec: &Spec) -> PathBuf {
    let t = |ext: &str| dir.join(format!("{name}.{ext}"));
    let xen_note = spec.raw_xen_depends.clone().unwrap_or_else(|| note(&spec.xen_depends, 3));
    let dep_note = note(&spec.depends, 3);
    let mut src = body(spec);
    if spec.notes == Notes::AsmNote {
        src += &asm_note(".livepatch.depends", &dep_note);
        src += &asm_note(".livepatch.xen_depends", &xen_note);
    }
    std::fs::write(t("s"), src).unwrap();
    run(Command::new("as").arg("--64").arg("-o").arg(t("o")).arg(t("s")));
    let mut objects = vec![t("o")];
    for (sec, bytes) in [(".livepatch.depends", &dep_note), (".livepatch.xen_depends", &xen_note)] {
        let bin = dir.join(format!("{name}{sec}.bin"));
        std::fs::write(&bin, bytes).unwrap();
        match spec.notes {
            Notes::AsmNote => {}
            Notes::AddSection => {
                run(Command::new("objcopy").arg(format!("--add-section={sec}={}", bin.display())).arg(t("o")));
                run(Command::new("objcopy").arg(format!("--set-section-flags={sec}=alloc,readonly")).arg(t("o")));
            }
            Notes::BinaryRename => {
                let obj = dir.join(format!("{name}{sec}.o"));
                run(Command::new("objcopy")
                    .args(["-I", "binary", "-O", "elf64-x86-64", "-B", "i386:x86-64"])
                    .arg(format!("--rename-section=.data={sec},alloc,load,readonly,data,contents"))
                    .arg("-S")
                    .arg(&bin)
                    .arg(&obj));
                objects.push(obj);
            }
        }
    }
    if let Some(mi) = &spec.modinfo {
        std::fs::write(t("modinfo"), mi).unwrap();
        run(Command::new("objcopy")
            .arg(format!("--add-section=.modinfo={}", t("modinfo").display()))
            .arg("--set-section-flags=.modinfo=alloc,readonly,data")
            .arg(t("o")));
    }
    let out = t("livepatch");
    run(Command::new("ld")
        .arg("-r")
        .arg(format!("--build-id=0x{}", hex(&spec.build_id)))
        .arg("-o")
        .arg(&out)
        .args(&objects));
    out
}
