use super::*;
use crate::testpayload::{build, note, Notes, Spec};

const XEN: [u8; 20] = [0x5e; 20];

fn read(spec: &Spec) -> Result<Payload, String> {
    let d = tempfile::tempdir().unwrap();
    inspect(&std::fs::read(build(d.path(), "lp", spec)).unwrap())
}

/// `readelf -S`'s type of section `name` in the payload `spec` makes.
fn section_type(spec: &Spec, name: &str) -> String {
    let d = tempfile::tempdir().unwrap();
    let f = build(d.path(), "lp", spec);
    let out = std::process::Command::new("readelf").arg("-SW").arg(f).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text.lines().find(|l| l.contains(&format!("{name} "))).expect(name);
    line.split_whitespace().find(|w| ["NOTE", "PROGBITS"].contains(w)).unwrap().to_string()
}

#[test]
fn text_and_empty_files_are_not_elf() {
    for b in [&b"hello, this is not a live patch\n"[..], b"", b"\x7fELF"] {
        let e = inspect(b).unwrap_err();
        assert!(e.starts_with("not an ELF file") || e.starts_with("a damaged"), "{b:?}: {e}");
    }
}

#[test]
fn a_32_bit_elf_header_is_named() {
    let mut h = vec![0u8; 52];
    h[..6].copy_from_slice(b"\x7fELF\x01\x01");
    assert!(inspect(&h).unwrap_err().contains("32-bit"));
}

#[test]
fn the_running_program_is_an_executable_not_a_live_patch() {
    let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    let e = inspect(&me).unwrap_err();
    assert!(e.contains("not a relocatable object"), "{e}");
}

#[test]
fn build_id_notes_are_read_whatever_the_section_type_three_ways_as_xen_does() {
    for (notes, sh_type) in
        [(Notes::AsmNote, "NOTE"), (Notes::AddSection, "PROGBITS"), (Notes::BinaryRename, "PROGBITS")]
    {
        let mut spec = Spec::new(0xa1, &[0xd0; 20], &XEN);
        spec.notes = notes;
        assert_eq!(section_type(&spec, XEN_DEPENDS), sh_type, "{notes:?}");
        assert_eq!(section_type(&spec, DEPENDS), sh_type, "{notes:?}");
        let p = read(&spec).unwrap_or_else(|e| panic!("{notes:?}: {e}"));
        assert_eq!(p.xen_depends, XEN, "{notes:?}");
        assert_eq!(p.stack.depends.as_deref(), Some(&[0xd0; 20][..]), "{notes:?}");
        assert_eq!(p.stack.build_id.as_deref(), Some(&[0xa1; 20][..]), "{notes:?}");
        assert_eq!(p.problems, Vec::<String>::new(), "{notes:?}");
    }
}

#[test]
fn only_the_first_note_counts_a_leading_other_note_is_refused_in_one_line() {
    // First a note of type 1 (NT_GNU_ABI_TAG), then the right build id:
    // Xen's xen_build_id_check answers ENODATA, the upload EINVAL.
    for notes in [Notes::AsmNote, Notes::AddSection] {
        let mut spec = Spec::new(0xa2, &XEN, &XEN);
        spec.notes = notes;
        spec.raw_xen_depends = Some([note(&[0; 16], 1), note(&XEN, 3)].concat());
        let e = read(&spec).unwrap_err();
        assert_eq!(
            e,
            "not a valid live patch: its .livepatch.xen_depends section begins with a note of type 1, not \
             NT_GNU_BUILD_ID (3): Xen reads only the first note (ENODATA, so EINVAL)",
            "{notes:?}"
        );
        assert!(!e.contains('\n'));
    }
}

