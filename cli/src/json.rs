//! `xc-livepatch list --json`: one JSON document, lossless whatever the
//! bytes (schema: `cli/schema/xc-livepatch-list.schema.json`).
//!
//! Text fields hold the bytes decoded as UTF-8, each invalid sequence
//! replaced by U+FFFD; the exact bytes are always recoverable: `name_base64`
//! is present exactly when the name is not valid UTF-8, `metadata_base64`
//! always.

use crate::identity::Identity;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::Serialize;
use serde_json::Value;
use xc_livepatch::{Payload, Snapshot, State};

#[derive(Serialize)]
struct Document {
    source: &'static str,
    xen_version: Option<String>,
    xen_build_id: Option<String>,
    sysctl_interface: u32,
    sysctl_interface_hex: String,
    list_version: u32,
    count: usize,
    payloads: Vec<Entry>,
}

#[derive(Serialize)]
struct Entry {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name_base64: Option<String>,
    state: Value,
    state_code: u32,
    rc: i32,
    rc_text: Option<String>,
    metadata: Vec<String>,
    metadata_base64: String,
}

/// The `.modinfo` strings in order: NUL-terminated strings, the last one
/// possibly unterminated; empty strings kept (`A=1\0\0B=2\0` is three
/// strings, a lone `\0` is one empty string, no bytes is none).
pub fn metadata_strings(m: &[u8]) -> Vec<&[u8]> {
    match m.split_last() {
        None => Vec::new(),
        Some((0, body)) => body.split(|&b| b == 0).collect(),
        Some(_) => m.split(|&b| b == 0).collect(),
    }
}

fn entry(p: &Payload) -> Entry {
    let name = p.name_bytes();
    let utf8 = std::str::from_utf8(name).is_ok();
    Entry {
        name: String::from_utf8_lossy(name).into_owned(),
        name_base64: (!utf8).then(|| BASE64.encode(name)),
        state: match p.state {
            State::Unknown(v) => Value::from(v),
            s => Value::from(s.as_str()),
        },
        state_code: p.state.raw(),
        rc: p.rc,
        rc_text: (p.rc != 0).then(|| crate::errno::strerror(p.rc.wrapping_neg())),
        metadata: metadata_strings(p.metadata_raw())
            .into_iter()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect(),
        metadata_base64: BASE64.encode(p.metadata_raw()),
    }
}

/// One payload as the list document gives it (for `ensure --json`'s
/// `before` and `after`).
pub fn payload_value(p: &Payload) -> Value {
    serde_json::to_value(entry(p)).unwrap_or_default()
}

/// The document, pretty-printed, with a final newline. `source` is `xen`
/// or `simulator`; `id` the hypervisor's version and build id.
pub fn render(s: &Snapshot, source: &'static str, id: &Identity) -> Vec<u8> {
    let doc = Document {
        source,
        xen_version: id.version.clone(),
        xen_build_id: id.build_id.as_deref().map(xc_livepatch::xenver::hex),
        sysctl_interface: s.interface_version,
        sysctl_interface_hex: format!("{:#x}", s.interface_version),
        list_version: s.version,
        count: s.payloads.len(),
        payloads: s.payloads.iter().map(entry).collect(),
    };
    // Serializing these plain structs cannot fail (string keys, no maps of
    // other keys, no I/O); an empty document would still be caught by the
    // schema tests.
    let mut out = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::*;

    fn doc(ps: Vec<xc_livepatch::sim::Payload>) -> Value {
        serde_json::from_slice(&render(&snapshot(ps), "simulator", &Identity::default())).unwrap()
    }

    fn decode(v: &Value) -> Vec<u8> {
        BASE64.decode(v.as_str().unwrap()).unwrap()
    }

    #[test]
    fn empty_list_has_count_zero_and_no_payloads() {
        let d = doc(vec![]);
        assert_eq!(d["count"], 0);
        assert_eq!(d["payloads"], Value::Array(vec![]));
        assert_eq!(d["sysctl_interface"], 0x15);
        assert_eq!(d["sysctl_interface_hex"], "0x15");
        assert_eq!(d["source"], "simulator");
    }

    #[test]
    fn the_hypervisors_version_and_build_id_are_given_or_null() {
        let id = Identity { version: Some("4.17.7".into()), build_id: Some(vec![0x5e, 0x0b]) };
        let d: Value = serde_json::from_slice(&render(&snapshot(vec![]), "xen", &id)).unwrap();
        assert_eq!((d["xen_version"].as_str(), d["xen_build_id"].as_str()), (Some("4.17.7"), Some("5e0b")));
        let d = doc(vec![]);
        assert_eq!((d["xen_version"].clone(), d["xen_build_id"].clone()), (Value::Null, Value::Null));
    }

    #[test]
    fn metadata_strings_keep_empty_ones_and_bytes_round_trip() {
        let cases: [(&[u8], &[&str]); 6] = [
            (b"A=1\0\0B=2\0", &["A=1", "", "B=2"]),
            (b"\0", &[""]),
            (b"", &[]),
            (b"K=a;b\0NOEQUALS\0", &["K=a;b", "NOEQUALS"]),
            (b"A=1", &["A=1"]),
            (b"\0\0", &["", ""]),
        ];
        for (raw, want) in cases {
            let d = doc(vec![payload("p", 1, 0, raw)]);
            let p = &d["payloads"][0];
            assert_eq!(p["metadata"], serde_json::json!(want), "{raw:?}");
            assert_eq!(decode(&p["metadata_base64"]), raw);
        }
    }

    #[test]
    fn non_utf8_name_gets_name_base64_and_utf8_name_does_not() {
        let d = doc(vec![payload(b"lp-\xff\xfe", 1, 0, b"V=\xc3\x28\0"), payload("ok", 1, 0, b"")]);
        let p = &d["payloads"][0];
        assert_eq!(p["name"], "lp-\u{fffd}\u{fffd}");
        assert_eq!(decode(&p["name_base64"]), b"lp-\xff\xfe");
        assert_eq!(p["metadata"][0], "V=\u{fffd}(");
        assert_eq!(decode(&p["metadata_base64"]), b"V=\xc3\x28\0");
        assert!(d["payloads"][1].get("name_base64").is_none());
    }

    #[test]
    fn states_and_rc_text() {
        let d = doc(vec![payload("a", 1, 0, b""), payload("b", 2, -11, b""), payload("c", 9, 0, b"")]);
        let ps = &d["payloads"];
        assert_eq!(
            (ps[0]["state"].clone(), ps[0]["state_code"].clone(), ps[0]["rc_text"].clone()),
            ("CHECKED".into(), 1.into(), Value::Null)
        );
        assert_eq!((ps[1]["state"].clone(), ps[1]["rc"].clone()), ("APPLIED".into(), (-11).into()));
        assert_eq!(ps[1]["rc_text"], "Resource temporarily unavailable");
        assert_eq!((ps[2]["state"].clone(), ps[2]["state_code"].clone()), (9.into(), 9.into()));
    }

    #[test]
    fn long_names_and_many_payloads_in_list_order() {
        let long = "x".repeat(127);
        let mut ps = vec![payload(&long, 1, 0, b"")];
        ps.extend(xc_livepatch::sim::generated(1100, 20));
        let d = doc(ps);
        assert_eq!(d["count"], 1101);
        assert_eq!(d["payloads"][0]["name"], long.as_str());
        assert_eq!(d["payloads"][1100]["name"], "lp-01099");
    }
}
