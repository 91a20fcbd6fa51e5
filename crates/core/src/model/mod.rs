//! The transformer: a GGUF llama model on candle tensors. Weights stay in the file's
//! quantisation and activations are quantised to 8 bits per block as in llama.cpp:
//! Q4_1 and Q8_0 matrices run on tandem's own kernels, others on candle's.

mod block;
mod hparams;
mod linear;
mod load;

use std::borrow::Cow;
use std::io::Cursor;
use std::sync::Arc;

use candle_core::quantized::{QMatMul, QStorage, QTensor};
use candle_core::{Device, Tensor};

pub use hparams::HyperParams;

use crate::activations::silu_mul;
use crate::error::{Error, Result};
use crate::gguf::Gguf;
use crate::kernels::on_pool;
use crate::kv_cache::KvCache;
use block::Block;
use linear::{values, Linear};
use load::{has_own_kernels, Loader};

/// Token embeddings, kept quantised; rows are dequantised when looked up.
enum Embedding {
    /// Tied to the output matrix, which is on tandem's kernels: its rows.
    Output,
    /// A table of its own, as candle keeps it.
    Table(Arc<QTensor>),
}

/// A loaded model with its key/value cache. The model remembers which tokens the
/// cache holds, so a new sequence that starts like the last one can skip them.
pub struct Model {
    embedding: Embedding,
    /// Rows of the embedding table.
    vocab: usize,
    blocks: Vec<Block>,
    norm: Tensor,
    output: Linear,
    /// Rotary tables, `(context, head_dim / 2)`.
    cos: Tensor,
    sin: Tensor,
    hparams: HyperParams,
    device: Device,
    /// The tokens whose keys and values the cache holds, at positions `0..`.
    cached: Vec<u32>,
    /// Tokens run through the model since it was loaded.
    forwarded: usize,
}

impl Model {
    /// Build the model from a parsed GGUF (its tensors are read from `gguf.bytes`).
    pub fn from_gguf(gguf: &Gguf) -> Result<Self> {
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
                    cache: KvCache::new(hp.kv_heads, hp.head_dim()),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let (cos, sin) = rotary_tables(&hp, &device)?;
        Ok(Model {
            embedding,
            vocab,
            blocks,
            norm,
            output,
            cos,
            sin,
            hparams: hp,
            device,
            cached: Vec::new(),
            forwarded: 0,
        })
    }

    /// The model's hyper-parameters.
    pub fn hparams(&self) -> &HyperParams {
        &self.hparams
    }

    /// Most tokens (prompt and reply) one sequence can hold.
    pub fn context_window(&self) -> usize {
        self.hparams.context
    }

    /// How many leading `tokens` the cache already holds, leaving at least the last
    /// one to run (its logits are not kept): run `tokens[n..]` at position `n`.
    pub fn reusable_prefix(&self, tokens: &[u32]) -> usize {
        let common = self
            .cached
            .iter()
            .zip(tokens)
            .take_while(|(a, b)| a == b)
            .count();
        common.min(tokens.len().saturating_sub(1))
    }

    /// Tokens run through the model since it was loaded (cached ones are not run).
    pub fn tokens_forwarded(&self) -> usize {
        self.forwarded
    }

    /// Run `tokens`, placed at positions `pos..`, through the model after the first
    /// `pos` cached ones (whatever the cache held after them is dropped), and return
    /// the logits of the last token. `pos == 0` starts a new sequence; `pos` may not
    /// exceed the number of cached tokens.
    pub fn forward(&mut self, tokens: &[u32], pos: usize) -> Result<Vec<f32>> {
        let seq = tokens.len();
        if seq == 0 || pos + seq > self.context_window() {
            return Err(Error::Inference(format!(
                "{seq} tokens at position {pos} do not fit the context window"
            )));
        }
        if pos > self.cached.len() {
            return Err(Error::Inference(format!(
                "position {pos} is past the {} cached tokens",
                self.cached.len()
            )));
        }
        self.cached.truncate(pos);
        let logits = on_pool(|| self.run(tokens, pos));
        match logits {
            Ok(_) => {
                self.cached.extend_from_slice(tokens);
                self.forwarded += seq;
            }
            // A block may have lost its cache: nothing cached can be trusted.
            Err(_) => self.cached.clear(),
        }
        logits
    }

    /// The forward pass of [`Model::forward`], writing the cache at `pos..`.
    fn run(&mut self, tokens: &[u32], pos: usize) -> Result<Vec<f32>> {
        let seq = tokens.len();
        let mut x = self.embed(tokens)?;
        let hp = &self.hparams;
        let cos = self.cos.narrow(0, pos, seq)?;
        let sin = self.sin.narrow(0, pos, seq)?;
        for block in &mut self.blocks {
            let h = rms_norm(&x, &block.attn_norm, hp.rms_eps)?;
            let attn = block.attention(&h, &cos, &sin, pos, hp)?;
            x = (x + attn)?;
            let h = rms_norm(&x, &block.ffn_norm, hp.rms_eps)?;
            let [gate, up] = Linear::forward_each([&block.gate, &block.up], &h)?;
            let gated = silu_mul(&values(&gate)?, &values(&up)?);
            let gated = Tensor::from_vec(gated, gate.shape(), &self.device)?;
            x = (x + block.down.forward(&gated)?)?;
        }
        let last = x.narrow(0, seq - 1, 1)?;
        let last = rms_norm(&last, &self.norm, hp.rms_eps)?;
        Ok(self
            .output
            .forward(&last)?
            .flatten_all()?
            .to_vec1::<f32>()?)
    }

    /// Embedding rows of `tokens`, `(tokens, embedding)`, dequantised one row at a time
    /// so the table stays quantised in memory.
    fn embed(&self, tokens: &[u32]) -> Result<Tensor> {
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

/// RMS norm of each row of `x`, times `weight`.
fn rms_norm(x: &Tensor, weight: &Tensor, eps: f32) -> Result<Tensor> {
    Ok(candle_nn::ops::rms_norm(x, weight, eps)?)
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
