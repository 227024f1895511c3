# The two commands a newcomer needs (demo, test), and the benchmarks.
.PHONY: bench demo test

demo:
	bash scripts/setup.sh
	.venv/bin/callcenter --data-dir .data demo

test:
	bash scripts/test.sh

bench:
	bash scripts/bench.sh
