//! The simulator's ELF reader (`xc_livepatch::sim::elf`) on inputs the
//! `elf_inspect` fuzz target found, each kept as a seed of its corpus.

#![cfg(feature = "sim")]

use xc_livepatch::sim::elf::facts;

fn seed(name: &str) -> Vec<u8> {
    let p = format!("{}/fuzz/corpus/elf_inspect/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

#[test]
#[cfg_attr(miri, ignore = "reads a file")]
fn the_null_section_never_makes_a_payload_unsafe_to_reapply() {
    // Section 0 of this file says allocated, writable, non-empty; Xen's
    // move_payload starts at index 1, so the payload stays safe to re-apply
    // (the command's reader said so; the simulator's said not, before).
    let f = facts(&seed("seed-null-section-writable")).expect("read as a live patch");
    assert!(f.safe_to_reapply);
}
