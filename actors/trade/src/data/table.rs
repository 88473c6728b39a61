//! The labelled text matrices that pymrio writes (and EXIOBASE and WIOD use): `h` header lines
//! whose cells after the `c` index columns are column labels (one line per label level), an
//! optional line of index names, then data lines of `c` row labels followed by numbers.
//!
//! ```text
//! region  <tab>          <tab> reg1 <tab> reg1 ...
//! sector  <tab>          <tab> food <tab> mining ...
//! region  <tab> sector   <tab>      <tab>  ...
//! reg1    <tab> food     <tab> 23697.2 <tab> 57.5 ...
//! ```

use std::io::BufRead;

use faer::Mat;

use super::error::DataError;

/// A matrix with multi-level row and column labels.
#[derive(Debug, Clone)]
pub struct LabeledMatrix {
    /// One entry per row; each entry has one string per index level.
    pub rows: Vec<Vec<String>>,
    /// One entry per column; each entry has one string per header level.
    pub cols: Vec<Vec<String>>,
    pub values: Mat<f64>,
}

/// How a table is laid out: index columns and header lines. `None` fields are inferred.
#[derive(Debug, Clone, Copy, Default)]
pub struct Layout {
    pub index_cols: Option<usize>,
    pub header_rows: Option<usize>,
}

fn is_number(cell: &str) -> bool {
    let t = cell.trim();
    !t.is_empty() && t.parse::<f64>().is_ok()
}

/// Parses a labelled matrix from `reader`; `file` names it in errors, `sep` is the separator.
pub fn parse_labeled_matrix(
    mut reader: impl BufRead,
    file: &str,
    sep: char,
    layout: Layout,
) -> Result<LabeledMatrix, DataError> {
    let bad = |line: usize, reason: String| DataError::Malformed {
        file: file.to_string(),
        line,
        reason,
    };
    let mut line_buf = String::new();
    let mut lineno = 0usize;
    let mut header: Vec<Vec<String>> = Vec::new();
    let mut first_data: Option<Vec<String>> = None;

    // Header part: read lines until the first data line.
    let mut index_cols = layout.index_cols;
    loop {
        line_buf.clear();
        let read = reader
            .read_line(&mut line_buf)
            .map_err(|e| DataError::io(file, e))?;
        if read == 0 {
            break;
        }
        lineno += 1;
        let cells: Vec<String> = split_line(&line_buf, sep);
        if cells.iter().all(|c| c.is_empty()) {
            continue;
        }
        if index_cols.is_none() {
            index_cols = infer_index_cols(&header, &cells);
        }
        let Some(c) = index_cols else {
            header.push(cells);
            continue;
        };
        let rest = cells.get(c..).unwrap_or(&[]);
        if !rest.is_empty() && rest.iter().all(|x| x.is_empty()) {
            // The line of index names that pandas writes under multi-level headers.
            continue;
        }
        let is_data = match layout.header_rows {
            Some(h) => header.len() >= h,
            None => !header.is_empty() && rest.iter().all(|x| is_number(x)),
        };
        if is_data {
            first_data = Some(cells);
            break;
        }
        header.push(cells);
    }
    let c = index_cols.ok_or_else(|| bad(lineno, "cannot tell where the row labels end".into()))?;
    // A line of index names read before the index columns were known is not a header level.
    header.retain(|cells| {
        cells
            .get(c..)
            .is_none_or(|rest| !rest.iter().all(|x| x.is_empty()))
    });
    if header.is_empty() {
        return Err(bad(lineno, "no header line with column labels".into()));
    }
    let ncols = header[0].len().saturating_sub(c);
    if ncols == 0 {
        return Err(bad(1, "the header names no columns".into()));
    }
    let max = cb_protocol::limits::MAX_MRIO_SECTORS;
    if ncols > max {
        return Err(bad(
            1,
            format!("the header names {ncols} columns, more than {max}"),
        ));
    }
    let mut cols: Vec<Vec<String>> = vec![Vec::with_capacity(header.len()); ncols];
    for (h, cells) in header.iter().enumerate() {
        if cells.len() != c + ncols {
            return Err(bad(
                h + 1,
                format!(
                    "header line has {} cells, the first header line has {}",
                    cells.len(),
                    c + ncols
                ),
            ));
        }
        for (j, label) in cells[c..].iter().enumerate() {
            cols[j].push(label.clone());
        }
    }

    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut values: Vec<f64> = Vec::new();
    let mut push_row = |cells: Vec<String>, lineno: usize| -> Result<(), DataError> {
        if cells.len() != c + ncols {
            return Err(bad(
                lineno,
                format!(
                    "{} cells, expected {} ({} labels + {} values): truncated or malformed line",
                    cells.len(),
                    c + ncols,
                    c,
                    ncols
                ),
            ));
        }
        if rows.len() >= max {
            return Err(bad(lineno, format!("more than {max} data lines")));
        }
        for (j, cell) in cells[c..].iter().enumerate() {
            let v: f64 = cell.trim().parse().map_err(|_| {
                bad(
                    lineno,
                    format!(
                        "value {:?} in column {} ({}) is not a number",
                        cell,
                        j + 1,
                        cols[j].join("|")
                    ),
                )
            })?;
            values.push(v);
        }
        rows.push(cells[..c].to_vec());
        Ok(())
    };
    if let Some(cells) = first_data {
        push_row(cells, lineno)?;
    }
    loop {
        line_buf.clear();
        let read = reader
            .read_line(&mut line_buf)
            .map_err(|e| DataError::io(file, e))?;
        if read == 0 {
            break;
        }
        lineno += 1;
        if line_buf.trim().is_empty() {
            continue;
        }
        push_row(split_line(&line_buf, sep), lineno)?;
    }
    if rows.is_empty() {
        return Err(bad(lineno, "no data lines".into()));
    }
    let nrows = rows.len();
    let values = Mat::from_fn(nrows, ncols, |i, j| values[i * ncols + j]);
    Ok(LabeledMatrix { rows, cols, values })
}

