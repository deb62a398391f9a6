"""Subcommands of the ``toolkit`` CLI: each module has add_parser(subparsers) and run(args)."""
