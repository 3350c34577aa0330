/* C-ABI test of float16 / bfloat16 states with float32 master weights: uses only
 * include/swiftadam.h and libSwiftAdam.so.
 *   - conversions: every one of the 2^16 values of each format widens (create_half ->
 *     get_master) to the reference's float32, and ~1.4M float32 values (every 16-bit value,
 *     its float32 neighbours and the midpoints (ties) between consecutive values,
 *     subnormals, overflow thresholds, NaN payloads, random bit patterns) narrow
 *     (set_master -> get_params_half) to the reference's bits. References: x86 F16C
 *     (vcvtps2ph with imm 0 = nearest even, vcvtph2ps) and gcc's _Float16 for float16; for
 *     bfloat16 a nearest-even choice between the two neighbours computed in double;
 *   - the master's trajectory is bit for bit a float32 state's fed the same float32 grads
 *     (16-bit grads widened, float32 grads, grad scales 1, 1024 and 3), for torch and keras,
 *     amsgrad and decoupled decay, 1 and 2 threads; the params written are the master's
 *     rounding; one trajectory hash per dtype for make test-c's SWIFTADAM_ISA comparison;
 *   - grad scale and skip-on-nonfinite: overflow after unscaling and 16-bit NaN/Inf grads skip,
 *     changing nothing; bad scales are INVALID_ARGUMENT, changing nothing;
 *   - dtype errors (every other-dtype entry point is DTYPE_MISMATCH, create refuses 16-bit
 *     dtypes), NULL/size errors;
 *   - checkpoints: format v2 with the dtype and a master region; a loaded state continues
 *     bit-identically and reproduces the params.
 * Build with -mf16c -ffp-contract=off. */
#include "swiftadam.h"
#include <immintrin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static unsigned long long rng = 0x2545F4914F6CDD1Dull;
static uint32_t rand32(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (uint32_t)(rng >> 16); }
static double urand(void) { return (rand32() >> 8) * (1.0 / 16777216.0); }
static float grand(void) { float mag = powf(10.0f, -4.0f + 5.0f * (float)urand()); return urand() < 0.5 ? -mag : mag; }

static float fbits(uint32_t x) { float f; memcpy(&f, &x, 4); return f; }
static uint32_t bitsf(float f) { uint32_t x; memcpy(&x, &f, 4); return x; }

/* ---- references ---- */
static uint32_t ref_widen(uint32_t dtype, uint16_t h) {
    if (dtype == SWIFTADAM_DTYPE_FLOAT16) return bitsf(_cvtsh_ss(h));
    uint32_t x = (uint32_t)h << 16;
    return (x & 0x7FFFFFFFu) > 0x7F800000u ? x | 0x00400000u : x;
}
static uint16_t ref_narrow_f16(float f) { return (uint16_t)_cvtss_sh(f, 0); }
/* bfloat16 by definition: of the two bfloat16 neighbours of f (truncation and the next one
 * away from zero), the nearer in exact (double) arithmetic; on a tie the even one. */
static uint16_t ref_narrow_bf16(float f) {
    uint32_t x = bitsf(f);
    if (isnan(f)) return (uint16_t)((x >> 16) | 0x40);
    uint16_t lo = (uint16_t)(x >> 16), hi = (uint16_t)(lo + 1);
    if ((x & 0xFFFF) == 0) return lo;
    double dl = fabs((double)f - (double)fbits((uint32_t)lo << 16));
    double vh = (hi & 0x7FFF) == 0x7F80 ? copysign(ldexp(1.0, 128), f) : (double)fbits((uint32_t)hi << 16);
    double dh = fabs(vh - (double)f);
    if (dl < dh) return lo;
    if (dh < dl) return hi;
    return (lo & 1) ? hi : lo;
}
static uint16_t ref_narrow(uint32_t dtype, float f) {
    return dtype == SWIFTADAM_DTYPE_FLOAT16 ? ref_narrow_f16(f) : ref_narrow_bf16(f);
}
static const char *dname(uint32_t d) { return d == SWIFTADAM_DTYPE_FLOAT16 ? "float16" : "bfloat16"; }

