//! Reading a model's tensors from the GGUF file: weight matrices straight from the
//! file's bytes where tandem has kernels for them, others and vectors through candle.

use std::io::Cursor;

use candle_core::quantized::{gguf_file::Content, QMatMul, QTensor};
use candle_core::{Device, Tensor};

use super::linear::Linear;
use super::norm::RmsNorm;
use crate::error::{Error, Result};

/// Reads a model's tensors from the GGUF file's bytes.
pub(super) struct Loader<'a> {
    pub(super) content: &'a Content,
    pub(super) reader: Cursor<&'a [u8]>,
    pub(super) device: &'a Device,
}

impl Loader<'_> {
    /// A tensor as candle reads it.
    pub(super) fn qtensor(&mut self, name: &str) -> Result<QTensor> {
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

    /// A weight matrix of `shape` (rows, columns; 0 takes any) straight from the
    /// file's bytes when tandem has kernels for it.
    pub(super) fn linear(&mut self, name: &str, shape: [usize; 2]) -> Result<Linear> {
        let Some(info) = self.content.tensor_infos.get(name) else {
            return Err(Error::ModelInvalid(format!("tensor {name} is missing")));
        };
        let dims = info.shape.dims();
        let fits = dims.len() == 2
            && shape
                .iter()
                .zip(dims)
                .all(|(&want, &d)| want == 0 || want == d);
        if !fits {
            return Err(Error::ModelInvalid(format!(
                "tensor {name} has shape {dims:?}, expected {shape:?} (0: any)"
            )));
        }
        let start = self.content.tensor_data_offset as usize + info.offset as usize;
        let bytes = self.reader.get_ref().get(start..).unwrap_or_default();
        match Linear::own(info.ggml_dtype, bytes, dims[0], dims[1]) {
            Some(own) => own.map_err(|e| Error::ModelInvalid(format!("tensor {name}: {e}"))),
            None => Ok(Linear::Candle(self.matmul(name)?)),
        }
    }

    /// A vector of `len` values (norm weights, biases, rope factors).
    pub(super) fn vector(&mut self, name: &str, len: usize) -> Result<Vec<f32>> {
        let t = self.qtensor(name)?.dequantize(self.device)?;
        if t.dims() != [len] {
            return Err(Error::ModelInvalid(format!(
                "tensor {name} has shape {:?}, expected [{len}]",
                t.dims()
            )));
        }
        Ok(t.to_vec1()?)
    }

    /// An RMS norm of `len` weights.
    pub(super) fn norm(&mut self, name: &str, len: usize) -> Result<RmsNorm> {
        Ok(RmsNorm::new(self.vector(name, len)?))
    }

    /// A bias of `len` values, as a tensor to add to every row of a product.
    pub(super) fn bias(&mut self, name: &str, len: usize) -> Result<Tensor> {
        Ok(Tensor::from_vec(self.vector(name, len)?, len, self.device)?)
    }
}
