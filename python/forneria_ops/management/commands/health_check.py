"""``manage.py health_check``: the state of every component the shop depends on."""

from __future__ import annotations

from django.core.management.base import CommandError

from forneria_ops import health, services
from forneria_ops.management.base import OpsCommand


class Command(OpsCommand):
    help = (
        "Check the database (connect and query time), the cache (set/get), free disk where "
        "backups and logs live, memory, CPU load, the age of the last good backup and of the "
        "last alert run, against FORNERIA_OPS['HEALTH_*']. Exit status 1 when any component "
        "fails. --notify mails the NOTIFY_EMAILS (else ADMINS) when the state changes to "
        "failing and when it recovers, not on every run."
    )

    takes_date = False

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--notify",
            action="store_true",
            help="Mail on failure and on recovery (state kept between runs).",
        )
        parser.add_argument(
            "--only",
            action="append",
            choices=list(health.CHECKS),
            metavar="COMPONENT",
            help=f"Check only this component (repeatable): {', '.join(health.CHECKS)}.",
        )

    def run(self, *, database, notify, only, json, verbosity, **_):
        if notify and only:
            raise CommandError("--notify needs the full check (it compares with the last one)")
        report = health.run_checks(database, only=only)
        if notify:
            report["notified"] = health.notify_transition(report, database)
        # The state for the next run's --notify, and the admin's view of the last check; a
        # partial check (--only) says nothing about the other components, so it keeps no state.
        with services.recorded(health.STATE_TASK, database) as run:
            run["skip"] = bool(only)
            run["summary"] = {"status": report["status"], "failing": report["failing"]}
        if json:
            self.write_json(report)
        elif verbosity >= 1:
            self.stdout.write(health.format_text(report))
            if verbosity >= 2:
                for name, c in report["components"].items():
                    self.stdout.write(f"  {name}: {c['ms']} ms {c['data']}")
            if report.get("notified"):
                self.stdout.write(f"  mailed: {report['notified']}")
        if report["failing"]:
            raise CommandError(f"health check failing: {', '.join(report['failing'])}")
