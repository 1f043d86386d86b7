"""The one exception type for user mistakes; the CLI prints its message on one line and exits 1."""


class NanochatError(Exception):
    """A problem the user can fix (bad file, bad key, bad shape). The message names it and the fix."""
