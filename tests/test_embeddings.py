"""The embedding model: plain BERT models run directly, with sentence-transformers' vectors.

``LocalEmbeddings`` runs the bundled all-MiniLM-L6-v2 without importing sentence-transformers
(for a fast cold start); the index and every retrieval result depend on its vectors being the
ones sentence-transformers computes, so these tests compare the two on the real model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import PROJECT_ROOT

from assistant.embed.local import (
    LocalEmbeddings,
    SentenceTransformerEncoder,
    plain_bert_config,
    resolve_model,
)
from assistant.errors import ConfigError

BUNDLED = Path(resolve_model("bundled:all-MiniLM-L6-v2"))
ADVISER = "Your personal adviser helps with housing, money, education and your pathway plan. "
LONG = ADVISER * 30  # about 500 word pieces: more than the model's 256
TEXTS = [
    "What money can I get for uni?",
    "EET",
    "",
    "   staying put   ",
    "Corporate Parenting Strategy 2025\u201328 \u2014 Measures of success\n"
    "Being independent\t52%\t60%",
    "Caf\u00e9 na\u00efve \u2013 \u00a32,000 \u201csetting up home\u201d allowance \U0001f600",
    LONG,
    ADVISER,
]


@pytest.fixture(scope="module")
def reference() -> SentenceTransformerEncoder:
    """sentence-transformers itself, on the same folder."""
    return SentenceTransformerEncoder(str(BUNDLED))


@pytest.fixture(scope="module")
def torch_embedder() -> LocalEmbeddings:
    return LocalEmbeddings(runtime="torch")


@pytest.fixture(params=["onnx", "torch"])
def runtime_embedder(request, embedder, torch_embedder) -> LocalEmbeddings:
    """The bundled model in each runtime (``embedder`` is the default, onnx)."""
    chosen = embedder if request.param == "onnx" else torch_embedder
    assert chosen.runtime == request.param
    return chosen


def test_bundled_model_runs_without_sentence_transformers(embedder: LocalEmbeddings) -> None:
    """The bundled model takes the direct path (cold start, issue #3)."""
    assert embedder.backend == "bert-mean"
    assert embedder.max_tokens == 256


def test_vectors_match_sentence_transformers(runtime_embedder: LocalEmbeddings, reference) -> None:
    """Documents and queries get sentence-transformers' vectors, so an index built by either
    serves the other and retrieval does not change."""
    expected = reference.encode(TEXTS, 64)
    documents = np.asarray(runtime_embedder.embed_documents(TEXTS))
    queries = np.asarray([runtime_embedder.embed_query(text) for text in TEXTS])
    assert documents.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(documents, expected, atol=1e-5)
    np.testing.assert_allclose(queries, expected, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(documents, axis=1), 1.0, atol=1e-5)


def test_small_batches_give_the_same_vectors(runtime_embedder: LocalEmbeddings) -> None:
    """Padding a text next to longer ones does not change its vector."""
    alone = np.asarray([runtime_embedder.embed_documents([text])[0] for text in TEXTS])
    together = np.asarray(runtime_embedder.embed_documents(TEXTS))
    np.testing.assert_allclose(alone, together, atol=1e-5)


def test_long_text_is_cut_at_max_seq_length(runtime_embedder: LocalEmbeddings, reference) -> None:
    """A text longer than 256 word pieces is read up to the 256th, as sentence-transformers does:
    what comes after it changes nothing."""
    assert runtime_embedder.count_tokens(LONG) > runtime_embedder.max_tokens
    cut, longer = runtime_embedder.embed_documents([LONG, LONG + "Rent deposits and council tax."])
    np.testing.assert_allclose(cut, longer, atol=1e-6)
    np.testing.assert_allclose(cut, reference.encode([LONG], 1)[0], atol=1e-5)


def test_count_tokens_is_the_model_tokenizer(embedder: LocalEmbeddings, reference) -> None:
    """Chunking measures with the model's word pieces, special tokens included, never cut."""
    for text in TEXTS:
        assert embedder.count_tokens(text) == reference.count_tokens(text)
    assert embedder.count_tokens("") == 2  # [CLS] [SEP]


def _model_copy(folder: Path, changes: dict[str, object]) -> Path:
    """The bundled model's files linked into ``folder``; ``changes`` replaces some files (a
    value to write as JSON) or leaves them out (None)."""
    for source in BUNDLED.rglob("*"):
        if source.is_file():
            target = folder / source.relative_to(BUNDLED)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(source)
    for name, content in changes.items():
        (folder / name).unlink(missing_ok=True)
        if content is not None:
            (folder / name).write_text(json.dumps(content), encoding="utf-8")
    return folder


def _json(name: str) -> dict:
    return json.loads((BUNDLED / name).read_text(encoding="utf-8"))


POOLING = "1_Pooling/config.json"
CLS = {**_json(POOLING), "pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}
DENSE = {"idx": 3, "name": "3", "path": "3_Dense", "type": "sentence_transformers.models.Dense"}
UNSUPPORTED = {
    "cls": {POOLING: CLS},
    "mean+max": {POOLING: {**_json(POOLING), "pooling_mode_max_tokens": True}},
    "lasttoken": {POOLING: {"word_embedding_dimension": 384, "pooling_mode": "lasttoken"}},
    "dense": {"modules.json": [*_json("modules.json"), DENSE]},
    "lowercase": {"sentence_bert_config.json": {"max_seq_length": 256, "do_lower_case": True}},
    "no-length": {"sentence_bert_config.json": {"do_lower_case": False}},
    "prompt": {
        "config_sentence_transformers.json": {
            "prompts": {"query": "query: "},
            "default_prompt_name": "query",
        }
    },
    "gelu_new": {"config.json": {**_json("config.json"), "hidden_act": "gelu_new"}},
    "roberta": {"config.json": {**_json("config.json"), "model_type": "roberta"}},
    "no-tokenizer.json": {"tokenizer.json": None},
    "no-safetensors": {"model.safetensors": None},
}


@pytest.mark.parametrize("changes", UNSUPPORTED.values(), ids=UNSUPPORTED.keys())
def test_other_models_are_not_run_directly(tmp_path: Path, changes: dict[str, object]) -> None:
    """Anything the direct path would not compute exactly is left to sentence-transformers."""
    assert plain_bert_config(_model_copy(tmp_path / "model", changes)) is None


def test_an_unchanged_copy_is_run_directly(tmp_path: Path) -> None:
    """The checks above fail for the change made, not for the copy."""
    assert plain_bert_config(_model_copy(tmp_path / "model", {})) is not None


def test_bundled_model_config_is_supported() -> None:
    config = plain_bert_config(BUNDLED)
    assert config is not None
    assert config["max_seq_length"] == 256
    assert config["num_hidden_layers"] == 6


def test_unsupported_folder_loads_with_sentence_transformers(tmp_path: Path) -> None:
    """A model the direct path declines still works (through sentence-transformers)."""
    model = LocalEmbeddings(str(_model_copy(tmp_path / "model", {POOLING: CLS})))
    assert model.backend == "sentence-transformers"
    assert len(model.embed_query("housing")) == 384
    assert model.count_tokens("housing") == 3


def test_missing_model_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"Could not load the embedding model .*ASSISTANT_EMBEDDING_MODEL"
    ):
        LocalEmbeddings(str(tmp_path / "no-such-model"))


def test_loading_the_bundled_model_imports_no_heavy_libraries(embedder) -> None:
    """Cold start (issue #3): sentence-transformers, transformers and what they pull in
    (scikit-learn, SciPy, pandas) cost seconds and are not needed for the bundled model; once
    exported (``embedder`` has been), the onnx runtime does not import torch either."""
    code = (
        "import sys\n"
        "from assistant.embed.local import LocalEmbeddings\n"
        "e = LocalEmbeddings(runtime='onnx')\n"
        "e.embed_query('housing'); e.count_tokens('housing')\n"
        "heavy = {'sentence_transformers', 'transformers', 'sklearn', 'scipy', 'pandas', 'torch'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "[]"


# -- the onnx runtime: exported once, checked, never used when it disagrees ----------------


def _exports(cache: Path) -> list[Path]:
    return sorted((cache / "models").glob("*.onnx"))


def test_the_export_is_made_once_and_reused(tmp_path: Path, embedder) -> None:
    first = LocalEmbeddings(runtime="onnx", cache_dir=tmp_path)
    [export] = _exports(tmp_path)
    made = export.stat().st_mtime_ns
    again = LocalEmbeddings(runtime="onnx", cache_dir=tmp_path)
    assert _exports(tmp_path) == [export] and export.stat().st_mtime_ns == made
    assert again.runtime == first.runtime == "onnx"
    np.testing.assert_allclose(again.embed_documents(TEXTS), embedder.embed_documents(TEXTS), atol=1e-6)
    assert first.fingerprint == LocalEmbeddings(runtime="torch").fingerprint  # one embedding cache


def test_an_export_that_disagrees_with_torch_is_never_used(tmp_path: Path, monkeypatch, caplog) -> None:
    """The check at export compares with torch; a failed check leaves no file and runs torch."""
    from assistant.embed import onnx

    monkeypatch.setattr(onnx, "MIN_COSINE", 1.5)  # no export can pass: as if it gave other vectors
    model = LocalEmbeddings(runtime="onnx", cache_dir=tmp_path)
    assert model.runtime == "torch"
    assert _exports(tmp_path) == [] and not list((tmp_path / "models").glob("*.part"))
    assert "other vectors than torch" in caplog.text and "Running the embedding model in torch" in caplog.text


def test_a_damaged_export_is_made_again(tmp_path: Path, embedder) -> None:
    LocalEmbeddings(runtime="onnx", cache_dir=tmp_path)
    [export] = _exports(tmp_path)
    export.write_bytes(b"not an onnx graph")
    model = LocalEmbeddings(runtime="onnx", cache_dir=tmp_path)
    assert model.runtime == "onnx" and export.stat().st_size > 1_000_000
    np.testing.assert_allclose(model.embed_documents(TEXTS), embedder.embed_documents(TEXTS), atol=1e-6)


def test_an_unknown_runtime_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="embedding_runtime is 'tpu'"):
        LocalEmbeddings(runtime="tpu")  # type: ignore[arg-type]


def test_a_few_documents_are_embedded_on_the_question_session() -> None:
    """Answering embeds a few texts at a time (what changed: a dozen statements); they run on the
    session questions use, so a server worker holds one copy of the weights. A batch of more
    than ``SMALL_BATCH`` (an ingest) gets its own session with more threads, and the same bits."""
    from assistant.embed.onnx import SMALL_BATCH

    model = LocalEmbeddings(runtime="onnx", ingest_threads=2)  # batches would use 2 threads, questions 1
    encoder = model._model
    assert (model.runtime, encoder.sessions, encoder.batch_threads) == ("onnx", 1, 2)
    few = (TEXTS * 2)[:SMALL_BATCH]
    vectors = np.asarray(model.embed_documents(few))
    assert encoder.sessions == 1
    np.testing.assert_allclose(vectors, [model.embed_query(t) for t in few], atol=1e-5)
    many = np.asarray(model.embed_documents([*few, "Rent deposits and council tax."]))
    assert encoder.sessions == 2
    np.testing.assert_allclose(many[:SMALL_BATCH], vectors, atol=1e-6)
    ids = np.asarray([[101, 2054, 2769, 2064, 1045, 2131, 2005, 4895, 2072, 102]], dtype=np.int64)
    mask = np.ones_like(ids, dtype=np.bool_)
    assert np.array_equal(encoder._run(ids, mask, batch=True), encoder._run(ids, mask, batch=False))


def test_the_question_cache_is_bounded_and_float32(embedder) -> None:
    """A worker keeps the last ``query_cache_size`` questions' vectors, as float32, and drops the
    least recently asked first; a cached vector is the one the model gives."""
    from assistant.config import Settings
    from assistant.embed import make_embedder

    model = make_embedder(Settings(query_cache_size=3))
    questions = [f"Can I get help with rent in month {n}?" for n in range(8)]
    vectors = [model.embed_query(q) for q in questions]
    cache = model._cached_query
    assert cache.cache_info().currsize == 3 and cache.cache_info().maxsize == 3
    kept = cache(questions[-1])
    assert kept.dtype == np.float32 and not kept.flags.writeable
    assert model.embed_query(questions[-1]) == vectors[-1]  # a hit gives the same floats
    misses = cache.cache_info().misses
    assert model.embed_query(questions[0]) == vectors[0]  # dropped long ago: embedded again
    assert cache.cache_info().misses == misses + 1
    np.testing.assert_array_equal(vectors[0], embedder.embed_query(questions[0]))
    assert make_embedder(Settings(query_cache_size=0))._cached_query.cache_info().maxsize == 0
