"""Logistic regression, small and exact: the calibrated probabilities of 查重 verdicts and of
"nothing close" in search come from a handful of relative signals, fitted on the dev sets.

L2-regularised maximum likelihood on standardised features, solved by Newton's method (IRLS);
the same objective as scikit-learn's `LogisticRegression(C=...)` with the lbfgs solver (the
intercept is not penalised), so its coefficients are the reference the tests compare with. A
model is a few numbers, kept in code next to the data that chose them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LogisticModel:
    features: tuple[str, ...]
    coef: tuple[float, ...]  # on the raw (unstandardised) features
    intercept: float

    def logit(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, float) @ np.asarray(self.coef) + self.intercept

    def probability(self, x: np.ndarray) -> np.ndarray:
        """P(positive) for each row of `x` (columns in the order of `features`)."""
        return 1.0 / (1.0 + np.exp(-self.logit(x)))

    def probability_of(self, values: dict[str, float]) -> float:
        return float(self.probability(np.asarray([[values[f] for f in self.features]]))[0])

    def to_dict(self) -> dict:
        return {"features": list(self.features), "coef": [round(c, 6) for c in self.coef],
                "intercept": round(self.intercept, 6)}


def fit_logistic(x: np.ndarray, y: np.ndarray, features: tuple[str, ...], c: float = 1.0,
                 sample_weight: np.ndarray | None = None, max_iter: int = 100) -> LogisticModel:
    """Minimise ½‖w‖²/C + Σ_i s_i·logloss(y_i, w·z_i + b) over the standardised features z."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.ndim != 2 or len(x) != len(y) or len(x) == 0:
        raise ValueError("x must be (n, d) with one label per row")
    if not (0 < y.sum() < len(y)):
        raise ValueError("both classes are needed to fit a logistic model")
    s = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
    mu, sd = x.mean(axis=0), x.std(axis=0)
    sd[sd == 0] = 1.0
    z = np.hstack([(x - mu) / sd, np.ones((len(x), 1))])
    d = z.shape[1]
    penalty = np.full(d, 1.0 / c)
    penalty[-1] = 0.0  # the intercept is free
    w = np.zeros(d)
    for _ in range(max_iter):
        p = 1.0 / (1.0 + np.exp(-(z @ w)))
        grad = z.T @ (s * (p - y)) + penalty * w
        hess = (z * (s * p * (1 - p))[:, None]).T @ z + np.diag(penalty) + 1e-10 * np.eye(d)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    coef = w[:-1] / sd
    return LogisticModel(tuple(features), tuple(float(v) for v in coef), float(w[-1] - (coef * mu).sum()))
