"""The command line: the only click module; each command is a thin call into the library."""

from __future__ import annotations

import functools
import os
import signal
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from generator import __version__
from generator.errors import ClusterforgeError, ExitCode
from generator.litellm.providers import MODEL_MODES, PROVIDERS

F = TypeVar("F", bound=Callable[..., Any])


def _fail(error: ClusterforgeError, debug: bool) -> None:
    for line in error.lines():
        click.echo(line, err=True)
    if debug:
        click.echo(traceback.format_exc(), err=True, nl=False)
    sys.exit(int(error.exit_code))


def run(debug: bool, action: Callable[[], None]) -> None:
    """Run a command: its errors become messages and exit codes, never tracebacks.

    --debug prints the same message and keeps the same exit code, with the traceback after it.
    """
    try:
        action()
    except ClusterforgeError as error:
        _fail(error, debug)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as error:
        click.echo(f"internal error in clusterforge: {type(error).__name__}: {error}", err=True)
        if debug:
            click.echo(traceback.format_exc(), err=True, nl=False)
        else:
            click.echo("run again with --debug for the traceback, and please report it", err=True)
        sys.exit(int(ExitCode.INTERNAL))


class HelpGroup(click.Group):
    """A group whose command list shows each command's whole first sentence, wrapped, never cut with "..."."""

    group_class = type  # its subgroups are HelpGroups too

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=1 << 16)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=HelpGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="clusterforge")
@click.option("--debug", is_flag=True, help="Show the traceback after an error message.")
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
@click.option(
    "--cluster",
    "cluster",
    metavar="NAME",
    default=None,
    help="Add cluster NAME to a repository of several (clusters/NAME/), touching no other cluster.",
)
def init(directory: Path, cluster: str | None) -> None:
    """Create what a repository is missing (settings, age key, sops rules, secrets file); never overwrite.

    Writes cluster.yaml, models.yaml, their editor schemas, age.key (0600), .sops.yaml, .gitignore and
    the secrets file with the secrets clusterforge can generate; then names the secrets still missing.
    With --cluster NAME: clusters/common.yaml and models.yaml when missing, clusters/NAME/ with its
    cluster.yaml, its own age key and secrets file, and its creation rules first in .sops.yaml.
    """

    def action() -> None:
        from generator.init import sops_age_command  # noqa: PLC0415

        if cluster is not None:
            from generator.clusters.init import init_cluster  # noqa: PLC0415

            result = init_cluster(directory, cluster)
            edit = f"clusters/{cluster}/cluster.yaml (and clusters/common.yaml, models.yaml)"
        else:
            from generator.init import init as do_init  # noqa: PLC0415 - keep start-up light

            result = do_init(directory)
            edit = "cluster.yaml and models.yaml"
        for path in result.created:
            click.echo(f"created  {path}")
        for path in result.updated:
            click.echo(f"updated  {path}")
        for path in result.kept:
            click.echo(f"kept     {path}")
        if result.generated:
            click.echo(f"generated secrets: {', '.join(result.generated)}")
        click.echo(f"\nnext: edit {edit}, store the API keys they name, then `clusterforge configure`.")
        if result.missing:
            click.echo("secrets still missing (`clusterforge secrets list` shows what needs each):")
            for command in result.missing:
                click.echo(f"  {command}")
        click.echo("Flux decrypts with the same age key; give it to the cluster once:")
        click.echo(f"  {sops_age_command(result.age_key)}")

    run(_debug(), action)


