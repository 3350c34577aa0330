/* Writes the committed seed corpus (run from Tests/fuzz; `make fuzz-seeds`):
 *   corpus/deserialize/: valid checkpoints of several shapes and options, taken after a few
 *     real steps (non-trivial moments, steps, hyperparameters);
 *   corpus/roundtrip/:   byte strings that the round-trip target reads as states of
 *     several shapes (fixed pseudo-random bytes: deterministic output);
 *   corpus/deserialize/v2_*: format-version-2 checkpoints (float64, keras), written after
 *     the others so that their bytes did not change when these were added.
 * Kept small (a few KB each) so libFuzzer can mutate them quickly. */
#include "swiftadam.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long rng = 0x9E3779B97F4A7C15ull;
static unsigned next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (unsigned)(rng >> 32); }

static void write_file(const char *path, const void *b, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b, 1, n, f) != n || fclose(f) != 0) { perror(path); exit(1); }
}

int main(void) {
    struct { size_t n, lens[4]; uint32_t flags; double lr, wd; int steps; } shapes[] = {
        {1, {1}, 0, 1e-3, 0, 1},
        {1, {0}, 0, 1e-3, 0, 0},
        {1, {3}, SWIFTADAM_FLAG_AMSGRAD, 1e-2, 0.1, 2},
        {1, {16}, SWIFTADAM_FLAG_DECOUPLED_WEIGHT_DECAY | SWIFTADAM_FLAG_MAXIMIZE, 3e-4, 1e-2, 3},
        {1, {17}, SWIFTADAM_FLAG_NO_BIAS_CORRECTION, 0.5, 0, 1},
        {3, {5, 0, 37}, SWIFTADAM_FLAG_AMSGRAD | SWIFTADAM_FLAG_MAXIMIZE, 1e-3, 0, 2},
        {4, {1, 1, 1, 1}, 0xF, 1.0, 1e-4, 1},
        {2, {100, 3}, 0, 1e-3, 0.5, 5},
        {2, {64, 65}, SWIFTADAM_FLAG_AMSGRAD, 2e-3, 0, 1},
    };
    char path[256];
    size_t total = 0;
    for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++) {
        swiftadam_config cfg;
        swiftadam_config_init(&cfg, sizeof cfg);
        cfg.flags = shapes[k].flags; cfg.lr = shapes[k].lr; cfg.weight_decay = shapes[k].wd;
        swiftadam_state *s = NULL;
        if (swiftadam_create(shapes[k].lens, shapes[k].n, &cfg, &s) != SWIFTADAM_OK) { fprintf(stderr, "%s\n", swiftadam_last_error()); return 1; }
        float p[256] = {0}, g[256];
        for (int i = 0; i < 256; i++) g[i] = (float)((int)(next() % 2001) - 1000) / 997.0f;
        float *params[4];
        const float *grads[4];
        size_t off = 0;
        for (size_t i = 0; i < shapes[k].n; i++) { params[i] = p + off; grads[i] = (i == 1 && shapes[k].n == 4) ? NULL : g + off; off += shapes[k].lens[i]; }
        for (int t = 0; t < shapes[k].steps; t++)
            if (swiftadam_step(s, params, grads, shapes[k].n, 0) != SWIFTADAM_OK) { fprintf(stderr, "%s\n", swiftadam_last_error()); return 1; }
        size_t size = 0, written = 0;
        swiftadam_serialized_size(s, &size);
        unsigned char *b = malloc(size);
        if (swiftadam_serialize(s, b, size, &written) != SWIFTADAM_OK) return 1;
        snprintf(path, sizeof path, "corpus/deserialize/seed%02zu.ckpt", k);
        write_file(path, b, written);
        total += written;
        free(b);
        swiftadam_free(s);
    }
    for (int k = 0; k < 8; k++) {
        unsigned char b[600];
        size_t n = 40 + (size_t)k * 70;
        for (size_t i = 0; i < n; i++) b[i] = (unsigned char)next();
        b[0] = (unsigned char)k;          /* 1..4 tensors */
        for (int i = 1; i <= 4; i++) b[i] = (unsigned char)(next() % 24);   /* short tensors */
        snprintf(path, sizeof path, "corpus/roundtrip/seed%02d.bin", k);
        write_file(path, b, n);
        total += n;
    }
    struct { size_t n, lens[3]; uint32_t flags, dtype, flavor; } v2[] = {
        {1, {5}, 0, SWIFTADAM_DTYPE_FLOAT64, SWIFTADAM_FLAVOR_TORCH},
        {2, {9, 0}, SWIFTADAM_FLAG_AMSGRAD | SWIFTADAM_FLAG_DECOUPLED_WEIGHT_DECAY, SWIFTADAM_DTYPE_FLOAT64, SWIFTADAM_FLAVOR_KERAS},
        {3, {3, 17, 1}, SWIFTADAM_FLAG_MAXIMIZE, SWIFTADAM_DTYPE_FLOAT32, SWIFTADAM_FLAVOR_KERAS},
    };
    for (size_t k = 0; k < sizeof v2 / sizeof *v2; k++) {
        swiftadam_config cfg;
        swiftadam_config_init(&cfg, sizeof cfg);
        cfg.flags = v2[k].flags; cfg.dtype = v2[k].dtype; cfg.flavor = v2[k].flavor; cfg.weight_decay = 0.01;
        swiftadam_state *s = NULL;
        if (swiftadam_create(v2[k].lens, v2[k].n, &cfg, &s) != SWIFTADAM_OK) { fprintf(stderr, "%s\n", swiftadam_last_error()); return 1; }
        double pd[32] = {0}, gd[32];
        float pf[32] = {0}, gf[32];
        for (int i = 0; i < 32; i++) gf[i] = (float)(gd[i] = (double)((int)(next() % 2001) - 1000) / 997.0);
        void *params[3];
        const void *grads[3];
        size_t off = 0;
        for (size_t i = 0; i < v2[k].n; i++) {
            int f64 = v2[k].dtype == SWIFTADAM_DTYPE_FLOAT64;
            params[i] = f64 ? (void *)(pd + off) : (void *)(pf + off);
            grads[i] = f64 ? (const void *)(gd + off) : (const void *)(gf + off);
            off += v2[k].lens[i];
        }
        for (int t = 0; t < 2; t++) {
            int32_t rc = v2[k].dtype == SWIFTADAM_DTYPE_FLOAT64
                ? swiftadam_step_f64(s, (double *const *)params, (const double *const *)grads, v2[k].n, 0)
                : swiftadam_step(s, (float *const *)params, (const float *const *)grads, v2[k].n, 0);
            if (rc != SWIFTADAM_OK) { fprintf(stderr, "%s\n", swiftadam_last_error()); return 1; }
        }
        size_t size = 0, written = 0;
        swiftadam_serialized_size(s, &size);
        unsigned char *b = malloc(size);
        if (swiftadam_serialize(s, b, size, &written) != SWIFTADAM_OK) return 1;
        snprintf(path, sizeof path, "corpus/deserialize/v2_seed%02zu.ckpt", k);
        write_file(path, b, written);
        total += written;
        free(b);
        swiftadam_free(s);
    }
    printf("seed corpus: %zu bytes\n", total);
    return 0;
}
