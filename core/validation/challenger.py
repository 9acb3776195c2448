"""The challenger: a logistic regression on the same inputs, beside the original and the pruned network.

A neural network in a credit decision has to earn its complexity. Supervisors say so in as many
words: the ECB guide to internal models (revised July 2025, section on machine-learning
techniques) expects the added complexity of a model to be justified by its performance, and the
EBA follow-up report on machine learning for IRB models (EBA/REP/2023/28) expects a challenger
model and a check for overfitting. The usual challenger in credit scoring is a logistic
regression on the same inputs (Siddiqi, 2017, *Intelligent Credit Scoring*, 2nd ed., ch. 10;
Hand & Henley, 1997, "Statistical classification methods in consumer credit scoring: a review",
JRSS A 160(3)). Pruning can remove exactly the part of a network that beat it, so the question is
asked again for the pruned model.

How it is fitted (seeded, deterministic): inputs standardised (``StandardScaler``), L2-penalised
logistic regression (``C`` = 1, lbfgs, ``max_iter`` high enough to converge on scaled inputs).

* With training rows (hold-out evaluation) it is fitted on ``ws.X_train, ws.y_train`` — the rows
  the network was trained or fine-tuned on — and scores the evaluation rows it never saw.
* Without them (every row is evaluated) its scores are 5-fold stratified cross-validated
  predictions on the evaluation rows (each row scored by a fit that did not see it), and the
  report says so.

Each model gets AUC, Gini and KS with 95 % intervals: AUC by DeLong's variance (DeLong, DeLong &
Clarke-Pearson, 1988, Biometrics 44; fast form of Sun & Xu, 2014), Gini = 2·AUC − 1 with the
interval transformed the same way (Engelmann, Hayden & Tasche, 2003), KS by a seeded percentile
bootstrap (Efron & Tibshirani, 1993, ch. 13). Whether a network "justifies its complexity" is
DeLong's paired test of AUC(network) − AUC(challenger) on the same applicants.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from core.cache import memoized
from core.errors import MetricError, SpecError
from core.metrics import DeLongResult, auc, delong_auc_variance, delong_test, ks
from core.metrics._validation import as_labels, check_y_score
from core.metrics.intervals import ks_delta_interval
from core.workspace.binding import Workspace
from core.workspace.operations import PrunedModel

TRAINED, CROSS_VALIDATED = "trained", "cross-validated"
JUSTIFIED, NOT_SHOWN, NOT_JUSTIFIED = "justified", "not shown", "not justified"
MODEL_LABELS = {"original": "Original network", "pruned": "Pruned network", "challenger": "Logistic regression (challenger)"}
MAX_FIT_ROWS = 2_000_000  # bounded work: a logistic regression on more rows than this is not a challenger, it is a project


@dataclass(frozen=True)
class ChallengerSpec:
    """How the challenger is fitted and judged: folds (cross-validation only), seed, penalty, iterations, interval level."""

    folds: int = 5
    seed: int = 0
    C: float = 1.0
    max_iter: int = 5000
    level: float = 0.95
    ks_resamples: int = 200

    def __post_init__(self) -> None:
        for name, lo, hi in (("folds", 2, 20), ("seed", 0, 2**32 - 1), ("max_iter", 100, 1_000_000), ("ks_resamples", 10, 100_000)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= int(v) <= hi:
                raise SpecError(f"The challenger setting {name} must be a whole number from {lo} to {hi} (got {v!r}).",
                                "Use the defaults: 5 folds, seed 0, 5000 iterations, 200 resamples.")
            object.__setattr__(self, name, int(v))
        if isinstance(self.C, bool) or not isinstance(self.C, (int, float)) or not (0 < float(self.C) < math.inf):
            raise SpecError(f"The challenger's inverse penalty C must be a positive number (got {self.C!r}).", "Use C = 1.")
        if not isinstance(self.level, (int, float)) or not 0.5 < float(self.level) < 1:
            raise SpecError(f"The confidence level {self.level!r} is out of range.", "Use e.g. 0.95.")
        object.__setattr__(self, "C", float(self.C))
        object.__setattr__(self, "level", float(self.level))

    @property
    def key(self) -> str:
        return f"challenger|{self.folds}|{self.seed}|{self.C!r}|{self.max_iter}|{self.level!r}|{self.ks_resamples}"

    def to_dict(self) -> dict:
        return asdict(self)


def _pipeline(spec: ChallengerSpec):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=spec.C, max_iter=spec.max_iter))


def _check_rows(X: np.ndarray, y: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or len(X) == 0:
        raise MetricError(f"There are no {what} to fit the challenger on.", "Evaluate on more rows.")
    if len(X) > MAX_FIT_ROWS:
        raise SpecError(f"The challenger would be fitted on {len(X):,} {what}; at most {MAX_FIT_ROWS:,} are used.",
                        "Evaluate on a sample of the portfolio.")
    y = as_labels(y, len(X))
    bad = ~np.isfinite(X)
    if bad.any():
        rows = int(bad.any(axis=1).sum())
        raise MetricError(f"{rows:,} of the {what} have missing or infinite inputs, so a logistic regression cannot be fitted.",
                          "Choose drop or impute for missing values to get the challenger.")
    n_bad = int(y.sum())
    if n_bad == 0 or n_bad == len(y):
        raise MetricError(f"The {what} hold only one outcome, so the challenger cannot be fitted.", "Evaluate on more rows.")
    return X, y


def fit_logistic(X: np.ndarray, y: np.ndarray, spec: ChallengerSpec = ChallengerSpec()):
    """The fitted challenger pipeline (scaler + logistic regression) on these rows; warnings about convergence raise."""
    X, y = _check_rows(X, y, "training rows")
    model = _pipeline(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("error", category=_convergence_warning())
        try:
            model.fit(X, y)
        except _convergence_warning():
            raise MetricError(f"The challenger's logistic regression did not converge in {spec.max_iter:,} iterations.",
                              "Raise max_iter, or check for inputs that separate the outcomes perfectly.") from None
    return model


def _convergence_warning():
    from sklearn.exceptions import ConvergenceWarning

    return ConvergenceWarning


def cross_validated_scores(X: np.ndarray, y: np.ndarray, spec: ChallengerSpec = ChallengerSpec()) -> tuple[np.ndarray, int]:
    """Out-of-fold P(bad) of every row (stratified, shuffled with ``spec.seed``) and the number of folds used.

    Fewer folds are used when the rarer outcome has fewer rows than ``spec.folds`` (every fold needs both).
    """
    from sklearn.model_selection import StratifiedKFold

    X, y = _check_rows(X, y, "evaluation rows")
    minority = int(min(y.sum(), len(y) - y.sum()))
    folds = min(spec.folds, minority)
    if folds < 2:
        raise MetricError("The rarer outcome has fewer than 2 rows, so the challenger cannot be cross-validated.",
                          "Evaluate on more rows.")
    out = np.empty(len(y), dtype=np.float64)
    for train, test in StratifiedKFold(n_splits=folds, shuffle=True, random_state=spec.seed).split(X, y):
        out[test] = fit_logistic(X[train], y[train], spec).predict_proba(X[test])[:, 1]
    return out, folds


@dataclass(frozen=True)
class ModelPerformance:
    """One model's ranking power on the evaluation rows, with intervals."""

    model: str
    label: str
    auc: float
    auc_low: float
    auc_high: float
    gini: float
    gini_low: float
    gini_high: float
    ks: float
    ks_low: float
    ks_high: float


