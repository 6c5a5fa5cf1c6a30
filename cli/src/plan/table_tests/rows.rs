//! The rows: start state (legal operations on the model), target, want.

use super::Op::*;
use super::Want::*;
use super::*;

struct Files {
    a: PayloadFile,
    b: PayloadFile,
    c: PayloadFile,
    /// Another `a` (other build id and metadata).
    a2: PayloadFile,
    /// `x` on the hypervisor, `xa` named x on a, `xq` named x on cum, `y` on x.
    x: PayloadFile,
    xa: PayloadFile,
    xq: PayloadFile,
    y: PayloadFile,
    cum: PayloadFile,
    cum0: PayloadFile,
    cum2: PayloadFile,
    u: PayloadFile,
    v: PayloadFile,
}

fn files() -> Files {
    Files {
        a: file("a", "A", "H"),
        b: file("b", "B", "A"),
        c: file("c", "C", "B"),
        a2: file("a", "A2", "H"),
        x: file("x", "X", "H"),
        xa: file("x", "XA", "A"),
        xq: file("x", "XQ", "Q"),
        y: file("y", "Y", "X"),
        cum: file("cum", "Q", "H"),
        cum0: file("cum", "Q0", "H"),
        cum2: file("cum2", "Q2", "H"),
        u: unsafe_(file("u", "U", "H")),
        v: vetoing(file("v", "V", "H")),
    }
}

#[test]
fn a_stack_is_uploaded_then_applied_bottom_up() {
    let f = files();
    check("empty -> a", &[], stack(&[&f.a]), Steps(&["up a", "ap a"]));
    check("empty -> a b", &[], stack(&[&f.a, &f.b]), Steps(&["up a", "up b", "ap a", "ap b"]));
    let abc = stack(&[&f.a, &f.b, &f.c]);
    check("empty -> a b c", &[], abc, Steps(&["up a", "up b", "up c", "ap a", "ap b", "ap c"]));
    check("a unloaded -> a", &[Up(f.a.clone()), Ul("a")], stack(&[&f.a]), Steps(&["up a", "ap a"]));
    check("a applied -> a b", &[Up(f.a.clone()), Ap("a")], stack(&[&f.a, &f.b]), Steps(&["up b", "ap b"]));
    check("a checked -> a b", &[Up(f.a.clone())], stack(&[&f.a, &f.b]), Steps(&["up b", "ap a", "ap b"]));
    let ab_b = [Up(f.a.clone()), Ap("a"), Up(f.b.clone())];
    check("a applied, b checked -> a b", &ab_b, stack(&[&f.a, &f.b]), Steps(&["ap b"]));
    let ab_a = [Up(f.a.clone()), Up(f.b.clone())];
    check("a, b checked -> a b c", &ab_a, stack(&[&f.a, &f.b, &f.c]), Steps(&["up c", "ap a", "ap b", "ap c"]));
}

#[test]
fn a_target_that_holds_plans_nothing() {
    let f = files();
    let ab = [Up(f.a.clone()), Ap("a"), Up(f.b.clone()), Ap("b")];
    check("a applied -> a", &ab[..2], stack(&[&f.a]), Steps(&[]));
    check("a b applied -> a b", &ab, stack(&[&f.a, &f.b]), Steps(&[]));
    check("a b applied -> a (b stays on top)", &ab, stack(&[&f.a]), Steps(&[]));
    let axa = [Up(f.a.clone()), Ap("a"), Up(f.xa.clone()), Ap("x")];
    check("a, x on a applied -> a", &axa, stack(&[&f.a]), Steps(&[]));
    check("vetoing v checked -> v (no REPLACE)", &[Up(f.v.clone())], stack(&[&f.v]), Steps(&["ap v"]));
    check("u applied -> u", &[Up(f.u.clone()), Ap("u")], stack(&[&f.u]), Steps(&[]));
    check("empty -> nothing", &[], stack(&[]), Steps(&[]));
    check("x checked -> nothing (no prune)", &[Up(f.x.clone())], stack(&[]), Steps(&[]));
    check("absent name not loaded", &[], stack(&[]).absent(&["gone"]), Steps(&[]));
    let cum = [Up(f.cum.clone()), Rp("cum")];
    check("cum applied alone -> replace cum", &cum, stack(&[&f.cum]).replace(), Steps(&[]));
    let v = [Up(f.v.clone()), Ap("v")];
    check("vetoing v applied alone -> replace v", &v, stack(&[&f.v]).replace(), Steps(&[]));
}

