"""The staff page: what is indexed, rebuild, add a document, the latest evaluation, recent feedback,
and why an answer was given (explain).

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
from pathlib import Path
from typing import Any

import streamlit as st

from assistant import Assistant, AssistantError, Settings
from assistant.admin import MAX_BYTES, MB, add_document
from assistant.explain import CANDIDATES_SHOWN
from assistant.ingest.corpus import SUPPORTED

from . import messages, render, services

SIGNED_IN = "staff_signed_in"  # session key: a digest of the password the session signed in with
NOTICE = "staff_notice"  # session key: a success message to show after the page reloads
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
    try:
        bot = services.assistant(s)
    except Exception as exc:
        services.log_error("loading the assistant", exc)
        st.error(messages.STAFF_LOAD_FAILED.format(reason=_reason(exc)))
        bot = None
    if bot is not None:
        documents(bot)
    rebuild(s)
    upload(s, bot)
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
            st.error(messages.REBUILD_FAILED.format(reason=_reason(exc)))
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
    with st.status(messages.UPLOAD_RUNNING.format(name=file.name), expanded=True) as status:
        bar = st.progress(0.0)
        try:
            report = add_document(
                s,
                file.name,
                file.getvalue(),
                fields,
                embedder=services.embedder(s.embedding_model),
                progress=services.progress_reporter(bar),
            )
        except Exception as exc:
            services.log_error("upload", exc)
            status.update(state="error")
            st.error(messages.UPLOAD_REFUSED.format(name=file.name, reason=_reason(exc)))
            return
    st.session_state[NOTICE] = messages.UPLOAD_DONE.format(
        name=file.name, documents=report.documents, chunks=report.chunks
    )
    st.session_state[UPLOAD_ROUND] = round_ + 1
    st.rerun()


def evaluation(reports: Path) -> None:
    """The latest report, its charts where it places them (others after), headings under this h2."""
    st.header(messages.EVAL_HEADING)
    latest = reports / "latest.md"
    charts = sorted(reports.glob("*.png"))
    if not latest.exists() and not charts:
        st.markdown(messages.EVAL_MISSING)
        return
    shown: set[Path] = set()
    text = latest.read_text(encoding="utf-8") if latest.exists() else ""
    for piece in render.split_images(render.demote_headings(text, 2)):
        if piece.kind == "text":
            st.markdown(render.safe_answer(piece.text))
            continue
        chart = (reports / piece.path).resolve()
        if chart.parent == reports.resolve() and chart.is_file():
            chart_figure(chart, piece.text or messages.EVAL_CHART.format(name=chart.stem))
            shown.add(chart)
    for chart in charts:
        if chart.resolve() not in shown:
            st.image(
                str(chart), caption=messages.EVAL_CHART.format(name=chart.stem.replace("_", " "))
            )


def chart_figure(chart: Path, alt: str) -> None:
    st.html(render.figure_html(chart.read_bytes(), alt))


def recent_feedback(s: Settings) -> None:
    st.header(messages.FEEDBACK_HEADING)
    try:
        items = services.feedback_store(s).recent(50)
    except Exception as exc:
        services.log_error("feedback", exc)
        st.error(_reason(exc))
        return
    if not items:
        st.markdown(messages.FEEDBACK_NONE)
        return
    columns = messages.FEEDBACK_COLUMNS
    st.markdown(
        render.markdown_table(
            [
                {
                    columns["created"]: item.created,
                    columns["audience"]: messages.AUDIENCES.get(item.audience, item.audience),
                    columns["rating"]: messages.RATING.get(item.rating, str(item.rating)),
                    columns["status"]: item.status,
                    columns["question"]: item.question,
                    columns["comment"]: item.comment,
                }
                for item in items
            ]
        )
    )


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
        st.error(messages.EXPLAIN_FAILED.format(reason=_reason(exc)))
        return
    st.markdown(messages.EXPLAIN_ANSWER.format(status=reply.status, backend=reply.backend))
    with st.container(border=True):
        st.markdown(render.safe_answer(reply.text))
    st.info(render.escape_markdown(explanation.diagnosis.line), icon=":material/troubleshoot:")
    if explanation.standalone and explanation.standalone != explanation.question:
        st.markdown(messages.EXPLAIN_STANDALONE.format(standalone=render.escape_markdown(explanation.standalone)))
    st.markdown(messages.EXPLAIN_STEPS)
    st.markdown(_table(explanation.step_rows(), messages.EXPLAIN_STEP_COLUMNS))
    if explanation.declined_by:
        st.markdown(messages.EXPLAIN_SETTLED.format(step=explanation.declined_by))
    if explanation.check is not None:
        st.markdown(render.escape_markdown(explanation.check_line()))
    st.markdown(messages.EXPLAIN_STATEMENTS)
    if explanation.statements:
        st.markdown(_table(explanation.statement_rows(), messages.EXPLAIN_STATEMENT_COLUMNS))
    else:
        st.markdown(messages.EXPLAIN_NO_STATEMENTS)
    kept = sum(c.kept for c in explanation.candidates)
    st.markdown(messages.EXPLAIN_CANDIDATES.format(k=kept))
    if explanation.candidates:
        shown = explanation.candidate_rows(CANDIDATES_SHOWN)
        st.markdown(_table(shown, messages.EXPLAIN_CANDIDATE_COLUMNS))
        if len(explanation.candidates) > len(shown):
            st.caption(messages.EXPLAIN_MORE_CANDIDATES.format(more=len(explanation.candidates) - len(shown)))
    else:
        st.markdown(messages.EXPLAIN_NO_CANDIDATES)


def _table(rows: list[dict[str, Any]], columns: dict[str, str]) -> str:
    return render.markdown_table([{label: row[name] for name, label in columns.items()} for row in rows])


def _reason(exc: BaseException) -> str:
    """The error's own message for staff (AssistantErrors say what to do), else a plain line."""
    if isinstance(exc, AssistantError):
        text = str(exc).strip()
        return text if text.endswith((".", "!", "?")) else f"{text}."
    return f"an unexpected error ({type(exc).__name__}). The server log has the details."
