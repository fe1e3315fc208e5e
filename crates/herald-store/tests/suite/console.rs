//! The admin console's state: users, sessions, setup links, hourly outcome counts and the
//! recent crowd list.

use super::*;
use herald_core::TraceEvent;
use herald_store::{HourlyCount, StoreError};

pub async fn users_have_unique_names_and_keep_only_hashes(store: Arc<dyn Store>) {
    let now = t0();
    assert_eq!(store.count_users().await.unwrap(), 0);
    let ann = store.create_user("ann", "$argon2id$v=19$hash-a", now).await.unwrap();
    assert_eq!((ann.name.as_str(), ann.password_hash.as_str(), ann.created_at), ("ann", "$argon2id$v=19$hash-a", now));
    assert!(matches!(store.create_user("ann", "other", now).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.count_users().await.unwrap(), 1);
    let found = store.user_by_name("ann").await.unwrap().expect("ann exists");
    assert_eq!(found.id, ann.id);
    assert!(store.user_by_name("Ann").await.unwrap().is_none(), "names are exact");
    assert!(store.user_by_name("bob").await.unwrap().is_none());

    // A new password ends the user's sessions.
    store.create_session("s-ann", ann.id, now, now + Duration::hours(1)).await.unwrap();
    store.set_user_password("ann", "$argon2id$v=19$hash-b", now).await.unwrap();
    assert_eq!(store.user_by_name("ann").await.unwrap().unwrap().password_hash, "$argon2id$v=19$hash-b");
    assert!(store.session_user("s-ann", now).await.unwrap().is_none());
    assert!(matches!(store.set_user_password("bob", "x", now).await, Err(StoreError::NotFound { .. })));
}

pub async fn sessions_expire_and_end(store: Arc<dyn Store>) {
    let now = t0();
    let ann = store.create_user("ann", "h", now).await.unwrap();
    let until = now + Duration::hours(12);
    store.create_session("tok-1", ann.id, now, until).await.unwrap();
    store.create_session("tok-2", ann.id, now, now + Duration::minutes(1)).await.unwrap();
    let user = store.session_user("tok-1", now).await.unwrap().expect("live session");
    assert_eq!(
        user,
        herald_store::SessionUser {
            user_id: ann.id,
            name: "ann".into(),
            expires_at: until,
            settings: Default::default()
        }
    );
    let picked = herald_store::UserSettings { time_zone: Some("Asia/Shanghai".into()), language: Some("zh-CN".into()) };
    store.set_user_settings(ann.id, &picked, now).await.unwrap();
    let user = store.session_user("tok-1", now).await.unwrap().unwrap();
    assert_eq!(user.settings, picked, "read with the session");
    store.set_user_settings(ann.id, &Default::default(), now).await.unwrap();
    assert_eq!(store.session_user("tok-1", now).await.unwrap().unwrap().settings, Default::default());
    assert!(store.session_user("unknown", now).await.unwrap().is_none());
    // Expired at its expiry instant.
    assert!(store.session_user("tok-1", until).await.unwrap().is_none());
    assert!(store.session_user("tok-1", until - Duration::seconds(1)).await.unwrap().is_some());

    assert_eq!(store.purge_sessions(now + Duration::minutes(2)).await.unwrap(), 1, "tok-2 expired");
    assert!(store.session_user("tok-1", now).await.unwrap().is_some());
    store.delete_session("tok-1").await.unwrap();
    assert!(store.session_user("tok-1", now).await.unwrap().is_none());
    store.delete_session("tok-1").await.unwrap();
}

pub async fn a_setup_link_makes_the_first_user_once(store: Arc<dyn Store>) {
    let now = t0();
    let until = now + Duration::hours(24);
    store.create_setup_token("old", now, until).await.unwrap();
    store.create_setup_token("link", now, until).await.unwrap();
    assert!(!store.setup_token_valid("old", now).await.unwrap(), "a new link replaces the old one");
    assert!(store.setup_token_valid("link", now).await.unwrap());
    assert!(!store.setup_token_valid("link", until).await.unwrap(), "expired");
    assert!(matches!(store.redeem_setup_token("link", "ann", "h", until).await, Err(StoreError::NotFound { .. })));

    let ann = store.redeem_setup_token("link", "ann", "h", now).await.unwrap();
    assert_eq!(ann.name, "ann");
    assert_eq!(store.count_users().await.unwrap(), 1);
    assert!(!store.setup_token_valid("link", now).await.unwrap(), "spent");
    assert!(matches!(store.redeem_setup_token("link", "eve", "h", now).await, Err(StoreError::NotFound { .. })));

    // A link made while a user exists is never valid and cannot make a second user.
    store.create_setup_token("late", now, until).await.unwrap();
    assert!(!store.setup_token_valid("late", now).await.unwrap());
    assert!(matches!(store.redeem_setup_token("late", "eve", "h", now).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.count_users().await.unwrap(), 1);
}

pub async fn hourly_outcomes_are_counted_by_the_database(store: Arc<dyn Store>) {
    let now = t0();
    let (template_id, run_id) = published_run(&*store, 10, now).await;
    let at = |minutes: i64| now + Duration::minutes(minutes);
    let batches = [
        (at(1), vec![("a", TraceEvent::Sent), ("b", TraceEvent::Sent), ("c", TraceEvent::Failed)]),
        (at(59), vec![("d", TraceEvent::Sent)]),
        (at(60), vec![("e", TraceEvent::Sent), ("f", TraceEvent::DroppedQuietHours)]),
        (at(185), vec![("g", TraceEvent::Failed)]),
        // Outside the range asked for.
        (now - Duration::seconds(1), vec![("h", TraceEvent::Sent)]),
        (at(240), vec![("i", TraceEvent::Sent)]),
    ];
    for (when, outcomes) in batches {
        let outcomes: Vec<_> =
            outcomes.into_iter().map(|(id, event)| message(id, template_id, Some(run_id), event)).collect();
        store.record_outcomes(&outcomes, when).await.unwrap();
    }
    let counts = store.hourly_outcomes(now, at(240)).await.unwrap();
    let count = |hours: i64, state: &str, count: i64| HourlyCount {
        hour: now + Duration::hours(hours),
        state: state.into(),
        count,
    };
    assert_eq!(
        counts,
        vec![
            count(0, "failed", 1),
            count(0, "sent", 3),
            count(1, "dropped_quiet_hours", 1),
            count(1, "sent", 1),
            count(3, "failed", 1),
        ]
    );
    assert!(store.hourly_outcomes(at(300), at(400)).await.unwrap().is_empty());
}

pub async fn recent_crowds_come_newest_first(store: Arc<dyn Store>) {
    let now = t0();
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(crowd(&*store, 5 + n, now + Duration::minutes(n)).await);
    }
    let recent = store
        .list_crowds(&herald_store::CrowdFilter { window: herald_store::Window::first(2), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(recent.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), vec![ids[2].clone(), ids[1].clone()]);
    assert_eq!(recent[0].rows, 7);
    assert_eq!(recent[0].columns, vec!["name".to_string(), "city".to_string()]);
}

pub async fn users_are_listed_disabled_and_enabled_but_one_stays_enabled(store: Arc<dyn Store>) {
    let now = t0();
    let ann = store.create_user("ann", "h", now).await.unwrap();
    store.create_user("bob", "h", now).await.unwrap();
    store.create_session("ann-tok", ann.id, now, now + Duration::hours(1)).await.unwrap();
    store.set_user_disabled("ann", true, now).await.unwrap();
    assert!(store.session_user("ann-tok", now).await.unwrap().is_none(), "disabling ends the sessions");
    let users = store.list_users(herald_store::Window::ALL).await.unwrap();
    assert_eq!(
        users.iter().map(|u| (u.name.as_str(), u.disabled_at.is_some())).collect::<Vec<_>>(),
        vec![("ann", true), ("bob", false)]
    );
    let refused = store.set_user_disabled("bob", true, now).await.unwrap_err().to_string();
    assert!(refused.contains("last enabled user"), "{refused}");
    store.set_user_disabled("ann", false, now).await.unwrap();
    assert!(store.user_by_name("ann").await.unwrap().unwrap().disabled_at.is_none());
    store.create_session("ann-tok-2", ann.id, now, now + Duration::hours(1)).await.unwrap();
    assert!(store.session_user("ann-tok-2", now).await.unwrap().is_some(), "enabled again");
    assert!(matches!(store.set_user_disabled("carl", true, now).await, Err(herald_store::StoreError::NotFound { .. })));
    assert_eq!(store.list_users(herald_store::Window { offset: 1, limit: 5 }).await.unwrap()[0].name, "bob");
}
