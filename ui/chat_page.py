"""The chat page (see ui/chat.py)."""

from ui import chat

chat.page()
