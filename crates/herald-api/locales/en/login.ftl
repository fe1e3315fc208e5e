# /login and /setup/<token>: the pages shown before anyone logs in (they read in the browser's
# language), and the checks of a new user's name and password (also used on /users).

## Logging in
login-title = Log in · herald
login-user-name = User name
login-password = Password
login-submit = Log in
# "No user yet? Run <code>herald user add NAME</code>, or open the setup link herald printed at
# its first start.", split around the command.
login-no-user = No user yet? Run
login-no-user-setup = , or open the setup link herald printed at its first start.
login-throttled = too many failed logins; try again in { $wait } s
login-busy = another login from your address is being checked; try again shortly
login-server-busy = the server is busy checking other logins; try again shortly
login-wrong = wrong user name or password
login-user-disabled = this user is disabled: another user can enable it on the Users page
login-stale-form = the form's security token is missing or stale (are cookies enabled?): reload the page and try again
# Any console form whose body is over the size limit.
login-form-too-large = the form is too large

## The setup link
setup-title = Create the first user · herald
setup-heading = Create the first user
setup-hint = This link works once. The user you create here can log in to the console.
setup-password-again = Password again
setup-submit = Create and log in
setup-unknown-link = this setup link is unknown, expired or already used; a user exists, or a restart prints a new link

## A new user's name and password (the setup link and /users)
setup-name-problem = must be 1 to { $max } printable characters
setup-password-too-short = must be at least { $min } characters
setup-password-too-long = must be at most { $max } bytes
setup-passwords-differ = the two passwords differ
