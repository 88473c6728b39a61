//! The life-cycle assessment agent: ISO 14040/44 matrix LCA on real life-cycle inventory data.
//!
//! * [`engine`]: pure functions of matrix LCA (`A·s = f`, `g = B·s`, `h = cᵀ·g`), contributions
//!   and the supply-chain tree, on a sparse LU of the technosphere.
//! * [`agent`]: an `LcaTask` in, Quantities and a graph fragment out; the actor.
//! * [`assessment`]: a database made ready (matrices built, technosphere factorised once) and the
//!   footprint of a product.
//! * [`cbam`]: EU CBAM embedded emissions, default values, benchmarks, certificates and cost.
//! * [`data`]: openLCA JSON-LD import into the matrices, with unit conversion and linking.
//! * [`method`]: impact methods (IPCC AR6 GWP100 and GWP20 bundled) and the matching of inventory flows to
//!   their factors by name, synonym, CAS number and compartment.
//! * [`report`]: a footprint as an ISO 14044 report (JSON).
//! * [`cli`]: `cbutler lca …` and `cbutler cbam …`.
//!
//! It imports the protocol, the agent runtime and the uncertainty trait, never the orchestrator's
//! crates; nothing under [`engine`] or [`cbam`]'s formulas imports an actor runtime, async code or I/O.

pub mod agent;
pub mod assessment;
pub mod cbam;
pub mod cli;
pub mod data;
pub mod eeio;
pub mod engine;
pub mod method;
pub mod report;
pub mod uncertainty;
