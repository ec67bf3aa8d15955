"""The staff page's queue of young people's requests to a person: reply, mark answered, close."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

import streamlit as st

from assistant import Settings
from assistant.handoff import Request, RequestStore
from assistant.staff import ANSWER_REQUEST, CLOSE_REQUEST, READ_REQUEST, Actor

from . import messages, render, services
from .staff_base import NOTICE, reason

REQUESTS_SHOWN = "staff_requests_shown"  # session key: which requests the queue shows
REQUESTS_AUDITED = "staff_requests_audited"  # session key: requests whose reading is in the audit log


def requests_queue(s: Settings, user: Actor) -> None:
    """Young people's requests to a person: open ones first, each with how to reply and actions."""
    st.header(messages.REQUESTS_HEADING)
    try:
        store = services.request_store(s)
        store.purge(s.request_retention_days)
        counts = store.counts()
    except Exception as exc:
        services.log_error("requests", exc)
        st.error(reason(exc))
        return
    st.markdown(messages.REQUESTS_SUMMARY.format(**counts))
    st.markdown(messages.REQUESTS_HELP.format(days=s.request_retention_days))
    shown = st.radio(
        messages.REQUESTS_FILTER,
        list(messages.REQUEST_STATES),
        format_func=messages.REQUEST_STATES.__getitem__,
        horizontal=True,
        key=REQUESTS_SHOWN,
    )
    try:
        items = store.list(None if shown == "all" else shown)
    except Exception as exc:
        services.log_error("requests", exc)
        st.error(reason(exc))
        return
    if not items:
        st.markdown(messages.REQUESTS_NONE)
        return
    if not _audit_reading(s, user, items):
        return
    order = {"open": 0, "answered": 1, "closed": 2}
    for item in sorted(items, key=lambda r: order.get(r.status, 3)):  # newest first within a state
        request_card(item, store, s, user)


def _audit_reading(s: Settings, user: Actor, items: list[Request]) -> bool:
    """Write who read which requests before showing them, once per request and session.

    Nothing personal is shown unless its reading is in the audit log: if the log cannot be
    written, the queue says why instead.
    """
    seen: set[int] = st.session_state.setdefault(REQUESTS_AUDITED, set())
    new = [item.id for item in items if item.id not in seen]
    if not new:
        return True
    try:
        services.staff_store(s).record(user.name, READ_REQUEST, ", ".join(f"#{i}" for i in sorted(new)),
                                       address=user.address)
    except Exception as exc:
        services.log_error("audit log", exc)
        st.error(reason(exc))
        return False
    seen.update(new)
    return True


def request_card(item: Request, store: RequestStore, s: Settings, user: Actor) -> None:
    with st.container(border=True, key=f"request-{item.id}"):
        st.markdown(
            messages.REQUEST_TITLE.format(
                id=item.id,
                state=messages.REQUEST_STATES.get(item.status, item.status),
                when=_when(item.created),
                audience=messages.AUDIENCES.get(item.audience, item.audience),
            )
        )
        st.markdown("\n".join(f"> {render.escape_markdown(line)}  " for line in item.question.splitlines()))
        if item.contact:
            st.markdown(messages.REQUEST_REPLY[item.contact_method].format(contact=_contact_link(item)))
        elif item.status == "closed":
            st.markdown(messages.REQUEST_ERASED)
        if s.smtp_host and not item.emailed:
            st.markdown(messages.REQUEST_NOT_EMAILED)
        if item.staff_note:
            st.markdown(messages.REQUEST_NOTE.format(note=render.escape_markdown(item.staff_note)))
        if item.status == "open":
            with st.form(key=f"answer-{item.id}", border=False):
                note = st.text_area(messages.REQUEST_NOTE_LABEL, max_chars=2000)
                if st.form_submit_button(messages.REQUEST_MARK_ANSWERED):
                    _act(s, user, ANSWER_REQUEST, lambda: store.mark_answered(item.id, note),
                         messages.REQUEST_ANSWERED, item.id)
        if item.status != "closed" and st.button(messages.REQUEST_CLOSE, key=f"close-{item.id}"):
            _act(s, user, CLOSE_REQUEST, lambda: store.close(item.id), messages.REQUEST_CLOSED, item.id)


def _act(s: Settings, user: Actor, action: str, change: Any, done: str, request_id: int) -> None:
    try:
        with services.staff_store(s).audited(user.name, action, f"#{request_id}", address=user.address):
            change()
    except Exception as exc:
        services.log_error("request change", exc)
        st.error(reason(exc))
        return
    st.session_state[NOTICE] = done.format(id=request_id)
    st.rerun()


def _contact_link(item: Request) -> str:
    """The contact as a tap-to-write or tap-to-call link, every character literal."""
    label = render.escape_markdown(item.contact)
    if item.contact_method == "email":
        return f"[{label}](mailto:{quote(item.contact, safe='@.+-_')})"
    digits = "".join(c for c in item.contact.replace("(0)", "") if c.isdigit() or c == "+")
    return f"[{label}](tel:{digits})"


def _when(stamp: str) -> str:
    """'1 Dec 2026, 14:03 (3 days ago)' from a stored timestamp."""
    try:
        moment = dt.datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    days = (dt.datetime.now() - moment).days
    ago = "today" if days <= 0 else "yesterday" if days == 1 else f"{days} days ago"
    return f"{moment.day} {moment:%b %Y, %H:%M} ({ago})"
