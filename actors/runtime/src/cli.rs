//! What every agent's command line shares: a progress spinner and the "Checks:" list of an
//! answer's consistency findings. Printing only; no agent logic lives here.

use std::io::Write;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A spinner on stderr for steps that can take more than a second (hidden when stderr is not a
/// terminal).
pub fn spinner(msg: &str) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.set_message(msg.to_string());
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

/// The consistency findings as a "Checks:" list: pass/fail, what was compared, numbers, tolerance.
pub fn print_findings(findings: &[cb_protocol::Finding], out: &mut dyn Write) -> std::io::Result<()> {
    print_findings_under("Checks:", findings, out)
}

/// [`print_findings`] under a heading of the caller's (in the question's language, say).
pub fn print_findings_under(
    heading: &str,
    findings: &[cb_protocol::Finding],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if findings.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n{heading}")?;
    for f in findings {
        let values: Vec<String> = f
            .values
            .iter()
            .map(|(k, v)| {
                if *v == 0.0 || (1e-3..1e7).contains(&v.abs()) {
                    format!("{k} = {v:.4}")
                } else {
                    format!("{k} = {v:.3e}")
                }
            })
            .collect();
        writeln!(
            out,
            "  - [{}] {}: {} ({}; tolerance {})",
            if f.passed { "pass" } else { "FAIL" },
            f.check,
            f.compared,
            values.join(", "),
            f.tolerance
        )?;
    }
    Ok(())
}
