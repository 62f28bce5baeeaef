"""Package layout (metadata is in pyproject.toml); also the ``--setup_file=./setup.py`` Beam ships to workers.

The repository keeps ``rules/`` and ``data/`` at the top level (fixed layout), but an installed package must
carry them: they are mapped into the package as ``curation.rules_data`` (every rules file and the default
pipeline config), ``curation.sample_data`` (the bundled sample shards and evaluation set) and
``curation.scripts_data`` (the model training scripts ``curate models fetch`` runs). They are data
folders (no ``__init__.py``); everything under them is package data, including ``.py`` files, which are
run as scripts or read as sample input, never imported. ``curation.rules.package_data_dir`` finds them in
a wheel and falls back to the checkout's folders in an editable install.
"""

from __future__ import annotations

from setuptools import find_packages, setup

DATA_PACKAGES = {
    "curation.rules_data": "rules",
    "curation.sample_data": "data",
    "curation.scripts_data": "scripts",  # model training scripts run by `curate models fetch`
}

setup(
    packages=[*find_packages(include=["curation", "curation.*", "pipelines", "pipelines.*"]), *DATA_PACKAGES],
    package_dir=DATA_PACKAGES,
    package_data={name: ["*", "**/*"] for name in DATA_PACKAGES},
    exclude_package_data={name: ["**/__pycache__/*", "**/*.pyc"] for name in DATA_PACKAGES},
)
