//! Fuzz target: the command's ELF reader (`xc_livepatch_cli::elf::inspect`,
//! the one `upload`, `load` and `inspect` use) over arbitrary bytes, seeded
//! with real payloads from tests/real-xen/gen-payloads.py (the three ways of
//! making build-id notes, hooks, functions, metadata).
//!
//! It must never panic, whatever the input: every section, note, relocation
//! and string offset comes from the file. When the bytes are read as a live
//! patch, the inspection is also judged against an empty hypervisor and
//! rendered as text and JSON; the JSON must parse, and the build ids it shows
//! must be the reader's. The simulator's reader (`xc_livepatch::sim::elf`)
//! runs on the same bytes: no panic, and where both read a live patch they
//! agree on its build ids, vetoing hooks and re-apply safety.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use xc_livepatch::Snapshot;
use xc_livepatch_cli::inspect::{judge, Inspection};
use xc_livepatch_cli::{elf, inspect_render};

fuzz_target!(|data: &[u8]| {
    // The simulator's own reader (src/sim/elf.rs) must not panic either,
    // and where both read the file, they agree on what Xen takes from it.
    let sim = xc_livepatch::sim::elf::facts(data);
    let Ok(payload) = elf::inspect(data) else { return };
    if let Some(f) = &sim {
        use xc_livepatch::sim::elf::Note;
        let id = |n: &Note| match n {
            Note::Id(v) => Some(v.clone()),
            _ => None,
        };
        assert_eq!(id(&f.xen_depends).as_ref(), Some(&payload.xen_depends), "xen_depends");
        assert_eq!(id(&f.build_id), payload.stack.build_id, "build id");
        assert_eq!(id(&f.depends), payload.stack.depends, "depends");
        assert_eq!(f.safe_to_reapply, payload.stack.safe_to_reapply, "safe_to_reapply");
        assert_eq!(f.vetoing_hooks, payload.stack.vetoing_hooks, "vetoing hooks");
    }
    let snap = Snapshot { payloads: vec![], version: 1, interface_version: 0x15 };
    let now = judge(&payload, data.len() as u64, b"fuzz", &snap, Some(&[0x5e; 20]));
    let i = Inspection { size: data.len() as u64, payload, name: b"fuzz".to_vec(), now: Ok(now) };
    let _ = inspect_render::text(&i, Path::new("fuzz.livepatch"));
    let doc: serde_json::Value =
        serde_json::from_slice(&inspect_render::json(&i, Path::new("fuzz.livepatch"), "simulator")).expect("JSON");
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    assert_eq!(doc["xen_depends"], hex(&i.payload.xen_depends));
    assert_eq!(doc["build_id"].as_str().map(str::to_string), i.payload.stack.build_id.as_deref().map(hex));
    assert_eq!(doc["functions"].as_array().map(Vec::len), Some(i.payload.funcs.len()));
});
