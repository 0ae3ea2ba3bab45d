"""The composition root: ``create_app(settings)`` wires settings, database, key store, routers
and error handling. Nothing is built at import time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from .i18n.requests import LanguageChoice
from . import __version__, console
from .achievements.router import router as achievements_router
from .audit.router import router as audit_router
from .auth.router import router as clients_router
from .awards.router import router as awards_router
from .awards.service import Signing
from .awards.signing_pool import SigningPool
from .backup import backup_warning
from .config import Settings
from .db.migrate import current_revision, head_revision, upgrade
from .endorsements.router import public as public_endorsements_router
from .endorsements.router import router as endorsements_router
from .issuers.router import router as issuers_router
from .issuers.service import reconcile_keys
from .logs import install_redaction
from .log_format import install_request_ids
from .jobs.router import router as jobs_router
from .jobs.worker import JobRunner
from .catalogue.web import router as catalogue_router
from .learners.router import router as learners_router
from .backpack.router import router as backpack_router
from .learners.passkeys_router import routers as learner_passkey_routers
from .operations.router import router as operations_router
from .oauth.router import pages as oauth_pages
from .oauth.router import registration as oauth_registration
from .oauth.router import router as oauth_router
from .obapi.router import router as obapi_router
from .pathways.router import router as pathways_router
from .problems import ServiceUnavailable
from .public.page import style_csp_source
from .public.router import router as public_router
from .images.router import router as images_router
from .runtime import Runtime, build_runtime
from .verification.router import router as verification_router
from .catalogue.web import too_many_gap_checks
from .verification.router import too_many_verifications
from .status.router import public as public_status_router
from .status.router import router as status_router
from .webhooks.dispatcher import WebhookDispatcher
from .delivery.sender import EmailSender
from .learners.mail import SmtpMailer, mailer_for
from .webhooks.router import router as webhooks_router
from .vcapi.router import router as vcapi_router
from .web.deps import RuntimeDep
from .web.limits import BodyLimit, may_award
from .web.openapi import PROBLEMS, install_openapi
from .web.problems import install_problem_handlers
from .web.rate_limits import Clock, LimitedRoute, RateLimit, RateLimits
from .web.head import HeadAsGet
from .web.observe import ObserveRequests
from .web.security import SecurityHeaders

__all__ = ["create_app"]

log = logging.getLogger("microcred")


def _rate_limits(settings: Settings) -> list[RateLimit]:
    """The public endpoints that cost the most, limited per client (web/rate_limits.py): every
    way to verify shares one count, registering OAuth clients has its own."""
    verify = [
        LimitedRoute("GET", "/api/v1/verify"),
        LimitedRoute("POST", "/api/v1/verify"),
        LimitedRoute("GET", "/verify", query="url", page=too_many_verifications),  # the page fetches the URL it is given
        LimitedRoute("POST", "/verify", page=too_many_verifications),
        LimitedRoute("POST", "/credentials/verify"),
        LimitedRoute("POST", "/presentations/verify"),
        LimitedRoute("POST", "/catalogue/gap-check", page=too_many_gap_checks),  # it verifies what it is sent
    ]
    return [
        RateLimit("verify", settings.verify_requests_per_minute, verify, what="verifications"),
        RateLimit("registration", settings.oauth_registrations_per_minute, [LimitedRoute("POST", "/oauth/register")], what="client registrations"),
    ]


def create_app(
    settings: Settings, *, runtime: Runtime | None = None, migrate: bool = True, rate_limit_clock: Clock = time.monotonic
) -> FastAPI:
    """The service. ``migrate`` brings the database to the newest schema on start (the embedded
    SQLite database is created on the first run). ``rate_limit_clock`` is what the rate limits
    count time by."""
    install_redaction([
        settings.key_passphrase.get_secret_value(), settings.smtp_password.get_secret_value(), settings.metrics_token.get_secret_value(),
    ])
    install_request_ids()
    built = runtime or build_runtime(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if migrate:
            await upgrade(built.engine)
        async with built.sessions() as session, session.begin():
            await reconcile_keys(session, keystore=built.keystore)
        if (warning := await asyncio.to_thread(backup_warning, settings.keys_dir)) is not None:
            log.warning("%s", warning)  # once per start: keys no backup holds
        worker: asyncio.Task[None] | None = None
        pool: SigningPool | None = None
        if settings.run_jobs:
            pool = SigningPool(
                keys_dir=settings.keys_dir, passphrase=settings.key_passphrase.get_secret_value(), base_url=settings.base_url
            )
            runner = JobRunner(
                built.sessions,
                Signing(built.keystore, built.loader, settings.base_url, built.statuses, pool),
                chunk_rows=settings.job_chunk_rows,
                lease=timedelta(seconds=settings.job_lease_seconds),
            )
            app.state.job_runner = runner
            worker = asyncio.create_task(runner.run_forever(), name="microcred-jobs")
        dispatcher: asyncio.Task[None] | None = None
        if settings.webhook_dispatch:
            app.state.webhook_dispatcher = WebhookDispatcher.from_settings(built.sessions, settings)
            dispatcher = asyncio.create_task(app.state.webhook_dispatcher.run_forever(), name="microcred-webhooks")
        emails: asyncio.Task[None] | None = None
        # The sender keeps its SMTP connections open between emails (thousands in a batch).
        mailer = SmtpMailer(settings, keep_open=True) if settings.smtp_host else mailer_for(settings)
        if settings.email_dispatch and mailer is not None:
            app.state.email_sender = EmailSender(built.sessions, mailer, settings)
            emails = asyncio.create_task(app.state.email_sender.run_forever(), name="microcred-emails")
        try:
            yield
        finally:
            for task in (worker, dispatcher, emails):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            if pool is not None:
                pool.close()
            if isinstance(mailer, SmtpMailer):
                mailer.close()
            if runtime is None:
                await built.close()

    app = FastAPI(
        title="microcred",
        version=__version__,
        summary="Open Badges 3.0 microcredentials: issuers, achievements and awards.",
        lifespan=lifespan,
    )
    app.state.runtime = built
    app.add_middleware(
        BodyLimit,
        default=settings.max_body_bytes,
        batch=settings.max_batch_bytes,
        verify=settings.verify_max_bytes,
        authorize=may_award(built.sessions),
        console_upload=console.bulk.may_upload(built.sessions, settings),
    )
    limits = [policy for policy in _rate_limits(settings) if policy.per_minute]
    if limits:  # outside the body limit, so a refused upload is not read; inside the language, for the page's words
        app.add_middleware(RateLimits, limits=limits, clock=rate_limit_clock)
    app.add_middleware(LanguageChoice)  # pages, emails and PDFs written in this request speak its language
    install_problem_handlers(app)  # after the middlewares: its own wraps them all
    app.add_middleware(SecurityHeaders, style_source=style_csp_source())  # on every answer, a 500 included
    app.add_middleware(HeadAsGet)  # a HEAD gets exactly the GET's headers
    if settings.trusted_proxies:  # the client is the one the trusted proxies name, for everything inside
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
    # Outermost: request id, access line and latency of every answer, a 500 included (the access
    # line's client is read after the answer, so it is the one the trusted proxies named).
    app.add_middleware(ObserveRequests)
    routers = (
        issuers_router, achievements_router, awards_router, jobs_router, pathways_router, endorsements_router,
        status_router, webhooks_router, audit_router, clients_router,
        public_status_router, public_router, images_router, public_endorsements_router, verification_router,
        vcapi_router,  # the W3C VC-API
        obapi_router, oauth_registration, oauth_router, oauth_pages, learners_router,  # the OB 3.0 API
        catalogue_router, backpack_router,  # pages for learners and HR (the catalogue first: it owns /me/pathways)
        *learner_passkey_routers,
        operations_router,  # /metrics
    )
    for router in (*routers, *console.routers):
        app.include_router(router)
    app.mount("/console/static", console.static_files(), name="console-static")
    install_openapi(app)

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], responses={503: {**PROBLEMS[400], "description": "Not ready; `checks` says why"}})
    async def readyz(runtime: RuntimeDep) -> Any:
        """Ready to serve: the database answers at the newest schema and the keys open."""
        checks: dict[str, str] = {}
        try:
            async with runtime.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            revision = await current_revision(runtime.engine)
            checks["database"] = "ok" if revision == head_revision() else f"schema at {revision}, expected {head_revision()}"
        except Exception as exc:  # any failure to reach the database means not ready
            checks["database"] = f"unreachable: {type(exc).__name__}"
        try:
            issuers = await asyncio.to_thread(runtime.keystore.issuers)
            for issuer in issuers[:1]:
                await asyncio.to_thread(runtime.keystore.current_key, issuer)
            checks["keys"] = "ok"
        except Exception as exc:  # a wrong passphrase or unreadable key file
            checks["keys"] = f"unusable: {exc}"
        if all(v == "ok" for v in checks.values()):
            return {"status": "ready", "checks": checks}
        problem = ServiceUnavailable("not ready: " + "; ".join(f"{k} {v}" for k, v in checks.items() if v != "ok"), checks=checks)
        return JSONResponse(problem.to_dict(instance="/readyz"), status_code=503, media_type="application/problem+json")

    return app


def app_from_environment() -> FastAPI:
    """For uvicorn's ``--factory`` (several workers): settings from the environment."""
    from .config import load_settings
    from .web.memory import freeze_startup_objects

    app = create_app(load_settings())
    freeze_startup_objects()  # each worker process builds its app here, once
    return app
