"""Logistic regression whose fitted bytes do not depend on the CPU's BLAS kernel or thread count.

scikit-learn's ``LogisticRegression`` (lbfgs) sends its products and L-BFGS-B's vector steps
through OpenBLAS, whose kernel is chosen per CPU (and may be forced by ``OPENBLAS_CORETYPE``,
which some machines need and the stages keep as set): the same data then gives coefficients
that differ in their last bits, so model files differ between machines. This estimator fits
the same objective (multinomial log-loss weighted by ``sample_weight``, plus an L2 penalty
``1 / (2 C)`` on the coefficients, as scikit-learn's; with two classes, its binomial one) and
makes every step deterministic:

- dense products are exact whatever the kernel: features are rounded to integers on a
  power-of-two grid per column (``FEATURE_BITS`` significant bits), coefficients and residuals
  on a common one, sized so that every product and every partial sum is an integer below
  2**53; any BLAS computes those exactly, in any order, with or without FMA;
- sparse products (TF-IDF, one-hot) go through scipy's sequential sparse code, no BLAS;
- L-BFGS is written here with numpy reductions, whose order numpy fixes (stages/core/numerics.py
  pins its kernels), so nothing calls BLAS's dot products.

The rounding costs nothing a model would notice (features keep 20 bits, coefficients about 26)
and the speed is scikit-learn's (one GEMM a product, as there).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, validate_data

FEATURE_BITS = 20  # significant bits kept per feature (float32 keeps 24)
MANTISSA_BITS = 53  # integers up to 2**53 are exact in float64
BLOCK_BITS = 14  # rows summed exactly in one block of the gradient's product (residuals keep 18)


def _scale(top: np.ndarray | float, bits: int) -> np.ndarray:
    """Powers of two s with |top * s| <= 2**bits (1 where top is 0)."""
    exponent = np.frexp(np.asarray(top, dtype=np.float64))[1]  # top < 2**exponent
    return np.ldexp(1.0, bits - exponent)


def _largest(values: np.ndarray, axis: int | None = None) -> np.ndarray:
    """max |values| without a temporary copy; NaN or infinity makes it non-finite."""
    return np.maximum(
        np.max(values, axis=axis, initial=0.0), -np.min(values, axis=axis, initial=0.0)
    )


class ExactDesign:
    """A feature matrix whose products with coefficients and residuals are exact."""

    def __init__(self, features: object, for_gradients: bool = True) -> None:
        import scipy.sparse as sp

        if sp.issparse(features):
            self.sparse = sp.csr_matrix(features, dtype=np.float64)
            self.n_rows, self.n_columns = self.sparse.shape
            return
        self.sparse = None
        values = np.asarray(features, dtype=np.float64)
        self.n_rows, self.n_columns = values.shape
        top = _largest(values, axis=0)
        if not np.isfinite(top).all():
            raise ValueError("features hold NaN or infinite values")
        self.column_scale = _scale(top, FEATURE_BITS)
        # Rows padded to whole blocks for the gradient's product (zeros add nothing).
        block = 1 << BLOCK_BITS if for_gradients else 1
        self.padded = np.empty((-(-self.n_rows // block) * block, self.n_columns))
        self.padded[self.n_rows :] = 0.0
        self.integers = self.padded[: self.n_rows]
        np.multiply(values, self.column_scale, out=self.integers)
        np.rint(self.integers, out=self.integers)
        spare = MANTISSA_BITS - FEATURE_BITS - 1
        self.coefficient_bits = spare - max(math.ceil(math.log2(max(self.n_columns, 1))), 0)
        self.residual_bits = spare - BLOCK_BITS
        if self.coefficient_bits < 16:
            raise ValueError(f"{self.n_columns} dense features are too many for exact products")

    def times(self, coef: np.ndarray) -> np.ndarray:
        """coef @ features.T, (classes, rows): one row per class, so class-wise steps stay
        fast, contiguous numpy loops."""
        if self.sparse is not None:
            return np.ascontiguousarray((self.sparse @ coef.T).T)
        scaled = coef / self.column_scale  # powers of two: exact
        grid = _scale(_largest(scaled), self.coefficient_bits)
        exact = np.rint(scaled * grid) @ self.integers.T
        exact /= grid
        return exact

    def transposed_times(self, residuals: np.ndarray) -> np.ndarray:
        """residuals @ features for (classes, rows) residuals: (classes, columns), exact per
        block of rows, the blocks summed in order."""
        if self.sparse is not None:
            return np.asarray((self.sparse.T @ residuals.T).T)
        grid = _scale(_largest(residuals), self.residual_bits)
        block = 1 << BLOCK_BITS
        n_classes = residuals.shape[0]
        padded = np.zeros((n_classes, self.padded.shape[0]))
        np.multiply(residuals, grid, out=padded[:, : self.n_rows])
        np.rint(padded, out=padded)
        blocks = padded.reshape(n_classes, -1, block).transpose(1, 0, 2)  # (blocks, classes, rows)
        stacked = np.matmul(blocks, self.padded.reshape(-1, block, self.n_columns))
        return stacked.sum(axis=0) / grid / self.column_scale


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """A dot product in numpy's fixed summation order (``np.dot`` would call BLAS)."""
    return float(np.add.reduce((a * b).ravel()))


