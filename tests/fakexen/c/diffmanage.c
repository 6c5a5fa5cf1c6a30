/*
 * Differential harness for the management functions: Debian's real
 * libxenctrl.so.4.17 against our libxc_livepatch.so, call by call, in one
 * process on the simulated hypervisor (LD_PRELOAD=libfakexen.so,
 * FAKEXEN_SCENARIO set).
 *
 * Every case runs twice from the scenario's initial state (fakexen_reset):
 * once through each library. Compared: the return value, errno (on
 * failure), the bytes written to *status (poisoned before) and the
 * hypervisor's state afterwards (fakexen_state: payloads, states, rcs, the
 * applied order, the pending action). Where ours deliberately differs, the
 * case names the documented reason (DOC_*) and ours is held to its own
 * rule instead.
 *
 * Usage: diffmanage REAL_LIBXENCTRL OUR_SO   (prints "N passed, M failed")
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diffcommon.h"
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

typedef int (*upload_fn)(xch_t *, char *, unsigned char *, uint32_t);
typedef int (*get_fn)(xch_t *, char *, status_t *);
typedef int (*action_fn)(xch_t *, char *, uint32_t, uint32_t);

enum { UNLOAD, REVERT, APPLY, REPLACE, NACT };
static const char *act_name[NACT] = {"unload", "revert", "apply", "replace"};
static const char *act_sym[NACT] = {"xc_livepatch_unload", "xc_livepatch_revert", "xc_livepatch_apply",
                                    "xc_livepatch_replace"};

struct lib { const char *tag; upload_fn upload; get_fn get; action_fn act[NACT]; };
static struct lib real, ours;
static xch_t *xch;
static void (*fx_reset)(void);
static size_t (*fx_state)(char *, size_t);

#define POISON 0xa5
#define MiB (1u << 20)

enum doc { DOC_NONE, DOC_STATUS, DOC_NULL_CRASH, DOC_IFACE };
static const char *doc_text[] = {
    "",
    "real copies the request's zeroed status to *status even when the call failed; ours leaves it untouched",
    "real dereferences the NULL pointer (name: strlen in the actions; status: memcpy in get) and dies of SIGSEGV; ours -1/EINVAL",
    "real 4.17 library only speaks interface 0x15 (EACCES); ours probes and adapts",
};

/* One call's observable outcome. */
struct out { int rc, err; status_t st; int st_written; char state[8192]; };

/* What a case does. */
enum op { OP_GET, OP_UPLOAD, OP_ACTION };
struct call {
    enum op op;
    const char *name;      /* NULL: a NULL name */
    int act;               /* OP_ACTION */
    uint32_t timeout, flags;
    unsigned char *payload; uint32_t size; /* OP_UPLOAD */
    int null_status;       /* OP_GET */
};

static void do_call(const struct lib *l, const struct call *c, struct out *o)
{
    status_t st;
    memset(&st, POISON, sizeof st);
    fx_reset();
    errno = 0;
    switch (c->op) {
    case OP_GET: o->rc = l->get(xch, (char *)c->name, c->null_status ? NULL : &st); break;
    case OP_UPLOAD: o->rc = l->upload(xch, (char *)c->name, c->payload, c->size); break;
    case OP_ACTION: o->rc = l->act[c->act](xch, (char *)c->name, c->timeout, c->flags); break;
    }
    o->err = errno;
    o->st = st;
    unsigned char poison[sizeof st];
    memset(poison, POISON, sizeof poison);
    o->st_written = memcmp(&st, poison, sizeof st) != 0;
    fx_state(o->state, sizeof o->state);
}

static const char *show(const struct out *o)
{
    static char s[2][160]; static int k;
    k ^= 1;
    snprintf(s[k], sizeof s[k], "rc=%d errno=%d(%s) status=%s{%u,%d}", o->rc, o->rc ? o->err : 0,
             o->rc ? strerror(o->err) : "-", o->st_written ? "" : "untouched", o->st.state, o->st.rc);
    return s[k];
}

/* Runs the real library's call in a child: whether it died of SIGSEGV. */
static int real_crashes(const struct call *c)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        struct out o;
        do_call(&real, c, &o);
        _exit(0);
    }
    int ws = 0;
    return pid > 0 && waitpid(pid, &ws, 0) == pid && WIFSIGNALED(ws) && WTERMSIG(ws) == SIGSEGV;
}

