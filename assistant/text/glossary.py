"""The corpus glossary: acronyms to explain, and everyday words to expand queries with.

It is a data file (``corpus/glossary.toml``) that a council edits; this module
only reads it and applies it, with no I/O in the functions that apply it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from assistant.errors import CorpusError

GLOSSARY_FILE = "glossary.toml"
_WORD = re.compile(r"[A-Za-z][A-Za-z'’&/-]*")


@dataclass(frozen=True)
class Glossary:
    acronyms: dict[str, str] = field(default_factory=dict)
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def expansions(self, text: str) -> list[str]:
        """Words to add to a query: acronym meanings and synonyms of the words used."""
        found: list[str] = []
        lowered = f" {normalise(text)} "
        for token in _WORD.findall(text):
            meaning = self.acronyms.get(token) or self.acronyms.get(token.upper())
            if meaning and (token.isupper() or len(token) > 3):
                found.append(meaning)
        for key, values in self.synonyms.items():
            if f" {key} " in lowered:
                found.extend(values)
        # Keep order, drop repeats and words already in the question.
        seen: set[str] = set()
        out = []
        for item in found:
            k = item.lower()
            if k not in seen and f" {k} " not in lowered:
                seen.add(k)
                out.append(item)
        return out

    def acronyms_in(self, text: str) -> list[str]:
        """Acronyms used in ``text``, in order of first appearance (case-sensitive)."""
        seen: list[str] = []
        for token in re.findall(r"\b[A-Z][A-Za-z]*[A-Z]s?\b|\bPA\b", text):
            base = token[:-1] if token.endswith("s") and token[:-1] in self.acronyms else token
            if base in self.acronyms and base not in seen:
                seen.append(base)
        return seen


def normalise(text: str) -> str:
    """Lower-case words separated by single spaces (for phrase matching)."""
    return " ".join(re.findall(r"[a-z0-9£%]+(?:'[a-z]+)?", text.lower()))


def load_glossary(corpus_dir: Path) -> Glossary:
    """The package's glossary of national terms, extended by ``glossary.toml`` in the corpus folder
    (the council's word wins where both give one)."""
    package = _read(resources.files("assistant.text").joinpath("data", GLOSSARY_FILE).read_text(encoding="utf-8"),
                    f"the package's {GLOSSARY_FILE}")
    path = corpus_dir / GLOSSARY_FILE
    if not path.exists():
        return package
    try:
        own = _read(path.read_text(encoding="utf-8"), str(path))
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path} is not valid TOML: {exc}", file=GLOSSARY_FILE) from exc
    return Glossary({**package.acronyms, **own.acronyms}, {**package.synonyms, **own.synonyms})


def _read(source: str, path: str) -> Glossary:
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        raise CorpusError(f"{path} is not valid TOML: {exc}", file=GLOSSARY_FILE) from exc
    acronyms = data.get("acronyms", {})
    synonyms = data.get("synonyms", {})
    if not isinstance(acronyms, dict) or not all(isinstance(v, str) for v in acronyms.values()):
        raise CorpusError(f"{path}: [acronyms] must map each acronym to a string.", file=GLOSSARY_FILE)
    if not isinstance(synonyms, dict) or not all(
        isinstance(v, list) and all(isinstance(x, str) for x in v) for v in synonyms.values()
    ):
        raise CorpusError(f"{path}: [synonyms] must map each word to a list of strings.", file=GLOSSARY_FILE)
    return Glossary(
        acronyms=dict(acronyms),
        synonyms={normalise(k): tuple(v) for k, v in synonyms.items()},
    )
