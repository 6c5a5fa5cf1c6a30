//! `xc-livepatch list --format prometheus`: the Prometheus text exposition
//! format (0.0.4), for node_exporter's textfile collector.
//!
//! Label values are escaped as the format demands (`\` `"` and newline);
//! a name that is not valid UTF-8 is shown with U+FFFD replacements and gets
//! a `name_base64` label with its exact bytes, so that distinct payloads
//! never collapse into one series. A failed listing still produces output
//! (`xen_livepatch_list_success 0` and the errno) and no payload series, so
//! that a collector sees the failure instead of stale data.

use crate::identity::Identity;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use std::fmt::Write as _;
use xc_livepatch::{Failure, Payload, Snapshot, State};

/// Escapes a label value: backslash, double quote and line feed.
pub fn escape_label_value(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '"' => o.push_str("\\\""),
            '\n' => o.push_str("\\n"),
            c => o.push(c),
        }
    }
    o
}

struct Out(String);

impl Out {
    fn family(&mut self, name: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} gauge");
    }
    fn sample(&mut self, name: &str, labels: &[(String, String)], value: i64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{k}=\"{}\"", escape_label_value(v));
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {value}");
    }
}

/// The payload's identity labels: `name`, and `name_base64` when the name is
/// not valid UTF-8.
fn name_labels(p: &Payload) -> Vec<(String, String)> {
    let b = p.name_bytes();
    let mut l = vec![("name".to_string(), String::from_utf8_lossy(b).into_owned())];
    if std::str::from_utf8(b).is_err() {
        l.push(("name_base64".to_string(), BASE64.encode(b)));
    }
    l
}

fn state_label(s: State) -> String {
    match s {
        State::Checked => "checked".into(),
        State::Applied => "applied".into(),
        State::Unknown(v) => v.to_string(),
    }
}

/// The value of the first `.modinfo` string `KEY=value` (or a bare `KEY`:
/// empty value).
pub fn metadata_value(p: &Payload, key: &str) -> Option<String> {
    crate::json::metadata_strings(p.metadata_raw()).into_iter().find_map(|s| {
        let rest = s.strip_prefix(key.as_bytes())?;
        match rest.first() {
            None => Some(String::new()),
            Some(b'=') => Some(String::from_utf8_lossy(&rest[1..]).into_owned()),
            Some(_) => None,
        }
    })
}

/// `xen_hypervisor_info{version,build_id} 1`, with the labels known (none
/// known: no series).
fn hypervisor_info(o: &mut Out, id: &Identity) {
    let mut l = Vec::new();
    if let Some(v) = &id.version {
        l.push(("version".to_string(), v.clone()));
    }
    if let Some(b) = &id.build_id {
        l.push(("build_id".to_string(), xc_livepatch::xenver::hex(b)));
    }
    if l.is_empty() {
        return;
    }
    o.family(
        "xen_hypervisor_info",
        "The running Xen hypervisor (always 1): its version and build id (what a live patch's .livepatch.xen_depends must name).",
    );
    o.sample("xen_hypervisor_info", &l, 1);
}

