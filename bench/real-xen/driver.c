/* Driver of the real-Xen benchmark, run inside dom0 (benchmark only).
 *
 *   driver upload LIST           upload every "<name> <file>" line with the real
 *                                libxenctrl, stopping at the first refusal (the
 *                                hypervisor is out of room): prints how many fit
 *   driver unload LIST           unload them again (unload.c: one hypercall each)
 *   driver time ROUNDS TAG IMPL...   timing, all IMPLs in this one process
 *   driver count CALLS TAG IMPL...   per-call counts (needs LD_PRELOAD=counter.so)
 *
 * IMPL: "libxenctrl" (Debian's libxenctrl.so.4.17, dlopen'ed), "floor" (../floor.c),
 * or NAME=PATH (a build of this library, dlopen'ed RTLD_LOCAL, so several builds
 * can be compared in one process). Two pseudo-IMPLs time single units of cost:
 * "unit-getpid" (one getpid() system call) and "unit-probe" (one LIST size probe
 * hypercall, the floor's).
 *
 * One timed call = get_sizes, then list(max = nr, start = 0) with the sizes just
 * returned, as a toolstack lists everything. Caller buffers are allocated and
 * touched once. Rounds are interleaved: each round times every IMPL once, in a
 * random order drawn afresh every round. Before timing, every IMPL's output is compared with
 * libxenctrl's, byte for byte (CHECK lines).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xenctrl.h>
#include "../bench.h"
#include "../floor.h"
#include "unload.h"

typedef int (*get_sizes_fn)(void *, unsigned *, uint32_t *, uint32_t *);
typedef int (*list_fn)(void *, unsigned, unsigned, struct xen_livepatch_status *, char *, uint32_t *,
                       uint32_t, char *, uint32_t *, uint32_t, unsigned *, unsigned *);

struct impl {
    const char *name;
    get_sizes_fn get_sizes;
    list_fn list;
    int unit;            /* 1: getpid, 2: probe */
    long long *t;
};

static void *xch;
static void *xc_lib;

static void *must_sym(void *h, const char *what, const char *sym)
{
    void *p = dlsym(h, sym);
    if (!p) { fprintf(stderr, "driver: %s has no %s: %s\n", what, sym, dlerror()); exit(2); }
    return p;
}

static void open_xc(void)
{
    xc_lib = dlopen("libxenctrl.so.4.17", RTLD_NOW | RTLD_LOCAL);
    if (!xc_lib) { fprintf(stderr, "driver: dlopen libxenctrl: %s\n", dlerror()); exit(2); }
    xc_interface *(*open_fn)(void *, void *, unsigned) = must_sym(xc_lib, "libxenctrl", "xc_interface_open");
    xch = open_fn(NULL, NULL, 0);
    if (!xch) { fprintf(stderr, "driver: xc_interface_open failed\n"); exit(2); }
}

static int unit_getpid(void *x, unsigned *a, uint32_t *b, uint32_t *c)
{
    (void)x; (void)a; (void)b; (void)c;
    return getpid() > 0 ? 0 : -1;
}

static void make_impl(struct impl *im, const char *spec)
{
    memset(im, 0, sizeof(*im));
    im->name = spec;
    if (!strcmp(spec, "libxenctrl")) {
        im->get_sizes = (get_sizes_fn)must_sym(xc_lib, spec, "xc_livepatch_list_get_sizes");
        im->list = (list_fn)must_sym(xc_lib, spec, "xc_livepatch_list");
    } else if (!strcmp(spec, "floor")) {
        im->get_sizes = floor_get_sizes;
        im->list = floor_list;
    } else if (!strcmp(spec, "unit-getpid")) {
        im->get_sizes = unit_getpid;
        im->unit = 1;
    } else if (!strcmp(spec, "unit-probe")) {
        im->get_sizes = floor_get_sizes;
        im->unit = 2;
    } else {
        const char *eq = strchr(spec, '=');
        if (!eq) { fprintf(stderr, "driver: bad IMPL %s\n", spec); exit(2); }
        im->name = strndup(spec, eq - spec);
        void *h = dlopen(eq + 1, RTLD_NOW | RTLD_LOCAL);
        if (!h) { fprintf(stderr, "driver: dlopen %s: %s\n", eq + 1, dlerror()); exit(2); }
        im->get_sizes = (get_sizes_fn)must_sym(h, eq + 1, "xc_livepatch_list_get_sizes");
        im->list = (list_fn)must_sym(h, eq + 1, "xc_livepatch_list");
    }
}

