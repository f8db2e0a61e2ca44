"""Typed settings: the models of cluster.yaml and models.yaml, their loading and their rules."""

from generator.settings.load import LoadedSettings, load_settings
from generator.settings.models import Settings

__all__ = ["LoadedSettings", "Settings", "load_settings"]
