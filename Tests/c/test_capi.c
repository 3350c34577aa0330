/* C-ABI test: uses only include/swiftadam.h and libSwiftAdam.so.
 * Life cycle, numerics against a double reference, skip-nonfinite, the contiguous step, moments,
 * serialize/deserialize/save/load with bit-identical continuation, error codes. */
#include "swiftadam.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
/* FNV-1a over every final parameter of the numerics tests: equal across SWIFTADAM_ISA
 * values iff every kernel path computed bit-identical trajectories (make test-c compares). */
static uint64_t trajectory_hash = 1469598103934665603ull;
static void hash_floats(const float *x, size_t n) {
    const unsigned char *b = (const unsigned char *)x;
    for (size_t i = 0; i < n * sizeof(float); i++) { trajectory_hash ^= b[i]; trajectory_hash *= 1099511628211ull; }
}

static unsigned long long rng = 88172645463325252ull;
static double urand(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (rng >> 11) * (1.0 / 9007199254740992.0); }
/* gradients spanning 1e-4..10 in magnitude, both signs */
static float grand(void) { double mag = pow(10.0, -4.0 + 5.0 * urand()); return (float)(urand() < 0.5 ? -mag : mag); }

typedef struct { double lr, b1, b2, eps, wd; uint32_t flags; } hp;

/* float64 reference of the documented formula (one tensor). */
static void ref_step(double *p, const float *g, double *m, double *v, double *vmax, size_t n, long t, hp h) {
    int ams = h.flags & SWIFTADAM_FLAG_AMSGRAD, dec = h.flags & SWIFTADAM_FLAG_DECOUPLED_WEIGHT_DECAY;
    int maxi = h.flags & SWIFTADAM_FLAG_MAXIMIZE, bc = !(h.flags & SWIFTADAM_FLAG_NO_BIAS_CORRECTION);
    double bc1 = bc ? 1 - pow(h.b1, (double)t) : 1, bc2 = bc ? 1 - pow(h.b2, (double)t) : 1;
    for (size_t i = 0; i < n; i++) {
        double gi = maxi ? -(double)g[i] : (double)g[i];
        if (h.wd != 0 && !dec) gi += h.wd * p[i];
        if (h.wd != 0 && dec) p[i] *= 1 - h.lr * h.wd;
        m[i] = h.b1 * m[i] + (1 - h.b1) * gi;
        v[i] = h.b2 * v[i] + (1 - h.b2) * gi * gi;
        double vh = v[i];
        if (ams) { if (v[i] > vmax[i]) vmax[i] = v[i]; vh = vmax[i]; }
        p[i] -= (h.lr / bc1) * m[i] / (sqrt(vh) / sqrt(bc2) + h.eps);
    }
}

static void test_numerics(uint32_t flags, double wd) {
    enum { N = 1000, STEPS = 300 };
    hp h = {1e-2, 0.9, 0.999, 1e-8, wd, flags};
    swiftadam_config cfg;
    CHECK_STATUS(swiftadam_config_init(&cfg, sizeof cfg), SWIFTADAM_OK);
    cfg.lr = h.lr; cfg.weight_decay = wd; cfg.flags = flags;
    size_t len = N;
    swiftadam_state *s = NULL;
    CHECK_STATUS(swiftadam_create(&len, 1, &cfg, &s), SWIFTADAM_OK);
    float *p = malloc(N * sizeof(float)), *g = malloc(N * sizeof(float));
    double *pr = calloc(N, 8), *m = calloc(N, 8), *v = calloc(N, 8), *vm = calloc(N, 8);
    for (int i = 0; i < N; i++) { p[i] = (float)(urand() * 2 - 1); pr[i] = p[i]; }
    for (long t = 1; t <= STEPS; t++) {
        for (int i = 0; i < N; i++) g[i] = grand();
        CHECK_STATUS(swiftadam_step_tensor(s, p, g, N, 0), SWIFTADAM_OK);
        ref_step(pr, g, m, v, vm, N, t, h);
    }
    hash_floats(p, N);
    /* Norm-wise relative error (element-wise is meaningless for params that cross 0),
     * plus each element within 1e-4 of the parameter scale. */
    double num = 0, den = 0, worst = 0;
    for (int i = 0; i < N; i++) {
        num += (p[i] - pr[i]) * (p[i] - pr[i]);
        den += pr[i] * pr[i];
        if (fabs(p[i] - pr[i]) > worst) worst = fabs(p[i] - pr[i]);
    }
    double rel = sqrt(num / den), scale = sqrt(den / N);
    CHECK(rel <= 1e-4, "flags=0x%x wd=%g: relative error %.3g after %d steps", flags, wd, rel, STEPS);
    CHECK(worst <= 1e-4 * scale, "flags=0x%x wd=%g: worst element error %.3g vs scale %.3g", flags, wd, worst, scale);
    printf("numerics flags=0x%x wd=%g: relative error %.2e, worst element %.2e (scale %.2f)\n", flags, wd, rel, worst, scale);
    uint64_t step = 0;
    CHECK_STATUS(swiftadam_tensor_step(s, 0, &step), SWIFTADAM_OK);
    CHECK(step == STEPS, "step count %llu", (unsigned long long)step);
    CHECK_STATUS(swiftadam_free(s), SWIFTADAM_OK);
    free(p); free(g); free(pr); free(m); free(v); free(vm);
}

