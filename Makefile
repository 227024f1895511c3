# The two commands a newcomer needs.
.PHONY: demo test

demo:
	bash scripts/setup.sh
	.venv/bin/callcenter --data-dir .data demo

test:
	bash scripts/test.sh
