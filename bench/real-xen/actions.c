/* Apply + revert cycles of one live patch by whole processes of two or more tools, run
 * inside dom0 (benchmark only).
 *
 *   actions ROUNDS NAME LABEL=TOOL LABEL=TOOL [LABEL=TOOL]...
 *
 * NAME is an uploaded CHECKED payload that Xen applies again after a revert (its only
 * writable section is .livepatch.funcs). Each round runs, for every tool in turn (the
 * order rotates from one round to the next), `TOOL apply NAME` then `TOOL revert
 * NAME`, each a fork + exec timed from fork to exit (CLOCK_MONOTONIC), its stdout,
 * stderr and exit code captured. An action is "completed" when it printed exactly
 * `Applying NAME... completed\n` (or `Reverting ...`), nothing on stderr, exit 0;
 * "incomplete" when it printed `Operation didn't complete.` (xen-livepatch's one 60 ms
 * look); anything else is "wrong". After an action that did not complete, the first
 * tool's `list` is run (not timed) until no payload reads rc -EAGAIN any more, so the
 * next action starts from a settled state.
 *
 * After its two actions, each tool's turn also times `TOOL --help` (a process start, the
 * tool's libraries loaded, no hypercall): the share of an action no tool can avoid.
 *
 * Prints one ACTION line per action and, per tool, one ACTIONS line:
 *   ACTIONS tool=LABEL apply_completed=.. revert_completed=.. incomplete=.. wrong=..
 *           total_ns=.. per_completed_ns=.. median_apply_ns=.. median_revert_ns=..
 *           min_apply_ns=.. min_revert_ns=.. median_start_ns=.. min_start_ns=..
 * Exit 0 if nothing was "wrong".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../bench.h"

enum outcome { COMPLETED, INCOMPLETE, WRONG };
static const char *const OUTCOME[] = {"completed", "incomplete", "wrong"};

struct tool {
    const char *label, *path;
    long long *t[2];           /* [0] apply, [1] revert: times of completed actions */
    long long *start;          /* `TOOL --help`: a process start without a hypercall */
    int done[2], incomplete, wrong;
    long long total;
};

static size_t slurp(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    size_t n = 0;
    if (fd < 0)
        return 0;
    for (ssize_t r; n + 1 < cap && (r = read(fd, buf + n, cap - 1 - n)) > 0;)
        n += (size_t)r;
    close(fd);
    buf[n] = 0;
    return n;
}

/* Runs PATH ARG1 ARG2 with stdout/stderr to files; returns its exit code (-1: it did
 * not exit normally) and the elapsed time in *ns. */
static int run(const char *path, const char *a1, const char *a2, long long *ns)
{
    long long t0 = now_ns();
    pid_t pid = fork();
    if (pid == 0) {
        int o = open("/tmp/act.out", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open("/tmp/act.err", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
            _exit(126);
        execl(path, path, a1, a2, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) < 0)
        return -1;
    *ns = now_ns() - t0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static enum outcome judge(int rc, const char *verb, const char *name)
{
    char out[4096], err[4096], want[512];
    slurp("/tmp/act.out", out, sizeof out);
    slurp("/tmp/act.err", err, sizeof err);
    snprintf(want, sizeof want, "%s %s... completed\n", verb, name);
    if (rc == 0 && !strcmp(out, want) && !err[0])
        return COMPLETED;
    if (rc == 2 && strstr(err, "Operation didn't complete.\n"))
        return INCOMPLETE;
    printf("ACTION-OUTPUT exit=%d stdout=[%s] stderr=[%s]\n", rc, out, err);
    return WRONG;
}

/* `list` by TOOL until no payload's rc is -EAGAIN (at most 100 times, 10 ms apart). */
static void settle(const char *tool)
{
    char out[65536];
    long long ns;
    for (int i = 0; i < 100; i++) {
        if (run(tool, "list", NULL, &ns) != 0)
            return;
        slurp("/tmp/act.out", out, sizeof out);
        if (!strstr(out, "(11, Resource temporarily unavailable)"))
            return;
        usleep(10000);
    }
}

static long long median(long long *v, int n)
{
    if (!n)
        return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_ll);
    return v[n / 2];
}

static void one_action(struct tool *t, int which, int round, const char *name, const char *settle_tool)
{
    static const char *const act[2] = {"apply", "revert"}, *const verb[2] = {"Applying", "Reverting"};
    long long ns = 0;
    int rc = run(t->path, act[which], name, &ns);
    enum outcome o = judge(rc, verb[which], name);
    t->total += ns;
    if (o == COMPLETED)
        t->t[which][t->done[which]++] = ns;
    else if (o == INCOMPLETE)
        t->incomplete++;
    else
        t->wrong++;
    printf("ACTION tool=%s action=%s round=%d ns=%lld rc=%d outcome=%s\n", t->label, act[which], round, ns, rc,
           OUTCOME[o]);
    if (o != COMPLETED)
        settle(settle_tool);
}

int main(int argc, char **argv)
{
    int n = argc - 3;
    for (int i = 0; i < n; i++)
        if (!strchr(argv[3 + i], '='))
            n = 0;
    if (n < 2) {
        fprintf(stderr, "usage: actions ROUNDS NAME LABEL=TOOL LABEL=TOOL [LABEL=TOOL]...\n");
        return 2;
    }
    int rounds = atoi(argv[1]);
    const char *name = argv[2];
    struct tool *tools = calloc((size_t)n, sizeof *tools);
    if (!tools)
        return 1;
    for (int i = 0; i < n; i++) {
        char *eq = strchr(argv[3 + i], '=');
        *eq = 0;
        tools[i] = (struct tool){.label = argv[3 + i], .path = eq + 1};
        tools[i].t[0] = calloc((size_t)rounds + 1, sizeof(long long));
        tools[i].t[1] = calloc((size_t)rounds + 1, sizeof(long long));
        tools[i].start = calloc((size_t)rounds + 1, sizeof(long long));
        if (!tools[i].t[0] || !tools[i].t[1] || !tools[i].start)
            return 1;
    }
    for (int r = 0; r < rounds; r++)
        for (int k = 0; k < n; k++) {
            struct tool *t = &tools[(r + k) % n];
            one_action(t, 0, r, name, tools[0].path);
            one_action(t, 1, r, name, tools[0].path);
            run(t->path, "--help", NULL, &t->start[r]);
        }
    int wrong = 0;
    for (int i = 0; i < n; i++) {
        struct tool *t = &tools[i];
        int done = t->done[0] + t->done[1];
        /* median() sorts: the minimums are read after it */
        long long ma = median(t->t[0], t->done[0]), mr = median(t->t[1], t->done[1]), ms = median(t->start, rounds);
        printf("ACTIONS tool=%s rounds=%d apply_completed=%d revert_completed=%d incomplete=%d wrong=%d "
               "total_ns=%lld per_completed_ns=%lld median_apply_ns=%lld median_revert_ns=%lld "
               "min_apply_ns=%lld min_revert_ns=%lld median_start_ns=%lld min_start_ns=%lld\n",
               t->label, rounds, t->done[0], t->done[1], t->incomplete, t->wrong, t->total,
               done ? t->total / done : 0, ma, mr, t->done[0] ? t->t[0][0] : 0, t->done[1] ? t->t[1][0] : 0, ms,
               t->start[0]);
        wrong += t->wrong;
    }
    return wrong ? 1 : 0;
}
