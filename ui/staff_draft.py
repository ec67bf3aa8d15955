"""A new document is a draft until it is published: the staff page shows what it would change.

``make_draft`` checks an upload and compares the corpus with and without it
(``assistant.admin.preview_document``): new, changed and removed passages, and any passages
quarantined because they address an assistant or are hidden. Nothing is written. ``draft`` shows
the draft with two actions: publish (the existing add path, ``admin.add_document``, which checks
the file again and rebuilds the index atomically) or discard.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from assistant import Settings
from assistant.admin import Preview, add_document, preview_document
from assistant.staff import Actor

from . import messages, render, services
from .staff_base import NOTICE, reason

DRAFT = "staff_draft"  # session key: {"name", "data", "fields", "preview"} of the upload not yet published
SHOWN = 20  # passages listed per kind of change; the rest are counted


def make_draft(s: Settings, name: str, data: bytes, fields: dict[str, Any]) -> Exception | None:
    """Check the upload and keep it as this session's draft; the error if it was refused."""
    with st.status(messages.DRAFT_RUNNING.format(name=name), expanded=True) as status:
        bar = st.progress(0.0)
        try:
            preview = preview_document(s, name, data, fields, embedder=services.embedder(s.embedding_model),
                                       progress=services.progress_reporter(bar))
        except Exception as exc:
            services.log_error("checking an upload", exc)
            status.update(state="error")
            return exc
    st.session_state[DRAFT] = {"name": name, "data": data, "fields": fields, "preview": preview}
    return None


def draft(s: Settings, user: Actor) -> None:
    """The draft waiting to be published, if there is one: what would change, and publish or discard."""
    held = st.session_state.get(DRAFT)
    if not held:
        return
    preview: Preview = held["preview"]
    with st.container(border=True, key="staff-draft"):
        st.subheader(messages.DRAFT_HEADING.format(name=held["name"]))
        st.markdown(messages.DRAFT_SUMMARY.format(
            new=len(preview.new), changed=len(preview.changed), removed=len(preview.removed),
            quarantined=len(preview.quarantined)))
        if preview.quarantined:
            st.warning(messages.DRAFT_QUARANTINED + "\n\n" + "\n".join(
                f"- {render.escape_markdown(q.describe())}" for q in preview.quarantined))
        _passages(messages.DRAFT_NEW, [p.text for p in preview.new])
        _passages(messages.DRAFT_CHANGED, [f"{b.text} → {a.text}" for b, a in preview.changed])
        _passages(messages.DRAFT_REMOVED, [p.text for p in preview.removed])
        publish, discard = st.columns(2)
        if discard.button(messages.DRAFT_DISCARD, key="draft-discard"):
            st.session_state.pop(DRAFT, None)
            st.session_state[NOTICE] = messages.DRAFT_DISCARDED.format(name=held["name"])
            st.rerun()
        if publish.button(messages.DRAFT_PUBLISH, key="draft-publish", type="primary"):
            _publish(s, held, user)


def _passages(label: str, texts: list[str]) -> None:
    if not texts:
        return
    with st.expander(f"{label} ({len(texts)})", expanded=len(texts) <= 5):
        lines = [f"- {render.escape_markdown(t[:300])}" for t in texts[:SHOWN]]
        if len(texts) > SHOWN:
            lines.append(messages.DRAFT_MORE.format(count=len(texts) - SHOWN))
        st.markdown("\n".join(lines))


def _publish(s: Settings, held: dict[str, Any], user: Actor) -> None:
    with st.status(messages.UPLOAD_RUNNING.format(name=held["name"]), expanded=True) as status:
        bar = st.progress(0.0)
        try:
            report = add_document(s, held["name"], held["data"], held["fields"],
                                  embedder=services.embedder(s.embedding_model),
                                  progress=services.progress_reporter(bar), by=user)
        except Exception as exc:
            services.log_error("publishing an upload", exc)
            status.update(state="error")
            st.error(messages.UPLOAD_REFUSED.format(name=held["name"], reason=reason(exc)))
            return
    st.session_state.pop(DRAFT, None)
    st.session_state[NOTICE] = messages.UPLOAD_DONE.format(
        name=held["name"], documents=report.documents, chunks=report.chunks)
    services.switch_now(s)  # this process answers from the new build at once
    st.rerun()
