"""The one error type a user can cause; the CLI prints its message without a traceback."""


class TutorError(Exception):
    """A problem the user can fix: bad input, a missing model, an unusable index."""
