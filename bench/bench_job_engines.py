"""DBOS Transact beside procrastinate as microcred's job engine (issue 14, item 2). Run by hand;
prints figures, asserts nothing. Not part of the service: it needs the two libraries, which the
service does not depend on, so give it a venv of its own:

    python3 -m venv /tmp/engine-venv
    /tmp/engine-venv/bin/pip install dbos procrastinate 'psycopg[binary]'
    /tmp/engine-venv/bin/python bench/bench_job_engines.py                 # everything, 3 rounds (~50 min)
    /tmp/engine-venv/bin/python bench/bench_job_engines.py --rounds 1 --only latency,fairness

It needs PostgreSQL at 127.0.0.1:5432 with trust auth for `postgres` (``--pg``); it creates and
drops ``engine_eval_dbos`` and ``engine_eval_procrastinate`` (and an SQLite file for DBOS's SQLite
mode in a temporary folder). Every measurement runs once per round for each engine, the engines in
alternating order, and the medians over the rounds are printed (the machine is shared).

What runs where: the script (the "orchestrator") starts every actor as a child process of its own
(``--role ...``), because DBOS is one global instance per process and because the recovery runs
kill workers with SIGKILL. Task bodies write what they saw (their start time, the step they ran,
their pid) to a ``bench_marks`` table in the PostgreSQL database of the engine under test; DBOS's
SQLite mode writes its marks to PostgreSQL too, so they do not contend with the SQLite file.

Measurements (each engine configured as microcred would run it: asyncio tasks in the service's
own processes):

- enqueue: N tasks enqueued one await at a time, 16 at a time, and (procrastinate only: DBOS
  has no batch call) in batches of 1,000.
- process: 2,000 no-ops (or 1,000 tasks that burn ~2 ms of CPU: sha256 rounds calibrated on
  this machine) enqueued first, VACUUM ANALYZE, then worker processes drain them; rate = tasks
  over the span from the first task's start to the last one's end, as the workers saw it.
- latency: one task at a time on an idle worker; from the enqueue call to the task's first line.
- idempotency: K keys, each started by 16 concurrent callers in 2 processes at the same instant,
  then started once more after it finished; how many times each key's body ran.
- recovery: a 20-step workflow (0.3 s per step) on two workers; the one running it is killed
  with SIGKILL after 4 steps; time until the other starts a step, and which steps ran twice.
- handover: the same, but the runner gets SIGTERM (a graceful stop).
- fairness: issuer A enqueues 400 tasks of 25 ms, then issuer B 8; with 4 slots, how long B's
  tasks wait, FIFO and with each engine's per-key feature.
- idle: two service processes listening to 4 queues, no work: database transactions per second,
  child processes, threads and connections.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

import psycopg

HERE = Path(__file__).resolve()
DBOS_DB = "engine_eval_dbos"
PROC_DB = "engine_eval_procrastinate"
MARKS_DDL = """
CREATE TABLE IF NOT EXISTS bench_marks (kind text, key text, n int, pid int, at double precision, extra double precision);
CREATE TABLE IF NOT EXISTS bench_heartbeats (executor text PRIMARY KEY, at double precision);
"""


# --------------------------------------------------------------------------- shared pieces


def burn(rounds: int) -> None:
    """CPU work: ``rounds`` sha256 of a small buffer (calibrated to ~2 ms)."""
    data = b"microcred" * 8
    for _ in range(rounds):
        data = hashlib.sha256(data).digest()


def calibrate(target_ms: float = 2.0) -> int:
    rounds = 1000
    while True:
        started = time.process_time()
        burn(rounds)
        spent = (time.process_time() - started) * 1000
        if spent > 20:
            return max(1, int(rounds * target_ms / spent))
        rounds *= 2


class Marks:
    """Instrumentation: task bodies write what they saw to bench_marks (autocommit)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.conn: psycopg.AsyncConnection[Any] | None = None
        self.lock = asyncio.Lock()

    async def add(self, kind: str, key: str, n: int = 0, extra: float | None = None) -> None:
        async with self.lock:
            if self.conn is None:
                self.conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
            await self.conn.execute(
                "INSERT INTO bench_marks (kind, key, n, pid, at, extra) VALUES (%s, %s, %s, %s, %s, %s)",
                (kind, key, n, os.getpid(), time.time(), extra),
            )


class Stats:
    """In-process counters of a worker, printed on SIGUSR1."""

    first_start: float | None = None
    last_end: float = 0.0
    done = 0

    @classmethod
    def start(cls) -> None:
        if cls.first_start is None:
            cls.first_start = time.time()

    @classmethod
    def end(cls) -> None:
        cls.done += 1
        cls.last_end = time.time()


def on_usr1_print_stats() -> None:
    def handler(*_: Any) -> None:
        sys.stdout.write(json.dumps({"first_start": Stats.first_start, "last_end": Stats.last_end, "done": Stats.done}) + "\n")
        sys.stdout.flush()
        os._exit(0)

    signal.signal(signal.SIGUSR1, handler)


def emit(result: dict[str, Any]) -> None:
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# --------------------------------------------------------------------------- DBOS side

MARKS: Marks | None = None
BURN_ROUNDS = 0
STEP_SECONDS = 0.3
STEPS = 20


