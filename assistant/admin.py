"""Staff actions on the corpus and index, with no user interface: add, replace or remove a
document, preview a change as a draft, check the index.

Changing a document must never leave the assistant broken. An addition or a replacement is first
planned in full (``plan_addition``, ``plan_replacement``: the file, its manifest entry and the
manifest's text after) and tried in a throw-away copy of the corpus, so a damaged PDF or a bad
field is refused with the reason before anything real is touched. Only then is it written into
the corpus and the index rebuilt; if that rebuild fails, the manifest and folder are put back as
they were. The index switch itself is atomic (see ``index.build_index``), so the index in service
keeps answering throughout. A draft (``preview``) runs the same plan in a copy and says which
passages it would add, change or remove, writing nothing.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

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
CORPUS_LOCK = ".corpus.lock"  # in the index folder: one corpus change (or draft's copy) at a time


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


@dataclass(frozen=True)
class Planned:
    """A checked corpus change, worked out in full: the file to write (in place of ``replaces``), its
    manifest entry and the manifest's whole text after the change.

    ``write_into`` applies it to a folder: the real corpus when publishing, a throw-away copy when
    checking or previewing, so what a draft shows is what publishing writes.
    """

    filename: str
    data: bytes = field(repr=False)
    entry: dict[str, Any]
    manifest: str
    replaces: str = ""  # the file it takes the place of ("" for a new document)

    def write_into(self, corpus_dir: Path) -> None:
        if self.replaces:
            (corpus_dir / self.replaces).unlink()
        (corpus_dir / self.filename).write_bytes(self.data)
        (corpus_dir / MANIFEST).write_text(self.manifest, encoding="utf-8")


def plan_addition(corpus_dir: Path, filename: str, data: bytes, fields: dict[str, Any]) -> Planned:
    """The corpus change that adds ``filename`` with the manifest fields ``fields``, checked; nothing written.

    Refused (CorpusError, with the reason) for a bad field, an empty, too big or unreadable file, a
    reserved name or a name already in the corpus, or a file that does not load (tried in a copy).
    """
    name = safe_filename(filename)
    entry = make_entry(name, fields)
    check_fields(corpus_dir, entry)
    _check_file(name, data)
    if name in NOT_DOCUMENTS or name.startswith(("_", ".", "README")):
        raise CorpusError(f"{name} is a reserved name. Rename the file and try again.", file=name)
    if (corpus_dir / name).exists():
        raise CorpusError(
            f"A file called {name} is already in the corpus. Rename the new file, "
            "or remove the old "
            "document first.",
            file=name,
        )
    planned = Planned(name, data, entry, _appended(_manifest_text(corpus_dir), manifest_block(entry)))
    _try_in_copy(corpus_dir, planned)
    return planned


def plan_replacement(corpus_dir: Path, doc_id: str, filename: str, data: bytes) -> Planned:
    """The corpus change that puts ``filename`` in place of document ``doc_id``'s file, keeping its
    manifest entry, checked; nothing written.

    Refused (CorpusError, with the reason) for an unknown id, a name another file already has, an
    empty, too big or unreadable file, or a file that does not load (tried in a copy).
    """
    name = safe_filename(filename)
    entry, _ = _entry(corpus_dir, doc_id)
    old_name = entry["file"]
    if name != old_name and (corpus_dir / name).exists():
        raise CorpusError(
            f"A file called {name} is already in the corpus. Rename the new file and try again.", file=name
        )
    new_entry = {**entry, "file": name}
    manifest = _without_block(_manifest_text(corpus_dir), doc_id, manifest_block(new_entry))
    _check_file(name, data)
    planned = Planned(name, data, new_entry, manifest, replaces=old_name)
    _try_in_copy(corpus_dir, planned)
    return planned


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


def _try_in_copy(corpus_dir: Path, planned: Planned) -> None:
    """Write the change into a throw-away copy of the corpus, then read the manifest and load the
    changed document there: a bad file or field fails here, with the reason naming the real folder."""
    with tempfile.TemporaryDirectory(prefix="corpus-check-") as tmp:
        trial = Path(tmp) / "corpus"
        shutil.copytree(corpus_dir, trial)
        planned.write_into(trial)
        try:
            meta = next(m for m in read_manifest(trial) if m.file == planned.filename)
            load_document(trial, meta)
        except CorpusError as exc:
            raise CorpusError(str(exc).replace(str(trial), str(corpus_dir)), file=exc.file) from exc


def _apply(settings: Settings, planned: Planned, *, embedder: Any, progress: Progress | None) -> BuildReport:
    """Write a checked change into the corpus and rebuild; on any failure the corpus is put back."""
    from assistant.service import Assistant

    corpus = settings.corpus_path
    manifest = corpus / MANIFEST
    before = manifest.read_bytes() if manifest.exists() else None
    old = (corpus / planned.replaces).read_bytes() if planned.replaces else b""
    try:
        planned.write_into(corpus)
        kwargs = {"progress": progress} if progress else {}
        return Assistant.ingest(settings, embedder=embedder, **kwargs)
    except BaseException:
        (corpus / planned.filename).unlink(missing_ok=True)
        if planned.replaces:
            (corpus / planned.replaces).write_bytes(old)
        if before is None:
            manifest.unlink(missing_ok=True)
        else:
            manifest.write_bytes(before)
        raise


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
    # One corpus change at a time: two uploads at once must not interleave manifest writes.
    with file_lock(settings.index_path, CORPUS_LOCK):
        planned = plan_addition(settings.corpus_path, filename, data, fields)
        return _apply(settings, planned, embedder=embedder, progress=progress)


# -- a draft: what a corpus change would do, before it is published ---------------------------


class CorpusChange(Protocol):
    """A staff change to one document's file that is previewed as a draft, then published.

    ``plan`` checks it against the corpus as it is and works it out in full (``Planned``), writing
    nothing; ``publish`` makes it for real (``add_document``, ``replace_document``), which plans it
    again under the corpus lock, so a draft published later still passes every check.
    """

    kind: ClassVar[str]  # the audit log's action: UPLOAD or REPLACE
    filename: str  # as uploaded

    def plan(self, corpus_dir: Path) -> Planned: ...

    def publish(
        self, settings: Settings, *, embedder: Any = None, progress: Progress | None = None, by: Actor | None = None
    ) -> BuildReport: ...


@dataclass(frozen=True)
class Addition:
    """A new document: its file and its manifest fields (see ``add_document``)."""

    kind: ClassVar[str] = UPLOAD
    filename: str
    data: bytes = field(repr=False)
    fields: dict[str, Any]

    def plan(self, corpus_dir: Path) -> Planned:
        return plan_addition(corpus_dir, self.filename, self.data, self.fields)

    def publish(
        self, settings: Settings, *, embedder: Any = None, progress: Progress | None = None, by: Actor | None = None
    ) -> BuildReport:
        return add_document(settings, self.filename, self.data, self.fields, embedder=embedder, progress=progress,
                            by=by)


@dataclass(frozen=True)
class Replacement:
    """A new file for the document ``document_id``, keeping its manifest entry (see ``replace_document``)."""

    kind: ClassVar[str] = REPLACE
    document_id: str
    filename: str
    data: bytes = field(repr=False)

    def plan(self, corpus_dir: Path) -> Planned:
        return plan_replacement(corpus_dir, self.document_id, self.filename, self.data)

    def publish(
        self, settings: Settings, *, embedder: Any = None, progress: Progress | None = None, by: Actor | None = None
    ) -> BuildReport:
        return replace_document(settings, self.document_id, self.filename, self.data, embedder=embedder,
                                progress=progress, by=by)


@dataclass(frozen=True)
class Passage:
    """One passage of a draft's comparison: its document, its id and its text as indexed."""

    document_id: str
    chunk_id: str
    text: str


