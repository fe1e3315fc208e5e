# /schedules: every schedule herald runs, templates' and housekeeping.

sched-intro = Every schedule herald runs: templates' and housekeeping (token refresh, quiet-hours release, retention).
sched-kind-label = kind
sched-any-kind = any kind
sched-filter-show = Show
sched-col-id = Id
sched-col-kind = Kind
sched-col-for = For
sched-col-cron = Cron
sched-col-next-fire = Next fire
sched-col-last-fire = Last fire
sched-col-recent-fires = Recent fires
sched-off = (off)
sched-node-wide = node-wide
sched-none-yet = none yet
sched-none = No schedule.
sched-never = never
sched-owner-template = template { $id }
sched-owner-account = account { $id }
sched-owner-job = job { $id }

## A schedule's kind, as shown (the raw value stays the filter's value)
sched-kind-template = template
sched-kind-token-refresh = token_refresh
sched-kind-quiet-release = quiet_release
sched-kind-retention = retention
sched-kind-receipt-pull = receipt_pull
sched-kind-job = job
sched-kind-daily-report = daily_report

## How a fire ended, as shown (the raw value stays the badge's class)
sched-outcome-fired = fired
sched-outcome-misfire-skipped = misfire_skipped
sched-outcome-no-crowd = no_crowd
sched-outcome-error = error
