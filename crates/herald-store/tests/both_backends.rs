//! The store suite (tests/suite) run against both backends: each test once on a fresh SQLite
//! file and once on a fresh PostgreSQL database.

mod suite;

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    crate::suite::on_sqlite(crate::suite::$name).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    crate::suite::on_postgres(crate::suite::$name).await;
                }
            )*
        }
    };
}

on_both_backends!(
    template_crud,
    template_status_arms_and_disarms_the_schedule,
    crowd_insert_and_get,
    api_keys,
    a_day_of_quarter_hours_claimed_minute_by_minute_fires_96_times,
    late_fires_follow_the_misfire_policy,
    a_template_without_crowd_gives_no_crowd_and_stopped_ones_do_not_fire,
    claims_come_in_pages_of_the_limit,
    runs_lease_checkpoint_and_complete,
    a_run_whose_rows_are_all_final_completes_when_published,
    failed_released_and_listed_runs,
    record_outcomes_is_idempotent_and_counts_once,
    the_trace_keeps_order_and_accepts_once,
    the_outbox_is_idempotent_and_pages,
);

#[test]
fn test_database_urls_keep_credentials_and_options() {
    assert_eq!(suite::with_database("postgres://u:p@h:5432/postgres", "x"), "postgres://u:p@h:5432/x");
    assert_eq!(
        suite::with_database("postgres://u:p@h:5432/postgres?sslmode=disable", "x"),
        "postgres://u:p@h:5432/x?sslmode=disable"
    );
    assert_eq!(suite::with_database("postgres://h", "x"), "postgres://h/x");
}
