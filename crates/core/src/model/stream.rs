//! A model built from its GGUF file's bytes as they arrive, in file order: weight
//! matrices in tandem's formats go into their kernels' layout four rows at a time,
//! other tensors are read by candle once their bytes are in. No copy of the whole
//! file is ever held, so a model needs about its file's size in memory, once.

use std::collections::HashMap;
use std::ops::Range;

use candle_core::quantized::ggml_file::qtensor_from_ggml;
use candle_core::quantized::GgmlDType;
use candle_core::Device;

use super::family;
use super::hparams::HyperParams;
use super::linear::{Linear, LinearBuilder};
use super::load::{Data, Loader, Tensor};
use super::weights::Weights;
use super::Model;
use crate::error::{Error, Result};
use crate::gguf::Gguf;

/// One tensor of the file: its name, type, shape and bytes.
struct Span {
    name: String,
    dtype: GgmlDType,
    dims: Vec<usize>,
    bytes: Range<u64>,
}

/// Where the bytes of the tensor being received go.
enum Sink {
    /// A matrix on tandem's kernels, laid out as its rows come.
    Matrix(LinearBuilder),
    /// Any other tensor's bytes, for candle.
    Bytes(Vec<u8>),
}

/// A model being built from its file's bytes.
pub struct ModelStream {
    hparams: HyperParams,
    /// The tensors in file order.
    spans: Vec<Span>,
    /// The span being received (or next to come).
    next: usize,
    /// The file offset of the next byte.
    at: u64,
    sink: Option<Sink>,
    tensors: HashMap<String, Tensor>,
}

impl ModelStream {
    /// Start building the model whose header is `gguf`; `unsupported_model` at once
    /// for an architecture tandem does not run.
    pub fn new(gguf: &Gguf) -> Result<Self> {
        let hparams = family::hparams(gguf)?;
        let spans = gguf
            .spans()?
            .into_iter()
            .map(|s| Span {
                name: s.name.to_string(),
                dtype: s.info.ggml_dtype,
                dims: s.info.shape.dims().to_vec(),
                bytes: s.bytes,
            })
            .collect();
        Ok(ModelStream {
            hparams,
            spans,
            next: 0,
            at: 0,
            sink: None,
            tensors: HashMap::new(),
        })
    }

    /// The model's hyper-parameters.
    pub fn hparams(&self) -> &HyperParams {
        &self.hparams
    }

    /// The file's next `bytes` (from its very first byte on: the header is skipped).
    pub fn push(&mut self, mut bytes: &[u8]) -> Result<()> {
        while let Some(span) = self.spans.get(self.next) {
            let len = bytes.len() as u64;
            if self.at < span.bytes.start {
                if len == 0 {
                    break;
                }
                let skip = (span.bytes.start - self.at).min(len);
                bytes = &bytes[skip as usize..];
                self.at += skip;
                continue;
            }
            let sink = match &mut self.sink {
                Some(sink) => sink,
                None => self.sink.insert(Sink::for_span(span)?),
            };
            let take = (span.bytes.end - self.at).min(len);
            sink.push(&bytes[..take as usize]);
            bytes = &bytes[take as usize..];
            self.at += take;
            if self.at < span.bytes.end {
                break;
            }
            if let Some(sink) = self.sink.take() {
                let data = sink.finish(span)?;
                let dims = span.dims.clone();
                self.tensors
                    .insert(span.name.clone(), Tensor { dims, data });
            }
            self.next += 1;
        }
        self.at += bytes.len() as u64;
        Ok(())
    }

    /// The model, once every tensor has come; `model_invalid` for a file cut short.
    pub fn finish(mut self) -> Result<Model> {
        // Empty tensors where the file ends need no bytes.
        self.push(&[])?;
        if let Some(span) = self.spans.get(self.next) {
            return Err(Error::ModelInvalid(format!(
                "tensor {} lies beyond the end of the file ({} bytes): the file is \
                 truncated or corrupt",
                span.name, self.at
            )));
        }
        let weights = Weights::new(self.hparams, Loader::new(self.tensors))?;
        Ok(Model::from_weights(weights))
    }
}

impl Sink {
    /// A matrix builder for a 2-D tensor in a format on tandem's kernels, a buffer
    /// for anything else.
    fn for_span(span: &Span) -> Result<Sink> {
        let built = match span.dims[..] {
            [rows, cols] => Linear::builder(span.dtype, rows, cols),
            _ => None,
        };
        match built {
            Some(builder) => Ok(Sink::Matrix(builder.map_err(|e| span.error(e))?)),
            None => {
                let size = (span.bytes.end - span.bytes.start) as usize;
                let mut bytes = Vec::new();
                bytes.try_reserve_exact(size).map_err(|_| {
                    Error::OutOfMemory(format!("no memory for tensor {}", span.name))
                })?;
                Ok(Sink::Bytes(bytes))
            }
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        match self {
            Sink::Matrix(builder) => builder.push(bytes),
            Sink::Bytes(all) => all.extend_from_slice(bytes),
        }
    }

    fn finish(self, span: &Span) -> Result<Data> {
        match self {
            Sink::Matrix(builder) => builder.finish().map(Data::Matrix),
            Sink::Bytes(bytes) => {
                qtensor_from_ggml(span.dtype, &bytes, span.dims.clone(), &Device::Cpu)
                    .map(Data::Candle)
                    .map_err(Error::from)
            }
        }
        .map_err(|e| span.error(e))
    }
}

impl Span {
    /// `e` as an invalid model naming the tensor (running out of memory stays
    /// that).
    fn error(&self, e: Error) -> Error {
        match e {
            Error::ModelInvalid(m) | Error::Inference(m) => {
                Error::ModelInvalid(format!("tensor {}: {m}", self.name))
            }
            other => other,
        }
    }
}
