"""Caches stay bounded: every Streamlit cache and every core memo declares its size, stores evict the oldest."""
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
    assert sum(1 for p in SOURCES for _ in _cache_decorators(p)) >= 3


def test_every_core_memo_is_bounded_and_the_workspace_operations_use_them():
    import core.workspace  # noqa: F401  (registers the memoised operations)
    from core.cache import MEMOS

    ops = {name.rsplit(".", 1)[-1] for name in MEMOS}
    assert {"_pruned", "_fine_tuned", "compare_workspace", "attributions_for", "sweep_workspace", "segment_fairness_for",
            "reasons_for"} <= ops
    # the hand-keyed caches (bootstrap counts and draws, file lengths, original sizes, attributions, probes) are
    # registered too, so clear_all forgets them with the rest
    assert {"resample_counts", "model_draws", "file_bytes", "original_size", "explain", "probe"} <= ops
    assert all(0 < memo.max_entries <= 64 for memo in MEMOS.values())


@pytest.mark.parametrize("path", SOURCES, ids=[p.relative_to(ROOT).as_posix() for p in SOURCES])
def test_every_streamlit_cache_declares_max_entries(path):
    for name, dec in _cache_decorators(path):
        assert isinstance(dec, ast.Call), f"{name}: bare decorator has no max_entries"
        limits = [k for k in dec.keywords if k.arg == "max_entries"]
        assert limits, f"{path.name}:{name} has an unbounded cache"


def test_bounded_cache_evicts_least_recently_used_and_never_recomputes_a_hit():
    from core.cache import Memo

    cache, calls = Memo("test", max_entries=2), []

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
    from ui.state import bounded_put

    store: OrderedDict = OrderedDict()
    for i in range(10):
        bounded_put(store, i, str(i), limit=3)
    bounded_put(store, 7, "again", limit=3)  # re-inserting makes it newest
    assert list(store) == [8, 9, 7]


def test_memo_keys_are_content_keys_and_refuse_unkeyed_arguments():
    from core.cache import content_key, memoized
    from core.prune import PruneSpec

    calls = []

    @memoized(4)
    def square(spec, x, progress=None):
        calls.append(x)
        return x * x

    a, b = PruneSpec.make("neuron_l1", 0.5), PruneSpec.make("neuron_l1", 0.5)
    assert square(a, 3) == 9 and square(b, 3, progress=print) == 9  # equal content, progress ignored: one computation
    assert calls == [3]
    assert content_key(1) != content_key(1.0) != content_key("1")
    with pytest.raises(TypeError, match="no content key"):
        square(object(), 2)
