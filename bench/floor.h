/* The floor: the fastest possible get_sizes + list of everything through
 * privcmd (test-only, never shipped), on the simulated hypervisor (bench.c
 * built with -DLPBENCH_FLOOR) and on real Xen (real-xen/driver.c). See floor.c. */
#ifndef LPBENCH_FLOOR_H
#define LPBENCH_FLOOR_H
#include <stdint.h>
#include <xenctrl.h>

/* Opens privcmd (once) and maps ONE hypercall buffer large enough for `nr`
 * entries, `name_bytes` of names and `meta_bytes` of metadata (plus the
 * sysctl), kept until the next floor_init or the end of the process; the
 * previous one is unmapped. floor_init(0, 0, 0) gives room for a size probe.
 * 0 or -1 (errno). */
int floor_init(unsigned nr, uint32_t name_bytes, uint32_t meta_bytes);
/* Same arguments and results as libxenctrl's functions; no checks at all. */
int floor_get_sizes(void *xch, unsigned *nr, uint32_t *name_total, uint32_t *meta_total);
int floor_list(void *xch, unsigned max, unsigned start, struct xen_livepatch_status *info,
               char *name, uint32_t *len, uint32_t name_total, char *meta, uint32_t *meta_len,
               uint32_t meta_total, unsigned *done, unsigned *left);
#endif
