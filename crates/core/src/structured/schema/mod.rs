//! The JSON Schema subset tandem enforces while decoding, compiled into a small
//! arena of nodes that the matcher refers to by index.
//!
//! Supported: `type` object (`properties`, `required`, `additionalProperties`),
//! array (`items`, `minItems`, `maxItems`), string (`minLength`, `maxLength`, in
//! Unicode code points), number, integer, boolean and null; `enum` and `const`; and the annotations `title`, `description`, `$schema`,
//! `default`, `examples`. Any other keyword is an `invalid_request` that names it.

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::protocol::ResponseFormat;

/// Most properties of one object and most values of one `enum`.
pub const MAX_CHOICES: usize = 64;
/// Most nested schemas.
const MAX_DEPTH: usize = 32;
/// Keywords that describe without constraining.
const ANNOTATIONS: [&str; 5] = ["title", "description", "$schema", "default", "examples"];

/// Index of a node of a [`Schema`].
pub(crate) type NodeId = u16;
/// Index of a literal set of a [`Schema`].
pub(crate) type LitId = u16;

/// Any JSON value.
pub(crate) const ANY: NodeId = 0;
/// An object with any keys and any values.
pub(crate) const ANY_OBJECT: NodeId = 1;
/// An array of any values.
pub(crate) const ANY_ARRAY: NodeId = 2;
/// The literal set `true`, `false`, `null`.
pub(crate) const KEYWORDS: LitId = 0;

/// One compiled schema.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// Any JSON value.
    Any,
    /// An object with the given properties (`keys` are their names as JSON strings).
    Object {
        keys: LitId,
        props: Vec<NodeId>,
        required: u64,
    },
    /// An object with any keys whose values are `value`.
    FreeObject { value: NodeId },
    /// An array of `items`, `min..=max` long.
    Array {
        items: NodeId,
        min: usize,
        max: Option<usize>,
    },
    /// A string of `min..=max` characters (Unicode code points).
    String { min: u16, max: Option<u16> },
    /// A number; only integers when `integer`.
    Number { integer: bool },
    /// One of a set of JSON texts (`enum`, `const`, booleans, null).
    Literal(LitId),
}

/// A JSON Schema compiled for constrained decoding and validation.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    pub(crate) nodes: Vec<Node>,
    /// Sets of literal JSON texts (compact serialisations), each deduplicated.
    pub(crate) literals: Vec<Vec<Vec<u8>>>,
    pub(crate) root: NodeId,
}

impl Schema {
    fn base() -> Self {
        Schema {
            nodes: vec![
                Node::Any,
                Node::FreeObject { value: ANY },
                Node::Array {
                    items: ANY,
                    min: 0,
                    max: None,
                },
            ],
            literals: vec![vec![b"true".to_vec(), b"false".to_vec(), b"null".to_vec()]],
            root: ANY_OBJECT,
        }
    }

    /// Any JSON object (`response_format: {type: "json_object"}`).
    pub fn any_object() -> Self {
        Self::base()
    }

    /// The schema a `response_format` asks the decoder to enforce (`None` for text);
    /// an unsupported schema keyword is an `invalid_request` naming it.
    pub fn for_format(format: &ResponseFormat) -> Result<Option<Self>> {
        Ok(match format {
            ResponseFormat::Text => None,
            ResponseFormat::JsonObject => Some(Self::any_object()),
            ResponseFormat::JsonSchema { json_schema } => Some(match &json_schema.schema {
                None => Self::any_object(),
                Some(schema) => Self::compile(schema)?,
            }),
        })
    }

    /// Compile a `response_format` JSON Schema; unsupported keywords are an
    /// `invalid_request` naming them.
    pub fn compile(schema: &Value) -> Result<Self> {
        Self::compile_field(schema, "response_format schema")
    }

    /// Compile the JSON Schema of a request's `field` (named in errors).
    pub fn compile_field(schema: &Value, field: &str) -> Result<Self> {
        let mut out = Self::base();
        out.root = out.node(schema, &format!("{field} at #"), 0)?;
        Ok(out)
    }

    /// Compile the JSON Schema of a request's `field`, which must describe an object
    /// (a schema that says nothing: any object).
    pub fn compile_object(schema: &Value, field: &str) -> Result<Self> {
        let mut out = Self::compile_field(schema, field)?;
        match out.nodes[usize::from(out.root)] {
            Node::Any => out.root = ANY_OBJECT,
            Node::Object { .. } | Node::FreeObject { .. } => {}
            _ => return Err(invalid(&format!("{field} at #"), "must describe an object")),
        }
        Ok(out)
    }