def dbos_define() -> Any:
    """Register the bench's workflows with DBOS (module-level functions, one registry)."""
    from dbos import DBOS

    @DBOS.workflow(name="noop")
    async def noop(i: int) -> None:
        Stats.start()
        Stats.end()

    @DBOS.workflow(name="cpu")
    async def cpu(i: int) -> None:
        Stats.start()
        burn(BURN_ROUNDS)
        Stats.end()

    @DBOS.workflow(name="latency")
    async def latency(key: str, enqueued_at: float) -> None:
        assert MARKS is not None
        await MARKS.add("lat", key, extra=time.time() - enqueued_at)

    @DBOS.workflow(name="once")
    async def once(key: str) -> None:
        assert MARKS is not None
        await MARKS.add("exec", key)

    @DBOS.step(name="chunk")
    async def chunk(key: str, i: int) -> None:
        assert MARKS is not None
        await MARKS.add("start", key, i)
        await asyncio.sleep(STEP_SECONDS)
        await MARKS.add("done", key, i)

    @DBOS.workflow(name="bulk")
    async def bulk(key: str) -> None:
        for i in range(STEPS):
            await chunk(key, i)

    @DBOS.workflow(name="fair")
    async def fair(issuer: str, i: int) -> None:
        assert MARKS is not None
        await asyncio.sleep(0.025)
        await MARKS.add("end", issuer, i)

    return {"noop": noop, "cpu": cpu, "latency": latency, "once": once, "bulk": bulk, "fair": fair}


def dbos_start(system_url: str, executor_id: str, listen: list[str] | None) -> Any:
    from dbos import DBOS

    DBOS(
        config={
            "name": "engine-bench",
            "system_database_url": system_url,
            "executor_id": executor_id,
            "application_version": "bench",
            "log_level": "WARNING",
        }
    )
    if listen is not None:
        DBOS.listen_queues(listen)
    DBOS.launch()
    return DBOS


async def dbos_register(name: str, opts: dict[str, Any]) -> Any:
    from dbos import DBOS

    return await DBOS.register_queue_async(name, on_conflict="always_update", **opts)


async def dbos_worker(args: argparse.Namespace) -> None:
    """A service process running DBOS: dequeues the named queues until told to stop."""
    global MARKS, BURN_ROUNDS
    MARKS, BURN_ROUNDS = Marks(args.marks), args.burn
    funcs = dbos_define()
    DBOS = dbos_start(args.url, args.executor, args.queues.split(","))
    assert funcs
    on_usr1_print_stats()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    marks = Marks(args.marks)

    async def heartbeat() -> None:  # what a sweeper would need from each executor (not DBOS's)
        while True:
            assert marks is not None
            async with marks.lock:
                if marks.conn is None:
                    marks.conn = await psycopg.AsyncConnection.connect(args.marks, autocommit=True)
                await marks.conn.execute(
                    "INSERT INTO bench_heartbeats VALUES (%s, %s) ON CONFLICT (executor) DO UPDATE SET at = excluded.at",
                    (args.executor, time.time()),
                )
            await asyncio.sleep(2.0)

    async def hand_back(executors: list[str]) -> None:
        """Put the PENDING workflows of ``executors`` back on their queues (public API:
        list_workflows + resume_workflows); any live executor dequeues them at its next poll.
        Open-source DBOS does this only for its own executor ID, at launch; recovering another
        executor's workflows is what Conductor (proprietary) is for."""
        pending = await DBOS.list_workflows_async(status="PENDING", executor_id=executors, load_input=False, load_output=False)
        by_queue: dict[str | None, list[str]] = {}
        for status in pending:
            by_queue.setdefault(status.queue_name, []).append(status.workflow_id)
        for queue_name, ids in by_queue.items():
            await DBOS.resume_workflows_async(ids, queue_name=queue_name)

    async def sweeper() -> None:
        """Hands back the workflows of executors whose heartbeat is older than 10 s."""
        conn = await psycopg.AsyncConnection.connect(args.marks, autocommit=True)
        while True:
            await asyncio.sleep(2.0)
            rows = await (
                await conn.execute("DELETE FROM bench_heartbeats WHERE at < %s AND executor <> %s RETURNING executor", (time.time() - 10, args.executor))
            ).fetchall()
            if rows:
                await hand_back([r[0] for r in rows])

    tasks = [asyncio.create_task(heartbeat())]
    if args.sweeper:
        tasks.append(asyncio.create_task(sweeper()))

    async def on_term() -> None:
        if args.handover:
            # Stop running them here (the process ends), and hand them back to their queues.
            await hand_back([args.executor])
            os._exit(0)
        DBOS.destroy()  # as shipped: the workflows stay PENDING under this executor ID
        os._exit(0)

    loop.add_signal_handler(signal.SIGTERM, lambda: asyncio.ensure_future(on_term()))
    print("ready", flush=True)
    await stop.wait()


