/* Golden checkpoints (see golden_spec.h): format version 1 (library 0.1.0) and version 2
 * (float64 and the keras flavour; float16 and bfloat16 with their float32 master):
 *   - each file loads (swiftadam_load, and swiftadam_deserialize from memory) to exactly the
 *     written-down hyperparameters, flavour, dtype, lengths, steps, moments and master (bit for bit);
 *   - re-serializing gives the file's bytes back (a float32 torch state is still written as
 *     version 1, everything else as version 2);
 *   - v1_stepped_adam.ckpt and v2_stepped_float64_keras.ckpt hold the moments of 3 real
 *     steps, recorded below;
 *   - exhaustive: EVERY single-bit flip and EVERY truncation of every golden file is rejected.
 * Usage: test_golden <dir with the .ckpt files>
 */
#include "golden_spec.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../c/check.h"

static unsigned char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) { perror(path); exit(2); }
    fclose(f);
    *size = (size_t)n;
    return b;
}

static int same_bits_d(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }
static int same_bits_f(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

static void check_reserialize(swiftadam_state *s, const unsigned char *bytes, size_t size, const char *name) {
    size_t want = 0, written = 0;
    CHECK(swiftadam_serialized_size(s, &want) == SWIFTADAM_OK && want == size, "%s: size %zu vs %zu", name, want, size);
    unsigned char *out = malloc(size ? size : 1);
    CHECK(swiftadam_serialize(s, out, size, &written) == SWIFTADAM_OK && written == size, "%s: serialize", name);
    CHECK(memcmp(out, bytes, size) == 0, "%s: re-serialized bytes differ from the golden file", name);
    free(out);
}

/* every single-bit flip and every proper prefix must be rejected, and *out left alone */
static long exhaustive(const unsigned char *bytes, size_t size, const char *name) {
    unsigned char *b = malloc(size);
    memcpy(b, bytes, size);
    long tried = 0, accepted = 0;
    for (size_t bit = 0; bit < 8 * size; bit++) {
        b[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        swiftadam_state *s = (swiftadam_state *)0x5a;
        int32_t rc = swiftadam_deserialize(b, size, NULL, 0, &s);
        if (rc >= 0 || s != (swiftadam_state *)0x5a) {
            if (accepted++ < 5) fprintf(stderr, "FAIL %s: flip of bit %zu accepted\n", name, bit);
            if (rc >= 0) swiftadam_free(s);
        }
        b[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        tried++;
    }
    for (size_t cut = 0; cut < size; cut++) {
        swiftadam_state *s = (swiftadam_state *)0x5a;
        int32_t rc = swiftadam_deserialize(b, cut, NULL, 0, &s);
        if (rc != SWIFTADAM_ERR_CORRUPT || s != (swiftadam_state *)0x5a) {
            if (accepted++ < 5) fprintf(stderr, "FAIL %s: prefix of %zu bytes: %s\n", name, cut, swiftadam_status_name(rc));
            if (rc >= 0) swiftadam_free(s);
        }
        tried++;
    }
    checks++;
    if (accepted) failures++;
    free(b);
    return tried;
}

/* Recorded from make_golden.c (library 0.1.0): 3 steps, lr 0.01, grads (i - 3.5) / 10. */
static const float STEPPED_EXP_AVG[8] = {
    -0x1.84817p-4, -0x1.158106p-4, -0x1.4d013cp-5, -0x1.bc01a4p-7, 0x1.bc01a4p-7, 0x1.4d013cp-5, 0x1.158106p-4, 0x1.84817p-4,
};
static const float STEPPED_EXP_AVG_SQ[8] = {
    0x1.80f76ap-12, 0x1.88d2acp-13, 0x1.1ad52p-14, 0x1.f6d03cp-18, 0x1.f6d03cp-18, 0x1.1ad52p-14, 0x1.88d2acp-13, 0x1.80f76ap-12,
};

/* Recorded from make_golden.c: 3 float64 keras steps, lr 0.01, eps 1e-7, grads (i - 3.5) / 10. */
static const double STEPPED_V2_EXP_AVG[8] = {
    -0x1.84816f0068db6p-4, -0x1.15810624dd2fp-4, -0x1.4d013a92a3054p-5, -0x1.bc01a36e2eb1bp-7,
    0x1.bc01a36e2eb1bp-7, 0x1.4d013a92a3054p-5, 0x1.15810624dd2fp-4, 0x1.84816f0068db6p-4,
};
static const double STEPPED_V2_EXP_AVG_SQ[8] = {
    0x1.80f769b5fe8dep-12, 0x1.88d2aa8fe9a08p-13, 0x1.1ad51ea50e9c8p-14, 0x1.f6d0367ac4a4ap-18,
    0x1.f6d0367ac4a4ap-18, 0x1.1ad51ea50e9c8p-14, 0x1.88d2aa8fe9a08p-13, 0x1.80f769b5fe8dep-12,
};

/* One version-2 file: loads to its spec, re-serializes to its bytes, rejects every flip. */
static long check_v2(const char *dir, const golden_spec_v2 *g, size_t f, size_t *files) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, g->file);
    size_t size = 0;
    unsigned char *bytes = read_file(path, &size);
    CHECK(size > 12 && bytes[8] == 2, "%s: format version %u", g->file, size > 12 ? bytes[8] : 0);
    swiftadam_state *s = NULL, *m = NULL;
    CHECK(swiftadam_load(path, g->lens, g->n, &s) == SWIFTADAM_OK, "%s: load", g->file);
    CHECK(swiftadam_deserialize(bytes, size, g->lens, g->n, &m) == SWIFTADAM_OK, "%s: deserialize", g->file);
    long flips = 0;
    if (s && m) {
        (*files)++;
        swiftadam_config c;
        swiftadam_config_init(&c, sizeof c);
        CHECK(swiftadam_get_config(s, &c) == SWIFTADAM_OK, "%s", g->file);
        CHECK(same_bits_d(c.lr, g->lr) && same_bits_d(c.beta1, g->beta1) && same_bits_d(c.beta2, g->beta2) &&
              same_bits_d(c.eps, g->eps) && same_bits_d(c.weight_decay, g->weight_decay) && c.flags == g->flags &&
              c.flavor == g->flavor && c.dtype == g->dtype, "%s: config flavor=%u dtype=%u flags=%u", g->file,
              c.flavor, c.dtype, c.flags);
        uint32_t dt = 99;
        CHECK(swiftadam_get_dtype(m, &dt) == SWIFTADAM_OK && dt == g->dtype, "%s: get_dtype %u", g->file, dt);
        int moments = (g->flags & SWIFTADAM_FLAG_AMSGRAD) ? 3 : 2;
        for (size_t t = 0; t < g->n; t++) {
            size_t len = 0;
            uint64_t step = 0;
            CHECK(swiftadam_tensor_length(s, t, &len) == SWIFTADAM_OK && len == g->lens[t], "%s: tensor %zu length", g->file, t);
            CHECK(swiftadam_tensor_step(s, t, &step) == SWIFTADAM_OK && step == g->steps[t], "%s: tensor %zu step", g->file, t);
            for (int w = 0; w < moments; w++) {
                double d[64];
                float x[64];
                size_t bad = 0;
                if (g->dtype == SWIFTADAM_DTYPE_FLOAT64) {
                    CHECK(swiftadam_get_moment_f64(s, t, w, d, 64) == SWIFTADAM_OK, "%s: get_moment_f64", g->file);
                    for (size_t i = 0; i < len; i++) bad += !same_bits_d(d[i], golden_moment_v2(f, t, w, i, g->dtype));
                } else {
                    CHECK(swiftadam_get_moment(s, t, w, x, 64) == SWIFTADAM_OK, "%s: get_moment", g->file);
                    for (size_t i = 0; i < len; i++) bad += !same_bits_f(x[i], (float)golden_moment_v2(f, t, w, i, g->dtype));
                }
                CHECK(bad == 0, "%s: tensor %zu moment %d: %zu values differ", g->file, t, w, bad);
            }
            if (g->dtype == SWIFTADAM_DTYPE_FLOAT16 || g->dtype == SWIFTADAM_DTYPE_BFLOAT16) {
                float x[64];
                size_t bad = 0;
                CHECK(swiftadam_get_master(m, t, x, 64) == SWIFTADAM_OK, "%s: get_master", g->file);
                for (size_t i = 0; i < len; i++) bad += !same_bits_f(x[i], golden_master(f - GOLDEN_HALF_BASE, t, i));
                CHECK(bad == 0, "%s: tensor %zu master: %zu values differ", g->file, t, bad);
            }
        }
        check_reserialize(s, bytes, size, g->file);
        check_reserialize(m, bytes, size, g->file);
        flips = exhaustive(bytes, size, g->file);
    }
    swiftadam_free(s);
    swiftadam_free(m);
    free(bytes);
    return flips;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "Tests/golden";
    char path[1024];
    long flips = 0;
    size_t files = 0;
    for (size_t f = 0; f < GOLDEN_COUNT; f++) {
        const golden_spec *g = &GOLDEN[f];
        snprintf(path, sizeof path, "%s/%s", dir, g->file);
        size_t size = 0;
        unsigned char *bytes = read_file(path, &size);
        swiftadam_state *s = NULL, *m = NULL;
        CHECK(swiftadam_load(path, g->lens, g->n, &s) == SWIFTADAM_OK, "%s: load", g->file);
        CHECK(swiftadam_deserialize(bytes, size, g->lens, g->n, &m) == SWIFTADAM_OK, "%s: deserialize", g->file);
        if (!s || !m) { free(bytes); continue; }
        files++;
        swiftadam_config c;
        swiftadam_config_init(&c, sizeof c);
        CHECK(swiftadam_get_config(s, &c) == SWIFTADAM_OK, "%s", g->file);
        CHECK(same_bits_d(c.lr, g->lr) && same_bits_d(c.beta1, g->beta1) && same_bits_d(c.beta2, g->beta2) &&
              same_bits_d(c.eps, g->eps) && same_bits_d(c.weight_decay, g->weight_decay) && c.flags == g->flags,
              "%s: hyperparameters lr=%a b1=%a b2=%a eps=%a wd=%a flags=%u", g->file, c.lr, c.beta1, c.beta2, c.eps,
              c.weight_decay, c.flags);
        size_t n = 0;
        CHECK(swiftadam_num_tensors(s, &n) == SWIFTADAM_OK && n == g->n, "%s: %zu tensors", g->file, n);
        int moments = (g->flags & SWIFTADAM_FLAG_AMSGRAD) ? 3 : 2;
        for (size_t t = 0; t < g->n; t++) {
            size_t len = 0;
            uint64_t step = 0;
            CHECK(swiftadam_tensor_length(s, t, &len) == SWIFTADAM_OK && len == g->lens[t], "%s: tensor %zu length %zu", g->file, t, len);
            CHECK(swiftadam_tensor_step(s, t, &step) == SWIFTADAM_OK && step == g->steps[t], "%s: tensor %zu step %llu",
                  g->file, t, (unsigned long long)step);
            for (int w = 0; w < moments; w++) {
                float got[64];
                CHECK(swiftadam_get_moment(s, t, w, got, 64) == SWIFTADAM_OK, "%s: get_moment", g->file);
                size_t bad = 0;
                for (size_t i = 0; i < len; i++) bad += !same_bits_f(got[i], golden_moment(f, t, w, i));
                CHECK(bad == 0, "%s: tensor %zu moment %d: %zu values differ", g->file, t, w, bad);
            }
        }
        if (!(g->flags & SWIFTADAM_FLAG_AMSGRAD)) {
            float x[64];
            CHECK(swiftadam_get_moment(s, 0, SWIFTADAM_MOMENT_MAX_EXP_AVG_SQ, x, 64) == SWIFTADAM_ERR_INVALID_ARGUMENT,
                  "%s: max_exp_avg_sq without amsgrad", g->file);
        }
        check_reserialize(s, bytes, size, g->file);
        check_reserialize(m, bytes, size, g->file);
        flips += exhaustive(bytes, size, g->file);
        swiftadam_free(s);
        swiftadam_free(m);
        free(bytes);
    }

    snprintf(path, sizeof path, "%s/%s", dir, STEPPED_FILE);
    size_t size = 0, len = 8;
    unsigned char *bytes = read_file(path, &size);
    swiftadam_state *s = NULL;
    CHECK(swiftadam_load(path, &len, 1, &s) == SWIFTADAM_OK, "%s: load", STEPPED_FILE);
    if (s) {
        files++;
        float m[8], v[8];
        uint64_t step = 0;
        swiftadam_config c;
        swiftadam_config_init(&c, sizeof c);
        CHECK(swiftadam_get_config(s, &c) == SWIFTADAM_OK && c.lr == 0.01 && c.beta1 == 0.9 && c.beta2 == 0.999 &&
              c.eps == 1e-8 && c.weight_decay == 0 && c.flags == 0, "%s: hyperparameters", STEPPED_FILE);
        CHECK(swiftadam_tensor_step(s, 0, &step) == SWIFTADAM_OK && step == 3, "%s: step %llu", STEPPED_FILE, (unsigned long long)step);
        CHECK(swiftadam_get_moment(s, 0, SWIFTADAM_MOMENT_EXP_AVG, m, 8) == SWIFTADAM_OK &&
              memcmp(m, STEPPED_EXP_AVG, sizeof m) == 0, "%s: exp_avg differs", STEPPED_FILE);
        CHECK(swiftadam_get_moment(s, 0, SWIFTADAM_MOMENT_EXP_AVG_SQ, v, 8) == SWIFTADAM_OK &&
              memcmp(v, STEPPED_EXP_AVG_SQ, sizeof v) == 0, "%s: exp_avg_sq differs", STEPPED_FILE);
        check_reserialize(s, bytes, size, STEPPED_FILE);
        flips += exhaustive(bytes, size, STEPPED_FILE);
        swiftadam_free(s);
    }
    free(bytes);
    for (size_t f = 0; f < GOLDEN_V2_COUNT; f++) flips += check_v2(dir, &GOLDEN_V2[f], f, &files);
    for (size_t f = 0; f < GOLDEN_HALF_COUNT; f++) flips += check_v2(dir, &GOLDEN_HALF[f], GOLDEN_HALF_BASE + f, &files);
    snprintf(path, sizeof path, "%s/%s", dir, STEPPED_V2_FILE);
    bytes = read_file(path, &size);
    s = NULL;
    CHECK(swiftadam_load(path, &len, 1, &s) == SWIFTADAM_OK, "%s: load", STEPPED_V2_FILE);
    if (s) {
        files++;
        double m[8], v[8];
        uint64_t step = 0;
        swiftadam_config c;
        swiftadam_config_init(&c, sizeof c);
        CHECK(swiftadam_get_config(s, &c) == SWIFTADAM_OK && c.lr == 0.01 && c.eps == 1e-7 && c.flags == 0 &&
              c.flavor == SWIFTADAM_FLAVOR_KERAS && c.dtype == SWIFTADAM_DTYPE_FLOAT64, "%s: config", STEPPED_V2_FILE);
        CHECK(swiftadam_tensor_step(s, 0, &step) == SWIFTADAM_OK && step == 3, "%s: step", STEPPED_V2_FILE);
        CHECK(swiftadam_get_moment_f64(s, 0, SWIFTADAM_MOMENT_EXP_AVG, m, 8) == SWIFTADAM_OK &&
              memcmp(m, STEPPED_V2_EXP_AVG, sizeof m) == 0, "%s: exp_avg differs", STEPPED_V2_FILE);
        CHECK(swiftadam_get_moment_f64(s, 0, SWIFTADAM_MOMENT_EXP_AVG_SQ, v, 8) == SWIFTADAM_OK &&
              memcmp(v, STEPPED_V2_EXP_AVG_SQ, sizeof v) == 0, "%s: exp_avg_sq differs", STEPPED_V2_FILE);
        check_reserialize(s, bytes, size, STEPPED_V2_FILE);
        flips += exhaustive(bytes, size, STEPPED_V2_FILE);
        swiftadam_free(s);
    }
    free(bytes);
    printf("golden files (format versions 1 and 2): %zu loaded; %ld corrupted variants (every single-bit flip and every truncation) all rejected\n",
           files, flips);
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}
