/*
 * Repeats one management operation, with whichever library provides the
 * functions: the real libxenctrl, or ours when LD_PRELOADed in front. For
 * the exact per-call counts of bench/counts.py (run under fakexen with a
 * scenario holding the CHECKED payloads p1 and p2).
 *
 *   manage OP ITERATIONS [SIZE]
 *     get      xc_livepatch_get(p1)                       1 call an iteration
 *     upload   xc_livepatch_upload(uN, SIZE bytes of ELF)  1 call
 *     unload   upload uN, then xc_livepatch_unload(uN)     2 calls
 *     cycle    xc_livepatch_apply(p1), _revert(p1)         2 calls
 *     replace  xc_livepatch_replace(p1, then p2, ...)      1 call
 *
 * Every call must succeed. Prints "calls N".
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenctrl.h>

static int check(int rc, const char *what, const char *name)
{
    if (rc) { fprintf(stderr, "%s %s failed: %m\n", what, name); exit(1); }
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 3) { fprintf(stderr, "usage: %s get|upload|unload|cycle|replace ITERATIONS [SIZE]\n", argv[0]); return 2; }
    const char *op = argv[1];
    int iters = atoi(argv[2]);
    uint32_t size = argc > 3 ? strtoul(argv[3], NULL, 0) : 4096;
    xc_interface *xch = xc_interface_open(NULL, NULL, 0);
    if (!xch) { perror("xc_interface_open"); return 1; }
    unsigned char *payload = calloc(1, size);
    if (!payload || size < 4) return 1;
    memcpy(payload, "\177ELF", 4);
    char p1[] = "p1", p2[] = "p2", name[32];
    long calls = 0;
    for (int i = 0; i < iters; i++) {
        snprintf(name, sizeof name, "u%d", i);
        if (!strcmp(op, "get")) {
            xen_livepatch_status_t st;
            calls += check(xc_livepatch_get(xch, p1, &st), "get", p1);
        } else if (!strcmp(op, "upload")) {
            calls += check(xc_livepatch_upload(xch, name, payload, size), "upload", name);
        } else if (!strcmp(op, "unload")) {
            calls += check(xc_livepatch_upload(xch, name, payload, size), "upload", name);
            calls += check(xc_livepatch_unload(xch, name, 0, 0), "unload", name);
        } else if (!strcmp(op, "cycle")) {
            calls += check(xc_livepatch_apply(xch, p1, 0, 0), "apply", p1);
            calls += check(xc_livepatch_revert(xch, p1, 0, 0), "revert", p1);
        } else if (!strcmp(op, "replace")) {
            char *n = i % 2 ? p2 : p1;
            calls += check(xc_livepatch_replace(xch, n, 0, 0), "replace", n);
        } else {
            fprintf(stderr, "unknown op %s\n", op);
            return 2;
        }
    }
    printf("calls %ld\n", calls);
    xc_interface_close(xch);
    free(payload);
    return 0;
}
