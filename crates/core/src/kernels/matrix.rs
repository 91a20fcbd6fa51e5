//! A quantised weight matrix, its rows kept in fours as the kernels
//! read them, and its product with a batch of f32 activation rows: each activation
//! row is quantised once (to Q8_1, or Q8_K for the K-quants; rounded to the type of a
//! float format), each four weight rows are read once per batch (all
//! activation rows pass while they are in cache), and the rows are shared out over
//! rayon's threads (natively, and in the multi-threaded browser build).

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

use super::pick::WeightBlock;
use crate::error::{Error, Result};

/// Weight rows per parallel task (a multiple of 4, the rows a kernel takes at once).
const ROWS_PER_TASK: usize = 32;

/// Whether products use rayon: natively, and on wasm32 in the `threads` build only
/// (the single-threaded build has no pool to start).
pub(crate) const PARALLEL: bool = cfg!(any(not(target_arch = "wasm32"), feature = "threads"));

/// Rounds without work after which a spinner gives up: about 3 ms natively, longer
/// than the gaps between a forward pass's products.
const IDLE_ROUNDS: u32 = 1 << 12;

/// At most this many threads spin beside a forward pass: enough for a small model's
/// products, without keeping every core of a big server busy (the rest sleep between
/// products as rayon's threads do).
const MAX_SPINNERS: usize = 3;

/// Run `f` (a forward pass) on a thread of rayon's pool when products are shared out,
/// so the thread running it does its share of every product instead of waiting for
/// the pool to answer, hundreds of times per token. Meanwhile the pool's other
/// threads look for work without going to sleep: waking a sleeping thread costs tens
/// of microseconds (in a browser, or in a VM whose idle cores halt; in wasm rayon's
/// own short spin is no spin at all, as `yield_now` does nothing there), and a
/// product takes a few hundred.
pub fn on_pool<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if !PARALLEL {
        return f();
    }
    let done = AtomicBool::new(false);
    rayon::scope(|scope| {
        for _ in 1..rayon::current_num_threads().min(MAX_SPINNERS + 1) {
            scope.spawn(|_| {
                let Some(_busy) = Busy::enter() else {
                    return;
                };
                // A spinner runs on top of whatever its thread was doing, so it gives
                // up when no work comes: two could otherwise wait for each other's
                // forward passes, each stuck below the other spinner.
                let mut idle = 0;
                while !done.load(Ordering::Acquire) && idle < IDLE_ROUNDS {
                    match rayon::yield_now() {
                        Some(rayon::Yield::Executed) => idle = 0,
                        _ => {
                            idle += 1;
                            std::hint::spin_loop();
                        }
                    }
                }
            });
        }
        let _busy = Busy::enter();
        // Set even if `f` panics, so that the spinners stop and the scope ends.
        let _done = SetOnDrop(&done);
        f()
    })
}

thread_local! {
    static BUSY: Cell<bool> = const { Cell::new(false) };
}

/// This thread runs a forward pass or spins for one. A spinner that such a thread
/// picks up while it waits for work (its own forward's or another's) returns at
/// once rather than spin above a forward pass that it would then hold up.
struct Busy;

impl Busy {
    /// `None` when the thread is busy already.
    fn enter() -> Option<Busy> {
        (!BUSY.replace(true)).then_some(Busy)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        BUSY.set(false);
    }
}

/// Sets its flag when dropped.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// A `(rows, cols)` matrix of blocks `B`.
pub struct Matrix<B: WeightBlock> {
    rows: usize,
    cols: usize,
    /// Quad `g * cols / B::VALUES + b` is block `b` of rows `4g..4g + 4`; rows past
    /// the last are zero blocks.
    quads: Vec<B::Quad>,
}

impl<B: WeightBlock> Matrix<B> {
    /// Bytes of a `(rows, cols)` matrix in a GGUF file.
    pub fn byte_len(rows: usize, cols: usize) -> usize {
        rows * cols / B::VALUES * B::BYTES
    }

    /// The matrix stored in `data` (GGUF layout: `rows` rows of `cols / 32` blocks).
    pub fn from_bytes(data: &[u8], rows: usize, cols: usize) -> Result<Self> {
        let mut builder = MatrixBuilder::new(rows, cols)?;
        builder.push(data);
        builder.finish()
    }

