# /trace: what happened to a message, or to a receiver's messages.

trace-heading = Trace a message
trace-q-placeholder = message id (r12-345) or receiver (13800000000)
trace-q-label = message id or receiver
trace-look-up = Look up
trace-none = No message id or receiver matches “{ $q }”.
trace-message = Message { $q }
# "To <b>receiver</b>, template <a>name</a>, run <a>#3</a>.", around the bold receiver and the links.
trace-to = To
trace-via-template = , template
trace-via-run = , run
trace-end = .
trace-col-event = Event
trace-col-detail = Detail
trace-col-at = At
trace-messages-to = Messages to { $q }
trace-col-message = Message
trace-col-template = Template
trace-col-run = Run
trace-col-final-state = Final state

## A message's state or trace event, as shown (the raw value stays the badge's class)
trace-state-accepted = accepted
trace-state-sent = sent
trace-state-retrying = retrying
trace-state-failed = failed
trace-state-deferred = deferred
trace-state-paused = paused
trace-state-dropped-quiet-hours = dropped_quiet_hours
trace-state-dropped-dedup = dropped_dedup
trace-state-discarded = discarded
trace-state-cancelled = cancelled
trace-state-test-skipped = test_skipped
trace-state-suppressed = suppressed
trace-state-recalled = recalled
trace-state-delivered = delivered
trace-state-undelivered = undelivered
trace-state-read = read

## Recalling the message looked up, asked first
trace-recall = Recall…
trace-recall-ask = Recall this message? Not sent yet, it is stopped and never sent; sent on a DingTalk work notice, WeCom app or Feishu app account within 24 hours, the provider takes it back; otherwise it cannot be recalled.
trace-recall-yes = Yes, recall it
trace-recall-recalled = Recalled
trace-recall-not-recallable = Not recallable
trace-recall-too-late = Too late
trace-recall-failed = The recall failed; try again
trace-recall-not-found = No such message
