"""Layer 5, disk: the child's scratch folder becomes a private tmpfs with a size and a file limit.

Without it, one child could write gigabytes into its scratch folder (measured: 2.5 GB in a
20 s import) and fill the grading machine's disk, and with it everyone's results. After
the network layer the child owns a user namespace; in it, the child makes a mount
namespace of its own and mounts a tmpfs of :data:`QUOTA_BYTES` and :data:`QUOTA_FILES` on
its scratch folder, then puts back the student's file the parent staged there. Nothing
outside the child sees the mount, and it vanishes with the child. A child that fills it
gets ENOSPC, like any full disk.

What the parent reads back afterwards (the native output file) was opened before the
mount, so it stays on the real disk, bounded by the file-size limit (:mod:`.limits`).
Must run before the filesystem layer (whose rule then applies to the tmpfs) and before
seccomp (which refuses ``mount``).
"""

from __future__ import annotations

import os

from grader.sandbox.native import (
    CLONE_NEWNS,
    IS_LINUX,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_REC,
    mount,
    unshare,
)

QUOTA_BYTES = 64 * 1024**2
QUOTA_FILES = 4096


def private_scratch(scratch: str, staged: list[str]) -> str:
    """Mount the quota'd tmpfs on ``scratch`` and copy the ``staged`` files into it; return how."""
    if not IS_LINUX:
        raise OSError(0, "mount namespaces are Linux-only")
    contents = {}
    for path in staged:
        with open(path, "rb") as fh:
            contents[path] = fh.read()
    try:
        unshare(CLONE_NEWNS)
    except OSError as exc:
        raise OSError(exc.errno, f"unshare(mount) refused: {exc.strerror}") from None
    mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing mounted here shows outside
    options = f"size={QUOTA_BYTES},nr_inodes={QUOTA_FILES},mode=0700,uid={os.geteuid()},gid={os.getegid()}"
    mount("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, options)
    for path, data in contents.items():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o400)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
    os.chdir(scratch)  # the old working directory is the folder under the mount
    return f"private tmpfs of {QUOTA_BYTES // 1024**2} MiB and {QUOTA_FILES} files"
