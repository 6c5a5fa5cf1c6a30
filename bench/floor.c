/* The floor of a livepatch listing (benchmark only), on real Xen and on the
 * simulated hypervisor alike.
 *
 * What any implementation must do at the least: one LIST probe hypercall
 * (nr = 0), then one LIST hypercall per 1024 entries, each writing straight
 * into hypercall-safe memory, then one copy out per array into the caller's
 * buffers. Everything else is left out on purpose:
 *   - one buffer from /dev/xen/hypercall (without that device, locked
 *     anonymous memory), mapped ONCE before the timed calls and kept
 *     (no mapping, no pool, no lock, no getpid per call);
 *   - the sysctl interface version is the headers' (Debian 12: 0x15, Xen
 *     4.17), never probed;
 *   - no check of anything the hypervisor returns (counts, sizes, lengths,
 *     terminators, version changes) and none of the caller's arguments
 *     beyond what the copy needs.
 * It is therefore NOT safe (a hostile or racing hypervisor reply is trusted)
 * and exists only to measure against: a library cannot be faster on the same
 * hypervisor.
 */
#define __XEN_TOOLS__ 1
#include "floor.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xen/sys/privcmd.h>
#include <xen/sysctl.h>
#include <xen/xen.h>

#define BATCH 1024u
#define SYSCTL_ROOM 256u

static int privcmd_fd = -1;
static unsigned char *buf;            /* the one hypercall buffer */
static size_t buf_size;
static size_t off_status, off_len, off_mlen, off_name, off_meta;

static size_t align8(size_t x) { return (x + 7) & ~(size_t)7; }

int floor_init(unsigned nr, uint32_t name_bytes, uint32_t meta_bytes)
{
    if (privcmd_fd < 0)
        privcmd_fd = open("/dev/xen/privcmd", O_RDWR | O_CLOEXEC);
    if (privcmd_fd < 0)
        return -1;
    if (buf) {
        munmap(buf, buf_size);
        buf = NULL;
    }
    off_status = SYSCTL_ROOM;
    off_len = off_status + 8 * (size_t)nr;
    off_mlen = off_len + 4 * (size_t)nr;
    off_name = align8(off_mlen + 4 * (size_t)nr);
    off_meta = align8(off_name + name_bytes);
    size_t total = (off_meta + meta_bytes + 4095) & ~(size_t)4095;
    int hfd = open("/dev/xen/hypercall", O_RDWR | O_CLOEXEC);
    void *p = hfd >= 0 ? mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, hfd, 0)
                       : mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
    if (hfd >= 0)
        close(hfd);
    if (p == MAP_FAILED)
        return -1;
    buf = p;
    buf_size = total;
    memset(buf, 0, total);            /* fault every page in, once */
    return 0;
}

static long list_call(uint32_t idx, uint32_t nr, uint64_t status, uint64_t name, uint64_t len,
                      uint64_t meta, uint64_t mlen)
{
    struct xen_sysctl *s = (struct xen_sysctl *)buf;
    memset(s, 0, sizeof(*s));
    s->cmd = XEN_SYSCTL_livepatch_op;
    s->interface_version = XEN_SYSCTL_INTERFACE_VERSION;
    s->u.livepatch.cmd = XEN_SYSCTL_LIVEPATCH_LIST;
    s->u.livepatch.u.list.idx = idx;
    s->u.livepatch.u.list.nr = nr;
    s->u.livepatch.u.list.status.p = (void *)(uintptr_t)status;
    s->u.livepatch.u.list.name.p = (void *)(uintptr_t)name;
    s->u.livepatch.u.list.len.p = (void *)(uintptr_t)len;
    s->u.livepatch.u.list.metadata.p = (void *)(uintptr_t)meta;
    s->u.livepatch.u.list.metadata_len.p = (void *)(uintptr_t)mlen;
    privcmd_hypercall_t call = { .op = __HYPERVISOR_sysctl, .arg = { (uint64_t)(uintptr_t)s } };
    return ioctl(privcmd_fd, IOCTL_PRIVCMD_HYPERCALL, &call);
}

int floor_get_sizes(void *xch, unsigned *nr, uint32_t *name_total, uint32_t *meta_total)
{
    (void)xch;
    if (list_call(0, 0, 0, 0, 0, 0, 0) < 0)
        return -1;
    struct xen_sysctl_livepatch_list *l = &((struct xen_sysctl *)buf)->u.livepatch.u.list;
    *nr = l->nr;
    *name_total = l->name_total_size;
    *meta_total = l->metadata_total_size;
    return 0;
}

int floor_list(void *xch, unsigned max, unsigned start, struct xen_livepatch_status *info,
               char *name, uint32_t *len, uint32_t name_total, char *meta, uint32_t *meta_len,
               uint32_t meta_total, unsigned *done, unsigned *left)
{
    (void)xch; (void)name_total; (void)meta_total;
    uint64_t b = (uint64_t)(uintptr_t)buf;
    struct xen_sysctl_livepatch_list *l = &((struct xen_sysctl *)buf)->u.livepatch.u.list;
    unsigned d = 0, rest = 0;
    uint32_t nu = 0, mu = 0;
    while (d < max) {
        uint32_t n = max - d < BATCH ? max - d : BATCH;
        long r = list_call(start + d, n, b + off_status + 8 * (uint64_t)d, b + off_name + nu,
                           b + off_len + 4 * (uint64_t)d, b + off_meta + mu, b + off_mlen + 4 * (uint64_t)d);
        if (r < 0)
            return -1;
        d += r;
        nu += l->name_total_size;
        mu += l->metadata_total_size;
        rest = l->nr;
        if (r == 0 || rest == 0)
            break;
    }
    memcpy(info, buf + off_status, 8 * (size_t)d);
    memcpy(len, buf + off_len, 4 * (size_t)d);
    memcpy(meta_len, buf + off_mlen, 4 * (size_t)d);
    memcpy(name, buf + off_name, nu);
    memcpy(meta, buf + off_meta, mu);
    *done = d;
    *left = rest;
    return 0;
}
