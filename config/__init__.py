"""Settings and the Asterisk configuration templates. Imports nothing else of the product."""

from config.settings import ConfigError, Settings, load_settings

__all__ = ["ConfigError", "Settings", "load_settings"]
