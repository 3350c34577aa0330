/*
 * swiftadam.h — the Adam optimizer (torch.optim.Adam / AdamW semantics) as a C library.
 *
 * One opaque handle, `swiftadam_state`, holds the optimizer state of one "param group":
 * N tensors of fixed lengths and of one dtype (float32, or float64 chosen at creation),
 * their moments (exp_avg, exp_avg_sq and, with amsgrad, max_exp_avg_sq) in that dtype, a
 * step count per tensor, and the hyperparameters. float32 states take the plain entry
 * points (float *), float64 states the _f64 ones (double *); the other kind fails with
 * SWIFTADAM_ERR_DTYPE_MISMATCH, memory is never reinterpreted.
 * float16 and bfloat16 states (mixed precision, as apex and DeepSpeed do it) hold a
 * float32 master copy of the params and float32 moments: see "16-bit params" below.
 * The caller owns the parameter and gradient arrays; the state never keeps a pointer
 * to them past the call that received them.
 *
 * The update, per element, computed in the state's dtype. Flavour torch (the default):
 * the scalar factors computed in double and rounded once to the dtype (torch's
 * single-tensor path, same operation order):
 *
 *     t      = step[i] + 1                      (per tensor; stored back after the update)
 *     g      = maximize ? -grad : grad
 *     if wd != 0 and !decoupled:  g = g + wd * p                        (L2, torch.optim.Adam)
 *     if wd != 0 and  decoupled:  p = p * (1 - lr * wd)                 (torch.optim.AdamW)
 *     m      = lerp(m, g, 1 - b1)               (m + w*(g - m) if w < 0.5, else g - (g - m)*(1 - w))
 *     v      = v * b2 + ((1 - b2) * g) * g
 *     vhat   = amsgrad ? (vmax = max(vmax, v)) : v
 *     bc1    = bias_correction ? 1 - b1^t : 1   bc2 = bias_correction ? 1 - b2^t : 1
 *     denom  = sqrt(vhat) / sqrt(bc2) + eps
 *     p      = p + ((-lr / bc1) * m) / denom
 *
 * Flavour keras (Keras 3 Adam.update_step; AdamW's decay as Optimizer._apply_weight_decay),
 * every scalar computed in the dtype as Keras computes it in the variable's dtype:
 *
 *     g      = maximize ? -grad : grad;  L2 as above
 *     if wd != 0 and  decoupled:  p = p - (p * wd) * lr
 *     m      = m + (g - m) * (1 - b1)
 *     v      = v + (g * g - v) * (1 - b2)
 *     vhat   = amsgrad ? (vmax = max(vmax, v)) : v
 *     alpha  = bias_correction ? (lr * sqrt(1 - b2^t)) / (1 - b1^t) : lr
 *                                (b1^t, b2^t: pow in the dtype; t converted to the dtype)
 *     p      = p - (m * alpha) / (sqrt(vhat) + eps)
 *
 * No fused multiply-add is used, and every kernel path (scalar, simd, sse2, avx2, avx512) and
 * every thread count gives bit-identical results; the one exception IEEE-754 leaves open
 * is which NaN payload comes out when two NaNs meet (the result is NaN on every path).
 *
 * Errors: every fallible function returns an `int32_t` status: SWIFTADAM_OK (0) on
 * success, a stable negative SWIFTADAM_ERR_* code on failure (positive codes are
 * non-error outcomes such as SWIFTADAM_STEP_SKIPPED). A failed call leaves the state and
 * every caller buffer exactly as they were. swiftadam_last_error() then says what was
 * wrong. No input makes the library abort the process: running out of memory (for a
 * state, its tensor table, a checkpoint's) is SWIFTADAM_ERR_OUT_OF_MEMORY.
 *
 * Threads: different states may be used from different threads at the same time. Calls
 * on ONE state are not queued: a call that finds another call on the same state still
 * running returns SWIFTADAM_ERR_BUSY and does nothing. Large steps run on one worker pool
 * shared by the whole process (see swiftadam_set_num_threads).
 *
 * Floating-point mode: every step is computed in the IEEE default mode (round to nearest
 * even, subnormals neither flushed nor treated as zero, exceptions masked) on every
 * thread, whatever mode the calling thread set (MXCSR on x86-64, FPCR on arm64); the
 * caller's mode is restored before the call returns. So FTZ/DAZ or another rounding mode
 * set by the host changes no result and unmasked exceptions raise no signal. (On other
 * CPUs the mode is left as the caller set it.)
 *
 * fork(): a child may use the library whatever other threads of the parent were doing
 * in it: new states, and every inherited state, work in the child, except one that a
 * call on another thread was inside at the moment of fork (its contents may be
 * half-updated): in the child it answers SWIFTADAM_ERR_BUSY, and swiftadam_free
 * releases it.
 *
 * Unloading: once loaded, the library stays mapped until the process ends (it is linked
 * with -z nodelete): dlclose does not unmap it, a later dlopen gets the same instance,
 * and threads that exit after a dlclose still free their error text safely.
 */