#[test]
fn notes_xen_refuses_are_refused_with_xens_reason() {
    let le = Endianness::Little;
    let ok = note(&XEN, 3);
    assert_eq!(build_id_note(&ok, le), Ok(&XEN[..]));
    // The id may be followed by anything: only the first note is read.
    assert_eq!(build_id_note(&[ok.clone(), b"junk".to_vec()].concat(), le), Ok(&XEN[..]));
    let mut bad_owner = ok.clone();
    bad_owner[12..16].copy_from_slice(b"GNX\0");
    // Name "GNU\0" + 1 byte (padded to 8): strncmp stops at the NUL, accepted.
    let mut long_owner = [5u32, 20, 3].iter().flat_map(|w| w.to_le_bytes()).collect::<Vec<u8>>();
    long_owner.extend_from_slice(b"GNU\0\0\0\0\0");
    long_owner.extend_from_slice(&XEN);
    assert_eq!(build_id_note(&long_owner, le), Ok(&XEN[..]));
    // Name 5 and id 19 fit the 24 bytes after the header only without the
    // name's padding: Xen would read past the section.
    let mut past = ok.clone();
    past[0] = 5;
    past[4] = 19;
    let mut short_name = ok.clone();
    short_name[0] = 3;
    let mut huge = ok.clone();
    huge[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    let mut overflow = ok.clone();
    overflow[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
    let empty_id = note(&[], 3);
    for (bytes, want) in [
        (&ok[..12], "is 12 bytes, too short for a note"),
        (&bad_owner[..], "whose owner is not \"GNU\""),
        (&short_name[..], "sizes (name 3, build id 20)"),
        (&huge[..], "do not fit its 24 bytes"),
        (&overflow[..], "do not fit"),
        (&empty_id[..], "an empty build id"),
        (&past[..], "runs past the section's end"),
    ] {
        let e = build_id_note(bytes, le).unwrap_err();
        assert!(e.contains(want), "{want}: {e}");
    }
}

#[test]
fn functions_hooks_reapply_safety_and_modinfo_are_read() {
    let mut spec = Spec::new(0xa3, &XEN, &XEN);
    spec.funcs = vec!["xen_extra_version", "do_xen_version"];
    spec.hooks = vec!["load", "postapply"];
    spec.null_hooks = vec!["preapply"];
    spec.modinfo = Some(b"version=1\0author=me\0".to_vec());
    let p = read(&spec).unwrap();
    let names: Vec<_> = p.funcs.iter().map(|f| f.name.clone().unwrap()).collect();
    assert_eq!(names, [b"xen_extra_version".to_vec(), b"do_xen_version".to_vec()]);
    assert!(p.funcs.iter().all(|f| f.old_size == 16 && f.new_size == 7 && f.version == 2 && f.new_addr_set));
    let hooks: Vec<_> = p.hooks.iter().map(|h| (h.kind.section, h.enabled)).collect();
    assert_eq!(
        hooks,
        [(".livepatch.hooks.load", true), (".livepatch.hooks.preapply", false), (".livepatch.hooks.postapply", true)]
    );
    assert!(p.stack.vetoing_hooks);
    // Hook sections written "aw" (as gen-payloads.py writes them) are
    // writable: Xen's safe_to_reapply counts them.
    assert!(!p.stack.safe_to_reapply);
    assert_eq!(p.writable, [FUNCS, ".livepatch.hooks.load", ".livepatch.hooks.postapply", ".livepatch.hooks.preapply"]);
    assert_eq!(p.stack.modinfo, b"version=1\0author=me\0");
    assert_eq!(p.problems, Vec::<String>::new());
}

#[test]
fn a_null_vetoing_hook_does_not_veto_and_writable_data_is_unsafe_to_reapply() {
    let mut spec = Spec::new(0xa4, &XEN, &XEN);
    spec.null_hooks = vec!["preapply", "postrevert"];
    spec.writable_data = true;
    let p = read(&spec).unwrap();
    assert!(!p.stack.vetoing_hooks);
    assert!(!p.stack.safe_to_reapply);
    assert_eq!(p.writable[0], ".data");
    // Functions only: the one writable section is .livepatch.funcs.
    let p = read(&Spec::new(0xa5, &XEN, &XEN)).unwrap();
    assert_eq!(p.writable, [FUNCS]);
    assert!(p.stack.safe_to_reapply);
}

#[test]
fn missing_depends_and_build_id_are_problems_not_errors() {
    use object::write::Object;
    use object::{Architecture, BinaryFormat, SectionKind};
    let mut o = Object::new(BinaryFormat::Elf, Architecture::X86_64, Endianness::Little);
    let s = o.add_section(vec![], XEN_DEPENDS.as_bytes().to_vec(), SectionKind::Note);
    o.set_section_data(s, note(&XEN, 3), 4);
    let p = inspect(&o.write().unwrap()).unwrap();
    assert_eq!(p.xen_depends, XEN);
    assert_eq!((p.stack.build_id.clone(), p.stack.depends.clone()), (None, None));
    assert_eq!(
        p.problems,
        [
            "it has no .note.gnu.build-id section (Xen: EINVAL)",
            "it has no .livepatch.depends section (Xen: EINVAL)",
            "it has neither functions (.livepatch.funcs) nor hooks to run (Xen: EINVAL)",
        ]
    );
}

#[test]
fn the_null_section_is_never_found_by_name_as_in_xen() {
    // Found by fuzz/elf_inspect: section 0 named .livepatch.depends (its
    // sh_name set to that section's). Xen's livepatch_elf_sec_by_name
    // starts at index 1; so does the reader, and so the simulator's.
    let d = tempfile::tempdir().unwrap();
    let mut b = std::fs::read(build(d.path(), "lp", &Spec::new(0xa6, &[0xd0; 20], &XEN))).unwrap();
    let file = Elf::parse(&b[..]).unwrap();
    let index = file.section_by_name(DEPENDS).unwrap().index().0;
    let shoff = u64::from_le_bytes(b[0x28..0x30].try_into().unwrap()) as usize;
    let name: [u8; 4] = b[shoff + 64 * index..][..4].try_into().unwrap();
    b[shoff..shoff + 4].copy_from_slice(&name);
    let p = inspect(&b).unwrap();
    assert_eq!(p.stack.depends.as_deref(), Some(&[0xd0; 20][..]));
    assert_eq!(p.problems, Vec::<String>::new());
    let sim = xc_livepatch::sim::elf::facts(&b).unwrap();
    assert_eq!(sim.depends, xc_livepatch::sim::elf::Note::Id(vec![0xd0; 20]));
}