static void check(const char *name, const struct call *c, enum doc doc)
{
    static struct out r, o;
    char note[1024] = "";
    int ok = 1;
    const char *why = "";
    if (doc != DOC_NULL_CRASH) do_call(&real, c, &r);
    do_call(&ours, c, &o);
    /* A GET both fail: real's write of *status is the documented difference. */
    if (doc == DOC_NONE && c->op == OP_GET && r.rc && o.rc && r.st_written && !o.st_written) doc = DOC_STATUS;
    /* Ours on its own: -1 or 0; *status written exactly on success. */
    if (o.rc != 0 && o.rc != -1) { ok = 0; why = "ours returned neither 0 nor -1"; }
    else if (c->op == OP_GET && !c->null_status && o.st_written != (o.rc == 0)) {
        ok = 0; why = "ours wrote *status on failure or not on success";
    }
    if (ok && doc == DOC_NONE) {
        if (r.rc != o.rc || (r.rc && r.err != o.err)) { ok = 0; why = "results differ"; }
        else if (r.st_written != o.st_written || (r.st_written && memcmp(&r.st, &o.st, sizeof r.st))) {
            ok = 0; why = "*status differs";
        } else if (strcmp(r.state, o.state)) { ok = 0; why = "the hypervisor's state afterwards differs"; }
    } else if (ok && doc == DOC_STATUS) {
        /* Everything but *status on failure must agree. */
        if (r.rc != o.rc || (r.rc && r.err != o.err) || strcmp(r.state, o.state)) { ok = 0; why = "results differ"; }
        else if (o.rc == 0 || o.st_written) { ok = 0; why = "ours did not fail cleanly"; }
        else snprintf(note, sizeof note, "documented difference: %s [real %s; ours %s]", doc_text[doc], show(&r), show(&o));
    } else if (ok && doc == DOC_NULL_CRASH) {
        if (!(o.rc == -1 && o.err == EINVAL)) { ok = 0; why = "ours did not refuse a NULL pointer with EINVAL"; }
        else if (!real_crashes(c)) { ok = 0; why = "real did not crash as documented"; }
        else snprintf(note, sizeof note, "documented difference: %s [ours %s]", doc_text[doc], show(&o));
    } else if (ok && doc == DOC_IFACE) {
        if (!(r.rc == -1 && r.err == EACCES)) { ok = 0; why = "real did not get EACCES"; }
        else snprintf(note, sizeof note, "documented difference: %s [ours %s]", doc_text[doc], show(&o));
    }
    if (!ok) {
        snprintf(note, sizeof note, "%s [real %s; ours %s]", why, doc == DOC_NULL_CRASH ? "(crash)" : show(&r), show(&o));
        if (strcmp(r.state, o.state)) printf("  real state:\n%s  ours state:\n%s", r.state, o.state);
    }
    verdict(ok, name, "%s", note);
}

/* ---- the scenario's names ------------------------------------------------ */

/* The payload names of the scenario (at most 8), and the first CHECKED one. */
#define MAXP 8
static char pnames[MAXP][128], checked[128];
static int npayloads;
static unsigned iface = 0x15;
/* What the scenario says xen_version reports (the model's defaults). */
static unsigned xv_major = 4, xv_minor = 17;
static char xv_extra[64] = ".7";
static char xv_build_id[600] = "5e6d0b1c2738495a6b7c8d9eafb0c1d2e3f40516";
/* XSM denial: the build id is EPERM; FLASK also hides the extraversion. */
static int xsm_deny, xsm_flask;

static void read_scenario(void)
{
    const char *p = getenv("FAKEXEN_SCENARIO");
    FILE *f = p ? fopen(p, "r") : NULL;
    char line[4096], name[128];
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "interface ", 10)) iface = strtoul(line + 10, NULL, 0);
        sscanf(line, "xen-version %u.%u", &xv_major, &xv_minor);
        sscanf(line, "extraversion %63s", xv_extra);
        sscanf(line, "build-id %599s", xv_build_id);
        if (!strncmp(line, "xsm ", 4) && !strstr(line, "allow")) {
            xsm_deny = 1;
            xsm_flask = strstr(line, "flask") != NULL;
        }
        if (sscanf(line, "payload %127s", name) != 1) continue;
        if (npayloads < MAXP) strcpy(pnames[npayloads++], name);
        if (!strstr(line, "state=applied") && !*checked) strcpy(checked, name);
    }
    fclose(f);
}

