/* fork() while other threads are inside swiftadam calls (Python multiprocessing started
 * during training): every child must be able to use the library.
 *
 * Three threads call into the library without pause: one steps a 2^20-element state on 2
 * threads (the worker pool busy), two run short calls (queries, failing calls,
 * create/free) that keep the handle registry's lock taken much of the time. The main
 * thread forks FORKS times. Each child, under alarm(): creates a state, steps it in
 * parallel (a worker pool of its own), queries, frees it; the states it inherited answer
 * OK or BUSY (BUSY only for the one a parent thread was inside) and can all be freed.
 * A child still running when its alarm rings is deadlocked: it prints where and exits 99.
 * Usage: test_fork [forks]   (default 60)
 */
#define _GNU_SOURCE
#include "swiftadam.h"
#include <execinfo.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { BIG = 1 << 20, SMALL = 1 << 18 };
static float *bp, *bg, *sp, *sg;
static swiftadam_state *stepped, *queried;
static atomic_int stop;
static atomic_long calls;

static void *stepper(void *arg) {
    (void)arg;
    while (!atomic_load(&stop)) {
        swiftadam_step_tensor(stepped, bp, bg, BIG, 0);
        atomic_fetch_add(&calls, 1);
    }
    return NULL;
}

static void *querier(void *arg) {
    (void)arg;
    size_t n, one = 3;
    uint64_t step;
    while (!atomic_load(&stop)) {
        swiftadam_num_tensors(queried, &n);
        swiftadam_tensor_step(queried, 0, &step);
        swiftadam_tensor_length(queried, 7, &n);            /* fails: sets the last error */
        swiftadam_free((swiftadam_state *)(uintptr_t)0x1000); /* invalid handle */
        swiftadam_state *t = NULL;
        if (swiftadam_create(&one, 1, NULL, &t) == SWIFTADAM_OK) swiftadam_free(t);
        atomic_fetch_add(&calls, 1);
    }
    return NULL;
}

static void on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "child deadlocked in:\n";
    void *frames[64];
    if (write(2, msg, sizeof msg - 1) < 0) _exit(98);
    backtrace_symbols_fd(frames, backtrace(frames, 64), 2);
    _exit(99);
}

/* The child's whole check; its exit code says what failed. */
static int child(void) {
    signal(SIGALRM, on_alarm);
    alarm(5);
    swiftadam_state *s = NULL;
    size_t len = SMALL, n = 0;
    if (swiftadam_create(&len, 1, NULL, &s) != SWIFTADAM_OK) return 3;
    if (swiftadam_set_num_threads(s, 2) != SWIFTADAM_OK) return 4;
    for (int k = 0; k < 3; k++)
        if (swiftadam_step_tensor(s, sp, sg, len, 0) != SWIFTADAM_OK) return 5;
    uint64_t step = 0;
    if (swiftadam_tensor_step(s, 0, &step) != SWIFTADAM_OK || step != 3) return 6;
    if (swiftadam_free(s) != SWIFTADAM_OK) return 7;
    /* inherited states: usable, or BUSY if a parent thread was inside a call on them */
    int32_t a = swiftadam_num_tensors(queried, &n), b = swiftadam_num_tensors(stepped, &n);
    if ((a != SWIFTADAM_OK && a != SWIFTADAM_ERR_BUSY) || (b != SWIFTADAM_OK && b != SWIFTADAM_ERR_BUSY)) return 8;
    if (swiftadam_free(queried) != SWIFTADAM_OK || swiftadam_free(stepped) != SWIFTADAM_OK) return 9;
    return 0;
}

int main(int argc, char **argv) {
    int forks = argc > 1 ? atoi(argv[1]) : 60;
    bp = calloc(BIG, sizeof(float)); bg = malloc(BIG * sizeof(float));
    sp = calloc(SMALL, sizeof(float)); sg = malloc(SMALL * sizeof(float));
    if (!bp || !bg || !sp || !sg) { fprintf(stderr, "FAIL: malloc\n"); return 1; }
    for (int i = 0; i < BIG; i++) bg[i] = 0.001f * (float)(i % 11) - 0.005f;
    for (int i = 0; i < SMALL; i++) sg[i] = 0.002f * (float)(i % 7) - 0.006f;
    size_t big = BIG, small = 5;
    if (swiftadam_create(&big, 1, NULL, &stepped) != SWIFTADAM_OK || swiftadam_set_num_threads(stepped, 2) != SWIFTADAM_OK ||
        swiftadam_create(&small, 1, NULL, &queried) != SWIFTADAM_OK) {
        fprintf(stderr, "FAIL: setup: %s\n", swiftadam_last_error());
        return 1;
    }
    pthread_t t[3];
    pthread_create(&t[0], NULL, stepper, NULL);
    pthread_create(&t[1], NULL, querier, NULL);
    pthread_create(&t[2], NULL, querier, NULL);
    void *warm[1];
    backtrace(warm, 1);   /* loads what backtrace needs now, not in a deadlocked child */
    while (atomic_load(&calls) < 20) usleep(1000);
    int hung = 0, failed = 0;
    for (int k = 0; k < forks; k++) {
        usleep(1000 + (unsigned)(k * 7919) % 3000);   /* fork at varied points of the calls */
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) { perror("fork"); return 1; }
        if (pid == 0) _exit(child());
        int st = 0;
        for (int waited = 0; waitpid(pid, &st, WNOHANG) == 0; waited++) {
            if (waited == 10000) {   /* 10 s: even the alarm handler is stuck */
                kill(pid, SIGKILL);
                waitpid(pid, &st, 0);
                st = 99 << 8;
                break;
            }
            usleep(1000);
        }
        if (WIFEXITED(st) && WEXITSTATUS(st) == 99) {
            hung++;
        } else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            failed++;
            fprintf(stderr, "fork %d: child %s %d\n", k, WIFEXITED(st) ? "exited" : "killed by signal",
                    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
        }
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    /* the parent's states still work after all those forks */
    int32_t rc = swiftadam_step_tensor(stepped, bp, bg, BIG, 0);
    if (rc != SWIFTADAM_OK || swiftadam_free(stepped) != SWIFTADAM_OK || swiftadam_free(queried) != SWIFTADAM_OK) {
        fprintf(stderr, "FAIL: parent after forks: %s (%s)\n", swiftadam_status_name(rc), swiftadam_last_error());
        failed++;
    }
    printf("%d forks while 3 threads were in swiftadam calls (%ld calls): %d children deadlocked, %d failed otherwise\n",
           forks, atomic_load(&calls), hung, failed);
    if (hung || failed) { fprintf(stderr, "FAIL\n"); return 1; }
    printf("ok\n");
    return 0;
}
