"""Is a queue open now? Opening hours per weekday in the schedule's own time zone, minus holidays."""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from config.settings import WEEKDAYS, Schedule


def is_open(schedule: Schedule | None, when: datetime) -> bool:
    """``None`` (no schedule) is always open; a day without ranges is closed all day."""
    if schedule is None:
        return True
    local = when.astimezone(zoneinfo.ZoneInfo(schedule.timezone))
    if local.date() in schedule.holidays:
        return False
    now = local.strftime("%H:%M")
    for text in schedule.weekly.get(WEEKDAYS[local.weekday()], []):  # type: ignore[call-overload]
        start, end = text.split("-")
        if start <= now < end:
            return True
    return False
