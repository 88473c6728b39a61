//! The factory engines: hourly simulation with balance checks ([`simulate`]), optimal operation
//! by LP/MILP with HiGHS ([`optimize`]), and abatement cost curves with the least-cost set of
//! measures ([`macc`]). No I/O, no actors.

pub mod macc;
pub mod optimize;
pub mod simulate;
