//! Structured output: a JSON Schema compiled to a grammar, a byte-level recogniser that follows
//! it, and the mask of tokens allowed at each step (a trie walk over the vocabulary's bytes).
//!
//! The output is compact JSON (no whitespace outside strings), so a model cannot wander in
//! whitespace. Supported keywords: `type` (object, array, string, number, integer, boolean, null,
//! or a list of them), `properties`, `required`, `additionalProperties`, `items`, `minItems`,
//! `maxItems`, `minLength`, `maxLength`, `enum`, `const`, `anyOf`, `oneOf`, `$ref` to `#/$defs/…`
//! or `#/definitions/…`, `nullable`. Other keywords (`pattern`, `minimum`, `format`, …) are not
//! enforced. To end in bounded time, strings without `maxLength` stop at 64 characters, arrays
//! without `maxItems` at 16 items, numbers at 15 digits, and free JSON nests 6 levels deep.

use std::collections::HashMap;

use serde_json::Value;

const DEFAULT_MAX_STRING: usize = 64;
const DEFAULT_MAX_ITEMS: usize = 16;
const MAX_DIGITS: usize = 15;
/// Exponent digits: at most e±99, so every number fits an f64.
const MAX_EXPONENT_DIGITS: usize = 2;
const MAX_ANY_DEPTH: usize = 6;

/// Why a schema cannot be compiled.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("invalid JSON schema at {at}: {reason}")]
pub struct SchemaError {
    pub at: String,
    pub reason: String,
}

type NodeId = usize;

#[derive(Debug, Clone)]
enum Node {
    Object {
        props: Vec<(String, NodeId)>,
        required: Vec<bool>,
        /// Schema of properties not named (None: no others allowed).
        additional: Option<NodeId>,
    },
    Array {
        items: NodeId,
        min: usize,
        max: usize,
    },
    String {
        min: usize,
        max: usize,
    },
    Number {
        integer: bool,
    },
    /// Exactly these bytes (const and enum values, true, false, null).
    Literal(Vec<u8>),
    Union(Vec<NodeId>),
}

/// A compiled grammar.
#[derive(Debug, Clone)]
pub struct Grammar {
    nodes: Vec<Node>,
    root: NodeId,
}

struct Compiler<'a> {
    root: &'a Value,
    nodes: Vec<Node>,
    refs: HashMap<String, NodeId>,
    /// Any JSON value nested at most `depth` deep, by depth (built once).
    any: HashMap<usize, NodeId>,
}

