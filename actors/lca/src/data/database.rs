//! The inventory as imported: activities, elementary flows, cut-offs and the remarks on what was
//! decided, with the errors an import can end in. Both readers build a [`Database`].

use std::collections::HashMap;

/// Every regular file below a folder, never following a symlink, bounded in depth and count.
pub(crate) use cb_agent_runtime::bounded::files_below;

/// Why a database could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LciError {
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
    #[error("{path}: {reason}")]
    Format { path: String, reason: String },
    #[error("{0}")]
    Model(String),
}

/// One activity (a column of A and B), producing one reference product (the row of A with the
/// same index).
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub id: String,
    pub name: String,
    pub location: Option<String>,
    pub category: Vec<String>,
    /// The reference product (or treated waste) flow.
    pub product_id: String,
    pub product_name: String,
    /// Reference unit of the product.
    pub unit: String,
    /// Amount of the reference product one run of the activity makes (the diagonal of A).
    pub output: f64,
}

/// An elementary flow (a row of B).
#[derive(Debug, Clone, PartialEq)]
pub struct ElementaryFlow {
    pub id: String,
    pub name: String,
    pub category: Vec<String>,
    pub cas: Option<String>,
    pub unit: String,
}

/// A product input that no process in the database provides: left out of the system, reported.
#[derive(Debug, Clone, PartialEq)]
pub struct CutOff {
    pub activity: usize,
    pub flow: String,
    pub amount: f64,
    pub unit: String,
}

/// A database ready for matrix LCA.
#[derive(Debug, Clone, Default)]
pub struct Database {
    pub name: String,
    pub activities: Vec<Activity>,
    pub elementary_flows: Vec<ElementaryFlow>,
    /// (product row, activity column, amount): outputs positive, inputs negative.
    pub technosphere: Vec<(usize, usize, f64)>,
    /// (elementary flow row, activity column, amount) as reported.
    pub biosphere: Vec<(usize, usize, f64)>,
    pub cut_offs: Vec<CutOff>,
    /// Decisions taken while importing (allocation applied, providers chosen).
    pub remarks: Vec<Remark>,
    /// Activities chosen as the provider of a product that several activities make.
    pub chosen_providers: Vec<usize>,
}

/// A decision taken while importing, about one activity or the whole database.
#[derive(Debug, Clone, PartialEq)]
pub struct Remark {
    pub activity: Option<usize>,
    pub text: String,
}

/// How to treat a process with several product outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MultiOutput {
    /// Refuse: an error naming every such process (the default).
    #[default]
    Error,
    /// Keep the reference product only, with the process's physical allocation factor for it
    /// where the data has one, and all burdens otherwise; each case is recorded as a remark.
    AllocateOrReference,
}

/// Choices the user makes where the data is ambiguous.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    pub multi_output: MultiOutput,
    /// Provider to use for a product with several producers: product flow name or id →
    /// process name or id.
    pub providers: HashMap<String, String>,
}

/// The error for processes with several product outputs when no allocation was chosen.
pub(crate) fn multi_output_error(what: &str, names: &[String]) -> LciError {
    LciError::Model(format!(
        "{} {what} have several product outputs and no allocation was chosen: {}{}. Choose an allocation \
         policy (e.g. --multi-output allocate) to import them.",
        names.len(),
        names
            .iter()
            .take(10)
            .map(|m| format!("{m:?}"))
            .collect::<Vec<_>>()
            .join(", "),
        if names.len() > 10 { ", …" } else { "" }
    ))
}

/// The error for products that several activities make, with no provider chosen.
pub(crate) fn ambiguous_providers_error(
    ambiguous: &std::collections::BTreeMap<String, Vec<String>>,
) -> LciError {
    let list: Vec<String> = ambiguous
        .iter()
        .map(|(product, procs)| {
            let procs: Vec<String> = procs.iter().map(|p| format!("{p:?}")).collect();
            format!("{product:?} is produced by {}", procs.join(" and "))
        })
        .collect();
    LciError::Model(format!(
        "products with several producers and no default provider: {}. Choose a provider for each \
         (e.g. --provider \"PRODUCT=PROCESS\").",
        list.join("; ")
    ))
}

impl Database {
    /// Finds activities by name (exact, then case-insensitive, then containing the text), or
    /// by product name.
    pub fn find(&self, text: &str) -> Vec<usize> {
        let t = text.trim();
        let exact: Vec<usize> = (0..self.activities.len())
            .filter(|&i| self.activities[i].name == t || self.activities[i].id == t)
            .collect();
        if !exact.is_empty() {
            return exact;
        }
        let lower = t.to_lowercase();
        let ci: Vec<usize> = (0..self.activities.len())
            .filter(|&i| {
                self.activities[i].name.to_lowercase() == lower
                    || self.activities[i].product_name.to_lowercase() == lower
            })
            .collect();
        if !ci.is_empty() {
            return ci;
        }
        // Containing the text: the best-ranked matches (product name starting with the text, then
        // process name starting with it, then containing it; shorter names first among equals).
        let rank = |i: usize| {
            let (name, product) = (
                self.activities[i].name.to_lowercase(),
                self.activities[i].product_name.to_lowercase(),
            );
            if product.starts_with(&lower) {
                3
            } else if name.starts_with(&lower) {
                2
            } else if name.contains(&lower) || product.contains(&lower) {
                1
            } else {
                0
            }
        };
        let best = (0..self.activities.len()).map(rank).max().unwrap_or(0);
        if best == 0 {
            return Vec::new();
        }
        let top: Vec<usize> = (0..self.activities.len()).filter(|&i| rank(i) == best).collect();
        if best == 3 {
            // Among products starting with the text, one whose product name is shortest is meant
            // ("diesel" → "Diesel, at refinery" before "Diesel, combusted in industrial boiler").
            let shortest = top
                .iter()
                .map(|&i| self.activities[i].product_name.len())
                .min()
                .unwrap_or(0);
            let narrowed: Vec<usize> = top
                .iter()
                .copied()
                .filter(|&i| self.activities[i].product_name.len() == shortest)
                .collect();
            if narrowed.len() == 1 {
                return narrowed;
            }
            // Several makers of that product: the one chosen as its provider at import.
            let chosen: Vec<usize> = narrowed
                .iter()
                .copied()
                .filter(|i| self.chosen_providers.contains(i))
                .collect();
            if chosen.len() == 1 {
                return chosen;
            }
        }
        top
    }
}
