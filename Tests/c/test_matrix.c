/* Bad-input matrix at the C ABI.
 *
 * Table-driven: every exported function of include/swiftadam.h is called with NULL for each
 * pointer argument, zero/one/huge (SIZE_MAX, SIZE_MAX/4) lengths, counts and capacities,
 * mismatched tensor counts and lengths, NaN/+-Inf/negative hyperparameters, beta = 1, and
 * freed / never-created handles. For every failing case the test asserts
 *   - the documented status code,
 *   - a non-empty swiftadam_last_error() that this very call set (the text before the call
 *     is a known sentinel message, and it must have changed),
 *   - the states are byte-identical afterwards (swiftadam_serialize bytes + thread setting),
 *   - every caller buffer is byte-identical afterwards (all of them live in one arena that
 *     is compared with memcmp), and no file appeared or changed in the scratch directory.
 * Non-error outcomes that must not change anything (STEP_SKIPPED, free(NULL), a step with
 * every grad NULL) are checked the same way minus the message.
 *
 * Handle limit (documented in swiftadam.h): handles are looked up in a registry, never
 * dereferenced, so any pointer value is safe to pass; but a freed handle whose address has
 * since been reused by a NEW state is indistinguishable from that new state.
 *
 * Usage: test_matrix [-v]   (-v lists every case)
 */
#define _GNU_SOURCE
#include "swiftadam.h"
#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- fixture ---------------------------------------------------------------------- */

enum { L0 = 5, L1 = 17, LQ = 7, CKPT_MAX = 4096 };

/* Every buffer the library is handed lives here, so "caller buffers unchanged" is one memcmp. */
typedef struct {
    float p0[L0], p1[L1], q[LQ];                 /* params */
    float g0[L0], g1[L1], gq[LQ];                /* finite grads */
    float gnan[L1], ginf[L1], gninf[L1];         /* grads with one NaN / +Inf / -Inf */
    float pcat[L0 + L1], gcat[L0 + L1];          /* S2's tensors end to end (step_contiguous) */
    float gcat_bad[L0 + L1];                     /* gcat with one non-finite value, per case */
    float *params[3];                            /* {p0, p1, p1} (3rd for count-3 calls) */
    const float *grads[3];
    float *params_null0[2], *params_null1[2];    /* a NULL param where the grad is set */
    const float *grads_nan[2], *grads_inf[2], *grads_ninf[2];
    float *params_allnull[2];
    const float *grads_allnull[2];
    float qnan[LQ];
    float out[64];                               /* moment output */
    float in[64];                                /* moment input */
    double dp0[L0], dp1[L1], dq[LQ];             /* float64 params (state D2, D1) */
    double dg0[L0], dg1[L1], dgq[LQ], dgnan[L1];
    double *dparams[2];
    const double *dgrads[2], *dgrads_nan[2];
    double dout[64], din[64];
    uint32_t u32;                                /* get_dtype output */
    uint16_t hp0[L0], hp1[L1];                   /* bfloat16 params (state H2) */
    uint16_t hg0[L0], hg1[L1], hgnan[L1];        /* bfloat16 grads, one with a NaN */
    uint16_t *hparams[2], *hparams_null1[2];
    const uint16_t *hgrads[2], *hgrads_nan[2];
    float gbig[L1];                              /* finite float32 grads, one near FLT_MAX */
    const float *grads_big[2];
    uint16_t hout[64];                           /* get_params_half output */
    size_t ckpth_size;
    unsigned char ckpth[CKPT_MAX];               /* a valid checkpoint of H2 (bfloat16) */
    unsigned char ckpth_bad[CKPT_MAX];
    size_t ckpt64_size;
    unsigned char ckpt64[CKPT_MAX];              /* a valid checkpoint of D2 (format version 2) */
    unsigned char ckpt64_bad[CKPT_MAX];
    swiftadam_config cfg;                        /* a valid config (S2's own) */
    swiftadam_config cfg_bad;                    /* prepared per case */
    swiftadam_config cfg_out;                    /* get_config output */
    union { swiftadam_config c; unsigned char b[8192]; } big;   /* struct_size games */
    size_t lens[4], lens_zero[1], lens_huge[2], lens_bad[3];
    size_t sz;                                   /* size_t outputs */
    uint64_t u64;                                /* step output */
    swiftadam_state *st_out;                     /* create/deserialize/load output */
    size_t ckpt_size;
    unsigned char ckpt[CKPT_MAX];                /* a valid checkpoint of S2 */
    unsigned char ckpt_bad[CKPT_MAX];            /* prepared per case */
    unsigned char ser[CKPT_MAX];                 /* serialize output */
    char dir[256], path_good[300], path_dir[300], path_missing[300], path_empty[300],
         path_badmagic[300], path_trunc[300], path_save[300];
    char path_long[5000];
} Arena;

static Arena A, A_before;
static swiftadam_state *S2, *S1, *D2, *D1, *H2, *FREED, *STACK, *ONE, *MAXPTR, *INSIDE;
static const unsigned char FILL = 0xA5;

static void arena_reset(void) {
    /* Pointer-holding fields are set the same way every time; the rest is a pattern. */
    memset(&A.out, FILL, sizeof A.out);
    memset(&A.cfg_out, FILL, sizeof A.cfg_out);
    A.cfg_out.struct_size = sizeof A.cfg_out;
    memset(&A.big, FILL, sizeof A.big);
    memset(&A.ser, FILL, sizeof A.ser);
    memset(&A.sz, FILL, sizeof A.sz);
    memset(&A.u64, FILL, sizeof A.u64);
    memset(&A.u32, FILL, sizeof A.u32);
    memset(&A.dout, FILL, sizeof A.dout);
    memcpy(A.ckpt64_bad, A.ckpt64, sizeof A.ckpt64);
    memcpy(A.ckpth_bad, A.ckpth, sizeof A.ckpth);
    memset(&A.hout, FILL, sizeof A.hout);
    for (int i = 0; i < 64; i++) A.din[i] = 0.25 * i - 3.0;
    memset(&A.st_out, FILL, sizeof A.st_out);
    A.cfg_bad = A.cfg;
    memcpy(A.ckpt_bad, A.ckpt, sizeof A.ckpt);
    for (int i = 0; i < 64; i++) A.in[i] = 0.25f * (float)i - 3.0f;
}

static void arena_init(void) {
    memset(&A, 0, sizeof A);
    for (int i = 0; i < L0; i++) { A.p0[i] = 0.5f * (float)i - 1.0f; A.g0[i] = 0.01f * (float)(i + 1); }
    for (int i = 0; i < L1; i++) {
        A.p1[i] = 1.0f / (float)(i + 1); A.g1[i] = (i % 2 ? -0.3f : 0.2f) * (float)(i + 1);
        A.gnan[i] = A.ginf[i] = A.gninf[i] = A.g1[i];
    }
    A.gnan[3] = NAN; A.ginf[L1 - 1] = INFINITY; A.gninf[0] = -INFINITY;
    for (int i = 0; i < LQ; i++) { A.q[i] = (float)i; A.gq[i] = -0.1f * (float)i + 0.05f; A.qnan[i] = A.gq[i]; }
    A.qnan[LQ - 1] = NAN;
    memcpy(A.pcat, A.p0, sizeof A.p0); memcpy(A.pcat + L0, A.p1, sizeof A.p1);
    memcpy(A.gcat, A.g0, sizeof A.g0); memcpy(A.gcat + L0, A.g1, sizeof A.g1);
    memcpy(A.gcat_bad, A.gcat, sizeof A.gcat);
    A.params[0] = A.p0; A.params[1] = A.p1; A.params[2] = A.p1;
    A.grads[0] = A.g0; A.grads[1] = A.g1; A.grads[2] = A.g1;
    A.params_null0[0] = NULL; A.params_null0[1] = A.p1;
    A.params_null1[0] = A.p0; A.params_null1[1] = NULL;
    A.grads_nan[0] = A.g0; A.grads_nan[1] = A.gnan;
    A.grads_inf[0] = A.g0; A.grads_inf[1] = A.ginf;
    A.grads_ninf[0] = A.g0; A.grads_ninf[1] = A.gninf;
    A.params_allnull[0] = A.params_allnull[1] = NULL;
    A.grads_allnull[0] = A.grads_allnull[1] = NULL;
    A.lens[0] = L0; A.lens[1] = L1; A.lens[2] = L1; A.lens[3] = 0;
    A.lens_bad[0] = L0; A.lens_bad[1] = L1 + 1; A.lens_bad[2] = 3;
    A.lens_zero[0] = 0;
    for (int i = 0; i < L0; i++) { A.dp0[i] = A.p0[i]; A.dg0[i] = A.g0[i]; }
    for (int i = 0; i < L1; i++) { A.dp1[i] = A.p1[i]; A.dg1[i] = A.g1[i]; A.dgnan[i] = A.g1[i]; }
    for (int i = 0; i < LQ; i++) { A.dq[i] = A.q[i]; A.dgq[i] = A.gq[i]; }
    A.dgnan[5] = NAN;
    A.dparams[0] = A.dp0; A.dparams[1] = A.dp1;
    A.dgrads[0] = A.dg0; A.dgrads[1] = A.dg1;
    A.dgrads_nan[0] = A.dg0; A.dgrads_nan[1] = A.dgnan;
    for (int i = 0; i < L0; i++) { A.hp0[i] = (uint16_t)(0x3F00 + i); A.hg0[i] = (uint16_t)(0x3C00 + i); }
    for (int i = 0; i < L1; i++) { A.hp1[i] = (uint16_t)(0xBE00 + i); A.hg1[i] = A.hgnan[i] = (uint16_t)(0xBC00 + i); A.gbig[i] = A.g1[i]; }
    A.hgnan[2] = 0x7FC0;
    A.gbig[L1 - 1] = 3e38f;
    A.hparams[0] = A.hp0; A.hparams[1] = A.hp1;
    A.hparams_null1[0] = A.hp0; A.hparams_null1[1] = NULL;
    A.hgrads[0] = A.hg0; A.hgrads[1] = A.hg1;
    A.hgrads_nan[0] = A.hg0; A.hgrads_nan[1] = A.hgnan;
    A.grads_big[0] = A.g0; A.grads_big[1] = A.gbig;
}

/* ---- snapshots of the states -------------------------------------------------------- */

typedef struct { size_t n; unsigned char b[CKPT_MAX]; size_t threads; } Snap;

static void snap(swiftadam_state *s, Snap *out) {
    memset(out, 0, sizeof *out);
    if (swiftadam_serialize(s, out->b, sizeof out->b, &out->n) != SWIFTADAM_OK ||
        swiftadam_get_num_threads(s, &out->threads) != SWIFTADAM_OK) {
        fprintf(stderr, "fixture: cannot snapshot a state: %s\n", swiftadam_last_error());
        exit(2);
    }
}

static int same_snap(const Snap *a, const Snap *b) {
    return a->n == b->n && a->threads == b->threads && memcmp(a->b, b->b, a->n) == 0;
}