static swiftadam_config config(uint32_t dtype, uint32_t flags, uint32_t flavor, double wd) {
    swiftadam_config c;
    swiftadam_config_init(&c, sizeof c);
    c.lr = 1e-2; c.weight_decay = wd; c.flags = flags; c.flavor = flavor; c.dtype = dtype;
    return c;
}

static swiftadam_state *create_half(size_t n, const size_t *lens, swiftadam_config c, uint16_t *const *p) {
    swiftadam_state *s = NULL;
    CHECK_STATUS(swiftadam_create_half(lens, n, &c, (const uint16_t *const *)p, &s), SWIFTADAM_OK);
    return s;
}

/* ---- conversions ---- */
static void test_conversions(uint32_t dtype) {
    enum { ALL = 1 << 16 };
    uint16_t *h = malloc(ALL * 2);
    float *f = malloc(ALL * 4);
    for (int i = 0; i < ALL; i++) h[i] = (uint16_t)i;
    size_t len = ALL;
    swiftadam_state *s = create_half(1, &len, config(dtype, 0, 0, 0), &h);
    CHECK_STATUS(swiftadam_get_master(s, 0, f, ALL), SWIFTADAM_OK);
    int bad = 0;
    for (int i = 0; i < ALL; i++) {
        uint32_t want = ref_widen(dtype, (uint16_t)i);
        if (bitsf(f[i]) != want && bad++ < 5)
            CHECK(0, "%s widen 0x%04x: got 0x%08x want 0x%08x", dname(dtype), i, bitsf(f[i]), want);
        if (dtype == SWIFTADAM_DTYPE_FLOAT16 && !isnan(f[i]) && f[i] != (float)*(_Float16 *)&h[i] && bad++ < 5)
            CHECK(0, "float16 widen 0x%04x disagrees with gcc's _Float16", i);
    }
    CHECK(bad == 0, "%s: %d of 2^16 values widened wrongly", dname(dtype), bad);
    swiftadam_free(s);

    /* the narrowing set */
    size_t n = 0, cap = 4 * ALL + (1 << 20) + 64;
    float *x = malloc(cap * 4);
    for (int i = 0; i < ALL; i++) {
        float w = fbits(ref_widen(dtype, (uint16_t)i)), w2 = fbits(ref_widen(dtype, (uint16_t)(i + 1)));
        x[n++] = w;
        x[n++] = nextafterf(w, INFINITY);
        x[n++] = nextafterf(w, -INFINITY);
        if (isfinite(w) && isfinite(w2) && ((i + 1) & 0x7FFF) != 0) x[n++] = (float)(((double)w + (double)w2) / 2);
    }
    static const uint32_t edges[] = {
        0x00000001, 0x00000002, 0x007FFFFF, 0x00800000, 0x33000000, 0x33000001, 0x32FFFFFF, 0x337FFFFF,
        0x33800000, 0x387FC000, 0x387FE000, 0x387FFFFF, 0x38800000, 0x477FE000, 0x477FEFFF, 0x477FF000,
        0x477FF001, 0x47800000, 0x7F7F7FFF, 0x7F7F8000, 0x7F7FFFFF, 0x7F800000, 0x7F800001, 0x7FBFFFFF,
        0x7FC00000, 0x7FC00001, 0x7FFFFFFF, 0x7FA55A5A, 0x7F80E000, 0x7F802000, 0x80000000, 0x80000001,
        0xFF800000, 0xFFC00000, 0xFF800001, 0xC77FF000, 0xB3000001, 0x3F808000, 0x3F818000, 0x3F80FFFF};
    for (size_t k = 0; k < sizeof edges / sizeof edges[0]; k++) x[n++] = fbits(edges[k]);
    while (n < cap) x[n++] = fbits(rand32());
    len = n;
    uint16_t *zero = calloc(n, 2), *out = malloc(n * 2);
    s = create_half(1, &len, config(dtype, 0, 0, 0), &zero);
    CHECK_STATUS(swiftadam_set_master(s, 0, x, n), SWIFTADAM_OK);
    CHECK_STATUS(swiftadam_get_params_half(s, 0, out, n), SWIFTADAM_OK);
    bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint16_t want = ref_narrow(dtype, x[i]);
        if (out[i] != want && bad++ < 5)
            CHECK(0, "%s narrow 0x%08x: got 0x%04x want 0x%04x", dname(dtype), bitsf(x[i]), out[i], want);
        if (dtype == SWIFTADAM_DTYPE_FLOAT16 && !isnan(x[i])) {
            _Float16 g = (_Float16)x[i];
            if (memcmp(&g, &out[i], 2) != 0 && bad++ < 5) CHECK(0, "float16 narrow 0x%08x disagrees with gcc's _Float16", bitsf(x[i]));
        }
    }
    CHECK(bad == 0, "%s: %d of %zu values narrowed wrongly", dname(dtype), bad, n);
    printf("%s conversions: 65536 widened, %zu narrowed, all equal to the reference\n", dname(dtype), n);
    swiftadam_free(s);
    free(h); free(f); free(x); free(zero); free(out);
}