#ifndef SWIFTADAM_H
#define SWIFTADAM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- version ---------------------------------------------------------------------- */

#define SWIFTADAM_VERSION_MAJOR 0
#define SWIFTADAM_VERSION_MINOR 1
#define SWIFTADAM_VERSION_PATCH 0
#define SWIFTADAM_VERSION_NUMBER \
    (SWIFTADAM_VERSION_MAJOR * 10000 + SWIFTADAM_VERSION_MINOR * 100 + SWIFTADAM_VERSION_PATCH)
#define SWIFTADAM_VERSION_STRING "0.1.0"
/* Most tensors one state may hold (a guard against garbage counts, not a design limit). */
#define SWIFTADAM_MAX_TENSORS (1u << 24)
/* Bumped whenever a change breaks callers compiled against an older header. */
#define SWIFTADAM_ABI_VERSION 1

/* ---- status codes (stable; never renumbered) ------------------------------------- */

#define SWIFTADAM_OK                       0
#define SWIFTADAM_STEP_SKIPPED             1   /* not an error: non-finite grad, step skipped */
#define SWIFTADAM_ERR_NULL_POINTER        -1   /* a required pointer argument was NULL */
#define SWIFTADAM_ERR_INVALID_HANDLE      -2   /* not a live state from this library */
#define SWIFTADAM_ERR_INVALID_ARGUMENT    -3   /* a value out of its documented range */
#define SWIFTADAM_ERR_SIZE_MISMATCH       -4   /* tensor count or length disagrees */
#define SWIFTADAM_ERR_OVERFLOW            -5   /* a size computation would overflow */
#define SWIFTADAM_ERR_OUT_OF_MEMORY       -6   /* an allocation failed */
#define SWIFTADAM_ERR_BUFFER_TOO_SMALL    -7   /* caller buffer capacity is too small */
#define SWIFTADAM_ERR_BUSY                -8   /* another call on this state is running */
#define SWIFTADAM_ERR_IO                  -9   /* open/read/write/fsync/rename failed */
#define SWIFTADAM_ERR_BAD_MAGIC          -10   /* bytes are not a SwiftAdam checkpoint */
#define SWIFTADAM_ERR_UNSUPPORTED_VERSION -11  /* checkpoint format version unknown */
#define SWIFTADAM_ERR_CHECKSUM           -12   /* checkpoint CRC-32C does not match */
#define SWIFTADAM_ERR_CORRUPT            -13   /* truncated, trailing bytes, sizes inconsistent */
#define SWIFTADAM_ERR_UNSUPPORTED        -14   /* unknown flag bit or newer config field set */
#define SWIFTADAM_ERR_DTYPE_MISMATCH     -15   /* an entry point for another dtype than the state's */

/* Every defined status lies in [SWIFTADAM_STATUS_MIN, SWIFTADAM_STATUS_MAX] and every code
 * in that range is defined: codes are never removed or renumbered, and a new error takes
 * the next code below. An FFI binding need not copy the list: counting up from 0 and down
 * from -1 until swiftadam_status_name says "SWIFTADAM_UNKNOWN_STATUS" enumerates them all. */
#define SWIFTADAM_STATUS_MIN             -15
#define SWIFTADAM_STATUS_MAX               1

/* ---- hyperparameters -------------------------------------------------------------- */

#define SWIFTADAM_FLAG_AMSGRAD                 (1u << 0) /* keep max_exp_avg_sq, use it */
#define SWIFTADAM_FLAG_DECOUPLED_WEIGHT_DECAY  (1u << 1) /* AdamW decay instead of L2 */
#define SWIFTADAM_FLAG_MAXIMIZE                (1u << 2) /* ascend instead of descend */
#define SWIFTADAM_FLAG_NO_BIAS_CORRECTION      (1u << 3) /* bc1 = bc2 = 1 */

/* Element type of a state (swiftadam_config.dtype, swiftadam_get_dtype). */
#define SWIFTADAM_DTYPE_FLOAT32 0u
#define SWIFTADAM_DTYPE_FLOAT64 1u
#define SWIFTADAM_DTYPE_FLOAT16 2u   /* IEEE binary16 params, float32 master + moments */
#define SWIFTADAM_DTYPE_BFLOAT16 3u  /* bfloat16 params, float32 master + moments */

