#!/usr/bin/env python
"""The Django project keyward's import tests read from (see tests/api/import_django.rs)."""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fixture.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
