//! The f32 sine and cosine of the rotary angles as glibc computes them on x86-64 with
//! FMA (its sinf and cosf, from Arm's optimized-routines, built with fused
//! multiply-adds): llama.cpp's on Linux. Written out here so that every build gives
//! the same bits: in the browser, Rust's f32::sin and f32::cos are another libm's,
//! which differs in the last bit for about 2% of angles.
//!
//! The method: the angle in f64, reduced to `[-π/4, π/4]` and a quadrant (one
//! multiply-subtract of π/2 below 120, exact integer arithmetic on 4/π above), then
//! an odd polynomial for the sine or an even one for the cosine, in f64, rounded
//! once to f32.

/// One polynomial set: the cosine's negated in the second, for quadrants 2 and 3.
struct Poly {
    /// The cosine's coefficients.
    c: [f64; 5],
    /// The sine's coefficients past the first.
    s: [f64; 3],
}

/// glibc's coefficients, as the bits of its table.
const C: [u64; 5] = [
    0x3ff0_0000_0000_0000,
    0xbfdf_ffff_fd0c_621c,
    0x3fa5_5553_e106_8f19,
    0xbf56_c087_e89a_359d,
    0x3ef9_9343_027b_f8c3,
];
const S: [u64; 3] = [
    0xbfc5_5554_5995_a603,
    0x3f81_1076_0523_0bc4,
    0xbf29_94eb_3774_cf24,
];

const POLYS: [Poly; 2] = [
    Poly {
        c: [
            f64::from_bits(C[0]),
            f64::from_bits(C[1]),
            f64::from_bits(C[2]),
            f64::from_bits(C[3]),
            f64::from_bits(C[4]),
        ],
        s: [
            f64::from_bits(S[0]),
            f64::from_bits(S[1]),
            f64::from_bits(S[2]),
        ],
    },
    Poly {
        c: [
            -f64::from_bits(C[0]),
            -f64::from_bits(C[1]),
            -f64::from_bits(C[2]),
            -f64::from_bits(C[3]),
            -f64::from_bits(C[4]),
        ],
        s: [
            f64::from_bits(S[0]),
            f64::from_bits(S[1]),
            f64::from_bits(S[2]),
        ],
    },
];

/// The sign of the sine in each quadrant.
const SIGNS: [f64; 4] = [1.0, -1.0, -1.0, 1.0];
/// 2/π scaled by 2^24, so that the quadrant lands in bits 24..32 of an i32.
const HALF_PI_INV: f64 = f64::from_bits(0x4164_5f30_6dc9_c883);
/// π/2.
const HALF_PI: f64 = f64::from_bits(0x3ff9_21fb_5444_2d18);
/// 2π · 2^-64.
const PI63: f64 = f64::from_bits(0x3c19_21fb_5444_2d18);
/// 4/π to 192 bits, eight new bits per word (so that any 96-bit window is three
/// aligned words).
const INV_PIO4: [u32; 24] = [
    0xa2, 0xa2f9, 0xa2f983, 0xa2f9836e, 0xf9836e4e, 0x836e4e44, 0x6e4e4415, 0x4e441529, 0x441529fc,
    0x1529fc27, 0x29fc2757, 0xfc2757d1, 0x2757d1f5, 0x57d1f534, 0xd1f534dd, 0xf534ddc0, 0x34ddc0db,
    0xddc0db62, 0xc0db6295, 0xdb629599, 0x6295993c, 0x95993c43, 0x993c4390, 0x3c439041,
];

/// sinf(x) as glibc computes it.
pub(super) fn sin(x: f32) -> f32 {
    eval(x, false)
}

/// cosf(x) as glibc computes it.
pub(super) fn cos(x: f32) -> f32 {
    eval(x, true)
}

/// The top 12 bits of `x` without its sign (its exponent, roughly).
fn abstop12(x: f32) -> u32 {
    (x.to_bits() >> 20) & 0x7ff
}