/* Whose Adam formula a state computes (swiftadam_config.flavor); see the top comment. */
#define SWIFTADAM_FLAVOR_TORCH  0u  /* torch.optim.Adam / AdamW */
#define SWIFTADAM_FLAVOR_KERAS  1u  /* Keras 3 Adam / AdamW (also scikit-learn's eps placement) */

/*
 * Hyperparameters of one state. The struct carries its own size so that a library
 * built from a newer header (which may append fields) still accepts it: always set
 * `struct_size = sizeof(swiftadam_config)`, best through swiftadam_config_init().
 * A library accepts a struct_size from the size of version 1 of this struct up to 4096
 * (a larger one is INVALID_ARGUMENT: a garbage size must not make it read far past the
 * struct); bytes it does not know must be zero (else SWIFTADAM_ERR_UNSUPPORTED).
 * A field beyond the caller's struct_size is "not given": swiftadam_create then uses its
 * default, swiftadam_set_config keeps the state's value.
 */
typedef struct swiftadam_config {
    size_t   struct_size;   /* sizeof(swiftadam_config) as the caller compiled it */
    double   lr;            /* learning rate, >= 0, finite.            default 1e-3  */
    double   beta1;         /* in [0, 1).                              default 0.9   */
    double   beta2;         /* in [0, 1).                              default 0.999 */
    double   eps;           /* >= 0, finite.                           default 1e-8  */
    double   weight_decay;  /* >= 0, finite.                           default 0     */
    uint32_t flags;         /* SWIFTADAM_FLAG_* bits.                  default 0     */
    uint32_t reserved;      /* must be 0 */
    /* ---- version 2 (library 0.2) ---- */
    uint32_t flavor;        /* SWIFTADAM_FLAVOR_*.                     default TORCH */
    uint32_t dtype;         /* SWIFTADAM_DTYPE_*; fixed at creation.   default FLOAT32 */
} swiftadam_config;

/* Opaque optimizer state for one group of tensors. */
typedef struct swiftadam_state swiftadam_state;

/* Which moment buffer swiftadam_get_moment / swiftadam_set_moment address. */
#define SWIFTADAM_MOMENT_EXP_AVG         0  /* m (first moment) */
#define SWIFTADAM_MOMENT_EXP_AVG_SQ      1  /* v (second moment) */
#define SWIFTADAM_MOMENT_MAX_EXP_AVG_SQ  2  /* vmax (amsgrad only) */

/* Step flags. */
#define SWIFTADAM_STEP_SKIP_NONFINITE (1u << 0) /* skip the whole step if any grad is NaN/Inf */

/* ---- version, errors, backend ---------------------------------------------------- */

/*
 * swiftadam_version_string: the library's version, e.g. "0.1.0".
 * Returns a static NUL-terminated string; never NULL. Never fails.
 */
const char *swiftadam_version_string(void);

/*
 * swiftadam_version_number: the library's SWIFTADAM_VERSION_NUMBER (major*10000+minor*100+patch).
 * Compare with the macro to detect a header/library mismatch. Never fails.
 */
uint32_t swiftadam_version_number(void);

/*
 * swiftadam_abi_version: the library's SWIFTADAM_ABI_VERSION. A caller compiled against a
 * header whose SWIFTADAM_ABI_VERSION differs must not use the library. Never fails.
 */
uint32_t swiftadam_abi_version(void);

/*
 * swiftadam_status_name: the macro name of a status code, e.g. "SWIFTADAM_ERR_BUSY".
 * Returns a static string; "SWIFTADAM_UNKNOWN_STATUS" for a code that is not defined, i.e.
 * outside [SWIFTADAM_STATUS_MIN, SWIFTADAM_STATUS_MAX] (enumerating: see the status codes).
 */
const char *swiftadam_status_name(int32_t status);

/*
 * swiftadam_status_string: a short English description of a status code.
 * Returns a static string; never NULL. Never fails.
 */
const char *swiftadam_status_string(int32_t status);

/*
 * swiftadam_last_error: what went wrong in the most recent failed call made BY THIS
 * THREAD (argument name, expected vs got). "" if no call on this thread has failed.
 * Returns a pointer owned by the library, valid until the next failing call on this
 * thread. Successful calls do not clear it. The text lives under one pthread key, taken
 * on the first failure; if the process has no key left (PTHREAD_KEYS_MAX), calls still
 * return their status but the text is a fixed note saying so.
 */
const char *swiftadam_last_error(void);

