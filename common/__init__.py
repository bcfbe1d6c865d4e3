"""API plumbing shared by every app: pagination with a hard cap, GeoJSON rendering, strict query
parameters. It knows no domain model."""