fn eval(y: f32, cosine: bool) -> f32 {
    let x = y as f64;
    if abstop12(y) < abstop12(std::f32::consts::FRAC_PI_4) {
        if abstop12(y) < abstop12(f32::from_bits(0x3980_0000)) {
            // |y| < 2^-12: sin y rounds to y, cos y to 1.
            return if cosine { 1.0 } else { y };
        }
        return poly(x, x * x, &POLYS[0], usize::from(cosine));
    }
    if !y.is_finite() {
        return f32::NAN;
    }
    // The quadrant `n` picks sine or cosine; for large angles, reduced without
    // their sign, a negative one's quadrant is one more where it picks the signs
    // and the polynomial set.
    let (r, n, turned) = if abstop12(y) < abstop12(120.0) {
        let (r, n) = reduce_fast(x);
        (r, n, n)
    } else {
        let (r, n) = reduce_large(y.to_bits());
        (r, n, n + (y.to_bits() >> 31) as usize)
    };
    let p = &POLYS[(turned >> 1) & 1];
    poly(r * SIGNS[turned & 3], r * r, p, n ^ usize::from(cosine))
}

/// The sine (even `n`) or the cosine (odd `n`) polynomial at `x` (`x2` = x²).
fn poly(x: f64, x2: f64, p: &Poly, n: usize) -> f32 {
    if n & 1 == 0 {
        let x3 = x * x2;
        let s1 = x2.mul_add(p.s[2], p.s[1]);
        let x7 = x3 * x2;
        let s = x3.mul_add(p.s[0], x);
        x7.mul_add(s1, s) as f32
    } else {
        let x4 = x2 * x2;
        let c2 = x2.mul_add(p.c[4], p.c[3]);
        let c1 = x2.mul_add(p.c[1], p.c[0]);
        let x6 = x4 * x2;
        let c = x4.mul_add(p.c[2], c1);
        x6.mul_add(c2, c) as f32
    }
}

/// `x` (|x| < 120) less its nearest multiple of π/2, and that multiple's quadrant.
fn reduce_fast(x: f64) -> (f64, usize) {
    let r = x * HALF_PI_INV;
    let n = ((r as i32).wrapping_add(0x80_0000)) >> 24;
    ((-(n as f64)).mul_add(HALF_PI, x), n as usize)
}

/// The float of bits `xi` (|x| ≥ 120, the sign ignored) less its nearest multiple
/// of π/2, and that multiple's quadrant: its fixed-point product with 4/π, exact.
fn reduce_large(xi: u32) -> (f64, usize) {
    let arr = &INV_PIO4[((xi >> 26) & 15) as usize..];
    let shift = (xi >> 23) & 7;
    let xi = ((xi & 0xff_ffff) | 0x80_0000) << shift;
    let res0 = xi.wrapping_mul(arr[0]) as u64;
    let res1 = xi as u64 * arr[4] as u64;
    let res2 = xi as u64 * arr[8] as u64;
    let res0 = ((res2 >> 32) | (res0 << 32)).wrapping_add(res1);
    let n = res0.wrapping_add(1 << 61) >> 62;
    let res0 = res0.wrapping_sub(n << 62);
    (res0 as i64 as f64 * PI63, n as usize)
}

#[cfg(all(test, target_arch = "x86_64", target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    /// Natively on x86-64 with FMA, f32::sin and f32::cos are glibc's: every angle
    /// a rotary embedding takes (positions to 2^17, any pair) and a sweep of all
    /// floats give the same bits.
    #[test]
    fn equals_glibc() {
        if !is_x86_feature_detected!("fma") {
            return;
        }
        let same = |a: f32, b: f32| a.to_bits() == b.to_bits() || a.is_nan() && b.is_nan();
        let check = |x: f32| {
            assert!(
                same(sin(x), x.sin()),
                "sin {x:e}: {} vs {}",
                sin(x),
                x.sin()
            );
            assert!(
                same(cos(x), x.cos()),
                "cos {x:e}: {} vs {}",
                cos(x),
                x.cos()
            );
        };
        for bits in (0..u32::MAX).step_by(997) {
            check(f32::from_bits(bits));
        }
        for (base, pairs) in [(10_000f32, 32), (500_000.0, 32), (1_000_000.0, 64)] {
            let scale = base.powf(-1.0 / pairs as f32);
            for p in (0..1 << 17).step_by(7) {
                let mut theta = p as f32;
                for _ in 0..pairs {
                    check(theta);
                    check(theta / 32.0);
                    theta *= scale;
                }
            }
        }
    }
}
