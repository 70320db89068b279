# Quick start: `make run` (app on the demo registry) and `make test` (every test).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-fast demo reference clean

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

# Serves on Streamlit's default port unless STREAMLIT_SERVER_PORT is set.
run: $(STAMP)
	$(PY) -m streamlit run app.py

test: $(STAMP)
	$(PY) -m pytest

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow and not e2e"

# Regenerate the bundled synthetic demo registry (deterministic).
demo: $(STAMP)
	$(PY) -m hcc.synth

# Regenerate the R reference fixtures (needs: apt-get install -y r-base-core r-cran-survival).
reference:
	Rscript tests/reference/survival_reference.R
	Rscript tests/reference/demo_reference.R
	Rscript tests/reference/response_reference.R

clean:
	rm -rf $(VENV) .pytest_cache
