/* Checkpoint paths: swiftadam_save / swiftadam_load take the caller's bytes as the path and
 * never write anywhere else, never through a link, never over something that is not a
 * regular file, and never block.
 *
 *  - names that are not UTF-8 ("run_\xff.ckpt", "run_\xfe.ckpt", a "d_\xff" directory)
 *    are distinct files under exactly those bytes;
 *  - "" is SWIFTADAM_ERR_INVALID_ARGUMENT for save and load, and "./.tmp" is untouched;
 *    "dir/" is refused without touching "dir/.tmp";
 *  - a pre-existing "<path>.tmp" that is a symlink (to a file, or dangling), a hard link
 *    of another file, or a FIFO: SWIFTADAM_ERR_IO, the linked file unchanged (a dangling
 *    link's target not created), no hang;
 *  - a target that is a FIFO, a socket, a character device (made with mknod; root only)
 *    or a symlink: SWIFTADAM_ERR_IO, the target still what it was, no temp file left;
 *    loading through a symlink works;
 *  - load of a FIFO: SWIFTADAM_ERR_IO at once (each case runs under a 10 s alarm);
 *  - a stray regular "<path>.tmp" from a crashed save is still reused.
 * Usage: test_paths     Ends with "N passed, M failed".
 */
#define _GNU_SOURCE
#include "swiftadam.h"
#include "forked_case.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>

static char dir[64];
static char pbuf[4][512];

/* dir + "/" + name, in one of four rotating buffers */
static const char *at(const char *name) {
    static int k;
    k = (k + 1) % 4;
    snprintf(pbuf[k], sizeof pbuf[k], "%s/%s", dir, name);
    return pbuf[k];
}

static swiftadam_state *make(float value) {
    size_t len = 100;
    swiftadam_state *s = NULL;
    if (swiftadam_create(&len, 1, NULL, &s) != SWIFTADAM_OK) { fprintf(stderr, "create: %s\n", swiftadam_last_error()); _exit(90); }
    float m[100];
    for (int i = 0; i < 100; i++) m[i] = value + (float)i;
    swiftadam_set_moment(s, 0, 0, m, 100);
    swiftadam_set_tensor_step(s, 0, (uint64_t)value);
    return s;
}

static int file_is(const char *path, const void *want, size_t n) {
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0) return 0;
    unsigned char got[8192];
    ssize_t r = read(fd, got, sizeof got);
    close(fd);
    return r == (ssize_t)n && memcmp(got, want, n) == 0;
}

static void put(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) { perror(path); _exit(91); }
}

static mode_t kind(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0 ? (st.st_mode & S_IFMT) : 0;
}

/* 1 if path loads as the state make(value) built: its step and every exp_avg element */
static int loads_as(const char *path, float value) {
    swiftadam_state *l = NULL;
    if (swiftadam_load(path, NULL, 0, &l) != SWIFTADAM_OK) return 0;
    uint64_t step = 0;
    float m[100];
    int same = swiftadam_tensor_step(l, 0, &step) == SWIFTADAM_OK && step == (uint64_t)value &&
               swiftadam_get_moment(l, 0, SWIFTADAM_MOMENT_EXP_AVG, m, 100) == SWIFTADAM_OK;
    for (int i = 0; same && i < 100; i++) same = m[i] == value + (float)i;
    swiftadam_free(l);
    return same;
}

static void expect_refused(int32_t rc, int32_t want, const char *what) {
    CHECK(rc == want, "%s: returned %s, want %s", what, swiftadam_status_name(rc), swiftadam_status_name(want));
    if (rc == want) printf("      %s: %s (%s)\n", what, swiftadam_status_name(rc), swiftadam_last_error());
}

/* ------------------------------------------------------------------------------------ */

