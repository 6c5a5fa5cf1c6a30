/* Test-only raw livepatch requests (UPLOAD, ACTION, GET) and xen_version through
 * /dev/xen/privcmd, with an interface version chosen by the caller.
 *
 * Debian 12's libxenctrl always sends sysctl interface 0x15, so it cannot upload or act
 * on Xen 4.14 (0x13), 4.16 (0x14) or 4.21+ (0x16). The UPLOAD, GET and ACTION layouts are
 * the same in 0x13..0x16 (only the interface version word differs), so this helper sends
 * them with the booted hypervisor's version. It is part of the real-Xen harness only
 * (never linked into the library).
 *
 * Layouts (x86_64, all 8-aligned; offsets inside struct xen_sysctl):
 *   0 cmd (XEN_SYSCTL_livepatch_op = 27), 4 interface_version,
 *   8 livepatch op cmd, 12 pad/flags, 16.. the op's union:
 *   xen_livepatch_name   = { u64 handle; u16 size (with NUL); u16 pad[3] }   at 16
 *   UPLOAD: name, u64 size at 32, u64 payload handle at 40
 *   GET:    name, u32 state at 32, i32 rc at 36
 *   ACTION: name, u32 cmd at 32, u32 timeout at 36, u32 flags at 40, u32 pad at 44
 * Every address the hypervisor follows is memory from /dev/xen/hypercall.
 */
#ifndef XENRAW_H
#define XENRAW_H
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

#define XR_HYPERVISOR_xen_version 17
#define XR_HYPERVISOR_sysctl 35
#define XR_SYSCTL_livepatch_op 27
#define XR_LP_UPLOAD 0
#define XR_LP_GET 1
#define XR_LP_ACTION 3
#define XR_ACTION_UNLOAD 1
#define XR_ACTION_REVERT 2
#define XR_ACTION_APPLY 3
#define XR_STATE_CHECKED 1
#define XR_STATE_APPLIED 2
#define XR_SYSCTL_SIZE 136
#define XR_IOCTL_PRIVCMD_HYPERCALL 0x305000UL

struct xr_hypercall { uint64_t op, arg[5]; };
_Static_assert(sizeof(struct xr_hypercall) == 48, "privcmd_hypercall_t is 48 bytes");

static int xr_privcmd = -1, xr_hcdev = -1;

static int xr_open(void)
{
    if (xr_privcmd < 0) xr_privcmd = open("/dev/xen/privcmd", O_RDWR | O_CLOEXEC);
    if (xr_hcdev < 0) xr_hcdev = open("/dev/xen/hypercall", O_RDWR | O_CLOEXEC);
    return xr_privcmd < 0 || xr_hcdev < 0 ? -1 : 0;
}

/* Hypercall-safe memory (zeroed), page-rounded; xr_free(p, bytes) releases it. */
static void *xr_alloc(size_t bytes)
{
    if (xr_open()) return NULL;
    size_t len = (bytes + 4095) & ~(size_t)4095;
    void *p = mmap(NULL, len ? len : 4096, PROT_READ | PROT_WRITE, MAP_SHARED, xr_hcdev, 0);
    if (p == MAP_FAILED) return NULL;
    memset(p, 0, len ? len : 4096);
    return p;
}

static void xr_free(void *p, size_t bytes)
{
    size_t len = (bytes + 4095) & ~(size_t)4095;
    munmap(p, len ? len : 4096);
}

/* Returns the hypercall's value, or -1 with errno = the hypervisor's error. */
static long xr_hypercall(uint64_t op, uint64_t a0, uint64_t a1)
{
    if (xr_open()) return -1;
    struct xr_hypercall h = { op, { a0, a1, 0, 0, 0 } };
    return ioctl(xr_privcmd, XR_IOCTL_PRIVCMD_HYPERCALL, &h);
}

#define XR_PUT(buf, off, type, v) do { type _v = (v); memcpy((char *)(buf) + (off), &_v, sizeof _v); } while (0)
#define XR_GET(buf, off, type) ({ type _v; memcpy(&_v, (const char *)(buf) + (off), sizeof _v); _v; })

/* One livepatch sysctl: a buffer holding the sysctl (at 0), the name (at 256) and
 * `extra` bytes (at 512, e.g. the payload). */
struct xr_req { char *buf; size_t len; };