/*
 * swiftadam_backend_name: the kernel path this process uses: "avx512", "avx2", "sse2", "simd" (portable Swift SIMD) or "scalar"
 * (chosen at load from the CPU; the environment variable SWIFTADAM_ISA can force a
 * narrower one). A SWIFTADAM_ISA value that names no path (e.g. "bogus") or one this CPU
 * lacks is not used: the widest path is, and one line saying so is written to stderr
 * ("swiftadam: SWIFTADAM_ISA=bogus is not a kernel path ...") the first time the path is
 * chosen. Returns a static string. Never fails.
 */
const char *swiftadam_backend_name(void);

/* ---- configuration --------------------------------------------------------------- */

/*
 * swiftadam_config_init: fill *cfg with torch.optim.Adam's defaults (lr 1e-3, betas
 * (0.9, 0.999), eps 1e-8, weight_decay 0, no flags) and set cfg->struct_size = struct_size.
 * Pass sizeof(swiftadam_config).
 * Errors: SWIFTADAM_ERR_NULL_POINTER (cfg NULL); SWIFTADAM_ERR_INVALID_ARGUMENT
 * (struct_size smaller than version 1 of the struct, or above 4096). On error *cfg is
 * untouched.
 */
int32_t swiftadam_config_init(swiftadam_config *cfg, size_t struct_size);

/* ---- life cycle ------------------------------------------------------------------- */

/*
 * swiftadam_create: a new state for `num_tensors` tensors whose element counts are
 * lengths[0..num_tensors). Moments start at zero, steps at 0. All memory the state will
 * ever use is allocated here (per element: 2 moments of the dtype, 3 with amsgrad, so
 * 8 or 12 bytes for float32, 16 or 24 for float64, plus alignment). cfg may be NULL for
 * the defaults (float32, torch); it is copied, not kept.
 * Ownership: on success *out receives a state the caller must release with swiftadam_free.
 * Errors: NULL_POINTER (lengths or out NULL); INVALID_ARGUMENT (num_tensors == 0 or
 * > SWIFTADAM_MAX_TENSORS, or a
 * hyperparameter out of range: lr < 0/NaN/Inf, betas outside [0,1), eps < 0/NaN/Inf,
 * weight_decay < 0/NaN/Inf, reserved != 0, flavor or dtype not a defined value, or dtype
 * FLOAT16/BFLOAT16, whose states swiftadam_create_half makes);
 * UNSUPPORTED (unknown flag or newer config field); OVERFLOW (total size does not fit
 * in size_t); OUT_OF_MEMORY. On error *out is untouched.
 */
int32_t swiftadam_create(const size_t *lengths, size_t num_tensors,
                         const swiftadam_config *cfg, swiftadam_state **out);

/*
 * swiftadam_free: release a state and all its memory. NULL is accepted and ignored.
 * Errors: INVALID_HANDLE (not a live state: already freed or never created — detected
 * without dereferencing it); BUSY (another thread is inside a call on it; nothing freed).
 */
int32_t swiftadam_free(swiftadam_state *state);

/* ---- hyperparameters after creation (schedules) ------------------------------------ */

/*
 * swiftadam_get_config: copy the state's hyperparameters, flavour and dtype into *out. The caller must set
 * out->struct_size first (swiftadam_config_init does); fields beyond it are not written.
 * Errors: NULL_POINTER; INVALID_HANDLE; BUSY; INVALID_ARGUMENT (struct_size too small).
 */
int32_t swiftadam_get_config(swiftadam_state *state, swiftadam_config *out);

/*
 * swiftadam_set_config: replace the hyperparameters; takes effect at the next step.
 * Validated like swiftadam_create. SWIFTADAM_FLAG_AMSGRAD and dtype cannot change after
 * creation (the buffers are allocated once): changing them is INVALID_ARGUMENT. The
 * flavour may change (the moments mean the same in both).
 * Errors: NULL_POINTER; INVALID_HANDLE; BUSY; INVALID_ARGUMENT; UNSUPPORTED.
 */
int32_t swiftadam_set_config(swiftadam_state *state, const swiftadam_config *cfg);

/*
 * swiftadam_set_lr: change only the learning rate (cheap; for schedules).
 * Errors: INVALID_HANDLE; BUSY; INVALID_ARGUMENT (lr < 0, NaN or Inf).
 */
int32_t swiftadam_set_lr(swiftadam_state *state, double lr);

/* ---- queries ------------------------------------------------------------------------ */

/*
 * swiftadam_num_tensors: *out = number of tensors in the group.
 * Errors: NULL_POINTER; INVALID_HANDLE; BUSY.
 */
