/* lpdump: lists livepatch payloads through the project's C ABI only.
 *
 * Built against include/xc_livepatch.h and linked with -lxc_livepatch (no libxenctrl).
 * No xc_interface is ever opened: the library gets a dummy non-NULL pointer.
 *
 *   lpdump --dump                       "count N" + "<name>\t<state>\t<rc>\t<hex>" lines
 *                                       (names escaped: see dump_name)
 *   lpdump --loop N EXPECTED CHURN [US] N list snapshots (every other one with US microseconds
 *                                       between the size probe and the listing), each checked
 *                                       for consistency
 *                                       (lpcheck.h) while another process churns payloads;
 *                                       a failed call must not have written any byte of the
 *                                       (poisoned) buffers: counted as errno EILSEQ, fails
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "xc_livepatch.h"
#include "lpcheck.h"

static xc_interface *const XCH = (xc_interface *)1;
#define POISON 0xA5

static size_t changed(const void *p, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += ((const unsigned char *)p)[i] != POISON;
    return c;
}

/* One snapshot. Returns 0 and a malloc'd dump text, or -1 with errno (and *stage). */
/* --loop: pause between the size probe and the listing, on every other snapshot (the
 * others list at once, so that consistent snapshots stay likely under churn) */
static long window_us, snapshots_taken;
/* --loop: room for this many entries more than probed (the name and metadata buffers
 * stay exactly the probed sizes), so that a list that grew at its end within the window
 * no longer fits the bytes: ENOBUFS, the case the loop must see answered cleanly */
static unsigned int max_slack;

/* The name without its NUL, escaped as xc-livepatch's dump does (one line per
 * payload): a backslash is "\\", a control byte (0x00-0x1f, 0x7f) "\xNN". */
static void dump_name(FILE *m, const char *s, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c == '\\')
            fputs("\\\\", m);
        else if (c < 0x20 || c == 0x7f)
            fprintf(m, "\\x%02x", c);
        else
            fputc(c, m);
    }
}

static int snapshot(char **text, size_t *textlen, const char **stage)
{
    unsigned int nr = 0, done = 0, left = 0;
    uint32_t name_total = 0, meta_total = 0;
    *stage = "xc_livepatch_list_get_sizes";
    if (xc_livepatch_list_get_sizes(XCH, &nr, &name_total, &meta_total))
        return -1;
    if (window_us && snapshots_taken++ % 2) usleep(window_us);
    FILE *m = open_memstream(text, textlen);
    if (nr == 0) {
        fprintf(m, "count 0\n");
        fclose(m);
        return 0;
    }
    /* poisoned: a failed call must leave every byte as it was */
    unsigned int cap = nr + max_slack;   /* entries the arrays hold */
    struct xen_livepatch_status *info = malloc(cap * sizeof(*info));
    uint32_t *len = malloc(cap * sizeof(*len)), *mlen = malloc(cap * sizeof(*mlen));
    char *name = malloc(name_total ? name_total : 1);
    char *meta = malloc(meta_total + 1);
    memset(info, POISON, cap * sizeof(*info));
    memset(len, POISON, cap * sizeof(*len));
    memset(mlen, POISON, cap * sizeof(*mlen));
    memset(name, POISON, name_total ? name_total : 1);
    memset(meta, POISON, meta_total + 1);
    *stage = "xc_livepatch_list";
    int rc = xc_livepatch_list(XCH, cap, 0, info, name, len, name_total, meta, mlen, meta_total,
                               &done, &left);
    int err = errno;
    if (rc) {
        size_t w = changed(info, cap * sizeof(*info)) + changed(len, cap * 4) + changed(mlen, cap * 4) +
                   changed(name, name_total) + changed(meta, meta_total + 1);
        if (w) {
            fprintf(stderr, "lpdump: xc_livepatch_list failed (errno %d) but changed %zu bytes\n", err, w);
            err = EILSEQ;   /* counted as "wrote on failure": fails --loop */
        }
    }
    /* complete: every entry the hypervisor had (with slack, fewer than probed is fine) */
    if (rc == 0 && (left != 0 || (!max_slack && done != nr))) {
        *stage = "xc_livepatch_list returned 0 with done != nr or left != 0";
        fprintf(stderr, "lpdump: done=%u nr=%u left=%u\n", done, nr, left);
        rc = -1;
        err = EBADE;   /* counted as "short" by --loop */
    }
    if (rc == 0) {
        fprintf(m, "count %u\n", done);
        size_t no = 0, mo = 0;
        for (unsigned int i = 0; i < done; i++) {
            if (len[i] == 0 || no + len[i] > name_total || mo + mlen[i] > meta_total) {
                *stage = "lengths out of range";
                rc = -1;
                err = ERANGE;
                break;
            }
            dump_name(m, name + no, len[i] - 1);
            fprintf(m, "\t%u\t%d\t", info[i].state, info[i].rc);
            for (uint32_t k = 0; k < mlen[i]; k++)
                fprintf(m, "%02x", (unsigned char)meta[mo + k]);
            fputc('\n', m);
            no += len[i];
            mo += mlen[i];
        }
    }
    fclose(m);
    free(info); free(len); free(mlen); free(name); free(meta);
    if (rc) { free(*text); *text = NULL; errno = err; return -1; }
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    char *text = NULL;
    size_t tl = 0;
    const char *stage;
    if (argc == 2 && !strcmp(argv[1], "--dump")) {
        if (snapshot(&text, &tl, &stage)) {
            int e = errno;
            fprintf(stderr, "lpdump: %s failed: errno %d (%s)\n", stage, e, strerror(e));
            return 1;
        }
        fwrite(text, 1, tl, stdout);
        return 0;
    }
    if ((argc == 5 || argc == 6) && !strcmp(argv[1], "--loop")) {
        window_us = argc == 6 ? atol(argv[5]) : 0;
        max_slack = 8;
        long n = atol(argv[2]), ok = 0, torn = 0, errs = 0, shortr = 0, errno_count[256] = {0};
        int cmin = 1 << 30, cmax = -1, nch;
        struct lp_table stat, churn, got;
        char why[512];
        if (lp_table_load(&stat, argv[3]) || lp_table_load(&churn, argv[4])) return 2;
        double t0 = now();
        for (long i = 0; i < n; i++) {
            if (snapshot(&text, &tl, &stage)) {
                int e = errno;
                if (e == EBADE) shortr++;
                else { errs++; errno_count[e & 255]++; }
                continue;
            }
            lp_table_parse(&got, text, tl);
            if (lp_consistent(&stat, &churn, &got, why, sizeof why, &nch)) {
                torn++;
                printf("TORN snapshot %ld: %s\n", i, why);
            } else {
                ok++;
                if (nch < cmin) cmin = nch;
                if (nch > cmax) cmax = nch;
            }
            lp_table_free(&got);
            free(text);
            text = NULL;
        }
        printf("loop snapshots=%ld consistent=%ld torn=%ld short(rc 0, left>0)=%ld errors=%ld", n, ok,
               torn, shortr, errs);
        for (int e = 0; e < 256; e++)
            if (errno_count[e]) printf(" errno%d(%s)=%ld", e, strerror(e), errno_count[e]);
        printf(" churn_entries_seen=%d..%d seconds=%.2f\n", cmax < 0 ? 0 : cmin, cmax, now() - t0);
        return torn || ok == 0 || errno_count[EILSEQ & 255] ? 1 : 0;
    }
    fprintf(stderr, "usage: lpdump --dump | --loop N EXPECTED.dump CHURN.dump [WINDOW_US]\n");
    return 2;
}
