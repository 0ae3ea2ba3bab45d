"""The public catalogue: published achievements and pathways, for HR and learners."""
