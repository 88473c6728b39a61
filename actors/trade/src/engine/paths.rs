//! Structural path analysis (Defourny & Thorbecke 1984; Lenzen & Crawford 2009).
//!
//! The Leontief series `S·L·y = S·y + S·A·y + S·A²·y + …` is unrolled into paths: the path
//! `j₀ ← j₁ ← … ← j_t` (final product `j₀`, emitting supplier `j_t`) carries
//! `s_{j_t}·A[j_t, j_{t−1}]·…·A[j₁, j₀]·y_{j₀}`. The subtree behind a node reached with weight
//! `w` holds `m_j·w` in all (`m = S·L`), which bounds every path below it: subtrees under
//! `threshold × total` are pruned.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use faer::{ColRef, MatRef, RowRef};

/// One supply-chain path: `nodes[0]` is the final product, `nodes[last]` the emitting industry.
#[derive(Debug, Clone, PartialEq)]
pub struct SupplyPath {
    pub nodes: Vec<usize>,
    /// Emissions along this path: `s_{j_t}·A[j_t, j_{t−1}]·…·y_{j₀}`.
    pub value: f64,
}

/// The result of a structural path analysis.
#[derive(Debug, Clone)]
pub struct PathAnalysis {
    /// The largest paths, largest first.
    pub paths: Vec<SupplyPath>,
    /// The total the paths decompose: `m·y`.
    pub total: f64,
    /// Nodes of the path tree visited.
    pub visited: usize,
    /// True when the visit limit stopped the search before the tree was exhausted.
    pub truncated: bool,
}

/// Parameters of a structural path analysis.
#[derive(Debug, Clone, Copy)]
pub struct PathSearch {
    /// Longest path, in supply steps (0 = only direct emissions of the final producers).
    pub depth: usize,
    /// How many paths to keep.
    pub top: usize,
    /// Subtrees below `threshold × total` are not explored.
    pub threshold: f64,
    /// Hard limit on visited nodes, so a zero threshold cannot run away.
    pub max_visits: usize,
}

#[derive(PartialEq)]
struct Ranked(f64, Vec<usize>);
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// Top paths of `s·L·y` to `search.depth` supply steps.
///
/// `a` the technical coefficients, `s` a stressor's coefficients (a row of `S`), `m` its
/// multipliers (the same row of `M = S·L`), `y` the final demand whose footprint is decomposed.
pub fn structural_paths(
    a: MatRef<'_, f64>,
    s: RowRef<'_, f64>,
    m: RowRef<'_, f64>,
    y: ColRef<'_, f64>,
    search: PathSearch,
) -> PathAnalysis {
    let n = a.nrows();
    let total: f64 = (0..n).map(|j| m[j] * y[j]).sum();
    let cutoff = search.threshold * total.abs();
    let mut best: BinaryHeap<Reverse<Ranked>> = BinaryHeap::new();
    let mut visited = 0usize;
    let mut truncated = false;
    // Depth-first over (path, weight) where weight = A-chain × y.
    let mut stack: Vec<(Vec<usize>, f64)> = (0..n)
        .filter(|&j| y[j] != 0.0 && (m[j] * y[j]).abs() >= cutoff)
        .map(|j| (vec![j], y[j]))
        .collect();
    while let Some((path, w)) = stack.pop() {
        visited += 1;
        if visited > search.max_visits {
            truncated = true;
            break;
        }
        let j = *path.last().expect("paths are never empty");
        let value = s[j] * w;
        if value != 0.0 {
            let keep = best.len() < search.top || best.peek().is_some_and(|Reverse(r)| value.abs() > r.0);
            if keep {
                best.push(Reverse(Ranked(value.abs(), path.clone())));
                if best.len() > search.top {
                    best.pop();
                }
            }
        }
        if path.len() > search.depth {
            continue;
        }
        let col = a.col(j);
        for i in 0..n {
            let aij = col[i];
            if aij == 0.0 {
                continue;
            }
            let wi = aij * w;
            if (m[i] * wi).abs() >= cutoff && (m[i] * wi) != 0.0 {
                let mut next = path.clone();
                next.push(i);
                stack.push((next, wi));
            }
        }
    }
    let mut paths: Vec<SupplyPath> = best
        .into_iter()
        .map(|Reverse(Ranked(_, nodes))| {
            let value = path_value(a, s, y, &nodes);
            SupplyPath { nodes, value }
        })
        .collect();
    paths.sort_by(|p, q| q.value.abs().total_cmp(&p.value.abs()));
    PathAnalysis {
        paths,
        total,
        visited,
        truncated,
    }
}

/// The value of one path: `s_{j_t}·A[j_t, j_{t−1}]·…·A[j₁, j₀]·y_{j₀}`.
pub fn path_value(a: MatRef<'_, f64>, s: RowRef<'_, f64>, y: ColRef<'_, f64>, nodes: &[usize]) -> f64 {
    let mut w = y[nodes[0]];
    for step in nodes.windows(2) {
        w *= a[(step[1], step[0])];
    }
    s[*nodes.last().expect("paths are never empty")] * w
}
