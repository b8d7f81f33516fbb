"""`ntpd112 loadtest PROFILE`: registered on the `ntpd112` command by cli.py."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from ntpd112.cli.common import cli_settings, fail
from ntpd112.config import load_local_asterisk_settings
from ntpd112.devtools.loadtest.profiles import BUILTIN, FAULTS, Profile, ProfileError, load_profile

WORK_DIR = Path.home() / ".cache/ntpd112/loadtest"


@click.command(
    help="Load-test the local Asterisk and the service with SIPp, against Asterisk alone as the baseline. PROFILE is "
    f"a built-in profile ({', '.join(BUILTIN)}) or a .json/.toml file with the same fields. Uses the database of "
    "NTPD112_DATABASE_URL (.env: the development database). Waits for running integration tests to finish."
)
@click.argument("profile_name", metavar="PROFILE")
@click.option("--json", "json_file", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here.")
@click.option("--plot", "plot_file", type=click.Path(dir_okay=False, path_type=Path), help="Write a PNG here.")
@click.option("--calls", type=click.IntRange(1, 5000), help="Override the profile's number of calls.")
@click.option(
    "--fault",
    "fault_names",
    multiple=True,
    type=click.Choice([*FAULTS, "all"]),
    help="Inject this fault under the load (repeat it, or `all`: one run per fault; no baseline). See "
    "docs/RELIABILITY.md. Restarts the shared PostgreSQL or Asterisk for those faults.",
)
def loadtest(
    profile_name: str,
    json_file: Path | None,
    plot_file: Path | None,
    calls: int | None,
    fault_names: tuple[str, ...],
) -> None:
    from ntpd112.devtools.loadtest.plot import write_plot
    from ntpd112.devtools.loadtest.runner import HarnessStalled, LoadTest
    from ntpd112.devtools.loadtest.verdict import render_table
    from ntpd112.devtools.local_asterisk import LocalAsterisk, local_asterisk_lock

    try:
        profile = load_profile(profile_name)
    except ProfileError as error:
        fail(str(error))
        return
    if calls is not None:
        profile = profile.model_copy(update={"calls": calls})
    chosen = list(FAULTS) if "all" in fault_names else list(dict.fromkeys(fault_names))
    # model_validate, not model_copy: the profile's own check (a fault run has no baseline and no ramp) runs.
    profiles = [
        Profile.model_validate(profile.model_dump() | {"fault": fault, "baseline": False, "ramp": None})
        for fault in chosen
    ] or [profile]
    settings = cli_settings()
    failed = False
    with local_asterisk_lock():
        asterisk = LocalAsterisk(load_local_asterisk_settings())
        # A fresh Asterisk for every load test: one that had run a test session for 25 minutes spent 3-6 minutes of
        # CPU in its main thread and took 91-123 % of a core for the baseline at 40 calls/s, against 33-43 % when
        # just started; both paths slowed, the service's more (docs/BENCHMARKS.md). Also installs the baseline
        # trunk when the configuration changed.
        asterisk.stop()
        asterisk.start()
        for run_profile in profiles:
            try:
                report = asyncio.run(LoadTest(run_profile, settings, asterisk, WORK_DIR).run())
            except HarnessStalled as error:
                fail(str(error))
            click.echo(render_table(report) + "\n")
            failed |= any(
                (run.fault is not None and not run.fault.met) or (run.records and not run.records.all_consistent)
                for run in report.runs
                if run_profile.fault
            )
            suffix = f"-{run_profile.fault}" if run_profile.fault and len(profiles) > 1 else ""
            if json_file:
                target = json_file.with_stem(json_file.stem + suffix)
                target.write_text(report.model_dump_json(indent=1), encoding="utf-8")
                click.echo(f"report: {target}")
            if plot_file:
                target = plot_file.with_stem(plot_file.stem + suffix)
                write_plot(report, target)
                click.echo(f"plot: {target}")
    if failed:
        fail("a fault run missed its targets (see above)")
