"""Krippendorff's alpha against published worked examples (Krippendorff 2011; Wikipedia).

Reliability data: rows are coders, columns are units, None is a missing judgment.
"""

import numpy as np
import pytest

from stages.truth.agreement import (
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha_nominal,
    pair_counts,
)


def cohen_kappa_table(table: np.ndarray) -> np.ndarray:
    """Cohen's kappa of one K x K contingency table, or of a stack of them (..., K, K)."""
    table = np.asarray(table, dtype=np.float64)
    return cohen_kappa(np.trace(table, axis1=-2, axis2=-1), table.sum(axis=-1), table.sum(axis=-2))


EXAMPLES = {
    "krippendorff_2011_A": (
        [[0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]],
        0.095,
    ),
    "krippendorff_2011_B": (
        [
            ["a", "a", "b", "b", "d", "c", "c", "c", "e", "d", "d", "a"],
            ["b", "a", "b", "b", "b", "c", "c", "c", "e", "d", "d", "d"],
        ],
        0.692,
    ),
    "krippendorff_2011_C_missing": (
        [
            [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
            [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
        ],
        0.743,
    ),
    "wikipedia_3coders_15units": (
        [
            [None, None, None, None, None, 3, 4, 1, 2, 1, 1, 3, 3, None, 3],
            [1, None, 2, 1, 3, 3, 4, 3, None, None, None, None, None, None, None],
            [None, None, 2, 1, 3, 4, 4, None, 2, 1, 1, 3, 3, None, 4],
        ],
        0.691358,
    ),
}


def _alpha(matrix):
    values = sorted({value for row in matrix for value in row if value is not None}, key=str)
    code = {value: index for index, value in enumerate(values)}
    pairs = [(unit, code[v]) for row in matrix for unit, v in enumerate(row) if v is not None]
    item, label = (np.array(column) for column in zip(*pairs, strict=True))
    return krippendorff_alpha_nominal(item, label, len(values))


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_published_examples(name):
    matrix, expected = EXAMPLES[name]
    digits = len(str(expected).split(".")[1])
    assert round(_alpha(matrix), digits) == expected


def test_perfect_agreement_is_one_and_single_judgments_are_unpairable():
    assert _alpha([[1, 2, 3, 1], [1, 2, 3, 1]]) == 1.0
    assert np.isnan(krippendorff_alpha_nominal(np.array([0, 1]), np.array([0, 1]), 2))


# Fleiss (1971) / Wikipedia and Cohen's kappa worked examples (agreement_oracles.json).
WIKIPEDIA_FLEISS_COUNTS = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]  # fmt: skip
FLEISS_1971_DIAGNOSES = [
    [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5], [2, 2, 2, 4, 4, 4],
    [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4], [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5],
    [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4], [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5],
    [3, 3, 3, 3, 3, 5], [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4], [1, 4, 4, 4, 4, 5],
    [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4], [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
]  # fmt: skip


def test_fleiss_kappa_wikipedia_example():
    item, label = [], []
    for unit, row in enumerate(WIKIPEDIA_FLEISS_COUNTS):
        for category, count in enumerate(row):
            item += [unit] * count
            label += [category] * count
    kappa, note = fleiss_kappa(np.array(item), np.array(label), 5)
    assert round(kappa, 3) == 0.210 and note == ""


def test_fleiss_kappa_1971_diagnoses():
    ratings = np.array(FLEISS_1971_DIAGNOSES)
    item = np.repeat(np.arange(len(ratings)), ratings.shape[1])
    kappa, _ = fleiss_kappa(item, ratings.ravel() - 1, 5)
    assert round(kappa, 7) == 0.4302445


def test_fleiss_kappa_says_why_not_when_counts_differ():
    kappa, note = fleiss_kappa(np.array([0, 0, 1, 1, 1]), np.array([0, 1, 0, 0, 1]), 2)
    assert np.isnan(kappa) and "2 to 3 judgments" in note


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ([[20, 5], [10, 15]], 0.4),
        ([[45, 15], [25, 15]], 0.1304),
        ([[25, 35], [5, 35]], 0.2593),
        ([[0, 4, 1], [0, 8, 0], [0, 1, 5]], 0.4842),  # SAS 3x3
    ],
)
def test_cohen_kappa_examples(table, expected):
    assert round(float(cohen_kappa_table(table)), 4) == expected


def test_pair_counts_hold_what_the_contingency_table_gives_kappa():
    table = np.array([[0, 4, 1], [0, 8, 0], [0, 1, 5]])
    item, annotator, label = [], [], []
    unit = 0
    for first in range(3):
        for second in range(3):
            for _ in range(table[first, second]):
                item += [unit, unit]
                annotator += [0, 1]
                label += [first, second]
                unit += 1
    counts = pair_counts(np.array(item), np.array(annotator), np.array(label), 2, 3)
    assert counts.pairs.tolist() == [[0, 1]]
    assert counts.agree.tolist() == [13.0]
    assert counts.first.tolist() == [table.sum(axis=1).tolist()]
    assert counts.second.tolist() == [table.sum(axis=0).tolist()]
    kappa = cohen_kappa(counts.agree, counts.first, counts.second)
    assert kappa[0] == pytest.approx(cohen_kappa_table(table))
    fewer = pair_counts(np.array(item), np.array(annotator), np.array(label), 2, 3, 20)
    assert fewer.pairs.shape == (0, 2) and fewer.first.shape == (0, 3)  # 19 shared items


def test_pair_counts_memory_grows_with_pairs_not_classes_squared():
    """200 classes, 120 annotators: P x K arrays (a P x K x K table stack was 2 GB here)."""
    rng = np.random.default_rng(0)
    item = np.repeat(np.arange(3000), 5)
    annotator = np.concatenate([rng.choice(120, 5, replace=False) for _ in range(3000)])
    label = rng.integers(0, 200, len(item))
    counts = pair_counts(item, annotator, label, 120, 200, min_overlap=1)
    assert counts.first.shape == (len(counts.pairs), 200)
    assert (counts.first.sum(axis=1) == counts.second.sum(axis=1)).all()
    assert counts.first.sum() == len(item) * 4 / 2  # each item: 5 annotators, 10 pairs
