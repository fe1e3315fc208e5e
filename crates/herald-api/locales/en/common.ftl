# What every console page shares: the page language, the top bar, paging, errors and the
# words many pages use. Page-specific text lives in the file named after the page.

html-lang = en
brand-title = herald

nav-dashboard = Dashboard
nav-templates = Templates
nav-crowds = Crowds
nav-runs = Runs
nav-trace = Trace
nav-accounts = Accounts
nav-schedules = Schedules
nav-jobs = Jobs
nav-policies = Policies
nav-suppressions = Opt-outs
nav-outbox = Outbox
nav-keys = API keys
nav-users = Users
nav-api = API
nav-label = Sections

top-zone-title = change the time zone and language pages are shown in
top-log-out = Log out

pager-label = pages
pager-previous = Previous
pager-next = Next
pager-page = page { $page }

error-title = Error { $status }
error-back = Back to the dashboard

confirm-no = No, keep it

rows-count = { $count ->
    [one] 1 row
   *[other] { $count } rows
}

common-save = Save
common-delete = Delete
common-cancel = Cancel
common-search = Search
common-filter = Filter
common-any = any
common-none = none
common-yes = yes
common-no = no
