"""The staff page: young people's requests, what is indexed, rebuild, add, replace or remove a
document, the questions the documents don't answer, the latest evaluation, recent feedback, and why
an answer was given (explain).

Locked by ``staff_password`` (compared in constant time). With no password
set, the page only says how to set one: there is no default password to
forget to change. Staff see the real reason when something fails, since they
are the people who can fix it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import streamlit as st

from assistant import Assistant, AssistantError, Settings
from assistant.admin import MAX_BYTES, MB, remove_document, replace_document
from assistant.ingest.corpus import SUPPORTED

from . import messages, render, services
from .staff_base import NOTICE, reason
from .staff_draft import draft, make_draft
from .staff_explain import explain
from .staff_reports import evaluation, recent_feedback, unanswered
from .staff_requests import requests_queue

SIGNED_IN = "staff_signed_in"  # session key: a digest of the password the session signed in with
UPLOAD_ROUND = "staff_upload_round"  # session key: bumped to give a fresh, empty upload form
REPORTS = Path(__file__).resolve().parent.parent / "eval" / "reports"  # the checkout's reports


def page() -> None:
    st.title(messages.STAFF_TITLE)
    try:
        s = services.settings()
    except AssistantError as exc:
        services.log_error("settings", exc)
        st.error(messages.ERROR_SETTINGS)
        return
    if not s.staff_password:
        st.warning(messages.STAFF_NO_PASSWORD)
        return
    if not signed_in(s.staff_password):
        return
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        st.success(notice)
    requests_queue(s)
    try:
        bot = services.assistant(s)
    except Exception as exc:
        services.log_error("loading the assistant", exc)
        st.error(messages.STAFF_LOAD_FAILED.format(reason=reason(exc)))
        bot = None
    if bot is not None:
        documents(bot)
    rebuild(s)
    upload(s, bot)
    draft(s)
    manage(s, bot)
    unanswered(s)
    evaluation(REPORTS)
    recent_feedback(s)
    if bot is not None:
        explain(bot)
    st.button(messages.STAFF_SIGN_OUT, on_click=lambda: st.session_state.pop(SIGNED_IN, None))


def signed_in(password: str) -> bool:
    """Show the sign-in form unless this session has signed in with the current password."""
    digest = hashlib.sha256(password.encode()).hexdigest()
    if st.session_state.get(SIGNED_IN) == digest:
        return True
    with st.form("staff-sign-in"):
        entered = st.text_input(messages.STAFF_PASSWORD, type="password")
        submitted = st.form_submit_button(messages.STAFF_SIGN_IN)
    if submitted:
        if hmac.compare_digest(entered.encode(), password.encode()):
            st.session_state[SIGNED_IN] = digest
            st.rerun()
        time.sleep(1)  # slows down guessing
        st.error(messages.STAFF_WRONG_PASSWORD)
    return False


def documents(bot: Assistant) -> None:
    st.header(messages.DOCS_HEADING)
    rows = bot.documents()
    st.markdown(
        messages.DOCS_SUMMARY.format(documents=len(rows), chunks=sum(r["chunks"] for r in rows))
    )
    st.markdown(
        render.markdown_table(
            [{label: row[name] for name, label in messages.DOCS_COLUMNS.items()} for row in rows]
        )
    )


def rebuild(s: Settings) -> None:
    st.header(messages.REBUILD_HEADING)
    st.markdown(messages.REBUILD_HELP)
    if not st.button(messages.REBUILD_BUTTON, icon=":material/refresh:"):
        return
    with st.status(messages.REBUILD_RUNNING, expanded=True) as status:
        bar = st.progress(0.0)
        try:
            report = Assistant.ingest(
                s,
                embedder=services.embedder(s.embedding_model),
                progress=services.progress_reporter(bar),
            )
        except Exception as exc:
            services.log_error("rebuild", exc)
            status.update(state="error")
            st.error(messages.REBUILD_FAILED.format(reason=reason(exc)))
            return
    st.session_state[NOTICE] = messages.REBUILD_DONE.format(
        documents=report.documents, chunks=report.chunks, seconds=report.seconds
    )
    st.rerun()


def upload(s: Settings, bot: Assistant | None) -> None:
    st.header(messages.UPLOAD_HEADING)
    st.markdown(messages.UPLOAD_HELP)
    known = {m.id: m.title for m in bot.index.documents.values()} if bot else {}
    labels = messages.UPLOAD_FIELDS
    round_ = st.session_state.setdefault(UPLOAD_ROUND, 0)
    with st.form(f"add-document-{round_}"):
        file = st.file_uploader(
            messages.UPLOAD_FILE,
            type=sorted(t.lstrip(".") for t in SUPPORTED),
            max_upload_size=MAX_BYTES // MB,
        )
        fields: dict[str, Any] = {
            "id": st.text_input(labels["id"]),
            "title": st.text_input(labels["title"]),
            "publisher": st.text_input(labels["publisher"], value=s.council_name),
            "published": st.number_input(
                labels["published"],
                min_value=1900,
                max_value=2100,
                value=dt.date.today().year,
                step=1,
            ),
            "period": st.text_input(labels["period"]),
            "status": st.selectbox(labels["status"], ["current", "superseded"]),
            "superseded_by": st.selectbox(
                labels["superseded_by"],
                ["", *known],
                format_func=lambda i: f"{known[i]} ({i})" if i else messages.UPLOAD_NOT_SUPERSEDED,
            ),
            "kind": st.selectbox(labels["kind"], ["local-offer", "strategy", "guidance"]),
            "source_url": st.text_input(labels["source_url"]),
        }
        submitted = st.form_submit_button(messages.UPLOAD_BUTTON)
    if not submitted:
        return
    if file is None:
        st.error(messages.UPLOAD_NO_FILE)
        return
    failed = make_draft(s, file.name, file.getvalue(), fields)  # published by a second action (staff_draft)
    if failed is not None:
        problems = getattr(failed, "problems", ())
        if problems:
            st.error(field_problems(file.name, problems))
        else:
            st.error(messages.UPLOAD_REFUSED.format(name=file.name, reason=reason(failed)))
        return
    st.session_state[UPLOAD_ROUND] = round_ + 1
    st.rerun()


def field_problems(name: str, problems: Sequence[tuple[str, object, str]]) -> str:
    """What is wrong with an upload's fields, each by the form's own label and with the value given."""
    lines = [messages.UPLOAD_FIELD_PROBLEMS.format(name=name)]
    for field, value, why in problems:
        label = messages.UPLOAD_FIELDS.get(field, field)
        said = messages.UPLOAD_WHY.get(why, why)
        problem = (
            messages.UPLOAD_EMPTY if value in (None, "") or why == "is missing"
            else messages.UPLOAD_VALUE.format(value=render.escape_markdown(str(value)), why=said)
        )
        lines.append("- " + messages.UPLOAD_FIELD_PROBLEM.format(label=render.escape_markdown(label), problem=problem))
    return "\n".join(lines)


def manage(s: Settings, bot: Assistant | None) -> None:
    """Replace a document's file, or remove a document, with a confirmation; the index is rebuilt atomically."""
    st.header(messages.MANAGE_HEADING)
    st.markdown(messages.MANAGE_HELP)
    if bot is None:
        return
    titles = {m.id: m.title for m in bot.index.documents.values()}
    doc_id = st.selectbox(messages.MANAGE_CHOOSE, list(titles), format_func=lambda i: f"{titles[i]} ({i})",
                          key="manage-document")
    if doc_id is None:
        return
    title = titles[doc_id]
    round_ = st.session_state.setdefault(UPLOAD_ROUND, 0)
    with st.form(f"replace-document-{round_}"):
        file = st.file_uploader(messages.MANAGE_REPLACE_FILE, type=sorted(t.lstrip(".") for t in SUPPORTED),
                                max_upload_size=MAX_BYTES // MB)
        replace = st.form_submit_button(messages.MANAGE_REPLACE_BUTTON)
    with st.form(f"remove-document-{round_}"):
        confirmed = st.checkbox(messages.MANAGE_CONFIRM.format(title=title))
        remove = st.form_submit_button(messages.MANAGE_REMOVE_BUTTON, type="primary")
    if replace:
        if file is None:
            st.error(messages.UPLOAD_NO_FILE)
            return
        _run(messages.MANAGE_REPLACE_RUNNING.format(name=file.name),
             lambda progress: replace_document(s, doc_id, file.name, file.getvalue(),
                                               embedder=services.embedder(s.embedding_model), progress=progress),
             done=lambda r: messages.MANAGE_REPLACED.format(title=title, name=file.name, documents=r.documents,
                                                            chunks=r.chunks),
             refused=lambda reason: messages.MANAGE_REPLACE_REFUSED.format(reason=reason))
    elif remove:
        if not confirmed:
            st.warning(messages.MANAGE_CONFIRM_FIRST)
            return
        _run(messages.MANAGE_REMOVE_RUNNING.format(title=title),
             lambda progress: remove_document(s, doc_id, embedder=services.embedder(s.embedding_model),
                                              progress=progress),
             done=lambda r: messages.MANAGE_REMOVED.format(title=title, documents=r.documents, chunks=r.chunks),
             refused=lambda reason: messages.MANAGE_REMOVE_REFUSED.format(title=title, reason=reason))


def _run(running: str, work: Callable[[Any], Any], *, done: Callable[[Any], str],
         refused: Callable[[str], str]) -> None:
    """Run one corpus change with a progress bar; say what happened, in words."""
    with st.status(running, expanded=True) as status:
        bar = st.progress(0.0)
        try:
            report = work(services.progress_reporter(bar))
        except Exception as exc:
            services.log_error("changing a document", exc)
            status.update(state="error")
            st.error(refused(reason(exc)))
            return
    st.session_state[NOTICE] = done(report)
    st.session_state[UPLOAD_ROUND] = st.session_state.get(UPLOAD_ROUND, 0) + 1
    st.rerun()


