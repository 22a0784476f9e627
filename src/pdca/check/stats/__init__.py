"""Statistics behind the Check phase: pure functions over a metric's period series.

``spc`` (XmR limits, special-cause rules, verdict), ``trend`` (Theil–Sen,
Mann–Kendall, projection), ``correlate`` (Pearson/Spearman with p-values) and
``effects`` (before/after a countermeasure). No I/O, only numpy, so they are cheap
to call for every metric of every playbook.
"""
