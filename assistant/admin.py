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
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.embed import make_embedder
from assistant.embed.cache import index_cache
from assistant.errors import CorpusError, IndexBuildError
from assistant.index import BuildReport, Progress, file_lock, is_current
from assistant.ingest.corpus import (
    MANIFEST,
    NOT_DOCUMENTS,
    SUPPORTED,
    entry_problems,
    load_document,
    read_manifest,
)
from assistant.ingest.prepare import Prepared, no_progress, prepare
from assistant.ingest.quarantine import Quarantined
from assistant.staff import PUBLISH, REMOVE, REPLACE, UPLOAD, Actor, StaffStore
from assistant.types import DocumentMeta

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


def check_fields(corpus_dir: Path, entry: dict[str, Any], *, replacing: str | None = None) -> None:
    """Refuse an entry with any bad field, naming every one with its value (``CorpusError.problems``)."""
    problems = [p for p in entry_problems(entry) if p[0] != "file"]
    others = [m for m in _manifest_entries(corpus_dir) if m.get("id") != replacing]
    if entry.get("id") in {m.get("id") for m in others}:
        problems.append(("id", entry["id"], "is already the id of another document: choose a new one"))
    superseded_by = entry.get("superseded_by")
    if isinstance(superseded_by, str) and superseded_by not in {m.get("id") for m in others}:
        problems.append(("superseded_by", superseded_by, "is not the id of a document in the corpus"))
    problems.sort(key=lambda p: ENTRY_FIELDS.index(p[0]) if p[0] in ENTRY_FIELDS else len(ENTRY_FIELDS))
    if problems:
        said = "; ".join(
            f"{name} {why}" if value in (None, "") else f"{name} {value!r} {why}" for name, value, why in problems
        )
        raise CorpusError(f"Some fields need fixing: {said}.", file=MANIFEST, problems=tuple(problems))


def _manifest_entries(corpus_dir: Path) -> list[dict[str, Any]]:
    path = corpus_dir / MANIFEST
    if not path.exists():
        return []
    try:
        entries = tomllib.loads(path.read_text(encoding="utf-8")).get("documents", [])
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return []  # the full check names the manifest's own problem
    return [e for e in entries if isinstance(e, dict)]


def check_upload(corpus_dir: Path, filename: str, data: bytes, entry: dict[str, Any]) -> None:
    """Try the new file and entry in a copy of the corpus; raise CorpusError with the reason."""
    _check_file(filename, data)
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
    _try_in_copy(corpus_dir, filename, data, lambda manifest: _append(manifest, manifest_block(entry)))


def _check_file(filename: str, data: bytes) -> None:
    """An uploaded file that is empty, too big or of a type no loader reads is refused with the reason."""
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


def _try_in_copy(
    corpus_dir: Path, filename: str, data: bytes, edit_manifest: Callable[[Path], None], *, replaces: str = ""
) -> None:
    """Write the file (in place of ``replaces``) and the manifest edit into a throw-away copy of the
    corpus, then read the manifest and load the document there: a bad file or field fails here."""
    with tempfile.TemporaryDirectory(prefix="corpus-check-") as tmp:
        trial = Path(tmp) / "corpus"
        shutil.copytree(corpus_dir, trial)
        if replaces:
            (trial / replaces).unlink()
        (trial / filename).write_bytes(data)
        edit_manifest(trial / MANIFEST)
        try:
            meta = next(m for m in read_manifest(trial) if m.file == filename)
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
    by: Actor | None = None,
) -> BuildReport:
    """Validate, add and index one document; on any failure the corpus and index are as before.

    ``fields`` are the manifest fields (id, title, publisher, published, period,
    status, superseded_by, kind, source_url); ``file`` is taken from ``filename``.
    Raises CorpusError (with the reason) for a bad file or field, or the
    ingest's own error if the rebuild fails. With ``by``, the audit log records who did it.
    """
    with _audited(settings, by, UPLOAD, f"{fields.get('id', '')} ({filename})"):
        return _add_document(settings, filename, data, fields, embedder=embedder, progress=progress)


@contextmanager
def _audited(settings: Settings, by: Actor | None, action: str, target: str) -> Iterator[None]:
    """The staff action's audit row, "done" or "failed: why", when someone is named."""
    if by is None:
        yield
        return
    with StaffStore.from_settings(settings).audited(by.name, action, target, address=by.address):
        yield


def rebuild_index(
    settings: Settings, *, embedder: Any = None, progress: Progress | None = None, by: Actor | None = None
) -> BuildReport:
    """Rebuild the index from the corpus and put it in service (publish), atomically; audited with ``by``."""
    from assistant.service import Assistant

    kwargs = {"progress": progress} if progress else {}
    with _audited(settings, by, PUBLISH, "the index"):
        return Assistant.ingest(settings, embedder=embedder, **kwargs)