static unsigned char *elf(size_t n, int magic)
{
    unsigned char *p = calloc(1, n ? n : 1);
    if (magic && n >= 4) memcpy(p, "\177ELF", 4);
    return p;
}

/*
 * The real libxenctrl's xc_version, through privcmd hypercall 17 to the
 * model: the version, extraversion and build id the scenario sets.
 */
typedef int (*version_fn)(xch_t *, int, void *);
static void xen_version_cases(version_fn xc_version)
{
    char note[1200];
    int v = xc_version(xch, 0 /* XENVER_version */, NULL);
    snprintf(note, sizeof note, "got %#x, want %#x", v, xv_major << 16 | xv_minor);
    verdict(v == (int)(xv_major << 16 | xv_minor), "xc_version XENVER_version (hypercall 17)", "%s", v == (int)(xv_major << 16 | xv_minor) ? "" : note);
    char extra[16];
    memset(extra, 0x5a, sizeof extra);
    int r = xc_version(xch, 1 /* XENVER_extraversion */, extra);
    if (xsm_flask) strcpy(xv_extra, "<denied>");
    int ok = r == 0 && !strncmp(extra, xv_extra, sizeof extra) && memchr(extra, 0, sizeof extra);
    snprintf(note, sizeof note, "rc %d, got \"%.16s\", want \"%s\"", r, extra, xv_extra);
    verdict(ok, "xc_version XENVER_extraversion", "%s", ok ? "" : note);
    struct { uint32_t len; unsigned char buf[256]; } id = {.len = sizeof id.buf};
    r = xc_version(xch, 10 /* XENVER_build_id */, &id);
    char hex[520] = "";
    for (int i = 0; i < r && i < 256; i++) sprintf(hex + 2 * i, "%02x", id.buf[i]);
    int none = !strcmp(xv_build_id, "none");
    if (xsm_deny) ok = r < 0 && errno == EPERM;
    else ok = none ? r < 0 && errno == ENODATA : r > 0 && !strcmp(hex, xv_build_id);
    snprintf(note, sizeof note, "rc %d, got %s, want %s", r, hex, xsm_deny ? "EPERM" : xv_build_id);
    verdict(ok, "xc_version XENVER_build_id", "%s", ok ? "" : note);
    id.len = 1;
    r = xc_version(xch, 10, &id);
    ok = none || xsm_deny || (r < 0 && errno == ENOBUFS);
    verdict(ok, "xc_version XENVER_build_id, len 1 (ENOBUFS)", "%s", ok ? "" : "not ENOBUFS");
}

/* Names of 127 and 128 bytes (the longest Xen takes; one too many). */
static char n127[128], n128[129];

static void get_cases(enum doc base)
{
    char nm[256];
    struct call c = {.op = OP_GET};
    for (int i = 0; i < npayloads; i++) {
        c.name = pnames[i];
        snprintf(nm, sizeof nm, "get %s", pnames[i]);
        check(nm, &c, base);
    }
    c.name = "nosuch"; check("get unknown name (ENOENT)", &c, base);
    c.name = ""; check("get empty name", &c, base);
    c.name = n127; check("get 127-byte unknown name", &c, base);
    c.name = n128; check("get 128-byte name (EINVAL before the call)", &c, DOC_NONE);
    c.name = NULL; check("get NULL name", &c, DOC_NONE);
    if (*checked) { c.name = checked; c.null_status = 1; check("get NULL status", &c, DOC_NULL_CRASH); }
}

