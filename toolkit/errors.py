"""UsageError: a mistake in what the user asked for, as opposed to a bug.

It is a ValueError, so code that catches ValueError keeps working. The CLI prints a UsageError
(and a ValueError raised by one of the toolkit's own checks) as one line and exits 2; any other
exception is a bug and keeps its traceback.
"""


class UsageError(ValueError):
    """A mistake in the user's input: the message names the argument and what was wrong."""
