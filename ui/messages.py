
"""Every word the app shows, in one place.

Readers are young people (often on a phone, some reading English as a second
language, some in crisis) and new council staff, so the wording is short, plain
and kind, and says what to do next. Keeping it here lets a council reword or
translate the app without touching its logic, and lets tests assert on it.
Placeholders in braces are filled with ``str.format``.
"""

from __future__ import annotations

# -- page -------------------------------------------------------------------------------

PAGE_TITLE = "Care leavers' assistant"
CHAT_NAV = "Ask a question"
STAFF_NAV = "Staff"
TITLE = "Ask about care and leaving care"
INTRO = (
    "Answers come from {council}'s documents, with the source under each answer. "
    "It can't see your records: for advice about you, talk to {advice}."
)

# -- help panel -----------------------------------------------------------------------

HELP_BUTTON = "Need help now?"
HELP_DANGER = "**If you are in danger right now, call [999](tel:999).**"
HELP_URGENT_HEADING = "**Talk to someone now**"
HELP_COUNCIL_HEADING = "**{council}**"

# -- asking -----------------------------------------------------------------------------

AUDIENCE_LABEL = "Who is asking?"
AUDIENCES = {"care_leaver": "A young person or care leaver", "staff": "Council staff"}
STARTERS_HEADING = "Try asking"
STARTERS = {
    "care_leaver": [
        "What money can I get for university?",
        "Can I stay with my foster carer after 18?",
        "Can I get a free Oyster card?",
        "Do care leavers pay council tax?",
        "What is a personal adviser?",
    ],
    "staff": [
        "What are the corporate parenting principles?",
        "What is the EET target?",
        "Who chairs the Corporate Parenting Board?",
        "Who chaired the Corporate Parenting Board in 2021–24?",
        "What does the strategy say about housing for care leavers?",
    ],
}
CHAT_PLACEHOLDER = "Type your question"
NEW_CONVERSATION = "New conversation"
THINKING = "Looking in the documents…"
YOU = "You asked"

# -- answers ----------------------------------------------------------------------------

SOURCES_LABEL = "Where this answer comes from"
SOURCE_SECTION = "Section: {section}"
SOURCE_PAGE = "page {page}"
SOURCE_LINK = "Open the source: {title}"
SUPERSEDED = "Superseded — replaced by the {title}"
SUPERSEDED_UNKNOWN = "Superseded — an older document"
ASK_INSTEAD = "For anything else, {advice} can help."

# -- feedback ---------------------------------------------------------------------------

FEEDBACK_PROMPT = "Was this answer helpful?"
FEEDBACK_THANKS = "Thank you — your rating was saved."
FEEDBACK_COMMENT = "Tell us more (optional)"
FEEDBACK_COMMENT_HELP = "Please don't include your name, phone number or address."
FEEDBACK_SEND = "Send comment"
FEEDBACK_COMMENT_THANKS = "Thank you — your comment was saved."
FEEDBACK_FAILED = "Sorry, your feedback could not be saved just now. Please try again later."

# -- getting ready ----------------------------------------------------------------------

LOADING = "Getting the assistant ready…"
BUILDING = (
    "Getting the documents ready. This only happens the first time and can take a few minutes."
)
BUILD_DONE = "The documents are ready."
STAGE = "{stage}: {done} of {total}"

# -- errors (short, human, what to do) --------------------------------------------------

ERROR_GENERIC = (
    "Sorry, something went wrong on our side. Please try again in a few minutes. "
    "If you need help now, tap “Need help now?” at the bottom of the screen."
)
ERROR_NOT_READY = (
    "Sorry, the assistant isn't working right now. Please try again later. "
    "If you need help now, tap “Need help now?” at the bottom of the screen."
)
ERROR_SETTINGS = (
    "The assistant's settings have a problem, so it can't start. Staff: check council.toml and the "
    "ASSISTANT_ settings — the server log says which setting is wrong."
)
ERROR_QUESTION = "{reason}"

# -- staff page -------------------------------------------------------------------------

STAFF_TITLE = "Staff tools"
STAFF_NO_PASSWORD = (
    "The staff page is locked because no staff password is set. To turn it on, set the environment "
    'variable `ASSISTANT_STAFF_PASSWORD`, or add `staff_password = "…"` to council.toml, '
    "then restart "
    "the app."
)
STAFF_PASSWORD = "Staff password"
STAFF_SIGN_IN = "Sign in"
STAFF_WRONG_PASSWORD = "That password is not right. Please try again."
STAFF_SIGN_OUT = "Sign out"
STAFF_LOAD_FAILED = (
    "The assistant could not open its index: {reason} Fix the cause, then rebuild below."
)