impl Compiler<'_> {
    /// Any JSON value nested at most `depth` deep: objects with free keys and arrays of values
    /// one level shallower, strings, numbers, booleans and null.
    fn any(&mut self, depth: usize) -> NodeId {
        if let Some(&id) = self.any.get(&depth) {
            return id;
        }
        let mut alts = vec![
            self.push(Node::String {
                min: 0,
                max: DEFAULT_MAX_STRING,
            }),
            self.push(Node::Number { integer: false }),
        ];
        for v in [Value::Bool(true), Value::Bool(false), Value::Null] {
            alts.push(self.literal(&v));
        }
        if depth > 0 {
            let inner = self.any(depth - 1);
            alts.push(self.push(Node::Object {
                props: Vec::new(),
                required: Vec::new(),
                additional: Some(inner),
            }));
            alts.push(self.push(Node::Array {
                items: inner,
                min: 0,
                max: DEFAULT_MAX_ITEMS,
            }));
        }
        let id = self.push(Node::Union(alts));
        self.any.insert(depth, id);
        id
    }

    fn push(&mut self, n: Node) -> NodeId {
        self.nodes.push(n);
        self.nodes.len() - 1
    }

    fn literal(&mut self, v: &Value) -> NodeId {
        self.push(Node::Literal(
            serde_json::to_vec(v).expect("a JSON value serialises"),
        ))
    }

    fn err(at: &str, reason: impl Into<String>) -> SchemaError {
        SchemaError {
            at: at.to_string(),
            reason: reason.into(),
        }
    }

    fn compile(&mut self, s: &Value, at: &str) -> Result<NodeId, SchemaError> {
        let obj = match s {
            Value::Bool(true) => return Ok(self.any(MAX_ANY_DEPTH)),
            Value::Bool(false) => return Err(Self::err(at, "the schema `false` admits nothing")),
            Value::Object(o) => o,
            _ => return Err(Self::err(at, "a schema must be an object or a boolean")),
        };
        if let Some(r) = obj.get("$ref") {
            let r = r.as_str().ok_or_else(|| Self::err(at, "$ref must be a string"))?;
            if let Some(&id) = self.refs.get(r) {
                return Ok(id);
            }
            let path = r.strip_prefix("#/").ok_or_else(|| {
                Self::err(
                    at,
                    format!("only local references (#/...) are supported, got {r:?}"),
                )
            })?;
            let mut target = self.root;
            for part in path.split('/') {
                target = target
                    .get(part)
                    .ok_or_else(|| Self::err(at, format!("$ref {r:?} points nowhere")))?;
            }
            // A placeholder first, so recursive schemas terminate.
            let id = self.push(Node::Union(Vec::new()));
            self.refs.insert(r.to_string(), id);
            let inner = self.compile(target, r)?;
            self.nodes[id] = Node::Union(vec![inner]);
            return Ok(id);
        }
        if let Some(c) = obj.get("const") {
            return Ok(self.literal(c));
        }
        if let Some(e) = obj.get("enum") {
            let values = e
                .as_array()
                .ok_or_else(|| Self::err(at, "enum must be an array"))?;
            if values.is_empty() {
                return Err(Self::err(at, "enum is empty"));
            }
            let alts = values.iter().map(|v| self.literal(v)).collect();
            return Ok(self.push(Node::Union(alts)));
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(list) = obj.get(key) {
                let list = list
                    .as_array()
                    .ok_or_else(|| Self::err(at, format!("{key} must be an array")))?;
                if list.is_empty() {
                    return Err(Self::err(at, format!("{key} is empty")));
                }
                let mut alts = Vec::with_capacity(list.len());
                for (i, alt) in list.iter().enumerate() {
                    let alt_at = format!("{at}/{key}/{i}");
                    let merged = self.with_siblings(obj, alt, key, &alt_at)?;
                    alts.push(self.compile(merged.as_ref().unwrap_or(alt), &alt_at)?);
                }
                return Ok(self.push(Node::Union(alts)));
            }
        }
        let types: Vec<String> = match obj.get("type") {
            None => {
                if obj.contains_key("properties") {
                    vec!["object".into()]
                } else if obj.contains_key("items") {
                    vec!["array".into()]
                } else {
                    return Ok(self.any(MAX_ANY_DEPTH));
                }
            }
            Some(Value::String(t)) => vec![t.clone()],
            Some(Value::Array(ts)) => ts
                .iter()
                .map(|t| {
                    t.as_str()
                        .map(String::from)
                        .ok_or_else(|| Self::err(at, "type entries must be strings"))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(Self::err(at, "type must be a string or an array of strings")),
        };
        let nullable = obj.get("nullable").and_then(Value::as_bool) == Some(true);
        let mut alts = Vec::new();
        for t in &types {
            let n = match t.as_str() {
                "object" => self.object(obj, at)?,
                "array" => {
                    let items = match obj.get("items") {
                        Some(i) => self.compile(i, &format!("{at}/items"))?,
                        None => self.any(MAX_ANY_DEPTH - 1),
                    };
                    let (min, max) = bounds(obj, "minItems", "maxItems", DEFAULT_MAX_ITEMS, at)?;
                    self.push(Node::Array { items, min, max })
                }
                "string" => {
                    let (min, max) = bounds(obj, "minLength", "maxLength", DEFAULT_MAX_STRING, at)?;
                    self.push(Node::String { min, max })
                }
                "number" => self.push(Node::Number { integer: false }),
                "integer" => self.push(Node::Number { integer: true }),
                "boolean" => {
                    let (t, f) = (
                        self.literal(&Value::Bool(true)),
                        self.literal(&Value::Bool(false)),
                    );
                    self.push(Node::Union(vec![t, f]))
                }
                "null" => self.literal(&Value::Null),
                other => return Err(Self::err(at, format!("unknown type {other:?}"))),
            };
            alts.push(n);
        }
        if nullable {
            alts.push(self.literal(&Value::Null));
        }
        Ok(if alts.len() == 1 {
            alts[0]
        } else {
            self.push(Node::Union(alts))
        })
    }

    /// An object schema with both its own `properties`/`required` and a `oneOf`/`anyOf` (serde's
    /// flattened tagged enums look like this) admits, in each alternative, the alternative's
    /// keys *and* its own: merge them into the alternative, or the siblings would be dropped.
    /// `None` when there is nothing to merge.
    fn with_siblings(
        &self,
        obj: &serde_json::Map<String, Value>,
        alt: &Value,
        key: &str,
        at: &str,
    ) -> Result<Option<Value>, SchemaError> {
        if !obj.contains_key("properties") && !obj.contains_key("required") {
            return Ok(None);
        }
        let mut target: &Value = alt;
        if let Some(Value::String(r)) = alt.get("$ref") {
            let path = r.strip_prefix("#/").ok_or_else(|| {
                Self::err(
                    at,
                    format!("only local references (#/...) are supported, got {r:?}"),
                )
            })?;
            target = self.root;
            for part in path.split('/') {
                target = target
                    .get(part)
                    .ok_or_else(|| Self::err(at, format!("$ref {r:?} points nowhere")))?;
            }
        }
        let Some(alt_obj) = target.as_object() else {
            return Err(Self::err(
                at,
                format!("{key} alternatives beside properties must be objects"),
            ));
        };
        let mut merged = alt_obj.clone();
        let mut props = merged
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        if let Some(Value::Object(own)) = obj.get("properties") {
            for (name, schema) in own {
                props.entry(name.clone()).or_insert_with(|| schema.clone());
            }
        }
        let mut required: Vec<Value> = merged
            .get("required")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if let Some(Value::Array(own)) = obj.get("required") {
            for name in own {
                if !required.contains(name) {
                    required.push(name.clone());
                }
            }
        }
        merged.insert("type".into(), Value::String("object".into()));
        merged.insert("properties".into(), Value::Object(props));
        merged.insert("required".into(), Value::Array(required));
        for k in ["additionalProperties", "$defs", "description", "title"] {
            if let (Some(v), false) = (obj.get(k), merged.contains_key(k)) {
                merged.insert(k.into(), v.clone());
            }
        }
        Ok(Some(Value::Object(merged)))
    }

    fn object(&mut self, obj: &serde_json::Map<String, Value>, at: &str) -> Result<NodeId, SchemaError> {
        let mut props = Vec::new();
        if let Some(p) = obj.get("properties") {
            let p = p
                .as_object()
                .ok_or_else(|| Self::err(at, "properties must be an object"))?;
            for (name, s) in p {
                props.push((name.clone(), self.compile(s, &format!("{at}/properties/{name}"))?));
            }
        }
        let required_names: Vec<&str> = obj
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for r in &required_names {
            if !props.iter().any(|(n, _)| n == r) {
                return Err(Self::err(
                    at,
                    format!("required property {r:?} is not among the properties"),
                ));
            }
        }
        let required = props
            .iter()
            .map(|(n, _)| required_names.contains(&n.as_str()))
            .collect();
        // Undeclared properties only where the schema names a schema for them; `true` or absent
        // admits them in validation, but generating only the declared ones still validates.
        let additional = match obj.get("additionalProperties") {
            Some(Value::Object(_)) => Some(self.compile(
                &obj["additionalProperties"],
                &format!("{at}/additionalProperties"),
            )?),
            _ if props.is_empty() => Some(self.any(MAX_ANY_DEPTH - 1)),
            _ => None,
        };
        Ok(self.push(Node::Object {
            props,
            required,
            additional,
        }))
    }
}

/// A `min…`/`max…` pair of a schema, the maximum `default` (or the minimum, if larger) when
/// absent.
fn bounds(
    obj: &serde_json::Map<String, Value>,
    min_key: &str,
    max_key: &str,
    default: usize,
    at: &str,
) -> Result<(usize, usize), SchemaError> {
    let min = obj.get(min_key).and_then(Value::as_u64).unwrap_or(0) as usize;
    let max = obj
        .get(max_key)
        .and_then(Value::as_u64)
        .map_or(default.max(min), |m| m as usize);
    if min > max {
        return Err(Compiler::err(at, format!("{min_key} {min} > {max_key} {max}")));
    }
    Ok((min, max))
}

impl Grammar {
    /// Compiles a JSON Schema.
    pub fn from_schema(schema: &Value) -> Result<Grammar, SchemaError> {
        let mut c = Compiler {
            root: schema,
            nodes: Vec::new(),
            refs: HashMap::new(),
            any: HashMap::new(),
        };
        let root = c.compile(schema, "#")?;
        Ok(Grammar { nodes: c.nodes, root })
    }

    /// Any JSON object (`response_format: {"type": "json_object"}`).
    pub fn any_object() -> Grammar {
        Grammar::from_schema(&serde_json::json!({"type": "object"})).expect("a valid schema")
    }

    /// The recogniser at the start.
    pub fn start(&self) -> Recognizer {
        Recognizer {
            stacks: vec![vec![Frame::Value(self.root)]],
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum ObjPhase {
    Open,
    /// After `{` or `,`: a key's opening quote (or `}` after `{`).
    KeyStart {
        first: bool,
    },
    Key(Vec<u8>),
    Colon(Option<usize>),
    AfterValue,
}

#[derive(Debug, Clone, PartialEq)]
enum StrPhase {
    Open,
    Body,
    Escape,
    /// UTF-8 continuation bytes still to come; the next one in `lo..=hi` (narrower than
    /// 0x80..=0xBF after E0, ED, F0 and F4, which would make overlong forms, surrogates or code
    /// points past U+10FFFF).
    Utf8 {
        rest: u8,
        lo: u8,
        hi: u8,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum NumPhase {
    Start,
    Minus,
    Zero,
    Int,
    Dot,
    Frac,
    Exp,
    ExpSign,
    ExpDigits,
}

#[derive(Debug, Clone, PartialEq)]
enum Frame {
    Value(NodeId),
    Literal {
        node: NodeId,
        pos: usize,
    },
    Str {
        min: usize,
        max: usize,
        len: usize,
        phase: StrPhase,
    },
    Num {
        integer: bool,
        phase: NumPhase,
        digits: usize,
    },
    Obj {
        node: NodeId,
        phase: ObjPhase,
        used: Vec<bool>,
    },
    Arr {
        node: NodeId,
        count: usize,
        open: bool,
    },
}

/// Where in the grammar the output is: every live parse (alternatives of unions).
#[derive(Debug, Clone, PartialEq)]
pub struct Recognizer {
    stacks: Vec<Vec<Frame>>,
}

impl Recognizer {
    /// True when the output so far is a complete value (nothing more may follow).
    pub fn is_complete(&self) -> bool {
        self.stacks.iter().any(|s| s.is_empty() || Self::can_end(s))
    }

    /// A stack whose only open frames are numbers that may end here.
    fn can_end(stack: &[Frame]) -> bool {
        stack.len() == 1 && matches!(&stack[0], Frame::Num { phase, .. } if Self::num_can_end(phase))
    }

    fn num_can_end(p: &NumPhase) -> bool {
        matches!(
            p,
            NumPhase::Zero | NumPhase::Int | NumPhase::Frac | NumPhase::ExpDigits
        )
    }

    /// Advances by one byte; false (and unchanged) when the byte cannot follow.
    pub fn advance(&mut self, g: &Grammar, b: u8) -> bool {
        let mut next = Vec::new();
        for stack in &self.stacks {
            Self::feed(g, stack.clone(), b, &mut next, 0);
        }
        next.dedup();
        if next.is_empty() {
            return false;
        }
        self.stacks = next;
        true
    }

    pub fn advance_bytes(&mut self, g: &Grammar, bytes: &[u8]) -> bool {
        let saved = self.stacks.clone();
        for &b in bytes {
            if !self.advance(g, b) {
                self.stacks = saved;
                return false;
            }
        }
        true
    }

    /// Feeds `b` to `stack`, pushing every resulting stack to `out`.
    fn feed(g: &Grammar, mut stack: Vec<Frame>, b: u8, out: &mut Vec<Vec<Frame>>, guard: usize) {
        if guard > 64 {
            return;
        }
        let Some(top) = stack.pop() else { return };
        match top {
            Frame::Value(id) => match &g.nodes[id] {
                Node::Union(alts) => {
                    for &a in alts {
                        let mut s = stack.clone();
                        s.push(Frame::Value(a));
                        Self::feed(g, s, b, out, guard + 1);
                    }
                }
                Node::Literal(_) => {
                    stack.push(Frame::Literal { node: id, pos: 0 });
                    Self::feed(g, stack, b, out, guard + 1);
                }
                Node::String { min, max } => {
                    stack.push(Frame::Str {
                        min: *min,
                        max: *max,
                        len: 0,
                        phase: StrPhase::Open,
                    });
                    Self::feed(g, stack, b, out, guard + 1);
                }
                Node::Number { integer } => {
                    stack.push(Frame::Num {
                        integer: *integer,
                        phase: NumPhase::Start,
                        digits: 0,
                    });
                    Self::feed(g, stack, b, out, guard + 1);
                }
                Node::Object { props, .. } => {
                    stack.push(Frame::Obj {
                        node: id,
                        phase: ObjPhase::Open,
                        used: vec![false; props.len()],
                    });
                    Self::feed(g, stack, b, out, guard + 1);
                }
                Node::Array { .. } => {
                    stack.push(Frame::Arr {
                        node: id,
                        count: 0,
                        open: false,
                    });
                    Self::feed(g, stack, b, out, guard + 1);
                }
            },
            Frame::Literal { node, pos } => {
                if let Node::Literal(lit) = &g.nodes[node]
                    && lit.get(pos) == Some(&b)
                {
                    if pos + 1 < lit.len() {
                        stack.push(Frame::Literal { node, pos: pos + 1 });
                    }
                    out.push(stack);
                }
            }
            Frame::Str { min, max, len, phase } => match phase {
                StrPhase::Open => {
                    if b == b'"' {
                        stack.push(Frame::Str {
                            min,
                            max,
                            len,
                            phase: StrPhase::Body,
                        });
                        out.push(stack);
                    }
                }
                StrPhase::Body => {
                    let body = |len, phase| Frame::Str { min, max, len, phase };
                    match b {
                        b'"' if len >= min => out.push(stack),
                        b'"' => {}
                        _ if len >= max => {}
                        b'\\' => {
                            stack.push(body(len, StrPhase::Escape));
                            out.push(stack);
                        }
                        0x20..=0x7F => {
                            stack.push(body(len + 1, StrPhase::Body));
                            out.push(stack);
                        }
                        0xC2..=0xF4 => {
                            let (rest, lo, hi) = match b {
                                0xC2..=0xDF => (1, 0x80, 0xBF),
                                0xE0 => (2, 0xA0, 0xBF),
                                0xED => (2, 0x80, 0x9F),
                                0xE1..=0xEF => (2, 0x80, 0xBF),
                                0xF0 => (3, 0x90, 0xBF),
                                0xF4 => (3, 0x80, 0x8F),
                                _ => (3, 0x80, 0xBF),
                            };
                            stack.push(body(len + 1, StrPhase::Utf8 { rest, lo, hi }));
                            out.push(stack);
                        }
                        _ => {}
                    }
                }
                StrPhase::Escape => {
                    if matches!(b, b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') {
                        stack.push(Frame::Str {
                            min,
                            max,
                            len: len + 1,
                            phase: StrPhase::Body,
                        });
                        out.push(stack);
                    }
                }
                StrPhase::Utf8 { rest, lo, hi } => {
                    if (lo..=hi).contains(&b) {
                        stack.push(Frame::Str {
                            min,
                            max,
                            len,
                            phase: if rest > 1 {
                                StrPhase::Utf8 {
                                    rest: rest - 1,
                                    lo: 0x80,
                                    hi: 0xBF,
                                }
                            } else {
                                StrPhase::Body
                            },
                        });
                        out.push(stack);
                    }
                }
            },
            Frame::Num {
                integer,
                phase,
                digits,
            } => {
                use NumPhase::*;
                let digit = b.is_ascii_digit();
                // Mantissa digits count up to MAX_DIGITS; from the exponent on, the count restarts.
                let in_exponent = matches!(phase, Exp | ExpSign | ExpDigits);
                let d = match (digit, in_exponent, &phase) {
                    (true, true, ExpDigits) => digits + 1,
                    (true, true, _) => 1,
                    (true, false, _) => digits + 1,
                    (false, _, _) => digits,
                };
                let limit = if in_exponent {
                    MAX_EXPONENT_DIGITS
                } else {
                    MAX_DIGITS
                };
                let to = match (&phase, b) {
                    (Start, b'-') => Some(Minus),
                    (Start | Minus, b'0') => Some(Zero),
                    (Start | Minus, b'1'..=b'9') => Some(Int),
                    (Int, _) if digit => Some(Int),
                    (Zero | Int, b'.') if !integer => Some(Dot),
                    (Dot | Frac, _) if digit => Some(Frac),
                    (Zero | Int | Frac, b'e' | b'E') if !integer => Some(Exp),
                    (Exp, b'+' | b'-') => Some(ExpSign),
                    (Exp | ExpSign | ExpDigits, _) if digit => Some(ExpDigits),
                    _ => None,
                };
                match to {
                    Some(p) if d <= limit => {
                        stack.push(Frame::Num {
                            integer,
                            phase: p,
                            digits: d,
                        });
                        out.push(stack);
                    }
                    Some(_) => {}
                    // The number ends; the byte belongs to what encloses it.
                    None if Self::num_can_end(&phase) => Self::feed(g, stack, b, out, guard + 1),
                    None => {}
                }
            }
            Frame::Obj {
                node,
                phase,
                mut used,
            } => {
                let Node::Object {
                    props,
                    required,
                    additional,
                } = &g.nodes[node]
                else {
                    return;
                };
                let required_done = required.iter().zip(&used).all(|(r, u)| !r || *u);
                let open_keys = used.iter().any(|u| !u) || additional.is_some();
                let frame = |phase, used: Vec<bool>| Frame::Obj { node, phase, used };
                match phase {
                    ObjPhase::Open => {
                        if b == b'{' {
                            stack.push(frame(ObjPhase::KeyStart { first: true }, used));
                            out.push(stack);
                        }
                    }
                    ObjPhase::KeyStart { first } => match b {
                        b'}' if first && required_done => out.push(stack),
                        b'"' if open_keys => {
                            stack.push(frame(ObjPhase::Key(Vec::new()), used));
                            out.push(stack);
                        }
                        _ => {}
                    },
                    ObjPhase::Key(mut key) => {
                        if b == b'"' {
                            let declared = props.iter().position(|(n, _)| n.as_bytes() == key.as_slice());
                            match declared {
                                Some(i) if !used[i] => {
                                    stack.push(frame(ObjPhase::Colon(Some(i)), used));
                                    out.push(stack);
                                }
                                None if additional.is_some() && !key.is_empty() => {
                                    stack.push(frame(ObjPhase::Colon(None), used));
                                    out.push(stack);
                                }
                                _ => {}
                            }
                        } else {
                            key.push(b);
                            let declared = props
                                .iter()
                                .zip(&used)
                                .any(|((n, _), u)| !u && n.as_bytes().starts_with(&key));
                            // Free keys (where a schema admits them): plain identifiers.
                            let free_key = additional.is_some()
                                && key.len() <= DEFAULT_MAX_STRING
                                && (b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                            if declared || free_key {
                                stack.push(frame(ObjPhase::Key(key), used));
                                out.push(stack);
                            }
                        }
                    }
                    ObjPhase::Colon(prop) => {
                        if b == b':' {
                            let value = match prop {
                                Some(i) => {
                                    used[i] = true;
                                    props[i].1
                                }
                                None => additional.expect("a free key needs a schema"),
                            };
                            stack.push(frame(ObjPhase::AfterValue, used));
                            stack.push(Frame::Value(value));
                            out.push(stack);
                        }
                    }
                    ObjPhase::AfterValue => match b {
                        b',' if open_keys => {
                            stack.push(frame(ObjPhase::KeyStart { first: false }, used));
                            out.push(stack);
                        }
                        b'}' if required_done => out.push(stack),
                        _ => {}
                    },
                }
            }
            Frame::Arr { node, count, open } => {
                let Node::Array { items, min, max } = &g.nodes[node] else {
                    return;
                };
                let (items, min, max) = (*items, *min, *max);
                if !open {
                    if b == b'[' {
                        stack.push(Frame::Arr {
                            node,
                            count,
                            open: true,
                        });
                        out.push(stack);
                    }
                    return;
                }
                let next = Frame::Arr {
                    node,
                    count: count + 1,
                    open: true,
                };
                match b {
                    b']' if count >= min => out.push(stack),
                    b',' if count > 0 && count < max => {
                        stack.push(next);
                        stack.push(Frame::Value(items));
                        out.push(stack);
                    }
                    _ if count == 0 && max > 0 => {
                        stack.push(next);
                        stack.push(Frame::Value(items));
                        Self::feed(g, stack, b, out, guard + 1);
                    }
                    _ => {}
                }
            }
        }
    }
}

/// The vocabulary as a byte trie, for computing masks by walking only valid prefixes.
pub struct TokenTrie {
    /// children[node] = (byte, child) sorted by byte.
    children: Vec<Vec<(u8, usize)>>,
    /// Tokens ending at each node.
    tokens: Vec<Vec<u32>>,
    vocab: usize,
}

impl TokenTrie {
    pub fn new(token_bytes: &[Option<Vec<u8>>]) -> TokenTrie {
        let mut children: Vec<Vec<(u8, usize)>> = vec![Vec::new()];
        let mut tokens: Vec<Vec<u32>> = vec![Vec::new()];
        for (id, bytes) in token_bytes.iter().enumerate() {
            let Some(bytes) = bytes else { continue };
            if bytes.is_empty() {
                continue;
            }
            let mut node = 0;
            for &b in bytes {
                node = match children[node].iter().find(|(c, _)| *c == b) {
                    Some(&(_, n)) => n,
                    None => {
                        children.push(Vec::new());
                        tokens.push(Vec::new());
                        let n = children.len() - 1;
                        children[node].push((b, n));
                        n
                    }
                };
            }
            tokens[node].push(id as u32);
        }
        TokenTrie {
            children,
            tokens,
            vocab: token_bytes.len(),
        }
    }

    /// `mask[t]`: whether token `t`'s bytes can follow the recogniser's state.
    pub fn mask(&self, g: &Grammar, r: &Recognizer) -> Vec<bool> {
        let mut mask = vec![false; self.vocab];
        let mut work = vec![(0usize, r.clone())];
        while let Some((node, state)) = work.pop() {
            for &(b, child) in &self.children[node] {
                let mut s = state.clone();
                if s.advance(g, b) {
                    for &t in &self.tokens[child] {
                        mask[t as usize] = true;
                    }
                    work.push((child, s));
                }
            }
        }
        mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn accepts(schema: &Value, text: &str) -> bool {
        let g = Grammar::from_schema(schema).unwrap();
        let mut r = g.start();
        r.advance_bytes(&g, text.as_bytes()) && r.is_complete()
    }

    #[test]
    fn objects_strings_numbers_enums_and_refs() {
        let s = json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "maxLength": 5},
                "n": {"type": "integer"},
                "x": {"type": ["number", "null"]},
                "kind": {"enum": ["a", "bc"]},
                "tags": {"type": "array", "items": {"$ref": "#/$defs/tag"}, "maxItems": 2},
                "ok": {"type": "boolean"}
            },
            "required": ["name", "n"],
            "$defs": {"tag": {"type": "string", "minLength": 1}}
        });
        for good in [
            r#"{"name":"ab","n":-12}"#,
            r#"{"n":0,"name":"","x":null,"kind":"bc","tags":["t","u"],"ok":false}"#,
            r#"{"name":"é\"","n":3,"x":1.5e-3}"#,
        ] {
            assert!(accepts(&s, good), "{good}");
        }
        for bad in [
            r#"{"name":"ab"}"#,                 // n is required
            r#"{"name":"abcdef","n":1}"#,       // maxLength 5
            r#"{"name":"a","n":1.5}"#,          // integer
            r#"{"name":"a","n":1,"kind":"b"}"#, // enum
            r#"{"name":"a","n":1,"tags":["a","b","c"]}"#,
            r#"{"name":"a","n":1,"tags":[""]}"#, // minLength 1
            r#"{"name":"a","n":01}"#,
            r#"{"name":"a","n":1,"zzz":1}"#, // undeclared
            r#"{ "name":"a","n":1}"#,        // compact only
        ] {
            assert!(!accepts(&s, bad), "{bad}");
        }
    }

    #[test]
    fn any_object_and_unions() {
        let g = Grammar::any_object();
        for good in [r#"{}"#, r#"{"a":[1,{"b":null}],"c":"d","e":true,"f":-0.5}"#] {
            let mut r = g.start();
            assert!(r.advance_bytes(&g, good.as_bytes()) && r.is_complete(), "{good}");
        }
        let mut r = g.start();
        assert!(!r.advance_bytes(&g, b"[1]"));
        let s = json!({"oneOf": [{"type": "object", "properties": {"op": {"const": "a"}, "v": {"type": "integer"}}, "required": ["op", "v"]},
                                 {"type": "object", "properties": {"op": {"const": "b"}}, "required": ["op"]}]});
        assert!(accepts(&s, r#"{"op":"a","v":2}"#));
        assert!(accepts(&s, r#"{"op":"b"}"#));
        assert!(!accepts(&s, r#"{"op":"b","v":2}"#));
        // Properties beside a oneOf (a flattened tagged enum) are required in every alternative.
        let s = json!({"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"],
                       "oneOf": [{"type": "object", "properties": {"agent": {"const": "a"}}, "required": ["agent"]},
                                 {"$ref": "#/$defs/B"}],
                       "$defs": {"B": {"type": "object", "properties": {"agent": {"const": "b"}}, "required": ["agent"]}}});
        assert!(accepts(&s, r#"{"id":"x","agent":"a"}"#));
        assert!(accepts(&s, r#"{"agent":"b","id":"x"}"#));
        assert!(!accepts(&s, r#"{"agent":"a"}"#), "id is required");
        assert!(
            !accepts(&s, r#"{"agent":"b"}"#),
            "id is required through a $ref too"
        );
    }

    #[test]
    fn bad_schemas_are_named() {
        let e = Grammar::from_schema(&json!({"type": "object", "properties": {"a": {"type": "strin"}}}))
            .unwrap_err();
        assert_eq!(e.at, "#/properties/a");
        let e = Grammar::from_schema(&json!({"$ref": "#/$defs/nothing"})).unwrap_err();
        assert!(e.reason.contains("points nowhere"));
        assert!(Grammar::from_schema(&json!({"type": "object", "required": ["x"]})).is_err());
    }

    #[test]
    fn the_mask_allows_exactly_the_tokens_that_fit() {
        let vocab: Vec<Option<Vec<u8>>> = ["{", "{\"", "\"", "a", "\":", "1", "}", "x", " "]
            .iter()
            .map(|s| Some(s.as_bytes().to_vec()))
            .chain([None])
            .collect();
        let trie = TokenTrie::new(&vocab);
        let g = Grammar::from_schema(
            &json!({"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}),
        )
        .unwrap();
        let mut r = g.start();
        let allowed = |r: &Recognizer| -> Vec<usize> {
            trie.mask(&g, r)
                .iter()
                .enumerate()
                .filter(|(_, m)| **m)
                .map(|(i, _)| i)
                .collect()
        };
        assert_eq!(allowed(&r), [0, 1]);
        assert!(r.advance_bytes(&g, b"{\"a"));
        assert_eq!(allowed(&r), [2, 4]);
        assert!(r.advance_bytes(&g, b"\":1"));
        assert_eq!(allowed(&r), [5, 6]);
        assert!(!r.is_complete());
        assert!(r.advance_bytes(&g, b"}"));
        assert!(r.is_complete());
        assert!(allowed(&r).is_empty());
    }
}
