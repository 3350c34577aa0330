/* libFuzzer target: a state built from the fuzz input -> serialize -> deserialize.
 *
 * The input is read as: tensor count, lengths, flags (low 4 bits; bit 4: float64 state,
 * bit 5: keras flavour, bit 6: a 16-bit state instead (bit 7: bfloat16, else float16), whose
 * initial params and master values follow the moments), five hyperparameters (each either a raw float64, possibly invalid,
 * or a raw value folded into the valid range), a step count per tensor (sometimes above
 * 2^53), the moments as raw bit patterns of the dtype (NaN payloads, subnormals, -0
 * included), one bit position, one cut position, and gradients.
 * Properties (violation -> abort(), reported by libFuzzer as a crash):
 *   - create accepts the config exactly when our own reading of the documented ranges does;
 *     set_tensor_step accepts exactly the steps <= 2^53;
 *   - serializing twice gives identical bytes, of the announced size;
 *   - bytes -> state -> bytes reproduces the bytes; the state read back has bit-identical
 *     hyperparameters, flavour, dtype, lengths, steps, moments and master;
 *   - every single-bit flip and every truncation / extension of the bytes is rejected;
 *   - the original and the read-back state take the same step bit for bit (16-bit states:
 *     16-bit grads and a grad scale from the input, which both accept or both refuse).
 */
#include "swiftadam.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQUIRE(cond, ...) do { if (!(cond)) { fprintf(stderr, "property violated: %s: ", #cond); \
    fprintf(stderr, __VA_ARGS__); fprintf(stderr, " (last_error: %s)\n", swiftadam_last_error()); abort(); } } while (0)

typedef struct { const uint8_t *p; size_t left; } Input;

static uint64_t take(Input *in, int bytes) {
    uint64_t x = 0;
    for (int i = 0; i < bytes; i++) {
        uint8_t b = 0;
        if (in->left) { b = *in->p++; in->left--; }
        x |= (uint64_t)b << (8 * i);
    }
    return x;
}

static double take_double(Input *in) { uint64_t u = take(in, 8); double d; memcpy(&d, &u, 8); return d; }

enum { MAXT = 4, MAXLEN = 96 };

/* A hyperparameter: mode byte bit 0 clear -> raw (maybe invalid), set -> folded valid. */
static double hyper(Input *in, int is_beta) {
    int raw = !(take(in, 1) & 1);
    double d = take_double(in);
    if (raw) return d;
    if (!isfinite(d)) d = 0.5;
    d = fabs(d);
    if (is_beta) d = fmod(d, 1.0);   /* [0, 1) */
    return d;
}

static int valid_config(const swiftadam_config *c) {
    return c->lr >= 0 && isfinite(c->lr) && c->beta1 >= 0 && c->beta1 < 1 && c->beta2 >= 0 && c->beta2 < 1 &&
           c->eps >= 0 && isfinite(c->eps) && c->weight_decay >= 0 && isfinite(c->weight_decay);
}

/* The dtype's entry points over untyped buffers (esz = 4 or 8 bytes per element). */
static int32_t set_moment(swiftadam_state *s, size_t i, int w, const void *b, size_t n, int f64) {
    return f64 ? swiftadam_set_moment_f64(s, i, w, b, n) : swiftadam_set_moment(s, i, w, b, n);
}
static int32_t get_moment(swiftadam_state *s, size_t i, int w, void *b, size_t cap, int f64) {
    return f64 ? swiftadam_get_moment_f64(s, i, w, b, cap) : swiftadam_get_moment(s, i, w, b, cap);
}
static int32_t step(swiftadam_state *s, void **pp, const void **gg, size_t n, uint32_t sf, int f64) {
    return f64 ? swiftadam_step_f64(s, (double *const *)pp, (const double *const *)gg, n, sf)
               : swiftadam_step(s, (float *const *)pp, (const float *const *)gg, n, sf);
}