    fn push(&mut self, node: Node) -> Result<NodeId> {
        self.nodes.push(node);
        NodeId::try_from(self.nodes.len() - 1).map_err(|_| invalid("#", "the schema is too large"))
    }

    fn literal_set(&mut self, values: &[Value], path: &str) -> Result<LitId> {
        if values.is_empty() || values.len() > MAX_CHOICES {
            return Err(invalid(
                path,
                &format!("enum needs 1 to {MAX_CHOICES} values"),
            ));
        }
        let mut set: Vec<Vec<u8>> = Vec::new();
        for v in values {
            let text = serde_json::to_vec(v).expect("a JSON value serialises");
            if !set.contains(&text) {
                set.push(text);
            }
        }
        self.literals.push(set);
        LitId::try_from(self.literals.len() - 1).map_err(|_| invalid(path, "too many enums"))
    }

    fn node(&mut self, schema: &Value, path: &str, depth: usize) -> Result<NodeId> {
        if depth > MAX_DEPTH {
            return Err(invalid(path, "the schema nests too deeply"));
        }
        let obj = match schema {
            Value::Bool(true) => return Ok(ANY),
            Value::Object(obj) => obj,
            _ => return Err(invalid(path, "a schema must be an object")),
        };
        const KNOWN: [&str; 11] = [
            "type",
            "properties",
            "required",
            "additionalProperties",
            "items",
            "minItems",
            "maxItems",
            "minLength",
            "maxLength",
            "enum",
            "const",
        ];
        if let Some(key) = obj
            .keys()
            .find(|k| !KNOWN.contains(&k.as_str()) && !ANNOTATIONS.contains(&k.as_str()))
        {
            return Err(unsupported(key, path));
        }
        if let Some(value) = obj.get("const") {
            let set = self.literal_set(std::slice::from_ref(value), path)?;
            return self.push(Node::Literal(set));
        }
        if let Some(values) = obj.get("enum") {
            let values = values
                .as_array()
                .ok_or_else(|| invalid(path, "enum must be an array"))?;
            let set = self.literal_set(values, path)?;
            return self.push(Node::Literal(set));
        }
        let ty = match obj.get("type") {
            None if obj.contains_key("properties") => "object",
            None if obj.contains_key("items") => "array",
            None => return Ok(ANY),
            Some(Value::String(t)) => t.as_str(),
            Some(_) => return Err(unsupported("type (as a list)", path)),
        };
        match ty {
            "object" => self.object(obj, path, depth),
            "array" => self.array(obj, path, depth),
            "string" => {
                let (min, max) = limits(obj, path, "minLength", "maxLength")?;
                self.push(Node::String { min, max })
            }
            "number" => self.push(Node::Number { integer: false }),
            "integer" => self.push(Node::Number { integer: true }),
            "boolean" => {
                let set = self.literal_set(&[Value::Bool(true), Value::Bool(false)], path)?;
                self.push(Node::Literal(set))
            }
            "null" => {
                let set = self.literal_set(&[Value::Null], path)?;
                self.push(Node::Literal(set))
            }
            other => Err(invalid(path, &format!("unknown type {other:?}"))),
        }
    }

    fn object(&mut self, obj: &Map<String, Value>, path: &str, depth: usize) -> Result<NodeId> {
        let additional = match obj.get("additionalProperties") {
            None | Some(Value::Bool(_)) => obj.get("additionalProperties") != Some(&false.into()),
            Some(_) => return Err(unsupported("additionalProperties (as a schema)", path)),
        };
        let Some(props) = obj.get("properties") else {
            if obj.contains_key("required") {
                return Err(invalid(
                    path,
                    "required names properties that are not defined",
                ));
            }
            return match additional {
                true => Ok(ANY_OBJECT),
                false => {
                    let keys = self.literals.len() as LitId;
                    self.literals.push(vec![]);
                    self.push(Node::Object {
                        keys,
                        props: vec![],
                        required: 0,
                    })
                }
            };
        };
        let props = props
            .as_object()
            .ok_or_else(|| invalid(path, "properties must be an object"))?;
        if props.len() > MAX_CHOICES {
            return Err(invalid(
                path,
                &format!("more than {MAX_CHOICES} properties"),
            ));
        }
        let mut names = Vec::new();
        let mut ids = Vec::new();
        for (name, schema) in props {
            ids.push(self.node(schema, &format!("{path}/properties/{name}"), depth + 1)?);
            names.push(Value::String(name.clone()));
        }
        let mut required = 0u64;
        for name in obj.get("required").map_or(&[][..], |r| match r {
            Value::Array(a) => a.as_slice(),
            _ => &[],
        }) {
            let at = props
                .keys()
                .position(|k| Some(k.as_str()) == name.as_str())
                .ok_or_else(|| invalid(path, &format!("required names {name}, not a property")))?;
            required |= 1 << at;
        }
        let keys = match names.is_empty() {
            true => {
                self.literals.push(vec![]);
                (self.literals.len() - 1) as LitId
            }
            false => self.literal_set(&names, path)?,
        };
        self.push(Node::Object {
            keys,
            props: ids,
            required,
        })
    }

