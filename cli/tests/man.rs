//! The checked-in man page `cli/man/xc-livepatch.1` (and one page per
//! subcommand) is what clap_mangen makes from the argument definitions.
//! `BLESS=1 cargo test -p xc-livepatch-cli --test man` rewrites them.

use clap::CommandFactory;
use std::path::PathBuf;
use xc_livepatch_cli::args::Cli;

fn render(cmd: clap::Command) -> Vec<u8> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut out).expect("render man page");
    out
}

fn pages() -> Vec<(String, Vec<u8>)> {
    let cmd = Cli::command();
    let mut pages = vec![("xc-livepatch.1".to_string(), render(cmd.clone()))];
    for sub in cmd.get_subcommands() {
        let name = format!("xc-livepatch-{}", sub.get_name());
        // clap takes &'static names (no `string` feature): leaked, in a test.
        let leaked: &'static str = Box::leak(name.clone().into_boxed_str());
        let version: &'static str = Box::leak(cmd.get_version().unwrap_or_default().to_string().into_boxed_str());
        let sub = sub.clone().name(leaked).version(version);
        pages.push((format!("{name}.1"), render(sub)));
    }
    pages
}

#[test]
fn man_pages_match_the_argument_definitions() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("man");
    let bless = std::env::var_os("BLESS").is_some_and(|v| v == "1");
    for (name, want) in pages() {
        let path = dir.join(&name);
        if bless {
            std::fs::write(&path, &want).unwrap();
        }
        let have = std::fs::read(&path).unwrap_or_default();
        assert!(
            have == want,
            "{} is out of date: run BLESS=1 cargo test -p xc-livepatch-cli --test man",
            path.display()
        );
    }
}
