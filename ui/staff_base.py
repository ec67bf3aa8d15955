"""What every part of the staff page shares: the session's notice, errors for staff, tables."""

from __future__ import annotations

from typing import Any

from assistant import AssistantError

from . import render

NOTICE = "staff_notice"  # session key: a success message to show after the page reloads


def table(rows: list[dict[str, Any]], columns: dict[str, str]) -> str:
    """Rows of named values as a Markdown table with the page's own column labels."""
    return render.markdown_table([{label: row[name] for name, label in columns.items()} for row in rows])


def reason(exc: BaseException) -> str:
    """The error's own message for staff (AssistantErrors say what to do), else a plain line."""
    if isinstance(exc, AssistantError):
        text = str(exc).strip()
        return text if text.endswith((".", "!", "?")) else f"{text}."
    return f"an unexpected error ({type(exc).__name__}). The server log has the details."
