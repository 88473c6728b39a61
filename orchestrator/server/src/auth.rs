//! Bearer tokens with roles for the HTTP API. Tokens are configured hashed (SHA-256) in a TOML
//! file; a request's token is hashed and compared with every configured hash in constant time.
//!
//! | role | may |
//! |---|---|
//! | analyst | ask (`POST /v1/questions`, the chat façade), read its own runs |
//! | auditor | read every run, its events, graph and decision log; never ask or change anything |
//! | operator | `/health`, `/metrics`, drain a worker |
//!
//! `/livez` and `/openapi.json` are open (probes and clients need them without a token).

use std::path::Path;

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Analyst,
    Auditor,
    Operator,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Analyst => "analyst",
            Role::Auditor => "auditor",
            Role::Operator => "operator",
        }
    }
}

/// One configured token.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    /// Who holds it (runs asked with it are theirs).
    pub name: String,
    pub role: Role,
    /// Hex SHA-256 of the token.
    pub sha256: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    #[serde(default, rename = "token")]
    pub tokens: Vec<TokenEntry>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("cannot read the token file {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("the token file {path} is not valid: {reason}")]
    Invalid { path: String, reason: String },
}

/// Who a request is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub name: String,
    pub role: Role,
}

/// The configured tokens, hashes decoded.
#[derive(Debug, Clone)]
pub struct Tokens {
    entries: Vec<(String, Role, [u8; 32])>,
}

impl Tokens {
    pub fn load(path: &Path) -> Result<Tokens, AuthError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| AuthError::Io {
            path: p.clone(),
            source,
        })?;
        let config: AuthConfig = toml::from_str(&text).map_err(|e| AuthError::Invalid {
            path: p.clone(),
            reason: e.to_string(),
        })?;
        Tokens::from_config(&config).map_err(|reason| AuthError::Invalid { path: p, reason })
    }

    pub fn from_config(config: &AuthConfig) -> Result<Tokens, String> {
        if config.tokens.is_empty() {
            return Err("it configures no [[token]]".into());
        }
        let mut entries = Vec::new();
        for t in &config.tokens {
            let bytes = (0..t.sha256.len())
                .step_by(2)
                .map(|i| {
                    t.sha256
                        .get(i..i + 2)
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                })
                .collect::<Option<Vec<u8>>>()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| format!("token {:?}: sha256 must be 64 hex digits", t.name))?;
            entries.push((t.name.clone(), t.role, bytes));
        }
        Ok(Tokens { entries })
    }

    /// The caller a bearer token belongs to. Every configured hash is compared, in constant
    /// time, whatever matches first.
    pub fn caller(&self, token: &str) -> Option<Caller> {
        let digest: [u8; 32] = {
            use sha2::Digest;
            sha2::Sha256::digest(token.as_bytes()).into()
        };
        let mut found = None;
        for (name, role, hash) in &self.entries {
            if bool::from(hash.ct_eq(&digest)) && found.is_none() {
                found = Some(Caller {
                    name: name.clone(),
                    role: *role,
                });
            }
        }
        found
    }
}

/// A new random token and the `[[token]]` entry that configures it.
pub fn new_token(name: &str, role: Role) -> (String, String) {
    let bytes: [u8; 32] = rand::random();
    let token: String = format!(
        "cb_{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let hash = cb_audit::sha256_hex(token.as_bytes());
    let entry = format!(
        "[[token]]\nname = {name:?}\nrole = \"{}\"\nsha256 = \"{hash}\"\n",
        role.as_str()
    );
    (token, entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_resolve_to_their_callers_and_nothing_else() {
        let (a, entry_a) = new_token("alice", Role::Analyst);
        let (o, entry_o) = new_token("ops", Role::Operator);
        let config: AuthConfig = toml::from_str(&format!("{entry_a}\n{entry_o}")).unwrap();
        let tokens = Tokens::from_config(&config).unwrap();
        assert_eq!(tokens.caller(&a).unwrap().role, Role::Analyst);
        assert_eq!(tokens.caller(&o).unwrap().name, "ops");
        assert!(tokens.caller("cb_wrong").is_none());
        assert!(tokens.caller(&a[..a.len() - 1]).is_none());
        let bad: AuthConfig =
            toml::from_str("[[token]]\nname = \"x\"\nrole = \"analyst\"\nsha256 = \"abc\"\n").unwrap();
        assert!(Tokens::from_config(&bad).unwrap_err().contains("64 hex digits"));
        assert!(
            toml::from_str::<AuthConfig>("[[token]]\nname = \"x\"\nrole = \"admin\"\nsha256 = \"\"\n")
                .is_err()
        );
    }
}
