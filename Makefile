# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.signalkit-installed
DEMO := example_project
DEMO_DB := $(DEMO)/db.sqlite3
# pyenv keeps extra interpreters out of PATH; tox needs them for the matrix.
PYENV_BINS := $(shell ls -d $(HOME)/.pyenv/versions/3.12.*/bin $(HOME)/.pyenv/versions/3.13.*/bin 2>/dev/null | tr '\n' ':')

.PHONY: install test demo bench bench-instructions docs lint types tox clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet -e . --group test --group offload --group lint --group types --group docs --group pkg --group browser
	$(BIN)/python -m pip install --quiet "tox>=4.22"
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

demo: $(STAMP)
	cd $(DEMO) && ../$(BIN)/python manage.py migrate --noinput
	cd $(DEMO) && ../$(BIN)/python manage.py demo_setup
	@echo
	@echo "Every signal with receivers in the example project (manage.py listsignals):"
	@echo
	cd $(DEMO) && ../$(BIN)/python manage.py listsignals
	@echo
	@echo "signalkit demo: http://127.0.0.1:8000/           the blog (cached list, published posts)"
	@echo "                http://127.0.0.1:8000/signup/    sign up: signalkit creates your profile"
	@echo "                http://127.0.0.1:8000/admin/     admin: user 'admin', password 'admin'"
	@echo "                publish posts with the admin action 'Publish the selected posts' and watch this console for the e-mail"
	@echo
	cd $(DEMO) && ../$(BIN)/python manage.py runserver 127.0.0.1:8000

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --group bench  # the peers measured next to signalkit
	$(BIN)/python -m pytest tests/benchmarks --ds=tests.benchmarks.settings -s -q -o addopts="" -W ignore::DeprecationWarning

# The audit's cost in machine instructions (valgrind's callgrind): steady where
# times are not. Several minutes.
bench-instructions: $(STAMP)
	$(BIN)/python -m tests.benchmarks.instructions

docs: $(STAMP)
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html

lint: $(STAMP)
	$(BIN)/ruff check signalkit tests example_project
	$(BIN)/ruff format --check signalkit tests example_project

types: $(STAMP)
	$(BIN)/mypy

tox: $(STAMP)
	PATH="$(PYENV_BINS)$$PATH" $(BIN)/tox run-parallel --parallel 2 --parallel-no-spinner

clean:
	rm -rf $(VENV) docs/_build dist .tox $(DEMO_DB)
