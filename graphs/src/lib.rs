//! The supply-chain dependency graph of a Carbon Butler run.
//!
//! Every agent reports a [`GraphFragment`] with its results; a run's fragments merge into one
//! petgraph graph here: nodes are regions, sectors, final demand and the atmosphere, edges are
//! flows (embodied emissions, territorial emissions, supply relations) that carry
//! [`Quantity`]s with their provenance. The graph exports as JSON, Graphviz DOT and GraphML.
//!
//! Nodes with the same id are the same node: their attributes and quantities are united.
//! Edges are kept as reported (parallel edges are allowed); an exact duplicate is dropped.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use cb_protocol::{EdgeKind, GraphEdge, GraphFragment, GraphNode, NodeKind, Quantity};
use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use petgraph::visit::IntoEdgeReferences;
use serde::Serialize;

/// Why a fragment could not be merged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GraphError {
    #[error("edge {from:?} → {to:?} refers to node {missing:?}, which no fragment defines")]
    UnknownNode {
        from: String,
        to: String,
        missing: String,
    },
    #[error("node {id:?} is reported as both {first:?} and {second:?}")]
    KindConflict {
        id: String,
        first: NodeKind,
        second: NodeKind,
    },
}

/// The run's graph.
#[derive(Debug, Default, Clone)]
pub struct SupplyChainGraph {
    graph: StableDiGraph<GraphNode, GraphEdge>,
    index: HashMap<String, NodeIndex>,
}

