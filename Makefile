# Two commands on a fresh machine: `make demo` and `make test`. Both bootstrap .venv from the
# pinned constraints in constraints.txt.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint bench venv clean lock

venv: $(STAMP)

# setup.py and the .pyx sources too: `pip install -e .` compiles the C extensions (setup.py), and an
# edited .pyx must be compiled again (an editable install does not notice it).
$(STAMP): pyproject.toml constraints.txt setup.py $(wildcard scanner/*.pyx scanner/detection/*.pyx)
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "pkscan needs Python >= 3.11"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/scanner demo

test: $(STAMP)
	$(BIN)/ruff check scanner spiders blocklist tests bench
	$(BIN)/pytest -n 2 --dist loadfile -q

lint: $(STAMP)
	$(BIN)/ruff check scanner spiders blocklist tests bench

bench: $(STAMP)
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

# Refresh the pinned versions after changing dependencies in pyproject.toml.
lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^pkscan' > constraints.txt

clean:
	rm -rf $(VENV) data test-results
