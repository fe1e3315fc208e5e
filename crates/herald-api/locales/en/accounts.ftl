# /accounts: channel accounts, their list, form, test send and token refresh.
acct-list-title = Channel accounts
acct-search-placeholder = Search by name or id
acct-search-label = search
acct-channel-label = channel
acct-any-channel = any channel
acct-col-id = Id
acct-col-rate = Rate
acct-col-updated = Updated
acct-rate = { $rate }/s
acct-rate-unlimited = unlimited
acct-list-empty = No channel account yet. The outbox and webhook channels need none.
acct-list-no-match = No account matches.

# The form.
acct-title = Account { $id }
acct-new-title = New account
acct-heading = Account #{ $id }: { $name }
acct-new-heading = New channel account
acct-name = Name
acct-channel = Channel
acct-configuration = Configuration
# Around a masked secret, <code>****</code>.
acct-secrets-hint-before = Secrets are write-only: they show masked (
acct-secrets-hint-after = , or its last four characters); leave them so to keep the stored value, or type a new one.
acct-config-json-summary = Or the whole configuration as JSON
acct-config-json-label = Config (JSON; when filled, it replaces the fields above)
acct-config-json-hint = For what the fields do not cover, such as a second SMS supplier. See the README's channel table.
acct-rate-label = Sends per second (empty: unlimited)
acct-create = Create account
acct-created = Account created.
acct-saved = Saved.
acct-not-json = is not valid JSON: { $error }

# A configuration field of the channel.
acct-field-required = (required)
acct-field-pick-one = pick one
acct-field-default = default
acct-field-secret-help = Secret. { $help }
acct-no-fields = This channel needs no configuration.
acct-field-not-whole = { $label }: { $value } is not a whole number
acct-field-not-choice = { $label }: { $value } is not one of { $choices }

# Test send, token refresh, delete.
acct-test-heading = Send a test message
acct-receiver = Receiver
acct-test-content = Content (JSON, optional)
acct-send-test = Send test
acct-test-title = { $outcome } (message { $message })
acct-test-sent = sent
acct-test-retryable = retryable
acct-test-permanent = permanent
acct-refused = Refused
acct-token-heading = Access token
acct-refresh-now = Refresh now
acct-token-refreshed = Token refreshed
acct-token-expires = expires at { $at }
acct-delete-ask = Delete account…
acct-delete-title = Delete channel account “{ $name }”?
acct-delete-text = Its configuration, secrets and token refresh schedule go. It is refused while a template sends through it; messages already sent keep their traces.
acct-delete-yes = Yes, delete it
