"""What an operator watches: the Prometheus metrics at ``/metrics`` (how fast requests are
answered, credentials issued and signed, the job, webhook and email backlogs)."""
