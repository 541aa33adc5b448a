"""The one error type that bad input raises; the CLI turns it into exit status 2."""

from __future__ import annotations

EXIT_DATA_ERROR = 2


class DataError(Exception):
    """Bad input: names the file, the record and the reason (the CLI prints it in lines under
    100 columns, the file and record first)."""

    def __init__(self, path: object, record: object, reason: str) -> None:
        self.path = str(path)
        self.record = "" if record is None else str(record)
        self.reason = reason
        super().__init__(self.line())

    def line(self) -> str:
        return f"{self.path}: {self.detail()}"

    def detail(self) -> str:
        """The record and the reason: all but the file."""
        return f"{self.record}: {self.reason}" if self.record else self.reason
