//! Micro-benchmark of the matrix kernels, one thread: per format, a decode step (one
//! activation row) on a matrix that stays in cache (Gemma 3 270M's FFN gate, 2048×640,
//! for the 32-value and float formats; its FFN down projection, 640×2048, for the
//! K-quants) and on one that streams from memory (~64 MiB), and a 64-row prompt; for
//! the four-row driver (`WeightBlock::dot4`: AVX2, AVX-512 for the K-quants and the
//! float formats, or simd128 in wasm) and for the dispatch a product uses
//! (`WeightBlock::dot_rows`: AVX-512 VNNI where the CPU has it). Prints the median of several runs: weight GB/s (a prompt's weights are read
//! once for all its rows) and ns per weight block and activation row.
//!
//! Natively: `cargo run --release -p tandem-core --example kernels`. In wasm:
//! `RUSTFLAGS="-C target-feature=+simd128" cargo build --release -p tandem-core
//! --example kernels --target wasm32-unknown-unknown` (add `,+relaxed-simd` and
//! `--features relaxed-simd` for the relaxed build), then run the module with its
//! `env` imports `now() -> f64` (milliseconds) and `print(ptr, len)` (UTF-8), e.g.
//! in Node:
//!
//! ```js
//! const b = require("fs").readFileSync("target/wasm32-unknown-unknown/release/examples/kernels.wasm");
//! let m; const env = { now: () => performance.now(), print: (p, n) =>
//!   console.log(Buffer.from(m.exports.memory.buffer, p, n).toString()) };
//! m = new WebAssembly.Instance(new WebAssembly.Module(b), new Proxy({}, { get: (_, k) =>
//!   k === "env" ? env : new Proxy({}, { get: () => () => { throw Error("unused") } }) }));
//! m.exports.main(0, 0);
//! ```
//!
//! (`node --experimental-wasm-relaxed-simd` for the relaxed build on Node 20).

use tandem_core::kernels::{
    dot4_mismatch, finite_blocks, BlockBF16, BlockF16, BlockF32, BlockQ4K, BlockQ4_0, BlockQ4_1,
    BlockQ5K, BlockQ5_0, BlockQ5_1, BlockQ6K, BlockQ8_0, WeightBlock, QK,
};

/// Runs per case; the median is printed.
const RUNS: usize = 7;
/// Milliseconds a run lasts at least.
const RUN_MS: f64 = 60.0;

fn main() {
    // A second for the machine to settle (a browser is still starting its processes).
    let start = now();
    while now() - start < 1e3 {}
    out("format  case                 kernel      GB/s   ns/block");
    bench::<BlockQ4_0>();
    bench::<BlockQ4_1>();
    bench::<BlockQ5_0>();
    bench::<BlockQ5_1>();
    bench::<BlockQ8_0>();
    bench::<BlockQ4K>();
    bench::<BlockQ5K>();
    bench::<BlockQ6K>();
    bench::<BlockF16>();
    bench::<BlockBF16>();
    bench::<BlockF32>();
}

