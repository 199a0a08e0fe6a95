"""``manage.py validar_vencimientos``: the app's other name for ``verificar_vencimientos``.

The shop's cron lines and manuals use both names; both run the same job (same lock, same run
history entry ``verificar_vencimientos``) with the same options.
"""

from __future__ import annotations

from forneria_ops.management.commands import verificar_vencimientos


class Command(verificar_vencimientos.Command):
    help = "Alias of verificar_vencimientos (the app's other name). " + (
        verificar_vencimientos.Command.help
    )
