/* The exact-arithmetic floor of an fp32 Adam step: torch's update with IEEE sqrtf and two
 * divisions, no FMA contraction, over a working set that stays in L1 (2048 params x 4 arrays
 * = 32 KiB per thread), so memory costs nothing and the divider decides. No correctly
 * rounded Adam can beat it on this CPU; in cache it is the floor, not the memory roofline.
 * Build: cc -O3 -march=native -ffp-contract=off -fno-math-errno -fopenmp -lm
 * Usage: exactfloor THREADS [BLOCKS] -> "exactfloor THREADS best median p90" (ns/param). */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "stats.h"

enum { N = 2048, SWEEPS = 64 };   /* one block: 64 sweeps of 2048 params per thread */

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

/* Kept out of line so the compiler cannot fold sweeps together or hoist work out of them. */
__attribute__((noinline)) static void sweep(float *restrict p, const float *restrict g,
                                            float *restrict m, float *restrict v) {
    const float w1 = 0.1f, b2 = 0.999f, omb2 = 0.001f, bc2 = 0.03162278f, eps = 1e-8f, neg = -1e-3f;
    for (int i = 0; i < N; i++) {
        float gi = g[i], mi = m[i] + w1 * (gi - m[i]), vi = v[i] * b2 + (omb2 * gi) * gi;
        m[i] = mi; v[i] = vi; p[i] = p[i] + (neg * mi) / (sqrtf(vi) / bc2 + eps);
    }
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1, blocks = argc > 2 ? atoi(argv[2]) : 2000;
    if (threads < 1 || blocks < 10) { fprintf(stderr, "usage: %s THREADS [BLOCKS>=10]\n", argv[0]); return 2; }
    double *per = malloc(sizeof *per * blocks);
    float check = 0;
    omp_set_num_threads(threads);
    #pragma omp parallel reduction(+ : check)
    {
        float *p = aligned_alloc(64, N * 4), *g = aligned_alloc(64, N * 4);
        float *m = aligned_alloc(64, N * 4), *v = aligned_alloc(64, N * 4);
        for (int i = 0; i < N; i++) { p[i] = 1; g[i] = 0.01f * (i % 7 - 3); m[i] = 0; v[i] = 0; }
        for (int b = -blocks / 10; b < blocks; b++) {
            double t0 = 0;
            #pragma omp barrier
            #pragma omp master
            t0 = now();
            for (int s = 0; s < SWEEPS; s++) sweep(p, g, m, v);
            #pragma omp barrier
            #pragma omp master
            if (b >= 0) per[b] = (now() - t0) / ((double)SWEEPS * N * threads) * 1e9;
        }
        check += p[0];
        free(p); free(g); free(m); free(v);
    }
    struct stats s = stats_of(per, (size_t)blocks);
    printf("exactfloor %d %.4f %.4f %.4f\n", threads, s.best, s.median, s.p90);
    return check < -1e30f;
}
