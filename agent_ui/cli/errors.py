class CommandError(Exception):
    """A command could not do its job; the message is shown as is and the exit code is 1."""
