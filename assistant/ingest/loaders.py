"""Loaders: one per file type, turning a file into text segments for the parser.

``LOADERS`` maps a file suffix to its loader; the manifest check, the ingest, the staff page's
upload and ``admin`` all read it, so adding a file type means one function and one entry here.
A loader returns the text in segments (a PDF's pages, numbered; one segment otherwise) and
whether the text is Markdown-like (headings with #, lists with -), which HTML becomes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import CorpusError
from assistant.text.html import html_to_text, strip_markup


@dataclass(frozen=True)
class Loaded:
    segments: list[tuple[int | None, str]]  # (page number or None, text)
    markdown: bool = False


Loader = Callable[[Path], Loaded]


def load_pdf(path: Path) -> Loaded:
    return Loaded(_pdf_pages(path))


def load_html(path: Path) -> Loaded:
    return Loaded([(None, html_to_text(_read_text(path)))], markdown=True)


def load_markdown(path: Path) -> Loaded:
    # Documents are data: a script, style or comment hidden in the text never reaches an answer.
    return Loaded([(None, strip_markup(_read_text(path)))], markdown=True)


def load_text(path: Path) -> Loaded:
    return Loaded([(None, strip_markup(_read_text(path)))])


LOADERS: dict[str, Loader] = {
    ".pdf": load_pdf,
    ".html": load_html,
    ".htm": load_html,
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_text,
}


def raw_text(path: Path) -> str | None:
    """A text-like file's characters as read (None for a PDF or a file that cannot be read)."""
    if path.suffix.lower() == ".pdf":
        return None
    try:
        return _read_text(path)
    except CorpusError:
        return None


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"{path.name} could not be read: {exc.strerror}.", file=path.name) from exc
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CorpusError(f"{path.name} is not UTF-8 or Windows-1252 text. Save it as UTF-8.", file=path.name)


def _pdf_pages(path: Path) -> list[tuple[int | None, str]]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise CorpusError(
                f"{path.name} is encrypted (password-protected). Save an unprotected copy and add that.",
                file=path.name,
            )
        pages = [(number, page.extract_text() or "") for number, page in enumerate(reader.pages, 1)]
    except CorpusError:
        raise
    except (PdfReadError, ValueError, OSError, KeyError) as exc:
        raise CorpusError(
            f"{path.name} is not a readable PDF ({exc}). Re-export it and try again.", file=path.name
        ) from exc
    if not pages:
        raise CorpusError(f"{path.name} has no pages.", file=path.name)
    return pages
