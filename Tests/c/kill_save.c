/* Crash-safe saving: SIGKILL a process in the middle of swiftadam_save, many times.
 *
 *   kill_save <dir> <trials> [params]
 *
 * A child process (this program re-executed as `kill_save --child <path> <params>`) holds
 * two states of `params` float32 elements (default 4M = 32 MB checkpoints) that are told
 * apart by their step counts and moment values (version A: step 1000, moments 1.0 / 0.5;
 * version B: step 2000, moments 2.0 / 0.25), and saves them to the same path in a loop:
 * A, B, A, B, ... The parent kills it with SIGKILL after a random delay drawn uniformly from
 * [0, 2 x the duration of one save] (so kills land in every phase: open, write, fsync,
 * rename, directory fsync, and between saves; the duration is calibrated first on a child:
 * the slowest of its first 4 saves), then checks:
 *   - the checkpoint path loads with swiftadam_load (CRC verified), and is exactly version
 *     A or version B (step counts, and moments checked element by element);
 *   - the directory holds nothing but the checkpoint and at most one "<path>.tmp".
 * Figures printed: trials, how many found A / B, how many kills left a temp file behind.
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

/* version 0 = A, 1 = B */
static const uint64_t STEP[2] = {1000, 2000};
static const float M[2] = {1.0f, 2.0f}, V[2] = {0.5f, 0.25f};

static swiftadam_state *make_version(size_t params, int version) {
    /* two tensors, so the checkpoint has several sections (and a table) */
    size_t lens[2] = {params - params / 4, params / 4};
    swiftadam_state *s = NULL;
    if (swiftadam_create(lens, 2, NULL, &s) != SWIFTADAM_OK) DIE("create");
    float *buf = malloc(lens[0] * sizeof(float));
    if (!buf) DIE("malloc");
    for (size_t t = 0; t < 2; t++) {
        if (swiftadam_set_tensor_step(s, t, STEP[version]) != SWIFTADAM_OK) DIE("set_tensor_step");
        for (size_t i = 0; i < lens[t]; i++) buf[i] = M[version];
        if (swiftadam_set_moment(s, t, SWIFTADAM_MOMENT_EXP_AVG, buf, lens[t]) != SWIFTADAM_OK) DIE("set_moment");
        for (size_t i = 0; i < lens[t]; i++) buf[i] = V[version];
        if (swiftadam_set_moment(s, t, SWIFTADAM_MOMENT_EXP_AVG_SQ, buf, lens[t]) != SWIFTADAM_OK) DIE("set_moment");
    }
    free(buf);
    return s;
}

static int child(const char *path, size_t params) {
    swiftadam_state *v[2] = {make_version(params, 0), make_version(params, 1)};
    /* tell the parent we are about to save (so the delay counts from the first save) */
    if (write(STDOUT_FILENO, "R", 1) != 1) return 2;
    for (unsigned k = 0;; k++) {
        if (swiftadam_save(v[k & 1], path) != SWIFTADAM_OK) DIE("child: save");
        if (write(STDOUT_FILENO, "S", 1) != 1) return 2;   /* one save done (for calibration) */
    }
}

/* -1: not a valid A or B; else the version */
static int check_version(const char *path, size_t params, float *buf) {
    size_t lens[2] = {params - params / 4, params / 4};
    swiftadam_state *s = NULL;
    int32_t rc = swiftadam_load(path, lens, 2, &s);
    if (rc != SWIFTADAM_OK) {
        fprintf(stderr, "FAIL: %s does not load: %s: %s\n", path, swiftadam_status_name(rc), swiftadam_last_error());
        return -1;
    }
    uint64_t st0 = 0, st1 = 0;
    swiftadam_tensor_step(s, 0, &st0);
    swiftadam_tensor_step(s, 1, &st1);
    int version = st0 == STEP[0] ? 0 : st0 == STEP[1] ? 1 : -1;
    if (version < 0 || st1 != st0) {
        fprintf(stderr, "FAIL: %s has steps %llu/%llu: neither version\n", path, (unsigned long long)st0, (unsigned long long)st1);
        swiftadam_free(s);
        return -1;
    }
    for (size_t t = 0; t < 2 && version >= 0; t++) {
        for (int w = 0; w < 2 && version >= 0; w++) {
            swiftadam_get_moment(s, t, w, buf, lens[0]);
            float want = w == 0 ? M[version] : V[version];
            for (size_t i = 0; i < lens[t]; i++)
                if (buf[i] != want) {
                    fprintf(stderr, "FAIL: %s tensor %zu moment %d element %zu = %g, version %c has %g\n", path, t, w, i,
                            (double)buf[i], 'A' + version, (double)want);
                    version = -1;
                    break;
                }
        }
    }
    swiftadam_free(s);
    return version;
}

