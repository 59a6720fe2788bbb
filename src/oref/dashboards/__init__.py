"""The observatory's Superset dashboards, described as code and written as Superset's YAML bundle."""