#[test]
fn a_reverted_payload_is_applied_again_or_reloaded_if_not_safe() {
    let f = files();
    let ar = [Up(f.a.clone()), Ap("a"), Rv("a")];
    check("a reverted -> a", &ar, stack(&[&f.a]), Steps(&["ap a"]));
    let ur = [Up(f.u.clone()), Ap("u"), Rv("u")];
    check("unsafe u reverted -> u", &ur, stack(&[&f.u]), Steps(&["ul u", "up u", "ap u"]));
    // LIST cannot tell a reverted u from one never applied: the same plan.
    check("unsafe u never applied -> u", &[Up(f.u.clone())], stack(&[&f.u]), Steps(&["ul u", "up u", "ap u"]));
    let ur = [Up(f.u.clone()), Ap("u"), Up(f.cum.clone()), Rp("cum")];
    let t = stack(&[&f.u]).replace();
    check("unsafe u replaced by cum -> replace u", &ur, t, Steps(&["ul u", "up u", "rp u"]));
}

#[test]
fn other_metadata_is_refused_without_reload_and_reloaded_with_it() {
    let f = files();
    let a2 = [Up(f.a2.clone())];
    check("a2 checked -> a", &a2, stack(&[&f.a]), Refused("MetadataDiffers"));
    check("a2 checked -> a --reload", &a2, stack(&[&f.a]).reload(), Steps(&["ul a", "up a", "ap a"]));
    let a2a = [Up(f.a2.clone()), Ap("a")];
    check("a2 applied -> a", &a2a, stack(&[&f.a]), Refused("MetadataDiffers"));
    let t = stack(&[&f.a, &f.b]).reload();
    check("a2 applied -> a b --reload", &a2a, t, Steps(&["up b", "rv a", "ul a", "up a", "ap a", "ap b"]));
    let a2x = [Up(f.a2.clone()), Ap("a"), Up(file("x", "XA2", "A2")), Ap("x")];
    check("a2, x applied -> a --reload", &a2x, stack(&[&f.a]).reload(), Refused("WouldRevert"));
    let t = stack(&[&f.a]).reload().absent(&["x"]);
    check("a2, x applied -> a --reload --absent x", &a2x, t, Refused("UnknownOrder"));
    let c0 = [Up(f.cum0.clone()), Rp("cum")];
    let t = stack(&[&f.cum]).replace().reload();
    check("old cum applied -> cum --replace --reload", &c0, t, Steps(&["rv cum", "ul cum", "up cum", "rp cum"]));
    let c0x = [Up(f.cum0.clone()), Rp("cum"), Up(file("x", "X0", "Q0")), Ap("x")];
    let t = stack(&[&f.cum]).replace().reload();
    check("old cum, x applied -> cum --replace --reload", &c0x, t, Refused("UnknownOrder"));
    let c0 = [Up(f.cum0.clone())];
    let t = stack(&[&f.cum]).replace().reload();
    check("old cum checked -> cum --replace --reload", &c0, t, Steps(&["ul cum", "up cum", "rp cum"]));
}

#[test]
fn only_a_known_top_is_reverted_and_only_when_allowed() {
    let f = files();
    let x = [Up(f.x.clone()), Ap("x")];
    check("x applied -> a", &x, stack(&[&f.a]), Refused("WouldRevert"));
    let t = stack(&[&f.a]).absent(&["x"]);
    check("x applied -> a --absent x", &x, t, Steps(&["up a", "rv x", "ap a", "ul x"]));
    let xy = [Up(f.x.clone()), Ap("x"), Up(f.y.clone()), Ap("y")];
    let t = stack(&[&f.a]).absent(&["x", "y"]);
    check("x y applied -> a --absent x y", &xy, t, Refused("UnknownOrder"));
    check("x y applied -> --absent x", &xy, stack(&[]).absent(&["x"]), Refused("UnknownOrder"));
    check("x applied -> --absent x", &x, stack(&[]).absent(&["x"]), Steps(&["rv x", "ul x"]));
    let axa = [Up(f.a.clone()), Ap("a"), Up(f.xa.clone()), Ap("x")];
    check("a, x on a applied -> a b", &axa, stack(&[&f.a, &f.b]), Refused("WouldRevert"));
    let t = stack(&[&f.a, &f.b]).absent(&["x"]);
    check("a, x on a applied -> a b --absent x", &axa, t, Steps(&["up b", "rv x", "ap b", "ul x"]));
    let t = stack(&[&f.a]).absent(&["x"]);
    check("a, x on a applied -> a --absent x", &axa, t, Steps(&["rv x", "ul x"]));
    let ab = [Up(f.a.clone()), Ap("a"), Up(f.b.clone()), Ap("b")];
    check("a b applied -> a --absent b", &ab, stack(&[&f.a]).absent(&["b"]), Steps(&["rv b", "ul b"]));
}