@cli.command()
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The settings file [default: cluster.yaml, or every cluster under clusters/].",
)
@click.option(
    "--cluster",
    "clusters",
    multiple=True,
    metavar="NAME",
    help="In a repository of several clusters: only this one (repeat for more) [default: all].",
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
@click.option(
    "--allow-salt-key-rotation",
    is_flag=True,
    help="Render a changed LiteLLM salt key (credentials stored in the database become unreadable).",
)
def configure(
    config: Path | None,
    clusters: tuple[str, ...],
    output: Path | None,
    dry_run: bool,
    show_diff: bool,
    check: bool,
    allow_salt_key_rotation: bool,
) -> None:
    """Render the settings into the output tree; nothing is written unless all of it is valid.

    In a repository of several clusters (clusters/common.yaml) it renders every cluster, or those
    --cluster names, and writes all of them or none.
    """

    def action() -> None:
        from generator.clusters.layout import is_repository  # noqa: PLC0415 - standard library only

        several = config is None and (bool(clusters) or (not Path("cluster.yaml").exists() and is_repository(Path())))
        if several:
            if output is not None:
                raise _usage("--output renders one cluster: name its settings with --config clusters/NAME/cluster.yaml")
            _configure_clusters(clusters, check, dry_run, show_diff, allow_salt_key_rotation)
        elif clusters:
            raise _usage("--cluster is for a repository of several clusters (clusters/common.yaml); this is not one")
        else:
            _configure_one(config or Path("cluster.yaml"), output, check, dry_run, show_diff, allow_salt_key_rotation)

    run(_debug(), action)


def _usage(message: str) -> Exception:
    from generator.errors import UsageError  # noqa: PLC0415

    return UsageError(message)


def _configure_one(
    config: Path, output: Path | None, check: bool, dry_run: bool, show_diff: bool, allow_salt_key_rotation: bool
) -> None:
    # standard library only, up to the fast path's answer
    from generator import scratch, state  # noqa: PLC0415
    from generator.repolock import repository_folder, repository_lock  # noqa: PLC0415
    from generator.transaction import recover  # noqa: PLC0415

    command = "configure --check" if check else "configure --dry-run" if dry_run else "configure"
    writing = not (check or dry_run)
    with repository_lock(repository_folder(config), command, read_only=not writing):
        scratch.sweep()  # scratch folders of runs that were killed
        recorded = output.absolute() if output is not None else state.recorded_output(config)
        if recorded is not None:
            recover(recorded)  # a commit a killed run left half done, before its output is read
        unchanged = None if show_diff else state.unchanged(config, output)
        if unchanged is not None:
            # nothing changed since the last successful run: the full path would only confirm it
            summary = f"0 created, 0 changed, {unchanged} unchanged, 0 removed"
            _configure_summary(check, dry_run, state.recorded_output_shown(config), summary)
            return
        from generator import configure as lib  # noqa: PLC0415

        mode = lib.Mode.CHECK if check else lib.Mode.DRY_RUN if dry_run else lib.Mode.WRITE
        result = lib.configure(config, output, mode, allow_salt_key_rotation=allow_salt_key_rotation)
    _report_configure(result, check, dry_run, show_diff)


def _report_configure(result: Any, check: bool, dry_run: bool, show_diff: bool, name: str = "") -> None:
    from generator import configure as lib  # noqa: PLC0415

    for note in result.notes:
        click.echo(f"{name}: {note}" if name else note, err=True)
    if show_diff:
        click.echo(result.plan.diff(), nl=False)
    if not check:
        for line in lib.describe(result.plan, result.output_shown):
            click.echo(line)
    summary = result.plan.summary()
    _configure_summary(check, dry_run, result.output_shown, f"{name}: {summary}" if name and not check else summary)


def _unchanged_summary(check: bool, dry_run: bool, name: str, files: int, shown: str) -> None:
    """The line of a cluster whose record shows nothing changed since its last run."""
    summary = f"0 created, 0 changed, {files} unchanged, 0 removed"
    _configure_summary(check, dry_run, shown, summary if check else f"{name}: {summary}")


def _configure_clusters(
    names: tuple[str, ...], check: bool, dry_run: bool, show_diff: bool, allow_salt_key_rotation: bool
) -> None:
    # standard library only, up to the fast path's answer
    from generator import scratch, state  # noqa: PLC0415
    from generator.clusters.layout import find, selected, sweep_records  # noqa: PLC0415
    from generator.repolock import repository_lock  # noqa: PLC0415
    from generator.transaction import recover  # noqa: PLC0415

    command = "configure --check" if check else "configure --dry-run" if dry_run else "configure"
    root = Path.cwd().resolve()
    with repository_lock(root, command, read_only=check or dry_run):
        scratch.sweep()
        recover(root)  # a commit of several clusters that a killed run left half done
        repo = find(root)
        sweep_records(repo)
        chosen = selected(repo, names)
        unchanged: dict[str, int] = {}
        for name in chosen:
            count = None if show_diff else state.unchanged(repo.config(name), None)
            if count is not None:
                unchanged[name] = count
        removed = [] if names else [n for n in repo.leftovers() if state.generated_files_left(repo.root, n)]
        if len(unchanged) == len(chosen) and not removed:
            for name in chosen:
                _unchanged_summary(
                    check, dry_run, name, unchanged[name], state.recorded_output_shown(repo.config(name))
                )
            return
        from generator import configure as lib  # noqa: PLC0415
        from generator.clusters.configure import configure_clusters  # noqa: PLC0415

        mode = lib.Mode.CHECK if check else lib.Mode.DRY_RUN if dry_run else lib.Mode.WRITE
        outcome = configure_clusters(
            root, names, mode, allow_salt_key_rotation=allow_salt_key_rotation, unchanged=unchanged
        )
    for name in chosen:
        if name in unchanged:
            _unchanged_summary(check, dry_run, name, unchanged[name], state.recorded_output_shown(repo.config(name)))
        else:
            _report_configure(outcome.results[name], check, dry_run, show_diff, name)
    for name, plan in outcome.removed.items():
        for line in lib.describe(plan, os.path.relpath(plan.output)):
            click.echo(line)
        click.echo(f"{name}: cluster.yaml is gone: {plan.summary()}")


@cli.group()
def models() -> None:
    """List, show, add and remove the models LiteLLM serves (models.yaml, comments kept)."""


_CONFIG_FILE = click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("cluster.yaml"),
    show_default=True,
    help="The settings file.",
)


