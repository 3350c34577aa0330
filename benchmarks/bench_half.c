/* 16-bit params with a float32 master: `bench_half IMPL THREADS [REPS]` on one tensor of 16M.
 * IMPL: swiftadam-bf16 (bfloat16 params and grads), swiftadam-bf16-f32grad (float32 grads),
 * swiftadam-f16 (float16 params and grads), roofline-bf16, roofline-bf16-f32grad: the same
 * streams with trivial math (bfloat16 widened by a shift, narrowed by truncation), OpenMP,
 * buffers allocated the same way.
 * Bytes per param: param 2 + 2, grad 2 (or 4), master 4 + 4, moments 8 + 8 = 30 (32).
 * Prints: impl threads ns_per_param gb_per_s bytes_per_param */
#define _GNU_SOURCE
#include "swiftadam.h"
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

/* As bench_adam.c and SwiftAdam's own storage: 2 MiB-aligned, MADV_HUGEPAGE. */
static void *alloc_bytes(size_t bytes) {
    size_t align = 2u << 20, rounded = (bytes + align - 1) / align * align;
    void *p = aligned_alloc(align, rounded);
    if (!p) { perror("aligned_alloc"); exit(2); }
    madvise(p, rounded, MADV_HUGEPAGE);
    memset(p, 0, rounded);
    return p;
}

static float widen_bf16(uint16_t h) { uint32_t x = (uint32_t)h << 16; float f; memcpy(&f, &x, 4); return f; }
static uint16_t trunc_bf16(float f) { uint32_t x; memcpy(&x, &f, 4); return (uint16_t)(x >> 16); }

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s swiftadam-bf16|swiftadam-bf16-f32grad|swiftadam-f16|roofline-bf16[-f32grad] THREADS [REPS]\n", argv[0]); return 2; }
    const char *impl = argv[1];
    int threads = atoi(argv[2]), reps = argc > 3 ? atoi(argv[3]) : 30;
    size_t n = 16u << 20;
    int roof = !strncmp(impl, "roofline", 8), g32 = strstr(impl, "-f32grad") != NULL;
    uint32_t dtype = strstr(impl, "-f16") ? SWIFTADAM_DTYPE_FLOAT16 : SWIFTADAM_DTYPE_BFLOAT16;
    double bytes_per_param = 2 + 2 + (g32 ? 4 : 2) + 4 + 4 + 8 + 8;
    uint16_t *p = alloc_bytes(n * 2), *g = alloc_bytes(n * 2);
    float *gf = alloc_bytes(n * 4);
    for (size_t k = 0; k < n; k++) {
        float gk = 0.001f * (float)(k % 13) - 0.006f;
        gf[k] = gk;
        g[k] = dtype == SWIFTADAM_DTYPE_FLOAT16 ? 0x1400 + (uint16_t)(k % 13) : trunc_bf16(gk);
        p[k] = dtype == SWIFTADAM_DTYPE_FLOAT16 ? 0x3C00 : 0x3F80;   /* 1.0 */
    }
    float *master = NULL, *m = NULL, *v = NULL;
    swiftadam_state *s = NULL;
    if (roof) {
        master = alloc_bytes(n * 4); m = alloc_bytes(n * 4); v = alloc_bytes(n * 4);
        for (size_t k = 0; k < n; k++) master[k] = 1.0f;
    } else {
        swiftadam_config cfg;
        swiftadam_config_init(&cfg, sizeof cfg);
        cfg.dtype = dtype;
        const uint16_t *pp[1] = {p};
        if (swiftadam_create_half(&n, 1, &cfg, pp, &s) != SWIFTADAM_OK) { fprintf(stderr, "create: %s\n", swiftadam_last_error()); return 1; }
        swiftadam_set_num_threads(s, (size_t)threads);
    }
    omp_set_num_threads(threads);
    uint16_t *params[1] = {p};
    const uint16_t *grads[1] = {g};
    const float *grads32[1] = {gf};
    double best = 1e30;
    for (int r = -3; r < reps; r++) {
        double t0 = now();
        if (roof) {
            #pragma omp parallel for schedule(static)
            for (size_t k = 0; k < n; k++) {
                float gk = g32 ? gf[k] : widen_bf16(g[k]);
                float mk = m[k] * 0.9f + gk, vk = v[k] * 0.999f + gk;
                m[k] = mk; v[k] = vk;
                float x = master[k] - 1e-9f * (mk + vk);
                master[k] = x;
                p[k] = trunc_bf16(x);
            }
        } else {
            int rc = g32 ? swiftadam_step_half_f32grad(s, params, grads32, 1, 1.0, 0)
                         : swiftadam_step_half(s, params, grads, 1, 1.0, 0);
            if (rc != SWIFTADAM_OK) { fprintf(stderr, "step: %s\n", swiftadam_last_error()); return 1; }
        }
        double t = now() - t0;
        if (r >= 0 && t < best) best = t;
    }
    printf("%s %d %.4f %.1f %.0f\n", impl, threads, best / n * 1e9, bytes_per_param * n / best / 1e9, bytes_per_param);
    swiftadam_free(s);
    return 0;
}
