"""A small HTTP client over loopback (http.client, one connection per request, safe in threads).

Every answer is a Reply; a request that gets no HTTP answer at all (refused, reset, timed out)
is a Reply with status 0, which the battery counts with the 5xx answers as a server failure.
"""

from __future__ import annotations

import contextlib
import http.client
import json as jsonlib
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

_MISSING = object()


@dataclass
class Reply:
    status: int  # 0: no HTTP answer
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    error: str = ""

    @property
    def failed(self) -> bool:
        """A server error or no answer: what the battery's "server errors" count."""
        return self.status == 0 or self.status >= 500

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self):
        return jsonlib.loads(self.body)

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def describe(self) -> str:
        """The status and the start of the body (an HTML error page by its title)."""
        if self.status == 0:
            return f"no answer ({self.error})"
        text = self.text()
        title = re.search(r"<title>(.*?)</title>", text, re.S)
        if self.headers.get("content-type", "").startswith("text/html") and title:
            return f"{self.status} (page: {title.group(1).strip()})"
        return f"{self.status} {text[:160]!r}"


class Client:
    """Requests as one caller: an API key, a signed-in session, or nobody."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        name: str = "anonymous",
        source: str | None = None,
    ):
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.api_key = api_key
        self.name = name
        # The local address to connect from (another loopback address: another client address
        # for the server, e.g. for the sign-in lockout, which counts failures per address).
        self.source_address = (source, 0) if source else None
        self.cookies: dict[str, str] = {}
        self._lock = threading.Lock()

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        json=_MISSING,
        params: dict | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 60,
    ) -> Reply:
        sent = {"Accept": "application/json"}
        if self.api_key:
            sent["Authorization"] = f"Api-Key {self.api_key}"
        if self.cookies:
            with self._lock:
                sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            if method not in ("GET", "HEAD") and "csrftoken" in self.cookies:
                sent["X-CSRFToken"] = self.cookies["csrftoken"]
        if json is not _MISSING:
            body = jsonlib.dumps(json, ensure_ascii=False).encode()
            sent["Content-Type"] = "application/json"
        if params:
            path += ("&" if "?" in path else "?") + urlencode(params)
        sent.update(headers or {})
        started = time.perf_counter()
        connection = http.client.HTTPConnection(
            self.host, self.port, timeout=timeout, source_address=self.source_address
        )
        try:
            # The server may answer (e.g. 400 for a body over Django's size limit) and close the
            # connection before reading all of the body: its answer is still there to read.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read()
            reply = Reply(
                status=response.status,
                body=data,
                headers={k.lower(): v for k, v in response.getheaders()},
                seconds=time.perf_counter() - started,
            )
            self._remember_cookies(response.msg.get_all("Set-Cookie") or [])
            return reply
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            return Reply(status=0, seconds=time.perf_counter() - started, error=repr(exc))
        finally:
            connection.close()

    def _remember_cookies(self, headers: list[str]) -> None:
        if not headers:
            return
        with self._lock:
            for header in headers:
                cookie = SimpleCookie()
                cookie.load(header)
                for name, morsel in cookie.items():
                    self.cookies[name] = morsel.value

    def get(self, path: str, **kwargs) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> Reply:
        return self.request("POST", path, **kwargs)

    def post_form(self, path: str, data: dict[str, str]) -> Reply:
        """A browser-like form POST (CSRF token from the session's cookie)."""
        fields = dict(data)
        if "csrftoken" in self.cookies:
            fields.setdefault("csrfmiddlewaretoken", self.cookies["csrftoken"])
        return self.request(
            "POST",
            path,
            body=urlencode(fields).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    def upload(
        self,
        path: str,
        content: bytes,
        *,
        field_name: str = "file",
        file_name: str = "photo.jpg",
        content_type: str = "image/jpeg",
        timeout: float = 60,
    ) -> Reply:
        body, header = multipart({field_name: (file_name, content, content_type)})
        return self.request(
            "POST", path, body=body, headers={"Content-Type": header}, timeout=timeout
        )

    def sign_in(self, username: str, password: str) -> None:
        """Sign in through the site's own sign-in form; the session cookie is kept."""
        page = self.get("/accounts/login/")
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        if page.status != 200 or not match:
            raise RuntimeError(f"no sign-in form for {username}: {page.describe()}")
        reply = self.post_form(
            "/accounts/login/",
            {
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": match.group(1).decode(),
            },
        )
        if reply.status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"sign-in failed for {username}: {reply.describe()}")


def multipart(files: dict[str, tuple[str, bytes, str] | str]) -> tuple[bytes, str]:
    """A multipart/form-data body: name -> (file name, bytes, content type), or a plain value."""
    boundary = "----reliability" + uuid.uuid4().hex
    parts = []
    for name, value in files.items():
        if isinstance(value, str):
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                + value.encode()
                + b"\r\n"
            )
            continue
        file_name, content, content_type = value
        parts.append(
            (
                f"--{boundary}\r\n"
                f'Content-Disposition: form-data; name="{name}"; filename="{file_name}"\r\n'
                f"Content-Type: {content_type}\r\n\r\n"
            ).encode()
            + content
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"
