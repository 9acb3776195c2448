"""Recommend: the smallest pruned model that passes every criterion of a policy, searched over all methods.

The question a credit committee is asked is not "is 50 % acceptable?" but "what is the smallest
model we may ship, and why is it safe?". Per method the search
  1. evaluates a coarse grid of ratios (one batch, every method at once, parallel on the executor),
  2. refines by bisection between the largest passing grid ratio and the next grid ratio above it
     down to 1 % (each round one batch of one ratio per method still open); a method stops being
     refined once even its smallest possible model in the bracket is larger than a verified passing
     model of any method (sizes shrink as the ratio grows), unless ``exhaustive`` is set,
and then picks, among every candidate that passed, the smallest on the chosen size axis (ties: the
better ΔAUC, then the method order, then the smaller ratio). Metrics are only *nearly* monotone in
the ratio, so the bracketing only decides where to look: every reported candidate was pruned,
(optionally) fine-tuned and judged on the full policy, nothing is interpolated. With several
seeds a ratio passes only if its worst seed passes; the seed with the best ΔAUC is shipped.

Execution goes through the executor interface of ``core.execution``:
``executor.map(fn, tasks, *, shared=None, progress=None, cancel=None) -> list`` applies the
module-level ``evaluate_candidate(shared, task)`` to small picklable ``Candidate`` tasks; the
``SearchPayload`` (model file bytes, the workspace's prepared arrays, the policy JSON and the
choices) is shipped once per worker. Cancelling makes ``map`` raise ``Cancelled``; the search
keeps its state in local variables only, so a cancelled search leaves nothing half-done behind.
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np
import pandas as pd

from core.alignment.spec import NO_ALIGNMENT, AlignmentSpec
from core.data.dataset import Dataset
from core.errors import RiskPruneError, SpecError
from core.governance.segments import SegmentSpec
from core.hashing import digest
from core.metrics.decisions import DecisionRule
from core.policy.criteria import Policy
from core.policy.measure import NONZEROS, SIZE_AXES, Baseline, Measurements, baseline_for, check_axis, check_segments, measure
from core.policy.verdict import Verdict, evaluate
from core.progress import Progress, report
from core.prune.finetune import FineTuneSpec
from core.prune.methods import MAGNITUDE_LAYER, get_method, method_keys, method_label
from core.prune.spec import MAX_RATIO, PruneSpec
from core.workspace.binding import Workspace
from core.workspace.evaluation_sample import interactive_workspace
from core.workspace.governance import prepare_oot
from core.workspace.operations import Setting, evaluation_workspace, prune_workspace
from core.workspace.shipping import WorkspacePayload, kept, local, workspace_payload

DEFAULT_GRID = (0.1, 0.3, 0.5, 0.7, 0.9)
BASELINE_METHOD = MAGNITUDE_LAYER  # runs on every model with a Linear layer; at ratio 0 it is the original
MAX_SEEDS = 10
_RESOLUTION = 1  # percent


class Executor(Protocol):
    """What ``recommend`` needs from ``core.execution``: ordered, cancellable ``map`` with a shared payload."""

    def map(self, fn: Any, tasks: Sequence[Any], *, shared: Any = None, progress: Progress | None = None,
            cancel: threading.Event | None = None) -> list: ...


# --------------------------------------------------------------------------- settings and tasks


def _percent(ratio: Any, what: str) -> int:
    try:
        r = float(ratio)
    except (TypeError, ValueError):
        raise SpecError(f"The {what} {ratio!r} is not a number.", "Use shares such as 0.1, 0.3, 0.5.") from None
    pct = round(r * 100)
    if not math.isfinite(r) or abs(r * 100 - pct) > 1e-6 or not 1 <= pct <= round(MAX_RATIO * 100):
        raise SpecError(f"The {what} {ratio!r} is not a whole percent between 1 % and {MAX_RATIO:.0%}.",
                        "The search works on a 1 % grid: use shares such as 0.1, 0.35, 0.9.")
    return int(pct)


@dataclass(frozen=True)
class SearchSettings:
    """How the search runs: size axis, methods, coarse grid, seeds and optional fine-tuning per candidate.

    ``axis`` is what "smallest" means: ``nonzeros`` (non-zero parameters), ``parameters`` (stored
    parameters), ``file_bytes`` (the exported TorchScript file) or ``input_variables`` (variables the
    model still reads: the data-cost view). ``seeds`` seed the pruning (random methods) and the
    fine-tuning; a ratio passes only when every seed passes. ``exhaustive`` refines every method to
    1 % even where it can no longer beat a verified passing model (a complete per-method table, slower).
    """

    axis: str = NONZEROS
    methods: tuple[str, ...] = ()  # empty: every registered method, in registry order
    grid: tuple[float, ...] = DEFAULT_GRID
    seeds: tuple[int, ...] = (0,)
    fine_tune: FineTuneSpec | None = None
    exhaustive: bool = False
    alignment: AlignmentSpec = NO_ALIGNMENT  # a score map fitted to every candidate before it is judged

    def __post_init__(self) -> None:
        check_axis(self.axis)
        if not isinstance(self.exhaustive, bool):
            raise SpecError("The 'exhaustive' search setting must be true or false.", "Use False (the default) or True.")
        methods = tuple(self.methods) or method_keys()
        for m in methods:
            get_method(m)
        object.__setattr__(self, "methods", tuple(dict.fromkeys(methods)))
        pcts = sorted({_percent(r, "grid ratio") for r in self.grid})
        if not pcts:
            raise SpecError("The search grid has no ratios.", "Use e.g. 0.1, 0.3, 0.5, 0.7, 0.9.")
        object.__setattr__(self, "grid", tuple(p / 100 for p in pcts))
        seeds = tuple(self.seeds)
        if not seeds or len(seeds) > MAX_SEEDS:
            raise SpecError(f"The search needs between 1 and {MAX_SEEDS} seeds, got {len(seeds)}.", "Use e.g. seeds 0 and 1.")
        for s in seeds:
            if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
                raise SpecError(f"The seed {s!r} is not a non-negative whole number.", "Use seeds such as 0, 1, 2.")
        object.__setattr__(self, "seeds", tuple(dict.fromkeys(int(s) for s in seeds)))
        if self.fine_tune is not None:
            if not isinstance(self.fine_tune, FineTuneSpec):
                raise SpecError("The fine-tuning setting is not a FineTuneSpec.", "Pass FineTuneSpec(epochs=…) or None.")
            self.fine_tune.validate()

    @property
    def grid_percents(self) -> tuple[int, ...]:
        return tuple(round(r * 100) for r in self.grid)

    def to_dict(self) -> dict:
        return {"axis": self.axis, "axis_label": SIZE_AXES[self.axis], "methods": list(self.methods),
                "grid": list(self.grid), "resolution": _RESOLUTION / 100, "seeds": list(self.seeds),
                "exhaustive": self.exhaustive,
                "fine_tune": None if self.fine_tune is None else {k: v for k, v in vars(self.fine_tune).items() if k != "seed"}}


@dataclass(frozen=True)
class Candidate:
    """One task of the search: prune with ``method`` at ``percent`` %, seed ``seed``, optionally fine-tune."""

    method: str
    percent: int
    seed: int = 0
    fine_tune: FineTuneSpec | None = None
    alignment: AlignmentSpec = NO_ALIGNMENT

    @property
    def ratio(self) -> float:
        return self.percent / 100

    @property
    def spec(self) -> PruneSpec:
        return PruneSpec.make(self.method, self.ratio, seed=self.seed)

    @property
    def fine_tune_spec(self) -> FineTuneSpec | None:
        """The fine-tuning actually run: the search's spec with this candidate's seed."""
        return None if self.fine_tune is None else replace(self.fine_tune, seed=self.seed)


@dataclass(frozen=True, eq=False)
class Outcome:
    """What one candidate came to: its verdict and numbers, or why it could not be built or measured."""

    candidate: Candidate
    verdict: Verdict | None
    measurements: Measurements | None
    error: str = ""
    seconds: float = 0.0

    @property
    def acceptable(self) -> bool:
        return self.verdict is not None and self.verdict.acceptable

    @property
    def blocking_label(self) -> str:
        if self.verdict is None:
            return f"could not be evaluated: {self.error}"
        b = self.verdict.blocking
        return "" if b is None else b.label

    @property
    def blocking_sentence(self) -> str:
        if self.verdict is None:
            return f"It could not be evaluated: {self.error}"
        b = self.verdict.blocking
        return "" if b is None else b.sentence


# --------------------------------------------------------------------------- the shared payload and the task


@dataclass(frozen=True, eq=False)
class SearchPayload:
    """Everything a worker needs, as plain data: the workspace (model file bytes and prepared arrays,
    ``core.workspace.shipping``), the policy as JSON and the choices."""

    workspace: WorkspacePayload
    policy_json: str
    decision: DecisionRule
    segments: tuple[SegmentSpec, ...]
    oot: Dataset | None
    key: str

    @property
    def model_hash(self) -> str:
        return self.workspace.model_hash


def payload_for(ws: Workspace, policy: Policy, *, model_bytes: bytes | None = None, decision: DecisionRule | None = None,
                segments: Sequence[str | SegmentSpec] = (), oot: pd.DataFrame | Dataset | None = None) -> SearchPayload:
    """The search's shared payload. ``model_bytes`` should be the uploaded file (its SHA-256 must match
    the workspace's model); without it the loaded model is serialised again."""
    shipped = workspace_payload(ws, model_bytes)
    oot_data = None if oot is None else (oot if isinstance(oot, Dataset) else prepare_oot(ws, oot))
    decision = decision if decision is not None else DecisionRule()
    segs = check_segments(ws, segments)
    key = digest([shipped.key, policy.key, decision.key, repr(segs),
                  "" if oot_data is None else oot_data.fingerprint], length=32)
    return SearchPayload(shipped, policy.to_json(indent=None), decision, segs, oot_data, key)


