/* lpxc: helper using the real libxenctrl (Debian 4.17) in dom0. Not the code under test.
 *
 *   lpxc upload DIR LIST     upload every "<name> <file>" line of LIST (relative to DIR)
 *                            in one process; prints per-upload timing
 *   lpxc extraversion        prints the hypervisor's XENVER_extraversion
 *   lpxc churn DIR LIST N STOP   up to N rounds (until file STOP exists): upload all
 *                            payloads of LIST, then unload them (reverse order on odd rounds)
 *
 * The prototypes are the Debian 4.17 libxenctrl ones, declared here so that the build
 * needs no libxen-dev headers; it links against the unpacked libxenctrl.so.4.17.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct xc_interface_core xc_interface;
xc_interface *xc_interface_open(void *logger, void *dombuild_logger, unsigned open_flags);
int xc_version(xc_interface *xch, int cmd, void *arg);
int xc_livepatch_upload(xc_interface *xch, char *name, unsigned char *payload, uint32_t size);
int xc_livepatch_unload(xc_interface *xch, char *name, uint32_t timeout, uint32_t flags);
#define XENVER_extraversion 1

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct item { char name[256]; unsigned char *data; uint32_t size; };

static struct item *load_list(const char *dir, const char *list, size_t *n)
{
    char path[4096], line[4096], file[2048];
    snprintf(path, sizeof path, "%s/%s", dir, list);
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); exit(2); }
    size_t cap = 16;
    struct item *it = malloc(cap * sizeof(*it));
    *n = 0;
    while (fgets(line, sizeof line, f)) {
        if (*n == cap) it = realloc(it, (cap *= 2) * sizeof(*it));
        if (sscanf(line, "%255s %2047s", it[*n].name, file) != 2) continue;
        snprintf(path, sizeof path, "%s/%s", dir, file);
        FILE *p = fopen(path, "rb");
        if (!p) { perror(path); exit(2); }
        fseek(p, 0, SEEK_END);
        long sz = ftell(p);
        rewind(p);
        it[*n].data = malloc(sz);
        if (fread(it[*n].data, 1, sz, p) != (size_t)sz) { perror(path); exit(2); }
        fclose(p);
        it[*n].size = sz;
        (*n)++;
    }
    fclose(f);
    return it;
}

int main(int argc, char **argv)
{
    xc_interface *xch = xc_interface_open(NULL, NULL, 0);
    if (!xch) { fprintf(stderr, "lpxc: xc_interface_open failed\n"); return 2; }
    if (argc == 2 && !strcmp(argv[1], "extraversion")) {
        char ev[16] = {0};
        if (xc_version(xch, XENVER_extraversion, ev) < 0) { perror("xc_version"); return 1; }
        printf("%.16s\n", ev);
        return 0;
    }
    if (argc == 4 && !strcmp(argv[1], "upload")) {
        size_t n, fails = 0;
        struct item *it = load_list(argv[2], argv[3], &n);
        double t0 = now(), worst = 0, first = 0, last = 0;
        for (size_t i = 0; i < n; i++) {
            double t = now();
            if (xc_livepatch_upload(xch, it[i].name, it[i].data, it[i].size)) {
                fprintf(stderr, "lpxc: upload of %s failed: errno %d (%s)\n", it[i].name, errno,
                        strerror(errno));
                fails++;
            }
            t = now() - t;
            if (t > worst) worst = t;
            if (i == 0) first = t;
            last = t;
        }
        double tot = now() - t0;
        printf("uploads=%zu failed=%zu total_s=%.3f per_upload_ms=%.2f first_ms=%.2f last_ms=%.2f "
               "worst_ms=%.2f\n", n, fails, tot, n ? 1000 * tot / n : 0, 1000 * first, 1000 * last,
               1000 * worst);
        return fails ? 1 : 0;
    }
    if (argc == 6 && !strcmp(argv[1], "churn")) {
        size_t n;
        struct item *it = load_list(argv[2], argv[3], &n);
        long rounds = atol(argv[4]), ups = 0, unl = 0, fails = 0;
        double t0 = now();
        long r;
        for (r = 0; r < rounds && access(argv[5], F_OK) != 0; r++) {
            for (size_t i = 0; i < n; i++) {
                if (xc_livepatch_upload(xch, it[i].name, it[i].data, it[i].size)) fails++;
                else ups++;
            }
            for (size_t k = 0; k < n; k++) {
                size_t i = (r & 1) ? n - 1 - k : k;
                if (xc_livepatch_unload(xch, it[i].name, 0, 0)) {
                    fprintf(stderr, "lpxc: unload %s: errno %d\n", it[i].name, errno);
                    fails++;
                } else unl++;
            }
        }
        printf("churn rounds=%ld uploads=%ld unloads=%ld failures=%ld seconds=%.2f\n", r, ups,
               unl, fails, now() - t0);
        return fails ? 1 : 0;
    }
    fprintf(stderr, "usage: lpxc extraversion | upload DIR LIST | churn DIR LIST ROUNDS STOPFILE\n");
    return 2;
}