async def dbos_driver(args: argparse.Namespace) -> None:
    """Enqueues (the service's request side): a DBOS process that dequeues nothing."""
    global MARKS
    MARKS = Marks(args.marks)
    funcs = dbos_define()
    from dbos import SetEnqueueOptions, SetWorkflowID

    dbos_start(args.url, f"driver-{os.getpid()}", [])
    spec = json.loads(args.spec)
    test = spec["test"]
    queue = await dbos_register(spec["queue"], spec.get("queue_opts", {}))

    if test == "register":
        emit({"ok": True})
    elif test == "enqueue":
        n, out = spec["n"], {}
        started = time.perf_counter()
        for i in range(n):
            await queue.enqueue_async(funcs["noop"], i)
        out["single"] = n / (time.perf_counter() - started)
        sem = asyncio.Semaphore(16)

        async def one(i: int) -> None:
            async with sem:
                await queue.enqueue_async(funcs["noop"], i)

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        out["concurrent16"] = n / (time.perf_counter() - started)
        emit(out)
    elif test == "fill":
        sem = asyncio.Semaphore(16)

        async def fill(i: int) -> None:
            async with sem:
                await queue.enqueue_async(funcs[spec["task"]], i)

        await asyncio.gather(*(fill(i) for i in range(spec["n"])))
        emit({"ok": True})
    elif test == "latency":
        lats = []
        for i in range(spec["samples"]):
            await asyncio.sleep(random.uniform(0.15, 0.35))
            key = f"lat-{spec['round']}-{i}"
            await queue.enqueue_async(funcs["latency"], key, time.time())
            lats.append(await wait_mark(args.marks, "lat", key))
        emit({"lat": lats})
    elif test == "starter":
        emit(await starter(spec, lambda key: dbos_start_once(queue, funcs["once"], key, spec, SetWorkflowID, SetEnqueueOptions)))
    elif test == "bulk":
        with SetWorkflowID(spec["key"]), SetEnqueueOptions(queue_partition_key="issuer-a") if spec.get("partitioned") else suppress():
            await queue.enqueue_async(funcs["bulk"], spec["key"])
        emit({"ok": True})
    elif test == "fair":
        t = {}
        for issuer, count in (("A", spec["a"]), ("B", spec["b"])):
            for i in range(count):
                if spec.get("partitioned"):
                    with SetEnqueueOptions(queue_partition_key=issuer):
                        await queue.enqueue_async(funcs["fair"], issuer, i)
                else:
                    await queue.enqueue_async(funcs["fair"], issuer, i)
            t[issuer] = time.time()
        emit({"enqueued": t})
    os._exit(0)


async def dbos_start_once(queue: Any, once: Any, key: str, spec: dict[str, Any], SetWorkflowID: Any, SetEnqueueOptions: Any) -> str:
    with SetWorkflowID(key), SetEnqueueOptions(queue_partition_key="issuer-a") if spec.get("partitioned") else suppress():
        handle = await queue.enqueue_async(once, key)
    return str(handle.get_workflow_id())


# --------------------------------------------------------------------------- procrastinate side


def proc_define(url: str) -> Any:
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url, min_size=1, max_size=4))

    @app.task(name="noop", queue="work")
    async def noop(i: int) -> None:
        Stats.start()
        Stats.end()

    @app.task(name="cpu", queue="work")
    async def cpu(i: int) -> None:
        Stats.start()
        burn(BURN_ROUNDS)
        Stats.end()

    @app.task(name="latency", queue="work")
    async def latency(key: str, enqueued_at: float) -> None:
        assert MARKS is not None
        await MARKS.add("lat", key, extra=time.time() - enqueued_at)

    @app.task(name="once", queue="work")
    async def once(key: str) -> None:
        assert MARKS is not None
        await MARKS.add("exec", key)

    # A bulk job is one job; its checkpoint is ours (as microcred's jobs.processed is today):
    # the steps done are read back on start. Retried at once on a graceful stop's abort.
    @app.task(name="bulk", queue="work", retry=procrastinate.RetryStrategy(max_attempts=5, wait=0))
    async def bulk(key: str) -> None:
        assert MARKS is not None
        async with await psycopg.AsyncConnection.connect(MARKS.url, autocommit=True) as conn:
            row = await (await conn.execute("SELECT max(n) FROM bench_marks WHERE kind = 'done' AND key = %s", (key,))).fetchone()
        first = 0 if row is None or row[0] is None else row[0] + 1
        for i in range(first, STEPS):
            await MARKS.add("start", key, i)
            await asyncio.sleep(STEP_SECONDS)
            await MARKS.add("done", key, i)

    @app.task(name="fair", queue="work")
    async def fair(issuer: str, i: int) -> None:
        assert MARKS is not None
        await asyncio.sleep(0.025)
        await MARKS.add("end", issuer, i)

    return app, {"noop": noop, "cpu": cpu, "latency": latency, "once": once, "bulk": bulk, "fair": fair}


async def proc_worker(args: argparse.Namespace) -> None:
    global MARKS, BURN_ROUNDS
    MARKS, BURN_ROUNDS = Marks(args.marks), args.burn
    app, _ = proc_define(args.url)
    on_usr1_print_stats()
    async with app.open_async():

        async def sweeper() -> None:
            """Retries the jobs of workers whose heartbeat is older than 10 s (procrastinate's
            documented recipe: get_stalled_jobs + retry_job, run periodically)."""
            while True:
                await asyncio.sleep(2.0)
                for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=10):
                    await app.job_manager.retry_job(job)

        side = [asyncio.create_task(sweeper())] if args.sweeper else []
        print("ready", flush=True)
        await app.run_worker_async(
            queues=["work"],
            concurrency=args.concurrency,
            wait=True,
            update_heartbeat_interval=2.0,
            stalled_worker_timeout=10.0,
            shutdown_graceful_timeout=0,  # a graceful stop aborts running jobs at once (retried elsewhere)
            fetch_job_polling_interval=args.poll,
            name=args.executor,
        )
        for task in side:
            task.cancel()
    os._exit(0)


