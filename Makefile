# jetml: two commands, each doing its own set-up from nothing.
#   make demo   the main job
#   make test   the whole test suite (what CI runs; executes every notebook in QUICK mode)
#   make lab    JupyterLab on notebooks/ with the project's environment
#   make notebooks  re-execute every notebook in full mode, rewriting the committed copies
#   make models regenerate the shipped trained models (hours of CPU; see docs/taggers.md)
#   make study-samples study-models  the at-scale samples and models of notebooks 01, 02 (docs/studies.md)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DEMO_OUT := build/demo

NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
# 01 and 02 run in full mode only on the at-scale study files (make study-samples study-models).
STUDY_NOTEBOOKS := notebooks/01_deepak8_ablation.ipynb notebooks/02_mass_decorrelation.ipynb
STUDY_NEEDS = $(foreach m,$(STUDY_MODEL_NAMES),$(STUDY_SHIPPED)/$(m)/$(m).card.json) \
  $(foreach s,qcd ttbar_had ww zz zh_bb zh_cc,$(STUDY)/eval/$(s).root)

.PHONY: demo test lint install clean models lab notebooks study-samples study-models
.PHONY: train-deeptau-scale train-breg-scale study-mutau study-breg

# Every shipped tagger on a ~2k-event mixed generated sample (cached after the first run),
# futures executor on all cores; outputs in $(DEMO_OUT), timing table printed.
demo: $(INSTALLED)
	$(BIN)/jetml demo --out $(DEMO_OUT)

test: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

# JupyterLab on notebooks/, kernel = this .venv's Python (--allow-root only when run as root,
# e.g. in a container).
lab: $(INSTALLED)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

# Full mode (each notebook's parameter defaults; `-p QUICK False` replaces the injected-parameters
# cell a QUICK run left in the committed copy, which papermill would otherwise keep), in place:
# outputs, figures and notebooks/results/<name>.json come from this one top-to-bottom run each.
notebooks: $(INSTALLED)
	@for nb in $(NOTEBOOKS); do \
	  case " $(STUDY_NOTEBOOKS) " in *" $$nb "*) if [ "$(words $(wildcard $(STUDY_NEEDS)))" != "$(words $(STUDY_NEEDS))" ]; then \
	    echo "== $$nb: skipped (needs make study-samples study-models)"; continue; fi;; esac; \
	  echo "== $$nb"; start=$$(date +%s); \
	  $(BIN)/papermill --cwd notebooks --no-progress-bar -p QUICK False $$nb $$nb || exit 1; \
	  echo "   $$(( $$(date +%s) - start )) s"; \
	done

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check jetml tests benchmarks

install: $(INSTALLED)

# Shipped models: generated samples (fixed presets, events, seeds), then training (fixed seeds).
# Same files and seeds give byte-identical ONNX files. About 1.5 h on one free core.
MODEL_BUILD := build/models
AK8_SAMPLES := $(MODEL_BUILD)/ttbar_had.root $(MODEL_BUILD)/qcd.root $(MODEL_BUILD)/zh_bb.root
AK4_SAMPLES := $(MODEL_BUILD)/ttbar_semilep.root
TRAIN_FLAGS := --width 0.25 --seed 1 --split-seed 1 --no-progress
SHIPPED := deepak8 deepak8_md deepak8_full deepjet deepdoublex breg deeptau
# trained at scale on the presets' pileup samples (μ = 30) by train-*-scale, shipped from $(SCALE_BUILD)
PILEUP_SHIPPED := breg deeptau

