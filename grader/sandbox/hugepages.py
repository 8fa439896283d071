"""Moving the forkserver's private memory onto huge pages (done by :mod:`.preload_batch`).

A fork copies one page-table entry for every 4 KiB page of the server's private memory
(about 340 MB once torch and every check are loaded, some 85,000 entries), and the
child's exit takes them all down again: about 20 ms per child, more than most checks
need. On 2 MiB pages the same memory needs 512 times fewer entries. ``MADV_COLLAPSE``
(Linux 6.1+) rebuilds the server's heap and anonymous mappings on huge pages once, in
about half a second; measured here, fork + exit of a warm child went from 21 ms to 7.5 ms.
A child that writes to such a page still gets its own 4 KiB copy of just that page.

Only worth it when a run forks many children (a self-check forks one or two, and would
wait for the collapse instead), so only the batch server does it. Where the
kernel lacks the call or transparent huge pages are off, nothing changes;
``GRADER_HUGE_PAGES=0`` turns it off (to measure it, or on a machine where it misbehaves).
"""

from __future__ import annotations

import os

from grader.sandbox.native import IS_LINUX, libc

MADV_HUGEPAGE = 14
MADV_COLLAPSE = 25
HUGE_PAGE = 2 << 20


def private_anonymous_ranges() -> list[tuple[int, int]]:
    """The huge-page-aligned parts of this process's writable private heap and anonymous maps."""
    ranges: list[tuple[int, int]] = []
    try:
        with open("/proc/self/maps") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return ranges
    for line in lines:
        fields = line.split()
        perms, name = fields[1], fields[5] if len(fields) > 5 else ""
        if not perms.startswith("rw") or perms[3] != "p" or name not in ("", "[heap]"):
            continue
        low, high = (int(part, 16) for part in fields[0].split("-"))
        low = (low + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1)
        high &= ~(HUGE_PAGE - 1)
        if high > low:
            ranges.append((low, high))
    return ranges


def collapse() -> int:
    """Move what can be moved onto huge pages; return how many bytes were (0 if none)."""
    if not IS_LINUX or libc is None or os.environ.get("GRADER_HUGE_PAGES") == "0":
        return 0
    moved = 0
    for low, high in private_anonymous_ranges():
        # MADV_HUGEPAGE also lets pages the server allocates later be huge ones.
        libc.madvise(low, high - low, MADV_HUGEPAGE)
        if libc.madvise(low, high - low, MADV_COLLAPSE) == 0:
            moved += high - low
    return moved