@dataclass(frozen=True)
class Justification:
    """Does a network beat the challenger? DeLong's paired test of AUC(network) − AUC(challenger)."""

    model: str
    test: DeLongResult  # a = challenger, b = network: delta = AUC(network) − AUC(challenger)
    outcome: str  # JUSTIFIED, NOT_SHOWN or NOT_JUSTIFIED
    sentence: str


def performance(y_true, y_score, model: str, *, level: float = 0.95, resamples: int = 200, seed: int = 0) -> ModelPerformance:
    """AUC with DeLong's interval, Gini = 2·AUC − 1 with the same interval transformed, KS with a percentile bootstrap.

    The KS interval resamples applicants with replacement (``resamples`` draws, ``seed``); it is
    the paired bootstrap of KS(model) − KS(constant score), and a constant score has KS 0, so it is
    exactly the bootstrap of KS(model) (Efron & Tibshirani 1993). Above 50,000 applicants it
    resamples a stratified sample, as every ΔKS interval does (``ks_delta_interval``).
    """
    y, s = check_y_score(y_true, y_score)
    a = auc(y, s)
    half = float(stats.norm.ppf(0.5 + level / 2.0)) * math.sqrt(delong_auc_variance(y, s))
    lo, hi = max(a - half, 0.0), min(a + half, 1.0)
    k = ks(y, s)
    ci = ks_delta_interval(y, np.zeros_like(s), s, resamples=resamples, seed=seed, level=level)
    return ModelPerformance(model, MODEL_LABELS.get(model, model), a, lo, hi, 2 * a - 1, 2 * lo - 1, 2 * hi - 1, k, ci.low, ci.high)