static void serialize_all(swiftadam_state *s, uint8_t **out, size_t *size) {
    size_t want = 0, written = 0;
    REQUIRE(swiftadam_serialized_size(s, &want) == SWIFTADAM_OK, "serialized_size");
    *out = malloc(want + 1);
    REQUIRE(*out != NULL, "malloc");
    REQUIRE(swiftadam_serialize(s, *out, want, &written) == SWIFTADAM_OK && written == want, "serialize");
    *size = want;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Input in = {data, size};
    size_t n = 1 + take(&in, 1) % MAXT, lens[MAXT], total = 0;
    for (size_t i = 0; i < n; i++) { lens[i] = take(&in, 1) % (MAXLEN + 1); total += lens[i]; }
    swiftadam_config cfg;
    REQUIRE(swiftadam_config_init(&cfg, sizeof cfg) == SWIFTADAM_OK, "config_init");
    uint32_t fb = (uint32_t)take(&in, 1);
    cfg.flags = fb & 0xF;
    int half = (fb >> 6) & 1, f64 = !half && ((fb >> 4) & 1);
    size_t esz = f64 ? 8 : 4;
    cfg.dtype = f64 ? SWIFTADAM_DTYPE_FLOAT64 : SWIFTADAM_DTYPE_FLOAT32;
    if (half) cfg.dtype = (fb >> 7) & 1 ? SWIFTADAM_DTYPE_BFLOAT16 : SWIFTADAM_DTYPE_FLOAT16;
    cfg.flavor = (fb >> 5) & 1 ? SWIFTADAM_FLAVOR_KERAS : SWIFTADAM_FLAVOR_TORCH;
    cfg.lr = hyper(&in, 0);
    cfg.beta1 = hyper(&in, 1);
    cfg.beta2 = hyper(&in, 1);
    cfg.eps = hyper(&in, 0);
    cfg.weight_decay = hyper(&in, 0);

    swiftadam_state *s = NULL;
    uint16_t h0[MAXT * MAXLEN + 1];
    const uint16_t *hp0[MAXT];
    for (size_t k = 0, off = 0; k < n; off += lens[k], k++) hp0[k] = h0 + off;
    if (half) for (size_t k = 0; k < total; k++) h0[k] = (uint16_t)take(&in, 2);
    int32_t rc = half ? swiftadam_create_half(lens, n, &cfg, hp0, &s) : swiftadam_create(lens, n, &cfg, &s);
    if (!valid_config(&cfg)) {
        REQUIRE(rc == SWIFTADAM_ERR_INVALID_ARGUMENT && s == NULL, "invalid config: create returned %d", rc);
        return 0;
    }
    REQUIRE(rc == SWIFTADAM_OK, "valid config rejected: %d", rc);
    int ams = (cfg.flags & SWIFTADAM_FLAG_AMSGRAD) != 0;

    for (size_t i = 0; i < n; i++) {
        uint64_t step = take(&in, 8);
        if (step & 1) step >>= 10;     /* usually representable, sometimes not */
        int32_t r = swiftadam_set_tensor_step(s, i, step);
        if (step > ((uint64_t)1 << 53)) REQUIRE(r == SWIFTADAM_ERR_INVALID_ARGUMENT, "step %llu accepted", (unsigned long long)step);
        else REQUIRE(r == SWIFTADAM_OK, "step %llu rejected: %d", (unsigned long long)step, r);
    }
    double buf[MAXLEN];
    for (size_t i = 0; i < n; i++) {
        for (int w = 0; w < (ams ? 3 : 2); w++) {
            for (size_t k = 0; k < lens[i]; k++) { uint64_t u = take(&in, (int)esz); memcpy((char *)buf + k * esz, &u, esz); }
            REQUIRE(set_moment(s, i, w, buf, lens[i], f64) == SWIFTADAM_OK, "set_moment");
        }
        if (half && (take(&in, 1) & 1)) {   /* else the master stays the params' exact values */
            for (size_t k = 0; k < lens[i]; k++) { uint32_t u = (uint32_t)take(&in, 4); memcpy((char *)buf + k * 4, &u, 4); }
            REQUIRE(swiftadam_set_master(s, i, (const float *)buf, lens[i]) == SWIFTADAM_OK, "set_master");
        }
    }
    size_t flip = (size_t)take(&in, 4), cut = (size_t)take(&in, 4);

    uint8_t *a = NULL, *a2 = NULL, *b = NULL;
    size_t na = 0, na2 = 0, nb = 0;
    serialize_all(s, &a, &na);
    serialize_all(s, &a2, &na2);
    REQUIRE(na == na2 && memcmp(a, a2, na) == 0, "two serializations of one state differ");

    swiftadam_state *r = NULL;
    REQUIRE(swiftadam_deserialize(a, na, lens, n, &r) == SWIFTADAM_OK, "own checkpoint rejected");
    serialize_all(r, &b, &nb);
    REQUIRE(na == nb && memcmp(a, b, na) == 0, "bytes -> state -> bytes differs");

    swiftadam_config c1, c2;
    swiftadam_config_init(&c1, sizeof c1);
    swiftadam_config_init(&c2, sizeof c2);
    REQUIRE(swiftadam_get_config(r, &c2) == SWIFTADAM_OK && swiftadam_get_config(s, &c1) == SWIFTADAM_OK, "get_config");
    REQUIRE(memcmp(&c1.lr, &cfg.lr, 5 * sizeof(double)) == 0 && c1.flags == cfg.flags && c1.flavor == cfg.flavor &&
            c1.dtype == cfg.dtype, "config not kept bit for bit");
    REQUIRE(memcmp(&c1.lr, &c2.lr, 5 * sizeof(double)) == 0 && c1.flags == c2.flags && c1.flavor == c2.flavor &&
            c1.dtype == c2.dtype, "config differs after round trip");
    for (size_t i = 0; i < n; i++) {
        size_t l1 = 0, l2 = 0;
        uint64_t s1 = 0, s2 = 0;
        swiftadam_tensor_length(r, i, &l2);
        swiftadam_tensor_length(s, i, &l1);
        swiftadam_tensor_step(s, i, &s1);
        swiftadam_tensor_step(r, i, &s2);
        REQUIRE(l1 == lens[i] && l2 == lens[i] && s1 == s2, "tensor %zu: length/step differ", i);
        for (int w = 0; w < (ams ? 3 : 2); w++) {
            double m1[MAXLEN + 1], m2[MAXLEN + 1];
            REQUIRE(get_moment(s, i, w, m1, MAXLEN + 1, f64) == SWIFTADAM_OK, "get_moment");
            REQUIRE(get_moment(r, i, w, m2, MAXLEN + 1, f64) == SWIFTADAM_OK, "get_moment");
            REQUIRE(memcmp(m1, m2, lens[i] * esz) == 0, "tensor %zu moment %d differs", i, w);
        }
        if (half) {
            float x1[MAXLEN + 1], x2[MAXLEN + 1];
            REQUIRE(swiftadam_get_master(s, i, x1, MAXLEN + 1) == SWIFTADAM_OK, "get_master");
            REQUIRE(swiftadam_get_master(r, i, x2, MAXLEN + 1) == SWIFTADAM_OK, "get_master");
            REQUIRE(memcmp(x1, x2, lens[i] * 4) == 0, "tensor %zu master differs", i);
        }
    }

    /* every single-bit flip is rejected (CRC-32C: all of them, not a sample) */
    size_t bit = flip % (8 * na);
    a2[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    swiftadam_state *bad = (swiftadam_state *)0x5a;
    rc = swiftadam_deserialize(a2, na, NULL, 0, &bad);
    REQUIRE(rc < 0 && bad == (swiftadam_state *)0x5a, "bit %zu flipped: accepted (%d)", bit, rc);
    /* any truncation, and one trailing byte, are rejected */
    rc = swiftadam_deserialize(a, cut % na, NULL, 0, &bad);
    REQUIRE(rc == SWIFTADAM_ERR_CORRUPT || rc == SWIFTADAM_ERR_BAD_MAGIC, "cut at %zu: %d", cut % na, rc);
    a[na] = 0;
    rc = swiftadam_deserialize(a, na + 1, NULL, 0, &bad);
    REQUIRE(rc == SWIFTADAM_ERR_CORRUPT, "one trailing byte: %d", rc);

    /* both states take the same step, bit for bit (gradients from the rest of the input) */
    double p1[MAXT * MAXLEN + 1], p2[MAXT * MAXLEN + 1], g[MAXT * MAXLEN + 1];
    void *pp1[MAXT], *pp2[MAXT];
    const void *gg[MAXT];
    for (size_t k = 0; k < total; k++) {
        uint64_t u = take(&in, (int)esz);
        memcpy((char *)g + k * esz, &u, esz);
        if (f64) p1[k] = p2[k] = (double)k * 0.01;
        else ((float *)p1)[k] = ((float *)p2)[k] = (float)k * 0.01f;
    }
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        pp1[i] = (char *)p1 + off * esz; pp2[i] = (char *)p2 + off * esz;
        gg[i] = (take(&in, 1) & 7) ? (char *)g + off * esz : NULL;
        off += lens[i];
    }
    uint32_t sf = (uint32_t)take(&in, 1) & SWIFTADAM_STEP_SKIP_NONFINITE;
    if (half) {
        /* 16-bit params and grads in the same buffers (the first half of each element) */
        double scale = take(&in, 1) & 1 ? take_double(&in) : 1.0;
        for (size_t k = 0; k < total; k++) ((uint16_t *)p1)[k] = ((uint16_t *)p2)[k] = h0[k];
        uint16_t *hp1[MAXT], *hp2[MAXT];
        const uint16_t *hg[MAXT];
        for (size_t i = 0, off = 0; i < n; off += lens[i], i++) {
            hp1[i] = (uint16_t *)p1 + off; hp2[i] = (uint16_t *)p2 + off;
            hg[i] = gg[i] ? (const uint16_t *)g + off : NULL;
        }
        int32_t r1 = swiftadam_step_half(s, hp1, hg, n, scale, sf), r2 = swiftadam_step_half(r, hp2, hg, n, scale, sf);
        REQUIRE(r1 == r2, "step_half: %d vs %d", r1, r2);
        REQUIRE(memcmp(p1, p2, total * 2) == 0, "16-bit params differ after one step");
    } else {
        int32_t r1 = step(s, pp1, gg, n, sf, f64), r2 = step(r, pp2, gg, n, sf, f64);
        REQUIRE(r1 == r2, "step: %d vs %d", r1, r2);
        REQUIRE(memcmp(p1, p2, total * esz) == 0, "params differ after one step");
    }
    /* the other dtype's entry point is refused and changes nothing */
    REQUIRE(step(s, pp1, gg, n, 0, half ? 0 : !f64) == SWIFTADAM_ERR_DTYPE_MISMATCH, "other dtype's step accepted");
    free(a); free(a2); free(b);
    serialize_all(s, &a, &na);
    serialize_all(r, &b, &nb);
    REQUIRE(na == nb && memcmp(a, b, na) == 0, "states differ after one step");
    free(a); free(b);
    REQUIRE(swiftadam_free(s) == SWIFTADAM_OK && swiftadam_free(r) == SWIFTADAM_OK, "free");
    return 0;
}
