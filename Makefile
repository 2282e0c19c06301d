# The two commands of the README, plus the Dagster UI.
#   make demo   set up, then run the main job over sample_exports/ (writes the PDFs)
#   make test   set up, then run the test suite
#   make ui     set up, then open the Dagster UI (http://127.0.0.1:3000)
export DAGSTER_HOME ?= $(CURDIR)/output/dagster_home

.PHONY: setup demo test ui
setup:
	@bash scripts/setup.sh

demo: setup
	@mkdir -p "$(DAGSTER_HOME)"
	.venv/bin/value-pipeline run

test: setup
	.venv/bin/python -m pytest

ui: setup
	@mkdir -p "$(DAGSTER_HOME)"
	.venv/bin/dagster dev -w workspace.yaml
