"""Benchmarks: scripts that print ratios against a bare baseline, never timed tests (STYLE.md).

Each figure is a module with a `run()` returning `harness.Figure`s; `bench/run.py` runs them all
against a separate database (`ceasefire_bench`) and writes `bench/RESULTS.md`.
"""
