"""What every forneria-ops command shares: the manuals' ``--verbose`` alias, ``--fecha``,
``--database``, ``--json`` and the mapping of engine errors to ``CommandError`` (exit 1)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from forneria_ops import ForneriaOpsError


class OpsCommand(BaseCommand):
    """Base for the sidecar's commands. Subclasses implement :meth:`run`."""

    #: Whether the command takes ``--fecha``/``--today``.
    takes_date = True

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # The manuals run `generar_alertas --verbose`; keep it as an alias of -v 2.
        parser.add_argument(
            "--verbose",
            action="store_true",
            help="Alias of --verbosity 2 (kept because the maintenance manuals use it).",
        )
        return parser

    def add_arguments(self, parser):
        parser.add_argument(
            "--database",
            default="default",
            help="Django database alias to work on (default: %(default)s).",
        )
        parser.add_argument(
            "--json", action="store_true", help="Print the full report as JSON (for machines)."
        )
        if self.takes_date:
            parser.add_argument(
                "--fecha",
                "--today",
                dest="fecha",
                metavar="YYYY-MM-DD",
                help="Run as if today were this date (default: timezone.localdate()).",
            )

    def execute(self, *args, **options):
        if options.get("verbose"):
            options["verbosity"] = max(int(options.get("verbosity", 1)), 2)
        return super().execute(*args, **options)

    def handle(self, *args, **options):
        try:
            self.run(**options)
        except ForneriaOpsError as exc:
            raise CommandError(str(exc)) from exc

    def run(self, **options) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def write_json(self, report: Any) -> None:
        self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True))
