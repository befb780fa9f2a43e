//! Targets, verdicts and plain-text tables.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Verdict {
    #[serde(rename = "PASS")]
    Pass,
    #[serde(rename = "MISS")]
    Miss,
    /// The measurement itself failed.
    #[serde(rename = "ERROR")]
    Error,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Miss => "MISS",
            Verdict::Error => "ERROR",
        }
    }
}

/// One line of the final summary: a measured value against its limit.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub name: String,
    pub measured: Option<f64>,
    /// The value must be at most this (or, for `at_least`, at least).
    pub limit: f64,
    pub at_least: bool,
    pub unit: &'static str,
    pub verdict: Verdict,
}

impl Target {
    pub fn at_most(
        name: impl Into<String>,
        measured: Option<f64>,
        limit: f64,
        unit: &'static str,
    ) -> Target {
        Target::new(name.into(), measured, limit, false, unit)
    }

    pub fn at_least(
        name: impl Into<String>,
        measured: Option<f64>,
        limit: f64,
        unit: &'static str,
    ) -> Target {
        Target::new(name.into(), measured, limit, true, unit)
    }

    fn new(
        name: String,
        measured: Option<f64>,
        limit: f64,
        at_least: bool,
        unit: &'static str,
    ) -> Target {
        let verdict = match measured {
            Some(value) if value.is_finite() => {
                let ok = if at_least {
                    value >= limit
                } else {
                    value <= limit
                };
                if ok { Verdict::Pass } else { Verdict::Miss }
            }
            _ => Verdict::Error,
        };
        Target {
            name,
            measured,
            limit,
            at_least,
            unit,
            verdict,
        }
    }

    /// A target whose measurement failed.
    pub fn errored(name: impl Into<String>, limit: f64, unit: &'static str) -> Target {
        Target::new(name.into(), None, limit, false, unit)
    }

    pub fn row(&self) -> Vec<String> {
        let comparison = if self.at_least { "≥" } else { "≤" };
        vec![
            self.name.clone(),
            if self.limit.is_finite() {
                format!("{comparison} {}", number(self.limit, self.unit))
            } else {
                "—".to_owned()
            },
            self.measured
                .map_or_else(|| "—".to_owned(), |v| number(v, self.unit)),
            self.verdict.label().to_owned(),
        ]
    }
}

/// A value with its unit, with as many decimals as the unit deserves.
pub fn number(value: f64, unit: &str) -> String {
    match unit {
        "×" => format!("{value:.2}×"),
        "s" => format!("{value:.2} s"),
        "ms" => format!("{value:.1} ms"),
        "MB" | "MiB" => format!("{value:.1} {unit}"),
        "" => format!("{value:.3}"),
        other => format!("{value:.2} {other}"),
    }
}

pub fn seconds(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{v:.2} s"))
}

pub fn ratio(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{v:.2}×"))
}

/// Columns padded to their widest cell (counted in characters, so × and ≤
/// line up), with a rule under the header.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let columns = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(columns) {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell}{}", " ".repeat(width - cell.chars().count())))
            .collect();
        format!("  {}", padded.join("  ").trim_end())
    };
    let mut out = vec![line(header.to_vec())];
    out.push(format!(
        "  {}",
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("  ")
    ));
    for row in rows {
        out.push(line(row.iter().map(String::as_str).collect()));
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        assert_eq!(
            Target::at_most("t", Some(1.4), 1.5, "×").verdict,
            Verdict::Pass
        );
        assert_eq!(
            Target::at_most("t", Some(1.6), 1.5, "×").verdict,
            Verdict::Miss
        );
        assert_eq!(
            Target::at_least("t", Some(0.99), 0.98, "").verdict,
            Verdict::Pass
        );
        assert_eq!(Target::at_most("t", None, 1.5, "×").verdict, Verdict::Error);
        assert_eq!(
            Target::at_most("t", Some(f64::NAN), 1.5, "×").verdict,
            Verdict::Error
        );
    }

    #[test]
    fn table_aligns_unicode_cells() {
        let text = table(
            &["a", "b"],
            &[
                vec!["1.50×".into(), "x".into()],
                vec!["2".into(), "yy".into()],
            ],
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "  a      b");
        assert_eq!(lines[2], "  1.50×  x");
        assert_eq!(lines[3], "  2      yy");
    }
}
