"""Localyst: a private code interpreter that runs entirely in the browser."""

__version__ = "0.1.0"
