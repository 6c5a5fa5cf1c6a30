// Shared by abi-check/xen/build.rs and abi-check/header/build.rs (pulled in
// with `include!`, so each package keeps its own, separate ctest generator).
//
// Where the checked inputs come from. Both can be redirected, which is how
// abi-check/mutations.sh feeds deliberately broken scratch copies to the
// checkers without touching the real files:
//   ABI_RS=/path/abi.rs          the Rust mirrors (default: <repo>/src/abi.rs)
//   XC_LIVEPATCH_INCLUDE=/dir    the directory holding xc_livepatch.h
//                                (default: <repo>/include)

use std::path::PathBuf;

pub fn repo_root() -> PathBuf {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    manifest.join("../..").canonicalize().expect("repository root")
}

pub fn input_path(var: &str, default: PathBuf) -> PathBuf {
    println!("cargo:rerun-if-env-changed={var}");
    let p = match std::env::var_os(var) {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => default,
    };
    let p = p.canonicalize().unwrap_or_else(|e| panic!("{var}: {}: {e}", p.display()));
    println!("cargo:rerun-if-changed={}", p.display());
    p
}

/// An optional directory named by `var` (unset or empty: `None`).
pub fn input_dir(var: &str) -> Option<PathBuf> {
    println!("cargo:rerun-if-env-changed={var}");
    let p = PathBuf::from(std::env::var_os(var).filter(|v| !v.is_empty())?);
    Some(p.canonicalize().unwrap_or_else(|e| panic!("{var}: {}: {e}", p.display())))
}

/// The Rust file with the `#[repr(C)]` mirrors.
pub fn abi_rs() -> PathBuf {
    input_path("ABI_RS", repo_root().join("src/abi.rs"))
}

/// The directory holding our generated `xc_livepatch.h`.
pub fn our_include_dir() -> PathBuf {
    let dir = input_path("XC_LIVEPATCH_INCLUDE", repo_root().join("include"));
    println!("cargo:rerun-if-changed={}", dir.join("xc_livepatch.h").display());
    dir
}

/// A struct or union of abi.rs, as far as these checks need it.
pub struct Item {
    pub is_union: bool,
    pub name: String,
    pub fields: Vec<String>,
}

/// Reads the struct and union definitions of abi.rs (a plain line scan:
/// abi.rs keeps one field per line and closes each body with `}` at column
/// 0, which ctest's own parse of the same file would reject otherwise).
///
/// ctest 0.5.1 silently ignores fields that are not `pub` (its templates
/// filter on visibility), so a private `pad` would drop out of the offset,
/// size and type checks while the struct still "passes". Such a file is
/// refused here: every field of every struct/union must be `pub`.
pub fn read_items(abi: &std::path::Path) -> Vec<Item> {
    let src = std::fs::read_to_string(abi).expect("read abi.rs");
    let mut items = Vec::new();
    let mut cur: Option<Item> = None;
    let mut bad = Vec::new();
    for (n, line) in src.lines().enumerate() {
        let t = line.trim();
        if t.starts_with("//") || t.starts_with("#[") || t.is_empty() {
            continue;
        }
        match cur.as_mut() {
            None => {
                let words: Vec<&str> = t.split_whitespace().collect();
                if let Some(i) = words.iter().position(|w| *w == "struct" || *w == "union") {
                    if t.ends_with('{') && i + 1 < words.len() {
                        cur = Some(Item {
                            is_union: words[i] == "union",
                            name: words[i + 1].trim_end_matches('{').to_string(),
                            fields: Vec::new(),
                        });
                    }
                }
            }
            Some(item) => {
                if t.starts_with('}') {
                    items.push(cur.take().unwrap());
                } else if let Some(rest) = t.strip_prefix("pub ") {
                    let name = rest.split(':').next().unwrap().trim();
                    item.fields.push(name.to_string());
                } else {
                    bad.push(format!("{}:{}: {}", abi.display(), n + 1, t));
                }
            }
        }
    }
    if !bad.is_empty() {
        panic!("fields that are not `pub` would be skipped by ctest (make them pub):\n{}", bad.join("\n"));
    }
    assert!(!items.is_empty(), "no struct found in {}", abi.display());
    items
}

