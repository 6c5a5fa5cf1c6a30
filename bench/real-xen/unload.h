/* See unload.c (benchmark set-up only). */
#ifndef LPBENCH_UNLOAD_H
#define LPBENCH_UNLOAD_H
/* Unloads the CHECKED payload `name` with one ACTION hypercall. 0 or -1 (errno). */
int unload_checked(const char *name);
#endif
