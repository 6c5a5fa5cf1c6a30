/* lpraw: livepatch uploads, actions and churn with the booted hypervisor's sysctl
 * interface version (xenraw.h), for the hypervisors Debian 12's libxenctrl (0x15 only)
 * cannot drive. Test harness only; not the code under test.
 *
 *   lpraw IFACE upload DIR LIST          upload every "<name> <file>" line of LIST (in DIR)
 *   lpraw IFACE churn DIR LIST N STOP    up to N rounds (until file STOP exists): upload
 *                                        all payloads of LIST, then unload them
 *   lpraw IFACE upload1 NAME FILE        one upload
 *   lpraw IFACE apply|revert|unload NAME one action (apply/revert wait for completion)
 *   lpraw extraversion                   XENVER_extraversion
 *
 * IFACE is e.g. 0x14. Output of upload/churn has lpxc's format. Exit 0 on success, 1 on a
 * hypervisor error (message "Error <errno>: <text>"), 2 on usage errors.
 */
#include "xenraw.h"

struct item { char name[256]; unsigned char *data; size_t size; };

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
        if (!(it[*n].data = xr_read_file(path, &it[*n].size))) { perror(path); exit(2); }
        (*n)++;
    }
    fclose(f);
    return it;
}

static int fail(const char *what, const char *name)
{
    int e = errno;
    fprintf(stderr, "lpraw: %s %s failed\nError %d: %s\n", what, name, e, strerror(e));
    return 1;
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "extraversion")) {
        char ev[17];
        if (xr_extraversion(ev)) { perror("xen_version"); return 1; }
        printf("%s\n", ev);
        return 0;
    }
    if (argc < 3) goto usage;
    uint32_t iface = strtoul(argv[1], NULL, 0);
    const char *op = argv[2];
    if (argc == 5 && !strcmp(op, "upload1")) {
        size_t sz;
        unsigned char *d = xr_read_file(argv[4], &sz);
        if (!d) { perror(argv[4]); return 2; }
        return xr_upload(iface, argv[3], d, sz) ? fail("upload", argv[3]) : 0;
    }
    if (argc == 4 && (!strcmp(op, "apply") || !strcmp(op, "revert") || !strcmp(op, "unload"))) {
        uint32_t a = !strcmp(op, "apply") ? XR_ACTION_APPLY : !strcmp(op, "revert") ? XR_ACTION_REVERT
                                                                                    : XR_ACTION_UNLOAD;
        return xr_action(iface, argv[3], a, 0) ? fail(op, argv[3]) : 0;
    }
    if (argc == 5 && !strcmp(op, "upload")) {
        size_t n, fails = 0;
        struct item *it = load_list(argv[3], argv[4], &n);
        double t0 = xr_now(), worst = 0, first = 0, last = 0;
        for (size_t i = 0; i < n; i++) {
            double t = xr_now();
            if (xr_upload(iface, it[i].name, it[i].data, it[i].size)) {
                fprintf(stderr, "lpraw: upload of %s failed: errno %d (%s)\n", it[i].name, errno,
                        strerror(errno));
                fails++;
            }
            t = xr_now() - t;
            if (t > worst) worst = t;
            if (i == 0) first = t;
            last = t;
        }
        double tot = xr_now() - t0;
        printf("uploads=%zu failed=%zu total_s=%.3f per_upload_ms=%.2f first_ms=%.2f last_ms=%.2f "
               "worst_ms=%.2f (raw, interface %#x)\n", n, fails, tot, n ? 1000 * tot / n : 0,
               1000 * first, 1000 * last, 1000 * worst, iface);
        return fails ? 1 : 0;
    }
    if (argc == 7 && !strcmp(op, "churn")) {
        size_t n;
        struct item *it = load_list(argv[3], argv[4], &n);
        long rounds = atol(argv[5]), ups = 0, unl = 0, fails = 0, r;
        double t0 = xr_now();
        for (r = 0; r < rounds && access(argv[6], F_OK) != 0; r++) {
            for (size_t i = 0; i < n; i++) {
                if (xr_upload(iface, it[i].name, it[i].data, it[i].size)) fails++;
                else ups++;
            }
            for (size_t k = 0; k < n; k++) {
                size_t i = (r & 1) ? n - 1 - k : k;
                if (xr_action(iface, it[i].name, XR_ACTION_UNLOAD, 0)) {
                    fprintf(stderr, "lpraw: unload %s: errno %d\n", it[i].name, errno);
                    fails++;
                } else unl++;
            }
        }
        printf("churn rounds=%ld uploads=%ld unloads=%ld failures=%ld seconds=%.2f (raw, interface %#x)\n",
               r, ups, unl, fails, xr_now() - t0, iface);
        return fails ? 1 : 0;
    }
usage:
    fprintf(stderr, "usage: lpraw IFACE upload DIR LIST | churn DIR LIST N STOP | upload1 NAME FILE |"
                    " apply|revert|unload NAME ; lpraw extraversion\n");
    return 2;
}
