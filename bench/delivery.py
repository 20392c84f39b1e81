"""What claiming one row at a time costs delivery: rows delivered per second on the console
channel (no network), claim, send and record each in its own transaction.

    .venv/bin/python bench/delivery.py [--rows 2000] [--batch 200]

Creates a throwaway SQLite file database with the test directory and N pending notifications
already written (as the engine leaves them), then times `deliver_pending`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models.cases import Notification  # noqa: E402
from models.db import make_engine, session_scope  # noqa: E402
from models.directory_io import import_directory, load_directory_file  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from notifications.delivery import deliver_pending  # noqa: E402

DIRECTORY = ROOT / "tests" / "data" / "directory.yaml"
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["SUIVI_CONSOLE_LOG"] = str(Path(folder) / "console.log")
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        upgrade(engine)
        with session_scope(engine) as s:
            import_directory(s, load_directory_file(DIRECTORY))
            s.add_all(
                Notification(
                    recipient_staff_id="gs-viala", recipient_role="gs", channel_url="console://",
                    kind="daily_agenda", subject=f"Agenda {i}", body="Rien d'urgent.",
                    status="pending", attempts=0, next_attempt_at=NOW,
                    idempotency_key=f"bench:{i}", created_at=NOW,
                )
                for i in range(args.rows)
            )
        start = time.perf_counter()
        report = deliver_pending(engine, NOW, batch_size=args.batch)
        elapsed = time.perf_counter() - start
        engine.dispose()
    print(f"SQLite, console channel: {report.sent} rows sent in {elapsed:.2f} s "
          f"({report.sent / elapsed:,.0f} rows/s), batches of {args.batch}, "
          f"one claim per row")


if __name__ == "__main__":
    main()
