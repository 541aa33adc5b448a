"""Facts with one home each: paths (catalog), params (schema), errors, atomic I/O, tables, numerics."""
