"""A terminal progress bar for the import command, with no dependency: one line redrawn in place
on a terminal; one line per step otherwise (logs, pipes, tests)."""

from __future__ import annotations

import shutil
import time
from typing import TextIO


class TerminalProgress:
    def __init__(self, stream: TextIO, *, width: int = 30):
        self.stream = stream
        self.width = width
        self.started = time.monotonic()
        self.interactive = bool(getattr(stream, "isatty", lambda: False)())
        self.phase = ""
        self.drawn = False

    def __call__(self, percent: int, phase: str) -> None:
        percent = max(0, min(100, percent))
        if not self.interactive:
            if phase != self.phase:
                self.stream.write(f"{percent:3d}% {phase}\n")
                self.stream.flush()
            self.phase = phase
            return
        self.phase = phase
        filled = self.width * percent // 100
        bar = "#" * filled + "-" * (self.width - filled)
        elapsed = time.monotonic() - self.started
        line = f"[{bar}] {percent:3d}% {elapsed:6.1f} s  {phase}"
        columns = shutil.get_terminal_size((80, 20)).columns
        self.stream.write("\r" + line[: columns - 1] + "\x1b[K")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.interactive and self.drawn:
            self.stream.write("\n")
            self.stream.flush()
