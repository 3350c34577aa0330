/* Unloading: a host that dlopen()s and dlclose()s the library (plugin hosts, embedded
 * interpreters) must neither crash nor run out of thread-specific keys.
 *
 *  - thread exit after dlclose: 4 threads each make a failing call (so each has per-thread
 *    error text), the host dlcloses the library, then the threads exit; the process must
 *    survive (the text's destructor must still be there to run);
 *  - 2000 cycles of dlopen / failing call / swiftadam_last_error / dlclose: every cycle
 *    gets the status and its message, and the number of pthread keys left to the host is
 *    the same after cycle 2000 as after cycle 1 (no key leaked per cycle); the host can
 *    still create keys;
 *  - a host that took every free pthread key before loading the library: a failing call
 *    still returns its status, and none of the host's keys is written by the library.
 * Each case runs in its own process (a crash is reported by name). The library is only
 * reached through dlopen/dlsym: this program does not link it.
 * Usage: test_unload path/to/libSwiftAdam.so [cycles]   Ends with "N passed, M failed".
 */
#define _GNU_SOURCE
#include "swiftadam.h"
#include "forked_case.h"
#include <dlfcn.h>
#include <pthread.h>

typedef int32_t (*load_fn)(const char *, const size_t *, size_t, swiftadam_state **);
typedef const char *(*text_fn)(void);

static const char *lib;
static long cycles = 2000;

typedef struct { void *h; load_fn load; text_fn last_error; } Lib;

static Lib open_lib(void) {
    Lib l = {dlopen(lib, RTLD_NOW | RTLD_LOCAL), NULL, NULL};
    if (!l.h) { fprintf(stderr, "dlopen %s: %s\n", lib, dlerror()); _exit(80); }
    l.load = (load_fn)dlsym(l.h, "swiftadam_load");
    l.last_error = (text_fn)dlsym(l.h, "swiftadam_last_error");
    if (!l.load || !l.last_error) { fprintf(stderr, "dlsym: %s\n", dlerror()); _exit(81); }
    return l;
}

/* a call that fails (path NULL) and sets this thread's error text; 1 if it behaved */
static int fail_once(Lib l) {
    swiftadam_state *out = NULL;
    int32_t rc = l.load(NULL, NULL, 0, &out);
    return rc == SWIFTADAM_ERR_NULL_POINTER && strstr(l.last_error(), "path") != NULL;
}

/* -------- threads that exit after the library was closed --------------------------- */

enum { THREADS = 4 };
static pthread_barrier_t failed, closed;
static Lib shared;
static int thread_ok[THREADS];

static void *failing_thread(void *arg) {
    int *ok = arg;
    *ok = fail_once(shared);
    pthread_barrier_wait(&failed);
    pthread_barrier_wait(&closed);   /* the library is dlclosed now: exit */
    return NULL;
}

static void thread_exit_after_dlclose(void) {
    pthread_barrier_init(&failed, NULL, THREADS + 1);
    pthread_barrier_init(&closed, NULL, THREADS + 1);
    shared = open_lib();
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, failing_thread, &thread_ok[i]);
    pthread_barrier_wait(&failed);
    CHECK(dlclose(shared.h) == 0, "dlclose: %s", dlerror());
    pthread_barrier_wait(&closed);
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < THREADS; i++) CHECK(thread_ok[i], "thread %d: the failing call did not report NULL_POINTER + message", i);
    printf("      %d threads with error text exited after dlclose: process alive\n", THREADS);
}

/* -------- many load / unload cycles ------------------------------------------------- */

/* how many pthread keys the host can still create (all deleted again) */
static int keys_available(void) {
    static pthread_key_t k[4096];
    int n = 0;
    while (n < 4096 && pthread_key_create(&k[n], NULL) == 0) n++;
    for (int i = 0; i < n; i++) pthread_key_delete(k[i]);
    return n;
}

static void load_unload_cycles(void) {
    int after_first = -1, bad = 0;
    for (long c = 1; c <= cycles; c++) {
        Lib l = open_lib();
        if (!fail_once(l) && bad++ < 3) CHECK(0, "cycle %ld: the failing call did not report NULL_POINTER + message", c);
        CHECK(dlclose(l.h) == 0, "cycle %ld: dlclose: %s", c, dlerror());
        if (c == 1) after_first = keys_available();
    }
    int after_last = keys_available();
    printf("      pthread keys left to the host: %d after cycle 1, %d after cycle %ld\n", after_first, after_last, cycles);
    CHECK(bad == 0, "%d of %ld cycles lost the status or the message", bad, cycles);
    CHECK(after_last == after_first, "%d keys leaked over %ld load/unload cycles", after_first - after_last, cycles);
    pthread_key_t k;
    CHECK(pthread_key_create(&k, NULL) == 0, "the host cannot create a pthread key any more");
}

/* -------- a host that has used up every pthread key --------------------------------- */

static void no_key_left(void) {
    static pthread_key_t k[4096];
    int n = 0;
    while (n < 4096 && pthread_key_create(&k[n], NULL) == 0) n++;
    for (int i = 0; i < n; i++) pthread_setspecific(k[i], &k[i]);
    Lib l = open_lib();
    swiftadam_state *out = NULL;
    int32_t rc = l.load(NULL, NULL, 0, &out);
    CHECK(rc == SWIFTADAM_ERR_NULL_POINTER, "status %d", rc);
    CHECK(l.last_error() != NULL, "last_error returned NULL");
    int changed = 0;
    for (int i = 0; i < n; i++) changed += pthread_getspecific(k[i]) != &k[i];
    CHECK(changed == 0, "the library wrote into %d of the host's %d pthread keys", changed, n);
    printf("      all %d free keys taken by the host: status kept, host's keys untouched; last_error: \"%s\"\n", n,
           l.last_error());
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s path/to/libSwiftAdam.so [cycles]\n", argv[0]); return 2; }
    lib = argv[1];
    if (argc > 2) cycles = atol(argv[2]);
    run_case("threads exit after dlclose", thread_exit_after_dlclose, 60);
    char name[64];
    snprintf(name, sizeof name, "%ld dlopen/fail/dlclose cycles", cycles);
    run_case(name, load_unload_cycles, 120);
    run_case("no pthread key left for the library", no_key_left, 60);
    return forked_summary();
}
