//! An encoder from a path: a sentence-transformers folder (model.safetensors,
//! tokenizer.json, config.json, and when present 1_Pooling/config.json and
//! sentence_bert_config.json) or a GGUF file. Used by the `embed` example and by
//! tandem-server's native encoder backends.

use std::path::Path;

use super::{Encoder, EncoderFiles};
use crate::error::{Error, Result};

impl Encoder {
    /// The encoder at `path`: a folder's files, or a GGUF file's bytes. A file that
    /// cannot be read is `model_invalid` naming it.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let cannot = |file: &Path, e: std::io::Error| {
            Error::ModelInvalid(format!("cannot read {}: {e}", file.display()))
        };
        if !path.is_dir() {
            return Encoder::from_gguf(&std::fs::read(path).map_err(|e| cannot(path, e))?);
        }
        let read = |name: &str| {
            let file = path.join(name);
            std::fs::read_to_string(&file).map_err(|e| cannot(&file, e))
        };
        let optional = |name: &str| std::fs::read_to_string(path.join(name)).ok();
        let weights = path.join("model.safetensors");
        let safetensors = std::fs::read(&weights).map_err(|e| cannot(&weights, e))?;
        let (tokenizer, config) = (read("tokenizer.json")?, read("config.json")?);
        let (pooling, sentence) = (
            optional("1_Pooling/config.json"),
            optional("sentence_bert_config.json"),
        );
        Encoder::from_files(EncoderFiles {
            safetensors: &safetensors,
            tokenizer_json: &tokenizer,
            config_json: &config,
            pooling_json: pooling.as_deref(),
            sentence_config_json: sentence.as_deref(),
        })
    }
}
