"""The chat page: ask, see the answer streamed with its sources, rate it, ask a person; help at the bottom.

The conversation lives in ``st.session_state["messages"]`` and goes back to the
assistant as history, so follow-ups ("and in the old strategy?") work. The
"Need help now?" button sits in the bottom bar next to the question box, so it
is one tap away however long the conversation gets, and it is drawn before
anything that could fail.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import streamlit as st

from assistant import Assistant, AssistantError, InputError, Settings
from assistant.feedback import FeedbackStore
from assistant.types import Reply

from . import handoff, messages, render, reply_view, services

MESSAGES = "messages"
AUDIENCE = "audience"
PENDING = "pending_question"


def page() -> None:
    """Draw the chat page; every failure becomes a short message, never a traceback."""
    try:
        s = services.settings()
    except AssistantError as exc:
        services.log_error("settings", exc)
        st.title(messages.TITLE)
        st.error(messages.ERROR_SETTINGS)
        return
    st.title(messages.TITLE)
    st.markdown(messages.INTRO.format(council=s.council_name, advice=s.advice_contact))
    with st.bottom:
        help_button(s)
    try:
        bot = services.assistant(s)
    except Exception as exc:  # the public page shows no internals; the log has the reason
        services.log_error("loading the assistant", exc)
        st.error(messages.ERROR_NOT_READY)
        return
    try:
        conversation(s, bot)
    except Exception as exc:
        services.log_error("chat", exc)
        st.error(messages.ERROR_GENERIC)


def help_button(s: Settings) -> None:
    """Urgent and council contacts, with tappable numbers, behind one button."""
    with st.popover(messages.HELP_BUTTON, icon=":material/support:", width="stretch"):
        st.markdown(render.help_panel(s.urgent_contacts, s.council_contacts, s.council_name))


def conversation(s: Settings, bot: Assistant) -> None:
    state = st.session_state
    state.setdefault(MESSAGES, [])
    state.setdefault(AUDIENCE, "care_leaver")
    st.radio(
        messages.AUDIENCE_LABEL,
        list(messages.AUDIENCES),
        format_func=messages.AUDIENCES.__getitem__,
        horizontal=True,
        key=AUDIENCE,
    )
    store = _store(s)
    documents = bot.index.documents
    for message in state[MESSAGES]:
        with st.chat_message(message["role"]):
            if message["role"] == "user":
                st.markdown(render.escape_markdown(message["content"]))
            else:
                reply_view.show(message, documents, store, s.advice_contact, s)

    with st.bottom:
        typed = st.chat_input(messages.CHAT_PLACEHOLDER, max_chars=s.max_question_chars)
    question = typed or state.pop(PENDING, None)
    if question:
        ask(bot, question, state[AUDIENCE], store, s)
    if not state[MESSAGES] and not question:
        starters(state[AUDIENCE])
    if state[MESSAGES]:
        st.button(
            messages.NEW_CONVERSATION, icon=":material/restart_alt:", on_click=new_conversation
        )


def ask(bot: Assistant, question: str, audience: str, store: FeedbackStore | None, s: Settings) -> None:
    """Show the question, stream the answer, then redraw it with its sources and feedback."""
    state = st.session_state
    history = [{"role": m["role"], "content": m["content"]} for m in state[MESSAGES]]
    with st.chat_message("user"):
        st.markdown(render.escape_markdown(question))
    with st.chat_message("assistant"):
        try:
            reply = answer(bot, question, history, audience)
        except InputError as exc:  # too long, empty...: the message says what to do
            st.warning(messages.ERROR_QUESTION.format(reason=exc))
            return
        message = {
            "id": uuid.uuid4().hex[:12],
            "role": "assistant",
            "content": reply.text,
            "reply": reply,
            "question": question,
            "audience": audience,
        }
        state[MESSAGES] += [{"role": "user", "content": question}, message]
        reply_view.show(message, bot.index.documents, store, s.advice_contact, s)
    scroll_to_answer(message["id"])
    if reply.status == "not_found":  # counted for the staff page's "questions the documents don't answer"
        services.note_gap(bot, reply.standalone_question or question, "declined", audience)


def answer(bot: Assistant, question: str, history: list[dict[str, str]], audience: str) -> Reply:
    """The Reply, with its text streamed as it comes. Crisis answers are not streamed:
    the contacts must all be on screen at once."""
    if bot.risk(question).crisis:  # the same layered check the answer makes (cues, then meaning)
        return bot.ask(question, history=history, audience=audience)
    final: list[Reply] = []

    def pieces() -> Iterator[str]:
        for piece in bot.ask_stream(question, history=history, audience=audience):
            if isinstance(piece, Reply):
                final.append(piece)
            else:
                yield render.safe_answer(piece)

    holder = st.empty()
    with holder.container():
        st.write_stream(pieces())
    holder.empty()  # redrawn below in its final form (status box, sources, feedback)
    return final[-1]


def starters(audience: str) -> None:
    """Questions that show what the assistant knows; a tap asks one."""
    st.header(messages.STARTERS_HEADING)
    for number, question in enumerate(messages.STARTERS[audience]):
        st.button(
            question,
            key=f"starter-{audience}-{number}",
            on_click=_queue,
            args=(question,),
            width="stretch",
        )


def new_conversation() -> None:
    st.session_state[MESSAGES] = []
    for key in (reply_view.ROWS, reply_view.COMMENTED, reply_view.FAILED, handoff.SENT):
        st.session_state.pop(key, None)


def _queue(question: str) -> None:
    st.session_state[PENDING] = question


def _store(s: Settings) -> Any:
    """The feedback store, or None if it can't be opened (answers still work without it)."""
    try:
        return services.feedback_store(s)
    except AssistantError as exc:
        services.log_error("feedback store", exc)
        return None


# Bring the start of the newest answer into view, above the input bar: on a phone a long answer
# (or a crisis reply) otherwise starts below the fold, out of sight. The answer's id makes each
# script new, so it runs once per answer and never on a rerun.
_SCROLL = """<script>/* {answer} */
(() => {{
  const answers = document.querySelectorAll('[data-testid="stChatMessage"]');
  const last = answers[answers.length - 1];
  if (last) last.scrollIntoView({{block: "start"}});
}})();
</script>"""


def scroll_to_answer(answer_id: str) -> None:
    """Scroll the chat so that the newest answer starts at the top of the screen."""
    st.html(_SCROLL.format(answer=answer_id), unsafe_allow_javascript=True)