def _add_document(
    settings: Settings, filename: str, data: bytes, fields: dict[str, Any], *, embedder: Any,
    progress: Progress | None,
) -> BuildReport:
    from assistant.service import Assistant

    corpus = settings.corpus_path
    name = safe_filename(filename)
    entry = make_entry(name, fields)
    # One corpus change at a time: two uploads at once must not interleave manifest writes.
    with file_lock(settings.index_path, ".corpus.lock"):
        check_fields(corpus, entry)
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


# -- a draft: what an upload would change, before it is published -------------------------------


@dataclass(frozen=True)
class Passage:
    """One passage of a draft's comparison: its document, its id and its text as indexed."""

    document_id: str
    chunk_id: str
    text: str


@dataclass(frozen=True)
class Preview:
    """What publishing an upload would change in the index: nothing is written until it is published.

    Passages are compared by document and position: one whose id is new is ``new``, one whose id
    is gone is ``removed``, one whose text differs is ``changed`` (as (before, after)).
    ``quarantined`` are the upload's own passages and hidden parts kept out of the index.
    """

    filename: str
    entry: dict[str, Any]
    new: list[Passage] = field(default_factory=list)
    changed: list[tuple[Passage, Passage]] = field(default_factory=list)
    removed: list[Passage] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)


def preview_document(
    settings: Settings, filename: str, data: bytes, fields: dict[str, Any], *, embedder: Any = None,
    progress: Progress | None = None,
) -> Preview:
    """Check an upload (as ``add_document`` would) and say what publishing it would change; write nothing.

    The corpus with the upload is read, screened and chunked in a throw-away copy, and compared
    with the corpus as it is; vectors come from the index's embedding cache, so only the new
    file's texts are embedded (and publishing then finds them there).
    """
    corpus = settings.corpus_path
    name = safe_filename(filename)
    entry = make_entry(name, fields)
    check_fields(corpus, entry)
    check_upload(corpus, name, data, entry)
    embedder = embedder or make_embedder(settings)
    with tempfile.TemporaryDirectory(prefix="corpus-draft-") as tmp:
        trial = Path(tmp) / "corpus"
        shutil.copytree(corpus, trial)
        (trial / name).write_bytes(data)
        _append(trial / MANIFEST, manifest_block(entry))
        trial_settings = settings.model_copy(update={"corpus_dir": trial})
        with index_cache(settings, embedder) as cache:
            before = prepare(settings, embedder, "", skip_bad=True, cache=cache)
            after = prepare(trial_settings, embedder, "", skip_bad=True, progress=progress or no_progress, cache=cache)
    new, changed, removed = _compare(before, after)
    own = [q for q in after.quarantined if q.file == name]
    return Preview(name, entry, new, changed, removed, own)


def _compare(before: Prepared, after: Prepared) -> tuple[list[Passage], list[tuple[Passage, Passage]], list[Passage]]:
    def passages(prepared: Prepared) -> dict[str, Passage]:
        return {
            c.id: Passage(c.document_id, c.id, " ".join(prepared.texts[c.document_id][c.start : c.end].split()))
            for c in prepared.chunks
        }

    old, fresh = passages(before), passages(after)
    new = [p for i, p in fresh.items() if i not in old]
    removed = [p for i, p in old.items() if i not in fresh]
    changed = [(old[i], p) for i, p in fresh.items() if i in old and old[i].text != p.text]
    return new, changed, removed


def _append(manifest: Path, block: str) -> None:
    text = manifest.read_text(encoding="utf-8") if manifest.exists() else ""
    if text and not text.endswith("\n"):
        text += "\n"
    manifest.write_text(f"{text}\n{block}" if text else block, encoding="utf-8")


# -- removing and replacing a document ---------------------------------------------------------

_BLOCK_START = re.compile(r"^\[\[documents\]\]\s*(#.*)?$", re.MULTILINE)


def _blocks(text: str) -> tuple[str, list[str]]:
    """The manifest's text before its first entry, and each ``[[documents]]`` block's text."""
    starts = [m.start() for m in _BLOCK_START.finditer(text)]
    if not starts:
        return text, []
    ends = [*starts[1:], len(text)]
    return text[: starts[0]], [text[a:b] for a, b in zip(starts, ends, strict=True)]


def _without_block(text: str, doc_id: str, replacement: str | None = None) -> str:
    """The manifest text with the entry ``doc_id`` removed (or replaced by ``replacement``)."""
    head, blocks = _blocks(text)
    out = []
    for block in blocks:
        try:
            entry = tomllib.loads(block)["documents"][0]
        except (tomllib.TOMLDecodeError, KeyError, IndexError):
            entry = {}
        if entry.get("id") == doc_id:
            if replacement is not None:
                out.append(replacement + ("\n" if block.endswith("\n\n") else ""))
            continue
        out.append(block)
    return head + "".join(out)


