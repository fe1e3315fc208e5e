# /runs: the runs list, a run's page (progress, pause, resume, cancel, its story) and the
# "run now?" question.

## A run's status, as shown (the raw value stays the badge's class and the filter's value)
run-status-pending = pending
run-status-streaming = streaming
run-status-published = published
run-status-paused = paused
run-status-completed = completed
run-status-failed = failed
run-status-cancelled = cancelled

## The list
run-filter-template = Template
run-any-template = any template
run-filter-status = Status
run-any-status = any status
run-filter-from = Created from ({ $zone })
run-filter-to = to
run-filter-show = Show
run-filter-template-id = give a template id
run-filter-not-date = { $value } is not a date: give YYYY-MM-DD
run-col-run = Run
run-col-template = Template
run-col-status = Status
run-col-done = Done
run-col-delivered = Delivered
run-col-failed = Failed
run-col-created = Created
run-none = No runs.

## A run's page
run-title = Run { $id }
# "Run #12 of <a>template name</a>", before the link.
run-heading = Run #{ $id } of
run-created = Created { $at }.
run-all-of-template = All runs of this template
run-progress-label = run progress
run-resume = Resume run
run-pause = Pause run
run-cancel = Cancel run…
run-not-found = run { $id } not found
run-done-cancelled = Run cancelled: no more of it is sent. What was already sent stays in its traces.
run-done-paused = Run paused: no more of it is sent until you resume it. Its messages are held.
run-done-resumed = Run resumed: its held messages are on their way, each sent once.
run-done-resent = This run resends the messages that failed in the earlier run, to those receivers only.
run-resend = Resend to failed…
# "Resends the failed messages of run #12", before the link to that run.
run-resend-of = Resends the failed messages of

## Its progress
run-progress-done = done
run-progress-finished = finished { $at }
run-stat-rows-read = rows read of { $total }
run-stat-rows-invalid = invalid rows
run-stat-batches = batches published
run-stat-delivered = delivered
run-stat-failed = failed
run-stat-dropped = dropped by a policy or cancelled
run-stat-deferred = deferred
run-stat-held = held while paused

## Its story
run-story-started = Started { $started }; { $duration }.
run-started-schedule = by its schedule, the fire due { $at }
run-started-by-hand = by hand (run now)
run-took = took { $span }
run-running-for = running for { $span }
run-span-ms = { $ms } ms
run-span-s = { $s } s
run-span-min = { $min } min { $s } s
run-span-h = { $h } h { $min } min
run-failed-messages = Failed messages
run-none-failed = None failed.
run-col-receiver = Receiver
run-col-reason = Reason
run-col-at = At
run-col-trace = Trace
run-no-more = No more.
run-newer-failures = Newer failures
run-older-failures = Older failures
run-shards = Shards
run-no-shards = Not planned yet.
run-col-shard = Shard
run-col-rows-read = Rows read
run-col-batches = Batches
run-col-held-by = Held by
run-col-lease-until = Lease until
run-shard-pending = pending
run-shard-streaming = streaming
run-shard-done = done

## Cancelling, asked first
run-cancel-title = Cancel run { $id }?
run-cancel-heading = Cancel run #{ $id } of “{ $name }”?
# "So far <b>5</b> messages were delivered and <b>10</b> of 30 rows read.", around the two figures.
run-cancel-so-far = So far
run-cancel-delivered-and = messages were delivered and
run-cancel-rows-read = of { $total } rows read.
run-cancel-consequences = Nothing more of this run is sent: the sends already under way finish, the messages waiting in the queue or for the end of quiet hours end as cancelled, and rows not yet read are never read. This cannot be undone; what was sent stays in its traces.
run-cancel-yes = Yes, cancel the run
run-cancel-no = No, keep sending

## Resending to failed, asked first
run-resend-title = Resend the failed messages of run { $id }?
run-resend-heading = Resend the failed messages of run #{ $id } of “{ $name }”?
run-resend-consequences = A new run of this template sends now to the { $failed } receivers whose messages failed, each with its row's variables, and to no one else. Dedup does not count them again; the suppression list, test mode and quiet hours apply as to any run. A run is resent once: what the resend fails is resent from the resend.
run-resend-yes = Yes, resend to them
run-resend-no = No, go back

## Run now, asked first
run-confirm-title = Run now?
run-confirm-heading = Run “{ $name }” now?
# "This sends to every row of the crowd file: <b>21</b> rows, at once.", around the figure.
run-confirm-text = This sends to every row of the crowd file:
run-confirm-rows = rows, at once.
run-confirm-yes = { $rows ->
    [one] Yes, send to 1 row
   *[other] Yes, send to { $rows } rows
}
