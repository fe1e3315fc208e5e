//! Alarms, sent through herald's own channels: after each fire of a job (or a housekeeping
//! schedule, such as a token refresh) its rules are raised or recovered (herald-core decides
//! which), the store lets one raise per rule per quiet window through across nodes, and each
//! alarm or recovery goes on the bus as a message of the alarm's template to its receivers,
//! delivered, retried and traced like any other.

use crate::jobs::JobError;
use chrono::{DateTime, Duration, Utc};
use herald_bus::{Bus, EncodedJobs};
use herald_core::scheduled_job::alarm::{self, AlarmRule, AlarmSpec, FireEnd};
use herald_core::scheduled_job::report;
use herald_core::{Batch, BatchItem, Clock, DeliveryJob, JobOrigin, Recipient};
use herald_store::{Store, TraceEntry};
use std::sync::Arc;

#[derive(Clone)]
pub struct Alarms {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    clock: Arc<dyn Clock>,
    /// This node, named in each alarm.
    node: String,
}

/// What an alarm is about: the schedule whose rules it keeps, named for people.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub schedule_id: i64,
    /// The job's name, or the housekeeping's (`token_refresh of account 3`).
    pub name: &'a str,
    pub spec: &'a AlarmSpec,
}

/// One alarm or recovery to send.
struct Alarm {
    rule: AlarmRule,
    recovered: bool,
    detail: String,
    at: DateTime<Utc>,
}

impl Alarms {
    pub fn new(store: Arc<dyn Store>, bus: Arc<dyn Bus>, clock: Arc<dyn Clock>, node: String) -> Self {
        Self { store, bus, clock, node }
    }

    /// Raises and recovers the subject's rules after a fire that ended so (`detail`: its
    /// error). A fault is logged; it never changes the fire's outcome.
    pub async fn after_fire(&self, subject: Subject<'_>, end: FireEnd, detail: &str) {
        if let Err(e) = self.judge(subject, end, detail).await {
            tracing::error!(schedule_id = subject.schedule_id, error = %e, "an alarm could not be sent");
        }
    }

    /// Raises `stuck` for an attempt still going after `secs`.
    pub async fn stuck(&self, subject: Subject<'_>, secs: u32) {
        let detail = format!("an attempt is still going after {secs} s");
        if let Err(e) = self.raise(subject, AlarmRule::Stuck, detail, self.clock.now()).await {
            tracing::error!(schedule_id = subject.schedule_id, error = %e, "an alarm could not be sent");
        }
    }

    async fn judge(&self, subject: Subject<'_>, end: FireEnd, detail: &str) -> Result<(), JobError> {
        let (spec, at) = (subject.spec, self.clock.now());
        let rate = match spec.failure_rate {
            Some(rate) => Some(self.store.fire_counts(subject.schedule_id, at - minutes(rate.window_mins)).await?),
            None => None,
        };
        let changes = spec.changes(end, rate);
        for rule in changes.raise {
            let detail = match (rule, rate) {
                (AlarmRule::FailureRate, Some((fires, failed))) => format!("{failed} of the last {fires} fires failed"),
                _ => detail.to_string(),
            };
            self.raise(subject, rule, detail, at).await?;
        }
        for rule in changes.recover {
            if self.store.recover_alarm(subject.schedule_id, rule.as_str()).await? && spec.recovery {
                let detail = "it succeeded again".to_string();
                self.send(subject, &Alarm { rule, recovered: true, detail, at }).await?;
            }
        }
        Ok(())
    }

    /// Sends an alarm for `rule` unless one went out within its quiet window.
    async fn raise(
        &self,
        subject: Subject<'_>,
        rule: AlarmRule,
        detail: String,
        at: DateTime<Utc>,
    ) -> Result<(), JobError> {
        let quiet = minutes(subject.spec.quiet_mins);
        if self.store.raise_alarm(subject.schedule_id, rule.as_str(), at, quiet).await? {
            self.send(subject, &Alarm { rule, recovered: false, detail, at }).await
        } else {
            tracing::info!(
                schedule_id = subject.schedule_id,
                rule = rule.as_str(),
                "alarm kept quiet: one was sent within its window"
            );
            Ok(())
        }
    }

    /// Puts one message of the alarm's template to each receiver on the bus.
    async fn send(&self, subject: Subject<'_>, alarm: &Alarm) -> Result<(), JobError> {
        let state = if alarm.recovered { "recovered" } else { "raised" };
        let rule = alarm.rule.as_str();
        let request_id = format!("alarm-{}-{rule}-{state}-{}", subject.schedule_id, alarm.at.timestamp_millis());
        let at = alarm.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let variables = alarm::variables(subject.name, alarm.rule, alarm.recovered, &alarm.detail, &at, &self.node);
        let label = format!("alarm of {}: {rule} {state}", subject.name);
        self.publish(subject.spec, variables, &request_id, &label).await?;
        metrics::counter!("herald_alarms_total", "rule" => rule, "state" => state).increment(1);
        tracing::warn!(schedule_id = subject.schedule_id, rule, state, request_id = %request_id, "alarm sent");
        Ok(())
    }

    /// Sends the daily report (`detail`, see `herald_core::scheduled_job::report`) through
    /// `spec`'s template to its receivers; `fire_id` makes it one message per fire.
    pub async fn report(&self, spec: &AlarmSpec, detail: &str, fire_id: i64) -> Result<(), JobError> {
        let at = self.clock.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let variables = report::variables(detail, &at, &self.node);
        let request_id = format!("daily-report-{fire_id}");
        self.publish(spec, variables, &request_id, "the daily report").await?;
        metrics::counter!("herald_alarms_total", "rule" => report::REPORT_RULE, "state" => "report").increment(1);
        tracing::info!(request_id = %request_id, "daily report sent");
        Ok(())
    }

    /// One message of `spec`'s template with `variables` to each of its receivers, traced as
    /// accepted (`label` says what it is) and put on the bus.
    async fn publish(
        &self,
        spec: &AlarmSpec,
        variables: std::collections::BTreeMap<String, String>,
        request_id: &str,
        label: &str,
    ) -> Result<(), JobError> {
        let template = self.store.get_template(spec.template_id).await?;
        let installation = self.store.installation().await?;
        let recipients = spec
            .receivers
            .iter()
            .map(|r| Recipient {
                receiver: r.trim().to_string(),
                message_id: installation.request(request_id, 0, r.trim()),
            })
            .collect();
        let job = DeliveryJob {
            template_id: template.id,
            origin: JobOrigin::Api { request_id: request_id.to_string() },
            batch: Batch { items: vec![BatchItem { variables, recipients }] },
            released: false,
            admitted: false,
        };
        let jobs = [job];
        let encoded = EncodedJobs::encode(template.spec.channel, &jobs)?;
        self.store.record_trace(&TraceEntry::accepted(&jobs, Some(label)), self.clock.now()).await?;
        encoded.publish(self.bus.as_ref()).await?;
        Ok(())
    }
}

fn minutes(n: u32) -> Duration {
    Duration::minutes(i64::from(n))
}
