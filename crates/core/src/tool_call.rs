//! Tool calls on the local engine. A request's `tools` and `tool_choice` become a
//! [`ToolCalling`]: with `required` or a named function the reply is a call from
//! its first token; with `auto` the model writes freely until its text reaches the
//! chat template's call opening (`<tool_call>`), and from there the call is decoded
//! under constraint ([`CallConstraint`]); `none` offers no tools.

use std::sync::Arc;

use crate::error::Result;
use crate::protocol::{ChatCompletionRequest, ToolChoice};
use crate::stops::StopBuffer;
use crate::structured::{CallConstraint, Functions};

/// What a request's tools ask of a generation.
#[derive(Debug, Clone)]
pub struct ToolCalling {
    /// The functions the call may be of.
    pub functions: Arc<Functions>,
    /// Whether the reply must be a call (`required` or a named function), rather
    /// than the model choosing (`auto`).
    pub forced: bool,
}

impl ToolCalling {
    /// The tool calling `request` asks for: `None` without tools or with
    /// `tool_choice: "none"`; a schema tandem cannot enforce is an `invalid_request`.
    pub fn from_request(request: &ChatCompletionRequest) -> Result<Option<Self>> {
        let Some(tools) = &request.tools else {
            return Ok(None);
        };
        let (only, forced) = match request.tool_choice.as_ref().unwrap_or(&ToolChoice::Auto) {
            ToolChoice::None => return Ok(None),
            ToolChoice::Auto => (None, false),
            ToolChoice::Required => (None, true),
            ToolChoice::Function(name) => (Some(name.as_str()), true),
        };
        Ok(Some(ToolCalling {
            functions: Arc::new(Functions::compile(tools, only)?),
            forced,
        }))
    }
}

/// Where a generation is with tools.
pub(crate) enum Tooling {
    /// No tools: text only.
    Off,
    /// `auto`: text, watched for the template's call opening.
    Watching {
        opening: StopBuffer,
        functions: Arc<Functions>,
    },
    /// A call being decoded.
    Calling(CallConstraint),
}

impl Tooling {
    /// The start of a generation with `calling`, for a template whose calls open
    /// with `opening`.
    pub(crate) fn new(calling: ToolCalling, opening: &str) -> Result<Self> {
        let ToolCalling { functions, forced } = calling;
        Ok(match forced {
            true => Tooling::Calling(CallConstraint::new(functions, opening)),
            false => Tooling::Watching {
                opening: StopBuffer::new(vec![opening.to_string()])?,
                functions,
            },
        })
    }

    /// The call being decoded, if any.
    pub(crate) fn call(&mut self) -> Option<&mut CallConstraint> {
        match self {
            Tooling::Calling(call) => Some(call),
            _ => None,
        }
    }

    /// New text of the reply: what may be shown of it (held back while it could
    /// become the call opening; the text before an opening). At an opening the call
    /// starts.
    pub(crate) fn text(&mut self, text: &str) -> String {
        let Tooling::Watching { opening, functions } = self else {
            return text.to_string();
        };
        let released = opening.push(text);
        if released.stopped {
            *self = Tooling::Calling(CallConstraint::new(functions.clone(), ""));
        }
        released.text
    }

    /// The end of the reply's text: what was held back, or nothing once a call began
    /// (its arguments' last bytes, if incomplete, are dropped).
    pub(crate) fn finish(&mut self, tail: &str) -> String {
        match self {
            Tooling::Off => tail.to_string(),
            Tooling::Watching { opening, .. } => {
                let released = opening.push(tail);
                match released.stopped {
                    true => released.text,
                    false => released.text + &opening.finish(),
                }
            }
            Tooling::Calling(_) => String::new(),
        }
    }
}
