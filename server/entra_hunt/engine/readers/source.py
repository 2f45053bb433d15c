r"""Opening an export file as strict UTF-8 text, in chunks or lines, without loading it whole.

Offers :class:`TextSource`: it opens a plain or gzip-compressed file (recognised by its magic
bytes, whatever its name), drops a UTF-8 byte order mark, and decodes in 64 KiB chunks with a
strict UTF-8 decoder that knows where it is, so a bad byte is reported with its line and byte
offset. Lines are split on ``\n`` only: a form feed or U+2028 inside an attacker's user agent
never ends a CSV record.

Limits: UTF-16 files are refused with a message saying how to convert them; zip archives are
refused here (``engine.loading`` extracts their members first); in a gzip file the byte offset
counts decompressed bytes.
"""

from __future__ import annotations

import codecs
import gzip
import io
import zlib
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from entra_hunt.errors import LoadError

__all__ = ["MAX_LINE_CHARS", "TextSource"]

#: The longest line :meth:`TextSource.lines` hands out.
MAX_LINE_CHARS = 16 << 20
_CHUNK_BYTES = 1 << 16
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"
_UTF8_BOM = codecs.BOM_UTF8
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class TextSource:
    """One export file opened for reading as text, in order, exactly once."""

    def __init__(self, path: Path, label: str | None = None) -> None:
        """Open ``path``; raises LoadError if it is missing, unreadable or an archive.

        ``label`` names the file in messages (default: the path), e.g. ``a.zip!b.csv``.
        """
        self.path = path
        self.label = label or str(path)
        self._gzip = False
        self._file: io.BufferedIOBase | None = None
        self._raw = self._open(path)
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._offset = 0  # bytes of the (decompressed) file handed to the decoder so far
        self._newlines = 0  # newlines in the text decoded so far
        self._peeked: list[str] = []
        self._started = False

    def __enter__(self) -> TextSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying file."""
        self._raw.close()
        if self._file is not None:
            self._file.close()

    @property
    def is_gzip(self) -> bool:
        """Whether the file is gzip-compressed."""
        return self._gzip

    def position(self) -> int:
        """Bytes of the file on disk read so far (compressed bytes for a gzip file)."""
        handle = self._file or self._raw
        try:
            return handle.tell()
        except (OSError, ValueError):
            return 0

    def first_char(self) -> str | None:
        """The first character that is not whitespace, without consuming anything.

        Returns:
            The character, or None if the file is empty or only whitespace.
        """
        for held in self._peeked:
            stripped = held.lstrip()
            if stripped:
                return stripped[0]
        while (chunk := self._decode_next()) is not None:
            self._peeked.append(chunk)
            stripped = chunk.lstrip()
            if stripped:
                return stripped[0]
        return None

    def chunks(self) -> Iterator[str]:
        """The decoded text in chunks of up to 64 KiB, from the start of the file."""
        while self._peeked:
            yield self._peeked.pop(0)
        while (chunk := self._decode_next()) is not None:
            yield chunk

    def lines(self) -> Iterator[str]:
        r"""The decoded text line by line, each line with its ``\n`` (the last may lack it).

        Raises:
            LoadError: a line is longer than 16 MiB (a sign-in record is a few KiB).
        """
        tail: list[str] = []
        held = 0
        number = 1
        for chunk in self.chunks():
            parts = chunk.split("\n")
            if len(parts) == 1:
                tail.append(chunk)
                held += len(chunk)
                if held > MAX_LINE_CHARS:
                    raise self._line_too_long(number)
                continue
            tail.append(parts[0])
            if held + len(parts[0]) > MAX_LINE_CHARS:
                raise self._line_too_long(number)
            yield "".join(tail) + "\n"
            for part in parts[1:-1]:
                number += 1
                yield part + "\n"
            number += 1
            tail = [parts[-1]]
            held = len(parts[-1])
        last = "".join(tail)
        if last:
            yield last

    def _line_too_long(self, number: int) -> LoadError:
        return LoadError(
            f"the line is longer than {MAX_LINE_CHARS >> 20} Mi characters, the most one "
            "record may take",
            where=f"{self.label}, line {number}",
            fix="Check that the file is a CSV export of sign-ins (JSON exports are read "
            "without this limit); a file without line breaks is not one",
        )

    def _open(self, path: Path) -> io.BufferedIOBase:
        try:
            raw: io.BufferedIOBase = path.open("rb")
        except FileNotFoundError:
            raise LoadError(
                "the file does not exist", where=self.label, fix="Check the path and try again"
            ) from None
        except IsADirectoryError:
            raise LoadError(
                "this is a folder, not a file",
                where=self.label,
                fix="Give the path of one exported CSV or JSON file",
            ) from None
        except OSError as err:
            raise LoadError(
                f"the file cannot be opened ({err.strerror})",
                where=self.label,
                fix="Check the file's permissions",
            ) from None

        magic = raw.read(4)
        raw.seek(0)
        if magic.startswith(_ZIP_MAGIC):
            raw.close()
            raise LoadError(
                "the file is a zip archive",
                where=self.label,
                fix="Load it with 'entra-hunt load', which reads the exports inside, or extract "
                "them first",
            )
        if magic.startswith(_GZIP_MAGIC):
            self._gzip = True
            self._file = raw
            return gzip.GzipFile(fileobj=raw, mode="rb")
        return raw

    def _read(self, size: int) -> bytes:
        try:
            return self._raw.read(size)
        except (OSError, EOFError, zlib.error) as err:
            if not self._gzip:
                raise LoadError(
                    f"the file cannot be read ({getattr(err, 'strerror', None) or 'I/O error'})",
                    where=self.label,
                    fix="Check that the file is complete and readable, then load it again",
                ) from None
            raise LoadError(
                "the gzip file is damaged or ends early",
                where=self.label,
                fix="Compress the export again, or load the uncompressed file",
            ) from None

    def _read_first(self) -> bytes:
        data = self._read(_CHUNK_BYTES)
        while 0 < len(data) < len(_UTF8_BOM):
            more = self._read(_CHUNK_BYTES)
            if not more:
                break
            data += more
        if data.startswith(_UTF16_BOMS):
            raise LoadError(
                "the file is UTF-16 text; exports are read as UTF-8",
                where=self.label,
                fix="Save the file again as UTF-8 (for example 'CSV UTF-8' in Excel)",
            )
        if data.startswith(_UTF8_BOM):
            self._offset = len(_UTF8_BOM)
            data = data[len(_UTF8_BOM) :]
        return data

    def _decode_next(self) -> str | None:
        while True:
            if self._started:
                data = self._read(_CHUNK_BYTES)
            else:
                self._started = True
                data = self._read_first()
            pending = len(self._decoder.getstate()[0])
            try:
                text = self._decoder.decode(data, final=not data)
            except UnicodeDecodeError as err:
                raise self._bad_utf8(err, self._offset - pending) from None
            self._offset += len(data)
            if text:
                self._newlines += text.count("\n")
                return text
            if not data:
                return None

    def _bad_utf8(self, err: UnicodeDecodeError, data_offset: int) -> LoadError:
        before = err.object[: err.start]
        line = self._newlines + before.count(b"\n") + 1
        offset = data_offset + err.start
        counted = "decompressed byte" if self._gzip else "byte"
        return LoadError(
            f"the text is not valid UTF-8 ({err.reason}) at {counted} offset {offset}",
            where=f"{self.label}, line {line}",
            fix="Export the sign-ins again as UTF-8, or repair the damaged bytes",
        )