/// The index columns, inferred: under a multi-level header the first header line reads
/// `level-name, "", …, label, …`; otherwise the first data line's leading non-numeric cells.
fn infer_index_cols(header: &[Vec<String>], cells: &[String]) -> Option<usize> {
    if header.is_empty() {
        if cells.len() > 1 && !cells[0].is_empty() && cells[1].is_empty() {
            let empties = cells[1..].iter().take_while(|c| c.is_empty()).count();
            return Some(1 + empties);
        }
        return None;
    }
    let leading = cells.iter().take_while(|c| !is_number(c)).count();
    (leading > 0 && leading < cells.len()).then_some(leading)
}

fn split_line(line: &str, sep: char) -> Vec<String> {
    let line = line.trim_end_matches(['\n', '\r']);
    if sep == ',' {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(line.as_bytes());
        if let Some(Ok(rec)) = rdr.records().next() {
            return rec.iter().map(|s| s.trim().to_string()).collect();
        }
    }
    line.split(sep).map(|s| s.trim().to_string()).collect()
}

/// Parses a table with one header line and a unit (or value) in its last column, such as
/// pymrio's `unit.txt` (`region  sector  unit`). Returns (row labels, last-column value).
pub fn parse_unit_table(
    mut reader: impl BufRead,
    file: &str,
    sep: char,
) -> Result<Vec<(Vec<String>, String)>, DataError> {
    let mut text = String::new();
    reader
        .read_to_string(&mut text)
        .map_err(|e| DataError::io(file, e))?;
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let (_, head) = lines.next().ok_or_else(|| DataError::Malformed {
        file: file.to_string(),
        line: 1,
        reason: "empty file".into(),
    })?;
    let width = split_line(head, sep).len();
    lines
        .map(|(i, l)| {
            let cells = split_line(l, sep);
            if cells.len() != width || width < 2 {
                return Err(DataError::Malformed {
                    file: file.to_string(),
                    line: i + 1,
                    reason: format!("{} cells, the header has {width}", cells.len()),
                });
            }
            Ok((cells[..width - 1].to_vec(), cells[width - 1].clone()))
        })
        .collect()
}