impl SupplyChainGraph {
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds the graph from the fragments of a run, in order.
    pub fn from_fragments<'a>(
        fragments: impl IntoIterator<Item = &'a GraphFragment>,
    ) -> Result<Self, GraphError> {
        let mut g = Self::new();
        for f in fragments {
            g.merge(f)?;
        }
        Ok(g)
    }

    /// Merges one fragment: its nodes first (united with existing ones), then its edges.
    pub fn merge(&mut self, fragment: &GraphFragment) -> Result<(), GraphError> {
        for node in &fragment.nodes {
            self.add_node(node.clone())?;
        }
        for edge in &fragment.edges {
            let lookup = |id: &str| {
                self.index
                    .get(id)
                    .copied()
                    .ok_or_else(|| GraphError::UnknownNode {
                        from: edge.from.clone(),
                        to: edge.to.clone(),
                        missing: id.to_string(),
                    })
            };
            let (a, b) = (lookup(&edge.from)?, lookup(&edge.to)?);
            let duplicate = self.graph.edges_connecting(a, b).any(|e| e.weight() == edge);
            if !duplicate {
                self.graph.add_edge(a, b, edge.clone());
            }
        }
        Ok(())
    }

    fn add_node(&mut self, node: GraphNode) -> Result<NodeIndex, GraphError> {
        match self.index.get(&node.id) {
            Some(&ix) => {
                let existing = &mut self.graph[ix];
                if existing.kind != node.kind {
                    return Err(GraphError::KindConflict {
                        id: node.id,
                        first: existing.kind,
                        second: node.kind,
                    });
                }
                existing.attributes.extend(node.attributes);
                existing.quantities.extend(node.quantities);
                Ok(ix)
            }
            None => {
                let id = node.id.clone();
                let ix = self.graph.add_node(node);
                self.index.insert(id, ix);
                Ok(ix)
            }
        }
    }

    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// The node with this id.
    pub fn node(&self, id: &str) -> Option<&GraphNode> {
        self.index.get(id).map(|&ix| &self.graph[ix])
    }

    /// Nodes of one kind.
    pub fn nodes_of_kind(&self, kind: NodeKind) -> impl Iterator<Item = &GraphNode> {
        self.graph.node_weights().filter(move |n| n.kind == kind)
    }

    /// Edges leaving a node.
    pub fn edges_from(&self, id: &str) -> Vec<&GraphEdge> {
        match self.index.get(id) {
            Some(&ix) => self.graph.edges(ix).map(|e| e.weight()).collect(),
            None => Vec::new(),
        }
    }

    /// The `n` edges of a kind with the largest quantities.
    pub fn largest_edges(&self, kind: EdgeKind, n: usize) -> Vec<&GraphEdge> {
        let mut edges: Vec<&GraphEdge> = self
            .graph
            .edge_weights()
            .filter(|e| e.kind == kind && e.quantity.is_some())
            .collect();
        edges.sort_by(|a, b| {
            let va = a.quantity.as_ref().map_or(0.0, |q| q.value.abs());
            let vb = b.quantity.as_ref().map_or(0.0, |q| q.value.abs());
            vb.total_cmp(&va)
        });
        edges.truncate(n);
        edges
    }

    /// The graph as JSON: `{"nodes": [...], "edges": [...]}` with every attribute and quantity.
    pub fn to_json(&self) -> serde_json::Value {
        #[derive(Serialize)]
        struct Out<'a> {
            nodes: Vec<&'a GraphNode>,
            edges: Vec<&'a GraphEdge>,
        }
        let out = Out {
            nodes: self.graph.node_weights().collect(),
            edges: self.graph.edge_weights().collect(),
        };
        serde_json::to_value(out).expect("graph types always serialise")
    }

    /// The graph in Graphviz DOT.
    pub fn to_dot(&self) -> String {
        let mut s =
            String::from("digraph supply_chain {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n");
        for ix in self.graph.node_indices() {
            let n = &self.graph[ix];
            let shape = match n.kind {
                NodeKind::Region => "box",
                NodeKind::Sector => "ellipse",
                NodeKind::FinalDemand => "house",
                NodeKind::Atmosphere => "cloud",
                NodeKind::Process => "component",
                NodeKind::Sink => "invtriangle",
                NodeKind::PlantUnit => "box3d",
                NodeKind::Supply => "cylinder",
            };
            let _ = writeln!(
                s,
                "  \"{}\" [label=\"{}\", kind=\"{}\", shape={}];",
                dot_escape(&n.id),
                dot_escape(&n.label),
                kind_name(&n.kind),
                shape
            );
        }
        for e in self.graph.edge_references() {
            let w = e.weight();
            let label = w.quantity.as_ref().map(short_quantity).unwrap_or_default();
            let _ = writeln!(
                s,
                "  \"{}\" -> \"{}\" [label=\"{}\", kind=\"{}\"];",
                dot_escape(&w.from),
                dot_escape(&w.to),
                dot_escape(&label),
                kind_name(&w.kind)
            );
        }
        s.push_str("}\n");
        s
    }

    /// The graph in GraphML, with node kind, label and quantities (as JSON) as data keys and
    /// edge kind, value, unit and provenance.
    pub fn to_graphml(&self) -> String {
        let mut s = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\" \
             xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
             xsi:schemaLocation=\"http://graphml.graphdrawing.org/xmlns \
             http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd\">\n",
        );
        for (id, on, name, ty) in [
            ("n_kind", "node", "kind", "string"),
            ("n_label", "node", "label", "string"),
            ("n_attributes", "node", "attributes", "string"),
            ("n_quantities", "node", "quantities", "string"),
            ("e_kind", "edge", "kind", "string"),
            ("e_value", "edge", "value", "double"),
            ("e_unit", "edge", "unit", "string"),
            ("e_provenance", "edge", "provenance", "string"),
        ] {
            let _ = writeln!(
                s,
                "  <key id=\"{id}\" for=\"{on}\" attr.name=\"{name}\" attr.type=\"{ty}\"/>"
            );
        }
        s.push_str("  <graph id=\"supply_chain\" edgedefault=\"directed\">\n");
        for n in self.graph.node_weights() {
            let _ = writeln!(s, "    <node id=\"{}\">", xml_escape(&n.id));
            data(&mut s, "n_kind", kind_name(&n.kind));
            data(&mut s, "n_label", &n.label);
            if !n.attributes.is_empty() {
                data(&mut s, "n_attributes", &json_string(&n.attributes));
            }
            if !n.quantities.is_empty() {
                data(&mut s, "n_quantities", &json_string(&n.quantities));
            }
            s.push_str("    </node>\n");
        }
        for (i, e) in self.graph.edge_weights().enumerate() {
            let _ = writeln!(
                s,
                "    <edge id=\"e{i}\" source=\"{}\" target=\"{}\">",
                xml_escape(&e.from),
                xml_escape(&e.to)
            );
            data(&mut s, "e_kind", kind_name(&e.kind));
            if let Some(q) = &e.quantity {
                data(&mut s, "e_value", &q.value.to_string());
                data(&mut s, "e_unit", &q.unit);
                data(&mut s, "e_provenance", &json_string(&q.provenance));
            }
            s.push_str("    </edge>\n");
        }
        s.push_str("  </graph>\n</graphml>\n");
        s
    }
}

