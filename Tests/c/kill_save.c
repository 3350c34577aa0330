/* Crash-safe saving: SIGKILL a process in the middle of swiftadam_save, many times.
 *
 *   kill_save <dir> <trials> [params]
 *
 * Trial k saves a state of dtype k mod 3: float32, float64, or bfloat16 with its float32
 * master (format v2: the dtype and a master region). A child process (this program
 * re-executed as `kill_save --child <path> <dtype> <params> <first>`) holds two states that
 * are told apart by their step counts and by every element of their moments and master
 * (version A: step 1000; version B: step 2000; values that vary with the index, float64
 * ones that are not float32 values, masters that are not bfloat16 values), and saves them
 * to its dtype's path in a loop, starting with the version not at the path: B, A, B, ... or
 * A, B, A, ... The states have `params` float32 elements (default 4M = 32 MB checkpoints),
 * and as many bytes for the other dtypes (2M float64, 2.67M bfloat16 elements), so each
 * trial costs about the same. The parent kills the child with SIGKILL after a random delay
 * drawn uniformly from [0, 2 x the duration of one save of that dtype] (so kills land in
 * every phase: open, write, fsync, rename, directory fsync, and between saves; the duration
 * is calibrated first on a child: the slowest of its first 4 saves), then checks:
 *   - the checkpoint path loads with swiftadam_load (CRC verified), has the dtype saved, and
 *     is exactly version A or version B (step counts, and moments and master element by
 *     element);
 *   - the directory holds nothing but the checkpoints and at most one "<path>.tmp" each.
 * Before the trials the checker must reject tampered states (version A with one element or
 * one step from B, a checkpoint of another dtype): a checker that cannot fail proves nothing.
 * Figures printed: per dtype, how many trials found A / B and left a temp file behind.
 * Ends with "N passed, M failed".
 */
#define _GNU_SOURCE
#include "swiftadam.h"
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#define DIE(...) do { fprintf(stderr, __VA_ARGS__); fprintf(stderr, " (last_error: %s)\n", swiftadam_last_error()); exit(2); } while (0)

/* The dtypes a trial rotates over: float32, float64, and bfloat16 with its float32 master
 * (format v2 stores the dtype and a master region). */
enum { F32, F64, BF16, NDT };
static const char *const DNAME[NDT] = {"float32", "float64", "bfloat16"};
static const uint32_t DTYPE[NDT] = {SWIFTADAM_DTYPE_FLOAT32, SWIFTADAM_DTYPE_FLOAT64, SWIFTADAM_DTYPE_BFLOAT16};
/* stored bytes per element: two moments, plus the float32 master for bfloat16 */
static const size_t ELEM_BYTES[NDT] = {8, 16, 12};
/* what a state of dtype d holds per element: exp_avg, exp_avg_sq, and the master */
static int kinds(int d) { return d == BF16 ? 3 : 2; }
enum { MASTER = 2 };

/* version 0 = A, 1 = B */
static const uint64_t STEP[2] = {1000, 2000};

/* Element i of `kind` in version v. Varies with i, so a section written at the wrong offset
 * is caught; the float64 values are not float32 values and the float32 masters are not
 * bfloat16 values, so a state stored narrowed (or a master stored as its rounding) is caught. */
static double value(int d, int kind, int v, size_t i) {
    static const double base[3][2] = {{1.0, 2.0}, {0.5, 0.25}, {3.0, -1.5}};
    double x = base[kind][v] + (double)(i & 1023) * 0x1p-12;
    return d == F64 ? x + 0x1p-40 : x;
}

static void split(size_t params, size_t lens[2]) { lens[0] = params - params / 4; lens[1] = params / 4; }

/* tensor t's `kind` into buf (doubles for float64, else floats) */
static int32_t get_kind(swiftadam_state *s, int d, size_t t, int kind, void *buf, size_t cap) {
    if (kind == MASTER) return swiftadam_get_master(s, t, buf, cap);
    if (d == F64) return swiftadam_get_moment_f64(s, t, kind, buf, cap);
    return swiftadam_get_moment(s, t, kind, buf, cap);
}

/* tensor t's `kind` := version v, except element `odd` (if < len) taken from the other version */
static void put_kind(swiftadam_state *s, int d, size_t t, int kind, int v, size_t len, size_t odd, void *buf) {
    for (size_t i = 0; i < len; i++) {
        double x = value(d, kind, i == odd ? 1 - v : v, i);
        if (d == F64) ((double *)buf)[i] = x;
        else ((float *)buf)[i] = (float)x;
    }
    int32_t rc = kind == MASTER ? swiftadam_set_master(s, t, buf, len)
               : d == F64       ? swiftadam_set_moment_f64(s, t, kind, buf, len)
                                : swiftadam_set_moment(s, t, kind, buf, len);
    if (rc != SWIFTADAM_OK) DIE("set %s kind %d", DNAME[d], kind);
}

