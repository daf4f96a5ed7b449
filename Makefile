# `make run`: set up and run the embedded default (real Fashion-MNIST, 10 rounds of 50).
# `make test`: set up and run the test suite.
.PHONY: setup run test lint

setup: .setup-done
.setup-done: pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
	touch .setup-done

run: setup
	.venv/bin/hitlbench run

test: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/python -m pytest -q

lint: setup
	.venv/bin/ruff check .
