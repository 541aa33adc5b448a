"""Facts with one home each: paths, params, errors, atomic I/O, tables, numerics."""
