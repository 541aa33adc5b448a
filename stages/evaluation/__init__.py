"""Step 5, evaluate: metrics, plots, report and model card."""
