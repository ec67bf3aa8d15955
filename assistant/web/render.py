"""Answer text to safe HTML: Markdown with raw HTML off, [n] as citation links, phones as tel: links."""

from __future__ import annotations

import re
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from assistant.types import Reply

# -- answer rendering ---------------------------------------------------------------------

_CITE = re.compile(r"\[(\d{1,3})\]")
# UK numbers after "Call", and full 11-digit UK numbers anywhere: tappable on a phone.
_PHONE = re.compile(
    r"(?<=\b[Cc]all )(?:999|111|101|116 ?123|0\d{3} ?\d{3} ?\d{4})\b|\b0\d{2,4} ?\d{3,4} ?\d{3,4}\b"
)


def _markdown() -> MarkdownIt:
    """CommonMark with raw HTML and images off; [n] and phone numbers become links."""
    md = MarkdownIt("commonmark", {"html": False}).disable("image")
    md.core.ruler.push("citations_and_phones", _link_citations_and_phones)

    def link_open(renderer: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        if str(token.attrGet("href") or "").startswith(("http://", "https://")):
            token.attrSet("rel", "noopener noreferrer nofollow")
            token.attrSet("target", "_blank")
        return str(renderer.renderToken(tokens, idx, options, env))

    md.add_render_rule("link_open", link_open)
    return md


def _link_citations_and_phones(state: Any) -> None:
    """Turn ``[n]`` (for citations that exist) and phone numbers in text into link tokens."""
    numbers: set[int] = state.env.get("citation_numbers", set())
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        in_link = 0
        for token in block.children:
            in_link += token.type == "link_open"
            in_link -= token.type == "link_close"
            if token.type != "text" or in_link:
                children.append(token)
                continue
            children.extend(_split_text(token.content, numbers))
        block.children = children


def _split_text(text: str, numbers: set[int]) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    pattern = re.compile(f"{_CITE.pattern}|{_PHONE.pattern}")
    for match in pattern.finditer(text):
        if match.group(1) is not None:
            if int(match.group(1)) not in numbers:
                continue
            href, css, label = f"#cite-{match.group(1)}", "cite", match.group(0)
        else:
            href, css, label = "tel:" + re.sub(r"\D", "", match.group(0)), "tel", match.group(0)
        if match.start() > position:
            tokens.append(_text(text[position : match.start()]))
        opening = Token("link_open", "a", 1)
        opening.attrs = {"href": href, "class": css}
        tokens += [opening, _text(label), Token("link_close", "a", -1)]
        position = match.end()
    if position < len(text):
        tokens.append(_text(text[position:]))
    return tokens


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


_MD = _markdown()


def render_html(text: str, citation_numbers: set[int] | None = None) -> str:
    """The answer as HTML safe to insert into a page: markdown rendered, any HTML escaped."""
    return _MD.render(text, {"citation_numbers": citation_numbers or set()})


def reply_body(reply: Reply) -> dict[str, Any]:
    body = reply.to_dict()
    body["html"] = render_html(reply.text, {c.number for c in reply.citations})
    return body


