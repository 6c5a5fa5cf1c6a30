/*
 * Strict memory mode: fakexen's hypervisor may only touch memory mapped from
 * /dev/xen/hypercall or locked anonymous pages. Handing it a caller's
 * malloc'd (or stack, or unlocked) xen_sysctl must fail with EFAULT, as a
 * real hypervisor may fail it; the safe kinds of memory must work.
 *
 * Run under LD_PRELOAD=libfakexen.so with a scenario of >= 1 payload at
 * interface 0x15. Prints one line per check and "N passed, M failed".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

struct privcmd_hypercall { uint64_t op, arg[5]; };
#define IOCTL_PRIVCMD_HYPERCALL 0x305000UL

static int passed, failed, pcfd;

static void check(int ok, const char *what)
{
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    if (ok) passed++; else failed++;
}

/* A LIST call (nr entries) with the struct at `s` and arrays at `arr`. */
static int list(void *s, unsigned nr, char *arr)
{
    memset(s, 0, 136);
    uint32_t *w = s;
    w[0] = 27; w[1] = 0x15; w[2] = 2; /* cmd, interface_version, LIST */
    w[6] = nr;                        /* nr at offset 24 */
    if (nr) {
        uint64_t *h = (uint64_t *)((char *)s + 40); /* status, name, len, metadata, metadata_len */
        h[0] = (uintptr_t)arr; h[1] = (uintptr_t)arr + 1024; h[2] = (uintptr_t)arr + 2048;
        h[3] = (uintptr_t)arr + 3072; h[4] = (uintptr_t)arr + 3584;
    }
    struct privcmd_hypercall c = { 35, { (uintptr_t)s, 0, 0, 0, 0 } };
    errno = 0;
    return ioctl(pcfd, IOCTL_PRIVCMD_HYPERCALL, &c);
}

int main(void)
{
    pcfd = open("/dev/xen/privcmd", O_RDWR | O_CLOEXEC);
    check(pcfd >= 0, "open /dev/xen/privcmd");
    int hcfd = open("/dev/xen/hypercall", O_RDWR | O_CLOEXEC);
    check(hcfd >= 0, "open /dev/xen/hypercall");

    /* The caller's malloc'd struct: EFAULT. */
    void *m = malloc(4096);
    check(list(m, 0, NULL) == -1 && errno == EFAULT, "malloc'd xen_sysctl -> EFAULT");
    char stackbuf[256] __attribute__((aligned(8)));
    check(list(stackbuf, 0, NULL) == -1 && errno == EFAULT, "stack xen_sysctl -> EFAULT");

    /* Locked anonymous memory: fine. */
    char *lk = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
    check(lk != MAP_FAILED && list(lk, 0, NULL) == 0, "MAP_LOCKED xen_sysctl -> 0");

    /* Struct safe, arrays malloc'd: the data call faults. */
    char *arr = malloc(4096);
    check(list(lk, 1, arr) == -1 && errno == EFAULT, "safe struct, malloc'd arrays -> EFAULT");

    /* Hypercall device pages, struct and arrays: a full data call works. */
    check(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, hcfd, 0) == MAP_FAILED && errno == EINVAL,
          "MAP_PRIVATE of /dev/xen/hypercall -> EINVAL");
    char *dv = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, hcfd, 0);
    check(dv != MAP_FAILED && list(dv, 1, dv + 4096) == 1, "hypercall-device struct and arrays -> 1 entry");

    /* Partial munmap: the first page goes, the rest stays usable. */
    munmap(dv, 4096);
    check(list(dv + 4096, 0, NULL) == 0, "after partial munmap, remaining device page -> 0");

    /* MAP_FIXED replacement of a locked page by an unlocked one: EFAULT. */
    char *fx = mmap(lk + 4096, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    check(fx == lk + 4096 && list(fx, 0, NULL) == -1 && errno == EFAULT, "MAP_FIXED unlocked over locked -> EFAULT");
    check(list(lk, 0, NULL) == 0, "the untouched locked page still works");

    /* A struct straddling a locked page and an unlocked one: EFAULT. */
    check(list(lk + 4096 - 64, 0, NULL) == -1 && errno == EFAULT, "struct straddling locked/unlocked -> EFAULT");

    /* mlock()ed malloc memory counts as locked. */
    char *ml = aligned_alloc(4096, 8192);
    check(ml && mlock(ml, 8192) == 0 && list(ml, 0, NULL) == 0, "mlock'ed heap xen_sysctl -> 0");
    munlock(ml, 8192);
    check(list(ml, 0, NULL) == -1 && errno == EFAULT, "after munlock -> EFAULT");

    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
