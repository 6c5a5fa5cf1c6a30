fn main() {
    // The shim links the xc-livepatch rlib for its simulator; its copies of
    // the C functions must not be exported, or the shim itself would
    // interpose libxenctrl's xc_livepatch_* in every run.
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={dir}/hide.ver");
    // The library's versioned xc_livepatch_upload (src/ffi/versions.rs) needs
    // its two version nodes defined to link, and must stay local as well.
    println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={dir}/hide-versions.ver");
    println!("cargo:rerun-if-changed=hide-versions.ver");
    println!("cargo:rerun-if-changed=hide.ver");
    println!("cargo:rerun-if-changed=build.rs");
}
