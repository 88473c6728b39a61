//! The life-cycle assessment agent: ISO 14040/44 matrix LCA on real life-cycle inventory data.
//!
//! * [`engine`]: pure functions of matrix LCA (`A·s = f`, `g = B·s`, `h = cᵀ·g`), contributions
//!   and the supply-chain tree, on a sparse LU of the technosphere.
//! * [`method`]: impact methods (IPCC AR6 GWP100 bundled) and the matching of inventory flows to
//!   their factors by name, synonym, CAS number and compartment.

pub mod engine;
pub mod method;
