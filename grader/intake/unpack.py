"""A submissions "folder" that is the zip an LMS download came as.

``grade moodle-download.zip`` reads the zip as its folder: it is unpacked, member by
member, into a temporary folder that is removed afterwards. Unsafe members (absolute
paths, ``..``, links) are skipped, and the unpacked size is bounded, so a zip bomb cannot
fill the disk.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

MAX_UNPACKED = 4 * 1024**3  # bytes of a whole download
MAX_MEMBERS = 200_000


@contextlib.contextmanager
def submissions_folder(path: Path):
    """``path`` itself when it is a folder; an unpacked copy when it is a zip."""
    path = Path(path)
    if path.is_dir() or not path.is_file() or path.suffix.lower() != ".zip":
        yield path
        return
    target = Path(tempfile.mkdtemp(prefix="grader-download-"))
    try:
        _unpack(path, target)
        entries = [p for p in target.iterdir() if not p.name.startswith(("__MACOSX", "."))]
        # A download zipped with its own folder at the top (Gradescope's export does): that folder.
        yield entries[0] if len(entries) == 1 and entries[0].is_dir() else target
    finally:
        shutil.rmtree(target, ignore_errors=True)


def _unpack(zip_path: Path, target: Path) -> None:
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ValueError(f"{zip_path} is not a readable zip file ({exc})") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise ValueError(f"{zip_path} holds {len(members)} files, more than {MAX_MEMBERS}")
        total = 0
        for member in members:
            inner = PurePosixPath(member.filename.replace("\\", "/"))
            if inner.is_absolute() or ".." in inner.parts or (member.external_attr >> 16) & 0o170000 == 0o120000:
                continue
            destination = target.joinpath(*inner.parts)
            if member.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            total += member.file_size
            if total > MAX_UNPACKED:
                raise ValueError(f"{zip_path} unpacks to more than {MAX_UNPACKED // 1024**3} GiB")
            destination.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as source, open(destination, "wb") as sink:
                shutil.copyfileobj(source, sink)
