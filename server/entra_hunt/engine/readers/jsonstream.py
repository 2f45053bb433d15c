"""Streaming the records out of a JSON export, each with the line it starts on.

Offers :class:`JsonRecords`, which walks decoded text chunk by chunk and yields every JSON
object found at the top level, in a top-level array, or in the ``value`` array of a Microsoft
Graph response page (``{"@odata.context": ..., "value": [...], "@odata.nextLink": ...}``).
Concatenated values and JSON lines work the same way. Each record is decoded on its own with
``json.JSONDecoder.raw_decode``, so memory holds one record and one 64 KiB chunk, never the file.

Limits: a page is streamed only when its first key is ``value`` or an ``@odata`` key (the order
Graph writes); a page whose other keys come first, or a page nested in an array, is decoded
whole and its records all carry the page's first line. One record may not exceed 64 MiB.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from entra_hunt.engine.readers.rows import JsonFloat
from entra_hunt.errors import LoadError

__all__ = ["JsonRecords", "NonFiniteNumber", "is_page"]

Record = dict[str, object]

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_MAX_RECORD_CHARS = 64 << 20
_TAIL_CHARS = 8  # a cut-off literal or escape ("tru", "\\u12") fails this close to the end
_TIME_KEYS = frozenset({"createdDateTime", "CreatedDateTime", "TimeGenerated"})
_TRUNCATED_FIX = "Export the sign-ins again; the file looks cut short"


class NonFiniteNumber(ValueError):
    """A ``NaN`` or ``Infinity`` literal: Python accepts it, JSON and the store do not."""


def _refuse_constant(name: str) -> object:
    raise NonFiniteNumber(f"the JSON holds {name}, which is not a JSON number")


def is_page(value: Record) -> bool:
    """Whether ``value`` is a Graph response page rather than a sign-in."""
    return isinstance(value.get("value"), list) and not _TIME_KEYS & value.keys()


class JsonRecords:
    """The JSON objects of one export, as ``(record, line)`` pairs in file order."""

    def __init__(self, chunks: Iterator[str], label: str) -> None:
        """Read from the decoded ``chunks`` of the file that ``label`` names."""
        self._chunks = chunks
        self._label = label
        self._decoder = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=JsonFloat)
        self._buf = ""
        self._pos = 0
        self._pin: int | None = None  # a position _peek must keep in the buffer
        self._line = 1
        self._eof = False
        self.next_links = 0
        self.pages = 0
        self.last_page_has_next_link = False

    def __iter__(self) -> Iterator[tuple[Record, int]]:
        """Yield each record with the 1-based line where it starts."""
        while (char := self._peek()) is not None:
            self._compact()
            if char == "[":
                yield from self._array()
            elif char == "{":
                yield from self._object()
            else:
                raise self._invalid(f"expected a JSON object or array, found {char!r}", self._line)

    # -- records -------------------------------------------------------------------------------

    def _array(self) -> Iterator[tuple[Record, int]]:
        start = self._line
        self._pos += 1
        if self._peek() == "]":
            self._pos += 1
            return
        while True:
            self._compact()
            line = self._line
            yield from self._records(self._decode(), line)
            char = self._peek()
            if char == ",":
                self._pos += 1
            elif char == "]":
                self._pos += 1
                return
            elif char is None:
                raise self._truncated(f"the JSON array that starts on line {start} is not closed")
            else:
                raise self._invalid(f"expected ',' or ']' between records, found {char!r}")

    def _object(self) -> Iterator[tuple[Record, int]]:
        mark, line = self._pos, self._line
        self._pos += 1
        self._pin = mark
        try:
            char = self._peek()
        finally:
            self._pin = None
        key = self._decode() if char == '"' else None
        if not (isinstance(key, str) and (key == "value" or key.startswith("@odata"))):
            self._pos, self._line = mark, line
            yield from self._records(self._decode(), line)
            return

        self.pages += 1
        self.last_page_has_next_link = False
        while True:
            self._expect(":")
            if key == "value":
                if self._peek() != "[":
                    raise self._invalid("the response page's 'value' is not an array")
                yield from self._array()
            else:
                value = self._decode()
                if key == "@odata.nextLink" and value:
                    self.next_links += 1
                    self.last_page_has_next_link = True
            char = self._peek()
            if char == "}":
                self._pos += 1
                return
            self._expect(",")
            if self._peek() != '"':
                raise self._invalid("expected a quoted key in the response page")
            key = self._decode()

    def _records(self, value: object, line: int) -> Iterator[tuple[Record, int]]:
        if not isinstance(value, dict):
            raise self._invalid(
                f"expected a sign-in object, found a JSON {type(value).__name__}", line
            )
        if is_page(value):
            self.pages += 1
            self.last_page_has_next_link = bool(value.get("@odata.nextLink"))
            self.next_links += self.last_page_has_next_link
            for item in value["value"]:
                if not isinstance(item, dict):
                    raise self._invalid("the page's 'value' array holds a non-object", line)
                yield item, line
            return
        yield value, line

    # -- scanning ------------------------------------------------------------------------------

    def _more(self, chars: int) -> bool:
        # Joined once per call: appending chunk by chunk would copy the buffer each time.
        parts = [self._buf]
        added = 0
        while added < chars and not self._eof:
            chunk = next(self._chunks, None)
            if chunk is None:
                self._eof = True
                break
            parts.append(chunk)
            added += len(chunk)
        if added:
            self._buf = "".join(parts)
        return added > 0

    def _compact(self) -> None:
        if self._pos > (1 << 20) or (self._pos and self._pos * 2 > len(self._buf)):
            self._buf = self._buf[self._pos :]
            self._pos = 0

    def _peek(self) -> str | None:
        while True:
            end = _WHITESPACE.match(self._buf, self._pos)
            if end is not None and end.end() > self._pos:
                self._line += self._buf.count("\n", self._pos, end.end())
                self._pos = end.end()
            if self._pos < len(self._buf):
                return self._buf[self._pos]
            if self._pin is None:  # all read is whitespace: keep none of it (a long run)
                self._buf, self._pos = "", 0
            if not self._more(1):
                return None

    def _expect(self, char: str) -> None:
        found = self._peek()
        if found == char:
            self._pos += 1
            return
        if found is None:
            raise self._truncated("the JSON ends inside a response page")
        raise self._invalid(f"expected {char!r}, found {found!r}")

    def _decode(self) -> object:
        if self._peek() is None:
            raise self._truncated("the file ends where a JSON value should start")
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buf, self._pos)
            except NonFiniteNumber as err:
                raise self._invalid(str(err)) from None
            except RecursionError:
                raise self._invalid(
                    "the JSON is nested too deeply (over about 1,000 levels) to read"
                ) from None
            except json.JSONDecodeError as err:
                if not self._incomplete(err):
                    raise self._decode_error(err, truncated=False) from None
                pending = len(self._buf) - self._pos
                if pending >= _MAX_RECORD_CHARS:
                    raise self._too_large() from None
                if self._more(max(pending, 1 << 16)):
                    continue
                raise self._decode_error(err, truncated=True) from None
            except ValueError:  # int(): Python reads at most 4,300 digits of an integer
                raise self._invalid(
                    "a JSON number in this record has more than 4,300 digits"
                ) from None
            if end == len(self._buf) and not isinstance(value, dict | list | str):
                if self._more(1):  # a number or literal may continue in the next chunk
                    continue
            self._line += self._buf.count("\n", self._pos, end)
            self._pos = end
            return value

    # -- errors --------------------------------------------------------------------------------

    def _incomplete(self, err: json.JSONDecodeError) -> bool:
        """Whether the error may only mean that the text read so far stops mid-value."""
        if err.msg.startswith("Unterminated string") or len(self._buf) - err.pos <= _TAIL_CHARS:
            return True
        rest = _WHITESPACE.match(self._buf, err.pos)
        return rest is not None and rest.end() == len(self._buf)

    def _decode_error(self, err: json.JSONDecodeError, *, truncated: bool) -> LoadError:
        line = self._line + self._buf.count("\n", self._pos, err.pos)
        if truncated:
            return self._truncated(
                f"the file ends on line {line} before the JSON record that starts here is complete"
            )
        column = err.pos - self._buf.rfind("\n", 0, err.pos)
        return self._invalid(f"the JSON is not valid here ({err.msg}, column {column})", line)

    def _truncated(self, what: str, line: int | None = None) -> LoadError:
        return LoadError(
            what, where=f"{self._label}, line {line or self._line}", fix=_TRUNCATED_FIX
        )

    def _invalid(self, what: str, line: int | None = None) -> LoadError:
        return LoadError(
            what,
            where=f"{self._label}, line {line or self._line}",
            fix="Check that the file is a JSON export of sign-ins, not edited by hand",
        )

    def _too_large(self) -> LoadError:
        return LoadError(
            f"one JSON record is larger than {_MAX_RECORD_CHARS >> 20} MiB",
            where=f"{self._label}, line {self._line}",
            fix="Export sign-ins as a JSON array, JSON lines or Graph pages, not one huge object",
        )