/// Writes OUT_DIR/padding.rs: the "no implicit padding" checks.
///
/// ctest compares, for each Rust field, its offset and size with the C field
/// of the same name, and the total size. It cannot see C fields that Rust
/// lacks: dropping a `pad` that sits in what would otherwise be alignment
/// padding (xen_sysctl_livepatch_op.pad before the 8-aligned union, the
/// trailing xen_sysctl_livepatch_action.pad, xen_livepatch_name.pad[3])
/// keeps every offset and size, and the round trip treats the hole as
/// padding on both sides. Xen's public ABI has no implicit padding (every
/// gap is an explicit `pad`), so we require the same of each Rust mirror:
/// the `pub` fields of a struct must add up to its size (no hole; with
/// ctest's per-field checks this means every C byte is covered by a
/// checked field), and some member of a union must fill it.
pub fn write_padding_checks(abi: &std::path::Path, items: &[Item]) {
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let mut body = String::new();
    for it in items {
        let sizes: Vec<String> = it
            .fields
            .iter()
            .map(|f| format!("field_size(|v: &{t}| {{ #[allow(unused_unsafe)] unsafe {{ &v.{f} }} }})", t = it.name))
            .collect();
        let (covered, what) = if it.is_union {
            (
                format!(
                    "[0 {}].into_iter().max().unwrap()",
                    sizes.iter().map(|s| format!(", {s}")).collect::<String>()
                ),
                "largest member",
            )
        } else {
            (format!("0 {}", sizes.iter().map(|s| format!("+ {s}")).collect::<String>()), "sum of fields")
        };
        body.push_str(&format!(
            "    check({name:?}, {what:?}, core::mem::size_of::<{name}>(), {covered});\n",
            name = it.name
        ));
    }
    let code = format!(
        r#"#[path = {abi:?}]
#[allow(dead_code, clippy::all)]
mod abi;
#[allow(unused_imports)]
use abi::*;

fn field_size<T, F>(_: impl Fn(&T) -> &F) -> usize {{
    core::mem::size_of::<F>()
}}

use std::sync::atomic::{{AtomicBool, AtomicUsize, Ordering::Relaxed}};
static FAILED: AtomicBool = AtomicBool::new(false);
static N: AtomicUsize = AtomicUsize::new(0);

fn check(name: &str, what: &str, size: usize, covered: usize) {{
    if size != covered {{
        eprintln!("implicit padding in `{{name}}`: size {{size}} != {{what}} {{covered}} (a field is missing?)");
        FAILED.store(true, Relaxed);
    }} else {{
        N.fetch_add(1, Relaxed);
    }}
}}

fn main() {{
{body}    if FAILED.load(Relaxed) {{
        panic!("some layouts have implicit padding");
    }}
    println!("PASSED {{}} no-implicit-padding checks", N.load(Relaxed));
}}
"#,
        abi = abi.display().to_string(),
    );
    std::fs::write(out.join("padding.rs"), code).unwrap();
}

/// Generates and compiles the ctest files for `cfg`; the test target
/// (tests/ctest.rs) includes `OUT_DIR/main.rs`, which pulls in abi.rs as a
/// module (it has inner attributes, so it cannot be `include!`d) and then
/// ctest's generated Rust half.
pub fn generate(cfg: &mut ctest::TestGenerator, abi: &std::path::Path) {
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    // abi.rs gates xen_livepatch_status on this cfg (set only by cbindgen's
    // [defines]); the checkers never set it, so the struct is always there.
    println!("cargo::rustc-check-cfg=cfg(xen_public_sysctl_h)");
    ctest::generate_test(cfg, abi, "ctest_output.rs").unwrap_or_else(|e| panic!("ctest: {e}"));
    let main = format!(
        "#[path = {abi:?}]\n#[allow(dead_code, clippy::all)]\nmod abi;\n#[allow(unused_imports)]\nuse abi::*;\ninclude!({gen:?});\n",
        abi = abi.display().to_string(),
        gen = out.join("ctest_output.rs").display().to_string(),
    );
    std::fs::write(out.join("main.rs"), main).unwrap();
}