static swiftadam_state *make_group(const size_t *lens, size_t n, uint32_t flags) {
    swiftadam_config cfg;
    swiftadam_config_init(&cfg, sizeof cfg);
    cfg.flags = flags;
    swiftadam_state *s = NULL;
    CHECK_STATUS(swiftadam_create(lens, n, &cfg, &s), SWIFTADAM_OK);
    return s;
}

static void test_group_and_checkpoints(void) {
    size_t lens[3] = {5, 0, 37};
    float a[5], b[1], c[37], ga[5], gc[37];
    for (int i = 0; i < 5; i++) { a[i] = (float)i; ga[i] = 0.1f * (float)(i + 1); }
    for (int i = 0; i < 37; i++) { c[i] = (float)i / 7; gc[i] = grand(); }
    float *params[3] = {a, b, c};
    const float *grads[3] = {ga, NULL, gc};
    swiftadam_state *s = make_group(lens, 3, SWIFTADAM_FLAG_AMSGRAD);
    size_t n = 0;
    CHECK_STATUS(swiftadam_num_tensors(s, &n), SWIFTADAM_OK);
    CHECK(n == 3, "num_tensors %zu", n);
    for (int k = 0; k < 5; k++) CHECK_STATUS(swiftadam_step(s, params, grads, 3, 0), SWIFTADAM_OK);
    uint64_t st = 99;
    CHECK_STATUS(swiftadam_tensor_step(s, 1, &st), SWIFTADAM_OK);
    CHECK(st == 0, "tensor with NULL grad was stepped: %llu", (unsigned long long)st);

    /* serialize -> deserialize, continue both: bit-identical */
    size_t size = 0, written = 0;
    CHECK_STATUS(swiftadam_serialized_size(s, &size), SWIFTADAM_OK);
    unsigned char *buf = malloc(size);
    CHECK_STATUS(swiftadam_serialize(s, buf, size - 1, &written), SWIFTADAM_ERR_BUFFER_TOO_SMALL);
    CHECK_STATUS(swiftadam_serialize(s, buf, size, &written), SWIFTADAM_OK);
    CHECK(written == size, "written %zu size %zu", written, size);
    swiftadam_state *r = NULL;
    CHECK_STATUS(swiftadam_deserialize(buf, size, lens, 3, &r), SWIFTADAM_OK);
    size_t wrong[3] = {5, 0, 36};
    swiftadam_state *bad = NULL;
    CHECK_STATUS(swiftadam_deserialize(buf, size, wrong, 3, &bad), SWIFTADAM_ERR_SIZE_MISMATCH);
    CHECK(bad == NULL, "out written on failure");

    const char *path = "swiftadam_c_test.ckpt";
    CHECK_STATUS(swiftadam_save(s, path), SWIFTADAM_OK);
    CHECK(access("swiftadam_c_test.ckpt.tmp", F_OK) != 0, "temp file left behind");
    swiftadam_state *l = NULL;
    CHECK_STATUS(swiftadam_load(path, lens, 3, &l), SWIFTADAM_OK);

    float a2[5], c2[37], a3[5], c3[37];
    memcpy(a2, a, sizeof a); memcpy(c2, c, sizeof c); memcpy(a3, a, sizeof a); memcpy(c3, c, sizeof c);
    float *p2[3] = {a2, b, c2}, *p3[3] = {a3, b, c3};
    for (int k = 0; k < 10; k++) {
        CHECK_STATUS(swiftadam_step(s, params, grads, 3, 0), SWIFTADAM_OK);
        CHECK_STATUS(swiftadam_step(r, p2, grads, 3, 0), SWIFTADAM_OK);
        CHECK_STATUS(swiftadam_step(l, p3, grads, 3, 0), SWIFTADAM_OK);
    }
    CHECK(memcmp(a, a2, sizeof a) == 0 && memcmp(c, c2, sizeof c) == 0, "deserialized trajectory differs");
    CHECK(memcmp(a, a3, sizeof a) == 0 && memcmp(c, c3, sizeof c) == 0, "loaded trajectory differs");

    /* corrupt bytes are rejected with the documented codes */
    buf[0] ^= 1;
    CHECK_STATUS(swiftadam_deserialize(buf, size, NULL, 0, &bad), SWIFTADAM_ERR_BAD_MAGIC);
    buf[0] ^= 1;
    buf[size / 2] ^= 0x10;
    CHECK_STATUS(swiftadam_deserialize(buf, size, NULL, 0, &bad), SWIFTADAM_ERR_CHECKSUM);
    buf[size / 2] ^= 0x10;
    CHECK_STATUS(swiftadam_deserialize(buf, size - 8, NULL, 0, &bad), SWIFTADAM_ERR_CORRUPT);
    CHECK_STATUS(swiftadam_deserialize(buf, 3, NULL, 0, &bad), SWIFTADAM_ERR_CORRUPT);
    CHECK_STATUS(swiftadam_load("/nonexistent/dir/x.ckpt", NULL, 0, &bad), SWIFTADAM_ERR_IO);
    CHECK_STATUS(swiftadam_save(s, "/nonexistent/dir/x.ckpt"), SWIFTADAM_ERR_IO);
    CHECK(strstr(swiftadam_last_error(), "/nonexistent/dir/x.ckpt") != NULL, "message lacks the path");

    /* moments: copy out and back in */
    float mom[37], tiny[2];
    CHECK_STATUS(swiftadam_get_moment(s, 2, SWIFTADAM_MOMENT_MAX_EXP_AVG_SQ, mom, 37), SWIFTADAM_OK);
    CHECK_STATUS(swiftadam_get_moment(s, 2, SWIFTADAM_MOMENT_EXP_AVG, tiny, 2), SWIFTADAM_ERR_BUFFER_TOO_SMALL);
    CHECK_STATUS(swiftadam_set_moment(r, 2, SWIFTADAM_MOMENT_EXP_AVG, mom, 36), SWIFTADAM_ERR_SIZE_MISMATCH);
    CHECK_STATUS(swiftadam_get_moment(s, 2, 7, mom, 37), SWIFTADAM_ERR_INVALID_ARGUMENT);

    unlink(path);
    free(buf);
    CHECK_STATUS(swiftadam_free(s), SWIFTADAM_OK);
    CHECK_STATUS(swiftadam_free(r), SWIFTADAM_OK);
    CHECK_STATUS(swiftadam_free(l), SWIFTADAM_OK);
    CHECK_STATUS(swiftadam_free(s), SWIFTADAM_ERR_INVALID_HANDLE);  /* double free is detected */
}

