use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::quantity::Quantity;

/// What a node of the supply-chain dependency graph stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// A country, a group of countries or an MRIO region.
    Region,
    /// An industry or product group in a region.
    Sector,
    /// Final demand (consumers, government, investment) of a region.
    FinalDemand,
    /// The atmosphere, where emissions go.
    Atmosphere,
    /// A unit process of a life-cycle inventory.
    Process,
    /// A natural sink (forest, soil, harvested wood) that takes carbon out of the atmosphere.
    Sink,
    /// A unit of an industrial plant (furnace, kiln, electrolyser, …).
    PlantUnit,
    /// Where a plant buys energy or inputs: the grid, a fuel, a raw material.
    Supply,
}

/// What an edge of the graph stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    /// Emissions embodied in goods and services flowing from producer to consumer.
    EmbodiedEmissions,
    /// Emissions released on a territory (production-based).
    TerritorialEmissions,
    /// A supply relation in a supply chain (the supplier is the edge's source).
    Supplies,
    /// A region contains a sector.
    Contains,
    /// Carbon taken out of the atmosphere by a sink (the atmosphere is the edge's source).
    Removal,
    /// Emissions that exported generating equipment avoids where it is installed, over its
    /// lifetime (the exporter is the edge's source).
    AvoidedEmissions,
}

/// A node as an agent reports it. Ids are global: the same id from two agents is the same node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GraphNode {
    pub id: String,
    pub kind: NodeKind,
    pub label: String,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    #[serde(default)]
    pub quantities: BTreeMap<String, Quantity>,
}

/// A directed edge as an agent reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GraphEdge {
    pub from: String,
    pub to: String,
    pub kind: EdgeKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Quantity>,
}

/// The part of the supply-chain graph that one task contributes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GraphFragment {
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
}

impl GraphNode {
    pub fn new(id: impl Into<String>, kind: NodeKind, label: impl Into<String>) -> Self {
        GraphNode {
            id: id.into(),
            kind,
            label: label.into(),
            attributes: BTreeMap::new(),
            quantities: BTreeMap::new(),
        }
    }
}
