/*
 * Hardening tests over the C ABI, for a process running under fakexen
 * (LD_PRELOAD=libfakexen.so, optionally followed by libxc_livepatch.so to
 * put ours in front of the real libxenctrl). Linked with -lxenctrl: the
 * xc_livepatch_* calls go to whichever library the loader binds.
 *
 *   lpstress fork      ROUNDS   fork race (issue "Hardening" part 4)
 *   lpstress threads   CALLS    8 threads x CALLS get_sizes + list while the
 *                               scenario's scheduled uploads/unloads change
 *                               the list (part 3)
 *   lpstress allocfail          each mmap/madvise of a list call fails in
 *                               turn, in a fresh child each time (part 2)
 *
 * Expected payloads: "generate N M" ones (lp-%05u, metadata "K0=<i>-vvv..."
 * of M bytes) and uploads named "up-..." whose metadata is "NAME=<name>\0".
 *
 * This executable interposes ioctl/mmap/mmap64/munmap/madvise/mlock/munlock
 * (it comes first in symbol lookup, before the preloaded fakexen) to
 *  - hold fork() until no other thread is inside a list call or fakexen
 *    (whose locks a child would otherwise inherit held: a test artefact,
 *    Xen has no such lock);
 *  - stop one thread inside a list call, just before its hypercall;
 *  - count and fail the mmap/madvise calls of a list call.
 * Prints "N passed, M failed" last; exit status 0 iff nothing failed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xenctrl.h>

#define IOCTL_PRIVCMD_HYPERCALL 0x305000UL

/* ---- interposition ------------------------------------------------------ */

static atomic_int gate_closed, gate_inside;
static __thread int depth;
static __thread int forking;          /* this thread is in gated_fork() */
static atomic_int pause_req;          /* 1: stop the next hypercall */
static atomic_int paused;             /* a thread is stopped */
static atomic_int resume;
static __thread int traced;           /* this thread counts/fails calls */
static __thread int calls, fail_at, fail_errno, failed;
static __thread char failed_kind;     /* 'm' mmap, 'a' madvise */
#define MAXMAP 64
static __thread uintptr_t mapped[MAXMAP];
static __thread int nmapped;

static void *next(const char *name)
{
    void *p = dlsym(RTLD_NEXT, name);
    if (!p) { fprintf(stderr, "no next %s\n", name); abort(); }
    return p;
}

static void enter(void)
{
    if (depth++ || forking) return;   /* nested, or atfork handlers */
    for (;;) {
        while (atomic_load(&gate_closed)) sched_yield();
        atomic_fetch_add(&gate_inside, 1);
        if (!atomic_load(&gate_closed)) return;
        atomic_fetch_sub(&gate_inside, 1);
    }
}

static void leave(void)
{
    if (--depth == 0 && !forking) atomic_fetch_sub(&gate_inside, 1);
}

/* fork() with no thread inside fakexen. */
static pid_t gated_fork(void)
{
    atomic_store(&gate_closed, 1);
    while (atomic_load(&gate_inside)) sched_yield();
    forking = 1;
    pid_t pid = fork();
    forking = 0;
    atomic_store(&gate_closed, 0);
    return pid;
}

static int inject_kind(char kind)
{
    if (!traced || depth > 2) return 0;   /* list_once + this wrapper */
    if (++calls == fail_at) { failed = 1; failed_kind = kind; errno = fail_errno; return 1; }
    return 0;
}

int ioctl(int fd, unsigned long req, ...)
{
    static int (*real)(int, unsigned long, void *);
    va_list ap; va_start(ap, req); void *arg = va_arg(ap, void *); va_end(ap);
    if (!real) real = next("ioctl");
    if (req == IOCTL_PRIVCMD_HYPERCALL && depth == 1 && atomic_load(&pause_req)) {
        int one = 1;
        if (atomic_compare_exchange_strong(&pause_req, &one, 0)) {
            /* Step out of the gate (list_once holds it) while stopped. */
            int d = depth;
            depth = 1; leave();
            atomic_store(&paused, 1);
            while (!atomic_load(&resume)) sched_yield();
            atomic_store(&resume, 0);
            atomic_store(&paused, 0);
            enter(); depth = d;
        }
    }
    enter();
    int r = real(fd, req, arg);
    leave();
    return r;
}

