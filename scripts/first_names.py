"""Write assistant/text/data/first_names.txt: the first names of Faker's person providers, every locale.

Redaction (assistant/text/redact.py) takes a word of this list for a first name when English rarely
uses it (``WORLD_NAME_ZIPF``): the US census lists it starts from lack most names of Britain, Ireland
and London's communities ("Catriona", "Agnieszka", "Emre", "Moussa").

Faker is not a dependency of the assistant; run this where it is installed:

    python -m venv /tmp/faker && /tmp/faker/bin/pip install faker==40.63.0
    /tmp/faker/bin/python scripts/first_names.py
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import faker
import faker.providers.person as person

OUT = Path(__file__).resolve().parent.parent / "assistant" / "text" / "data" / "first_names.txt"
ATTRIBUTES = ("first_names", "first_names_male", "first_names_female", "first_names_nonbinary")


def first_names() -> set[str]:
    """Every locale's first names written in plain Latin letters, three or more, lower case."""
    found: set[str] = set()
    for locale in pkgutil.iter_modules(person.__path__):
        provider = importlib.import_module(f"{person.__name__}.{locale.name}").Provider
        for attribute in ATTRIBUTES:
            names = provider.__dict__.get(attribute)
            if names is None or isinstance(names, property):
                continue
            found |= {str(n).lower() for n in names if str(n).isascii() and str(n).isalpha() and len(str(n)) >= 3}
    return found


def main() -> None:
    names = sorted(first_names())
    header = [
        f"# First names of every locale of Faker {faker.VERSION}'s person providers (https://github.com/joke2k/faker,",
        "# MIT licence, Copyright (c) 2012 Daniele Faraglia), plain Latin letters only, lower case, one a line.",
        "# Made by scripts/first_names.py. Redaction (redact.py) reads a name here as a first name only when",
        "# English rarely uses the word (WORLD_NAME_ZIPF) and it is no word redaction keeps.",
    ]
    OUT.write_text("\n".join([*header, *names]) + "\n", encoding="utf-8")
    print(f"{len(names)} names -> {OUT}")


if __name__ == "__main__":
    main()
