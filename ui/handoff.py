"""Asking a person from the chat: under each answer, a short form that sends the question to the team.

The question comes pre-filled and can be changed; the young person chooses to give an email
address or a phone number. The request is stored through ``RequestStore`` (redacted, in the
same database as feedback) and, if SMTP is set, the team is emailed. Who the team is and what
happens next are the council's words (``handoff_team``, ``handoff_next_steps``).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from assistant import AssistantError, InputError, Settings
from assistant.handoff import MAX_CONTACT, MAX_QUESTION, METHODS, submit

from . import messages, render, services

SENT = "handoff_sent"  # session key: message id -> the reference number it was sent as


def offer(message: dict[str, Any], s: Settings) -> None:
    """"Ask the leaving care team" under one answer: the form, or the reference once sent."""
    sent = st.session_state.setdefault(SENT, {})
    mid = message["id"]
    team = s.handoff_team
    if mid in sent:
        st.success(
            f"{messages.HANDOFF_SENT.format(team=team, reference=sent[mid])}\n\n"
            f"{render.escape_markdown(s.handoff_next_steps)}",
            icon=":material/check_circle:",
        )
        return
    with st.expander(messages.HANDOFF_ASK.format(team=team), icon=":material/support_agent:"):
        st.markdown(render.linkify(render.escape_markdown(s.handoff_next_steps)))
        with st.form(key=f"handoff-{mid}", border=False):
            question = st.text_area(
                messages.HANDOFF_QUESTION, value=message["question"][:MAX_QUESTION], max_chars=MAX_QUESTION
            )
            method = st.radio(
                messages.HANDOFF_METHOD,
                METHODS,
                format_func=messages.HANDOFF_METHODS.__getitem__,
                horizontal=True,
            )
            contact = st.text_input(
                messages.HANDOFF_CONTACT,
                max_chars=MAX_CONTACT,
                help=messages.HANDOFF_PRIVACY.format(team=team),
            )
            if not st.form_submit_button(messages.HANDOFF_SEND):
                return
        try:
            reference = submit(
                services.request_store(s),
                s,
                question=question,
                contact_method=str(method),
                contact=contact,
                audience=message["audience"],
            )
        except InputError as exc:  # the contact or question: the message says what to fix
            st.warning(str(exc))
            return
        except AssistantError as exc:
            services.log_error("request to the team", exc)
            st.error(messages.HANDOFF_FAILED)
            return
    sent[mid] = reference
    st.rerun()
