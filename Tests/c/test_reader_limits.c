/* Reader safety figures: 4 KB checkpoints whose header claims absurd sizes
 * (2^60 elements, 2^60 tensors, lengths whose sum overflows, a file size of 2^60) are
 * rejected before anything of that size is allocated. Each forged file is otherwise
 * consistent: right magic, version, header size and a VALID CRC-32C, so only the size
 * checks can stop it. The process's peak RSS (getrusage ru_maxrss: the whole process,
 * library and runtime included) must stay under 10 MB.
 * Usage: test_reader_limits [scratch dir]   (default /tmp)
 */
#include "swiftadam.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "check.h"

static uint32_t crc32c(const unsigned char *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

static void put64(unsigned char *p, uint64_t x) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(x >> (8 * i)); }
static void put32(unsigned char *p, uint32_t x) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(x >> (8 * i)); }
static void putf64(unsigned char *p, double d) { uint64_t u; memcpy(&u, &d, 8); put64(p, u); }

enum { SIZE = 4096 };

/* A 4096-byte checkpoint: n tensors claimed, the given lengths, valid everything else. */
static void forge(unsigned char *b, uint64_t n_claimed, size_t n_written, const uint64_t *lens, uint64_t file_bytes) {
    static const unsigned char magic[8] = {0x89, 0x53, 0x57, 0x41, 0x44, 0x41, 0x4D, 0x0A};
    memset(b, 0, SIZE);
    memcpy(b, magic, 8);
    put32(b + 8, 1);
    uint64_t table = 80 + 16 * n_written;
    put32(b + 12, (uint32_t)((table + 63) / 64 * 64));
    put64(b + 16, file_bytes);
    put64(b + 24, n_claimed);
    put32(b + 32, 0);
    putf64(b + 40, 1e-3); putf64(b + 48, 0.9); putf64(b + 56, 0.999); putf64(b + 64, 1e-8); putf64(b + 72, 0);
    for (size_t i = 0; i < n_written; i++) { put64(b + 80 + 16 * i, lens[i]); put64(b + 88 + 16 * i, 1); }
    put32(b + SIZE - 8, crc32c(b, SIZE - 8));
}

static long peak_kb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    char path[512];
    snprintf(path, sizeof path, "%s/swiftadam_forged.%d.ckpt", dir, (int)getpid());
    static unsigned char b[SIZE];
    struct { const char *what; uint64_t n; size_t nw; uint64_t lens[4]; uint64_t file_bytes; } cases[] = {
        {"1 tensor of 2^60 elements", 1, 1, {(uint64_t)1 << 60}, SIZE},
        {"1 tensor of 2^64-1 elements", 1, 1, {UINT64_MAX}, SIZE},
        {"4 tensors of 2^62 elements (sum overflows)", 4, 4, {(uint64_t)1 << 62, (uint64_t)1 << 62, (uint64_t)1 << 62, (uint64_t)1 << 62}, SIZE},
        {"2^60 tensors", (uint64_t)1 << 60, 1, {4}, SIZE},
        {"file_bytes 2^60", 1, 1, {4}, (uint64_t)1 << 60},
        {"1 tensor of 1000 floats (needs more than 4 KB)", 1, 1, {1000}, SIZE},
        {"1 tensor of 4096 elements (= file size, passes the first bound)", 1, 1, {4096}, SIZE},
    };
    long before = peak_kb();
    /* warm up: one valid load, so the baseline includes the library's first-use costs */
    size_t one = 4;
    swiftadam_state *w = NULL;
    if (swiftadam_create(&one, 1, NULL, &w) != SWIFTADAM_OK || swiftadam_save(w, path) != SWIFTADAM_OK) return 2;
    swiftadam_free(w);
    w = NULL;
    CHECK(swiftadam_load(path, NULL, 0, &w) == SWIFTADAM_OK, "valid file");
    swiftadam_free(w);
    long baseline = peak_kb();
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        forge(b, cases[k].n, cases[k].nw, cases[k].lens, cases[k].file_bytes);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(b, 1, SIZE, f) != SIZE || fclose(f) != 0) { perror(path); return 2; }
        swiftadam_state *s = (swiftadam_state *)0x5a;
        int32_t rl = swiftadam_load(path, NULL, 0, &s);
        int32_t rd = swiftadam_deserialize(b, SIZE, NULL, 0, &s);
        CHECK(rl == SWIFTADAM_ERR_CORRUPT && rd == SWIFTADAM_ERR_CORRUPT && s == (swiftadam_state *)0x5a,
              "%s: load %s, deserialize %s", cases[k].what, swiftadam_status_name(rl), swiftadam_status_name(rd));
        printf("  %-62s -> %s: %s\n", cases[k].what, swiftadam_status_name(rd), swiftadam_last_error());
    }
    unlink(path);
    long peak = peak_kb();
    printf("peak RSS: %ld KB at start, %ld KB after a valid load, %ld KB after the forged 4 KB files (limit 10240 KB)\n",
           before, baseline, peak);
    CHECK(peak < 10 * 1024, "peak RSS %ld KB", peak);
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}
