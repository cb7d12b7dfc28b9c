"""What a process remembers about its callers between requests, good for one auth epoch."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


class EpochCache:
    """Values stored with the epoch read *before* they were loaded: a value is handed out only
    while the epoch read for the asking request is that same number, so a change committed
    before the request began (in any process) is never hidden by it. Least recently used
    entries go first past `size`."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._items: OrderedDict[object, tuple[int, Any]] = OrderedDict()

    async def get(self, key: object, epoch: int, load: Callable[[], Awaitable[T]]) -> T:
        held = self._items.get(key)
        if held is not None and held[0] == epoch:
            self._items.move_to_end(key)
            value: T = held[1]
            return value
        value = await load()
        self._items[key] = (epoch, value)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        self._items.clear()
