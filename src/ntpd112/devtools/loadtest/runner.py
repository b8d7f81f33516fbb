"""One load test: provision the load operators' phones, then for each path (baseline: Asterisk alone; service: the
same calls through ntpd112) and each rate, drive the callers with SIPp and gather what happened.

The service runs as a subprocess (`ntpd112 run`), not inside this process: its CPU and memory are then its own
(not the harness's SIPp log parsing, matplotlib and sampling), and its event loop is not shared with the harness,
so intake latency is measured as production would see it. It is stopped during the baseline, so the baseline is
Asterisk alone: no Stasis app, and no AMI listener writing queue events to the database.

Callers use a trunk address (Telkomsel's for the service, the baseline trunk's for the baseline); operators' phones
are SIPp UAS on 127.0.0.60-99 with static contacts; the agency phone answers the overflow's backup number on the
agency trunk's address. Everything is on loopback. Whatever happens, the load operators are logged out and removed
and every process the run started is stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import signal
import time
import traceback
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from ntpd112.config import Settings
from ntpd112.devtools.loadtest import faults, verdict
from ntpd112.devtools.loadtest import report as maths
from ntpd112.devtools.loadtest.collect import (
    SCRAPE_ERRORS,
    ResourceSampler,
    RunRecords,
    fetch_records,
    postgresql_pids,
    read_lines,
    sipp_statistics,
)
from ntpd112.devtools.loadtest.population import PlannedCall, numbers_to_tags, plan_calls, write_injection_file
from ntpd112.devtools.loadtest.profiles import FIRST_OPERATOR_ADDRESS, Profile
from ntpd112.devtools.loadtest.service import ServiceProcess, poll
from ntpd112.devtools.local_asterisk import LocalAsterisk
from ntpd112.devtools.sipp import Sipp, SippAgent
from ntpd112.devtools.tcp_proxy import TcpProxy
from ntpd112.logs import get_logger
from ntpd112.pbx.ami import AmiClient, AmiError
from ntpd112.pbx.ami_actions import CoreShowChannels, Events, Hangup
from ntpd112.queue.operators import NewOperator, OperatorService
from ntpd112.store.db import Database
from ntpd112.tasks import cancel_and_wait

log = get_logger(__name__)

TRUNK_ADDRESS = {"service": "127.0.0.11", "baseline": "127.0.0.19"}
TRUNK_ENDPOINT = {"service": "trunk-telkomsel", "baseline": "trunk-baseline"}
OPERATOR_PREFIX = "load"
# The service has settled (no call in progress, nothing waiting for the database) before the records are read; a
# record still inconsistent is read again for this long before it counts.
RECORDS_GRACE_SECONDS = 15
RECORDS_REREAD_SECONDS = 0.25
# A fault run's service reconciles this often (NTPD112_RECONCILE_INTERVAL), and its records get this much more grace:
# what the service missed while it was down or cut off comes from Asterisk's CDRs and queue log.
FAULT_RECONCILE_SECONDS = 5
_LOAD_OPERATOR = re.compile(rf"^{OPERATOR_PREFIX}[0-9]{{2}}$")
# Every wait of a step is bounded (the callers' SIPp by its time limit, AMI actions, the service's settling, the
# records' grace); this bounds the whole step as well, past the callers' limit. Twice a run waited without end after
# the callers' SIPp had exited on its own overload watchdog (BENCHMARKS.md, seventh and eighth slices of issue 12),
# with nothing to say where: now such a run ends, cleans up and names the await it was stuck in.
STEP_WIND_DOWN_SECONDS = 300


class HarnessStalled(RuntimeError):
    """A step of the load test overran every bound it should have kept."""


@contextlib.asynccontextmanager
async def within(seconds: float, what: str) -> AsyncIterator[None]:
    """Run the block for at most `seconds`; past that, cancel it and raise HarnessStalled with where it waited. A
    TimeoutError the block raises itself passes through as it is."""
    deadline = asyncio.timeout(seconds)
    try:
        async with deadline:
            yield
    except TimeoutError as error:
        if not deadline.expired():
            raise
        raise HarnessStalled(
            f"{what} did not end within {seconds:.0f} s; it was waiting in {waiting_at(error)}"
        ) from error


def waiting_at(timeout: BaseException) -> str:
    """The awaits a block was in when its deadline cancelled it, innermost last: the cancellation's traceback runs
    from the block down to the await that was cancelled (asyncio's own frames left out)."""
    cancelled = timeout.__cause__ or timeout.__context__
    frames = traceback.extract_tb(cancelled.__traceback__) if cancelled is not None else []
    ours = [frame for frame in frames if f"{os.sep}asyncio{os.sep}" not in frame.filename][1:]
    # The project's own awaits say where; a library's innermost frame what it waited for (a harness stalled with
    # 1,000 calls on a saturated Asterisk named four frames of aiohttp and not which request it was).
    own = [frame for frame in ours if f"{os.sep}site-packages{os.sep}" not in frame.filename]
    shown = own[-4:] + [frame for frame in ours[-1:] if frame not in own]
    return " > ".join(f"{frame.name} ({Path(frame.filename).name}:{frame.lineno})" for frame in shown) or "?"


def call_prefix(run_id: str, path: maths.Path, step: int) -> str:
    return f"{run_id}{path[0]}{step:02d}"


class LoadTest:
    def __init__(self, profile: Profile, settings: Settings, asterisk: LocalAsterisk, work_dir: Path) -> None:
        self.profile = profile
        self.settings = settings
        self.asterisk = asterisk
        self.run_id = "L" + secrets.token_hex(3)
        self.work_dir = work_dir / self.run_id
        self.room = asterisk.room  # the queue's timings: the ones this Asterisk runs with
        self._database = Database(settings.database_url.get_secret_value())
        self._ami = AmiClient.from_settings(settings)
        self._operators = OperatorService(self._database, self._ami)
        self._phones: list[SippAgent] = []
        self._callers: list[Sipp] = []
        self._service: ServiceProcess | None = None
        self._proxies: dict[str, TcpProxy] = {}
        self._numbers: dict[str, str] = {}
        self._active_samples: list[tuple[float, float]] = []
        self._step_first_metrics: dict[str, float] = {}  # the service's first scrape in the step
        self.sampler = ResourceSampler(
            {
                "service": lambda: [self._service.pid] if self._service and self._service.pid else [],
                "asterisk": lambda: [pid] if (pid := self._asterisk_pid()) else [],
                "postgresql": postgresql_pids,
                "sipp": lambda: [p for p in [*(a.pid for a in self._phones), *(c.pid for c in self._callers)] if p],
            }
        )
        self._asterisk_pid_cache: int | None = None
        self._operators_free_at = 0.0  # time.monotonic() when the previous step's wrap-up is over

    def _asterisk_pid(self) -> int | None:
        if self._asterisk_pid_cache is None:
            self._asterisk_pid_cache = self.asterisk.status().pid
        return self._asterisk_pid_cache

    # -- the run ----------------------------------------------------------------------------------------------

    async def run(self) -> verdict.Report:
        started = datetime.now(UTC)
        self.work_dir.mkdir(parents=True)
        log.info("load test starting", run_id=self.run_id, profile=self.profile.name, work_dir=str(self.work_dir))
        runs: list[maths.RunResult] = []
        await self._database.start()
        await self._ami.start()
        try:
            await poll(self._ami_ready, 15, "AMI did not log in")
            # The harness only sends actions: without events its AMI session costs Asterisk nothing under load.
            await self._ami.send(Events("off"))
            self.sampler.start()
            await self._remove_load_operators()
            await self._start_phones()
            for path in self.profile.paths:
                if path == "service":
                    cdr_url = self.settings.cdr_database_url
                    self._service = ServiceProcess(
                        self.settings.database_url.get_secret_value(),
                        cdr_url.get_secret_value() if cdr_url else None,
                        self.work_dir,
                        await self._fault_env(),
                    )
                    await self._service.start()
                    await self._service.settled()
                for step, rate in enumerate(self.profile.rates()):
                    budget = self._callers_limit(rate) + STEP_WIND_DOWN_SECONDS
                    async with within(budget, f"the {path} path's step at {rate:g} calls/s"):
                        result = await self._run_step(path, step, rate)
                    runs.append(result)
                    log.info("step done", path=path, rate=rate, **result.counts.model_dump())
                    if self.profile.ramp and (result.counts.lost or result.counts.failed):
                        break
        finally:
            try:
                await self._clean_up()
            finally:
                if self.profile.fault is not None:
                    # Shared by every checkout: up again whatever happened (a failed restart, an exception).
                    await asyncio.to_thread(faults.ensure_up, self.asterisk, self._database_port)
        comparison = verdict.compare(runs)
        return verdict.Report(
            run_id=self.run_id,
            profile=self.profile.model_dump(mode="json"),
            started_at=started.isoformat(timespec="seconds"),
            machine=self._machine(),
            runs=runs,
            comparison=comparison,
            targets=verdict.targets(runs, comparison),
        )

    async def _ami_ready(self) -> bool:
        return self._ami.connected

    def _machine(self) -> dict[str, object]:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        return {
            "cpus": os.cpu_count(),
            "memory_mb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20),
            "nofile": [soft, hard],
            "database": urlsplit(self.settings.database_url.get_secret_value()).path.lstrip("/"),
            "work_dir": str(self.work_dir),
        }

    # -- faults -------------------------------------------------------------------------------------------------

    @property
    def _database_port(self) -> int:
        return urlsplit(self.settings.database_url.get_secret_value()).port or 5432

    async def _fault_env(self) -> dict[str, str]:
        """A fault run's service reconciles often; for a cut it reaches ARI or AMI through a proxy the harness cuts."""
        if self.profile.fault is None:
            return {}
        env = {"NTPD112_RECONCILE_INTERVAL": str(FAULT_RECONCILE_SECONDS)}
        if self.profile.fault == "ari-cut":
            ari = urlsplit(self.settings.ari_base_url)
            proxy = self._proxies["ari"] = TcpProxy(ari.hostname or "127.0.0.1", ari.port or 8088)
            await proxy.open()
            env["NTPD112_ARI_URL"] = ari._replace(netloc=f"127.0.0.1:{proxy.port}").geturl()
        elif self.profile.fault == "ami-cut":
            proxy = self._proxies["ami"] = TcpProxy(self.settings.ami_host, self.settings.ami_port)
            await proxy.open()
            env["NTPD112_AMI_HOST"], env["NTPD112_AMI_PORT"] = "127.0.0.1", str(proxy.port)
        return env

    def _injector(self, caller: Sipp) -> faults.Injector:
        assert self.profile.fault is not None and self._service is not None

        async def kill_callers() -> None:
            if caller.pid is not None:
                os.kill(caller.pid, signal.SIGKILL)

        return faults.Injector(
            self.profile.fault,
            self.profile.fault_down_seconds,
            service=self._service,
            asterisk=self.asterisk,
            database_port=self._database_port,
            proxies=self._proxies,
            kill_callers=kill_callers,
        )

    # -- operators and phones ---------------------------------------------------------------------------------

    async def _remove_load_operators(self) -> None:
        """Load operators left by a run that was killed: out of the queue and the directory."""
        for operator in await self._operators.list():
            if _LOAD_OPERATOR.match(operator.username):
                await self._operators.remove(operator.username)

    async def _start_phones(self) -> None:
        phones_dir = self.work_dir / "phones"
        phones_dir.mkdir()
        talk = str(round(self.profile.talk_seconds * 1000))

        def phone(role: str, address: str, port: int, name: str) -> SippAgent:
            return SippAgent(
                "load-phone.xml",
                address,
                port,
                self.profile.ring_ms,
                options=["-trace_logs", "-log_file", str(phones_dir / f"{name}.log")],
                keys={"talk_ms": talk, "role": role},
            )

        agency = urlsplit(self.room.agency_trunk.contact.replace("sip:", "sip://", 1))
        self._phones.append(phone("agency", agency.hostname or "127.0.0.20", agency.port or 5060, "agency"))
        for n in range(1, self.profile.operators + 1):
            self._phones.append(phone("operator", f"127.0.0.{FIRST_OPERATOR_ADDRESS + n - 1}", 5070, f"load{n:02d}"))
        for agent in self._phones:
            await agent.start()
        for n, agent in enumerate(self._phones[1:], 1):
            username = f"{OPERATOR_PREFIX}{n:02d}"
            await self._operators.add(NewOperator(username=username, name=f"Load {n}", contact=agent.contact))
            await self._operators.login(username)
        members = await self._operators.queue_members()
        others = sorted(m for m in members if not _LOAD_OPERATOR.match(m.removeprefix("PJSIP/")))
        if others:
            log.warning("the queue has members that are not load operators; they will be rung too", members=others)

    async def _clean_up(self) -> None:
        for caller in self._callers:
            await caller.stop()
        if self._service is not None:
            await self._service.stop()
        for proxy in self._proxies.values():
            await proxy.cut()
        if self._ami.connected:
            for n in range(1, self.profile.operators + 1):
                with contextlib.suppress(Exception):
                    await self._operators.remove(f"{OPERATOR_PREFIX}{n:02d}")
        for agent in self._phones:
            await agent.stop()
        await self.sampler.stop()
        await self._ami.stop()
        await self._database.stop()
        log.info("load test cleaned up", run_id=self.run_id)

    # -- one step ---------------------------------------------------------------------------------------------

    async def _run_step(self, path: maths.Path, step: int, rate: float) -> maths.RunResult:
        prefix = call_prefix(self.run_id, path, step)
        planned = plan_calls(self.profile, prefix, media_timeout_seconds=self.room.callers.media_timeout_seconds)
        injection = self.work_dir / f"{prefix}.csv"
        write_injection_file(injection, planned)
        # Each call its own number: a record that lost its display name (and tag) is still found by its number.
        self._numbers = {} if self.profile.numbers else numbers_to_tags(planned)
        calls = self.profile.calls
        limit = self._callers_limit(rate)
        # Operators' wrap-up time after the previous step must pass before this one rings them (a service started
        # meanwhile used some of it); after the last step nobody waits for it.
        await asyncio.sleep(self._operators_free_at - time.monotonic())
        caller = Sipp(
            "load-caller.xml",
            TRUNK_ADDRESS[path],
            options=[
                *("-inf", str(injection), "-s", "112"),
                # SIPp's rate is per -rp milliseconds: per second here, fractions allowed.
                *("-r", f"{rate:g}", "-rp", "1000", "-m", str(calls), "-l", str(calls)),
                *("-trace_logs", "-log_file", str(self.work_dir / f"{prefix}-callers.log")),
                *("-trace_stat", "-stf", str(self.work_dir / f"{prefix}-stat.csv"), "-fd", "1"),
                *("-timeout", f"{limit:.0f}s"),
            ],
            stderr=self.work_dir / f"{prefix}-sipp.err",
        )
        self._callers.append(caller)
        self._active_samples = []
        self._step_first_metrics = {}
        self._asterisk_pid_cache = None  # read afresh: the sampler follows Asterisk if someone restarts it
        pid_before = self._asterisk_pid()
        started = time.time()
        await caller.start()
        watchers: list[asyncio.Task[object]] = [asyncio.create_task(self._watch_service())]
        if self.profile.drop_calls:
            watchers.append(asyncio.create_task(self._drop_waiting_calls(path, calls / rate)))
        injection_task = None
        if self.profile.fault is not None and path == "service":
            injection_task = asyncio.create_task(self._injector(caller).run(self.profile.fault_at_seconds))
            watchers.append(injection_task)
        window = None
        left_over: int | None = 0
        try:
            await caller.wait(limit + 30)
            if injection_task is not None:
                window = await injection_task  # what the fault took away is back before the room settles
            else:
                left_over = await hang_up_left_over_calls(self._ami, f"PJSIP/{TRUNK_ENDPOINT[path]}-")
            await self._drained()
        finally:
            await cancel_and_wait(watchers)
        ended = time.time()
        self._asterisk_pid_cache = None
        warnings = []
        if self._asterisk_pid() != pid_before and self.profile.fault != "asterisk-restart":
            # Not this harness: someone restarted the shared Asterisk without taking the lock.
            warnings.append(f"Asterisk restarted during the run (pid {pid_before} -> {self._asterisk_pid()})")
        if left_over is None:
            warnings.append("Asterisk too busy to list its calls after the callers ended; the path's hung up by name")
        elif left_over:
            warnings.append(f"{left_over} calls were still in Asterisk after their callers had given up; hung up")
        self._operators_free_at = time.monotonic() + self.room.queue.wrapup_seconds + 1
        return await self._result(path, step, rate, prefix, planned, started, ended, warnings, window)

    def _callers_limit(self, rate: float) -> float:
        """How long the callers' SIPp may run: every call placed, the longest caller's patience, and a margin."""
        return self.profile.calls / rate + self.profile.longest_call_seconds + 90

    async def _watch_service(self) -> None:
        """The service's own count of calls in progress, once a second."""
        while self._service is not None:
            with contextlib.suppress(*SCRAPE_ERRORS):
                metrics = await self._service.metrics()
                self._active_samples.append((time.time(), metrics.get("ntpd112_calls_active", 0.0)))
                self._step_first_metrics = self._step_first_metrics or metrics
            await asyncio.sleep(1)

    async def _drop_waiting_calls(self, path: maths.Path, after: float) -> None:
        """Fault injection: once every call is placed, Asterisk hangs up callers waiting in the queue; the report
        must show them lost."""
        await asyncio.sleep(after)
        dropped = 0
        while dropped < self.profile.drop_calls:
            # A caller stays in Queue() while it talks to the operator; only one in no bridge is still waiting.
            waiting = [
                channel.name
                for channel in await self._ami.send(CoreShowChannels())
                if channel.endpoint == TRUNK_ENDPOINT[path] and channel.application == "Queue" and not channel.bridge_id
            ]
            # The newest callers are the last in line: no operator is about to answer them (a caller whose
            # operator is answering has no bridge yet either).
            for name in sorted(waiting, reverse=True)[: self.profile.drop_calls - dropped]:
                await self._ami.send(Hangup(name))
                log.warning("fault injection: dropped a waiting caller", channel=name)
                dropped += 1
            await asyncio.sleep(0.2)

    async def _drained(self) -> None:
        if self._service is not None:
            try:
                await self._service.drained()
            except TimeoutError as error:
                log.warning(str(error))

    async def _check_records(self, prefix: str, rows: list[maths.CallRow]) -> tuple[RunRecords, maths.RecordsCheck]:
        """A late record is not a missing one: until the grace has passed, read them again. After a fault the
        grace covers a reconciliation run too (FAULT_RECONCILE_SECONDS)."""
        grace = RECORDS_GRACE_SECONDS + (FAULT_RECONCILE_SECONDS if self.profile.fault else 0)
        deadline = time.monotonic() + grace
        while True:
            found = await fetch_records(self._database, prefix, self._numbers)
            records = maths.check_records([r.tag for r in rows], found.timelines, found.fields, rows)
            if records.all_consistent or time.monotonic() > deadline:
                return found, records
            await asyncio.sleep(RECORDS_REREAD_SECONDS)

    async def _result(
        self,
        path: maths.Path,
        step: int,
        rate: float,
        prefix: str,
        planned: list[PlannedCall],
        started: float,
        ended: float,
        warnings: list[str],
        window: faults.FaultWindow | None = None,
    ) -> maths.RunResult:
        traces = maths.parse_caller_log(read_lines(self.work_dir / f"{prefix}-callers.log"))
        phone_lines = [line for p in sorted((self.work_dir / "phones").glob("*.log")) for line in read_lines(p)]
        connects = {t: c for t, c in maths.parse_phone_log(phone_lines).items() if t.startswith(prefix)}
        rows = maths.call_rows([(p.tag, p.kind) for p in planned], traces, connects)
        if window is not None and window.fault == "caller-vanish":
            rows = faults.mark_vanished(rows, faults.vanished_calls(rows))
        counts = maths.count(len(planned), rows)
        records = intake = continue_ms = fault = loop_late = None
        metrics: dict[str, float] = {}
        if path == "service" and self._service is not None:
            # Before the records' check, whose wait would add a quiet loop to the step's.
            metrics = await self._service.metrics()
            loop_late = maths.histogram_percentiles(
                self._step_first_metrics, metrics, "ntpd112_event_loop_late_seconds"
            )
            # A call Asterisk refused while it restarted left no trace in it: no record to check (listed apart).
            refused = set(faults.refused_while_down(window, rows)) if window is not None else set()
            found, records = await self._check_records(prefix, [r for r in rows if r.tag not in refused])
            if window is not None:
                fault = faults.judge(window, rows, found.fields)
            intake, continue_ms = found.intake_ms, found.continue_ms
            for name in ("ari_reconnects", "ami_reconnects"):
                if reconnects := metrics.get(f"ntpd112_{name}_total"):
                    warnings.append(f"the service's {name} so far: {reconnects:g}")
        usage = self.sampler.usage(started, ended)
        active = maths.active_over_time(rows)
        service_usage = usage.get("service")
        return maths.RunResult(
            path=path,
            step=step,
            rate=rate,
            started_at=started,
            duration_s=round(ended - started, 1),
            counts=counts,
            lost_tags=[r.tag for r in rows if r.outcome == "lost"],
            latency=maths.latency(rows, intake, continue_ms),
            throughput_cps=maths.throughput(rows),
            peak_active_calls=max((n for _, n in active), default=0),
            peak_service_active_calls=(
                round(max(v for _, v in self._active_samples)) if self._active_samples else None
            ),
            service_rss_mb_at_peak=service_usage.rss_max_mb if service_usage else None,
            records=records,
            resources=usage,
            sipp=sipp_statistics(self.work_dir / f"{prefix}-stat.csv"),
            metrics={k: v for k, v in metrics.items() if k.startswith("ntpd112_")},
            active_calls=active,
            calls=rows,
            warnings=warnings,
            fault=fault,
            cpu_pressure=self.sampler.cpu_pressure(started, ended),
            event_loop_late_ms=loop_late,
        )


async def hang_up_left_over_calls(ami: AmiClient, prefix: str) -> int | None:
    """Calls of a path still in Asterisk once its callers have ended (channels named `prefix`...): SIPp gave up on
    them (an overloaded Asterisk never answered or never took the BYE), and Asterisk would keep them until they time
    out. Hung up, so that the next step or path does not start against them: 1,000 media calls on 2 cores left 1,300
    channels behind, which kept the service of the next path from starting. Not after a fault, whose vanished
    callers the service itself must release. Returns how many there were; None when Asterisk was too busy to list
    them (a saturated Asterisk did not answer CoreShowChannels within AMI's timeout, and the run ended there without
    a report): they are hung up by name all the same."""
    left: int | None = 0

    async def none_left() -> bool:
        nonlocal left
        left = sum(channel.name.startswith(prefix) for channel in await ami.send(CoreShowChannels()))
        return not left

    try:
        await poll(none_left, 2, "calls left")  # BYEs SIPp sent at its end may still be in hand: 2 s for them
    except TimeoutError:
        pass
    except AmiError as error:
        log.warning("asterisk did not list its calls; hanging up by name", prefix=prefix, error=str(error))
        left = None
    if left != 0:
        log.warning("calls left in asterisk after their callers ended; hanging them up", prefix=prefix, calls=left)
        try:
            await ami.send(Hangup(f"/^{prefix}/"))  # AMI takes /regex/ for every matching channel
        except AmiError as error:
            log.warning("asterisk did not take the hangup of the calls left", prefix=prefix, error=str(error))
    return left
