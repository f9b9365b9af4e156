"""Benchmarks of the Mint Cloud core: ``python3 -m bench`` (or ``make bench``).

They measure and print; they never assert speed and are not collected by
pytest (no ``test_*`` files here).  See ``bench/README.md``.
"""
