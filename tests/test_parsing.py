"""Cleaning and structure: markup goes, words and tables stay."""

from __future__ import annotations

import re

from conftest import CORPUS

from assistant.ingest.corpus import load_document, read_manifest
from assistant.ingest.parsing import TableRow, clean_inline, parse

SEED_2021 = CORPUS / "lewisham-corporate-parenting-strategy-2021-24.txt"


def _doc(doc_id: str):
    meta = next(m for m in read_manifest(CORPUS) if m.id == doc_id)
    return load_document(CORPUS, meta)


def test_html_fragments_are_removed_from_the_strategy():
    doc = _doc("cps-2021-24")
    assert "<p" not in doc.text and "<li" not in doc.text and "<div" not in doc.text
    assert "style=" not in doc.text


def test_words_are_unchanged_by_cleaning():
    """Every word of the raw export, minus markup, appears in the cleaned text in order."""
    raw = SEED_2021.read_text(encoding="utf-8")
    doc = _doc("cps-2021-24")
    # List items the PDF export ran together ("money22. Ready") are separate items.
    raw_words = [
        word
        for line in raw.splitlines()
        for word in clean_inline(
            re.sub(r"(?<=[a-z])(?=\d{1,2}\.\s[A-Z])", " ", re.sub(r"<\s*/?[a-zA-Z][^<>]*>", " ", line))
            .replace("\t", " ")
        ).split()
    ]
    clean_words = doc.text.replace("- ", " ").split()
    position = 0
    for word in raw_words:
        if word in {"-", "•", "✓"}:
            continue
        found = clean_words.index(word.lstrip("-•"), position) if word.lstrip("-•") else position
        assert found - position < 50, f"word {word!r} missing near {' '.join(clean_words[position:position + 8])}"
        position = found


def test_table_rows_keep_their_headers_and_group():
    doc = _doc("cps-2025-28")
    rows = [b for b in doc.blocks if isinstance(b, TableRow) and b.role == "row"]
    eet = next(r for r in rows if "education, employment or training" in doc.text[r.start : r.end])
    assert eet.header == ("Strategic strands", "Measures of success", "Current position (April-2025)", "Ambition")
    cells = [" ".join(doc.text[s:e] for s, e in cell) for cell in eet.cells]
    assert cells[2] == "52%" and cells[3] == "60% (above)"
    assert eet.first_cell == "Being independent"


def test_measures_group_rows_are_recognised():
    doc = _doc("cps-2021-24")
    groups = [doc.text[b.start : b.end].strip() for b in doc.blocks if isinstance(b, TableRow) and b.role == "group"]
    assert "Key performance and qualitative information" in groups
    assert "Qualitative measures captured through feedback and audit" in groups


def test_numbered_rows_with_empty_cells_are_rows_of_their_group():
    doc = _doc("cps-2021-24")
    rows = {doc.text[b.start : b.end].strip(): b for b in doc.blocks if isinstance(b, TableRow) and b.role == "row"}
    row = rows["23. Engagement of more CYP in the CICC"]
    assert row.group == "Qualitative measures captured through feedback and audit"
    assert "24. A wider range of housing options for our Care Leavers" in rows


def test_numbered_headings_but_not_numbered_lists():
    doc = _doc("cps-2025-28")
    headings = [doc.text[b.start : b.end] for b in doc.blocks if b.kind == "heading"]
    assert "10. Measures of success (2025-2028)" in headings
    assert "3. Principles and values" in headings
    assert not any(h.startswith("4. Take those views") for h in headings)


def test_block_offsets_point_at_their_text():
    text, blocks = parse([(None, "1. Introduction\n\nSome words here.\n\n- a list item\n- another\n")])
    assert [text[b.start : b.end] for b in blocks] == ["1. Introduction", "Some words here.", "a list item", "another"]
    assert [b.kind for b in blocks] == ["heading", "paragraph", "list_item", "list_item"]


def test_comparison_signs_are_text_not_markup():
    """"<8% >70%" in the measures table is a figure, not an HTML tag."""
    doc = _doc("cps-2021-24")
    assert "7% (3+) 71% (2yrs)\t<8% >70%" in doc.text


def test_run_together_list_items_are_split():
    """The 2021-24 Pledge overview lists ambitions with no break between them in the export."""
    doc = _doc("cps-2021-24")
    assert "Managing my money\n- 22. Ready to look after myself" in doc.text
