# Two entry points (see README): `make demo` and `make test`. Each sets itself up from a clean clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup system-deps demo test test-all lint clean

setup: $(STAMP)

# Debian's pythonX.Y-venv: its Python has no ensurepip without it, so `-m venv` fails (needed).
# Debian's LLVM 19 lets Mitsuba use its fast `llvm_ad_rgb` variant (optional: scalar_rgb works without).
system-deps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		! $(PYTHON) -c "import ensurepip, venv" 2>/dev/null; then \
		pkg="$$($(PYTHON) -c 'import sys; print("python%d.%d-venv" % sys.version_info[:2])')"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$$pkg" || \
		{ echo "error: $$pkg not installed; $(PYTHON) -m venv needs it"; exit 1; }; fi
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && ! ldconfig -p | grep -q libLLVM.so.19; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libllvm19 || \
		echo "warning: libllvm19 not installed; Mitsuba will use its scalar variant"; fi

# __init__.py holds the version, which pyproject.toml reads: an editable install's metadata needs a reinstall.
$(STAMP): pyproject.toml src/vfxdenoise/__init__.py
	$(MAKE) system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/vfxdenoise demo

# pytest-xdist: one test process per core, at most 4 (each may hold a few GB of frames and tensors).
test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow" -n auto --maxprocesses 4

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --maxprocesses 4

lint: $(STAMP)
	$(BIN)/ruff check core cli plugin nuke houdini tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache
