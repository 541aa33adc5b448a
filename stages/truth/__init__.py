"""Step 3, label-merge: many judgments into one trusted label per item, and who labels well."""
