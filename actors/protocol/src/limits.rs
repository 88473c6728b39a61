//! The hard caps on what one request may cost. Every path that accepts work — the rule-based
//! planner, the LLM planner's gate, [`Plan::validate`](crate::Plan::validate), the agents'
//! loaders — enforces the same numbers, and the README's "Security" section lists them. A
//! server's flags may only tighten them.

/// Tasks in one plan. The largest plan the rules make has 6; an LLM plan may not fan out further.
pub const MAX_TASKS_PER_PLAN: usize = 32;

/// Monte Carlo draws of a footprint or a plant run (each draw is a solve or a simulation).
pub const MAX_MC_ITERATIONS: u32 = 100_000;

/// Draws of a product of uncertain factors (cheap: one multiplication per factor and draw).
pub const MAX_PRODUCT_DRAWS: u32 = 1_000_000;

/// Sobol base samples N: memory grows with N·(d + 2) model runs kept for the estimators (a
/// million samples took about 1.6 GB).
pub const MAX_SOBOL_SAMPLES: u32 = 100_000;

/// Bootstrap resamples of the Sobol indices.
pub const MAX_SOBOL_BOOTSTRAP: u32 = 10_000;

/// Samples × bootstrap resamples: each resample re-reads every sample, so this bounds the time
/// (100,000 samples with 1,000 resamples).
pub const MAX_SOBOL_WORK: u64 = 100_000_000;

/// Depth of a folder walk below an MRIO or inventory root.
pub const MAX_FOLDER_DEPTH: usize = 12;

/// Files and folders one walk may visit (USLCI as JSON-LD has about 6,000).
pub const MAX_FOLDER_ENTRIES: usize = 200_000;

/// Bytes one compressed file or archive entry may inflate to (EXIOBASE 3's largest text table is
/// about 1.2 GB).
pub const MAX_INFLATED_BYTES: u64 = 4 << 30;

/// Industries (or products) of an MRIO: EXIOBASE 3 has 49 × 200 = 9,800.
pub const MAX_MRIO_SECTORS: usize = 20_000;

/// Activities of an inventory database (ecoinvent 3 has about 25,000).
pub const MAX_LCI_ACTIVITIES: usize = 200_000;
