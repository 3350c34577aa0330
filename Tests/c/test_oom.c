/* Out of memory is a status code, never an abort. Each case runs in a child whose address
 * space is capped (RLIMIT_AS = what it already maps + a headroom) and makes calls whose
 * allocations the caller sizes: a tensor count of 2^24, checkpoints of 2^22 tensors.
 * Every call must return SWIFTADAM_ERR_OUT_OF_MEMORY (headroom too small for the state)
 * or succeed (headroom enough for the state itself, but not for a copy of its tables:
 * the library must not make one). A child killed by a signal is a trap.
 * Usage: test_oom
 */
#define _GNU_SOURCE
#include "swiftadam.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define MB (1024L * 1024L)
enum { MANY = 1 << 22 };   /* tensors in the checkpoint cases: a 64 MiB tensor table */

static long mapped_bytes(void) {
    long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) { if (fscanf(f, "%ld", &pages) != 1) pages = 0; fclose(f); }
    return pages * sysconf(_SC_PAGESIZE);
}

static void cap_address_space(long headroom) {
    struct rlimit r;
    r.rlim_cur = r.rlim_max = (rlim_t)(mapped_bytes() + headroom);
    if (setrlimit(RLIMIT_AS, &r) != 0) { perror("setrlimit"); _exit(90); }
}

static swiftadam_state *many;      /* MANY zero-length tensors, some steps set */
static size_t *many_lengths;
static unsigned char *ckpt;        /* its checkpoint */
static size_t ckpt_size;
static char path[64];

/* 0 when rc is `want` (and, for OK, the new state is right), else a code for the report. */
static int expect(int32_t rc, int32_t want, swiftadam_state *made) {
    if (rc != want) {
        fprintf(stderr, "  got %s, want %s (%s)\n", swiftadam_status_name(rc), swiftadam_status_name(want), swiftadam_last_error());
        return 10;
    }
    if (rc == SWIFTADAM_OK && made) {
        size_t n = 0;
        uint64_t step = 0;
        if (swiftadam_num_tensors(made, &n) != SWIFTADAM_OK || n != MANY) return 11;
        if (swiftadam_tensor_step(made, MANY - 1, &step) != SWIFTADAM_OK || step != 42) return 12;
        if (swiftadam_free(made) != SWIFTADAM_OK) return 13;
    }
    return 0;
}

static int create_max_tensors(void) {
    size_t n = SWIFTADAM_MAX_TENSORS;
    size_t *lens = malloc(n * sizeof *lens);
    if (!lens) return 91;
    for (size_t i = 0; i < n; i++) lens[i] = 1;
    cap_address_space(160 * MB);
    swiftadam_state *s = NULL;
    return expect(swiftadam_create(lens, n, NULL, &s), SWIFTADAM_ERR_OUT_OF_MEMORY, NULL);
}

static int create_huge_tensor(void) {
    size_t n = (size_t)1 << 36;   /* 512 GiB of moments */
    cap_address_space(256 * MB);
    swiftadam_state *s = NULL;
    return expect(swiftadam_create(&n, 1, NULL, &s), SWIFTADAM_ERR_OUT_OF_MEMORY, NULL);
}

/* A state of MANY tensors needs a 96 MiB table (3 words per tensor): 32 MiB of headroom
 * cannot hold it, 160 MiB can, but not the copies of the tensor table the old reader made. */
static int deserialize_small(void) {
    cap_address_space(32 * MB);
    swiftadam_state *s = NULL;
    return expect(swiftadam_deserialize(ckpt, ckpt_size, many_lengths, MANY, &s), SWIFTADAM_ERR_OUT_OF_MEMORY, NULL);
}

static int deserialize_enough(void) {
    cap_address_space(160 * MB);
    swiftadam_state *s = NULL;
    int32_t rc = swiftadam_deserialize(ckpt, ckpt_size, many_lengths, MANY, &s);
    return expect(rc, SWIFTADAM_OK, s);
}

