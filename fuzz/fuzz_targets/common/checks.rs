//! The invariants the command's formatters must hold over any listing,
//! shared by the fuzz targets: the JSON decodes back to the exact bytes,
//! the dump is one line per payload and unescapes back to them, and the
//! Prometheus text is valid exposition format (the grammar Prometheus'
//! text parser, `expfmt`, which `promtool check metrics` uses, accepts).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use std::collections::HashSet;
use xc_livepatch::{Failure, Snapshot};
use xc_livepatch_cli::identity::Identity;
use xc_livepatch_cli::{dump, json, prometheus, table};

/// Every formatter over a successful listing (on the hypervisor `id`),
/// each output checked.
pub fn successful(s: &Snapshot, keys: &[String], id: &Identity) {
    check_json(s, &json::render(s, "simulator", id));
    check_dump(s, &dump::render(s));
    let text = prometheus::render(&Ok(s.clone()), keys, id);
    let samples = check_exposition(&text);
    let info = samples.iter().filter(|n| n.as_str() == "xen_livepatch_info").count();
    assert_eq!(info, s.payloads.len(), "one xen_livepatch_info per payload");
    save_for_promtool(&text);
    let _ = table::render(s);
}

/// The formatters that also print a failure.
pub fn failed(f: &Failure, keys: &[String], id: &Identity) {
    let text = prometheus::render(&Err(f.clone()), keys, id);
    check_exposition(&text);
    save_for_promtool(&text);
    let _ = table::failure(f);
    let _ = xc_livepatch_cli::run::error_line("cannot list live patches", &f.error);
}

/// With `XC_FUZZ_PROM_DIR` set (the test command, replaying the corpus),
/// writes each Prometheus text there for `promtool check metrics`.
fn save_for_promtool(text: &[u8]) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    if let Some(d) = std::env::var_os("XC_FUZZ_PROM_DIR") {
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::path::Path::new(&d).join(format!("{}-{n}.prom", std::process::id()));
        std::fs::write(p, text).expect("write the Prometheus text for promtool");
    }
}

fn check_json(s: &Snapshot, out: &[u8]) {
    let doc: serde_json::Value = serde_json::from_slice(out).expect("the JSON parses");
    assert_eq!(doc["count"].as_u64(), Some(s.payloads.len() as u64));
    let ps = doc["payloads"].as_array().expect("payloads");
    assert_eq!(ps.len(), s.payloads.len());
    for (j, p) in ps.iter().zip(&s.payloads) {
        let name = j["name"].as_str().expect("name");
        let bytes = match j.get("name_base64") {
            Some(b) => {
                assert!(std::str::from_utf8(p.name_bytes()).is_err(), "name_base64 for a UTF-8 name");
                BASE64.decode(b.as_str().expect("name_base64")).expect("name_base64 decodes")
            }
            None => name.as_bytes().to_vec(),
        };
        assert_eq!(bytes, p.name_bytes(), "the name's bytes");
        assert_eq!(name, String::from_utf8_lossy(p.name_bytes()));
        assert_eq!(j["state_code"].as_u64(), Some(u64::from(p.state.raw())));
        assert_eq!(j["rc"].as_i64(), Some(i64::from(p.rc)));
        let meta = BASE64.decode(j["metadata_base64"].as_str().expect("metadata_base64")).expect("base64");
        assert_eq!(meta, p.metadata_raw(), "the metadata's bytes");
    }
}

/// The dump's name escaping undone (`\\`, `\xNN`).
fn unescape(f: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < f.len() {
        let (b, used) = match (f[i], f.get(i + 1)) {
            (b'\\', Some(b'\\')) => (b'\\', 2),
            (b'\\', Some(b'x')) => {
                let h = f.get(i + 2..i + 4).and_then(|h| std::str::from_utf8(h).ok()).expect("\\x escape");
                (u8::from_str_radix(h, 16).expect("\\xNN"), 4)
            }
            (b'\\', _) => panic!("bad escape in a dump name"),
            (b, _) => (b, 1),
        };
        out.push(b);
        i += used;
    }
    out
}