def _CONFIG(command: F) -> F:
    """--config FILE, or --cluster NAME in a repository of several clusters; the command gets ``config``."""

    @functools.wraps(command)
    def wrapper(*args: Any, config: Path, cluster: str | None, **kwargs: Any) -> Any:
        chosen: list[Path] = []
        run(_debug(), lambda: chosen.append(_settings_file(config, cluster)))  # a wrong name: its message, exit 2
        return command(*args, config=chosen[0], **kwargs)

    with_cluster = click.option(
        "--cluster",
        "cluster",
        metavar="NAME",
        default=None,
        help="In a repository of several clusters: the settings of cluster NAME (clusters/NAME/cluster.yaml).",
    )(wrapper)
    return cast("F", _CONFIG_FILE(with_cluster))


def _settings_file(config: Path, cluster: str | None) -> Path:
    """The settings file a command reads: --cluster NAME's in a repository of several clusters, else --config."""
    from generator.clusters.layout import find, is_repository, selected  # noqa: PLC0415 - standard library only

    here = Path()
    if cluster is None:
        if config == Path("cluster.yaml") and not config.exists() and is_repository(here):
            names = ", ".join(find(here).clusters) or "none yet"
            raise _usage(f"this is a repository of several clusters: name one with --cluster NAME (clusters: {names})")
        return config
    if not is_repository(here):
        raise _usage("--cluster is for a repository of several clusters (clusters/common.yaml); this is not one")
    repo = find(here)
    return repo.config(selected(repo, [cluster])[0])


@models.command("list")
@_CONFIG
def models_list(config: Path) -> None:
    """A table of the models: name, provider/model, credential, limits, mode."""

    def action() -> None:
        from generator.litellm import manage  # noqa: PLC0415

        click.echo(manage.table(manage.list_models(config)), nl=False)

    run(_debug(), action)


@models.command("show")
@_CONFIG
@click.argument("name")
def models_show(config: Path, name: str) -> None:
    """A model's settings and the config.yaml entry LiteLLM gets for it."""

    def action() -> None:
        from generator.litellm import manage  # noqa: PLC0415

        click.echo(manage.show_model(config, name), nl=False)

    run(_debug(), action)


# from the light providers module: click needs the choices when this module loads
PROVIDER_CHOICES = tuple(PROVIDERS)
MODE_CHOICES = MODEL_MODES


