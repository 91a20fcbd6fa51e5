//! How a matrix's rows, kept in fours, map onto a product's output: four at a time,
//! and a kernel's results put in place.

/// The rows of `quads` (fours of rows one after another, each `ys`-row-length blocks
/// long) times each activation row of `ys` into `out`, `(n, rows)` row-major, four
/// rows at a time by `dot4`, from four `from` on (the fours before it are left as
/// they are). One activation row (a decode step) allocates nothing.
pub fn by_fours<Q, Y>(
    dot4: impl Fn(&[Q], &[Y], &mut [[f32; 4]]),
    quads: &[Q],
    ys: &[Y],
    out: &mut [f32],
    rows: usize,
    from: usize,
) {
    let fours = rows.div_ceil(4);
    let per_row = quads.len() / fours;
    let (mut one, mut many) = ([[0f32; 4]], Vec::new());
    let dots: &mut [[f32; 4]] = match out.len() / rows {
        1 => &mut one,
        n => {
            many.resize(n, [0f32; 4]);
            &mut many
        }
    };
    for g in from..fours {
        dot4(&quads[g * per_row..][..per_row], ys, dots);
        put(out, rows, 4 * g, dots);
    }
}

/// Each activation row's products `dots` of weight rows `first..` into `out`, `(n,
/// rows)` row-major (the last of `dots` may be padding past `rows`).
///
/// A whole `W` is copied as one fixed-size move, which compiles to a few vector moves
/// (a copy of a length known only at run time calls `memcpy`, per row).
pub fn put<const W: usize>(out: &mut [f32], rows: usize, first: usize, dots: &[[f32; W]]) {
    for (out, dots) in out.chunks_exact_mut(rows).zip(dots) {
        match out.get_mut(first..first + W) {
            Some(whole) => whole.copy_from_slice(dots),
            None => out[first..].iter_mut().zip(dots).for_each(|(o, &d)| *o = d),
        }
    }
}
