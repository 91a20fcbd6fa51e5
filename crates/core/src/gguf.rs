//! Reading a GGUF file's header (metadata and tensor directory) through candle,
//! checked so that a truncated, corrupt or unsupported file is a clear [`Error`],
//! never a panic.

use std::io::Cursor;
use std::ops::Range;

use candle_core::quantized::gguf_file::{Content, TensorInfo, Value};

use crate::error::{Error, Result};

/// A parsed GGUF header.
pub struct Gguf {
    /// Metadata and tensor directory, as candle reads them.
    pub content: Content,
}

/// Where one tensor's data lies in the file.
pub struct TensorSpan<'a> {
    /// The tensor's name.
    pub name: &'a str,
    /// Its directory entry.
    pub info: &'a TensorInfo,
    /// Its bytes' offsets in the file.
    pub bytes: Range<u64>,
}

impl Gguf {
    /// Parse and validate the header at the start of `bytes` (the whole file, or as
    /// much of it as has arrived: a header cut short is an error). Tensor data is
    /// not read.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        Self::check_magic(bytes)?;
        let content = Content::read(&mut Cursor::new(bytes))
            .map_err(|e| Error::ModelInvalid(format!("corrupt GGUF header: {e}")))?;
        let gguf = Gguf { content };
        gguf.spans()?;
        Ok(gguf)
    }

    /// An error unless `bytes` may start a GGUF file (its magic, as far as it has
    /// come).
    pub fn check_magic(bytes: &[u8]) -> Result<()> {
        match bytes.iter().zip(b"GGUF").all(|(a, b)| a == b) {
            true => Ok(()),
            false => Err(Error::ModelInvalid(
                "not a GGUF file (the first bytes are not \"GGUF\")".into(),
            )),
        }
    }

    /// Every tensor's bytes in the file, in file order; an error for a shape that
    /// overflows or is not whole blocks, or for tensors that overlap.
    pub fn spans(&self) -> Result<Vec<TensorSpan<'_>>> {
        let mut spans = Vec::with_capacity(self.content.tensor_infos.len());
        for (name, info) in &self.content.tensor_infos {
            let dtype = info.ggml_dtype;
            let elems = info
                .shape
                .dims()
                .iter()
                .try_fold(1usize, |acc, &d| acc.checked_mul(d))
                .ok_or_else(|| Error::ModelInvalid(format!("tensor {name}: shape overflows")))?;
            if !elems.is_multiple_of(dtype.block_size()) {
                return Err(Error::ModelInvalid(format!(
                    "tensor {name}: {elems} elements is not a multiple of the {dtype:?} block size"
                )));
            }
            let size = (elems / dtype.block_size()) as u64 * dtype.type_size() as u64;
            let start = self.content.tensor_data_offset.checked_add(info.offset);
            let Some((start, end)) = start.and_then(|s| Some((s, s.checked_add(size)?))) else {
                return Err(Error::ModelInvalid(format!(
                    "tensor {name}: its offset overflows"
                )));
            };
            spans.push(TensorSpan {
                name,
                info,
                bytes: start..end,
            });
        }
        spans.sort_by_key(|s| s.bytes.start);
        if let Some(pair) = spans
            .windows(2)
            .find(|pair| pair[1].bytes.start < pair[0].bytes.end)
        {
            return Err(Error::ModelInvalid(format!(
                "tensors {} and {} overlap: the file is corrupt",
                pair[0].name, pair[1].name
            )));
        }
        Ok(spans)
    }

    fn value(&self, key: &str) -> Result<&Value> {
        self.content
            .metadata
            .get(key)
            .ok_or_else(|| Error::UnsupportedModel(format!("metadata key {key} is missing")))
    }

    fn wrong_type(key: &str, want: &str) -> Error {
        Error::ModelInvalid(format!("metadata key {key} is not {want}"))
    }

    /// Whether the metadata has `key`.
    pub fn has(&self, key: &str) -> bool {
        self.content.metadata.contains_key(key)
    }

    /// An unsigned integer metadata value of any width.
    pub fn u64(&self, key: &str) -> Result<u64> {
        match self.value(key)? {
            Value::U8(v) => Ok(*v as u64),
            Value::U16(v) => Ok(*v as u64),
            Value::U32(v) => Ok(*v as u64),
            Value::U64(v) => Ok(*v),
            Value::I8(v) if *v >= 0 => Ok(*v as u64),
            Value::I16(v) if *v >= 0 => Ok(*v as u64),
            Value::I32(v) if *v >= 0 => Ok(*v as u64),
            Value::I64(v) if *v >= 0 => Ok(*v as u64),
            _ => Err(Self::wrong_type(key, "an unsigned integer")),
        }
    }

    /// An unsigned integer metadata value that must fit a `usize`.
    pub fn usize(&self, key: &str) -> Result<usize> {
        usize::try_from(self.u64(key)?).map_err(|_| Self::wrong_type(key, "a small integer"))
    }

    /// A floating-point metadata value.
    pub fn f32(&self, key: &str) -> Result<f32> {
        match self.value(key)? {
            Value::F32(v) => Ok(*v),
            Value::F64(v) => Ok(*v as f32),
            _ => Err(Self::wrong_type(key, "a number")),
        }
    }

    /// A boolean metadata value.
    pub fn bool(&self, key: &str) -> Result<bool> {
        match self.value(key)? {
            Value::Bool(v) => Ok(*v),
            _ => Err(Self::wrong_type(key, "a boolean")),
        }
    }

    /// A string metadata value.
    pub fn str(&self, key: &str) -> Result<&str> {
        match self.value(key)? {
            Value::String(v) => Ok(v),
            _ => Err(Self::wrong_type(key, "a string")),
        }
    }

    /// An array-of-strings metadata value.
    pub fn strings(&self, key: &str) -> Result<Vec<&str>> {
        match self.value(key)? {
            Value::Array(vs) => vs
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.as_str()),
                    _ => Err(Self::wrong_type(key, "an array of strings")),
                })
                .collect(),
            _ => Err(Self::wrong_type(key, "an array")),
        }
    }

    /// An array-of-numbers metadata value as `f32` (floats of either width, or 32-bit
    /// integers, as llama.cpp takes token scores).
    pub fn floats(&self, key: &str) -> Result<Vec<f32>> {
        match self.value(key)? {
            Value::Array(vs) => vs
                .iter()
                .map(|v| match v {
                    Value::F32(x) => Ok(*x),
                    Value::F64(x) => Ok(*x as f32),
                    Value::I32(x) => Ok(*x as f32),
                    _ => Err(Self::wrong_type(key, "an array of numbers")),
                })
                .collect(),
            _ => Err(Self::wrong_type(key, "an array")),
        }
    }

    /// An array-of-integers metadata value (any integer width).
    pub fn ints(&self, key: &str) -> Result<Vec<i64>> {
        match self.value(key)? {
            Value::Array(vs) => vs
                .iter()
                .map(|v| match v {
                    Value::I32(x) => Ok(*x as i64),
                    Value::U32(x) => Ok(*x as i64),
                    Value::I8(x) => Ok(*x as i64),
                    Value::U8(x) => Ok(*x as i64),
                    Value::I16(x) => Ok(*x as i64),
                    Value::U16(x) => Ok(*x as i64),
                    Value::I64(x) => Ok(*x),
                    _ => Err(Self::wrong_type(key, "an array of integers")),
                })
                .collect(),
            _ => Err(Self::wrong_type(key, "an array")),
        }
    }
}