int32_t swiftadam_num_tensors(swiftadam_state *state, size_t *out);

/*
 * swiftadam_get_dtype: *out = the state's SWIFTADAM_DTYPE_* (fixed at creation).
 * Errors: NULL_POINTER; INVALID_HANDLE; BUSY.
 */
int32_t swiftadam_get_dtype(swiftadam_state *state, uint32_t *out);

/*
 * swiftadam_tensor_length: *out = element count of tensor `index`.
 * Errors: NULL_POINTER; INVALID_HANDLE; BUSY; INVALID_ARGUMENT (index >= num_tensors).
 */
int32_t swiftadam_tensor_length(swiftadam_state *state, size_t index, size_t *out);

/*
 * swiftadam_tensor_step: *out = number of updates applied to tensor `index` (torch's
 * per-parameter state["step"]). A tensor whose grad was NULL in a step is not counted.
 * Errors: NULL_POINTER; INVALID_HANDLE; BUSY; INVALID_ARGUMENT (index out of range).
 */
int32_t swiftadam_tensor_step(swiftadam_state *state, size_t index, uint64_t *out);

/*
 * swiftadam_set_tensor_step: set the step count of tensor `index` (to import a state).
 * Errors: INVALID_HANDLE; BUSY; INVALID_ARGUMENT (index out of range, or step > 2^53:
 * torch stores the step as a float64, which counts exactly only up to 2^53).
 */
int32_t swiftadam_set_tensor_step(swiftadam_state *state, size_t index, uint64_t step);

/*
 * swiftadam_get_num_threads: *out = the thread count asked for this state: the value set,
 * or the default when 0 was set. A step uses min(that, the process's CPUs) threads: see
 * swiftadam_set_num_threads. Errors: NULL_POINTER; INVALID_HANDLE; BUSY.
 */
int32_t swiftadam_get_num_threads(swiftadam_state *state, size_t *out);

/*
 * swiftadam_set_num_threads: threads a step of this state may use; 0 = the default (env
 * SWIFTADAM_NUM_THREADS if 1..256, else the CPUs this process may run on, at most 64).
 * Steps of fewer than 131072 elements run on the calling thread alone. A larger step runs
 * on the calling thread plus workers from ONE pool shared by every state of the process:
 * it uses min(num_threads, CPUs the process may run on (its affinity mask), 64) threads,
 * since more threads than CPUs would only take turns. The pool's workers start on the
 * first step that needs them and live until the process exits: the library adds at most
 * (CPUs - 1) threads to the process, however many states. One step uses the pool at a
 * time: a step that finds it in use by another state's step runs on its calling thread
 * alone rather than wait. Results are bit-identical for any thread count, and steps
 * allocate nothing.
 * Errors: INVALID_HANDLE; BUSY; INVALID_ARGUMENT (num_threads > 256).
 */
int32_t swiftadam_set_num_threads(swiftadam_state *state, size_t num_threads);

/* ---- step --------------------------------------------------------------------------- */

/*
 * swiftadam_step: one Adam step on every tensor of the group, in place.
 * params[i] must point to tensor_length(i) writable floats and grads[i] to as many
 * readable floats (they may not overlap each other or another tensor). grads[i] == NULL
 * skips tensor i entirely (torch skips params whose .grad is None): its params,
 * moments and step count stay as they are. params[i] may be NULL only when grads[i] is.
 * C does not convert `float **` to `const float *const *` implicitly (C++ does): pass an
 * array `float *grads[]` as `(const float *const *)grads`.
 * step_flags: 0 or SWIFTADAM_STEP_SKIP_NONFINITE: then, if any grad element is NaN or
 * +-Inf, nothing at all is changed and SWIFTADAM_STEP_SKIPPED is returned (GradScaler's
 * found_inf). Without it non-finite values propagate as they do in torch.
 * Returns SWIFTADAM_OK or SWIFTADAM_STEP_SKIPPED.
 * Errors: NULL_POINTER (params or grads NULL, or params[i] NULL with grads[i] set);
 * INVALID_HANDLE; BUSY; SIZE_MISMATCH (num_tensors differs from the state's);
 * UNSUPPORTED (unknown step flag); OVERFLOW (a stepped tensor's count is already 2^53).
 */
int32_t swiftadam_step(swiftadam_state *state, float *const *params,
                       const float *const *grads, size_t num_tensors, uint32_t step_flags);

