"""A new document, or a document's new file, is a draft until it is published: the staff page shows
what it would change.

``make_draft`` checks a corpus change (``assistant.admin.Addition`` or ``Replacement``) exactly as
publishing it would, and compares the corpus with and without it (``assistant.admin.preview``):
new, changed and removed passages, and any passages quarantined because they address an assistant
or are hidden. Nothing is written. ``draft`` shows the draft with two actions: publish (the
change's own path, ``admin.add_document`` or ``admin.replace_document``, which checks the file
again and rebuilds the index atomically) or discard. One draft is held per session; the panel is
drawn under the form that made it.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from assistant import Settings
from assistant.admin import CorpusChange, Preview, preview
from assistant.staff import REPLACE, UPLOAD, Actor

from . import messages, render, services
from .staff_base import NOTICE, reason

DRAFT = "staff_draft"  # session key: the Preview of the change not yet published
SHOWN = 20  # passages listed per kind of change; the rest are counted


@dataclass(frozen=True)
class Words:
    """What the page says about one kind of change (formatted with name, title, documents, chunks and
    reason; each sentence uses the ones it needs)."""

    heading: str
    publishing: str
    done: str
    refused: str


WORDS = {
    UPLOAD: Words(messages.DRAFT_HEADING, messages.UPLOAD_RUNNING, messages.UPLOAD_DONE, messages.UPLOAD_REFUSED),
    REPLACE: Words(messages.DRAFT_REPLACE_HEADING, messages.MANAGE_REPLACE_RUNNING, messages.MANAGE_REPLACED,
                   messages.MANAGE_REPLACE_REFUSED),
}


def make_draft(s: Settings, change: CorpusChange) -> Exception | None:
    """Check the change and keep it as this session's draft; the error if it was refused."""
    with st.status(messages.DRAFT_RUNNING.format(name=change.filename), expanded=True) as status:
        bar = st.progress(0.0)
        try:
            held = preview(s, change, embedder=services.embedder(s.embedding_model),
                           progress=services.progress_reporter(bar))
        except Exception as exc:
            services.log_error("checking an upload", exc)
            status.update(state="error")
            return exc
    st.session_state[DRAFT] = held
    return None


def draft(s: Settings, user: Actor, kind: str) -> None:
    """The draft of this kind of change waiting to be published, if there is one: what would change,
    and publish or discard."""
    held: Preview | None = st.session_state.get(DRAFT)
    if held is None or held.change.kind != kind:
        return
    words = WORDS[kind]
    name = held.change.filename
    with st.container(border=True, key="staff-draft"):
        st.subheader(words.heading.format(name=name, title=held.entry.get("title", "")))
        st.markdown(messages.DRAFT_SUMMARY.format(
            new=len(held.new), changed=len(held.changed), removed=len(held.removed),
            quarantined=len(held.quarantined)))
        if held.quarantined:
            st.warning(messages.DRAFT_QUARANTINED + "\n\n" + "\n".join(
                f"- {render.escape_markdown(q.describe())}" for q in held.quarantined))
        _passages(messages.DRAFT_NEW, [p.text for p in held.new])
        _passages(messages.DRAFT_CHANGED, [f"{b.text} → {a.text}" for b, a in held.changed])
        _passages(messages.DRAFT_REMOVED, [p.text for p in held.removed])
        publish, discard = st.columns(2)
        if discard.button(messages.DRAFT_DISCARD, key="draft-discard"):
            st.session_state.pop(DRAFT, None)
            st.session_state[NOTICE] = messages.DRAFT_DISCARDED.format(name=name)
            st.rerun()
        if publish.button(messages.DRAFT_PUBLISH, key="draft-publish", type="primary"):
            _publish(s, held, words, user)


def _passages(label: str, texts: list[str]) -> None:
    if not texts:
        return
    with st.expander(f"{label} ({len(texts)})", expanded=len(texts) <= 5):
        lines = [f"- {render.escape_markdown(t[:300])}" for t in texts[:SHOWN]]
        if len(texts) > SHOWN:
            lines.append(messages.DRAFT_MORE.format(count=len(texts) - SHOWN))
        st.markdown("\n".join(lines))


def _publish(s: Settings, held: Preview, words: Words, user: Actor) -> None:
    name, title = held.change.filename, held.entry.get("title", "")
    with st.status(words.publishing.format(name=name), expanded=True) as status:
        bar = st.progress(0.0)
        try:
            report = held.change.publish(s, embedder=services.embedder(s.embedding_model),
                                         progress=services.progress_reporter(bar), by=user)
        except Exception as exc:
            services.log_error("publishing a draft", exc)
            status.update(state="error")
            st.error(words.refused.format(name=name, title=title, reason=reason(exc)))
            return
    st.session_state.pop(DRAFT, None)
    st.session_state[NOTICE] = words.done.format(name=name, title=title, documents=report.documents,
                                                 chunks=report.chunks)
    services.switch_now(s)  # this process answers from the new build at once
    st.rerun()