    /// Row `r` as f32 (an embedding lookup).
    pub fn row(&self, r: usize) -> Vec<f32> {
        let per_row = self.cols / B::VALUES;
        let mut row = vec![0f32; self.cols];
        let quads = &self.quads[r / 4 * per_row..][..per_row];
        for (quad, out) in quads.iter().zip(row.chunks_exact_mut(B::VALUES)) {
            B::block(quad, r % 4).dequantize_into(out);
        }
        row
    }

    /// Output width.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Input width.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// `x` is `(n, cols)` row-major; returns `x · selfᵀ`, `(n, rows)` row-major.
    pub fn matmul(&self, x: &[f32]) -> Vec<f32> {
        Self::matmul_each(&[self], x).pop().unwrap_or_default()
    }

    /// [`Matrix::matmul`] of each of `ms` (all `cols` wide) with the same `x`, in one
    /// pass: `x` is quantised once and the rows of all of them are shared out
    /// together, so the threads meet once rather than once per matrix.
    pub fn matmul_each(ms: &[&Self], x: &[f32]) -> Vec<Vec<f32>> {
        let Some(cols) = ms.first().map(|m| m.cols) else {
            return Vec::new();
        };
        debug_assert!(ms.iter().all(|m| m.cols == cols));
        let per_row = cols / B::VALUES;
        let n = x.len() / cols;
        let mut q = vec![B::Activation::default(); n * per_row];
        for (xs, qs) in x.chunks_exact(cols).zip(q.chunks_exact_mut(per_row)) {
            B::quantize(xs, qs);
        }
        // `(n, rows)` each. With a pool of more than one thread, each task writes its
        // rows for every activation row as one `(n, its rows)` block, and the blocks
        // are assembled; one thread writes them in place.
        let mut outs: Vec<Vec<f32>> = ms.iter().map(|m| vec![0f32; m.rows * n]).collect();
        if !PARALLEL || rayon::current_num_threads() == 1 {
            for (m, out) in ms.iter().zip(&mut outs) {
                m.fill(&q, 0, out);
            }
            return outs;
        }
        use rayon::prelude::*;
        ms.par_iter().zip(outs.par_iter_mut()).for_each(|(m, out)| {
            out.par_chunks_mut(ROWS_PER_TASK * n)
                .enumerate()
                .for_each(|(task, out)| m.fill(&q, task * ROWS_PER_TASK, out))
        });
        ms.iter()
            .zip(outs)
            .map(|(m, blocks)| m.assembled(blocks, n))
            .collect()
    }

    /// Rows `first_row..` (a multiple of 4) of `x · selfᵀ` into `out`, `(n, rows)`
    /// row-major for the rows it holds, from `q`, the `n` activation rows quantised.
    fn fill(&self, q: &[B::Activation], first_row: usize, out: &mut [f32]) {
        let per_row = self.cols / B::VALUES;
        let rows = out.len() / (q.len() / per_row);
        let quads = &self.quads[first_row / 4 * per_row..][..rows.div_ceil(4) * per_row];
        B::dot_rows(quads, q, out, rows);
    }

    /// `(n, rows)` from the tasks' `(n, ROWS_PER_TASK)` blocks, in row order.
    fn assembled(&self, blocks: Vec<f32>, n: usize) -> Vec<f32> {
        if n == 1 || ROWS_PER_TASK >= self.rows {
            return blocks;
        }
        let mut out = vec![0f32; n * self.rows];
        for (first, block) in (0..)
            .step_by(ROWS_PER_TASK)
            .zip(blocks.chunks(ROWS_PER_TASK * n))
        {
            let width = block.len() / n;
            for (out, row) in out
                .chunks_exact_mut(self.rows)
                .zip(block.chunks_exact(width))
            {
                out[first..][..width].copy_from_slice(row);
            }
        }
        out
    }
}

/// A [`Matrix`] built from its bytes in the file as they arrive: each four rows
/// become quads as soon as they are complete, so at most four rows are ever held
/// twice.
pub struct MatrixBuilder<B: WeightBlock> {
    matrix: Matrix<B>,
    /// Bytes of the four rows being received.
    pending: Vec<u8>,
    /// Bytes received.
    received: usize,
}

