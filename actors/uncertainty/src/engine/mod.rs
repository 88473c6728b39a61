//! The uncertainty engines: distributions, sample designs, statistics, propagation, Sobol
//! indices and the pedigree matrix. Pure functions; parallel by rayon, deterministic by seed.

pub mod distribution;
pub mod pedigree;
pub mod propagate;
pub mod sampling;
pub mod sobol;
pub mod stats;
