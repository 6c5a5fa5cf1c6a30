fn main() {
    // The shared library is installed and NEEDED under this name.
    // `rustc-link-arg` applies to this package's own targets only (its test
    // and example executables get a harmless DT_SONAME too);
    // `rustc-cdylib-link-arg` would also reach every cdylib that depends on
    // this crate, such as the fakexen test shim.
    println!("cargo:rustc-link-arg=-Wl,-soname,libxc_livepatch.so.1");
    println!("cargo:rerun-if-changed=build.rs");
}
