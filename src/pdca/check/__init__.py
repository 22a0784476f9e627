"""The Check phase: measure each metric, read its series, and check the data behind it.

``measure`` computes values, period series and statuses from the sources;
``readout`` turns a series into a verdict, a trend and target checks;
``datacheck`` is ``pdca validate --data``; ``themes`` ties comment analysis to a
metric. The pure statistics they call live in :mod:`pdca.check.stats` (numpy
only, no I/O), so they can be tested and benchmarked on their own.
"""