/// The exposition text for a listing's result. `label_metadata`: keys whose
/// values become `meta_KEY` labels of `xen_livepatch_info` (an absent key
/// or an empty value gives no label); `id`: the hypervisor's version and
/// build id.
pub fn render(result: &Result<Snapshot, Failure>, label_metadata: &[String], id: &Identity) -> Vec<u8> {
    let mut o = Out(String::new());
    hypervisor_info(&mut o, id);
    let (errno, iface) = match result {
        Ok(s) => (0, Some(s.interface_version)),
        Err(f) => (f.error.errno(), f.interface_version),
    };
    o.family("xen_livepatch_list_success", "1 if the live patches were listed, 0 if listing them failed.");
    o.sample("xen_livepatch_list_success", &[], i64::from(errno == 0));
    o.family(
        "xen_livepatch_list_errno",
        "The errno of the failed listing (13 EACCES, 1 EPERM, 38 ENOSYS, 2 ENOENT...), 0 after a success.",
    );
    o.sample("xen_livepatch_list_errno", &[], i64::from(errno));
    if let Some(v) = iface {
        o.family(
            "xen_livepatch_sysctl_interface",
            "The hypervisor's sysctl interface version (21 = 0x15: Xen 4.17 to 4.20; 22 = 0x16: Xen 4.21+).",
        );
        o.sample("xen_livepatch_sysctl_interface", &[], i64::from(v));
    }
    let Ok(s) = result else {
        return o.0.into_bytes();
    };
    o.family(
        "xen_livepatch_list_version",
        "The payload list's generation counter (bumped by every upload and unload).",
    );
    o.sample("xen_livepatch_list_version", &[], i64::from(s.version));
    o.family("xen_livepatch_payloads", "Live patches loaded in the hypervisor.");
    o.sample("xen_livepatch_payloads", &[], s.payloads.len() as i64);
    o.family(
        "xen_livepatch_checked_payloads",
        "Live patches loaded but not applied (CHECKED): they hold hypervisor memory until unloaded (a replace leaves the replaced ones so).",
    );
    let checked = s.payloads.iter().filter(|p| p.state == State::Checked).count();
    o.sample("xen_livepatch_checked_payloads", &[], checked as i64);
    if s.payloads.is_empty() {
        return o.0.into_bytes();
    }
    let mut keys: Vec<&String> = Vec::new();
    for k in label_metadata {
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    o.family(
        "xen_livepatch_info",
        "A loaded live patch (always 1), with its name and state (checked, applied, or the state number).",
    );
    for p in &s.payloads {
        let mut l = name_labels(p);
        l.push(("state".into(), state_label(p.state)));
        for k in &keys {
            if let Some(v) = metadata_value(p, k).filter(|v| !v.is_empty()) {
                l.push((format!("meta_{k}"), v));
            }
        }
        o.sample("xen_livepatch_info", &l, 1);
    }
    o.family(
        "xen_livepatch_rc",
        "The result of the payload's last action: 0, or a negative errno (-11 EAGAIN while an action is in progress).",
    );
    for p in &s.payloads {
        o.sample("xen_livepatch_rc", &name_labels(p), i64::from(p.rc));
    }
    o.0.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::*;

    fn text(r: &Result<Snapshot, Failure>, keys: &[&str]) -> String {
        let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        String::from_utf8(render(r, &keys, &Identity::default())).unwrap()
    }

    #[test]
    fn label_values_escape_backslash_quote_and_newline_only() {
        assert_eq!(escape_label_value("a\\b\"c\nd\te;f=g"), "a\\\\b\\\"c\\nd\te;f=g");
    }

    #[test]
    fn success_has_every_family_with_help_and_type() {
        let t = text(&Ok(snapshot(vec![payload("xsa-1", 2, 0, b"V=1\0"), payload("lp-2", 1, -11, b"")])), &[]);
        for m in [
            "xen_livepatch_list_success",
            "xen_livepatch_list_errno",
            "xen_livepatch_sysctl_interface",
            "xen_livepatch_payloads",
            "xen_livepatch_info",
            "xen_livepatch_rc",
        ] {
            assert!(t.contains(&format!("# HELP {m} ")), "{m}");
            assert!(t.contains(&format!("# TYPE {m} gauge\n")), "{m}");
        }
        assert!(t.contains("\nxen_livepatch_list_success 1\n"));
        assert!(t.contains("\nxen_livepatch_payloads 2\n"));
        assert!(t.contains("\nxen_livepatch_sysctl_interface 21\n"));
        assert!(t.contains("\nxen_livepatch_info{name=\"xsa-1\",state=\"applied\"} 1\n"));
        assert!(t.contains("\nxen_livepatch_info{name=\"lp-2\",state=\"checked\"} 1\n"));
        assert!(t.contains("\nxen_livepatch_rc{name=\"lp-2\"} -11\n"));
    }

    #[test]
    fn the_hypervisor_is_an_info_metric_and_checked_payloads_are_counted() {
        let id = Identity { version: Some("4.17.7".into()), build_id: Some(vec![0x5e, 0x6d]) };
        let r = Ok(snapshot(vec![payload("a", 1, 0, b""), payload("b", 2, 0, b""), payload("c", 1, -16, b"")]));
        let t = String::from_utf8(render(&r, &[], &id)).unwrap();
        assert!(t.contains("\nxen_hypervisor_info{version=\"4.17.7\",build_id=\"5e6d\"} 1\n"), "{t}");
        assert!(t.contains("# TYPE xen_hypervisor_info gauge\n"));
        assert!(t.contains("\nxen_livepatch_checked_payloads 2\n"), "{t}");
        // Failed listing: the hypervisor is still named, no payload counts.
        let only_version = Identity { version: Some("4.17.7".into()), build_id: None };
        let t = String::from_utf8(render(&Err(failed(libc::EPERM, None)), &[], &only_version)).unwrap();
        assert!(t.contains("\nxen_hypervisor_info{version=\"4.17.7\"} 1\n"), "{t}");
        assert!(!t.contains("xen_livepatch_checked_payloads"));
        assert!(!text(&Ok(snapshot(vec![])), &[]).contains("xen_hypervisor_info"));
    }

    #[test]
    fn failure_says_so_and_lists_no_payloads() {
        let t = text(&Err(failed(libc::EACCES, None)), &[]);
        assert!(t.contains("\nxen_livepatch_list_success 0\n"));
        assert!(t.contains("\nxen_livepatch_list_errno 13\n"));
        assert!(!t.contains("xen_livepatch_payloads"));
        assert!(!t.contains("xen_livepatch_info"));
        assert!(!t.contains("xen_livepatch_sysctl_interface"));
        let t = text(&Err(failed(libc::EBUSY, Some(3))), &[]);
        assert!(t.contains("\nxen_livepatch_sysctl_interface 21\n"));
    }

    #[test]
    fn empty_list_has_a_zero_count_and_no_payload_series() {
        let t = text(&Ok(snapshot(vec![])), &[]);
        assert!(t.contains("\nxen_livepatch_payloads 0\n"));
        assert!(!t.contains("xen_livepatch_info"));
    }

    #[test]
    fn hostile_names_are_escaped_and_non_utf8_names_stay_distinct() {
        let t = text(
            &Ok(snapshot(vec![
                payload(b"a\"b\\c\nd", 1, 0, b""),
                payload(b"x\xff", 1, 0, b""),
                payload(b"x\xfe", 1, 0, b""),
            ])),
            &[],
        );
        assert!(t.contains("xen_livepatch_info{name=\"a\\\"b\\\\c\\nd\",state=\"checked\"} 1\n"));
        assert!(t.contains("xen_livepatch_rc{name=\"x\u{fffd}\",name_base64=\"eP8=\"} 0\n"));
        assert!(t.contains("xen_livepatch_rc{name=\"x\u{fffd}\",name_base64=\"eP4=\"} 0\n"));
    }

    #[test]
    fn label_metadata_adds_chosen_keys_only() {
        let meta: &[u8] = b"VERSION=2\0XSA=435\0BARE\0NOTE=a \"q\" \\ z\0EMPTY=\0";
        let r = Ok(snapshot(vec![payload("p", 2, 0, meta)]));
        let t = text(&r, &["XSA", "BARE", "NOTE", "MISSING", "EMPTY", "XSA"]);
        assert!(t.contains("xen_livepatch_info{name=\"p\",state=\"applied\",meta_XSA=\"435\",meta_NOTE=\"a \\\"q\\\" \\\\ z\"} 1\n"), "{t}");
        assert!(!text(&r, &[]).contains("meta_"));
    }

    #[test]
    fn metadata_value_needs_the_whole_key() {
        let r = snapshot(vec![payload("p", 1, 0, b"XSAX=1\0XSA=2\0")]);
        assert_eq!(metadata_value(&r.payloads[0], "XSA").as_deref(), Some("2"));
        assert_eq!(metadata_value(&r.payloads[0], "XS"), None);
    }

    #[test]
    fn many_payloads_and_127_byte_names() {
        let mut ps = xc_livepatch::sim::generated(1100, 0);
        ps.push(payload("n".repeat(127), 1, 0, b""));
        let t = text(&Ok(snapshot(ps)), &[]);
        assert_eq!(t.lines().filter(|l| l.starts_with("xen_livepatch_info{")).count(), 1101);
        assert!(t.contains(&format!("xen_livepatch_rc{{name=\"{}\"}} 0\n", "n".repeat(127))));
    }
}
