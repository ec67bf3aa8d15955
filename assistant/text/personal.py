"""Pure: does a redacted text still hold something that could point at a person?

Redaction (``text/redact.py``) replaces what it recognises. What it misses must not be kept:
the gap report (``assistant/gaps.py``) stores a question's words only when :func:`looks_personal`
says nothing personal-looking is left. It errs towards yes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# What redaction may have missed. An example is kept only if nothing in it could point at a
# person: an email or web address (obfuscated ones too: "name at hotmail dot com"), a date, a
# long number (a phone, an account, a case number; a year, a period or an amount is fine), a
# house or flat number, a postcode district, words that introduce a name or an address, a
# person's name from the census name lists (unless the documents use the word), or a word that is
# neither the documents' nor a common English one (a rare name, a school, a street).
_CONTACTISH = re.compile(
    r"@|https?:|www\.|[\[({<]\s*(?:at|dot)\s*[\])}>]|\b(?:at|dot)\s+(?:g?mail|hotmail|outlook|icloud|yahoo|"
    r"protonmail|live|com|co|uk|org|net)\b",
    re.IGNORECASE,
)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*"
_DATE = re.compile(
    rf"\b\d{{1,2}}\s*[/.-]\s*\d{{1,2}}\s*[/.-]\s*\d{{2,4}}\b|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\b|"
    rf"\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b",
    re.IGNORECASE,
)
_SAFE_NUMBER = re.compile(
    r"£\s?\d[\d,]*(?:\.\d+)?|\b(?:19|20)\d{2}\s*[-–/]\s*(?:(?:19|20)?\d{2})\b|\b(?:19|20)\d{2}\b|"
    r"\b\d{1,2}\s*(?:-|–|to)\s*\d{1,2}\b"  # ages and hours: "18-25", "9 to 5"
)
_LONG_NUMBER = re.compile(r"\d(?:[\s().-]*\d){3,}")
_PLACE = re.compile(
    r"\b(?:flat|apt|apartment|house|room|unit|no\.?)\s*\d|\b\d+[a-z]?\s*,?\s+[a-z]+\s+(?:rd|road|st|street|"
    r"ave|avenue|lane|ln|close|way|drive|court|ct|gardens|grove|place|park|crescent|terrace|hill|row)\b|"
    r"\b[a-z]{1,2}\d{1,2}[a-z]?\b(?!\s*(?:hours?|weeks?|years?|months?|days?))",
    re.IGNORECASE,
)
_INTRODUCES = re.compile(
    r"\b(?:my name|i'?m called|i am called|call me|name'?s|my (?:sw|social worker|pa|carer|foster "
    r"(?:mum|dad|carer)|mum|dad|girlfriend|boyfriend|partner|son|daughter|brother|sister) is|"
    r"i live (?:at|on|in)|born on|born \d|date of birth|d\.?o\.?b|bday|birthday is|mr|mrs|ms|miss|dr)\b",
    re.IGNORECASE,
)
_PART = re.compile(r"[^\W\d_]+")  # a word, or each part of one with an apostrophe or a hyphen
_SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s+|\n)\s*[\"'(“‘]*([^\W\d_]+)")


def _census_names() -> frozenset[str]:
    """First names and surnames of the ``names`` package's census lists, lower-cased (empty if absent)."""
    try:
        import names  # the package's data files: dist.male.first, dist.female.first, dist.all.last
    except ImportError:  # pragma: no cover - a dependency; the vocabulary check still stands
        return frozenset()
    folder = Path(names.__file__).parent
    found: set[str] = set()
    for file in ("dist.male.first", "dist.female.first", "dist.all.last"):
        path = folder / file
        if path.exists():
            found |= {line.split(None, 1)[0].lower() for line in path.read_text().splitlines() if line.strip()}
    return frozenset(found)


# Everyday chat words the model's word list lacks ("im", "dont", "ppl"): ordinary, never personal.
CHAT_WORDS = frozenset(
    "im ive id ill dont doesnt didnt cant couldnt wont wouldnt shouldnt isnt arent wasnt werent havent hasnt "
    "thats whats wheres whos hows theres theyre youre ur u r ppl pls plz thx ty lol ngl tbh btw idk imo omg wtf "
    "wot wat gonna wanna gotta kinda yeah yeh ya nah innit bruv fam uni til till ok okay hi hiya hey "
    "tmrw tmr tmoz 2moro 2day tnite wen whens wiv nuffin summat dunno lemme gimme coz cuz cos bcoz bcos pmsl lmao "
    "2nite 2night gr8 l8r b4 doin goin nothin somethin tho tbf "
    "smh fr rn istg ikr ofc abt bc yh nvm ttyl hbu wbu wyd hmu cba finna tryna wdym idc ily ikyk fyi asap".split()
)


@dataclass(frozen=True)
class Vocabulary:
    """The words an example may use: the documents' own, and common English words.

    A capitalised word inside a sentence that the documents never use is taken for a name
    if the census lists have it ("Precious", "Sarah"); any word in neither the documents nor
    the English list ("Kwame", "Hollybrook") is taken for a name or a place.
    """

    documents: frozenset[str]
    english: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()

    def allows(self, word: str, *, capitalised: bool = False) -> bool:
        w = word.lower()
        if w in self.documents or (w.endswith("s") and w[:-1] in self.documents):
            return True
        if w not in self.english and w not in CHAT_WORDS:
            return False
        return not (capitalised and w in self.names)

    @classmethod
    def build(cls, texts: Iterable[str], english: Iterable[str] = ()) -> Vocabulary:
        documents = frozenset(w.lower() for text in texts for w in _PART.findall(text))
        return cls(documents, frozenset(english), _census_names())


def looks_personal(text: str, vocabulary: Vocabulary | None = None) -> bool:
    """Does ``text`` (already redacted) still hold something that could identify a person?

    It errs towards yes: a dropped example is still counted. Without a ``vocabulary`` only
    the patterns are checked.
    """
    if _CONTACTISH.search(text) or _INTRODUCES.search(text) or _DATE.search(text) or _PLACE.search(text):
        return True
    if _LONG_NUMBER.search(_SAFE_NUMBER.sub(" ", text)):
        return True
    if vocabulary is None:
        return False
    text = re.sub(r"\[[A-Za-z ]+\]", " ", text)  # redaction's own labels are fine
    starts = {m.start(1) for m in _SENTENCE_START.finditer(text)}
    for part in _PART.finditer(text):
        w = part.group()
        if len(w) == 1 and not w.isupper():
            continue
        capitalised = w[0].isupper() and not w.isupper() and part.start() not in starts
        if not vocabulary.allows(w, capitalised=capitalised):
            return True
    return False
