/* Dump-format comparison shared by lpdump.c (in-process loop) and lpcmp.c.
 *
 * Dump format (the same as `xc-livepatch list --format dump`):
 *   count <n>\n
 *   <name>\t<state>\t<rc>\t<metadata lowercase hex>\n   (one per payload, list order)
 */
#ifndef LPCHECK_H
#define LPCHECK_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lp_entry { char *name; char *rest; /* "<state>\t<rc>\t<hex>" */ };
struct lp_table { long count; int has_count; size_t n, cap; struct lp_entry *e; };

static void lp_table_add(struct lp_table *t, const char *line, size_t len)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->e = realloc(t->e, t->cap * sizeof(*t->e));
        if (!t->e) { perror("realloc"); exit(99); }
    }
    char *s = malloc(len + 1);
    if (!s) { perror("malloc"); exit(99); }
    memcpy(s, line, len);
    s[len] = 0;
    char *tab = strchr(s, '\t');
    t->e[t->n].name = s;
    t->e[t->n].rest = tab ? (*tab = 0, tab + 1) : s + len;
    t->n++;
}

/* Parse a dump held in memory. Lines without a tab are kept (rest == "") so that a
 * malformed line shows up as a mismatch. */
static void lp_table_parse(struct lp_table *t, const char *buf, size_t len)
{
    memset(t, 0, sizeof(*t));
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(buf + i, '\n', len - i);
        size_t l = nl ? (size_t)(nl - (buf + i)) : len - i;
        if (!t->has_count && t->n == 0 && l > 6 && !memcmp(buf + i, "count ", 6)) {
            t->count = strtol(buf + i + 6, NULL, 10);
            t->has_count = 1;
        } else {
            lp_table_add(t, buf + i, l);
        }
        i += l + 1;
    }
}

static int lp_table_load(struct lp_table *t, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return -1; }
    size_t cap = 1 << 16, n = 0, r;
    char *buf = malloc(cap);
    while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    lp_table_parse(t, buf, n);
    free(buf);
    return 0;
}

static void lp_table_free(struct lp_table *t)
{
    for (size_t i = 0; i < t->n; i++) free(t->e[i].name);
    free(t->e);
    memset(t, 0, sizeof(*t));
}

static void lp_show(char *out, size_t outlen, const char *s)
{
    snprintf(out, outlen, "%.120s%s", s, strlen(s) > 120 ? "..." : "");
}

/* Exact comparison. Returns 0 if equal, else writes the first difference to why. */
static int lp_compare(const struct lp_table *exp, const struct lp_table *got, char *why, size_t wl)
{
    char a[200], b[200];
    if (!got->has_count) { snprintf(why, wl, "no 'count' line"); return 1; }
    if (got->count != (long)got->n) {
        snprintf(why, wl, "count line says %ld but %zu entries follow", got->count, got->n);
        return 1;
    }
    for (size_t i = 0; i < exp->n && i < got->n; i++) {
        if (strcmp(exp->e[i].name, got->e[i].name)) {
            lp_show(a, sizeof a, exp->e[i].name); lp_show(b, sizeof b, got->e[i].name);
            snprintf(why, wl, "entry %zu: name expected '%s' got '%s'", i, a, b);
            return 1;
        }
        if (strcmp(exp->e[i].rest, got->e[i].rest)) {
            const char *x = exp->e[i].rest, *y = got->e[i].rest;
            size_t k = 0;
            while (x[k] && x[k] == y[k]) k++;
            lp_show(a, sizeof a, x + k); lp_show(b, sizeof b, y + k);
            snprintf(why, wl, "entry %zu (%.60s): state/rc/metadata differ at char %zu of "
                     "'<state>\\t<rc>\\t<hex>': expected '%s' got '%s'", i, exp->e[i].name, k, a, b);
            return 1;
        }
    }
    if (exp->n != got->n) {
        snprintf(why, wl, "expected %zu entries, got %zu", exp->n, got->n);
        return 1;
    }
    return 0;
}

/* Consistency of one snapshot taken while churn payloads come and go: after removing
 * entries whose name is a churn payload (each must match the churn table exactly and
 * appear at most once), what is left must equal the static expectation exactly. */
static int lp_consistent(const struct lp_table *stat, const struct lp_table *churn,
                         const struct lp_table *got, char *why, size_t wl, int *nchurn)
{
    struct lp_table rest = {0};
    int seen[256] = {0}, rc;
    *nchurn = 0;
    if (!got->has_count || got->count != (long)got->n) {
        snprintf(why, wl, "count line %ld vs %zu entries", got->count, got->n);
        return 1;
    }
    rest.has_count = 1;
    rest.e = malloc((got->n + 1) * sizeof(*rest.e));
    for (size_t i = 0; i < got->n; i++) {
        size_t j;
        for (j = 0; j < churn->n && j < 256; j++)
            if (!strcmp(churn->e[j].name, got->e[i].name)) break;
        if (j < churn->n && j < 256) {
            if (seen[j]++) {
                snprintf(why, wl, "entry %zu: churn payload %s listed twice", i, got->e[i].name);
                free(rest.e); return 1;
            }
            if (strcmp(churn->e[j].rest, got->e[i].rest)) {
                snprintf(why, wl, "entry %zu: churn payload %s has wrong state/rc/metadata: %.150s",
                         i, got->e[i].name, got->e[i].rest);
                free(rest.e); return 1;
            }
            (*nchurn)++;
        } else {
            rest.e[rest.n++] = got->e[i];
        }
    }
    rest.count = rest.n;
    rc = lp_compare(stat, &rest, why, wl);
    free(rest.e);
    return rc;
}
#endif
