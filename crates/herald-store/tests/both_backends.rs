//! The store suite (tests/suite) run against both backends: each test once on a fresh SQLite
//! file and once on a fresh PostgreSQL database.

mod suite;

macro_rules! on_both_backends {
    (store: [$($name:ident),* $(,)?], raw: [$($raw:ident),* $(,)?] $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    crate::suite::on_sqlite(crate::suite::$name).await;
                }
            )*
            $(
                #[tokio::test]
                async fn $raw() {
                    crate::suite::on_sqlite_raw(crate::suite::$raw).await;
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
            $(
                #[tokio::test]
                async fn $raw() {
                    crate::suite::on_postgres_raw(crate::suite::$raw).await;
                }
            )*
        }
    };
}

on_both_backends!(
    // Tests that see only the store.
    store: [
        template_crud,
        a_deleted_templates_history_stays_and_its_ids_are_never_reused,
        send_claims_keep_a_message_to_one_live_holder,
        an_outcome_committed_during_a_claim_never_passes_its_message_on,
        repeated_business_ids_keep_their_first_message_id,
        template_status_arms_and_disarms_the_schedule,
        crowd_insert_and_get,
        api_keys,
        a_day_of_quarter_hours_claimed_minute_by_minute_fires_96_times,
        late_fires_follow_the_misfire_policy,
        a_template_without_crowd_gives_no_crowd_and_stopped_ones_do_not_fire,
        claims_come_in_pages_of_the_limit,
        a_claim_of_more_fires_than_one_statement_writes_each_once_and_advances_each,
        list_schedules_shows_every_schedule_with_its_last_fire,
        a_failed_housekeeping_fire_is_retried_sooner,
        the_last_fire_of_a_finite_cron_disarms_its_schedule,
        accounts_have_unique_names_and_round_trip,
        housekeeping_schedules_come_and_go_with_their_account,
        a_rename_carries_templates_along_and_a_used_account_stays,
        runs_plan_lease_shards_checkpoint_and_complete,
        a_run_whose_rows_are_all_final_completes_when_published,
        a_runs_failed_messages_stream_and_it_is_resent_once,
        a_templates_recall_finds_its_unrecalled_sends_and_its_waiting_requests,
        receipts_land_once_per_message_and_state_and_the_unknown_are_kept,
        a_pull_asks_for_an_accounts_sends_without_a_final_receipt_oldest_first,
        a_receipt_names_a_list_pushs_message_by_task_and_receiver,
        a_deferring_template_fired_inside_quiet_hours_streams_when_they_end,
        failed_released_and_listed_runs,
        dropped_messages_count_into_their_run_once,
        a_cancelled_run_stops_streaming_and_its_deferred_messages_end_cancelled,
        cancelling_a_run_with_many_deferred_messages_ends_every_one,
        a_paused_run_holds_its_messages_and_stops_streaming_until_resumed,
        runs_are_listed_by_status_as_shown_and_by_creation_time_a_page_at_a_time,
        record_outcomes_is_idempotent_and_counts_once,
        the_trace_keeps_order_and_accepts_once,
        a_run_window_is_accepted_in_one_row_that_each_of_its_messages_trace_reads,
        the_outbox_is_idempotent_and_pages,
        the_discard_list,
        channel_rates_are_set_replaced_and_cleared,
        deferred_messages_are_held_once_and_released_in_order,
        message_states_filter_by_receiver_template_run_and_time,
        run_state_counts_count_every_final_state,
        a_templates_day_is_counted_and_its_failures_ranked,
        purge_before_deletes_old_rows_in_batches,
        purge_before_with_a_batch_below_one_still_ends,
        text_sorts_byte_by_byte_on_both_backends,
        users_have_unique_names_and_keep_only_hashes,
        sessions_expire_and_end,
        users_are_listed_disabled_and_enabled_but_one_stays_enabled,
        a_setup_link_makes_the_first_user_once,
        hourly_outcomes_are_counted_by_the_database,
        recent_crowds_come_newest_first,
        templates_are_searched_filtered_and_windowed,
        crowds_accounts_and_schedules_are_searched_filtered_and_windowed,
        crowds_keep_their_report_are_renamed_and_deleted_only_when_unused,
        the_suppression_list_covers_its_channel_and_kinds,
        the_suppression_list_is_searched_filtered_and_paged_newest_first,
        status_events_are_queued_claimed_retried_acknowledged_and_replayed,
        a_housekeeping_schedule_takes_a_changed_cron_and_keeps_an_unchanged_one,
        retention_drops_status_events_that_waited_as_long_as_their_trace,
        a_receipt_queues_its_state_once_for_the_endpoints_taking_it,
        jobs_fire_on_their_cadence_and_when_triggered_paused_or_not,
        the_run_log_pages_and_a_fixed_delay_counts_from_the_runs_end,
        a_job_s_limit_of_runs_admits_no_more_when_nodes_start_at_once,
        an_alarm_sends_once_per_quiet_window_and_recovers_once,
        a_job_that_keeps_its_own_run_log_is_purged_by_its_own_days,
        job_shards_spread_are_taken_over_and_end_their_fire_once,
        a_broadcast_shard_runs_on_its_node_unless_that_node_is_gone,
        housekeeping_runs_are_logged_by_their_schedule_beside_jobs_runs,
        a_schedule_s_fires_are_listed_newest_first_and_only_its_own,
        retention_purges_old_fires_but_keeps_those_a_run_a_job_or_a_schedule_still_names,
    ],
    // Tests that also make a write no store method makes (see `suite::Raw`).
    raw: [
        a_run_held_for_quiet_hours_is_leased_from_not_before,
        an_unreadable_cron_disables_its_schedule_and_the_claim_goes_on,
        a_fire_the_ledger_holds_already_is_left_out_and_the_rest_keep_their_own_ids,
        a_cadence_this_version_cannot_read_is_passed_over_and_the_claim_goes_on,
    ],
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
