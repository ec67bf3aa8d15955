"""A staff account for the tests that open the staff page, made the way an operator would."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from assistant.cli import main

NAME = "sam.jones"
PASSWORD = "correct horse battery staple"


def make_account(database: Path | str, name: str = NAME, password: str = PASSWORD) -> None:
    """``assistant staff add NAME --password-stdin`` against this feedback database."""
    done = CliRunner().invoke(main, ["staff", "add", name, "--password-stdin"], input=f"{password}\n",
                              env={"ASSISTANT_FEEDBACK_DB": str(database), "ASSISTANT_FEEDBACK_URL": ""})
    assert done.exit_code == 0, done.output


def sign_in(at, name: str = NAME, password: str = PASSWORD):
    """Open the staff page in an AppTest and sign in with a name and password."""
    from ui import messages

    at.switch_page("staff_page.py").run()
    next(t for t in at.text_input if t.label == messages.STAFF_NAME).input(name)
    next(t for t in at.text_input if t.label == messages.STAFF_PASSWORD).input(password)
    next(b for b in at.button if b.label == messages.STAFF_SIGN_IN).click().run()
    assert not at.exception, at.exception
    return at
