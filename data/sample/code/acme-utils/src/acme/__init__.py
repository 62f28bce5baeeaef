"""acme utilities."""

__version__ = "0.3.1"
