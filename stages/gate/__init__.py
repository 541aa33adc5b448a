"""Step 2, validate: the data-quality gate (suites as data, run with Great Expectations)."""
