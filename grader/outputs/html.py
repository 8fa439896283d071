"""Small HTML helpers shared by report.html's sections."""

from __future__ import annotations

import html
from urllib.parse import quote


def esc(value: object) -> str:
    """Text made safe to put into HTML, attributes included."""
    return html.escape(str(value), quote=True)


def feedback_link(student_id: str) -> str:
    """A link from report.html to the student's feedback.md."""
    return f'<a href="{esc(quote(student_id, safe=""))}/feedback.md">{esc(student_id)}</a>'
