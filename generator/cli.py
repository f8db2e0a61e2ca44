"""The command line: the only click module; each command is a thin call into the library."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from generator import __version__
from generator.errors import ClusterforgeError, ExitCode

F = TypeVar("F", bound=Callable[..., Any])


def _fail(error: ClusterforgeError) -> None:
    for line in error.lines():
        click.echo(line, err=True)
    sys.exit(int(error.exit_code))


def run(debug: bool, action: Callable[[], None]) -> None:
    """Run a command: its errors become messages and exit codes, never tracebacks (unless --debug)."""
    try:
        action()
    except ClusterforgeError as error:
        if debug:
            raise
        _fail(error)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as error:
        if debug:
            raise
        click.echo(f"internal error in clusterforge: {type(error).__name__}: {error}", err=True)
        click.echo("run again with --debug for the traceback, and please report it", err=True)
        sys.exit(int(ExitCode.INTERNAL))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="clusterforge")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of short error messages.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Render a typed cluster.yaml into a GitOps tree for the LiteLLM gateway."""
    ctx.obj = {"debug": debug}


def _debug() -> bool:
    return bool(click.get_current_context().find_root().obj["debug"])


@cli.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The repository to set up.",
)
def init(directory: Path) -> None:
    """Create cluster.yaml, age.key, .sops.yaml and the secrets file where missing; never overwrite."""

    def action() -> None:
        from generator.init import init as do_init  # noqa: PLC0415 - keep start-up light
        from generator.init import sops_age_command  # noqa: PLC0415

        result = do_init(directory)
        for path in result.created:
            click.echo(f"created  {path}")
        for path in result.kept:
            click.echo(f"kept     {path}")
        if result.generated:
            click.echo(f"generated secrets: {', '.join(result.generated)}")
        click.echo("\nnext: edit cluster.yaml, add API keys with `sops <secrets file>`, then `clusterforge configure`.")
        click.echo("Flux decrypts with the same age key; give it to the cluster once:")
        click.echo(f"  {sops_age_command(result.age_key)}")

    run(_debug(), action)


@cli.command()
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("cluster.yaml"),
    show_default=True,
    help="The settings file.",
)
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write the tree [default: gitops.path beside the settings].",
)
@click.option("--dry-run", is_flag=True, help="Render and validate, show what would change, write nothing.")
@click.option("--diff", "show_diff", is_flag=True, help="Show a diff of the changes (secrets redacted).")
@click.option("--check", is_flag=True, help="Exit 1 when the output is not what the settings render (for CI).")
def configure(config: Path, output: Path | None, dry_run: bool, show_diff: bool, check: bool) -> None:
    """Render the settings into the output tree; nothing is written unless all of it is valid."""

    def action() -> None:
        from generator import state  # noqa: PLC0415 - standard library only

        unchanged = None if show_diff else state.unchanged(config, output)
        if unchanged is not None:
            # nothing changed since the last successful run: the full path would only confirm it
            summary = f"0 created, 0 changed, {unchanged} unchanged, 0 removed"
            _configure_summary(check, dry_run, state.recorded_output_shown(config), summary)
            return
        from generator import configure as lib  # noqa: PLC0415

        mode = lib.Mode.CHECK if check else lib.Mode.DRY_RUN if dry_run else lib.Mode.WRITE
        result = lib.configure(config, output, mode)
        for note in result.notes:
            click.echo(note, err=True)
        if show_diff:
            click.echo(result.plan.diff(), nl=False)
        if not check:
            for line in lib.describe(result.plan, result.output_shown):
                click.echo(line)
        _configure_summary(check, dry_run, result.output_shown, result.plan.summary())

    run(_debug(), action)


def _configure_summary(check: bool, dry_run: bool, output_shown: str, summary: str) -> None:
    if check:
        click.echo(f"{output_shown} is up to date ({summary})")
    elif dry_run:
        click.echo(f"dry run, nothing written: {summary}")
    else:
        click.echo(summary)


@cli.command()
def schema() -> None:
    """Print the JSON schema of cluster.yaml (for editor completion)."""

    def action() -> None:
        from generator.schema import schema_text  # noqa: PLC0415

        click.echo(schema_text(), nl=False)

    run(_debug(), action)


def main() -> None:
    cli(prog_name="clusterforge")