def _entry(corpus: Path, doc_id: str) -> tuple[dict[str, Any], list[DocumentMeta]]:
    """The manifest entry of ``doc_id`` as written, and every document's checked metadata."""
    metas = read_manifest(corpus)
    for entry in _manifest_entries(corpus):
        if entry.get("id") == doc_id:
            return entry, metas
    ids = ", ".join(m.id for m in metas)
    raise CorpusError(f"No document has the id '{doc_id}'. The documents are: {ids}.", file=MANIFEST)


def _keep_copy(settings: Settings, doc_id: str, files: dict[str, bytes]) -> Path:
    """Keep what is removed or replaced (the file and the manifest as it was) under the cache folder."""
    folder = settings.cache_path / "removed-documents" / f"{time.strftime('%Y%m%d-%H%M%S')}-{doc_id}"
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def remove_document(
    settings: Settings, doc_id: str, *, embedder: Any = None, progress: Progress | None = None,
    by: Actor | None = None,
) -> BuildReport:
    """Take one document out of the corpus and rebuild; on any failure the corpus and index are as before.

    The removed file and the manifest as it was are kept in ``<cache_dir>/removed-documents/``.
    A document another one names as its replacement ("Replaced by") cannot be removed first.
    With ``by``, the audit log records who did it.
    """
    with _audited(settings, by, REMOVE, doc_id):
        return _remove_document(settings, doc_id, embedder=embedder, progress=progress)


def _remove_document(settings: Settings, doc_id: str, *, embedder: Any, progress: Progress | None) -> BuildReport:
    from assistant.service import Assistant

    corpus = settings.corpus_path
    with file_lock(settings.index_path, ".corpus.lock"):
        entry, metas = _entry(corpus, doc_id)
        if len(metas) == 1:
            raise CorpusError(f"'{doc_id}' is the only document: the assistant needs at least one.", file=MANIFEST)
        named_by = [m.id for m in metas if m.superseded_by == doc_id]
        if named_by:
            raise CorpusError(
                f"'{doc_id}' is named as the replacement of {', '.join(named_by)}. Remove those first, "
                "or replace this document's file instead.",
                file=MANIFEST,
            )
        manifest = corpus / MANIFEST
        before = manifest.read_bytes()
        target = corpus / entry["file"]
        data = target.read_bytes()
        _keep_copy(settings, doc_id, {entry["file"]: data, MANIFEST: before})
        try:
            manifest.write_text(_without_block(before.decode("utf-8"), doc_id), encoding="utf-8")
            target.unlink()
            kwargs = {"progress": progress} if progress else {}
            return Assistant.ingest(settings, embedder=embedder, **kwargs)
        except BaseException:
            manifest.write_bytes(before)
            target.write_bytes(data)
            raise


def replace_document(
    settings: Settings,
    doc_id: str,
    filename: str,
    data: bytes,
    *,
    embedder: Any = None,
    progress: Progress | None = None,
    by: Actor | None = None,
) -> BuildReport:
    """Put a new file in place of one document's, keeping its manifest entry; rebuild atomically.

    The new file is tried in a copy of the corpus first; on any failure the corpus and index
    are as before. The old file is kept in ``<cache_dir>/removed-documents/``. With ``by``, the
    audit log records who did it.
    """
    with _audited(settings, by, REPLACE, f"{doc_id} ({filename})"):
        return _replace_document(settings, doc_id, filename, data, embedder=embedder, progress=progress)


def _replace_document(
    settings: Settings, doc_id: str, filename: str, data: bytes, *, embedder: Any, progress: Progress | None
) -> BuildReport:
    from assistant.service import Assistant

    corpus = settings.corpus_path
    name = safe_filename(filename)
    with file_lock(settings.index_path, ".corpus.lock"):
        entry, _ = _entry(corpus, doc_id)
        old_name = entry["file"]
        if name != old_name and (corpus / name).exists():
            raise CorpusError(
                f"A file called {name} is already in the corpus. Rename the new file and try again.", file=name
            )
        new_entry = {**entry, "file": name}
        block = manifest_block(new_entry)
        manifest = corpus / MANIFEST
        before = manifest.read_bytes()
        after = _without_block(before.decode("utf-8"), doc_id, block)
        _check_file(name, data)
        _try_in_copy(corpus, name, data, lambda path: path.write_text(after, encoding="utf-8"), replaces=old_name)
        old_data = (corpus / old_name).read_bytes()
        _keep_copy(settings, doc_id, {old_name: old_data, MANIFEST: before})
        try:
            (corpus / old_name).unlink()
            (corpus / name).write_bytes(data)
            manifest.write_text(after, encoding="utf-8")
            kwargs = {"progress": progress} if progress else {}
            return Assistant.ingest(settings, embedder=embedder, **kwargs)
        except BaseException:
            (corpus / name).unlink(missing_ok=True)
            (corpus / old_name).write_bytes(old_data)
            manifest.write_bytes(before)
            raise