/* ---- master trajectory vs a float32 state ---- */
static uint64_t hashes[2] = {1469598103934665603ull, 1469598103934665603ull};
static void hash_bytes(int k, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) { hashes[k] ^= b[i]; hashes[k] *= 1099511628211ull; }
}

static void trajectory(uint32_t dtype, uint32_t flags, uint32_t flavor, double wd, int half_grads,
                       double scale, size_t threads) {
    enum { T = 3, STEPS = 12 };
    size_t lens[T] = {37, 1, 140001};   /* > 131072 elements: parallel with 2 threads */
    size_t total = lens[0] + lens[1] + lens[2];
    uint16_t *hp = malloc(total * 2), *hg = malloc(total * 2), *hout = malloc(total * 2);
    float *fp = malloc(total * 4), *fg = malloc(total * 4), *gs = malloc(total * 4), *master = malloc(total * 4);
    for (size_t i = 0; i < total; i++) hp[i] = ref_narrow(dtype, (float)(urand() * 2 - 1));
    uint16_t *hparams[T] = {hp, hp + lens[0], hp + lens[0] + lens[1]};
    float *fparams[T] = {fp, fp + lens[0], fp + lens[0] + lens[1]};
    swiftadam_config c = config(dtype, flags, flavor, wd);
    swiftadam_state *h = create_half(T, lens, c, hparams);
    c.dtype = SWIFTADAM_DTYPE_FLOAT32;
    swiftadam_state *f = NULL;
    CHECK_STATUS(swiftadam_create(lens, T, &c, &f), SWIFTADAM_OK);
    CHECK_STATUS(swiftadam_set_num_threads(h, threads), SWIFTADAM_OK);
    for (size_t i = 0; i < total; i++) fp[i] = fbits(ref_widen(dtype, hp[i]));
    float inv = (float)(1.0 / scale);
    int bad = -1;
    for (int t = 0; t < STEPS && bad < 0; t++) {
        for (size_t i = 0; i < total; i++) {
            float g = grand() * (float)scale;
            hg[i] = ref_narrow(dtype, g);
            fg[i] = half_grads ? fbits(ref_widen(dtype, hg[i])) : g;
            gs[i] = scale == 1 ? fg[i] : fg[i] * inv;   /* GradScaler's unscale_ */
        }
        /* tensor 1 has no grad every other step */
        const uint16_t *hgrads[T] = {hg, (t & 1) ? NULL : hg + lens[0], hg + lens[0] + lens[1]};
        const float *fgrads[T] = {fg, (t & 1) ? NULL : fg + lens[0], fg + lens[0] + lens[1]};
        const float *sgrads[T] = {gs, (t & 1) ? NULL : gs + lens[0], gs + lens[0] + lens[1]};
        if (half_grads) CHECK_STATUS(swiftadam_step_half(h, hparams, hgrads, T, scale, 0), SWIFTADAM_OK);
        else CHECK_STATUS(swiftadam_step_half_f32grad(h, hparams, fgrads, T, scale, 0), SWIFTADAM_OK);
        CHECK_STATUS(swiftadam_step(f, fparams, sgrads, T, 0), SWIFTADAM_OK);
        size_t off = 0;
        for (int k = 0; k < T; k++) {
            CHECK_STATUS(swiftadam_get_master(h, (size_t)k, master + off, lens[k]), SWIFTADAM_OK);
            off += lens[k];
        }
        for (size_t i = 0; i < total && bad < 0; i++) {
            if (bitsf(master[i]) != bitsf(fp[i])) bad = (int)i;
            else if (hp[i] != ref_narrow(dtype, master[i])) bad = (int)i;
        }
        CHECK(bad < 0, "%s flags 0x%x flavor %u %s grads scale %g threads %zu: step %d element %d: master %.9g float32 %.9g param 0x%04x",
              dname(dtype), flags, flavor, half_grads ? "16-bit" : "float32", scale, threads, t + 1, bad,
              bad >= 0 ? master[bad] : 0, bad >= 0 ? fp[bad] : 0, bad >= 0 ? hp[bad] : 0);
    }
    for (int k = 0; k < T; k++) {
        uint64_t sh = 0, sf = 0;
        swiftadam_tensor_step(h, (size_t)k, &sh);
        swiftadam_tensor_step(f, (size_t)k, &sf);
        CHECK(sh == sf, "tensor %d step %llu vs %llu", k, (unsigned long long)sh, (unsigned long long)sf);
    }
    float *m1 = malloc(total * 4), *m2 = malloc(total * 4);
    CHECK_STATUS(swiftadam_get_moment(h, 2, SWIFTADAM_MOMENT_EXP_AVG_SQ, m1, total), SWIFTADAM_OK);
    CHECK_STATUS(swiftadam_get_moment(f, 2, SWIFTADAM_MOMENT_EXP_AVG_SQ, m2, total), SWIFTADAM_OK);
    CHECK(memcmp(m1, m2, lens[2] * 4) == 0, "%s: exp_avg_sq differs from the float32 state's", dname(dtype));
    hash_bytes(dtype == SWIFTADAM_DTYPE_FLOAT16 ? 0 : 1, hp, total * 2);
    hash_bytes(dtype == SWIFTADAM_DTYPE_FLOAT16 ? 0 : 1, master, total * 4);
    swiftadam_free(h); swiftadam_free(f);
    free(hp); free(hg); free(hout); free(fp); free(fg); free(gs); free(master); free(m1); free(m2);
}

