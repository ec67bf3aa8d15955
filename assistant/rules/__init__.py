"""Behaviour as data: the phrase cues and word lists that decide what a message means.

The defaults ship as package data (``rules/data/rules.toml``). A council's corpus folder may
hold a ``rules.toml`` of the same shape: its cues and words are added to the defaults. Both
are validated and compiled once into a frozen :class:`Rules`; a pattern that does not compile,
or an entry of the wrong shape, is a :class:`~assistant.errors.ConfigError` naming the file
and the entry. Each cue's ``examples`` (and each set's ``not_examples``) are checked by
``tests/test_rules.py``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from assistant.errors import ConfigError

RULES_FILE = "rules.toml"
CUE_SETS = (
    "safeguarding", "safeguarding_topic", "distress", "instructions", "document_instructions", "off_topic",
    "past", "present",
    "ask_contact", "ask_percent", "ask_count", "ask_money", "ask_how_much", "ask_quantity", "ask_rate",
    "ask_clock", "ask_frequency", "ask_duration", "ask_date", "ask_time", "second_ask",
    "follow_start", "refers_back", "new_topic", "which_time",
    "what_changed", "both_documents", "current_document", "change_time",
    "thing_ask", "role_ask", "thing_end", "thing_filler", "kind_words",
    "yes_no_ask", "obligation_ask", "says_yes", "says_no", "says_depends", "definition_ask",
)


@dataclass(frozen=True)
class Cue:
    """One pattern, with the messages it must match."""

    pattern: str
    examples: tuple[str, ...] = ()
    group: str = ""


@dataclass(frozen=True)
class CueSet:
    """Cues that mean one thing; a message means it when any cue matches."""

    name: str
    cues: tuple[Cue, ...]
    not_examples: tuple[str, ...] = ()

    @property
    def regex(self) -> re.Pattern[str]:
        return _compiled(self.name, tuple(c.pattern for c in self.cues))

    def search(self, text: str) -> bool:
        if self.named_groups:  # one group name in several cues: they cannot be one pattern
            return bool(self.matches(text))
        return bool(self.cues) and bool(self.regex.search(text))

    @property
    def named_groups(self) -> bool:
        return any("(?P<" in c.pattern for c in self.cues)

    def fullmatch(self, text: str) -> bool:
        return bool(self.cues) and bool(self.regex.fullmatch(text))

    def sub(self, replacement: str, text: str) -> str:
        return self.regex.sub(replacement, text) if self.cues else text

    def split(self, text: str) -> str:
        """The text up to the first match (all of it if none)."""
        return self.regex.split(text, maxsplit=1)[0] if self.cues else text

    def first_group(self, text: str) -> str | None:
        """The group of the first cue that matches ("" for a cue without one), None if none does."""
        if not self.search(text):  # the one compiled pattern first: most messages match no cue
            return None
        return next((c.group for c in self.cues if re.search(c.pattern, text, re.IGNORECASE)), "")

    def matches(self, text: str) -> list[re.Match[str]]:
        """Each cue's match, in the cues' order (for cues with named groups)."""
        found = (_compiled(self.name, (c.pattern,)).search(text) for c in self.cues)
        return [m for m in found if m]


@lru_cache(maxsize=64)
def _compiled(name: str, patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


@dataclass(frozen=True)
class Rules:
    """Every cue set and word list, compiled."""

    safeguarding: CueSet
    safeguarding_topic: CueSet  # names a danger, says no one is in it: the meaning decides crisis or near
    distress: CueSet  # not a crisis, but not OK: the 24/7 lines lead the reply
    instructions: CueSet
    document_instructions: CueSet  # instructions to an assistant inside a document (ingest.quarantine)
    off_topic: CueSet
    past: CueSet
    present: CueSet
    ask_contact: CueSet
    ask_percent: CueSet
    ask_count: CueSet
    ask_money: CueSet
    ask_how_much: CueSet
    ask_quantity: CueSet
    ask_rate: CueSet
    ask_clock: CueSet
    ask_frequency: CueSet
    ask_duration: CueSet
    ask_date: CueSet
    ask_time: CueSet
    second_ask: CueSet
    follow_start: CueSet
    refers_back: CueSet
    new_topic: CueSet
    which_time: CueSet
    what_changed: CueSet
    both_documents: CueSet
    current_document: CueSet
    change_time: CueSet
    thing_ask: CueSet
    role_ask: CueSet
    thing_end: CueSet
    thing_filler: CueSet
    kind_words: CueSet
    yes_no_ask: CueSet
    definition_ask: CueSet
    obligation_ask: CueSet
    says_yes: CueSet
    says_no: CueSet
    says_depends: CueSet
    domain_words: frozenset[str]
    messages: Messages
    question_words: frozenset[str]
    discourse_words: frozenset[str]
    sources: tuple[str, ...] = ()  # the files read, defaults first


@dataclass(frozen=True)
class Messages:
    """Every sentence the assistant says when it does not answer from the documents."""

    texts: dict[str, str]
    not_covered: dict[str, str]

    def say(self, name: str, **values: str) -> str:
        return self.texts[name].format(**values)


def load_rules(council_folder: Path | None = None) -> Rules:
    """The default rules, extended by ``council_folder/rules.toml`` when there is one."""
    default = resources.files("assistant.rules").joinpath("data", RULES_FILE)
    layers = [(f"the package's {RULES_FILE}", tomllib.loads(default.read_text(encoding="utf-8")))]
    if council_folder is not None and (council_folder / RULES_FILE).is_file():
        path = council_folder / RULES_FILE
        try:
            layers.append((str(path), tomllib.loads(path.read_text(encoding="utf-8"))))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path} could not be read as TOML ({exc}). Fix the file or remove it.") from exc
    sets: dict[str, CueSet] = {}
    for name in CUE_SETS:
        cues: list[Cue] = []
        not_examples: list[str] = []
        for where, data in layers:
            section = _table(data.get(name, {}), where, name)
            not_examples += _texts(section.get("not_examples", []), where, f"{name}.not_examples")
            for number, raw in enumerate(section.get("cue", []), 1):
                cues.append(_cue(raw, where, f"{name}.cue {number}"))
        sets[name] = CueSet(name, tuple(cues), tuple(not_examples))
    words: set[str] = set()
    for where, data in layers:
        text = _table(data.get("domain", {}), where, "domain").get("words", "")
        if not isinstance(text, str):
            raise ConfigError(f"In {where}, domain.words must be text: words separated by spaces.")
        words |= set(text.lower().split())
    lists = {name: set() for name in ("question", "discourse")}
    for where, data in layers:
        for name, text in _table(data.get("words", {}), where, "words").items():
            if name not in lists or not isinstance(text, str):
                raise ConfigError(f"In {where}, words.{name} must be one of {', '.join(lists)}, as text.")
            lists[name] |= set(text.lower().split())
    return Rules(**sets, domain_words=frozenset(words), messages=_messages(layers),
                 question_words=frozenset(lists["question"]), discourse_words=frozenset(lists["discourse"]),
                 sources=tuple(w for w, _ in layers))


# The values a message template may use, with a sample for checking it.
_TEMPLATE_VALUES = {"council_name": "Camden Council", "advice_contact": "your PA", "what": "this"}


def _messages(layers: list[tuple[str, dict[str, Any]]]) -> Messages:
    """The default messages, each replaced by a council's own where it gives one."""
    texts: dict[str, str] = {}
    covered: dict[str, str] = {}
    for number, (where, data) in enumerate(layers):
        section = _table(data.get("messages", {}), where, "messages")
        for name, value in section.items():
            if name == "not_covered":
                for kind, phrase in _table(value, where, "messages.not_covered").items():
                    if number and kind not in covered:
                        raise ConfigError(f"In {where}, messages.not_covered.{kind} is not a kind of fact; "
                                          f"use one of {', '.join(sorted(covered))}.")
                    covered[kind] = _message(phrase, where, f"messages.not_covered.{kind}")
                continue
            if number and name not in texts:
                raise ConfigError(f"In {where}, messages.{name} is not a message the assistant says; "
                                  f"use one of {', '.join(sorted(texts))}.")
            texts[name] = _message(value, where, f"messages.{name}")
    return Messages(texts, covered)


