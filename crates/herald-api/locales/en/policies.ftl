# /policies: the discard list and flow control.

policy-heading = Discard list and flow control

## The discard list
policy-discard-list = Discard list
# "A template on the list has every send dropped (traced <code>discarded</code>) until it is
# taken off: the brake for a wrong send.", split around the code.
policy-discard-hint = A template on the list has every send dropped (traced
policy-discard-hint-end = ) until it is taken off: the brake for a wrong send.
policy-template = Template
policy-reason = Reason
policy-since = Since
policy-take-off = Take off
policy-take-off-label = take { $name } off the list
policy-none-discarded = No template is discarded.
# "Only the first entries are shown; <code>GET /api/discards</code> pages through all."
policy-more-discards = Only the first entries are shown;
policy-more-discards-api = pages through all.
# The picker's empty choice, and the refusal when none was picked.
policy-pick-template = pick a template
policy-discard-submit = Discard its sends
policy-discarded = Put on the discard list: its sends are dropped from now on.
policy-undiscarded = Taken off the discard list: its sends go out again.

## Flow control
policy-flow-control = Flow control
policy-flow-control-hint = Sends per second per channel, across every node; empty means unlimited. A channel account's own rate applies too.
policy-channel = Channel
policy-sends-per-second = Sends per second
policy-unlimited = unlimited
policy-rate-label = sends per second on { $channel }
policy-rate-saved = Flow control saved.
policy-pick-channel = pick a channel
# $value is the typed text, quoted.
policy-not-a-number = { $value } is not a number
