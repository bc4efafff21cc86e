# jetml: two commands, each doing its own set-up from nothing.
#   make demo   the main job
#   make test   the whole test suite (what CI runs)
#   make models regenerate the shipped trained models (hours of CPU; see docs/taggers.md)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DEMO_OUT := build/demo

.PHONY: demo test lint install clean models

# Every shipped tagger on a ~2k-event mixed generated sample (cached after the first run),
# futures executor on all cores; outputs in $(DEMO_OUT), timing table printed.
demo: $(INSTALLED)
	$(BIN)/jetml demo --out $(DEMO_OUT)

test: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check jetml tests benchmarks

install: $(INSTALLED)

# Shipped models: generated samples (fixed presets, events, seeds), then training (fixed seeds).
# Same files and seeds give byte-identical ONNX files. About 1.5 h on one free core.
MODEL_BUILD := build/models
AK8_SAMPLES := $(MODEL_BUILD)/ttbar_had.root $(MODEL_BUILD)/qcd.root $(MODEL_BUILD)/zh_bb.root
AK4_SAMPLES := $(MODEL_BUILD)/ttbar_semilep.root
TAU_SAMPLES := $(MODEL_BUILD)/dy_tautau.root $(MODEL_BUILD)/dy_mutauh.root $(MODEL_BUILD)/w_jets.root \
  $(MODEL_BUILD)/dy_ee.root $(MODEL_BUILD)/dy_mumu.root
TRAIN_FLAGS := --width 0.25 --seed 1 --split-seed 1 --no-progress
SHIPPED := deepak8 deepak8_md deepak8_full deepjet deepdoublex breg deeptau

models: $(INSTALLED)
	mkdir -p $(MODEL_BUILD)
	$(BIN)/jetml generate ttbar_had --events 4000 --seed 11 --pileup 0 --out $(MODEL_BUILD)/ttbar_had.root --overwrite
	$(BIN)/jetml generate qcd --events 8000 --seed 12 --pileup 0 --out $(MODEL_BUILD)/qcd.root --overwrite
	$(BIN)/jetml generate zh_bb --events 1500 --seed 13 --pileup 0 --out $(MODEL_BUILD)/zh_bb.root --overwrite
	$(BIN)/jetml generate ttbar_semilep --events 3000 --seed 14 --pileup 0 --out $(MODEL_BUILD)/ttbar_semilep.root --overwrite
	$(BIN)/jetml generate zh_cc --events 1500 --seed 15 --pileup 0 --out $(MODEL_BUILD)/zh_cc.root --overwrite
	$(BIN)/jetml generate dy_tautau --events 1500 --seed 31 --pileup 0 --out $(MODEL_BUILD)/dy_tautau.root --overwrite
	$(BIN)/jetml generate w_jets --events 12000 --seed 32 --pileup 0 --out $(MODEL_BUILD)/w_jets.root --overwrite
	$(BIN)/jetml generate dy_ee --events 3000 --seed 33 --pileup 0 --out $(MODEL_BUILD)/dy_ee.root --overwrite
	$(BIN)/jetml generate dy_mumu --events 3000 --seed 34 --pileup 0 --out $(MODEL_BUILD)/dy_mumu.root --overwrite
	$(BIN)/jetml generate dy_mutauh --events 2500 --seed 35 --pileup 0 --out $(MODEL_BUILD)/dy_mutauh.root --overwrite
	cd $(MODEL_BUILD) && rm -rf $(SHIPPED)
	$(BIN)/jetml train deepak8 --data $(AK8_SAMPLES) $(TRAIN_FLAGS) --epochs 15 --out $(MODEL_BUILD)/deepak8
	$(BIN)/jetml train deepak8_md --data $(AK8_SAMPLES) $(TRAIN_FLAGS) --epochs 15 --out $(MODEL_BUILD)/deepak8_md
	$(BIN)/jetml train deepak8 --data $(AK8_SAMPLES) --width 1 --seed 1 --split-seed 1 --no-progress --epochs 0 --name deepak8_full --out $(MODEL_BUILD)/deepak8_full
	$(BIN)/jetml train deepjet --data $(AK4_SAMPLES) $(TRAIN_FLAGS) --epochs 20 --batch-size 128 --out $(MODEL_BUILD)/deepjet
	$(BIN)/jetml train deepdoublex --data $(MODEL_BUILD)/qcd.root $(MODEL_BUILD)/zh_bb.root $(MODEL_BUILD)/zh_cc.root --width 0.5 --seed 1 --split-seed 1 --no-progress --epochs 15 --batch-size 128 --out $(MODEL_BUILD)/deepdoublex
	$(BIN)/jetml train breg --data $(AK4_SAMPLES) $(TRAIN_FLAGS) --epochs 30 --batch-size 128 --out $(MODEL_BUILD)/breg
	$(BIN)/jetml train deeptau --data $(TAU_SAMPLES) $(TRAIN_FLAGS) --epochs 20 --batch-size 128 --out $(MODEL_BUILD)/deeptau
	for m in $(SHIPPED); do \
	  rm -rf jetml/models/$$m && mkdir -p jetml/models/$$m && \
	  cp $(MODEL_BUILD)/$$m/$$m.onnx $(MODEL_BUILD)/$$m/$$m.card.json $(MODEL_BUILD)/$$m/$$m.pt \
	    $(MODEL_BUILD)/$$m/preprocess.json jetml/models/$$m/ && \
	  { test ! -f $(MODEL_BUILD)/$$m/grids.json || cp $(MODEL_BUILD)/$$m/grids.json jetml/models/$$m/ ; } ; \
	done

# Re-installs only when the dependency list changes.
$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[train,dev]'
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
