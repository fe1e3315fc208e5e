# /templates: the template list, its bulk actions, and the template form with its previews.

## The list
tpl-new = New template
tpl-search-placeholder = Search by name or id
tpl-search-label = search
tpl-status-label = status
tpl-any-status = any status
tpl-status-running = running
tpl-status-stopped = stopped
tpl-channel-label = channel
tpl-any-channel = any channel
tpl-bulk-label = With the ticked templates:
tpl-tick = Tick
tpl-tick-name = tick { $name }
tpl-id = Id
tpl-status = Status
tpl-next-fire = Next fire
tpl-no-match = No template matches.
tpl-deleted = Template deleted: { tpl-delete-keeps }.

## Bulk actions
tpl-bulk-choose = Choose start, stop or delete.
tpl-bulk-tick = Tick 1 to { $max } templates first.
tpl-bulk-delete-title = { $count ->
    [one] Delete 1 template?
   *[other] Delete { $count } templates?
}
tpl-bulk-delete-text = { $names }: their schedules stop and they can no longer be sent; { tpl-delete-keeps }.
tpl-bulk-delete-yes = { $count ->
    [one] Yes, delete 1 template
   *[other] Yes, delete { $count } templates
}
tpl-bulk-started = Started { $count }: { $names }.
tpl-bulk-stopped = Stopped { $count }: { $names }.
tpl-bulk-deleted = Deleted { $count }: { $names }.
tpl-bulk-refused = Refused { $count }: { $names }.
tpl-bulk-deleted-keeps = Its runs, fire history, message traces and delivery ledger are kept; its id is never reused.

## The form
tpl-edit-title = Template { $id }
tpl-edit-heading = Template #{ $id }: { $name }
tpl-name = Name
tpl-channel = Channel
tpl-channel-account = Channel account
tpl-channel-account-none = none (outbox, webhook)
tpl-msg-type = Message type
tpl-msg-type-notice = 10 notice
tpl-msg-type-marketing = 20 marketing
tpl-msg-type-code = 30 verification code
tpl-receiver-id-type = Receiver id type
tpl-crowd-file = Crowd file
tpl-crowd-option = { $name } — { $rows } rows, { $bad } bad ({ $created })
# "Upload a crowd file; its columns fill {$name} placeholders.", around the link and the code.
tpl-crowd-upload = Upload a crowd file
tpl-crowd-hint-fill = ; its columns fill
tpl-crowd-hint-placeholders = placeholders.
tpl-content = Content
tpl-add-field = Add a field
# "Placeholders are written {$column}. A value that is a JSON object or array (SMS params) is sent as one.",
# around the two pieces of code.
tpl-content-hint-written = Placeholders are written
tpl-content-hint-json = . A value that is a JSON object or array (SMS
tpl-content-hint-as-one = ) is sent as one.
tpl-required = (required)
tpl-choice-default = default
tpl-field-placeholder = field, e.g. title
tpl-field-name-label = content field name
tpl-field-value-label = content field value
tpl-quiet-hours = Quiet hours
tpl-quiet-hours-none = none: send at any hour
tpl-quiet-hours-drop = drop: do not send in quiet hours
tpl-quiet-hours-defer = defer: hold until quiet hours end
tpl-schedule = Schedule
tpl-cron = Cron (Quartz, with seconds)
tpl-timezone = Time zone
tpl-misfire = When a fire is late
tpl-misfire-fire-once = fire once
tpl-misfire-skip = skip
tpl-start-at = Starts at
tpl-end-at = Ends at
tpl-exclude-dates = Days without fires
tpl-exclude-dates-help = One YYYY-MM-DD a line (holidays), read in the schedule's time zone; a fire on one is skipped.
tpl-exclude-windows = Times without fires
tpl-exclude-windows-help = One HH:MM-HH:MM a line, read in the schedule's time zone (22:00-06:00 is the night); a fire in one is skipped.
tpl-exclude-windows-line = line { $line }: give HH:MM-HH:MM
tpl-window-help = Optional, RFC 3339 with an offset: no fire before the start, none after the end.
tpl-misfire-catch-up = catch up: each of the last 10 missed fires in turn
tpl-advanced = Advanced: quiet window and dedup rules (JSON)
tpl-quiet-window = Quiet window
tpl-dedup = Dedup rules
tpl-test-receivers = Test mode: the only receivers sent to
tpl-test-receivers-hint = One receiver a line. While any is listed, only these receivers get real sends; every other receiver of a run or /send is traced test_skipped and not sent. Empty: everyone is sent to.
tpl-test-mode-badge = test mode
tpl-test-mode-title = Test mode: only { $count ->
        [one] 1 listed receiver gets
       *[other] { $count } listed receivers get
    } real sends; everyone else is skipped.
tpl-create = Create template
tpl-invalid-json = is not valid JSON: { $error }
tpl-done-created = Template created.
tpl-done-saved = Saved.
tpl-done-started = Started: the schedule is armed.
tpl-done-stopped = Stopped: the schedule will not fire.
tpl-save-first = Save the template to start its schedule or run it now.

## The content preview
tpl-preview = Preview:
# "Preview for <receiver>, the crowd's first row:"
tpl-preview-for = Preview for
tpl-preview-first-row = , the crowd's first row:
tpl-preview-pick-crowd = Pick a crowd file to see the content rendered from its first row.
tpl-preview-no-crowd = no uploaded crowd file { $crowd }
tpl-preview-no-valid-row = The crowd file has no valid row.

## The cron preview
tpl-next-fires = Next fires:
tpl-no-more-fires = none: the expression has no more fires
tpl-no-schedule = No schedule: the template sends only when you press Run now.

## A stored template's panel
tpl-status-heading = Status:
tpl-next-fire-label = Next fire:
tpl-crowd-rows = { $rows ->
    [one] Crowd: 1 row
   *[other] Crowd: { $rows } rows
}
tpl-start = Start
tpl-stop = Stop
tpl-run-now = Run now
tpl-delete-ask = Delete…
# The same words as the REST API's answer to a delete.
tpl-delete-keeps = its runs, fire history, message traces and delivery ledger are kept; its id is never reused
tpl-delete-hint = Delete stops the schedule; { tpl-delete-keeps }.
tpl-delete-title = Delete template “{ $name }”?
tpl-delete-text = Its schedule stops and it can no longer be sent; { tpl-delete-keeps }.
tpl-delete-yes = Yes, delete it
tpl-test-heading = Send a test
tpl-test-hint = Sends the saved content once, now, to one receiver, filled from the crowd's first valid row.
tpl-receiver = Receiver
tpl-send-test = Send test
tpl-test-title = { $outcome } (message { $message })
tpl-test-sent = sent
tpl-test-retryable = retryable
tpl-test-permanent = permanent
tpl-test-content = sent { $content }
tpl-test-detail = { $detail } · sent { $content }
tpl-recent-fires = Recent fires
tpl-fire-time = Fire time
tpl-outcome = Outcome
tpl-run = Run
tpl-no-fires = No fires yet.
tpl-fire-fired = fired
tpl-fire-misfire-skipped = misfire_skipped
tpl-fire-no-crowd = no_crowd
