/* One benchmark configuration per process: `bench_adam IMPL WORKLOAD THREADS [REPS]`.
 * IMPL: swiftadam (the C ABI) | roofline (same 28 B/param traffic, trivial math,
 * OpenMP, buffers allocated the same way), each optionally suffixed -f64 (float64 state and
 * arrays, 56 B/param), and swiftadam also -keras (the keras flavour), e.g. swiftadam-f64-keras.
 * divfloor[-f64]: only torch's square root and two divisions per element, AVX2 (the
 * kernel's vector width), no moment traffic: in cache, the floor of the torch flavour.
 * WORKLOAD: large (1 x 16M), large8m (1 x 8M), group (40 x 27000, 1.08M params,
 * cache-resident), small (1 x 4096), tiny (1000 x 100).
 * Params and grads are 2 MiB-aligned huge pages, like the state's moments; BENCH_PG_OFFSET=k
 * shifts both by k bytes (k = 16 is where glibc's malloc, hence numpy, puts large arrays).
 * Each sample is one step, or for small workloads a block of steps lasting ~50 us.
 * Prints one line: impl workload threads best median p90 (ns/param over the samples)
 * median_us_per_step peak_rss_mb backend state_bytes_per_param heap_allocations_per_step */
#define _GNU_SOURCE
#include "swiftadam.h"
#include "stats.h"
#include <immintrin.h>
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
static void *alloc_bytes(size_t bytes, size_t offset) {
    bytes += offset;
    size_t align = bytes >= (2u << 20) ? (2u << 20) : 64;
    size_t rounded = (bytes + align - 1) / align * align;
    char *p = aligned_alloc(align, rounded ? rounded : align);
    if (!p) { perror("aligned_alloc"); exit(2); }
    if (align > 64) madvise(p, rounded, MADV_HUGEPAGE);
    memset(p, 0, rounded);
    return p + offset;
}

/* The roofline's trivial update over the same four streams, in float or double: one tensor
 * split between the threads (ROOF_PAR) or one tensor per thread (ROOF, in a parallel for). */
#define ROOF_BODY(T) { T gi = G_[k]; T mi = M_[k] * (T)0.9 + gi; T vi = V_[k] * (T)0.999 + gi; \
    M_[k] = mi; V_[k] = vi; P_[k] = P_[k] - (T)1e-9 * (mi + vi); }
#define ROOF_PTRS(T, P, G, M, V) T *P_ = (T *)(P), *G_ = (T *)(G), *M_ = (T *)(M), *V_ = (T *)(V)
#define ROOF(T, P, G, M, V, n) do { ROOF_PTRS(T, P, G, M, V); \
    _Pragma("omp simd") for (size_t k = 0; k < (n); k++) ROOF_BODY(T) } while (0)
#define ROOF_PAR(T, P, G, M, V, n) do { ROOF_PTRS(T, P, G, M, V); \
    _Pragma("omp parallel for simd") for (size_t k = 0; k < (n); k++) ROOF_BODY(T) } while (0)

/* sqrt(v)/c + eps and p + (s*m)/denom: the torch flavour's square root and two divisions,
 * in AVX2 vectors as the kernel does them (n is a multiple of 8 here). */
