"""The optional LLM answerer: rewrites a grounded extractive answer, then checks it.

The extractive answerer (answering.py) stays the source of truth. When
``llm_backend`` is "openai", a model behind an OpenAI-compatible server (Ollama,
vLLM, llama.cpp...) is given the passages the extractive answer cited, numbered
[1]..[N] as in that answer, and asked to answer only from them. Its answer is
used only if ``check_answer`` finds nothing wrong: every statement cites a
passage that exists, and every number it states is written in the passage it
cites. Otherwise the extractive answer stands, so a
model can make an answer easier to read but can never make it less true.

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
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import httpx
import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from .config import Settings
from .errors import ConfigError, LLMUnavailable
from .schema import Citation, Passage, Reply

if TYPE_CHECKING:
    from .pipeline import Assistant

log = logging.getLogger("assistant.llm")

REPLACED = "\n\n(Replaced by the checked answer below.)\n\n"

_AUDIENCE_RULES = {
    "care_leaver": (
        "You are writing for a young person in care or leaving care. Use plain words and short "
        "sentences. Speak to them as \"you\". Explain every acronym the first time you use it, "
        "for example \"PA (personal adviser)\". Keep the answer under 150 words."
    ),
    "staff": (
        "You are writing for council staff and partner professionals. Be formal and precise. Keep "
        "legal and statutory references (Acts, sections, regulations, guidance) exactly as the "
        "passages give them. Keep the answer under 200 words."
    ),
}

# Citation markers: [1], [1, 2], [1; 3] (and [1][2], which is two markers).
_CITE = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
# A stated number: 2,000 / 57.50 / 18 / £2,000 / 52% / 52 per cent / 300 pounds.
_NUMBER = re.compile(
    r"(?<![A-Za-z\d])(£\s?)?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(\s?%|\s?per\s?cent\b|\s?pounds\b)?",
    re.IGNORECASE,
)
# "2025-28" and "2020/21" name the year 2028 and 2021 too.
_YEAR_RANGE = re.compile(r"\b(19|20)(\d{2})\s?[-–/]\s?(\d{2})\b")
_LIST_MARK = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?!\[)|(?<=\])\s+(?=[A-Z\"“(])")
_WORD_NUMBERS = {
    word: str(value)
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
} | {"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80",
     "ninety": "90", "hundred": "100"}
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_WORD_NUMBER = re.compile(rf"\b({'|'.join(_WORD_NUMBERS)})\b", re.IGNORECASE)

# Set only while stream_llm_turn runs answer_turn: llm_answer then records what it
# was given instead of calling the model (see extractive_turn).
_capture: ContextVar[list[tuple[Reply, list[Passage]]] | None] = ContextVar(
    "assistant_llm_capture", default=None
)


@dataclass(frozen=True)
class Source:
    """One numbered passage given to the model, with the Citation the answer will show."""

    citation: Citation
    text: str

    @property
    def check_text(self) -> str:
        """Everything the model saw for this passage: numbers in any of it are grounded."""
        c = self.citation
        return f"{c.document_title}\n{c.section}\n{c.quote}\n{self.text}"


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


# -- the prompt ------------------------------------------------------------------------


def sources_for(bot: Assistant, reply: Reply, passages: Sequence[Passage] = ()) -> list[Source]:
    """Number the passages the extractive reply cited, 1..N in its order, reusing its Citations.

    Only cited passages are given: the extractive selection is a better judge of
    relevance than retrieval similarity (for "how much is the uni bursary" the
    apprenticeship bursary passage scores higher), and the check can only prove
    that a number is in the passage cited, not that the passage is the right one.
    ``passages`` (all retrieved) is accepted for the interface and not used.
    """
    return [
        Source(replace(c, number=n), _chunk_text(bot, c.chunk_id) or c.quote)
        for n, c in enumerate(reply.citations, 1)
    ]


def _chunk_text(bot: Assistant, chunk_id: str) -> str:
    """The cited chunk's full text, so the model sees the quote in its context."""
    pos = bot._chunk_pos.get(chunk_id)
    if pos is None:
        return ""
    chunk = bot.index.chunks[pos]
    return bot.index.texts[chunk.document_id][chunk.start : chunk.end]


