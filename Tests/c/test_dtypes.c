/* C-ABI test of the float64 entry points and the keras flavour: uses only
 * include/swiftadam.h and libSwiftAdam.so.
 *   - float64 (torch and keras) and float32 keras steps equal, BIT FOR BIT, a C
 *     transcription of the header's formulas in the element type, for every flag combination;
 *   - one trajectory hash per (dtype, flavour): make test-c compares them across SWIFTADAM_ISA;
 *   - thread counts 1, 2, 3 give bit-identical float64 steps;
 *   - a float32 entry point on a float64 state (and back) is SWIFTADAM_ERR_DTYPE_MISMATCH and
 *     changes nothing; dtype is fixed at creation, the flavour may change;
 *   - a caller compiled against version 1 of swiftadam_config (struct_size 56) still works,
 *     and get_config never writes past its struct_size;
 *   - checkpoints: float32 torch is written as format version 1, float64 or keras as version 2,
 *     and a deserialized state continues bit-identically.
 * Build with -ffp-contract=off: the transcriptions must not be fused. */
#include "swiftadam.h"
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* FNV-1a per (dtype, flavour) over final params: make test-c compares them across paths. */
enum { F32_KERAS, F64_TORCH, F64_KERAS, NHASH };
static const char *hash_name[NHASH] = {"float32 keras", "float64 torch", "float64 keras"};
static uint64_t hashes[NHASH] = {1469598103934665603ull, 1469598103934665603ull, 1469598103934665603ull};
static void hash_bytes(int which, const void *x, size_t n) {
    const unsigned char *b = x;
    for (size_t i = 0; i < n; i++) { hashes[which] ^= b[i]; hashes[which] *= 1099511628211ull; }
}

static unsigned long long rng = 0x9E3779B97F4A7C15ull;
static double urand(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (rng >> 11) * (1.0 / 9007199254740992.0); }
static double grand(void) { double mag = pow(10.0, -4.0 + 5.0 * urand()); return urand() < 0.5 ? -mag : mag; }

typedef struct { double lr, b1, b2, eps, wd; uint32_t flags, flavor; } hp;

/* The header's formulas, op by op in element type T (REF_STEP(float) / REF_STEP(double)). */
#define REF_STEP(T, SQRT, POW)                                                                     \
static void ref_step_##T(T *p, const T *g, T *m, T *v, T *vmax, size_t n, long t, hp h) {         \
    int ams = h.flags & SWIFTADAM_FLAG_AMSGRAD, dec = h.flags & SWIFTADAM_FLAG_DECOUPLED_WEIGHT_DECAY; \
    int maxi = h.flags & SWIFTADAM_FLAG_MAXIMIZE, bc = !(h.flags & SWIFTADAM_FLAG_NO_BIAS_CORRECTION); \
    T l2 = (T)h.wd, eps = (T)h.eps, w1 = (T)(1 - h.b1), omb2 = (T)(1 - h.b2);                    \
    /* torch */                                                                                    \
    T decay = (T)(1 - h.lr * h.wd), omw1 = 1 - w1, b2 = (T)h.b2;                                   \
    int high = !(fabs((double)w1) < 0.5);                                                          \
    double bc1 = bc ? 1 - pow(h.b1, (double)t) : 1, bc2 = bc ? 1 - pow(h.b2, (double)t) : 1;       \
    T bc2s = (T)sqrt(bc2), neg = (T)(-(h.lr / bc1));                                               \
    /* keras */                                                                                    \
    T lr = (T)h.lr, b1p = POW((T)h.b1, (T)t), b2p = POW((T)h.b2, (T)t);                            \
    T alpha = bc ? lr * SQRT((T)1 - b2p) / ((T)1 - b1p) : lr;                                      \
    for (size_t i = 0; i < n; i++) {                                                               \
        T gi = maxi ? -g[i] : g[i];                                                                \
        if (h.wd != 0 && !dec) gi = gi + l2 * p[i];                                                \
        if (h.flavor == SWIFTADAM_FLAVOR_TORCH) {                                                  \
            if (h.wd != 0 && dec) p[i] = p[i] * decay;                                             \
            m[i] = high ? gi - (gi - m[i]) * omw1 : m[i] + w1 * (gi - m[i]);                       \
            v[i] = v[i] * b2 + (omb2 * gi) * gi;                                                   \
        } else {                                                                                   \
            if (h.wd != 0 && dec) p[i] = p[i] - p[i] * l2 * lr;                                    \
            m[i] = m[i] + (gi - m[i]) * w1;                                                        \
            v[i] = v[i] + (gi * gi - v[i]) * omb2;                                                 \
        }                                                                                          \
        T vh = v[i];                                                                               \
        if (ams) { vmax[i] = vmax[i] > v[i] ? vmax[i] : v[i]; vh = vmax[i]; }                      \
        if (h.flavor == SWIFTADAM_FLAVOR_TORCH) p[i] = p[i] + (neg * m[i]) / (SQRT(vh) / bc2s + eps); \
        else p[i] = p[i] - (m[i] * alpha) / (SQRT(vh) + eps);                                     \
    }                                                                                              \
}
REF_STEP(float, sqrtf, powf)
REF_STEP(double, sqrt, pow)

