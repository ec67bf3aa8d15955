"""The staff page's reports: questions the documents don't answer, the latest evaluation, feedback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import streamlit as st

from assistant import Settings, gaps
from assistant.staff import DOWNLOAD_GAPS, Actor

from . import messages, render, services
from .staff_base import reason


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


def unanswered(s: Settings, user: Actor) -> None:
    """The gap report: what young people asked that the documents did not answer, by meaning."""
    st.header(messages.GAPS_HEADING)
    st.markdown(messages.GAPS_HELP.format(days=s.retention_days))
    days = st.selectbox(messages.GAPS_PERIOD, list(messages.GAPS_PERIODS),
                        format_func=messages.GAPS_PERIODS.__getitem__, key="gaps-period")
    try:
        groups = gaps.report(services.gap_log(s).entries(days))
    except Exception as exc:
        services.log_error("gap report", exc)
        st.error(messages.GAPS_FAILED.format(reason=reason(exc)))
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
    name = f"unanswered-{days}-days.csv"
    st.download_button(messages.GAPS_DOWNLOAD, gaps.to_csv(groups), file_name=name, mime="text/csv",
                       icon=":material/download:", on_click=_audit_download, args=(s, user, name))


def _audit_download(s: Settings, user: Actor, name: str) -> None:
    """The gap CSV was downloaded: say so in the audit log (a failure is logged, not shown)."""
    try:
        services.staff_store(s).record(user.name, DOWNLOAD_GAPS, name, address=user.address)
    except Exception as exc:
        services.log_error("audit log", exc)


def recent_feedback(s: Settings) -> None:
    st.header(messages.FEEDBACK_HEADING)
    try:
        items = services.feedback_store(s).recent(50)
    except Exception as exc:
        services.log_error("feedback", exc)
        st.error(reason(exc))
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
