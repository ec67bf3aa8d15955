"""Saving a rating, and later its optional comment, as one redacted feedback row.

A thumb tap is saved at once (most people never write a comment, and their
rating must not be lost). A comment sent afterwards, or a changed thumb, is
written onto the same row, so one answer counts once. ``FeedbackStore``
redacts every write.
"""

from __future__ import annotations

from assistant.feedback import FeedbackStore


def save_rating(
    store: FeedbackStore,
    row_id: int | None,
    *,
    rating: int,
    question: str,
    answer: str,
    audience: str,
    status: str,
) -> int:
    """Save (or change) the rating for one answer; returns the row id to reuse for the comment."""
    if row_id is None:
        return store.add(
            question=question, answer=answer, rating=rating, audience=audience, status=status
        )
    store.update(row_id, rating=rating)
    return row_id


def save_comment(store: FeedbackStore, row_id: int, comment: str) -> None:
    """Attach a comment (redacted, 2,000 characters at most) to a saved rating."""
    store.update(row_id, comment=comment.strip())
