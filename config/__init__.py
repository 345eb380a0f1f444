"""Settings and logging setup, read by the entry points only."""

from config.settings import Settings

__all__ = ["Settings"]
