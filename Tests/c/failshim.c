/* LD_PRELOAD shim that makes the Nth open / write / fsync / rename / ftruncate fail (or
 * misbehave) on files under one directory, for test_failed_saves.c.
 *
 * Armed from the test through failshim_arm() (found with dlsym; the shim is only in the
 * process when preloaded). Only calls on paths under the armed prefix, and on the file
 * descriptors opened on them, are counted, so the C library's and the runtime's own I/O
 * are left alone.
 *
 * Modes: FAILSHIM_FAIL (return -1 with the given errno), FAILSHIM_SHORT (write: write only
 * half, return the short count), FAILSHIM_EINTR (return -1/EINTR once, then behave).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

enum { FAILSHIM_FAIL = 0, FAILSHIM_SHORT = 1, FAILSHIM_EINTR = 2 };

static char prefix[512];
static char which[32];
static int nth, err, mode, count, fired;
static unsigned char tracked[4096];   /* fds opened on paths under the prefix */

/* Arm: the `n`th call (1-based) of `call` fails. n = 0 disarms. Resets the counters. */
void failshim_arm(const char *dir, const char *call, int n, int errnum, int how) {
    snprintf(prefix, sizeof prefix, "%s", dir ? dir : "");
    snprintf(which, sizeof which, "%s", call ? call : "");
    nth = n; err = errnum; mode = how; count = 0; fired = 0;
}

/* How many calls of the armed kind were seen, and whether the failure fired. */
int failshim_count(void) { return count; }
int failshim_fired(void) { return fired; }

static int under(const char *path) { return nth > 0 && path && prefix[0] && strncmp(path, prefix, strlen(prefix)) == 0; }

/* 1 if this call should misbehave now */
static int trigger(const char *call) {
    if (nth <= 0 || strcmp(call, which) != 0) return 0;
    if (++count != nth) return 0;
    fired = 1;
    return 1;
}

typedef int (*open_t)(const char *, int, ...);
typedef ssize_t (*write_t)(int, const void *, size_t);
typedef int (*fd_t)(int);
typedef int (*trunc_t)(int, off_t);
typedef int (*rename_t)(const char *, const char *);
#define REAL(name, type) static type real_##name; if (!real_##name) real_##name = (type)dlsym(RTLD_NEXT, #name)

static int do_open(const char *name, open_t real, const char *path, int flags, mode_t m) {
    if (under(path) && trigger("open")) { errno = err; return -1; }
    int fd = real(path, flags, m);
    if (fd >= 0 && fd < (int)sizeof tracked) tracked[fd] = (unsigned char)under(path);
    (void)name;
    return fd;
}

int open(const char *path, int flags, ...) {
    REAL(open, open_t);
    mode_t m = 0;
    if (flags & (O_CREAT | O_TMPFILE)) { va_list ap; va_start(ap, flags); m = (mode_t)va_arg(ap, int); va_end(ap); }
    return do_open("open", real_open, path, flags, m);
}

int open64(const char *path, int flags, ...) {
    REAL(open64, open_t);
    mode_t m = 0;
    if (flags & (O_CREAT | O_TMPFILE)) { va_list ap; va_start(ap, flags); m = (mode_t)va_arg(ap, int); va_end(ap); }
    return do_open("open64", real_open64, path, flags, m);
}

static int is_tracked(int fd) { return nth > 0 && fd >= 0 && fd < (int)sizeof tracked && tracked[fd]; }

ssize_t write(int fd, const void *buf, size_t n) {
    REAL(write, write_t);
    if (is_tracked(fd) && trigger("write")) {
        if (mode == FAILSHIM_SHORT && n > 1) return real_write(fd, buf, n / 2);
        errno = mode == FAILSHIM_EINTR ? EINTR : err;
        return -1;
    }
    return real_write(fd, buf, n);
}

int fsync(int fd) {
    REAL(fsync, fd_t);
    if (is_tracked(fd) && trigger("fsync")) { errno = mode == FAILSHIM_EINTR ? EINTR : err; return -1; }
    return real_fsync(fd);
}

int ftruncate(int fd, off_t len) {
    REAL(ftruncate, trunc_t);
    if (is_tracked(fd) && trigger("ftruncate")) { errno = err; return -1; }
    return real_ftruncate(fd, len);
}

int ftruncate64(int fd, off_t len) {
    REAL(ftruncate64, trunc_t);
    if (is_tracked(fd) && trigger("ftruncate")) { errno = err; return -1; }
    return real_ftruncate64(fd, len);
}

int rename(const char *from, const char *to) {
    REAL(rename, rename_t);
    if ((under(from) || under(to)) && trigger("rename")) { errno = err; return -1; }
    return real_rename(from, to);
}

int close(int fd) {
    REAL(close, fd_t);
    if (fd >= 0 && fd < (int)sizeof tracked) tracked[fd] = 0;
    return real_close(fd);
}
