//! The library's layers, as imports: every `crate::` (and, inside a folder,
//! `super::`) reference in `src/` must point to a strictly lower layer, so
//! there is no import circle and none running back up; and the design's
//! forbidden pairs (design.md, "Imports that must never be") hold.

use std::collections::BTreeMap;
use std::path::Path;

/// Each module's layer: a module may import only modules of a lower layer.
const LAYERS: &[(&str, u32)] = &[
    ("abi", 0),
    ("error", 0),
    ("page", 0),
    ("privcmd", 1),
    ("fork_guard", 1),
    ("sysctl", 1),
    ("state", 1),
    ("hypercall_buffer", 2),
    ("list", 2),
    ("manage", 2),
    ("xenver", 2),
    ("xen", 3),
    ("sim", 3),
    ("ffi::boundary", 3),
    ("ffi::versions", 3),
    ("ffi::list", 4),
    ("ffi::manage", 4),
    ("ffi", 5),
];

/// Imports that must never be, whatever the layers say.
const FORBIDDEN: &[(&str, &[&str])] = &[
    ("list", &["privcmd", "hypercall_buffer", "xen", "sim"]),
    ("manage", &["privcmd", "hypercall_buffer", "xen", "sim"]),
    ("xenver", &["privcmd", "hypercall_buffer", "xen", "sim"]),
    ("sysctl", &["privcmd", "hypercall_buffer", "xen"]),
    ("privcmd", &["sysctl"]),
    ("hypercall_buffer", &["sysctl"]),
    ("sim", &["privcmd", "hypercall_buffer", "xen", "ffi"]),
    ("ffi::list", &["sim"]),
    ("ffi::manage", &["sim"]),
];

/// The module a source file is (`src/ffi/list.rs` is `ffi::list`, every
/// file of `src/sim/` is `sim`).
fn module_of(rel: &str) -> String {
    let rel = rel.trim_end_matches(".rs").trim_end_matches("/mod");
    match rel.split_once('/') {
        Some(("sim", _)) => "sim".into(),
        Some((dir, file)) => format!("{dir}::{file}"),
        None => rel.into(),
    }
}

/// The modules a file refers to: `crate::a::...`, `crate::{a, b::c}`, and in
/// `ffi/` files `super::x` as `ffi::x`.
fn imports(module: &str, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let code: String = text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + 7..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            out.extend(inner.split(',').map(|p| p.trim().split("::").next().unwrap_or("").to_string()));
        } else {
            out.push(rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect());
        }
    }
    if let Some(dir) = module.split_once("::").map(|(d, _)| d) {
        for (i, _) in code.match_indices("super::") {
            // `use super::*` (a file's own test module) names no module.
            let name: String = code[i + 7..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                out.push(format!("{dir}::{name}"));
            }
        }
    }
    out.retain(|m| !m.is_empty() && m.chars().next().is_some_and(|c| c.is_lowercase()));
    out
}

fn sources(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, root, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            out.push((rel, std::fs::read_to_string(&p).unwrap()));
        }
    }
}

#[test]
fn every_import_points_down_a_layer_and_none_is_forbidden() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &root, &mut files);
    let layer: BTreeMap<&str, u32> = LAYERS.iter().copied().collect();
    let mut wrong = Vec::new();
    for (rel, text) in &files {
        if rel == "lib.rs" {
            continue; // the crate root: the public API over every layer
        }
        let m = module_of(rel);
        let Some(&mine) = layer.get(m.as_str()) else {
            wrong.push(format!("{rel}: module {m} has no layer in tests/layers.rs"));
            continue;
        };
        for dep in imports(&m, text) {
            let dep = if dep == "ffi" { "ffi".to_string() } else { dep };
            if dep == m {
                continue;
            }
            match layer.get(dep.as_str()) {
                Some(&theirs) if theirs < mine => {}
                Some(&theirs) => wrong.push(format!("{rel}: {m} (layer {mine}) imports {dep} (layer {theirs})")),
                None => wrong.push(format!("{rel}: {m} imports {dep}, which is not a module of the library")),
            }
            if FORBIDDEN.iter().any(|(a, bs)| *a == m && bs.contains(&dep.as_str())) {
                wrong.push(format!("{rel}: {m} must never import {dep}"));
            }
        }
    }
    assert!(wrong.is_empty(), "layering broken:\n{}", wrong.join("\n"));
    assert!(files.len() > 15, "src/ not found ({} files)", files.len());
}

#[test]
fn the_import_reader_sees_grouped_and_nested_imports() {
    let text = "use crate::{abi::X, error::{Error, Result}};\nuse crate::sysctl::at;\n// crate::xen in a comment\n";
    assert_eq!(imports("list", text), ["abi", "error", "sysctl"]);
    assert_eq!(imports("ffi::list", "use super::boundary::{boundary};"), ["ffi::boundary"]);
}
