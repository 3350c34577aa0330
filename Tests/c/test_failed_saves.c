/* Failed saves: every way swiftadam_save can fail returns SWIFTADAM_ERR_IO, leaves
 * the previous checkpoint intact and no temporary file behind.
 *
 *  1. Injected failures (LD_PRELOAD=failshim.so): the 1st, 2nd, ... Nth open / ftruncate /
 *     write / fsync / rename on the checkpoint's directory fails (EACCES, EIO, ENOSPC), for
 *     every N until a save goes through. Before the rename the previous checkpoint must be
 *     byte-identical; a failure AFTER the rename (opening or fsyncing the directory) is
 *     reported as IO too, and then the path holds the complete new checkpoint (never a mix).
 *     Short writes and EINTR on every write are retried: the save succeeds, bytes exact.
 *  2. The path is a directory: IO, directory untouched, no temp file.
 *  3. A 1 MB tmpfs (needs mount permission; skipped with the reason otherwise):
 *     full disk (ENOSPC while the old checkpoint occupies most of it) and a read-only
 *     remount (EROFS): IO, old checkpoint intact, no temp file.
 * In every case the state itself is unchanged by the failed save.
 * Usage: LD_PRELOAD=failshim.so test_failed_saves     Ends with "N passed, M failed".
 */
#define _GNU_SOURCE
#include "swiftadam.h"
#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

typedef void (*arm_fn)(const char *, const char *, int, int, int);
typedef int (*int_fn)(void);
static arm_fn arm;
static int_fn fired, count;

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) { *n = 0; return NULL; }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len + 1);
    if (fread(b, 1, (size_t)len, f) != (size_t)len) { free(b); b = NULL; len = 0; }
    fclose(f);
    *n = (size_t)len;
    return b;
}

static int file_equals(const char *path, const unsigned char *want, size_t n) {
    size_t got_n = 0;
    unsigned char *got = slurp(path, &got_n);
    int same = got && got_n == n && memcmp(got, want, n) == 0;
    free(got);
    return same;
}

static int exists(const char *path) { struct stat st; return lstat(path, &st) == 0; }

static swiftadam_state *make(size_t len, uint64_t step, float value) {
    size_t lens[2] = {len, 37};
    swiftadam_state *s = NULL;
    if (swiftadam_create(lens, 2, NULL, &s) != SWIFTADAM_OK) { fprintf(stderr, "create: %s\n", swiftadam_last_error()); exit(2); }
    size_t most = len > 37 ? len : 37;
    float *b = malloc(most * sizeof(float));
    for (size_t i = 0; i < most; i++) b[i] = value + (float)i;
    for (size_t t = 0; t < 2; t++) {
        swiftadam_set_tensor_step(s, t, step);
        swiftadam_set_moment(s, t, 0, b, lens[t]);
        swiftadam_set_moment(s, t, 1, b, lens[t]);
    }
    free(b);
    return s;
}

static unsigned char *bytes_of(swiftadam_state *s, size_t *n) {
    swiftadam_serialized_size(s, n);
    unsigned char *b = malloc(*n);
    size_t w = 0;
    swiftadam_serialize(s, b, *n, &w);
    return b;
}

/* -------- 1. injected failures ---------------------------------------------------- */

