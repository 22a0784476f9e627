"""Example playbooks and the seeded data generator behind the demo, the docs and the benchmarks."""