models: $(INSTALLED)
	mkdir -p $(MODEL_BUILD)
	$(BIN)/jetml generate ttbar_had --events 4000 --seed 11 --pileup 0 --out $(MODEL_BUILD)/ttbar_had.root --overwrite
	$(BIN)/jetml generate qcd --events 8000 --seed 12 --pileup 0 --out $(MODEL_BUILD)/qcd.root --overwrite
	$(BIN)/jetml generate zh_bb --events 1500 --seed 13 --pileup 0 --out $(MODEL_BUILD)/zh_bb.root --overwrite
	$(BIN)/jetml generate ttbar_semilep --events 3000 --seed 14 --pileup 0 --out $(MODEL_BUILD)/ttbar_semilep.root --overwrite
	$(BIN)/jetml generate zh_cc --events 1500 --seed 15 --pileup 0 --out $(MODEL_BUILD)/zh_cc.root --overwrite
	cd $(MODEL_BUILD) && rm -rf $(SHIPPED)
	$(BIN)/jetml train deepak8 --data $(AK8_SAMPLES) $(TRAIN_FLAGS) --epochs 15 --out $(MODEL_BUILD)/deepak8
	$(BIN)/jetml train deepak8_md --data $(AK8_SAMPLES) $(TRAIN_FLAGS) --epochs 15 --out $(MODEL_BUILD)/deepak8_md
	$(BIN)/jetml train deepak8 --data $(AK8_SAMPLES) --width 1 --seed 1 --split-seed 1 --no-progress --epochs 0 --name deepak8_full --out $(MODEL_BUILD)/deepak8_full
	$(BIN)/jetml train deepjet --data $(AK4_SAMPLES) $(TRAIN_FLAGS) --epochs 20 --batch-size 128 --out $(MODEL_BUILD)/deepjet
	$(BIN)/jetml train deepdoublex --data $(MODEL_BUILD)/qcd.root $(MODEL_BUILD)/zh_bb.root $(MODEL_BUILD)/zh_cc.root --width 0.5 --seed 1 --split-seed 1 --no-progress --epochs 15 --batch-size 128 --out $(MODEL_BUILD)/deepdoublex
	$(MAKE) train-breg-scale train-deeptau-scale
	$(MAKE) study-samples study-models
	for m in $(SHIPPED); do \
	  src=$(MODEL_BUILD)/$$m; case " $(PILEUP_SHIPPED) " in *" $$m "*) src=$(SCALE_BUILD)/$$m;; esac; \
	  rm -rf jetml/models/$$m && mkdir -p jetml/models/$$m && \
	  cp $$src/$$m.onnx $$src/$$m.card.json $$src/$$m.pt $$src/preprocess.json jetml/models/$$m/ && \
	  { test ! -f $$src/grids.json || cp $$src/grids.json jetml/models/$$m/ ; } ; \
	done

# Issue 16 studies (notebooks 01, 02; part of `models`): at-scale training and independent
# evaluation samples, then the study models (jetml.evaluation declares them; a test checks these
# lines against it). Hours of CPU: see docs/studies.md. Not run by CI. A finished sample file or
# model (its card exists) is kept, so an interrupted run resumes. The trained models are then
# shipped to $(STUDY_SHIPPED) (committed: the notebooks read them there).
STUDY := build/study
STUDY_SHIPPED := jetml/models/study
STUDY_MODEL_NAMES := ablation_kin ablation_kinpid ablation_full md_lam0 md_lam0p3 md_lam1 md_lam3 disco_lam1 disco_lam3 disco_lam10
STUDY_TRAIN := $(STUDY)/train/qcd.root $(STUDY)/train/ttbar_had.root $(STUDY)/train/ww.root $(STUDY)/train/zz.root $(STUDY)/train/zh_bb.root $(STUDY)/train/zh_cc.root

