"""The bundled demo delivery (`python -m stages demo-data`).

Not a stage: `make repro` writes it to data/raw before `dvc add`, so no stage depends on this
package and editing it reruns nothing.
"""
