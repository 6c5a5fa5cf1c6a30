/*
 * Times xc_livepatch_list_get_sizes() + xc_livepatch_list() as a toolstack
 * calls them (probe, then list everything from 0), with whichever library
 * provides them: the real libxenctrl, or ours when LD_PRELOADed in front.
 * Built with -DLPBENCH_FLOOR and floor.c instead of -lxenctrl, it times the
 * floor's two functions the same way (the floor program: one kept buffer,
 * no checks; see floor.c).
 *
 *   bench ITERATIONS [WARMUP]
 *
 * Prints one line: "iterations N median_ns M min_ns M entries E bytes B".
 * Caller buffers are allocated once, outside the timed region (with room to
 * spare), so only the two library calls are measured.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenctrl.h>
#include "bench.h"

#ifdef LPBENCH_FLOOR
#include "floor.h"
#define GET_SIZES floor_get_sizes
#define LIST floor_list
#else
#define GET_SIZES xc_livepatch_list_get_sizes
#define LIST xc_livepatch_list
#endif

int main(int argc, char **argv)
{
    int iters = argc > 1 ? atoi(argv[1]) : 10;
    int warmup = argc > 2 ? atoi(argv[2]) : 0;
#ifdef LPBENCH_FLOOR
    xc_interface *xch = NULL;
    if (floor_init(0, 0, 0)) { perror("floor_init"); return 1; }
#else
    xc_interface *xch = xc_interface_open(NULL, NULL, 0);
    if (!xch) { perror("xc_interface_open"); return 1; }
#endif

    unsigned int nr = 0;
    uint32_t name_sz = 0, meta_sz = 0;
    if (GET_SIZES(xch, &nr, &name_sz, &meta_sz)) {
        fprintf(stderr, "get_sizes: %s\n", strerror(errno));
        return 1;
    }
    unsigned int cap = nr ? nr : 1;
#ifdef LPBENCH_FLOOR
    /* The floor's one buffer, for what the first probe found. */
    if (floor_init(cap, name_sz, meta_sz)) { perror("floor_init"); return 1; }
#endif
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
        unsigned int n = 0, done = 0, left = 0;
        uint32_t ns = 0, ms = 0;
        if (GET_SIZES(xch, &n, &ns, &ms)) {
            fprintf(stderr, "get_sizes: %s\n", strerror(errno));
            return 1;
        }
        if (n && LIST(xch, n, 0, info, name, len, ns, meta, mlen, ms + 1, &done, &left)) {
            fprintf(stderr, "list: %s\n", strerror(errno));
            return 1;
        }
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
#ifndef LPBENCH_FLOOR
    xc_interface_close(xch);
#endif
    return 0;
}
