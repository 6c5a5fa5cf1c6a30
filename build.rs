fn main() {
    // The shared library is installed and NEEDED under this name.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libxc_livepatch.so.1");
    println!("cargo:rerun-if-changed=build.rs");
}
