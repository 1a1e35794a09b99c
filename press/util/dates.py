"""The time stamped into the outputs: reproducible, never the moment of the build."""
from __future__ import annotations

import os
from datetime import datetime, timezone


def epoch(book_date: str) -> datetime:
    """SOURCE_DATE_EPOCH when set, else the book's date; never 'now'."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "")
    if value.isdigit():
        when = datetime.fromtimestamp(int(value), tz=timezone.utc)
    else:
        when = datetime.fromisoformat(book_date[:10]).replace(tzinfo=timezone.utc)
    return max(when, datetime(1980, 1, 1, tzinfo=timezone.utc))  # the zip format's floor
