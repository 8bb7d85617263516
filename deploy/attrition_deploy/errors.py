"""The one user-error type: what the person at the keyboard can fix (a missing option, a file that
is not what it should be, a registry that says no). `cli` prints it as one line and exits 2. Any
other exception from our code is a bug: it keeps its traceback and exit code 1, never passed off
as bad input."""


class UserError(ValueError):
    """One line that says what to change."""
