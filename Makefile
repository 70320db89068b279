# Quick start: `make run` (app on the demo registry) and `make test` (every test).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-fast system-deps demo reference bench clean

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

# Serves on Streamlit's default port unless STREAMLIT_SERVER_PORT is set.
run: $(STAMP)
	$(PY) -m streamlit run app.py

test: $(STAMP) system-deps
	$(PY) -m pytest

# Debian packages the tests need: Chromium (browser tests, figure export), a Japanese font (fonts-noto-cjk:
# Japanese figures, PDF report and screenshots without tofu boxes), poppler (PDF checks), a JRE
# (PySpark), R with survival, jsonlite and cmprsk (the "Reproduce in R" script is run by tests/test_rscript.py).
# Installed with apt-get when missing and run as root; otherwise the exact command is printed.
R_PACKAGES = r-base-core r-cran-survival r-cran-jsonlite r-cran-cmprsk
system-deps:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium fonts-dejavu-core"; \
	fc-list 2>/dev/null | grep -q "Noto Sans CJK" || missing="$$missing fonts-noto-cjk"; \
	command -v pdftoppm >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	command -v java >/dev/null 2>&1 || missing="$$missing default-jre-headless"; \
	if ! command -v Rscript >/dev/null 2>&1; then missing="$$missing $(R_PACKAGES)"; \
	elif ! Rscript -e 'quit(status = !all(sapply(c("survival", "jsonlite", "cmprsk"), requireNamespace, quietly = TRUE)))' \
	  >/dev/null 2>&1; then missing="$$missing $(R_PACKAGES)"; fi; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian packages:$$missing"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "The tests need Debian packages:$$missing"; \
	    echo "Run: sudo apt-get update && sudo apt-get install -y --no-install-recommends$$missing"; \
	    exit 1; \
	  fi; \
	fi

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow and not e2e"

# Regenerate the bundled synthetic demo registry (deterministic).
demo: $(STAMP)
	$(PY) -m hcc.reference.synth

# Regenerate the R reference fixtures (needs: apt-get install -y r-base-core r-cran-survival).
reference:
	Rscript tests/reference/survival_reference.R
	Rscript tests/reference/demo_reference.R
	Rscript tests/reference/response_reference.R
	Rscript tests/reference/adjusted_reference.R  # also needs r-cran-nnet (a recommended package of r-base)
	Rscript tests/reference/competing_reference.R  # also needs r-cran-cmprsk
	Rscript tests/reference/degenerate_reference.R

# Pipeline timings at n = 1e3..1e6, with R side by side if Rscript is installed
# (apt-get install -y --no-install-recommends r-base-core r-cran-survival r-cran-data.table); docs/performance.md.
bench: $(STAMP)
	$(PY) -m benchmarks.run

clean:
	rm -rf $(VENV) .pytest_cache
