"""Our components as django-health-check 4 checks (only where django-health-check is installed;
./dev installs it in the Django 5.2 virtualenv)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from django.urls import path
from django.utils import timezone
from forneria_ops.contrib_health_check import ForneriaOps, forneria_checks
from forneria_ops.models import EjecucionTarea, HistorialBackup
from health_check.views import HealthCheckView

urlpatterns = [
    path("ht/", HealthCheckView.as_view(checks=forneria_checks())),
    path("ht-db/", HealthCheckView.as_view(checks=[(ForneriaOps, {"component": "database"})])),
]
RELAXED = {
    "HEALTH_DISK_MIN_FREE_PERCENT": 0,
    "HEALTH_MEMORY_MAX_PERCENT": 100,
    "HEALTH_LOAD_MAX_PER_CPU": 1000.0,
}


@pytest.mark.urls(__name__)
@pytest.mark.django_db(transaction=True)
def test_our_components_in_django_health_check(client):
    with override_settings(FORNERIA_OPS=RELAXED):
        sick = client.get("/ht/?format=json")
        assert sick.status_code == 500
        body = sick.json()
        failing = {k: v for k, v in body.items() if v != "OK"}
        assert len(failing) == 2, body
        assert any("no good backup of 'default' recorded" in v for v in failing.values())
        assert any("generar_alertas never succeeded" in v for v in failing.values())
        now = timezone.now()
        HistorialBackup.objects.create(
            estado="ok", inicio=now - dt.timedelta(minutes=5), fin=now, archivo="x.gz"
        )
        EjecucionTarea.objects.create(tarea="generar_alertas", ultimo_exito=now)
        well = client.get("/ht/?format=json")
        assert well.status_code == 200, well.json()
        assert len(well.json()) == 5 and set(well.json().values()) == {"OK"}
        assert client.get("/ht-db/?format=json").status_code == 200
