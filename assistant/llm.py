"""The optional LLM answerer: rewrites a grounded extractive answer, then checks it.

The extractive answerer (answering.py) stays the source of truth. When
``llm_backend`` is "openai", a model behind an OpenAI-compatible server (Ollama,
vLLM, llama.cpp...) is given the passages the extractive answer cited, numbered
[1]..[N] as in that answer, and asked to answer only from them. Its answer is
used only if ``check_answer`` finds nothing wrong: every statement cites a
passage that exists, and every number it states is written in the passage it
cites. Otherwise the extractive answer stands, so a
model can make an answer easier to read but can never make it less true.

This module reaches the model and streams; what the model is given is in
llm_prompt.py and the check in llm_check.py.

Safeguarding, off-topic messages and declines are decided before this module
is reached (conversation.answer_turn) and never go to the model.

Which model is used, first match wins:

1. ``llm_answer(..., model=...)``: an explicit LangChain chat model;
2. ``bot.llm_model``: an attribute set on the Assistant (tests set a fake here);
3. ``make_chat_model(bot.settings)``: ChatOpenAI built from the settings (cached).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import httpx
import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from .config import Settings
from .errors import ConfigError, LLMUnavailable
from .llm_check import check_answer, cited_numbers
from .llm_prompt import Source, build_messages, sources_for
from .schema import Passage, Reply

if TYPE_CHECKING:
    from .pipeline import Assistant

log = logging.getLogger("assistant.llm")

REPLACED = "\n\n(Replaced by the checked answer below.)\n\n"

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)

# Set only while stream_llm_turn runs answer_turn: llm_answer then records what it
# was given instead of calling the model (see extractive_turn).
_capture: ContextVar[list[tuple[Reply, list[Passage]]] | None] = ContextVar(
    "assistant_llm_capture", default=None
)


# -- the model -------------------------------------------------------------------------


def make_chat_model(settings: Settings) -> BaseChatModel:
    """ChatOpenAI for the configured OpenAI-compatible server (no retries: we fall back instead).

    ``llm_base_url`` is the server's OpenAI base, ending in /v1 (Ollama:
    http://localhost:11434/v1); the client appends /chat/completions.
    """
    missing = [name for name in ("llm_base_url", "llm_model") if not getattr(settings, name)]
    if missing:
        raise ConfigError(
            f"llm_backend is 'openai' but {' and '.join(missing)} is not set. Set "
            f"{', '.join('ASSISTANT_' + m.upper() for m in missing)} (for example "
            "ASSISTANT_LLM_BASE_URL=http://localhost:11434/v1 and ASSISTANT_LLM_MODEL=llama3.1) "
            "or set llm_backend to 'none'."
        )
    return _cached_model(
        settings.llm_base_url, settings.llm_model, settings.llm_api_key, settings.llm_timeout
    )


@functools.lru_cache(maxsize=4)
def _cached_model(base_url: str, model: str, api_key: str, timeout: float) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    # Local servers implement Chat Completions, not OpenAI's Responses API: never route there.
    return ChatOpenAI(
        base_url=base_url, model=model, api_key=api_key, timeout=timeout,
        max_retries=0, temperature=0, use_responses_api=False,
    )


def chat_model(bot: Assistant, model: BaseChatModel | None = None) -> BaseChatModel:
    """The model to use: the explicit one, else ``bot.llm_model``, else one built from settings."""
    if model is not None:
        return model
    injected = getattr(bot, "llm_model", None)
    return injected if injected is not None else make_chat_model(bot.settings)


@contextlib.contextmanager
def _reaching(settings: Settings) -> Iterator[None]:
    """Turn network, timeout and HTTP errors from the model into LLMUnavailable."""
    where = settings.llm_base_url or "the configured model"
    try:
        yield
    except openai.APIStatusError as exc:
        raise LLMUnavailable(
            f"The language model at {where} answered with HTTP {exc.status_code}; "
            "the extractive answer was used instead. Check the server's log."
        ) from exc
    except (openai.APITimeoutError, TimeoutError) as exc:
        raise LLMUnavailable(
            f"The language model at {where} did not answer within {settings.llm_timeout:g} s; "
            "the extractive answer was used instead. Raise ASSISTANT_LLM_TIMEOUT or use a "
            "smaller model."
        ) from exc
    except (openai.OpenAIError, httpx.HTTPError, OSError) as exc:
        raise LLMUnavailable(
            f"The language model at {where} could not be reached ({type(exc).__name__}: {exc}); "
            "the extractive answer was used instead. Check that the server is running and "
            "ASSISTANT_LLM_BASE_URL is right."
        ) from exc


# -- answering -------------------------------------------------------------------------


def llm_answer(
    bot: Assistant,
    reply: Reply,
    passages: Sequence[Passage],
    audience: str,
    *,
    model: BaseChatModel | None = None,
) -> Reply | None:
    """The model's checked answer, or None to keep the extractive reply.

    Raises LLMUnavailable when the model cannot be reached (conversation keeps the
    extractive reply then too).
    """
    sink = _capture.get()
    if sink is not None:
        sink.append((reply, list(passages)))
        return None
    sources, messages = _prompt(bot, reply, passages, audience)
    llm = chat_model(bot, model)
    with _reaching(bot.settings):
        message = llm.invoke(messages)
    return accept(_text(message), sources, reply)


def _prompt(
    bot: Assistant, reply: Reply, passages: Sequence[Passage], audience: str
) -> tuple[list[Source], list[BaseMessage]]:
    sources = sources_for(bot, reply, passages)
    question = reply.standalone_question or reply.question
    return sources, build_messages(sources, question, audience, bot.settings)


def accept(text: str, sources: Sequence[Source], reply: Reply) -> Reply | None:
    """The checked Reply for a model answer, or None (with a logged warning) if it fails the check.

    A reasoning model's <think>...</think> block is dropped first: it is not the answer.
    """
    text = _THINK.sub("", text).strip()
    problems = check_answer(text, [s.check_text for s in sources])
    if problems:
        log.warning("LLM answer rejected, extractive answer kept: %s", "; ".join(problems))
        return None
    cited = set(cited_numbers(text))
    return Reply(
        status="answered",
        text=text,
        citations=[s.citation for s in sources if s.citation.number in cited],
        question=reply.question, standalone_question=reply.standalone_question, backend="llm",
    )


def _text(message: Any) -> str:
    """The text of a message or chunk whose content may be a string or a list of blocks."""
    content = getattr(message, "content", message)
    if isinstance(content, str):
        return content
    return "".join(
        part if isinstance(part, str) else str(part.get("text", "")) for part in content
        if isinstance(part, str) or (isinstance(part, dict) and part.get("type") == "text")
    )


# -- streaming -------------------------------------------------------------------------


def extractive_turn(
    bot: Assistant, question: str, history: list[dict[str, str]], audience: str
) -> tuple[Reply, list[Passage] | None]:
    """Run conversation.answer_turn's own decision path without calling the model.

    Returns the extractive reply and, when answer_turn would have handed it to the
    model, the passages it would have given (None otherwise: safeguarding,
    off-topic, declines, side-by-side comparisons). Capturing the hand-over, rather
    than repeating answer_turn's steps here, keeps ask() and ask_stream() in step.
    """
    from .conversation import answer_turn

    captured: list[tuple[Reply, list[Passage]]] = []
    token = _capture.set(captured)
    try:
        reply = answer_turn(bot, question, history, audience)
    finally:
        _capture.reset(token)
    return reply, (captured[-1][1] if captured else None)


def stream_llm_turn(
    bot: Assistant,
    question: str,
    history: list[dict[str, str]],
    audience: str,
    *,
    model: BaseChatModel | None = None,
) -> Iterator[str | Reply]:
    """Yield the model's tokens as they arrive, then the final Reply.

    If the streamed answer fails the check (or the model fails part-way), a marker
    is yielded and the extractive answer follows, so what was shown is visibly
    replaced; the final Reply is always the one that passed.
    """
    reply, passages = extractive_turn(bot, question, history, audience)
    if passages is None:
        yield from _pieces(reply.text)
        yield reply
        return
    sources, messages = _prompt(bot, reply, passages, audience)
    llm = chat_model(bot, model)
    streamed: list[str] = []
    try:
        with _reaching(bot.settings):
            for chunk in llm.stream(messages):
                piece = _text(chunk)
                if piece:
                    streamed.append(piece)
                    yield piece
    except LLMUnavailable as exc:
        log.warning("LLM answer not used: %s", exc)
        checked = None
    else:
        checked = accept("".join(streamed), sources, reply)
    if checked is not None:
        yield checked
        return
    if streamed:
        yield REPLACED
    yield from _pieces(reply.text)
    yield reply


def _pieces(text: str) -> list[str]:
    """Words with their trailing space, as the extractive stream sends them."""
    return re.findall(r"\S+\s*|\s+", text)