/* entries of dir other than the checkpoint and its temp file; sets *tmp if the temp exists */
static int stray_entries(const char *dir, const char *base, int *tmp) {
    DIR *d = opendir(dir);
    struct dirent *e;
    char tmpname[300];
    snprintf(tmpname, sizeof tmpname, "%s.tmp", base);
    int stray = 0;
    *tmp = 0;
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, base)) continue;
        if (!strcmp(e->d_name, tmpname)) { (*tmp)++; continue; }
        fprintf(stderr, "FAIL: stray file %s/%s\n", dir, e->d_name);
        stray++;
    }
    if (d) closedir(d);
    return stray;
}

/* this program as `--child path params`, its stdout a pipe whose read end goes to *fd */
static pid_t spawn_child(const char *argv0, const char *path, size_t params, int *fd) {
    int pipefd[2];
    if (pipe(pipefd) != 0) DIE("pipe");
    pid_t pid = fork();
    if (pid < 0) DIE("fork");
    if (pid == 0) {
        dup2(pipefd[1], STDOUT_FILENO);
        close(pipefd[0]);
        char n[32];
        snprintf(n, sizeof n, "%zu", params);
        execl("/proc/self/exe", argv0, "--child", path, n, (char *)NULL);
        _exit(127);
    }
    close(pipefd[1]);
    *fd = pipefd[0];
    return pid;
}

int main(int argc, char **argv) {
    if (argc >= 4 && !strcmp(argv[1], "--child")) return child(argv[2], (size_t)atol(argv[3]));
    if (argc < 3) { fprintf(stderr, "usage: kill_save <dir> <trials> [params]\n"); return 2; }
    const char *dir = argv[1];
    int trials = atoi(argv[2]);
    size_t params = argc > 3 ? (size_t)atol(argv[3]) : (size_t)4 << 20;
    char path[512];
    snprintf(path, sizeof path, "%s/kill_save.ckpt", dir);
    const char *base = "kill_save.ckpt";
    mkdir(dir, 0755);
    float *buf = malloc(params * sizeof(float));
    if (!buf) DIE("malloc");

    /* the previous checkpoint exists before the first kill; time one save */
    swiftadam_state *a = make_version(params, 0);
    double save_time = 0;
    for (int k = 0; k < 3; k++) {   /* the slowest of 3 saves: the first is often the fastest */
        double t0 = now();
        if (swiftadam_save(a, path) != SWIFTADAM_OK) DIE("save");
        if (now() - t0 > save_time) save_time = now() - t0;
    }
    swiftadam_free(a);
    size_t bytes = 0;
    struct stat st;
    if (stat(path, &st) == 0) bytes = (size_t)st.st_size;

    /* calibrate on the child itself: the slowest of its first 4 saves (they run slower than
     * the parent's: fresh memory, the previous file's pages being replaced) */
    {
        int fd = -1;
        pid_t pid = spawn_child(argv[0], path, params, &fd);
        char c;
        if (read(fd, &c, 1) != 1) DIE("child did not start");
        double last = now();
        for (int k = 0; k < 4; k++) {
            if (read(fd, &c, 1) != 1) DIE("child did not save");
            double t = now();
            if (t - last > save_time) save_time = t - last;
            last = t;
        }
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        close(fd);
    }
    printf("kill-during-save: %d trials, %zu params (%zu-byte checkpoint), one save takes up to %.0f ms in the "
           "child; kill delay uniform in [0, %.0f ms]\n", trials, params, bytes, 1e3 * save_time, 2e3 * save_time);
    fflush(stdout);

    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    if (getenv("KILL_SAVE_SEED")) seed = (unsigned)atol(getenv("KILL_SAVE_SEED"));
    srandom(seed);
    int failed = 0, found[2] = {0, 0}, with_tmp = 0;
    for (int k = 0; k < trials; k++) {
        int fd = -1;
        pid_t pid = spawn_child(argv[0], path, params, &fd);
        char c;
        if (read(fd, &c, 1) != 1) DIE("child did not start");
        double delay = 2.0 * save_time * ((double)random() / (double)RAND_MAX);
        struct timespec ts = {(time_t)delay, (long)((delay - (double)(time_t)delay) * 1e9)};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        close(fd);
        if (!WIFSIGNALED(status)) { fprintf(stderr, "FAIL: child ended on its own (status %d)\n", status); failed++; continue; }
        int tmp = 0;
        int bad = stray_entries(dir, base, &tmp);
        with_tmp += tmp;
        int v = check_version(path, params, buf);
        if (v < 0 || bad || tmp > 1) { failed++; fprintf(stderr, "FAIL trial %d (delay %.1f ms, seed %u)\n", k, 1e3 * delay, seed); }
        else found[v]++;
    }
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    unlink(path);
    unlink(tmp);
    rmdir(dir);
    free(buf);
    printf("after %d SIGKILLs: checkpoint loaded as version A %d times, version B %d times; "
           "a temp file was left %d times (never more than one); seed %u\n", trials, found[0], found[1], with_tmp, seed);
    printf("%d passed, %d failed\n", trials - failed, failed);
    return failed ? 1 : 0;
}