impl<B: WeightBlock> MatrixBuilder<B> {
    /// A builder for a `(rows, cols)` matrix; an error when `cols` is not a whole
    /// number of blocks.
    pub fn new(rows: usize, cols: usize) -> Result<Self> {
        if cols == 0 || !cols.is_multiple_of(B::VALUES) {
            return Err(Error::ModelInvalid(format!(
                "a {} matrix cannot have rows of {cols} values (a multiple of {} is needed)",
                B::NAME,
                B::VALUES
            )));
        }
        let mut quads = Vec::new();
        quads
            .try_reserve_exact(rows.div_ceil(4) * (cols / B::VALUES))
            .map_err(|_| Error::OutOfMemory(format!("no memory for a {rows}x{cols} matrix")))?;
        Ok(MatrixBuilder {
            matrix: Matrix { rows, cols, quads },
            pending: Vec::new(),
            received: 0,
        })
    }

    /// The next `bytes` of the matrix, in file order.
    pub fn push(&mut self, mut bytes: &[u8]) {
        let four_rows = 4 * self.row_bytes();
        self.received += bytes.len();
        if !self.pending.is_empty() {
            let take = (four_rows - self.pending.len()).min(bytes.len());
            self.pending.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.pending.len() == four_rows {
                let pending = std::mem::take(&mut self.pending);
                self.add_rows(&pending);
            }
        }
        let whole = bytes.len() / four_rows * four_rows;
        for rows in bytes[..whole].chunks_exact(four_rows) {
            self.add_rows(rows);
        }
        self.pending.extend_from_slice(&bytes[whole..]);
    }

    /// The matrix, once all its bytes have come (the last four rows padded with zero
    /// blocks); an error when they did not.
    pub fn finish(mut self) -> Result<Matrix<B>> {
        let (rows, cols) = (self.matrix.rows, self.matrix.cols);
        if self.received != Matrix::<B>::byte_len(rows, cols) {
            return Err(Error::ModelInvalid(format!(
                "a {} matrix of {rows}x{cols} cannot be {} bytes",
                B::NAME,
                self.received
            )));
        }
        let pending = std::mem::take(&mut self.pending);
        if !pending.is_empty() {
            self.add_rows(&pending);
        }
        Ok(self.matrix)
    }

    fn row_bytes(&self) -> usize {
        self.matrix.cols / B::VALUES * B::BYTES
    }

