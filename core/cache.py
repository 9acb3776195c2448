"""Bounded memoisation keyed by content: the one cache every page, the CLI and the Python API share.

Every expensive workspace operation is a pure function of content hashes (the model file, the
prepared data, the binding choices: ``Workspace.key``) and of small typed specs that also carry a
``key``. Memoising on those keys, bounded per function, means a slider move recomputes only what
changed, the report reuses what the pages already computed, and two browser sessions share a result
only when their inputs are byte-identical (results are immutable, so sharing is safe).

Arguments are turned into keys by ``content_key``: ``None``, numbers, text and tuples of them stand
for themselves, any other object must expose a ``key`` string. An argument without one is a
programming error (it would silently defeat or corrupt the cache), so it raises ``TypeError``.
"""
from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
_PLAIN = (str, int, float, bool, type(None))


def content_key(value: Any) -> Any:
    """A hashable stand-in for ``value`` that changes exactly when its content does."""
    if isinstance(value, _PLAIN):
        return (type(value).__name__, value)
    if isinstance(value, (tuple, list)):
        return tuple(content_key(v) for v in value)
    key = getattr(value, "key", None)
    if isinstance(key, str):
        return (type(value).__name__, key)
    raise TypeError(f"{type(value).__name__} has no content key; memoised operations take keyed objects only")


class Memo:
    """A thread-safe LRU of at most ``max_entries`` results (Streamlit runs sessions on threads)."""

    def __init__(self, name: str, max_entries: int) -> None:
        self.name = name
        self.max_entries = int(max_entries)
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_compute(self, key: Any, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return self._data[key]
        value = compute()  # outside the lock: one slow computation must not block other keys
        with self._lock:
            self.misses += 1
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)
        return value

    def __contains__(self, key: Any) -> bool:
        with self._lock:
            return key in self._data

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


MEMOS: dict[str, Memo] = {}


def named_memo(name: str, max_entries: int) -> Memo:
    """The process's one Memo called ``name`` (created on first use): for results keyed by hand, e.g. by
    content digests of arrays, that ``memoized`` cannot key. Registered, so ``clear_all`` forgets them too."""
    return MEMOS.setdefault(name, Memo(name, max_entries))


def memoized(max_entries: int, *, ignore: tuple[str, ...] = ("progress",)) -> Callable[[F], F]:
    """Decorate a pure operation so equal content keys return the stored result.

    Keyword arguments named in ``ignore`` (progress callbacks) do not enter the key. The wrapped
    function gets ``.memo`` (its Memo) and ``.cached(*args, **kwargs)`` (True when a call would hit).
    """

    def decorate(fn: F) -> F:
        memo = MEMOS.setdefault(f"{fn.__module__}.{fn.__qualname__}", Memo(fn.__qualname__, max_entries))

        def make_key(args, kwargs):
            named = tuple(sorted((k, content_key(v)) for k, v in kwargs.items() if k not in ignore))
            return (tuple(content_key(a) for a in args), named)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            return memo.get_or_compute(make_key(args, kwargs), lambda: fn(*args, **kwargs))

        wrapper.memo = memo  # type: ignore[attr-defined]
        wrapper.cached = lambda *a, **k: make_key(a, k) in memo  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def clear_all() -> None:
    """Forget every stored result (tests, and the dashboard's memory-pressure escape hatch)."""
    for memo in MEMOS.values():
        memo.clear()
