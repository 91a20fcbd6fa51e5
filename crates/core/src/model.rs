//! The transformer: a GGUF llama model on candle tensors. Weights stay in the file's
//! quantisation and activations are quantised to 8 bits per block as in llama.cpp:
//! Q4_1 and Q8_0 matrices run on tandem's own kernels, others on candle's.

use std::borrow::Cow;
use std::io::Cursor;
use std::sync::Arc;

use candle_core::quantized::{gguf_file::Content, GgmlDType, QMatMul, QStorage, QTensor};
use candle_core::{Device, Module, Tensor};

use crate::activations::silu_mul;
use crate::attention::attend;
use crate::error::{Error, Result};
use crate::gguf::Gguf;
use crate::kernels::{on_pool, Matrix, Q4_1Matrix, Q8_0Matrix, WeightBlock};
use crate::kv_cache::KvCache;

/// Hyper-parameters read from the GGUF metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct HyperParams {
    /// `general.architecture`.
    pub architecture: String,
    /// Transformer blocks.
    pub layers: usize,
    /// Width of the residual stream.
    pub embedding: usize,
    /// Query heads.
    pub heads: usize,
    /// Key/value heads (grouped-query attention).
    pub kv_heads: usize,
    /// Context length the model was trained for.
    pub context: usize,
    /// Base of the rotary position frequencies.
    pub rope_base: f32,
    /// Epsilon of the RMS norms.
    pub rms_eps: f32,
}

impl HyperParams {
    fn from_gguf(gguf: &Gguf) -> Result<Self> {
        let architecture = gguf.str("general.architecture")?.to_string();
        if architecture != "llama" {
            return Err(Error::UnsupportedModel(format!(
                "architecture {architecture:?} (supported: llama)"
            )));
        }
        let key = |k: &str| gguf.usize(&format!("llama.{k}"));
        let float = |k: &str, default: f32| -> Result<f32> {
            let k = format!("llama.{k}");
            if !gguf.has(&k) {
                return Ok(default);
            }
            gguf.f32(&k)
        };
        let hp = HyperParams {
            layers: key("block_count")?,
            embedding: key("embedding_length")?,
            heads: key("attention.head_count")?,
            kv_heads: key("attention.head_count_kv")?,
            context: key("context_length")?,
            rope_base: float("rope.freq_base", 10_000.0)?,
            rms_eps: float("attention.layer_norm_rms_epsilon", 1e-5)?,
            architecture,
        };
        let consistent = hp.layers > 0
            && hp.heads > 0
            && hp.kv_heads > 0
            && hp.context > 0
            && hp.heads.is_multiple_of(hp.kv_heads)
            && hp.embedding.is_multiple_of(hp.heads)
            && (hp.embedding / hp.heads).is_multiple_of(2)
            && hp.rope_base > 0.0
            && hp.rms_eps > 0.0
            && key("rope.dimension_count").unwrap_or(hp.head_dim()) == hp.head_dim();
        if !consistent {
            return Err(Error::ModelInvalid(format!(
                "inconsistent hyper-parameters in the metadata: {hp:?}"
            )));
        }
        Ok(hp)
    }

    /// Width of one attention head.
    pub fn head_dim(&self) -> usize {
        self.embedding / self.heads
    }
}

/// A quantised weight matrix: `y = x · Wᵀ`.
enum Linear {
    /// On tandem's kernels.
    Q4_1(Q4_1Matrix),
    /// On tandem's kernels.
    Q8_0(Q8_0Matrix),
    /// Any other quantisation, on candle's.
    Candle(QMatMul),
}

impl Linear {
    /// `x` is `(seq, cols)`; returns `(seq, rows)`.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let [y] = Linear::forward_each([self], x)?;
        Ok(y)
    }

    /// [`Linear::forward`] of each of `ls` on the same `x`. When all are on tandem's
    /// kernels in one format, they run as one product ([`Matrix::matmul_each`]).
    fn forward_each<const N: usize>(ls: [&Linear; N], x: &Tensor) -> Result<[Tensor; N]> {
        fn own<B: WeightBlock>(ms: &[&Matrix<B>], x: &Tensor) -> Result<Vec<Tensor>> {
            let seq = x.dim(0)?;
            let ys = Matrix::matmul_each(ms, &values(x)?);
            ms.iter()
                .zip(ys)
                .map(|(m, y)| Ok(Tensor::from_vec(y, (seq, m.rows()), x.device())?))
                .collect()
        }
        let ys = if let Some(ms) = ls.iter().map(|l| l.q4_1()).collect::<Option<Vec<_>>>() {
            own(&ms, x)?
        } else if let Some(ms) = ls.iter().map(|l| l.q8_0()).collect::<Option<Vec<_>>>() {
            own(&ms, x)?
        } else {
            // Mixed formats: one product each.
            ls.iter()
                .map(|l| match l {
                    Linear::Candle(m) => Ok(m.forward(x)?),
                    alone => alone.forward(x),
                })
                .collect::<Result<_>>()?
        };
        ys.try_into().map_err(|ys: Vec<Tensor>| {
            Error::Inference(format!("{} products where {N} were asked for", ys.len()))
        })
    }

    /// The matrix, when it is Q4_1 on tandem's kernels.
    fn q4_1(&self) -> Option<&Q4_1Matrix> {
        match self {
            Linear::Q4_1(m) => Some(m),
            _ => None,
        }
    }

    /// The matrix, when it is Q8_0 on tandem's kernels.
    fn q8_0(&self) -> Option<&Q8_0Matrix> {
        match self {
            Linear::Q8_0(m) => Some(m),
            _ => None,
        }
    }

    /// Row `r` of the weights, when they are on tandem's kernels (tied embeddings).
    fn row(&self, r: usize) -> Option<Vec<f32>> {
        match self {
            Linear::Q4_1(m) => Some(m.row(r)),
            Linear::Q8_0(m) => Some(m.row(r)),
            Linear::Candle(_) => None,
        }
    }
}

