"""The optional LLM answerer: checked against its passages, never trusted blindly.

No real model is used: a fake LangChain chat model goes through the writer seam
(``Assistant(..., writer=LLMWriter(model=fake))``),
and a fake OpenAI-compatible server on 127.0.0.1 exercises the real ChatOpenAI
built by ``make_chat_model`` (JSON and server-sent events).
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from langchain_core.language_models import GenericFakeChatModel

from assistant import Assistant
from assistant.errors import ConfigError
from assistant.types import Reply
from assistant.writers.check import check_answer
from assistant.writers.llm import REPLACED, LLMWriter, make_chat_model

# The extractive answer: "... the council must pay you a Higher Education Bursary of £2,000. [1]"
BURSARY = "how much is the uni bursary"
GOOD = "At university, the council must pay you a Higher Education Bursary of £2,000 [1]."
INVENTED = "You get £9,999 a week [1]."
SAFEGUARDING = "i want to end it all"
NOT_FOUND = "how much is the weekly allowance for 16 and 17 year olds"


def with_llm(bot: Assistant, model: Any = None, **update: Any) -> Assistant:
    """A second Assistant sharing the session bot's index, with the LLM backend switched on."""
    update = {"llm_backend": "openai", "llm_model": "fake", **update}
    return Assistant(
        settings=bot.settings.model_copy(update=update),
        embedder=bot.embedder,
        index=bot.index,
        glossary=bot.glossary,
        writer=LLMWriter(model=model),
    )


def fake(*answers: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter(answers))


def unused(model: GenericFakeChatModel) -> bool:
    """True if the fake was never called: its one answer is still unread."""
    return next(model.messages, None) == "never"


def drain(stream: Iterator[str | Reply]) -> tuple[list[str], Reply]:
    items = list(stream)
    assert isinstance(items[-1], Reply) and all(isinstance(i, str) for i in items[:-1])
    return items[:-1], items[-1]


def rejections(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "assistant.writers.llm" and r.levelno == logging.WARNING
    ]


# -- the check, as a pure function ---------------------------------------------------------

PASSAGES = [
    "The council must pay you a Higher Education Bursary of £2,000. Support lasts to age 25.",
    "More care leavers in education, employment or training (age 18-21): 52%; ambition 60%. "
    "Strategy 2025-28.",
]


@pytest.mark.parametrize(
    "answer",
    [
        "You get a bursary of £2,000 [1].",
        "You get a bursary of 2000 pounds [1]. The ambition is 60 per cent [2].",
        "- Bursary: £2,000.00 [1]\n- Help until you are 25 [1]\n- For 18 to 21 year olds: 60% [2]",
        "The bursary is £2,000. It is paid by the council [1].",  # uncited: any cited passage
        "The ambition runs to 2028 [2].",  # "2025-28" names 2028
        "1. Ask your PA about it [1].\n2. Apply in year two [1][2].",  # list numbers are not facts
        "The bursary is £2,000 and the ambition is 60% [1, 2].",
    ],
)
def test_check_accepts_grounded_answers(answer: str) -> None:
    assert check_answer(answer, PASSAGES) == []


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("You get £9,999 a week [1].", "£9,999"),
        ("You get a bursary of £2,000 [7].", "[7]"),
        ("You get a bursary of £2,000.", "cites no passage"),
        ("The ambition is 60% [1].", "60%"),  # 60% is in passage 2, not in the one cited
        ("You get £52 [2].", "£52"),  # 52 is a percentage there, not an amount
        ("You get £2,000 [1]. You get 3 payments.", "'3'"),
        ("", "empty"),
    ],
)
def test_check_rejects_ungrounded_answers(answer: str, problem: str) -> None:
    problems = check_answer(answer, PASSAGES)
    assert problems and problem in " ".join(problems)


# -- a fake LangChain chat model through the writer seam -----------------------------------