static swiftadam_state *make_version(int d, size_t params, int version) {
    /* two tensors, so the checkpoint has several sections (and a table) */
    size_t lens[2];
    split(params, lens);
    swiftadam_config c;
    swiftadam_config_init(&c, sizeof c);
    c.dtype = DTYPE[d];
    swiftadam_state *s = NULL;
    int32_t rc;
    if (d == BF16) {
        uint16_t *zero = calloc(lens[0], sizeof(uint16_t));
        if (!zero) DIE("calloc");
        const uint16_t *p[2] = {zero, zero};
        rc = swiftadam_create_half(lens, 2, &c, p, &s);
        free(zero);
    } else {
        rc = swiftadam_create(lens, 2, &c, &s);
    }
    if (rc != SWIFTADAM_OK) DIE("create %s", DNAME[d]);
    void *buf = malloc(lens[0] * sizeof(double));
    if (!buf) DIE("malloc");
    for (size_t t = 0; t < 2; t++) {
        if (swiftadam_set_tensor_step(s, t, STEP[version]) != SWIFTADAM_OK) DIE("set_tensor_step");
        for (int k = 0; k < kinds(d); k++) put_kind(s, d, t, k, version, lens[t], SIZE_MAX, buf);
    }
    free(buf);
    return s;
}

/* saves version `first`, then the other, and so on */
static int child(const char *path, int d, size_t params, int first) {
    swiftadam_state *v[2] = {make_version(d, params, first), make_version(d, params, 1 - first)};
    /* tell the parent we are about to save (so the delay counts from the first save) */
    if (write(STDOUT_FILENO, "R", 1) != 1) return 2;
    for (unsigned k = 0;; k++) {
        if (swiftadam_save(v[k & 1], path) != SWIFTADAM_OK) DIE("child: save");
        if (write(STDOUT_FILENO, "S", 1) != 1) return 2;   /* one save done (for calibration) */
    }
}

#define SAY(...) do { if (!quiet) fprintf(stderr, __VA_ARGS__); } while (0)

/* -1: not a valid A or B of dtype d; else the version. buf holds params doubles. */
static int check_version(const char *path, int d, size_t params, void *buf, int quiet) {
    size_t lens[2];
    split(params, lens);
    swiftadam_state *s = NULL;
    int32_t rc = swiftadam_load(path, lens, 2, &s);
    if (rc != SWIFTADAM_OK) {
        SAY("FAIL: %s does not load: %s: %s\n", path, swiftadam_status_name(rc), swiftadam_last_error());
        return -1;
    }
    uint32_t dtype = 99;
    uint64_t st0 = 0, st1 = 0;
    swiftadam_get_dtype(s, &dtype);
    swiftadam_tensor_step(s, 0, &st0);
    swiftadam_tensor_step(s, 1, &st1);
    int version = st0 == STEP[0] ? 0 : st0 == STEP[1] ? 1 : -1;
    if (dtype != DTYPE[d]) {
        SAY("FAIL: %s loads as dtype %u, saved as %s\n", path, dtype, DNAME[d]);
        version = -1;
    } else if (version < 0 || st1 != st0) {
        SAY("FAIL: %s has steps %llu/%llu: neither version\n", path, (unsigned long long)st0, (unsigned long long)st1);
        version = -1;
    }
    for (size_t t = 0; t < 2 && version >= 0; t++) {
        for (int k = 0; k < kinds(d) && version >= 0; k++) {
            if ((rc = get_kind(s, d, t, k, buf, lens[0])) != SWIFTADAM_OK) {
                SAY("FAIL: %s tensor %zu kind %d unreadable: %s\n", path, t, k, swiftadam_status_name(rc));
                version = -1;
                break;
            }
            for (size_t i = 0; i < lens[t]; i++) {
                double want = value(d, k, version, i);
                double got = d == F64 ? ((double *)buf)[i] : (double)((float *)buf)[i];
                if (d != F64) want = (double)(float)want;
                if (got != want) {
                    SAY("FAIL: %s (%s) tensor %zu %s element %zu = %.17g, version %c has %.17g\n", path, DNAME[d], t,
                        k == MASTER ? "master" : k ? "exp_avg_sq" : "exp_avg", i, got, 'A' + version, want);
                    version = -1;
                    break;
                }
            }
        }
    }
    swiftadam_free(s);
    return version;
}

