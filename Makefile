# Two commands set everything up on a fresh machine:
#   make chat   - create .venv, install, build the index, start the chat on http://127.0.0.1:7860
#   make test   - create .venv, install with test tools, run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch first and pinned: the CPU wheel that lies on this machine's disk (an unpinned torch pulls CUDA builds).
TORCH_PIN ?= torch==2.13.0
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup setup-test chat ask test lint bench eval clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet "$(TORCH_PIN)"
	$(BIN)/pip install --quiet -e ".[pdf,fast]"
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[pdf,fast,test]"
	touch $@

setup: $(VENV)/.installed

setup-test: $(VENV)/.installed-test

chat: setup
	$(BIN)/tutor chat

ask: setup
	$(BIN)/tutor ask "What is model drift?"

test: setup-test
	$(BIN)/python -m pytest -q

lint: setup-test
	$(BIN)/ruff check tutor tests bench

eval: setup
	$(BIN)/tutor eval

bench: setup-test
	$(BIN)/python bench/bench_core.py

clean:
	rm -rf $(VENV) index/*.json index/*.jsonl index/*.faiss index/*.npy
