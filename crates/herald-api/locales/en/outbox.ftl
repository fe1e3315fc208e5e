# /outbox: what the outbox channel delivered.

# "What the <code>outbox</code> channel delivered: a channel that sends nowhere, for trying
# templates and crowds out.", split around the code.
outbox-hint = What the
outbox-hint-end = channel delivered: a channel that sends nowhere, for trying templates and crowds out.
outbox-template-id = Template id
outbox-run-id = Run id
outbox-receiver = Receiver
outbox-show = Show
outbox-total = { $count ->
    [one] 1 delivery.
   *[other] { $count } deliveries.
}
outbox-total-of = { $count ->
    [one] 1 delivery of this template or run.
   *[other] { $count } deliveries of this template or run.
}
outbox-message = Message
outbox-template = Template
outbox-run = Run
outbox-content = Content
outbox-delivered = Delivered
outbox-empty = Nothing delivered to the outbox.
outbox-no-match = Nothing delivered to the outbox matches.
# $value is the typed text, quoted.
outbox-not-an-id = { $value } is not an id
