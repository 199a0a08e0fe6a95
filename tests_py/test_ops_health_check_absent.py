"""Without django-health-check (collected only where it is not installed; see conftest.py):
forneria-ops does not need it — the app, its checks and its endpoints work, and only the
optional integration module says what it is missing."""

from __future__ import annotations

import pytest
from django.core.management import call_command


def test_the_integration_module_names_what_it_needs():
    with pytest.raises(ImportError, match="health_check"):
        import forneria_ops.contrib_health_check  # noqa: F401


@pytest.mark.django_db(transaction=True)
def test_health_endpoints_and_system_checks_work_without_it(client):
    call_command("check", "forneria_ops")
    assert client.get("/alive/").status_code == 200
    ready = client.get("/ready/")
    assert ready.status_code == 200, ready.content
