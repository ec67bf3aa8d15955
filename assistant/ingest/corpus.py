"""corpus/manifest.toml + document files -> cleaned ``Document`` objects.

Adding a document is dropping a file (PDF, HTML, Markdown or text) into the
corpus folder and adding its entry to the manifest. Every problem is reported
with the file and the field, and what to do about it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

from assistant.errors import CorpusError
from assistant.ingest.loaders import LOADERS
from assistant.ingest.parsing import parse
from assistant.types import Document, DocumentMeta

MANIFEST = "manifest.toml"
SUPPORTED = LOADERS.keys()  # the file types a corpus may hold, by suffix (a live view of LOADERS)
# Files in the corpus folder that are not documents.
NOT_DOCUMENTS = {MANIFEST, "glossary.toml"}
_REQUIRED = ("id", "title", "publisher", "published", "period", "status", "kind", "source_url", "file")
_STATUSES = ("current", "superseded")
_KINDS = ("strategy", "local-offer", "guidance")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def read_manifest(corpus_dir: Path) -> list[DocumentMeta]:
    """Read and validate the manifest, cross-checked against the files present."""
    path = corpus_dir / MANIFEST
    if not path.exists():
        raise CorpusError(
            f"{path} is missing. Create it with one [[documents]] entry per file (see README, "
            "'Adding documents').",
            file=str(path),
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{path} is not valid TOML: {exc}", file=str(path)) from exc
    entries = data.get("documents")
    if not isinstance(entries, list) or not entries:
        raise CorpusError(f"{path} has no [[documents]] entries. Add one per document.", file=str(path))
    metas = [_validate_entry(corpus_dir, i, entry) for i, entry in enumerate(entries, 1)]
    _cross_check(corpus_dir, metas)
    return metas


def entry_problems(entry: dict[str, Any]) -> list[tuple[str, object, str]]:
    """Every bad field of one manifest entry, as (field, value, what is wrong), in the fields' order.

    The file's presence is checked by the caller, which knows the folder.
    """
    problems: list[tuple[str, object, str]] = [
        (name, None, "is missing") for name in _REQUIRED if name not in entry
    ]

    def check(name: str, ok: bool, why: str) -> None:
        if name in entry and not ok:
            problems.append((name, entry[name], why))

    for name in ("id", "title", "publisher", "period", "source_url", "file"):
        check(name, isinstance(entry.get(name), str) and bool(entry[name].strip()), "must be a non-empty string")
    named = {p[0] for p in problems}
    if "id" not in named:
        check("id", bool(_ID.match(entry["id"])), "must be lower-case letters, digits and hyphens")
    published = entry.get("published")
    check("published", isinstance(published, int) and not isinstance(published, bool) and 1900 <= published <= 2100,
          "must be a year such as 2025")
    check("status", entry.get("status") in _STATUSES, f"must be one of {', '.join(_STATUSES)}")
    check("kind", entry.get("kind") in _KINDS, f"must be one of {', '.join(_KINDS)}")
    if "source_url" not in named:
        check("source_url", bool(re.match(r"^https?://", entry["source_url"])),
              "must be a web address starting with http:// or https://")
    superseded_by = entry.get("superseded_by")
    if entry.get("status") == "superseded" and not superseded_by:
        problems.append(("superseded_by", superseded_by,
                         "is required when status is 'superseded': name the replacing document's id"))
    elif superseded_by is not None and not isinstance(superseded_by, str):
        problems.append(("superseded_by", superseded_by, "must be a document id"))
    if "file" not in named:
        # A manifest edit must never index a file elsewhere on the host: a plain name, in the folder.
        name = entry["file"]
        inside = Path(name).name == name and name not in (".", "..") and "\\" not in name
        check("file", inside, "must be the name of a file in the corpus folder itself (no folder, '..' or "
                              "absolute path)")
    if "file" not in {p[0] for p in problems}:
        suffixes = ", ".join(sorted(SUPPORTED))
        check("file", Path(entry["file"]).suffix.lower() in SUPPORTED, f"must end in one of {suffixes}")
    return problems


def _validate_entry(corpus_dir: Path, number: int, entry: Any) -> DocumentMeta:
    where = f"manifest.toml entry {number}"
    if not isinstance(entry, dict):
        raise CorpusError(f"{where} is not a table of fields.", file=MANIFEST)
    if isinstance(entry.get("id"), str):
        where = f"manifest.toml entry '{entry['id']}'"
    problems = tuple(entry_problems(entry))
    missing = [name for name, _, why in problems if why == "is missing"]
    if missing:
        raise CorpusError(f"{where} is missing the field(s) {', '.join(missing)}.", file=MANIFEST, problems=problems)
    known = {f.name for f in fields(DocumentMeta)}
    unknown = sorted(set(entry) - known)
    if unknown:
        raise CorpusError(
            f"{where} has unknown field(s) {', '.join(unknown)}; valid fields: {', '.join(sorted(known))}.",
            file=MANIFEST,
        )
    if problems:
        name, value, why = problems[0]
        raise CorpusError(f"{where}: field '{name}' {why} (got {value!r}).", file=MANIFEST, problems=problems)
    if not (corpus_dir / entry["file"]).resolve().is_relative_to(corpus_dir.resolve()):
        raise CorpusError(
            f"{where}: field 'file' names '{entry['file']}', a link to a file outside the corpus folder. "
            "Copy the file into the corpus folder instead of linking to it.",
            file=entry["file"],
        )
    if not (corpus_dir / entry["file"]).is_file():
        raise CorpusError(
            f"{where} lists file '{entry['file']}', but {corpus_dir / entry['file']} is missing. "
            "Add the file or remove the entry.",
            file=entry["file"],
        )
    return DocumentMeta(**{name: entry.get(name) for name in known})  # type: ignore[arg-type]


def _cross_check(corpus_dir: Path, metas: list[DocumentMeta]) -> None:
    ids = [m.id for m in metas]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise CorpusError(f"manifest.toml lists the id(s) {', '.join(duplicates)} more than once.", file=MANIFEST)
    for meta in metas:
        if meta.superseded_by and meta.superseded_by not in ids:
            raise CorpusError(
                f"manifest.toml entry '{meta.id}': field 'superseded_by' names '{meta.superseded_by}', "
                "which is not a document id in the manifest.",
                file=MANIFEST,
            )
    listed = {m.file for m in metas}
    for path in sorted(corpus_dir.iterdir()):
        if (
            path.is_file()
            and path.suffix.lower() in SUPPORTED
            and path.name not in NOT_DOCUMENTS
            and not path.name.startswith(("_", ".", "README"))
            and path.name not in listed
        ):
            raise CorpusError(
                f"{path} has no entry in manifest.toml. Add an entry with file = '{path.name}', "
                "or move the file out of the corpus folder.",
                file=path.name,
            )


def load_document(corpus_dir: Path, meta: DocumentMeta) -> Document:
    """Read, clean and structure one document; raise CorpusError naming the file if unusable."""
    path = corpus_dir / meta.file
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise CorpusError(
            f"{meta.file} is not a supported type; use one of {', '.join(sorted(SUPPORTED))}.", file=meta.file
        )
    try:
        loaded = loader(path)
        text, blocks = parse(loaded.segments, markdown=loaded.markdown)
    except CorpusError:
        raise
    except Exception as exc:  # a parser library failing on a bad file
        raise CorpusError(
            f"{meta.file} could not be read: {exc}. Check the file is not damaged.", file=meta.file
        ) from exc
    if not any(b.kind != "heading" for b in blocks):
        raise CorpusError(
            f"{meta.file} yielded no text. If it is a scanned PDF, export a text version first.",
            file=meta.file,
        )
    return Document(meta=meta, text=text, blocks=blocks)


def load_corpus(corpus_dir: Path) -> list[Document]:
    """Load every document in the manifest (fails on the first bad one)."""
    return [load_document(corpus_dir, meta) for meta in read_manifest(corpus_dir)]
