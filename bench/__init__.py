"""Benchmarks of the grader, the reference kernels and self-check (``make bench``).

Every figure is a ratio of things measured side by side in one run, because the machine
is shared and absolute seconds drift. ``bench/run.py`` runs everything and writes
``BENCHMARKS.md``; see that file for the latest figures.
"""
