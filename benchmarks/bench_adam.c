/* One benchmark configuration per process: `bench_adam IMPL WORKLOAD THREADS [REPS]`.
 * IMPL: swiftadam (the C ABI) | roofline (same 28 B/param traffic, trivial math,
 * OpenMP, buffers allocated the same way).  WORKLOAD: large (1 x 16M), group (40 x 27000,
 * 1.08M params, cache-resident), small (1 x 4096), tiny (1000 x 100).
 * Params and grads are 2 MiB-aligned huge pages, like the state's moments; BENCH_PG_OFFSET=k
 * shifts both by k bytes (k = 16 is where glibc's malloc, hence numpy, puts large arrays).
 * Each sample is one block of steps (enough to last ~50 us; one step for large workloads).
 * Prints one line: impl workload threads best median p90 (ns/param over the samples)
 * median_us_per_step peak_rss_mb backend state_bytes_per_param heap_allocations_per_step */
#define _GNU_SOURCE
#include "swiftadam.h"
#include "stats.h"
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Count every heap allocation in the process (these definitions interpose libc's for
 * libSwiftAdam.so too): the step loop must not allocate. */
extern void *__libc_malloc(size_t), *__libc_calloc(size_t, size_t), *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
static volatile long alloc_calls = 0;
void *malloc(size_t n) { __atomic_add_fetch(&alloc_calls, 1, __ATOMIC_RELAXED); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { __atomic_add_fetch(&alloc_calls, 1, __ATOMIC_RELAXED); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { __atomic_add_fetch(&alloc_calls, 1, __ATOMIC_RELAXED); return __libc_realloc(p, n); }
void *memalign(size_t a, size_t n) { __atomic_add_fetch(&alloc_calls, 1, __ATOMIC_RELAXED); return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { return memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n) { void *p = memalign(a, n); if (!p) return 12; *out = p; return 0; }

static long resident_bytes(void) {
    long pages = 0, res = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) { if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0; fclose(f); }
    return res * sysconf(_SC_PAGESIZE);
}

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

/* Same policy as SwiftAdam's moment storage: 2 MiB-aligned + MADV_HUGEPAGE when >= 2 MiB,
 * then shifted by `offset` bytes. */
static float *alloc_floats(size_t n, size_t offset) {
    size_t bytes = n * sizeof(float) + offset, align = bytes >= (2u << 20) ? (2u << 20) : 64;
    size_t rounded = (bytes + align - 1) / align * align;
    char *p = aligned_alloc(align, rounded ? rounded : align);
    if (!p) { perror("aligned_alloc"); exit(2); }
    if (align > 64) madvise(p, rounded, MADV_HUGEPAGE);
    memset(p, 0, rounded);
    return (float *)(p + offset);
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: %s swiftadam|roofline large|group|small|tiny THREADS [REPS]\n", argv[0]); return 2; }
    const char *impl = argv[1], *wl = argv[2];
    int threads = atoi(argv[3]);
    size_t ntens, len;
    if (!strcmp(wl, "large")) { ntens = 1; len = 16u << 20; }
    else if (!strcmp(wl, "group")) { ntens = 40; len = 27000; }
    else if (!strcmp(wl, "small")) { ntens = 1; len = 4096; }
    else if (!strcmp(wl, "tiny")) { ntens = 1000; len = 100; }
    else { fprintf(stderr, "unknown workload %s\n", wl); return 2; }
    size_t total = ntens * len;
    int reps = argc > 4 ? atoi(argv[4]) : (total >= (8u << 20) ? 60 : total >= 100000 ? 600 : 2000);
    int per_block = total >= 100000 ? 1 : (int)(200000 / total);   /* ~50 us per sample */
    const char *off_env = getenv("BENCH_PG_OFFSET");
    size_t pg_offset = off_env ? strtoull(off_env, NULL, 10) : 0;
    double *samples = malloc(sizeof *samples * (size_t)reps);

    float **p = malloc(ntens * sizeof *p), **g = malloc(ntens * sizeof *g);
    float **m = malloc(ntens * sizeof *m), **v = malloc(ntens * sizeof *v);
    size_t *lens = malloc(ntens * sizeof *lens);
    int roof = !strcmp(impl, "roofline");
    for (size_t i = 0; i < ntens; i++) {
        lens[i] = len;
        p[i] = alloc_floats(len, pg_offset); g[i] = alloc_floats(len, pg_offset);
        for (size_t k = 0; k < len; k++) { p[i][k] = 1.0f; g[i][k] = 0.001f * (float)((k * 7 + i) % 13) - 0.006f; }
        if (roof) { m[i] = alloc_floats(len, 0); v[i] = alloc_floats(len, 0); }
    }
    swiftadam_state *s = NULL;
    double state_bytes_per_param = 0;
    if (!roof) {
        swiftadam_state *warmup = NULL;   /* load the runtime's lazy globals first */
        size_t one = 1;
        swiftadam_create(&one, 1, NULL, &warmup);
        swiftadam_free(warmup);
        long before = resident_bytes();
        if (swiftadam_create(lens, ntens, NULL, &s) != SWIFTADAM_OK) { fprintf(stderr, "create: %s\n", swiftadam_last_error()); return 1; }
        /* resident memory the state added (moments are zeroed, so every page is touched) */
        state_bytes_per_param = (double)(resident_bytes() - before) / (double)total;
        swiftadam_set_num_threads(s, (size_t)threads);
    }
    omp_set_num_threads(threads);
    int warm = reps / 10 + 1;
    long allocs_at_start = 0;
    for (int r = -warm; r < reps; r++) {
        if (r == 0) allocs_at_start = alloc_calls;
        double t0 = now();
        for (int k = 0; k < per_block; k++) {
        if (roof) {
            if (ntens == 1) {
                float *P = p[0], *G = g[0], *M = m[0], *V = v[0];
                #pragma omp parallel for simd
                for (size_t k = 0; k < len; k++) { float gi = G[k]; float mi = M[k] * 0.9f + gi; float vi = V[k] * 0.999f + gi; M[k] = mi; V[k] = vi; P[k] = P[k] - 1e-9f * (mi + vi); }
            } else {
                #pragma omp parallel for
                for (size_t i = 0; i < ntens; i++) {
                    float *P = p[i], *G = g[i], *M = m[i], *V = v[i];
                    #pragma omp simd
                    for (size_t k = 0; k < len; k++) { float gi = G[k]; float mi = M[k] * 0.9f + gi; float vi = V[k] * 0.999f + gi; M[k] = mi; V[k] = vi; P[k] = P[k] - 1e-9f * (mi + vi); }
                }
            }
        } else {
            int rc = ntens == 1 ? swiftadam_step_tensor(s, p[0], g[0], len, 0)
                                : swiftadam_step(s, p, (const float *const *)g, ntens, 0);
            if (rc != SWIFTADAM_OK) { fprintf(stderr, "step: %s\n", swiftadam_last_error()); return 1; }
        }
        }
        if (r >= 0) samples[r] = (now() - t0) / per_block / (double)total * 1e9;
    }
    double allocs_per_step = (double)(alloc_calls - allocs_at_start) / ((double)reps * per_block);
    struct stats st = stats_of(samples, (size_t)reps);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%s %s %d %.4f %.4f %.4f %.3f %.1f %s %.3f %.3f\n", impl, wl, threads, st.best, st.median, st.p90,
           st.median * (double)total * 1e-3, ru.ru_maxrss / 1024.0, roof ? "-" : swiftadam_backend_name(),
           state_bytes_per_param, allocs_per_step);
    swiftadam_free(s);
    return 0;
}
