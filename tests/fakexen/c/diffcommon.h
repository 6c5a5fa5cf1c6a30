/*
 * What the two differential harnesses (diffharness.c: the listing,
 * diffmanage.c: the management functions) share: the ABI types, the
 * pass/fail tally and its report, and the start of main (usage, the
 * scenario read, both libraries dlopen'ed RTLD_LOCAL, the real
 * xc_interface_open). Included by both; nothing to link.
 */
#ifndef DIFFCOMMON_H
#define DIFFCOMMON_H
#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct { uint32_t state; int32_t rc; } status_t;
typedef void xch_t;
typedef xch_t *(*open_fn)(void *, void *, unsigned);

static int passed, failed, verbose;

/* One case's result: counted; printed if it failed, under HARNESS_VERBOSE,
 * or when it has a note. */
static void verdict(int ok, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void verdict(int ok, const char *name, const char *fmt, ...)
{
    if (ok) passed++; else failed++;
    char msg[2048] = ""; /* more than any note (diffmanage's longest is 1200) */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!ok || verbose || *msg)
        printf("%s %s%s%s\n", ok ? "ok  " : "FAIL", name, *msg ? ": " : "", msg);
}

/* "N passed, M failed"; the exit status. */
static int summary(void)
{
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}

/* Usage LIBXENCTRL OUR_SO: the scenario read, both libraries opened and
 * the real xc_interface_open found (*xopen NULL if not); 0, or 2 after a
 * message. */
static int open_libs(int argc, char **argv, void (*read_scenario)(void), void **hr, void **ho, open_fn *xopen)
{
    if (argc < 3) { fprintf(stderr, "usage: %s LIBXENCTRL OUR_SO\n", argv[0]); return 2; }
    verbose = getenv("HARNESS_VERBOSE") != NULL;
    read_scenario();
    *hr = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    *ho = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
    if (!*hr || !*ho) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 2; }
    *xopen = (open_fn)dlsym(*hr, "xc_interface_open");
    return 0;
}
#endif
