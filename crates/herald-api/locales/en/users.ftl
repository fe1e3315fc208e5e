# /users: the console's users.

user-heading = Console users
user-name = Name
user-added-at = Added
user-state = State
user-new-password = Set a new password
user-you = (you)
user-disabled = disabled
user-active = active
user-new-password-label = new password for { $name }
user-set-password-label = set the password of { $name }
user-set = Set
user-enable = Enable
user-disable = Disable
user-enable-label = enable { $name }
user-disable-label = disable { $name }

## Adding one
user-add-heading = Add a user
user-add-hint = Every user can do everything in the console. Disabling a user ends their sessions; setting a password ends them too.
user-user-name = User name
user-password = Password
user-password-again = Password again
user-add-submit = Add user

## What was done, or refused
user-done-added = User added.
user-done-disabled = User disabled: their sessions have ended.
user-done-enabled = User enabled.
user-done-password = Password set: their sessions have ended.
user-not-yourself = you cannot disable yourself
# A new password refused: whose, and why (a text of login.ftl).
user-password-problem = { $name }: { $problem }
