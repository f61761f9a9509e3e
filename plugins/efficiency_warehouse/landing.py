"""The landing folder as the warehouse sees it: what waits there, in what order, and what is refused.

Others write the landing folders (councils' uploads, an operator's copy, a sync job), so nothing in
them is trusted:

- Only a regular file is ever opened, with ``O_NOFOLLOW``, and read once: the copy kept in the received
  store is made from that open file, and everything after reads the copy. A symbolic link, a folder, a
  named pipe or a device is never opened (a link to ``/proc/self/environ`` would copy the warehouse's
  secrets): it is refused, recorded in the manifest with the reason and moved aside.
- A file the warehouse cannot read (its permissions) is refused and moved aside the same way; the
  reason says how to send it again.
- Names are shown safely: bytes that are not UTF-8 are written as ``\\xe9``.
- A name starting with a dot is, by convention, an upload still being written (rsync, scp, most sync
  tools write ``.name.XXXX`` and rename it when done): it is left to finish, and said in the log. One
  still there, unchanged, after ``HIDDEN_FILE_GRACE`` is no upload in progress: it is refused.
- Arrival is the warehouse's clock: the time the file was first seen here (``ingest.landing_arrivals``),
  not its modification time, which a copy that keeps timestamps (unzip, ``cp -p``, ``rsync -a``) sets
  years back. Files are taken in order of arrival; files first seen by the same look at the folder
  arrived together, and are taken by modification time, then name: the sender's clock is the best
  evidence left of which came later.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from efficiency_warehouse import settings

log = logging.getLogger(__name__)

# An upload in progress is renamed within seconds of its last byte; a day is far past that.
HIDDEN_FILE_GRACE = timedelta(hours=24)

_KINDS = {
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a named pipe",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
}


def shown(name: str) -> str:
    """A file name safe to show, log and store: bytes that are not UTF-8 written as \\xNN."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class Arrival:
    """One entry of a landing folder, as first seen."""

    folder: Path
    name: str  # as the operating system gives it: for opening
    size: int
    modified_at: datetime
    first_seen_at: datetime
    inode: int
    refusal: str | None  # why it is not opened, or None: it is a regular file to read

    @property
    def shown_name(self) -> str:
        return shown(self.name)

    @property
    def path(self) -> Path:
        return self.folder / self.name


def survey(conn: psycopg.Connection, dataset_name: str, folder: Path) -> list[Arrival]:
    """Every entry of ``folder`` to act on now, in arrival order; hidden files still in their grace
    period are only logged. Sightings are committed at once: a run that fails later keeps the arrival."""
    entries = []
    with os.scandir(folder) as listing:
        for entry in listing:
            info = entry.stat(follow_symlinks=False)  # the entry itself: a link is never followed
            modified_at = datetime.fromtimestamp(info.st_mtime_ns / 1e9, tz=UTC)
            entries.append((entry.name, info, modified_at))
    if not entries:
        return []
    clock = settings.replay_clock()
    with conn.transaction():
        now = clock or conn.execute("select now()").fetchone()[0]
        first_seen: dict[tuple[str, int, datetime], datetime] = {}
        for name, info, modified_at in entries:
            key = (shown(name), info.st_size, modified_at)
            seen_at = conn.execute(
                """
                insert into ingest.landing_arrivals
                    (dataset, file_name, file_size_bytes, file_modified_at, first_seen_at)
                values (%s, %s, %s, %s, %s)
                on conflict (dataset, file_name, file_size_bytes, file_modified_at)
                    do update set file_name = excluded.file_name
                returning first_seen_at
                """,
                (dataset_name, *key, now),
            ).fetchone()[0]
            first_seen[key] = seen_at
    arrivals = []
    for name, info, modified_at in entries:
        seen_at = first_seen[(shown(name), info.st_size, modified_at)]
        refusal = refusal_of(folder / name, info)
        if refusal is None and name.startswith("."):
            if now - seen_at < HIDDEN_FILE_GRACE:
                log.warning(
                    "%s: a hidden file, taken for an upload still being written; left to finish (it is refused "
                    "if still there, unchanged, %d hours after it was first seen at %s)",
                    shown(name),
                    HIDDEN_FILE_GRACE.total_seconds() // 3600,
                    seen_at.isoformat(timespec="seconds"),
                )
                continue
            refusal = (
                f"a hidden file (its name starts with a dot), unchanged since it was first seen at "
                f"{seen_at.isoformat(timespec='seconds')}: not an upload in progress. If it is a return, "
                "rename it without the leading dot and put it back in the landing folder."
            )
        arrivals.append(Arrival(folder, name, info.st_size, modified_at, seen_at, info.st_ino, refusal))
    return sorted(arrivals, key=lambda a: (a.first_seen_at, a.modified_at, a.shown_name))


def replay_arrivals(conn: psycopg.Connection, dataset_name: str, folder: Path) -> int:
    """For the sample files only, which replay the programme's history: record each file in ``folder`` as
    first seen when it would have arrived, the modification time the sample writer gave it, so the as-at
    marts and releases look as they would have then. Real deliveries never pass here."""
    recorded = 0
    with conn.transaction(), os.scandir(folder) as listing:
        for entry in listing:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode):
                continue
            modified_at = datetime.fromtimestamp(info.st_mtime_ns / 1e9, tz=UTC)
            recorded += conn.execute(
                """
                insert into ingest.landing_arrivals
                    (dataset, file_name, file_size_bytes, file_modified_at, first_seen_at)
                values (%s, %s, %s, %s, %s)
                on conflict do nothing
                """,
                (dataset_name, shown(entry.name), info.st_size, modified_at, modified_at),
            ).rowcount
    return recorded


