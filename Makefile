# jetml: two commands, each doing its own set-up from nothing.
#   make demo   the main job
#   make test   the whole test suite (what CI runs)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
CMS_NANO := ../shared/data/cms-nano

.PHONY: demo test lint install clean

demo: $(INSTALLED)
	$(BIN)/jetml inspect $(CMS_NANO)/pfnano.root

test: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

install: $(INSTALLED)

# Re-installs only when the dependency list changes.
$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[train,dev]'
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
