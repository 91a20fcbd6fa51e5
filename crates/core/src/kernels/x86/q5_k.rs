//! Q5_K on x86: Q4_K's steps (`x86::q4_k`) with its fifth bits.

use super::q4_k::SubBlocks;
use crate::kernels::formats::{BlockQ5K, QuadQ5K};

impl SubBlocks for BlockQ5K {
    #[inline(always)]
    fn heads(quad: &QuadQ5K) -> *const u16 {
        quad.d.as_ptr()
    }

    #[inline(always)]
    fn scales(quad: &QuadQ5K) -> &[[u8; 8]; 4] {
        &quad.scales
    }

    #[inline(always)]
    fn mins(quad: &QuadQ5K) -> &[[u8; 8]; 4] {
        &quad.mins
    }

    #[inline(always)]
    fn qs(quad: &QuadQ5K) -> &[[[u8; 16]; 4]; 8] {
        &quad.qs
    }

    #[inline(always)]
    fn qh(quad: &QuadQ5K) -> Option<&[[[u8; 16]; 4]; 2]> {
        Some(&quad.qh)
    }
}
