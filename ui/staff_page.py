"""The staff page (see ui/staff.py)."""

from ui import staff

staff.page()
