"""Kedah Analytics: tourism social-media analytics for Kedah, Malaysia."""

__version__ = "0.1.0"
