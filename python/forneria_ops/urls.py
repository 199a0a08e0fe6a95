"""``path("", include("forneria_ops.urls"))`` in the shop's urls.py adds ``/health/``,
``/ready/`` and ``/alive/``."""

from django.urls import path

from forneria_ops import views

app_name = "forneria_ops"

urlpatterns = [
    path("health/", views.health_view, name="health"),
    path("ready/", views.ready_view, name="ready"),
    path("alive/", views.alive_view, name="alive"),
]
