/*
 * Differential harness: Debian's real libxenctrl.so.4.17 against our
 * libxc_livepatch.so, call by call, in one process on the simulated
 * hypervisor (run under LD_PRELOAD=libfakexen.so with FAKEXEN_SCENARIO set).
 *
 * Both libraries are dlopen'ed RTLD_LOCAL; one xch comes from the real
 * xc_interface_open() and is handed to both. For each case of an argument
 * matrix it compares the return value, errno, done, left, entries [0, done)
 * of info/len/metadata_len and the name/metadata bytes they report.
 *
 * Where ours deliberately differs, the expected difference is encoded below
 * (DOC_* reasons) and counts as a pass only if ours does the documented
 * thing, checked against the truth (a normal full listing).
 *
 * Usage: diffharness REAL_LIBXENCTRL OUR_SO   (prints "N passed, M failed")
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diffcommon.h"

typedef int (*sizes_fn)(xch_t *, unsigned *, uint32_t *, uint32_t *);
typedef int (*list_fn)(xch_t *, unsigned, unsigned, status_t *, char *, uint32_t *, uint32_t,
                       char *, uint32_t *, uint32_t, unsigned *, unsigned *);

struct lib { const char *tag; sizes_fn sizes; list_fn list; };

#define SLACK 256
#define S_INFO 'A'
#define S_NAME 'B'
#define S_LEN 'C'
#define S_META 'D'
#define S_MLEN 'E'
#define S_DL 0x5a5a5a5au

/* The caller's five arrays plus done/left, each with SLACK sentinel bytes. */
struct bufs {
    unsigned max; uint32_t name_cap, meta_cap;
    status_t *info; char *name; uint32_t *len; char *meta; uint32_t *mlen;
    unsigned done, left;
};

static void *fill(size_t n, int c) { void *p = malloc(n + SLACK); memset(p, c, n + SLACK); return p; }

static void bufs_new(struct bufs *b, unsigned max, uint32_t ncap, uint32_t mcap)
{
    b->max = max; b->name_cap = ncap; b->meta_cap = mcap;
    b->info = fill((size_t)max * 8, S_INFO);
    b->name = fill(ncap, S_NAME);
    b->len = fill((size_t)max * 4, S_LEN);
    b->meta = fill(mcap, S_META);
    b->mlen = fill((size_t)max * 4, S_MLEN);
    b->done = b->left = S_DL;
}

static void bufs_free(struct bufs *b) { free(b->info); free(b->name); free(b->len); free(b->meta); free(b->mlen); }

static int all(const void *p, size_t from, size_t to, int c)
{
    const unsigned char *q = p;
    for (size_t i = from; i < to; i++) if (q[i] != (unsigned char)c) return 0;
    return 1;
}

/* Nothing written anywhere (done/left aside). */
static int untouched(const struct bufs *b)
{
    return all(b->info, 0, (size_t)b->max * 8 + SLACK, S_INFO) && all(b->name, 0, b->name_cap + SLACK, S_NAME) &&
           all(b->len, 0, (size_t)b->max * 4 + SLACK, S_LEN) && all(b->meta, 0, b->meta_cap + SLACK, S_META) &&
           all(b->mlen, 0, (size_t)b->max * 4 + SLACK, S_MLEN);
}

/* Nothing written past the capacities the caller declared. */
static int within(const struct bufs *b)
{
    return all(b->info, (size_t)b->max * 8, (size_t)b->max * 8 + SLACK, S_INFO) &&
           all(b->name, b->name_cap, b->name_cap + SLACK, S_NAME) &&
           all(b->len, (size_t)b->max * 4, (size_t)b->max * 4 + SLACK, S_LEN) &&
           all(b->meta, b->meta_cap, b->meta_cap + SLACK, S_META) &&
           all(b->mlen, (size_t)b->max * 4, (size_t)b->max * 4 + SLACK, S_MLEN);
}

/* NULL mask bits: 1 info, 2 name, 4 len, 8 metadata, 16 metadata_len, 32 done, 64 left */
struct res { int rc, err; unsigned done, left; };

static struct res call(const struct lib *l, xch_t *xch, unsigned max, unsigned start, struct bufs *b, int nullmask)
{
    struct res r;
    errno = 0;
    r.rc = l->list(xch, max, start, nullmask & 1 ? NULL : b->info, nullmask & 2 ? NULL : b->name,
                   nullmask & 4 ? NULL : b->len, b->name_cap, nullmask & 8 ? NULL : b->meta,
                   nullmask & 16 ? NULL : b->mlen, b->meta_cap, nullmask & 32 ? NULL : &b->done,
                   nullmask & 64 ? NULL : &b->left);
    r.err = errno;
    r.done = b->done; r.left = b->left;
    return r;
}