def _message(value: Any, where: str, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"In {where}, {name} must be text in quotes.")
    try:
        value.format(**_TEMPLATE_VALUES)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(
            f"In {where}, {name} uses a placeholder that does not exist ({exc}); "
            f"it may use {', '.join('{' + k + '}' for k in _TEMPLATE_VALUES)}."
        ) from exc
    return value


@lru_cache(maxsize=1)
def default_rules() -> Rules:
    """The shipped rules alone (what a caller without a council folder gets)."""
    return load_rules(None)


def _table(value: Any, where: str, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"In {where}, [{name}] must be a table.")
    return value


def _texts(value: Any, where: str, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"In {where}, {name} must be a list of messages in quotes.")
    return value


def _cue(raw: Any, where: str, name: str) -> Cue:
    if not isinstance(raw, dict) or not isinstance(raw.get("pattern"), str) or not raw["pattern"].strip():
        raise ConfigError(f"In {where}, {name} needs a pattern: pattern = '''…'''.")
    try:
        re.compile(raw["pattern"], re.IGNORECASE)
    except re.error as exc:
        raise ConfigError(
            f"In {where}, {name} has a pattern that is not a valid regular expression ({exc}): "
            f"{raw['pattern']!r}."
        ) from exc
    examples = _texts(raw.get("examples", []), where, f"{name} examples")
    if not examples:
        raise ConfigError(f"In {where}, {name} needs examples: messages its pattern must match.")
    return Cue(raw["pattern"], tuple(examples), str(raw.get("group", "")))


__all__ = ["RULES_FILE", "Cue", "CueSet", "Messages", "Rules", "default_rules", "load_rules"]