/* The checker must reject a state that is neither A nor B: per dtype, version A with one
 * element of one tensor's exp_avg, exp_avg_sq or master from B, with one tensor's step
 * from B, and a checkpoint of another dtype. Returns the number of tampered states it accepted. */
static int checker_self_check(const char *dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/self_check.ckpt", dir);
    const size_t params = 4096;
    size_t lens[2];
    split(params, lens);
    double buf[4096];
    int accepted = 0, rejected = 0;
    for (int d = 0; d < NDT; d++) {
        swiftadam_state *s = make_version(d, params, 0);
        if (swiftadam_save(s, path) != SWIFTADAM_OK) DIE("save");
        if (check_version(path, d, params, buf, 0) != 0) DIE("self-check: untampered %s version A rejected", DNAME[d]);
        for (size_t t = 0; t < 2; t++) {
            for (int k = 0; k <= kinds(d); k++) {   /* k == kinds(d): the step */
                swiftadam_state *x = make_version(d, params, 0);
                if (k == kinds(d)) swiftadam_set_tensor_step(x, t, STEP[1]);
                else put_kind(x, d, t, k, 0, lens[t], lens[t] - 1 - t, buf);
                if (swiftadam_save(x, path) != SWIFTADAM_OK) DIE("save");
                swiftadam_free(x);
                if (check_version(path, d, params, buf, 1) < 0) rejected++;
                else {
                    accepted++;
                    fprintf(stderr, "FAIL: checker accepts %s A with tensor %zu's %s from B\n", DNAME[d], t,
                            k == kinds(d) ? "step" : k == MASTER ? "master element" : "moment element");
                }
            }
        }
        if (swiftadam_save(s, path) != SWIFTADAM_OK) DIE("save");
        swiftadam_free(s);
        if (check_version(path, (d + 1) % NDT, params, buf, 1) < 0) rejected++;
        else { accepted++; fprintf(stderr, "FAIL: checker accepts a %s checkpoint as %s\n", DNAME[d], DNAME[(d + 1) % NDT]); }
    }
    unlink(path);
    printf("checker self-check: %d tampered states rejected, %d accepted\n", rejected, accepted);
    return accepted;
}

/* entries of dir other than the checkpoints and their temp files; tmp[d] = 1 if dtype d's temp exists */
static int stray_entries(const char *dir, int tmp[NDT]) {
    DIR *dp = opendir(dir);
    struct dirent *e;
    int stray = 0;
    for (int d = 0; d < NDT; d++) tmp[d] = 0;
    while (dp && (e = readdir(dp))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        int known = 0;
        for (int d = 0; d < NDT && !known; d++) {
            char name[64];
            snprintf(name, sizeof name, "kill_save_%s.ckpt", DNAME[d]);
            if (!strcmp(e->d_name, name)) known = 1;
            snprintf(name, sizeof name, "kill_save_%s.ckpt.tmp", DNAME[d]);
            if (!strcmp(e->d_name, name)) { known = 1; tmp[d]++; }
        }
        if (!known) { fprintf(stderr, "FAIL: stray file %s/%s\n", dir, e->d_name); stray++; }
    }
    if (dp) closedir(dp);
    return stray;
}

/* this program as `--child path dtype params first`, its stdout a pipe whose read end goes to *fd */
static pid_t spawn_child(const char *argv0, const char *path, int d, size_t params, int first, int *fd) {
    int pipefd[2];
    if (pipe(pipefd) != 0) DIE("pipe");
    pid_t pid = fork();
    if (pid < 0) DIE("fork");
    if (pid == 0) {
        dup2(pipefd[1], STDOUT_FILENO);
        close(pipefd[0]);
        char n[32], dn[8];
        snprintf(n, sizeof n, "%zu", params);
        snprintf(dn, sizeof dn, "%d", d);
        execl("/proc/self/exe", argv0, "--child", path, dn, n, first ? "1" : "0", (char *)NULL);
        _exit(127);
    }
    close(pipefd[1]);
    *fd = pipefd[0];
    return pid;
}