    /// Up to four whole rows as quads (zero blocks in place of missing rows).
    fn add_rows(&mut self, data: &[u8]) {
        let per_row = self.matrix.cols / B::VALUES;
        let rows = data.len() / self.row_bytes();
        let block = |r: usize, b: usize| match r < rows {
            true => B::read(&data[(r * per_row + b) * B::BYTES..][..B::BYTES]),
            false => B::default(),
        };
        let quads = (0..per_row).map(|b| B::quad(std::array::from_fn(|i| block(i, b))));
        self.matrix.quads.extend(quads);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::formats::{
        BlockBF16, BlockF16, BlockF32, BlockFormat, BlockQ4K, BlockQ4_0, BlockQ4_1, BlockQ5K,
        BlockQ5_0, BlockQ5_1, BlockQ6K, BlockQ8_0,
    };
    use crate::kernels::Q4_1Matrix;

    /// A `(rows, 64)` Q4_1 matrix of made-up blocks with small finite scales.
    fn matrix(rows: usize, salt: usize) -> Q4_1Matrix {
        let data: Vec<u8> = (0..rows * 2 * BlockQ4_1::BYTES)
            .map(|i| match i % BlockQ4_1::BYTES {
                1 | 3 => 0x2C,
                _ => ((i + salt) * 131 % 251) as u8,
            })
            .collect();
        Q4_1Matrix::from_bytes(&data, rows, 64).unwrap()
    }

    /// `n` made-up activation rows of 64.
    fn activations(n: usize) -> Vec<f32> {
        (0..n * 64)
            .map(|i| ((i * 13 % 31) as f32 - 15.0) / 9.0)
            .collect()
    }

    #[test]
    fn matrices_on_one_input_equal_their_products_one_by_one() {
        // Row counts that are not multiples of a task or of 4 rows.
        let ms = [matrix(37, 0), matrix(6, 1), matrix(70, 2)];
        for n in [1, 3] {
            let x = activations(n);
            let each = Matrix::matmul_each(&[&ms[0], &ms[1], &ms[2]], &x);
            assert_eq!(each.len(), 3);
            for (m, y) in ms.iter().zip(&each) {
                let alone = m.matmul(&x);
                assert_eq!(y.len(), n * m.rows());
                assert!(y
                    .iter()
                    .zip(&alone)
                    .all(|(a, b)| a.to_bits() == b.to_bits()));
            }
        }
    }

    /// Every format, on every kernel this machine has (70 rows: sixteens, a four, a
    /// padded four; one activation row and three).
    #[test]
    fn a_batch_equals_rows_one_at_a_time_and_the_reference() {
        batch_and_rows_equal_the_reference::<BlockQ4_0>();
        batch_and_rows_equal_the_reference::<BlockQ4_1>();
        batch_and_rows_equal_the_reference::<BlockQ5_0>();
        batch_and_rows_equal_the_reference::<BlockQ5_1>();
        batch_and_rows_equal_the_reference::<BlockQ8_0>();
        batch_and_rows_equal_the_reference::<BlockQ4K>();
        batch_and_rows_equal_the_reference::<BlockQ5K>();
        batch_and_rows_equal_the_reference::<BlockQ6K>();
        batch_and_rows_equal_the_reference::<BlockF16>();
        batch_and_rows_equal_the_reference::<BlockBF16>();
        batch_and_rows_equal_the_reference::<BlockF32>();
    }

    /// Made-up rows of two blocks of `B` whose 16-bit floats (f16 scales and minimums,
    /// float values) are small and finite (their high bytes 0x2C).
    fn batch_and_rows_equal_the_reference<B: WeightBlock>() {
        let (rows, cols) = (70, 2 * B::VALUES);
        let data: Vec<u8> = (0..rows * 2 * B::BYTES)
            .map(|i| match B::HALVES.iter().any(|&h| i % B::BYTES == h + 1) {
                true => 0x2C,
                false => (i * 131 % 251) as u8,
            })
            .collect();
        let m = Matrix::<B>::from_bytes(&data, rows, cols).unwrap();
        let x: Vec<f32> = (0..3 * cols)
            .map(|i| ((i * 17 % 29) as f32 - 14.0) / 7.0)
            .collect();
        let batch = m.matmul(&x);
        assert_eq!(batch.len(), 3 * rows);
        for t in 0..3 {
            let one = m.matmul(&x[t * cols..(t + 1) * cols]);
            assert_eq!(&batch[t * rows..(t + 1) * rows], &one[..]);
            let mut q = vec![B::Activation::default(); 2];
            B::quantize(&x[t * cols..(t + 1) * cols], &mut q);
            let row = |r: usize| {
                data[r * 2 * B::BYTES..][..2 * B::BYTES]
                    .chunks(B::BYTES)
                    .map(B::read)
            };
            for (r, got) in one.iter().enumerate() {
                let want = B::reference(row(r), &q);
                assert_eq!(got.to_bits(), want.to_bits(), "{} row {r}", B::NAME);
            }
            // The last row, in a four padded with zero blocks, reads back as it was.
            let mut last = vec![0f32; cols];
            for (b, out) in row(rows - 1).zip(last.chunks_exact_mut(B::VALUES)) {
                b.dequantize_into(out);
            }
            assert_eq!(m.row(rows - 1), last);
        }
    }

    #[test]
    fn forward_passes_on_several_threads_at_once_all_finish() {
        // More callers than the pool has threads, so that passes overlap and threads
        // inside one pick up the others' spinners: all finish, with the same results.
        let (m, x) = (matrix(200, 0), activations(2));
        let want = m.matmul(&x);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    pool.install(|| {
                        for _ in 0..200 {
                            assert_eq!(on_pool(|| m.matmul(&x)), want);
                        }
                    })
                });
            }
        });
    }

    #[test]
    fn a_wrong_size_is_an_error() {
        assert!(Q4_1Matrix::from_bytes(&[0; 39], 1, 64).is_err());
        assert!(Q4_1Matrix::from_bytes(&[0; 20], 1, 31).is_err());
        // Float rows are taken 32 values at a time.
        assert!(Matrix::<BlockF16>::from_bytes(&[0; 96], 1, 48).is_err());
    }
}
