/* The library computes every step in the IEEE default floating-point mode (round to
 * nearest, subnormals kept) whatever mode the calling thread is in, on the caller's part
 * and on the worker threads' parts alike, and gives the caller its mode back.
 *
 * Gradients of 1e-20..1.1e-19 make v = (1 - b2) * g * g subnormal (and, with eps = 0, the
 * update divides by sqrt(v)), so flushing subnormals changes both v and the params. The
 * worker threads are started first (a parallel step in the default mode), then the
 * calling thread switches to FTZ+DAZ, or rounds upward, and steps a state on 1 thread
 * and a copy on 2: both must equal a reference stepped in the default mode. A caller
 * that unmasks FP exceptions gets no SIGFPE from a step (0/0, NaN and Inf grads).
 * Usage: test_fpmode
 */
#define _GNU_SOURCE
#include "swiftadam.h"
#include <fenv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define HAVE_MXCSR 1
#endif

enum { N = 1 << 20 };

#define CHECK(expr) do { int32_t _rc = (expr); if (_rc != SWIFTADAM_OK) { \
    fprintf(stderr, "FAIL: %s = %s (%s)\n", #expr, swiftadam_status_name(_rc), swiftadam_last_error()); exit(1); } } while (0)

static float *p0, *g;

typedef struct { float *p, *m, *v; } Result;

static swiftadam_state *make(size_t threads) {
    swiftadam_config cfg;
    CHECK(swiftadam_config_init(&cfg, sizeof cfg));
    cfg.eps = 0;
    size_t n = N;
    swiftadam_state *s = NULL;
    CHECK(swiftadam_create(&n, 1, &cfg, &s));
    CHECK(swiftadam_set_num_threads(s, threads));
    return s;
}

/* Two steps of s from p0 and zero moments, in the caller's current mode. */
static Result run(swiftadam_state *s) {
    Result r = {malloc(N * sizeof(float)), malloc(N * sizeof(float)), malloc(N * sizeof(float))};
    float *zero = calloc(N, sizeof(float));
    if (!r.p || !r.m || !r.v || !zero) { fprintf(stderr, "FAIL: malloc\n"); exit(1); }
    memcpy(r.p, p0, N * sizeof(float));
    CHECK(swiftadam_set_moment(s, 0, SWIFTADAM_MOMENT_EXP_AVG, zero, N));
    CHECK(swiftadam_set_moment(s, 0, SWIFTADAM_MOMENT_EXP_AVG_SQ, zero, N));
    CHECK(swiftadam_set_tensor_step(s, 0, 0));
    for (int k = 0; k < 2; k++) CHECK(swiftadam_step_tensor(s, r.p, g, N, 0));
    CHECK(swiftadam_get_moment(s, 0, SWIFTADAM_MOMENT_EXP_AVG, r.m, N));
    CHECK(swiftadam_get_moment(s, 0, SWIFTADAM_MOMENT_EXP_AVG_SQ, r.v, N));
    free(zero);
    return r;
}

static long differing(Result a, Result b) {
    long d = 0;
    for (long i = 0; i < N; i++)
        d += memcmp(&a.p[i], &b.p[i], 4) != 0 || memcmp(&a.m[i], &b.m[i], 4) != 0 || memcmp(&a.v[i], &b.v[i], 4) != 0;
    return d;
}

static void release(Result r) { free(r.p); free(r.m); free(r.v); }

/* In a child: exceptions unmasked, a step that divides 0 by 0 and meets NaN and Inf. */
static int unmasked_exceptions(void) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        enum { M = 64 };
        float p[M] = {0}, gr[M] = {0};
        gr[1] = __builtin_nanf("");
        gr[2] = __builtin_inff();
        gr[3] = 3e38f;
        swiftadam_config cfg;
        swiftadam_config_init(&cfg, sizeof cfg);
        cfg.eps = 0;   /* g = 0 gives 0 / (sqrt(0) + 0) */
        size_t n = M;
        swiftadam_state *s = NULL;
        if (swiftadam_create(&n, 1, &cfg, &s) != SWIFTADAM_OK) _exit(2);
        feenableexcept(FE_INVALID | FE_DIVBYZERO | FE_OVERFLOW);
        int32_t rc = swiftadam_step_tensor(s, p, gr, M, 0);
        _exit(rc == SWIFTADAM_OK ? 0 : 3);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    int ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    printf("caller with FE_INVALID|FE_DIVBYZERO|FE_OVERFLOW unmasked: step %s\n",
           ok ? "returns OK" : WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "fails");
    return ok;
}

int main(void) {
    p0 = malloc(N * sizeof(float));
    g = malloc(N * sizeof(float));
    if (!p0 || !g) { fprintf(stderr, "FAIL: malloc\n"); return 1; }
    for (long i = 0; i < N; i++) {
        p0[i] = (float)((i * 37) % 1000) / 500.0f - 1.0f;
        g[i] = (i % 2 ? -1.0f : 1.0f) * 1e-20f * (1.0f + (float)(i % 1000) / 100.0f);
    }
    /* The states, their worker threads started, in the default mode; then the caller
     * changes its mode (as a host that sets FTZ after start-up does). */
    swiftadam_state *on1 = make(1), *on2 = make(2);
    Result ref = run(on2);
    release(run(on1));
    long subnormal = 0;
    for (long i = 0; i < N; i++) subnormal += ref.v[i] != 0 && ref.v[i] < 1.17549435e-38f;
    printf("reference (default mode): %ld of %d exp_avg_sq elements subnormal\n", subnormal, N);
    int failed = subnormal < N - N / 100;
    if (failed) fprintf(stderr, "FAIL: the gradients do not make exp_avg_sq subnormal; the test checks nothing\n");

    struct { const char *name; int round; unsigned csr; } modes[] = {
#ifdef HAVE_MXCSR
        {"FTZ+DAZ", FE_TONEAREST, 0x8040},
#endif
        {"round upward", FE_UPWARD, 0},
        {"round toward zero", FE_TOWARDZERO, 0},
    };
    for (size_t k = 0; k < sizeof modes / sizeof modes[0]; k++) {
        fesetround(modes[k].round);
#ifdef HAVE_MXCSR
        unsigned before = _mm_getcsr();
        _mm_setcsr(before | modes[k].csr);
        unsigned set = _mm_getcsr();
#endif
        Result one = run(on1), two = run(on2);
        int restored = fegetround() == modes[k].round;
#ifdef HAVE_MXCSR
        restored = restored && (_mm_getcsr() & ~0x3Fu) == (set & ~0x3Fu);
        _mm_setcsr(before);
#endif
        fesetround(FE_TONEAREST);
        long d12 = differing(one, two), d1 = differing(one, ref), d2 = differing(two, ref);
        printf("caller in %-17s: elements differing 1 vs 2 threads: %ld; 1 thread vs default mode: %ld; "
               "2 threads vs default mode: %ld; caller's mode restored: %s\n",
               modes[k].name, d12, d1, d2, restored ? "yes" : "NO");
        if (d12 || d1 || d2 || !restored) { fprintf(stderr, "FAIL: caller in %s\n", modes[k].name); failed = 1; }
        release(one);
        release(two);
    }
    release(ref);
    if (!unmasked_exceptions()) { fprintf(stderr, "FAIL: a step with FP exceptions unmasked\n"); failed = 1; }
    CHECK(swiftadam_free(on1));
    CHECK(swiftadam_free(on2));
    if (failed) return 1;
    printf("ok\n");
    return 0;
}