@models.command("add")
@_CONFIG
@click.option("--name", help="Public model name clients ask for.")
@click.option("--provider", type=click.Choice(PROVIDER_CHOICES), help="Where the model runs.")
@click.option("--model", "upstream", help="Upstream model id, without the provider prefix.")
@click.option("--credential", help="Key of its API key in the secrets file (or a credentials entry).")
@click.option("--api-base", help="Endpoint URL.")
@click.option("--api-version", help="API version (azure).")
@click.option("--resource", help="Azure resource name (instead of --api-base).")
@click.option("--region", help="bedrock region / vertex_ai location.")
@click.option("--project", help="vertex_ai project.")
@click.option("--backend-namespace", help="In-cluster server: its namespace.")
@click.option("--predictor", help="In-cluster server: a KServe InferenceService name.")
@click.option("--service", help="In-cluster server: a Service name.")
@click.option("--inference-gateway", help="In-cluster server: route through this gateway Service.")
@click.option("--rpm", type=int, help="Requests per minute.")
@click.option("--tpm", type=int, help="Tokens per minute.")
@click.option("--timeout", type=float, help="Request timeout in seconds.")
@click.option("--stream-timeout", type=float, help="Streaming timeout in seconds.")
@click.option("--mode", type=click.Choice(MODE_CHOICES), help="What kind of model it is (default chat).")
@click.option("--id", "model_id", help="Unique deployment id (several deployments may share a name).")
@click.option("--access-group", "access_groups", multiple=True, help="Access group (repeatable).")
@click.option("--base-model", help="Base model for cost tracking.")
@click.option("--tag", "tags", multiple=True, help="Routing tag (repeatable).")
@click.option("--max-input-tokens", type=int, help="The model's input token limit.")
@click.option(
    "--message-trimming", is_flag=True, default=None, help="Trim oversized prompts (needs --max-input-tokens)."
)
@click.option(
    "--disable-background-health-check", is_flag=True, default=None, help="Never health-check it in the background."
)
@click.option("--health-check-voice", help="audio_speech: the voice used by health checks.")
@click.option("--input-type", help="Embedding input type, e.g. text.")
def models_add(config: Path, **flags: Any) -> None:
    """Add a model; asks for what is missing when run in a terminal. Nothing is written unless valid."""

    def action() -> None:
        from generator.litellm import manage  # noqa: PLC0415

        entry = _model_entry(flags)
        edit = manage.add_model(config, entry)
        click.echo(f"{edit.file}: {edit.message}")
        for hint in edit.hints:
            click.echo(f"note: {hint}", err=True)

    run(_debug(), action)


def _model_entry(flags: dict[str, Any]) -> dict[str, Any]:
    """The new models.yaml entry from the flags, prompting for what is required and missing."""
    from generator.errors import UsageError  # noqa: PLC0415
    from generator.litellm.providers import PROVIDERS  # noqa: PLC0415

    interactive = sys.stdin.isatty()
    missing: list[str] = []

    def need(key: str, flag: str, text: str, **prompt: Any) -> None:
        if flags.get(key) in (None, ""):
            if interactive:
                flags[key] = click.prompt(text, **prompt)
            else:
                missing.append(flag)

    need("name", "--name", "Model name (what clients ask for)")
    need("provider", "--provider", "Provider", type=click.Choice(PROVIDER_CHOICES))
    need("upstream", "--model", "Upstream model id")
    spec = PROVIDERS.get(flags.get("provider") or "")
    if spec is not None:
        if spec.key == "required":
            need("credential", "--credential", "Credential (key of the API key in the secrets file)")
        has_base = any(flags.get(k) for k in ("api_base", "resource", "predictor", "service"))
        if spec.api_base and not has_base:
            label = "Azure resource name" if spec.name == "azure" else "API base URL"
            need("resource" if spec.name == "azure" else "api_base", "--api-base", label)
        if spec.api_version:
            need("api_version", "--api-version", "API version", default="2025-01-01-preview")
    if missing:
        raise UsageError(f"missing {', '.join(missing)} (or run in a terminal to be asked)")
    entry: dict[str, Any] = {"name": flags["name"], "provider": flags["provider"], "model": flags["upstream"]}
    for key in ("credential", "api_base", "api_version", "resource", "region", "project"):
        if flags.get(key):
            entry[key] = flags[key]
    backend = {
        "namespace": flags.get("backend_namespace"),
        "predictor": flags.get("predictor"),
        "service": flags.get("service"),
        "inference_gateway": flags.get("inference_gateway"),
    }
    if any(backend.values()):
        entry["backend"] = {k: v for k, v in backend.items() if v}
    for key in ("rpm", "tpm", "timeout", "stream_timeout", "mode", "base_model", "max_input_tokens"):
        if flags.get(key) is not None:
            entry[key] = flags[key]
    if flags.get("model_id"):
        entry["id"] = flags["model_id"]
    if flags.get("access_groups"):
        entry["access_groups"] = list(flags["access_groups"])
    if flags.get("tags"):
        entry["tags"] = list(flags["tags"])
    for key in ("disable_background_health_check", "message_trimming"):
        if flags.get(key):
            entry[key] = True
    for key in ("health_check_voice", "input_type"):
        if flags.get(key):
            entry[key] = flags[key]
    return entry