/* Caller buffers, sized once from libxenctrl's own probe. */
static unsigned cap_nr;
static uint32_t cap_name, cap_meta;
static struct xen_livepatch_status *info;
static char *names, *meta;
static uint32_t *lens, *mlens;

static void alloc_buffers(void)
{
    get_sizes_fn gs = (get_sizes_fn)must_sym(xc_lib, "libxenctrl", "xc_livepatch_list_get_sizes");
    if (gs(xch, &cap_nr, &cap_name, &cap_meta)) { perror("driver: get_sizes"); exit(2); }
    if (!cap_nr) { fprintf(stderr, "driver: nothing loaded\n"); exit(2); }
    info = calloc(cap_nr, sizeof(*info));
    lens = calloc(cap_nr, 4);
    mlens = calloc(cap_nr, 4);
    names = calloc(cap_name + 1, 1);
    meta = calloc(cap_meta + 1, 1);
    if (!info || !lens || !mlens || !names || !meta) { perror("driver: calloc"); exit(2); }
    if (floor_init(cap_nr + 64, cap_name, cap_meta)) { perror("driver: floor_init"); exit(2); }
}

/* One timed unit: get_sizes + list of everything. 0 or -1. */
static int one_call(struct impl *im)
{
    unsigned n = 0, done = 0, left = 0;
    uint32_t ns = 0, ms = 0;
    if (im->get_sizes(xch, &n, &ns, &ms))
        return -1;
    if (im->unit)
        return 0;
    if (n > cap_nr || ns > cap_name || ms > cap_meta) { errno = ENOBUFS; return -1; }
    if (im->list(xch, n, 0, info, names, lens, ns, meta, mlens, ms, &done, &left))
        return -1;
    if (done != n || left) { fprintf(stderr, "driver: %s: done %u of %u, left %u\n", im->name, done, n, left); errno = EIO; return -1; }
    return 0;
}

static unsigned long long fnv(const void *p, size_t n, unsigned long long h)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ULL;
    return h;
}

static unsigned long long output_hash(void)
{
    unsigned long long h = 1469598103934665603ULL;
    h = fnv(info, cap_nr * sizeof(*info), h);
    h = fnv(lens, cap_nr * 4, h);
    h = fnv(mlens, cap_nr * 4, h);
    h = fnv(names, cap_name, h);
    return fnv(meta, cap_meta, h);
}

static void clear_outputs(void)
{
    memset(info, 0xEE, cap_nr * sizeof(*info));
    memset(lens, 0xEE, cap_nr * 4);
    memset(mlens, 0xEE, cap_nr * 4);
    memset(names, 0xEE, cap_name);
    memset(meta, 0xEE, cap_meta);
}

static int setup(int argc, char **argv, struct impl **ims, int *nim, const char *tag)
{
    open_xc();
    alloc_buffers();
    *nim = argc;
    *ims = calloc(argc, sizeof(**ims));
    for (int i = 0; i < argc; i++) make_impl(&(*ims)[i], argv[i]);
    /* Reference: libxenctrl's output. Every implementation must give the same bytes. */
    struct impl ref;
    make_impl(&ref, "libxenctrl");
    clear_outputs();
    if (one_call(&ref)) { perror("driver: libxenctrl list"); exit(2); }
    unsigned long long want = output_hash();
    int bad = 0;
    for (int i = 0; i < *nim; i++) {
        struct impl *im = &(*ims)[i];
        if (im->unit) continue;
        clear_outputs();
        int r = one_call(im);
        unsigned long long got = output_hash();
        printf("CHECK %s %s %s nr=%u name_bytes=%u meta_bytes=%u hash=%016llx ref=%016llx\n", tag, im->name,
               !r && got == want ? "same-output" : "DIFFERENT-OUTPUT", cap_nr, cap_name, cap_meta, got, want);
        bad += r || got != want;
    }
    return bad;
}

