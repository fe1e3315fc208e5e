# /jobs: scheduled HTTP jobs, their list and each job's page (its call, its schedule, pause,
# resume, run now, and its run log).

## A schedule's type, as shown (the raw value stays the badge's class)
job-type-cron = cron
job-type-fixed-rate = fixed rate
job-type-fixed-delay = fixed delay
job-type-once = once
job-type-api = on demand
job-every = every { $period }
job-after-delay = { $period } after the previous run ends
job-once-at = at { $at }
job-api-only = only when run now or through the API

## Lengths of time
job-period-days = { $n ->
    [one] 1 day
   *[other] { $n } days
}
job-period-hours = { $n ->
    [one] 1 hour
   *[other] { $n } hours
}
job-period-minutes = { $n ->
    [one] 1 minute
   *[other] { $n } minutes
}
job-period-seconds = { $n ->
    [one] 1 second
   *[other] { $n } seconds
}
job-ms = { $n } ms

## What a fire does while the last run is going (the raw value stays the badge's class)
job-overlap-serial = serial (waits)
job-overlap-discard = discard
job-overlap-replace = replace

## How an attempt ended (the raw value stays the badge's class and the filter's value)
job-outcome-running = running
job-outcome-succeeded = succeeded
job-outcome-failed = failed
job-outcome-timed-out = timed out
job-outcome-discarded = discarded
job-outcome-replaced = replaced
job-outcome-abandoned = abandoned

## Both pages
job-enabled = active
job-paused = paused
job-no-retries = none
job-retries = up to { $n } retries, the first after { $backoff }, each wait doubling
job-rate = { $succeeded }/{ $ended } succeeded
job-rate-none = no ended run yet
job-rate-label = share of ended attempts that succeeded
job-not-found = job { $id } not found

## The list
job-intro = HTTP calls on a schedule. Success counts each job's last { $count } ended attempts.
job-col-name = Job
job-col-schedule = Schedule
job-col-state = State
job-col-next-fire = Next fire
job-col-overlap = Overlap
job-col-timeout = Timeout
job-col-retries = Retries
job-col-success = Last attempts
job-none = No job yet: add one with herald job add or POST /api/jobs.

## A job's page
job-title = Job { $name }
job-all = All jobs
job-call = Call
job-method-url = Method and URL
job-command = Command
job-env = Environment
job-expect-exit = exit code { $codes }
job-headers = Headers
job-header-name = Name
job-header-value = Value
job-no-headers = none
job-body = Body
job-body-bytes = { $bytes } bytes
job-expect = Success when
job-expect-any-2xx = any 2xx status
job-expect-status = status { $statuses }
job-expect-json = the answer's { $pointer } is { $value }
job-schedule = Schedule
job-schedule-row = schedule #{ $id }
job-timeout = Timeout
job-retries-label = Retries
job-overlap = Overlap
job-sharding = Sharding
job-sharding-shards = { $count } shards, spread across the nodes (a dead node's shard is taken over)
job-sharding-broadcast = once on every node running jobs
job-run-shard = shard { $shard }
job-state = State
job-next-fire = Next fire
job-created = Created { $at }, updated { $updated }.
job-pause = Pause
job-resume = Resume
job-run-now = Run now
job-done-paused = Paused: no scheduled fire until resumed (Run now still runs it).
job-done-resumed = Resumed: it fires next at its first time after now.
job-done-asked = Asked for a run: the next claim on any node runs it; it shows in the run log below.

## Its run log
job-runs = Run log
job-filter-outcome = Outcome
job-any-outcome = any outcome
job-filter-show = Show
job-filter-outcome-unknown = { $value } is not an outcome
job-page-rate = On this page: { $succeeded }/{ $ended } ended attempts succeeded.
job-page-rate-label = success on this page
job-col-started = Started
job-col-duration = Duration
job-col-node = Node
job-col-attempt = Attempt
job-col-outcome = Outcome
job-col-status = Status
job-col-error = Error
job-col-output = Answer
job-output-show = { $bytes } bytes
job-runs-none = No run yet.

## A job's alarms, children and chart
job-alarms = Alarms
job-alarms-none = No alarms: nobody is told when it fails.
job-alarm-template = Sent through
job-alarm-rules = Raised by
job-alarm-rate = { $percent }% of fires failed in { $mins } min
job-alarm-stuck = an attempt still going after { $secs } s
job-alarm-quiet = Quiet after an alarm
job-alarm-quiet-mins = { $n } min
job-alarm-recovery = a message when it recovers
job-alarm-raised = Raised now
job-alarm-raised-none = none
job-alarm-raised-row = last alarm { $at }, { $quieted } kept quiet since
job-children = Children
job-children-none = none
job-child-on-success = when it succeeds
job-child-always = whenever it ends
job-success-chart = Fires over time
job-chart-label = The job's last fires, succeeded and failed, over time

## Creating and editing a job
job-new = New job
job-edit = Edit
job-new-title = New job
job-edit-title = Edit job { $name }
job-form-intro = The job as the API takes it, in JSON: an HTTP call or a command, its schedule, timeout, retries, overlap rule, alarms and children.
job-form-reference = Every field in the API reference
job-form-spec = Job (JSON)
job-form-secrets = Secret header and variable values show as ********; leave them so to keep what is stored.
job-form-save = Save
job-form-cancel = Cancel
job-form-refused = Not saved:
job-form-delete = Delete this job
job-form-delete-hint = Its schedule and run log go with it.
job-done-created = Job created.
job-done-saved = Job saved; its schedule starts over from now.
job-done-deleted = Job deleted.

hk-heading = Housekeeping
hk-intro = What herald runs on its own schedules: token refreshes, the quiet-hours release, retention and receipt pulls. Their runs are logged like jobs', and a failure alarms through the node's [alarms] section.
hk-none = No housekeeping yet.
hk-title = Housekeeping: { $name }
hk-what = Runs on its own schedule (UTC); a failure is retried soon and alarms through the node's [alarms] section.
hk-alarms = Told through the template and receivers of the node's [alarms] section, when it has one.
hk-not-found = Housekeeping schedule { $id } not found.

alarms-title = Alarms
alarms-intro = Alarm rules raised now on jobs and housekeeping, and who each job's alarms tell. A rule leaves this list when its job next succeeds (with a recovery message when the job asks for one).
alarms-raised = Raised now
alarms-col-rule = Rule
alarms-col-last = Last alarm
alarms-col-quieted = Kept quiet since
alarms-none-raised = Nothing is raised.
alarms-told = Who is told
alarms-none-told = No job has alarms. Give a job "alarms" in its JSON.
cal-title = Calendars
cal-intro = Schedules with days they do not fire on (holidays, in the schedule's zone) or a window they fire within, and their next fires with those applied. Edit them where the schedule is: a job's JSON (excludeDates, excludeWindows, startAt, endAt) or the template form.
cal-kind-job = job
cal-kind-template = template
cal-col-window = Window
cal-col-days = Excluded days to come
cal-col-next = Next fires
cal-window-none = always
cal-not-in = not { $window }
cal-window-both = from { $start } until { $end }
cal-window-from = from { $start }
cal-window-until = until { $end }
cal-more-days = and { $n } more
cal-days-none = none to come
cal-past-days = { $n } already past
cal-no-fires = no fire left
cal-none = No schedule has a calendar yet.