/* ---- snapshots: "nothing changed" ---- */
static size_t snapshot(swiftadam_state *s, unsigned char **out) {
    size_t size = 0, written = 0;
    CHECK_STATUS(swiftadam_serialized_size(s, &size), SWIFTADAM_OK);
    *out = malloc(size);
    CHECK_STATUS(swiftadam_serialize(s, *out, size, &written), SWIFTADAM_OK);
    return size;
}

static void test_skip_and_scale(uint32_t dtype) {
    enum { N = 100 };
    size_t len = N;
    uint16_t p[N], g[N], p0[N];
    float g32[N];
    for (int i = 0; i < N; i++) { p[i] = ref_narrow(dtype, (float)i / N); g[i] = ref_narrow(dtype, 0.5f); g32[i] = 0.5f; }
    uint16_t *params[1] = {p};
    swiftadam_state *s = create_half(1, &len, config(dtype, SWIFTADAM_FLAG_AMSGRAD, 0, 0), params);
    const uint16_t *grads[1] = {g};
    const float *grads32[1] = {g32};
    CHECK_STATUS(swiftadam_step_half(s, params, grads, 1, 1.0, SWIFTADAM_STEP_SKIP_NONFINITE), SWIFTADAM_OK);
    memcpy(p0, p, sizeof p);
    unsigned char *before, *after;
    size_t nb = snapshot(s, &before), na;
    /* finite before unscaling, Inf after: GradScaler's found_inf */
    g32[17] = 3e38f;
    CHECK_STATUS(swiftadam_step_half_f32grad(s, params, grads32, 1, 0.5, SWIFTADAM_STEP_SKIP_NONFINITE), SWIFTADAM_STEP_SKIPPED);
    g32[17] = 0.5f;
    /* a 16-bit NaN and a 16-bit Inf */
    g[99] = dtype == SWIFTADAM_DTYPE_FLOAT16 ? 0x7E00 : 0x7FC0;   /* NaN */
    CHECK_STATUS(swiftadam_step_half(s, params, grads, 1, 1024.0, SWIFTADAM_STEP_SKIP_NONFINITE), SWIFTADAM_STEP_SKIPPED);
    g[99] = dtype == SWIFTADAM_DTYPE_FLOAT16 ? 0xFC00 : 0xFF80;   /* -Inf */
    CHECK_STATUS(swiftadam_step_half(s, params, grads, 1, 1.0, SWIFTADAM_STEP_SKIP_NONFINITE), SWIFTADAM_STEP_SKIPPED);
    /* bad scales */
    const double scales[] = {0.0, -1.0, NAN, INFINITY, 1e-300, 1e300};
    for (size_t k = 0; k < sizeof scales / sizeof scales[0]; k++)
        CHECK_STATUS(swiftadam_step_half_f32grad(s, params, grads32, 1, scales[k], 0), SWIFTADAM_ERR_INVALID_ARGUMENT);
    na = snapshot(s, &after);
    CHECK(na == nb && memcmp(before, after, na) == 0, "%s: a skipped or refused step changed the state", dname(dtype));
    CHECK(memcmp(p, p0, sizeof p) == 0, "%s: a skipped or refused step changed the params", dname(dtype));
    free(after);
    /* without the flag the NaN goes in (torch semantics) */
    CHECK_STATUS(swiftadam_step_half(s, params, grads, 1, 1.0, 0), SWIFTADAM_OK);
    float m[N];
    CHECK_STATUS(swiftadam_get_master(s, 0, m, N), SWIFTADAM_OK);
    CHECK(isnan(m[99]) && !isnan(m[0]), "%s: non-finite grad without the flag", dname(dtype));
    CHECK((p[99] & 0x7FFF) > (dtype == SWIFTADAM_DTYPE_FLOAT16 ? 0x7C00 : 0x7F80), "param 0x%04x is not NaN", p[99]);
    free(before);
    swiftadam_free(s);
}

