//! The results table: every figure beside its same-run baseline, the ratio, the goal, and
//! whether the goal is met (and by how much it is missed).

use std::fmt::Write as _;

/// What a ratio is held to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Goal {
    /// No goal; the ratio is informative.
    None,
    /// The ratio must be at least this.
    AtLeast(f64),
    /// The ratio must be at most this.
    AtMost(f64),
}

/// One line of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Scenario number and name, e.g. `1 hot series`.
    pub scenario: String,
    /// What is measured, e.g. `req/s`.
    pub measure: String,
    /// promagg's absolute figure.
    pub value: String,
    /// The baseline's absolute figure and what it is.
    pub baseline: String,
    /// value / baseline, when both are numbers.
    pub ratio: Option<f64>,
    /// The goal the ratio is read against.
    pub goal: Goal,
    /// For pass/fail rows (exactness): `Some(true)` when it holds.
    pub holds: Option<bool>,
}

impl Row {
    /// A figure with a baseline and a ratio.
    pub fn ratio(
        scenario: &str,
        measure: &str,
        value: String,
        baseline: String,
        ratio: f64,
        goal: Goal,
    ) -> Row {
        Row {
            scenario: scenario.into(),
            measure: measure.into(),
            value,
            baseline,
            ratio: Some(ratio),
            goal,
            holds: None,
        }
    }

    /// A figure with no baseline.
    pub fn info(scenario: &str, measure: &str, value: String) -> Row {
        Row {
            scenario: scenario.into(),
            measure: measure.into(),
            value,
            baseline: "—".into(),
            ratio: None,
            goal: Goal::None,
            holds: None,
        }
    }

    /// A property that must hold (exactness).
    pub fn check(scenario: &str, measure: &str, value: String, holds: bool) -> Row {
        Row {
            scenario: scenario.into(),
            measure: measure.into(),
            value,
            baseline: "—".into(),
            ratio: None,
            goal: Goal::None,
            holds: Some(holds),
        }
    }

    /// The goal column.
    pub fn goal_text(&self) -> String {
        match (self.goal, self.holds) {
            (Goal::AtLeast(g), _) => format!("≥ {g:.2}×"),
            (Goal::AtMost(g), _) => format!("≤ {g:.2}×"),
            (Goal::None, Some(_)) => "must hold".into(),
            (Goal::None, None) => String::new(),
        }
    }

    /// `met`, `missed by N%`, `FAILED`, or empty.
    pub fn verdict(&self) -> String {
        if let Some(h) = self.holds {
            return if h { "met".into() } else { "FAILED".into() };
        }
        let Some(r) = self.ratio else {
            return String::new();
        };
        match self.goal {
            Goal::None => String::new(),
            Goal::AtLeast(g) if r >= g => "met".into(),
            Goal::AtLeast(g) => {
                format!("missed by {:.0}% ({r:.2}× < {g:.2}×)", (g - r) / g * 100.0)
            }
            Goal::AtMost(g) if r <= g => "met".into(),
            Goal::AtMost(g) => format!("missed by {:.0}% ({r:.2}× > {g:.2}×)", (r - g) / g * 100.0),
        }
    }

    /// True when a pass/fail row failed.
    pub fn failed(&self) -> bool {
        self.holds == Some(false)
    }
}

/// A ratio as printed: two significant decimals, `×` suffix.
pub fn ratio_text(r: Option<f64>) -> String {
    match r {
        Some(r) if r >= 100.0 => format!("{r:.0}×"),
        Some(r) if r >= 10.0 => format!("{r:.1}×"),
        Some(r) => format!("{r:.2}×"),
        None => String::new(),
    }
}

/// All rows of a run, plus free-text notes printed under the table.
#[derive(Debug, Default)]
pub struct Report {
    rows: Vec<Row>,
    notes: Vec<String>,
}

impl Report {
    /// Adds a row and echoes it to stderr so a long run shows progress.
    pub fn push(&mut self, row: Row) {
        eprintln!(
            "  {} | {} | {} | {} | {} {}",
            row.scenario,
            row.measure,
            row.value,
            row.baseline,
            ratio_text(row.ratio),
            row.verdict()
        );
        self.rows.push(row);
    }

    /// Adds a note printed under the table.
    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// The failed pass/fail rows.
    pub fn failures(&self) -> Vec<&Row> {
        self.rows.iter().filter(|r| r.failed()).collect()
    }

    /// The table in Markdown, then the notes.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "| scenario | measure | promagg | baseline (same run) | ratio | goal | verdict |\n",
        );
        out.push_str("|---|---|---|---|---|---|---|\n");
        for r in &self.rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                r.scenario,
                r.measure,
                r.value,
                r.baseline,
                ratio_text(r.ratio),
                r.goal_text(),
                r.verdict()
            );
        }
        if !self.notes.is_empty() {
            out.push('\n');
            for n in &self.notes {
                let _ = writeln!(out, "- {n}");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_say_by_how_much_a_goal_is_missed() {
        let r = |ratio, goal| Row::ratio("s", "m", "v".into(), "b".into(), ratio, goal);
        assert_eq!(r(0.8, Goal::AtLeast(0.7)).verdict(), "met");
        assert_eq!(
            r(0.35, Goal::AtLeast(0.7)).verdict(),
            "missed by 50% (0.35× < 0.70×)"
        );
        assert_eq!(r(0.9, Goal::AtMost(1.0)).verdict(), "met");
        assert_eq!(
            r(1.5, Goal::AtMost(1.0)).verdict(),
            "missed by 50% (1.50× > 1.00×)"
        );
        assert_eq!(r(3.0, Goal::None).verdict(), "");
    }

    #[test]
    fn failed_checks_are_reported() {
        let mut rep = Report::default();
        rep.push(Row::check("1", "exactness", "lost=0".into(), true));
        rep.push(Row::check("2", "exactness", "lost=3".into(), false));
        rep.push(Row::info("3", "x", "y".into()));
        assert_eq!(rep.failures().len(), 1);
        assert_eq!(rep.failures()[0].scenario, "2");
        let md = rep.markdown();
        assert!(md.contains("| 2 | exactness | lost=3 | — |  | must hold | FAILED |"));
    }

    #[test]
    fn ratios_print_with_sensible_precision() {
        assert_eq!(ratio_text(Some(0.123)), "0.12×");
        assert_eq!(ratio_text(Some(12.34)), "12.3×");
        assert_eq!(ratio_text(Some(1234.0)), "1234×");
        assert_eq!(ratio_text(None), "");
    }
}
