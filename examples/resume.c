/* Several tensors, a learning-rate schedule, a checkpoint, and a resume that continues the
 * run bit for bit; every step is checked against the README formula computed here in C.
 *
 *   After `make install`:   cc examples/resume.c $(pkg-config --cflags --libs swiftadam) -lm -o resume
 *   From the build tree:    cc -Iinclude examples/resume.c -L.build/release -lSwiftAdam \
 *                              -Wl,-rpath,$PWD/.build/release -lm -o resume
 *   ./resume [checkpoint-path]
 *
 * The reference must not fuse multiply-adds (the library never does): GCC fuses by default
 * when the target has FMA (-march=native and the like), so add -ffp-contract=off there. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "swiftadam.h"

#define NT 3
#define STEPS 40
#define SAVE_AT 20   /* checkpoint after this many steps */
static const size_t LEN[NT] = {4, 33, 1000};
static const double B1 = 0.9, B2 = 0.999, EPS = 1e-8, WD = 0.01;

#define TRY(call) do { int32_t rc_ = (call); if (rc_ != SWIFTADAM_OK) { \
    fprintf(stderr, "%s: %s: %s\n", #call, swiftadam_status_name(rc_), swiftadam_last_error()); exit(1); } } while (0)

/* Cosine decay from 0.05 to 0. */
static double lr_at(int step) { return 0.05 * 0.5 * (1 + cos(3.141592653589793 * step / STEPS)); }

/* The README formula for AdamW (decoupled weight decay) at step t: the scalars in double,
 * each rounded once to float; the element operations in float, in this order. */
static void reference_step(float *p, float *m, float *v, const float *g, size_t n, long t, double lr) {
    const float decay = (float)(1 - lr * WD), w1 = (float)(1 - B1), beta2 = (float)B2;
    const float one_minus_b2 = (float)(1 - B2), eps = (float)EPS;
    const float bc2_sqrt = (float)sqrt(1 - pow(B2, (double)t));
    const float neg_step = (float)(-(lr / (1 - pow(B1, (double)t))));
    for (size_t i = 0; i < n; i++) {
        p[i] = p[i] * decay;
        m[i] = w1 < 0.5f ? m[i] + w1 * (g[i] - m[i]) : g[i] - (g[i] - m[i]) * (1 - w1);
        v[i] = v[i] * beta2 + (one_minus_b2 * g[i]) * g[i];
        p[i] = p[i] + (neg_step * m[i]) / (sqrtf(v[i]) / bc2_sqrt + eps);
    }
}

/* Gradient of sum (p_i - target_i)^2 / 2 with target_i = sin(i + k). */
static void gradients(float *const *p, float **g) {
    for (int k = 0; k < NT; k++)
        for (size_t i = 0; i < LEN[k]; i++) g[k][i] = p[k][i] - (float)sin((double)(i + k));
}

static float *alloc_floats(size_t n) {
    float *x = calloc(n, sizeof *x);
    if (!x) { perror("calloc"); exit(1); }
    return x;
}

/* Runs steps [from, STEPS) on `params`; with `ref` set, checks each step against the formula
 * and saves a checkpoint to `path` (plus a copy of the params) after SAVE_AT steps. */
static void train(swiftadam_state *opt, float **params, int from, float **ref_p, float **ref_m,
                  float **ref_v, const char *path, float **saved) {
    float *grads[NT];
    for (int k = 0; k < NT; k++) grads[k] = alloc_floats(LEN[k]);
    for (int step = from; step < STEPS; step++) {
        TRY(swiftadam_set_lr(opt, lr_at(step)));
        gradients(params, grads);
        /* C will not turn float ** into const float *const * by itself: the cast is needed. */
        TRY(swiftadam_step(opt, params, (const float *const *)grads, NT, 0));
        if (!ref_p) continue;
        for (int k = 0; k < NT; k++) {
            reference_step(ref_p[k], ref_m[k], ref_v[k], grads[k], LEN[k], step + 1, lr_at(step));
            if (memcmp(ref_p[k], params[k], LEN[k] * sizeof(float)) != 0) {
                fprintf(stderr, "step %d, tensor %d: library and README formula differ\n", step + 1, k);
                exit(1);
            }
        }
        if (step + 1 == SAVE_AT) {
            TRY(swiftadam_save(opt, path));
            for (int k = 0; k < NT; k++) memcpy(saved[k], params[k], LEN[k] * sizeof(float));
        }
    }
    for (int k = 0; k < NT; k++) free(grads[k]);
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "resume.ckpt";
    float *params[NT], *ref_p[NT], *ref_m[NT], *ref_v[NT], *saved[NT];
    for (int k = 0; k < NT; k++) {
        params[k] = alloc_floats(LEN[k]);
        ref_p[k] = alloc_floats(LEN[k]); ref_m[k] = alloc_floats(LEN[k]); ref_v[k] = alloc_floats(LEN[k]);
        saved[k] = alloc_floats(LEN[k]);
        for (size_t i = 0; i < LEN[k]; i++) params[k][i] = ref_p[k][i] = (float)cos((double)(3 * i + k));
    }
    swiftadam_config cfg;
    TRY(swiftadam_config_init(&cfg, sizeof cfg));
    cfg.beta1 = B1; cfg.beta2 = B2; cfg.eps = EPS; cfg.weight_decay = WD;
    cfg.flags = SWIFTADAM_FLAG_DECOUPLED_WEIGHT_DECAY;

    swiftadam_state *opt = NULL;
    TRY(swiftadam_create(LEN, NT, &cfg, &opt));
    train(opt, params, 0, ref_p, ref_m, ref_v, path, saved);
    TRY(swiftadam_free(opt));
    printf("%d steps on %d tensors with a cosine lr schedule: bit-identical to the README formula\n",
           STEPS, NT);

    /* Resume: the checkpoint holds the moments, steps and hyperparameters; the params are ours. */
    swiftadam_state *resumed = NULL;
    TRY(swiftadam_load(path, LEN, NT, &resumed));
    uint64_t t = 0;
    TRY(swiftadam_tensor_step(resumed, 0, &t));
    train(resumed, saved, SAVE_AT, NULL, NULL, NULL, NULL, NULL);
    TRY(swiftadam_free(resumed));
    for (int k = 0; k < NT; k++)
        if (memcmp(saved[k], params[k], LEN[k] * sizeof(float)) != 0) {
            fprintf(stderr, "tensor %d: the resumed run differs from the uninterrupted one\n", k);
            return 1;
        }
    printf("saved after step %d, freed, loaded (step count %llu), resumed: final params bit-identical\n",
           SAVE_AT, (unsigned long long)t);
    for (int k = 0; k < NT; k++) { free(params[k]); free(ref_p[k]); free(ref_m[k]); free(ref_v[k]); free(saved[k]); }
    return 0;
}