static void test_skip_nonfinite(void) {
    size_t len = 4;
    swiftadam_state *s = make_group(&len, 1, 0);
    float p[4] = {1, 2, 3, 4}, g[4] = {0.5f, NAN, 1, 1}, before[4];
    memcpy(before, p, sizeof p);
    CHECK_STATUS(swiftadam_step_tensor(s, p, g, 4, SWIFTADAM_STEP_SKIP_NONFINITE), SWIFTADAM_STEP_SKIPPED);
    CHECK(memcmp(p, before, sizeof p) == 0, "params changed by a skipped step");
    uint64_t st = 9;
    swiftadam_tensor_step(s, 0, &st);
    CHECK(st == 0, "skipped step counted");
    g[1] = INFINITY;
    CHECK_STATUS(swiftadam_step_tensor(s, p, g, 4, SWIFTADAM_STEP_SKIP_NONFINITE), SWIFTADAM_STEP_SKIPPED);
    g[1] = 2;
    CHECK_STATUS(swiftadam_step_tensor(s, p, g, 4, SWIFTADAM_STEP_SKIP_NONFINITE), SWIFTADAM_OK);
    CHECK(p[0] < 1, "param did not move");
    swiftadam_free(s);
}

/* swiftadam_step_contiguous against swiftadam_step with pointers into the same kind of
 * buffers: the same status, params and serialized state after every step, on the
 * single-threaded and the parallel path (one tensor above the 131072-element threshold),
 * with skipped steps, zero-length tensors and a refused step at the 2^53 limit. */
