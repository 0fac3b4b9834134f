"""Gateway benchmark: `python -m tests.bench` (or `make bench`). See docs/BENCHMARKS.md."""
