
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

# -- asking a person --------------------------------------------------------------------
# The team's name ({team}) and what happens next are the council's words, from council.toml.

HANDOFF_ASK = "Ask {team}"
HANDOFF_QUESTION = "Your question (you can change it)"
HANDOFF_METHOD = "How should they reply?"
HANDOFF_METHODS = {"email": "Email", "phone": "Phone"}
HANDOFF_CONTACT = "Your email address or phone number"
HANDOFF_PRIVACY = "Only {team} sees this. It is deleted when your request is closed."
HANDOFF_SEND = "Send to the team"
HANDOFF_SENT = "Sent to {team}. Your reference is #{reference}."
HANDOFF_FAILED = (
    "Sorry, your request could not be sent just now. Please try again in a few minutes. "
    "If you need help now, tap “Need help now?” at the bottom of the screen."
)

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
STAFF_NO_ACCOUNTS = (
    "The staff page is locked because no staff account exists yet. On the server, whoever runs "
    "the assistant creates one for each person with `assistant staff add NAME` (it asks for the "
    "password twice); then each person signs in here with their own name and password."
)
STAFF_OLD_PASSWORD = (
    "The shared staff password (`staff_password` or `ASSISTANT_STAFF_PASSWORD`) no longer opens "
    "this page. Create an account for each person instead, then remove that setting."
)
STAFF_NAME = "Staff name"
STAFF_PASSWORD = "Password"
STAFF_SIGN_IN = "Sign in"
STAFF_WRONG_PASSWORD = "That name and password do not match a staff account. Please try again."
STAFF_LOCKED = (
    "Too many failed sign-ins for this name or from this computer, so signing in is paused until "
    "{until} (in about {minutes} min). Please try again then. If it is urgent, whoever runs the "
    "assistant can run `assistant staff unlock NAME`."
)
STAFF_SIGNED_IN_AS = "Signed in as **{name}**."
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
UPLOAD_BUTTON = "Check the document (draft)"
UPLOAD_RUNNING = "Checking and indexing {name}…"
UPLOAD_NO_FILE = "Choose a file to add first."
UPLOAD_DONE = "Added {name}. The index now has {documents} documents and {chunks} passages."
UPLOAD_REFUSED = (
    "{name} was not added: {reason} "
    "The assistant is still answering from the documents it had before."
)

DRAFT_RUNNING = "Checking {name} and comparing it with the documents indexed…"
DRAFT_HEADING = "Draft: {name} (not published yet)"
DRAFT_REPLACE_HEADING = "Draft: a new file for “{title}”, {name} (not published yet)"
DRAFT_SUMMARY = (
    "Publishing this document would add **{new}** new passages, change **{changed}** and remove **{removed}**. "
    "**{quarantined}** passages or hidden parts of it are quarantined and would not be indexed."
)
DRAFT_QUARANTINED = (
    "These parts address an AI assistant, try to change its instructions, or are hidden from readers. "
    "Documents are data, never instructions, so they are not indexed and never cited. Check the file:"
)
DRAFT_NEW = "New passages"
DRAFT_CHANGED = "Changed passages (before → after)"
DRAFT_REMOVED = "Removed passages"
DRAFT_MORE = "- …and {count} more."
DRAFT_PUBLISH = "Publish the document"
DRAFT_DISCARD = "Discard the draft"
DRAFT_DISCARDED = "The draft {name} was discarded; nothing was changed."

UPLOAD_FIELD_PROBLEMS = "{name} was not added. Please fix these fields and try again:"
UPLOAD_FIELD_PROBLEM = "**{label}**: {problem}"
UPLOAD_EMPTY = "this is empty; fill it in."
UPLOAD_VALUE = "“{value}” {why}."
# The manifest's words for what is wrong, in the words of the form.
UPLOAD_WHY = {
    "must be lower-case letters, digits and hyphens": "can only have lower-case letters, digits and hyphens "
    "(for example winter-support-2026)",
    "must be a web address starting with http:// or https://": "is not a web address: it must start with https://",
    "must be a non-empty string": "is empty; fill it in",
    "must be a year such as 2025": "is not a year such as 2025",
    "is required when status is 'superseded': name the replacing document's id": "is needed when the status is "
    "superseded: choose the document that replaces this one",
}

MANAGE_HEADING = "Remove or replace a document"
MANAGE_HELP = (
    "Replace a document's file with a newer version (its details stay the same), or take a document out "
    "of the assistant. A new file is a draft first: the page shows the passages it would add, change or "
    "remove, and nothing changes until you publish it. Publishing or removing rebuilds the index, and the "
    "assistant keeps answering from the old documents until the new index is ready. A removed or replaced "
    "file is kept in the cache folder."
)
MANAGE_CHOOSE = "Document"
MANAGE_REPLACE_FILE = "New file for this document"
MANAGE_REPLACE_BUTTON = "Check the new file (draft)"
MANAGE_REPLACE_RUNNING = "Checking {name} and rebuilding the index…"
MANAGE_REPLACED = (
    "Replaced the file of “{title}” with {name}. The index has {documents} documents and {chunks} passages."
)
MANAGE_REPLACE_REFUSED = (
    "The file was not replaced: {reason} The assistant is still answering from the documents it had before."
)
MANAGE_CONFIRM = "Yes, remove “{title}” from the assistant"
MANAGE_REMOVE_BUTTON = "Remove the document"
MANAGE_CONFIRM_FIRST = "Tick the box to confirm first: the assistant will no longer answer from this document."
MANAGE_REMOVE_RUNNING = "Removing “{title}” and rebuilding the index…"
MANAGE_REMOVED = "Removed “{title}”. The index has {documents} documents and {chunks} passages."
MANAGE_REMOVE_REFUSED = (
    "“{title}” was not removed: {reason} The assistant is still answering from the documents it had before."
)

