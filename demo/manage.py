#!/usr/bin/env python
"""The demo shop's manage.py: a Django project like the bakery's, on SQLite."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tienda.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