/* Scratch directory signature: names, sizes and a checksum of each file's bytes. */
static void dir_signature(char *out, size_t cap) {
    out[0] = 0;
    struct dirent **names = NULL;
    int n = scandir(A.dir, &names, NULL, alphasort);
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        char p[600];
        snprintf(p, sizeof p, "%s/%s", A.dir, names[i]->d_name);
        struct stat st;
        unsigned long sum = 0;
        if (lstat(p, &st) == 0 && S_ISREG(st.st_mode)) {
            FILE *f = fopen(p, "rb");
            int c;
            if (f) { while ((c = fgetc(f)) != EOF) sum = sum * 131 + (unsigned long)c; fclose(f); }
        }
        int w = snprintf(out + used, cap - used, "%s:%lld:%lx;", names[i]->d_name,
                         (long long)(lstat(p, &st) == 0 ? st.st_size : -1), sum);
        if (w > 0 && (size_t)w < cap - used) used += (size_t)w;
        free(names[i]);
    }
    free(names);
    /* swiftadam_save("") would use ".tmp" in the working directory */
    if (access(".tmp", F_OK) == 0) snprintf(out + used, cap - used, "CWD/.tmp exists");
}

/* ---- the table ---------------------------------------------------------------------- */

enum Kind {
    ERR,       /* status < 0: message set, nothing changed */
    NOCHANGE,  /* status >= 0 but nothing may change (skipped step, free(NULL), ...) */
    OK_ONLY,   /* a success that writes outputs: only the status is checked */
    PURE,      /* a never-failing function returning a string: non-NULL, non-empty */
};

typedef struct Case Case;
typedef int32_t (*CallFn)(const Case *);
struct Case {
    char name[96];
    enum Kind kind;
    int32_t expect;
    CallFn call;
    swiftadam_state *h;   /* the handle the call uses */
    size_t a, b;          /* integer parameters (index, length, count, capacity, ...) */
    int64_t w;            /* `which`, step value, flags */
    double d;             /* hyperparameter value */
    int field;            /* which hyperparameter */
    const char *text;     /* returned by PURE calls */
};

static Case cases[2048];
static int ncases;

static Case *add(const char *name, enum Kind kind, int32_t expect, CallFn call, swiftadam_state *h) {
    if (ncases == (int)(sizeof cases / sizeof *cases)) { fprintf(stderr, "too many cases\n"); exit(2); }
    Case *c = &cases[ncases++];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->kind = kind; c->expect = expect; c->call = call; c->h = h;
    return c;
}

