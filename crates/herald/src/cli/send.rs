//! `herald send`: calls a running node's austin-compatible `/send` with one message param.

use super::node_api::NodeArgs;
use clap::Args;
use serde_json::{Map, Value, json};
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct SendArgs {
    #[command(flatten)]
    node: NodeArgs,
    /// The template to send.
    #[arg(long, short)]
    template: i64,
    /// Comma-separated receivers (at most 100).
    #[arg(long, short)]
    receiver: String,
    /// A variable for the template's placeholders, as name=value; repeat for more.
    #[arg(long = "var", short = 'v', value_parser = parse_var)]
    vars: Vec<(String, String)>,
    /// austin's business id, echoed back.
    #[arg(long)]
    biz_id: Option<String>,
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    let (name, value) = s.split_once('=').ok_or_else(|| format!("{s:?} is not name=value"))?;
    Ok((name.trim().to_string(), value.to_string()))
}

pub async fn run(args: SendArgs) -> anyhow::Result<ExitCode> {
    let variables: Map<String, Value> = args.vars.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    let body = json!({
        "code": "send",
        "messageTemplateId": args.template,
        "messageParam": { "bizId": args.biz_id, "receiver": args.receiver, "variables": variables },
    });
    args.node.call("/send", Some(&body)).await
}
