//! The model's weights as read from the GGUF file, with the tables derived from them:
//! everything a forward pass reads and nothing it writes.

use std::borrow::Cow;
use std::sync::Arc;

use candle_core::quantized::{QMatMul, QStorage, QTensor};
use candle_core::{Device, Tensor};

use super::block::Block;
use super::hparams::HyperParams;
use super::linear::Linear;
use super::load::{Data, Loader};
use super::norm::RmsNorm;
use super::rotary::Rotary;
use crate::error::{Error, Result};

/// Token embeddings, kept quantised; rows are dequantised when looked up.
enum Embedding {
    /// Tied to the output matrix, which is on tandem's kernels: its rows.
    Output,
    /// A matrix of its own on tandem's kernels: its rows.
    Matrix(Linear),
    /// A table of its own, as candle keeps it.
    Table(Arc<QTensor>),
}

/// A model's weights.
pub(super) struct Weights {
    embedding: Embedding,
    /// Rows of the embedding table.
    vocab: usize,
    pub(super) blocks: Vec<Block>,
    pub(super) norm: RmsNorm,
    pub(super) output: Linear,
    /// The rotations of the blocks: the global one first, then the sliding-window
    /// blocks' where the family has them.
    pub(super) rotaries: Vec<Rotary>,
    pub(super) hparams: HyperParams,
    pub(super) device: Device,
}

impl Weights {
    /// The weights of a model of `hp` from the file's tensors.
    pub(super) fn new(hp: HyperParams, mut load: Loader) -> Result<Self> {
        let device = Device::Cpu;
        const EMBEDDING: &str = "token_embd.weight";
        const OUTPUT: &str = "output.weight";
        let tied = !load.has(OUTPUT);
        let table = load.take(EMBEDDING, [0, hp.embedding])?;
        let vocab = table.dims[0];
        let (output, embedding) = match table.data {
            // Tied weights on tandem's kernels are kept once, as the output matrix.
            Data::Matrix(m) if tied => (m, Embedding::Output),
            Data::Matrix(m) => (
                load.linear(OUTPUT, [vocab, hp.embedding])?,
                Embedding::Matrix(m),
            ),
            Data::Candle(t) => {
                let table = Arc::new(t);
                let output = match tied {
                    true => Linear::Candle(QMatMul::from_arc(table.clone())?),
                    false => load.linear(OUTPUT, [vocab, hp.embedding])?,
                };
                (output, Embedding::Table(table))
            }
        };
        let norm = load.norm("output_norm.weight", hp.embedding)?;
        let style = &hp.style;
        let (q_width, kv_width) = (hp.heads * hp.head_dim, hp.kv_heads * hp.head_dim);
        let blocks = (0..hp.layers)
            .map(|i| {
                let name = |n: &str| format!("blk.{i}.{n}.weight");
                let mut norm = |n: &str, len| load.norm(&name(n), len);
                let qk_norms = match style.qk_norm {
                    true => Some([
                        norm("attn_q_norm", hp.head_dim)?,
                        norm("attn_k_norm", hp.head_dim)?,
                    ]),
                    false => None,
                };
                let post = |load: &mut Loader, n: &str| -> Result<Option<RmsNorm>> {
                    match style.post_norms {
                        true => Ok(Some(load.norm(&name(n), hp.embedding)?)),
                        false => Ok(None),
                    }
                };
                let qkv_bias = match style.qkv_bias {
                    true => Some([
                        load.bias(&format!("blk.{i}.attn_q.bias"), q_width)?,
                        load.bias(&format!("blk.{i}.attn_k.bias"), kv_width)?,
                        load.bias(&format!("blk.{i}.attn_v.bias"), kv_width)?,
                    ]),
                    false => None,
                };
                let window = hp.window(i);
                Ok(Block {
                    attn_norm: load.norm(&name("attn_norm"), hp.embedding)?,
                    q: load.linear(&name("attn_q"), [q_width, hp.embedding])?,
                    k: load.linear(&name("attn_k"), [kv_width, hp.embedding])?,
                    v: load.linear(&name("attn_v"), [kv_width, hp.embedding])?,
                    o: load.linear(&name("attn_output"), [hp.embedding, q_width])?,
                    qkv_bias,
                    qk_norms,
                    post_attention_norm: post(&mut load, "post_attention_norm")?,
                    ffn_norm: load.norm(&name("ffn_norm"), hp.embedding)?,
                    gate: load.linear(&name("ffn_gate"), [0, hp.embedding])?,
                    up: load.linear(&name("ffn_up"), [0, hp.embedding])?,
                    down: load.linear(&name("ffn_down"), [hp.embedding, 0])?,
                    post_ffn_norm: post(&mut load, "post_ffw_norm")?,
                    window,
                    rotary: usize::from(window.is_some()),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        const ROPE_FACTORS: &str = "rope_freqs.weight";
        let factors = match style.rope_factors && load.has(ROPE_FACTORS) {
            true => Some(load.vector(ROPE_FACTORS, hp.head_dim / 2)?),
            false => None,
        };
        let rotaries = std::iter::once(hp.rope_base)
            .chain(style.local.map(|l| l.rope_base))
            .map(|base| Rotary::new(base, hp.head_dim, style.rope, factors.clone()))
            .collect();
        Ok(Weights {
            embedding,
            vocab,
            blocks,
            norm,
            output,
            rotaries,
            hparams: hp,
            device,
        })
    }

    /// Embedding rows of `tokens`, `(tokens, embedding)`, dequantised one row at a time
    /// so the table stays quantised in memory, and scaled where the family does.
    pub(super) fn embed(&self, tokens: &[u32]) -> Result<Tensor> {
        let (vocab, width) = (self.vocab, self.hparams.embedding);
        let mut rows = Vec::with_capacity(tokens.len() * width);
        for &t in tokens {
            let t = t as usize;
            if t >= vocab {
                return Err(Error::InvalidRequest(format!(
                    "token {t} is outside the vocabulary of {vocab}"
                )));
            }
            match &self.embedding {
                Embedding::Output => rows.extend(self.output.row(t).unwrap_or_default()),
                Embedding::Matrix(m) => rows.extend(m.row(t).unwrap_or_default()),
                Embedding::Table(table) => {
                    let data = table.data()?;
                    let row_bytes = data.len() / vocab;
                    let bytes = Cow::Borrowed(&data[t * row_bytes..(t + 1) * row_bytes]);
                    let row = QStorage::from_data(bytes, &self.device, table.dtype())?;
                    let row = QTensor::new(row, (1, width))?.dequantize(&self.device)?;
                    rows.extend(row.flatten_all()?.to_vec1::<f32>()?);
                }
            }
        }
        if let Some(scale) = self.hparams.style.embedding_scale {
            rows.iter_mut().for_each(|x| *x *= scale);
        }
        Ok(Tensor::from_vec(rows, (tokens.len(), width), &self.device)?)
    }
}