/* The data a correct caller may rely on after rc == 0. */
struct listing { unsigned n; status_t *info; uint32_t *len, *mlen; char *name, *meta; size_t nbytes, mbytes; };

static int extract(const struct bufs *b, unsigned done, struct listing *o)
{
    o->n = done; o->info = b->info; o->len = b->len; o->mlen = b->mlen; o->name = b->name; o->meta = b->meta;
    o->nbytes = o->mbytes = 0;
    for (unsigned i = 0; i < done; i++) { o->nbytes += b->len[i]; o->mbytes += b->mlen[i]; }
    return o->nbytes <= b->name_cap && o->mbytes <= b->meta_cap;
}

static int same_listing(const struct listing *a, const struct listing *b)
{
    return a->n == b->n && a->nbytes == b->nbytes && a->mbytes == b->mbytes &&
           !memcmp(a->info, b->info, (size_t)a->n * 8) && !memcmp(a->len, b->len, (size_t)a->n * 4) &&
           !memcmp(a->mlen, b->mlen, (size_t)a->n * 4) && !memcmp(a->name, b->name, a->nbytes) &&
           !memcmp(a->meta, b->meta, a->mbytes);
}

/* The truth: entries [0, n) of a full listing, kept with their byte offsets. */
struct truth { unsigned n; status_t *info; uint32_t *len, *mlen; size_t *noff, *moff; char *name, *meta; };

/* Whether `got` equals entries [start, start + got.n) of the truth. */
static int matches_truth(const struct truth *t, unsigned start, const struct listing *got)
{
    if (start + got->n > t->n) return 0;
    size_t no = start < t->n ? t->noff[start] : 0, mo = start < t->n ? t->moff[start] : 0;
    size_t nb = 0, mb = 0;
    for (unsigned i = 0; i < got->n; i++) { nb += t->len[start + i]; mb += t->mlen[start + i]; }
    return got->nbytes == nb && got->mbytes == mb && !memcmp(got->info, t->info + start, (size_t)got->n * 8) &&
           !memcmp(got->len, t->len + start, (size_t)got->n * 4) && !memcmp(got->mlen, t->mlen + start, (size_t)got->n * 4) &&
           !memcmp(got->name, t->name + no, nb) && !memcmp(got->meta, t->meta + mo, mb);
}

/* ---- the scenario's properties (read from the scenario file) ------------- */
static unsigned scen_iface = 0x15;
static int scen_preempt;
static unsigned scen_max_nr = 1024;

static void read_scenario(void)
{
    const char *p = getenv("FAKEXEN_SCENARIO");
    FILE *f = p ? fopen(p, "r") : NULL;
    char line[4096];
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "interface ", 10)) scen_iface = strtoul(line + 10, NULL, 0);
        if (!strncmp(line, "preempt ", 8)) scen_preempt = atoi(line + 8);
        if (!strncmp(line, "list-max-nr ", 12)) scen_max_nr = strtoul(line + 12, NULL, 0);
    }
    fclose(f);
}

static const char *strres(struct res r)
{
    static char s[4][96]; static int k;
    k = (k + 1) % 4;
    snprintf(s[k], sizeof s[k], "rc=%d errno=%d(%s) done=%u left=%u", r.rc, r.rc ? r.err : 0,
             r.rc ? strerror(r.err) : "-", r.done, r.left);
    return s[k];
}

static int same_res(struct res a, struct res b)
{
    return a.rc == b.rc && (a.rc == 0 || a.err == b.err) && a.done == b.done && a.left == b.left;
}

static struct lib real, ours;
static xch_t *xch;

/*
 * One list case. `doc` names the documented reason the real library may
 * legitimately give another answer, or NULL when both must agree exactly.
 * Ours is always held to the truth / to "nothing written on failure".
 */
enum doc { DOC_NONE, DOC_START, DOC_OVERFLOW, DOC_IFACE };
static const char *doc_text[] = {
    "",
    "real honours start only on its first batch (xen-facts 4.6 bug 1)",
    "real copies the hypervisor's larger totals past the caller's capacity (4.6 bug 3); ours -1/ENOBUFS (as Xen 4.21 gives), writes nothing",
    "real 4.17 library only speaks interface 0x15 (EACCES); ours probes and adapts",
};

