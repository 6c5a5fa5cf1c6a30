fn main() {
    // The shared library is installed and NEEDED under this name. Its number
    // comes from the crate version by cargo-c's rule (from 1.0 on, the major
    // number), so `cargo build` and `cargo cbuild` (which passes its own
    // -soname before this one) agree; scripts/test.d/60-package.sh checks it.
    // `rustc-link-arg` applies to this package's own targets only (its test
    // and example executables get a harmless DT_SONAME too);
    // `rustc-cdylib-link-arg` would also reach every cdylib that depends on
    // this crate, such as the fakexen test shim.
    let sover =
        match (env!("CARGO_PKG_VERSION_MAJOR"), env!("CARGO_PKG_VERSION_MINOR"), env!("CARGO_PKG_VERSION_PATCH")) {
            ("0", "0", patch) => format!("0.0.{patch}"),
            ("0", minor, _) => format!("0.{minor}"),
            (major, _, _) => major.to_string(),
        };
    println!("cargo:rustc-link-arg=-Wl,-soname,libxc_livepatch.so.{sover}");
    // The symbol versions of src/ffi/versions.rs: Debian 12's and Debian
    // 13's libxenctrl version nodes, each holding its xc_livepatch_upload
    // (the `.symver` directives there say which definition is which). rustc
    // passes its own script first and the linker takes both. `rustc-link-arg`
    // for the reason above: the fakexen shim must not export these.
    // The nodes are empty: the `.symver` directives assign both versions.
    // Their order matters: glibc binds an unversioned reference (Debian 11's
    // tools, programs linked against release 1.1) to the definition of
    // version index 2, the first node here, which must be the four-argument
    // VERS_4.17.0 (tests/fakexen/run-force.sh, case d11, fails otherwise).
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let script = out.join("xc_livepatch.map");
    std::fs::write(&script, "VERS_4.17.0 { };\nlibxenctrl_4.20.0 { };\n").expect("write the version script");
    println!("cargo:rustc-link-arg=-Wl,--version-script={}", script.display());
    println!("cargo:rerun-if-changed=build.rs");
}