def build_messages(
    sources: Sequence[Source], question: str, audience: str, settings: Settings
) -> list[BaseMessage]:
    """The system rules (grounding, citing, numbers, audience) and the numbered passages."""
    system = (
        f"You answer questions about {settings.council_name}'s support for children in care and "
        "care leavers.\nRules:\n"
        "1. Answer ONLY from the numbered passages below. Do not add anything you know from "
        "elsewhere.\n"
        "2. Cite every sentence and bullet with the number of the passage it comes from, in square "
        "brackets, like [1] or [1][2]. Use only the passage numbers given.\n"
        "3. Never state a number, amount, age, percentage or date that is not written in the "
        "passage you cite. Copy numbers exactly as written.\n"
        "4. If the passages do not answer the question, say so in one sentence and do not guess.\n"
        "5. If a passage is marked superseded, say that it comes from the older document.\n"
        f"{_AUDIENCE_RULES.get(audience, _AUDIENCE_RULES['staff'])}"
    )
    blocks = []
    for n, source in enumerate(sources, 1):
        c = source.citation
        where = f"{c.document_title} — {c.section}" + (f", page {c.page}" if c.page else "")
        flag = " (superseded: an older document)" if c.superseded else ""
        full = " ".join(source.text.split())
        blocks.append(f"[{n}] {where}{flag}\nKey sentence: {c.quote}\nFull passage: {full}")
    human = "Passages:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}"
    return [SystemMessage(content=system), HumanMessage(content=human)]


# -- the check -------------------------------------------------------------------------


def check_answer(text: str, passages: Sequence[str]) -> list[str]:
    """Problems with a model answer; empty means it may be shown.

    ``passages[n - 1]`` is the text of passage [n]. An answer must cite, cite only
    passages that exist, and state only numbers written in what each sentence cites
    (a sentence citing nothing is checked against every passage the answer cites).
    """
    if not text.strip():
        return ["the answer is empty"]
    problems: list[str] = []
    allowed = range(1, len(passages) + 1)
    cited_anywhere = {n for n in cited_numbers(text) if n in allowed}
    bad = sorted({n for n in cited_numbers(text) if n not in allowed})
    if bad:
        listed = ", ".join(f"[{n}]" for n in bad)
        problems.append(f"cites {listed} but only passages [1]-[{len(passages)}] exist")
    if not cited_anywhere:
        problems.append("cites no passage")
        return problems
    grounded = [stated_numbers(p, source=True) for p in passages]
    for sentence in sentences(text):
        cites = {n for n in cited_numbers(sentence) if n in allowed} or cited_anywhere
        known = set().union(*(grounded[n - 1] for n in cites))
        for kind, value, shown in stated_numbers_shown(sentence):
            if not _grounded(kind, value, known):
                where = ", ".join(f"[{n}]" for n in sorted(cites))
                problems.append(
                    f"states {shown!r}, which is not in passage {where}: {sentence.strip()[:120]!r}"
                )
    return problems


def cited_numbers(text: str) -> list[int]:
    """Passage numbers cited in the text, in order."""
    return [int(n) for m in _CITE.finditer(text) for n in re.split(r"\s*[,;]\s*", m.group(1))]


def sentences(text: str) -> list[str]:
    """Lines (bullets), then sentences, each keeping the [n] markers that close it."""
    out: list[str] = []
    for line in text.splitlines():
        line = _LIST_MARK.sub("", line)
        out.extend(s for s in _SENTENCE_END.split(line) if s.strip())
    return out


def stated_numbers_shown(text: str) -> list[tuple[str, str, str]]:
    """(kind, value, as written) for each number stated, ignoring [n] markers."""
    body = _CITE.sub(" ", text)
    return [(_kind(m), _value(m), m.group(0).strip()) for m in _NUMBER.finditer(body)]


def stated_numbers(text: str, *, source: bool = False) -> set[tuple[str, str]]:
    """(kind, value) pairs; for a source passage also years of ranges and numbers in words."""
    found = {(kind, value) for kind, value, _ in stated_numbers_shown(text)}
    if source:
        found |= {("plain", f"{m.group(1)}{m.group(3)}") for m in _YEAR_RANGE.finditer(text)}
        found |= {("plain", _WORD_NUMBERS[m.group(1).lower()]) for m in _WORD_NUMBER.finditer(text)}
    return found


def _kind(match: re.Match[str]) -> str:
    unit = (match.group(4) or "").strip().lower()
    if match.group(1) or unit == "pounds":
        return "money"
    return "percent" if unit else "plain"


def _value(match: re.Match[str]) -> str:
    """The number without thousands separators or trailing decimal zeros ("2,000.00" -> "2000")."""
    whole = match.group(2).replace(",", "")
    decimals = (match.group(3) or "").rstrip("0").rstrip(".")
    return whole + decimals


def _grounded(kind: str, value: str, known: set[tuple[str, str]]) -> bool:
    """A plain number may match any stated form; £ amounts and percentages must match in kind."""
    if kind == "plain":
        return any(v == value for _, v in known)
    return (kind, value) in known


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
