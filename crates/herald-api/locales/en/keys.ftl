# /keys: the API keys, making one and revoking one.
keys-new-shown-once = The new key, shown this once:
keys-new-copy-now = only its hash is kept, so copy it now.
# One sentence around the scope badges and routes: { An } admin { key calls … a } send { key only } /send { and } /batchSend{ . A revoked … }
keys-scopes-an = An
keys-scopes-admin = key calls every API route; a
keys-scopes-send = key only
keys-scopes-and = and
keys-scopes-rest = . A revoked key is refused at once. The last usable admin key cannot be revoked.
keys-col-id = Id
keys-col-key = Key
keys-col-name = Name
keys-col-scope = Scope
keys-col-created = Created
keys-col-last-used = Last used
keys-revoked-at = revoked { $at }
keys-revoke-ask = Revoke…
keys-new-heading = New key
keys-name-placeholder = what it is for, e.g. shop backend
keys-scope-send = send: /send, /batchSend and /recall only
keys-scope-admin = admin: every route
keys-create = Create key
keys-revoked-notice = Key revoked: it is refused from now on.
keys-not-found = no API key with id { $id }

# Revoking, after asking.
keys-revoke-title = Revoke key { $id }
keys-revoke-heading = Revoke key { $id }?
keys-revoke-text = Key { $id } ({ $name }) will be refused from the next request on. Clients that use it get 401 and need a new key. This cannot be undone.
keys-revoke = Revoke
