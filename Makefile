# The two commands of the README: `make run` and `make test`. Everything else is a helper for them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
# The exporter environment: Optimum and the exact transformers it supports, run by the gallery as a subprocess to
# export, quantize and convert models (deploy/exporter/requirements.txt says why it is separate).
EXPORT_VENV ?= .venv-export
EXPORT_BIN := $(EXPORT_VENV)/bin
EXPORT_PIP := $(EXPORT_BIN)/python -m pip
TORCH_VERSION := 2.13.0
# The CPU build of torch; a plain `pip install torch` would pull several GB of CUDA packages.
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
PORT ?= 7860
ARTIFACTS ?= test-artifacts
# Browser tests (chromium), Chinese and emoji glyphs in screenshots (fonts), spoken test clips (espeak-ng), the
# feedback store on a real PostgreSQL server and docs/DEPLOY.md's nginx block, both started by the tests themselves.
DEBIAN_TEST_PACKAGES := chromium fonts-wqy-microhei fonts-noto-color-emoji espeak-ng postgresql nginx
# `make test-deploy`: podman builds and runs the image (with runc, which works in this sandbox; Debian's podman
# brings crun only); debootstrap makes its Debian base image (no registry here).
DEBIAN_DEPLOY_PACKAGES := podman runc debootstrap

DEMO_REQUIREMENTS := $(sort $(wildcard demos/*/*/requirements.txt))

.PHONY: run test test-deploy install install-test install-exporter check lint bench clean

run: $(VENV)/.installed
	$(BIN)/gallery run --port $(PORT)

# The suite in two passes: everything but the browser tests in $(TEST_WORKERS) processes (each file on one worker;
# the tests are CPU-bound and share the model cache under its file lock), then the browser tests alone, because
# Chromium's waits assume a machine that is not saturated. `TEST_WORKERS=0` runs the first pass in one process.
TEST_WORKERS ?= 2

test: $(VENV)/.installed-test
	$(BIN)/gallery check
	OPENMODELS_ARTIFACTS=$(abspath $(ARTIFACTS)) $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile \
		--ignore=tests/browser
	OPENMODELS_ARTIFACTS=$(abspath $(ARTIFACTS)) $(BIN)/python -m pytest tests/browser

# The container image, built and run for real with podman (tests/deploy/): too long for `make test`'s budget.
# The base image, the wheelhouse and the build's layers are cached under ~/.cache/openmodels-deploy.
test-deploy: $(VENV)/.installed-test
	@missing=$$(for p in $(DEBIAN_DEPLOY_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages for the deploy tests: $$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
	OPENMODELS_DEPLOY_TESTS=1 OPENMODELS_ARTIFACTS=$(abspath $(ARTIFACTS)) $(BIN)/python -m pytest -m deploy tests/deploy

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# A wheel already on this machine (pip find-links) first; else the official CPU index. Then torch's own
# dependencies from the normal index (torch itself is already satisfied).
define install_torch
	$(1) install --quiet --no-index --no-deps torch==$(TORCH_VERSION) 2>/dev/null \
		|| $(1) install --quiet --retries 1 --timeout 30 torch==$(TORCH_VERSION) --index-url $(TORCH_CPU_INDEX)
	$(1) install --quiet torch==$(TORCH_VERSION)
endef

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.torch: | $(BIN)/python
	$(call install_torch,$(PIP))
	touch $@

$(VENV)/.installed: $(VENV)/.torch $(EXPORT_VENV)/.installed pyproject.toml $(DEMO_REQUIREMENTS) deploy/install_requirements.py
	# Ends with `pip check`: a resolver that "succeeds" into a broken set stops the build here, not at an import.
	$(BIN)/python deploy/install_requirements.py --project ""
	touch $@

install-exporter: $(EXPORT_VENV)/.installed

$(EXPORT_BIN)/python:
	$(PYTHON) -m venv $(EXPORT_VENV)
	$(EXPORT_PIP) install --quiet --upgrade pip

$(EXPORT_VENV)/.installed: deploy/exporter/requirements.txt | $(EXPORT_BIN)/python
	$(call install_torch,$(EXPORT_PIP))
	$(EXPORT_PIP) install --quiet -r deploy/exporter/requirements.txt
	$(EXPORT_PIP) check
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python deploy/install_requirements.py --project "[test,ray]"
	@missing=$$(for p in $(DEBIAN_TEST_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages for the tests: $$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
	touch $@

check: $(VENV)/.installed
	$(BIN)/gallery check

bench: $(VENV)/.installed
	$(BIN)/python -m benchmarks.latency --json $(ARTIFACTS)/latency.json

clean:
	rm -rf $(VENV) $(EXPORT_VENV) $(ARTIFACTS) .pytest_cache
