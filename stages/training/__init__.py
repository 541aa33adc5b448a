"""Step 4, train: the scikit-learn model from params, and the likely label errors."""
