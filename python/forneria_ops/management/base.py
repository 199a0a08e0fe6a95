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


class JobCommand(OpsCommand):
    """A command that runs one job under its lock: ``--dry-run``, ``--wait``, the run recorded in
    ``EjecucionTarea`` (dry runs are not), ``--json`` or the subclass's text.

    Subclasses set :attr:`job` and implement :meth:`run_job`, :meth:`summary` and :meth:`show`.
    """

    #: The job's name in the run history (``EjecucionTarea.tarea``).
    job = ""

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print what would change and change nothing.",
        )
        parser.add_argument(
            "--wait",
            type=float,
            metavar="SECONDS",
            default=None,
            help="Seconds to wait for another run holding the lock before failing "
            "(default: FORNERIA_OPS['COMMAND_LOCK_WAIT'], 60).",
        )

    def run(self, *, database, fecha, dry_run, wait, verbosity, json, **options):
        from forneria_ops import services

        if wait is not None and wait < 0:
            raise CommandError("--wait must be >= 0 seconds")
        detail = json or dry_run or verbosity >= 2
        with services.recorded(self.job, database) as run:
            run["skip"] = dry_run
            report = self.run_job(
                using=database, fecha=fecha, dry_run=dry_run, wait=wait, detail=detail
            )
            run["summary"] = self.summary(report)
        if json:
            self.write_json(report)
        else:
            self.show(report, database=database, verbosity=verbosity, detail=detail)

    def run_job(self, **kwargs) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def summary(self, report: dict[str, Any]) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def show(self, report, *, database, verbosity, detail) -> None:  # pragma: no cover
        raise NotImplementedError
