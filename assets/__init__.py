"""The Dagster layer of value_pipeline: partitions, resources, assets, checks,
schedules and sensors around the domain core in `value_pipeline`.

Dependencies point one way: assets -> value_pipeline, never back.
"""