def justify(y_true, challenger_scores, network_scores, model: str, *, level: float = 0.95) -> Justification:
    """The sentence a committee reads: does this network rank better than the logistic regression, beyond noise?"""
    t = delong_test(y_true, challenger_scores, network_scores, level=level)
    name = MODEL_LABELS.get(model, model).lower()
    lv = f"{level:.0%}"
    numbers = (f"AUC {t.auc_b:.4f} against {t.auc_a:.4f}, difference {t.delta:+.4f} ({lv} CI {t.low:+.4f} to "
               f"{t.high:+.4f}, DeLong p = {t.p_value:.3g})")
    if t.low > 0:
        outcome = JUSTIFIED
        sentence = (f"The {name} ranks applicants better than the logistic regression on the same inputs — {numbers}: "
                    "its extra complexity is justified by performance.")
    elif t.high < 0:
        outcome = NOT_JUSTIFIED
        sentence = (f"The logistic regression ranks applicants better than the {name} — {numbers}: the network's "
                    "complexity is not justified by performance.")
    else:
        outcome = NOT_SHOWN
        sentence = (f"The {name} and the logistic regression rank applicants alike within sampling noise — {numbers}: "
                    "on these rows the network's extra complexity is not shown to buy ranking power.")
    return Justification(model, t, outcome, sentence)


@dataclass(frozen=True, eq=False)
class Challenger:
    """The logistic-regression challenger on the evaluation rows, the three models' ranking power, and the verdicts."""

    how: str  # TRAINED or CROSS_VALIDATED
    note: str
    n_fit: int
    n_fit_bad: int
    folds: int | None
    spec: ChallengerSpec
    scores: np.ndarray = field(repr=False)
    coefficients: pd.DataFrame = field(repr=False)  # input, coefficient (per standard deviation), odds ratio
    performance: tuple[ModelPerformance, ...] = ()
    justification: tuple[Justification, ...] = ()

    @property
    def key(self) -> str:
        from core.hashing import digest

        return digest([self.spec.key, self.how, np.ascontiguousarray(self.scores)], length=32)

    def result(self, model: str) -> ModelPerformance:
        for p in self.performance:
            if p.model == model:
                return p
        raise KeyError(model)

    def justification_for(self, model: str) -> Justification:
        for j in self.justification:
            if j.model == model:
                return j
        raise KeyError(model)

    def to_frame(self) -> pd.DataFrame:
        """One row per model: AUC, Gini, KS with their interval bounds."""
        return pd.DataFrame([asdict(p) for p in self.performance])

    def tests_frame(self) -> pd.DataFrame:
        """One row per network: DeLong's test against the challenger and the outcome."""
        return pd.DataFrame([{"model": j.model, "auc_network": j.test.auc_b, "auc_challenger": j.test.auc_a,
                              "delta": j.test.delta, "low": j.test.low, "high": j.test.high, "p_value": j.test.p_value,
                              "outcome": j.outcome, "sentence": j.sentence} for j in self.justification])

    def to_dict(self) -> dict:
        return {"how": self.how, "note": self.note, "fit_rows": self.n_fit, "fit_rows_bad": self.n_fit_bad, "folds": self.folds,
                "spec": self.spec.to_dict(), "performance": [asdict(p) for p in self.performance],
                "justification": [{"model": j.model, "outcome": j.outcome, "sentence": j.sentence, "delong": j.test.to_dict()}
                                  for j in self.justification]}


