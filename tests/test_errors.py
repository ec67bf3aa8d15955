"""One closed error tree: every exception the package defines is an AssistantError, and the
CLI's exit code and the API's status come from the class."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from click.testing import CliRunner

import assistant
from assistant.cli import main
from assistant.errors import (
    AssistantError,
    ConfigError,
    FeedbackError,
    HandoffError,
    InputError,
    QuestionFileError,
    RateLimited,
    StaffOnly,
)


def _package_exceptions() -> list[type[BaseException]]:
    found = []
    for info in pkgutil.walk_packages(assistant.__path__, "assistant."):
        module = importlib.import_module(info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__.startswith("assistant."):
                found.append(value)
    return found


def test_every_exception_of_the_package_is_in_the_tree():
    outside = [e.__qualname__ for e in _package_exceptions() if not issubclass(e, AssistantError)]
    assert outside == []


@pytest.mark.parametrize(
    ("error", "exit_code", "http_status", "own_message_shown"),
    [
        (InputError("The question is empty."), 2, 422, True),
        (QuestionFileError("questions.yaml case 3: field 'id' is required text."), 2, 422, True),
        (RateLimited(29.2), 1, 429, True),
        (StaffOnly("Explanations are for staff: send the staff API token."), 1, 403, True),
        (FeedbackError("/srv/data/feedback.sqlite3 cannot be opened"), 1, 503, False),
        (HandoffError("Requests could not be saved in /srv/data/feedback.sqlite3"), 1, 503, False),
        (ConfigError("council.toml is not valid TOML"), 1, 503, False),
    ],
)
def test_the_edges_read_behaviour_from_the_class(error, exit_code, http_status, own_message_shown):
    assert (error.exit_code, error.http_status, error.public is None) == (exit_code, http_status, own_message_shown)


def test_rate_limited_says_how_long_to_wait():
    assert RateLimited(29.2).retry_after == 30 and "wait 30 seconds" in str(RateLimited(29.2))


def test_the_cli_exits_with_the_errors_own_code():
    result = CliRunner().invoke(main, ["ask", "   "])
    assert result.exit_code == 2 and "The question is empty" in result.output
