"""Cross-validated estimates for constants chosen on a development set.

A constant picked as the best of a grid on N cases scores well on those N cases by construction:
the in-sample figure is not an estimate of how it does on the next case. k-fold cross-validation
of the *choice* gives one: for each fold, the grid point that is best on the other folds is
applied to the held-out fold, and the held-out results are pooled (Stone, "Cross-validatory
choice and assessment of statistical predictions", JRSS B 1974; Hastie, Tibshirani & Friedman,
"The Elements of Statistical Learning", §7.10). Ties go to the earlier grid point, so list the
shipped defaults first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError


def kfold(n: int, k: int, seed: int = 0) -> list[np.ndarray]:
    """`k` disjoint folds of `range(n)`, shuffled with `seed`, sizes differing by at most one."""
    if not 2 <= k <= n:
        raise InputError(f"交叉验证的折数应在 2 到可评测的案例数 {n} 之间，收到 {k}")
    order = np.random.default_rng(seed).permutation(n)
    return [np.sort(order[i::k]) for i in range(k)]


@dataclass
class CrossValidation:
    grid_size: int
    best_in_sample: int  # the grid point best on all cases
    held_out_choice: np.ndarray  # per case: the grid point chosen without that case's fold
    fold_choices: list[int]


def cross_validate(objective: np.ndarray, k: int, seed: int = 0) -> CrossValidation:
    """`objective[g, i]`: how well grid point g does on case i (higher is better)."""
    objective = np.asarray(objective, float)
    n_grid, n = objective.shape
    held_out = np.zeros(n, np.int64)
    choices = []
    for fold in kfold(n, k, seed):
        train = np.setdiff1d(np.arange(n), fold)
        choice = int(np.argmax(objective[:, train].mean(axis=1)))  # first of equals: the default
        held_out[fold] = choice
        choices.append(choice)
    return CrossValidation(n_grid, int(np.argmax(objective.mean(axis=1))), held_out, choices)


def pick(values: np.ndarray, choice: np.ndarray) -> np.ndarray:
    """values[g, i] at g = choice[i]: each case's result under the grid point chosen without it."""
    values = np.asarray(values)
    return values[choice, np.arange(values.shape[1])]
