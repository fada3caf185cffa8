# The two commands of the README's contract: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test bench clean setup xvfb

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip setuptools wheel
	# torch first and pinned, so nothing later resolves a CUDA build
	$(PY) -m pip install "torch==2.13.0"
	$(PY) -m pip install -e ".[deep,test,bench]"
	touch $(STAMP)

run: $(STAMP)
	$(PY) main.py $(ARGS)

test: $(STAMP) xvfb
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

# The one real-window test (tests/ui/test_xvfb.py) needs Xvfb and two xcb libraries Qt's xcb
# plugin loads. Best effort: installed where apt-get runs as root (a CI container); elsewhere
# that test skips and says why. Never fails the build.
XVFB_BIN ?= Xvfb
xvfb:
	@command -v $(XVFB_BIN) >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  DEBIAN_FRONTEND=noninteractive timeout 300 sh -c 'apt-get update -qq && apt-get install -y -qq \
	  xvfb libxcb-icccm4 libxcb-keysyms1' >/dev/null 2>&1 && echo "installed Xvfb for the real-window test"; } || \
	  echo "Xvfb is not installed (no root apt-get): the real-window test will skip"

bench: $(STAMP)
	$(PY) benchmarks/book_recipe.py
	$(PY) benchmarks/label_efficiency.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