def refusal_of(path: Path, info: os.stat_result | None = None) -> str | None:
    """Why the entry at ``path`` is not to be opened, or None for a regular file."""
    info = info or path.lstat()
    kind = _KINDS.get(stat.S_IFMT(info.st_mode), "not a regular file")
    if stat.S_ISLNK(info.st_mode):
        try:
            target = shown(os.readlink(path))
        except OSError:
            target = "somewhere unreadable"
        return (
            f"a symbolic link (to {target}), which the warehouse never follows: put the file itself in the "
            "landing folder."
        )
    if not stat.S_ISREG(info.st_mode):
        return f"{kind}, not a file: the warehouse reads only files. Put the file itself in the landing folder."
    return None


def remove(arrival: Arrival) -> None:
    """Take a recorded file out of the landing folder, unless a new file has taken its name meanwhile."""
    try:
        info = arrival.path.lstat()
    except FileNotFoundError:
        return  # a concurrent run that recorded it too removed it
    if (info.st_ino, info.st_size) == (arrival.inode, arrival.size):
        arrival.path.unlink(missing_ok=True)


def forget(conn: psycopg.Connection, dataset_name: str, arrival: Arrival) -> None:
    """The sighting is done with: the file is recorded in the manifest (same transaction)."""
    conn.execute(
        "delete from ingest.landing_arrivals"
        " where dataset = %s and file_name = %s and file_size_bytes = %s and file_modified_at = %s",
        (dataset_name, arrival.shown_name, arrival.size, arrival.modified_at),
    )


class CannotOpen(Exception):
    """The entry could not be opened as a regular file; the message says why, for a person to act on."""


def keep_received_copy(arrival: Arrival) -> tuple[str, Path]:
    """Copy the file into the received store from one open file (``O_NOFOLLOW``: never through a link),
    hashing as it copies; returns the content's SHA-256 and the kept copy. The store is the owner's only:
    folders 0700, files 0600, never readable by others, even while being written. Idempotent."""
    received = settings.received_dir()
    incoming = received / ".incoming"
    for folder in (received, incoming):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.chmod(0o700)
    try:
        descriptor = os.open(arrival.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except PermissionError as error:
        raise CannotOpen(
            f"the warehouse cannot read it ({error.strerror}): give the warehouse's user read access to the "
            "file and put it back in the landing folder."
        ) from error
    except OSError as error:  # replaced by a link since the folder was read (ELOOP), or gone
        raise CannotOpen(f"it could not be opened ({error.strerror}).") from error
    digest = hashlib.sha256()
    # created 0600 by mkstemp; a short name of its own, whatever the length of the file's
    handle, partial = tempfile.mkstemp(dir=incoming, prefix="partial-")
    try:
        with os.fdopen(descriptor, "rb") as original, os.fdopen(handle, "wb") as copy:
            if not stat.S_ISREG(os.fstat(original.fileno()).st_mode):  # swapped since the folder was read
                raise CannotOpen("it is no longer a regular file: put the file itself in the landing folder.")
            os.set_blocking(original.fileno(), True)
            for chunk in iter(lambda: original.read(1 << 20), b""):
                digest.update(chunk)
                copy.write(chunk)
        file_sha256 = digest.hexdigest()
        kept = received / file_sha256[:2] / file_sha256 / storable_name(arrival.shown_name)
        for folder in (kept.parent.parent, kept.parent):
            folder.mkdir(mode=0o700, exist_ok=True)
            folder.chmod(0o700)
        os.replace(partial, kept)  # atomic: a kept file is always whole
    except OSError as error:
        raise CannotOpen(f"it could not be read to the end ({error.strerror}).") from error
    finally:
        Path(partial).unlink(missing_ok=True)
    return file_sha256, kept


def storable_name(name: str, limit: int = 255) -> str:
    """``name`` cut to ``limit`` bytes, its suffix kept (the reader goes by it): every file system takes it."""
    if len(name.encode()) <= limit:
        return name
    suffix = Path(name).suffix if len(Path(name).suffix) <= 10 else ""
    stem = name[: len(name) - len(suffix)]
    cut = stem.encode()[: limit - len(suffix.encode()) - 1].decode("utf-8", "ignore")
    return f"{cut}~{suffix}"


def set_aside(dataset_name: str, arrival: Arrival, manifest_id: int) -> Path | None:
    """Move a refused entry out of the landing folder, as it is (a link stays a link); None if it could
    not be moved (it is then seen again next run)."""
    root = settings.set_aside_dir()
    target_folder = root / dataset_name / str(manifest_id)
    for folder in (root, root / dataset_name, target_folder):  # what was refused is nobody else's to read
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.chmod(0o700)
    target = target_folder / arrival.name
    try:
        os.rename(arrival.path, target)  # renames the entry, never its target
    except OSError as error:
        if error.errno != 18:  # EXDEV: another file system; shutil.move copies a link as a link
            log.error("%s: refused, but could not be moved aside: %s", arrival.shown_name, error)
            return None
        try:
            shutil.move(arrival.path, target)
        except (OSError, shutil.Error) as move_error:
            log.error("%s: refused, but could not be moved aside: %s", arrival.shown_name, move_error)
            return None
    return target
