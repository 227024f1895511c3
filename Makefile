# The two commands a newcomer needs (demo, test), and the benchmarks.
# `make demo HOST=0.0.0.0` opens the demo to other machines (default: this one only).
.PHONY: bench demo test
HOST ?= 127.0.0.1

demo:
	bash scripts/setup.sh
	.venv/bin/callcenter demo --host $(HOST)

test:
	bash scripts/test.sh

bench:
	bash scripts/bench.sh