static int cmd_time(int rounds, const char *tag, int argc, char **argv)
{
    struct impl *ims; int nim;
    if (setup(argc, argv, &ims, &nim, tag)) return 1;
    for (int i = 0; i < nim; i++) {
        ims[i].t = calloc(rounds, sizeof(long long));
        for (int w = 0; w < 3; w++)
            if (one_call(&ims[i])) { fprintf(stderr, "driver: %s warm-up: %s\n", ims[i].name, strerror(errno)); return 1; }
    }
    /* A fresh random order every round (fixed seed): each implementation
     * follows every other one equally often. A fixed rotation made one of
     * them nearly always run right after libxenctrl, whose mappings and
     * unmappings flush TLBs (QEMU's too) and so slow down whatever comes next. */
    int *order = calloc(nim, sizeof(int));
    unsigned long long seed = 0x9E3779B97F4A7C15ULL;
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < nim; k++) order[k] = k;
        for (int k = nim - 1; k > 0; k--) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            int j = (int)((seed >> 33) % (unsigned long long)(k + 1));
            int tmp = order[k]; order[k] = order[j]; order[j] = tmp;
        }
        for (int k = 0; k < nim; k++) {
            struct impl *im = &ims[order[k]];
            long long t0 = now_ns();
            int rc = one_call(im);
            long long t1 = now_ns();
            if (rc) { fprintf(stderr, "driver: %s round %d: %s\n", im->name, r, strerror(errno)); return 1; }
            im->t[r] = t1 - t0;
        }
    }
    /* Paired: the median over rounds of this round's time / the floor's (or
     * libxenctrl's) time in the same round; a slow patch of the shared host
     * hits both sides of a pair alike. */
    int fl = -1, xc = -1;
    for (int i = 0; i < nim; i++) {
        if (!strcmp(ims[i].name, "floor")) fl = i;
        if (!strcmp(ims[i].name, "libxenctrl")) xc = i;
    }
    long long *ratio = calloc(rounds, sizeof(long long));
    double paired[64][2];
    for (int i = 0; i < nim && i < 64; i++)
        for (int k = 0; k < 2; k++) {
            int ref = k ? xc : fl;
            paired[i][k] = 0;
            if (ref < 0) continue;
            for (int r = 0; r < rounds; r++) ratio[r] = (long long)(1e6 * ims[i].t[r] / ims[ref].t[r]);
            qsort(ratio, rounds, sizeof(*ratio), cmp_ll);
            paired[i][k] = ratio[rounds / 2] / 1e6;
        }
    for (int i = 0; i < nim; i++) {
        long long *t = ims[i].t;
        qsort(t, rounds, sizeof(*t), cmp_ll);
        printf("BENCH tag=%s impl=%s nr=%u name_bytes=%u meta_bytes=%u rounds=%d median_ns=%lld min_ns=%lld "
               "p10_ns=%lld p90_ns=%lld paired_vs_floor=%.4f paired_vs_libxenctrl=%.4f\n", tag, ims[i].name, cap_nr,
               cap_name, cap_meta, rounds, t[rounds / 2], t[0], t[rounds / 10], t[rounds - 1 - rounds / 10],
               i < 64 ? paired[i][0] : 0, i < 64 ? paired[i][1] : 0);
    }
    return 0;
}

struct lpbench_counters {
    unsigned long probes, short_replies, e2big, hypercalls, ioctl_other, map_device, map_anon, munmap, madvise, mlock, getpid;
};

