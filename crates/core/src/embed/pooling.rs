//! How token vectors become one sentence vector: the mean over the sequence's
//! tokens (padding excluded) or the `[CLS]` token's vector, as the model's
//! sentence-transformers Pooling config (or a GGUF's pooling type) says; then L2
//! normalisation.

use serde_json::Value;

use crate::error::{Error, Result};

/// A pooling of token vectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pooling {
    /// The mean of the tokens' vectors.
    Mean,
    /// The first token's (`[CLS]`) vector.
    Cls,
}

impl Pooling {
    /// The pooling of a sentence-transformers `1_Pooling/config.json`.
    pub fn from_json(json: &str) -> Result<Self> {
        let config: Value = serde_json::from_str(json)
            .map_err(|e| Error::ModelInvalid(format!("pooling config: {e}")))?;
        let on = |k: &str| config[k] == true;
        match (on("pooling_mode_mean_tokens"), on("pooling_mode_cls_token")) {
            (true, false) => Ok(Pooling::Mean),
            (false, true) => Ok(Pooling::Cls),
            _ => Err(Error::UnsupportedModel(
                "pooling config: only mean or CLS pooling, alone, is supported".into(),
            )),
        }
    }

    /// The pooling of a GGUF's `{arch}.pooling_type` (llama.cpp's numbering).
    pub fn from_gguf_type(kind: u64) -> Result<Self> {
        match kind {
            1 => Ok(Pooling::Mean),
            2 => Ok(Pooling::Cls),
            _ => Err(Error::UnsupportedModel(format!(
                "pooling type {kind}: only mean (1) and CLS (2) are supported"
            ))),
        }
    }

    /// The unit-length sentence vector of `rows`, a sequence's token vectors
    /// (`len` rows of `width`, padding excluded).
    pub fn pool(self, rows: &[f32], width: usize) -> Vec<f32> {
        let mut v = match self {
            Pooling::Cls => rows[..width].to_vec(),
            Pooling::Mean => {
                let mut sum = vec![0f32; width];
                for row in rows.chunks_exact(width) {
                    sum.iter_mut().zip(row).for_each(|(s, x)| *s += x);
                }
                let n = (rows.len() / width).max(1) as f32;
                sum.iter_mut().for_each(|s| *s /= n);
                sum
            }
        };
        // As torch's F.normalize: x / max(|x|, 1e-12).
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
        v.iter_mut().for_each(|x| *x /= norm);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_cls_are_unit_vectors() {
        let rows = [3.0, 0.0, 3.0, 8.0];
        assert_eq!(Pooling::Cls.pool(&rows, 2), [1.0, 0.0]);
        let mean = Pooling::Mean.pool(&rows, 2);
        assert!((mean[0] - 0.6).abs() < 1e-6 && (mean[1] - 0.8).abs() < 1e-6);
        assert!(Pooling::from_json(r#"{"pooling_mode_max_tokens": true}"#).is_err());
        assert_eq!(
            Pooling::from_json(r#"{"pooling_mode_mean_tokens": true}"#),
            Ok(Pooling::Mean)
        );
    }
}
