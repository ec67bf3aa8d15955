"""Entry point: ``streamlit run ui/app.py``. Sets the page up and routes to the chat or staff page.

Kept thin on purpose: the pages live in ``chat.py`` and ``staff.py``, wording
in ``messages.py``, formatting in ``render.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run ui/app.py` puts ui/ on the path, not the repository; the pages import `ui.*`.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from ui import messages  # noqa: E402

HERE = Path(__file__).resolve().parent

# No tracebacks or developer menu for visitors: errors are shown as short messages by the pages.
st.set_option("client.showErrorDetails", "none")
st.set_option("client.toolbarMode", "viewer")
st.set_page_config(page_title=messages.PAGE_TITLE, page_icon=":material/forum:", layout="centered")
st.html(HERE / "style.css")

chat = st.Page(
    HERE / "chat_page.py", title=messages.CHAT_NAV, icon=":material/forum:", default=True
)
staff = st.Page(
    HERE / "staff_page.py", title=messages.STAFF_NAV, icon=":material/lock:", url_path="staff"
)
# Embedded in the council's website, visitors see the chat only (the staff page is still at /staff).
embedded = bool(st.context.is_embedded)
st.navigation([chat, staff], position="hidden" if embedded else "sidebar").run()