#define DIVFLOOR(T, W, SUF, VEC)                                                                   \
__attribute__((target("avx2"), noinline)) static void divfloor_##T(T *P, const T *M, const T *V, size_t n) { \
    VEC c = _mm256_set1_##SUF(0.7), e = _mm256_set1_##SUF(1e-8), s = _mm256_set1_##SUF(-1e-3);          \
    for (size_t k = 0; k + W <= n; k += W) {                                                         \
        VEC d = _mm256_add_##SUF(_mm256_div_##SUF(_mm256_sqrt_##SUF(_mm256_loadu_##SUF(V + k)), c), e);  \
        _mm256_storeu_##SUF(P + k, _mm256_add_##SUF(_mm256_loadu_##SUF(P + k),                        \
                                                     _mm256_div_##SUF(_mm256_mul_##SUF(s, _mm256_loadu_##SUF(M + k)), d))); \
    }                                                                                                \
}
DIVFLOOR(float, 8, ps, __m256)
DIVFLOOR(double, 4, pd, __m256d)

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: %s swiftadam|roofline[-f64][-keras] large|large8m|group|small|tiny THREADS [REPS]\n", argv[0]); return 2; }
    const char *impl = argv[1], *wl = argv[2];
    int threads = atoi(argv[3]);
    size_t ntens, len;
    if (!strcmp(wl, "large")) { ntens = 1; len = 16u << 20; }
    else if (!strcmp(wl, "large8m")) { ntens = 1; len = 8u << 20; }
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
    int divf = !strncmp(impl, "divfloor", 8);
    int roof = !strncmp(impl, "roofline", 8) || divf, f64 = strstr(impl, "-f64") != NULL, keras = strstr(impl, "-keras") != NULL;
    size_t esz = f64 ? sizeof(double) : sizeof(float);

    void **p = malloc(ntens * sizeof *p), **g = malloc(ntens * sizeof *g);
    void **m = malloc(ntens * sizeof *m), **v = malloc(ntens * sizeof *v);
    size_t *lens = malloc(ntens * sizeof *lens);
    for (size_t i = 0; i < ntens; i++) {
        lens[i] = len;
        p[i] = alloc_bytes(len * esz, pg_offset); g[i] = alloc_bytes(len * esz, pg_offset);
        for (size_t k = 0; k < len; k++) {
            double gk = 0.001 * (double)((k * 7 + i) % 13) - 0.006;
            if (f64) { ((double *)p[i])[k] = 1.0; ((double *)g[i])[k] = gk; }
            else { ((float *)p[i])[k] = 1.0f; ((float *)g[i])[k] = (float)gk; }
        }
        if (roof) { m[i] = alloc_bytes(len * esz, 0); v[i] = alloc_bytes(len * esz, 0); }
        for (size_t k = 0; divf && k < len; k++) {   /* moments shaped like real ones: m ~ g, v ~ g^2 */
            double gk = 0.001 * (double)((k * 7 + i) % 13) - 0.006;
            if (f64) { ((double *)m[i])[k] = gk; ((double *)v[i])[k] = gk * gk; }
            else { ((float *)m[i])[k] = (float)gk; ((float *)v[i])[k] = (float)(gk * gk); }
        }
    }
    swiftadam_state *s = NULL;
    double state_bytes_per_param = 0;
    if (!roof) {
        swiftadam_state *warmup = NULL;   /* load the runtime's lazy globals first */
        size_t one = 1;
        swiftadam_create(&one, 1, NULL, &warmup);
        swiftadam_free(warmup);
        swiftadam_config cfg;
        swiftadam_config_init(&cfg, sizeof cfg);
        cfg.dtype = f64 ? SWIFTADAM_DTYPE_FLOAT64 : SWIFTADAM_DTYPE_FLOAT32;
        cfg.flavor = keras ? SWIFTADAM_FLAVOR_KERAS : SWIFTADAM_FLAVOR_TORCH;
        long before = resident_bytes();
        if (swiftadam_create(lens, ntens, &cfg, &s) != SWIFTADAM_OK) { fprintf(stderr, "create: %s\n", swiftadam_last_error()); return 1; }
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
        for (int b = 0; b < per_block; b++) {
        if (divf) {
            for (size_t i = 0; i < ntens; i++) {
                if (f64) divfloor_double(p[i], m[i], v[i], len);
                else divfloor_float(p[i], m[i], v[i], len);
            }
        } else if (roof) {
            if (ntens == 1 && f64) {
                ROOF_PAR(double, p[0], g[0], m[0], v[0], len);
            } else if (ntens == 1) {
                ROOF_PAR(float, p[0], g[0], m[0], v[0], len);
            } else {
                #pragma omp parallel for
                for (size_t i = 0; i < ntens; i++) {
                    if (f64) ROOF(double, p[i], g[i], m[i], v[i], len);
                    else ROOF(float, p[i], g[i], m[i], v[i], len);
                }
            }
        } else {
            int rc;
            if (f64) rc = ntens == 1 ? swiftadam_step_tensor_f64(s, p[0], g[0], len, 0)
                                     : swiftadam_step_f64(s, (double *const *)p, (const double *const *)g, ntens, 0);
            else rc = ntens == 1 ? swiftadam_step_tensor(s, p[0], g[0], len, 0)
                                 : swiftadam_step(s, (float *const *)p, (const float *const *)g, ntens, 0);
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