#[test]
fn prune_and_absent_unload_in_list_order() {
    let f = files();
    let s = [Up(f.x.clone()), Up(f.a.clone()), Ap("a"), Up(f.cum2.clone())];
    check("x, cum2 checked -> a --prune", &s, stack(&[&f.a]).prune(), Steps(&["ul x", "ul cum2"]));
    check("x checked -> --absent x", &s[..1], stack(&[]).absent(&["x"]), Steps(&["ul x"]));
    let ar = [Up(f.a.clone()), Ap("a"), Rv("a")];
    check("a reverted -> --prune", &ar, stack(&[]).prune(), Steps(&["ul a"]));
    let t = stack(&[&f.a, &f.b]).prune();
    check("x checked -> a b --prune", &s[..1], t, Steps(&["up a", "up b", "ap a", "ap b", "ul x"]));
}

#[test]
fn replace_reverts_everything_and_prune_unloads_what_it_left() {
    let f = files();
    let ab = [Up(f.a.clone()), Ap("a"), Up(f.b.clone()), Ap("b")];
    check("empty -> cum --replace", &[], stack(&[&f.cum]).replace(), Steps(&["up cum", "rp cum"]));
    check("a b applied -> cum --replace", &ab, stack(&[&f.cum]).replace(), Steps(&["up cum", "rp cum"]));
    let t = stack(&[&f.cum]).replace().prune();
    check("a b applied -> cum --replace --prune", &ab, t, Steps(&["up cum", "rp cum", "ul a", "ul b"]));
    let t = stack(&[&f.cum]).replace().absent(&["a"]);
    check("a b applied -> cum --replace --absent a", &ab, t, Steps(&["up cum", "rp cum", "ul a"]));
    let cx = [Up(f.cum.clone()), Rp("cum"), Up(f.xq.clone()), Ap("x")];
    check("cum, x on cum applied -> cum --replace", &cx, stack(&[&f.cum]).replace(), Steps(&["rv x"]));
    let cxy = [Up(f.cum.clone()), Rp("cum"), Up(f.xq.clone()), Ap("x"), Up(file("y", "YX", "XQ")), Ap("y")];
    check("cum, x, y applied -> cum --replace", &cxy, stack(&[&f.cum]).replace(), Refused("UnknownOrder"));
    let c2 = [Up(f.cum.clone()), Rp("cum"), Up(f.cum2.clone()), Rp("cum2")];
    check("cum replaced by cum2 -> cum --replace", &c2, stack(&[&f.cum]).replace(), Steps(&["rp cum"]));
    let t = stack(&[&f.cum]).replace().prune();
    check("cum replaced by cum2 -> cum --replace --prune", &c2, t, Steps(&["rp cum", "ul cum2"]));
}