@dataclass(frozen=True)
class Preview:
    """What publishing a change would do to the index: nothing is written until it is published.

    Passages are compared by document and position: one whose id is new is ``new``, one whose id
    is gone is ``removed``, one whose text differs is ``changed`` (as (before, after)).
    ``quarantined`` are the new file's own passages and hidden parts kept out of the index.
    ``filename`` and ``entry`` are the file and manifest entry as they would be written;
    ``replaces`` the file they take the place of ("" for a new document).
    """

    change: CorpusChange
    filename: str
    entry: dict[str, Any]
    replaces: str = ""
    new: list[Passage] = field(default_factory=list)
    changed: list[tuple[Passage, Passage]] = field(default_factory=list)
    removed: list[Passage] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)


def preview(
    settings: Settings, change: CorpusChange, *, embedder: Any = None, progress: Progress | None = None
) -> Preview:
    """Check a change exactly as publishing it would and say what it would do to the index; write nothing.

    The change is planned with publishing's own checks (``change.plan``, which also loads the new
    file in a trial copy). Under the corpus lock (never half-way through another change) the
    corpus is copied as it is; a second copy gets the change written in; both are read, screened
    and chunked and their passages compared. Vectors come from the index's embedding cache, so
    only the new file's texts are embedded (and publishing then finds them there). The corpus,
    its manifest and the index in service are not touched. Raises CorpusError with the reason,
    as publishing would.
    """
    corpus = settings.corpus_path
    embedder = embedder or make_embedder(settings)
    with tempfile.TemporaryDirectory(prefix="corpus-draft-") as tmp:
        as_is, changed = Path(tmp) / "as-is", Path(tmp) / "changed"
        with file_lock(settings.index_path, CORPUS_LOCK):
            planned = change.plan(corpus)
            shutil.copytree(corpus, as_is)
        shutil.copytree(as_is, changed)
        planned.write_into(changed)
        with index_cache(settings, embedder) as cache:
            before = prepare(settings.model_copy(update={"corpus_dir": as_is}), embedder, "", skip_bad=True,
                             cache=cache)
            after = prepare(settings.model_copy(update={"corpus_dir": changed}), embedder, "", skip_bad=True,
                            progress=progress or no_progress, cache=cache)
    new, altered, removed = _compare(before, after)
    own = [q for q in after.quarantined if q.file == planned.filename]
    return Preview(change, planned.filename, planned.entry, planned.replaces, new, altered, removed, own)


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


def _manifest_text(corpus_dir: Path) -> str:
    """The manifest's text exactly as written (line endings kept), "" if there is none yet."""
    manifest = corpus_dir / MANIFEST
    return manifest.read_bytes().decode("utf-8") if manifest.exists() else ""


def _appended(text: str, block: str) -> str:
    """The manifest text with one more entry at the end, a blank line before it."""
    if text and not text.endswith("\n"):
        text += "\n"
    return f"{text}\n{block}" if text else block


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
    with file_lock(settings.index_path, CORPUS_LOCK):
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
    corpus = settings.corpus_path
    with file_lock(settings.index_path, CORPUS_LOCK):
        planned = plan_replacement(corpus, doc_id, filename, data)
        files = {planned.replaces: (corpus / planned.replaces).read_bytes(), MANIFEST: (corpus / MANIFEST).read_bytes()}
        _keep_copy(settings, doc_id, files)
        return _apply(settings, planned, embedder=embedder, progress=progress)
