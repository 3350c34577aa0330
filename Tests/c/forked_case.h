/* Each case runs in its own child process under an alarm, so that a case that hangs
 * (blocked in open on a FIFO) or crashes (SIGSEGV at thread exit) is reported by name
 * and the remaining cases still run. Header-only; used by test_paths.c and test_unload.c.
 *
 *   CHECK(cond, fmt, ...)        counts a failure in the current case (prints why)
 *   run_case(name, fn, seconds)  forks; the child runs fn() and exits with its failure
 *                                count; the parent reports "ok", the failures, or the signal
 *   forked_summary()             prints "N passed, M failed" and returns the exit status
 */
#ifndef FORKED_CASE_H
#define FORKED_CASE_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int case_failures;   /* in the child: failures of the running case */
static int cases_passed, cases_failed;

#define CHECK(cond, ...) do { if (!(cond)) { case_failures++; \
    fprintf(stderr, "  FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fprintf(stderr, "\n"); } } while (0)

static void run_case(const char *name, void (*fn)(void), unsigned seconds) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); exit(2); }
    if (pid == 0) {
        alarm(seconds);
        case_failures = 0;
        fn();
        fflush(stdout);
        _exit(case_failures > 100 ? 100 : case_failures);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {}
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        cases_passed++;
        printf("ok    %s\n", name);
    } else if (WIFEXITED(status)) {
        cases_failed++;
        printf("FAIL  %s: %d failed check(s)\n", name, WEXITSTATUS(status));
    } else {
        cases_failed++;
        int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
        printf("FAIL  %s: killed by %s%s\n", name, strsignal(sig),
               sig == SIGALRM ? " (still blocked after the time limit: a hang)" : "");
    }
}

static int forked_summary(void) {
    printf("%d passed, %d failed\n", cases_passed, cases_failed);
    return cases_failed ? 1 : 0;
}

#endif
