"""The package version (the base layer: every package may read it)."""

__version__ = "0.1.0.dev0"
