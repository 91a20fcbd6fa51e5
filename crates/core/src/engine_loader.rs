//! An [`Engine`] built from its GGUF file's bytes as they arrive (a download, a file
//! read in pieces): the header is read as soon as it is in, so a file tandem cannot
//! run fails before the rest comes, and the weights are laid out as their bytes come
//! ([`ModelStream`]), never holding a copy of the whole file.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::Path;

use crate::description::ModelDescription;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::gguf::Gguf;
use crate::model::ModelStream;
use crate::template::ChatTemplate;
use crate::tokenizer::Tokenizer;

/// Bytes after which a header that still does not parse is an error (real headers,
/// vocabularies of 262,144 tokens included, are a few megabytes).
const HEADER_LIMIT: usize = 64 << 20;

/// Bytes at which parsing the header is first tried; then at each doubling.
const FIRST_TRY: usize = 64 << 10;

/// An engine being built.
pub struct EngineLoader {
    state: State,
}

enum State {
    /// The file's first bytes, until its header parses.
    Header {
        head: Vec<u8>,
        /// How many bytes to have before trying to parse again.
        next_try: usize,
    },
    /// The header read: the weights are coming.
    Weights(Box<(Header, ModelStream)>),
}

/// What an engine takes from its file's header: all but the weights.
struct Header {
    tokenizer: Tokenizer,
    template: Option<ChatTemplate>,
    name: String,
    description: ModelDescription,
}

impl Default for EngineLoader {
    fn default() -> Self {
        Self::new()
    }
}

impl EngineLoader {
    /// A loader waiting for the file's first bytes.
    pub fn new() -> Self {
        EngineLoader {
            state: State::Header {
                head: Vec::new(),
                next_try: FIRST_TRY,
            },
        }
    }

    /// The file's next `bytes`. An error (a file that is not a GGUF, an unsupported
    /// model, a corrupt header or tensor) ends the load.
    pub fn push(&mut self, bytes: &[u8]) -> Result<()> {
        let (head, next_try) = match &mut self.state {
            State::Weights(weights) => return weights.1.push(bytes),
            State::Header { head, next_try } => (head, next_try),
        };
        // A first piece that holds the whole header (a whole file) is not copied.
        if head.is_empty() && bytes.len() >= *next_try {
            if let Ok(gguf) = Gguf::parse(bytes) {
                return self.start(&gguf, bytes);
            }
        }
        head.extend_from_slice(bytes);
        Gguf::check_magic(head)?;
        if head.len() < *next_try {
            return Ok(());
        }
        match Gguf::parse(head) {
            Ok(gguf) => {
                let head = std::mem::take(head);
                self.start(&gguf, &head)
            }
            Err(e) if head.len() >= HEADER_LIMIT => Err(e),
            Err(_) => {
                *next_try = head.len() * 2;
                Ok(())
            }
        }
    }

    /// The engine, once the whole file has come; `model_invalid` for a file cut
    /// short.
    pub fn finish(mut self) -> Result<Engine> {
        if let State::Header { head, .. } = &mut self.state {
            let head = std::mem::take(head);
            let gguf = Gguf::parse(&head)?;
            self.start(&gguf, &head)?;
        }
        let State::Weights(weights) = self.state else {
            unreachable!("the header was read above")
        };
        let (header, model) = *weights;
        let Header {
            tokenizer,
            template,
            name,
            description,
        } = header;
        Ok(Engine::new(
            model.finish()?,
            tokenizer,
            template,
            name,
            description,
        ))
    }

    /// Read the header `gguf` and start on the weights with `bytes`, the file's
    /// bytes so far.
    fn start(&mut self, gguf: &Gguf, bytes: &[u8]) -> Result<()> {
        let mut model = ModelStream::new(gguf)?;
        let header = Header::read(gguf, &model)?;
        model.push(bytes)?;
        self.state = State::Weights(Box::new((header, model)));
        Ok(())
    }
}

impl Engine {
    /// Load a model from the bytes of a GGUF file.
    pub fn load(bytes: &[u8]) -> Result<Self> {
        let mut loader = EngineLoader::new();
        loader.push(bytes)?;
        loader.finish()
    }

    /// Load a model from a GGUF file, read a piece at a time: the file is never held
    /// in memory beside the model.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let cannot =
            |e: std::io::Error| Error::ModelInvalid(format!("cannot read {}: {e}", path.display()));
        let mut file = File::open(path).map_err(cannot)?;
        let mut loader = EngineLoader::new();
        let mut piece = vec![0; 1 << 20];
        loop {
            match file.read(&mut piece) {
                Ok(0) => return loader.finish(),
                Ok(n) => loader.push(&piece[..n])?,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(cannot(e)),
            }
        }
    }
}

impl Header {
    /// Read from `gguf`, whose weights `model` will build.
    pub(crate) fn read(gguf: &Gguf, model: &ModelStream) -> Result<Self> {
        let tokenizer = Tokenizer::from_gguf(gguf)?;
        let template = match gguf.has("tokenizer.chat_template") {
            true => Some(ChatTemplate::from_gguf(gguf)?),
            false => None,
        };
        let name = gguf.str("general.name").unwrap_or("unnamed").to_string();
        let rows = gguf
            .content
            .tensor_infos
            .get("token_embd.weight")
            .and_then(|t| t.shape.dims().first().copied())
            .ok_or_else(|| Error::ModelInvalid("the token embedding tensor is missing".into()))?;
        if rows != tokenizer.vocab_size() {
            return Err(Error::ModelInvalid(format!(
                "the embedding has {rows} rows but the vocabulary {} tokens",
                tokenizer.vocab_size()
            )));
        }
        let description =
            ModelDescription::of(gguf, &model.hparams().architecture, template.as_ref());
        Ok(Header {
            tokenizer,
            template,
            name,
            description,
        })
    }
}
