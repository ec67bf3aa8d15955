"""The one exception tree of the assistant.

Every failure a person can fix has its own class, and every message says what
happened, where (file, setting, value) and what to do next::

    AssistantError
    ├── ConfigError        a setting, the council profile or a rules file is wrong
    ├── CorpusError        the manifest or a document cannot be used
    ├── IndexBuildError    the index is missing, stale or could not be built
    ├── InputError         a question, audience or history is not acceptable (also a ValueError)
    │   └── QuestionFileError   an evaluation question file is malformed
    ├── RateLimited        one client sent too many messages in the last minute
    ├── StaffOnly          a staff-only request (an explanation) came without the staff token
    ├── FeedbackError      feedback could not be saved (the answer itself is unaffected)
    │   ├── HandoffError   a request to the leaving care team could not be saved
    │   └── StaffError     the staff accounts or audit log could not be read or saved
    └── LLMUnavailable     the optional language model could not be reached

Behaviour at the edges lives on the classes: ``exit_code`` for the CLI, ``http_status`` and
``public`` for the web API. ``public`` is the sentence shown to a web user; None means the
exception's own message is written for the user (it names nothing internal). The CLI, API and
UI translate these at their edge; nothing inside prints.
"""

from __future__ import annotations

import math

NOT_AVAILABLE = "The assistant is not available right now. Please try again in a few minutes."


class AssistantError(Exception):
    """Base class: something went wrong that the user can act on."""

    exit_code = 1
    http_status = 503
    public: str | None = NOT_AVAILABLE


class ConfigError(AssistantError):
    """A setting, the council profile file or a rules file is invalid."""


class CorpusError(AssistantError):
    """The manifest or a document is missing, invalid or unreadable.

    ``problems`` lists (field, value, what is wrong) for each bad manifest field, so a form
    can name its own field and the value that is wrong.
    """

    def __init__(
        self, message: str, *, file: str | None = None, problems: tuple[tuple[str, object, str], ...] = ()
    ) -> None:
        super().__init__(message)
        self.file = file
        self.problems = problems


class IndexBuildError(AssistantError):
    """The index could not be built or loaded; the previous index, if any, is untouched."""


class InputError(AssistantError, ValueError):
    """The question, audience or history given to the assistant is not acceptable."""

    exit_code = 2
    http_status = 422
    public = None


class QuestionFileError(InputError):
    """An evaluation question file is malformed; the message names the case and field."""


class RateLimited(AssistantError):
    """Too many requests from one client in the last minute."""

    http_status = 429
    public = None

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(
            "You are sending messages very quickly. "
            f"Please wait {self.retry_after} seconds and try again."
        )


class StaffOnly(AssistantError):
    """A request only staff may make (an answer's explanation) lacks the staff API token."""

    http_status = 403
    public = None


class FeedbackError(AssistantError):
    """Feedback could not be saved; the answer itself is unaffected."""

    public = "Your feedback could not be saved just now. Please try again later."


class HandoffError(FeedbackError):
    """A young person's request to a person could not be saved; they are told to try again."""

    public = (
        "Your request could not be sent just now. Please try again in a few minutes. "
        "If you need help now, open “Need help now?”."
    )


class StaffError(FeedbackError):
    """The staff accounts, sign-in counters or audit log could not be read or saved."""

    public = "Staff sign-in is not available right now. Please try again in a few minutes."


class LLMUnavailable(AssistantError):
    """The optional language model could not be reached or answered badly."""