def _context(shared: SearchPayload) -> tuple[Workspace, Baseline]:
    """The workspace and baseline of a payload, rebuilt once per worker process (then kept beside it)."""
    record = kept(shared.workspace)
    base = record.get(shared.key)
    if base is None:
        base = record[shared.key] = baseline_for(record["workspace"], Policy.from_json(shared.policy_json),
                                                 decision=shared.decision, segments=shared.segments, oot=shared.oot)
    return record["workspace"], base


def evaluate_candidate(shared: SearchPayload, task: Candidate) -> Outcome:
    """The executor's task function: prune, optionally fine-tune, measure and judge one candidate.

    A method that cannot run on this model, or a candidate whose numbers cannot be computed,
    comes back as an ``Outcome`` with the reason (it does not pass); bugs still raise.
    """
    started = time.perf_counter()
    ws, base = _context(shared)
    try:
        pruned = prune_workspace(ws, Setting(task.spec, task.fine_tune_spec, task.alignment))
        m = measure(ws, pruned, base)
    except RiskPruneError as err:
        return Outcome(task, None, None, str(err), time.perf_counter() - started)
    return Outcome(task, evaluate(base.policy, m), m, "", time.perf_counter() - started)


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True, eq=False)
class Winner:
    """The recommended setting: make it current with ``spec`` (and ``fine_tune`` when not None)."""

    method: str
    ratio: float
    seed: int
    fine_tune: FineTuneSpec | None
    axis: str
    size: int
    original_size: int
    verdict: Verdict
    measurements: Measurements

    @property
    def spec(self) -> PruneSpec:
        return PruneSpec.make(self.method, self.ratio, seed=self.seed)

    @property
    def reduction(self) -> float:
        """Share of the original's size on the axis that the winner removes."""
        return 1.0 - self.size / self.original_size if self.original_size else 0.0

    @property
    def label(self) -> str:
        ft = "" if self.fine_tune is None else f", fine-tuned {self.fine_tune.epochs} epochs"
        return f"{method_label(self.method)} at {self.ratio:.0%} (seed {self.seed}{ft})"

    def to_dict(self) -> dict:
        return {"method": self.method, "method_label": method_label(self.method), "ratio": self.ratio, "seed": self.seed,
                "fine_tune": None if self.fine_tune is None else vars(self.fine_tune).copy(), "axis": self.axis,
                "size": self.size, "original_size": self.original_size, "reduction": self.reduction,
                "state": self.measurements.state, "verdict": self.verdict.to_dict()}