def test_grounded_answer_is_used(bot: Assistant) -> None:
    extractive = bot.ask(BURSARY)
    reply = with_llm(bot, fake(GOOD)).ask(BURSARY)
    assert reply.status == "answered" and reply.backend == "llm"
    assert reply.text == GOOD
    assert [c.number for c in reply.citations] == [1]
    assert reply.citations[0] == extractive.citations[0]  # the same verbatim quote and source
    assert reply.standalone_question == extractive.standalone_question


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (INVENTED, "£9,999"),
        ("The bursary is £2,000 [7].", "[7]"),
        ("The council pays a bursary of £2,000 to students.", "cites no passage"),
    ],
)
def test_unchecked_answer_is_replaced_by_extractive(
    bot: Assistant, caplog: pytest.LogCaptureFixture, answer: str, reason: str
) -> None:
    caplog.set_level(logging.WARNING, logger="assistant.writers.llm")
    reply = with_llm(bot, fake(answer)).ask(BURSARY)
    assert reply.backend == "extractive"
    assert reply.text == bot.ask(BURSARY).text
    assert any(reason in message for message in rejections(caplog))


@pytest.mark.parametrize(
    ("question", "status"), [(SAFEGUARDING, "safeguarding"), (NOT_FOUND, "not_found")]
)
def test_model_is_never_called_before_an_answer(bot: Assistant, question: str, status: str) -> None:
    model = fake("never")
    twin = with_llm(bot, model)
    assert twin.ask(question).status == status
    pieces, reply = drain(twin.ask_stream(question))
    assert reply.status == status and "".join(pieces) == reply.text
    assert unused(model)


def test_stream_yields_tokens_then_checked_reply(bot: Assistant) -> None:
    pieces, reply = drain(with_llm(bot, fake(GOOD)).ask_stream(BURSARY))
    assert len(pieces) > 5
    assert reply.backend == "llm" and "".join(pieces) == reply.text == GOOD


def test_reasoning_block_is_not_part_of_the_answer(bot: Assistant) -> None:
    reply = with_llm(bot, fake(f"<think>Maybe £50 a week?</think>\n{GOOD}")).ask(BURSARY)
    assert reply.backend == "llm" and reply.text == GOOD


def test_stream_replaces_failed_answer_visibly(
    bot: Assistant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="assistant.writers.llm")
    pieces, reply = drain(with_llm(bot, fake(INVENTED)).ask_stream(BURSARY))
    extractive = bot.ask(BURSARY)
    assert reply == extractive
    assert "".join(pieces) == INVENTED + REPLACED + extractive.text
    assert rejections(caplog)


# -- a fake OpenAI-compatible server and the real ChatOpenAI --------------------------------


@dataclass
class FakeServer:
    """What the fake server answers, and what it was asked."""

    url: str = ""
    content: str = GOOD
    status: int = 200
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)


