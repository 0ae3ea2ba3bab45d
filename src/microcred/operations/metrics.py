"""The service's Prometheus metrics, and the text ``/metrics`` answers.

The instruments are module-level, as prometheus_client means them (a metric is one series
however many apps a process builds); they are labelled, so none has a value, or a file, until
first used. Labels are bounded: methods, route templates (never a path with its ids), status
classes, issuer ids and fixed outcome names; never anything about a learner.

Several workers (``microcred serve --workers N``): each is its own process with its own counts,
so ``serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at an emptied folder before any worker starts
(:func:`use_multiprocess_folder`); every worker writes its values there, and a scrape answered by
any one of them adds up all of them. One worker keeps its values in memory and adds the
process's CPU, memory and garbage collector metrics, which prometheus_client cannot sum across
processes.

The backlogs (jobs, webhook deliveries, emails) are counted in the database at scrape time
(:mod:`.repository`), so they do not depend on which process answers.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

if TYPE_CHECKING:  # this module stays light: signing processes import it
    from .repository import Backlog

__all__ = [
    "CONTENT_TYPE", "CREDENTIALS_ISSUED", "EMAIL_ATTEMPTS", "HTTP_REQUEST_SECONDS", "MULTIPROCESS_ENV", "SIGNING_SECONDS",
    "WEBHOOK_ATTEMPTS", "exposition", "multiprocess_folder", "use_multiprocess_folder",
]

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: The classic text format, which every Prometheus reads (what prometheus_client's own handler
#: answers a scraper that asks for nothing newer).
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

HTTP_REQUEST_SECONDS = Histogram(
    "microcred_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route template (unmatched: no route) and status class (2xx...)",
    ["method", "route", "status"],
)
CREDENTIALS_ISSUED = Counter(
    "microcred_credentials_issued",
    "Credentials issued (awards, bulk rows, pathway completions, corrections, VC-API), counted when their transaction commits",
    ["issuer_id"],
)
SIGNING_SECONDS = Histogram(
    "microcred_signing_seconds",
    "Time to sign one document (canonicalization, hash and signature), by document: credential, status_list, endorsement",
    ["document"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
WEBHOOK_ATTEMPTS = Counter(
    "microcred_webhook_attempts",
    "Webhook delivery attempts by outcome: delivered, retrying (failed; tried again later), failed (failed; given up)",
    ["outcome"],
)
EMAIL_ATTEMPTS = Counter(
    "microcred_email_attempts",
    "Learner email attempts by outcome: sent, retrying (failed; tried again later), failed (refused for good, or given up)",
    ["outcome"],
)


class _Backlogs:
    """The backlog counted at scrape time, as gauges (a collector for ``generate_latest``), and
    whether the database answered at all (None: it did not)."""

    def __init__(self, backlog: Backlog | None, now: datetime) -> None:
        self.backlog, self.now = backlog, now

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(
            "microcred_database_up", "1 when the database answered this scrape's backlog queries, 0 when it was out of reach",
            value=0 if self.backlog is None else 1,
        )
        if self.backlog is None:
            return [up]
        b = self.backlog
        jobs = GaugeMetricFamily("microcred_jobs", "Unfinished bulk jobs by status (queued, running)", labels=["status"])
        for status, count in b.jobs.items():
            jobs.add_metric([status], count)
        age = (self.now - b.oldest_job_at).total_seconds() if b.oldest_job_at is not None else 0.0
        webhooks = GaugeMetricFamily(
            "microcred_webhook_deliveries", "Webhook deliveries to be made (pending) and given up on (failed)", labels=["status"]
        )
        for status, count in b.webhook_deliveries.items():
            webhooks.add_metric([status], count)
        emails = GaugeMetricFamily(
            "microcred_email_deliveries", "Learner emails to be sent (queued, retrying) and given up on (failed)", labels=["status"]
        )
        for status, count in b.email_deliveries.items():
            emails.add_metric([status], count)
        return [
            up,
            jobs,
            GaugeMetricFamily(
                "microcred_jobs_oldest_age_seconds", "How long ago the oldest unfinished bulk job was submitted (0: none waits)", value=max(age, 0.0)
            ),
            GaugeMetricFamily("microcred_job_rows_remaining", "Rows the unfinished bulk jobs have still to award", value=b.job_rows_remaining),
            webhooks,
            emails,
        ]


def exposition(backlog: Backlog | None, *, now: datetime) -> bytes:
    """The Prometheus text format: what every worker of this service counted, and the backlog
    (None: the database was out of reach)."""
    if os.environ.get(MULTIPROCESS_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        counted = generate_latest(registry)
    else:
        counted = generate_latest(REGISTRY)
    return counted + generate_latest(_Backlogs(backlog, now))


def multiprocess_folder(data_dir: Path, *, port: int) -> Path:
    """The workers' shared folder for one served port on this host: a restart of the same
    service reuses (and empties) it, and two services sharing a data folder never meet."""
    return data_dir / "metrics" / f"{socket.gethostname()}-{port}"


def use_multiprocess_folder(folder: Path) -> Path | None:
    """Make worker processes started from now on count into ``folder``, emptied first (an
    earlier run's values would be added to this one's); the caller removes it when the workers
    have stopped. A folder already named in ``PROMETHEUS_MULTIPROC_DIR`` is the operator's and
    is used as it is (prometheus_client asks that it be emptied between runs): None then."""
    if os.environ.get(MULTIPROCESS_ENV):
        return None
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ[MULTIPROCESS_ENV] = str(folder)
    return folder
