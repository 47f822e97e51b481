"""``python -m benchmarks``: run posim's benchmark (see :mod:`benchmarks.bench`)."""

from benchmarks.bench import main

if __name__ == "__main__":
    raise SystemExit(main())