static void *do_mmap(const char *which, void *a, size_t l, int p, int f, int fd, off_t o)
{
    static void *(*real)(void *, size_t, int, int, int, off_t);
    if (!real) real = next(which);
    enter();
    void *r;
    if (inject_kind('m')) r = MAP_FAILED;
    else {
        r = real(a, l, p, f, fd, o);
        if (r != MAP_FAILED && traced && nmapped < MAXMAP) mapped[nmapped++] = (uintptr_t)r;
    }
    leave();
    return r;
}
void *mmap(void *a, size_t l, int p, int f, int fd, off_t o) { return do_mmap("mmap", a, l, p, f, fd, o); }
void *mmap64(void *a, size_t l, int p, int f, int fd, off_t o) { return do_mmap("mmap64", a, l, p, f, fd, o); }

int munmap(void *a, size_t l)
{
    static int (*real)(void *, size_t);
    if (!real) real = next("munmap");
    enter(); int r = real(a, l); leave(); return r;
}

int madvise(void *a, size_t l, int adv)
{
    static int (*real)(void *, size_t, int);
    if (!real) real = next("madvise");
    enter();
    int r = inject_kind('a') ? -1 : real(a, l, adv);
    leave();
    return r;
}

int mlock(const void *a, size_t l)
{
    static int (*real)(const void *, size_t);
    if (!real) real = next("mlock");
    enter(); int r = real(a, l); leave(); return r;
}

int munlock(const void *a, size_t l)
{
    static int (*real)(const void *, size_t);
    if (!real) real = next("munlock");
    enter(); int r = real(a, l); leave(); return r;
}

/* ---- listing ------------------------------------------------------------- */

static xc_interface *xch;
static int verbose;

enum outcome { OK, INCOMPLETE, ERR, BAD };

/* Checks one entry against what was uploaded under its name. */
static int entry_ok(const char *name, uint32_t nl, const char *meta, uint32_t ml, char *why, size_t wl)
{
    if (nl == 0 || nl > 128 || name[nl - 1] != '\0' || strlen(name) != nl - 1) {
        snprintf(why, wl, "bad name length %u", nl); return 0;
    }
    unsigned idx;
    if (sscanf(name, "lp-%5u", &idx) == 1 && strlen(name) == 8) {
        char want[32];
        int k = snprintf(want, sizeof want, "K0=%u-", idx);
        if (ml < (uint32_t)k || memcmp(meta, want, k) != 0) {
            snprintf(why, wl, "%s: metadata of another payload", name); return 0;
        }
        return 1;
    }
    if (!strncmp(name, "up-", 3)) {
        char want[160];
        int k = snprintf(want, sizeof want, "NAME=%s", name) + 1;
        if (ml != (uint32_t)k || memcmp(meta, want, k) != 0) {
            snprintf(why, wl, "%s: metadata of another payload", name); return 0;
        }
        return 1;
    }
    snprintf(why, wl, "unknown name '%.40s'", name);
    return 0;
}

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static enum outcome list_once_(int *err, char *why, size_t wl, unsigned *count);

/* get_sizes + list, like xen-livepatch; checks the snapshot. The whole call
 * is inside the fork gate, so that a fork never catches this thread holding
 * a lock of fakexen, of libc or of a sanitizer runtime (a test artefact);
 * the one thread stopped inside its hypercall steps out of the gate. */
static enum outcome list_once(int *err, char *why, size_t wl, unsigned *count)
{
    enter();
    enum outcome o = list_once_(err, why, wl, count);
    leave();
    return o;
}

