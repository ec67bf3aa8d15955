"""A grounded, cited assistant over a council's corporate parenting documents."""

from .config import Settings, load_settings
from .errors import (
    AssistantError,
    ConfigError,
    CorpusError,
    IndexBuildError,
    InputError,
    LLMUnavailable,
)
from .pipeline import Assistant
from .schema import Citation, Passage, Reply

__all__ = [
    "Assistant",
    "AssistantError",
    "Citation",
    "ConfigError",
    "CorpusError",
    "IndexBuildError",
    "InputError",
    "LLMUnavailable",
    "Passage",
    "Reply",
    "Settings",
    "load_settings",
]
