/*
 * Relink test: a C program built against include/xc_livepatch.h only and
 * linked with -lxc_livepatch (no libxenctrl, xch = (xc_interface *)1), or,
 * with -DWITH_XENCTRL, linked -lxc_livepatch -lxenctrl (ours first) with the
 * xch from the real xc_interface_open(). Dumps the listing:
 *   "nr N names NT metadata MT" then "NAME<TAB>STATE<TAB>RC<TAB>HEX(METADATA)"
 * and, with WITH_XENCTRL, the file that defines xc_livepatch_list (dladdr).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "xc_livepatch.h"

#ifdef WITH_XENCTRL
xc_interface *xc_interface_open(void *logger, void *dombuild_logger, unsigned open_flags);
#endif

int main(void)
{
#ifdef WITH_XENCTRL
    xc_interface *xch = xc_interface_open(NULL, NULL, 0);
    if (!xch) { perror("xc_interface_open"); return 1; }
    Dl_info di;
    if (dladdr((void *)xc_livepatch_list, &di) && di.dli_fname)
        printf("xc_livepatch_list from %s\n", strrchr(di.dli_fname, '/') ? strrchr(di.dli_fname, '/') + 1 : di.dli_fname);
#else
    xc_interface *xch = (xc_interface *)1;
#endif
    unsigned nr; uint32_t nt, mt;
    if (xc_livepatch_list_get_sizes(xch, &nr, &nt, &mt)) { printf("get_sizes: errno %d\n", errno); return 1; }
    printf("nr %u names %u metadata %u\n", nr, nt, mt);
    if (!nr) return 0;
    struct xen_livepatch_status *info = calloc(nr, sizeof *info);
    uint32_t *len = calloc(nr, 4), *mlen = calloc(nr, 4);
    char *name = malloc(nt), *meta = malloc(mt + 1);
    unsigned done, left;
    if (xc_livepatch_list(xch, nr, 0, info, name, len, nt, meta, mlen, mt, &done, &left)) {
        printf("list: errno %d\n", errno); return 1;
    }
    printf("done %u left %u\n", done, left);
    size_t no = 0, mo = 0;
    for (unsigned i = 0; i < done; i++) {
        printf("%s\t%u\t%d\t", name + no, info[i].state, info[i].rc);
        for (uint32_t k = 0; k < mlen[i]; k++) printf("%02x", (unsigned char)meta[mo + k]);
        printf("\n");
        no += len[i]; mo += mlen[i];
    }
    return done == nr && left == 0 ? 0 : 1;
}
