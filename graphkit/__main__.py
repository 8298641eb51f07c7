"""``python -m graphkit``: the command line (see ``graphkit.cli``)."""

from graphkit.cli import main

raise SystemExit(main())
