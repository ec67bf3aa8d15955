"""Drawing one assistant answer: its body by status, its source cards, feedback, and a person to ask.

The status decides the look, always with words as well as colour: a crisis
answer is an error box with the contacts first; "not found" and "off topic"
are a calm info box saying who to ask, with the offer to ask the team right under it;
an answer is plain text with numbered source cards under it, and the same offer last.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from assistant.config import Settings
from assistant.feedback import FeedbackError, FeedbackStore
from assistant.types import Citation, Reply

from . import feedback, handoff, messages, render, services

ROWS = "feedback_rows"  # session key: message id -> feedback row id
COMMENTED = "feedback_commented"  # session key: message ids whose comment was sent
FAILED = "feedback_failed"  # session key: message ids whose feedback could not be saved


def show(
    message: dict[str, Any],
    documents: Mapping[str, Any],
    store: FeedbackStore | None,
    advice: str,
    settings: Settings | None = None,
) -> None:
    """Draw a stored assistant message (its Reply is in ``message["reply"]``).

    With ``settings``, the answer offers "Ask the leaving care team" (``ui/handoff.py``).
    """
    reply: Reply = message["reply"]
    body = render.reply_markdown(reply.status, reply.text, advice)
    declined = reply.status in ("not_found", "off_topic")
    if reply.status == "safeguarding":
        st.error(body, icon=":material/emergency:")
    elif declined:
        st.info(body, icon=":material/info:")
    else:
        st.markdown(body)
    if settings is not None and declined:
        handoff.offer(message, settings)
    sources(message["id"], reply.citations, documents)
    if store is not None:
        rating(message, store)
    if settings is not None and not declined:
        handoff.offer(message, settings)


def sources(message_id: str, citations: Sequence[Citation], documents: Mapping[str, Any]) -> None:
    """One bordered card per citation, numbered like the [n] markers in the answer."""
    if not citations:
        return
    st.markdown(f"**{messages.SOURCES_LABEL}**")
    for citation in citations:
        card = render.source_card(citation, documents)
        with st.container(border=True, key=f"source-{message_id}-{card.number}"):
            where = f"  \n{render.escape_markdown(card.where)}" if card.where else ""
            st.markdown(f"{card.heading}{where}")
            if card.badge:
                # A Markdown highlight rather than st.badge, which cuts long text off on a phone.
                st.markdown(render.badge_markdown(card.badge))
            link = f"[{render.escape_markdown(card.link_label)}]({card.url})"
            st.markdown(f"{card.quote_markdown}\n\n{link}")


def rating(message: dict[str, Any], store: FeedbackStore) -> None:
    """Thumbs up/down (saved on tap), then an optional comment on the same feedback row."""
    state = st.session_state
    state.setdefault(ROWS, {})
    state.setdefault(COMMENTED, set())
    state.setdefault(FAILED, set())
    mid = message["id"]
    st.markdown(messages.FEEDBACK_PROMPT)
    st.feedback("thumbs", key=f"rating-{mid}", on_change=_rated, args=(message, store))
    if mid in state[FAILED]:
        st.warning(messages.FEEDBACK_FAILED)
        return
    if mid not in state[ROWS]:
        return
    if mid in state[COMMENTED]:
        st.markdown(messages.FEEDBACK_COMMENT_THANKS)
        return
    st.markdown(messages.FEEDBACK_THANKS)
    with st.form(key=f"comment-{mid}", clear_on_submit=True, border=False):
        comment = st.text_input(
            messages.FEEDBACK_COMMENT, help=messages.FEEDBACK_COMMENT_HELP, max_chars=2000
        )
        if st.form_submit_button(messages.FEEDBACK_SEND) and comment.strip():
            try:
                feedback.save_comment(store, state[ROWS][mid], comment)
            except FeedbackError as exc:
                services.log_error("feedback comment", exc)
                state[FAILED].add(mid)
                st.warning(messages.FEEDBACK_FAILED)
            else:
                state[COMMENTED].add(mid)
                st.rerun()


def _rated(message: dict[str, Any], store: FeedbackStore) -> None:
    """Widget callback: save the thumb as soon as it is tapped."""
    state = st.session_state
    value = state.get(f"rating-{message['id']}")
    if value is None:  # the thumb was tapped again to clear it; keep what was saved
        return
    reply: Reply = message["reply"]
    try:
        state[ROWS][message["id"]] = feedback.save_rating(
            store,
            state[ROWS].get(message["id"]),
            rating=int(value),
            question=message["question"],
            answer=reply.text,
            audience=message["audience"],
            status=reply.status,
        )
    except FeedbackError as exc:
        services.log_error("feedback rating", exc)
        state[FAILED].add(message["id"])
    if int(value) == 0 and reply.status != "safeguarding":  # a crisis is never logged as a gap
        bot = services.current_assistant()
        if bot is not None:
            services.note_gap(bot, message["question"], "unhelpful", message["audience"])