DOCS_HEADING = "Documents in the index"
DOCS_SUMMARY = "{documents} documents, {chunks} passages."
DOCS_COLUMNS = {
    "id": "ID",
    "title": "Title",
    "status": "Status",
    "kind": "Kind",
    "chunks": "Passages",
}

REBUILD_HEADING = "Rebuild the index"
REBUILD_HELP = (
    "Reads every document in the corpus folder again and builds a new index. "
    "The current index keeps "
    "answering until the new one is ready."
)
REBUILD_BUTTON = "Rebuild the index"
REBUILD_RUNNING = "Rebuilding the index…"
REBUILD_DONE = "Rebuilt: {documents} documents, {chunks} passages in {seconds:.0f} s."
REBUILD_FAILED = "The index was not rebuilt: {reason} The previous index is still answering."

UPLOAD_HEADING = "Add a document"
UPLOAD_HELP = (
    "PDF, HTML, Markdown or text. The file is checked first; "
    "if it can't be used, nothing changes and "
    "the assistant keeps answering from the documents it has."
)
UPLOAD_FILE = "Document file"
UPLOAD_FIELDS = {
    "id": "ID (lower-case letters, digits and hyphens, e.g. local-offer-2026)",
    "title": "Title, with its period (e.g. Care Leavers' Local Offer 2026)",
    "publisher": "Publisher",
    "published": "Year published",
    "period": "Period covered (e.g. 2026–27)",
    "status": "Status",
    "superseded_by": "Replaced by (only if this document is superseded)",
    "kind": "Kind",
    "source_url": "Web address of the original (https://…)",
}
UPLOAD_NOT_SUPERSEDED = "— not replaced —"
UPLOAD_BUTTON = "Check and add the document"
UPLOAD_RUNNING = "Checking and indexing {name}…"
UPLOAD_NO_FILE = "Choose a file to add first."
UPLOAD_DONE = "Added {name}. The index now has {documents} documents and {chunks} passages."
UPLOAD_REFUSED = (
    "{name} was not added: {reason} "
    "The assistant is still answering from the documents it had before."
)

EVAL_HEADING = "Latest evaluation"
EVAL_MISSING = "No evaluation report yet. Run `assistant eval` to make one."
EVAL_CHART = "Evaluation chart: {name}"

FEEDBACK_HEADING = "Recent feedback"
FEEDBACK_NONE = "No feedback yet."
FEEDBACK_COLUMNS = {
    "created": "When",
    "audience": "Audience",
    "rating": "Rating",
    "status": "Answer type",
    "question": "Question (redacted)",
    "comment": "Comment (redacted)",
}
RATING = {1: "👍 helpful", 0: "👎 not helpful"}

EXPLAIN_HEADING = "Explain an answer"
EXPLAIN_HELP = (
    "Ask a question as someone would, and see why the assistant answers as it does: each step "
    "of the turn, the passages search found with their scores, the statements chosen and why, "
    "and where to look if the answer is wrong. Explaining never changes the answer."
)
EXPLAIN_QUESTION = "Question"
EXPLAIN_AUDIENCE = "Asked by"
EXPLAIN_BUTTON = "Explain"
EXPLAIN_NO_QUESTION = "Type a question to explain first."
EXPLAIN_FAILED = "The question could not be explained: {reason}"
EXPLAIN_ANSWER = "**The answer** ({status}, written by the {backend} writer)"
EXPLAIN_STANDALONE = "Standalone question: {standalone}"
EXPLAIN_STEPS = "**Steps, in order**"
EXPLAIN_SETTLED = "Settled by the step: **{step}**"
EXPLAIN_CANDIDATES = "**Candidate passages** (the first {k} are kept)"
EXPLAIN_MORE_CANDIDATES = "… and {more} more candidates, ranked lower."
EXPLAIN_NO_CANDIDATES = "No search ran for this message."
EXPLAIN_STATEMENTS = "**Statements chosen, and why**"
EXPLAIN_NO_STATEMENTS = "No statement was chosen."
EXPLAIN_STEP_COLUMNS = {"number": "#", "step": "Step", "verdict": "Verdict"}
EXPLAIN_CANDIDATE_COLUMNS = {
    "rank": "Rank",
    "kept": "Kept",
    "document": "Document",
    "section": "Section",
    "dense_rank": "Meaning rank",
    "dense_cosine": "Similarity",
    "bm25_rank": "Word rank (BM25)",
    "bm25_score": "BM25 score",
    "fused": "Fused score",
    "score": "Final score",
}
EXPLAIN_STATEMENT_COLUMNS = {
    "number": "#",
    "document": "Document",
    "section": "Section",
    "statement": "Statement",
    "score": "Score",
    "overlap": "Question words",
    "why": "Why chosen",
    "cited": "Cited as",
}
