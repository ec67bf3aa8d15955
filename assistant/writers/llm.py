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

Safeguarding, off-topic messages, declines and side-by-side comparisons are
decided by the plan (``assistant.answer.plan``) and never go to the model: only a
plan of kind "answer" does.

The model is ``LLMWriter(model=...)`` when given (tests give a fake LangChain chat
model there), else ChatOpenAI built from the settings by ``make_chat_model`` (cached).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import httpx
import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from assistant.answer.context import AnswerContext
from assistant.answer.plan import Plan
from assistant.config import Settings
from assistant.errors import ConfigError, LLMUnavailable
from assistant.types import Reply
from assistant.writers.check import Verdict, check_answer, cited_numbers
from assistant.writers.extractive import ExtractiveWriter, lead_with_help, pieces
from assistant.writers.prompt import Source, build_messages, sources_for

log = logging.getLogger("assistant.writers.llm")

REPLACED = "\n\n(Replaced by the checked answer below.)\n\n"

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)

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


# -- the writer ------------------------------------------------------------------------------


class LLMWriter:
    """Rewrite the extractive answer with a model, keeping it only if the check passes."""

    name = "llm"

    def __init__(self, model: BaseChatModel | None = None) -> None:
        self.model = model
        self.extractive = ExtractiveWriter()

    def chat_model(self, settings: Settings) -> BaseChatModel:
        """The model given, else ChatOpenAI for the configured server."""
        return self.model if self.model is not None else make_chat_model(settings)

    def write(self, plan: Plan, ctx: AnswerContext) -> Reply:
        return self.write_checked(plan, ctx)[0]

    def write_checked(self, plan: Plan, ctx: AnswerContext) -> tuple[Reply, Verdict]:
        """The reply ``write`` gives, and the check's verdict on the model's answer."""
        reply = self.extractive.write(plan, ctx)
        if plan.kind != "answer":
            return reply, Verdict("not_asked")
        try:
            checked, problems = self.answer(reply, ctx, plan.audience)
        except LLMUnavailable as exc:
            log.warning("LLM answer not used: %s", exc)
            return reply, Verdict("unavailable", (str(exc),))
        if checked is None:
            return reply, Verdict("failed", tuple(problems))
        return lead_with_help(plan, ctx, checked), Verdict("passed")

    def answer(self, reply: Reply, ctx: AnswerContext, audience: str) -> tuple[Reply | None, list[str]]:
        """The model's checked answer (None to keep the extractive reply), and the check's problems.

        Raises LLMUnavailable when the model cannot be reached.
        """
        sources, messages = _prompt(ctx, reply, audience)
        llm = self.chat_model(ctx.settings)
        with _reaching(ctx.settings):
            message = llm.invoke(messages)
        return checked_reply(_text(message), sources, reply)

    def stream(self, plan: Plan, ctx: AnswerContext) -> Iterator[str | Reply]:
        """Yield the model's tokens as they arrive, then the final Reply.

        If the streamed answer fails the check (or the model fails part-way), a marker
        is yielded and the extractive answer follows, so what was shown is visibly
        replaced; the final Reply is always the one that passed.
        """
        reply = self.extractive.write(plan, ctx)
        if plan.kind != "answer":
            yield from pieces(reply.text)
            yield reply
            return
        sources, messages = _prompt(ctx, reply, plan.audience)
        llm = self.chat_model(ctx.settings)
        lead = lead_with_help(plan, ctx, replace(reply, text="")).text  # the urgent contacts, if near the line
        if lead:
            yield lead
        streamed: list[str] = []
        try:
            with _reaching(ctx.settings):
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
            yield lead_with_help(plan, ctx, checked)
            return
        if streamed:
            yield REPLACED
        yield from pieces(reply.text)
        yield reply


def _prompt(ctx: AnswerContext, reply: Reply, audience: str) -> tuple[list[Source], list[BaseMessage]]:
    sources = sources_for(ctx, reply)
    question = reply.standalone_question or reply.question
    return sources, build_messages(sources, question, audience, ctx.settings)


def accept(text: str, sources: Sequence[Source], reply: Reply) -> Reply | None:
    """The checked Reply for a model answer, or None (with a logged warning) if it fails the check."""
    return checked_reply(text, sources, reply)[0]


def checked_reply(text: str, sources: Sequence[Source], reply: Reply) -> tuple[Reply | None, list[str]]:
    """``accept``, with the check's problems (empty when the answer passed).

    A reasoning model's <think>...</think> block is dropped first: it is not the answer.
    """
    text = _THINK.sub("", text).strip()
    problems = check_answer(text, [s.check_text for s in sources])
    if problems:
        log.warning("LLM answer rejected, extractive answer kept: %s", "; ".join(problems))
        return None, problems
    cited = set(cited_numbers(text))
    return Reply(
        status="answered",
        text=text,
        citations=[s.citation for s in sources if s.citation.number in cited],
        question=reply.question, standalone_question=reply.standalone_question, backend="llm",
    ), []


def _text(message: Any) -> str:
    """The text of a message or chunk whose content may be a string or a list of blocks."""
    content = getattr(message, "content", message)
    if isinstance(content, str):
        return content
    return "".join(
        part if isinstance(part, str) else str(part.get("text", "")) for part in content
        if isinstance(part, str) or (isinstance(part, dict) and part.get("type") == "text")
    )