def lbfgs(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]],
    start: np.ndarray,
    max_iter: int,
    tol: float,
    memory: int = 10,
) -> tuple[np.ndarray, int, bool]:
    """Minimise a smooth convex function: L-BFGS with a backtracking (Armijo) line search.

    Stops when the largest gradient entry is at most ``tol`` (scikit-learn's rule), when the
    objective stops falling (relative change below 64 machine epsilons, as scikit-learn asks of
    scipy), or after ``max_iter`` iterations. Returns the point, the iterations and whether it
    converged.
    """
    ftol = 64 * np.finfo(np.float64).eps
    x = start.copy()
    value, gradient = objective(x)
    history: list[tuple[np.ndarray, np.ndarray, float]] = []
    for iteration in range(1, max_iter + 1):
        if np.max(np.abs(gradient), initial=0.0) <= tol:
            return x, iteration - 1, True
        direction = -gradient
        if history:
            alphas = []
            for s, y, rho in reversed(history):
                alpha = rho * _dot(s, direction)
                direction = direction - alpha * y
                alphas.append(alpha)
            s, y, _ = history[-1]
            direction = direction * (_dot(s, y) / _dot(y, y))
            for (s, y, rho), alpha in zip(history, reversed(alphas), strict=True):
                direction = direction + s * (alpha - rho * _dot(y, direction))
        slope = _dot(gradient, direction)
        if slope >= 0:  # not a descent direction: restart from the gradient
            history.clear()
            direction, slope = -gradient, -_dot(gradient, gradient)
        step = 1.0 if history else min(1.0, 1.0 / math.sqrt(-slope))
        for _ in range(50):
            candidate = x + step * direction
            new_value, new_gradient = objective(candidate)
            if new_value <= value + 1e-4 * step * slope:
                break
            step *= 0.5
        else:  # no step lowers the objective any more: as good as this precision allows
            return x, iteration, True
        s, y = candidate - x, new_gradient - gradient
        sy = _dot(s, y)
        if sy > 1e-10 * _dot(y, y):
            history = [*history[-(memory - 1) :], (s, y, 1.0 / sy)]
        converged = value - new_value <= ftol * max(abs(value), abs(new_value), 1.0)
        x, value, gradient = candidate, new_value, new_gradient
        if converged:
            return x, iteration, True
    return x, max_iter, False


