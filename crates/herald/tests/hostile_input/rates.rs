//! Finding 1: a tiny rate was accepted, then panicked the rate gate while it held a lock
//! shared by every channel.

use super::*;
use herald_core::ChannelKind;
use std::time::Duration;

#[tokio::test]
async fn rates_outside_the_range_are_refused_naming_the_field() {
    let (_dir, node) = started().await;
    for bad in [json!(1e-300), json!(0), json!(-1), json!(1e7)] {
        let (status, body) = node.put("/api/flow-control/outbox", &json!({"ratePerSecond": bad})).await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert!(body["msg"].as_str().unwrap().starts_with("ratePerSecond"), "{body}");
    }
    let (status, body) = node.put("/api/flow-control/outbox", &json!({"ratePerSecond": 5})).await;
    assert_eq!(status, 200, "{body}");
    let account = json!({"name": "tiny", "channel": "email", "ratePerSecond": 1e-300, "config": {}});
    let (status, body) = node.post("/api/accounts", &account).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["msg"].as_str().unwrap().contains("ratePerSecond"), "{body}");
}

/// A tiny rate stored before the API refused it (an older node wrote it) limits at the
/// slowest accepted rate: the first send of the burst goes out, no worker panics.
#[tokio::test]
async fn a_stored_tiny_rate_still_delivers_and_other_channels_go_on() {
    let (_dir, node) = started().await;
    let now = herald_core::Clock::now(node.clock.as_ref());
    node.node.context.store.set_channel_rate(ChannelKind::Outbox, Some(1e-300), now).await.unwrap();
    let id = plain_template(&node).await;
    let send = json!({"code": "send", "messageTemplateId": id, "messageParam": {"receiver": "r1"}});
    let (status, body) = node.post("/send", &send).await;
    assert_eq!(status, 200, "{body}");
    let mut delivered = 0;
    for _ in 0..100 {
        delivered = outbox_count(&node, id, Duration::from_millis(50)).await;
        if delivered == 1 {
            break;
        }
    }
    assert_eq!(delivered, 1, "the receiver got the message");
}
