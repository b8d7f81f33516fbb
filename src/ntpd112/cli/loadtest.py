"""`ntpd112 loadtest PROFILE`: registered on the `ntpd112` command by cli.py."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from ntpd112.cli.common import cli_settings, fail
from ntpd112.config import load_local_asterisk_settings
from ntpd112.devtools.loadtest.profiles import BUILTIN, ProfileError, load_profile

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
def loadtest(profile_name: str, json_file: Path | None, plot_file: Path | None, calls: int | None) -> None:
    from ntpd112.devtools.loadtest.plot import write_plot
    from ntpd112.devtools.loadtest.runner import LoadTest
    from ntpd112.devtools.loadtest.verdict import render_table
    from ntpd112.devtools.local_asterisk import LocalAsterisk, local_asterisk_lock

    try:
        profile = load_profile(profile_name)
    except ProfileError as error:
        fail(str(error))
        return
    if calls is not None:
        profile = profile.model_copy(update={"calls": calls})
    settings = cli_settings()
    with local_asterisk_lock():
        asterisk = LocalAsterisk(load_local_asterisk_settings())
        asterisk.start()  # installs the baseline trunk when the configuration changed
        report = asyncio.run(LoadTest(profile, settings, asterisk, WORK_DIR).run())
    click.echo(render_table(report))
    if json_file:
        json_file.write_text(report.model_dump_json(indent=1), encoding="utf-8")
        click.echo(f"report: {json_file}")
    if plot_file:
        write_plot(report, plot_file)
        click.echo(f"plot: {plot_file}")
