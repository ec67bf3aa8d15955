"""Loading and validating a question file: every problem names the case and the field."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from assistant.errors import QuestionFileError

EXPECTS = ("answered", "not_found", "off_topic", "safeguarding")
AUDIENCES = ("care_leaver", "staff")


@dataclass(frozen=True)
class Gold:
    document: str
    quote: str
    section: str = ""


@dataclass(frozen=True)
class Case:
    id: str
    category: str
    question: str
    audience: str
    expect: str
    gold: tuple[Gold, ...] = ()
    facts: tuple[str, ...] = ()
    history: tuple[str, ...] = field(default_factory=tuple)


def load_cases(path: Path) -> list[Case]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise QuestionFileError(f"{path} could not be read as YAML: {exc}") from exc
    if not isinstance(data, list) or not data:
        raise QuestionFileError(f"{path} must be a YAML list of cases.")
    cases, seen = [], set()
    for number, raw in enumerate(data, 1):
        where = f"{path.name} case {number}"
        if not isinstance(raw, dict):
            raise QuestionFileError(f"{where} is not a mapping of fields.")
        if isinstance(raw.get("id"), str):
            where = f"{path.name} case '{raw['id']}'"
        for name in ("id", "question", "expect"):
            if not isinstance(raw.get(name), str) or not raw[name].strip():
                raise QuestionFileError(f"{where}: field '{name}' is required text.")
        if raw["id"] in seen:
            raise QuestionFileError(f"{where}: field 'id' repeats an earlier case.")
        seen.add(raw["id"])
        if raw["expect"] not in EXPECTS:
            raise QuestionFileError(f"{where}: field 'expect' must be one of {', '.join(EXPECTS)}.")
        audience = raw.get("audience", "care_leaver")
        if audience not in AUDIENCES:
            raise QuestionFileError(f"{where}: field 'audience' must be one of {', '.join(AUDIENCES)}.")
        gold = raw.get("gold") or []
        well_formed = isinstance(gold, list) and all(
            isinstance(g, dict) and "document" in g and "quote" in g for g in gold
        )
        if not well_formed:
            raise QuestionFileError(f"{where}: field 'gold' must be a list of {{document, quote}}.")
        if raw["expect"] == "answered" and not gold:
            raise QuestionFileError(f"{where}: field 'gold' is required when expect is 'answered'.")
        facts = raw.get("facts") or []
        history = raw.get("history") or []
        if not isinstance(facts, list) or not all(isinstance(f, str) for f in facts):
            raise QuestionFileError(f"{where}: field 'facts' must be a list of strings.")
        if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
            raise QuestionFileError(f"{where}: field 'history' must be a list of earlier user messages.")
        cases.append(
            Case(
                id=raw["id"], category=str(raw.get("category", "general")), question=raw["question"],
                audience=audience, expect=raw["expect"],
                gold=tuple(Gold(g["document"], g["quote"], g.get("section", "")) for g in gold),
                facts=tuple(facts), history=tuple(history),
            )
        )
    return cases
