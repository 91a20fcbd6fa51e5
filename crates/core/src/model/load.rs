//! The model's tensors once read from the file, taken one by one by the code that
//! builds the weights, their shapes checked on the way.

use std::collections::HashMap;

use candle_core::quantized::{QMatMul, QTensor};
use candle_core::{Device, Tensor as CandleTensor};

use super::linear::Linear;
use super::norm::RmsNorm;
use crate::error::{Error, Result};

/// A tensor read from the file.
pub(super) struct Tensor {
    /// Its shape, row-major (a matrix is `[rows, cols]`).
    pub(super) dims: Vec<usize>,
    pub(super) data: Data,
}

/// What a tensor was read into.
pub(super) enum Data {
    /// A matrix on tandem's kernels.
    Matrix(Linear),
    /// Anything else, as candle reads it.
    Candle(QTensor),
}

/// The file's tensors, by name.
pub(super) struct Loader {
    tensors: HashMap<String, Tensor>,
    device: Device,
}

impl Loader {
    pub(super) fn new(tensors: HashMap<String, Tensor>) -> Self {
        Loader {
            tensors,
            device: Device::Cpu,
        }
    }

    /// Whether the file has tensor `name`.
    pub(super) fn has(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    /// Tensor `name` of `shape` (0 takes any size), taken out of the loader.
    pub(super) fn take<const N: usize>(&mut self, name: &str, shape: [usize; N]) -> Result<Tensor> {
        let Some(tensor) = self.tensors.remove(name) else {
            return Err(Error::ModelInvalid(format!("tensor {name} is missing")));
        };
        let fits = tensor.dims.len() == N
            && shape
                .iter()
                .zip(&tensor.dims)
                .all(|(&want, &d)| want == 0 || want == d);
        if !fits {
            return Err(Error::ModelInvalid(format!(
                "tensor {name} has shape {:?}, expected {shape:?} (0: any)",
                tensor.dims
            )));
        }
        Ok(tensor)
    }

    /// A weight matrix of `shape` (rows, columns; 0 takes any).
    pub(super) fn linear(&mut self, name: &str, shape: [usize; 2]) -> Result<Linear> {
        match self.take(name, shape)?.data {
            Data::Matrix(linear) => Ok(linear),
            Data::Candle(t) => QMatMul::from_qtensor(t)
                .map(Linear::Candle)
                .map_err(|e| Error::ModelInvalid(format!("tensor {name}: {e}"))),
        }
    }

    /// A vector of `len` values (norm weights, biases, rope factors).
    pub(super) fn vector(&mut self, name: &str, len: usize) -> Result<Vec<f32>> {
        match self.take(name, [len])?.data {
            Data::Candle(t) => Ok(t.dequantize(&self.device)?.to_vec1()?),
            Data::Matrix(_) => Err(Error::ModelInvalid(format!(
                "tensor {name} is a matrix, not a vector"
            ))),
        }
    }

    /// An RMS norm of `len` weights.
    pub(super) fn norm(&mut self, name: &str, len: usize) -> Result<RmsNorm> {
        Ok(RmsNorm::new(self.vector(name, len)?))
    }

    /// A bias of `len` values, as a tensor to add to every row of a product.
    pub(super) fn bias(&mut self, name: &str, len: usize) -> Result<CandleTensor> {
        Ok(CandleTensor::from_vec(
            self.vector(name, len)?,
            len,
            &self.device,
        )?)
    }
}
