"""Calendars behind one interface: the built-in one (our own table) and Outlook (Microsoft Graph)."""

from __future__ import annotations

from tools.calendars.base import Calendar, CalendarError, Interval

__all__ = ["Calendar", "CalendarError", "Interval"]
