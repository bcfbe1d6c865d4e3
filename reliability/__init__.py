"""The reliability battery (`make reliability`): load, races, outages and hostile input against the
whole application as `make run` starts it, with figures checked against the database itself.

`reliability/run.py` is the driver; each scenario is a module with a `run(context) -> list[Row]`.
`tests/reliability/` runs a quick subset of the same scenarios in CI.
"""