async def proc_driver(args: argparse.Namespace) -> None:
    global MARKS
    MARKS = Marks(args.marks)
    app, funcs = proc_define(args.url)
    spec = json.loads(args.spec)
    test = spec["test"]
    async with app.open_async():
        if test == "enqueue":
            n, out = spec["n"], {}
            started = time.perf_counter()
            for i in range(n):
                await funcs["noop"].defer_async(i=i)
            out["single"] = n / (time.perf_counter() - started)
            sem = asyncio.Semaphore(16)

            async def one(i: int) -> None:
                async with sem:
                    await funcs["noop"].defer_async(i=i)

            started = time.perf_counter()
            await asyncio.gather(*(one(i) for i in range(n)))
            out["concurrent16"] = n / (time.perf_counter() - started)
            started = time.perf_counter()
            for start in range(0, n, 1000):
                await funcs["noop"].batch_defer_async(*({"i": i} for i in range(start, min(n, start + 1000))))
            out["batch1000"] = n / (time.perf_counter() - started)
            emit(out)
        elif test == "fill":
            for start in range(0, spec["n"], 1000):
                await funcs[spec["task"]].batch_defer_async(*({"i": i} for i in range(start, min(spec["n"], start + 1000))))
            emit({"ok": True})
        elif test == "latency":
            lats = []
            for i in range(spec["samples"]):
                await asyncio.sleep(random.uniform(0.15, 0.35))
                key = f"lat-{spec['round']}-{i}"
                await funcs["latency"].defer_async(key=key, enqueued_at=time.time())
                lats.append(await wait_mark(args.marks, "lat", key))
            emit({"lat": lats})
        elif test == "starter":

            async def start(key: str) -> str:
                return str(await funcs["once"].configure(queueing_lock=key).defer_async(key=key))

            emit(await starter(spec, start))
        elif test == "bulk":
            await funcs["bulk"].configure(queueing_lock=spec["key"]).defer_async(key=spec["key"])
            emit({"ok": True})
        elif test == "fair":
            t = {}
            for issuer, count in (("A", spec["a"]), ("B", spec["b"])):
                task = funcs["fair"].configure(lock=issuer) if spec.get("locked") else funcs["fair"]
                for i in range(count):
                    await task.defer_async(issuer=issuer, i=i)
                t[issuer] = time.time()
            emit({"enqueued": t})
    os._exit(0)


# --------------------------------------------------------------------------- driver helpers


async def wait_mark(marks_url: str, kind: str, key: str, timeout: float = 30.0) -> float:
    async with await psycopg.AsyncConnection.connect(marks_url, autocommit=True) as conn:
        deadline = time.time() + timeout
        while time.time() < deadline:
            row = await (await conn.execute("SELECT extra FROM bench_marks WHERE kind = %s AND key = %s", (kind, key))).fetchone()
            if row is not None:
                return float(row[0])
            await asyncio.sleep(0.005)
    return float("nan")


async def starter(spec: dict[str, Any], start: Any) -> dict[str, Any]:
    """Start each key with 8 concurrent calls at the same wall-clock instant as the other starter
    process; then, in the second phase (``again``), once more after it finished."""
    outcomes: dict[str, list[str]] = {}
    for i, key in enumerate(spec["keys"]):
        at = spec["t0"] + i * 0.25
        await asyncio.sleep(max(0.0, at - time.time()))

        async def call(key: str = key) -> str:
            try:
                return "ok:" + await start(key)
            except Exception as exc:
                return "refused:" + type(exc).__name__

        outcomes[key] = list(await asyncio.gather(*(call() for _ in range(spec["callers"]))))
    return {"outcomes": outcomes}


