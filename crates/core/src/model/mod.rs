//! The transformer: a GGUF model of one of the [`SUPPORTED`] families on candle
//! tensors, built from its file's bytes as they arrive ([`ModelStream`]). Weights
//! stay in the file's format and activations are quantised to 8 bits per block as in
//! llama.cpp: matrices in the formats of `crate::kernels` (the 32-value quants, the
//! K-quants, F16, BF16, F32) run on tandem's own kernels, others on candle's.
//!
//! The weights are apart from the sequences that run on them: the model keeps one
//! sequence for [`Model::forward`], and any number of others can be made, run one
//! at a time ([`Model::forward_on`]) or one token each in a batch
//! ([`Model::forward_batch`]).

mod block;
mod family;
mod forward;
mod hparams;
mod linear;
mod load;
mod norm;
mod rotary;
mod sequence;
mod sincos;
mod stream;
mod weights;

pub use family::SUPPORTED;
pub use hparams::{Activation, HyperParams, LocalAttention, RopeLayout, Style};
pub use sequence::Sequence;
pub use stream::ModelStream;

use crate::error::{Error, Result};
use crate::gguf::Gguf;
use crate::kernels::on_pool;
use weights::Weights;

/// A loaded model with a key/value cache of its own. The model remembers which
/// tokens that cache holds, so a new sequence that starts like the last one can skip
/// them.
pub struct Model {
    weights: Weights,
    /// The sequence [`Model::forward`] runs on.
    sequence: Sequence,
    /// Tokens run through the model since it was loaded.
    forwarded: usize,
}

impl Model {
    /// The model in the GGUF file `bytes` (a [`ModelStream`] given all of them).
    pub fn load(bytes: &[u8]) -> Result<Self> {
        let mut stream = ModelStream::new(&Gguf::parse(bytes)?)?;
        stream.push(bytes)?;
        stream.finish()
    }

    fn from_weights(weights: Weights) -> Self {
        Model {
            sequence: Sequence::new(&weights.hparams),
            weights,
            forwarded: 0,
        }
    }

    /// The model's hyper-parameters.
    pub fn hparams(&self) -> &HyperParams {
        &self.weights.hparams
    }

    /// Most tokens (prompt and reply) one sequence can hold.
    pub fn context_window(&self) -> usize {
        self.hparams().context
    }

    /// A new, empty sequence for [`Model::forward_on`] and [`Model::forward_batch`].
    pub fn new_sequence(&self) -> Sequence {
        Sequence::new(self.hparams())
    }

    /// How many leading `tokens` the model's own cache already holds, leaving at
    /// least the last one to run (its logits are not kept): run `tokens[n..]` at
    /// position `n`.
    pub fn reusable_prefix(&self, tokens: &[u32]) -> usize {
        self.sequence.reusable_prefix(tokens)
    }

    /// Tokens run through the model since it was loaded (cached ones are not run).
    pub fn tokens_forwarded(&self) -> usize {
        self.forwarded
    }

    /// [`Model::forward_on`] the model's own sequence.
    pub fn forward(&mut self, tokens: &[u32], pos: usize) -> Result<Vec<f32>> {
        let Model {
            weights,
            sequence,
            forwarded,
        } = self;
        Self::run_on(weights, forwarded, sequence, tokens, pos)
    }

    /// Run `tokens`, placed at positions `pos..`, through the model after the first
    /// `pos` tokens `sequence` holds (whatever it held after them is dropped), and
    /// return the logits of the last token. `pos == 0` starts a new sequence; `pos`
    /// may not exceed the number of tokens held.
    pub fn forward_on(
        &mut self,
        sequence: &mut Sequence,
        tokens: &[u32],
        pos: usize,
    ) -> Result<Vec<f32>> {
        Self::run_on(&self.weights, &mut self.forwarded, sequence, tokens, pos)
    }

    /// [`Model::forward_on`] with the model's parts apart, so that its own sequence
    /// can be the one run.
    fn run_on(
        weights: &Weights,
        forwarded: &mut usize,
        sequence: &mut Sequence,
        tokens: &[u32],
        pos: usize,
    ) -> Result<Vec<f32>> {
        let seq = tokens.len();
        sequence.check(&weights.hparams)?;
        if seq == 0 || pos + seq > weights.hparams.context {
            return Err(Error::Inference(format!(
                "{seq} tokens at position {pos} do not fit the context window"
            )));
        }
        let held = sequence.tokens().len();
        if pos > held {
            return Err(Error::Inference(format!(
                "position {pos} is past the {held} cached tokens"
            )));
        }
        sequence.tokens_mut().truncate(pos);
        let logits = on_pool(|| weights.run(sequence, tokens, pos));
        match logits {
            Ok(_) => {
                sequence.tokens_mut().extend_from_slice(tokens);
                *forwarded += seq;
            }
            // A block may have lost its cache: nothing cached can be trusted.
            Err(_) => sequence.tokens_mut().clear(),
        }
        logits
    }

    /// Run `tokens[i]` after the tokens `sequences[i]` holds, for every `i`, as one
    /// batch (one product per weight matrix for all the rows), and return each one's
    /// logits, in order. Each row's logits are the bits [`Model::forward_on`] gives
    /// for that token alone.
    pub fn forward_batch(
        &mut self,
        sequences: &mut [&mut Sequence],
        tokens: &[u32],
    ) -> Result<Vec<Vec<f32>>> {
        let hp = &self.weights.hparams;
        if sequences.len() != tokens.len() {
            return Err(Error::Inference(format!(
                "{} tokens for {} sequences",
                tokens.len(),
                sequences.len()
            )));
        }
        for sequence in sequences.iter() {
            sequence.check(hp)?;
            if sequence.tokens().len() >= hp.context {
                return Err(Error::Inference(
                    "a sequence of the batch fills the context window".into(),
                ));
            }
        }
        if tokens.is_empty() {
            return Ok(Vec::new());
        }
        let weights = &self.weights;
        let logits = on_pool(|| weights.run_batch(sequences, tokens));
        for (sequence, &token) in sequences.iter_mut().zip(tokens) {
            match &logits {
                Ok(_) => sequence.tokens_mut().push(token),
                // Its blocks may have lost their caches.
                Err(_) => sequence.tokens_mut().clear(),
            }
        }
        if logits.is_ok() {
            self.forwarded += tokens.len();
        }
        logits
    }
}
