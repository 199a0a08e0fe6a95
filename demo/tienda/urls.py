import importlib.util

from django.urls import include, path

urlpatterns = []
if importlib.util.find_spec("forneria_ops.urls"):
    urlpatterns.append(path("", include("forneria_ops.urls")))
