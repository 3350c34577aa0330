/* Leak check: N cycles of create / step / serialize / deserialize / free
 * (plus a failing call each cycle, and every 1000th cycle a save/load and a state large
 * enough to use the worker pool). Checks:
 *   - LeakSanitizer (when built with -fsanitize=address against the ASan library) reports
 *     any unreachable block at exit;
 *   - heap in use must not grow between cycle N/10 and cycle N (catches memory that stays
 *     reachable, e.g. a registry that never forgets a handle, which LSan cannot see);
 *   - threads stay bounded: the process-wide worker pool holds one worker for the 2-thread
 *     steps here, however many states came and went (at most 2 threads alive);
 *   - fork() after a parallel step: the child can free the inherited state (no join of the
 *     parent's threads, which do not exist there: that would block forever), step a new
 *     one in parallel (a pool of its own) and end with at most 2 threads; the parent's
 *     state still works.
 * Usage: test_leaks [cycles]   (default 100000)
 */
#define _GNU_SOURCE
#include "swiftadam.h"
#include "threads_now.h"
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Under ASan, mallinfo2 does not see the sanitizer's heap: ask the sanitizer instead. */
extern size_t __sanitizer_get_current_allocated_bytes(void) __attribute__((weak));

static size_t heap_in_use(void) {
    if (__sanitizer_get_current_allocated_bytes) return __sanitizer_get_current_allocated_bytes();
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

#define DIE(...) do { fprintf(stderr, "FAIL: " __VA_ARGS__); fprintf(stderr, " (last_error: %s)\n", swiftadam_last_error()); exit(1); } while (0)
#define OK(expr) do { int32_t _rc = (expr); if (_rc != SWIFTADAM_OK) DIE("%s = %s", #expr, swiftadam_status_name(_rc)); } while (0)

static int fork_check(float *p, const float *g) {
    size_t len = 1 << 17;   /* at the parallel threshold (AdamState.parallelThreshold) */
    swiftadam_state *s = NULL;
    OK(swiftadam_create(&len, 1, NULL, &s));
    OK(swiftadam_set_num_threads(s, 2));
    OK(swiftadam_step_tensor(s, p, g, len, 0));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) DIE("fork");
    if (pid == 0) {
        alarm(30);   /* a hang fails the check instead of the whole run */
        if (swiftadam_free(s) != SWIFTADAM_OK) _exit(3);
        swiftadam_state *c = NULL;
        if (swiftadam_create(&len, 1, NULL, &c) != SWIFTADAM_OK || swiftadam_set_num_threads(c, 2) != SWIFTADAM_OK ||
            swiftadam_step_tensor(c, p, g, len, 0) != SWIFTADAM_OK || swiftadam_free(c) != SWIFTADAM_OK) _exit(4);
        _exit(threads_now() <= 2 ? 0 : 5);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    int ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    OK(swiftadam_step_tensor(s, p, g, len, 0));
    OK(swiftadam_free(s));
    printf("fork after a parallel step: child %s %d (%s)\n", WIFEXITED(st) ? "exited" : "killed by signal",
           WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), ok ? "ok" : "FAIL");
    return ok;
}

int main(int argc, char **argv) {
    long cycles = argc > 1 ? atol(argv[1]) : 100000;
    enum { MAXLEN = 1 << 17 };
    float *p = calloc(MAXLEN + 256, sizeof(float)), *g = malloc((MAXLEN + 256) * sizeof(float));
    unsigned char *buf = malloc(4u << 20);
    if (!p || !g || !buf) DIE("malloc");
    for (int i = 0; i < MAXLEN + 256; i++) g[i] = (float)((i % 7) - 3) * 0.01f;
    char path[64];
    snprintf(path, sizeof path, "/tmp/swiftadam_leaks.%d.ckpt", (int)getpid());
    size_t baseline = 0, peak = 0;
    for (long k = 0; k < cycles; k++) {
        int big = k % 1000 == 999;
        size_t lens[3] = {big ? MAXLEN : (size_t)(1 + k % 37), (size_t)(k % 5), 3};
        size_t n = 1 + (size_t)(k % 3);
        swiftadam_config cfg;
        OK(swiftadam_config_init(&cfg, sizeof cfg));
        cfg.flags = (uint32_t)(k % 16);
        swiftadam_state *s = NULL, *r = NULL;
        OK(swiftadam_create(lens, n, &cfg, &s));
        if (big) OK(swiftadam_set_num_threads(s, 2));   /* a step on the pool's worker */
        /* tensors may not overlap: tensor 0 (up to MAXLEN) first, the small ones after it */
        float *params[3] = {p, p + MAXLEN + 64, p + MAXLEN + 128};
        const float *grads[3] = {g, g + MAXLEN + 64, (k & 1) ? NULL : g + MAXLEN + 128};
        int32_t rc = swiftadam_step(s, params, grads, n, (k & 2) ? SWIFTADAM_STEP_SKIP_NONFINITE : 0);
        if (rc != SWIFTADAM_OK) DIE("step = %s", swiftadam_status_name(rc));
        size_t size = 0, written = 0;
        OK(swiftadam_serialized_size(s, &size));
        OK(swiftadam_serialize(s, buf, size, &written));
        OK(swiftadam_deserialize(buf, written, lens, n, &r));
        if (swiftadam_deserialize(buf, written - 1, NULL, 0, &r) != SWIFTADAM_ERR_CORRUPT) DIE("truncated accepted");
        if (swiftadam_tensor_length(s, 99, &size) != SWIFTADAM_ERR_INVALID_ARGUMENT) DIE("bad index accepted");
        if (big) {
            swiftadam_state *l = NULL;
            OK(swiftadam_save(r, path));
            OK(swiftadam_load(path, lens, n, &l));
            OK(swiftadam_free(l));
        }
        OK(swiftadam_free(r));
        OK(swiftadam_free(s));
        if (swiftadam_free(s) != SWIFTADAM_ERR_INVALID_HANDLE) DIE("double free not detected");
        size_t now = heap_in_use();
        if (k == cycles / 10) baseline = now;
        if (k > cycles / 10 && now > peak) peak = now;
    }
    unlink(path);
    int fork_ok = fork_check(p, g);
    free(p); free(g); free(buf);
    long growth = (long)peak - (long)baseline;
    int threads = threads_now();
    printf("%ld cycles (%ld with worker threads): heap in use %zu bytes at cycle %ld, peak after it %zu "
           "(growth %ld bytes); threads alive after freeing every state: %d (the pool's worker included)\n",
           cycles, cycles / 1000, baseline, cycles / 10, peak, growth, threads);
    int failed = 0;
    /* noise (allocator, hash-table resizes) stays within a few KB; a leaked state is >= 1 KB
     * per 1000 cycles, i.e. >= 90 KB over the measured span of 10^5 cycles */
    if (growth > 32 * 1024) { fprintf(stderr, "FAIL: heap grew by %ld bytes\n", growth); failed++; }
    if (threads > 2) { fprintf(stderr, "FAIL: %d threads alive, want at most 2 (the caller and one pool worker)\n", threads); failed++; }
    if (!fork_ok) failed++;
    printf("%d passed, %d failed\n", 3 - failed, failed);
    return failed ? 1 : 0;
}
