"""Staff actions on the corpus and index, with no user interface: add a document, check the index.

Adding a document must never leave the assistant broken. The new file and its
manifest entry are first tried in a throw-away copy of the corpus, so a
damaged PDF or a bad field is refused with the reason before anything real is
touched. Only then are they written into the corpus and the index rebuilt; if
that rebuild fails, the manifest and folder are put back as they were. The
index switch itself is atomic (see ``index.build_index``), so the index in
service keeps answering throughout.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.errors import CorpusError, IndexBuildError
from assistant.index import BuildReport, Progress, file_lock, is_current
from assistant.ingest.corpus import MANIFEST, NOT_DOCUMENTS, SUPPORTED, load_document, read_manifest

# Order of the fields in a written manifest entry (the order of the README example).
ENTRY_FIELDS = (
    "id",
    "title",
    "publisher",
    "published",
    "period",
    "status",
    "superseded_by",
    "kind",
    "source_url",
    "file",
)
# A council document is rarely over a few MB; this keeps a mistaken upload from filling the disk.
MB = 1024 * 1024
MAX_BYTES = 25 * MB
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def index_is_current(settings: Settings) -> bool:
    """Is there an index in service built from the corpus as it is now?

    The UI asks this before loading, so a first run (or a changed corpus)
    builds the index in front of the user with a progress bar instead of
    silently inside a cached call.
    """
    try:
        return is_current(settings)
    except IndexBuildError:
        return False


def safe_filename(name: str) -> str:
    """The uploaded name reduced to a plain file name that cannot escape the corpus folder."""
    base = Path(name.replace("\\", "/")).name
    stem, suffix = Path(base).stem, Path(base).suffix.lower()
    stem = _SAFE_NAME.sub("-", stem).strip("-._")
    if not stem:
        raise CorpusError(
            f"The file name {name!r} has no usable letters or digits. "
            "Rename the file and try again."
        )
    return f"{stem[:80]}{suffix}"


def toml_string(value: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for ch in value:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def manifest_block(entry: dict[str, Any]) -> str:
    """One ``[[documents]]`` block, checked to read back as exactly ``entry``."""
    lines = ["[[documents]]"]
    for name in ENTRY_FIELDS:
        value = entry.get(name)
        if value is None or value == "":
            continue
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise CorpusError(f"Field '{name}' must be text or a whole number (got {value!r}).")
        lines.append(f"{name} = {value if isinstance(value, int) else toml_string(value)}")
    block = "\n".join(lines) + "\n"
    parsed = tomllib.loads(block)["documents"][0]
    expected = {k: v for k, v in entry.items() if k in ENTRY_FIELDS and v not in (None, "")}
    if parsed != expected:  # pragma: no cover - a bug in toml_string, not a user error
        raise CorpusError(
            "The manifest entry could not be written faithfully; nothing was changed."
        )
    return block


def make_entry(filename: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The manifest entry for an upload: the form's fields, trimmed, plus the file name."""
    entry: dict[str, Any] = {}
    for name in ENTRY_FIELDS:
        if name == "file":
            continue
        value = fields.get(name)
        if isinstance(value, str):
            value = value.strip()
        if name == "published" and isinstance(value, str) and value.isdigit():
            value = int(value)
        if name == "published" and isinstance(value, float) and value.is_integer():
            value = int(value)
        if value not in (None, ""):
            entry[name] = value
    unknown = sorted(set(fields) - set(ENTRY_FIELDS))
    if unknown:
        raise CorpusError(
            f"Unknown field(s) {', '.join(unknown)}; valid fields: {', '.join(ENTRY_FIELDS)}."
        )
    entry["file"] = filename
    return entry


def check_upload(corpus_dir: Path, filename: str, data: bytes, entry: dict[str, Any]) -> None:
    """Try the new file and entry in a copy of the corpus; raise CorpusError with the reason."""
    if not data:
        raise CorpusError(f"{filename} is empty. Choose the document file again.", file=filename)
    if len(data) > MAX_BYTES:
        raise CorpusError(
            f"{filename} is {len(data) // MB} MB; the limit is {MAX_BYTES // MB} MB.",
            file=filename,
        )
    if Path(filename).suffix.lower() not in SUPPORTED:
        raise CorpusError(
            f"{filename} is not a supported type; use one of {', '.join(sorted(SUPPORTED))}.",
            file=filename,
        )
    if filename in NOT_DOCUMENTS or filename.startswith(("_", ".", "README")):
        raise CorpusError(
            f"{filename} is a reserved name. Rename the file and try again.", file=filename
        )
    if (corpus_dir / filename).exists():
        raise CorpusError(
            f"A file called {filename} is already in the corpus. Rename the new file, "
            "or remove the old "
            "document first.",
            file=filename,
        )
    with tempfile.TemporaryDirectory(prefix="corpus-check-") as tmp:
        trial = Path(tmp) / "corpus"
        shutil.copytree(corpus_dir, trial)
        (trial / filename).write_bytes(data)
        _append(trial / MANIFEST, manifest_block(entry))
        try:
            metas = read_manifest(trial)
            meta = next(m for m in metas if m.file == filename)
            load_document(trial, meta)
        except CorpusError as exc:
            # The reason may name the throw-away folder; name the real one instead.
            raise CorpusError(str(exc).replace(str(trial), str(corpus_dir)), file=exc.file) from exc


def add_document(
    settings: Settings,
    filename: str,
    data: bytes,
    fields: dict[str, Any],
    *,
    embedder: Any = None,
    progress: Progress | None = None,
) -> BuildReport:
    """Validate, add and index one document; on any failure the corpus and index are as before.

    ``fields`` are the manifest fields (id, title, publisher, published, period,
    status, superseded_by, kind, source_url); ``file`` is taken from ``filename``.
    Raises CorpusError (with the reason) for a bad file or field, or the
    ingest's own error if the rebuild fails.
    """
    from assistant.service import Assistant

    corpus = settings.corpus_path
    name = safe_filename(filename)
    entry = make_entry(name, fields)
    # One corpus change at a time: two uploads at once must not interleave manifest writes.
    with file_lock(settings.index_path, ".corpus.lock"):
        check_upload(corpus, name, data, entry)
        manifest = corpus / MANIFEST
        before = manifest.read_bytes()
        target = corpus / name
        try:
            target.write_bytes(data)
            _append(manifest, manifest_block(entry))
            kwargs = {"progress": progress} if progress else {}
            return Assistant.ingest(settings, embedder=embedder, **kwargs)
        except BaseException:
            manifest.write_bytes(before)
            target.unlink(missing_ok=True)
            raise


def _append(manifest: Path, block: str) -> None:
    text = manifest.read_text(encoding="utf-8") if manifest.exists() else ""
    if text and not text.endswith("\n"):
        text += "\n"
    manifest.write_text(f"{text}\n{block}" if text else block, encoding="utf-8")
