"""Exit statuses of every command: 0 done (per-file errors are in the output), 1 a runtime
failure, 2 bad arguments, 130 interrupted. One module so no command imports another for them."""

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """Bad arguments: one line on stderr, exit 2."""
