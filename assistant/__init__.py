"""A grounded, cited assistant over a council's corporate parenting documents.

The public API: ``Assistant`` (load, ask, ask_stream, explain, plan, search, documents), its settings,
the values it returns and the error tree. The sub-packages are listed, with the one-way
order of their imports, in the README's Architecture section.
"""

from assistant.answer.plan import Plan
from assistant.config import Settings, load_settings
from assistant.errors import (
    AssistantError,
    ConfigError,
    CorpusError,
    FeedbackError,
    HandoffError,
    IndexBuildError,
    InputError,
    LLMUnavailable,
    QuestionFileError,
    RateLimited,
    StaffError,
    StaffOnly,
)
from assistant.explain import Explanation
from assistant.rules import Rules, load_rules
from assistant.service import Assistant
from assistant.types import Citation, Passage, Reply

__all__ = [
    "Assistant",
    "AssistantError",
    "Citation",
    "ConfigError",
    "CorpusError",
    "Explanation",
    "FeedbackError",
    "HandoffError",
    "IndexBuildError",
    "InputError",
    "LLMUnavailable",
    "Passage",
    "Plan",
    "QuestionFileError",
    "RateLimited",
    "Reply",
    "Rules",
    "Settings",
    "StaffError",
    "StaffOnly",
    "load_rules",
    "load_settings",
]
