"""Bulk awards: a CSV or JSON file becomes a job whose rows are awarded in chunks, resumably."""