def _coefficients(model, names) -> pd.DataFrame:
    lr = model[-1]
    coef = lr.coef_.reshape(-1)
    frame = pd.DataFrame({"input": [str(n) for n in names], "coefficient": coef, "odds_ratio": np.exp(coef)})
    return frame.reindex(frame["coefficient"].abs().sort_values(ascending=False).index).reset_index(drop=True)


def build_challenger(X_eval, y_eval, original, pruned, *, X_train=None, y_train=None, input_names=None,
                     spec: ChallengerSpec = ChallengerSpec(), fit_rows: str = "training rows the network was trained on") -> Challenger:
    """Fit (or cross-validate) the challenger and judge both networks against it on the evaluation rows."""
    X_eval = np.asarray(X_eval, dtype=np.float64)
    y, _ = check_y_score(y_eval, original)
    names = list(input_names) if input_names is not None else [f"input_{i}" for i in range(X_eval.shape[1])]
    if X_train is not None and len(X_train):
        model = fit_logistic(X_train, y_train, spec)
        X_eval, _ = _check_rows(X_eval, y, "evaluation rows")
        scores = model.predict_proba(X_eval)[:, 1]
        n_fit, n_bad = len(X_train), int(as_labels(y_train, len(X_train)).sum())
        how, folds = TRAINED, None
        note = (f"Fitted on the {n_fit:,} {fit_rows} ({n_bad:,} bad), with the same {X_eval.shape[1]} inputs "
                f"(standardised), and scored on the {len(y):,} evaluation rows it never saw.")
    else:
        scores, folds = cross_validated_scores(X_eval, y, spec)
        model = fit_logistic(X_eval, y, spec)  # on every row, for the coefficients shown (the scores are out-of-fold)
        n_fit, n_bad, how = len(y), int(y.sum()), CROSS_VALIDATED
        note = (f"Every row is used for evaluation, so there are no training rows: the challenger's scores are "
                f"{folds}-fold stratified cross-validated predictions (seed {spec.seed}) on the {len(y):,} evaluation rows — "
                "each row scored by a fit that did not see it. The coefficients shown come from a fit on all of them.")
    scores = np.clip(np.asarray(scores, dtype=np.float64), 0.0, 1.0)
    kw = dict(level=spec.level, resamples=spec.ks_resamples, seed=spec.seed)
    perf = (performance(y, original, "original", **kw), performance(y, pruned, "pruned", **kw),
            performance(y, scores, "challenger", **kw))
    just = tuple(justify(y, scores, s, m, level=spec.level) for m, s in (("original", original), ("pruned", pruned)))
    return Challenger(how, note, n_fit, n_bad, folds, spec, scores, _coefficients(model, names), perf, just)


@memoized(8)
def challenger_for(ws: Workspace, pruned: PrunedModel, spec: ChallengerSpec = ChallengerSpec()) -> Challenger:
    """The challenger on a workspace: trained on its training rows when it has them, else cross-validated."""
    train = ws.can_fine_tune
    rows = ("calibration rows set aside from the evaluation rows for the score map" if "calibration split" in ws.view
            else "training rows the network was trained on")
    return build_challenger(ws.X_eval, ws.y_eval, ws.original_scores, pruned.scores,
                            X_train=ws.X_train if train else None, y_train=ws.y_train if train else None,
                            input_names=ws.data.input_names, spec=spec, fit_rows=rows)
