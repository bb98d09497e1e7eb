# The two set-up commands of the README: `make demo` and `make test`.
# Both create the virtual environment on first use and install everything from the
# project's own files (pyproject.toml pinned by constraints.txt, package-lock.json).
# Node is for the tests only (Twilio's segment calculator): `make demo` never needs npm.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: demo test lint bench clean browser

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,postgres,twilio,firebase,http]'
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

demo: $(STAMP)
	$(BIN)/remindkit demo

# The browser tests drive Debian's Chromium, with its Chinese UI strings and CJK fonts (the
# studio's screenshots). CI runs as root and installs what is missing; elsewhere, say how.
BROWSER_PACKAGES := chromium chromium-l10n fonts-noto-cjk

browser:
	@missing=""; for package in $(BROWSER_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "ok installed" \
	    || missing="$$missing $$package"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else \
	  echo "the browser tests need:$$missing (sudo apt-get install -y$$missing)"; \
	fi

test: $(STAMP) $(NODE_STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/render.py
	$(BIN)/python bench/plan.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
