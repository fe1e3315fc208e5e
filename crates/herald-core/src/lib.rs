//! herald-core: the domain types and pure rules of herald. Nothing here does IO; every
//! function takes its inputs (time included) as arguments so it can be tested in isolation.

pub mod batching;
pub mod channel;
pub mod clock;
pub mod cron;
pub mod days;
pub mod dedup;
pub mod dry_run;
pub mod field;
pub mod fire;
pub mod funnel;
pub mod ids;
pub mod job;
pub mod listing;
pub mod placeholders;
pub mod policies;
pub mod quiet_hours;
pub mod rate;
pub mod recall;
pub mod receipt;
pub mod run;
pub mod scheduled_job;
pub mod settings;
pub mod statement_shapes;
pub mod status_events;
pub mod suppression;
pub mod template;
pub mod test_mode;
pub mod trace;

pub use batching::{Batch, BatchItem, Batcher, CrowdRow, MAX_RECEIVER_BYTES, MAX_RECEIVERS_PER_BATCH, Recipient};
pub use clock::{Clock, SystemClock, TestClock};
pub use cron::{Cadence, CronError, CronSchedule, FirePlan, MisfirePolicy, plan_fire};
pub use fire::{DueSchedule, FireDecision, FireOutcome, FireTarget};
pub use ids::{Installation, MessageId};
pub use job::{DeliveryJob, JobOrigin, ScheduleKind, Screened, topic_for};
pub use quiet_hours::{QuietDecision, QuietWindow, QuietWindowError, parse_tz};
pub use run::{
    CANCELLED_REASON, PAUSED_REASON, RUN_CONTROL_SEEN_WITHIN, RunCounts, RunProgress, RunSendState, RunStatus, RunTally,
};
pub use settings::InvalidSetting;
pub use statement_shapes::shaped_chunks;
pub use suppression::{Kinds, MessageKind, Suppression, SuppressionSource};
pub use template::{ChannelKind, FieldError, QuietHoursPolicy, ScheduleSpec, TemplateSpec, TemplateStatus};
pub use test_mode::TestMode;
pub use trace::TraceEvent;
