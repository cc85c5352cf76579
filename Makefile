# Quick start:  make demo   (set up .venv, open napari on a bundled sample, aligned)
#               make test   (set up .venv, run the whole test suite; napari tests under Xvfb)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo report test bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# The CPU build of torch first: a bare `torch` requirement would pull a multi-GB CUDA build.
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install "torch==2.13.0"
	$(PY) -m pip install -e ".[all,testing]"
	touch $(STAMP)

demo: install
	$(VENV)/bin/topoalign demo

report: install
	$(VENV)/bin/topoalign demo --headless --out topoalign-demo

# napari tests need a display: xvfb-run is installed when root with apt, else they are skipped (.ci/test)
test: install
	.ci/test $(PY)

bench: install
	$(PY) -m pip install -e ".[bench]"
	$(PY) benchmarks/bench_mapper.py
	$(PY) benchmarks/bench_layout.py
	$(PY) benchmarks/bench_bubbles.py
	$(PY) benchmarks/bench_motifs.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache
