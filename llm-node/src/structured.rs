//! Structured output: a JSON Schema enforced token by token with llguidance (the engine vLLM,
//! SGLang and llama.cpp use). The whole schema is enforced — `pattern`, `minimum`/`maximum`,
//! `format`, `$ref` and its recursion — and every mask is computed within llguidance's parser
//! limits (lexer fuel and Earley items per step), so no schema makes a token's mask take
//! unbounded time or stack; a schema beyond those limits is refused when it is compiled.
//!
//! JSON is generated compact (no optional whitespace), so outputs are reproducible.

use std::sync::Arc;

use llguidance::api::TopLevelGrammar;
use llguidance::toktrie::{TokEnv, TokRxInfo, TokTrie, TokenId, TokenizerEnv};
use llguidance::{Matcher, ParserFactory};
use serde_json::Value;

/// Bytes of a JSON Schema a request may send.
pub const MAX_SCHEMA_BYTES: usize = 512 * 1024;

/// Why a schema cannot constrain generation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SchemaError(pub String);

/// A compiled schema, shared by every request that uses it.
pub struct Grammar(TopLevelGrammar);

/// The tokenizer as llguidance sees it: every token's bytes, and text to tokens.
struct CodecEnv {
    trie: TokTrie,
    encode: Encode,
}

/// Text to token ids with the model's own tokenizer (special tokens as plain text).
pub type Encode = Arc<dyn Fn(&[u8]) -> Vec<u32> + Send + Sync>;

impl TokenizerEnv for CodecEnv {
    fn tok_trie(&self) -> &TokTrie {
        &self.trie
    }

    fn tokenize_bytes(&self, s: &[u8]) -> Vec<TokenId> {
        self.trie
            .tokenize_with_greedy_fallback(s, |s| (self.encode)(s.as_bytes()))
    }
}

/// The node's structured-output engine: one tokenizer environment and parser factory.
pub struct Structured {
    factory: ParserFactory,
    vocab: usize,
}

impl Structured {
    /// From every token's bytes (`None` for special tokens, which a grammar never emits), the
    /// end-of-sequence tokens and the tokenizer. Without `encode`, text is tokenized greedily on
    /// the vocabulary (benchmarks).
    pub fn from_token_bytes(
        token_bytes: Vec<Option<Vec<u8>>>,
        eos: &[u32],
        encode: Option<Encode>,
    ) -> Result<Structured, SchemaError> {
        let words: Vec<Vec<u8>> = token_bytes
            .into_iter()
            .enumerate()
            .map(|(id, b)| {
                b.unwrap_or_else(|| {
                    let mut name = format!(".<[{id}]>").into_bytes();
                    name[0] = TokTrie::SPECIAL_TOKEN_MARKER;
                    name
                })
            })
            .collect();
        let vocab = words.len();
        let first = *eos
            .first()
            .ok_or_else(|| SchemaError("the model names no end-of-sequence token".into()))?;
        let info = TokRxInfo::new(vocab as u32, first);
        let mut trie = TokTrie::from(&info, &words);
        if eos.len() > 1 {
            trie = trie.with_eos_tokens(eos);
        }
        let encode = encode.unwrap_or_else(|| {
            let greedy = TokTrie::from(&info, &words);
            Arc::new(move |s: &[u8]| greedy.greedy_tokenize(s))
        });
        let env: TokEnv = Arc::new(CodecEnv { trie, encode });
        let mut factory = ParserFactory::new_simple(&env).map_err(|e| SchemaError(e.to_string()))?;
        factory.quiet();
        Ok(Structured { factory, vocab })
    }

    /// Compiles a JSON Schema; a schema llguidance cannot enforce, or that exceeds its limits, is
    /// an error naming why.
    pub fn compile(&self, schema: &Value) -> Result<Arc<Grammar>, SchemaError> {
        let size = serde_json::to_string(schema).map_or(usize::MAX, |s| s.len());
        if size > MAX_SCHEMA_BYTES {
            return Err(SchemaError(format!(
                "the schema is {size} bytes, more than {MAX_SCHEMA_BYTES}"
            )));
        }
        let mut schema = schema.clone();
        if let Value::Object(map) = &mut schema {
            map.insert(
                "x-guidance".into(),
                serde_json::json!({"whitespace_flexible": false}),
            );
        }
        let grammar = TopLevelGrammar::from_json_schema(schema);
        // Building a parser compiles the schema: its errors surface here, not mid-generation.
        self.factory
            .create_parser(grammar.clone())
            .map_err(|e| SchemaError(e.to_string()))?;
        Ok(Arc::new(Grammar(grammar)))
    }

    /// Any JSON object (`response_format: {"type": "json_object"}`), its numbers within ±1e18
    /// so that every JSON parser reads them (the grammar of JSON alone allows `1e999`, which
    /// most parsers refuse; 1e18 is the widest range llguidance turns into a number grammar).
    pub fn any_object(&self) -> Arc<Grammar> {
        let value = serde_json::json!({"anyOf": [
            {"type": "string"},
            {"type": "number", "minimum": -1e18, "maximum": 1e18},
            {"type": "boolean"},
            {"type": "null"},
            {"type": "array", "items": {"$ref": "#/$defs/value"}},
            {"type": "object", "additionalProperties": {"$ref": "#/$defs/value"}}
        ]});
        self.compile(&serde_json::json!({
            "type": "object",
            "additionalProperties": {"$ref": "#/$defs/value"},
            "$defs": {"value": value}
        }))
        .expect("the schema of any object compiles")
    }

    /// A new generation under `grammar`.
    pub fn matcher(&self, grammar: &Grammar) -> Matcher {
        Matcher::new(self.factory.create_parser(grammar.0.clone()))
    }

    /// The tokens allowed next (end-of-sequence included once the document may end), as one
    /// flag per token id. All false when the matcher has failed or stopped.
    pub fn mask(&self, matcher: &mut Matcher) -> Vec<bool> {
        let mut allowed = vec![false; self.vocab];
        if let Ok(set) = matcher.compute_mask() {
            set.iter_set_entries(|i| {
                if let Some(a) = allowed.get_mut(i) {
                    *a = true;
                }
            });
        }
        allowed
    }

    /// Commits the token generated.
    pub fn commit(&self, matcher: &mut Matcher, token: u32) -> Result<(), SchemaError> {
        matcher
            .consume_token(token)
            .map_err(|e| SchemaError(e.to_string()))
    }

    /// Whether the document is complete and nothing but end-of-sequence may follow.
    pub fn is_finished(&self, matcher: &mut Matcher) -> bool {
        matcher.is_stopped()
            || (matcher.is_accepting().unwrap_or(false) && {
                let mask = self.mask(matcher);
                let eos = self.factory.tok_env().tok_trie().eos_token() as usize;
                mask.iter().enumerate().all(|(i, ok)| !ok || i == eos)
            })
    }

    /// `bytes` as tokens the way the grammar engine cuts forced text (the tokenizer, with the
    /// vocabulary's longest matches first).
    pub fn tokenize(&self, bytes: &[u8]) -> Vec<u32> {
        self.factory.tok_env().tokenize_bytes(bytes)
    }