static enum outcome list_once_(int *err, char *why, size_t wl, unsigned *count)
{
    unsigned nr; uint32_t nt, mt;
    *why = 0;
    if (xc_livepatch_list_get_sizes(xch, &nr, &nt, &mt)) { *err = errno; return ERR; }
    if (!nr) { *count = 0; return OK; }
    xen_livepatch_status_t *info = malloc(nr * sizeof *info);
    uint32_t *len = malloc(nr * 4), *mlen = malloc(nr * 4);
    char *name = malloc(nt), *meta = malloc(mt + 1);
    char **names = malloc(nr * sizeof *names);
    unsigned done = 12345, left = 12345;
    enum outcome o = OK;
    if (xc_livepatch_list(xch, nr, 0, info, name, len, nt, meta, mlen, mt, &done, &left)) {
        *err = errno; o = ERR; goto out;
    }
    if (done > nr) { snprintf(why, wl, "done %u > max %u", done, nr); o = BAD; goto out; }
    uint64_t no = 0, mo = 0;
    for (unsigned i = 0; i < done; i++) {
        if (no + len[i] > nt || mo + mlen[i] > mt) { snprintf(why, wl, "entry %u beyond the buffers", i); o = BAD; goto out; }
        if (!entry_ok(name + no, len[i], meta + mo, mlen[i], why, wl)) { o = BAD; goto out; }
        if (info[i].state != 1) { snprintf(why, wl, "%s: state %u", name + no, info[i].state); o = BAD; goto out; }
        names[i] = name + no;
        no += len[i]; mo += mlen[i];
    }
    qsort(names, done, sizeof *names, cmpstr);
    for (unsigned i = 1; i < done; i++)
        if (!strcmp(names[i - 1], names[i])) { snprintf(why, wl, "duplicate %s", names[i]); o = BAD; goto out; }
    *count = done;
    if (done != nr || left) o = INCOMPLETE;
out:
    free(info); free(len); free(mlen); free(name); free(meta); free(names);
    return o;
}

/* Live stand-in hypercall pages (fakexen maps them shared anonymous). */
static int live_device_mappings(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512]; int n = 0;
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, "/dev/zero (deleted)") || strstr(line, " /SYSV")) n++;
    if (f) fclose(f);
    return n;
}

static int passed, failed_n;
static void result(int ok, const char *fmt, ...)
{
    va_list ap; va_start(ap, fmt);
    printf("%s: ", ok ? "ok" : "FAIL"); vprintf(fmt, ap); printf("\n");
    va_end(ap);
    fflush(stdout);
    if (ok) passed++; else failed_n++;
}

/* ---- fork ------------------------------------------------------------------ */

static atomic_int stop;
static atomic_long parent_ok, parent_bad;
static char parent_why[256];

static void *lister(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        int err = 0; unsigned n; char why[200];
        enum outcome o = list_once(&err, why, sizeof why, &n);
        if (o == OK) atomic_fetch_add(&parent_ok, 1);
        else {
            if (atomic_fetch_add(&parent_bad, 1) == 0)
                snprintf(parent_why, sizeof parent_why, "%s", o == ERR ? strerror(err) : o == BAD ? why : "incomplete");
        }
    }
    return NULL;
}

/* In the child: list repeatedly; exit status 0 if every listing was right. */
static void child_body(int iterations)
{
    alarm(30);
    int bad = 0; char why[200] = "", first[200] = "";
    for (int i = 0; i < iterations; i++) {
        int err = 0; unsigned n;
        enum outcome o = list_once(&err, why, sizeof why, &n);
        if (o != OK) {
            if (!bad) snprintf(first, sizeof first, "%s", o == ERR ? strerror(err) : o == BAD ? why : "incomplete");
            bad++;
        }
    }
    if (bad) {
        char msg[300];
        int k = snprintf(msg, sizeof msg, "  child %d: %d/%d listings wrong, first: %s\n", getpid(), bad, iterations, first);
        if (write(2, msg, k) < 0) {}
    }
    _exit(bad ? 1 : 0);
}

