"""Index lifecycle: atomic rebuilds, stale fingerprints, bad files."""

from __future__ import annotations

import pytest

from assistant import Assistant, CorpusError
from assistant.index.folder import current_folder


def test_failed_ingest_leaves_the_previous_index_serving(small_settings, embedder):
    """An ingest that fails half-way must not replace or damage the index in service."""
    bot = Assistant.load(small_settings, embedder=embedder)
    before = current_folder(small_settings.index_path)
    (small_settings.corpus_path / "housing.md").write_text("# Housing\n\nNew text about tenancy support.\n")

    def fail_midway(stage: str, done: int, total: int) -> None:
        if stage == "Embedding sentences":
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        Assistant.ingest(small_settings, embedder=embedder, progress=fail_midway)
    assert current_folder(small_settings.index_path) == before
    assert len(list(small_settings.index_path.glob("build-*"))) == 1
    reloaded = Assistant(bot.settings, embedder, bot.index, bot.glossary)
    assert bot.search("rent deposits", k=1)[0].document_id == "doc-1"
    assert reloaded.index.folder == before


def test_stale_index_is_rebuilt_on_load(small_settings, embedder):
    first = Assistant.load(small_settings, embedder=embedder)
    assert "rent deposits" in first.search("rent deposit help", k=1)[0].text
    (small_settings.corpus_path / "housing.md").write_text("# Housing\n\nThe council offers tenancy sustainment workers.\n")
    second = Assistant.load(small_settings, embedder=embedder)
    assert second.index.folder != first.index.folder
    assert "tenancy sustainment" in second.search("tenancy support", k=1)[0].text


def test_up_to_date_index_is_reused(small_settings, embedder):
    first = Assistant.load(small_settings, embedder=embedder)
    second = Assistant.load(small_settings, embedder=embedder)
    assert second.index.folder == first.index.folder


def test_bad_file_fails_ingest_unless_skipped(small_settings, embedder):
    Assistant.load(small_settings, embedder=embedder)
    before = current_folder(small_settings.index_path)
    manifest = small_settings.corpus_path / "manifest.toml"
    (small_settings.corpus_path / "broken.pdf").write_bytes(b"garbage")
    manifest.write_text(
        manifest.read_text()
        + '\n[[documents]]\nid = "broken"\ntitle = "Broken 2025"\npublisher = "T"\npublished = 2025\n'
        'period = "2025"\nstatus = "current"\nkind = "guidance"\nsource_url = "https://example.org/b"\n'
        'file = "broken.pdf"\n'
    )
    with pytest.raises(CorpusError, match=r"broken\.pdf"):
        Assistant.ingest(small_settings, embedder=embedder)
    assert current_folder(small_settings.index_path) == before
    report = Assistant.ingest(small_settings, embedder=embedder, skip_bad=True)
    assert report.documents == 3 and any("broken.pdf" in s for s in report.skipped)


def test_chroma_never_uses_its_default_embedding_function(bot):
    """Our vectors are passed explicitly; the collection has no embedding function of its own."""
    collection = bot.index.collection
    assert collection._embedding_function is None
    assert collection.count() == bot.index.entries


def test_a_corpus_larger_than_one_chroma_batch_is_written_whole(tmp_path):
    """Chroma refuses one add() of more than ~5,000 records; a big council's corpus must still go in."""
    from assistant.index.base import chroma_client, write_passages
    from assistant.ingest.prepare import Prepared
    from assistant.types import Chunk

    n = 6000
    chunks = [Chunk(f"doc:{i}", "doc", "Section", None, i * 10, i * 10 + 9, "prose", "", ((i * 10, i * 10 + 9),))
              for i in range(n)]
    vectors = [[1.0, float(i % 7), 0.5, 0.0] for i in range(n)]
    prepared = Prepared(
        fingerprint="f", model="m", documents=[], skipped=[], texts={}, chunks=chunks,
        bodies=[f"passage {i}" for i in range(n)], vectors=vectors,
        sentences=[f"sentence {i}" for i in range(n)], owners=[(i, 0) for i in range(n)],
        sentence_vectors=vectors,
    )
    client = chroma_client(tmp_path / "chroma")
    steps = write_passages(client, "passages", None, prepared, lambda *a: None, steps_after=0)
    assert steps > 2  # written in several batches
    assert client.get_collection("passages", embedding_function=None).count() == 2 * n