static void test_contiguous(void) {
    enum { NT = 6, STEPS = 6 };
    const size_t lens[NT] = {5, 0, 37, 1, 140000, 3};
    size_t total = 0, start[NT];
    for (int i = 0; i < NT; i++) { start[i] = total; total += lens[i]; }
    float *pa = malloc(total * sizeof *pa), *pc = malloc(total * sizeof *pc), *g = malloc(total * sizeof *g);
    unsigned char *sa = NULL, *sc = NULL;
    for (size_t k = 0; k < total; k++) pa[k] = pc[k] = (float)(urand() * 2 - 1);
    float *params[NT];
    const float *grads[NT];
    for (int i = 0; i < NT; i++) { params[i] = pa + start[i]; grads[i] = g + start[i]; }
    uint32_t flags[] = {SWIFTADAM_FLAG_AMSGRAD, SWIFTADAM_FLAG_DECOUPLED_WEIGHT_DECAY};
    for (size_t f = 0; f < 2; f++) {
        swiftadam_state *a = make_group(lens, NT, flags[f]), *c = make_group(lens, NT, flags[f]);
        CHECK_STATUS(swiftadam_set_num_threads(a, f + 1), SWIFTADAM_OK);
        CHECK_STATUS(swiftadam_set_num_threads(c, f + 1), SWIFTADAM_OK);
        size_t size = 0, na = 0, nc = 0;
        CHECK_STATUS(swiftadam_serialized_size(a, &size), SWIFTADAM_OK);
        sa = realloc(sa, size); sc = realloc(sc, size);
        for (int k = 0; k < STEPS; k++) {
            for (size_t e = 0; e < total; e++) g[e] = grand();
            if (k == 3) g[total - 1] = NAN;   /* in the last tensor, with the skip flag */
            uint32_t sf = k % 2 ? SWIFTADAM_STEP_SKIP_NONFINITE : 0;
            int32_t ra = swiftadam_step(a, params, grads, NT, sf), rc = swiftadam_step_contiguous(c, pc, g, sf);
            CHECK(ra == rc, "step %d: swiftadam_step %s, swiftadam_step_contiguous %s", k,
                  swiftadam_status_name(ra), swiftadam_status_name(rc));
            CHECK(ra == (k == 3 ? SWIFTADAM_STEP_SKIPPED : SWIFTADAM_OK), "step %d: %s", k, swiftadam_status_name(ra));
            CHECK(memcmp(pa, pc, total * sizeof *pa) == 0, "step %d flags %u: params differ", k, flags[f]);
            CHECK_STATUS(swiftadam_serialize(a, sa, size, &na), SWIFTADAM_OK);
            CHECK_STATUS(swiftadam_serialize(c, sc, size, &nc), SWIFTADAM_OK);
            CHECK(na == nc && memcmp(sa, sc, na) == 0, "step %d flags %u: states differ", k, flags[f]);
        }
        hash_floats(pc, total);
        for (int i = 0; i < NT; i++) {   /* every tensor, the empty ones too, was stepped */
            uint64_t st = 0;
            CHECK_STATUS(swiftadam_tensor_step(c, (size_t)i, &st), SWIFTADAM_OK);
            CHECK(st == STEPS - 1, "tensor %d: %llu steps, want %d", i, (unsigned long long)st, STEPS - 1);
        }
        /* all or nothing: the last tensor at the limit refuses the whole step */
        CHECK_STATUS(swiftadam_set_tensor_step(c, NT - 1, (uint64_t)1 << 53), SWIFTADAM_OK);
        CHECK_STATUS(swiftadam_serialize(c, sa, size, &na), SWIFTADAM_OK);
        memcpy(pa, pc, total * sizeof *pa);
        CHECK_STATUS(swiftadam_step_contiguous(c, pc, g, 0), SWIFTADAM_ERR_OVERFLOW);
        CHECK_STATUS(swiftadam_serialize(c, sc, size, &nc), SWIFTADAM_OK);
        CHECK(memcmp(pa, pc, total * sizeof *pa) == 0 && na == nc && memcmp(sa, sc, na) == 0,
              "a refused contiguous step changed something");
        CHECK_STATUS(swiftadam_free(a), SWIFTADAM_OK);
        CHECK_STATUS(swiftadam_free(c), SWIFTADAM_OK);
        CHECK_STATUS(swiftadam_step_contiguous(c, pc, g, 0), SWIFTADAM_ERR_INVALID_HANDLE);
    }
    free(pa); free(pc); free(g); free(sa); free(sc);
}

