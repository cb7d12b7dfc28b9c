"""Chat channels as plug-ins: `base.py` is the adapter every channel implements, `registry.py`
lists them, one module per channel."""

from .base import SDK_TIMEOUT, ChannelAdapter, ChannelSection, Sender, SendError, in_thread

__all__ = ["SDK_TIMEOUT", "ChannelAdapter", "ChannelSection", "SendError", "Sender", "in_thread"]
