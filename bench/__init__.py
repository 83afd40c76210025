"""tgtriage's own benchmark (DESIGN §8): run it with `python -m bench.run`; never part of the tests."""