static void test_errors(void) {
    swiftadam_state *s = NULL;
    size_t len = 8, zero = 0;
    swiftadam_config cfg;
    swiftadam_config_init(&cfg, sizeof cfg);
    CHECK_STATUS(swiftadam_create(NULL, 1, NULL, &s), SWIFTADAM_ERR_NULL_POINTER);
    CHECK_STATUS(swiftadam_create(&len, 1, NULL, NULL), SWIFTADAM_ERR_NULL_POINTER);
    CHECK_STATUS(swiftadam_create(&len, 0, NULL, &s), SWIFTADAM_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(swiftadam_create(&len, SIZE_MAX, NULL, &s), SWIFTADAM_ERR_INVALID_ARGUMENT);
    size_t huge = SIZE_MAX / 4;
    CHECK_STATUS(swiftadam_create(&huge, 1, NULL, &s), SWIFTADAM_ERR_OVERFLOW);
    huge = SIZE_MAX;
    CHECK_STATUS(swiftadam_create(&huge, 1, NULL, &s), SWIFTADAM_ERR_OVERFLOW);
    huge = (size_t)1 << 50;   /* fits in size_t, cannot be allocated */
    CHECK_STATUS(swiftadam_create(&huge, 1, NULL, &s), SWIFTADAM_ERR_OUT_OF_MEMORY);
    CHECK(s == NULL, "out written on failure");
    swiftadam_config c = cfg; c.lr = -1;
    CHECK_STATUS(swiftadam_create(&len, 1, &c, &s), SWIFTADAM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(swiftadam_last_error(), "learning rate") != NULL, "message: %s", swiftadam_last_error());
    c = cfg; c.lr = NAN;
    CHECK_STATUS(swiftadam_create(&len, 1, &c, &s), SWIFTADAM_ERR_INVALID_ARGUMENT);
    c = cfg; c.beta1 = 1.0;
    CHECK_STATUS(swiftadam_create(&len, 1, &c, &s), SWIFTADAM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(swiftadam_last_error(), "index 0") != NULL, "message: %s", swiftadam_last_error());
    c = cfg; c.beta2 = -0.1;
    CHECK_STATUS(swiftadam_create(&len, 1, &c, &s), SWIFTADAM_ERR_INVALID_ARGUMENT);
    c = cfg; c.eps = -1;
    CHECK_STATUS(swiftadam_create(&len, 1, &c, &s), SWIFTADAM_ERR_INVALID_ARGUMENT);
    c = cfg; c.weight_decay = NAN;
    CHECK_STATUS(swiftadam_create(&len, 1, &c, &s), SWIFTADAM_ERR_INVALID_ARGUMENT);
    c = cfg; c.flags = 1u << 20;
    CHECK_STATUS(swiftadam_create(&len, 1, &c, &s), SWIFTADAM_ERR_UNSUPPORTED);
    c = cfg; c.struct_size = 8;
    CHECK_STATUS(swiftadam_create(&len, 1, &c, &s), SWIFTADAM_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(swiftadam_create(&zero, 1, &cfg, &s), SWIFTADAM_OK);   /* an empty tensor is fine */
    float p = 0, g = 0;
    CHECK_STATUS(swiftadam_step_tensor(s, &p, &g, 1, 0), SWIFTADAM_ERR_SIZE_MISMATCH);
    CHECK_STATUS(swiftadam_step_tensor(s, &p, &g, 0, 1u << 9), SWIFTADAM_ERR_UNSUPPORTED);
    CHECK_STATUS(swiftadam_set_lr(s, -0.5), SWIFTADAM_ERR_INVALID_ARGUMENT);
    c = cfg; c.flags = SWIFTADAM_FLAG_AMSGRAD;
    CHECK_STATUS(swiftadam_set_config(s, &c), SWIFTADAM_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(swiftadam_set_tensor_step(s, 0, (1ull << 53) + 1), SWIFTADAM_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(swiftadam_tensor_length(s, 1, &len), SWIFTADAM_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(swiftadam_step(s, NULL, NULL, 1, 0), SWIFTADAM_ERR_NULL_POINTER);
    float *pp[1] = {&p}; const float *gg[1] = {&g};
    CHECK_STATUS(swiftadam_step(s, pp, gg, 2, 0), SWIFTADAM_ERR_SIZE_MISMATCH);
    CHECK_STATUS(swiftadam_free(s), SWIFTADAM_OK);
    CHECK_STATUS(swiftadam_free(NULL), SWIFTADAM_OK);
    int not_a_state = 0;
    CHECK_STATUS(swiftadam_step_tensor((swiftadam_state *)&not_a_state, &p, &g, 1, 0), SWIFTADAM_ERR_INVALID_HANDLE);
    CHECK(strcmp(swiftadam_status_name(SWIFTADAM_ERR_BUSY), "SWIFTADAM_ERR_BUSY") == 0, "status name");
    CHECK(strcmp(swiftadam_status_name(12345), "SWIFTADAM_UNKNOWN_STATUS") == 0, "unknown status name");
    /* The documented enumeration: the defined codes are exactly [STATUS_MIN, STATUS_MAX]. */
    int32_t lo = 0, hi = 0;
    while (strcmp(swiftadam_status_name(lo - 1), "SWIFTADAM_UNKNOWN_STATUS") != 0) lo--;
    while (strcmp(swiftadam_status_name(hi + 1), "SWIFTADAM_UNKNOWN_STATUS") != 0) hi++;
    CHECK(lo == SWIFTADAM_STATUS_MIN && hi == SWIFTADAM_STATUS_MAX, "status names cover [%d, %d], header says [%d, %d]",
          lo, hi, SWIFTADAM_STATUS_MIN, SWIFTADAM_STATUS_MAX);
    CHECK(strcmp(swiftadam_status_name(SWIFTADAM_ERR_UNSUPPORTED), "SWIFTADAM_ERR_UNSUPPORTED") == 0 &&
          strcmp(swiftadam_status_name(SWIFTADAM_STEP_SKIPPED), "SWIFTADAM_STEP_SKIPPED") == 0, "range ends named");
}

int main(void) {
    CHECK(swiftadam_abi_version() == SWIFTADAM_ABI_VERSION, "ABI %u vs header %d", swiftadam_abi_version(), SWIFTADAM_ABI_VERSION);
    CHECK(swiftadam_version_number() == SWIFTADAM_VERSION_NUMBER, "version %u", swiftadam_version_number());
    CHECK(strcmp(swiftadam_version_string(), SWIFTADAM_VERSION_STRING) == 0, "version %s", swiftadam_version_string());
    printf("swiftadam %s, backend %s\n", swiftadam_version_string(), swiftadam_backend_name());
    const char *isa = getenv("SWIFTADAM_ISA");
#if defined(__x86_64__)
    /* scalar, simd and sse2 run on every x86-64 CPU, so a request for them must be honoured */
    if (isa && (!strcmp(isa, "scalar") || !strcmp(isa, "simd") || !strcmp(isa, "sse2")))
        CHECK(strcmp(swiftadam_backend_name(), isa) == 0, "SWIFTADAM_ISA=%s but backend is %s", isa, swiftadam_backend_name());
#endif
    (void)isa;
    uint32_t combos[] = {0, SWIFTADAM_FLAG_AMSGRAD, SWIFTADAM_FLAG_MAXIMIZE, SWIFTADAM_FLAG_NO_BIAS_CORRECTION,
                         SWIFTADAM_FLAG_AMSGRAD | SWIFTADAM_FLAG_MAXIMIZE};
    for (size_t k = 0; k < sizeof combos / sizeof *combos; k++) {
        test_numerics(combos[k], 0);
        test_numerics(combos[k], 1e-2);
        test_numerics(combos[k] | SWIFTADAM_FLAG_DECOUPLED_WEIGHT_DECAY, 1e-2);
    }
    test_group_and_checkpoints();
    test_skip_nonfinite();
    test_contiguous();
    test_errors();
    printf("trajectory hash %016llx\n", (unsigned long long)trajectory_hash);
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}
