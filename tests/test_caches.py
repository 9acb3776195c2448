"""Caches stay bounded: every Streamlit cache declares max_entries, session stores evict the oldest."""
from __future__ import annotations

import ast
from collections import OrderedDict

import pytest
from conftest import ROOT

CACHE_DECORATORS = {"cache_resource", "cache_data"}


def _cache_decorators(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for dec in node.decorator_list:
                target = dec.func if isinstance(dec, ast.Call) else dec
                if isinstance(target, ast.Attribute) and target.attr in CACHE_DECORATORS:
                    yield node.name, dec


SOURCES = sorted([*ROOT.joinpath("ui").glob("*.py"), *ROOT.joinpath("pages").glob("*.py"), ROOT / "app.py"])


def test_the_dashboard_has_caches_to_check():
    assert sum(1 for p in SOURCES for _ in _cache_decorators(p)) >= 6


@pytest.mark.parametrize("path", SOURCES, ids=[p.relative_to(ROOT).as_posix() for p in SOURCES])
def test_every_streamlit_cache_declares_max_entries(path):
    for name, dec in _cache_decorators(path):
        assert isinstance(dec, ast.Call), f"{name}: bare decorator has no max_entries"
        limits = [k for k in dec.keywords if k.arg == "max_entries"]
        assert limits, f"{path.name}:{name} has an unbounded cache"


def test_bounded_cache_evicts_least_recently_used_and_never_recomputes_a_hit():
    from ui.compute import BoundedCache

    cache, calls = BoundedCache(max_entries=2), []

    def compute(v):
        calls.append(v)
        return v * 10

    assert cache.get_or_compute("a", lambda: compute(1)) == 10
    assert cache.get_or_compute("b", lambda: compute(2)) == 20
    assert cache.get_or_compute("a", lambda: compute(99)) == 10  # hit, and now most recent
    cache.get_or_compute("c", lambda: compute(3))  # evicts "b"
    assert len(cache) == 2
    assert cache.get_or_compute("b", lambda: compute(4)) == 40
    assert calls == [1, 2, 3, 4]


def test_session_stores_keep_only_the_newest_entries():
    from ui.compute import bounded_put

    store: OrderedDict = OrderedDict()
    for i in range(10):
        bounded_put(store, i, str(i), limit=3)
    bounded_put(store, 7, "again", limit=3)  # re-inserting makes it newest
    assert list(store) == [8, 9, 7]