study-samples: $(INSTALLED)
	mkdir -p $(STUDY)/train $(STUDY)/eval
	test -f $(STUDY)/train/qcd.root || $(BIN)/jetml generate qcd --events 40000 --seed 201 --out $(STUDY)/train/qcd.root --overwrite
	test -f $(STUDY)/train/ttbar_had.root || $(BIN)/jetml generate ttbar_had --events 15000 --seed 202 --out $(STUDY)/train/ttbar_had.root --overwrite
	test -f $(STUDY)/train/ww.root || $(BIN)/jetml generate ww --events 12000 --seed 203 --out $(STUDY)/train/ww.root --overwrite
	test -f $(STUDY)/train/zz.root || $(BIN)/jetml generate zz --events 12000 --seed 204 --out $(STUDY)/train/zz.root --overwrite
	test -f $(STUDY)/train/zh_bb.root || $(BIN)/jetml generate zh_bb --events 20000 --seed 205 --out $(STUDY)/train/zh_bb.root --overwrite
	test -f $(STUDY)/train/zh_cc.root || $(BIN)/jetml generate zh_cc --events 20000 --seed 206 --out $(STUDY)/train/zh_cc.root --overwrite
	test -f $(STUDY)/eval/qcd.root || $(BIN)/jetml generate qcd --events 60000 --seed 901 --pthat-min 350 --out $(STUDY)/eval/qcd.root --overwrite
	test -f $(STUDY)/eval/ttbar_had.root || $(BIN)/jetml generate ttbar_had --events 32000 --seed 902 --out $(STUDY)/eval/ttbar_had.root --overwrite
	test -f $(STUDY)/eval/ww.root || $(BIN)/jetml generate ww --events 24000 --seed 903 --pthat-min 350 --out $(STUDY)/eval/ww.root --overwrite
	test -f $(STUDY)/eval/zz.root || $(BIN)/jetml generate zz --events 24000 --seed 904 --pthat-min 350 --out $(STUDY)/eval/zz.root --overwrite
	test -f $(STUDY)/eval/zh_bb.root || $(BIN)/jetml generate zh_bb --events 58000 --seed 905 --pthat-min 350 --out $(STUDY)/eval/zh_bb.root --overwrite
	test -f $(STUDY)/eval/zh_cc.root || $(BIN)/jetml generate zh_cc --events 54000 --seed 906 --pthat-min 350 --out $(STUDY)/eval/zh_cc.root --overwrite

study-models: $(INSTALLED)
	mkdir -p $(STUDY)/models
	test -f $(STUDY)/models/ablation_kin/ablation_kin.card.json || $(BIN)/jetml train deepak8 --inputs kin --data $(STUDY_TRAIN) --out $(STUDY)/models/ablation_kin --name ablation_kin --width 0.25 --seed 1 --split-seed 1 --epochs 10 --no-progress
	test -f $(STUDY)/models/ablation_kinpid/ablation_kinpid.card.json || $(BIN)/jetml train deepak8 --inputs kinpid --data $(STUDY_TRAIN) --out $(STUDY)/models/ablation_kinpid --name ablation_kinpid --width 0.25 --seed 1 --split-seed 1 --epochs 10 --no-progress
	test -f $(STUDY)/models/ablation_full/ablation_full.card.json || $(BIN)/jetml train deepak8 --inputs full --data $(STUDY_TRAIN) --out $(STUDY)/models/ablation_full --name ablation_full --width 0.25 --seed 1 --split-seed 1 --epochs 10 --no-progress
	test -f $(STUDY)/models/md_lam0/md_lam0.card.json || $(BIN)/jetml train deepak8_md --lam 0 --data $(STUDY_TRAIN) --out $(STUDY)/models/md_lam0 --name md_lam0 --width 0.25 --seed 1 --split-seed 1 --epochs 10 --no-progress
	test -f $(STUDY)/models/md_lam0p3/md_lam0p3.card.json || $(BIN)/jetml train deepak8_md --lam 0.3 --data $(STUDY_TRAIN) --out $(STUDY)/models/md_lam0p3 --name md_lam0p3 --width 0.25 --seed 1 --split-seed 1 --epochs 10 --no-progress
	test -f $(STUDY)/models/md_lam1/md_lam1.card.json || $(BIN)/jetml train deepak8_md --lam 1 --data $(STUDY_TRAIN) --out $(STUDY)/models/md_lam1 --name md_lam1 --width 0.25 --seed 1 --split-seed 1 --epochs 10 --no-progress
	test -f $(STUDY)/models/md_lam3/md_lam3.card.json || $(BIN)/jetml train deepak8_md --lam 3 --data $(STUDY_TRAIN) --out $(STUDY)/models/md_lam3 --name md_lam3 --width 0.25 --seed 1 --split-seed 1 --epochs 10 --no-progress
	test -f $(STUDY)/models/disco_lam1/disco_lam1.card.json || $(BIN)/jetml train deepak8_disco --lam 1 --data $(STUDY_TRAIN) --out $(STUDY)/models/disco_lam1 --name disco_lam1 --width 0.25 --seed 1 --split-seed 1 --epochs 10 --no-progress
	test -f $(STUDY)/models/disco_lam3/disco_lam3.card.json || $(BIN)/jetml train deepak8_disco --lam 3 --data $(STUDY_TRAIN) --out $(STUDY)/models/disco_lam3 --name disco_lam3 --width 0.25 --seed 1 --split-seed 1 --epochs 10 --no-progress
	test -f $(STUDY)/models/disco_lam10/disco_lam10.card.json || $(BIN)/jetml train deepak8_disco --lam 10 --data $(STUDY_TRAIN) --out $(STUDY)/models/disco_lam10 --name disco_lam10 --width 0.25 --seed 1 --split-seed 1 --epochs 10 --no-progress
	for m in $(STUDY_MODEL_NAMES); do \
	  rm -rf $(STUDY_SHIPPED)/$$m && mkdir -p $(STUDY_SHIPPED)/$$m && \
	  cp $(STUDY)/models/$$m/$$m.onnx $(STUDY)/models/$$m/$$m.card.json $(STUDY)/models/$$m/$$m.pt \
	    $(STUDY)/models/$$m/preprocess.json $(STUDY_SHIPPED)/$$m/ ; \
	done

