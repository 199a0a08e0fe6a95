"""URLs of the test project: forneria-ops's endpoints, once the app ships a urls module.

The guard lets the suite run while forneria_ops.urls does not exist yet.
"""

import importlib.util

from django.urls import include, path

urlpatterns = []
if importlib.util.find_spec("forneria_ops.urls") is not None:
    urlpatterns.append(path("", include("forneria_ops.urls")))
