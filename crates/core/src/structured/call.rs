//! A tool call decoded under constraint: the call's fixed text (the template's
//! opening, `{"name": `, `, "arguments": `, `}`), one of the offered names, then
//! arguments matching that function's schema. Each stage allows only the tokens that
//! stay inside it, so a token never spans two stages and the call is always a valid
//! call of an offered function.

use std::sync::Arc;

use serde_json::json;

use super::{Constraint, Schema, TokenTrie, MAX_CHOICES};
use crate::error::{Error, Result};
use crate::protocol::Tool;
use crate::tokenizer::Tokenizer;

/// The offered functions: their names and their arguments' schemas.
#[derive(Debug)]
pub struct Functions {
    names: Vec<String>,
    arguments: Vec<Arc<Schema>>,
    /// One of the names as a JSON string.
    name: Arc<Schema>,
}

impl Functions {
    /// The functions of `tools` (only `only` when given); a schema tandem cannot
    /// enforce is an `invalid_request` naming the tool.
    pub fn compile(tools: &[Tool], only: Option<&str>) -> Result<Self> {
        let offered = tools
            .iter()
            .enumerate()
            .filter(|(_, t)| only.is_none_or(|name| t.function.name == name));
        let mut names = vec![];
        let mut arguments = vec![];
        for (i, tool) in offered {
            let field = format!("tools[{i}].function.parameters");
            let schema = match &tool.function.parameters {
                Some(parameters) => Schema::compile_object(parameters, &field)?,
                None => Schema::any_object(),
            };
            names.push(tool.function.name.clone());
            arguments.push(Arc::new(schema));
        }
        if names.is_empty() || names.len() > MAX_CHOICES {
            return Err(Error::InvalidRequest(format!(
                "the local engine takes 1 to {MAX_CHOICES} tools, got {}",
                names.len()
            )));
        }
        let name = Arc::new(Schema::compile_field(&json!({ "enum": names }), "tools")?);
        Ok(Functions {
            names,
            arguments,
            name,
        })
    }
}

/// Where a call being decoded is.
enum Stage {
    /// Fixed text, of which `rest` is still to come; then `next`.
    Fixed { rest: String, next: Next },
    /// The function's name.
    Name(Constraint),
    /// The arguments.
    Arguments(Constraint),
    /// The call is complete.
    Done,
}

/// What follows a stage of fixed text.
#[derive(Clone, Copy)]
enum Next {
    Name,
    /// The arguments of the function at this place.
    Arguments(usize),
    Done,
}

/// What one token of a call was.
#[derive(Debug, PartialEq)]
pub enum CallToken {
    /// Fixed text, or part of the name.
    Structure,
    /// The token completed the name: this one.
    Named(String),
    /// Part of the arguments' JSON text.
    Arguments,
}

/// The text a Hermes-style template (Qwen's) writes after the opening tag, before
/// a call's name.
const BEFORE_NAME: &str = "\n{\"name\": ";
/// Between the name and the arguments.
const BEFORE_ARGUMENTS: &str = ", \"arguments\": ";
/// After the arguments.
const END: &str = "}";

/// One tool call being decoded.
pub struct CallConstraint {
    functions: Arc<Functions>,
    stage: Stage,
    /// The name's JSON text so far.
    name: Vec<u8>,
}

impl CallConstraint {
    /// A call of one of `functions` that starts with `opening` (the template's tag,
    /// or nothing when the model already wrote it).
    pub fn new(functions: Arc<Functions>, opening: &str) -> Self {
        CallConstraint {
            functions,
            stage: Stage::Fixed {
                rest: format!("{opening}{BEFORE_NAME}"),
                next: Next::Name,
            },
            name: vec![],
        }
    }

    /// Set the logit of every token that cannot continue the call to `-inf`;
    /// `remaining` is the token budget left.
    pub fn mask_logits(
        &mut self,
        trie: &TokenTrie,
        tokenizer: &Tokenizer,
        logits: &mut [f32],
        remaining: usize,
    ) -> Result<()> {
        match &mut self.stage {
            Stage::Fixed { rest, .. } => {
                let fits = |id: u32| {
                    let piece = tokenizer.piece(id);
                    !piece.is_empty() && rest.as_bytes().starts_with(piece)
                };
                let mut any = false;
                for (id, l) in logits.iter_mut().enumerate() {
                    match fits(id as u32) {
                        true => any = true,
                        false => *l = f32::NEG_INFINITY,
                    }
                }
                match any {
                    true => Ok(()),
                    false => Err(Error::Inference(format!(
                        "no token of the vocabulary can write {rest:?} of the tool call"
                    ))),
                }
            }
            // The arguments leave room for the closing brace.
            Stage::Name(c) | Stage::Arguments(c) => {
                c.mask_logits(trie, tokenizer, logits, remaining.saturating_sub(1))
            }
            Stage::Done => Err(Error::Inference("the tool call is already complete".into())),
        }
    }

    /// Take the bytes of the chosen token (one the mask allowed).
    pub fn advance(&mut self, bytes: &[u8]) -> CallToken {
        match &mut self.stage {
            Stage::Fixed { rest, next } => {
                rest.drain(..bytes.len().min(rest.len()));
                if rest.is_empty() {
                    self.stage = open(&self.functions, *next);
                }
                CallToken::Structure
            }
            Stage::Name(c) => {
                c.advance(bytes);
                self.name.extend_from_slice(bytes);
                if !c.is_finished() {
                    return CallToken::Structure;
                }
                let name: String = serde_json::from_slice(&self.name).unwrap_or_default();
                let next = match self.functions.names.iter().position(|n| *n == name) {
                    Some(at) => Next::Arguments(at),
                    None => Next::Done,
                };
                self.stage = Stage::Fixed {
                    rest: BEFORE_ARGUMENTS.into(),
                    next,
                };
                CallToken::Named(name)
            }
            Stage::Arguments(c) => {
                c.advance(bytes);
                if c.is_finished() {
                    self.stage = Stage::Fixed {
                        rest: END.into(),
                        next: Next::Done,
                    };
                }
                CallToken::Arguments
            }
            Stage::Done => CallToken::Structure,
        }
    }

    /// Whether the call is complete.
    pub fn is_finished(&self) -> bool {
        matches!(self.stage, Stage::Done)
    }
}

/// The stage after fixed text.
fn open(functions: &Functions, next: Next) -> Stage {
    match next {
        Next::Name => Stage::Name(Constraint::new(functions.name.clone())),
        Next::Arguments(at) => Stage::Arguments(Constraint::new(functions.arguments[at].clone())),
        Next::Done => Stage::Done,
    }
}
