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
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import streamlit as st

from assistant import Assistant, AssistantError, Settings, gaps
from assistant.admin import MAX_BYTES, MB, add_document, remove_document, replace_document
from assistant.explain import CANDIDATES_SHOWN
from assistant.handoff import Request, RequestStore
from assistant.ingest.corpus import SUPPORTED

from . import messages, render, services

SIGNED_IN = "staff_signed_in"  # session key: a digest of the password the session signed in with
NOTICE = "staff_notice"  # session key: a success message to show after the page reloads
UPLOAD_ROUND = "staff_upload_round"  # session key: bumped to give a fresh, empty upload form
REQUESTS_SHOWN = "staff_requests_shown"  # session key: which requests the queue shows
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
        st.error(messages.STAFF_LOAD_FAILED.format(reason=_reason(exc)))
        bot = None
    if bot is not None:
        documents(bot)
    rebuild(s)
    upload(s, bot)
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
            problems = getattr(exc, "problems", ())
            if problems:
                st.error(field_problems(file.name, problems))
            else:
                st.error(messages.UPLOAD_REFUSED.format(name=file.name, reason=_reason(exc)))
            return
    st.session_state[NOTICE] = messages.UPLOAD_DONE.format(
        name=file.name, documents=report.documents, chunks=report.chunks
    )
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
            st.error(refused(_reason(exc)))
            return
    st.session_state[NOTICE] = done(report)
    st.session_state[UPLOAD_ROUND] = st.session_state.get(UPLOAD_ROUND, 0) + 1
    st.rerun()


def evaluation_summary(report: dict[str, Any], *, examples: int = 3) -> str:
    """The latest evaluation in words a council officer can read, from its JSON report."""
    cases = int(report.get("cases") or 0)
    if not cases:
        return messages.EVAL_MISSING

    def count(rate: Any) -> int:
        return round(float(rate or 0) * cases)

    lines = [messages.EVAL_WHEN.format(when=report.get("generated", "?"), cases=cases), ""]
    lines.append("- " + messages.EVAL_KIND.format(right=count(report.get("status_accuracy")), cases=cases))
    lines.append("- " + messages.EVAL_FULL.format(full=count(report.get("fully_right")), cases=cases))
    crisis = int((report.get("categories") or {}).get("safeguarding", {}).get("cases") or 0)
    if crisis:
        caught = round(float(report.get("safeguarding_recall") or 0) * crisis)
        said = (messages.EVAL_SAFE_ALL.format(n=crisis) if caught == crisis
                else messages.EVAL_SAFE_SOME.format(caught=caught, n=crisis))
        alarms = int(report.get("safeguarding_false_alarms") or 0)
        said += messages.EVAL_ALARMS.get(alarms, messages.EVAL_ALARMS_MANY.format(n=alarms))
        lines.append("- " + said)
    validity = report.get("citation_validity")
    if validity is not None:
        lines.append("- " + (messages.EVAL_CITED if float(validity) >= 1.0
                             else messages.EVAL_CITED_SOME.format(share=f"{float(validity):.0%}")))
    words = messages.EVAL_STATUS_WORDS
    failures = report.get("failures") or []
    if failures:
        lines += ["", messages.EVAL_WRONG_KIND.format(n=len(failures))]
        lines += ["- " + messages.EVAL_WRONG_ITEM.format(
            question=render.escape_markdown(f["question"]), expect=words.get(f["expect"], f["expect"]),
            got=words.get(f["got"], f["got"])) for f in failures[:examples]]
    incomplete = report.get("incomplete") or []
    if incomplete:
        lines += ["", messages.EVAL_MISSED.format(n=len(incomplete))]
        lines += ["- " + messages.EVAL_MISSED_ITEM.format(
            question=render.escape_markdown(f["question"]),
            missing=render.escape_markdown(", ".join(f"“{m}”" for m in f["missing"]))) for f in incomplete[:examples]]
    return "\n".join(lines)


def evaluation(reports: Path) -> None:
    """The latest evaluation in words first; the developer report and its charts behind "details"."""
    st.header(messages.EVAL_HEADING)
    latest = reports / "latest.md"
    charts = sorted(reports.glob("*.png"))
    if not latest.exists() and not charts:
        st.markdown(messages.EVAL_MISSING)
        return
    summary = reports / "latest.json"
    if summary.exists():
        try:
            st.markdown(evaluation_summary(json.loads(summary.read_text(encoding="utf-8"))))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            services.log_error("evaluation summary", exc)
    with st.expander(messages.EVAL_DETAILS):
        _report_details(reports, latest, charts)


def _report_details(reports: Path, latest: Path, charts: list[Path]) -> None:
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


def unanswered(s: Settings) -> None:
    """The gap report: what young people asked that the documents did not answer, by meaning."""
    st.header(messages.GAPS_HEADING)
    st.markdown(messages.GAPS_HELP.format(days=s.retention_days))
    days = st.selectbox(messages.GAPS_PERIOD, list(messages.GAPS_PERIODS),
                        format_func=messages.GAPS_PERIODS.__getitem__, key="gaps-period")
    try:
        groups = gaps.report(services.gap_log(s).entries(days))
    except Exception as exc:
        services.log_error("gap report", exc)
        st.error(messages.GAPS_FAILED.format(reason=_reason(exc)))
        return
    if not groups:
        st.markdown(messages.GAPS_NONE)
        return
    st.markdown(messages.GAPS_SUMMARY.format(total=sum(g.count for g in groups), topics=len(groups)))
    columns = messages.GAPS_COLUMNS
    st.markdown(
        render.markdown_table(
            [
                {
                    columns["count"]: str(g.count),
                    columns["topic"]: g.examples[0] if g.examples else messages.GAPS_NO_EXAMPLE,
                    columns["also"]: g.examples[1] if len(g.examples) > 1 else "",
                    columns["section"]: g.section,
                    columns["weeks"]: ", ".join(f"{week}: {n}" for week, n in g.weeks),
                }
                for g in groups[:20]
            ]
        )
    )
    st.download_button(messages.GAPS_DOWNLOAD, gaps.to_csv(groups), file_name=f"unanswered-{days}-days.csv",
                       mime="text/csv", icon=":material/download:")


def requests_queue(s: Settings) -> None:
    """Young people's requests to a person: open ones first, each with how to reply and actions."""
    st.header(messages.REQUESTS_HEADING)
    try:
        store = services.request_store(s)
        store.purge(s.request_retention_days)
        counts = store.counts()
    except Exception as exc:
        services.log_error("requests", exc)
        st.error(_reason(exc))
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
        st.error(_reason(exc))
        return
    if not items:
        st.markdown(messages.REQUESTS_NONE)
        return
    order = {"open": 0, "answered": 1, "closed": 2}
    for item in sorted(items, key=lambda r: order.get(r.status, 3)):  # newest first within a state
        request_card(item, store, s)


def request_card(item: Request, store: RequestStore, s: Settings) -> None:
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
                    _act(lambda: store.mark_answered(item.id, note), messages.REQUEST_ANSWERED, item.id)
        if item.status != "closed" and st.button(messages.REQUEST_CLOSE, key=f"close-{item.id}"):
            _act(lambda: store.close(item.id), messages.REQUEST_CLOSED, item.id)


def _act(change: Any, done: str, request_id: int) -> None:
    try:
        change()
    except Exception as exc:
        services.log_error("request change", exc)
        st.error(_reason(exc))
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
