"""The one exception tree of the assistant.

Every failure a person can fix has its own class, and every message says what
happened, where (file, setting, value) and what to do next::

    AssistantError
    ├── ConfigError        a setting or the council profile is wrong
    ├── CorpusError        the manifest or a document cannot be used
    ├── IndexBuildError    the index is missing, stale or could not be built
    ├── InputError         a question, audience or history is not acceptable (also a ValueError)
    └── LLMUnavailable     the optional language model could not be reached

The CLI, API and UI translate these at their edge; nothing inside prints.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: something went wrong that the user can act on."""


class ConfigError(AssistantError):
    """A setting or the council profile file is invalid."""


class CorpusError(AssistantError):
    """The manifest or a document is missing, invalid or unreadable."""

    def __init__(self, message: str, *, file: str | None = None) -> None:
        super().__init__(message)
        self.file = file


class IndexBuildError(AssistantError):
    """The index could not be built or loaded; the previous index, if any, is untouched."""


class InputError(AssistantError, ValueError):
    """The question, audience or history given to the assistant is not acceptable."""


class LLMUnavailable(AssistantError):
    """The optional language model could not be reached or answered badly."""
