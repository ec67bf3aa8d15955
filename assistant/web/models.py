"""Request and response bodies of the web API (pydantic models, so the OpenAPI schema is exact)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt, create_model

from assistant.config import Settings
from assistant.handoff import MAX_CONTACT, MAX_QUESTION
from assistant.types import Citation

Status = Literal["answered", "not_found", "off_topic", "safeguarding"]


# -- request and response bodies -------------------------------------------------------


class Turn(BaseModel):
    """One earlier message of the conversation, as the widget keeps it."""

    model_config = ConfigDict(extra="forbid")
    role: Literal["user", "assistant"]
    content: str


class ChatRequest(BaseModel):
    """A message to the assistant. ``chat_request_model`` adds the council's limits."""

    message: str = Field(
        min_length=1,
        pattern=r"\S",
        description="The question, as typed.",
        examples=["What help can I get with rent?"],
    )
    history: list[Turn] = Field(default_factory=list, description="Earlier messages, oldest first.")
    audience: Literal["care_leaver", "staff"] = "care_leaver"
    explain: bool = Field(
        False,
        description="Staff only: also return why the answer was given (`explanation`). Needs the header "
        "`Authorization: Bearer <staff_api_token>`; refused on /api/chat/stream.",
    )


# A message longer than max_question_chars is not answered, but up to this many times that is
# still read for danger (answer.plan.plan_turn): a crisis is never refused for its length.
READ_FOR_DANGER = 4


def chat_request_model(settings: Settings) -> type[ChatRequest]:
    """The request body with this council's limits in its schema, so /docs and API clients see them.

    The total length of the history cannot be said in JSON Schema; it is checked in
    ``check_chat_request`` (and written in the description).
    """
    return create_model(
        "ChatRequest",
        __base__=ChatRequest,
        message=(
            str,
            Field(
                min_length=1,
                max_length=READ_FOR_DANGER * settings.max_question_chars,
                pattern=r"\S",
                description=f"The question, as typed: at most {settings.max_question_chars} characters are "
                f"answered; up to {READ_FOR_DANGER} times that is still read for danger, and a crisis gets its "
                "reply.",
                examples=["What help can I get with rent?"],
            ),
        ),
        history=(
            list[Turn],
            Field(
                default_factory=list,
                max_length=settings.max_history_turns,
                description="Earlier messages, oldest first: at most "
                f"{settings.max_history_turns} messages "
                f"and {settings.max_history_chars} characters in all.",
            ),
        ),
    )


class ChatResponse(BaseModel):
    """``Reply.to_dict()`` plus ``html``: the answer rendered to safe HTML with citation links."""

    status: Status
    text: str
    html: str
    citations: list[Citation]  # the frozen value itself (assistant.types)
    question: str = ""
    standalone_question: str = ""
    backend: str = ""
    explanation: dict[str, Any] | None = Field(
        None,
        description="Only when `explain` was asked for with the staff token: the turn's steps and their "
        "verdicts, the candidate passages with their dense, BM25 and fused scores, the statements chosen "
        "and why, the language model check's verdict, and `diagnosis` (where to look).",
    )


class FeedbackRequest(BaseModel):
    """A thumbs up (1) or down (0) on one answer. Stored redacted: no names, numbers or emails."""

    question: str = Field(min_length=1, max_length=4000)
    answer: str = Field(min_length=1, max_length=20000)
    rating: StrictInt = Field(ge=0, le=1, description="1 = helpful, 0 = not helpful.")
    comment: str = Field("", max_length=2000)
    audience: Literal["care_leaver", "staff"] = "care_leaver"
    status: Status = "answered"


class FeedbackResponse(BaseModel):
    ok: bool
    id: int


class HandoffRequest(BaseModel):
    """A question for the leaving care team, and how they should reply. Never readable back.

    The question is stored redacted; the contact is checked (a plausible email address, or a
    UK or international phone number) and kept only until the request is closed.
    """

    model_config = ConfigDict(extra="forbid")
    question: str = Field(
        min_length=1,
        max_length=MAX_QUESTION,
        pattern=r"\S",
        description="The question, as the young person wants the team to read it.",
        examples=["Can I get help with a rent deposit?"],
    )
    contact_method: Literal["email", "phone"] = Field(description="How the team should reply.")
    contact: str = Field(
        min_length=3,
        max_length=MAX_CONTACT,
        description="An email address or a phone number, as ``contact_method`` says.",
        examples=["sam@example.org"],
    )
    audience: Literal["care_leaver", "staff"] = "care_leaver"


class HandoffResponse(BaseModel):
    ok: bool
    reference: int = Field(description="The request's number, to quote if they get in touch.")
    next_steps: str = Field(description="What happens now, and when (the council's words).")


class HandoffInfo(BaseModel):
    """What the widget shows on its "Ask the leaving care team" form."""

    team: str
    next_steps: str
    max_question_chars: int
    max_contact_chars: int


class ContactOut(BaseModel):
    name: str
    detail: str
    when: str = ""


class Limits(BaseModel):
    """What the widget must respect so its requests are accepted."""

    max_question_chars: int
    max_history_turns: int
    max_history_chars: int


class ContactsResponse(BaseModel):
    council_name: str
    urgent: list[ContactOut]
    council: list[ContactOut]
    limits: Limits
    handoff: HandoffInfo


class HealthResponse(BaseModel):
    """The worker that answered: its index and its process."""

    ok: bool
    documents: int
    chunks: int
    fingerprint: str = Field(
        description="Hash of the corpus, chunking rules and model the index was built from: "
        "the same on every worker that serves the same index."
    )
    pid: int = Field(description="The worker process that answered (each worker has its own).")
    build: str = Field("", description="The index build answering (its folder or collection name).")
    warnings: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Why the build answering is not the one the corpus asks for (a rebuild that "
        "failed, a damaged build): kind, build, file, reason and message. Empty when all is well.",
    )


class ErrorBody(BaseModel):
    """The shape of every error response."""

    ok: Literal[False] = False
    error: str
    status: int


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"ok": False, "error": message, "status": status}


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(status, message), status_code=status, headers=headers)


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in {
        413: "The request body is too large.",
        422: "The request is not valid (the message says why).",
        429: "Too many requests from this client; see Retry-After.",
        503: "The service (or the feedback or request store) is not available.",
    }.items()
}


# The chat endpoint's explanation is for staff only.
STAFF_ONLY: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorBody, "description": "`explain` was asked for without the staff API token."}
}


# Messages for errors raised by the framework itself (no route, wrong method, too large).
HTTP_MESSAGES = {
    404: "There is nothing at this address.",
    405: "This address does not accept that method.",
    413: "The request is too large. Send a shorter message or less history.",
}