static void non_utf8_names(void) {
    swiftadam_state *a = make(1), *b = make(2);
    const char *pa = at("run_\xff.ckpt"), *pb = at("run_\xfe.ckpt");
    CHECK(swiftadam_save(a, pa) == SWIFTADAM_OK, "save run_\\xff: %s", swiftadam_last_error());
    CHECK(swiftadam_save(b, pb) == SWIFTADAM_OK, "save run_\\xfe: %s", swiftadam_last_error());
    CHECK(kind(pa) == S_IFREG && kind(pb) == S_IFREG, "the two files are not there under their own bytes");
    CHECK(kind(at("run_\xef\xbf\xbd.ckpt")) == 0, "a file named with U+FFFD was written");
    CHECK(loads_as(pa, 1), "run_\\xff.ckpt does not load as the state saved there");
    CHECK(loads_as(pb, 2), "run_\\xfe.ckpt does not load as the state saved there");

    mkdir(at("d_\xff"), 0755);
    const char *pd = at("d_\xff/x.ckpt");
    CHECK(swiftadam_save(a, pd) == SWIFTADAM_OK && loads_as(pd, 1), "save/load under a non-UTF-8 directory: %s",
          swiftadam_last_error());
    CHECK(kind(at("d_\xef\xbf\xbd")) == 0, "a directory named with U+FFFD was used");

    swiftadam_state *l = NULL;
    CHECK(swiftadam_load(at("missing_\xfd.ckpt"), NULL, 0, &l) == SWIFTADAM_ERR_IO &&
          strstr(swiftadam_last_error(), "missing_\\xfd.ckpt"), "message must show the undecodable byte as \\xfd");
    if (!case_failures) printf("      run_\\xff.ckpt and run_\\xfe.ckpt: two files, each loads as its own state; message: %s\n",
           swiftadam_last_error());
}

static void empty_path(void) {
    mkdir(at("cwd"), 0755);
    if (chdir(at("cwd")) != 0) { perror("chdir"); _exit(92); }
    put(".tmp", "precious");
    swiftadam_state *s = make(3), *l = NULL;
    expect_refused(swiftadam_save(s, ""), SWIFTADAM_ERR_INVALID_ARGUMENT, "save(\"\")");
    CHECK(file_is(".tmp", "precious", 8), "./.tmp was changed or deleted");
    expect_refused(swiftadam_load("", NULL, 0, &l), SWIFTADAM_ERR_INVALID_ARGUMENT, "load(\"\")");
    CHECK(l == NULL, "*out written");
}

static void trailing_slash(void) {
    mkdir(at("sub"), 0755);
    put(at("sub/.tmp"), "precious");
    swiftadam_state *s = make(4);
    char p[600];
    snprintf(p, sizeof p, "%s/sub/", dir);
    expect_refused(swiftadam_save(s, p), SWIFTADAM_ERR_IO, "save(\"dir/\")");
    CHECK(file_is(at("sub/.tmp"), "precious", 8), "dir/.tmp was changed or deleted");
    CHECK(kind(at("sub")) == S_IFDIR, "the directory was replaced");
}

/* The previous checkpoint at `name` is kept and the file behind "<name>.tmp" unchanged. */
static void tmp_is_link(const char *name, int hard) {
    swiftadam_state *old = make(5), *new = make(6);
    char p[600], tmp[620];
    snprintf(p, sizeof p, "%s", at(name));
    snprintf(tmp, sizeof tmp, "%s.tmp", p);
    CHECK(swiftadam_save(old, p) == SWIFTADAM_OK, "first save");
    put(at("victim"), "precious");
    if ((hard ? link(at("victim"), tmp) : symlink(at("victim"), tmp)) != 0) { perror("link"); _exit(93); }
    expect_refused(swiftadam_save(new, p), SWIFTADAM_ERR_IO, hard ? "<path>.tmp a hard link" : "<path>.tmp a symlink");
    CHECK(file_is(at("victim"), "precious", 8), "the file behind the link was overwritten");
    CHECK(kind(at("victim")) == S_IFREG, "the linked file is gone");
    CHECK(kind(tmp) == (hard ? S_IFREG : S_IFLNK), "the link was moved or removed");
    CHECK(loads_as(p, 5), "the previous checkpoint changed");
}
static void tmp_symlink(void) { tmp_is_link("ls.ckpt", 0); }
static void tmp_hardlink(void) { tmp_is_link("hl.ckpt", 1); }

static void tmp_dangling_symlink(void) {
    swiftadam_state *s = make(7);
    if (symlink(at("elsewhere"), at("ld.ckpt.tmp")) != 0) { perror("symlink"); _exit(93); }
    expect_refused(swiftadam_save(s, at("ld.ckpt")), SWIFTADAM_ERR_IO, "<path>.tmp a dangling symlink");
    CHECK(kind(at("elsewhere")) == 0, "the dangling link's target was created");
    CHECK(kind(at("ld.ckpt")) == 0, "a checkpoint was written");
}

static void tmp_fifo(void) {
    swiftadam_state *s = make(8);
    if (mkfifo(at("ff.ckpt.tmp"), 0644) != 0) { perror("mkfifo"); _exit(94); }
    expect_refused(swiftadam_save(s, at("ff.ckpt")), SWIFTADAM_ERR_IO, "<path>.tmp a FIFO");
    CHECK(kind(at("ff.ckpt.tmp")) == S_IFIFO, "the FIFO was replaced");
    CHECK(kind(at("ff.ckpt")) == 0, "a checkpoint was written");
}