def _handler(state: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            state.requests.append({"path": self.path, "body": body})
            time.sleep(state.delay)
            try:
                if self.path != "/v1/chat/completions" or state.status != 200:
                    error = {"error": {"message": "boom", "type": "server_error"}}
                    self._send(state.status if state.status != 200 else 404, error)
                elif body.get("stream"):
                    self._stream(body)
                else:
                    self._send(200, _completion(body, state.content))
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        def _send(self, status: int, answer: dict[str, Any]) -> None:
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _stream(self, body: dict[str, Any]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            tokens = re.findall(r"\S+\s*", state.content)
            deltas = [{"role": "assistant", "content": ""}, *({"content": t} for t in tokens), {}]
            for i, delta in enumerate(deltas):
                finish = "stop" if i == len(deltas) - 1 else None
                chunk = {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": body.get("model"),
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                }
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")

        def log_message(self, *args: Any) -> None:
            return None

    return Handler


def _completion(body: dict[str, Any], content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


@pytest.fixture
def server() -> Iterator[FakeServer]:
    state = FakeServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def test_make_chat_model_needs_url_and_model(bot: Assistant) -> None:
    with pytest.raises(ConfigError, match="ASSISTANT_LLM_BASE_URL"):
        make_chat_model(bot.settings.model_copy(update={"llm_backend": "openai", "llm_model": "x"}))
    model = make_chat_model(with_llm(bot, llm_base_url="http://127.0.0.1:9/v1").settings)
    assert (model.max_retries, model.temperature, model.model_name) == (0, 0, "fake")


def test_server_answer_is_checked_and_used(bot: Assistant, server: FakeServer) -> None:
    reply = with_llm(bot, llm_base_url=server.url).ask(BURSARY)
    assert reply.backend == "llm" and reply.text == GOOD
    body = server.requests[-1]["body"]
    assert body["model"] == "fake" and body["temperature"] == 0 and not body.get("stream")
    system, human = body["messages"]
    assert system["role"] == "system" and "ONLY" in system["content"] and "[1]" in system["content"]
    quote = bot.ask(BURSARY).citations[0].quote
    assert human["content"].startswith("Passages:\n\n[1] ")
    assert f"Key sentence: {quote}" in human["content"]
    assert human["content"].endswith(f"Question: {reply.standalone_question}")


def test_prompt_is_written_for_the_audience(bot: Assistant, server: FakeServer) -> None:
    twin = with_llm(bot, llm_base_url=server.url)
    twin.ask(BURSARY, audience="care_leaver")
    twin.ask(BURSARY, audience="staff")
    leaver, staff = (r["body"]["messages"][0]["content"] for r in server.requests)
    assert "plain words" in leaver and "acronym" in leaver and "formal" not in leaver
    assert "formal" in staff and "legal" in staff and "plain words" not in staff


def test_server_invented_number_is_rejected(bot: Assistant, server: FakeServer,
                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="assistant.writers.llm")
    server.content = INVENTED
    reply = with_llm(bot, llm_base_url=server.url).ask(BURSARY)
    assert reply.backend == "extractive" and len(server.requests) == 1
    assert any("£9,999" in message for message in rejections(caplog))


def test_server_stream_yields_tokens(bot: Assistant, server: FakeServer) -> None:
    pieces, reply = drain(with_llm(bot, llm_base_url=server.url).ask_stream(BURSARY))
    assert server.requests[-1]["body"]["stream"] is True
    assert len(pieces) > 5 and "".join(pieces) == GOOD
    assert reply.backend == "llm" and reply.text == GOOD


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("failure", ["http_500", "not_listening", "timeout"])
def test_unreachable_model_keeps_extractive_answer(
    bot: Assistant, server: FakeServer, caplog: pytest.LogCaptureFixture, failure: str
) -> None:
    caplog.set_level(logging.WARNING)
    url = server.url
    if failure == "http_500":
        server.status = 500
    elif failure == "not_listening":
        url = f"http://127.0.0.1:{_free_port()}/v1"
    else:
        server.delay = 1.0
    twin = with_llm(bot, llm_base_url=url, llm_timeout=0.3)
    extractive = bot.ask(BURSARY)
    assert twin.ask(BURSARY) == extractive
    pieces, reply = drain(twin.ask_stream(BURSARY))
    assert reply == extractive and "".join(pieces) == extractive.text
    expected = {
        "http_500": "HTTP 500",
        "not_listening": "could not be reached",
        "timeout": "did not answer",
    }[failure]
    # Logged once for ask() and once for ask_stream().
    assert sum(expected in r.getMessage() for r in caplog.records) == 2


def test_a_message_near_the_line_streams_the_urgent_contacts_first(bot: Assistant) -> None:
    question = "my foster carer shouts at me and it scares me, can i move placement"
    assert bot.plan(question).risk.level == "near"
    pieces, final = drain(with_llm(bot, fake(INVENTED)).ask_stream(question))
    assert pieces[0].startswith("**If you need to talk to someone now:**")
    assert final.text.startswith("**If you need to talk to someone now:**")  # the checked-out fallback too
