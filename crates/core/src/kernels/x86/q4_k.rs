//! Q4_K on x86, and what Q5_K shares with it: their steps for the K-quants' AVX2
//! driver and AVX-512 VNNI kernel (Q5_K's values are Q4_K's with a fifth bit added,
//! `x86::q5_k`).

use std::arch::x86_64::*;

use super::avx2_k::{self, both_halves, lane, two_rows, two_rows_u8};
use super::avx512_k::{self, every_lane, four_rows_u8, lane16, quarters};
use crate::kernels::formats::{BlockFormat, BlockQ4K, BlockQ8_K, QuadQ4K};

/// What Q4_K and Q5_K quads share: scales, sub-block scales and minimums, nibbles.
pub trait SubBlocks: BlockFormat<Activation = BlockQ8_K> {
    /// The quad's f16 scales and scales of the minimums, side by side (16 bytes).
    fn heads(quad: &Self::Quad) -> *const u16;
    /// The rows' sub-block scales.
    fn scales(quad: &Self::Quad) -> &[[u8; 8]; 4];
    /// The rows' sub-block minimums.
    fn mins(quad: &Self::Quad) -> &[[u8; 8]; 4];
    /// The rows' nibbles, in chunks.
    fn qs(quad: &Self::Quad) -> &[[[u8; 16]; 4]; 8];
    /// The fifth bits, for Q5_K.
    #[inline(always)]
    fn qh(_quad: &Self::Quad) -> Option<&[[[u8; 16]; 4]; 2]> {
        None
    }
}

impl SubBlocks for BlockQ4K {
    #[inline(always)]
    fn heads(quad: &QuadQ4K) -> *const u16 {
        quad.d.as_ptr()
    }

    #[inline(always)]
    fn scales(quad: &QuadQ4K) -> &[[u8; 8]; 4] {
        &quad.scales
    }

    #[inline(always)]
    fn mins(quad: &QuadQ4K) -> &[[u8; 8]; 4] {
        &quad.mins
    }

    #[inline(always)]
    fn qs(quad: &QuadQ4K) -> &[[[u8; 16]; 4]; 8] {
        &quad.qs
    }
}

/// Sub-block pair `j` (values `64j..64j + 64`) of two rows: the low nibbles (sub-block
/// `2j`) and the high ones (`2j + 1`) of chunks `2j` and `2j + 1`, each chunk's
/// values `16p + i` of its sub-blocks, with the fifth bits added (Q5_K).
///
/// # Safety
/// The CPU must have AVX2.
#[inline(always)]
unsafe fn values_avx2<B: SubBlocks>(quad: &B::Quad, pair: usize, j: usize) -> [[__m256i; 2]; 2] {
    let nibble = _mm256_set1_epi8(0x0F);
    let qs = B::qs(quad);
    let mut v = [[_mm256_setzero_si256(); 2]; 2];
    for p in 0..2 {
        let q = two_rows(&qs[2 * j + p], pair);
        v[0][p] = _mm256_and_si256(q, nibble);
        v[1][p] = _mm256_and_si256(_mm256_srli_epi16::<4>(q), nibble);
        if let Some(qh) = B::qh(quad) {
            let h = two_rows(&qh[p], pair);
            let h4 = _mm256_slli_epi16::<4>(h);
            for (s, v) in v.iter_mut().enumerate() {
                v[p] = _mm256_or_si256(v[p], avx2_k::bit_as_16(h, h4, 2 * j + s));
            }
        }
    }
    v
}

impl<B: SubBlocks> avx2_k::Step for B {
    #[inline(always)]
    unsafe fn scales(quad: &B::Quad) -> (__m128, __m128) {
        let heads = _mm_loadu_si128(B::heads(quad) as *const __m128i);
        (
            _mm_cvtph_ps(heads),
            _mm_cvtph_ps(_mm_unpackhi_epi64(heads, heads)),
        )
    }

    /// Per sub-block pair, the pairs of products of its two chunks added in i16 (at
    /// most 2 * 2 * 31 * 127 in size) before `vpmaddwd` by the sub-block scale.
    #[inline(always)]
    unsafe fn sums(quad: &B::Quad, y: &BlockQ8_K) -> [__m256i; 4] {
        let pairs = avx2_k::bsum_pairs(y);
        let mut sums = [_mm256_setzero_si256(); 4];
        for pair in 0..2 {
            let scales = two_rows_u8(&B::scales(quad)[2 * pair..]);
            let mins = two_rows_u8(&B::mins(quad)[2 * pair..]);
            sums[2 + pair] = _mm256_madd_epi16(mins, pairs);
            for j in 0..4 {
                let v = values_avx2::<B>(quad, pair, j);
                for (s, v) in v.iter().enumerate() {
                    let y = |p: usize| both_halves(y.qs[64 * j + 32 * s + 16 * p..].as_ptr());
                    let products = _mm256_add_epi16(
                        _mm256_maddubs_epi16(v[0], y(0)),
                        _mm256_maddubs_epi16(v[1], y(1)),
                    );
                    let scaled = _mm256_madd_epi16(products, lane(scales, 2 * j + s));
                    sums[pair] = _mm256_add_epi32(sums[pair], scaled);
                }
            }
        }
        sums
    }
}

impl<B: SubBlocks> avx512_k::Step512 for B {
    /// Per sub-block pair, the pairs of products of its two chunks added in i16
    /// before `vpdpwssd` by the sub-block scale.
    #[inline(always)]
    unsafe fn partials(quad: &B::Quad, y: &BlockQ8_K) -> (__m512i, __m512i) {
        let nibble = _mm512_set1_epi8(0x0F);
        let scales = four_rows_u8(B::scales(quad));
        let mins = four_rows_u8(B::mins(quad));
        let pairs = _mm512_broadcast_i32x4(_mm256_castsi256_si128(avx2_k::bsum_pairs(y)));
        let msum = _mm512_madd_epi16(mins, pairs);
        let qs = B::qs(quad);
        let fifth = B::qh(quad).map(|qh| [quarters(&qh[0]), quarters(&qh[1])]);
        let mut isum = _mm512_setzero_si512();
        for j in 0..4 {
            let mut products = [_mm512_setzero_si512(); 2];
            for p in 0..2 {
                let q = quarters(&qs[2 * j + p]);
                let mut v = [
                    _mm512_and_si512(q, nibble),
                    _mm512_and_si512(_mm512_srli_epi16::<4>(q), nibble),
                ];
                if let Some(h) = fifth {
                    for (s, v) in v.iter_mut().enumerate() {
                        let set = _mm512_test_epi8_mask(h[p], _mm512_set1_epi8(1 << (2 * j + s)));
                        *v = _mm512_mask_add_epi8(*v, set, *v, _mm512_set1_epi8(16));
                    }
                }
                for (s, v) in v.iter().enumerate() {
                    let at = 64 * j + 32 * s + 16 * p;
                    let y = every_lane(y.qs[at..].as_ptr());
                    products[s] = _mm512_add_epi16(products[s], _mm512_maddubs_epi16(*v, y));
                }
            }
            for (s, products) in products.iter().enumerate() {
                isum = _mm512_dpwssd_epi32(isum, *products, lane16(scales, 2 * j + s));
            }
        }
        (isum, msum)
    }
}
