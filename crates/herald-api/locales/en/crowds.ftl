# /crowds and /crowds/<id>: the crowd files, an upload and its validation report, and one
# crowd's page.

## The list and the upload form
crowd-heading = Crowd files
crowd-upload-heading = Upload a crowd CSV
# "A header row; the receiver column (<code>userId</code> by default) holds who to send to, every
# other column is a <code>{$name}</code> variable. Bad rows are skipped and reported by line.",
# split around the two codes.
crowd-upload-hint-header = A header row; the receiver column (
crowd-upload-hint-receiver = { " " }by default) holds who to send to, every other column is a
crowd-upload-hint-bad-rows = variable. Bad rows are skipped and reported by line.
crowd-receiver-column = Receiver column
crowd-csv-file = CSV file
crowd-upload-submit = Upload and check
crowd-upload-progress = upload progress
# Shown beside the progress bar while the file goes up; the script fills in the percentage.
crowd-upload-sent = { $percent }% sent
crowd-upload-checking = checking rows…
crowd-list-heading = Uploads, newest first
crowd-search-placeholder = Search by file name or id
crowd-search-label = search crowds
crowd-file = File
crowd-rows = Rows
crowd-bad-rows = Bad rows
crowd-variables = Variables
crowd-uploaded = Uploaded
crowd-new-template = New template
crowd-none-yet = No crowd file yet.
crowd-no-match = No crowd file matches.
crowd-deleted = Crowd deleted: { crowd-delete-keeps }.

## An upload's report, also on the crowd's page
crowd-report-heading = Uploaded { $name }
crowd-stat-rows = rows
crowd-stat-valid = valid
crowd-stat-bad-rows = bad rows
# "Receiver column <code>userId</code>; variables: <code>name, city</code>." split around the codes;
# the crowd's page adds ". 2,048 bytes, uploaded <time>. Id <code>…</code>." before the end.
crowd-variables-are = ; variables:{ " " }
crowd-size-uploaded = . { $size }, uploaded { $at }. Id
crowd-sentence-end = .
crowd-line = Line
crowd-why-skipped = Why it is skipped
crowd-more-bad-rows = Only the first bad rows are listed.
crowd-new-template-with = New template with this crowd
crowd-open-page = Open the crowd's page (this report is kept there)

## One crowd's page
crowd-page-title = Crowd { $name }
crowd-download = Download CSV
crowd-size = { $size ->
    [one] 1 byte
   *[other] { $size } bytes
}
crowd-bad-rows-not-kept = The upload's bad rows were not kept (an upload from before they were).
crowd-no-bad-rows = None: every row can be sent to.
crowd-used-by = Used by
crowd-unused = No template sends to this crowd.
crowd-rename = Rename
crowd-name = Name
crowd-renamed = Renamed.
# The same words as the REST API's answer to a delete.
crowd-delete-keeps = its runs and their traces are kept; its file is removed
crowd-delete-hint = Refused while a template sends to it or a run still reads its file; { crowd-delete-keeps }.
crowd-delete-ask = Delete crowd…
crowd-delete-title = Delete crowd “{ $name }”?
crowd-delete-text = Its { $rows ->
    [one] 1 row
   *[other] { $rows } rows
} can no longer be sent to: { crowd-delete-keeps }.
crowd-delete-yes = Yes, delete it
