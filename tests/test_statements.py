"""Text that states nothing (title lines, chart captions, a poem's lines) is never an answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.ingest.chunking import chunk_document
from assistant.ingest.corpus import load_corpus
from assistant.ingest.parsing import parse
from assistant.ingest.statements import is_statement, verse_blocks
from assistant.types import Block

ROOT = Path(__file__).resolve().parent.parent


def units_of(folder: Path) -> dict[str, bool]:
    """Every unit of a corpus's prose, whole-word-normalised, with whether it is a statement."""
    out: dict[str, bool] = {}
    for doc in load_corpus(folder):
        for chunk in chunk_document(doc, lambda t: len(t.split())):
            for i, (s, e) in enumerate(chunk.units):
                if chunk.kind == "prose":
                    out[" ".join(doc.text[s:e].split())] = chunk.is_statement(i)
    return out


@pytest.fixture(scope="module")
def lewisham() -> dict[str, bool]:
    return units_of(ROOT / "corpus")


def test_a_poems_lines_are_not_statements(lewisham):
    assert lewisham["Care is a place you ask for help"] is False
    assert lewisham["Care is a bright yellow flower, open"] is False


def test_chart_captions_and_title_lines_are_not_statements(lewisham):
    assert lewisham["Age at 31/03/25 – percent"] is False
    assert lewisham["Where our children in care live at 31/03/25 – percent"] is False
    assert lewisham["Care leavers"] is False


def test_an_infographics_figures_and_short_sentences_stay_statements(lewisham):
    assert lewisham["266 Live in Lewisham"] is True  # a count with its label
    assert lewisham["They protect and support them."] is True  # short, but a sentence
    assert sum(lewisham.values()) > 0.85 * len(lewisham)


def test_a_label_with_its_value_is_a_statement():
    text, blocks = parse([(None, "# Groups\n\nMondays: The Zone, Burnley.\n\nThursdays: Hub\n")], markdown=True)
    paragraphs = [b for b in blocks if b.kind == "paragraph"]
    assert [is_statement(text, (b.start, b.end), b) for b in paragraphs] == [True, True]


def test_verse_needs_a_run_of_short_unstopped_lines():
    poem = "\n\n".join(["The sea is wide", "The sky is grey", "We walk on", "We sing a song", "It ends"])
    prose = "\n\n".join(["The sea is wide.", "Ask your PA about the grant", "It is £500"])
    for raw, expected in ((poem, 5), (prose, 0)):
        text, blocks = parse([(None, raw)], markdown=True)
        assert len(verse_blocks(text, blocks)) == expected


def test_a_short_unit_that_is_not_a_paragraph_line_is_judged_by_its_words():
    text = "Ask your PA"
    assert is_statement(text, (0, len(text)), Block("list_item", 0, len(text))) is False


@pytest.mark.parametrize("question", [
    "what happens when i turn 25",
    "how many care leavers do we have",
    "im pregnant what help can i get",
    "what is care",
])
def test_an_answer_never_leads_with_a_caption_title_or_poem_line(bot, question):
    reply = bot.ask(question)
    lead = reply.text.strip().split("\n")[0]
    for bad in ("– percent", "Care is a", "Care leavers."):
        assert bad not in lead, (question, lead)
