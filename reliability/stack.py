"""The application as `make run` starts it (tests/stack.py: the Procfile under honcho), on the
battery's private Redis, with a handle on its Celery pool process and its log."""

from __future__ import annotations

import re
import time
from pathlib import Path

from reliability.processes import celery_pool_processes
from tests.stack import AppStack


class ReliabilityStack(AppStack):
    """AppStack with three web workers (the Procfile's default) and, for the driver, the exact
    DATABASE_URL (credentials included) instead of one rebuilt from Django's settings."""

    def __init__(
        self,
        *,
        log_dir: Path,
        redis_url: str,
        database_url: str | None = None,
        web_workers: int = 3,
    ):
        env = {"WEB_WORKERS": str(web_workers)}
        if database_url:
            env["DATABASE_URL"] = database_url
        super().__init__(log_dir=log_dir, redis_url=redis_url, env=env)

    def pool_pids(self, timeout: float = 30) -> list[int]:
        """The Celery worker's pool processes (one: CELERY_CONCURRENCY is 1 in the stack)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = [proc.pid for proc in celery_pool_processes(self.process.pid)]
            if pids:
                return pids
            time.sleep(0.2)
        raise RuntimeError(f"no Celery pool process after {timeout} s:\n{self.log()[-3000:]}")

    def log_count(self, pattern: str) -> int:
        return len(re.findall(pattern, self.log()))

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None
