//! An SMTP server that accepts the connection and then says nothing (a tarpit, a hung relay)
//! must not hold a worker: the send ends, retryable, within the account's deadline.

use herald_channels::http::{HttpSettings, OutboundHttp};
use herald_channels::tokens::Tokens;
use herald_channels::{BuildContext, ChannelAccount, OutgoingMessage, SendResult};
use herald_core::{ChannelKind, MessageId, SystemClock};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_silent_smtp_server_times_out_the_send() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accepts and holds every connection, never writing a byte.
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let clock = Arc::new(SystemClock);
    let ctx = BuildContext {
        http: OutboundHttp::new(HttpSettings { allow_private_networks: true, ..HttpSettings::default() }).unwrap(),
        tokens: Tokens::in_memory(clock.clone()),
        clock,
    };
    let config =
        json!({"host": "127.0.0.1", "port": port, "security": "plain", "from": "herald@example.com", "timeoutMs": 500});
    let account = ChannelAccount { id: 1, name: "mail".into(), channel: ChannelKind::Email, config };
    let built = herald_channels::build(&account, &ctx).expect("builds");
    let message = OutgoingMessage {
        message_id: MessageId("r1-1".into()),
        template_id: 1,
        run_id: None,
        receiver: "someone@example.com".into(),
        msg_type: 10,
        content: json!({"subject": "s", "text": "t"}),
    };
    let started = Instant::now();
    let result = tokio::time::timeout(Duration::from_secs(10), built.channel.send(&message))
        .await
        .expect("the send must end on its own, well before 10 s");
    assert!(started.elapsed() < Duration::from_secs(3), "ended after {:?}", started.elapsed());
    assert!(matches!(result, SendResult::Retryable { .. }), "{result:?}");
}