static void injected(const char *dir) {
    char path[600], tmp[620];
    snprintf(path, sizeof path, "%s/inj.ckpt", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    swiftadam_state *old = make(5000, 10, 1.0f), *new = make(5000, 20, 2.0f);
    size_t old_n, new_n;
    unsigned char *old_b = bytes_of(old, &old_n), *new_b = bytes_of(new, &new_n);
    struct { const char *call; int err; } kinds[] = {
        {"open", EACCES}, {"ftruncate", EIO}, {"write", ENOSPC}, {"write", EIO}, {"fsync", EIO}, {"rename", EIO},
    };
    int injected_total = 0;
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        int n;
        for (n = 1; n < 1000; n++) {
            arm(NULL, "", 0, 0, 0);
            CHECK(swiftadam_save(old, path) == SWIFTADAM_OK, "restoring the old checkpoint");
            arm(dir, kinds[k].call, n, kinds[k].err, 0);
            int32_t rc = swiftadam_save(new, path);
            int did = fired();
            arm(NULL, "", 0, 0, 0);
            if (!did) {   /* fewer than n such calls: this save went through */
                CHECK(rc == SWIFTADAM_OK && file_equals(path, new_b, new_n), "%s: save without injection", kinds[k].call);
                break;
            }
            injected_total++;
            char what[64];
            snprintf(what, sizeof what, "%s #%d fails (%s)", kinds[k].call, n, strerror(kinds[k].err));
            CHECK(rc == SWIFTADAM_ERR_IO, "%s: returned %s", what, swiftadam_status_name(rc));
            CHECK(strstr(swiftadam_last_error(), strerror(kinds[k].err)) != NULL, "%s: message lacks the errno text", what);
            CHECK(!exists(tmp), "%s: temp file left behind", what);
            int after_rename = (!strcmp(kinds[k].call, "open") || !strcmp(kinds[k].call, "fsync")) && n == 2;
            if (after_rename)
                CHECK(file_equals(path, new_b, new_n), "%s (after the rename): path must hold the complete new checkpoint", what);
            else
                CHECK(file_equals(path, old_b, old_n), "%s: previous checkpoint changed", what);
            size_t now_n;
            unsigned char *now_b = bytes_of(new, &now_n);
            CHECK(now_n == new_n && memcmp(now_b, new_b, new_n) == 0, "%s: the state changed", what);
            free(now_b);
        }
        int dir_phase = !strcmp(kinds[k].call, "open") || !strcmp(kinds[k].call, "fsync");
        printf("  %-9s failing at call 1..%d (%s): SWIFTADAM_ERR_IO each time, no temp file; %s\n",
               kinds[k].call, n - 1, strerror(kinds[k].err),
               dir_phase ? "#1 (the temp file): previous checkpoint intact; #2 (the directory, after the rename): "
                           "the new checkpoint is complete in place"
                         : "previous checkpoint intact");
    }
    /* short writes and EINTR are retried */
    int retried = 0;
    for (int how = 1; how <= 2; how++) {
        for (int n = 1; n < 1000; n++) {
            arm(NULL, "", 0, 0, 0);
            CHECK(swiftadam_save(old, path) == SWIFTADAM_OK, "restore");
            arm(dir, "write", n, 0, how);
            int32_t rc = swiftadam_save(new, path);
            int did = fired();
            arm(NULL, "", 0, 0, 0);
            if (!did) break;
            retried++;
            CHECK(rc == SWIFTADAM_OK && file_equals(path, new_b, new_n) && !exists(tmp), "%s on write #%d: not retried",
                  how == 1 ? "short write" : "EINTR", n);
        }
    }
    printf("  write     short count / EINTR at each call: %d saves, all retried to an exact checkpoint\n", retried);
    printf("injected I/O failures: %d failing saves checked\n", injected_total);
    unlink(path);
    swiftadam_free(old); swiftadam_free(new);
    free(old_b); free(new_b);
}

/* -------- 2. path is a directory --------------------------------------------------- */

