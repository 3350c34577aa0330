/* Best, median and 90th percentile of a set of per-step times (sorts them in place). */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H
#include <stdlib.h>

struct stats { double best, median, p90; };

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentiles, the same definition as run.py's. */
static struct stats stats_of(double *t, size_t n) {
    qsort(t, n, sizeof *t, cmp_double);
    struct stats s = { t[0], t[(n - 1) / 2], t[(size_t)(0.9 * (double)(n - 1) + 0.5)] };
    return s;
}
#endif
