/* The contents of the golden checkpoints in Tests/golden/, shared by make_golden.c (which
 * wrote the files once: the v1_* files with library 0.1.0, format version 1; the v2_* files
 * with the library that introduced float64 and the keras flavour, format version 2) and
 * test_golden.c (which checks that every later library still reads them to exactly these
 * values). Do not change a spec: add a new file instead. */
#ifndef GOLDEN_SPEC_H
#define GOLDEN_SPEC_H
#include "swiftadam.h"
#include <string.h>

typedef struct {
    const char *file;
    size_t n;
    size_t lens[4];
    uint64_t steps[4];
    double lr, beta1, beta2, eps, weight_decay;
    uint32_t flags;
} golden_spec;

static const golden_spec GOLDEN[] = {
    {"v1_single_default.ckpt", 1, {4}, {1}, 1e-3, 0.9, 0.999, 1e-8, 0.0, 0},
    {"v1_group_amsgrad_maximize.ckpt", 3, {5, 0, 37}, {7, 0, 123456789},
     0.0125, 0.8, 0.99, 1e-6, 0.03, SWIFTADAM_FLAG_AMSGRAD | SWIFTADAM_FLAG_MAXIMIZE},
    {"v1_adamw_nobias.ckpt", 2, {16, 1}, {(uint64_t)1 << 53, 2},
     3e-4, 0.0, 0.5, 0.0, 0.01, SWIFTADAM_FLAG_DECOUPLED_WEIGHT_DECAY | SWIFTADAM_FLAG_NO_BIAS_CORRECTION},
    {"v1_all_flags_4tensors.ckpt", 4, {1, 2, 15, 64}, {3, 3, 3, 3},
     1.0, 0.95, 0.9999, 1e-12, 1e-4, 0xF},
};
#define GOLDEN_COUNT (sizeof GOLDEN / sizeof *GOLDEN)
#define STEPPED_FILE "v1_stepped_adam.ckpt"

/* Moment `which` of tensor t, element i: multiples of 1/128, exact in float32; plus two
 * bit patterns that must survive untouched: -0.0 and a subnormal. */
static inline float golden_moment(size_t file, size_t t, int which, size_t i) {
    if (t == 0 && i == 0 && which == 0 && file == 1) return -0.0f;
    if (t == 0 && i == 1 && which == 0 && file == 1) return 1e-40f;
    float sign = (which == 0 && i % 3 == 2) ? -1.0f : 1.0f;   /* exp_avg has both signs */
    return sign * (float)((file + 1) * 10000 + (t + 1) * 1000 + (size_t)which * 100 + i) * 0.0078125f;
}

/* Format version 2: float64 states and the keras flavour. */
typedef struct {
    const char *file;
    size_t n;
    size_t lens[4];
    uint64_t steps[4];
    double lr, beta1, beta2, eps, weight_decay;
    uint32_t flags, flavor, dtype;
} golden_spec_v2;

static const golden_spec_v2 GOLDEN_V2[] = {
    {"v2_float64_keras_group.ckpt", 3, {5, 0, 37}, {4, 0, 9}, 1e-3, 0.9, 0.999, 1e-7, 0.004,
     SWIFTADAM_FLAG_AMSGRAD | SWIFTADAM_FLAG_DECOUPLED_WEIGHT_DECAY, SWIFTADAM_FLAVOR_KERAS, SWIFTADAM_DTYPE_FLOAT64},
    {"v2_float64_torch.ckpt", 1, {9}, {1000}, 3e-4, 0.8, 0.99, 1e-8, 0.0, SWIFTADAM_FLAG_MAXIMIZE,
     SWIFTADAM_FLAVOR_TORCH, SWIFTADAM_DTYPE_FLOAT64},
    {"v2_float32_keras.ckpt", 2, {16, 1}, {(uint64_t)1 << 53, 2}, 0.01, 0.5, 0.9, 1e-7, 0.0,
     SWIFTADAM_FLAG_NO_BIAS_CORRECTION, SWIFTADAM_FLAVOR_KERAS, SWIFTADAM_DTYPE_FLOAT32},
};
#define GOLDEN_V2_COUNT (sizeof GOLDEN_V2 / sizeof *GOLDEN_V2)
#define STEPPED_V2_FILE "v2_stepped_float64_keras.ckpt"

/* Moment values of the version-2 files, exact in both dtypes (multiples of 1/128), plus
 * -0.0 and the smallest subnormal of the file's dtype, which must survive untouched. */
static inline double golden_moment_v2(size_t file, size_t t, int which, size_t i, uint32_t dtype) {
    if (t == 0 && i == 0 && which == 0) return -0.0;
    if (t == 0 && i == 1 && which == 0) return dtype == SWIFTADAM_DTYPE_FLOAT64 ? 4.9406564584124654e-324 : 1.4012984643248171e-45;
    double sign = (which == 0 && i % 3 == 2) ? -1.0 : 1.0;
    return sign * (double)((file + 1) * 10000 + (t + 1) * 1000 + (size_t)which * 100 + i) * 0.0078125;
}

/* Format version 2, 16-bit params: float32 moments (golden_moment_v2 as float32, file index
 * GOLDEN_HALF_BASE + f) and a float32 master (golden_master). */
static const golden_spec_v2 GOLDEN_HALF[] = {
    {"v2_bfloat16_master_group.ckpt", 3, {5, 0, 37}, {4, 0, 9}, 1e-3, 0.9, 0.999, 1e-8, 0.01,
     SWIFTADAM_FLAG_AMSGRAD | SWIFTADAM_FLAG_DECOUPLED_WEIGHT_DECAY, SWIFTADAM_FLAVOR_TORCH, SWIFTADAM_DTYPE_BFLOAT16},
    {"v2_float16_master_keras.ckpt", 1, {9}, {1000}, 3e-4, 0.8, 0.99, 1e-7, 0.0, 0,
     SWIFTADAM_FLAVOR_KERAS, SWIFTADAM_DTYPE_FLOAT16},
};
#define GOLDEN_HALF_COUNT (sizeof GOLDEN_HALF / sizeof *GOLDEN_HALF)
#define GOLDEN_HALF_BASE 10

/* Master values: multiples of 1/128 with both signs, plus -0.0, a float32 subnormal and a
 * NaN with a payload in tensor 0, which must survive a save and load bit for bit. */
static inline float golden_master(size_t file, size_t t, size_t i) {
    if (t == 0 && i == 0) return -0.0f;
    if (t == 0 && i == 1) return 1e-40f;
    if (t == 0 && i == 2) { uint32_t nan = 0x7FC12345u; float f; memcpy(&f, &nan, 4); return f; }
    float sign = i % 4 == 3 ? -1.0f : 1.0f;
    return sign * (float)((file + 1) * 10000 + (t + 1) * 1000 + 500 + i) * 0.0078125f;
}

#endif
