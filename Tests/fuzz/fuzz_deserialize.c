/* libFuzzer target: arbitrary bytes -> swiftadam_deserialize (memory reader) and
 * swiftadam_load (streaming file reader, through a memfd), both through the C ABI.
 *
 * Properties checked on every input (a violation calls abort(): libFuzzer reports a crash):
 *   - no crash, no sanitizer report, no single allocation above -malloc_limit_mb (the
 *     reader allocates nothing larger than the input before validating it);
 *   - both readers agree: same status, and on success the same state;
 *   - a failure returns a documented status with a non-empty message and leaves *out as is;
 *   - an accepted input is canonical: serializing the state gives back exactly the input;
 *   - an accepted input is also accepted with its own shapes as expected lengths and
 *     rejected (SIZE_MISMATCH) with one length changed;
 *   - the state of an accepted input can take a step.
 */
#define _GNU_SOURCE
#include "swiftadam.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int memfd = -1;
static char memfd_path[64];

#define REQUIRE(cond, ...) do { if (!(cond)) { fprintf(stderr, "property violated: %s: ", #cond); \
    fprintf(stderr, __VA_ARGS__); fprintf(stderr, " (last_error: %s)\n", swiftadam_last_error()); abort(); } } while (0)

static int documented_reader_status(int32_t rc) {
    switch (rc) {
    case SWIFTADAM_ERR_BAD_MAGIC: case SWIFTADAM_ERR_UNSUPPORTED_VERSION: case SWIFTADAM_ERR_CORRUPT:
    case SWIFTADAM_ERR_CHECKSUM: case SWIFTADAM_ERR_INVALID_ARGUMENT: case SWIFTADAM_ERR_UNSUPPORTED:
    case SWIFTADAM_ERR_OUT_OF_MEMORY:   /* documented for deserialize; OVERFLOW is not */
        return 1;
    default:
        return 0;
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    memfd = memfd_create("swiftadam_fuzz", MFD_CLOEXEC);
    if (memfd < 0) { perror("memfd_create"); abort(); }
    snprintf(memfd_path, sizeof memfd_path, "/proc/self/fd/%d", memfd);
    return 0;
}

static void check_state(swiftadam_state *s, const uint8_t *data, size_t size) {
    size_t n = 0, want = 0, written = 0;
    REQUIRE(swiftadam_num_tensors(s, &n) == SWIFTADAM_OK && n >= 1, "num_tensors");
    REQUIRE(swiftadam_serialized_size(s, &want) == SWIFTADAM_OK, "serialized_size");
    REQUIRE(want == size, "accepted %zu bytes but would write %zu", size, want);
    uint8_t *out = malloc(size);
    REQUIRE(out != NULL, "malloc");
    REQUIRE(swiftadam_serialize(s, out, size, &written) == SWIFTADAM_OK && written == size, "serialize");
    REQUIRE(memcmp(out, data, size) == 0, "accepted input is not canonical (bytes -> state -> bytes differs)");
    free(out);

    /* expected lengths: its own shapes pass, one changed length fails */
    size_t *lens = malloc(n * sizeof *lens), total = 0;
    REQUIRE(lens != NULL, "malloc");
    for (size_t i = 0; i < n; i++) {
        REQUIRE(swiftadam_tensor_length(s, i, &lens[i]) == SWIFTADAM_OK, "tensor_length");
        total += lens[i];
    }
    swiftadam_state *t = NULL;
    REQUIRE(swiftadam_deserialize(data, size, lens, n, &t) == SWIFTADAM_OK, "own shapes rejected");
    swiftadam_free(t);
    lens[n - 1] += 1;
    t = (swiftadam_state *)0x5a;
    REQUIRE(swiftadam_deserialize(data, size, lens, n, &t) == SWIFTADAM_ERR_SIZE_MISMATCH, "changed shape accepted");
    REQUIRE(t == (swiftadam_state *)0x5a, "*out written on failure");
    free(lens);

    /* one step with gradient 1 (params 0) works on whatever moments were stored, through
     * the entry point of the state's dtype (the other dtypes' must refuse it) */
    uint32_t dtype = 99;
    REQUIRE(swiftadam_get_dtype(s, &dtype) == SWIFTADAM_OK, "get_dtype");
    REQUIRE(dtype <= SWIFTADAM_DTYPE_BFLOAT16, "unknown dtype %u", dtype);
    if (total <= 4096) {
        int f64 = dtype == SWIFTADAM_DTYPE_FLOAT64, half = dtype >= SWIFTADAM_DTYPE_FLOAT16;
        size_t esz = f64 ? sizeof(double) : half ? sizeof(uint16_t) : sizeof(float);
        unsigned char *p = calloc(total + 1, esz), *g = malloc((total + 1) * esz);
        void **params = malloc(n * sizeof *params);
        const void **grads = malloc(n * sizeof *grads);
        REQUIRE(p && g && params && grads, "malloc");
        for (size_t i = 0; i <= total; i++) {
            if (f64) ((double *)g)[i] = 1.0;
            else if (half) ((uint16_t *)g)[i] = dtype == SWIFTADAM_DTYPE_FLOAT16 ? 0x3C00 : 0x3F80;   /* 1.0 */
            else ((float *)g)[i] = 1.0f;
        }
        size_t off = 0;
        for (size_t i = 0; i < n; i++) {
            size_t len = 0;
            swiftadam_tensor_length(s, i, &len);
            params[i] = p + off * esz; grads[i] = g + off * esz;
            off += len;
        }
        int32_t wrong = f64 ? swiftadam_step(s, (float *const *)params, (const float *const *)grads, n, 0)
                            : swiftadam_step_f64(s, (double *const *)params, (const double *const *)grads, n, 0);
        REQUIRE(wrong == SWIFTADAM_ERR_DTYPE_MISMATCH, "other dtype's step = %d", wrong);
        wrong = half ? swiftadam_step(s, (float *const *)params, (const float *const *)grads, n, 0)
                     : swiftadam_step_half(s, (uint16_t *const *)params, (const uint16_t *const *)grads, n, 1.0, 0);
        REQUIRE(wrong == SWIFTADAM_ERR_DTYPE_MISMATCH, "other dtype's step = %d", wrong);
        int32_t rc = f64 ? swiftadam_step_f64(s, (double *const *)params, (const double *const *)grads, n, 0)
                   : half ? swiftadam_step_half(s, (uint16_t *const *)params, (const uint16_t *const *)grads, n, 1.0, 0)
                          : swiftadam_step(s, (float *const *)params, (const float *const *)grads, n, 0);
        /* OVERFLOW: a tensor already at the 2^53 step limit */
        REQUIRE(rc == SWIFTADAM_OK || rc == SWIFTADAM_ERR_OVERFLOW, "step = %d", rc);
        free(p); free(g); free(params); free(grads);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    swiftadam_state *s = (swiftadam_state *)0x5a, *l = (swiftadam_state *)0x5a;
    int32_t rc = swiftadam_deserialize(data, size, NULL, 0, &s);

    /* the same bytes through the file reader */
    REQUIRE(ftruncate(memfd, 0) == 0, "ftruncate");
    REQUIRE(size == 0 || pwrite(memfd, data, size, 0) == (ssize_t)size, "pwrite");
    int32_t rl = swiftadam_load(memfd_path, NULL, 0, &l);
    REQUIRE(rc == rl, "memory reader says %d (%s), file reader says %d (%s)", rc, swiftadam_status_name(rc),
            rl, swiftadam_status_name(rl));

    if (rc == SWIFTADAM_OK) {
        check_state(s, data, size);
        check_state(l, data, size);
        REQUIRE(swiftadam_free(s) == SWIFTADAM_OK && swiftadam_free(l) == SWIFTADAM_OK, "free");
    } else {
        REQUIRE(documented_reader_status(rc), "undocumented status %d (%s)", rc, swiftadam_status_name(rc));
        REQUIRE(swiftadam_last_error()[0] != 0, "empty message");
        REQUIRE(s == (swiftadam_state *)0x5a && l == (swiftadam_state *)0x5a, "*out written on failure");
    }
    return 0;
}
