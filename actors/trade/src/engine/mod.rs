//! Environmentally-extended multi-regional input-output analysis as pure functions.
//!
//! One function per equation, the equation in its doc comment, following pymrio's
//! `tools/iomath.py` definitions exactly. Notation (pymrio's):
//!
//! | symbol | shape | meaning |
//! |---|---|---|
//! | `Z` | n × n | inter-industry flows (row supplies column) |
//! | `Y` | n × m | final demand, columns are (consuming region, category) |
//! | `x` | n | total output |
//! | `A` | n × n | technical coefficients |
//! | `L` | n × n | Leontief inverse (I − A)⁻¹ — never formed unless asked |
//! | `F` | k × n | stressors (emissions) of industries; `F_Y` k × m: of final demand |
//! | `S` | k × n | stressor coefficients; `M = S·L` multipliers |
//!
//! Sectors are ordered region-major: index `i = region · n_sectors + sector`
//! ([`Blocks`]). Nothing here does I/O, async or actor work.
//!
//! The accounts never form `L`: they need `S·L` (a transposed solve with k right-hand sides) and
//! `L` applied to a few demand matrices (solves with R right-hand sides), both served by one LU
//! factorisation of `(I − A)` ([`LeontiefFactor`]).

mod accounts;
mod avoided;
mod leontief;
mod paths;
mod shape;

pub use accounts::*;
pub use avoided::*;
pub use leontief::*;
pub use paths::*;
pub use shape::*;