@dataclass(frozen=True, eq=False)
class Recommendation:
    """The search's answer, every candidate it tried and why each method stopped where it did.

    ``winner`` is None when no pruned setting passes (``blockers`` then names, per method, the
    criterion that blocked it) or when passing settings exist but none is smaller on the axis.
    """

    winner: Winner | None
    summary: str
    baseline: Outcome
    outcomes: tuple[Outcome, ...]
    candidates: pd.DataFrame = field(repr=False)
    methods: pd.DataFrame = field(repr=False)
    blockers: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)

    @property
    def n_candidates(self) -> int:
        return len(self.outcomes)

    def outcome(self, method: str, ratio: float, seed: int = 0) -> Outcome:
        pct = round(float(ratio) * 100)
        for o in self.outcomes:
            c = o.candidate
            if c.method == method and c.percent == pct and c.seed == seed:
                return o
        raise SpecError(f"{method_label(method)} at {ratio:.0%} (seed {seed}) was not tried.", "Pick a row of the candidate table.")

    def to_frame(self) -> pd.DataFrame:
        """Every candidate tried, in the order tried, with its size, key numbers and verdict."""
        return self.candidates.copy()

    def method_frame(self) -> pd.DataFrame:
        return self.methods.copy()

    def to_dict(self) -> dict:
        """For the manifest and the report: settings, answer, per-method outcome, counts and timings."""
        return {"summary": self.summary, "winner": None if self.winner is None else self.winner.to_dict(),
                "blockers": dict(self.blockers), "settings": dict(self.settings), "timings": dict(self.timings),
                "n_candidates": self.n_candidates,
                "methods": self.methods.replace({np.nan: None}).to_dict(orient="records")}


