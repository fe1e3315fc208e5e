//! What a scheduled job's attempt calls: an HTTP call made through the providers' outbound
//! client (its URL policy and address policy apply, its redirects are not followed, its answer
//! is read up to the node's cap), or a command as [`crate::command_jobs`] runs it. A sharded
//! call is told its shard in headers and in the `{$shardIndex}` and `{$shardTotal}` of its URL
//! and body. The scheduler decides what the answer means.

use crate::command_jobs::CommandJobs;
use herald_channels::http::{HttpError, OutboundHttp};
use herald_core::scheduled_job::sharding::{SHARD_INDEX_HEADER, SHARD_TOTAL_HEADER};
use herald_core::scheduled_job::{HttpCall, JobSpec, children};
use herald_scheduler::{Answer, Attempting, CallError, JobCall};
use reqwest::Method;

pub struct JobCalls {
    pub http: OutboundHttp,
    pub commands: CommandJobs,
}

#[async_trait::async_trait]
impl JobCall for JobCalls {
    async fn call(
        &self,
        job: &JobSpec,
        attempting: Attempting<'_>,
        timeout: std::time::Duration,
    ) -> Result<Answer, CallError> {
        match (&job.http, &job.command) {
            (Some(call), _) => self.http_call(call, attempting, timeout).await,
            (None, Some(command)) => self.commands.run(command, &job.name, attempting, timeout).await,
            (None, None) => Err(CallError::Failed("the job has nothing to run".into())),
        }
    }
}

impl JobCalls {
    async fn http_call(
        &self,
        call: &HttpCall,
        attempting: Attempting<'_>,
        timeout: std::time::Duration,
    ) -> Result<Answer, CallError> {
        let method = Method::from_bytes(call.method.as_bytes())
            .map_err(|_| CallError::Failed(format!("method {:?}", call.method)))?;
        let shard = attempting.shard;
        let url = shard.map_or_else(|| call.url.clone(), |s| s.fill(&call.url));
        let answer = self
            .http
            .send(method, &url, |mut request| {
                request = request.timeout(timeout);
                for (name, value) in &call.headers {
                    request = request.header(name, value);
                }
                if let Some(shard) = shard {
                    request = request.header(SHARD_INDEX_HEADER, shard.index).header(SHARD_TOTAL_HEADER, shard.total);
                }
                match &call.body {
                    Some(body) => {
                        let body = children::with_param(body, attempting.param);
                        request.body(match shard {
                            Some(shard) => shard.fill(&body),
                            None => body,
                        })
                    }
                    None => request,
                }
            })
            .await
            .map_err(|e| match e {
                HttpError::Timeout => CallError::TimedOut,
                other => CallError::Failed(other.to_string()),
            })?;
        Ok(Answer { code: i32::from(answer.status.as_u16()), body: answer.body })
    }
}