def _softmax(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities and log-sum-exp per column of (classes, rows) scores (left as they were)."""
    top = scores.max(axis=0)
    exponentials = np.subtract(scores, top)
    np.exp(exponentials, out=exponentials)
    totals = exponentials.sum(axis=0)
    exponentials /= totals
    return exponentials, top + np.log(totals)


class ReproducibleLogisticRegression(ClassifierMixin, BaseEstimator):
    """Multinomial logistic regression, L2-penalised, fitted the same to the bit on any CPU.

    ``C``, ``max_iter`` and ``tol`` mean what they mean in scikit-learn's LogisticRegression;
    ``random_state`` is accepted for the same interface and unused (the fit is deterministic).
    """

    def __init__(
        self, C: float = 1.0, max_iter: int = 100, tol: float = 1e-4, random_state: object = None
    ) -> None:
        self.C = C
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def fit(
        self, X: object, y: object, sample_weight: object = None
    ) -> ReproducibleLogisticRegression:
        if not float(self.C) > 0:
            raise ValueError(f"C must be positive, got {self.C!r}")
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=np.float64)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError("fewer than two classes to learn from")
        weights = np.ones(len(codes)) if sample_weight is None else np.asarray(sample_weight, float)
        design = ExactDesign(X)
        n_classes, n_columns = len(self.classes_), design.n_columns
        penalty = 1.0 / (float(self.C) * float(np.add.reduce(weights)))
        if n_classes == 2:  # scikit-learn fits one row of coefficients, w; two rows fit w/2 and
            penalty *= 2.0  # -w/2, whose penalty is half of w's: doubled, it is w's again
        share = weights / float(np.add.reduce(weights))
        true_class = codes * len(codes) + np.arange(len(codes))  # flat (class, row) indices

        def objective(flat: np.ndarray) -> tuple[float, np.ndarray]:
            coef = flat[: n_classes * n_columns].reshape(n_classes, n_columns)
            intercept = flat[n_classes * n_columns :]
            scores = design.times(coef)
            scores += intercept[:, None]
            probabilities, log_totals = _softmax(scores)
            losses = log_totals - scores.ravel()[true_class]
            loss = float(np.add.reduce(share * losses)) + 0.5 * penalty * _dot(coef, coef)
            probabilities.ravel()[true_class] -= 1.0
            residuals = probabilities
            residuals *= share
            coef_gradient = design.transposed_times(residuals) + penalty * coef
            return loss, np.concatenate([coef_gradient.ravel(), residuals.sum(axis=1)])

        start = np.zeros(n_classes * (n_columns + 1))
        flat, iterations, converged = lbfgs(objective, start, int(self.max_iter), float(self.tol))
        if not converged:
            warnings.warn(
                f"L-BFGS did not converge in {self.max_iter} iterations; raise max_iter",
                ConvergenceWarning,
                stacklevel=2,
            )
        coef = flat[: n_classes * n_columns].reshape(n_classes, n_columns)
        intercept = flat[n_classes * n_columns :]
        if n_classes == 2:  # scikit-learn's layout: one row, the second class's log-odds
            coef, intercept = coef[1:] - coef[:1], intercept[1:] - intercept[:1]
        self.coef_, self.intercept_ = coef.copy(), intercept.copy()
        self.n_iter_ = np.array([iterations], dtype=np.int32)
        return self

    def _class_scores(self, X: object) -> np.ndarray:
        """Scores laid out (classes, rows), as the fit computes them (with two classes, the
        first class's is 0 and the second's its log-odds)."""
        scores = self._scores(X)
        return np.vstack([np.zeros_like(scores), scores]) if len(self.classes_) == 2 else scores

    def _scores(self, X: object) -> np.ndarray:
        """coef_ rows times X, plus intercept_: (rows of coef_, rows of X)."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, reset=False)
        return ExactDesign(X, for_gradients=False).times(self.coef_) + self.intercept_[:, None]

    def decision_function(self, X: object) -> np.ndarray:
        """(rows, classes) scores; with two classes, as scikit-learn, one log-odds per row of
        the second class (which ``roc_auc`` and other two-class scorers read)."""
        scores = self._scores(X)
        return scores[0] if len(self.classes_) == 2 else scores.T

    def predict_proba(self, X: object) -> np.ndarray:
        return _softmax(self._class_scores(X))[0].T

    def predict_log_proba(self, X: object) -> np.ndarray:
        return np.log(self.predict_proba(X))

    def predict(self, X: object) -> np.ndarray:
        return self.classes_[np.argmax(self._class_scores(X), axis=0)]