/*
 * swiftadam_step_contiguous: swiftadam_step over one params buffer and one grads buffer
 * in which the tensors lie end to end in creation order: tensor i starts at element
 * tensor_length(0) + ... + tensor_length(i-1). Every tensor is stepped (there is no NULL
 * grad). For callers that cannot pass an array of pointers (Go's cgo refuses Go memory
 * holding Go pointers; Fortran, Julia, JNA). Same checks, outcome and bits as
 * swiftadam_step with params[i] and grads[i] pointing into these buffers; allocates nothing.
 * params must hold the sum of the lengths in writable floats and grads as many readable
 * floats; the two buffers must not overlap (not checked, as in swiftadam_step).
 * step_flags: as for swiftadam_step.
 * Returns SWIFTADAM_OK or SWIFTADAM_STEP_SKIPPED.
 * Errors: NULL_POINTER (params or grads NULL); INVALID_HANDLE; BUSY; UNSUPPORTED
 * (unknown step flag); OVERFLOW (a tensor's count is already 2^53).
 */
int32_t swiftadam_step_contiguous(swiftadam_state *state, float *params, const float *grads,
                                  uint32_t step_flags);

/*
 * swiftadam_step_tensor: swiftadam_step for a state holding exactly one tensor, with its
 * length passed as a check: length must equal tensor_length(0).
 * Returns SWIFTADAM_OK or SWIFTADAM_STEP_SKIPPED.
 * Errors: NULL_POINTER (param or grad NULL); INVALID_HANDLE; BUSY; SIZE_MISMATCH (the
 * state has more than one tensor, or length differs); UNSUPPORTED (unknown step flag);
 * OVERFLOW (the step count is already 2^53).
 */
int32_t swiftadam_step_tensor(swiftadam_state *state, float *param, const float *grad,
                              size_t length, uint32_t step_flags);

/*
 * swiftadam_step_f64: swiftadam_step for a float64 state.
 * Errors: those of swiftadam_step; DTYPE_MISMATCH (the state is float32). The float32
 * functions on a float64 state fail with DTYPE_MISMATCH the same way.
 */
int32_t swiftadam_step_f64(swiftadam_state *state, double *const *params,
                           const double *const *grads, size_t num_tensors, uint32_t step_flags);

/*
 * swiftadam_step_tensor_f64: swiftadam_step_tensor for a float64 state.
 * Errors: those of swiftadam_step_tensor; DTYPE_MISMATCH (the state is float32).
 */
int32_t swiftadam_step_tensor_f64(swiftadam_state *state, double *param, const double *grad,
                                  size_t length, uint32_t step_flags);

/* ---- 16-bit params with float32 master weights --------------------------------------- */

/*
 * A float16 or bfloat16 state keeps, per tensor, a float32 master copy of the params and
 * float32 moments (per element 2 + 4 + 8 bytes, 12 with amsgrad, plus the caller's 16-bit
 * params). A step runs the float32 kernel on the master -- the same operations in the same
 * order as a float32 state, so the master's trajectory is bit for bit that of a float32
 * state fed the same float32 grads -- then writes the master rounded to the param dtype
 * into the caller's uint16_t arrays. Every conversion is IEEE-754 convertFormat, the same
 * integer code on every kernel path: narrowing rounds to nearest, ties to even, overflows
 * to +-Inf (float16: from 65520 up; bfloat16: past FLT_MAX's rounding) and keeps
 * subnormals; a NaN stays a NaN of the same sign, quiet, with the high bits of its payload
 * (as x86 F16C converts). Widening is exact (a signalling NaN comes out quiet).
 * The master is what a checkpoint stores and what training continues from: the 16-bit
 * params are only its rounding (swiftadam_get_params_half recomputes them, e.g. after a
 * load). The float32/float64 step and moment entry points fail on these states with
 * DTYPE_MISMATCH, except get_moment/set_moment, which take the (float32) moments.
 */

/*
 * swiftadam_create_half: swiftadam_create for a float16 or bfloat16 state (cfg->dtype says
 * which; cfg is required). params[i] points to lengths[i] values of that dtype: the master
 * copies start as their exact float32 values; params are read here, not kept. (swiftadam_create
 * refuses these dtypes with INVALID_ARGUMENT: a master of zeros would overwrite the caller's
 * params at the first step.)
 * Ownership: on success *out receives a state the caller must release with swiftadam_free.
 * Errors: those of swiftadam_create; NULL_POINTER (cfg, params or a params[i] NULL);
 * DTYPE_MISMATCH (cfg->dtype is FLOAT32 or FLOAT64). On error *out is untouched.
 */
int32_t swiftadam_create_half(const size_t *lengths, size_t num_tensors, const swiftadam_config *cfg,
                              const uint16_t *const *params, swiftadam_state **out);