static void list_case(const char *name, const struct truth *t, unsigned max, unsigned start, uint32_t ncap,
                      uint32_t mcap, int nullmask, enum doc doc)
{
    struct bufs br, bo;
    unsigned alloc = max ? max : 1;
    bufs_new(&br, alloc, ncap, mcap);
    bufs_new(&bo, alloc, ncap, mcap);
    br.max = bo.max = alloc;
    struct res rr = doc == DOC_IFACE ? (struct res){0} : call(&real, xch, max, start, &br, nullmask);
    struct res ro = call(&ours, xch, max, start, &bo, nullmask);
    struct listing lr, lo;
    int ok = 1; const char *why = "";
    char note[512] = "";

    /* Ours on its own: success must match the truth and stay within the
     * capacities; failure must leave every buffer untouched. */
    if (ro.rc == 0) {
        if (!extract(&bo, ro.done, &lo) || !within(&bo)) { ok = 0; why = "ours wrote outside the capacities"; }
        else if (t && !matches_truth(t, start, &lo)) { ok = 0; why = "ours differs from the truth"; }
    } else if (ro.rc != -1) { ok = 0; why = "ours returned neither 0 nor -1"; }
    else if (!untouched(&bo)) { ok = 0; why = "ours wrote into the caller's buffers on failure"; }
    if (nullmask & 96) { /* done or left NULL: EINVAL before anything */
        if (bo.done != S_DL && !(nullmask & 32)) { ok = 0; why = "ours touched done on EINVAL"; }
    }

    if (ok && doc == DOC_NONE) {
        if (!same_res(rr, ro)) { ok = 0; why = "results differ"; }
        else if (rr.rc == 0) {
            extract(&br, rr.done, &lr);
            if (!same_listing(&lr, &lo)) { ok = 0; why = "returned data differs"; }
        }
        if (ok && rr.rc != 0 && !untouched(&br))
            snprintf(note, sizeof note, "documented: on failure real clobbers the caller's buffers, ours leaves them untouched");
    } else if (ok && doc != DOC_IFACE) {
        int real_same = same_res(rr, ro);
        if (real_same && rr.rc == 0) { extract(&br, rr.done, &lr); real_same = same_listing(&lr, &lo) && within(&br); }
        if (!real_same)
            snprintf(note, sizeof note, "documented difference: %s [real %s%s; ours %s]", doc_text[doc], strres(rr),
                     rr.rc == 0 && !within(&br) ? ", wrote past the capacity" : "", strres(ro));
        if (doc == DOC_OVERFLOW && !(ro.rc == -1 && ro.err == ENOBUFS)) { ok = 0; why = "ours did not refuse with ENOBUFS"; }
    } else if (ok && doc == DOC_IFACE) {
        snprintf(note, sizeof note, "documented difference: %s [ours %s]", doc_text[doc], strres(ro));
    }
    if (!ok) snprintf(note, sizeof note, "%s [real %s; ours %s]", why, strres(rr), strres(ro));
    verdict(ok, name, "%s", note);
    bufs_free(&br); bufs_free(&bo);
}

static void sizes_case(const char *name, int nullmask, enum doc doc, unsigned *n, uint32_t *nt, uint32_t *mt)
{
    unsigned rn = S_DL, on = S_DL; uint32_t rnt = S_DL, ont = S_DL, rmt = S_DL, omt = S_DL;
    int rrc = 0, rerr = 0, orc, oerr;
    if (doc != DOC_IFACE) {
        errno = 0;
        rrc = real.sizes(xch, nullmask & 1 ? NULL : &rn, nullmask & 2 ? NULL : &rnt, nullmask & 4 ? NULL : &rmt);
        rerr = errno;
    }
    errno = 0;
    orc = ours.sizes(xch, nullmask & 1 ? NULL : &on, nullmask & 2 ? NULL : &ont, nullmask & 4 ? NULL : &omt);
    oerr = errno;
    int ok;
    if (doc == DOC_IFACE) {
        ok = orc == 0;
        verdict(ok, name, "documented difference: %s [ours rc=%d nr=%u]", doc_text[doc], orc, on);
    } else {
        ok = rrc == orc && (rrc == 0 || rerr == oerr) && rn == on && rnt == ont && rmt == omt;
        verdict(ok, name, ok ? "" : "real rc=%d errno=%d nr=%u %u %u; ours rc=%d errno=%d nr=%u %u %u", rrc, rerr, rn,
                rnt, rmt, orc, oerr, on, ont, omt);
    }
    if (n) { *n = orc == 0 ? on : 0; *nt = orc == 0 ? ont : 0; *mt = orc == 0 ? omt : 0; }
    if (n && orc != 0) *n = (unsigned)-1;
}