fn check_dump(s: &Snapshot, out: &[u8]) {
    let body = out.strip_suffix(b"\n").expect("the dump ends with a newline");
    let lines: Vec<&[u8]> = body.split(|&b| b == b'\n').collect();
    assert_eq!(lines[0], format!("count {}", s.payloads.len()).as_bytes());
    assert_eq!(lines.len(), 1 + s.payloads.len(), "one line per payload");
    for (l, p) in lines[1..].iter().zip(&s.payloads) {
        assert!(!l.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f), "a control byte in a dump line");
        let f: Vec<&[u8]> = l.split(|&b| b == b'\t').collect();
        assert_eq!(f.len(), 4, "four fields");
        assert_eq!(unescape(f[0]), p.name_bytes());
        assert_eq!(f[1], p.state.raw().to_string().as_bytes());
        assert_eq!(f[2], p.rc.to_string().as_bytes());
        let hex: String = p.metadata_raw().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(f[3], hex.as_bytes());
    }
}

fn is_metric_name(n: &str) -> bool {
    let mut c = n.chars();
    matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_' || ch == ':')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == ':')
}

fn is_label_name(n: &str) -> bool {
    let mut c = n.chars();
    matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
        && !n.starts_with("__")
}

/// A float as Go's ParseFloat (expfmt) reads it.
fn is_value(v: &str) -> bool {
    matches!(v, "NaN" | "+Inf" | "-Inf" | "Inf") || (v.parse::<f64>().is_ok() && !v.contains(char::is_alphabetic))
}

/// `{name="value",...}` at the start of `s`: the rest after `}`.
fn labels(mut s: &str) -> &str {
    let mut seen = HashSet::new();
    s = &s[1..];
    loop {
        if let Some(rest) = s.strip_prefix('}') {
            return rest;
        }
        let eq = s.find('=').expect("label name then =");
        let name = &s[..eq];
        assert!(is_label_name(name), "label name {name:?}");
        assert!(seen.insert(name.to_string()), "label {name:?} twice");
        s = s[eq + 1..].strip_prefix('"').expect("label value opens with \"");
        let mut it = s.char_indices();
        let end = loop {
            match it.next().expect("label value closes") {
                (i, '"') => break i,
                (_, '\\') => assert!(matches!(it.next(), Some((_, '\\' | '"' | 'n'))), "label value escape"),
                (_, '\n') => panic!("a newline in a label value"),
                _ => {}
            }
        };
        s = &s[end + 1..];
        if let Some(rest) = s.strip_prefix(',') {
            s = rest;
        } else {
            assert!(s.starts_with('}'), "labels: , or }} expected");
        }
    }
}

/// Checks the text exposition format; returns each sample's metric name.
pub fn check_exposition(out: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(out).expect("the exposition text is UTF-8");
    let body = text.strip_suffix('\n').expect("it ends with a newline");
    let (mut help, mut typ, mut sampled) = (HashSet::new(), HashSet::new(), HashSet::new());
    let mut names = Vec::new();
    for line in body.split('\n') {
        if let Some(c) = line.strip_prefix("# ") {
            let mut t = c.splitn(3, ' ');
            let (kw, name, rest) = (t.next().unwrap(), t.next().unwrap_or(""), t.next().unwrap_or(""));
            match kw {
                "HELP" => {
                    assert!(is_metric_name(name) && help.insert(name.to_string()), "HELP {name:?}");
                    let mut it = rest.chars();
                    while let Some(ch) = it.next() {
                        assert!(ch != '\\' || matches!(it.next(), Some('\\' | 'n')), "HELP escape");
                    }
                }
                "TYPE" => {
                    assert!(is_metric_name(name) && typ.insert(name.to_string()), "TYPE {name:?}");
                    assert!(!sampled.contains(name), "TYPE {name} after its samples");
                    assert!(matches!(rest, "counter" | "gauge" | "histogram" | "summary" | "untyped"), "type {rest}");
                }
                _ => {}
            }
            continue;
        }
        assert!(!line.starts_with('#') || line == "#", "comment {line:?}");
        let end = line.find(['{', ' ']).expect("a sample has a value");
        let name = &line[..end];
        assert!(is_metric_name(name), "metric name {name:?}");
        let rest = if line[end..].starts_with('{') { labels(&line[end..]) } else { &line[end..] };
        let mut v = rest.strip_prefix(' ').expect("a space before the value").split(' ');
        assert!(is_value(v.next().unwrap_or("")), "value in {line:?}");
        if let Some(ts) = v.next() {
            assert!(ts.parse::<i64>().is_ok(), "timestamp");
        }
        assert!(v.next().is_none(), "trailing fields in {line:?}");
        sampled.insert(name.to_string());
        names.push(name.to_string());
    }
    names
}
