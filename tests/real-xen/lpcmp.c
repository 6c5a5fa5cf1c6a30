/* lpcmp: compare a dump ("count N" + "<name>\t<state>\t<rc>\t<hex>") with the expectation.
 *
 *   lpcmp EXPECTED ACTUAL              exit 0 if identical, 1 with the first difference
 *   lpcmp --consistent EXPECTED CHURN ACTUAL   snapshot taken during churn (lpcheck.h)
 *   lpcmp --flip-meta IN OUT           copy IN to OUT with one metadata hex digit changed
 *                                      (in the first entry that has metadata)
 */
#include "lpcheck.h"

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "--flip-meta")) {
        struct lp_table t;
        if (lp_table_load(&t, argv[2])) return 2;
        FILE *o = fopen(argv[3], "w");
        if (!o) { perror(argv[3]); return 2; }
        int flipped = 0;
        fprintf(o, "count %ld\n", t.count);
        for (size_t i = 0; i < t.n; i++) {
            char *hex = strrchr(t.e[i].rest, '\t');
            if (!flipped && hex && hex[1]) {
                size_t k = strlen(hex) / 2;     /* somewhere in the middle */
                hex[k] = hex[k] == '0' ? '1' : '0';
                flipped = 1;
                fprintf(stderr, "lpcmp: flipped metadata hex digit %zu of %s\n", k, t.e[i].name);
            }
            fprintf(o, "%s\t%s\n", t.e[i].name, t.e[i].rest);
        }
        fclose(o);
        return flipped ? 0 : 2;
    }
    if (argc == 5 && !strcmp(argv[1], "--consistent")) {
        struct lp_table e, c, g;
        char why[600];
        int nch;
        if (lp_table_load(&e, argv[2]) || lp_table_load(&c, argv[3]) || lp_table_load(&g, argv[4]))
            return 2;
        if (lp_consistent(&e, &c, &g, why, sizeof why, &nch)) {
            printf("TORN %s\n", why);
            return 1;
        }
        printf("CONSISTENT %zu entries, %d churn\n", g.n, nch);
        return 0;
    }
    if (argc == 3) {
        struct lp_table e, g;
        char why[600];
        if (lp_table_load(&e, argv[1]) || lp_table_load(&g, argv[2])) return 2;
        if (lp_compare(&e, &g, why, sizeof why)) {
            printf("MISMATCH %s\n", why);
            return 1;
        }
        printf("MATCH %zu entries\n", g.n);
        return 0;
    }
    fprintf(stderr, "usage: lpcmp EXPECTED ACTUAL | lpcmp --flip-meta IN OUT\n");
    return 2;
}
