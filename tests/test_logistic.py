"""The calibrated models' fit (logistic.py) against scikit-learn's, the reference for the same
objective: L2 on standardised features, intercept free."""

import numpy as np
import pytest

from jianyan.logistic import LogisticModel, fit_logistic

sklearn = pytest.importorskip("sklearn", reason="scikit-learn (test extra) is the reference fit")
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402


def _data(seed: int, n: int = 120):
    rng = np.random.default_rng(seed)
    # Features on very different scales, like a cosine (~0.9 ± 0.01) next to a count.
    x = np.column_stack([rng.normal(0.9, 0.01, n), rng.normal(3, 2, n), rng.normal(0, 1, n)])
    logit = 300 * (x[:, 0] - 0.9) + 0.5 * x[:, 1] - 1.5 + rng.normal(0, 1, n)
    return x, (logit > 0).astype(float)


@pytest.mark.parametrize("seed,c", [(0, 1.0), (1, 0.1), (2, 10.0)])
def test_fit_matches_scikit_learn(seed, c):
    x, y = _data(seed)
    model = fit_logistic(x, y, ("a", "b", "c"), c=c)
    scaler = StandardScaler().fit(x)
    ref = LogisticRegression(C=c, tol=1e-12, max_iter=10_000).fit(scaler.transform(x), y)
    ref_prob = ref.predict_proba(scaler.transform(x))[:, 1]
    assert np.allclose(model.probability(x), ref_prob, atol=1e-5)
    # The raw-scale coefficients are the reference's, un-standardised.
    assert np.allclose(model.coef, ref.coef_[0] / scaler.scale_, rtol=1e-3)


def test_probability_of_names_features_and_round_trips():
    x, y = _data(3)
    model = fit_logistic(x, y, ("a", "b", "c"))
    row = dict(zip(("a", "b", "c"), x[5]))
    assert model.probability_of(row) == pytest.approx(float(model.probability(x[5:6])[0]))
    again = LogisticModel(tuple(model.to_dict()["features"]), tuple(model.to_dict()["coef"]),
                          model.to_dict()["intercept"])
    assert np.allclose(again.probability(x), model.probability(x), atol=1e-4)


def test_one_class_or_bad_shapes_are_refused():
    x, _ = _data(4)
    with pytest.raises(ValueError):
        fit_logistic(x, np.ones(len(x)), ("a", "b", "c"))
    with pytest.raises(ValueError):
        fit_logistic(x, np.ones(3), ("a", "b", "c"))
