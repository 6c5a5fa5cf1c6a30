//! The checked-in header is exactly what cbindgen generates from the sources.
//! `BLESS=1 cargo test --test header` rewrites it.

use std::path::Path;

#[test]
fn header_matches_generated() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(root)
        .with_config(config)
        .generate()
        .expect("cbindgen failed")
        .write(&mut generated);
    let path = root.join("include/xc_livepatch.h");
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let checked_in = std::fs::read(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "include/xc_livepatch.h differs from what cbindgen generates; run `BLESS=1 cargo test --test header` and commit it"
    );
}