/*
 * swiftadam_step_half: one step of a float16/bfloat16 state; params[i] and grads[i] hold
 * tensor_length(i) values of the state's dtype (grads[i] == NULL skips tensor i, as in
 * swiftadam_step).
 * grad_scale: the loss scale the grads carry (GradScaler's scale), 1.0 for none. Each grad
 * is multiplied by inv_scale = (float)(1.0 / grad_scale) before the update, in float32:
 * exactly torch.cuda.amp.GradScaler's unscale_ (it computes inv_scale in double, rounds
 * it to float32 and multiplies), so an AMP loop ported to this call unscales the same
 * bits; for a power-of-two scale (GradScaler's default) this equals division. With
 * SWIFTADAM_STEP_SKIP_NONFINITE, a grad that is NaN or +-Inf AFTER unscaling (found_inf)
 * skips the whole step: SWIFTADAM_STEP_SKIPPED, nothing changed.
 * Returns SWIFTADAM_OK or SWIFTADAM_STEP_SKIPPED.
 * Errors: those of swiftadam_step; DTYPE_MISMATCH (not a float16/bfloat16 state);
 * INVALID_ARGUMENT (grad_scale not finite and > 0, or its float32 reciprocal 0 or Inf).
 */
int32_t swiftadam_step_half(swiftadam_state *state, uint16_t *const *params,
                            const uint16_t *const *grads, size_t num_tensors,
                            double grad_scale, uint32_t step_flags);

/*
 * swiftadam_step_half_f32grad: swiftadam_step_half with float32 grads (grads[i] holds
 * tensor_length(i) floats); grad_scale, step_flags, returns and errors as there.
 */
int32_t swiftadam_step_half_f32grad(swiftadam_state *state, uint16_t *const *params,
                                    const float *const *grads, size_t num_tensors,
                                    double grad_scale, uint32_t step_flags);

/*
 * swiftadam_get_master: copy tensor `index`'s float32 master into out[0..length); capacity
 * is the number of floats out can hold.
 * Errors: NULL_POINTER; INVALID_HANDLE; BUSY; DTYPE_MISMATCH (not a float16/bfloat16
 * state); INVALID_ARGUMENT (index out of range); BUFFER_TOO_SMALL (nothing written).
 */
int32_t swiftadam_get_master(swiftadam_state *state, size_t index, float *out, size_t capacity);

/*
 * swiftadam_set_master: replace tensor `index`'s master with count floats from in (taken as
 * they are; count must equal the tensor's length). The caller's 16-bit params are not
 * touched: the next step writes their new rounding.
 * Errors: NULL_POINTER; INVALID_HANDLE; BUSY; DTYPE_MISMATCH; INVALID_ARGUMENT (index);
 * SIZE_MISMATCH (count != length).
 */
int32_t swiftadam_set_master(swiftadam_state *state, size_t index, const float *in, size_t count);

/*
 * swiftadam_get_params_half: tensor `index`'s master rounded to the state's 16-bit dtype,
 * exactly as a step writes it, into out[0..length) (capacity in uint16_t). Use it to bring
 * the caller's params in line with a loaded checkpoint.
 * Errors: as swiftadam_get_master.
 */
int32_t swiftadam_get_params_half(swiftadam_state *state, size_t index, uint16_t *out, size_t capacity);

/* ---- moments ------------------------------------------------------------------------ */

/*
 * swiftadam_get_moment: copy moment `which` (SWIFTADAM_MOMENT_*) of tensor `index` into
 * out[0..length). `capacity` is the number of floats out can hold. float16 and bfloat16
 * states keep float32 moments: this function (and swiftadam_set_moment) serves them too.
 * Errors: NULL_POINTER; INVALID_HANDLE; BUSY; INVALID_ARGUMENT (index out of range,
 * unknown `which`, or MAX_EXP_AVG_SQ without amsgrad); BUFFER_TOO_SMALL (capacity <
 * length; nothing written).
 */
int32_t swiftadam_get_moment(swiftadam_state *state, size_t index, int32_t which,
                             float *out, size_t capacity);

/*
 * swiftadam_set_moment: copy count floats from in into moment `which` of tensor `index`.
 * count must equal the tensor's length. Values are taken as they are (like torch's
 * load_state_dict); the buffer itself stays owned by the state.
 * Errors: NULL_POINTER; INVALID_HANDLE; BUSY; INVALID_ARGUMENT (index, which);
 * SIZE_MISMATCH (count != length).
 */
int32_t swiftadam_set_moment(swiftadam_state *state, size_t index, int32_t which,
                             const float *in, size_t count);

