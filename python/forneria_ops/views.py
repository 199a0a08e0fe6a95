"""Health endpoints: ``/health/`` (every component), ``/ready/`` (database and migrations),
``/alive/`` (the process answers). JSON; 200 when healthy, 503 with the failing components
otherwise, so a load balancer, Kubernetes probe or uptime monitor can use them as they are.

They take no arguments and reveal no secrets (paths, sizes, ages and error messages only); a
shop that wants them private puts them behind its own auth or network rules.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from forneria_ops import health


def _respond(report: dict) -> JsonResponse:
    status = 200 if report["status"] == health.OK else 503
    return JsonResponse(report, status=status, json_dumps_params={"ensure_ascii": False})


@never_cache
@require_safe
def health_view(request):
    """Every component of :func:`forneria_ops.health.run_checks` on the default database."""
    return _respond(health.run_checks("default"))


@never_cache
@require_safe
def ready_view(request):
    """Ready to serve: the database answers and no migration is pending."""
    return _respond(health.readiness("default"))


@never_cache
@require_safe
def alive_view(request):
    """The process is up and answering; touches nothing else."""
    return JsonResponse({"status": health.OK})
