"""Telegram through python-telegram-bot, inside our event loop (polling or webhook)."""

from channels.telegram.channel import TelegramChannel
from channels.telegram.parse import parse

__all__ = ["TelegramChannel", "parse"]
