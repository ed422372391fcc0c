"""dedup-tui: find duplicate and near-duplicate images, review them in the terminal."""

__version__ = "0.1.0"
