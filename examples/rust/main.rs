//! SwiftAdam from Rust with rustc alone (no crates): an `extern "C"` block written from
//! include/swiftadam.h, several tensors stepped together, a learning-rate schedule, a
//! checkpoint saved, freed, loaded and resumed, and every step checked bit for bit against
//! the README formula computed here in Rust.
//!
//!   rustc -O examples/rust/main.rs -L .build/release -C link-arg=-Wl,-rpath,$PWD/.build/release -o adam_rs
//!   ./adam_rs [checkpoint-path]
//!
//! (After `make install`, use `-L $(pkg-config --variable=libdir swiftadam)` instead.)

use std::ffi::{c_char, CStr, CString};
use std::process::exit;

#[repr(C)]
struct Config {
    struct_size: usize,
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    flags: u32,
    reserved: u32,
}

#[repr(C)]
struct State {
    _opaque: [u8; 0],
}

#[link(name = "SwiftAdam")]
extern "C" {
    fn swiftadam_version_string() -> *const c_char;
    fn swiftadam_backend_name() -> *const c_char;
    fn swiftadam_status_name(status: i32) -> *const c_char;
    fn swiftadam_last_error() -> *const c_char;
    fn swiftadam_config_init(cfg: *mut Config, struct_size: usize) -> i32;
    fn swiftadam_create(lengths: *const usize, num_tensors: usize, cfg: *const Config,
                        out: *mut *mut State) -> i32;
    fn swiftadam_free(state: *mut State) -> i32;
    fn swiftadam_set_lr(state: *mut State, lr: f64) -> i32;
    fn swiftadam_tensor_step(state: *mut State, index: usize, out: *mut u64) -> i32;
    // float *const *params, const float *const *grads
    fn swiftadam_step(state: *mut State, params: *const *mut f32, grads: *const *const f32,
                      num_tensors: usize, step_flags: u32) -> i32;
    fn swiftadam_save(state: *mut State, path: *const c_char) -> i32;
    fn swiftadam_load(path: *const c_char, expected_lengths: *const usize, expected_count: usize,
                      out: *mut *mut State) -> i32;
}

const UNKNOWN: &str = "SWIFTADAM_UNKNOWN_STATUS";

