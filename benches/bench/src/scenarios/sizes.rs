//! The components' `.wasm` sizes against the 1 MiB goal.

use anyhow::Result;

use crate::bench::Bench;
use crate::report::{Goal, Row};
use crate::stats::{bytes, group_thousands};

/// The size goal of a shipped component.
pub const GOAL_BYTES: u64 = 1 << 20;

/// Adds one row per shipped component (and the trivial baseline, for scale).
pub fn run(b: &mut Bench) -> Result<()> {
    for (name, shipped) in [("gateway", true), ("pusher", true), ("trivial", false)] {
        let size = std::fs::metadata(b.component(name)?)?.len();
        let value = format!("{} ({} bytes)", bytes(size as f64), group_thousands(size));
        let title = "sizes (--profile component)";
        let measure = format!("{name}.wasm");
        if shipped {
            b.report.push(Row::ratio(
                title,
                &measure,
                value,
                "goal 1 MiB".into(),
                size as f64 / GOAL_BYTES as f64,
                Goal::AtMost(1.0),
            ));
        } else {
            b.report.push(Row::info(
                title,
                &format!("{measure} (baseline, not shipped)"),
                value,
            ));
        }
    }
    Ok(())
}