    fn array(&mut self, obj: &Map<String, Value>, path: &str, depth: usize) -> Result<NodeId> {
        let items = match obj.get("items") {
            None => ANY,
            Some(items) => self.node(items, &format!("{path}/items"), depth + 1)?,
        };
        let (min, max) = limits(obj, path, "minItems", "maxItems")?;
        self.push(Node::Array {
            items,
            min: min.into(),
            max: max.map(usize::from),
        })
    }

    /// Whether `value` matches this schema; the error says where it does not.
    pub fn validate(&self, value: &Value) -> std::result::Result<(), String> {
        self.check(self.root, value, "#")
    }

    fn check(&self, node: NodeId, value: &Value, path: &str) -> std::result::Result<(), String> {
        let fail = |why: &str| Err(format!("{path}: {why}"));
        match (&self.nodes[node as usize], value) {
            (Node::Any, _) => Ok(()),
            (Node::FreeObject { value: inner }, Value::Object(map)) => map
                .iter()
                .try_for_each(|(k, v)| self.check(*inner, v, &format!("{path}/{k}"))),
            (
                Node::Object {
                    keys,
                    props,
                    required,
                },
                Value::Object(map),
            ) => {
                let names = &self.literals[*keys as usize];
                for (k, v) in map {
                    let text = serde_json::to_vec(k).expect("a string serialises");
                    let Some(at) = names.iter().position(|n| *n == text) else {
                        return fail(&format!("unexpected property {k:?}"));
                    };
                    self.check(props[at], v, &format!("{path}/{k}"))?;
                }
                for (at, name) in names.iter().enumerate() {
                    let name: String = serde_json::from_slice(name).expect("a JSON string");
                    if required & (1 << at) != 0 && !map.contains_key(&name) {
                        return fail(&format!("missing required property {name:?}"));
                    }
                }
                Ok(())
            }
            (Node::Array { items, min, max }, Value::Array(list)) => {
                if list.len() < *min || max.is_some_and(|max| list.len() > max) {
                    return fail(&format!("{} items is out of range", list.len()));
                }
                list.iter()
                    .enumerate()
                    .try_for_each(|(i, v)| self.check(*items, v, &format!("{path}/{i}")))
            }
            (Node::String { min, max }, Value::String(s)) => {
                let chars = s.chars().count();
                if chars < usize::from(*min) || max.is_some_and(|max| chars > max.into()) {
                    return fail(&format!("{chars} characters is out of range"));
                }
                Ok(())
            }
            (Node::Number { integer }, Value::Number(n)) => {
                if *integer && !(n.is_i64() || n.is_u64()) {
                    return fail("not an integer");
                }
                Ok(())
            }
            (Node::Literal(set), v) => {
                let text = serde_json::to_vec(v).expect("a JSON value serialises");
                match self.literals[*set as usize].contains(&text) {
                    true => Ok(()),
                    false => fail("not one of the allowed values"),
                }
            }
            _ => fail("wrong type"),
        }
    }
}

/// The bounds `min_key..=max_key` of `obj` (a count of items or characters): whole
/// numbers up to 65535, the minimum 0 when absent.
fn limits(
    obj: &Map<String, Value>,
    path: &str,
    min_key: &str,
    max_key: &str,
) -> Result<(u16, Option<u16>)> {
    let count = |key: &str| -> Result<Option<u64>> {
        obj.get(key)
            .map(|v| {
                v.as_u64()
                    .ok_or_else(|| invalid(path, &format!("{key} must be a whole number")))
            })
            .transpose()
    };
    let min = count(min_key)?.unwrap_or(0);
    let max = count(max_key)?;
    if max.is_some_and(|max| max < min || max > u16::MAX.into()) {
        return Err(invalid(
            path,
            &format!("{max_key} must be at least {min_key} and at most 65535"),
        ));
    }
    let min = u16::try_from(min)
        .map_err(|_| invalid(path, &format!("{min_key} must be at most 65535")))?;
    Ok((min, max.map(|max| max as u16)))
}

fn invalid(path: &str, why: &str) -> Error {
    Error::InvalidRequest(format!("{path}: {why}"))
}

fn unsupported(keyword: &str, path: &str) -> Error {
    Error::InvalidRequest(format!(
        "{path}: the JSON Schema keyword \"{keyword}\" is not supported"
    ))
}

#[cfg(test)]
mod tests;
