"""Allow ``python -m seatwatch``."""

from seatwatch.cli import main

raise SystemExit(main())
