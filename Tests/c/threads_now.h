/* Threads alive in this process, from /proc/self/status (-1 if unreadable). */
#ifndef SWIFTADAM_TEST_THREADS_NOW_H
#define SWIFTADAM_TEST_THREADS_NOW_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int threads_now(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int n = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "Threads:", 8) == 0) n = atoi(line + 8);
    if (f) fclose(f);
    return n;
}
#endif