#[test]
fn what_xen_refuses_is_refused_before_any_step() {
    let f = files();
    check("a c: c is not on a", &[], stack(&[&f.a, &f.c]), Refused("BrokenChain"));
    check("b first: not on the hypervisor", &[], stack(&[&f.b]), Refused("BrokenChain"));
    check("b --replace: not on the hypervisor", &[], stack(&[&f.b]).replace(), Refused("BrokenChain"));
    let mut w = file("w", "W", "H");
    w.xen_depends = b"OTHER".to_vec();
    check("made for another hypervisor", &[], stack(&[&w]), Refused("WrongHypervisor"));
    check("v --replace: vetoing hooks", &[], stack(&[&f.v]).replace(), Refused("VetoingHooks"));
    check("a a", &[], stack(&[&f.a, &f.a]), Refused("DuplicateName"));
    let mut a_again = f.b.clone();
    a_again.build_id = f.a.build_id.clone();
    check("two files, one build id", &[], stack(&[&f.a, &a_again]), Refused("DuplicateBuildId"));
    check("a b --replace", &[], stack(&[&f.cum, &f.cum2]).replace(), Refused("ReplaceNeedsOne"));
    check("a --absent a", &[], stack(&[&f.a]).absent(&["a"]), Refused("AbsentInStack"));
    let mut nb = f.a.clone();
    nb.build_id = None;
    check("no build id", &[], stack(&[&nb]), Refused("MissingNote"));
    let mut nd = f.a.clone();
    nd.depends = None;
    check("no depends", &[], stack(&[&nd]), Refused("MissingNote"));
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

#[test]
fn names_xen_cannot_take_are_refused() {
    let f = files();
    let mut long = f.a.clone();
    long.name = vec![b'n'; 128];
    check("128-byte name", &[], stack(&[&long]), Refused("BadName"));
    long.name.pop();
    let n = "n".repeat(127);
    let steps: Vec<&'static str> = vec![leak(format!("up {n}")), leak(format!("ap {n}"))];
    check("127-byte name", &[], stack(&[&long]), Steps(Box::leak(steps.into_boxed_slice())));
    let mut empty = f.a.clone();
    empty.name.clear();
    check("empty name", &[], stack(&[&empty]), Refused("BadName"));
    let mut nul = f.a.clone();
    nul.name = b"a\0b".to_vec();
    check("name with NUL", &[], stack(&[&nul]), Refused("BadName"));
    let z = "z".repeat(128);
    check("absent name too long", &[], stack(&[]).absent(&[z.as_str()]), Refused("BadName"));
}

#[test]
fn states_list_should_not_show_are_refused_and_a_pending_action_is_retry_later() {
    let f = files();
    let p = [Up(f.a.clone()), Pending("a")];
    check("a pending", &p, stack(&[&f.a]), Refused("Pending"));
    let r = plan(&start(&p).observe(), &stack(&[])).unwrap_err();
    assert!(r.is_retry_later(), "{r}");
    let p = [Up(f.x.clone()), Pending("x")];
    check("x pending, target holds otherwise", &p, stack(&[]), Refused("Pending"));
    check("state 7", &[Up(f.a.clone()), Strange("a", 7)], stack(&[&f.a]), Refused("UnexpectedState"));
    let nodeps = [Up(f.a.clone()), Up(f.b.clone()), ApNoDeps("b")];
    check("b applied with --nodeps -> a b", &nodeps, stack(&[&f.a, &f.b]), Refused("OutOfOrder"));
    let mut obs = start(&[Up(f.a.clone())]).observe();
    obs.loaded.push(obs.loaded[0].clone());
    assert!(matches!(plan(&obs, &stack(&[])), Err(Refusal::ListedTwice { .. })));
}

#[test]
fn replace_with_an_applied_payload_without_a_file_is_left_to_xen() {
    // The hooks of v (no file in the target) are unknown: Xen refuses the
    // REPLACE with EOPNOTSUPP and changes nothing (the documented limit).
    let f = files();
    let v = [Up(f.v.clone()), Ap("v")];
    let t = stack(&[&f.cum]).replace();
    check(
        "vetoing v applied -> cum --replace",
        &v,
        t,
        XenRefusesAt(&["up cum", "rp cum"], 1, Fail::Errno(libc::EOPNOTSUPP)),
    );
}

#[test]
fn a_build_id_loaded_under_another_name_is_left_to_xen() {
    // LIST shows no build ids: a's file loaded as "x" makes a's upload EEXIST.
    let f = files();
    let mut a_as_x = f.a.clone();
    a_as_x.name = b"x".to_vec();
    let s = [Up(a_as_x)];
    check(
        "a's file loaded as x -> a",
        &s,
        stack(&[&f.a]),
        XenRefusesAt(&["up a", "ap a"], 0, Fail::Errno(libc::EEXIST)),
    );
}
