"""Shim so Beam's ``--setup_file=./setup.py`` can ship this package to cluster workers.

All metadata lives in pyproject.toml.
"""

from setuptools import setup

setup()
