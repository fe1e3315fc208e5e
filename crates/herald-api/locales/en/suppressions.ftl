# /suppressions: the suppression list (opt-outs), adding and removing entries, importing a CSV.

supp-heading = Suppression list
supp-hint = A receiver on the list is not sent messages of the kinds its entry covers, on its channel or on every channel; those sends are traced as suppressed. Opt-outs from SMS replies, unsubscribe links and bounces land here as well.

## The list
supp-list-heading = Entries
supp-search-placeholder = receiver contains…
supp-search-label = search receivers
supp-channel-filter-label = channel of the entries
supp-any-channel = any channel
supp-every-channel-entries = entries for every channel
supp-source-filter-label = source of the entries
supp-any-source = any source
supp-receiver = Receiver
supp-channel = Channel
supp-kinds = Kinds
supp-source = Source
supp-note = Note
supp-added = Added
supp-every-channel = every channel
supp-none-yet = No one is on the suppression list.
supp-no-match = No entry matches.
supp-remove = Remove
supp-remove-label = remove { $receiver } on { $channel }

## Kinds of message and sources of entries
supp-kind-notice = notice
supp-kind-marketing = marketing
supp-kind-verification = verification code
supp-source-api = API
supp-source-import = import
supp-source-console = console
supp-source-sms-reply = SMS reply
supp-source-unsubscribe = unsubscribe link
supp-source-bounce = bounce

## Adding an entry
supp-add-heading = Add an entry
supp-add-hint = Write the receiver as the crowds hold it: phone numbers are compared without spaces, dashes or +86, email addresses in any case.
supp-kinds-legend = Kinds of message it stops
supp-note-optional = Note (optional)
supp-add-submit = Add to the list
# $value is the text sent, quoted.
supp-not-a-kind = { $value } is not a kind of message: give notice, marketing or verification
supp-added-notice = Added to the suppression list: sends to this receiver stop from the next batch.

## Removing an entry
supp-remove-title = Remove { $receiver } from the suppression list?
supp-remove-text = { $receiver } will be sent messages on { $channel } again, unless another entry still covers them.
supp-remove-yes = Yes, remove
supp-removed-notice = Removed from the suppression list: this receiver is sent to again.

## Importing a CSV
supp-import-heading = Import a CSV
supp-import-hint = One receiver a line: in a column named receiver, or in the first column when the file has no header. Columns named channel, kinds and note set those for their row; rows without them take the choices below.
supp-import-channel = Channel of rows that name none
supp-import-kinds = Kinds of rows that name none
supp-csv-file = CSV file
supp-import-submit = Import
supp-import-progress = upload progress
supp-import-sent = { $percent }% sent
supp-import-checking = checking rows…
supp-report-heading = Import report
supp-stat-rows = rows read
supp-stat-written = entries written
supp-stat-bad = bad rows skipped
supp-line = Line
supp-why-skipped = Why it was skipped
supp-more-bad-rows = Only the first bad rows are listed.
supp-see-imported = See the imported entries