static swiftadam_state *create(size_t n, const size_t *lens, hp h, uint32_t dtype) {
    swiftadam_config cfg;
    CHECK_STATUS(swiftadam_config_init(&cfg, sizeof cfg), SWIFTADAM_OK);
    cfg.lr = h.lr; cfg.beta1 = h.b1; cfg.beta2 = h.b2; cfg.eps = h.eps; cfg.weight_decay = h.wd;
    cfg.flags = h.flags; cfg.flavor = h.flavor; cfg.dtype = dtype;
    swiftadam_state *s = NULL;
    CHECK_STATUS(swiftadam_create(lens, n, &cfg, &s), SWIFTADAM_OK);
    return s;
}

static int first_diff(const void *a, const void *b, size_t n, size_t elem) {
    for (size_t i = 0; i < n; i++)
        if (memcmp((const char *)a + i * elem, (const char *)b + i * elem, elem) != 0) return (int)i;
    return -1;
}

/* 100 steps of a 1000-element tensor through the library and through the transcription. */
#define TEST_EXACT(T, SUFFIX, DTYPE)                                                               \
static void exact_##T(hp h, int hash) {                                                            \
    enum { N = 1000, STEPS = 100 };                                                                \
    size_t len = N;                                                                                \
    swiftadam_state *s = create(1, &len, h, DTYPE);                                                \
    T *p = malloc(N * sizeof(T)), *g = malloc(N * sizeof(T)), *pr = malloc(N * sizeof(T));         \
    T *m = calloc(N, sizeof(T)), *v = calloc(N, sizeof(T)), *vm = calloc(N, sizeof(T));            \
    T *got = malloc(N * sizeof(T));                                                                \
    for (int i = 0; i < N; i++) p[i] = pr[i] = (T)(urand() * 2 - 1);                               \
    int bad = -1;                                                                                  \
    for (long t = 1; t <= STEPS && bad < 0; t++) {                                                 \
        for (int i = 0; i < N; i++) g[i] = (T)grand();                                             \
        CHECK_STATUS(swiftadam_step_tensor##SUFFIX(s, p, g, N, 0), SWIFTADAM_OK);                  \
        ref_step_##T(pr, g, m, v, vm, N, t, h);                                                    \
        bad = first_diff(p, pr, N, sizeof(T));                                                     \
        if (bad < 0) {                                                                             \
            CHECK_STATUS(swiftadam_get_moment##SUFFIX(s, 0, SWIFTADAM_MOMENT_EXP_AVG_SQ, got, N), SWIFTADAM_OK); \
            bad = first_diff(got, v, N, sizeof(T));                                                \
        }                                                                                          \
        CHECK(bad < 0, #T " flavor %u flags 0x%x wd %g: step %ld element %d: %.17g vs transcription %.17g", \
              h.flavor, h.flags, h.wd, t, bad, bad >= 0 ? (double)p[bad] : 0.0, bad >= 0 ? (double)pr[bad] : 0.0); \
    }                                                                                              \
    hash_bytes(hash, p, N * sizeof(T));                                                            \
    CHECK_STATUS(swiftadam_free(s), SWIFTADAM_OK);                                                 \
    free(p); free(g); free(pr); free(m); free(v); free(vm); free(got);                             \
}
TEST_EXACT(float, , SWIFTADAM_DTYPE_FLOAT32)
TEST_EXACT(double, _f64, SWIFTADAM_DTYPE_FLOAT64)

/* A float64 group big enough to be split between threads: 1, 2 and 3 threads agree. */
static void test_threads(void) {
    enum { A = 200003, B = 70001, STEPS = 4 };
    size_t lens[2] = {A, B};
    double *p0 = malloc((A + B) * sizeof(double)), *g = malloc((A + B) * sizeof(double));
    double *res[3];
    for (int i = 0; i < A + B; i++) { p0[i] = urand() - 0.5; g[i] = grand(); }
    hp h = {1e-2, 0.9, 0.999, 1e-8, 0.1, SWIFTADAM_FLAG_AMSGRAD | SWIFTADAM_FLAG_DECOUPLED_WEIGHT_DECAY, SWIFTADAM_FLAVOR_KERAS};
    for (int k = 0; k < 3; k++) {
        swiftadam_state *s = create(2, lens, h, SWIFTADAM_DTYPE_FLOAT64);
        CHECK_STATUS(swiftadam_set_num_threads(s, (size_t)k + 1), SWIFTADAM_OK);
        res[k] = malloc((A + B) * sizeof(double));
        memcpy(res[k], p0, (A + B) * sizeof(double));
        double *params[2] = {res[k], res[k] + A};
        const double *grads[2] = {g, g + A};
        for (int t = 0; t < STEPS; t++) CHECK_STATUS(swiftadam_step_f64(s, params, grads, 2, 0), SWIFTADAM_OK);
        CHECK_STATUS(swiftadam_free(s), SWIFTADAM_OK);
    }
    CHECK(first_diff(res[1], res[0], A + B, 8) < 0, "float64: 2 threads differ from 1");
    CHECK(first_diff(res[2], res[0], A + B, 8) < 0, "float64: 3 threads differ from 1");
    hash_bytes(F64_KERAS, res[0], (A + B) * sizeof(double));
    for (int k = 0; k < 3; k++) free(res[k]);
    free(p0); free(g);
}

static size_t snapshot(swiftadam_state *s, unsigned char **out) {
    size_t size = 0, written = 0;
    CHECK_STATUS(swiftadam_serialized_size(s, &size), SWIFTADAM_OK);
    *out = malloc(size);
    CHECK_STATUS(swiftadam_serialize(s, *out, size, &written), SWIFTADAM_OK);
    return size;
}

static void test_dtype_mismatch(void) {
    size_t lens[2] = {3, 4};
    hp h = {1e-3, 0.9, 0.999, 1e-7, 0, SWIFTADAM_FLAG_AMSGRAD, SWIFTADAM_FLAVOR_KERAS};
    swiftadam_state *d = create(2, lens, h, SWIFTADAM_DTYPE_FLOAT64);
    h.flavor = SWIFTADAM_FLAVOR_TORCH;
    swiftadam_state *f = create(2, lens, h, SWIFTADAM_DTYPE_FLOAT32);
    uint32_t dt = 99;
    CHECK_STATUS(swiftadam_get_dtype(d, &dt), SWIFTADAM_OK);
    CHECK(dt == SWIFTADAM_DTYPE_FLOAT64, "get_dtype %u", dt);
    CHECK_STATUS(swiftadam_get_dtype(f, &dt), SWIFTADAM_OK);
    CHECK(dt == SWIFTADAM_DTYPE_FLOAT32, "get_dtype %u", dt);
    float fp[4] = {1, 2, 3, 4}, fg[4] = {1, 1, 1, 1}, fout[4];
    double dp[4] = {1, 2, 3, 4}, dg[4] = {1, 1, 1, 1}, dout[4];
    float *fparams[2] = {fp, fp};
    const float *fgrads[2] = {fg, fg};
    double *dparams[2] = {dp, dp};
    const double *dgrads[2] = {dg, dg};
    unsigned char *before_d, *before_f, *after;
    size_t nd = snapshot(d, &before_d), nf = snapshot(f, &before_f);
    CHECK_STATUS(swiftadam_step(d, fparams, fgrads, 2, 0), SWIFTADAM_ERR_DTYPE_MISMATCH);
    CHECK(strstr(swiftadam_last_error(), "float64") != NULL, "message names the state's dtype");
    CHECK_STATUS(swiftadam_get_moment(d, 0, 0, fout, 4), SWIFTADAM_ERR_DTYPE_MISMATCH);
    CHECK_STATUS(swiftadam_set_moment(d, 0, 0, fp, 3), SWIFTADAM_ERR_DTYPE_MISMATCH);
    CHECK_STATUS(swiftadam_step_f64(f, dparams, dgrads, 2, 0), SWIFTADAM_ERR_DTYPE_MISMATCH);
    CHECK_STATUS(swiftadam_get_moment_f64(f, 0, 0, dout, 4), SWIFTADAM_ERR_DTYPE_MISMATCH);
    CHECK_STATUS(swiftadam_set_moment_f64(f, 0, 0, dp, 3), SWIFTADAM_ERR_DTYPE_MISMATCH);
    CHECK(fp[0] == 1 && dp[0] == 1, "params written by a failed step");
    size_t n = snapshot(d, &after);
    CHECK(n == nd && memcmp(after, before_d, n) == 0, "float64 state changed by float32 calls");
    free(after);
    n = snapshot(f, &after);
    CHECK(n == nf && memcmp(after, before_f, n) == 0, "float32 state changed by float64 calls");
    free(after);
    /* step_tensor needs a one-tensor state; the dtype is checked first either way */
    size_t one = 4;
    swiftadam_state *d1 = create(1, &one, h, SWIFTADAM_DTYPE_FLOAT64);
    CHECK_STATUS(swiftadam_step_tensor(d1, fp, fg, 4, 0), SWIFTADAM_ERR_DTYPE_MISMATCH);
    CHECK_STATUS(swiftadam_step_tensor_f64(d1, dp, dg, 4, 0), SWIFTADAM_OK);
    CHECK_STATUS(swiftadam_free(d1), SWIFTADAM_OK);

    /* dtype is fixed, flavour is not */
    swiftadam_config c;
    CHECK_STATUS(swiftadam_config_init(&c, sizeof c), SWIFTADAM_OK);
    CHECK_STATUS(swiftadam_get_config(d, &c), SWIFTADAM_OK);
    CHECK(c.dtype == SWIFTADAM_DTYPE_FLOAT64 && c.flavor == SWIFTADAM_FLAVOR_KERAS, "get_config dtype %u flavor %u", c.dtype, c.flavor);
    c.dtype = SWIFTADAM_DTYPE_FLOAT32;
    CHECK_STATUS(swiftadam_set_config(d, &c), SWIFTADAM_ERR_INVALID_ARGUMENT);
    c.dtype = SWIFTADAM_DTYPE_FLOAT64;
    c.flavor = SWIFTADAM_FLAVOR_TORCH;
    CHECK_STATUS(swiftadam_set_config(d, &c), SWIFTADAM_OK);
    CHECK_STATUS(swiftadam_get_config(d, &c), SWIFTADAM_OK);
    CHECK(c.flavor == SWIFTADAM_FLAVOR_TORCH, "flavour not changed: %u", c.flavor);
    c.flavor = 2;
    CHECK_STATUS(swiftadam_set_config(d, &c), SWIFTADAM_ERR_INVALID_ARGUMENT);
    free(before_d); free(before_f);
    CHECK_STATUS(swiftadam_free(d), SWIFTADAM_OK);
    CHECK_STATUS(swiftadam_free(f), SWIFTADAM_OK);
}

/* A caller built against version 1 of the struct (56 bytes): it knows no flavor or dtype. */
static void test_v1_caller(void) {
    const size_t v1 = offsetof(swiftadam_config, flavor);
    CHECK(v1 == 56, "version 1 of swiftadam_config is 56 bytes, got %zu", v1);
    union { swiftadam_config c; unsigned char b[sizeof(swiftadam_config)]; } u;
    memset(&u, 0xA5, sizeof u);
    CHECK_STATUS(swiftadam_config_init(&u.c, v1), SWIFTADAM_OK);
    CHECK(u.c.struct_size == v1 && u.c.lr == 1e-3, "config_init of a v1 struct");
    for (size_t k = v1; k < sizeof u; k++) CHECK(u.b[k] == 0xA5, "config_init wrote byte %zu past struct_size", k);
    size_t len = 5;
    swiftadam_state *s = NULL;
    CHECK_STATUS(swiftadam_create(&len, 1, &u.c, &s), SWIFTADAM_OK);
    uint32_t dt = 99;
    CHECK_STATUS(swiftadam_get_dtype(s, &dt), SWIFTADAM_OK);
    CHECK(dt == SWIFTADAM_DTYPE_FLOAT32, "a v1 caller gets float32, got %u", dt);
    CHECK_STATUS(swiftadam_free(s), SWIFTADAM_OK);

    /* on a float64 keras state: get_config stays inside 56 bytes, set_config keeps both */
    hp h = {1e-3, 0.9, 0.999, 1e-7, 0, 0, SWIFTADAM_FLAVOR_KERAS};
    s = create(1, &len, h, SWIFTADAM_DTYPE_FLOAT64);
    memset(&u, 0xA5, sizeof u);
    u.c.struct_size = v1;
    CHECK_STATUS(swiftadam_get_config(s, &u.c), SWIFTADAM_OK);
    for (size_t k = v1; k < sizeof u; k++) CHECK(u.b[k] == 0xA5, "get_config wrote byte %zu past struct_size", k);
    u.c.lr = 5e-4;
    CHECK_STATUS(swiftadam_set_config(s, &u.c), SWIFTADAM_OK);
    swiftadam_config now;
    CHECK_STATUS(swiftadam_config_init(&now, sizeof now), SWIFTADAM_OK);
    CHECK_STATUS(swiftadam_get_config(s, &now), SWIFTADAM_OK);
    CHECK(now.lr == 5e-4 && now.flavor == SWIFTADAM_FLAVOR_KERAS && now.dtype == SWIFTADAM_DTYPE_FLOAT64,
          "v1 set_config: lr %g flavor %u dtype %u", now.lr, now.flavor, now.dtype);
    CHECK_STATUS(swiftadam_free(s), SWIFTADAM_OK);
}

static void test_checkpoints(void) {
    size_t lens[3] = {5, 0, 37};
    struct { uint32_t dtype, flavor, version; } kinds[] = {
        {SWIFTADAM_DTYPE_FLOAT32, SWIFTADAM_FLAVOR_TORCH, 1}, {SWIFTADAM_DTYPE_FLOAT32, SWIFTADAM_FLAVOR_KERAS, 2},
        {SWIFTADAM_DTYPE_FLOAT64, SWIFTADAM_FLAVOR_TORCH, 2}, {SWIFTADAM_DTYPE_FLOAT64, SWIFTADAM_FLAVOR_KERAS, 2},
    };
    for (size_t k = 0; k < 4; k++) {
        hp h = {1e-2, 0.9, 0.999, 1e-8, 0.01, SWIFTADAM_FLAG_AMSGRAD | SWIFTADAM_FLAG_DECOUPLED_WEIGHT_DECAY, kinds[k].flavor};
        swiftadam_state *s = create(3, lens, h, kinds[k].dtype);
        int f64 = kinds[k].dtype == SWIFTADAM_DTYPE_FLOAT64;
        double pa[2][42], ga[42];
        float pf[2][42], gf[42];
        for (int i = 0; i < 42; i++) { ga[i] = grand(); gf[i] = (float)ga[i]; pa[0][i] = pa[1][i] = i / 10.0; pf[0][i] = pf[1][i] = (float)(i / 10.0); }
        for (int r = 0; r < 2; r++) {   /* r = 0: the original state; r = 1: its deserialized copy */
            swiftadam_state *st = s;
            if (r == 1) {
                unsigned char *bytes;
                size_t n = snapshot(s, &bytes);
                CHECK(n > 12 && bytes[8] == kinds[k].version, "dtype %u flavor %u: written as version %u, want %u",
                      kinds[k].dtype, kinds[k].flavor, n > 12 ? bytes[8] : 0, kinds[k].version);
                st = NULL;
                CHECK_STATUS(swiftadam_deserialize(bytes, n, lens, 3, &st), SWIFTADAM_OK);
                unsigned char *again;
                size_t n2 = snapshot(st, &again);
                CHECK(n2 == n && memcmp(again, bytes, n) == 0, "re-serialized bytes differ");
                free(bytes); free(again);
                /* the first 3 steps of r = 0 are replayed into r = 1's params */
                memcpy(pa[1], pa[0], sizeof pa[1]); memcpy(pf[1], pf[0], sizeof pf[1]);
            }
            for (int t = 0; t < (r == 0 ? 3 : 2); t++) {
                if (f64) {
                    double *params[3] = {pa[r], NULL, pa[r] + 5};
                    const double *grads[3] = {ga, NULL, ga + 5};
                    CHECK_STATUS(swiftadam_step_f64(st, params, grads, 3, 0), SWIFTADAM_OK);
                } else {
                    float *params[3] = {pf[r], NULL, pf[r] + 5};
                    const float *grads[3] = {gf, NULL, gf + 5};
                    CHECK_STATUS(swiftadam_step(st, params, grads, 3, 0), SWIFTADAM_OK);
                }
            }
            if (r == 1) CHECK_STATUS(swiftadam_free(st), SWIFTADAM_OK);
        }
        /* the original continues with 2 more steps: must equal the copy's 2 steps */
        for (int t = 0; t < 2; t++) {
            if (f64) {
                double *params[3] = {pa[0], NULL, pa[0] + 5};
                const double *grads[3] = {ga, NULL, ga + 5};
                CHECK_STATUS(swiftadam_step_f64(s, params, grads, 3, 0), SWIFTADAM_OK);
            } else {
                float *params[3] = {pf[0], NULL, pf[0] + 5};
                const float *grads[3] = {gf, NULL, gf + 5};
                CHECK_STATUS(swiftadam_step(s, params, grads, 3, 0), SWIFTADAM_OK);
            }
        }
        CHECK(f64 ? memcmp(pa[0], pa[1], sizeof pa[0]) == 0 : memcmp(pf[0], pf[1], sizeof pf[0]) == 0,
              "dtype %u flavor %u: deserialized state diverged", kinds[k].dtype, kinds[k].flavor);
        CHECK_STATUS(swiftadam_free(s), SWIFTADAM_OK);
    }
}

int main(void) {
    printf("swiftadam %s, backend %s\n", swiftadam_version_string(), swiftadam_backend_name());
    uint32_t combos[] = {0, SWIFTADAM_FLAG_AMSGRAD, SWIFTADAM_FLAG_MAXIMIZE, SWIFTADAM_FLAG_NO_BIAS_CORRECTION,
                         SWIFTADAM_FLAG_AMSGRAD | SWIFTADAM_FLAG_MAXIMIZE};
    for (size_t k = 0; k < sizeof combos / sizeof *combos; k++) {
        for (int wd = 0; wd < 3; wd++) {   /* weight decay: none, L2, decoupled */
            uint32_t flags = combos[k] | (wd == 2 ? SWIFTADAM_FLAG_DECOUPLED_WEIGHT_DECAY : 0);
            double w = wd ? 1e-2 : 0;
            for (double b1 = 0.9; b1 > 0; b1 = b1 == 0.9 ? 0.3 : 0) {
                hp torch = {1e-2, b1, 0.999, 1e-8, w, flags, SWIFTADAM_FLAVOR_TORCH};
                hp keras = {1e-2, b1, 0.999, 1e-7, w, flags, SWIFTADAM_FLAVOR_KERAS};
                exact_double(torch, F64_TORCH);
                exact_double(keras, F64_KERAS);
                exact_float(keras, F32_KERAS);
            }
        }
    }
    printf("float64 torch/keras and float32 keras: %d exact-trajectory checks against the C transcriptions\n", checks);
    test_threads();
    test_dtype_mismatch();
    test_v1_caller();
    test_checkpoints();
    for (int i = 0; i < NHASH; i++) printf("trajectory hash %s %016llx\n", hash_name[i], (unsigned long long)hashes[i]);
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}
