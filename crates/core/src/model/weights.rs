//! The model's weights as read from the GGUF file, with the tables derived from them:
//! everything a forward pass reads and nothing it writes.

use std::borrow::Cow;
use std::io::Cursor;
use std::sync::Arc;

use candle_core::quantized::{QMatMul, QStorage, QTensor};
use candle_core::{Device, Tensor};

use super::block::Block;
use super::hparams::HyperParams;
use super::linear::Linear;
use super::load::{has_own_kernels, Loader};
use crate::error::{Error, Result};
use crate::gguf::Gguf;

/// Token embeddings, kept quantised; rows are dequantised when looked up.
enum Embedding {
    /// Tied to the output matrix, which is on tandem's kernels: its rows.
    Output,
    /// A table of its own, as candle keeps it.
    Table(Arc<QTensor>),
}

/// A llama model's weights.
pub(super) struct Weights {
    embedding: Embedding,
    /// Rows of the embedding table.
    vocab: usize,
    pub(super) blocks: Vec<Block>,
    pub(super) norm: Tensor,
    pub(super) output: Linear,
    /// Rotary tables, `(context, head_dim / 2)`.
    pub(super) cos: Tensor,
    pub(super) sin: Tensor,
    pub(super) hparams: HyperParams,
    pub(super) device: Device,
}

impl Weights {
    /// Read the weights from a parsed GGUF (its tensors are read from `gguf.bytes`).
    pub(super) fn from_gguf(gguf: &Gguf) -> Result<Self> {
        let hp = HyperParams::from_gguf(gguf)?;
        let device = Device::Cpu;
        let mut load = Loader {
            content: &gguf.content,
            reader: Cursor::new(gguf.bytes),
            device: &device,
        };
        const EMBEDDING: &str = "token_embd.weight";
        let Some(info) = gguf.content.tensor_infos.get(EMBEDDING) else {
            return Err(Error::ModelInvalid(format!(
                "tensor {EMBEDDING} is missing"
            )));
        };
        let dims = info.shape.dims();
        if dims.len() != 2 || dims[1] != hp.embedding {
            return Err(Error::ModelInvalid(format!(
                "{EMBEDDING} has shape {dims:?}, expected [vocab, {}]",
                hp.embedding
            )));
        }
        let vocab = dims[0];
        let tied = !gguf.content.tensor_infos.contains_key("output.weight");
        // Tied weights on tandem's kernels are kept once, as the output matrix.
        let (output, embedding) = if tied && has_own_kernels(info.ggml_dtype) {
            (load.linear(EMBEDDING)?, Embedding::Output)
        } else {
            let table = Arc::new(load.qtensor(EMBEDDING)?);
            let output = match tied {
                true => Linear::Candle(QMatMul::from_arc(table.clone())?),
                false => load.linear("output.weight")?,
            };
            (output, Embedding::Table(table))
        };
        let norm = load.vector("output_norm.weight", hp.embedding)?;
        let blocks = (0..hp.layers)
            .map(|i| {
                let name = |n: &str| format!("blk.{i}.{n}.weight");
                Ok(Block {
                    attn_norm: load.vector(&name("attn_norm"), hp.embedding)?,
                    q: load.linear(&name("attn_q"))?,
                    k: load.linear(&name("attn_k"))?,
                    v: load.linear(&name("attn_v"))?,
                    o: load.linear(&name("attn_output"))?,
                    ffn_norm: load.vector(&name("ffn_norm"), hp.embedding)?,
                    gate: load.linear(&name("ffn_gate"))?,
                    up: load.linear(&name("ffn_up"))?,
                    down: load.linear(&name("ffn_down"))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let (cos, sin) = rotary_tables(&hp, &device)?;
        Ok(Weights {
            embedding,
            vocab,
            blocks,
            norm,
            output,
            cos,
            sin,
            hparams: hp,
            device,
        })
    }

    /// Embedding rows of `tokens`, `(tokens, embedding)`, dequantised one row at a time
    /// so the table stays quantised in memory.
    pub(super) fn embed(&self, tokens: &[u32]) -> Result<Tensor> {
        let (vocab, width) = (self.vocab, self.hparams.embedding);
        let rows = tokens
            .iter()
            .map(|&t| {
                let t = t as usize;
                if t >= vocab {
                    return Err(Error::InvalidRequest(format!(
                        "token {t} is outside the vocabulary of {vocab}"
                    )));
                }
                match &self.embedding {
                    Embedding::Output => {
                        let row = self.output.row(t).expect("tied to tandem's kernels");
                        Ok(Tensor::from_vec(row, (1, width), &self.device)?)
                    }
                    Embedding::Table(table) => {
                        let data = table.data()?;
                        let row_bytes = data.len() / vocab;
                        let bytes = Cow::Borrowed(&data[t * row_bytes..(t + 1) * row_bytes]);
                        let row = QStorage::from_data(bytes, &self.device, table.dtype())?;
                        Ok(QTensor::new(row, (1, width))?.dequantize(&self.device)?)
                    }
                }
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Tensor::cat(&rows, 0)?)
    }
}

/// Rotary cos/sin for every position: the angle of pair `i` at `pos` is
/// `pos * base^(-2i/d)`.
fn rotary_tables(hp: &HyperParams, device: &Device) -> Result<(Tensor, Tensor)> {
    let half = hp.head_dim() / 2;
    let freqs: Vec<f32> = (0..half)
        .map(|i| 1.0 / hp.rope_base.powf((2 * i) as f32 / hp.head_dim() as f32))
        .collect();
    let angles: Vec<f32> = (0..hp.context)
        .flat_map(|pos| freqs.iter().map(move |f| pos as f32 * f))
        .collect();
    let angles = Tensor::from_vec(angles, (hp.context, half), device)?;
    Ok((angles.cos()?, angles.sin()?))
}