/// Every case of format `B`, once its kernel is checked against the reference.
fn bench<B: WeightBlock>() {
    let name = B::NAME;
    let mut seed = 3;
    let bytes: Vec<u8> = (0..4 * 20 * B::BYTES).map(|_| byte(&mut seed)).collect();
    let rows: Vec<Vec<B>> = finite_blocks(&bytes)
        .chunks(20)
        .map(<[B]>::to_vec)
        .collect();
    let ys = activations::<B>(3, 20 * B::VALUES);
    if let Some(mismatch) = dot4_mismatch([&rows[0], &rows[1], &rows[2], &rows[3]], &ys) {
        out_line(format!("{name}: NOT THE REFERENCE: {mismatch}"));
    }
    let (in_cache, cols) = match B::VALUES {
        QK => (2048, 640),
        _ => (640, 2048),
    };
    let streaming = (64 << 20) / (cols / B::VALUES * B::BYTES) / 16 * 16;
    for (case, rows, n) in [
        ("decode, in cache", in_cache, 1),
        ("decode, streaming", streaming, 1),
        ("prompt of 64", in_cache, 64),
    ] {
        let quads = matrix::<B>(rows, cols);
        let ys = activations::<B>(n, cols);
        let mut out = vec![0f32; n * rows];
        let per_row = cols / B::VALUES;
        let mut dots = vec![[0f32; 4]; n];
        for kernel in ["dot4", "dot_rows"] {
            let ms = median_ms(|| match kernel {
                "dot4" => {
                    for (g, quads) in quads.chunks_exact(per_row).enumerate() {
                        B::dot4(quads, &ys, &mut dots);
                        out[4 * g] = dots[0][0];
                    }
                }
                _ => B::dot_rows(&quads, &ys, &mut out, rows),
            });
            let bytes = (rows * per_row * B::BYTES) as f64;
            let ns_per_block = ms * 1e6 / (rows * per_row * n) as f64;
            out_line(format!(
                "{name:6}  {case:19}  {kernel:8}  {:7.2}  {ns_per_block:8.3}",
                bytes / (ms * 1e6)
            ));
        }
    }
}

/// A `(rows, cols)` matrix of random blocks (finite scales) as quads.
fn matrix<B: WeightBlock>(rows: usize, cols: usize) -> Vec<B::Quad> {
    let mut seed = 1u64;
    let per_row = cols / B::VALUES;
    let block = |seed: &mut u64| {
        let mut b: Vec<u8> = (0..B::BYTES).map(|_| byte(seed)).collect();
        // Keep the 16-bit floats (f16 scales and minimums, float values) small and
        // finite.
        for &h in B::HALVES {
            b[h + 1] &= 0b0011_1111;
        }
        B::read(&b)
    };
    let blocks: Vec<Vec<B>> = (0..rows)
        .map(|_| (0..per_row).map(|_| block(&mut seed)).collect())
        .collect();
    blocks
        .chunks(4)
        .flat_map(|f| B::quads([&f[0], &f[1], &f[2], &f[3]]))
        .collect()
}

/// `n` random activation rows of `cols`, quantised.
fn activations<B: WeightBlock>(n: usize, cols: usize) -> Vec<B::Activation> {
    let mut seed = 2u64;
    let x: Vec<f32> = (0..n * cols)
        .map(|_| byte(&mut seed) as f32 - 127.5)
        .collect();
    let mut ys = vec![Default::default(); n * cols / B::VALUES];
    B::quantize(&x, &mut ys);
    ys
}

fn byte(seed: &mut u64) -> u8 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (*seed >> 56) as u8
}

/// The median over [`RUNS`] runs of the milliseconds one call of `f` takes, after a
/// run to warm up (in wasm, until the engine's optimising compiler takes over).
fn median_ms(mut f: impl FnMut()) -> f64 {
    let mut runs: Vec<f64> = (0..=RUNS)
        .map(|_| {
            let (start, mut calls) = (now(), 0);
            while now() - start < RUN_MS {
                f();
                calls += 1;
            }
            (now() - start) / calls as f64
        })
        .skip(1)
        .collect();
    runs.sort_by(f64::total_cmp);
    runs[RUNS / 2]
}

fn out_line(line: String) {
    out(&line)
}

#[cfg(not(target_arch = "wasm32"))]
fn now() -> f64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1e3
}

#[cfg(not(target_arch = "wasm32"))]
fn out(line: &str) {
    println!("{line}")
}

#[cfg(target_arch = "wasm32")]
mod host {
    #[link(wasm_import_module = "env")]
    extern "C" {
        pub fn now() -> f64;
        pub fn print(ptr: *const u8, len: usize);
    }
}

#[cfg(target_arch = "wasm32")]
fn now() -> f64 {
    // SAFETY: the host's clock, no arguments.
    unsafe { host::now() }
}

#[cfg(target_arch = "wasm32")]
fn out(line: &str) {
    // SAFETY: the host reads `len` bytes at `ptr`, which stay alive for the call.
    unsafe { host::print(line.as_ptr(), line.len()) }
}