static void load_fifo(void) {
    swiftadam_state *l = NULL;
    if (mkfifo(at("in.fifo"), 0644) != 0) { perror("mkfifo"); _exit(94); }
    expect_refused(swiftadam_load(at("in.fifo"), NULL, 0, &l), SWIFTADAM_ERR_IO, "load(a FIFO)");
    CHECK(l == NULL, "*out written");
}

/* save over a non-regular `name`: refused, still of kind `want`, no temp file */
static void refuses_target(const char *name, mode_t want, const char *what) {
    swiftadam_state *s = make(9);
    const char *p = at(name);
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", p);
    expect_refused(swiftadam_save(s, p), SWIFTADAM_ERR_IO, what);
    CHECK(kind(p) == want, "%s: the target was replaced", what);
    CHECK(kind(tmp) == 0, "%s: temporary file left behind", what);
}

static void target_fifo(void) {
    if (mkfifo(at("tf.ckpt"), 0644) != 0) { perror("mkfifo"); _exit(94); }
    refuses_target("tf.ckpt", S_IFIFO, "save over a FIFO");
}

static void target_socket(void) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", at("ts.ckpt"));
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("bind"); _exit(95); }
    refuses_target("ts.ckpt", S_IFSOCK, "save over a socket");
    close(fd);
}

static void target_device(void) {
    if (geteuid() != 0) {
        printf("      SKIPPED: mknod needs root (the FIFO and socket cases cover non-regular targets)\n");
        return;
    }
    /* the numbers of /dev/null, in the scratch directory: the real one is never at risk */
    if (mknod(at("td.ckpt"), S_IFCHR | 0666, makedev(1, 3)) != 0) { perror("mknod"); _exit(96); }
    refuses_target("td.ckpt", S_IFCHR, "save over a character device");
    struct stat st;
    CHECK(lstat(at("td.ckpt"), &st) == 0 && st.st_rdev == makedev(1, 3), "the device node changed");
    swiftadam_state *l = NULL;
    expect_refused(swiftadam_load(at("td.ckpt"), NULL, 0, &l), SWIFTADAM_ERR_IO, "load(a character device)");
}

static void target_symlink(void) {
    swiftadam_state *old = make(10);
    CHECK(swiftadam_save(old, at("real.ckpt")) == SWIFTADAM_OK, "first save");
    if (symlink(at("real.ckpt"), at("link.ckpt")) != 0) { perror("symlink"); _exit(93); }
    refuses_target("link.ckpt", S_IFLNK, "save over a symlink");
    CHECK(loads_as(at("real.ckpt"), 10), "the link's target changed");
    CHECK(loads_as(at("link.ckpt"), 10), "loading through a symlink");
}

static void stale_tmp_reused(void) {
    swiftadam_state *s = make(12);
    put(at("st.ckpt.tmp"), "half a checkpoint from a crashed save");
    CHECK(swiftadam_save(s, at("st.ckpt")) == SWIFTADAM_OK, "save: %s", swiftadam_last_error());
    CHECK(kind(at("st.ckpt.tmp")) == 0, "the stray temporary file is still there");
    CHECK(loads_as(at("st.ckpt"), 12), "the checkpoint does not load as the state");
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/swiftadam_paths.XXXXXX");
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 2; }
    printf("scratch directory %s (uid %d)\n", dir, (int)geteuid());
    struct { const char *name; void (*fn)(void); } cases[] = {
        {"non-UTF-8 names are distinct files", non_utf8_names},
        {"empty path refused, ./.tmp untouched", empty_path},
        {"\"dir/\" refused, dir/.tmp untouched", trailing_slash},
        {"<path>.tmp a symlink: not written through", tmp_symlink},
        {"<path>.tmp a dangling symlink: target not created", tmp_dangling_symlink},
        {"<path>.tmp a hard link: other name unchanged", tmp_hardlink},
        {"<path>.tmp a FIFO: IO at once", tmp_fifo},
        {"load of a FIFO: IO at once", load_fifo},
        {"target a FIFO: not replaced", target_fifo},
        {"target a socket: not replaced", target_socket},
        {"target a character device: not replaced", target_device},
        {"target a symlink: not replaced; load follows it", target_symlink},
        {"stray regular <path>.tmp is reused", stale_tmp_reused},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) run_case(cases[i].name, cases[i].fn, 10);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return forked_summary();
}
