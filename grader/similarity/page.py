"""``similarity.html``: the top pairs side by side, shared code highlighted.

One self-contained page: no scripts, no external assets, nothing fetched. Its size is
bounded by the number of pairs shown (``--top``): each file is shown only around the
shared passages (other lines fold into "... N lines ..."), and at most
``MAX_LINES_SHOWN`` lines of it. Template code is greyed out: it never counts.

Everything a student controls (ids, code) is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np

from grader import __version__
from grader.similarity.compare import Comparison
from grader.similarity.fingerprint import Fingerprint, runs, to_original
from grader.similarity.pairs import MIN_OWN, Pair, shared_positions

CONTEXT = 2  # lines shown around a shared passage
MAX_LINES_SHOWN = 240  # per file and pair
MAX_LINE_CHARS = 300  # longer lines are cut
PLAIN, TEMPLATE, SHARED = 0, 1, 2
CLASSES = {TEMPLATE: "tpl", SHARED: "hit"}


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def percent(x: float) -> str:
    return f"{100 * x:.0f}%"


STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 1.5rem auto; max-width: 1500px;
       padding: 0 0.75rem; color: #222; line-height: 1.4; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
h3 { font-size: 0.95rem; margin: 0.3rem 0; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.lead { background: #fff8e1; border-left: 4px solid #e0a800; padding: 0.5rem 0.8rem; }
.note { color: #666; font-size: 0.9rem; } .past { background: #e8eefc; color: #274a9b; padding: 0 0.3rem;
       border-radius: 3px; font-size: 0.8rem; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 0.8rem; }
.side { min-width: 0; border: 1px solid #ddd; }
.side h3 { background: #f6f6f6; padding: 0.3rem 0.5rem; border-bottom: 1px solid #ddd; margin: 0; }
pre { margin: 0; padding: 0.4rem 0.5rem; overflow-x: auto; font-size: 0.78rem; line-height: 1.35; }
.ln { color: #aaa; display: inline-block; width: 3.2em; text-align: right; margin-right: 0.8em; user-select: none; }
.hit { background: #ffd65c; } .tpl { color: #9a9a9a; } .fold { color: #777; font-style: italic; }
.legend span { padding: 0 0.3rem; }
"""


def char_classes(fp: Fingerprint, shared: np.ndarray) -> np.ndarray:
    """A class (plain, template, shared) for every character of ``fp.code``."""
    marks = np.full(len(fp.code), PLAIN, np.int8)
    for kind, positions in ((TEMPLATE, fp.template_positions), (SHARED, shared)):
        for start, end in to_original(fp, *runs(positions)):
            marks[start:end] = np.maximum(marks[start:end], kind)
    # A shared passage can run across template lines (they were cut out before
    # fingerprinting); those lines are still the template's, never shared code.
    for start, end in fp.template_spans:
        marks[start:end] = TEMPLATE
    return marks


def _line_html(text: str, marks: np.ndarray) -> str:
    out, i = [], 0
    while i < len(text):
        j = i
        while j < len(text) and marks[j] == marks[i]:
            j += 1
        piece = esc(text[i:j])
        kind = int(marks[i])
        out.append(f'<span class="{CLASSES[kind]}">{piece}</span>' if kind in CLASSES else piece)
        i = j
    return "".join(out)


def code_html(fp: Fingerprint, shared: np.ndarray) -> str:
    """The file with shared passages highlighted, folded to the lines around them."""
    marks = char_classes(fp, shared)
    lines = fp.code.split("\n")
    starts = np.cumsum([0] + [len(line) + 1 for line in lines[:-1]])
    hot = [bool((marks[s : s + len(line)] == SHARED).any()) for s, line in zip(starts, lines)]
    show = [False] * len(lines)
    for n, is_hot in enumerate(hot):
        if is_hot:
            for m in range(max(0, n - CONTEXT), min(len(lines), n + CONTEXT + 1)):
                show[m] = True
    out, hidden, shown = [], 0, 0
    for n, (start, line) in enumerate(zip(starts, lines)):
        if not show[n] or shown >= MAX_LINES_SHOWN:
            hidden += 1
            continue
        if hidden:
            out.append(f'<span class="fold">... {hidden} line{"s" if hidden != 1 else ""} ...</span>')
            hidden = 0
        cut = line[:MAX_LINE_CHARS]
        tail = f'<span class="fold"> ... {len(line) - len(cut)} more characters</span>' if len(line) > len(cut) else ""
        out.append(f'<span class="ln">{n + 1}</span>{_line_html(cut, marks[start : start + len(cut)])}{tail}')
        shown += 1
    if hidden:
        out.append(f'<span class="fold">... {hidden} line{"s" if hidden != 1 else ""} ...</span>')
    return "<pre>" + "\n".join(out) + "</pre>"


def who(fp: Fingerprint) -> str:
    if fp.past:
        return f'{esc(fp.label)} <span class="past">earlier term</span>'
    return esc(fp.label)


