#!/usr/bin/env python
"""Django entry point for the morango baseline project (server or device instance).

The instance is chosen by environment variables (see benchproj/settings.py):
  BENCH_DB          path of the SQLite database file of this instance
  MORANGO_SYSTEM_ID distinct id per instance ("bench-server", "bench-device", ...)
"""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchproj.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
