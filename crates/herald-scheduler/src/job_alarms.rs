//! A scheduled job's alarms, sent through herald's own channels: after each fire its rules are
//! raised or recovered (herald-core decides which), the store lets one raise per rule per quiet
//! window through across nodes, and each alarm or recovery goes on the bus as a message of the
//! alarm's template to its receivers, delivered, retried and traced like any other.

use crate::jobs::JobError;
use chrono::{DateTime, Duration, Utc};
use herald_bus::{Bus, EncodedJobs};
use herald_core::scheduled_job::JobSpec;
use herald_core::scheduled_job::alarm::{self, AlarmRule, AlarmSpec, FireEnd};
use herald_core::{Batch, BatchItem, Clock, DeliveryJob, JobOrigin, Recipient};
use herald_store::{Store, TraceEntry};
use std::sync::Arc;

#[derive(Clone)]
pub struct JobAlarms {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    clock: Arc<dyn Clock>,
    /// This node, named in each alarm.
    node: String,
}

/// One alarm or recovery to send.
struct Alarm<'a> {
    job_id: i64,
    job: &'a str,
    rule: AlarmRule,
    recovered: bool,
    detail: String,
    at: DateTime<Utc>,
}

impl JobAlarms {
    pub fn new(store: Arc<dyn Store>, bus: Arc<dyn Bus>, clock: Arc<dyn Clock>, node: String) -> Self {
        Self { store, bus, clock, node }
    }

    /// Raises and recovers the job's rules after a fire that ended so (`detail`: its error). A
    /// fault is logged; it never changes the fire's outcome.
    pub async fn after_fire(&self, job_id: i64, job: &JobSpec, end: FireEnd, detail: &str) {
        let Some(spec) = &job.alarms else { return };
        if let Err(e) = self.judge(job_id, &job.name, spec, end, detail).await {
            tracing::error!(job_id, error = %e, "a job alarm could not be sent");
        }
    }

    /// Raises `stuck` for an attempt still going after the job's `stuckAfterSecs`.
    pub async fn stuck(&self, job_id: i64, job: &JobSpec, secs: u32) {
        let Some(spec) = &job.alarms else { return };
        let at = self.clock.now();
        let detail = format!("an attempt is still going after {secs} s");
        let alarm = Alarm { job_id, job: &job.name, rule: AlarmRule::Stuck, recovered: false, detail, at };
        match self.store.raise_job_alarm(job_id, AlarmRule::Stuck.as_str(), at, minutes(spec.quiet_mins)).await {
            Ok(true) => {
                if let Err(e) = self.send(spec, &alarm).await {
                    tracing::error!(job_id, error = %e, "a job alarm could not be sent");
                }
            }
            Ok(false) => {}
            Err(e) => tracing::error!(job_id, error = %e, "a job alarm could not be raised"),
        }
    }

    async fn judge(
        &self,
        job_id: i64,
        job: &str,
        spec: &AlarmSpec,
        end: FireEnd,
        detail: &str,
    ) -> Result<(), JobError> {
        let at = self.clock.now();
        let rate = match spec.failure_rate {
            Some(rate) => Some(self.store.job_fire_counts(job_id, at - minutes(rate.window_mins)).await?),
            None => None,
        };
        let changes = spec.changes(end, rate);
        let quiet = minutes(spec.quiet_mins);
        for rule in changes.raise {
            if self.store.raise_job_alarm(job_id, rule.as_str(), at, quiet).await? {
                let detail = match (rule, rate) {
                    (AlarmRule::FailureRate, Some((fires, failed))) => {
                        format!("{failed} of the last {fires} fires failed")
                    }
                    _ => detail.to_string(),
                };
                self.send(spec, &Alarm { job_id, job, rule, recovered: false, detail, at }).await?;
            } else {
                tracing::info!(job_id, rule = rule.as_str(), "job alarm kept quiet: one was sent within its window");
            }
        }
        for rule in changes.recover {
            if self.store.recover_job_alarm(job_id, rule.as_str()).await? && spec.recovery {
                let detail = "the job succeeded again".to_string();
                self.send(spec, &Alarm { job_id, job, rule, recovered: true, detail, at }).await?;
            }
        }
        Ok(())
    }

    /// Puts one message of the alarm's template to each receiver on the bus.
    async fn send(&self, spec: &AlarmSpec, alarm: &Alarm<'_>) -> Result<(), JobError> {
        let template = self.store.get_template(spec.template_id).await?;
        let installation = self.store.installation().await?;
        let state = if alarm.recovered { "recovered" } else { "raised" };
        let request_id =
            format!("alarm-{}-{}-{state}-{}", alarm.job_id, alarm.rule.as_str(), alarm.at.timestamp_millis());
        let at = alarm.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let variables = alarm::variables(alarm.job, alarm.rule, alarm.recovered, &alarm.detail, &at, &self.node);
        let recipients = spec
            .receivers
            .iter()
            .map(|r| Recipient {
                receiver: r.trim().to_string(),
                message_id: installation.request(&request_id, 0, r.trim()),
            })
            .collect();
        let job = DeliveryJob {
            template_id: template.id,
            origin: JobOrigin::Api { request_id: request_id.clone() },
            batch: Batch { items: vec![BatchItem { variables, recipients }] },
            released: false,
            admitted: false,
        };
        let jobs = [job];
        let encoded = EncodedJobs::encode(template.spec.channel, &jobs)?;
        let detail = format!("job {} alarm: {} {state}", alarm.job, alarm.rule.as_str());
        self.store.record_trace(&TraceEntry::accepted(&jobs, Some(&detail)), self.clock.now()).await?;
        encoded.publish(self.bus.as_ref()).await?;
        metrics::counter!("herald_job_alarms_total", "rule" => alarm.rule.as_str(), "state" => state).increment(1);
        tracing::warn!(job_id = alarm.job_id, rule = alarm.rule.as_str(), state, request_id = %request_id, "job alarm sent");
        Ok(())
    }
}

fn minutes(n: u32) -> Duration {
    Duration::minutes(i64::from(n))
}
