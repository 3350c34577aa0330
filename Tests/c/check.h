/* The check macros of the C test programs: count every check, report a failed one with
 * its file, line, condition and the library's last error, and go on (a program prints
 * "N passed, M failed" at the end from `checks` and `failures`). */
#ifndef SWIFTADAM_TEST_CHECK_H
#define SWIFTADAM_TEST_CHECK_H
#include <stdio.h>
#include "swiftadam.h"

static int failures = 0, checks = 0;
#define CHECK(cond, ...) do { checks++; if (!(cond)) { failures++; \
    fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fprintf(stderr, " (last_error: %s)\n", swiftadam_last_error()); } } while (0)
#define CHECK_STATUS(expr, want) do { int32_t _rc = (expr); \
    CHECK(_rc == (want), "%s returned %d (%s), want %d (%s)", #expr, _rc, swiftadam_status_name(_rc), \
          (int)(want), swiftadam_status_name(want)); } while (0)
#endif
