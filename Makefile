# Two commands are all you need: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint eval bench kb clean

$(STAMP): pyproject.toml
	@echo "Installing into $(VENV) (first run only, about a minute) ..."
	@$(PYTHON) -c "import sys; assert sys.version_info >= (3, 11), sys.version" || { echo "Python 3.11 or newer is needed"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(STAMP)

## run: the Telegram bot if BOT_TOKEN is set, otherwise the terminal chat
run: $(STAMP)
	@$(BIN)/python -m bot

## test: lint, type check, knowledge check and the test suite
test: $(STAMP)
	$(BIN)/ruff check bot tests benchmarks
	$(BIN)/ruff format --check bot tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m bot kb check
	$(BIN)/python -m pytest

## eval: answer quality on a question set (EVAL=path; default: a dev set in the repository)
EVAL ?= tests/data/dev_questions.jsonl
eval: $(STAMP)
	$(BIN)/python -m bot eval $(EVAL)

## bench: speed and memory figures
bench: $(STAMP)
	$(BIN)/python benchmarks/answer_speed.py
	$(BIN)/python benchmarks/telegram_throughput.py
	$(BIN)/python benchmarks/nudge_sweep.py
	$(BIN)/python benchmarks/import_progress.py
	$(BIN)/python benchmarks/many_users.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