# --------------------------------------------------------------------------- orchestrator


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.pg = args.pg.rstrip("/")
        self.tmp = Path(tempfile.mkdtemp(prefix="engine-bench-"))
        self.children: list[subprocess.Popen[str]] = []
        self.burn = calibrate()
        self.results: dict[str, dict[str, list[Any]]] = {}

    def url(self, db: str) -> str:
        return f"{self.pg}/{db}"

    def admin(self, sql: str) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(sql)

    def setup(self) -> None:
        for db in (DBOS_DB, PROC_DB):
            self.admin(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
            self.admin(f"CREATE DATABASE {db}")
            with psycopg.connect(self.url(db), autocommit=True) as conn:
                conn.execute(MARKS_DDL)
        import procrastinate

        app = procrastinate.App(connector=procrastinate.SyncPsycopgConnector(conninfo=self.url(PROC_DB)))
        with app.open():
            app.schema_manager.apply_schema()
        # DBOS creates its schema on first launch: a driver that only registers a queue.
        self.driver("dbos", {"test": "register", "queue": "warmup"})

    def teardown(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.kill()
        if not self.args.keep:
            for db in (DBOS_DB, PROC_DB):
                self.admin(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")

    # --- engines' places

    def system_url(self, engine: str) -> str:
        if engine == "dbos":
            return "postgresql+psycopg://" + self.url(DBOS_DB).split("://", 1)[1]
        if engine == "dbos-sqlite":
            return f"sqlite:///{self.tmp / 'dbos.sqlite'}"
        return self.url(PROC_DB)

    def marks_url(self, engine: str) -> str:
        return self.url(PROC_DB if engine == "procrastinate" else DBOS_DB)

    def vacuum(self, engine: str) -> None:
        """Planner statistics for the filled queue. (PostgreSQL here runs with autovacuum off, so
        nothing else would ever analyse the tables; dead rows left while a queue drains stay.)"""
        if engine == "dbos-sqlite":
            return
        with psycopg.connect(self.marks_url(engine), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE procrastinate_jobs" if engine == "procrastinate" else "VACUUM ANALYZE dbos.workflow_status")

    def reset(self, engine: str) -> None:
        """Empty the engine's tables (and the marks) between runs."""
        with psycopg.connect(self.marks_url(engine), autocommit=True) as conn:
            conn.execute("TRUNCATE bench_marks, bench_heartbeats")
            if engine == "procrastinate":
                conn.execute("TRUNCATE procrastinate_jobs, procrastinate_workers RESTART IDENTITY CASCADE")
            elif engine == "dbos":
                # operation_outputs, workflow_input and workflow_output have no foreign key to
                # workflow_status: a reused workflow ID would replay their rows.
                conn.execute(
                    "TRUNCATE dbos.workflow_status, dbos.operation_outputs, dbos.workflow_input, dbos.workflow_output,"
                    " dbos.notifications, dbos.workflow_events, dbos.workflow_events_history, dbos.streams CASCADE"
                )
        if engine == "dbos-sqlite":
            for suffix in ("", "-wal", "-shm"):
                with suppress(FileNotFoundError):
                    (self.tmp / f"dbos.sqlite{suffix}").unlink()
            self.driver("dbos-sqlite", {"test": "register", "queue": "warmup"})

    # --- child processes

    def spawn(self, role: str, engine: str, **extra: Any) -> subprocess.Popen[str]:
        cmd = [sys.executable, str(HERE), "--role", role, "--url", self.system_url(engine), "--marks", self.marks_url(engine), "--burn", str(self.burn)]
        for k, v in extra.items():
            if v is True:
                cmd.append(f"--{k}")
            elif v not in (None, False):
                cmd += [f"--{k}", str(v)]
        child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(self.tmp / f"{role}-{time.time():.0f}.err", "a"), text=True)
        self.children.append(child)
        return child

    def driver(self, engine: str, spec: dict[str, Any]) -> dict[str, Any]:
        role = "proc-driver" if engine == "procrastinate" else "dbos-driver"
        child = self.spawn(role, engine, spec=json.dumps(spec))
        out, _ = child.communicate(timeout=900)
        for line in out.splitlines():
            if line.startswith("RESULT "):
                return dict(json.loads(line[7:]))
        raise RuntimeError(f"{engine} driver gave no result for {spec['test']}; see {self.tmp}")

    def driver_async(self, engine: str, spec: dict[str, Any]) -> subprocess.Popen[str]:
        return self.spawn("proc-driver" if engine == "procrastinate" else "dbos-driver", engine, spec=json.dumps(spec))

    def worker(self, engine: str, *, queues: str = "work", concurrency: int = 10, executor: str = "w1", **extra: Any) -> subprocess.Popen[str]:
        role = "proc-worker" if engine == "procrastinate" else "dbos-worker"
        child = self.spawn(role, engine, queues=queues, concurrency=concurrency, executor=executor, **extra)
        assert child.stdout is not None
        line = child.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"{engine} worker did not start; see {self.tmp}")
        return child

    def stop(self, child: subprocess.Popen[str]) -> None:
        if child.poll() is None:
            child.kill()
        child.wait()

    def stats(self, child: subprocess.Popen[str]) -> dict[str, Any]:
        child.send_signal(signal.SIGUSR1)
        out, _ = child.communicate(timeout=30)
        return dict(json.loads(out.strip().splitlines()[-1]))

    def count_done(self, engine: str, queue: str) -> int:
        if engine == "procrastinate":
            with psycopg.connect(self.url(PROC_DB)) as conn:
                return int(conn.execute("SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'").fetchone()[0])  # type: ignore[index]
        if engine == "dbos":
            with psycopg.connect(self.url(DBOS_DB)) as conn:
                return int(conn.execute("SELECT count(*) FROM dbos.workflow_status WHERE status = 'SUCCESS' AND queue_name = %s", (queue,)).fetchone()[0])  # type: ignore[index]
        with sqlite3.connect(self.tmp / "dbos.sqlite", timeout=30) as conn:
            return int(conn.execute("SELECT count(*) FROM workflow_status WHERE status = 'SUCCESS' AND queue_name = ?", (queue,)).fetchone()[0])

    def marks(self, engine: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.marks_url(engine)) as conn:
            return list(conn.execute(sql, params).fetchall())

    def record(self, test: str, config: str, value: Any) -> None:
        self.results.setdefault(test, {}).setdefault(config, []).append(value)
        print(f"  {test:12} {config:44} {value}", flush=True)

    # --- measurements

    def enqueue(self, engine: str, r: int) -> None:
        self.reset(engine)
        out = self.driver(engine, {"test": "enqueue", "queue": f"nobody-{r}", "n": self.args.n})
        for mode, rate in out.items():
            self.record("enqueue/s", f"{engine} {mode}", round(rate))

    def process(self, engine: str, r: int) -> None:
        configs: list[tuple[str, dict[str, Any], int]]
        if engine == "procrastinate":
            configs = [("concurrency=10", {}, 1), ("concurrency=10, 2 procs", {}, 2)]
        else:
            configs = [
                ("worker_concurrency=10 poll=0.1s", {"worker_concurrency": 10, "polling_interval_sec": 0.1}, 1),
                ("worker_concurrency=10 poll=0.1s, 2 procs", {"worker_concurrency": 10, "polling_interval_sec": 0.1}, 2),
                ("no limit, poll=1s (default)", {}, 1),
            ]
        for task, n in (("noop", self.args.process_n), ("cpu", self.args.process_n // 2)):
            for label, opts, procs in configs:
                self.reset(engine)
                queue = f"work-{task}-{r}-{len(label)}-{procs}"
                self.driver(engine, {"test": "fill", "queue": queue, "queue_opts": opts, "task": task, "n": n})
                self.vacuum(engine)
                workers = [self.worker(engine, queues=queue, executor=f"w{k}") for k in range(procs)]
                deadline = time.time() + 600
                while self.count_done(engine, queue) < n and time.time() < deadline:
                    time.sleep(0.1)
                stats = [self.stats(w) for w in workers]
                first = min(s["first_start"] for s in stats if s["first_start"])
                last = max(s["last_end"] for s in stats)
                done = sum(s["done"] for s in stats)
                self.record(f"process/s {task}", f"{engine} {label}", round(done / (last - first)))

    def latency(self, engine: str, r: int) -> None:
        configs = [("concurrency=10", {})] if engine == "procrastinate" else [
            ("poll=1s (default)", {"worker_concurrency": 10}),
            ("poll=0.1s", {"worker_concurrency": 10, "polling_interval_sec": 0.1}),
        ]
        for label, opts in configs:
            self.reset(engine)
            queue = f"lat-{r}-{len(label)}"
            if engine != "procrastinate":
                self.driver(engine, {"test": "register", "queue": queue, "queue_opts": opts})
            w = self.worker(engine, queues=queue)
            time.sleep(1.0)
            out = self.driver(engine, {"test": "latency", "queue": queue, "queue_opts": opts, "samples": self.args.samples, "round": r})
            self.stop(w)
            lats = [x * 1000 for x in out["lat"]]
            self.record("latency ms", f"{engine} {label} p50", round(statistics.median(lats), 1))
            self.record("latency ms", f"{engine} {label} p95", round(percentile(lats, 0.95), 1))

    def idempotency(self, engine: str, r: int) -> None:
        self.reset(engine)
        queue = f"once-{r}"
        opts = {"partition_concurrency": 2, "worker_concurrency": 10, "polling_interval_sec": 0.1}
        partitioned = engine != "procrastinate"
        if engine != "procrastinate":
            self.driver(engine, {"test": "register", "queue": queue, "queue_opts": opts})
        w = self.worker(engine, queues=queue)
        keys = [f"award-batch-{r}-{i}" for i in range(self.args.keys)]
        t0 = time.time() + 4.0  # both starters up (DBOS launch takes ~1-2 s)
        spec = {"test": "starter", "queue": queue, "queue_opts": opts, "keys": keys, "t0": t0, "callers": 8, "partitioned": partitioned}
        starters = [self.driver_async(engine, spec) for _ in range(2)]
        outs = []
        for s in starters:
            out, _ = s.communicate(timeout=300)
            outs.append(json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:]))
        time.sleep(2.0)
        first = dict(self.marks(engine, "SELECT key, count(*) FROM bench_marks WHERE kind = 'exec' GROUP BY key"))
        again = self.driver(engine, {**spec, "t0": time.time() + 2.0, "callers": 1})
        time.sleep(2.0)
        second = dict(self.marks(engine, "SELECT key, count(*) FROM bench_marks WHERE kind = 'exec' GROUP BY key"))
        self.stop(w)
        accepted = [sum(o.startswith("ok:") for out in outs for o in out["outcomes"][k]) for k in keys]
        ids = {k: {o for out in outs for o in out["outcomes"][k] if o.startswith("ok:")} for k in keys}
        refused = {o.split(":", 1)[1] for out in outs for k in keys for o in out["outcomes"][k] if o.startswith("refused:")}
        self.record("idempotency", f"{engine} runs/key after 16 concurrent starts", f"max {max(first.get(k, 0) for k in keys)} min {min(first.get(k, 0) for k in keys)}")
        self.record("idempotency", f"{engine} calls accepted per key (of 16)", f"{min(accepted)}..{max(accepted)}; distinct ids/key {max(len(v) for v in ids.values())}; refusals {sorted(refused) or '-'}")
        restart = [o for k in keys for o in again["outcomes"][k]]
        self.record("idempotency", f"{engine} runs/key after a start once done", f"max {max(second.get(k, 0) for k in keys)} (restart calls: {sum(o.startswith('ok:') for o in restart)} accepted)")

    def interrupt(self, engine: str, r: int, *, how: str) -> None:
        """Start a 20-step workflow on two workers, stop its runner after 4 steps (SIGKILL or
        SIGTERM), and time how long until a step starts elsewhere."""
        variants: list[tuple[str, dict[str, Any]]]
        if engine == "procrastinate":
            variants = [("heartbeat 2 s, stalled after 10 s, sweeper every 2 s" if how == "kill" else "shutdown_graceful_timeout=0 + retry", {"sweeper": True})]
        elif how == "kill":
            variants = [("as shipped (no Conductor)", {}), ("own heartbeat sweeper, 10 s", {"sweeper": True})]
        else:
            variants = [("as shipped: destroy()", {}), ("on SIGTERM: resume_workflows(own PENDING)", {"handover": True})]
        for label, extra in variants:
            self.reset(engine)
            queue = f"bulk-{how}-{r}-{len(label)}"
            if engine != "procrastinate":
                self.driver(engine, {"test": "register", "queue": queue, "queue_opts": {"worker_concurrency": 10, "polling_interval_sec": 0.1}})
            workers = {f"w{k}": self.worker(engine, queues=queue, executor=f"w{k}", **extra) for k in (1, 2)}
            key = f"bulk-{how}-{r}-{len(label)}"
            self.driver(engine, {"test": "bulk", "queue": queue, "key": key})
            deadline = time.time() + 60
            while time.time() < deadline and len(self.marks(engine, "SELECT 1 FROM bench_marks WHERE kind = 'done'")) < 4:
                time.sleep(0.05)
            pid = self.marks(engine, "SELECT pid FROM bench_marks WHERE kind = 'start' ORDER BY at DESC LIMIT 1")[0][0]
            victim = next(name for name, w in workers.items() if w.pid == pid)
            stopped = time.time()
            os.kill(pid, signal.SIGKILL if how == "kill" else signal.SIGTERM)
            workers[victim].wait()
            timeout = 75.0 if how == "kill" else 30.0
            resumed: float | None = None
            while time.time() < stopped + timeout:
                rows = self.marks(engine, "SELECT min(at) FROM bench_marks WHERE kind = 'start' AND pid <> %s AND at > %s", (pid, stopped))
                if rows[0][0] is not None:
                    resumed = rows[0][0] - stopped
                    break
                time.sleep(0.05)
            extra_note = ""
            if resumed is None and engine != "procrastinate":
                # What a supervisor restarting the process under the same executor ID gives.
                restarted = time.time()
                workers[victim] = self.worker(engine, queues=queue, executor=victim, **extra)
                while time.time() < restarted + 60:
                    rows = self.marks(engine, "SELECT min(at) FROM bench_marks WHERE kind = 'start' AND pid <> %s AND at > %s", (pid, restarted))
                    if rows[0][0] is not None:
                        extra_note = f"; restarted under the same executor ID: resumed {rows[0][0] - restarted:.1f} s after the restart"
                        break
                    time.sleep(0.05)
            deadline = time.time() + 60
            while time.time() < deadline and len(self.marks(engine, "SELECT DISTINCT n FROM bench_marks WHERE kind = 'done'")) < STEPS:
                time.sleep(0.1)
            done_before = {n for (n,) in self.marks(engine, "SELECT n FROM bench_marks WHERE kind = 'done' AND pid = %s", (pid,))}
            rerun = sorted({n for (n,) in self.marks(engine, "SELECT n FROM bench_marks WHERE kind = 'start' AND pid <> %s", (pid,))} & done_before)
            in_flight = sorted({n for (n,) in self.marks(engine, "SELECT n FROM bench_marks WHERE kind = 'start' AND pid = %s", (pid,))} - done_before)
            finished = len(self.marks(engine, "SELECT DISTINCT n FROM bench_marks WHERE kind = 'done'"))
            for w in workers.values():
                self.stop(w)
            value = f"{resumed:.1f} s" if resumed is not None else f"not resumed in {timeout:.0f} s"
            self.record(how, f"{engine} {label}", f"{value}; completed steps re-run: {rerun or 'none'}; in flight: {in_flight}; steps done {finished}/{STEPS}{extra_note}")

    def fairness(self, engine: str, r: int) -> None:
        if engine == "procrastinate":
            configs = [("FIFO", {}), ("lock=issuer", {"locked": True}), ("lock=issuer, fetch poll 0.1 s", {"locked": True, "poll": 0.1})]
        else:
            configs = [
                ("FIFO, poll=0.1s", {"queue_opts": {"worker_concurrency": 4, "polling_interval_sec": 0.1}}),
                ("partition_concurrency=2 by issuer, poll=0.1s", {"partitioned": True, "queue_opts": {"worker_concurrency": 4, "partition_concurrency": 2, "polling_interval_sec": 0.1}}),
            ]
        for label, extra in configs:
            self.reset(engine)
            queue = f"fair-{r}-{len(label)}"
            if engine != "procrastinate":
                self.driver(engine, {"test": "register", "queue": queue, "queue_opts": extra["queue_opts"]})
            w = self.worker(engine, queues=queue, concurrency=4, poll=extra.get("poll"))
            out = self.driver(engine, {"test": "fair", "queue": queue, "a": 400, "b": 8, **extra})
            deadline = time.time() + 60  # A's 400 need 2.5 s at 4 slots; a per-key lock may take far longer
            while time.time() < deadline and len(self.marks(engine, "SELECT 1 FROM bench_marks WHERE kind = 'end'")) < 408:
                time.sleep(0.1)
            self.stop(w)
            ends = self.marks(engine, "SELECT key, at FROM bench_marks WHERE kind = 'end' ORDER BY at")
            b_ends = [at for k, at in ends if k == "B"]
            a_ends = [at for k, at in ends if k == "A"]
            b_wait = f"B's 8 done {max(b_ends) - out['enqueued']['B']:.2f} s after enqueue" if len(b_ends) == 8 else f"only {len(b_ends)} of B's 8 done in 60 s"
            a_before = sum(1 for at in a_ends if b_ends and at < max(b_ends))
            a_took = f"A's 400 took {max(a_ends) - out['enqueued']['A']:.1f} s" if len(a_ends) == 400 else f"A: {len(a_ends)}/400 done in 60 s"
            self.record("fairness", f"{engine} {label}", f"{b_wait}; {a_before}/400 of A's ran first; {a_took}")

    def idle(self, engine: str, r: int) -> None:
        """Two idle service processes: what they cost the database (transactions per second),
        and what they are made of (child processes, threads, connections)."""
        configs = [("", {})] if engine == "procrastinate" else [("poll=1s (default)", {}), ("poll=0.1s", {"polling_interval_sec": 0.1})]
        for label, opts in configs:
            self.reset(engine)
            queues = [f"idle-{r}-{len(label)}-{k}" for k in range(4)]  # awards, webhooks, emails, scheduled
            if engine != "procrastinate":
                for q in queues:
                    self.driver(engine, {"test": "register", "queue": q, "queue_opts": opts})
            workers = [self.worker(engine, queues=",".join(queues), executor=f"w{k}") for k in range(2)]
            time.sleep(3.0)
            db = PROC_DB if engine == "procrastinate" else DBOS_DB

            def commits() -> int:
                with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
                    conn.execute("SELECT pg_stat_clear_snapshot()")
                    return int(conn.execute("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s", (db,)).fetchone()[0])  # type: ignore[index]

            before, started = commits(), time.time()
            time.sleep(10.0)
            rate = (commits() - before) / (time.time() - started)
            children = sum(len(subprocess.run(["pgrep", "-P", str(w.pid)], capture_output=True, text=True).stdout.split()) for w in workers)
            threads = [len(os.listdir(f"/proc/{w.pid}/task")) for w in workers]
            with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
                conns = int(conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND datname = %s", (db,)).fetchone()[0])  # type: ignore[index]
            for w in workers:
                self.stop(w)
            where = f"{engine} {label}".strip() if engine != "dbos-sqlite" else f"{engine} {label}"
            if engine == "dbos-sqlite":
                self.record("idle", f"{where}, 2 procs x 4 queues", f"child processes {children}; threads per process {threads}")
            else:
                self.record("idle", f"{where}, 2 procs x 4 queues", f"{rate:.0f} transactions/s; child processes {children}; threads per process {threads}; connections {conns}")

    def run(self) -> None:
        only = set(self.args.only.split(",")) if self.args.only else None
        engines = self.args.engines.split(",")
        tests = [
            ("enqueue", self.enqueue, engines),
            ("process", self.process, engines),
            ("latency", self.latency, engines),
            ("idempotency", self.idempotency, engines),
            ("kill", lambda e, r: self.interrupt(e, r, how="kill"), [e for e in engines if e != "dbos-sqlite"]),
            ("term", lambda e, r: self.interrupt(e, r, how="term"), [e for e in engines if e != "dbos-sqlite"]),
            ("fairness", self.fairness, [e for e in engines if e != "dbos-sqlite"]),
            ("idle", self.idle, engines),
        ]
        print(f"CPU task: {self.burn} sha256 rounds (~2 ms); {os.cpu_count()} cores; load {os.getloadavg()}", flush=True)
        for r in range(self.args.rounds):
            print(f"round {r + 1}/{self.args.rounds}", flush=True)
            for name, measure, its_engines in tests:
                if only is not None and name not in only:
                    continue
                order = its_engines if r % 2 == 0 else list(reversed(its_engines))
                for engine in order:
                    measure(engine, r)
        self.summary()

    def summary(self) -> None:
        print("\nmedians over rounds (numbers), or every round's outcome (text):")
        for test, configs in self.results.items():
            for config, values in configs.items():
                if all(isinstance(v, (int, float)) for v in values):
                    shown = f"{statistics.median(values):g}  (rounds: {', '.join(f'{v:g}' for v in values)})"
                else:
                    shown = " | ".join(str(v) for v in values)
                print(f"{test:18} {config:48} {shown}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--n", type=int, default=10_000, help="tasks enqueued")
    parser.add_argument("--process-n", type=int, default=2_000, help="tasks drained: N no-ops, N/2 CPU tasks")
    parser.add_argument("--samples", type=int, default=40, help="latency samples per round")
    parser.add_argument("--keys", type=int, default=20, help="idempotency keys per round")
    parser.add_argument("--engines", default="dbos,procrastinate,dbos-sqlite")
    parser.add_argument("--only", default="", help="enqueue,process,latency,idempotency,kill,term,fairness,idle")
    parser.add_argument("--keep", action="store_true", help="leave the databases behind")
    # child processes
    parser.add_argument("--role", default="")
    parser.add_argument("--url", default="")
    parser.add_argument("--marks", default="")
    parser.add_argument("--burn", type=int, default=0)
    parser.add_argument("--spec", default="{}")
    parser.add_argument("--queues", default="work")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--executor", default="w1")
    parser.add_argument("--sweeper", action="store_true")
    parser.add_argument("--handover", action="store_true")
    parser.add_argument("--poll", type=float, default=5.0, help="procrastinate's fetch_job_polling_interval")
    args = parser.parse_args()
    roles = {"dbos-worker": dbos_worker, "dbos-driver": dbos_driver, "proc-worker": proc_worker, "proc-driver": proc_driver}
    if args.role:
        asyncio.run(roles[args.role](args))
        return
    bench = Bench(args)
    try:
        bench.setup()
        bench.run()
    finally:
        bench.teardown()


if __name__ == "__main__":
    main()