static Case *addf(enum Kind kind, int32_t expect, CallFn call, swiftadam_state *h, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static Case *addf(enum Kind kind, int32_t expect, CallFn call, swiftadam_state *h, const char *fmt, ...) {
    char name[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    return add(name, kind, expect, call, h);
}

/* ---- calls ------------------------------------------------------------------------- */
/* Each "valid" call succeeds with h = S2 (or S1 for step_tensor); the matrix varies one
 * argument at a time. */

static void set_field(swiftadam_config *cfg, int field, double v) {
    switch (field) {
    case 0: cfg->lr = v; break;
    case 1: cfg->beta1 = v; break;
    case 2: cfg->beta2 = v; break;
    case 3: cfg->eps = v; break;
    default: cfg->weight_decay = v; break;
    }
}
static const char *field_name[] = {"lr", "beta1", "beta2", "eps", "weight_decay"};

/* version / status / errors (never fail) */
static int32_t c_version_string(const Case *c) { ((Case *)c)->text = swiftadam_version_string(); return 0; }
static int32_t c_status_name(const Case *c) { ((Case *)c)->text = swiftadam_status_name((int32_t)c->w); return 0; }
static int32_t c_status_string(const Case *c) { ((Case *)c)->text = swiftadam_status_string((int32_t)c->w); return 0; }
static int32_t c_backend_name(const Case *c) { ((Case *)c)->text = swiftadam_backend_name(); return 0; }
static int32_t c_last_error(const Case *c) { ((Case *)c)->text = swiftadam_last_error(); return 0; }
static int32_t c_version_number(const Case *c) {
    ((Case *)c)->text = swiftadam_version_number() == SWIFTADAM_VERSION_NUMBER ? "ok" : NULL; return 0;
}
static int32_t c_abi_version(const Case *c) {
    ((Case *)c)->text = swiftadam_abi_version() == SWIFTADAM_ABI_VERSION ? "ok" : NULL; return 0;
}

/* config_init */
static int32_t c_config_init_null(const Case *c) { return swiftadam_config_init(NULL, c->a); }
static int32_t c_config_init_big(const Case *c) { return swiftadam_config_init(&A.big.c, c->a); }

/* create */
static int32_t c_create_lengths_null(const Case *c) { (void)c; return swiftadam_create(NULL, 2, &A.cfg, &A.st_out); }
static int32_t c_create_out_null(const Case *c) { (void)c; return swiftadam_create(A.lens, 2, &A.cfg, NULL); }
static int32_t c_create_all_null(const Case *c) { (void)c; return swiftadam_create(NULL, 2, NULL, NULL); }
static int32_t c_create_n(const Case *c) { return swiftadam_create(A.lens, c->a, &A.cfg, &A.st_out); }
static int32_t c_create_len(const Case *c) { (void)c; return swiftadam_create(A.lens_huge, 2, &A.cfg, &A.st_out); }
static int32_t c_create_cfg_bad(const Case *c) { (void)c; return swiftadam_create(A.lens, 2, &A.cfg_bad, &A.st_out); }
static int32_t c_create_cfg_big(const Case *c) { (void)c; return swiftadam_create(A.lens, 2, &A.big.c, &A.st_out); }

/* free */
static int32_t c_free(const Case *c) { return swiftadam_free(c->h); }

/* config after creation */
static int32_t c_get_config(const Case *c) { return swiftadam_get_config(c->h, &A.cfg_out); }
static int32_t c_get_config_null(const Case *c) { return swiftadam_get_config(c->h, NULL); }
static int32_t c_get_config_size(const Case *c) { return swiftadam_get_config(c->h, &A.big.c); }
static int32_t c_set_config(const Case *c) { return swiftadam_set_config(c->h, &A.cfg); }
static int32_t c_set_config_null(const Case *c) { return swiftadam_set_config(c->h, NULL); }
static int32_t c_set_config_bad(const Case *c) { return swiftadam_set_config(c->h, &A.cfg_bad); }
static int32_t c_set_config_big(const Case *c) { return swiftadam_set_config(c->h, &A.big.c); }
static int32_t c_set_lr(const Case *c) { return swiftadam_set_lr(c->h, 0.01); }
static int32_t c_set_lr_bad(const Case *c) { return swiftadam_set_lr(c->h, c->d); }

/* queries */
static int32_t c_num_tensors(const Case *c) { return swiftadam_num_tensors(c->h, &A.sz); }
static int32_t c_num_tensors_null(const Case *c) { return swiftadam_num_tensors(c->h, NULL); }
static int32_t c_tensor_length(const Case *c) { return swiftadam_tensor_length(c->h, c->a, &A.sz); }
static int32_t c_tensor_length_null(const Case *c) { return swiftadam_tensor_length(c->h, 0, NULL); }
static int32_t c_tensor_step(const Case *c) { return swiftadam_tensor_step(c->h, c->a, &A.u64); }
static int32_t c_tensor_step_null(const Case *c) { return swiftadam_tensor_step(c->h, 0, NULL); }
static int32_t c_set_tensor_step(const Case *c) { return swiftadam_set_tensor_step(c->h, c->a, (uint64_t)c->w); }
static int32_t c_get_num_threads(const Case *c) { return swiftadam_get_num_threads(c->h, &A.sz); }
static int32_t c_get_num_threads_null(const Case *c) { return swiftadam_get_num_threads(c->h, NULL); }
static int32_t c_set_num_threads(const Case *c) { return swiftadam_set_num_threads(c->h, c->a); }

/* step */
static int32_t c_step(const Case *c) { return swiftadam_step(c->h, A.params, A.grads, c->a, (uint32_t)c->w); }
static int32_t c_step_params_null(const Case *c) { return swiftadam_step(c->h, NULL, A.grads, 2, 0); }
static int32_t c_step_grads_null(const Case *c) { return swiftadam_step(c->h, A.params, NULL, 2, 0); }
static int32_t c_step_both_null(const Case *c) { return swiftadam_step(c->h, NULL, NULL, 2, 0); }
static int32_t c_step_param0_null(const Case *c) { return swiftadam_step(c->h, A.params_null0, A.grads, 2, 0); }
static int32_t c_step_param1_null(const Case *c) { return swiftadam_step(c->h, A.params_null1, A.grads, 2, 0); }
static int32_t c_step_all_grads_null(const Case *c) { return swiftadam_step(c->h, A.params_allnull, A.grads_allnull, 2, (uint32_t)c->w); }
static int32_t c_step_nonfinite(const Case *c) {
    const float *const *g = c->a == 0 ? A.grads_nan : c->a == 1 ? A.grads_inf : A.grads_ninf;
    return swiftadam_step(c->h, A.params, g, 2, SWIFTADAM_STEP_SKIP_NONFINITE);
}
static int32_t c_step_contiguous(const Case *c) { return swiftadam_step_contiguous(c->h, A.pcat, A.gcat, (uint32_t)c->w); }
static int32_t c_step_contiguous_params_null(const Case *c) { return swiftadam_step_contiguous(c->h, NULL, A.gcat, 0); }
static int32_t c_step_contiguous_grads_null(const Case *c) { return swiftadam_step_contiguous(c->h, A.pcat, NULL, 0); }
static int32_t c_step_contiguous_both_null(const Case *c) { return swiftadam_step_contiguous(c->h, NULL, NULL, 0); }
static int32_t c_step_contiguous_nonfinite(const Case *c) {
    return swiftadam_step_contiguous(c->h, A.pcat, A.gcat_bad, SWIFTADAM_STEP_SKIP_NONFINITE);
}
static int32_t c_step_tensor(const Case *c) { return swiftadam_step_tensor(c->h, A.q, A.gq, c->a, (uint32_t)c->w); }
static int32_t c_step_tensor_param_null(const Case *c) { return swiftadam_step_tensor(c->h, NULL, A.gq, LQ, 0); }
static int32_t c_step_tensor_grad_null(const Case *c) { return swiftadam_step_tensor(c->h, A.q, NULL, LQ, 0); }
static int32_t c_step_tensor_nan(const Case *c) { return swiftadam_step_tensor(c->h, A.q, A.qnan, LQ, SWIFTADAM_STEP_SKIP_NONFINITE); }

/* moments */
static int32_t c_get_moment(const Case *c) { return swiftadam_get_moment(c->h, c->a, (int32_t)c->w, A.out, c->b); }
static int32_t c_get_moment_null(const Case *c) { return swiftadam_get_moment(c->h, 0, 0, NULL, 64); }
static int32_t c_set_moment(const Case *c) { return swiftadam_set_moment(c->h, c->a, (int32_t)c->w, A.in, c->b); }
static int32_t c_set_moment_null(const Case *c) { return swiftadam_set_moment(c->h, 0, 0, NULL, L0); }

/* float64 entry points and dtype queries */
static int32_t c_get_dtype(const Case *c) { return swiftadam_get_dtype(c->h, &A.u32); }
static int32_t c_get_dtype_null(const Case *c) { return swiftadam_get_dtype(c->h, NULL); }
static int32_t c_step_f64(const Case *c) { return swiftadam_step_f64(c->h, A.dparams, A.dgrads, c->a, (uint32_t)c->w); }
static int32_t c_step_f64_params_null(const Case *c) { return swiftadam_step_f64(c->h, NULL, A.dgrads, 2, 0); }
static int32_t c_step_f64_grads_null(const Case *c) { return swiftadam_step_f64(c->h, A.dparams, NULL, 2, 0); }
static int32_t c_step_f64_nan(const Case *c) { return swiftadam_step_f64(c->h, A.dparams, A.dgrads_nan, 2, SWIFTADAM_STEP_SKIP_NONFINITE); }
static int32_t c_step_tensor_f64(const Case *c) { return swiftadam_step_tensor_f64(c->h, A.dq, A.dgq, c->a, (uint32_t)c->w); }
static int32_t c_step_tensor_f64_param_null(const Case *c) { return swiftadam_step_tensor_f64(c->h, NULL, A.dgq, LQ, 0); }
static int32_t c_step_tensor_f64_grad_null(const Case *c) { return swiftadam_step_tensor_f64(c->h, A.dq, NULL, LQ, 0); }
static int32_t c_get_moment_f64(const Case *c) { return swiftadam_get_moment_f64(c->h, c->a, (int32_t)c->w, A.dout, c->b); }
static int32_t c_get_moment_f64_null(const Case *c) { return swiftadam_get_moment_f64(c->h, 0, 0, NULL, 64); }
static int32_t c_set_moment_f64(const Case *c) { return swiftadam_set_moment_f64(c->h, c->a, (int32_t)c->w, A.din, c->b); }
static int32_t c_set_moment_f64_null(const Case *c) { return swiftadam_set_moment_f64(c->h, 0, 0, NULL, L0); }
static int32_t c_deser64_bad(const Case *c) { (void)c; return swiftadam_deserialize(A.ckpt64_bad, A.ckpt64_size, NULL, 0, &A.st_out); }
/* 16-bit entry points: H2 is a bfloat16 state of {5, 17}; c->d is the grad scale */
static int32_t c_create_half(const Case *c) {
    return swiftadam_create_half(c->a ? A.lens_huge : A.lens, c->b, &A.cfg_bad, (const uint16_t *const *)A.hparams, &A.st_out);
}
static int32_t c_create_half_lengths_null(const Case *c) { (void)c; return swiftadam_create_half(NULL, 2, &A.cfg_bad, (const uint16_t *const *)A.hparams, &A.st_out); }
static int32_t c_create_half_cfg_null(const Case *c) { (void)c; return swiftadam_create_half(A.lens, 2, NULL, (const uint16_t *const *)A.hparams, &A.st_out); }
static int32_t c_create_half_params_null(const Case *c) { (void)c; return swiftadam_create_half(A.lens, 2, &A.cfg_bad, NULL, &A.st_out); }
static int32_t c_create_half_param1_null(const Case *c) { (void)c; return swiftadam_create_half(A.lens, 2, &A.cfg_bad, (const uint16_t *const *)A.hparams_null1, &A.st_out); }
static int32_t c_create_half_out_null(const Case *c) { (void)c; return swiftadam_create_half(A.lens, 2, &A.cfg_bad, (const uint16_t *const *)A.hparams, NULL); }
static int32_t c_step_half(const Case *c) { return swiftadam_step_half(c->h, A.hparams, A.hgrads, c->a, c->d, (uint32_t)c->w); }
static int32_t c_step_half_f32grad(const Case *c) { return swiftadam_step_half_f32grad(c->h, A.hparams, A.grads, c->a, c->d, (uint32_t)c->w); }
static int32_t c_step_half_params_null(const Case *c) { return swiftadam_step_half(c->h, NULL, A.hgrads, 2, 1.0, 0); }
static int32_t c_step_half_grads_null(const Case *c) { return swiftadam_step_half(c->h, A.hparams, NULL, 2, 1.0, 0); }
static int32_t c_step_half_param1_null(const Case *c) { return swiftadam_step_half(c->h, A.hparams_null1, A.hgrads, 2, 1.0, 0); }
static int32_t c_step_half_nan(const Case *c) { return swiftadam_step_half(c->h, A.hparams, A.hgrads_nan, 2, c->d, SWIFTADAM_STEP_SKIP_NONFINITE); }
static int32_t c_step_half_big(const Case *c) { return swiftadam_step_half_f32grad(c->h, A.hparams, A.grads_big, 2, c->d, SWIFTADAM_STEP_SKIP_NONFINITE); }
static int32_t c_get_master(const Case *c) { return swiftadam_get_master(c->h, c->a, A.out, c->b); }
static int32_t c_get_master_null(const Case *c) { return swiftadam_get_master(c->h, 0, NULL, 64); }
static int32_t c_set_master(const Case *c) { return swiftadam_set_master(c->h, c->a, A.in, c->b); }
static int32_t c_set_master_null(const Case *c) { return swiftadam_set_master(c->h, 0, NULL, L0); }
static int32_t c_get_params_half(const Case *c) { return swiftadam_get_params_half(c->h, c->a, A.hout, c->b); }
static int32_t c_get_params_half_null(const Case *c) { return swiftadam_get_params_half(c->h, 0, NULL, 64); }
static int32_t c_deserh_bad(const Case *c) { (void)c; return swiftadam_deserialize(A.ckpth_bad, A.ckpth_size, NULL, 0, &A.st_out); }

/* serialization */
static int32_t c_serialized_size(const Case *c) { return swiftadam_serialized_size(c->h, &A.sz); }
static int32_t c_serialized_size_null(const Case *c) { return swiftadam_serialized_size(c->h, NULL); }
static int32_t c_serialize(const Case *c) { return swiftadam_serialize(c->h, A.ser, c->a, &A.sz); }
static int32_t c_serialize_buf_null(const Case *c) { return swiftadam_serialize(c->h, NULL, sizeof A.ser, &A.sz); }
static int32_t c_serialize_written_null(const Case *c) { return swiftadam_serialize(c->h, A.ser, sizeof A.ser, NULL); }

enum { EXP_NONE, EXP_GOOD, EXP_BAD, EXP_NULLPTR };
static int32_t deser(const void *buf, size_t size, int exp, size_t count, swiftadam_state **out) {
    const size_t *e = exp == EXP_GOOD ? A.lens : exp == EXP_BAD ? A.lens_bad : NULL;
    if (exp == EXP_NONE) count = 0;
    return swiftadam_deserialize(buf, size, e, count, out);
}
static int32_t c_deser_buf_null(const Case *c) { (void)c; return swiftadam_deserialize(NULL, A.ckpt_size, NULL, 0, &A.st_out); }
static int32_t c_deser_out_null(const Case *c) { (void)c; return swiftadam_deserialize(A.ckpt, A.ckpt_size, NULL, 0, NULL); }
static int32_t c_deser_size(const Case *c) { return deser(A.ckpt, c->a, EXP_NONE, 0, &A.st_out); }
static int32_t c_deser_exp(const Case *c) { return deser(A.ckpt, A.ckpt_size, (int)c->w, c->a, &A.st_out); }
static int32_t c_deser_bad(const Case *c) { (void)c; return deser(A.ckpt_bad, A.ckpt_size, EXP_NONE, 0, &A.st_out); }

/* files */
static int32_t c_save(const Case *c) { return swiftadam_save(c->h, A.path_save); }
static int32_t c_save_path(const Case *c) { return swiftadam_save(c->h, c->text); }
static int32_t c_load_path(const Case *c) { return swiftadam_load(c->text, NULL, 0, &A.st_out); }
static int32_t c_load_out_null(const Case *c) { (void)c; return swiftadam_load(A.path_good, NULL, 0, NULL); }
static int32_t c_load_exp(const Case *c) {
    const size_t *e = c->w == EXP_GOOD ? A.lens : c->w == EXP_BAD ? A.lens_bad : NULL;
    return swiftadam_load(A.path_good, e, c->a, &A.st_out);
}

/* case preparation: modifies the arena BEFORE the snapshot */
typedef void (*PrepFn)(Case *);
static PrepFn prep_of[2048];

static void prep_cfg_field(Case *c) { set_field(&A.cfg_bad, c->field, c->d); }
static void prep_cfg_struct_size(Case *c) { A.cfg_bad.struct_size = c->a; }
static void prep_cfg_reserved(Case *c) { (void)c; A.cfg_bad.reserved = 1; }
static void prep_cfg_flags(Case *c) { A.cfg_bad.flags = (uint32_t)c->w; }
static void prep_cfg_big(Case *c) {
    /* a caller compiled against a newer header: bytes past v1 must be zero */
    memset(&A.big, 0, sizeof A.big);
    A.big.c = A.cfg;
    A.big.c.struct_size = c->a;
    if (c->w >= 0) A.big.b[c->w] = 1;
}
static void prep_lens(Case *c) { A.lens_huge[0] = c->a; A.lens_huge[1] = c->b; }
static void prep_out_struct_size(Case *c) { A.big.c.struct_size = c->a; }
static void prep_ckpt_byte(Case *c) { A.ckpt_bad[c->a] ^= (unsigned char)c->w; }
static void prep_ckpt64_byte(Case *c) { A.ckpt64_bad[c->a] ^= (unsigned char)c->w; }
static void prep_ckpth_byte(Case *c) { A.ckpth_bad[c->a] ^= (unsigned char)c->w; }
static void prep_cfg_flavor(Case *c) { A.cfg_bad.flavor = (uint32_t)c->w; }
static void prep_cfg_dtype(Case *c) { A.cfg_bad.dtype = (uint32_t)c->w; }
static void prep_cfg_dtype_h2(Case *c) { swiftadam_get_config(H2, &A.cfg_bad); A.cfg_bad.dtype = (uint32_t)c->w; }
static void prep_create_half(Case *c) { A.lens_huge[0] = SIZE_MAX / 4; A.lens_huge[1] = 1; A.cfg_bad.dtype = (uint32_t)c->w; }
static void prep_gcat_nonfinite(Case *c) {
    /* NaN in the first tensor, +Inf at the very end, -Inf where the second tensor starts */
    const float v[] = {NAN, INFINITY, -INFINITY};
    const size_t at[] = {2, L0 + L1 - 1, L0};
    memcpy(A.gcat_bad, A.gcat, sizeof A.gcat);
    A.gcat_bad[at[c->a]] = v[c->a];
}

/* ---- building the matrix ------------------------------------------------------------ */

static const size_t HUGE1 = SIZE_MAX, HUGE4 = SIZE_MAX / 4;

static void with_prep(Case *c, PrepFn p) { prep_of[c - cases] = p; }

static void build(void) {
    Case *c;
    struct { const char *name; swiftadam_state **h; } bad_handles[] = {
        {"NULL", NULL}, {"freed", &FREED}, {"stack-int", &STACK}, {"(void*)1", &ONE},
        {"(void*)UINTPTR_MAX", &MAXPTR}, {"live+8", &INSIDE},
    };
    const int nbad = (int)(sizeof bad_handles / sizeof *bad_handles);

    /* 1. never-failing functions */
    add("version_string", PURE, 0, c_version_string, NULL);
    add("version_number", PURE, 0, c_version_number, NULL);
    add("abi_version", PURE, 0, c_abi_version, NULL);
    add("backend_name", PURE, 0, c_backend_name, NULL);
    add("last_error", PURE, 0, c_last_error, NULL);
    int32_t codes[] = {0, 1, -1, -8, -14, -15, 2, 12345, INT32_MIN, INT32_MAX};
    for (size_t k = 0; k < sizeof codes / sizeof *codes; k++) {
        addf(PURE, 0, c_status_name, NULL, "status_name(%d)", codes[k])->w = codes[k];
        addf(PURE, 0, c_status_string, NULL, "status_string(%d)", codes[k])->w = codes[k];
    }

    /* 2. config_init */
    size_t sizes_small[] = {0, 1, 8, offsetof(swiftadam_config, flavor) - 1, HUGE1};
    for (size_t k = 0; k < 5; k++) {
        addf(ERR, SWIFTADAM_ERR_NULL_POINTER, c_config_init_null, NULL, "config_init(NULL, %zu)", sizes_small[k])->a = sizes_small[k];
        addf(ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_config_init_big, NULL, "config_init(cfg, struct_size=%zu)", sizes_small[k])->a = sizes_small[k];
    }
    /* A struct_size that create/set_config would reject (> 4096) must be rejected here
     * too, before anything is written: a garbage size must not zero 4 KB of caller memory. */
    size_t sizes_big[] = {4097, HUGE4, SIZE_MAX / 2};
    for (size_t k = 0; k < 3; k++)
        addf(ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_config_init_big, NULL, "config_init(cfg, struct_size=%zu)", sizes_big[k])->a = sizes_big[k];
    addf(ERR, SWIFTADAM_ERR_NULL_POINTER, c_config_init_null, NULL, "config_init(NULL, %zu)", HUGE4)->a = HUGE4;

    /* 3. create */
    add("create(lengths=NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_create_lengths_null, NULL);
    add("create(out=NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_create_out_null, NULL);
    add("create(NULL, cfg=NULL, NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_create_all_null, NULL);
    size_t counts[] = {0, (size_t)SWIFTADAM_MAX_TENSORS + 1, HUGE4, HUGE1};
    for (size_t k = 0; k < 4; k++)
        addf(ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_create_n, NULL, "create(num_tensors=%zu)", counts[k])->a = counts[k];
    struct { size_t a, b; int32_t want; } lens[] = {
        {HUGE1, 1, SWIFTADAM_ERR_OVERFLOW}, {HUGE4, 1, SWIFTADAM_ERR_OVERFLOW}, {1, HUGE1, SWIFTADAM_ERR_OVERFLOW},
        {1, HUGE4, SWIFTADAM_ERR_OVERFLOW}, {SIZE_MAX / 8, SIZE_MAX / 8, SWIFTADAM_ERR_OVERFLOW},
        {SIZE_MAX / 16, SIZE_MAX / 16, SWIFTADAM_ERR_OVERFLOW}, {HUGE1, HUGE1, SWIFTADAM_ERR_OVERFLOW},
        {(size_t)1 << 50, 1, SWIFTADAM_ERR_OUT_OF_MEMORY}, {1, (size_t)1 << 55, SWIFTADAM_ERR_OUT_OF_MEMORY},
    };
    for (size_t k = 0; k < sizeof lens / sizeof *lens; k++) {
        c = addf(ERR, lens[k].want, c_create_len, NULL, "create(lengths={%zu, %zu})", lens[k].a, lens[k].b);
        c->a = lens[k].a; c->b = lens[k].b; with_prep(c, prep_lens);
    }
    /* hyperparameters: NaN, +-Inf, negative (incl. -0 which is fine), beta = 1 */
    double badv[] = {NAN, -NAN, INFINITY, -INFINITY, -1.0, -DBL_MIN, -DBL_MAX};
    const char *badn[] = {"NaN", "-NaN", "+Inf", "-Inf", "-1", "-DBL_MIN", "-DBL_MAX"};
    for (int f = 0; f < 5; f++) {
        for (int k = 0; k < 7; k++) {
            c = addf(ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_create_cfg_bad, NULL, "create(cfg.%s=%s)", field_name[f], badn[k]);
            c->field = f; c->d = badv[k]; with_prep(c, prep_cfg_field);
            c = addf(ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_set_config_bad, NULL, "set_config(S2, cfg.%s=%s)", field_name[f], badn[k]);
            c->field = f; c->d = badv[k]; c->h = S2; with_prep(c, prep_cfg_field);
            if (f == 0) {
                addf(ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_set_lr_bad, S2, "set_lr(S2, %s)", badn[k])->d = badv[k];
            }
        }
        if (f == 1 || f == 2) {
            double b1[] = {1.0, nextafter(1.0, 2.0), 2.0, DBL_MAX};
            const char *b1n[] = {"1", "1+ulp", "2", "DBL_MAX"};
            for (int k = 0; k < 4; k++) {
                c = addf(ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_create_cfg_bad, NULL, "create(cfg.%s=%s)", field_name[f], b1n[k]);
                c->field = f; c->d = b1[k]; with_prep(c, prep_cfg_field);
                c = addf(ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_set_config_bad, S2, "set_config(S2, cfg.%s=%s)", field_name[f], b1n[k]);
                c->field = f; c->d = b1[k]; with_prep(c, prep_cfg_field);
            }
        }
    }
    size_t ssz[] = {0, 8, offsetof(swiftadam_config, flavor) - 1, 4097, HUGE4, HUGE1};
    for (size_t k = 0; k < 6; k++) {
        c = addf(ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_create_cfg_bad, NULL, "create(cfg.struct_size=%zu)", ssz[k]);
        c->a = ssz[k]; with_prep(c, prep_cfg_struct_size);
        c = addf(ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_set_config_bad, S2, "set_config(S2, cfg.struct_size=%zu)", ssz[k]);
        c->a = ssz[k]; with_prep(c, prep_cfg_struct_size);
    }
    c = add("create(cfg.reserved=1)", ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_create_cfg_bad, NULL); with_prep(c, prep_cfg_reserved);
    c = add("set_config(S2, cfg.reserved=1)", ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_set_config_bad, S2); with_prep(c, prep_cfg_reserved);
    uint32_t badflags[] = {1u << 4, 1u << 31, 0xFFFFFFF0u, 0xFFFFFFFFu};
    for (size_t k = 0; k < 4; k++) {
        c = addf(ERR, SWIFTADAM_ERR_UNSUPPORTED, c_create_cfg_bad, NULL, "create(cfg.flags=0x%x)", badflags[k]);
        c->w = badflags[k]; with_prep(c, prep_cfg_flags);
        c = addf(ERR, SWIFTADAM_ERR_UNSUPPORTED, c_set_config_bad, S2, "set_config(S2, cfg.flags=0x%x)", badflags[k]);
        c->w = badflags[k]; with_prep(c, prep_cfg_flags);
    }
    c = add("set_config(S2, amsgrad on)", ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_set_config_bad, S2);
    c->w = SWIFTADAM_FLAG_AMSGRAD; with_prep(c, prep_cfg_flags);
    c = add("set_config(S1, amsgrad off)", ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_set_config_bad, S1);
    c->w = 0; with_prep(c, prep_cfg_flags);
    /* newer-header struct with a non-zero byte past version 1 */
    size_t newer[] = {sizeof(swiftadam_config) + 8, 4096};
    for (size_t k = 0; k < 2; k++) {
        c = addf(ERR, SWIFTADAM_ERR_UNSUPPORTED, c_create_cfg_big, NULL, "create(cfg v-next, size %zu, byte set)", newer[k]);
        c->a = newer[k]; c->w = (int64_t)newer[k] - 1; with_prep(c, prep_cfg_big);
        c = addf(ERR, SWIFTADAM_ERR_UNSUPPORTED, c_set_config_big, S2, "set_config(S2, cfg v-next, size %zu, byte set)", newer[k]);
        c->a = newer[k]; c->w = (int64_t)sizeof(swiftadam_config); with_prep(c, prep_cfg_big);
    }

    /* 4. every handle-taking function with every bad handle (other arguments valid) */
    struct { const char *name; CallFn fn; size_t a, b; int64_t w; } hf[] = {
        {"free", c_free, 0, 0, 0},
        {"get_config", c_get_config, 0, 0, 0},
        {"set_config", c_set_config, 0, 0, 0},
        {"set_lr", c_set_lr, 0, 0, 0},
        {"num_tensors", c_num_tensors, 0, 0, 0},
        {"tensor_length", c_tensor_length, 0, 0, 0},
        {"tensor_step", c_tensor_step, 0, 0, 0},
        {"set_tensor_step", c_set_tensor_step, 0, 0, 5},
        {"get_num_threads", c_get_num_threads, 0, 0, 0},
        {"set_num_threads", c_set_num_threads, 1, 0, 0},
        {"step", c_step, 2, 0, 0},
        {"step_contiguous", c_step_contiguous, 0, 0, 0},
        {"step_tensor", c_step_tensor, LQ, 0, 0},
        {"get_moment", c_get_moment, 0, 64, 0},
        {"set_moment", c_set_moment, 0, L0, 0},
        {"serialized_size", c_serialized_size, 0, 0, 0},
        {"serialize", c_serialize, CKPT_MAX, 0, 0},
        {"save", c_save, 0, 0, 0},
        {"get_dtype", c_get_dtype, 0, 0, 0},
        {"step_f64", c_step_f64, 2, 0, 0},
        {"step_tensor_f64", c_step_tensor_f64, LQ, 0, 0},
        {"get_moment_f64", c_get_moment_f64, 0, 64, 0},
        {"set_moment_f64", c_set_moment_f64, 0, L0, 0},
        {"step_half", c_step_half, 2, 0, 0},
        {"step_half_f32grad", c_step_half_f32grad, 2, 0, 0},
        {"get_master", c_get_master, 0, 64, 0},
        {"set_master", c_set_master, 0, L0, 0},
        {"get_params_half", c_get_params_half, 0, 64, 0},
    };
    for (size_t f = 0; f < sizeof hf / sizeof *hf; f++) {
        for (int k = 0; k < nbad; k++) {
            int is_null = bad_handles[k].h == NULL;
            swiftadam_state *h = is_null ? NULL : *bad_handles[k].h;
            int32_t want = is_null ? SWIFTADAM_ERR_NULL_POINTER : SWIFTADAM_ERR_INVALID_HANDLE;
            enum Kind kind = ERR;
            if (is_null && hf[f].fn == c_free) { want = SWIFTADAM_OK; kind = NOCHANGE; }  /* free(NULL) is a no-op */
            c = addf(kind, want, hf[f].fn, h, "%s(state=%s)", hf[f].name, bad_handles[k].name);
            c->a = hf[f].a; c->b = hf[f].b; c->w = hf[f].w;
        }
    }

    /* 5. output pointers NULL */
    add("get_config(S2, out=NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_get_config_null, S2);
    add("set_config(S2, cfg=NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_set_config_null, S2);
    add("num_tensors(S2, NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_num_tensors_null, S2);
    add("tensor_length(S2, 0, NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_tensor_length_null, S2);
    add("tensor_step(S2, 0, NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_tensor_step_null, S2);
    add("get_num_threads(S2, NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_get_num_threads_null, S2);
    add("get_moment(S2, out=NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_get_moment_null, S2);
    add("set_moment(S2, in=NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_set_moment_null, S2);
    add("serialized_size(S2, NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_serialized_size_null, S2);
    add("serialize(S2, buf=NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_serialize_buf_null, S2);
    add("serialize(S2, written=NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_serialize_written_null, S2);
    add("get_config(NULL, NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_get_config_null, NULL);
    add("serialize(stack-int, buf=NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_serialize_buf_null, STACK);
    size_t outsz[] = {0, 8, offsetof(swiftadam_config, flavor) - 1, HUGE1};
    for (size_t k = 0; k < 4; k++) {
        c = addf(ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_get_config_size, S2, "get_config(S2, out.struct_size=%zu)", outsz[k]);
        c->a = outsz[k]; with_prep(c, prep_out_struct_size);
    }

    /* 6. indices, steps, threads */
    size_t badidx[] = {2, 3, HUGE4, HUGE1};
    for (size_t k = 0; k < 4; k++) {
        addf(ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_tensor_length, S2, "tensor_length(S2, index=%zu)", badidx[k])->a = badidx[k];
        addf(ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_tensor_step, S2, "tensor_step(S2, index=%zu)", badidx[k])->a = badidx[k];
        c = addf(ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_set_tensor_step, S2, "set_tensor_step(S2, index=%zu)", badidx[k]);
        c->a = badidx[k]; c->w = 1;
        for (int32_t which = 0; which < 2; which++) {
            c = addf(ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_get_moment, S2, "get_moment(S2, index=%zu, which=%d)", badidx[k], which);
            c->a = badidx[k]; c->b = 64; c->w = which;
            c = addf(ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_set_moment, S2, "set_moment(S2, index=%zu, which=%d)", badidx[k], which);
            c->a = badidx[k]; c->b = L0; c->w = which;
        }
    }
    uint64_t badstep[] = {((uint64_t)1 << 53) + 1, (uint64_t)1 << 60, UINT64_MAX};
    for (size_t k = 0; k < 3; k++) {
        c = addf(ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_set_tensor_step, S2, "set_tensor_step(S2, 0, step=%llu)", (unsigned long long)badstep[k]);
        c->a = 0; c->w = (int64_t)badstep[k];
    }
    size_t badthreads[] = {257, 1000, HUGE4, HUGE1};
    for (size_t k = 0; k < 4; k++)
        addf(ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_set_num_threads, S2, "set_num_threads(S2, %zu)", badthreads[k])->a = badthreads[k];

    /* 7. step: NULL arrays/entries, tensor count, flags, non-finite with skip */
    add("step(S2, params=NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_step_params_null, S2);
    add("step(S2, grads=NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_step_grads_null, S2);
    add("step(S2, NULL, NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_step_both_null, S2);
    add("step(S2, params[0]=NULL, grads[0] set)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_step_param0_null, S2);
    add("step(S2, params[1]=NULL, grads[1] set)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_step_param1_null, S2);
    size_t badcnt[] = {0, 1, 3, HUGE4, HUGE1};
    for (size_t k = 0; k < 5; k++) {
        addf(ERR, SWIFTADAM_ERR_SIZE_MISMATCH, c_step, S2, "step(S2, num_tensors=%zu)", badcnt[k])->a = badcnt[k];
        size_t n1 = badcnt[k] == 1 ? 2 : badcnt[k];
        addf(ERR, SWIFTADAM_ERR_SIZE_MISMATCH, c_step, S1, "step(S1, num_tensors=%zu)", n1)->a = n1;
    }
    uint32_t badsf[] = {2, 4, 1u << 31, 0xFFFFFFFFu};
    for (size_t k = 0; k < 4; k++) {
        c = addf(ERR, SWIFTADAM_ERR_UNSUPPORTED, c_step, S2, "step(S2, step_flags=0x%x)", badsf[k]);
        c->a = 2; c->w = badsf[k];
        c = addf(ERR, SWIFTADAM_ERR_UNSUPPORTED, c_step_tensor, S1, "step_tensor(S1, step_flags=0x%x)", badsf[k]);
        c->a = LQ; c->w = badsf[k];
    }
    const char *nf[] = {"NaN", "+Inf", "-Inf"};
    for (size_t k = 0; k < 3; k++)
        addf(NOCHANGE, SWIFTADAM_STEP_SKIPPED, c_step_nonfinite, S2, "step(S2, grad %s, SKIP_NONFINITE)", nf[k])->a = k;
    add("step_tensor(S1, grad NaN, SKIP_NONFINITE)", NOCHANGE, SWIFTADAM_STEP_SKIPPED, c_step_tensor_nan, S1);
    add("step_contiguous(S2, params=NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_step_contiguous_params_null, S2);
    add("step_contiguous(S2, grads=NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_step_contiguous_grads_null, S2);
    add("step_contiguous(S2, NULL, NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_step_contiguous_both_null, S2);
    for (size_t k = 0; k < 4; k++) {
        c = addf(ERR, SWIFTADAM_ERR_UNSUPPORTED, c_step_contiguous, S2, "step_contiguous(S2, step_flags=0x%x)", badsf[k]);
        c->w = badsf[k];
    }
    for (size_t k = 0; k < 3; k++) {
        c = addf(NOCHANGE, SWIFTADAM_STEP_SKIPPED, c_step_contiguous_nonfinite, S2, "step_contiguous(S2, grad %s, SKIP_NONFINITE)", nf[k]);
        c->a = k; with_prep(c, prep_gcat_nonfinite);
    }
    add("step(S2, every grad NULL)", NOCHANGE, SWIFTADAM_OK, c_step_all_grads_null, S2);
    addf(NOCHANGE, SWIFTADAM_OK, c_step_all_grads_null, S2, "step(S2, every grad NULL, SKIP_NONFINITE)")->w = SWIFTADAM_STEP_SKIP_NONFINITE;

    /* 8. step_tensor */
    add("step_tensor(S1, param=NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_step_tensor_param_null, S1);
    add("step_tensor(S1, grad=NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_step_tensor_grad_null, S1);
    size_t badlen[] = {0, 1, LQ - 1, LQ + 1, HUGE4, HUGE1};
    for (size_t k = 0; k < 6; k++)
        addf(ERR, SWIFTADAM_ERR_SIZE_MISMATCH, c_step_tensor, S1, "step_tensor(S1, length=%zu)", badlen[k])->a = badlen[k];
    addf(ERR, SWIFTADAM_ERR_SIZE_MISMATCH, c_step_tensor, S2, "step_tensor(S2 has 2 tensors)")->a = L0;

    /* 9. moments */
    int32_t badwhich[] = {-1, 3, 7, INT32_MIN, INT32_MAX};
    for (size_t k = 0; k < 5; k++) {
        c = addf(ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_get_moment, S2, "get_moment(S2, which=%d)", badwhich[k]);
        c->b = 64; c->w = badwhich[k];
        c = addf(ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_set_moment, S2, "set_moment(S2, which=%d)", badwhich[k]);
        c->b = L0; c->w = badwhich[k];
    }
    c = add("get_moment(S2, MAX_EXP_AVG_SQ without amsgrad)", ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_get_moment, S2);
    c->b = 64; c->w = SWIFTADAM_MOMENT_MAX_EXP_AVG_SQ;
    c = add("set_moment(S2, MAX_EXP_AVG_SQ without amsgrad)", ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_set_moment, S2);
    c->b = L0; c->w = SWIFTADAM_MOMENT_MAX_EXP_AVG_SQ;
    size_t badcap[] = {0, 1, L1 - 1};
    for (size_t k = 0; k < 3; k++) {
        for (int32_t which = 0; which < 2; which++) {
            c = addf(ERR, SWIFTADAM_ERR_BUFFER_TOO_SMALL, c_get_moment, S2, "get_moment(S2, 1, which=%d, capacity=%zu)", which, badcap[k]);
            c->a = 1; c->b = badcap[k]; c->w = which;
        }
    }
    c = add("get_moment(S1, 0, MAX_EXP_AVG_SQ, capacity=6)", ERR, SWIFTADAM_ERR_BUFFER_TOO_SMALL, c_get_moment, S1);
    c->b = LQ - 1; c->w = SWIFTADAM_MOMENT_MAX_EXP_AVG_SQ;
    /* capacity is "floats out can hold": SIZE_MAX holds any tensor */
    size_t bigcap[] = {HUGE4, HUGE1};
    for (size_t k = 0; k < 2; k++) {
        c = addf(OK_ONLY, SWIFTADAM_OK, c_get_moment, S2, "get_moment(S2, 1, 0, capacity=%zu)", bigcap[k]);
        c->a = 1; c->b = bigcap[k];
    }
    size_t badcount[] = {0, 1, L0 - 1, L0 + 1, HUGE4, HUGE1};
    for (size_t k = 0; k < 6; k++) {
        for (int32_t which = 0; which < 2; which++) {
            c = addf(ERR, SWIFTADAM_ERR_SIZE_MISMATCH, c_set_moment, S2, "set_moment(S2, 0, which=%d, count=%zu)", which, badcount[k]);
            c->b = badcount[k]; c->w = which;
        }
    }
    c = add("set_moment(S1, 0, MAX_EXP_AVG_SQ, count=8)", ERR, SWIFTADAM_ERR_SIZE_MISMATCH, c_set_moment, S1);
    c->b = LQ + 1; c->w = SWIFTADAM_MOMENT_MAX_EXP_AVG_SQ;

    /* 10. serialize */
    size_t sercap[] = {0, 1, 64, A.ckpt_size - 1};
    for (size_t k = 0; k < 4; k++)
        addf(ERR, SWIFTADAM_ERR_BUFFER_TOO_SMALL, c_serialize, S2, "serialize(S2, capacity=%zu)", sercap[k])->a = sercap[k];
    for (size_t k = 0; k < 2; k++)
        addf(OK_ONLY, SWIFTADAM_OK, c_serialize, S2, "serialize(S2, capacity=%zu)", bigcap[k])->a = bigcap[k];

    /* 11. deserialize */
    add("deserialize(buf=NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_deser_buf_null, NULL);
    add("deserialize(out=NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_deser_out_null, NULL);
    struct { size_t size; int32_t want; } ds[] = {
        {0, SWIFTADAM_ERR_CORRUPT}, {1, SWIFTADAM_ERR_CORRUPT}, {7, SWIFTADAM_ERR_CORRUPT},
        {8, SWIFTADAM_ERR_CORRUPT}, {80, SWIFTADAM_ERR_CORRUPT}, {103, SWIFTADAM_ERR_CORRUPT},
        {104, SWIFTADAM_ERR_CORRUPT}, {A.ckpt_size - 1, SWIFTADAM_ERR_CORRUPT},
        {A.ckpt_size - 8, SWIFTADAM_ERR_CORRUPT}, {A.ckpt_size + 1, SWIFTADAM_ERR_CORRUPT},
        {HUGE4, SWIFTADAM_ERR_CORRUPT},            /* reads the header only: declared size differs */
        {HUGE1, SWIFTADAM_ERR_INVALID_ARGUMENT},   /* larger than the address space */
    };
    for (size_t k = 0; k < sizeof ds / sizeof *ds; k++)
        addf(ERR, ds[k].want, c_deser_size, NULL, "deserialize(size=%zu)", ds[k].size)->a = ds[k].size;
    struct { int exp; size_t count; int32_t want; const char *what; } de[] = {
        {EXP_BAD, 2, SWIFTADAM_ERR_SIZE_MISMATCH, "{5,18}, 2"},
        {EXP_GOOD, 1, SWIFTADAM_ERR_SIZE_MISMATCH, "{5}, 1"},
        {EXP_GOOD, 3, SWIFTADAM_ERR_SIZE_MISMATCH, "{5,17,17}, 3"},
        {EXP_GOOD, 0, SWIFTADAM_ERR_INVALID_ARGUMENT, "lengths, 0"},
        {EXP_GOOD, (size_t)SWIFTADAM_MAX_TENSORS + 1, SWIFTADAM_ERR_INVALID_ARGUMENT, "lengths, MAX_TENSORS+1"},
        {EXP_GOOD, HUGE4, SWIFTADAM_ERR_INVALID_ARGUMENT, "lengths, SIZE_MAX/4"},
        {EXP_GOOD, HUGE1, SWIFTADAM_ERR_INVALID_ARGUMENT, "lengths, SIZE_MAX"},
        {EXP_NULLPTR, 2, SWIFTADAM_ERR_NULL_POINTER, "NULL, 2"},
        {EXP_NULLPTR, HUGE1, SWIFTADAM_ERR_NULL_POINTER, "NULL, SIZE_MAX"},
    };
    for (size_t k = 0; k < sizeof de / sizeof *de; k++) {
        c = addf(ERR, de[k].want, c_deser_exp, NULL, "deserialize(expected=%s)", de[k].what);
        c->w = de[k].exp; c->a = de[k].count;
        c = addf(ERR, de[k].want, c_load_exp, NULL, "load(good, expected=%s)", de[k].what);
        c->w = de[k].exp; c->a = de[k].count;
    }
    struct { size_t at; int64_t x; int32_t want; const char *what; } db[] = {
        {0, 0x01, SWIFTADAM_ERR_BAD_MAGIC, "magic[0]"}, {7, 0xFF, SWIFTADAM_ERR_BAD_MAGIC, "magic[7]"},
        {8, 0x02, SWIFTADAM_ERR_UNSUPPORTED_VERSION, "version=3"}, {11, 0x80, SWIFTADAM_ERR_UNSUPPORTED_VERSION, "version high bit"},
        {12, 0x40, SWIFTADAM_ERR_CORRUPT, "header_bytes"}, {16, 0x01, SWIFTADAM_ERR_CORRUPT, "file_bytes"},
        {23, 0x80, SWIFTADAM_ERR_CORRUPT, "file_bytes high bit"}, {24, 0x03, SWIFTADAM_ERR_CORRUPT, "num_tensors=1"},
        {31, 0x10, SWIFTADAM_ERR_CORRUPT, "num_tensors 2^60"}, {32, 0x10, SWIFTADAM_ERR_UNSUPPORTED, "flags unknown bit"},
        {36, 0x01, SWIFTADAM_ERR_CORRUPT, "reserved"}, {47, 0x80, SWIFTADAM_ERR_INVALID_ARGUMENT, "lr negative"},
        {55, 0x40, SWIFTADAM_ERR_INVALID_ARGUMENT, "beta1 > 1"}, {79, 0x80, SWIFTADAM_ERR_INVALID_ARGUMENT, "weight_decay negative"},
        {87, 0x10, SWIFTADAM_ERR_CORRUPT, "length 2^60"}, {80, 0x01, SWIFTADAM_ERR_CORRUPT, "length 5->4"},
        {95, 0x01, SWIFTADAM_ERR_CORRUPT, "step > 2^53"}, {120, 0x01, SWIFTADAM_ERR_CORRUPT, "table padding"},
        {128 + 20, 0x01, SWIFTADAM_ERR_CORRUPT, "data padding"}, {128 + 4, 0x01, SWIFTADAM_ERR_CHECKSUM, "moment bit"},
        {0, 0, SWIFTADAM_ERR_CHECKSUM, "crc"}, {0, 0, SWIFTADAM_ERR_CORRUPT, "trailer reserved"},
    };
    for (size_t k = 0; k < sizeof db / sizeof *db; k++) {
        size_t at = db[k].at;
        if (strcmp(db[k].what, "crc") == 0) at = A.ckpt_size - 8;
        if (strcmp(db[k].what, "trailer reserved") == 0) at = A.ckpt_size - 1;
        c = addf(ERR, db[k].want, c_deser_bad, NULL, "deserialize(byte %zu ^= 0x%llx: %s)", at,
                 (unsigned long long)(db[k].x ? db[k].x : 1), db[k].what);
        c->a = at; c->w = db[k].x ? db[k].x : 1; with_prep(c, prep_ckpt_byte);
    }

    /* 12. files */
    static const char *empty_path = "";
    struct { const char **p; const char *what; int32_t save_want, load_want; } fp[] = {
        {NULL, "NULL", SWIFTADAM_ERR_NULL_POINTER, SWIFTADAM_ERR_NULL_POINTER},
        {&empty_path, "\"\"", SWIFTADAM_ERR_INVALID_ARGUMENT, SWIFTADAM_ERR_INVALID_ARGUMENT},
    };
    for (size_t k = 0; k < 2; k++) {
        c = addf(ERR, fp[k].save_want, c_save_path, S2, "save(S2, path=%s)", fp[k].what);
        c->text = fp[k].p ? *fp[k].p : NULL;
        c = addf(ERR, fp[k].load_want, c_load_path, NULL, "load(path=%s)", fp[k].what);
        c->text = fp[k].p ? *fp[k].p : NULL;
    }
    struct { const char *path; const char *what; int32_t save_want, load_want; } fq[] = {
        {A.path_dir, "a directory", SWIFTADAM_ERR_IO, SWIFTADAM_ERR_IO},
        {A.path_missing, "missing dir", SWIFTADAM_ERR_IO, SWIFTADAM_ERR_IO},
        {A.path_long, "5000 chars", SWIFTADAM_ERR_IO, SWIFTADAM_ERR_IO},
        {"/dev/null", "/dev/null", 0, SWIFTADAM_ERR_IO},
        {"/proc/self/mem", "/proc/self/mem", 0, SWIFTADAM_ERR_CORRUPT},
        {A.path_empty, "empty file", 0, SWIFTADAM_ERR_CORRUPT},
        {A.path_badmagic, "bad magic", 0, SWIFTADAM_ERR_BAD_MAGIC},
        {A.path_trunc, "truncated", 0, SWIFTADAM_ERR_CORRUPT},
    };
    for (size_t k = 0; k < sizeof fq / sizeof *fq; k++) {
        if (fq[k].save_want) {
            c = addf(ERR, fq[k].save_want, c_save_path, S2, "save(S2, path=%s)", fq[k].what);
            c->text = fq[k].path;
        }
        c = addf(ERR, fq[k].load_want, c_load_path, NULL, "load(path=%s)", fq[k].what);
        c->text = fq[k].path;
    }
    add("load(good, out=NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_load_out_null, NULL);

    /* 13. dtypes and flavours: D2 (float64 keras, {5, 17}) and D1 (float64 torch amsgrad, {7}) */
    add("step(D2) float32 entry on float64", ERR, SWIFTADAM_ERR_DTYPE_MISMATCH, c_step, D2)->a = 2;
    add("step_tensor(D1) float32 entry on float64", ERR, SWIFTADAM_ERR_DTYPE_MISMATCH, c_step_tensor, D1)->a = LQ;
    c = add("get_moment(D2) float32 entry on float64", ERR, SWIFTADAM_ERR_DTYPE_MISMATCH, c_get_moment, D2); c->b = 64;
    c = add("set_moment(D2) float32 entry on float64", ERR, SWIFTADAM_ERR_DTYPE_MISMATCH, c_set_moment, D2); c->b = L0;
    add("step_f64(S2) float64 entry on float32", ERR, SWIFTADAM_ERR_DTYPE_MISMATCH, c_step_f64, S2)->a = 2;
    add("step_tensor_f64(S1) float64 entry on float32", ERR, SWIFTADAM_ERR_DTYPE_MISMATCH, c_step_tensor_f64, S1)->a = LQ;
    c = add("get_moment_f64(S2) float64 entry on float32", ERR, SWIFTADAM_ERR_DTYPE_MISMATCH, c_get_moment_f64, S2); c->b = 64;
    c = add("set_moment_f64(S2) float64 entry on float32", ERR, SWIFTADAM_ERR_DTYPE_MISMATCH, c_set_moment_f64, S2); c->b = L0;
    add("get_dtype(D2, NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_get_dtype_null, D2);
    add("step_f64(D2, params=NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_step_f64_params_null, D2);
    add("step_f64(D2, grads=NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_step_f64_grads_null, D2);
    add("step_tensor_f64(D1, param=NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_step_tensor_f64_param_null, D1);
    add("step_tensor_f64(D1, grad=NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_step_tensor_f64_grad_null, D1);
    add("get_moment_f64(D2, out=NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_get_moment_f64_null, D2);
    add("set_moment_f64(D2, in=NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_set_moment_f64_null, D2);
    for (size_t k = 0; k < 5; k++) {
        size_t n2 = badcnt[k] == 2 ? 3 : badcnt[k];
        addf(ERR, SWIFTADAM_ERR_SIZE_MISMATCH, c_step_f64, D2, "step_f64(D2, num_tensors=%zu)", n2)->a = n2;
    }
    for (size_t k = 0; k < 6; k++)
        addf(ERR, SWIFTADAM_ERR_SIZE_MISMATCH, c_step_tensor_f64, D1, "step_tensor_f64(D1, length=%zu)", badlen[k])->a = badlen[k];
    addf(ERR, SWIFTADAM_ERR_SIZE_MISMATCH, c_step_tensor_f64, D2, "step_tensor_f64(D2 has 2 tensors)")->a = L0;
    for (size_t k = 0; k < 4; k++) {
        c = addf(ERR, SWIFTADAM_ERR_UNSUPPORTED, c_step_f64, D2, "step_f64(D2, step_flags=0x%x)", badsf[k]);
        c->a = 2; c->w = badsf[k];
    }
    add("step_f64(D2, grad NaN, SKIP_NONFINITE)", NOCHANGE, SWIFTADAM_STEP_SKIPPED, c_step_f64_nan, D2);
    for (size_t k = 0; k < 3; k++) {
        c = addf(ERR, SWIFTADAM_ERR_BUFFER_TOO_SMALL, c_get_moment_f64, D2, "get_moment_f64(D2, 1, 0, capacity=%zu)", badcap[k]);
        c->a = 1; c->b = badcap[k];
    }
    for (size_t k = 0; k < 6; k++) {
        c = addf(ERR, SWIFTADAM_ERR_SIZE_MISMATCH, c_set_moment_f64, D2, "set_moment_f64(D2, 0, 0, count=%zu)", badcount[k]);
        c->b = badcount[k];
    }
    for (size_t k = 0; k < 4; k++) {
        c = addf(ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_get_moment_f64, D2, "get_moment_f64(D2, index=%zu)", badidx[k]);
        c->a = badidx[k]; c->b = 64;
    }
    c = add("get_moment_f64(D2, MAX_EXP_AVG_SQ without amsgrad)", ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_get_moment_f64, D2);
    c->b = 64; c->w = SWIFTADAM_MOMENT_MAX_EXP_AVG_SQ;
    uint32_t badcode[] = {2, 7, 1u << 31, 0xFFFFFFFFu};
    for (size_t k = 0; k < 4; k++) {
        c = addf(ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_create_cfg_bad, NULL, "create(cfg.flavor=%u)", badcode[k]);
        c->w = badcode[k]; with_prep(c, prep_cfg_flavor);
        c = addf(ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_create_cfg_bad, NULL, "create(cfg.dtype=%u)", badcode[k]);
        c->w = badcode[k]; with_prep(c, prep_cfg_dtype);
        c = addf(ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_set_config_bad, S2, "set_config(S2, cfg.flavor=%u)", badcode[k]);
        c->w = badcode[k]; with_prep(c, prep_cfg_flavor);
    }
    c = add("set_config(S2, dtype float32 -> float64)", ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_set_config_bad, S2);
    c->w = SWIFTADAM_DTYPE_FLOAT64; with_prep(c, prep_cfg_dtype);
    c = add("set_config(D2, dtype float64 -> float32)", ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_set_config_bad, D2);
    c->w = SWIFTADAM_DTYPE_FLOAT32; with_prep(c, prep_cfg_dtype);
    /* struct_size that cuts the dtype field in half: its bytes are unknown, must be zero */
    size_t cut = offsetof(swiftadam_config, dtype) + 2;
    c = addf(ERR, SWIFTADAM_ERR_UNSUPPORTED, c_create_cfg_big, NULL, "create(cfg size %zu, cut dtype byte set)", cut);
    c->a = cut; c->w = (int64_t)cut - 1; with_prep(c, prep_cfg_big);
    /* the version-2 checkpoint of D2 with one byte changed */
    struct { size_t at; int64_t x; int32_t want; const char *what; } d2[] = {
        {8, 0x01, SWIFTADAM_ERR_UNSUPPORTED_VERSION, "version 2->3"}, {8, 0x02, SWIFTADAM_ERR_UNSUPPORTED_VERSION, "version 2->0"},
        {12, 0x40, SWIFTADAM_ERR_CORRUPT, "header_bytes"}, {80, 0x04, SWIFTADAM_ERR_UNSUPPORTED, "dtype 1->5"},
        {80, 0x02, SWIFTADAM_ERR_CORRUPT, "dtype float64->bfloat16 (sizes)"},
        {83, 0x80, SWIFTADAM_ERR_UNSUPPORTED, "dtype high bit"}, {84, 0x02, SWIFTADAM_ERR_UNSUPPORTED, "flavor 1->3"},
        {80, 0x01, SWIFTADAM_ERR_CORRUPT, "dtype float64->float32 (sizes)"}, {84, 0x01, SWIFTADAM_ERR_CHECKSUM, "flavor keras->torch"},
        {88, 0x01, SWIFTADAM_ERR_CORRUPT, "reserved v2 field"}, {95, 0x80, SWIFTADAM_ERR_CORRUPT, "reserved v2 field high byte"},
        {96, 0x01, SWIFTADAM_ERR_CORRUPT, "length 5->4"}, {128 + 44, 0x01, SWIFTADAM_ERR_CORRUPT, "data padding"},
        {128 + 4, 0x01, SWIFTADAM_ERR_CHECKSUM, "moment bit"},
    };
    for (size_t k = 0; k < sizeof d2 / sizeof *d2; k++) {
        c = addf(ERR, d2[k].want, c_deser64_bad, NULL, "deserialize(v2 byte %zu ^= 0x%llx: %s)", d2[k].at,
                 (unsigned long long)d2[k].x, d2[k].what);
        c->a = d2[k].at; c->w = d2[k].x; with_prep(c, prep_ckpt64_byte);
    }

    /* 14. float16/bfloat16 with a float32 master: H2 (bfloat16 torch, {5, 17}) */
    struct { const char *what; CallFn fn; int32_t want; } hn[] = {
        {"create_half(lengths=NULL)", c_create_half_lengths_null, SWIFTADAM_ERR_NULL_POINTER},
        {"create_half(cfg=NULL)", c_create_half_cfg_null, SWIFTADAM_ERR_NULL_POINTER},
        {"create_half(params=NULL)", c_create_half_params_null, SWIFTADAM_ERR_NULL_POINTER},
        {"create_half(params[1]=NULL)", c_create_half_param1_null, SWIFTADAM_ERR_NULL_POINTER},
        {"create_half(out=NULL)", c_create_half_out_null, SWIFTADAM_ERR_NULL_POINTER},
    };
    for (size_t k = 0; k < sizeof hn / sizeof *hn; k++) {
        c = add(hn[k].what, ERR, hn[k].want, hn[k].fn, NULL);
        c->w = SWIFTADAM_DTYPE_BFLOAT16; with_prep(c, prep_cfg_dtype);
    }
    struct { uint32_t dtype; size_t huge, n; int32_t want; const char *what; } hc[] = {
        {SWIFTADAM_DTYPE_FLOAT32, 0, 2, SWIFTADAM_ERR_DTYPE_MISMATCH, "dtype float32"},
        {SWIFTADAM_DTYPE_FLOAT64, 0, 2, SWIFTADAM_ERR_DTYPE_MISMATCH, "dtype float64"},
        {4, 0, 2, SWIFTADAM_ERR_INVALID_ARGUMENT, "dtype 4"},
        {SWIFTADAM_DTYPE_FLOAT16, 0, 0, SWIFTADAM_ERR_INVALID_ARGUMENT, "num_tensors 0"},
        {SWIFTADAM_DTYPE_FLOAT16, 0, HUGE1, SWIFTADAM_ERR_INVALID_ARGUMENT, "num_tensors SIZE_MAX"},
        {SWIFTADAM_DTYPE_BFLOAT16, 1, 2, SWIFTADAM_ERR_OVERFLOW, "lengths {SIZE_MAX/4, 1}"},
    };
    for (size_t k = 0; k < sizeof hc / sizeof *hc; k++) {
        c = addf(ERR, hc[k].want, c_create_half, NULL, "create_half(%s)", hc[k].what);
        c->w = hc[k].dtype; c->b = hc[k].n; c->a = hc[k].huge; with_prep(c, prep_create_half);
    }
    c = add("create(cfg.dtype=bfloat16): needs create_half", ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_create_cfg_bad, NULL);
    c->w = SWIFTADAM_DTYPE_BFLOAT16; with_prep(c, prep_cfg_dtype);
    add("step_half(S2) on float32", ERR, SWIFTADAM_ERR_DTYPE_MISMATCH, c_step_half, S2)->a = 2;
    add("step_half_f32grad(D2) on float64", ERR, SWIFTADAM_ERR_DTYPE_MISMATCH, c_step_half_f32grad, D2)->a = 2;
    add("step(H2) float32 entry on bfloat16", ERR, SWIFTADAM_ERR_DTYPE_MISMATCH, c_step, H2)->a = 2;
    add("step_f64(H2) float64 entry on bfloat16", ERR, SWIFTADAM_ERR_DTYPE_MISMATCH, c_step_f64, H2)->a = 2;
    c = add("get_moment_f64(H2) on bfloat16 (float32 moments)", ERR, SWIFTADAM_ERR_DTYPE_MISMATCH, c_get_moment_f64, H2); c->b = 64;
    c = add("get_master(S2) on float32", ERR, SWIFTADAM_ERR_DTYPE_MISMATCH, c_get_master, S2); c->b = 64;
    c = add("set_master(D2) on float64", ERR, SWIFTADAM_ERR_DTYPE_MISMATCH, c_set_master, D2); c->b = L0;
    c = add("get_params_half(S1) on float32", ERR, SWIFTADAM_ERR_DTYPE_MISMATCH, c_get_params_half, S1); c->b = 64;
    for (size_t k = 0; k < 4; k++) {
        c = addf(ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_get_master, H2, "get_master(H2, index=%zu)", badidx[k]);
        c->a = badidx[k]; c->b = 64;
        c = addf(ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_get_params_half, H2, "get_params_half(H2, index=%zu)", badidx[k]);
        c->a = badidx[k]; c->b = 64;
        c = addf(ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_set_master, H2, "set_master(H2, index=%zu)", badidx[k]);
        c->a = badidx[k]; c->b = L0;
    }
    for (size_t k = 0; k < 3; k++) {
        c = addf(ERR, SWIFTADAM_ERR_BUFFER_TOO_SMALL, c_get_master, H2, "get_master(H2, 1, capacity=%zu)", badcap[k]);
        c->a = 1; c->b = badcap[k];
        c = addf(ERR, SWIFTADAM_ERR_BUFFER_TOO_SMALL, c_get_params_half, H2, "get_params_half(H2, 1, capacity=%zu)", badcap[k]);
        c->a = 1; c->b = badcap[k];
    }
    for (size_t k = 0; k < 6; k++)
        addf(ERR, SWIFTADAM_ERR_SIZE_MISMATCH, c_set_master, H2, "set_master(H2, 0, count=%zu)", badcount[k])->b = badcount[k];
    add("get_master(H2, out=NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_get_master_null, H2);
    add("set_master(H2, in=NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_set_master_null, H2);
    add("get_params_half(H2, out=NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_get_params_half_null, H2);
    add("step_half(H2, params=NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_step_half_params_null, H2);
    add("step_half(H2, grads=NULL)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_step_half_grads_null, H2);
    add("step_half(H2, params[1]=NULL with a grad)", ERR, SWIFTADAM_ERR_NULL_POINTER, c_step_half_param1_null, H2);
    for (size_t k = 0; k < 5; k++) {
        size_t n2 = badcnt[k] == 2 ? 3 : badcnt[k];
        c = addf(ERR, SWIFTADAM_ERR_SIZE_MISMATCH, c_step_half, H2, "step_half(H2, num_tensors=%zu)", n2);
        c->a = n2; c->d = 1.0;
    }
    for (size_t k = 0; k < 4; k++) {
        c = addf(ERR, SWIFTADAM_ERR_UNSUPPORTED, c_step_half, H2, "step_half(H2, step_flags=0x%x)", badsf[k]);
        c->a = 2; c->w = badsf[k]; c->d = 1.0;
    }
    double badscale[] = {0.0, -0.0, -1.0, NAN, INFINITY, -INFINITY, 1e-300, 1e300, DBL_MIN};
    const char *badscalen[] = {"0", "-0", "-1", "NaN", "+Inf", "-Inf", "1e-300 (1/s Inf in float32)", "1e300 (1/s 0 in float32)", "DBL_MIN"};
    for (size_t k = 0; k < sizeof badscale / sizeof *badscale; k++) {
        c = addf(ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_step_half, H2, "step_half(H2, grad_scale=%s)", badscalen[k]);
        c->a = 2; c->d = badscale[k];
        c = addf(ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_step_half_f32grad, H2, "step_half_f32grad(H2, grad_scale=%s)", badscalen[k]);
        c->a = 2; c->d = badscale[k];
    }
    add("step_half(H2, grad NaN, SKIP_NONFINITE)", NOCHANGE, SWIFTADAM_STEP_SKIPPED, c_step_half_nan, H2)->d = 1.0;
    add("step_half(H2, grad NaN, scale 1024, SKIP_NONFINITE)", NOCHANGE, SWIFTADAM_STEP_SKIPPED, c_step_half_nan, H2)->d = 1024.0;
    add("step_half_f32grad(H2, grad 3e38 x 1/0.5 = Inf, SKIP_NONFINITE)", NOCHANGE, SWIFTADAM_STEP_SKIPPED, c_step_half_big, H2)->d = 0.5;
    c = add("set_config(H2, dtype bfloat16 -> float16)", ERR, SWIFTADAM_ERR_INVALID_ARGUMENT, c_set_config_bad, H2);
    c->w = SWIFTADAM_DTYPE_FLOAT16; with_prep(c, prep_cfg_dtype_h2);
    /* the bfloat16 checkpoint of H2 ({5, 17}: header 96 + 32 -> 128; per tensor m, v, master
     * of 64 and 128 bytes) with one byte changed */
    struct { size_t at; int64_t x; int32_t want; const char *what; } h2[] = {
        {80, 0x01, SWIFTADAM_ERR_CHECKSUM, "dtype bfloat16->float16 (same sizes)"},
        {80, 0x02, SWIFTADAM_ERR_CORRUPT, "dtype bfloat16->float64 (sizes)"},
        {80, 0x07, SWIFTADAM_ERR_UNSUPPORTED, "dtype 3->4"},
        {128 + 2 * 64 + 4, 0x01, SWIFTADAM_ERR_CHECKSUM, "master bit"},
        {128 + 2 * 64 + 20, 0x01, SWIFTADAM_ERR_CORRUPT, "master padding"},
        {128 + 3 * 64 + 2 * 128 + 64, 0x01, SWIFTADAM_ERR_CHECKSUM, "tensor 1 master bit"},
        {128 + 3 * 64 + 2 * 128 + 68 + 4, 0x80, SWIFTADAM_ERR_CORRUPT, "tensor 1 master padding"},
    };
    for (size_t k = 0; k < sizeof h2 / sizeof *h2; k++) {
        c = addf(ERR, h2[k].want, c_deserh_bad, NULL, "deserialize(bfloat16 byte %zu ^= 0x%llx: %s)", h2[k].at,
                 (unsigned long long)h2[k].x, h2[k].what);
        c->a = h2[k].at; c->w = h2[k].x; with_prep(c, prep_ckpth_byte);
    }
}

/* ---- running ------------------------------------------------------------------------ */

static char sentinel[256];
static int failed;

static void fail(const Case *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(const Case *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL %s: ", c->name);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

static void set_sentinel(void) {
    size_t x;
    swiftadam_tensor_length(S2, 987654321, &x);   /* a failing call with a known message */
    snprintf(sentinel, sizeof sentinel, "%s", swiftadam_last_error());
}

static int run(Case *c, int verbose) {
    static Snap s2a, s2b, s1a, s1b, d2a, d2b, d1a, d1b, h2a, h2b;
    static char da[8192], db[8192];
    arena_reset();
    if (prep_of[c - cases]) prep_of[c - cases](c);
    memcpy(&A_before, &A, sizeof A);
    snap(S2, &s2a); snap(S1, &s1a); snap(D2, &d2a); snap(D1, &d1a); snap(H2, &h2a);
    dir_signature(da, sizeof da);
    set_sentinel();

    int32_t rc = c->call(c);

    const char *msg = swiftadam_last_error();
    int bad = 0;
    if (c->kind == PURE) {
        if (c->text == NULL || c->text[0] == 0) { fail(c, "returned NULL or an empty string"); bad = 1; }
    } else if (rc != c->expect) {
        fail(c, "returned %d (%s), want %d (%s); last_error: %s", rc, swiftadam_status_name(rc),
             c->expect, swiftadam_status_name(c->expect), msg);
        bad = 1;
    }
    if (c->kind == ERR) {
        if (msg == NULL || msg[0] == 0) { fail(c, "swiftadam_last_error() is empty"); bad = 1; }
        else if (strcmp(msg, sentinel) == 0) { fail(c, "swiftadam_last_error() was not set by this call"); bad = 1; }
    }
    if (c->kind == ERR || c->kind == NOCHANGE || c->kind == PURE) {
        snap(S2, &s2b); snap(S1, &s1b); snap(D2, &d2b); snap(D1, &d1b); snap(H2, &h2b);
        if (!same_snap(&s2a, &s2b)) { fail(c, "state S2 changed"); bad = 1; }
        if (!same_snap(&s1a, &s1b)) { fail(c, "state S1 changed"); bad = 1; }
        if (!same_snap(&d2a, &d2b)) { fail(c, "state D2 changed"); bad = 1; }
        if (!same_snap(&d1a, &d1b)) { fail(c, "state D1 changed"); bad = 1; }
        if (!same_snap(&h2a, &h2b)) { fail(c, "state H2 changed"); bad = 1; }
        if (memcmp(&A, &A_before, sizeof A) != 0) {
            const unsigned char *x = (const unsigned char *)&A, *y = (const unsigned char *)&A_before;
            size_t at = 0;
            while (x[at] == y[at]) at++;
            fail(c, "caller memory changed (first difference at arena offset %zu)", at);
            bad = 1;
        }
        dir_signature(db, sizeof db);
        if (strcmp(da, db) != 0) { fail(c, "files changed: before [%s] after [%s]", da, db); bad = 1; }
    }
    if (verbose) printf("%-4s %-60s -> %s%s%s\n", bad ? "FAIL" : "ok", c->name,
                        c->kind == PURE ? "string" : swiftadam_status_name(rc),
                        c->kind == ERR ? ": " : "", c->kind == ERR ? msg : "");
    return bad;
}

static void write_file(const char *path, const void *b, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b, 1, n, f) != n || fclose(f) != 0) { perror(path); exit(2); }
}

static void setup(int *stack_int) {
    arena_init();
    swiftadam_config cfg;
    if (swiftadam_config_init(&cfg, sizeof cfg) != SWIFTADAM_OK) exit(2);
    cfg.lr = 0.01; cfg.weight_decay = 0.1;
    A.cfg = cfg;
    if (swiftadam_create(A.lens, 2, &cfg, &S2) != SWIFTADAM_OK) { fprintf(stderr, "create S2: %s\n", swiftadam_last_error()); exit(2); }
    swiftadam_config c1 = cfg;
    c1.flags = SWIFTADAM_FLAG_AMSGRAD | SWIFTADAM_FLAG_MAXIMIZE;
    size_t lq = LQ;
    if (swiftadam_create(&lq, 1, &c1, &S1) != SWIFTADAM_OK) exit(2);
    for (int k = 0; k < 3; k++) {   /* non-zero moments and steps */
        if (swiftadam_step(S2, A.params, A.grads, 2, 0) != SWIFTADAM_OK) exit(2);
        if (swiftadam_step_tensor(S1, A.q, A.gq, LQ, 0) != SWIFTADAM_OK) exit(2);
    }
    swiftadam_set_num_threads(S2, 3);
    /* the float64 states exist before FREED is made: a new state may reuse a freed address */
    swiftadam_config d = cfg;
    d.dtype = SWIFTADAM_DTYPE_FLOAT64;
    d.flavor = SWIFTADAM_FLAVOR_KERAS;
    if (swiftadam_create(A.lens, 2, &d, &D2) != SWIFTADAM_OK) { fprintf(stderr, "create D2: %s\n", swiftadam_last_error()); exit(2); }
    d.flavor = SWIFTADAM_FLAVOR_TORCH;
    d.flags = SWIFTADAM_FLAG_AMSGRAD;
    if (swiftadam_create(&lq, 1, &d, &D1) != SWIFTADAM_OK) exit(2);
    for (int k = 0; k < 3; k++) {
        if (swiftadam_step_f64(D2, A.dparams, A.dgrads, 2, 0) != SWIFTADAM_OK) exit(2);
        if (swiftadam_step_tensor_f64(D1, A.dq, A.dgq, LQ, 0) != SWIFTADAM_OK) exit(2);
    }
    if (swiftadam_serialize(D2, A.ckpt64, sizeof A.ckpt64, &A.ckpt64_size) != SWIFTADAM_OK) exit(2);
    swiftadam_config hc = cfg;
    hc.dtype = SWIFTADAM_DTYPE_BFLOAT16;
    if (swiftadam_create_half(A.lens, 2, &hc, (const uint16_t *const *)A.hparams, &H2) != SWIFTADAM_OK) { fprintf(stderr, "create H2: %s\n", swiftadam_last_error()); exit(2); }
    for (int k = 0; k < 3; k++)
        if (swiftadam_step_half(H2, A.hparams, A.hgrads, 2, 1.0, 0) != SWIFTADAM_OK) exit(2);
    if (swiftadam_serialize(H2, A.ckpth, sizeof A.ckpth, &A.ckpth_size) != SWIFTADAM_OK) exit(2);
    size_t three = 3;
    if (swiftadam_create(&three, 1, NULL, &FREED) != SWIFTADAM_OK || swiftadam_free(FREED) != SWIFTADAM_OK) exit(2);
    STACK = (swiftadam_state *)stack_int;
    ONE = (swiftadam_state *)(uintptr_t)1;
    MAXPTR = (swiftadam_state *)UINTPTR_MAX;
    INSIDE = (swiftadam_state *)((char *)S2 + 8);
    if (swiftadam_serialize(S2, A.ckpt, sizeof A.ckpt, &A.ckpt_size) != SWIFTADAM_OK) exit(2);

    snprintf(A.dir, sizeof A.dir, "/tmp/swiftadam_matrix.XXXXXX");
    if (!mkdtemp(A.dir)) { perror("mkdtemp"); exit(2); }
    snprintf(A.path_good, sizeof A.path_good, "%s/good.ckpt", A.dir);
    snprintf(A.path_dir, sizeof A.path_dir, "%s/adir", A.dir);
    snprintf(A.path_missing, sizeof A.path_missing, "%s/missing/x.ckpt", A.dir);
    snprintf(A.path_empty, sizeof A.path_empty, "%s/empty.ckpt", A.dir);
    snprintf(A.path_badmagic, sizeof A.path_badmagic, "%s/badmagic.ckpt", A.dir);
    snprintf(A.path_trunc, sizeof A.path_trunc, "%s/trunc.ckpt", A.dir);
    snprintf(A.path_save, sizeof A.path_save, "%s/save.ckpt", A.dir);
    memset(A.path_long, 'a', sizeof A.path_long - 1);
    A.path_long[0] = '/';
    A.path_long[sizeof A.path_long - 1] = 0;
    if (mkdir(A.path_dir, 0755) != 0) { perror("mkdir"); exit(2); }
    write_file(A.path_good, A.ckpt, A.ckpt_size);
    write_file(A.path_empty, "", 0);
    unsigned char bm[CKPT_MAX];
    memcpy(bm, A.ckpt, A.ckpt_size);
    bm[1] = 'X';
    write_file(A.path_badmagic, bm, A.ckpt_size);
    write_file(A.path_trunc, A.ckpt, A.ckpt_size / 2);
}

static void cleanup(void) {
    const char *files[] = {A.path_good, A.path_empty, A.path_badmagic, A.path_trunc, A.path_save};
    for (size_t k = 0; k < sizeof files / sizeof *files; k++) unlink(files[k]);
    rmdir(A.path_dir);
    rmdir(A.dir);
}

int main(int argc, char **argv) {
    int verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    int stack_int = 42;
    setup(&stack_int);
    build();
    printf("bad-input matrix: %d cases (swiftadam %s, backend %s)\n", ncases, swiftadam_version_string(),
           swiftadam_backend_name());
    for (int i = 0; i < ncases; i++) failed += run(&cases[i], verbose);
    /* the fixture states are still alive and usable */
    if (swiftadam_step(S2, A.params, A.grads, 2, 0) != SWIFTADAM_OK ||
        swiftadam_step_f64(D2, A.dparams, A.dgrads, 2, 0) != SWIFTADAM_OK ||
        swiftadam_step_half(H2, A.hparams, A.hgrads, 2, 1.0, 0) != SWIFTADAM_OK || swiftadam_free(H2) != SWIFTADAM_OK ||
        swiftadam_free(S2) != SWIFTADAM_OK || swiftadam_free(S1) != SWIFTADAM_OK ||
        swiftadam_free(D2) != SWIFTADAM_OK || swiftadam_free(D1) != SWIFTADAM_OK) {
        fprintf(stderr, "FAIL fixture states unusable after the matrix: %s\n", swiftadam_last_error());
        failed++;
    }
    cleanup();
    printf("%d passed, %d failed\n", ncases - failed, failed);
    return failed ? 1 : 0;
}