# --------------------------------------------------------------------------- the search


class _Tracker:
    """Turns per-batch progress of ``executor.map`` into one count over the whole search."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.done = 0

    def batch(self, stage: str, size: int, remaining_after: int) -> Progress | None:
        if self.progress is None:
            return None
        offset = self.done

        def tick(done: int, total: int, what: str) -> None:
            report(self.progress, offset + done, offset + size + remaining_after,
                   f"{stage}: {offset + done} candidates checked (at most {offset + size + remaining_after})")

        return tick


def _rounds_needed(gap: int) -> int:
    return max(0, math.ceil(math.log2(gap))) if gap > _RESOLUTION else 0


def _ship(outs: list[Outcome]) -> Outcome:
    """Of one ratio's seeds, the model to ship: the best ΔAUC (ties: the first seed)."""
    return max(outs, key=lambda o: (o.measurements.delta_auc if o.measurements is not None else -math.inf,
                                    -outs.index(o)))


def _worst(outs: list[Outcome]) -> Outcome:
    """Of one ratio's seeds, the one that decides: the first that fails, else the first."""
    for o in outs:
        if not o.acceptable:
            return o
    return outs[0]


def recommend(
    ws: Workspace,
    policy: Policy,
    executor: Executor,
    *,
    settings: SearchSettings | None = None,
    model_bytes: bytes | None = None,
    decision: DecisionRule | None = None,
    segments: Sequence[str | SegmentSpec] = (),
    oot: pd.DataFrame | Dataset | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> Recommendation:
    """Search every method for the smallest model that passes every enabled criterion of ``policy``.

    Same workspace, policy, settings and choices give the same recommendation (every step is
    seeded and ordered). ``progress(done, total, what)`` counts candidates (``total`` is an upper
    bound that tightens as brackets close); setting ``cancel`` makes the executor raise
    ``Cancelled`` and nothing of the search is kept.
    """
    settings = settings if settings is not None else SearchSettings()
    if not isinstance(policy, Policy):
        raise SpecError("The acceptance policy is missing.", "Pass a core.policy.Policy (default_policy()).")
    if settings.fine_tune is not None and not ws.can_fine_tune:
        raise SpecError("Fine-tuning candidates needs training rows, but every row is used for evaluation.",
                        "Bind the data with a held-out split (eval mode 'holdout') or search without fine-tuning.")
    started = time.perf_counter()
    ws = interactive_workspace(ws)  # a large book is searched on its stratified sample (settings["rows"] says so)
    ws = evaluation_workspace(ws, Setting(PruneSpec(), alignment=settings.alignment))  # rows a map may be fitted on
    payload = payload_for(ws, policy, model_bytes=model_bytes, decision=decision, segments=segments, oot=oot)
    base = baseline_for(ws, policy, decision=payload.decision, segments=payload.segments, oot=payload.oot)
    baseline_s = time.perf_counter() - started
    tracker = _Tracker(progress)
    rounds: list[dict] = []
    results: dict[Candidate, Outcome] = {}
    order: list[tuple[str, Candidate]] = []
    ft = settings.fine_tune

    def run(stage: str, tasks: list[Candidate], remaining_after: int) -> None:
        t = time.perf_counter()
        outs = executor.map(evaluate_candidate, tasks, shared=payload,
                            progress=tracker.batch(stage, len(tasks), remaining_after), cancel=cancel)
        if len(outs) != len(tasks):
            raise RuntimeError(f"the executor returned {len(outs)} results for {len(tasks)} tasks")
        for task, out in zip(tasks, outs):
            results[task] = out
            order.append((stage, task))
        tracker.done += len(tasks)
        rounds.append({"stage": stage, "candidates": len(tasks), "seconds": round(time.perf_counter() - t, 3)})

    with local(payload.workspace, ws):  # an in-process executor reuses the caller's workspace instead of reloading it
        kept(payload.workspace)[payload.key] = base
        methods, seeds, grid = settings.methods, settings.seeds, settings.grid_percents
        at = lambda m, p: [results[Candidate(m, p, s, ft, settings.alignment)] for s in seeds]
        passes = lambda m, p: all(o.acceptable for o in at(m, p))
        base_task = Candidate(BASELINE_METHOD, 0, seeds[0], None, settings.alignment)  # ratio 0: the original's own function
        grid_tasks = [Candidate(m, p, s, ft, settings.alignment) for m in methods for p in grid for s in seeds]
        worst_refine = len(methods) * len(seeds) * max(_rounds_needed(b - a) for a, b in zip((0, *grid), grid))
        run("grid", [base_task, *grid_tasks], worst_refine)
        baseline = results[base_task]
        if baseline.verdict is None:
            raise SpecError(f"The original model cannot be judged against the policy: {baseline.error}",
                            "Fix the data or the model before searching.")
        lower_ok = baseline.acceptable
        axis = settings.axis

        brackets: dict[str, tuple[int, int]] = {}
        for m in methods:
            if all(o.verdict is None for p in grid for o in at(m, p)):
                continue  # the method cannot run on this model
            passing = [p for p in grid if passes(m, p)]
            lo = max(passing) if passing else (0 if lower_ok else None)
            if lo is None:
                continue
            above = [p for p in grid if p > lo]
            if not above:
                continue
            hi = above[0]
            brackets[m] = (lo, hi)

        def size_at(m: str, p: int) -> int | None:
            sizes = [o.measurements.size_on(axis) for o in at(m, p) if o.measurements is not None]
            return min(sizes) if sizes else None

        def best_so_far() -> int | None:
            """The smallest verified passing size (every seed passed) that beats the original, if any."""
            sizes = [_ship(at(m, p)).measurements.size_on(axis)
                     for (m, p) in {(c.method, c.percent) for c in results if c.percent > 0} if passes(m, p)]
            sizes = [x for x in sizes if x < original_size]
            return min(sizes) if sizes else None

        original_size = baseline.measurements.original_size_on(axis) if baseline.measurements is not None else 0

        def worth(m: str, lo: int, hi: int, best: int | None) -> bool:
            """Refine (lo, hi) unless no ratio inside can be a smaller passing model than one already verified.

            Sizes shrink as the ratio grows, so every ratio inside is at least as large as ``hi``: when
            the two ends have the same size nothing inside can differ, and (unless ``exhaustive``) when
            ``hi`` is already larger than a verified passing model, nothing inside can win.
            """
            if hi - lo <= _RESOLUTION:
                return False
            hi_size = size_at(m, hi)
            if hi_size is None:
                return True
            lo_size = original_size if lo == 0 else size_at(m, lo)
            if lo_size is not None and hi_size >= lo_size:
                return False
            return settings.exhaustive or best is None or hi_size <= best

        step = 0
        while True:
            best = best_so_far()
            open_ = {m: b for m, b in brackets.items() if worth(m, *b, best)}
            if not open_:
                break
            step += 1
            mids = {m: (lo + hi) // 2 for m, (lo, hi) in open_.items()}
            tasks = [Candidate(m, mids[m], s, ft, settings.alignment) for m in open_ for s in seeds]
            remaining = len(seeds) * sum(_rounds_needed((hi - lo + 1) // 2) for lo, hi in open_.values())
            run(f"refine {step}", tasks, remaining)
            for m, mid in mids.items():
                lo, hi = brackets[m]
                brackets[m] = (mid, hi) if passes(m, mid) else (lo, mid)
        notes: dict[str, str] = {}
        best = best_so_far()
        for m, (lo, hi) in brackets.items():
            if hi - lo > _RESOLUTION:
                hi_size = size_at(m, hi)
                lo_size = original_size if lo == 0 else size_at(m, lo)
                if hi_size is not None and lo_size is not None and hi_size >= lo_size:
                    notes[m] = f"{lo}% and {hi}% give the same size, so the ratios between were not tried"
                else:
                    notes[m] = (f"not refined between {lo}% and {hi}%: even {hi}% ({hi_size:,}) is larger than "
                                f"a verified passing model ({best:,})")

    return _assemble(ws, policy, settings, payload, baseline, results, order, rounds, notes,
                     {"baseline_s": round(baseline_s, 3), "total_s": round(time.perf_counter() - started, 3)})


def _assemble(ws: Workspace, policy: Policy, settings: SearchSettings, payload: SearchPayload, baseline: Outcome,
              results: dict[Candidate, Outcome], order: list[tuple[str, Candidate]], rounds: list[dict],
              notes: dict[str, str], timings: dict) -> Recommendation:
    axis, seeds = settings.axis, settings.seeds
    axis_label = SIZE_AXES[axis].lower()
    by_ratio: dict[tuple[str, int], list[Outcome]] = {}
    for _, c in order:
        if c.percent > 0:
            by_ratio.setdefault((c.method, c.percent), []).append(results[c])
    method_index = {m: i for i, m in enumerate(settings.methods)}
    original_size = baseline.measurements.original_size_on(axis) if baseline.measurements is not None else 0

    def size(outs: list[Outcome]) -> int | None:
        """The smallest size any seed reached at this ratio (random methods differ by seed)."""
        sizes = [o.measurements.size_on(axis) for o in outs if o.measurements is not None]
        return min(sizes) if sizes else None

    def smaller(outs: list[Outcome]) -> bool:
        s = size(outs)
        return s is not None and s < original_size

    # the winner: smallest on the axis among ratios that make the model smaller and whose every seed passed
    ranked = []
    for (m, p), outs in by_ratio.items():
        if all(o.acceptable for o in outs):
            ship = _ship(outs)
            if ship.measurements.size_on(axis) < original_size:
                ranked.append(((ship.measurements.size_on(axis), -ship.measurements.delta_auc, method_index[m], p), ship))
    ranked.sort(key=lambda x: x[0])
    winner = None
    if ranked:
        ship = ranked[0][1]
        c = ship.candidate
        winner = Winner(c.method, c.ratio, c.seed, c.fine_tune_spec, axis, ship.measurements.size_on(axis), original_size,
                        ship.verdict, ship.measurements)

    # per method: the best passing ratio, where the search stopped and what stopped it
    rows, blockers = [], {}
    for m in settings.methods:
        ratios = sorted(p for (mm, p) in by_ratio if mm == m)
        outs_m = {p: by_ratio[(m, p)] for p in ratios}
        best = next((ship for _, ship in ranked if ship.candidate.method == m), None)
        failing = [p for p in ratios if not all(o.acceptable for o in outs_m[p])]
        if best is not None:
            stopped = next((p for p in failing if p > best.candidate.percent), None)
        else:
            stopped = next((p for p in failing if smaller(outs_m[p]) or size(outs_m[p]) is None), None)
        stop_out = _worst(outs_m[stopped]) if stopped is not None else None
        row = {"method": m, "method_label": method_label(m), "tried": len(ratios) * len(seeds),
               "best_ratio": None if best is None else best.candidate.ratio,
               "best_seed": None if best is None else best.candidate.seed,
               "best_size": None if best is None else best.measurements.size_on(axis),
               "best_delta_auc": None if best is None else best.measurements.delta_auc,
               "state": None if best is None else best.measurements.state,
               "stopped_at": None if stopped is None else stopped / 100,
               "stopped_by": "" if stop_out is None else stop_out.blocking_label,
               "stopped_because": "" if stop_out is None else stop_out.blocking_sentence, "blocked_by": "",
               "note": notes.get(m, "")}
        if best is None:
            errors = [o for p in ratios for o in outs_m[p] if o.verdict is None]
            if ratios and len(errors) == len(ratios) * len(seeds):
                why = f"it cannot run on this model: {errors[0].error}"
            elif not baseline.acceptable and stop_out is None:
                why = f"the original model itself fails: {baseline.blocking_sentence}"
            elif stop_out is not None and stopped == _RESOLUTION:
                why = f"even at {stopped}% it fails. {stop_out.blocking_sentence}"
            elif stop_out is not None:
                why = f"at {stopped}%, the smallest ratio tried that makes it smaller, it fails. {stop_out.blocking_sentence}"
            elif ratios:
                states = sorted({o.measurements.state for p in ratios for o in outs_m[p] if o.measurements is not None})
                why = f"no ratio tried makes the model smaller on {axis_label} ({'/'.join(states)} pruning)"
            else:
                why = "no ratio was tried"
            blockers[m] = why
            row["blocked_by"] = why
        rows.append(row)
    methods = pd.DataFrame(rows, columns=["method", "method_label", "tried", "best_ratio", "best_seed", "best_size",
                                          "best_delta_auc", "state", "stopped_at", "stopped_by", "stopped_because",
                                          "blocked_by", "note"])

    table = []
    for stage, c in order:
        o = results[c]
        mm = o.measurements
        outs = by_ratio.get((c.method, c.percent), [o])
        table.append({
            "stage": "original" if c.percent == 0 else stage, "method": "" if c.percent == 0 else c.method,
            "method_label": "original model (no pruning)" if c.percent == 0 else method_label(c.method),
            "ratio": c.ratio, "seed": c.seed, "fine_tuned": c.fine_tune is not None and c.percent > 0,
            "state": None if mm is None else mm.state,
            "nonzeros": None if mm is None else mm.size["nonzeros"], "parameters": None if mm is None else mm.size["parameters"],
            "file_bytes": None if mm is None else mm.size["file_bytes"], "input_variables": None if mm is None else mm.n_variables,
            "size": None if mm is None else mm.size_on(axis),
            "delta_auc": None if mm is None else mm.delta_auc, "delta_auc_low": None if mm is None else mm.delta_auc_low,
            "psi": None if mm is None else mm.psi, "flip_share": None if mm is None else mm.flip_share,
            "acceptable": o.acceptable, "ratio_acceptable": all(x.acceptable for x in outs),
            "n_failed": None if o.verdict is None else len(o.verdict.failed),
            "blocking": "" if o.verdict is None or o.verdict.blocking is None else o.verdict.blocking.key,
            "blocking_label": o.blocking_label, "error": o.error, "seconds": round(o.seconds, 4),
        })
    candidates = pd.DataFrame(table)

    n = len(order)
    timings = {**timings, "rounds": rounds, "candidates": n,
               "candidate_s_mean": round(float(np.mean([results[c].seconds for _, c in order])), 4) if n else 0.0}
    if winner is not None:
        summary = (f"Smallest model that passes every criterion: {winner.label} — {axis_label} "
                   f"{winner.size:,} of {winner.original_size:,} ({winner.reduction:.0%} smaller), {winner.measurements.state}; "
                   f"{n} candidates checked on {ws.rows_label}.")
    elif not baseline.acceptable:
        summary = (f"Even the original model fails this policy. {baseline.blocking_sentence} No pruned setting passes it "
                   "either; relax or switch off that criterion.")
    else:
        summary = f"No pruned setting that makes the model smaller on {axis_label} passes every criterion. " + " ".join(
            f"{method_label(m)} — {why.rstrip('.')}." for m, why in blockers.items())
    all_settings = {**settings.to_dict(), "policy": policy.to_dict(), "policy_key": policy.key,
                    "decision": payload.decision.to_dict(),
                    "cutoff": baseline.measurements.cutoff if baseline.measurements is not None else None,
                    "segments": [{"column": g.column, "edges": None if g.edges is None else list(g.edges), "bands": g.bands}
                                 for g in payload.segments], "out_of_time_rows": 0 if payload.oot is None else payload.oot.n_rows,
                    "workspace_key": ws.key, "model_sha256": payload.model_hash, "payload_key": payload.key,
                    "rows": ws.rows_label}
    return Recommendation(winner, summary, baseline, tuple(results[c] for _, c in order), candidates, methods, blockers,
                          all_settings, timings)
