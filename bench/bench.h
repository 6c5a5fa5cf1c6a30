/* Timing helpers of the benchmark programs (test-only, never shipped):
 * bench.c on the simulated hypervisor, real-xen/driver.c on real Xen. */
#ifndef LPBENCH_BENCH_H
#define LPBENCH_BENCH_H
#include <time.h>

/* CLOCK_MONOTONIC, in nanoseconds. */
static inline long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* qsort order of long longs, ascending. */
static inline int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}
#endif
