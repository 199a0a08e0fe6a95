"""A Django database alias added for one test: the engine reads Django's resolved settings, so
tests of bad credentials or unknown databases need a real alias, not a patched dict."""

from __future__ import annotations

from contextlib import contextmanager

from django.db import connections


@contextmanager
def extra_alias(name: str, settings_dict: dict):
    both = {"default": connections.settings["default"], name: dict(settings_dict)}
    connections.settings[name] = connections.configure_settings(both)[name]
    try:
        yield name
    finally:
        connections[name].close()
        del connections[name]
        del connections.settings[name]
