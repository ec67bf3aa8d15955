"""The staff page: young people's requests, what is indexed, rebuild, add, replace or remove a
document, the questions the documents don't answer, the latest evaluation, recent feedback, and why
an answer was given (explain).

Each person signs in with their own staff account (``assistant staff add NAME``; see
``assistant.staff``): failed sign-ins are counted per name and per client address in the shared
database, so every session and worker shares one lockout, and every sign-in and action is written
to the audit log. With no account yet, the page only says how to create one: there is no default
password to forget to change, and the old shared ``staff_password`` no longer opens it. Staff see
the real reason when something fails, since they are the people who can fix it.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import streamlit as st

from assistant import Assistant, AssistantError, Settings
from assistant.admin import MAX_BYTES, MB, Addition, Replacement, rebuild_index, remove_document
from assistant.ingest.corpus import SUPPORTED
from assistant.staff import REPLACE, UPLOAD, Actor, StaffStore, wait_words

from . import messages, render, services
from .staff_base import NOTICE, reason
from .staff_draft import draft, make_draft
from .staff_explain import explain
from .staff_reports import evaluation, recent_feedback, unanswered
from .staff_requests import requests_queue

SIGNED_IN = "staff_signed_in"  # session key: (account name, tag of the password it signed in with)
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
    try:
        store = services.staff_store(s)
        store.purge(s.staff_audit_retention_days)
        has_accounts = store.has_accounts()
    except AssistantError as exc:
        services.log_error("staff accounts", exc)
        st.error(reason(exc))
        return
    if not has_accounts:
        st.warning(messages.STAFF_NO_ACCOUNTS)
        if s.staff_password:
            st.info(messages.STAFF_OLD_PASSWORD)
        return
    user = signed_in(s, store)
    if user is None:
        return
    st.markdown(messages.STAFF_SIGNED_IN_AS.format(name=render.escape_markdown(user.name)))
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        st.success(notice)
    requests_queue(s, user)
    try:
        bot = services.assistant(s)
    except Exception as exc:
        services.log_error("loading the assistant", exc)
        st.error(messages.STAFF_LOAD_FAILED.format(reason=reason(exc)))
        bot = None
    for warning in services.index_warnings(s):  # answering from the last good build: say why
        st.warning(warning.message)
    if bot is not None:
        documents(bot)
    rebuild(s, user)
    upload(s, bot, user)
    draft(s, user, UPLOAD)
    manage(s, bot, user)
    unanswered(s, user)
    evaluation(REPORTS)
    recent_feedback(s)
    if bot is not None:
        explain(bot)
    st.button(messages.STAFF_SIGN_OUT, on_click=lambda: st.session_state.pop(SIGNED_IN, None))


def signed_in(s: Settings, store: StaffStore) -> Actor | None:
    """The person this session signed in as, or None after showing the sign-in form.

    A session ends when its account is removed or given a new password. A wrong name or password
    and a lock look the same for every name, so the form never tells which names exist.
    """
    address = services.client_address(s)
    session = st.session_state.get(SIGNED_IN)
    if session:
        name, tag = session
        try:
            if store.session_valid(name, tag):
                return Actor(name, address)
        except AssistantError as exc:
            services.log_error("staff sign-in", exc)
            st.error(reason(exc))
            return None
        st.session_state.pop(SIGNED_IN, None)
    with st.form("staff-sign-in"):
        name = st.text_input(messages.STAFF_NAME, autocomplete="username")
        entered = st.text_input(messages.STAFF_PASSWORD, type="password", autocomplete="current-password")
        submitted = st.form_submit_button(messages.STAFF_SIGN_IN)
    if not submitted:
        return None
    try:
        result = store.sign_in(name, entered, address)
    except AssistantError as exc:
        services.log_error("staff sign-in", exc)
        st.error(reason(exc))
        return None
    if result.ok:
        st.session_state[SIGNED_IN] = (result.name, result.session)
        st.rerun()
    time.sleep(1)  # slows down one session's guessing; the lockout limits all of them together
    if result.locked:
        until, minutes = wait_words(result.locked_until)
        st.error(messages.STAFF_LOCKED.format(until=until, minutes=minutes))
    else:
        st.error(messages.STAFF_WRONG_PASSWORD)
    return None


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


def rebuild(s: Settings, user: Actor) -> None:
    st.header(messages.REBUILD_HEADING)
    st.markdown(messages.REBUILD_HELP)
    if not st.button(messages.REBUILD_BUTTON, icon=":material/refresh:"):
        return
    with st.status(messages.REBUILD_RUNNING, expanded=True) as status:
        bar = st.progress(0.0)
        try:
            report = rebuild_index(
                s,
                embedder=services.embedder(s.embedding_model),
                progress=services.progress_reporter(bar),
                by=user,
            )
        except Exception as exc:
            services.log_error("rebuild", exc)
            status.update(state="error")
            st.error(messages.REBUILD_FAILED.format(reason=reason(exc)))
            return
    st.session_state[NOTICE] = messages.REBUILD_DONE.format(
        documents=report.documents, chunks=report.chunks, seconds=report.seconds
    )
    services.switch_now(s)
    st.rerun()


def upload(s: Settings, bot: Assistant | None, user: Actor) -> None:
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
    failed = make_draft(s, Addition(file.name, file.getvalue(), fields))  # published by a second action
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


def manage(s: Settings, bot: Assistant | None, user: Actor) -> None:
    """Replace a document's file (a draft first, published by a second action), or remove a document
    with a confirmation; either way the index is rebuilt atomically."""
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
    draft(s, user, REPLACE)
    with st.form(f"remove-document-{round_}"):
        confirmed = st.checkbox(messages.MANAGE_CONFIRM.format(title=title))
        remove = st.form_submit_button(messages.MANAGE_REMOVE_BUTTON, type="primary")
    if replace:
        if file is None:
            st.error(messages.UPLOAD_NO_FILE)
            return
        failed = make_draft(s, Replacement(doc_id, file.name, file.getvalue()))  # published by a second action
        if failed is not None:
            st.error(messages.MANAGE_REPLACE_REFUSED.format(reason=reason(failed)))
            return
        st.session_state[UPLOAD_ROUND] = round_ + 1
        st.rerun()
    elif remove:
        if not confirmed:
            st.warning(messages.MANAGE_CONFIRM_FIRST)
            return
        _run(messages.MANAGE_REMOVE_RUNNING.format(title=title),
             lambda progress: remove_document(s, doc_id, embedder=services.embedder(s.embedding_model),
                                              progress=progress, by=user),
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
    services.switch_now(services.settings())
    st.rerun()