int main(int argc, char **argv)
{
    void *hr, *ho;
    open_fn xopen;
    if (open_libs(argc, argv, read_scenario, &hr, &ho, &xopen)) return 2;
    real = (struct lib){"real", (sizes_fn)dlsym(hr, "xc_livepatch_list_get_sizes"), (list_fn)dlsym(hr, "xc_livepatch_list")};
    ours = (struct lib){"ours", (sizes_fn)dlsym(ho, "xc_livepatch_list_get_sizes"), (list_fn)dlsym(ho, "xc_livepatch_list")};
    if (!xopen || !real.sizes || !real.list || !ours.sizes || !ours.list || real.list == ours.list) {
        fprintf(stderr, "missing or shared symbols\n"); return 2;
    }
    xch = xopen(NULL, NULL, 0);
    if (!xch) { fprintf(stderr, "xc_interface_open failed\n"); return 2; }
    int iface_doc = scen_iface != 0x15 && scen_iface >= 0x13 && scen_iface <= 0x16;
    enum doc base = iface_doc ? DOC_IFACE : DOC_NONE;

    /* get_sizes: normal, then each pointer NULL. */
    unsigned n; uint32_t nt, mt;
    sizes_case("get_sizes", 0, base, &n, &nt, &mt);
    sizes_case("get_sizes nr=NULL", 1, DOC_NONE, NULL, NULL, NULL);
    sizes_case("get_sizes name_total=NULL", 2, DOC_NONE, NULL, NULL, NULL);
    sizes_case("get_sizes metadata_total=NULL", 4, DOC_NONE, NULL, NULL, NULL);

    if (n == (unsigned)-1 || n == 0) {
        /* The hypervisor refuses (or has nothing): errors must agree;
         * ours never writes into the caller's buffers on failure. */
        unsigned m = n == 0 ? 4 : 4;
        list_case("list (refused or empty)", NULL, m, 0, 64, 64, 0, base);
        list_case("list start=3", NULL, m, 3, 64, 64, 0, base);
        list_case("list max=0", NULL, 0, 0, 64, 64, 0, DOC_NONE);
        list_case("list name_total=0", NULL, m, 0, 0, 64, 0, DOC_NONE);
        for (int bit = 1; bit <= 64; bit <<= 1) {
            char nm[64]; snprintf(nm, sizeof nm, "list null-mask=%d", bit);
            list_case(nm, NULL, m, 0, 64, 64, bit, DOC_NONE);
        }
        printf("%d passed, %d failed\n", passed, failed);
        return failed != 0;
    }

    /* The truth: a full listing by ours (which, outside the interface
     * adaptation scenarios, must equal the real one: see "normal"). */
    struct bufs tb; bufs_new(&tb, n, nt, mt ? mt : 1);
    struct res tr = call(&ours, xch, n, 0, &tb, 0);
    if (tr.rc != 0 || tr.done != n) { printf("FAIL truth listing: %s\n", strres(tr)); failed++; return summary(); }
    struct truth t = {n, tb.info, tb.len, tb.mlen, calloc(n + 1, sizeof(size_t)), calloc(n + 1, sizeof(size_t)), tb.name, tb.meta};
    for (unsigned i = 0; i < n; i++) { t.noff[i + 1] = t.noff[i] + t.len[i]; t.moff[i + 1] = t.moff[i] + t.mlen[i]; }

    int batches = scen_preempt || n > scen_max_nr; /* more than one hypercall per listing */
    enum doc startdoc = base != DOC_NONE ? base : (batches ? DOC_START : DOC_NONE);
    list_case("list normal", &t, n, 0, nt, mt, 0, base);
    list_case("list max=0", &t, 0, 0, nt, mt, 0, DOC_NONE);
    list_case("list name_total=0", &t, n, 0, 0, mt, 0, DOC_NONE);
    for (int bit = 1; bit <= 64; bit <<= 1) {
        char nm[64]; snprintf(nm, sizeof nm, "list null-mask=%d", bit);
        list_case(nm, &t, n, 0, nt, mt, bit, DOC_NONE);
    }
    if (n > 1) {
        list_case("list start=1", &t, n - 1, 1, nt, mt, 0, startdoc);
        list_case("list start=n/2", &t, n - n / 2, n / 2, nt, mt, 0, startdoc);
        list_case("list start=n-1 max=1", &t, 1, n - 1, nt, mt, 0, base);
        list_case("list max=n-1", &t, n - 1, 0, nt, mt, 0, base);
    }
    list_case("list max=1", &t, 1, 0, nt, mt, 0, base);
    list_case("list max=n+5", &t, n + 5, 0, nt, mt, 0, base);
    list_case("list start=n (past the end)", &t, n, n, nt, mt, 0, base);
    list_case("list name_total+100 metadata_total+100", &t, n, 0, nt + 100, mt + 100, 0, base);
    list_case("list name_total one byte short", &t, n, 0, nt - 1, mt, 0, base != DOC_NONE ? base : DOC_OVERFLOW);
    if (mt > 0)
        list_case("list metadata_total one byte short", &t, n, 0, nt, mt - 1, 0, base != DOC_NONE ? base : DOC_OVERFLOW);
    else
        list_case("list metadata_total=0 (none needed)", &t, n, 0, nt, 0, 0, base);

    return summary();
}
