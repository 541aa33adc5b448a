"""Every path a stage reads or writes by default, each named once.

The commands take these as their options' defaults, so `dvc.yaml` runs each as plain
`python -m stages <stage>`; its deps and outs name every one of these paths, so that it still
reads as the whole interface (tests/test_catalog.py checks both ways). Names inside a folder
that more than one stage uses are here too.
"""

PARAMS = "params.yaml"

RAW = "data/raw"  # the delivery, tracked by data/raw.dvc
DATA_VERSION = "data/raw.dvc"
PREPARED = "data/prepared"  # prepare: canonical tables
VALIDATED = "data/validated"  # validate: the rows that passed
QUARANTINE = "data/quarantine"  # validate: the rows set aside, with the reason
LABELS = "data/labels/labels.parquet"  # label-merge: one label per item
RELABEL_TASKS = "data/relabel/tasks.json"  # label-merge: the next round, Label Studio tasks
RELABEL_ISSUES = "data/relabel/label_issues.json"  # train: likely label errors, as tasks
MODELS = "models"  # train: the model and its summary; evaluate: the model card

REPORTS = "reports"  # label-merge and evaluate write their reports here
PREPARE_REPORT = "reports/prepare.json"
VALIDATION_REPORTS = "reports/validation"
LABEL_ISSUES = "reports/label_issues.csv"
ANNOTATORS_PLOT = "plots/annotators.csv"  # in the reports folder: what the plot shows

PLOT_TEMPLATES = ".dvc/plots"  # the Vega-Lite templates of dvc.yaml's plots (and report.html)
METRICS = "metrics"  # each stage's headline numbers, metrics/<stage>.json (core.headline)

MODEL_FILE = "model.skops"  # in MODELS
TRAIN_SUMMARY = "train.json"  # in MODELS
