"""Real receivers on 127.0.0.1 for the delivery tests: an SMTP server and a JSON webhook.

Import the fixtures into a test module (`from receivers import http_receiver, smtp_server`).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import yaml
from aiosmtpd.controller import Controller
from conftest import DIRECTORY
from sqlalchemy import Engine

from models.db import session_scope
from models.directory_io import import_directory, parse_directory

HOST = "127.0.0.1"


def import_channels(engine: Engine, channels: dict[str, list[str]]) -> None:
    """The test directory again, with these staff members' `notify` URLs (an upsert by id)."""
    document = yaml.safe_load(DIRECTORY.read_text(encoding="utf-8"))
    for person in document["staff"]:
        if person["id"] in channels:
            person["notify"] = channels[person["id"]]
    with session_scope(engine) as session:
        import_directory(session, parse_directory(yaml.safe_dump(document, allow_unicode=True)))


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain", "html"))
        return part.get_content() if part is not None else ""


@dataclass
class SmtpReceiver:
    port: int
    mails: list[Mail] = field(default_factory=list)

    def url(self, to: str) -> str:
        return f"mailto://{HOST}:{self.port}?from=suivi@horizon.test&to={to}"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver(port=free_port())
    controller = Controller(receiver, hostname=HOST, port=receiver.port)
    controller.start()
    try:
        yield receiver
    finally:
        controller.stop()


@dataclass
class Post:
    path: str
    payload: dict[str, Any]


class HttpReceiver:
    """Records JSON POSTs; while `failing` is set it answers 500 and records the refusal."""

    def __init__(self) -> None:
        self.posts: list[Post] = []
        self.refused: list[Post] = []
        self.failing = False
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                post = Post(self.path, json.loads(self.rfile.read(length) or b"{}"))
                with receiver._lock:
                    failing = receiver.failing
                    (receiver.refused if failing else receiver.posts).append(post)
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep the test output for the tests

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.port = int(self.server.server_address[1])

    def url(self, path: str = "hook") -> str:
        return f"json://{HOST}:{self.port}/{path}"

    def titles(self) -> list[str]:
        return [p.payload.get("title", "") for p in self.posts]


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
        thread.join()