fn data(s: &mut String, key: &str, value: &str) {
    let _ = writeln!(s, "      <data key=\"{key}\">{}</data>", xml_escape(value));
}

fn json_string<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("graph attributes always serialise")
}

fn kind_name<T: Serialize>(kind: &T) -> &'static str {
    // The serde names (snake_case) are the names used in every export.
    match serde_json::to_value(kind).ok().as_ref().and_then(|v| v.as_str()) {
        Some(name) => KIND_NAMES
            .iter()
            .find(|k| **k == name)
            .copied()
            .unwrap_or("unknown"),
        None => "unknown",
    }
}

const KIND_NAMES: &[&str] = &[
    "region",
    "sector",
    "final_demand",
    "atmosphere",
    "process",
    "embodied_emissions",
    "territorial_emissions",
    "supplies",
    "contains",
];

fn short_quantity(q: &Quantity) -> String {
    format!("{:.4e} {}", q.value, q.unit)
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Per-kind counts of nodes, for summaries.
pub fn node_kind_counts(g: &SupplyChainGraph) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for n in g.graph.node_weights() {
        *m.entry(kind_name(&n.kind)).or_insert(0) += 1;
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use cb_protocol::Provenance;

    fn q(v: f64) -> Quantity {
        Quantity::new(v, "t CO2", Provenance::new("test", "1", "hand"))
    }

    fn fragment() -> GraphFragment {
        GraphFragment {
            nodes: vec![
                GraphNode::new("region:A", NodeKind::Region, "A & <co>"),
                GraphNode::new("region:B", NodeKind::Region, "B \"quoted\""),
            ],
            edges: vec![GraphEdge {
                from: "region:A".into(),
                to: "region:B".into(),
                kind: EdgeKind::EmbodiedEmissions,
                quantity: Some(q(5.0)),
            }],
        }
    }

    #[test]
    fn merging_unites_nodes_and_drops_exact_duplicate_edges() {
        let mut second = fragment();
        second.nodes[0].attributes.insert("iso3".into(), "AAA".into());
        second.edges.push(GraphEdge {
            from: "region:B".into(),
            to: "region:A".into(),
            kind: EdgeKind::EmbodiedEmissions,
            quantity: Some(q(2.0)),
        });
        let g = SupplyChainGraph::from_fragments([&fragment(), &second]).unwrap();
        assert_eq!(g.node_count(), 2);
        assert_eq!(g.edge_count(), 2);
        assert_eq!(g.node("region:A").unwrap().attributes["iso3"], "AAA");
        assert_eq!(
            g.largest_edges(EdgeKind::EmbodiedEmissions, 1)[0].from,
            "region:A"
        );
    }

    #[test]
    fn an_edge_to_an_unknown_node_is_an_error() {
        let mut f = fragment();
        f.edges[0].to = "region:C".into();
        let err = SupplyChainGraph::from_fragments([&f]).unwrap_err();
        assert!(err.to_string().contains("region:C"), "{err}");
    }

    #[test]
    fn a_node_reported_with_two_kinds_is_an_error() {
        let mut f = fragment();
        f.nodes.push(GraphNode::new("region:A", NodeKind::Sector, "A"));
        assert!(matches!(
            SupplyChainGraph::from_fragments([&f]),
            Err(GraphError::KindConflict { .. })
        ));
    }

    #[test]
    fn exports_escape_labels_and_carry_quantities() {
        let g = SupplyChainGraph::from_fragments([&fragment()]).unwrap();
        let json = g.to_json();
        assert_eq!(json["nodes"].as_array().unwrap().len(), 2);
        assert_eq!(json["edges"][0]["quantity"]["value"], 5.0);
        let dot = g.to_dot();
        assert!(dot.contains(r#"label="B \"quoted\"""#), "{dot}");
        assert!(dot.contains("\"region:A\" -> \"region:B\""), "{dot}");
        let graphml = g.to_graphml();
        assert!(graphml.contains("A &amp; &lt;co&gt;"), "{graphml}");
        assert!(graphml.contains("<data key=\"e_value\">5</data>"), "{graphml}");
        assert_eq!(graphml.matches("<node ").count(), 2);
        assert_eq!(node_kind_counts(&g)["region"], 2);
    }
}
