"""``python -m graphkit``: the command-line app (see ``graphkit.cli``)."""

from graphkit.cli import main

raise SystemExit(main())
