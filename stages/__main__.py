from stages.cli import run

run()