static int run_fork(int rounds)
{
    enum { LISTERS = 3 };
    pthread_t t[LISTERS];
    for (int i = 0; i < LISTERS; i++) pthread_create(&t[i], NULL, lister, NULL);
    int child_fail[2] = {0, 0}, child_hang[2] = {0, 0};
    for (int r = 0; r < rounds; r++) {
        int during = r % 2 == 0;
        if (during) {
            /* Stop a lister just before a hypercall of its list call (its
             * hypercall buffer is mapped and holds the request), then fork. */
            atomic_store(&pause_req, 1);
            while (!atomic_load(&paused)) sched_yield();
        } else {
            usleep(1000);
        }
        pid_t pid = gated_fork();
        if (pid == 0) child_body(40);
        if (during) {
            /* Until the lister has let go (resume back to 0, then paused
             * 0): else a lister run late enough could let the next round
             * take this round's paused for its own, fork before its own
             * stop, and leave its pause_req to stop a lister for good after
             * the last round (pthread_join would hang). */
            atomic_store(&resume, 1);
            while (atomic_load(&paused)) sched_yield();
        }
        int st = 0;
        waitpid(pid, &st, 0);
        if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM) child_hang[during]++;
        else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) child_fail[during]++;
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < LISTERS; i++) pthread_join(t[i], NULL);
    int half = (rounds + 1) / 2;
    result(!child_fail[1] && !child_hang[1], "children forked during a list call: %d/%d wrong, %d/%d hung",
           child_fail[1], half, child_hang[1], half);
    result(!child_fail[0] && !child_hang[0], "children forked between calls: %d/%d wrong, %d/%d hung",
           child_fail[0], rounds - half, child_hang[0], rounds - half);
    result(!parent_bad, "parent listings while forking: %ld right, %ld wrong%s%s", parent_ok, parent_bad,
           parent_bad ? ", first: " : "", parent_bad ? parent_why : "");
    return 0;
}

/* ---- threads --------------------------------------------------------------- */

enum { THREADS = 8 };
static int calls_per_thread;
static atomic_long t_ok, t_incomplete, t_ebusy, t_enobufs, t_einval, t_efault, t_other, t_bad;
static char t_why[256];

static void *stress(void *arg)
{
    (void)arg;
    for (int i = 0; i < calls_per_thread; i++) {
        int err = 0; unsigned n; char why[200];
        switch (list_once(&err, why, sizeof why, &n)) {
        case OK: atomic_fetch_add(&t_ok, 1); break;
        case INCOMPLETE: atomic_fetch_add(&t_incomplete, 1); break;
        case BAD:
            if (atomic_fetch_add(&t_bad, 1) == 0) snprintf(t_why, sizeof t_why, "%s", why);
            break;
        case ERR:
            switch (err) {
            case EBUSY: atomic_fetch_add(&t_ebusy, 1); break;
            case ENOBUFS: atomic_fetch_add(&t_enobufs, 1); break;
            case EINVAL: atomic_fetch_add(&t_einval, 1); break;
            case EFAULT: atomic_fetch_add(&t_efault, 1); break;
            default:
                if (atomic_fetch_add(&t_other, 1) == 0) snprintf(t_why, sizeof t_why, "errno %d (%s)", err, strerror(err));
            }
        }
    }
    return NULL;
}

static int run_threads(int n)
{
    calls_per_thread = n;
    int live0 = live_device_mappings();
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, stress, NULL);
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    int live1 = live_device_mappings();
    printf("  %d x %d calls: %ld complete, %ld consistent but grown/shrunk, %ld EBUSY, %ld ENOBUFS, "
           "%ld EINVAL, %ld EFAULT, %ld other errors, %ld inconsistent\n",
           THREADS, n, t_ok, t_incomplete, t_ebusy, t_enobufs, t_einval, t_efault, t_other, t_bad);
    result(!t_bad, "every successful listing is a consistent snapshot%s%s", t_bad ? ": " : "", t_bad ? t_why : "");
    result(!t_other, "every failure has an expected errno%s%s", t_other ? ": " : "", t_other ? t_why : "");
    result(t_ok > 0, "some listings complete (%ld)", t_ok);
    /* Ours keeps at most 2 pooled buffers; libxencall caches up to 4 pages. */
    result(live1 - live0 <= 4, "live hypercall mappings: %d before, %d after", live0, live1);
    return 0;
}

/* ---- allocation failure --------------------------------------------------- */

