//! An [`Inspection`] as text (for people: control bytes in names and
//! metadata shown as `\xNN`, as `--format dump` shows them) or as one JSON
//! document (schema: `cli/schema/xc-livepatch-inspect.schema.json`).

use crate::dump::escape_name;
use crate::elf::{Func, Payload};
use crate::inspect::{Inspection, Now, Verdict};
use crate::json::metadata_strings;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt as _;
use std::path::Path;
use xc_livepatch::xenver::hex;

fn shown(b: &[u8]) -> String {
    let mut o = Vec::new();
    escape_name(b, &mut o);
    String::from_utf8_lossy(&o).into_owned()
}

fn id_text(id: &Option<Vec<u8>>) -> String {
    id.as_deref().map_or_else(|| "none".to_string(), hex)
}

/// The text form.
pub fn text(i: &Inspection, file: &Path) -> Vec<u8> {
    let p = &i.payload;
    let mut o = String::new();
    let _ = writeln!(o, "file:          {} ({} bytes)", shown(file.as_os_str().as_bytes()), i.size);
    let _ = writeln!(o, "build id:      {}", id_text(&p.stack.build_id));
    let _ = writeln!(o, "depends:       {}", id_text(&p.stack.depends));
    let _ = writeln!(o, "xen_depends:   {}", hex(&p.xen_depends));
    let version = p.funcs.first().map_or(String::new(), |f| format!(", payload format version {}", f.version));
    let _ = writeln!(o, "functions:     {}{version}", p.funcs.len());
    for f in &p.funcs {
        let _ = writeln!(o, "  {}", func_text(f));
    }
    let _ = writeln!(o, "hooks:         {}", hooks_text(p));
    let _ = writeln!(o, "reapply:       {}", reapply_text(p));
    let mi: Vec<String> = metadata_strings(&p.stack.modinfo).iter().map(|s| shown(s)).collect();
    let _ = writeln!(o, "metadata:      {}", if mi.is_empty() { "none".into() } else { mi.join("; ") });
    if p.problems.is_empty() {
        let _ = writeln!(o, "problems:      none found in the file");
    }
    for why in &p.problems {
        let _ = writeln!(o, "problem:       {why}");
    }
    match &i.now {
        Err(why) => {
            let _ = writeln!(o, "hypervisor:    not asked: {why}");
        }
        Ok(now) => now_text(&mut o, now, &i.name),
    }
    o.into_bytes()
}

fn func_text(f: &Func) -> String {
    let name = f.name.as_deref().map_or_else(|| "(name not resolved)".to_string(), shown);
    let new = if f.new_addr_set { format!("new {} bytes", f.new_size) } else { format!("NOPs, {} bytes", f.new_size) };
    format!("{name}: old {} bytes, {new}", f.old_size)
}

fn hooks_text(p: &Payload) -> String {
    if p.hooks.is_empty() {
        return "none".into();
    }
    let words: Vec<String> = p
        .hooks
        .iter()
        .map(|h| {
            let word = h.kind.section.trim_start_matches(".livepatch.hooks.");
            let mut notes = Vec::new();
            if h.kind.vetoing && h.enabled {
                notes.push("vetoing");
            }
            if !h.enabled {
                notes.push("NULL, not called");
            }
            if notes.is_empty() {
                word.to_string()
            } else {
                format!("{word} ({})", notes.join(", "))
            }
        })
        .collect();
    words.join(", ")
}

fn reapply_text(p: &Payload) -> String {
    if p.stack.safe_to_reapply {
        "safe: no writable section but .livepatch.funcs".into()
    } else {
        format!("not safe (unload and upload again after a revert): writable {}", p.writable.join(", "))
    }
}

fn verdict_text(v: &Verdict) -> String {
    let word = match v.ok {
        Some(true) => "yes",
        Some(false) => "no",
        None => "cannot tell",
    };
    if v.why.is_empty() {
        word.into()
    } else {
        format!("{word}: {}", v.why.join("; "))
    }
}

fn now_text(o: &mut String, now: &Now, name: &[u8]) {
    let applied: Vec<String> = now.applied.iter().map(|n| shown(n)).collect();
    let _ = writeln!(
        o,
        "hypervisor:    build id {}, applied: {}",
        id_text(&now.hypervisor_build_id),
        if applied.is_empty() { "none".into() } else { applied.join(", ") }
    );
    let _ = writeln!(o, "  upload as {}: {}", shown(name), verdict_text(&now.upload));
    let _ = writeln!(o, "  apply:       {}", verdict_text(&now.apply));
    let _ = writeln!(o, "  replace:     {}", verdict_text(&now.replace));
}

fn bytes_json(b: &[u8]) -> Value {
    json!({ "text": String::from_utf8_lossy(b), "base64": BASE64.encode(b) })
}

fn verdict_json(v: &Verdict) -> Value {
    json!({ "ok": v.ok, "why": v.why })
}

/// The JSON document.
pub fn json(i: &Inspection, file: &Path, source: &'static str) -> Vec<u8> {
    let p = &i.payload;
    let funcs: Vec<Value> = p
        .funcs
        .iter()
        .map(|f| {
            json!({
                "name": f.name.as_deref().map(bytes_json),
                "old_size": f.old_size,
                "new_size": f.new_size,
                "new_code": f.new_addr_set,
                "old_addr": f.old_addr,
                "version": f.version,
            })
        })
        .collect();
    let hooks: Vec<Value> = p
        .hooks
        .iter()
        .map(
            |h| json!({ "section": h.kind.section, "vetoing": h.kind.vetoing, "enabled": h.enabled, "count": h.count }),
        )
        .collect();
    let metadata: Vec<Value> =
        metadata_strings(&p.stack.modinfo).iter().map(|s| Value::from(String::from_utf8_lossy(s))).collect();
    let now = match &i.now {
        Ok(n) => json!({
            "hypervisor_build_id": n.hypervisor_build_id.as_deref().map(hex),
            "applied": n.applied.iter().map(|a| bytes_json(a)).collect::<Vec<_>>(),
            "upload": verdict_json(&n.upload),
            "apply": verdict_json(&n.apply),
            "replace": verdict_json(&n.replace),
        }),
        Err(_) => Value::Null,
    };
    let doc = json!({
        "command": "inspect",
        "source": source,
        "file": bytes_json(file.as_os_str().as_bytes()),
        "size": i.size,
        "name": bytes_json(&i.name),
        "build_id": p.stack.build_id.as_deref().map(hex),
        "depends": p.stack.depends.as_deref().map(hex),
        "xen_depends": hex(&p.xen_depends),
        "functions": funcs,
        "hooks": hooks,
        "vetoing_hooks": p.stack.vetoing_hooks,
        "safe_to_reapply": p.stack.safe_to_reapply,
        "writable_sections": p.writable,
        "metadata": metadata,
        "metadata_base64": BASE64.encode(&p.stack.modinfo),
        "problems": p.problems,
        "now": now,
        "not_asked": i.now.as_ref().err(),
    });
    let mut out = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    out.push(b'\n');
    out
}
