/* LD_PRELOAD counter for the real-Xen benchmark (benchmark only).
 *
 * Interposes the libc entry points through which libxencall, this library
 * and the floor reach the kernel for a listing, counts the calls, and hands
 * the counters to the driver (`lpbench_counters`, found with dlsym):
 *   hypercalls   ioctl(IOCTL_PRIVCMD_HYPERCALL)   (any other ioctl: ioctl_other), and of
 *                them the livepatch LIST sysctls, read from the request the
 *                privcmd argument points to (hypercall memory, readable here):
 *                probes (nr = 0), short (a data call that returned fewer entries
 *                than asked while more were left: Xen preempted the call), e2big
 *   map_device   mmap with a file descriptor: hypercall buffer pages from
 *                /dev/xen/hypercall (the only file mapped in the timed calls)
 *   map_anon     anonymous mmap (reservations, guard pages, locked fallback)
 *   munmap, madvise, mlock (+munlock), getpid
 * Only calls that go through the PLT are seen: libc's internal calls (malloc's
 * own mmap, ld.so) are not, and none of them is a hypercall or a buffer map.
 */
#define _GNU_SOURCE
#define __XEN_TOOLS__ 1
#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>
#include <xen/xen.h>
#include <xen/sys/privcmd.h>
#include <xen/sysctl.h>
#include <errno.h>

struct lpbench_counters {
    unsigned long probes, short_replies, e2big, hypercalls, ioctl_other, map_device, map_anon, munmap, madvise, mlock, getpid;
};
static struct lpbench_counters c;

struct lpbench_counters *lpbench_counters(void) { return &c; }

#define NEXT(name) static __typeof__(&name) next_##name; \
    if (!next_##name) next_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

int ioctl(int fd, unsigned long req, ...)
{
    NEXT(ioctl);
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (req != IOCTL_PRIVCMD_HYPERCALL) {
        __atomic_add_fetch(&c.ioctl_other, 1, __ATOMIC_RELAXED);
        return next_ioctl(fd, req, arg);
    }
    __atomic_add_fetch(&c.hypercalls, 1, __ATOMIC_RELAXED);
    privcmd_hypercall_t *h = arg;
    struct xen_sysctl *s = NULL;
    if (h->op == __HYPERVISOR_sysctl && h->arg[0]) {
        s = (struct xen_sysctl *)(uintptr_t)h->arg[0];
        if (s->cmd != XEN_SYSCTL_livepatch_op || s->u.livepatch.cmd != XEN_SYSCTL_LIVEPATCH_LIST)
            s = NULL;
    }
    uint32_t asked = s ? s->u.livepatch.u.list.nr : 0;
    int r = next_ioctl(fd, req, arg);
    int e = errno;
    if (s && asked == 0)
        __atomic_add_fetch(&c.probes, 1, __ATOMIC_RELAXED);
    else if (s && r >= 0 && (uint32_t)r < asked && s->u.livepatch.u.list.nr > 0)
        __atomic_add_fetch(&c.short_replies, 1, __ATOMIC_RELAXED);
    else if (s && r < 0 && e == E2BIG)
        __atomic_add_fetch(&c.e2big, 1, __ATOMIC_RELAXED);
    errno = e;
    return r;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    NEXT(mmap);
    if (fd >= 0 && !(flags & MAP_ANONYMOUS))
        __atomic_add_fetch(&c.map_device, 1, __ATOMIC_RELAXED);
    else
        __atomic_add_fetch(&c.map_anon, 1, __ATOMIC_RELAXED);
    return next_mmap(addr, len, prot, flags, fd, off);
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return mmap(addr, len, prot, flags, fd, off);
}

int munmap(void *addr, size_t len)
{
    NEXT(munmap);
    __atomic_add_fetch(&c.munmap, 1, __ATOMIC_RELAXED);
    return next_munmap(addr, len);
}

int madvise(void *addr, size_t len, int advice)
{
    NEXT(madvise);
    __atomic_add_fetch(&c.madvise, 1, __ATOMIC_RELAXED);
    return next_madvise(addr, len, advice);
}

int mlock(const void *addr, size_t len)
{
    NEXT(mlock);
    __atomic_add_fetch(&c.mlock, 1, __ATOMIC_RELAXED);
    return next_mlock(addr, len);
}

int munlock(const void *addr, size_t len)
{
    NEXT(munlock);
    __atomic_add_fetch(&c.mlock, 1, __ATOMIC_RELAXED);
    return next_munlock(addr, len);
}

pid_t getpid(void)
{
    NEXT(getpid);
    __atomic_add_fetch(&c.getpid, 1, __ATOMIC_RELAXED);
    return next_getpid();
}
