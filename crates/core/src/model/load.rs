//! Reading a model's tensors from the GGUF file: weight matrices straight from the
//! file's bytes where tandem has kernels for them, others and vectors through candle.

use std::io::Cursor;

use candle_core::quantized::{gguf_file::Content, GgmlDType, QMatMul, QTensor};
use candle_core::{Device, Tensor};

use super::linear::Linear;
use crate::error::{Error, Result};
use crate::kernels::{Matrix, Q4_1Matrix, Q8_0Matrix};

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

    /// A weight matrix straight from the file's bytes when tandem has kernels for it.
    pub(super) fn linear(&mut self, name: &str) -> Result<Linear> {
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

    /// A vector of `len` f32 values (a norm's weights).
    pub(super) fn vector(&mut self, name: &str, len: usize) -> Result<Tensor> {
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

/// Whether tandem has its own kernels for weights of type `dtype`.
pub(super) fn has_own_kernels(dtype: GgmlDType) -> bool {
    matches!(dtype, GgmlDType::Q4_1 | GgmlDType::Q8_0)
}