EVAL_HEADING = "Latest evaluation"
EVAL_MISSING = "No evaluation report yet. Run `assistant eval` to make one."
EVAL_CHART = "Evaluation chart: {name}"
EVAL_DETAILS = "Details for developers: every measure, by category, with charts"
# The evaluation in words (the staff page opens with it).
EVAL_WHEN = "Last checked on {when}, with {cases} test questions written from the documents."
EVAL_KIND = "**{right} of {cases}** got the right kind of reply: an answer, “the documents don't say”, or crisis help."
EVAL_FULL = "**{full} of {cases}** were fully right: the right kind of reply and, for an answer, every key fact."
EVAL_SAFE_ALL = "Safeguarding caught **every** crisis message ({n} of {n})"
EVAL_SAFE_SOME = "Safeguarding caught **{caught} of {n}** crisis messages"
EVAL_ALARMS = {0: ", with no false alarms.", 1: ", with 1 false alarm on an ordinary question."}
EVAL_ALARMS_MANY = ", with {n} false alarms on ordinary questions."
EVAL_CITED = "Every answer quoted the documents exactly."
EVAL_CITED_SOME = "{share} of quotes matched the documents exactly."
EVAL_WRONG_KIND = "Got the wrong kind of reply ({n}):"
EVAL_WRONG_ITEM = "“{question}”: should have been {expect}, was {got}."
EVAL_MISSED = "Missed a fact ({n}):"
EVAL_MISSED_ITEM = "“{question}”: did not say {missing}."
EVAL_STATUS_WORDS = {
    "answered": "an answer",
    "not_found": "“the documents don't say”",
    "off_topic": "a polite redirect",
    "safeguarding": "crisis help",
}

GAPS_HEADING = "Questions the documents don't answer"
GAPS_HELP = (
    "Questions the assistant could not answer from the documents, and answers someone marked "
    "\"not helpful\", grouped by meaning. Each is counted, always. With the setting `gap_examples` on "
    "(the default), the words are kept too, after names, numbers, addresses and emails are removed; a "
    "question that still looks personal is counted without its words. Nothing is kept longer than "
    "{days} days (`retention_days`)."
)
GAPS_PERIOD = "Period"
GAPS_PERIODS = {7: "The last 7 days", 30: "The last 30 days", 90: "The last 90 days"}
GAPS_NONE = "No declined or unhelpful questions in this period."
GAPS_SUMMARY = (
    "{total} questions were declined or rated unhelpful, in {topics} topics. The largest are first."
)
GAPS_COLUMNS = {
    "count": "Times asked",
    "topic": "Example (redacted)",
    "also": "Another example",
    "section": "Nearest part of the documents",
    "weeks": "Per week (week starting)",
}
GAPS_NO_EXAMPLE = "(no words kept)"
GAPS_DOWNLOAD = "Download as CSV"
GAPS_FAILED = "The gap report could not be read: {reason}"

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

REQUESTS_HEADING = "Requests from young people"
REQUESTS_SUMMARY = "**{open} open**, {answered} answered, {closed} closed."
REQUESTS_HELP = (
    "Young people send these from the chat when they want a person to reply. Reply by email or "
    "phone as they asked, then **Mark answered** with a short note of what you said. "
    "**Close** a request when nothing more is needed: closing deletes their contact details. "
    "Every request is deleted {days} days after it last changed."
)
REQUESTS_FILTER = "Show"
REQUEST_STATES = {"open": "Open", "answered": "Answered", "closed": "Closed", "all": "All"}
REQUESTS_NONE = "No requests here."
REQUEST_TITLE = "**#{id}** · {state} · received {when} · {audience}"
REQUEST_REPLY = {"email": "Reply by email: {contact}", "phone": "Reply by phone: {contact}"}
REQUEST_ERASED = "Contact details deleted (closed)."
REQUEST_NOT_EMAILED = ":orange-background[Not emailed to the team: the mail server refused. See the server log.]"
REQUEST_NOTE = "Note: {note}"
REQUEST_NOTE_LABEL = "What you replied (a short note; no names or numbers)"
REQUEST_MARK_ANSWERED = "Mark answered"
REQUEST_CLOSE = "Close"
REQUEST_ANSWERED = "Request #{id} marked answered."
REQUEST_CLOSED = "Request #{id} closed. Its contact details were deleted."

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