static int load_small(void) {
    cap_address_space(32 * MB);
    swiftadam_state *s = NULL;
    return expect(swiftadam_load(path, many_lengths, MANY, &s), SWIFTADAM_ERR_OUT_OF_MEMORY, NULL);
}

static int load_enough(void) {
    cap_address_space(160 * MB);
    swiftadam_state *s = NULL;
    int32_t rc = swiftadam_load(path, many_lengths, MANY, &s);
    return expect(rc, SWIFTADAM_OK, s);
}

static int serialize_capped(void) {
    unsigned char *buf = malloc(ckpt_size);
    if (!buf) return 91;
    cap_address_space(32 * MB);
    size_t written = 0;
    int r = expect(swiftadam_serialize(many, buf, ckpt_size, &written), SWIFTADAM_OK, NULL);
    if (r == 0 && (written != ckpt_size || memcmp(buf, ckpt, ckpt_size) != 0)) r = 14;
    return r;
}

static int save_capped(void) {
    cap_address_space(32 * MB);
    return expect(swiftadam_save(many, path), SWIFTADAM_OK, NULL);
}

static int run(const char *name, int (*body)(void)) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); exit(1); }
    if (pid == 0) {
        alarm(60);
        _exit(body());
    }
    int st = 0;
    waitpid(pid, &st, 0);
    int ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (WIFSIGNALED(st))
        printf("%-44s FAIL: killed by signal %d (%s)\n", name, WTERMSIG(st), strsignal(WTERMSIG(st)));
    else
        printf("%-44s %s (exit %d)\n", name, ok ? "ok" : "FAIL", WEXITSTATUS(st));
    return ok;
}

int main(void) {
    many_lengths = calloc(MANY, sizeof *many_lengths);
    if (!many_lengths) { fprintf(stderr, "FAIL: calloc\n"); return 1; }
    int32_t rc = swiftadam_create(many_lengths, MANY, NULL, &many);
    for (size_t i = 0; rc == SWIFTADAM_OK && i < MANY; i += MANY / 8) rc = swiftadam_set_tensor_step(many, i, i % 1000);
    if (rc == SWIFTADAM_OK) rc = swiftadam_set_tensor_step(many, MANY - 1, 42);
    if (rc == SWIFTADAM_OK) rc = swiftadam_serialized_size(many, &ckpt_size);
    if (rc == SWIFTADAM_OK && !(ckpt = malloc(ckpt_size))) rc = SWIFTADAM_ERR_OUT_OF_MEMORY;
    size_t written = 0;
    if (rc == SWIFTADAM_OK) rc = swiftadam_serialize(many, ckpt, ckpt_size, &written);
    snprintf(path, sizeof path, "/tmp/swiftadam_oom.%d.ckpt", (int)getpid());
    if (rc == SWIFTADAM_OK) rc = swiftadam_save(many, path);
    if (rc != SWIFTADAM_OK) { fprintf(stderr, "FAIL: setup: %s (%s)\n", swiftadam_status_name(rc), swiftadam_last_error()); return 1; }

    int passed = 0, total = 0;
    struct { const char *name; int (*body)(void); } cases[] = {
        {"create: 2^24 tensors, 160 MiB headroom", create_max_tensors},
        {"create: 2^36 floats, 256 MiB headroom", create_huge_tensor},
        {"deserialize: 2^22 tensors, 32 MiB headroom", deserialize_small},
        {"deserialize: 2^22 tensors, 160 MiB headroom", deserialize_enough},
        {"load: 2^22 tensors, 32 MiB headroom", load_small},
        {"load: 2^22 tensors, 160 MiB headroom", load_enough},
        {"serialize: 2^22 tensors, 32 MiB headroom", serialize_capped},
        {"save: 2^22 tensors, 32 MiB headroom", save_capped},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++, total++) passed += run(cases[k].name, cases[k].body);
    unlink(path);
    swiftadam_free(many);
    printf("%d passed, %d failed\n", passed, total - passed);
    return passed == total ? 0 : 1;
}