int main(int argc, char **argv) {
    if (argc >= 6 && !strcmp(argv[1], "--child"))
        return child(argv[2], atoi(argv[3]) % NDT, (size_t)atol(argv[4]), atoi(argv[5]) & 1);
    if (argc < 3) { fprintf(stderr, "usage: kill_save <dir> <trials> [params]\n"); return 2; }
    const char *dir = argv[1];
    int trials = atoi(argv[2]);
    size_t f32_params = argc > 3 ? (size_t)atol(argv[3]) : (size_t)4 << 20;
    mkdir(dir, 0755);
    if (checker_self_check(dir)) return 1;

    /* every dtype's checkpoint is as large as the float32 one: the trials of each take as long */
    char path[NDT][512];
    size_t params[NDT], bytes[NDT];
    double save_time[NDT];
    void *buf = malloc(f32_params * ELEM_BYTES[F32]);   /* the longest tensor of any dtype, in doubles */
    if (!buf) DIE("malloc");
    int last[NDT];   /* the version at path[d]: each child saves the other one first, so the file always changes */
    for (int d = 0; d < NDT; d++) {
        params[d] = f32_params * ELEM_BYTES[F32] / ELEM_BYTES[d];
        snprintf(path[d], sizeof path[d], "%s/kill_save_%s.ckpt", dir, DNAME[d]);
        /* the previous checkpoint exists before the first kill; time one save */
        swiftadam_state *a = make_version(d, params[d], 0);
        save_time[d] = 0;
        for (int k = 0; k < 3; k++) {   /* the slowest of 3 saves: the first is often the fastest */
            double t0 = now();
            if (swiftadam_save(a, path[d]) != SWIFTADAM_OK) DIE("save");
            if (now() - t0 > save_time[d]) save_time[d] = now() - t0;
        }
        swiftadam_free(a);
        struct stat st;
        bytes[d] = stat(path[d], &st) == 0 ? (size_t)st.st_size : 0;

        /* calibrate on the child itself: the slowest of its first 4 saves (they run slower than
         * the parent's: fresh memory, the previous file's pages being replaced) */
        int fd = -1;
        pid_t pid = spawn_child(argv[0], path[d], d, params[d], 1, &fd);
        char c;
        if (read(fd, &c, 1) != 1) DIE("child did not start");
        double last_save = now();
        for (int k = 0; k < 4; k++) {
            if (read(fd, &c, 1) != 1) DIE("child did not save");
            double t = now();
            if (t - last_save > save_time[d]) save_time[d] = t - last_save;
            last_save = t;
        }
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        close(fd);
        if ((last[d] = check_version(path[d], d, params[d], buf, 0)) < 0) DIE("calibration left a bad %s checkpoint", DNAME[d]);
        printf("kill-during-save %s: %zu params (%zu-byte checkpoint), one save takes up to %.0f ms in the child; "
               "kill delay uniform in [0, %.0f ms]\n", DNAME[d], params[d], bytes[d], 1e3 * save_time[d], 2e3 * save_time[d]);
    }
    fflush(stdout);

    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    if (getenv("KILL_SAVE_SEED")) seed = (unsigned)atol(getenv("KILL_SAVE_SEED"));
    srandom(seed);
    int failed = 0, found[NDT][2] = {{0}}, with_tmp[NDT] = {0}, kept = 0;
    for (int k = 0; k < trials; k++) {
        int d = k % NDT;
        int fd = -1;
        pid_t pid = spawn_child(argv[0], path[d], d, params[d], 1 - last[d], &fd);
        char c;
        if (read(fd, &c, 1) != 1) DIE("child did not start");
        double delay = 2.0 * save_time[d] * ((double)random() / (double)RAND_MAX);
        struct timespec ts = {(time_t)delay, (long)((delay - (double)(time_t)delay) * 1e9)};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        close(fd);
        if (!WIFSIGNALED(status)) { fprintf(stderr, "FAIL: child ended on its own (status %d)\n", status); failed++; continue; }
        int tmp[NDT];
        int bad = stray_entries(dir, tmp);
        with_tmp[d] += tmp[d];
        int v = check_version(path[d], d, params[d], buf, 0);
        if (v < 0 || bad) {
            failed++;
            fprintf(stderr, "FAIL trial %d (%s, delay %.1f ms, seed %u)\n", k, DNAME[d], 1e3 * delay, seed);
        } else {
            found[d][v]++;
            kept += v == last[d];
            last[d] = v;
        }
    }
    for (int d = 0; d < NDT; d++) {
        char tmp[sizeof path + 8];
        snprintf(tmp, sizeof tmp, "%s.tmp", path[d]);
        unlink(path[d]);
        unlink(tmp);
    }
    rmdir(dir);
    free(buf);
    printf("after %d SIGKILLs (seed %u; %d kept the old version, %d found the new), the checkpoint loaded as version A / B:",
           trials, seed, kept, trials - failed - kept);
    for (int d = 0; d < NDT; d++) printf("%s %s %d / %d", d ? "," : "", DNAME[d], found[d][0], found[d][1]);
    printf("; a temp file was left");
    for (int d = 0; d < NDT; d++) printf("%s %d", d ? " /" : "", with_tmp[d]);
    printf(" times\n%d passed, %d failed\n", trials - failed, failed);
    return failed ? 1 : 0;
}
