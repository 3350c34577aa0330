/* Writes the golden checkpoints described in golden_spec.h into the current directory.
 * Run once (they are committed); `make golden-regen` rebuilds them for inspection only:
 * committed files must never be replaced, since they stand for checkpoints users have. */
#include "golden_spec.h"
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>

int main(void) {
    for (size_t f = 0; f < GOLDEN_COUNT; f++) {
        const golden_spec *g = &GOLDEN[f];
        swiftadam_config cfg;
        swiftadam_config_init(&cfg, sizeof cfg);
        cfg.lr = g->lr; cfg.beta1 = g->beta1; cfg.beta2 = g->beta2; cfg.eps = g->eps;
        cfg.weight_decay = g->weight_decay; cfg.flags = g->flags;
        swiftadam_state *s = NULL;
        if (swiftadam_create(g->lens, g->n, &cfg, &s) != SWIFTADAM_OK) { fprintf(stderr, "%s\n", swiftadam_last_error()); return 1; }
        int moments = (g->flags & SWIFTADAM_FLAG_AMSGRAD) ? 3 : 2;
        for (size_t t = 0; t < g->n; t++) {
            if (swiftadam_set_tensor_step(s, t, g->steps[t]) != SWIFTADAM_OK) { fprintf(stderr, "%s\n", swiftadam_last_error()); return 1; }
            float buf[64];
            for (int w = 0; w < moments; w++) {
                for (size_t i = 0; i < g->lens[t]; i++) buf[i] = golden_moment(f, t, w, i);
                if (swiftadam_set_moment(s, t, w, buf, g->lens[t]) != SWIFTADAM_OK) { fprintf(stderr, "%s\n", swiftadam_last_error()); return 1; }
            }
        }
        if (swiftadam_save(s, g->file) != SWIFTADAM_OK) { fprintf(stderr, "%s\n", swiftadam_last_error()); return 1; }
        swiftadam_free(s);
        printf("wrote %s\n", g->file);
    }
    for (size_t f = 0; f < GOLDEN_V2_COUNT; f++) {
        const golden_spec_v2 *g = &GOLDEN_V2[f];
        swiftadam_config cfg;
        swiftadam_config_init(&cfg, sizeof cfg);
        cfg.lr = g->lr; cfg.beta1 = g->beta1; cfg.beta2 = g->beta2; cfg.eps = g->eps;
        cfg.weight_decay = g->weight_decay; cfg.flags = g->flags; cfg.flavor = g->flavor; cfg.dtype = g->dtype;
        swiftadam_state *s = NULL;
        if (swiftadam_create(g->lens, g->n, &cfg, &s) != SWIFTADAM_OK) { fprintf(stderr, "%s\n", swiftadam_last_error()); return 1; }
        int moments = (g->flags & SWIFTADAM_FLAG_AMSGRAD) ? 3 : 2;
        for (size_t t = 0; t < g->n; t++) {
            if (swiftadam_set_tensor_step(s, t, g->steps[t]) != SWIFTADAM_OK) { fprintf(stderr, "%s\n", swiftadam_last_error()); return 1; }
            double d[64];
            float x[64];
            for (int w = 0; w < moments; w++) {
                for (size_t i = 0; i < g->lens[t]; i++) x[i] = (float)(d[i] = golden_moment_v2(f, t, w, i, g->dtype));
                int32_t rc = g->dtype == SWIFTADAM_DTYPE_FLOAT64 ? swiftadam_set_moment_f64(s, t, w, d, g->lens[t])
                                                                : swiftadam_set_moment(s, t, w, x, g->lens[t]);
                if (rc != SWIFTADAM_OK) { fprintf(stderr, "%s\n", swiftadam_last_error()); return 1; }
            }
        }
        if (swiftadam_save(s, g->file) != SWIFTADAM_OK) { fprintf(stderr, "%s\n", swiftadam_last_error()); return 1; }
        swiftadam_free(s);
        printf("wrote %s\n", g->file);
    }
    for (size_t f = 0; f < GOLDEN_HALF_COUNT; f++) {
        const golden_spec_v2 *g = &GOLDEN_HALF[f];
        swiftadam_config cfg;
        swiftadam_config_init(&cfg, sizeof cfg);
        cfg.lr = g->lr; cfg.beta1 = g->beta1; cfg.beta2 = g->beta2; cfg.eps = g->eps;
        cfg.weight_decay = g->weight_decay; cfg.flags = g->flags; cfg.flavor = g->flavor; cfg.dtype = g->dtype;
        uint16_t zeros[64] = {0};
        const uint16_t *params[4] = {zeros, zeros, zeros, zeros};
        swiftadam_state *s = NULL;
        if (swiftadam_create_half(g->lens, g->n, &cfg, params, &s) != SWIFTADAM_OK) { fprintf(stderr, "%s\n", swiftadam_last_error()); return 1; }
        int moments = (g->flags & SWIFTADAM_FLAG_AMSGRAD) ? 3 : 2;
        for (size_t t = 0; t < g->n; t++) {
            float x[64];
            int32_t rc = swiftadam_set_tensor_step(s, t, g->steps[t]);
            for (int w = 0; w < moments && rc == SWIFTADAM_OK; w++) {
                for (size_t i = 0; i < g->lens[t]; i++) x[i] = (float)golden_moment_v2(GOLDEN_HALF_BASE + f, t, w, i, SWIFTADAM_DTYPE_FLOAT32);
                rc = swiftadam_set_moment(s, t, w, x, g->lens[t]);
            }
            for (size_t i = 0; i < g->lens[t]; i++) x[i] = golden_master(f, t, i);
            if (rc == SWIFTADAM_OK) rc = swiftadam_set_master(s, t, x, g->lens[t]);
            if (rc != SWIFTADAM_OK) { fprintf(stderr, "%s\n", swiftadam_last_error()); return 1; }
        }
        if (swiftadam_save(s, g->file) != SWIFTADAM_OK) { fprintf(stderr, "%s\n", swiftadam_last_error()); return 1; }
        swiftadam_free(s);
        printf("wrote %s\n", g->file);
    }
    {
        /* A float64 keras state that really stepped: 3 steps, as below. */
        size_t len = 8;
        swiftadam_config cfg;
        swiftadam_config_init(&cfg, sizeof cfg);
        cfg.lr = 0.01; cfg.eps = 1e-7; cfg.flavor = SWIFTADAM_FLAVOR_KERAS; cfg.dtype = SWIFTADAM_DTYPE_FLOAT64;
        swiftadam_state *s = NULL;
        double p[8] = {0}, g[8], m[8], v[8];
        for (int i = 0; i < 8; i++) g[i] = ((double)i - 3.5) / 10.0;
        if (swiftadam_create(&len, 1, &cfg, &s) != SWIFTADAM_OK) return 1;
        for (int k = 0; k < 3; k++) if (swiftadam_step_tensor_f64(s, p, g, 8, 0) != SWIFTADAM_OK) return 1;
        if (swiftadam_save(s, STEPPED_V2_FILE) != SWIFTADAM_OK) return 1;
        swiftadam_get_moment_f64(s, 0, SWIFTADAM_MOMENT_EXP_AVG, m, 8);
        swiftadam_get_moment_f64(s, 0, SWIFTADAM_MOMENT_EXP_AVG_SQ, v, 8);
        printf("wrote %s\nexp_avg:    ", STEPPED_V2_FILE);
        for (int i = 0; i < 8; i++) printf("%a, ", m[i]);
        printf("\nexp_avg_sq: ");
        for (int i = 0; i < 8; i++) printf("%a, ", v[i]);
        printf("\nparams:     ");
        for (int i = 0; i < 8; i++) printf("%a, ", p[i]);
        printf("\n");
        swiftadam_free(s);
    }
    /* A state that really stepped: 3 Adam steps (lr 0.01) on 8 params from 0 with
     * grads (i - 3.5) / 10. Its moments are printed for test_golden.c (STEPPED_*). */
    size_t len = 8;
    swiftadam_config cfg;
    swiftadam_config_init(&cfg, sizeof cfg);
    cfg.lr = 0.01;
    swiftadam_state *s = NULL;
    float p[8] = {0}, g[8], m[8], v[8];
    for (int i = 0; i < 8; i++) g[i] = ((float)i - 3.5f) / 10.0f;
    if (swiftadam_create(&len, 1, &cfg, &s) != SWIFTADAM_OK) return 1;
    for (int k = 0; k < 3; k++) if (swiftadam_step_tensor(s, p, g, 8, 0) != SWIFTADAM_OK) return 1;
    if (swiftadam_save(s, STEPPED_FILE) != SWIFTADAM_OK) return 1;
    swiftadam_get_moment(s, 0, SWIFTADAM_MOMENT_EXP_AVG, m, 8);
    swiftadam_get_moment(s, 0, SWIFTADAM_MOMENT_EXP_AVG_SQ, v, 8);
    printf("wrote %s\nexp_avg:    ", STEPPED_FILE);
    for (int i = 0; i < 8; i++) printf("%a, ", (double)m[i]);
    printf("\nexp_avg_sq: ");
    for (int i = 0; i < 8; i++) printf("%a, ", (double)v[i]);
    printf("\nparams:     ");
    for (int i = 0; i < 8; i++) printf("%a, ", (double)p[i]);
    printf("\n");
    swiftadam_free(s);
    return 0;
}