static int xr_req_new(struct xr_req *r, uint32_t iface, uint32_t lpcmd, const char *name, size_t extra)
{
    size_t nl = strlen(name) + 1;
    if (nl > 128) { errno = ENAMETOOLONG; return -1; }
    r->len = 512 + extra;
    r->buf = xr_alloc(r->len);
    if (!r->buf) return -1;
    uint64_t base = (uint64_t)(uintptr_t)r->buf;
    XR_PUT(r->buf, 0, uint32_t, XR_SYSCTL_livepatch_op);
    XR_PUT(r->buf, 4, uint32_t, iface);
    XR_PUT(r->buf, 8, uint32_t, lpcmd);
    memcpy(r->buf + 256, name, nl);
    XR_PUT(r->buf, 16, uint64_t, base + 256);
    XR_PUT(r->buf, 24, uint16_t, (uint16_t)nl);
    return 0;
}

static long xr_req_call(struct xr_req *r)
{
    long rc = xr_hypercall(XR_HYPERVISOR_sysctl, (uint64_t)(uintptr_t)r->buf, 0);
    int e = errno;
    xr_free(r->buf, r->len);
    errno = e;
    return rc;
}

static int xr_upload(uint32_t iface, const char *name, const void *data, size_t size)
{
    struct xr_req r;
    if (xr_req_new(&r, iface, XR_LP_UPLOAD, name, size)) return -1;
    memcpy(r.buf + 512, data, size);
    XR_PUT(r.buf, 32, uint64_t, size);
    XR_PUT(r.buf, 40, uint64_t, (uint64_t)(uintptr_t)r.buf + 512);
    return xr_req_call(&r) < 0 ? -1 : 0;
}

static int xr_get(uint32_t iface, const char *name, uint32_t *state, int32_t *rc)
{
    struct xr_req r;
    if (xr_req_new(&r, iface, XR_LP_GET, name, 0)) return -1;
    long v = xr_hypercall(XR_HYPERVISOR_sysctl, (uint64_t)(uintptr_t)r.buf, 0);
    int e = errno;
    *state = XR_GET(r.buf, 32, uint32_t);
    *rc = XR_GET(r.buf, 36, int32_t);
    xr_free(r.buf, r.len);
    errno = e;
    return v < 0 ? -1 : 0;
}

/* ACTION; apply and revert complete asynchronously, so wait (GET) until the payload's
 * rc is no longer -EAGAIN. Returns 0, or -1 with errno = the hypervisor's error or the
 * action's own result (e.g. EBUSY from a failing apply hook). */
static int xr_action(uint32_t iface, const char *name, uint32_t action, uint32_t flags)
{
    struct xr_req r;
    if (xr_req_new(&r, iface, XR_LP_ACTION, name, 0)) return -1;
    XR_PUT(r.buf, 32, uint32_t, action);
    XR_PUT(r.buf, 36, uint32_t, 0);     /* timeout: the hypervisor's default */
    XR_PUT(r.buf, 40, uint32_t, flags);
    if (xr_req_call(&r) < 0) return -1;
    if (action == XR_ACTION_UNLOAD) return 0;
    uint32_t state = 0;
    int32_t rc = -EAGAIN;
    for (int i = 0; i < 5000 && rc == -EAGAIN; i++) {
        if (xr_get(iface, name, &state, &rc)) return -1;
        if (rc == -EAGAIN) usleep(1000);
    }
    if (rc) { errno = -rc; return -1; }
    uint32_t want = action == XR_ACTION_APPLY ? XR_STATE_APPLIED : XR_STATE_CHECKED;
    if (state != want) { errno = EPROTO; return -1; }
    return 0;
}

/* XENVER_extraversion (16 bytes) into out[17]. */
static int xr_extraversion(char out[17])
{
    char *b = xr_alloc(16);
    if (!b) return -1;
    long rc = xr_hypercall(XR_HYPERVISOR_xen_version, 1 /* XENVER_extraversion */, (uint64_t)(uintptr_t)b);
    memcpy(out, b, 16);
    out[16] = 0;
    xr_free(b, 16);
    return rc < 0 ? -1 : 0;
}

/* Reads a whole file; NULL on error. */
static unsigned char *xr_read_file(const char *path, size_t *size)
{
    FILE *p = fopen(path, "rb");
    if (!p) return NULL;
    fseek(p, 0, SEEK_END);
    long sz = ftell(p);
    rewind(p);
    unsigned char *d = malloc(sz ? sz : 1);
    if (!d || fread(d, 1, sz, p) != (size_t)sz) { fclose(p); free(d); return NULL; }
    fclose(p);
    *size = sz;
    return d;
}

static double xr_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}
#endif