# Issue 17 at-scale runs (run; what they cost and measured: docs/studies.md).
# Training samples use seeds 1xx (the shipped models: 1x/3x; the studies: 14xx/17xx/18xx); models go
# to $(SCALE_BUILD)/<name>, never over jetml/models (shipping one is a deliberate copy, as in `models`).
SCALE_BUILD := build/scale
JOBS ?= 2
SCALE_GEN = test -f $(SCALE_BUILD)/$(1).root || $(BIN)/jetml generate $(1) --events $(2) --seed $(3) \
  --jobs $(JOBS) --out $(SCALE_BUILD)/$(1).root
SCALE_TAU := dy_tautau dy_mutauh w_jets dy_ee dy_mumu

# DeepTau at 10x today's taus: 10x the events of each `models` tau sample (2479 -> ~25k taus).
train-deeptau-scale: $(INSTALLED)
	mkdir -p $(SCALE_BUILD)
	$(call SCALE_GEN,dy_tautau,15000,131)
	$(call SCALE_GEN,w_jets,120000,132)
	$(call SCALE_GEN,dy_ee,30000,133)
	$(call SCALE_GEN,dy_mumu,30000,134)
	$(call SCALE_GEN,dy_mutauh,25000,135)
	rm -rf $(SCALE_BUILD)/deeptau
	$(BIN)/jetml train deeptau --data $(SCALE_TAU:%=$(SCALE_BUILD)/%.root) $(TRAIN_FLAGS) --epochs 20 \
	  --batch-size 128 --out $(SCALE_BUILD)/deeptau

# b-jet regression at 10x today's b jets (ttbar_semilep 3000 -> 30000 events, ~49k b jets).
train-breg-scale: $(INSTALLED)
	mkdir -p $(SCALE_BUILD)
	$(call SCALE_GEN,ttbar_semilep,30000,114)
	rm -rf $(SCALE_BUILD)/breg
	$(BIN)/jetml train breg --data $(SCALE_BUILD)/ttbar_semilep.root $(TRAIN_FLAGS) --epochs 30 \
	  --batch-size 128 --out $(SCALE_BUILD)/breg

# The studies in full mode, in place (samples by source at 59.7 fb^-1 and the pseudo-data, or
# ttbar_semilep + zh_bb_resolved, generated into the sample cache with JOBS workers); then drop the
# notebook from PENDING_AT_SCALE in tests/test_notebooks.py.
study-mutau: $(INSTALLED)
	$(BIN)/papermill --cwd notebooks --no-progress-bar -p JOBS $(JOBS) \
	  notebooks/03_deeptau_mutau_visible_mass.ipynb notebooks/03_deeptau_mutau_visible_mass.ipynb

study-breg: $(INSTALLED)
	$(BIN)/papermill --cwd notebooks --no-progress-bar -p JOBS $(JOBS) \
	  notebooks/04_bjet_regression.ipynb notebooks/04_bjet_regression.ipynb

# Re-installs only when the dependency list changes.
$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[train,dev]'
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