/* One list call (get_sizes + list) in this thread, traced. */
static int traced_call(int at, int eno, int *calls_out, int *failed_out, int *err)
{
    traced = 1; calls = 0; fail_at = at; fail_errno = eno; failed = 0; nmapped = 0;
    char why[200]; unsigned n;
    enum outcome o = list_once(err, why, sizeof why, &n);
    traced = 0;
    *calls_out = calls; *failed_out = failed;
    return o;
}

static int run_allocfail(void)
{
    /* Count the calls of a first list call in a fresh child. */
    int fds[2];
    if (pipe(fds)) return 1;
    pid_t pid = gated_fork();
    if (pid == 0) {
        int c, f, e = 0;
        int o = traced_call(0, 0, &c, &f, &e);
        if (write(fds[1], &c, sizeof c) < 0) {}
        _exit(o == OK ? 0 : 1);
    }
    int per_call = 0, st;
    if (read(fds[0], &per_call, sizeof per_call) != sizeof per_call) per_call = 0;
    waitpid(pid, &st, 0);
    result(WIFEXITED(st) && WEXITSTATUS(st) == 0 && per_call > 0, "a first list call makes %d mmap/madvise calls", per_call);
    for (int eno = ENOMEM; eno; eno = eno == ENOMEM ? EAGAIN : 0) {
        for (int at = 1; at <= per_call; at++) {
            pid = gated_fork();
            if (pid == 0) {
                alarm(20);
                int c, f, e = 0;
                int live0 = live_device_mappings();
                int o = traced_call(at, eno, &c, &f, &e);
                int bad = 0;
                if (!f) bad = 1;                     /* call `at` never reached */
                /* Not -1 with that errno. Ours ignores a refused
                 * MADV_DONTFORK on a device mapping (its fork handler still
                 * keeps children off pooled buffers): success is fine then. */
                else if ((o != ERR || e != eno) && !(failed_kind == 'a' && o == OK)) bad = 2;
                int live1 = live_device_mappings();
                if (!bad && live1 - live0 > 2) bad = 3;   /* more than a pool's worth left */
                /* Fail again and again: nothing may accumulate. */
                for (int k = 0; k < 20 && !bad; k++) traced_call(at, eno, &c, &f, &e);
                if (!bad && live_device_mappings() - live1 > 2) bad = 4;
                if (!bad) {                           /* the process is still usable */
                    int o2 = traced_call(0, 0, &c, &f, &e);
                    if (o2 != OK) bad = 5;
                }
                _exit(bad);
            }
            waitpid(pid, &st, 0);
            int code = WIFEXITED(st) ? WEXITSTATUS(st) : 100 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
            static const char *what[] = {"", "not reached", "wrong return/errno", "mappings left", "mappings accumulate", "next call failed"};
            result(code == 0, "call %d/%d failing with %s: %s", at, per_call, eno == ENOMEM ? "ENOMEM" : "EAGAIN",
                   code == 0 ? "-1/errno (or a tolerated madvise), cleaned up, next call ok" : code < 6 ? what[code] : "crashed or hung");
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) { fprintf(stderr, "usage: %s fork|threads|allocfail [N]\n", argv[0]); return 2; }
    verbose = getenv("LPSTRESS_VERBOSE") != NULL;
    xch = xc_interface_open(NULL, NULL, 0);
    if (!xch) { perror("xc_interface_open"); return 1; }
    Dl_info di;
    if (dladdr((void *)xc_livepatch_list, &di) && di.dli_fname)
        printf("  xc_livepatch_list from %s\n", di.dli_fname);
    int n = argc > 2 ? atoi(argv[2]) : 0;
    if (!strcmp(argv[1], "fork")) run_fork(n ? n : 40);
    else if (!strcmp(argv[1], "threads")) run_threads(n ? n : 1000);
    else if (!strcmp(argv[1], "allocfail")) run_allocfail();
    else { fprintf(stderr, "unknown mode %s\n", argv[1]); return 2; }
    xc_interface_close(xch);
    printf("%d passed, %d failed\n", passed, failed_n);
    return failed_n ? 1 : 0;
}
