//! Carbon Butler's HTTP API (`cbutler serve`).
//!
//! It owns the axum routes ([`routes`]: thin handlers that translate HTTP to and from the
//! [`RunService`]; their bodies in [`api`]), bearer tokens and roles ([`auth`]), the TCP
//! listener with its connection bounds ([`listen`]), the OpenAPI document ([`openapi`]), the
//! web page compiled into the binary ([`web`]), and [`RunService`] ([`service`]: accept a
//! question, drive its run through the core with its decision log, resume unfinished runs,
//! metrics). It reaches a cluster only through the core's traits (`RunBackend`,
//! `WorkerRegistry`, `TaskBacklog`) and the decision log's `AuditBackend`: it must never import
//! the cluster crate, redis or the binary.

pub mod api;
pub mod auth;
pub mod listen;
pub mod openapi;
pub mod routes;
pub mod service;
pub mod web;

pub use routes::{AppState, metrics_router, router};
pub use service::{Quotas, RunService, ServiceConfig};