/*
 * swiftadam_get_moment_f64: swiftadam_get_moment for a float64 state (capacity in doubles).
 * Errors: those of swiftadam_get_moment; DTYPE_MISMATCH (float32 state).
 */
int32_t swiftadam_get_moment_f64(swiftadam_state *state, size_t index, int32_t which,
                                 double *out, size_t capacity);

/*
 * swiftadam_set_moment_f64: swiftadam_set_moment for a float64 state (count in doubles).
 * Errors: those of swiftadam_set_moment; DTYPE_MISMATCH (float32 state).
 */
int32_t swiftadam_set_moment_f64(swiftadam_state *state, size_t index, int32_t which,
                                 const double *in, size_t count);

/* ---- serialization (format: docs/FORMAT.md) ---------------------------------------- */

/*
 * swiftadam_serialized_size: *out = exact byte size swiftadam_serialize will write.
 * Errors: NULL_POINTER; INVALID_HANDLE; BUSY.
 */
int32_t swiftadam_serialized_size(swiftadam_state *state, size_t *out);

/*
 * swiftadam_serialize: write the whole state (hyperparameters, steps, lengths, moments,
 * checksum) into buf[0..capacity). *written receives the byte count. Deterministic: the
 * same state always gives the same bytes.
 * Errors: NULL_POINTER; INVALID_HANDLE; BUSY; BUFFER_TOO_SMALL (nothing written).
 */
int32_t swiftadam_serialize(swiftadam_state *state, void *buf, size_t capacity,
                            size_t *written);

/*
 * swiftadam_deserialize: a new state from checkpoint bytes buf[0..size). If
 * expected_lengths is not NULL, the checkpoint's tensor count must equal expected_count
 * and its lengths must equal expected_lengths (pass NULL, 0 to accept any shapes).
 * Everything is validated (magic, version, exact size, layout, hyperparameters) before
 * any allocation larger than the input; the CRC-32C is checked before *out is set.
 * Ownership: *out must be released with swiftadam_free. buf is not kept.
 * Errors: NULL_POINTER; BAD_MAGIC; UNSUPPORTED_VERSION; CORRUPT; CHECKSUM;
 * INVALID_ARGUMENT (stored hyperparameters out of range, or expected_lengths given with
 * expected_count 0 or > SWIFTADAM_MAX_TENSORS); UNSUPPORTED (unknown flags);
 * SIZE_MISMATCH (shapes differ from expected); OUT_OF_MEMORY. *out untouched on error.
 */
int32_t swiftadam_deserialize(const void *buf, size_t size, const size_t *expected_lengths,
                              size_t expected_count, swiftadam_state **out);

/*
 * swiftadam_save: write the checkpoint to `path` atomically: into a temporary file
 * "<path>.tmp" in the same directory, fsync, rename over path, fsync the directory. A crash
 * at any moment leaves at path either the old file or the new one, never a torn one; at
 * most one temporary file is left behind (and reused by the next save).
 * Paths are bytes: path and "<path>.tmp" reach the kernel exactly as given (no decoding,
 * so names that are not UTF-8 are distinct files). Messages show such bytes as \xNN.
 * Only a regular file or nothing is replaced at path: a symbolic link there is refused,
 * not replaced and not followed (save to the file it points to), and so are a directory,
 * FIFO, socket or device. A pre-existing "<path>.tmp" is reused only if it is a regular
 * file with no other name: a symlink, hard link, FIFO, device or directory there is
 * refused (IO at once, never blocking) and left in place, and nothing is written through it.
 * Errors: NULL_POINTER; INVALID_ARGUMENT (path is ""); INVALID_HANDLE; BUSY; IO (message
 * has the failing call or the refusal, the path and errno text). An IO error before the
 * rename leaves the previous file at path intact and removes its temporary file (never a
 * refused one); one after it (opening or fsyncing the directory) means the
 * new, complete checkpoint is at path but its durability could not be confirmed.
 */
int32_t swiftadam_save(swiftadam_state *state, const char *path);

/*
 * swiftadam_load: swiftadam_deserialize on the contents of the file at `path`, streamed:
 * the moments are read straight into the new state (no second copy in memory).
 * path is bytes, as for swiftadam_save; a symbolic link is followed. Anything but a regular
 * file (directory, FIFO, socket, device) is refused without blocking.
 * Errors: those of swiftadam_deserialize, INVALID_ARGUMENT (path is ""), and IO (path is
 * not a regular file, or cannot be opened or read).
 */
int32_t swiftadam_load(const char *path, const size_t *expected_lengths,
                       size_t expected_count, swiftadam_state **out);

#ifdef __cplusplus
}
#endif

#endif /* SWIFTADAM_H */