@models.command("remove")
@_CONFIG
@click.argument("name")
@click.option("--id", "model_id", help="Remove only the deployment with this id.")
def models_remove(config: Path, name: str, model_id: str | None) -> None:
    """Remove a model; refused while a fallback or alias still names it."""

    def action() -> None:
        from generator.litellm import manage  # noqa: PLC0415

        edit = manage.remove_model(config, name, model_id)
        click.echo(f"{edit.file}: {edit.message}")

    run(_debug(), action)


@cli.group()
def keys() -> None:
    """Virtual keys on a running proxy (its admin API; the proxy needs its database)."""


_URL = click.option("--url", required=True, help="The proxy's URL, e.g. https://litellm.example.com.")


def _admin(config: Path, url: str) -> Any:
    from generator.errors import UsageError  # noqa: PLC0415
    from generator.litellm.admin import ProxyAdmin  # noqa: PLC0415
    from generator.litellm.master_key import master_key  # noqa: PLC0415

    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--url must start with http:// or https://, got '{url}'")
    return ProxyAdmin(url, master_key(config))


@keys.command("generate")
@_CONFIG
@_URL
@click.option("--team", help="Team the key belongs to.")
@click.option("--max-budget", type=float, help="Budget in USD.")
@click.option("--models", "model_names", multiple=True, help="Model the key may use (repeatable; all when none).")
@click.option("--user", help="User (e-mail) the key is for.")
@click.option("--alias", help="A name for the key.")
@click.option("--duration", help="Lifetime, e.g. 30d.")
def keys_generate(
    config: Path,
    url: str,
    team: str | None,
    max_budget: float | None,
    model_names: tuple[str, ...],
    user: str | None,
    alias: str | None,
    duration: str | None,
) -> None:
    """Create a virtual key; prints the key once."""

    def action() -> None:
        result = _admin(config, url).generate_key(
            team=team, max_budget=max_budget, models=list(model_names), user=user, alias=alias, duration=duration
        )
        click.echo(f"key: {result.get('key', '')}")
        for field in ("key_alias", "team_id", "user_id", "max_budget", "expires"):
            if result.get(field) is not None:
                click.echo(f"{field}: {result[field]}")

    run(_debug(), action)


@keys.command("list")
@_CONFIG
@_URL
def keys_list(config: Path, url: str) -> None:
    """The virtual keys: alias, abbreviated key, team, user, budget, spend, models."""

    def action() -> None:
        from generator.litellm.admin import keys_table  # noqa: PLC0415

        click.echo(keys_table(_admin(config, url).list_keys()), nl=False)

    run(_debug(), action)


@keys.command("delete")
@_CONFIG
@_URL
@click.option(
    "--key", "key_values", multiple=True, help="A key to delete (repeatable). Prefer --alias: argv is visible."
)
@click.option("--alias", "aliases", multiple=True, help="The alias of a key to delete (repeatable).")
def keys_delete(config: Path, url: str, key_values: tuple[str, ...], aliases: tuple[str, ...]) -> None:
    """Delete virtual keys by alias (or by key)."""

    def action() -> None:
        from generator.errors import UsageError  # noqa: PLC0415

        if not key_values and not aliases:
            raise UsageError("name the keys to delete with --alias (or --key)")
        deleted = _admin(config, url).delete_keys(list(key_values), list(aliases))
        click.echo(f"deleted {len(deleted)} key(s)")

    run(_debug(), action)


@cli.group()
def secrets() -> None:
    """The values in the secrets file, by name: list, get, set, generate, verify."""


