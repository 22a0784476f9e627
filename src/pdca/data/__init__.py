"""Reading data for metrics: source plugins hand DuckDB relations to the metric session."""
