"""The staff page's "Explain an answer": why the assistant answers a question as it does."""

from __future__ import annotations

import streamlit as st

from assistant import Assistant
from assistant.explain import CANDIDATES_SHOWN

from . import messages, render, services
from .staff_base import reason, table


def explain(bot: Assistant) -> None:
    """Ask a question as someone would and show the answer, then why: where to look first, then the tables."""
    st.header(messages.EXPLAIN_HEADING)
    st.markdown(messages.EXPLAIN_HELP)
    with st.form("explain-answer"):
        question = st.text_input(messages.EXPLAIN_QUESTION)
        audience = st.radio(
            messages.EXPLAIN_AUDIENCE, list(messages.AUDIENCES), format_func=messages.AUDIENCES.get,
            horizontal=True,
        )
        submitted = st.form_submit_button(messages.EXPLAIN_BUTTON)
    if not submitted:
        return
    if not question.strip():
        st.error(messages.EXPLAIN_NO_QUESTION)
        return
    try:
        reply, explanation = bot.explain(question, audience=audience)
    except Exception as exc:
        services.log_error("explain", exc)
        st.error(messages.EXPLAIN_FAILED.format(reason=reason(exc)))
        return
    st.markdown(messages.EXPLAIN_ANSWER.format(status=reply.status, backend=reply.backend))
    with st.container(border=True):
        st.markdown(render.safe_answer(reply.text))
    st.info(render.escape_markdown(explanation.diagnosis.line), icon=":material/troubleshoot:")
    if explanation.standalone and explanation.standalone != explanation.question:
        st.markdown(messages.EXPLAIN_STANDALONE.format(standalone=render.escape_markdown(explanation.standalone)))
    st.markdown(messages.EXPLAIN_STEPS)
    st.markdown(table(explanation.step_rows(), messages.EXPLAIN_STEP_COLUMNS))
    if explanation.declined_by:
        st.markdown(messages.EXPLAIN_SETTLED.format(step=explanation.declined_by))
    if explanation.check is not None:
        st.markdown(render.escape_markdown(explanation.check_line()))
    st.markdown(messages.EXPLAIN_STATEMENTS)
    if explanation.statements:
        st.markdown(table(explanation.statement_rows(), messages.EXPLAIN_STATEMENT_COLUMNS))
    else:
        st.markdown(messages.EXPLAIN_NO_STATEMENTS)
    kept = sum(c.kept for c in explanation.candidates)
    st.markdown(messages.EXPLAIN_CANDIDATES.format(k=kept))
    if explanation.candidates:
        shown = explanation.candidate_rows(CANDIDATES_SHOWN)
        st.markdown(table(shown, messages.EXPLAIN_CANDIDATE_COLUMNS))
        if len(explanation.candidates) > len(shown):
            st.caption(messages.EXPLAIN_MORE_CANDIDATES.format(more=len(explanation.candidates) - len(shown)))
    else:
        st.markdown(messages.EXPLAIN_NO_CANDIDATES)
