//! The encoder's weights, from a safetensors file (Hugging Face's names, mapped to
//! llama.cpp's) or from a GGUF's tensors (F32/F16 and every other candle format as
//! f32 on candle's matmul; Q8_0 matrices on tandem's kernels), their shapes checked.

use std::collections::HashMap;
use std::io::Cursor;

use candle_core::quantized::GgmlDType;
use candle_core::{DType, Device};

use super::config::EncoderConfig;
use super::dense::{Dense, Weight};
use super::panels::Panels;
use crate::error::{Error, Result};
use crate::gguf::Gguf;
use crate::kernels::{BlockQ8_0, Matrix};

/// Row-major values and the shape of a tensor as read, before it is taken.
enum Raw {
    Float(Vec<f32>, Vec<usize>),
    Q8_0(Matrix<BlockQ8_0>, Vec<usize>),
}

impl Raw {
    fn dims(&self) -> &[usize] {
        match self {
            Raw::Float(_, d) | Raw::Q8_0(_, d) => d,
        }
    }
}

/// A LayerNorm's weight and bias.
pub(super) struct LayerNorm {
    pub(super) weight: Vec<f32>,
    pub(super) bias: Vec<f32>,
}

/// The word embeddings: f32 rows, or Q8_0 rows dequantised when looked up.
pub(super) enum Table {
    Float(Vec<f32>),
    Q8_0(Matrix<BlockQ8_0>),
}

impl Table {
    /// Adds row `id` (of `width`) to `out`.
    pub(super) fn add_row(&self, id: usize, out: &mut [f32]) {
        let width = out.len();
        match self {
            Table::Float(values) => {
                let row = &values[id * width..][..width];
                out.iter_mut().zip(row).for_each(|(o, x)| *o += x);
            }
            Table::Q8_0(m) => {
                let row = m.row(id);
                out.iter_mut().zip(&row).for_each(|(o, x)| *o += x);
            }
        }
    }
}

/// One encoder layer.
pub(super) struct Layer {
    pub(super) q: Dense,
    pub(super) k: Dense,
    pub(super) v: Dense,
    pub(super) attn_out: Dense,
    pub(super) attn_norm: LayerNorm,
    pub(super) up: Dense,
    pub(super) down: Dense,
    pub(super) out_norm: LayerNorm,
}

/// All of the encoder's weights.
pub(super) struct EncoderWeights {
    pub(super) words: Table,
    /// `(positions, width)`.
    pub(super) positions: Vec<f32>,
    /// Row 0 of the token-type embeddings (every token is of type 0).
    pub(super) token_type: Vec<f32>,
    pub(super) norm: LayerNorm,
    pub(super) layers: Vec<Layer>,
}

/// The tensors by llama.cpp's names, taken one by one.
struct Tensors(HashMap<String, Raw>);

impl EncoderWeights {
    /// From a safetensors file of a Hugging Face BERT (`bert.` prefixes and
    /// `gamma`/`beta` names accepted; the pooler and anything else unused ignored).
    pub(super) fn from_safetensors(bytes: &[u8], c: &EncoderConfig) -> Result<Self> {
        let tensors = candle_core::safetensors::load_buffer(bytes, &Device::Cpu)
            .map_err(|e| Error::ModelInvalid(format!("safetensors: {e}")))?;
        let mut by_name = HashMap::new();
        for (name, t) in tensors {
            let Some(name) = gguf_name(&name) else {
                continue;
            };
            let dims = t.dims().to_vec();
            let values = t
                .to_dtype(DType::F32)
                .and_then(|t| t.flatten_all()?.to_vec1::<f32>())
                .map_err(|e| Error::ModelInvalid(format!("safetensors tensor {name}: {e}")))?;
            by_name.insert(name, Raw::Float(values, dims));
        }
        Tensors(by_name).weights(c)
    }

    /// From the tensors of a GGUF file (`bytes`: the whole file).
    pub(super) fn from_gguf(gguf: &Gguf, bytes: &[u8], c: &EncoderConfig) -> Result<Self> {
        let mut by_name = HashMap::new();
        for span in gguf.spans()? {
            if span.bytes.end > bytes.len() as u64 {
                return Err(Error::ModelInvalid(format!(
                    "the file is cut short: tensor {} is missing",
                    span.name
                )));
            }
            let dims = span.info.shape.dims().to_vec();
            let data = &bytes[span.bytes.start as usize..span.bytes.end as usize];
            let raw = match (span.info.ggml_dtype, dims.as_slice()) {
                (GgmlDType::Q8_0, &[rows, cols]) => {
                    Raw::Q8_0(Matrix::from_bytes(data, rows, cols)?, dims)
                }
                (GgmlDType::F32, _) => Raw::Float(
                    data.chunks_exact(4)
                        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .collect(),
                    dims,
                ),
                _ => {
                    let t = gguf
                        .content
                        .tensor(&mut Cursor::new(bytes), span.name, &Device::Cpu)
                        .and_then(|t| t.dequantize(&Device::Cpu)?.flatten_all()?.to_vec1())
                        .map_err(|e| Error::ModelInvalid(format!("tensor {}: {e}", span.name)))?;
                    Raw::Float(t, dims)
                }
            };
            by_name.insert(span.name.to_string(), raw);
        }
        Tensors(by_name).weights(c)
    }
}

