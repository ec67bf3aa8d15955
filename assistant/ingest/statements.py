"""Which units of a document are statements: text an answer may lead with or be built from.

Documents hold text that states nothing on its own: a title line ("Care leavers"), a chart's
caption or axis label ("Age at 31/03/25 – percent"), the lines of a poem ("Care is a place you
ask for help"), a fragment of a few words ("Ask your PA."). Retrieval still reads them (they
say what a section is about), but an answer that leads with one says nothing, so chunking marks
each unit (``Chunk.answerable``) and answering never quotes a non-statement on its own.

The tests are of form, not of any council's words, so they hold for any council's documents:
- a fragment: fewer than ``MIN_WORDS`` words, no figure (a date is not a figure: a caption dates
  its chart) and no full stop: a title or a label, not a short sentence ("Complaints have three
  stages.") nor a label with its value ("Mondays: The Zone, Burnley");
- a question: it asks, and the sentence after it answers ("Did you claim asylum…? Then you get…");
- verse or a run of captions: ``VERSE_RUN`` or more one-line paragraphs in a row, each short,
  without an end stop (a question mark allowed: poems ask) and without a figure;
- a dated label: a one-line paragraph without an end stop whose only numbers are dates.
An infographic's lines ("266" above "Live in Lewisham", "57% 18-20 yr olds in EET") hold counts
and percentages, so they stay statements.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.text.tokens import YEAR_OR_DATE
from assistant.types import Block, Span

MIN_WORDS = 6
VERSE_RUN = 5
VERSE_WORDS = 12

_FIGURE = re.compile(r"[£$€]\s?\d|\d")
_END_STOP = re.compile(r"[.!?:;…]\W*$")
_SENTENCE_END = re.compile(r"[.!?][\"”’)]*$")
_LABEL_VALUE = re.compile(r"\w: \S")
_WORD = re.compile(r"[A-Za-z0-9£$%'’]+")


def words(text: str) -> int:
    return len(_WORD.findall(text))


def has_figure(text: str) -> bool:
    """A count, amount or percentage: digits that are not a date or a year."""
    return bool(_FIGURE.search(YEAR_OR_DATE.sub(" ", text)))


def one_line(text: str, block: Block) -> str | None:
    """The block's text when it is a one-line paragraph, else None."""
    if block.kind != "paragraph":
        return None
    line = text[block.start : block.end].strip()
    return line if line and "\n" not in line else None


def _unstopped(line: str) -> bool:
    return not _END_STOP.search(line) or line.endswith("?")


def verse_blocks(text: str, blocks: Sequence[Block]) -> set[int]:
    """Starts of the paragraphs that sit in a run of short, unstopped, figure-free lines."""
    out: set[int] = set()
    run: list[int] = []

    def close() -> None:
        if len(run) >= VERSE_RUN:
            out.update(run)
        run.clear()

    for block in blocks:
        line = one_line(text, block)
        if line is not None and words(line) <= VERSE_WORDS and _unstopped(line) and not has_figure(line):
            run.append(block.start)
        elif block.kind == "heading" and run:
            continue  # a title inside a poem ("What is care?") does not end it
        else:
            close()
    close()
    return out


def is_statement(text: str, span: Span, block: Block, *, verse: bool = False) -> bool:
    """Can an answer lead with the unit ``text[span]`` of ``block``?"""
    unit = " ".join(text[span[0] : span[1]].split())
    if verse or unit.endswith("?"):
        return False  # a question asks; the sentence after it answers ("Did you…? Then you get…")
    figure = has_figure(unit)
    # A short sentence with its full stop says something ("Complaints have three stages."); a short
    # line without one is a title or a label, unless it pairs a label with its value ("Mondays: …").
    if words(unit) < MIN_WORDS and not figure and not _SENTENCE_END.search(unit) and not _LABEL_VALUE.search(unit):
        return False
    # A lone line that only dates something is a label: "Where our children live at 31/03/25 – percent".
    dated_label = bool(YEAR_OR_DATE.search(unit)) and not figure and not _END_STOP.search(unit)
    return not (dated_label and one_line(text, block) is not None and words(unit) <= VERSE_WORDS)
