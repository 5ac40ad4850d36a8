"""WhatsApp Cloud API: signed webhooks in, Graph API sends out."""

from channels.whatsapp.channel import WhatsAppChannel
from channels.whatsapp.parse import parse

__all__ = ["WhatsAppChannel", "parse"]
