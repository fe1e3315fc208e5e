//! The HTTP call of a scheduled job, made through the providers' outbound client: its URL
//! policy and address policy apply, its redirects are not followed, its answer is read up to
//! the node's cap. The scheduler decides what the answer means.

use herald_channels::http::{HttpError, OutboundHttp};
use herald_core::scheduled_job::JobSpec;
use herald_scheduler::{Answer, CallError, JobCall};
use reqwest::Method;

pub struct HttpJobs {
    pub http: OutboundHttp,
}

#[async_trait::async_trait]
impl JobCall for HttpJobs {
    async fn call(&self, job: &JobSpec, timeout: std::time::Duration) -> Result<Answer, CallError> {
        let call = &job.http;
        let method = Method::from_bytes(call.method.as_bytes())
            .map_err(|_| CallError::Failed(format!("method {:?}", call.method)))?;
        let answer = self
            .http
            .send(method, &call.url, |mut request| {
                request = request.timeout(timeout);
                for (name, value) in &call.headers {
                    request = request.header(name, value);
                }
                match &call.body {
                    Some(body) => request.body(body.clone()),
                    None => request,
                }
            })
            .await
            .map_err(|e| match e {
                HttpError::Timeout => CallError::TimedOut,
                other => CallError::Failed(other.to_string()),
            })?;
        Ok(Answer { status: answer.status.as_u16(), body: answer.body })
    }
}
