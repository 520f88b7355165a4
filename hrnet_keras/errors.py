"""The one exception type that means "the caller asked wrongly", whoever the caller is."""


class UsageError(ValueError):
    """A request that cannot work as made: a bad argument, a missing file it names, an option
    or a capability the task lacks.

    The `hrnet-keras` command reports it as one line on stderr with exit status 2 (any other
    failure of a command is status 1). It is a `ValueError`, so that library callers that
    catch bad values catch it too.

    Example:
    >>> isinstance(UsageError("no --box"), ValueError)
    True
    """
