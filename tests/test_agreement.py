"""Krippendorff's alpha against published worked examples (Krippendorff 2011; Wikipedia).

Reliability data: rows are coders, columns are units, None is a missing judgment.
"""

import numpy as np
import pytest

from stages.agreement import krippendorff_alpha_nominal

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