static void test_errors(void) {
    size_t lens[2] = {3, 4};
    uint16_t a[4] = {0x3C00, 0x3C00, 0x3C00, 0x3C00}, b[4] = {0, 0, 0, 0};
    uint16_t *hp[2] = {a, b};
    swiftadam_config c = config(SWIFTADAM_DTYPE_FLOAT16, 0, 0, 0);
    swiftadam_state *s = (swiftadam_state *)0x1;
    CHECK_STATUS(swiftadam_create(lens, 2, &c, &s), SWIFTADAM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(swiftadam_last_error(), "swiftadam_create_half") != NULL, "message names the entry point");
    CHECK_STATUS(swiftadam_create_half(lens, 2, &c, NULL, &s), SWIFTADAM_ERR_NULL_POINTER);
    CHECK_STATUS(swiftadam_create_half(lens, 2, NULL, (const uint16_t *const *)hp, &s), SWIFTADAM_ERR_NULL_POINTER);
    uint16_t *withnull[2] = {a, NULL};
    CHECK_STATUS(swiftadam_create_half(lens, 2, &c, (const uint16_t *const *)withnull, &s), SWIFTADAM_ERR_NULL_POINTER);
    c.dtype = SWIFTADAM_DTYPE_FLOAT32;
    CHECK_STATUS(swiftadam_create_half(lens, 2, &c, (const uint16_t *const *)hp, &s), SWIFTADAM_ERR_DTYPE_MISMATCH);
    c.dtype = 4;
    CHECK_STATUS(swiftadam_create_half(lens, 2, &c, (const uint16_t *const *)hp, &s), SWIFTADAM_ERR_INVALID_ARGUMENT);
    CHECK(s == (swiftadam_state *)0x1, "*out written by a failed create");
    c.dtype = SWIFTADAM_DTYPE_BFLOAT16;
    s = create_half(2, lens, c, hp);
    uint32_t dt = 0;
    CHECK_STATUS(swiftadam_get_dtype(s, &dt), SWIFTADAM_OK);
    CHECK(dt == SWIFTADAM_DTYPE_BFLOAT16, "get_dtype %u", dt);
    float f[4] = {1, 2, 3, 4}, *fpp[2] = {f, f};
    const float *fg[2] = {f, f};
    double d[4] = {0}, *dpp[2] = {d, d};
    const double *dg[2] = {d, d};
    const uint16_t *hg[2] = {b, b};
    unsigned char *before, *after;
    size_t nb = snapshot(s, &before);
    CHECK_STATUS(swiftadam_step(s, fpp, fg, 2, 0), SWIFTADAM_ERR_DTYPE_MISMATCH);
    CHECK_STATUS(swiftadam_step_f64(s, dpp, dg, 2, 0), SWIFTADAM_ERR_DTYPE_MISMATCH);
    CHECK_STATUS(swiftadam_step_half(s, hp, hg, 3, 1.0, 0), SWIFTADAM_ERR_SIZE_MISMATCH);
    CHECK_STATUS(swiftadam_step_half(s, NULL, hg, 2, 1.0, 0), SWIFTADAM_ERR_NULL_POINTER);
    CHECK_STATUS(swiftadam_step_half(s, hp, NULL, 2, 1.0, 0), SWIFTADAM_ERR_NULL_POINTER);
    CHECK_STATUS(swiftadam_step_half(s, withnull, hg, 2, 1.0, 0), SWIFTADAM_ERR_NULL_POINTER);
    CHECK_STATUS(swiftadam_step_half(s, hp, hg, 2, 1.0, 4), SWIFTADAM_ERR_UNSUPPORTED);
    CHECK_STATUS(swiftadam_get_moment_f64(s, 0, 0, d, 4), SWIFTADAM_ERR_DTYPE_MISMATCH);
    CHECK_STATUS(swiftadam_get_moment(s, 0, 0, f, 4), SWIFTADAM_OK);
    CHECK_STATUS(swiftadam_get_master(s, 2, f, 4), SWIFTADAM_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(swiftadam_get_master(s, 1, f, 3), SWIFTADAM_ERR_BUFFER_TOO_SMALL);
    CHECK_STATUS(swiftadam_get_master(s, 1, NULL, 4), SWIFTADAM_ERR_NULL_POINTER);
    CHECK_STATUS(swiftadam_set_master(s, 1, f, 3), SWIFTADAM_ERR_SIZE_MISMATCH);
    CHECK_STATUS(swiftadam_get_params_half(s, 1, b, 3), SWIFTADAM_ERR_BUFFER_TOO_SMALL);
    CHECK_STATUS(swiftadam_get_master(s, 0, f, 3), SWIFTADAM_OK);
    CHECK(f[0] == 0.0078125f && f[2] == 0.0078125f, "bfloat16 0x3C00 is not 2^-7 in the master: %g", f[0]);
    c.dtype = SWIFTADAM_DTYPE_FLOAT32;
    swiftadam_state *f32 = NULL;
    CHECK_STATUS(swiftadam_create(lens, 2, &c, &f32), SWIFTADAM_OK);
    CHECK_STATUS(swiftadam_step_half(f32, hp, hg, 2, 1.0, 0), SWIFTADAM_ERR_DTYPE_MISMATCH);
    CHECK_STATUS(swiftadam_step_half_f32grad(f32, hp, fg, 2, 1.0, 0), SWIFTADAM_ERR_DTYPE_MISMATCH);
    CHECK_STATUS(swiftadam_get_master(f32, 0, f, 4), SWIFTADAM_ERR_DTYPE_MISMATCH);
    CHECK_STATUS(swiftadam_set_master(f32, 0, f, 3), SWIFTADAM_ERR_DTYPE_MISMATCH);
    CHECK_STATUS(swiftadam_get_params_half(f32, 0, b, 4), SWIFTADAM_ERR_DTYPE_MISMATCH);
    swiftadam_config got;
    swiftadam_config_init(&got, sizeof got);
    CHECK_STATUS(swiftadam_get_config(s, &got), SWIFTADAM_OK);
    got.dtype = SWIFTADAM_DTYPE_FLOAT16;
    CHECK_STATUS(swiftadam_set_config(s, &got), SWIFTADAM_ERR_INVALID_ARGUMENT);
    size_t na = snapshot(s, &after);
    CHECK(na == nb && memcmp(before, after, na) == 0, "a failed call changed the bfloat16 state");
    swiftadam_free(s); swiftadam_free(f32);
    free(before); free(after);
}

static void test_checkpoint(uint32_t dtype) {
    enum { N = 300 };
    size_t lens[2] = {N, 17};
    uint16_t p[N + 17], g[N + 17];
    for (int i = 0; i < N + 17; i++) p[i] = ref_narrow(dtype, (float)urand());
    uint16_t *params[2] = {p, p + N};
    swiftadam_state *s = create_half(2, lens, config(dtype, SWIFTADAM_FLAG_AMSGRAD, SWIFTADAM_FLAVOR_KERAS, 0.01), params);
    const uint16_t *grads[2] = {g, g + N};
    for (int t = 0; t < 3; t++) {
        for (int i = 0; i < N + 17; i++) g[i] = ref_narrow(dtype, grand());
        CHECK_STATUS(swiftadam_step_half(s, params, grads, 2, 1.0, 0), SWIFTADAM_OK);
    }
    unsigned char *bytes;
    size_t n = snapshot(s, &bytes);
    uint32_t version, dt;
    memcpy(&version, bytes + 8, 4);
    memcpy(&dt, bytes + 80, 4);
    CHECK(version == 2 && dt == dtype, "%s checkpoint: version %u dtype %u", dname(dtype), version, dt);
    /* header 96 + 2 entries -> 128; per tensor 4 regions (m, v, vmax, master) of pad64(4*len) */
    size_t want = 128 + 4 * (1216 + 128) + 8;
    CHECK(n == want, "%s checkpoint size %zu, want %zu", dname(dtype), n, want);
    swiftadam_state *r = NULL;
    CHECK_STATUS(swiftadam_deserialize(bytes, n, lens, 2, &r), SWIFTADAM_OK);
    uint16_t q[N + 17];
    CHECK_STATUS(swiftadam_get_params_half(r, 0, q, N), SWIFTADAM_OK);
    CHECK_STATUS(swiftadam_get_params_half(r, 1, q + N, 17), SWIFTADAM_OK);
    CHECK(memcmp(p, q, sizeof p) == 0, "%s: params recomputed from a loaded master differ", dname(dtype));
    uint16_t *rparams[2] = {q, q + N};
    for (int t = 0; t < 3; t++) {
        for (int i = 0; i < N + 17; i++) g[i] = ref_narrow(dtype, grand());
        CHECK_STATUS(swiftadam_step_half(s, params, grads, 2, 1.0, 0), SWIFTADAM_OK);
        CHECK_STATUS(swiftadam_step_half(r, rparams, grads, 2, 1.0, 0), SWIFTADAM_OK);
    }
    CHECK(memcmp(p, q, sizeof p) == 0, "%s: a loaded state continues differently", dname(dtype));
    unsigned char *b1, *b2;
    size_t n1 = snapshot(s, &b1), n2 = snapshot(r, &b2);
    CHECK(n1 == n2 && memcmp(b1, b2, n1) == 0, "%s: checkpoints after continuing differ", dname(dtype));
    swiftadam_free(s); swiftadam_free(r);
    free(bytes); free(b1); free(b2);
}

int main(void) {
    printf("backend: %s\n", swiftadam_backend_name());
    const uint32_t dtypes[2] = {SWIFTADAM_DTYPE_FLOAT16, SWIFTADAM_DTYPE_BFLOAT16};
    for (int k = 0; k < 2; k++) {
        uint32_t d = dtypes[k];
        test_conversions(d);
        trajectory(d, 0, SWIFTADAM_FLAVOR_TORCH, 0, 1, 1.0, 1);
        trajectory(d, 0, SWIFTADAM_FLAVOR_TORCH, 0, 0, 1.0, 2);
        trajectory(d, SWIFTADAM_FLAG_AMSGRAD | SWIFTADAM_FLAG_DECOUPLED_WEIGHT_DECAY, SWIFTADAM_FLAVOR_TORCH, 0.1, 1, 1024.0, 2);
        trajectory(d, SWIFTADAM_FLAG_MAXIMIZE, SWIFTADAM_FLAVOR_KERAS, 0.01, 0, 3.0, 1);
        trajectory(d, SWIFTADAM_FLAG_NO_BIAS_CORRECTION, SWIFTADAM_FLAVOR_TORCH, 0, 1, 3.0, 2);
        test_skip_and_scale(d);
        test_checkpoint(d);
    }
    test_errors();
    printf("float16 trajectory hash: %016llx\n", (unsigned long long)hashes[0]);
    printf("bfloat16 trajectory hash: %016llx\n", (unsigned long long)hashes[1]);
    printf("%d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