static int cmd_count(int calls, const char *tag, int argc, char **argv)
{
    struct lpbench_counters *(*get)(void) = dlsym(RTLD_DEFAULT, "lpbench_counters");
    if (!get) { fprintf(stderr, "driver: count needs LD_PRELOAD=counter.so\n"); return 2; }
    struct impl *ims; int nim;
    if (setup(argc, argv, &ims, &nim, tag)) return 1;
    for (int i = 0; i < nim; i++) {
        struct impl *im = &ims[i];
        for (int w = 0; w < 2; w++) if (one_call(im)) { perror("driver: warm-up"); return 1; }
        struct lpbench_counters a = *get();
        for (int k = 0; k < calls; k++) if (one_call(im)) { perror("driver: count"); return 1; }
        struct lpbench_counters b = *get();
#define PER(f) ((double)(b.f - a.f) / calls)
        printf("COUNT tag=%s impl=%s calls=%d hypercalls=%.2f probes=%.2f short=%.2f e2big=%.2f map_device=%.2f map_anon=%.2f munmap=%.2f "
               "madvise=%.2f mlock=%.2f getpid=%.2f ioctl_other=%.2f\n", tag, im->name, calls, PER(hypercalls), PER(probes), PER(short_replies), PER(e2big),
               PER(map_device), PER(map_anon), PER(munmap), PER(madvise), PER(mlock), PER(getpid), PER(ioctl_other));
    }
    return 0;
}

struct item { char name[64]; unsigned char *data; uint32_t size; };

static struct item *load_list(const char *list, size_t *n)
{
    char line[4096], file[2048];
    FILE *f = fopen(list, "r");
    if (!f) { perror(list); exit(2); }
    size_t cap = 64;
    struct item *it = malloc(cap * sizeof(*it));
    *n = 0;
    while (fgets(line, sizeof line, f)) {
        if (*n == cap) it = realloc(it, (cap *= 2) * sizeof(*it));
        if (sscanf(line, "%63s %2047s", it[*n].name, file) != 2) continue;
        FILE *p = fopen(file, "rb");
        if (!p) { perror(file); exit(2); }
        fseek(p, 0, SEEK_END);
        long sz = ftell(p);
        rewind(p);
        it[*n].data = malloc(sz);
        if (fread(it[*n].data, 1, sz, p) != (size_t)sz) { perror(file); exit(2); }
        fclose(p);
        it[*n].size = sz;
        (*n)++;
    }
    fclose(f);
    return it;
}

static int cmd_upload(const char *list)
{
    open_xc();
    int (*up)(xc_interface *, char *, unsigned char *, uint32_t) = must_sym(xc_lib, "libxenctrl", "xc_livepatch_upload");
    size_t n, i;
    struct item *it = load_list(list, &n);
    long long t0 = now_ns();
    int err = 0;
    for (i = 0; i < n; i++)
        if (up(xch, it[i].name, it[i].data, it[i].size)) { err = errno; break; }
    printf("UPLOADED %zu of %zu seconds=%.1f%s%s\n", i, n, (now_ns() - t0) / 1e9, err ? " stopped: " : "",
           err ? strerror(err) : "");
    return i ? 0 : 1;
}

static int cmd_unload(const char *list)
{
    size_t n, ok = 0;
    struct item *it = load_list(list, &n);
    long long t0 = now_ns();
    for (size_t i = 0; i < n; i++)
        if (!unload_checked(it[i].name)) ok++;
    printf("UNLOADED %zu of %zu seconds=%.1f\n", ok, n, (now_ns() - t0) / 1e9);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && !strcmp(argv[1], "upload")) return cmd_upload(argv[2]);
    if (argc == 3 && !strcmp(argv[1], "unload")) return cmd_unload(argv[2]);
    if (argc > 4 && !strcmp(argv[1], "time")) return cmd_time(atoi(argv[2]), argv[3], argc - 4, argv + 4);
    if (argc > 4 && !strcmp(argv[1], "count")) return cmd_count(atoi(argv[2]), argv[3], argc - 4, argv + 4);
    fprintf(stderr, "usage: driver upload LIST | unload LIST | time ROUNDS TAG IMPL... | count CALLS TAG IMPL...\n");
    return 2;
}
