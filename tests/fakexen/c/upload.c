/*
 * Which xc_livepatch_upload a caller reaches: uploads FILE as NAME through
 * the library it is linked with, and prints "upload rc R errno E".
 *   - built against a 4.19+ <xenctrl.h> then xc_livepatch.h (LIVEPATCH_FLAG_FORCE
 *     defined): the five-argument call, force = (a third argument "force");
 *     (-DWITHOUT_OUR_HEADER: the same call, declared by <xenctrl.h> alone);
 *   - otherwise the four-argument call, made right after a call that leaves 1
 *     in the fifth argument register, so a library that read it would make up
 *     a flag.
 * xch is (xc_interface *)1: linked with our library alone nothing dereferences it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef WITH_XENCTRL_H
#include <xenctrl.h>
#endif
#ifndef WITHOUT_OUR_HEADER
#include "xc_livepatch.h"
#endif

/* Not inlined: its call sets all five argument registers (the fifth to 1). */
__attribute__((noinline)) int five(int a, int b, int c, int d, int e)
{
    __asm__ volatile("" ::: "memory");
    return a + b + c + d + e;
}

int main(int argc, char **argv)
{
    if (argc < 3) { fprintf(stderr, "usage: %s NAME FILE [force]\n", argv[0]); return 2; }
    int fd = open(argv[2], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) { perror(argv[2]); return 2; }
    unsigned char *buf = malloc(st.st_size ? st.st_size : 1);
    if (!buf || read(fd, buf, st.st_size) != st.st_size) { perror("read"); return 2; }
    xc_interface *xch = (xc_interface *)1;
    errno = 0;
#ifdef LIVEPATCH_FLAG_FORCE
    bool force = argc > 3 && strcmp(argv[3], "force") == 0;
    int rc = xc_livepatch_upload(xch, argv[1], buf, (uint32_t)st.st_size, force);
#else
    int rc = five(0, 0, 0, 0, argc > 3) == -1 ? -1 : xc_livepatch_upload(xch, argv[1], buf, (uint32_t)st.st_size);
#endif
    printf("upload rc %d errno %d\n", rc, rc ? errno : 0);
    return rc ? 1 : 0;
}
