# The two commands of the README: `make run` and `make test`. Everything else is a helper for them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
TORCH_VERSION := 2.13.0
# The CPU build of torch; a plain `pip install torch` would pull several GB of CUDA packages.
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
PORT ?= 7860
ARTIFACTS ?= test-artifacts
# Browser tests (chromium), Chinese and emoji glyphs in screenshots (fonts), spoken test clips (espeak-ng).
DEBIAN_TEST_PACKAGES := chromium fonts-wqy-microhei fonts-noto-color-emoji espeak-ng

DEMO_REQUIREMENTS := $(sort $(wildcard demos/*/*/requirements.txt))

.PHONY: run test install install-test check lint bench clean

run: $(VENV)/.installed
	$(BIN)/gallery run --port $(PORT)

test: $(VENV)/.installed-test
	$(BIN)/gallery check
	OPENMODELS_ARTIFACTS=$(abspath $(ARTIFACTS)) $(BIN)/python -m pytest

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.torch: | $(BIN)/python
	# A wheel already on this machine (pip find-links) first; else the official CPU index.
	$(PIP) install --quiet --no-index --no-deps torch==$(TORCH_VERSION) 2>/dev/null \
		|| $(PIP) install --quiet --retries 1 --timeout 30 torch==$(TORCH_VERSION) --index-url $(TORCH_CPU_INDEX)
	# torch's own dependencies, from the normal index (torch itself is already satisfied).
	$(PIP) install --quiet torch==$(TORCH_VERSION)
	touch $@

$(VENV)/.installed: $(VENV)/.torch pyproject.toml $(DEMO_REQUIREMENTS) deploy/install_requirements.py
	$(BIN)/python deploy/install_requirements.py --project ""
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python deploy/install_requirements.py --project "[test]"
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
	rm -rf $(VENV) $(ARTIFACTS) .pytest_cache
