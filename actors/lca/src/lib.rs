//! The life-cycle assessment agent: ISO 14040/44 matrix LCA on real life-cycle inventory data.
//!
//! * [`engine`]: pure functions of matrix LCA (`A·s = f`, `g = B·s`, `h = cᵀ·g`), contributions
//!   and the supply-chain tree, on a sparse LU of the technosphere.

pub mod engine;
