/* lprace: the list grows between xc_livepatch_list_get_sizes and xc_livepatch_list, in
 * one process, on a real hypervisor. Lists through the project's C ABI (our header,
 * -lxc_livepatch); the upload and unload in between go through xenraw.h with the booted
 * hypervisor's interface version (libxenctrl is not linked: its xc_livepatch_list would
 * clash with ours).
 *
 *   lprace IFACE grow DIR UNLOAD NAME FILE
 *       get_sizes; unload UNLOAD (the first payload, 7-character name); upload NAME from
 *       DIR/FILE (100-character name, ~60 KiB metadata); xc_livepatch_list with buffers of
 *       exactly the old sizes, poisoned. Expect -1 / ENOBUFS and not one byte written.
 *   lprace IFACE last127 DIR NAME FILE
 *       upload NAME (exactly 127 bytes), so it is listed last; list with name buffers of
 *       exactly the total size: every entry, the last name's NUL on the buffer's last byte;
 *       then with one name byte less: -1 / ENOBUFS and not one byte written.
 * Prints one line of facts; exit 0 if the expectation held, 1 if not, 2 on setup errors.
 */
#include "xenraw.h"
#include "xc_livepatch.h"

static xc_interface *const XCH = (xc_interface *)1;
#define POISON 0xA5

struct bufs {
    unsigned int max;
    uint32_t nt, mt;
    struct xen_livepatch_status *info;
    uint32_t *len, *mlen;
    char *name, *meta;
    unsigned int done, left;
};

static void bufs_new(struct bufs *b, unsigned int max, uint32_t nt, uint32_t mt)
{
    b->max = max; b->nt = nt; b->mt = mt;
    b->info = malloc(max * sizeof(*b->info));
    b->len = malloc(max * sizeof(*b->len));
    b->mlen = malloc(max * sizeof(*b->mlen));
    b->name = malloc(nt ? nt : 1);
    b->meta = malloc(mt ? mt : 1);
    if (!b->info || !b->len || !b->mlen || !b->name || !b->meta) { perror("malloc"); exit(2); }
    memset(b->info, POISON, max * sizeof(*b->info));
    memset(b->len, POISON, max * sizeof(*b->len));
    memset(b->mlen, POISON, max * sizeof(*b->mlen));
    memset(b->name, POISON, nt ? nt : 1);
    memset(b->meta, POISON, mt ? mt : 1);
    memset(&b->done, POISON, sizeof b->done);
    memset(&b->left, POISON, sizeof b->left);
}

static size_t changed(const void *p, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += ((const unsigned char *)p)[i] != POISON;
    return c;
}

/* Bytes of the five arrays that are no longer the poison. */
static size_t written(const struct bufs *b)
{
    return changed(b->info, b->max * sizeof(*b->info)) + changed(b->len, b->max * 4) +
           changed(b->mlen, b->max * 4) + changed(b->name, b->nt) + changed(b->meta, b->mt);
}

static int call_list(struct bufs *b, int *err)
{
    errno = 0;
    int rc = xc_livepatch_list(XCH, b->max, 0, b->info, b->name, b->len, b->nt, b->meta, b->mlen,
                               b->mt, &b->done, &b->left);
    *err = errno;
    return rc;
}

static int load_and_upload(uint32_t iface, const char *dir, const char *name, const char *file)
{
    char path[4096];
    size_t sz;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    unsigned char *d = xr_read_file(path, &sz);
    if (!d) { perror(path); exit(2); }
    int rc = xr_upload(iface, name, d, sz);
    free(d);
    return rc;
}

int main(int argc, char **argv)
{
    unsigned int nr = 0;
    uint32_t nt = 0, mt = 0;
    int err;
    if (argc == 7 && !strcmp(argv[2], "grow")) {
        uint32_t iface = strtoul(argv[1], NULL, 0);
        if (xc_livepatch_list_get_sizes(XCH, &nr, &nt, &mt)) { perror("get_sizes"); return 2; }
        if (xr_action(iface, argv[4], XR_ACTION_UNLOAD, 0)) { perror("unload"); return 2; }
        if (load_and_upload(iface, argv[3], argv[5], argv[6])) { perror("upload"); return 2; }
        unsigned int nr2 = 0;
        uint32_t nt2 = 0, mt2 = 0;
        struct bufs b;
        bufs_new(&b, nr, nt, mt);
        int rc = call_list(&b, &err);
        size_t w = written(&b);
        /* sizes after the fact, for the report only */
        xc_livepatch_list_get_sizes(XCH, &nr2, &nt2, &mt2);
        printf("sizes before nr=%u names=%u metadata=%u, after unload+upload nr=%u names=%u "
               "metadata=%u; xc_livepatch_list with the old sizes: rc=%d errno=%d (%s), "
               "done=%#x left=%#x, %zu of %zu poisoned bytes changed\n",
               nr, nt, mt, nr2, nt2, mt2, rc, err, strerror(err), b.done, b.left, w,
               (size_t)nr * 16 + nt + mt);
        return rc == -1 && err == ENOBUFS && w == 0 ? 0 : 1;
    }
    if (argc == 6 && !strcmp(argv[2], "last127")) {
        uint32_t iface = strtoul(argv[1], NULL, 0);
        const char *want = argv[4];
        if (strlen(want) != 127) { fprintf(stderr, "name is not 127 bytes\n"); return 2; }
        if (load_and_upload(iface, argv[3], want, argv[5])) { perror("upload"); return 2; }
        if (xc_livepatch_list_get_sizes(XCH, &nr, &nt, &mt)) { perror("get_sizes"); return 2; }
        struct bufs b, s;
        bufs_new(&b, nr, nt, mt);
        int rc = call_list(&b, &err);
        int ok = rc == 0 && b.done == nr && b.left == 0;
        uint32_t sum = 0;
        for (unsigned int i = 0; ok && i < b.done; i++) sum += b.len[i];
        ok = ok && sum == nt && b.len[nr - 1] == 128 && b.name[nt - 1] == 0 &&
             !memcmp(b.name + nt - 128, want, 127);
        printf("exact name buffer (%u bytes, %u entries): rc=%d errno=%d done=%u left=%u, last "
               "len=%u, last name %s, NUL on the last byte: %s; ",
               nt, nr, rc, rc ? err : 0, b.done, b.left, rc == 0 && b.done ? b.len[b.done - 1] : 0,
               rc == 0 && b.done == nr && !memcmp(b.name + nt - 128, want, 127) ? "matches" : "DIFFERS",
               rc == 0 && b.name[nt - 1] == 0 ? "yes" : "no");
        bufs_new(&s, nr, nt - 1, mt);
        int rc2 = call_list(&s, &err);
        size_t w = written(&s);
        printf("one byte short (%u): rc=%d errno=%d (%s), %zu poisoned bytes changed\n", nt - 1, rc2,
               err, strerror(err), w);
        return ok && rc2 == -1 && err == ENOBUFS && w == 0 ? 0 : 1;
    }
    fprintf(stderr, "usage: lprace IFACE grow DIR UNLOAD NAME FILE | lprace IFACE last127 DIR NAME FILE\n");
    return 2;
}