impl Tensors {
    fn weights(mut self, c: &EncoderConfig) -> Result<EncoderWeights> {
        let (w, f) = (c.width, c.ffn);
        let words = match self.take("token_embd.weight", &[c.vocab, w])? {
            Raw::Float(values, _) => Table::Float(values),
            Raw::Q8_0(m, _) => Table::Q8_0(m),
        };
        let positions = self.floats("position_embd.weight", &[c.positions, w])?;
        let types = self.floats("token_types.weight", &[c.token_types, w])?;
        let norm = self.norm("token_embd_norm", w)?;
        let layers = (0..c.layers)
            .map(|i| {
                let p = format!("blk.{i}.");
                Ok(Layer {
                    q: self.dense(&format!("{p}attn_q"), w, w)?,
                    k: self.dense(&format!("{p}attn_k"), w, w)?,
                    v: self.dense(&format!("{p}attn_v"), w, w)?,
                    attn_out: self.dense(&format!("{p}attn_output"), w, w)?,
                    attn_norm: self.norm(&format!("{p}attn_output_norm"), w)?,
                    up: self.dense(&format!("{p}ffn_up"), f, w)?,
                    down: self.dense(&format!("{p}ffn_down"), w, f)?,
                    out_norm: self.norm(&format!("{p}layer_output_norm"), w)?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(EncoderWeights {
            words,
            positions,
            token_type: types[..w].to_vec(),
            norm,
            layers,
        })
    }

    fn take(&mut self, name: &str, shape: &[usize]) -> Result<Raw> {
        let raw = self
            .0
            .remove(name)
            .ok_or_else(|| Error::ModelInvalid(format!("tensor {name} is missing")))?;
        if raw.dims() != shape {
            return Err(Error::ModelInvalid(format!(
                "tensor {name} has shape {:?}, expected {shape:?}",
                raw.dims()
            )));
        }
        Ok(raw)
    }

    fn floats(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        match self.take(name, shape)? {
            Raw::Float(values, _) => Ok(values),
            Raw::Q8_0(m, _) => Ok((0..m.rows()).flat_map(|r| m.row(r)).collect()),
        }
    }

    fn norm(&mut self, prefix: &str, width: usize) -> Result<LayerNorm> {
        Ok(LayerNorm {
            weight: self.floats(&format!("{prefix}.weight"), &[width])?,
            bias: self.floats(&format!("{prefix}.bias"), &[width])?,
        })
    }

    fn dense(&mut self, prefix: &str, rows: usize, cols: usize) -> Result<Dense> {
        let weight = match self.take(&format!("{prefix}.weight"), &[rows, cols])? {
            Raw::Q8_0(m, _) => Weight::Q8_0(m),
            Raw::Float(values, _) => Weight::F32(Panels::new(&values, rows, cols)),
        };
        let bias = self.floats(&format!("{prefix}.bias"), &[rows])?;
        Ok(Dense::new(weight, bias, rows))
    }
}

/// llama.cpp's name of a Hugging Face BERT tensor (`None`: one the encoder does not use).
fn gguf_name(hf: &str) -> Option<String> {
    let name = hf.strip_prefix("bert.").unwrap_or(hf);
    let (stem, suffix) = name.rsplit_once('.')?;
    let suffix = match suffix {
        "weight" | "gamma" => "weight",
        "bias" | "beta" => "bias",
        _ => return None,
    };
    let stem = match stem {
        "embeddings.word_embeddings" => "token_embd".to_string(),
        "embeddings.position_embeddings" => "position_embd".to_string(),
        "embeddings.token_type_embeddings" => "token_types".to_string(),
        "embeddings.LayerNorm" => "token_embd_norm".to_string(),
        _ => {
            let rest = stem.strip_prefix("encoder.layer.")?;
            let (layer, part) = rest.split_once('.')?;
            let part = match part {
                "attention.self.query" => "attn_q",
                "attention.self.key" => "attn_k",
                "attention.self.value" => "attn_v",
                "attention.output.dense" => "attn_output",
                "attention.output.LayerNorm" => "attn_output_norm",
                "intermediate.dense" => "ffn_up",
                "output.dense" => "ffn_down",
                "output.LayerNorm" => "layer_output_norm",
                _ => return None,
            };
            format!("blk.{}.{part}", layer.parse::<usize>().ok()?)
        }
    };
    Some(format!("{stem}.{suffix}"))
}

#[cfg(test)]
mod tests {
    use super::gguf_name;

    #[test]
    fn hugging_face_names_become_llama_cpp_names() {
        let name = |n| gguf_name(n);
        assert_eq!(
            name("embeddings.word_embeddings.weight").unwrap(),
            "token_embd.weight"
        );
        assert_eq!(
            name("bert.encoder.layer.5.attention.output.LayerNorm.gamma").unwrap(),
            "blk.5.attn_output_norm.weight"
        );
        assert_eq!(
            name("encoder.layer.0.output.dense.bias").unwrap(),
            "blk.0.ffn_down.bias"
        );
        assert_eq!(name("embeddings.position_ids"), None);
        assert_eq!(name("pooler.dense.weight"), None);
    }
}
