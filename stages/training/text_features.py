"""Text columns as features: TF-IDF that reads a missing text as an empty one.

The fitted model is used outside the pipeline too (a notebook, a service), where an item with
no text is as likely as in validate's tables; scikit-learn's TfidfVectorizer refuses NaN ("np.nan
is an invalid document"), so the gap is filled inside the model, as numeric and categorical gaps
are by its imputers.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer


class MissingAsEmptyTfidf(TfidfVectorizer):
    """TfidfVectorizer, with a missing text (None, NaN, pandas' NA) read as ""."""

    def decode(self, doc: Any) -> Any:
        if not isinstance(doc, str | bytes) and pd.isna(doc):
            return ""
        return super().decode(doc)