@secrets.command("list")
@_CONFIG
def secrets_list(config: Path) -> None:
    """The secrets the settings need, whether each is there, and which settings use it. No values."""

    def action() -> None:
        from generator.secrets import manage  # noqa: PLC0415

        click.echo(manage.rows_table(manage.list_secrets(config)), nl=False)

    run(_debug(), action)


@secrets.command("get")
@_CONFIG
@click.argument("name")
def secrets_get(config: Path, name: str) -> None:
    """Print one value (decrypted)."""

    def action() -> None:
        from generator.secrets import manage  # noqa: PLC0415

        click.echo(manage.get_secret(config, name))

    run(_debug(), action)


_ROTATION = click.option(
    "--allow-salt-key-rotation", is_flag=True, help="Allow replacing litellm_salt_key (stored credentials are lost)."
)


@secrets.command("set")
@_CONFIG_FILE
@click.option(
    "--cluster",
    "clusters",
    multiple=True,
    metavar="NAME",
    help="In a repository of several clusters: store it for this cluster (repeat for more) [default: every one].",
)
@click.argument("name")
@click.option("--from-stdin", is_flag=True, help="Read the value from standard input instead of a hidden prompt.")
@_ROTATION
def secrets_set(
    config: Path, clusters: tuple[str, ...], name: str, from_stdin: bool, allow_salt_key_rotation: bool
) -> None:
    """Store a value, typed at a hidden prompt or piped in; never taken from the command line.

    In a repository of several clusters it goes into every cluster's secrets file (or those --cluster
    names), each encrypted to that cluster's own key.
    """

    def action() -> None:
        from generator.errors import UsageError  # noqa: PLC0415
        from generator.secrets import manage  # noqa: PLC0415

        configs = _cluster_configs(config, clusters)
        if from_stdin:
            value = sys.stdin.read().rstrip("\r\n")
        elif sys.stdin.isatty():
            value = click.prompt(f"Value of {name}", hide_input=True, confirmation_prompt=True)
        else:
            raise UsageError("no terminal to ask in: pipe the value with --from-stdin")
        if configs is None:
            click.echo(manage.set_secret(config, name, value, allow_salt_key_rotation=allow_salt_key_rotation))
            return
        for line in manage.set_shared_secret(configs, name, value, allow_salt_key_rotation=allow_salt_key_rotation):
            click.echo(line)

    run(_debug(), action)


def _cluster_configs(config: Path, clusters: tuple[str, ...]) -> list[Path] | None:
    """The settings files of the clusters a command acts on in a repository of several clusters: those
    named, or all of them when the command runs at its top without --config; None for one settings file."""
    from generator.clusters.layout import find, is_repository, selected  # noqa: PLC0415 - standard library only

    here = Path()
    several = bool(clusters) or (config == Path("cluster.yaml") and not config.exists() and is_repository(here))
    if not several:
        return None
    if not is_repository(here):
        raise _usage("--cluster is for a repository of several clusters (clusters/common.yaml); this is not one")
    repo = find(here)
    return [repo.config(name) for name in selected(repo, clusters)]


@secrets.command("generate")
@_CONFIG
@click.argument("name")
@click.option("--force", is_flag=True, help="Replace an existing value.")
@_ROTATION
def secrets_generate(config: Path, name: str, force: bool, allow_salt_key_rotation: bool) -> None:
    """Make a value clusterforge can make itself: litellm_master_key, litellm_salt_key, passwords."""

    def action() -> None:
        from generator.secrets import manage  # noqa: PLC0415

        click.echo(manage.generate_secret(config, name, force=force, allow_salt_key_rotation=allow_salt_key_rotation))

    run(_debug(), action)


@secrets.command("verify")
@_CONFIG
def secrets_verify(config: Path) -> None:
    """Exit 1, listing them, when secrets the settings need are missing or empty."""

    def action() -> None:
        from generator.secrets import manage  # noqa: PLC0415

        click.echo(manage.verify_secrets(config))

    run(_debug(), action)