static void upload_cases(enum doc base)
{
    unsigned char *p4k = elf(4096, 1), *pmax = elf(2 * MiB + 1, 1), *pnot = elf(4096, 0);
    struct call u = {.op = OP_UPLOAD, .name = "new", .payload = p4k, .size = 4096};
    check("upload new 4 KiB", &u, base);
    u.size = 64; check("upload new 64 B (an ELF header)", &u, base);
    u.size = 63; check("upload new 63 B (shorter than an ELF header)", &u, base);
    u.size = 0; check("upload size 0", &u, base);
    u.payload = pmax; u.size = 2 * MiB; check("upload 2 MiB (the most Xen takes)", &u, base);
    u.size = 2 * MiB + 1; check("upload 2 MiB + 1", &u, base);
    u.payload = pnot; u.size = 4096; check("upload not an ELF", &u, base);
    u.payload = p4k;
    if (*checked) { u.name = checked; check("upload a loaded name (EEXIST)", &u, base); }
    u.name = ""; check("upload empty name", &u, base);
    u.name = n127; check("upload 127-byte name", &u, base);
    u.name = n128; check("upload 128-byte name (EINVAL)", &u, DOC_NONE);
    u.name = NULL; check("upload NULL name", &u, DOC_NONE);
    u.name = "new"; u.payload = NULL; check("upload NULL payload", &u, DOC_NONE);
    free(p4k); free(pmax); free(pnot);
}

/* The four actions on every name, with the tool's and Xen's default
 * timeouts and with NODEPS and unknown flag bits. */
static void action_cases(enum doc base)
{
    char nm[256];
    const char *targets[MAXP + 2];
    int ntargets = 0;
    for (int i = 0; i < npayloads; i++) targets[ntargets++] = pnames[i];
    targets[ntargets++] = "nosuch";
    targets[ntargets++] = "";
    const uint32_t timeouts[] = {0, 30000000};
    const uint32_t flags[] = {0, 1, 0xfffffffe};
    for (int a = 0; a < NACT; a++) {
        struct call x = {.op = OP_ACTION, .act = a};
        for (int t = 0; t < ntargets; t++) {
            for (int ti = 0; ti < 2; ti++)
                for (int fi = 0; fi < 3; fi++) {
                    x.name = targets[t]; x.timeout = timeouts[ti]; x.flags = flags[fi];
                    snprintf(nm, sizeof nm, "%s '%s' timeout=%u flags=%#x", act_name[a], targets[t], x.timeout, x.flags);
                    check(nm, &x, base);
                }
        }
        x.timeout = x.flags = 0;
        x.name = n128; snprintf(nm, sizeof nm, "%s 128-byte name (EINVAL)", act_name[a]); check(nm, &x, DOC_NONE);
        x.name = NULL; snprintf(nm, sizeof nm, "%s NULL name", act_name[a]); check(nm, &x, DOC_NULL_CRASH);
    }
}

int main(int argc, char **argv)
{
    void *hr, *ho;
    open_fn xopen;
    if (open_libs(argc, argv, read_scenario, &hr, &ho, &xopen)) return 2;
    fx_reset = (void (*)(void))dlsym(RTLD_DEFAULT, "fakexen_reset");
    fx_state = (size_t (*)(char *, size_t))dlsym(RTLD_DEFAULT, "fakexen_state");
    struct lib *libs[2] = {&real, &ours};
    void *handles[2] = {hr, ho};
    for (int i = 0; i < 2; i++) {
        libs[i]->tag = i ? "ours" : "real";
        libs[i]->upload = (upload_fn)dlsym(handles[i], "xc_livepatch_upload");
        libs[i]->get = (get_fn)dlsym(handles[i], "xc_livepatch_get");
        for (int a = 0; a < NACT; a++) libs[i]->act[a] = (action_fn)dlsym(handles[i], act_sym[a]);
    }
    int missing = !xopen || !fx_reset || !fx_state || !real.upload || !ours.upload || !real.get || !ours.get ||
                  real.get == ours.get || real.upload == ours.upload;
    for (int a = 0; a < NACT; a++) missing |= !real.act[a] || !ours.act[a] || real.act[a] == ours.act[a];
    if (missing) { fprintf(stderr, "missing or shared symbols (is libfakexen.so preloaded?)\n"); return 2; }
    xch = xopen(NULL, NULL, 0);
    if (!xch) { fprintf(stderr, "xc_interface_open failed\n"); return 2; }
    enum doc base = iface != 0x15 ? DOC_IFACE : DOC_NONE;
    version_fn xc_version = (version_fn)dlsym(hr, "xc_version");
    if (!xc_version) { fprintf(stderr, "no xc_version\n"); return 2; }
    xen_version_cases(xc_version);

    memset(n127, 'u', 127);
    memset(n128, 'u', 128);
    get_cases(base);
    upload_cases(base);
    action_cases(base);
    return summary();
}
