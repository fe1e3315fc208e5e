# /: the dashboard, and the names lists give a template (the dashboard's module words them).

dash-chart-title-day = Messages per hour by outcome, last day
dash-chart-title-week = Messages per hour by outcome, last week
dash-chart-zone = (hours in { $zone })
dash-range-day = Last day
dash-range-week = Last week
dash-chart-label = Messages per hour by outcome
dash-newest-runs = Newest runs
dash-all-runs = All runs
# "<b>3</b> of 10 running.", after the figure.
dash-templates-running = of { $count } running.
dash-new-template = New template
dash-upload-crowd = Upload a crowd

## A template's name where a list shows it
dash-template-deleted = { $name } (deleted)
dash-template-id = template { $id }
dash-template-id-deleted = template { $id } (deleted)