@cli.command()
def doctor() -> None:
    """Which of sops, kubectl, kubeconform, kubeseal are here, and what each missing one costs."""

    def action() -> None:
        from generator.doctor import diagnose, report  # noqa: PLC0415
        from generator.errors import CheckFailed  # noqa: PLC0415

        findings = diagnose()
        click.echo(report(findings), nl=False)
        missing = [f.program for f in findings if f.required and not f.ok]
        if missing:
            raise CheckFailed(f"required programs missing: {', '.join(missing)}")

    run(_debug(), action)


def _configure_summary(check: bool, dry_run: bool, output_shown: str, summary: str) -> None:
    if check:
        click.echo(f"{output_shown} is up to date ({summary})")
    elif dry_run:
        click.echo(f"dry run, nothing written: {summary}")
    else:
        click.echo(summary)


@cli.command()
@click.option("--models", "models_file", is_flag=True, help="The schema of models.yaml instead.")
def schema(models_file: bool) -> None:
    """Print the JSON schema of cluster.yaml (for editor completion)."""

    def action() -> None:
        from generator.schema import schema_text  # noqa: PLC0415

        click.echo(schema_text(models_file), nl=False)

    run(_debug(), action)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--schema-location",
    "schema_locations",
    multiple=True,
    metavar="LOCATION",
    help="Folder, URL or kubeconform template for CRD and chart schemas; repeatable, tried in order "
    "after the bundled schemas [default: $CLUSTERFORGE_SCHEMA_LOCATION, comma-separated].",
)
@click.option(
    "--no-bundled-schemas",
    is_flag=True,
    help="Do not use the CRD schemas clusterforge ships (e.g. to check against newer operator versions).",
)
@click.option(
    "--kubernetes-version",
    metavar="X.Y",
    default=None,
    help="Core schemas of this version [default: cluster.yaml's cluster.kubernetes_version, else 1.32].",
)
@click.option("--ignore-missing-schemas", is_flag=True, help="A kind without a schema is not an error.")
@click.option("--strict", is_flag=True, help="Warnings fail too.")
@click.option("--output", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--engine",
    type=click.Choice(["builtin", "kubeconform"]),
    default="builtin",
    show_default=True,
    help="What checks schemas: clusterforge itself, or a kubeconform binary on PATH.",
)
@click.option(
    "--repo-root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where Flux and ArgoCD paths start [default: the folder holding .git].",
)
@click.option(
    "--repo-url", "repo_urls", multiple=True, help="A URL of this repository; repeatable [default: its git remotes]."
)
@click.option("--exclude", multiple=True, metavar="GLOB", help="Files not to read (relative path or name); repeatable.")
@click.option("--jobs", type=click.IntRange(min=0), default=0, help="Worker processes [default: by input size].")
@click.option(
    "--skip-cel", is_flag=True, help="Do not evaluate the CEL rules (x-kubernetes-validations) of CRD schemas."
)
def validate(
    paths: tuple[Path, ...],
    schema_locations: tuple[str, ...],
    no_bundled_schemas: bool,
    kubernetes_version: str | None,
    ignore_missing_schemas: bool,
    strict: bool,
    output_format: str,
    engine: str,
    repo_root: Path | None,
    repo_urls: tuple[str, ...],
    exclude: tuple[str, ...],
    jobs: int,
    skip_cel: bool,
) -> None:
    """Validate a Flux or ArgoCD tree offline: schemas, kustomize builds, references between objects.

    PATHS default to cluster.yaml's gitops.path (output) in the working directory; at the top of a
    repository of several clusters (clusters/common.yaml), to each cluster's tree, each checked on its own.
    """

    def action() -> None:
        from generator.validate.entry import exit_now, is_program, run_validate  # noqa: PLC0415 - keep start-up light

        outcome = run_validate(
            paths,
            schema_locations=schema_locations,
            bundled_schemas=not no_bundled_schemas,
            kubernetes_version=kubernetes_version,
            ignore_missing_schemas=ignore_missing_schemas,
            strict=strict,
            output=output_format,
            engine=engine,
            repo_root=repo_root,
            repo_urls=repo_urls,
            exclude=exclude,
            jobs=jobs,
            skip_cel=skip_cel,
        )
        click.echo(outcome.text, nl=False)
        code = int(ExitCode.FINDINGS if outcome.failed else ExitCode.OK)
        if is_program():
            exit_now(code)  # skip freeing every object read, one by one
        if outcome.failed:
            sys.exit(code)

    run(_debug(), action)


