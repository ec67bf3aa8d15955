"""The ``ingest_precision`` setting: a build may store bf16 vectors, questions stay fp32.

Real models and real builds: the bundled model in bf16 against fp32 on texts of every shape, and
the embedding cache keeping the two precisions apart.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant
from assistant.config import load_settings
from assistant.embed import CACHE_FOLDER, make_embedder
from assistant.embed.local import LocalEmbeddings
from assistant.embed.precision import ingest_precision, native_bf16
from assistant.errors import ConfigError

ADVISER = "Your personal adviser helps with housing, money, education and your pathway plan. "
TEXTS = [
    "What money can I get for uni?",
    "EET",
    "",
    "Corporate Parenting Strategy 2025\u201328 \u2014 Measures of success\nBeing independent\t52%\t60%",
    "Caf\u00e9 na\u00efve \u2013 \u00a32,000 \u201csetting up home\u201d allowance \U0001f600",
    ADVISER * 30,  # past the model's 256 word pieces
    *(f"{ADVISER} Part {n}: council tax, rent deposits and the setting up home allowance." for n in range(20)),
]


@pytest.fixture(scope="module")
def bf16() -> LocalEmbeddings:
    return LocalEmbeddings(runtime="onnx", precision="bf16")


@pytest.fixture(scope="module")
def fp32() -> LocalEmbeddings:
    return LocalEmbeddings(runtime="onnx", precision="fp32")


def _cosines(a, b) -> np.ndarray:
    a, b = np.asarray(a), np.asarray(b)
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_a_build_in_bf16_stores_vectors_that_agree_with_fp32(bf16, fp32):
    stored, exact = bf16.embed_bulk(TEXTS), fp32.embed_documents(TEXTS)
    assert _cosines(stored, exact).min() >= 0.9995
    assert not np.array_equal(np.asarray(stored), np.asarray(exact))  # really computed in bf16
    assert np.allclose(np.linalg.norm(stored, axis=1), 1.0, atol=1e-5)  # still unit vectors, in float32


@pytest.mark.parametrize("precision", ["bf16", "fp32"])
def test_a_texts_stored_vector_is_the_same_whatever_it_is_embedded_with(bf16, fp32, precision):
    model = {"bf16": bf16, "fp32": fp32}[precision]
    together = np.asarray(model.embed_bulk(TEXTS))
    # alone, in reverse order, and among other texts: a rebuild embeds only what is new
    alone = np.asarray([model.embed_bulk([text])[0] for text in TEXTS[:6]])
    reverse = np.asarray(model.embed_bulk(TEXTS[::-1]))[::-1]
    among = np.asarray(model.embed_bulk([*TEXTS[6:], "Staying Put means you stay with your foster carer."]))[:-1]
    assert np.array_equal(alone, together[:6])
    assert np.array_equal(reverse, together)
    assert np.array_equal(among, together[6:])


def test_questions_and_small_batches_stay_fp32_whatever_the_setting(bf16, fp32):
    assert np.array_equal(bf16.embed_query("how much is the uni bursary"), fp32.embed_query("how much is the uni bursary"))
    assert np.array_equal(np.asarray(bf16.embed_documents(TEXTS[:3])), np.asarray(fp32.embed_documents(TEXTS[:3])))


def test_in_fp32_a_build_stores_exactly_the_documents_vectors(fp32):
    assert fp32.precision == "fp32"
    assert np.array_equal(np.asarray(fp32.embed_bulk(TEXTS)), np.asarray(fp32.embed_documents(TEXTS)))


def test_the_precision_is_part_of_the_fingerprint_of_stored_vectors(bf16, fp32, embedder):
    assert bf16.fingerprint != fp32.fingerprint
    assert embedder.fingerprint == (bf16 if embedder.precision == "bf16" else fp32).fingerprint


def test_automatic_takes_bf16_only_where_the_cpu_computes_it(tmp_path: Path):
    with_bf16, without, elsewhere = tmp_path / "a", tmp_path / "b", tmp_path / "missing"
    with_bf16.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx512f avx512_bf16 avx512_vnni\n\n", encoding="utf-8")
    without.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f\nbugs\t\t: spectre_v1\n", encoding="utf-8")
    assert ingest_precision("auto", with_bf16) == "bf16" and native_bf16(with_bf16)
    assert ingest_precision("auto", without) == "fp32"
    assert ingest_precision("auto", elsewhere) == "fp32"  # no /proc/cpuinfo: fp32, never a guess
    assert ingest_precision("bf16", without) == "bf16" and ingest_precision("fp32", with_bf16) == "fp32"
    with pytest.raises(ConfigError, match="ingest_precision is 'half'"):
        ingest_precision("half")


def test_a_wrong_setting_says_which_values_it_takes():
    with pytest.raises(ConfigError, match=r"ingest_precision.*'auto', 'bf16' or 'fp32'"):
        load_settings(ingest_precision="fp16")


def test_switching_precision_never_serves_the_other_precisions_vectors(small_settings):
    built = {}
    for precision in ("fp32", "bf16", "fp32"):
        settings = small_settings.model_copy(update={"ingest_precision": precision})
        report = Assistant.ingest(settings, embedder=make_embedder(settings))
        built.setdefault(precision, []).append((report.cached, report.embedded))
    (first_fp32, again_fp32), (first_bf16,) = built["fp32"], built["bf16"]
    assert first_fp32[0] == 0 and first_bf16[0] == 0  # the bf16 build took nothing from the fp32 one
    assert again_fp32[1] == 0 and again_fp32[0] > 0  # and the fp32 one was kept for switching back
    assert len(list((small_settings.index_path / CACHE_FOLDER).glob("*.npz"))) == 2