fn text(p: *const c_char) -> String {
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

fn status_name(code: i32) -> String {
    text(unsafe { swiftadam_status_name(code) })
}

/// The status codes, read from the library (the header promises one contiguous range).
fn status_codes() -> Vec<(i32, String)> {
    let (mut lo, mut hi) = (0, 0);
    while status_name(lo - 1) != UNKNOWN { lo -= 1; }
    while status_name(hi + 1) != UNKNOWN { hi += 1; }
    (lo..=hi).map(|c| (c, status_name(c))).collect()
}

fn check(what: &str, rc: i32) {
    if rc != 0 {
        eprintln!("{what}: {} ({rc}): {}", status_name(rc), text(unsafe { swiftadam_last_error() }));
        exit(1);
    }
}

const LENGTHS: [usize; 3] = [5, 64, 1000];
const STEPS: u64 = 30;
const SAVE_AT: u64 = 12;
const BETAS: (f64, f64) = (0.9, 0.999);
const EPS: f64 = 1e-8;

/// Step decay: 0.05, halved every 10 steps.
fn lr_at(step: u64) -> f64 { 0.05 * 0.5f64.powi((step / 10) as i32) }

/// The README formula (Adam, no weight decay) at step t. Every scalar is computed in f64
/// and rounded once to f32: `(1.0 - b1) as f32`, not `1.0f32 - b1 as f32`, which is a
/// different number. b^t uses powf (libm's pow, as the library does), not powi.
fn reference_step(p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32], t: u64, lr: f64) {
    let (b1, b2) = BETAS;
    let w1 = (1.0 - b1) as f32;
    let beta2 = b2 as f32;
    let one_minus_b2 = (1.0 - b2) as f32;
    let bc2_sqrt = (1.0 - b2.powf(t as f64)).sqrt() as f32;
    let neg_step = (-(lr / (1.0 - b1.powf(t as f64)))) as f32;
    let eps = EPS as f32;
    for i in 0..p.len() {
        m[i] = if w1 < 0.5 { m[i] + w1 * (g[i] - m[i]) } else { g[i] - (g[i] - m[i]) * (1.0 - w1) };
        v[i] = v[i] * beta2 + (one_minus_b2 * g[i]) * g[i];
        p[i] = p[i] + (neg_step * m[i]) / (v[i].sqrt() / bc2_sqrt + eps);
    }
}

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        std::env::temp_dir().join("swiftadam_rust_example.ckpt").to_string_lossy().into_owned()
    });
    let cpath = CString::new(path.clone()).expect("path without NUL");
    println!("libSwiftAdam {} ({} backend)", text(unsafe { swiftadam_version_string() }),
             text(unsafe { swiftadam_backend_name() }));
    let codes = status_codes();
    println!("{} status codes from {} to {}: {}", codes.len(), codes[0].0, codes[codes.len() - 1].0,
             codes.iter().map(|(c, n)| format!("{n}={c}")).collect::<Vec<_>>().join(" "));

    let mut cfg = Config { struct_size: 0, lr: 0.0, beta1: 0.0, beta2: 0.0, eps: 0.0,
                           weight_decay: 0.0, flags: 0, reserved: 0 };
    check("config_init", unsafe { swiftadam_config_init(&mut cfg, std::mem::size_of::<Config>()) });
    cfg.lr = lr_at(0);
    cfg.beta1 = BETAS.0;
    cfg.beta2 = BETAS.1;
    cfg.eps = EPS;
    let mut state: *mut State = std::ptr::null_mut();
    check("create", unsafe { swiftadam_create(LENGTHS.as_ptr(), LENGTHS.len(), &cfg, &mut state) });

    // Target of the loss sum (p - target)^2 / 2 per tensor; the grads are p - target.
    let target: Vec<Vec<f32>> = LENGTHS.iter().enumerate()
        .map(|(k, &n)| (0..n).map(|i| ((i * 7 + k) as f32 * 0.37).sin()).collect()).collect();
    let mut params: Vec<Vec<f32>> = LENGTHS.iter().map(|&n| vec![0.0f32; n]).collect();
    let mut grads: Vec<Vec<f32>> = LENGTHS.iter().map(|&n| vec![0.0f32; n]).collect();
    let mut ref_p = params.clone();
    let mut ref_m: Vec<Vec<f32>> = params.clone();
    let mut ref_v: Vec<Vec<f32>> = params.clone();

    for step in 0..STEPS {
        if step == SAVE_AT {
            // Checkpoint, drop the state, and continue from the file.
            check("save", unsafe { swiftadam_save(state, cpath.as_ptr()) });
            check("free", unsafe { swiftadam_free(state) });
            state = std::ptr::null_mut();
            check("load", unsafe {
                swiftadam_load(cpath.as_ptr(), LENGTHS.as_ptr(), LENGTHS.len(), &mut state)
            });
            let mut t = 0u64;
            check("tensor_step", unsafe { swiftadam_tensor_step(state, 2, &mut t) });
            assert_eq!(t, SAVE_AT, "the loaded state's step count");
            println!("saved after step {SAVE_AT} to {path}, freed, loaded (step count {t})");
        }
        let lr = lr_at(step);
        check("set_lr", unsafe { swiftadam_set_lr(state, lr) });
        for k in 0..LENGTHS.len() {
            for i in 0..LENGTHS[k] { grads[k][i] = params[k][i] - target[k][i]; }
        }
        let p_ptrs: Vec<*mut f32> = params.iter_mut().map(|p| p.as_mut_ptr()).collect();
        let g_ptrs: Vec<*const f32> = grads.iter().map(|g| g.as_ptr()).collect();
        check("step", unsafe { swiftadam_step(state, p_ptrs.as_ptr(), g_ptrs.as_ptr(), LENGTHS.len(), 0) });
        for k in 0..LENGTHS.len() {
            reference_step(&mut ref_p[k], &mut ref_m[k], &mut ref_v[k], &grads[k], step + 1, lr);
            let same = params[k].iter().zip(&ref_p[k]).all(|(a, b)| a.to_bits() == b.to_bits());
            if !same {
                eprintln!("step {}, tensor {k}: library and README formula differ", step + 1);
                exit(1);
            }
        }
    }
    check("free", unsafe { swiftadam_free(state) });
    let _ = std::fs::remove_file(&path);
    let loss: f64 = params.iter().zip(&target)
        .flat_map(|(p, t)| p.iter().zip(t).map(|(a, b)| ((a - b) as f64).powi(2) / 2.0)).sum();
    println!("{STEPS} steps on {} tensors, step-decay lr, resumed from a checkpoint: \
              bit-identical to the README formula at every step (loss {loss:.4})", LENGTHS.len());
    let naive = 1.0f32 - BETAS.0 as f32;
    let once = (1.0 - BETAS.0) as f32;
    println!("(1 - b1 rounded once: {once:e}; 1.0f32 - b1 as f32: {naive:e}, {} ulp apart)",
             (naive.to_bits() as i64 - once.to_bits() as i64).abs());
}