def pair_table(pairs: Sequence[Pair], link: str = "#pair-") -> str:
    """The ranked table of pairs (also embedded in report.html by ``grade --similarity``)."""
    rows = [
        "<table><tr><th>#</th><th>task</th><th>student a</th><th>student b</th><th>similarity</th>"
        "<th>a's own code found in b</th><th>b's own code found in a</th></tr>"
    ]
    for rank, p in enumerate(pairs, start=1):
        rows.append(
            f'<tr><td class=num><a href="{link}{rank}">{rank}</a></td><td>{esc(p.task)}</td>'
            f"<td>{who(p.a)}</td><td>{who(p.b)}</td><td class=num><strong>{p.similarity:.2f}</strong></td>"
            f"<td class=num>{percent(p.share_a)}</td><td class=num>{percent(p.share_b)}</td></tr>"
        )
    rows.append("</table>")
    return "\n".join(rows)


LEAD = (
    "A similarity is a lead, not a verdict. Students solving the same small task with the same "
    "hints write similar code; a high score says where to look, and only reading both files "
    "(and talking to the students) says what happened. Template code and code shared by much of the "
    "class are left out of every score. Everything here was computed on this machine; nothing was sent anywhere."
)


def render(comparison: Comparison, top: int) -> str:
    c = comparison
    shown = c.pairs[:top]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Similarity report: {esc(c.assignment.title)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>Similarity report: {esc(c.assignment.title)}</h1>",
        f'<p class="lead">{esc(LEAD)}</p>',
        _overview(c),
        f'<h2 id="top">Top {len(shown)} of {len(c.pairs)} pairs that share own code</h2>',
        pair_table(shown) if shown else "<p>No two files share code of their own.</p>",
        f'<p class="note">Similarity: the share of both files\' own code found in the other. A file with '
        f"less than {MIN_OWN} characters of own code (normalised: names and strings one symbol each, no "
        "spaces or comments) counts as if it had that many, so little own code scores low even when all "
        "of it is shared.</p>",
        '<p class="legend note">In the files below: <span class="hit">shared with the other file</span> '
        '<span class="tpl">template (never counts)</span>; unshared lines are folded.</p>',
    ]
    for rank, pair in enumerate(shown, start=1):
        parts.append(_pair_section(rank, pair))
    parts.append(
        f'<p class="note">Written by grader {esc(__version__)}: <code>python -m grader similarity</code>. '
        "The full ranking is in <code>similarity.csv</code> next to this file.</p>"
    )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _overview(c: Comparison) -> str:
    rows = [
        "<table><tr><th>task</th><th>files</th><th>earlier-term files</th><th>template fingerprints dropped</th>"
        "<th>common fingerprints dropped</th><th>files with no own code left</th></tr>"
    ]
    for task, s in c.tasks.items():
        rows.append(
            f"<tr><td>{esc(task)}</td><td class=num>{s.files}</td><td class=num>{s.past}</td>"
            f"<td class=num>{s.dropped.template}</td>"
            f"<td class=num>{s.dropped.common} (in more than {s.dropped.limit} files)</td>"
            f"<td class=num>{s.template_only}</td></tr>"
        )
    rows.append("</table>")
    past = f", compared with {c.past_students} earlier-term students (never with each other)" if c.past_students else ""
    text = (
        f"<p>{c.students} students{past}; only files of the same task are compared. A fingerprint found in more "
        f"than {percent(c.max_share)} of a task's files (and in more than {c.min_count}) counts for nobody. "
        f"{len(c.pairs)} pairs share code of their own; every other pair scores 0. "
        f"Computed in {c.seconds:.1f} s.</p>"
    )
    problems = ""
    if c.problems:
        items = "".join(f"<li>{esc(p)}</li>" for p in c.problems[:50])
        more = f"<li>and {len(c.problems) - 50} more</li>" if len(c.problems) > 50 else ""
        problems = f"<details><summary>{len(c.problems)} file(s) in the folder(s) not compared</summary><ul>{items}{more}</ul></details>"
    return '<h2 id="overview">Overview</h2>\n' + text + "\n" + "\n".join(rows) + problems


def _pair_section(rank: int, pair: Pair) -> str:
    pos_a, pos_b = shared_positions(pair.a, pair.b)
    return "\n".join(
        [
            f'<h2 id="pair-{rank}">{rank}. {esc(pair.task)}: {esc(pair.a.label)} and {esc(pair.b.label)}: '
            f"{pair.similarity:.2f}</h2>",
            '<div class="pair">',
            f'<div class="side"><h3>{who(pair.a)}: {percent(pair.share_a)} of own code found in the other</h3>'
            f"{code_html(pair.a, pos_a)}</div>",
            f'<div class="side"><h3>{who(pair.b)}: {percent(pair.share_b)} of own code found in the other</h3>'
            f"{code_html(pair.b, pos_b)}</div>",
            "</div>",
            '<p class="note"><a href="#top">back to the ranking</a></p>',
        ]
    )
