"""Limits that keep one client from hurting the chat for everyone: request size, uploads, sign-in attempts,
and questions waiting per client.

    app.launch(app_kwargs={"middleware": guard_middleware()}, ...)   # sizes, uploads, sign-in throttle
    guard_middleware(upload_gate=is_teacher, max_upload=20 * 2**20)    # a library's teacher may upload
    limit_waiting_per_client(app, 32)                                # after app.queue()

The middleware sits in front of every route Gradio serves, so an oversized or unwanted request is refused
from its headers (or after the allowed number of bytes), before Gradio reads or parses anything.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict

MAX_BODY_BYTES = 128 * 1024  # a question is at most 2,000 characters; a restored conversation is trimmed to fit
MAX_WAITING_PER_CLIENT = 32  # questions one address may have queued or running at once
LOGIN_FREE_FAILURES = 2  # failed sign-ins answered at once; after that each waits longer
LOGIN_MAX_DELAY_S = 30.0
LOGIN_FORGET_S = 15 * 60  # a quiet quarter of an hour clears an address's failures
UPLOAD_PATHS = ("/gradio_api/upload", "/upload")
MULTIPART_SLACK = 64 * 1024  # an upload's form fields and boundaries, beside the file itself
LOGIN_PATHS = ("/login", "/login/")


async def _reply(send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def _replay(body: bytes, receive):
    """A `receive` that gives the body already read, then whatever the connection says next (a disconnect)."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def client_host(scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


class RequestGuard:
    """ASGI middleware: refuses request bodies over `max_body` bytes (413), file uploads (403; the chat takes
    no files, unless `upload_gate(scope)` says this request may send one of at most `max_upload` bytes: a
    teacher adding a course document), and slows repeated failed sign-ins from one address (a delay that
    doubles per failure)."""

    def __init__(self, app, max_body: int = MAX_BODY_BYTES, login_max_delay: float = LOGIN_MAX_DELAY_S,
                 upload_gate=None, max_upload: int = 0) -> None:
        self.app = app
        self.max_body = max_body
        self.upload_gate = upload_gate
        self.max_upload = max_upload
        self.login_max_delay = login_max_delay
        self._failures: dict[str, tuple[int, float]] = {}
        self._login_locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        limit, too_large = self.max_body, f"Request too large: the limit is {self.max_body // 1024} KB."
        if path.rstrip("/") in UPLOAD_PATHS:
            if self.upload_gate is None:
                return await _reply(send, 403, "This tutor takes no files.")
            if not self.upload_gate(scope):
                return await _reply(send, 403, "Only the teacher may upload course documents.")
            limit = self.max_upload + MULTIPART_SLACK
            too_large = f"The file is too large: the limit is {self.max_upload / 2**20:g} MiB."
        if scope.get("method") in ("POST", "PUT", "PATCH"):
            length = dict(scope.get("headers") or ()).get(b"content-length")
            try:
                too_big = length is not None and int(length) > limit
            except ValueError:
                return await _reply(send, 400, "Malformed Content-Length.")
            if too_big:
                return await _reply(send, 413, too_large)
            if length is None:  # chunked: read it here (at most the limit), then hand it on whole
                body = await self._read_limited(receive, limit)
                if body is None:
                    return await _reply(send, 413, too_large)
                receive = _replay(body, receive)
        if path in LOGIN_PATHS and scope.get("method") == "POST":
            return await self._login(scope, receive, send)
        await self.app(scope, receive, send)

    async def _read_limited(self, receive, limit: int) -> bytes | None:
        """The whole body, or None as soon as it passes `limit` bytes."""
        chunks, seen = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    def login_delay(self, host: str) -> float:
        failures, last = self._failures.get(host, (0, 0.0))
        if time.monotonic() - last > LOGIN_FORGET_S:
            return 0.0
        extra = failures - LOGIN_FREE_FAILURES
        return 0.0 if extra < 0 else min(self.login_max_delay, 0.5 * 2**extra)

    async def _login(self, scope, receive, send):
        host = client_host(scope)
        status = {}

        async def watched(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        # One attempt at a time per address, each after its delay: parallel guesses queue up behind each other.
        async with self._login_locks[host]:
            delay = self.login_delay(host)
            if delay:
                await asyncio.sleep(delay)
            await self.app(scope, receive, watched)
            failures, _ = self._failures.get(host, (0, 0.0))
            if status.get("code") == 200:
                self._failures.pop(host, None)
            elif status.get("code", 500) < 500:
                self._failures[host] = (failures + 1, time.monotonic())


def guard_middleware(max_body: int = MAX_BODY_BYTES, upload_gate=None, max_upload: int = 0) -> list:
    """The middleware list for `launch(app_kwargs={"middleware": ...})`."""
    from starlette.middleware import Middleware

    return [Middleware(RequestGuard, max_body=max_body, upload_gate=upload_gate, max_upload=max_upload)]


def limit_waiting_per_client(blocks, cap: int = MAX_WAITING_PER_CLIENT) -> None:
    """Refuse a new question from an address that already has `cap` queued or running, so that one client
    flooding the queue cannot push everyone else's questions back. Call after `blocks.queue()`."""
    queue = blocks._queue
    push = queue.push

    async def capped_push(body, request, username):
        host = request.client.host if request is not None and request.client else ""
        waiting = sum(
            1 for event in list(queue.event_ids_to_events.values())
            if getattr(getattr(event.request, "client", None), "host", None) == host
        )
        if waiting >= cap:
            return False, f"Too many questions at once from {host}: wait for the answers, then ask again.", \
                "queue_full"
        return await push(body, request, username)

    queue.push = capped_push
