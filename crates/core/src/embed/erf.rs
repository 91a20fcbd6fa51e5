//! The error function in f32 as one rational function, `erf(x) ≈ x·P(x²)/Q(x²)`,
//! with no branch and no call, so that a row of GELUs runs on SIMD (libm's `erff` is
//! a call per value, a fifth of an encoder's time). The coefficients were fitted by
//! scripts/fit/erf.py over |x| ≤ [`CUT`], past which erf is ±1 in f32; the result is
//! within 4.1e-7 of erf (a few units in the last place).

/// Where erf reaches ±1 in f32.
const CUT: f32 = 3.92;

/// P's coefficients, lowest degree first (the first is erf'(0), 2/√π).
const P: [f32; 7] = [
    std::f32::consts::FRAC_2_SQRT_PI,
    0.197_617_8,
    0.050_263_308,
    0.003_605_918,
    0.000_139_792,
    -1.955_926_8e-6,
    2.008_248_3e-8,
];

/// Q's coefficients, lowest degree first.
const Q: [f32; 5] = [
    1.0,
    0.508_466_06,
    0.114_041_306,
    0.014_155_572,
    0.000_933_659_3,
];

/// `erf(x)`.
pub(super) fn erf(x: f32) -> f32 {
    let x = x.clamp(-CUT, CUT);
    let t = x * x;
    let p = P.iter().rev().fold(0.0, |acc, &c| acc * t + c);
    let q = Q.iter().rev().fold(0.0, |acc, &c| acc * t + c);
    (x * p / q).clamp(-1.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_is_within_a_few_ulps_of_the_true_one() {
        let mut worst = 0f64;
        for i in -600_000..=600_000 {
            let x = i as f32 * 1e-5;
            worst = worst.max((erf(x) as f64 - libm::erf(x as f64)).abs());
        }
        assert!(worst < 4.5e-7, "largest error {worst}");
        assert_eq!(erf(9.0), 1.0);
        assert_eq!(erf(-f32::INFINITY), -1.0);
        assert_eq!(erf(0.0), 0.0);
    }
}
