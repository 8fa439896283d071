"""The result channel's rules: which messages from a child the grader accepts.

Student code runs in the child next to the harness and can write to the result channel as
well. So the parent trusts nothing a child sends unless it fits the protocol of the
current moment; :func:`out_of_turn` says what breaks it, and the runner then stops the
child and reports the tampering.
"""

from __future__ import annotations

from typing import Any

from grader.assignment import Case
from grader.grading.jobs import FileJob


def out_of_turn(job: FileJob, message: Any, cases: dict[str, list[Case]]) -> str | None:
    """Why ``message`` breaks the child's protocol, or None.

    Student code can write to the result channel too. What the parent accepts keeps the
    answers useless to it: names start in their order, each once; a case is accepted only
    for the name whose turn it is, once. So once a name's turn has ended, and a stand-in
    that could answer it may have reached the child, nothing about it is accepted any more.
    """
    if not isinstance(message, tuple) or not message or not isinstance(message[0], str):
        return "a message the grader does not know"
    kind = message[0]
    if kind == "imported":
        if job.imported or job.current is not None or len(message) != 5:
            return "a second report of the file's import"
        job.imported = True
        return None
    if kind == "start":
        key = message[1] if len(message) == 2 else None
        given = key == job.current and key not in job.started  # its turn was given before it asked
        if not job.imported or not (given or (job.order and key == job.order[0])):
            return "a name started out of turn"
        return None
    if kind == "case":
        if len(message) != 8 or message[1] != job.current or job.current not in job.outcomes:
            return "a result for a name whose turn it is not"
        if message[2] not in {c.id for c in cases[job.current]}:
            return "a result for an input the grader did not give"
        if message[2] in job.outcomes[job.current].cases:
            return "a second result for the same input"
        return None
    if kind in ("sandbox", "refused"):  # sent before any student code runs
        return "a sandbox report after the file was loaded" if job.imported else None
    if kind in ("end", "fatal"):
        return None
    return "a message the grader does not know"