static void path_is_directory(const char *dir) {
    char sub[600], tmp[620], inside[700];
    snprintf(sub, sizeof sub, "%s/adir", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", sub);
    snprintf(inside, sizeof inside, "%s/keep", sub);
    mkdir(sub, 0755);
    FILE *f = fopen(inside, "w");
    if (f) { fputs("x", f); fclose(f); }
    swiftadam_state *s = make(100, 1, 1.0f);
    int32_t rc = swiftadam_save(s, sub);
    struct stat st;
    CHECK(rc == SWIFTADAM_ERR_IO, "save to a directory returned %s", swiftadam_status_name(rc));
    CHECK(stat(sub, &st) == 0 && S_ISDIR(st.st_mode) && exists(inside), "the directory was changed");
    CHECK(!exists(tmp), "temp file left behind");
    printf("path is a directory: %s (%s); directory intact, no temp file\n", swiftadam_status_name(rc), swiftadam_last_error());
    unlink(inside);
    rmdir(sub);
    swiftadam_free(s);
}

/* -------- 3. tiny tmpfs: full disk, read-only ----------------------------------------- */

static void tiny_tmpfs(const char *dir) {
    char mnt[600], path[640], tmp[660];
    snprintf(mnt, sizeof mnt, "%s/mnt", dir);
    snprintf(path, sizeof path, "%s/t.ckpt", mnt);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    mkdir(mnt, 0755);
    /* A private mount namespace: the tmpfs disappears with this process even if it dies
     * before the umount (and is never visible to the rest of the machine). */
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
        printf("tiny tmpfs: SKIPPED (no private mount namespace here: %s)\n", strerror(errno));
        rmdir(mnt);
        return;
    }
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=1m") != 0) {
        printf("tiny tmpfs: SKIPPED (mount -t tmpfs -o size=1m not permitted here: %s)\n", strerror(errno));
        rmdir(mnt);
        return;
    }
    /* ~600 KB each: the old one fits, old + new do not */
    swiftadam_state *old = make(75000, 5, 1.0f), *new = make(75000, 6, 3.0f);
    size_t old_n;
    unsigned char *old_b = bytes_of(old, &old_n);
    CHECK(swiftadam_save(old, path) == SWIFTADAM_OK, "first save on the 1 MB tmpfs");
    int32_t rc = swiftadam_save(new, path);
    CHECK(rc == SWIFTADAM_ERR_IO && strstr(swiftadam_last_error(), strerror(ENOSPC)), "full disk: %s", swiftadam_status_name(rc));
    CHECK(file_equals(path, old_b, old_n), "full disk: previous checkpoint changed");
    CHECK(!exists(tmp), "full disk: temp file left behind");
    swiftadam_state *l = NULL;
    CHECK(swiftadam_load(path, NULL, 0, &l) == SWIFTADAM_OK, "full disk: previous checkpoint does not load");
    swiftadam_free(l);
    printf("full disk (1 MB tmpfs, %zu-byte checkpoints): %s (%s); previous intact, no temp file\n", old_n,
           swiftadam_status_name(rc), swiftadam_last_error());

    if (mount(NULL, mnt, NULL, MS_REMOUNT | MS_RDONLY, "size=1m") != 0) {
        printf("read-only directory: SKIPPED (remount read-only failed: %s)\n", strerror(errno));
    } else {
        swiftadam_state *small = make(10, 7, 4.0f);
        rc = swiftadam_save(small, path);
        CHECK(rc == SWIFTADAM_ERR_IO && strstr(swiftadam_last_error(), strerror(EROFS)), "read-only: %s", swiftadam_status_name(rc));
        CHECK(file_equals(path, old_b, old_n), "read-only: previous checkpoint changed");
        CHECK(!exists(tmp), "read-only: temp file");
        printf("read-only directory (tmpfs remounted ro; chmod does not stop root): %s (%s); previous intact, no temp file\n",
               swiftadam_status_name(rc), swiftadam_last_error());
        swiftadam_free(small);
    }
    if (umount2(mnt, MNT_DETACH) != 0) fprintf(stderr, "umount %s: %s\n", mnt, strerror(errno));
    rmdir(mnt);
    swiftadam_free(old); swiftadam_free(new);
    free(old_b);
}

int main(void) {
    char dir[] = "/tmp/swiftadam_failsave.XXXXXX";
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 2; }
    arm = (arm_fn)dlsym(RTLD_DEFAULT, "failshim_arm");
    fired = (int_fn)dlsym(RTLD_DEFAULT, "failshim_fired");
    count = (int_fn)dlsym(RTLD_DEFAULT, "failshim_count");
    if (arm && fired && count) injected(dir);
    else { fprintf(stderr, "FAIL: failshim.so is not preloaded (run with LD_PRELOAD=.../failshim.so)\n"); failures++; checks++; }
    path_is_directory(dir);
    tiny_tmpfs(dir);
    rmdir(dir);
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}