/// Token embeddings, kept quantised; rows are dequantised when looked up.
enum Embedding {
    /// Tied to the output matrix, which is on tandem's kernels: its rows.
    Output,
    /// A table of its own, as candle keeps it.
    Table(Arc<QTensor>),
}

/// One transformer block with its key/value cache.
struct Block {
    attn_norm: Tensor,
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    ffn_norm: Tensor,
    gate: Linear,
    up: Linear,
    down: Linear,
    cache: KvCache,
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

struct Loader<'a> {
    content: &'a Content,
    reader: Cursor<&'a [u8]>,
    device: &'a Device,
}

impl Loader<'_> {
    fn qtensor(&mut self, name: &str) -> Result<QTensor> {
        if !self.content.tensor_infos.contains_key(name) {
            return Err(Error::ModelInvalid(format!("tensor {name} is missing")));
        }
        self.content
            .tensor(&mut self.reader, name, self.device)
            .map_err(|e| Error::ModelInvalid(format!("tensor {name}: {e}")))
    }

    fn matmul(&mut self, name: &str) -> Result<QMatMul> {
        let t = self.qtensor(name)?;
        QMatMul::from_qtensor(t).map_err(|e| Error::ModelInvalid(format!("tensor {name}: {e}")))
    }

    /// A weight matrix straight from the file's bytes when tandem has kernels for it.
    fn linear(&mut self, name: &str) -> Result<Linear> {
        let Some(info) = self.content.tensor_infos.get(name) else {
            return Err(Error::ModelInvalid(format!("tensor {name} is missing")));
        };
        let start = self.content.tensor_data_offset as usize + info.offset as usize;
        let bytes = self.reader.get_ref();
        let data = |len| {
            bytes
                .get(start..start + len)
                .ok_or_else(|| Error::ModelInvalid(format!("tensor {name} lies outside the file")))
        };
        match (info.ggml_dtype, info.shape.dims()) {
            (GgmlDType::Q4_1, &[rows, cols]) => {
                let data = data(Q4_1Matrix::byte_len(rows, cols))?;
                Ok(Linear::Q4_1(Matrix::from_bytes(data, rows, cols)?))
            }
            (GgmlDType::Q8_0, &[rows, cols]) => {
                let data = data(Q8_0Matrix::byte_len(rows, cols))?;
                Ok(Linear::Q8_0(Matrix::from_bytes(data, rows, cols)?))
            }
            _ => Ok(Linear::Candle(self.matmul(name)?)),
        }
    }

    fn vector(&mut self, name: &str, len: usize) -> Result<Tensor> {
        let t = self.qtensor(name)?.dequantize(self.device)?;
        if t.dims() != [len] {
            return Err(Error::ModelInvalid(format!(
                "tensor {name} has shape {:?}, expected [{len}]",
                t.dims()
            )));
        }
        Ok(t)
    }
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

impl Block {
    /// Grouped-query self-attention of `h` (`(seq, embedding)`, at positions `pos..`)
    /// over the cache, which takes the new keys and values.
    fn attention(
        &mut self,
        h: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        pos: usize,
        hp: &HyperParams,
    ) -> Result<Tensor> {
        let seq = h.dim(0)?;
        let hd = hp.head_dim();
        // (seq, heads * hd) -> (1, heads, seq, hd), then rotated.
        let heads = |t: Tensor, n: usize| -> Result<Tensor> {
            Ok(t.reshape((1, seq, n, hd))?.transpose(1, 2)?.contiguous()?)
        };
        let [q, k, v] = Linear::forward_each([&self.q, &self.k, &self.v], h)?;
        let q = heads(q, hp.heads)?;
        let k = heads(k, hp.kv_heads)?;
        let v = heads(v, hp.kv_heads)?;
        let q = candle_nn::rotary_emb::rope_i(&q, cos, sin)?;
        let k = candle_nn::rotary_emb::rope_i(&k, cos, sin)?;
        self.cache
            .write(&values(&k)?, &values(&v)?, pos, hp.context);
        let y = attend(&values(&q)?, hp.heads, pos, &self.cache);
        let y = Tensor::from_vec(y, (seq, hp.embedding), h.device())?;
        self.o.forward(&y)
    }
}

/// Whether tandem has its own kernels for weights of type `dtype`.
fn has_own_kernels(dtype: GgmlDType) -> bool {
    matches!(dtype, GgmlDType::Q4_1 | GgmlDType::Q8_0)
}

/// The values of `t`, row-major.
fn values(t: &Tensor) -> Result<Vec<f32>> {
    Ok(t.flatten_all()?.to_vec1()?)
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
