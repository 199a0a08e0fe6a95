"""Our components as django-health-check (>= 4) checks, for shops that already run it.

django-health-check 4 has no plugin registry: the checks are the ``checks`` of its view. Add
ours next to its own::

    from health_check.views import HealthCheckView
    from forneria_ops.contrib_health_check import forneria_checks

    urlpatterns = [
        path("ht/", HealthCheckView.as_view(checks=[*HealthCheckView.checks, *forneria_checks()])),
    ]

Each :class:`ForneriaOps` check runs one component of :mod:`forneria_ops.health` (same
thresholds, same messages) and raises ``ServiceUnavailable`` when it fails. This module imports
only when django-health-check is installed; forneria-ops does not require it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable

from forneria_ops import health


@dataclasses.dataclass
class ForneriaOps(HealthCheck):
    """One forneria-ops component (``database``, ``cache``, ``disk``, ``memory``, ``cpu``,
    ``backup``, ``alerts``) on one database alias."""

    component: str = "backup"
    database: str = "default"

    def run(self) -> None:
        fn = health.CHECKS[self.component]
        result = fn(self.database) if self.component in health.PER_DATABASE else fn()
        if result.status == health.FAIL:
            raise ServiceUnavailable(result.message)


def forneria_checks(
    components: list[str] | None = None, database: str = "default"
) -> list[tuple[type[ForneriaOps], dict[str, Any]]]:
    """``checks`` entries for ``HealthCheckView``: by default the components django-health-check
    does not have itself (disk, memory, CPU, last backup, last alert run)."""
    wanted = components or ["disk", "memory", "cpu", "backup", "alerts"]
    return [(ForneriaOps, {"component": c, "database": database}) for c in wanted]
