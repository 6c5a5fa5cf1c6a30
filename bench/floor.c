/*
 * The floor for get_sizes + list (test-only, not shipped): the least work a
 * listing through privcmd can do. One hypercall buffer is mapped once, before
 * the timed loop, and kept; each iteration makes one size probe and one LIST
 * hypercall per 1024 entries straight into it, checks nothing but the
 * hypercalls' return values, and copies each of the five arrays out once.
 * The interface version is the one of the headers (Debian 12: 0x15), never
 * probed. A library cannot be faster on the same hypervisor; the benchmark
 * prints ours / floor.
 *
 *   floor ITERATIONS [WARMUP]
 *
 * Prints the line bench.c prints: "iterations N median_ns M min_ns M entries
 * E bytes B". Caller buffers as in bench.c.
 */
#define _GNU_SOURCE
#define __XEN_TOOLS__ 1
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <xen/xen.h>
#include <xen/sysctl.h>
#include <xen/sys/privcmd.h>

#define BATCH 1024u

static int privcmd = -1;

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* LIST with the handles at the given addresses; returns the hypercall's value. */
static long list(struct xen_sysctl *s, uint32_t idx, uint32_t nr, void *status, char *name,
                 uint32_t *len, char *meta, uint32_t *mlen)
{
    memset(s, 0, sizeof(*s));
    s->cmd = XEN_SYSCTL_livepatch_op;
    s->interface_version = XEN_SYSCTL_INTERFACE_VERSION;
    s->u.livepatch.cmd = XEN_SYSCTL_LIVEPATCH_LIST;
    s->u.livepatch.u.list.idx = idx;
    s->u.livepatch.u.list.nr = nr;
    set_xen_guest_handle(s->u.livepatch.u.list.status, status);
    set_xen_guest_handle(s->u.livepatch.u.list.name, name);
    set_xen_guest_handle(s->u.livepatch.u.list.len, len);
    set_xen_guest_handle(s->u.livepatch.u.list.metadata, meta);
    set_xen_guest_handle(s->u.livepatch.u.list.metadata_len, mlen);
    privcmd_hypercall_t call = { .op = __HYPERVISOR_sysctl, .arg = { (uintptr_t)s } };
    return ioctl(privcmd, IOCTL_PRIVCMD_HYPERCALL, &call);
}

static void *map_buffer(size_t bytes)
{
    int fd = open("/dev/xen/hypercall", O_RDWR | O_CLOEXEC);
    void *p = fd >= 0 ? mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
                      : mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

int main(int argc, char **argv)
{
    int iters = argc > 1 ? atoi(argv[1]) : 10;
    int warmup = argc > 2 ? atoi(argv[2]) : 0;
    privcmd = open("/dev/xen/privcmd", O_RDWR | O_CLOEXEC);
    if (privcmd < 0) { perror("open /dev/xen/privcmd"); return 1; }

    /* Size everything once from a first probe, in a page of its own. */
    struct xen_sysctl *s = map_buffer(4096);
    if (!s || list(s, 0, 0, NULL, NULL, NULL, NULL, NULL) < 0) { perror("probe"); return 1; }
    uint32_t nr = s->u.livepatch.u.list.nr;
    uint32_t name_sz = s->u.livepatch.u.list.name_total_size;
    uint32_t meta_sz = s->u.livepatch.u.list.metadata_total_size;
    unsigned int cap = nr ? nr : 1;
    size_t o_status = 4096, o_len = o_status + 8 * (size_t)cap, o_mlen = o_len + 4 * (size_t)cap,
           o_name = o_mlen + 4 * (size_t)cap, o_meta = o_name + name_sz, total = o_meta + meta_sz;
    char *b = map_buffer(total);
    if (!b) { perror("mmap"); return 1; }
    s = (struct xen_sysctl *)b;

    struct xen_livepatch_status *info = malloc(cap * sizeof(*info));
    char *name = malloc(name_sz + 1);
    uint32_t *len = malloc(cap * sizeof(*len));
    char *meta = malloc(meta_sz + 1);
    uint32_t *mlen = malloc(cap * sizeof(*mlen));
    long long *t = calloc(iters ? iters : 1, sizeof(*t));
    if (!info || !name || !len || !meta || !mlen || !t) { perror("malloc"); return 1; }

    unsigned long long entries = 0, bytes = 0;
    for (int i = -warmup; i < iters; i++) {
        long long t0 = now_ns();
        if (list(s, 0, 0, NULL, NULL, NULL, NULL, NULL) < 0) { perror("probe"); return 1; }
        uint32_t n = s->u.livepatch.u.list.nr, done = 0, left = n, ns = 0, ms = 0;
        while (left && done < cap) {
            uint32_t want = cap - done < BATCH ? cap - done : BATCH;
            long r = list(s, done, want, b + o_status + 8 * (size_t)done, b + o_name + ns,
                          (uint32_t *)(b + o_len) + done, b + o_meta + ms, (uint32_t *)(b + o_mlen) + done);
            if (r < 0) { perror("list"); return 1; }
            done += r;
            ns += s->u.livepatch.u.list.name_total_size;
            ms += s->u.livepatch.u.list.metadata_total_size;
            left = s->u.livepatch.u.list.nr;
        }
        memcpy(info, b + o_status, 8 * (size_t)done);
        memcpy(len, b + o_len, 4 * (size_t)done);
        memcpy(mlen, b + o_mlen, 4 * (size_t)done);
        memcpy(name, b + o_name, ns);
        memcpy(meta, b + o_meta, ms);
        long long t1 = now_ns();
        if (done != n || left) { fprintf(stderr, "list: done %u of %u, left %u\n", done, n, left); return 1; }
        if (i >= 0) t[i] = t1 - t0;
        entries = done;
        bytes = (unsigned long long)ns + ms + (unsigned long long)done * 16;
    }
    if (iters > 0) {
        qsort(t, iters, sizeof(*t), cmp_ll);
        printf("iterations %d median_ns %lld min_ns %lld entries %llu bytes %llu\n",
               iters, t[iters / 2], t[0], entries, bytes);
    }
    return 0;
}
