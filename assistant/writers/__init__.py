"""Writers turn a plan into a reply, whole or streamed, behind one ``Writer`` seam.

``WRITERS`` maps the ``llm_backend`` setting to a writer; ``make_writer(settings)`` builds
the configured one. Adding a writer means one module implementing ``Writer`` and one entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol, runtime_checkable

from assistant.answer.context import AnswerContext
from assistant.answer.plan import Plan
from assistant.config import Settings
from assistant.types import Reply
from assistant.writers.check import Verdict
from assistant.writers.extractive import ExtractiveWriter


class Writer(Protocol):
    """Turns a Plan into a Reply; ``stream`` yields text pieces first and the Reply last."""

    name: str

    def write(self, plan: Plan, ctx: AnswerContext) -> Reply: ...

    def stream(self, plan: Plan, ctx: AnswerContext) -> Iterator[str | Reply]: ...


@runtime_checkable
class CheckedWriter(Writer, Protocol):
    """A writer whose answers pass a check (the LLM writer): it can say what the check decided."""

    def write_checked(self, plan: Plan, ctx: AnswerContext) -> tuple[Reply, Verdict]: ...


def write_checked(writer: Writer, plan: Plan, ctx: AnswerContext) -> tuple[Reply, Verdict | None]:
    """The reply ``writer.write`` gives, with the check's verdict (None for a writer that has no check)."""
    if isinstance(writer, CheckedWriter):
        return writer.write_checked(plan, ctx)
    return writer.write(plan, ctx), None


def _llm() -> Writer:
    # Imported when chosen: the model client (openai, httpx, LangChain's chat models) costs
    # about a second at start-up, and the default writer never needs it.
    from assistant.writers.llm import LLMWriter

    return LLMWriter()


WRITERS: dict[str, Callable[[], Writer]] = {
    "none": ExtractiveWriter,
    "openai": _llm,
}


def make_writer(settings: Settings) -> Writer:
    """The writer for ``settings.llm_backend``."""
    return WRITERS[settings.llm_backend]()


__all__ = ["WRITERS", "CheckedWriter", "ExtractiveWriter", "Verdict", "Writer", "make_writer", "write_checked"]