@cli.command()
@click.argument("left")
@click.argument("right")
@click.option("--exact", is_flag=True, help="Compare the trees' own paths as written, not as <tree>.")
@click.option("--stat", "show_stat", is_flag=True, help="Only a line per differing file, and the summary.")
@click.option("--name-only", is_flag=True, help="Only the paths of the differing files.")
@click.option(
    "-U", "--unified", "context", type=click.IntRange(min=0), default=3, show_default=True, help="Lines of context."
)
def diff(left: str, right: str, exact: bool, show_stat: bool, name_only: bool, context: int) -> None:
    """Show how two rendered trees differ (folders such as output), secrets redacted; nothing is decrypted.

    Exits 0 when they are the same, 1 when they differ, 2 on bad input.
    """

    def action() -> None:
        from generator.errors import UsageError  # noqa: PLC0415
        from generator.treediff import report  # noqa: PLC0415 - keep start-up light
        from generator.treediff.compare import compare  # noqa: PLC0415
        from generator.treediff.targets import resolve  # noqa: PLC0415

        if show_stat and name_only:
            raise UsageError("diff: --stat and --name-only are alternatives; give one")
        cwd = Path.cwd()
        comparison = compare(resolve(left, cwd), resolve(right, cwd), exact=exact, context=context)
        for note in comparison.notes:
            click.echo(f"note: {report.shown(note)}", err=True)
        lines = report.names if name_only else report.stat if show_stat else report.full
        click.echo("".join(lines(comparison)), nl=False)
        if comparison.differ:
            sys.exit(int(ExitCode.FINDINGS))

    run(_debug(), action)


@cli.group()
def schemas() -> None:
    """CRD schemas: make them from CustomResourceDefinitions; list the CEL rules of a schema folder."""


@schemas.command("check")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def schemas_check(folder: Path) -> None:
    """List every CEL rule of the JSON schemas under FOLDER with its status in validate.

    Exits 1 when a rule cannot be evaluated (it does not compile, or calls a function clusterforge
    does not provide) or a file cannot be read.
    """

    def action() -> None:
        from generator.errors import UsageError  # noqa: PLC0415

        if not folder.is_dir():
            raise UsageError(f"{folder}: no such folder")
        from generator.cel.catalog import check_folder  # noqa: PLC0415 - loads the CEL engine

        report = check_folder(folder)
        click.echo(report.text(), nl=False)
        if report.failed:
            sys.exit(int(ExitCode.FINDINGS))

    run(_debug(), action)


@schemas.command("extract")
@click.argument("inputs", nargs=-1, metavar="[PATH|-]...")
@click.option(
    "--output",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write <group>/<kind>_<version>.json into (a schema location for validate and kubeconform).",
)
def schemas_extract(inputs: tuple[str, ...], output: Path) -> None:
    """Write one JSON schema per served version of each CRD in PATHs (files, folders, - for stdin).

    Reads multi-document streams, `kubectl get crd -o yaml` lists and Helm charts (template lines
    are skipped). Nothing is written when an input is wrong.
    """

    def action() -> None:
        from generator.crds.extract import extract  # noqa: PLC0415

        stdin_text = sys.stdin.read() if "-" in inputs else None
        extraction = extract(inputs, output, stdin_text)
        for note in extraction.notes:
            click.echo(f"note: {note}", err=True)
        for relative in extraction.written:
            click.echo(f"wrote {output / relative}")
        kinds = len({(schema.group, schema.kind) for schema in extraction.schemas})
        click.echo(
            f"{len(extraction.schemas)} schemas of {kinds} kinds in {output} "
            f"({len(extraction.written)} written, {len(extraction.unchanged)} unchanged)"
        )

    run(_debug(), action)


def _die_clean(signum: int, _frame: object) -> None:
    """SIGTERM (a cancelled CI job, `timeout`) or SIGHUP: remove this run's scratch folder, then die of
    the signal. Not an exception: libraries would catch it halfway (pydantic turns it into an error).
    A commit it interrupts is left as kill -9 leaves it, for the next run to finish or undo."""
    from generator import scratch  # noqa: PLC0415 - standard library only

    scratch.remove()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def main() -> None:
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, _die_clean)
    cli(prog_name="clusterforge")