    /// Whether `token` ends generation.
    pub fn is_eos(&self, token: u32) -> bool {
        self.factory
            .tok_env()
            .tok_trie()
            .eos_token_set()
            .is_allowed(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A byte-level vocabulary: every byte, a few JSON pieces, and an end-of-sequence token.
    fn structured() -> (Structured, Vec<Vec<u8>>) {
        let mut words: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
        for w in [
            "{\"", "\":", "\",\"", "\"}", "null", "true", "false", "name", "12",
        ] {
            words.push(w.as_bytes().to_vec());
        }
        let eos = words.len() as u32;
        let bytes = words.iter().cloned().map(Some).chain([None]).collect();
        (Structured::from_token_bytes(bytes, &[eos], None).unwrap(), words)
    }

    /// Whether the matcher takes `text`, cut into tokens as the engine cuts forced text, and may
    /// then end. (llguidance offers forced text only in that cut, so a test must feed it so.)
    fn accepts(s: &Structured, g: &Grammar, text: &str) -> bool {
        let mut m = s.matcher(g);
        for t in s.tokenize(text.as_bytes()) {
            if !s.mask(&mut m)[t as usize] || s.commit(&mut m, t).is_err() {
                return false;
            }
        }
        m.is_accepting().unwrap_or(false)
    }

    #[test]
    fn the_whole_schema_is_enforced() {
        let (s, _) = structured();
        let g = s
            .compile(&json!({
                "type": "object",
                "properties": {
                    "name": {"type": "string", "maxLength": 5, "pattern": "^[a-z]+$"},
                    "n": {"type": "integer", "minimum": -20, "maximum": 20},
                    "x": {"type": ["number", "null"]},
                    "kind": {"enum": ["a", "bc"]},
                    "tags": {"type": "array", "items": {"$ref": "#/$defs/tag"}, "maxItems": 2},
                    "ok": {"type": "boolean"}
                },
                "required": ["name", "n"],
                "additionalProperties": false,
                "$defs": {"tag": {"type": "string", "minLength": 1}}
            }))
            .unwrap();
        for good in [
            r#"{"name":"ab","n":-12}"#,
            r#"{"name":"z","n":0,"x":null,"kind":"bc","tags":["t","u"],"ok":false}"#,
            r#"{"name":"abc","n":3,"x":1.5e-3}"#,
        ] {
            assert!(accepts(&s, &g, good), "{good}");
        }
        for bad in [
            r#"{"name":"ab"}"#,                 // n is required
            r#"{"name":"abcdef","n":1}"#,       // maxLength 5
            r#"{"name":"AB","n":1}"#,           // pattern
            r#"{"name":"","n":1}"#,             // pattern: one letter at least
            r#"{"name":"a","n":21}"#,           // maximum
            r#"{"name":"a","n":1.5}"#,          // integer
            r#"{"name":"a","n":1,"kind":"b"}"#, // enum
            r#"{"name":"a","n":1,"tags":["a","b","c"]}"#,
            r#"{"name":"a","n":1,"tags":[""]}"#, // minLength 1
            r#"{"name":"a","n":01}"#,
            r#"{"name":"a","n":1,"zzz":1}"#, // undeclared
            r#"{ "name":"a","n":1}"#,        // compact only
        ] {
            assert!(!accepts(&s, &g, bad), "{bad}");
        }
    }

    #[test]
    fn recursive_and_hostile_schemas_are_bounded() {
        let (s, _) = structured();
        // A recursive tree through $ref.
        let tree = s
            .compile(
                &json!({"$ref": "#/$defs/node", "$defs": {"node": {"type": "object",
                "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
                "additionalProperties": false}}}),
            )
            .unwrap();
        assert!(accepts(&s, &tree, r#"{"kids":[{"kids":[]},{}]}"#));
        // 40,000 chained $refs: compiled within limits or refused, never a stack overflow.
        let mut defs = serde_json::Map::new();
        for i in 0..40_000 {
            defs.insert(format!("d{i}"), json!({"$ref": format!("#/$defs/d{}", i + 1)}));
        }
        defs.insert("d40000".into(), json!({"type": "integer"}));
        let started = std::time::Instant::now();
        let chain = s.compile(&json!({"$ref": "#/$defs/d0", "$defs": defs}));
        if let Ok(g) = &chain {
            assert!(accepts(&s, g, "7"));
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
        // A union of three self-references: each mask is bounded; generation goes on or stops.
        let union = s.compile(&json!({"$ref": "#/$defs/u", "$defs": {"u": {"anyOf": [
            {"$ref": "#/$defs/u"}, {"$ref": "#/$defs/u"}, {"$ref": "#/$defs/u"}]}}}));
        if let Ok(g) = union {
            let mut m = s.matcher(&g);
            let started = std::time::Instant::now();
            let _ = s.mask(&mut m);
            assert!(started.elapsed() < std::time::Duration::from_secs(5));
        }
    }

    #[test]
    fn any_object_compiles_and_bounds_its_numbers() {
        let (s, _) = structured();
        let g = s.any_object();
        assert!(accepts(
            &s,
            &g,
            r#"{"a":[1,{"b":null}],"c":"d","e":true,"f":-0.5}"#
        ));
        assert!(!accepts(&s, &g, r#"{"a":1e999}"#));
        assert!(!accepts(&s, &g, "[1]"));
    }

    #[test]
    fn bad_schemas_are_named() {
        let (s, _) = structured();
        let e = s
            .compile(&json!({"type": "object", "properties": {"a": {"type": "strin"}}}))
            .err()
            .unwrap();
        assert!(e.0.contains("strin"), "{e}");
        let e = s.compile(&json!({"$ref": "#/$defs/nothing"})).err().unwrap();
        assert!(!e.0.is_empty());
        let big = json!({"enum": ["x".repeat(MAX_SCHEMA_BYTES)]});
        assert!(s.compile(&big).err().unwrap().0.contains("more than"));
    }

    #[test]
    fn the_mask_allows_the_tokens_that_fit_and_then_the_end() {
        let (s, words) = structured();
        let g = s
            .compile(
                &json!({"type": "object", "properties": {"n": {"type": "integer"}},
                             "required": ["n"], "additionalProperties": false}),
            )
            .unwrap();
        let mut m = s.matcher(&g);
        let first = s.mask(&mut m);
        assert!(!first[b'[' as usize] && !first[b' ' as usize] && !first[b'1' as usize]);
        let eos = words.len();
        for t in s.tokenize(br#"{"n":12"#) {
            let allowed = s.mask(&mut m);
            assert!(allowed[t as usize], "{t}");
            assert!(!allowed[eos], "the document may not end yet");
            s.commit(&mut m, t).unwrap();
        }
        // After the number: more digits, or the closing brace; not a letter.
        let allowed = s.mask(&mut m);
        assert!(allowed[b'}' as usize] && allowed[b'3' as usize] && !allowed[b'a' as usize]);
        s.commit(&mut m, b'}' as u32).unwrap();
        assert!(s.is_finished(&mut m));
        assert!(s.is_eos(eos as u32));
    }
}
