//! The references' cron expressions: croner 4 configured for herald's Quartz dialect, each
//! distinct expression parsed once and shared by every schedule that uses it (a parsed croner
//! expression is about 5 KB; 100,000 private copies would cost hundreds of MiB).

use super::plan::Plan;
use anyhow::Context;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use std::sync::Arc;

/// The parser herald-core reads Quartz with (seconds, optional year, `0/10`, `?`).
fn quartz_parser() -> CronParser {
    CronParser::builder()
        .seconds(Seconds::Required)
        .year(Year::Optional)
        .dom_and_dow(false)
        .alternative_weekdays(true)
        .sloppy_ranges(true)
        .build()
}

/// One parsed expression per second offset of the plan.
pub struct SharedCrons {
    by_offset: Vec<Arc<Cron>>,
}

impl SharedCrons {
    pub fn of(plan: &Plan) -> anyhow::Result<Self> {
        let parser = quartz_parser();
        let by_offset = plan
            .offsets()
            .map(|offset| {
                let expr = plan.quartz_cron(offset);
                parser.parse(&expr).map(Arc::new).with_context(|| format!("croner reading {expr}"))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self { by_offset })
    }

    /// The shared expression of the schedules firing at `offset`.
    pub fn at(&self, offset: u32) -> Arc<Cron> {
        Arc::clone(&self.by_offset[offset as usize])
    }
}
