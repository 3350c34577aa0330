/* One process-wide worker pool, shared by every state.
 *  1. 40 states asking for 256 threads each: the process holds as many threads as it has
 *     CPUs (the caller and one worker per other CPU), not 40 x 255; a second round of 40
 *     new states adds none.
 *  2. A step never waits for another state's step: while one state's parallel step is
 *     held inside the pool (its worker parked on a page fault that the test releases
 *     later), another state's 2-thread step runs to completion, with the same bits as on
 *     1 thread. A hang is caught by alarm().
 * Usage: test_pool
 */
#define _GNU_SOURCE
#include "swiftadam.h"
#include "threads_now.h"
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define CHECK(expr) do { int32_t _rc = (expr); if (_rc != SWIFTADAM_OK) { \
    fprintf(stderr, "FAIL: %s = %s (%s)\n", #expr, swiftadam_status_name(_rc), swiftadam_last_error()); exit(1); } } while (0)

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

enum { STATES = 40, LEN = 200000 };

static int many_states(void) {
    float *p = calloc(LEN, sizeof(float)), *g = malloc(LEN * sizeof(float));
    if (!p || !g) { fprintf(stderr, "FAIL: malloc\n"); exit(1); }
    for (int i = 0; i < LEN; i++) g[i] = 0.001f * (float)(i % 13) - 0.006f;
    int peak = 0, failed = 0;
    double best = 1e30;
    for (int round = 0; round < 2; round++) {
        swiftadam_state *s[STATES];
        size_t len = LEN;
        for (int k = 0; k < STATES; k++) {
            CHECK(swiftadam_create(&len, 1, NULL, &s[k]));
            CHECK(swiftadam_set_num_threads(s[k], 256));
            double t0 = now();
            CHECK(swiftadam_step_tensor(s[k], p, g, LEN, 0));
            double t = now() - t0;
            if (t < best) best = t;
            int n = threads_now();
            if (n > peak) peak = n;
        }
        int alive = threads_now();
        for (int k = 0; k < STATES; k++) CHECK(swiftadam_free(s[k]));
        printf("round %d: %d states x 256 threads asked: %d threads alive (peak %d)\n", round, STATES, alive, peak);
    }
    cpu_set_t set;
    int cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus > 64) cpus = 64;
    printf("best 200k-param step on 256 asked threads: %.0f us (%d CPUs)\n", best * 1e6, cpus);
    if (peak > cpus) { fprintf(stderr, "FAIL: %d threads, want at most %d (the CPUs)\n", peak, cpus); failed = 1; }
    free(p);
    free(g);
    return !failed;
}

/* ---- 2: a step held inside the pool ---- */
enum { HELD = 1 << 18 };
static float *held_page;
static long page;
static atomic_int parked, released;

static void on_fault(int sig, siginfo_t *info, void *uc) {
    (void)uc;
    char *a = info->si_addr;
    if (a < (char *)held_page || a >= (char *)held_page + page) {
        signal(sig, SIG_DFL);   /* a real crash: let it happen */
        return;
    }
    atomic_store(&parked, 1);
    while (!atomic_load(&released)) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    mprotect(held_page, page, PROT_READ | PROT_WRITE);   /* the faulting load is retried */
}

static swiftadam_state *held;
static float *held_p, *held_g;

static void *held_stepper(void *arg) {
    (void)arg;
    int32_t rc = swiftadam_step_tensor(held, held_p, held_g, HELD, 0);
    return (void *)(intptr_t)rc;
}

static int pool_taken(void) {
    page = sysconf(_SC_PAGESIZE);
    size_t bytes = HELD * sizeof(float);
    held_g = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    held_p = calloc(HELD, sizeof(float));
    if (held_g == MAP_FAILED || !held_p) { fprintf(stderr, "FAIL: alloc\n"); exit(1); }
    for (int i = 0; i < HELD; i++) held_g[i] = 0.01f;
    held_page = (float *)((char *)held_g + bytes - page);   /* in the worker's (last) part */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    mprotect(held_page, page, PROT_NONE);

    size_t len = HELD;
    CHECK(swiftadam_create(&len, 1, NULL, &held));
    CHECK(swiftadam_set_num_threads(held, 2));
    pthread_t stepper;
    pthread_create(&stepper, NULL, held_stepper, NULL);
    while (!atomic_load(&parked)) usleep(1000);

    /* the pool is taken: another state's 2-thread step must still finish */
    enum { OTHER = 1 << 18 };
    float *p2 = calloc(OTHER, sizeof(float)), *p1 = calloc(OTHER, sizeof(float)), *g = malloc(OTHER * sizeof(float));
    if (!p1 || !p2 || !g) { fprintf(stderr, "FAIL: malloc\n"); exit(1); }
    for (int i = 0; i < OTHER; i++) g[i] = 0.001f * (float)(i % 17) - 0.008f;
    len = OTHER;
    swiftadam_state *two = NULL, *one = NULL;
    CHECK(swiftadam_create(&len, 1, NULL, &two));
    CHECK(swiftadam_create(&len, 1, NULL, &one));
    CHECK(swiftadam_set_num_threads(two, 2));
    CHECK(swiftadam_set_num_threads(one, 1));
    double t0 = now();
    for (int k = 0; k < 3; k++) CHECK(swiftadam_step_tensor(two, p2, g, OTHER, 0));
    double t = now() - t0;
    int still_parked = !atomic_load(&released);
    for (int k = 0; k < 3; k++) CHECK(swiftadam_step_tensor(one, p1, g, OTHER, 0));
    int same = memcmp(p1, p2, OTHER * sizeof(float)) == 0;
    printf("while another state's step holds the pool: 3 steps of a 2-thread state took %.1f ms, %s the 1-thread result\n",
           t * 1e3, same ? "bit-identical to" : "DIFFERENT from");

    atomic_store(&released, 1);
    void *rc = NULL;
    pthread_join(stepper, &rc);
    int held_ok = (intptr_t)rc == SWIFTADAM_OK;
    float expect = held_p[0];
    for (int i = 0; i < HELD && held_ok; i++) held_ok = held_p[i] == expect;   /* one grad value: one result */
    printf("the held step, released: %s\n", held_ok ? "completed, every element updated" : "FAILED");
    CHECK(swiftadam_free(held));
    CHECK(swiftadam_free(two));
    CHECK(swiftadam_free(one));
    free(p1); free(p2); free(g); free(held_p);
    munmap(held_g, bytes);
    return same && held_ok && still_parked;
}

int main(void) {
    alarm(120);   /* a step that waits for the held one would hang: fail instead */
    int ok = many_states();
    ok &= pool_taken();
    if (!ok) { fprintf(stderr, "FAIL\n"); return 1; }
    printf("ok\n");
    return 0;
}
