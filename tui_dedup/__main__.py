"""Allow ``python -m tui_dedup``."""

from tui_dedup.cli import main

raise SystemExit(main())
