//! Fuzz target: the command's ELF reader (`xc_livepatch_cli::elf::inspect`,
//! the one `upload`, `load` and `inspect` use) over arbitrary bytes, seeded
//! with real payloads from tests/real-xen/gen-payloads.py (the three ways of
//! making build-id notes, hooks, functions, metadata).
//!
//! It must never panic, whatever the input: every section, note, relocation
//! and string offset comes from the file. When the bytes are read as a live
//! patch, the inspection is also judged against an empty hypervisor and
//! rendered as text and JSON; the JSON must parse, and the build ids it shows
//! must be the reader's.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use xc_livepatch::Snapshot;
use xc_livepatch_cli::inspect::{judge, Inspection};
use xc_livepatch_cli::{elf, inspect_render};

fuzz_target!(|data: &[u8]| {
    let Ok(payload) = elf::inspect(data) else { return };
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
