"""The ``assistant`` command: a thin shell over ``Assistant``.

Errors of the assistant become one-line messages (exit 1; usage errors exit 2);
a traceback is shown only with ``--debug``.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import entry_points
from typing import Any

import click

from assistant.config import load_settings
from assistant.errors import AssistantError, InputError


@contextmanager
def _progress() -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar on stderr, one task per stage."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(stderr=True), transient=False,
    ) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


def _load(ctx: click.Context, **kwargs: Any) -> Any:
    from assistant.service import Assistant

    with _progress() as progress:
        bot = Assistant.load(ctx.obj["settings"], progress=progress, **kwargs)
    for warning in bot.warnings:  # answering from the last good index: say so, and why
        click.echo(f"Warning: {warning.message}", err=True)
    return bot


def _finish_rebuild(bot: Any) -> None:
    """Wait for the background rebuild of a damaged index (``Assistant.load``) before exiting."""
    if bot.rebuilding is not None and bot.rebuilding.is_alive():
        click.echo("Rebuilding the damaged index from the corpus before exiting…", err=True)
        bot.rebuilding.join()


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AssistantError as exc:  # the exit code is the error's own (errors.py)
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"Error: {exc}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=_Group)
@click.option("--debug", is_flag=True, help="Show full tracebacks.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Answer questions about a council's support for children in care and care leavers."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    # The CLI says what matters itself (warnings as "Warning: ..."); without a handler of their
    # own, the package's log lines would be printed bare a second time by logging's last resort.
    logging.getLogger("assistant").addHandler(logging.NullHandler())
    try:
        ctx.obj["settings"] = load_settings()
    except AssistantError as exc:
        if debug:
            raise
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)


@main.command()
@click.option("--rebuild", is_flag=True, help="Rebuild even if the index is up to date.")
@click.option("--skip-bad", is_flag=True, help="Skip unreadable documents with a warning instead of failing.")
@click.pass_context
def ingest(ctx: click.Context, rebuild: bool, skip_bad: bool) -> None:
    """Build the search index from the corpus folder (atomically)."""
    from assistant.index import fingerprint, in_service
    from assistant.service import Assistant

    settings = ctx.obj["settings"]
    serving = in_service(settings)
    if not rebuild and serving is not None and serving.fingerprint == fingerprint(settings):
        click.echo(f"The index is up to date ({serving.name}). Use --rebuild to build it again.")
        return
    with _progress() as progress:
        report = Assistant.ingest(settings, skip_bad=skip_bad, progress=progress)
    for warning in report.skipped:
        click.echo(f"Warning: skipped {warning}", err=True)
    click.echo(
        f"Indexed {report.documents} documents as {report.chunks} passages in {report.seconds:.1f} s "
        f"({report.cached} vectors from the cache, {report.embedded} texts embedded)."
    )
    if report.quarantined:
        click.echo(f"Quarantined {len(report.quarantined)} passage(s) or hidden part(s): documents are data, never "
                   "instructions, so these are not indexed and never cited. Check each and fix the file:")
        for item in report.quarantined:
            click.echo(f"  - {item.describe()}")


@main.command()
@click.argument("query")
@click.option("--k", default=5, show_default=True, type=click.IntRange(1, 50), help="How many passages.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def search(ctx: click.Context, query: str, k: int, as_json: bool) -> None:
    """Show the passages that best match QUERY."""
    bot = _load(ctx)
    hits = bot.search(query, k=k)
    if as_json:
        click.echo(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=2))
        return
    for number, hit in enumerate(hits, 1):
        where = f"{hit.document_title} — {hit.section}" + (f", page {hit.page}" if hit.page else "")
        click.echo(f"[{number}] {where} (score {hit.score:.4f})")
        click.echo("    " + " ".join(hit.text.split())[:400])


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def documents(ctx: click.Context, as_json: bool) -> None:
    """List the indexed documents with their status and passage counts."""
    bot = _load(ctx)
    docs = bot.documents()
    if as_json:
        click.echo(json.dumps(docs, ensure_ascii=False, indent=2))
        return
    for doc in docs:
        click.echo(f"{doc['id']:<16} {doc['status']:<11} {doc['chunks']:>4} passages  {doc['title']}")


def _print_reply(reply: Any) -> None:
    click.echo(reply.text)
    if reply.citations:
        click.echo("\nSources:")
        for c in reply.citations:
            flag = " (superseded)" if c.superseded else ""
            page = f", page {c.page}" if c.page else ""
            click.echo(
                f"[{c.number}] {c.document_title}{flag} — {c.section}{page}\n    \"{c.quote}\"\n    {c.source_url}"
            )


@main.command()
@click.argument("question")
@click.option("--audience", type=click.Choice(["care_leaver", "staff"]), default="care_leaver", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the reply as JSON.")
@click.option("--explain", is_flag=True,
              help="Also say why (for staff): the steps, the candidate passages and their scores, the "
                   "statements chosen, and where to look.")
@click.pass_context
def ask(ctx: click.Context, question: str, audience: str, as_json: bool, explain: bool) -> None:
    """Answer one QUESTION with cited sources."""
    from assistant.answer.followups import clean_question

    clean_question(question, None)  # fail fast, before loading (a long one is read for danger first)
    bot = _load(ctx)
    if explain:
        reply, explanation = bot.explain(question, audience=audience)
    else:
        reply, explanation = bot.ask(question, audience=audience), None
    if as_json:
        body = reply.to_dict() | ({"explanation": explanation.to_dict()} if explanation else {})
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
        _finish_rebuild(bot)
        return
    _print_reply(reply)
    if explanation:
        click.echo("\nWhy this answer:\n")
        click.echo(explanation.to_markdown())
    _finish_rebuild(bot)


@main.command()
@click.option("--audience", type=click.Choice(["care_leaver", "staff"]), default="care_leaver", show_default=True)
@click.pass_context
def chat(ctx: click.Context, audience: str) -> None:
    """A conversation in the terminal (history is kept; empty line or Ctrl-D to quit)."""
    bot = _load(ctx)
    history: list[dict[str, str]] = []
    click.echo("Ask a question about support for children in care and care leavers. Empty line to quit.")
    while True:
        try:
            question = input("\nYou: ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if not question:
            break
        try:
            reply = bot.ask(question, history=history, audience=audience)
        except InputError as exc:
            click.echo(f"Error: {exc}")
            continue
        click.echo("")
        _print_reply(reply)
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": reply.text}]


@main.command()
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 3650),
              help="The period: the last DAYS days.")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the report as CSV to this file ('-' for the screen).")
@click.option("--purge", is_flag=True, help="First delete entries older than the retention period.")
@click.pass_context
def gaps(ctx: click.Context, days: int, csv_file: str | None, purge: bool) -> None:
    """What young people asked that the documents did not answer, grouped by meaning."""
    from assistant import gaps as gap_report

    settings = ctx.obj["settings"]
    store = gap_report.GapLog.from_settings(settings)
    if purge:
        removed = store.purge()
        click.echo(f"Deleted {removed} entries older than {settings.retention_days} days.", err=True)
    groups = gap_report.report(store.entries(days))
    if csv_file:
        with click.open_file(csv_file, "w", encoding="utf-8") as out:
            out.write(gap_report.to_csv(groups))
        if csv_file != "-":
            click.echo(f"Wrote {len(groups)} topics to {csv_file}.", err=True)
        return
    total = sum(g.count for g in groups)
    if not groups:
        click.echo(f"No declined or unhelpful questions in the last {days} days.")
        return
    click.echo(f"{total} questions in the last {days} days were declined or rated unhelpful, "
               f"in {len(groups)} topics (largest first):")
    for number, g in enumerate(groups, 1):
        click.echo(f"\n{number}. {g.count} × {g.topic}")
        for example in g.examples[1:]:
            click.echo(f"   also: {example}")
        click.echo(f"   declined {g.declined}, rated unhelpful {g.unhelpful}; "
                   f"{g.first_day} to {g.last_day}")
        if g.section:
            click.echo(f"   nearest in the documents: {g.section}")


@main.command()
@click.option("--purge", is_flag=True, help="Delete ratings older than the retention period.")
@click.pass_context
def feedback(ctx: click.Context, purge: bool) -> None:
    """How many ratings are stored; with --purge, first delete those past feedback_retention_days."""
    from assistant.feedback import FeedbackStore

    settings = ctx.obj["settings"]
    store = FeedbackStore.from_settings(settings)
    if purge:
        removed = store.purge()
        click.echo(f"Deleted {removed} ratings older than {settings.feedback_retention_days} days.", err=True)
    items = store.recent(limit=1_000_000)
    helpful = sum(i.rating for i in items)
    click.echo(f"{len(items)} ratings stored ({helpful} helpful, {len(items) - helpful} not helpful), "
               f"each kept {settings.feedback_retention_days} days.")


@main.group()
def staff() -> None:
    """Staff accounts for the staff page: add, change a password, remove, list, unlock; the audit log."""


def _staff_store(ctx: click.Context) -> Any:
    from assistant.staff import StaffStore

    return StaffStore.from_settings(ctx.find_root().obj["settings"])


def _operator() -> str:
    """Who ran the command, for the audit log: the system user."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _new_password(store: Any, from_stdin: bool) -> str:
    """A password typed twice (hidden), or the first line of stdin with --password-stdin."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")
    store.check_password(password)
    return password


_STDIN_HELP = "Read the password from the first line of stdin (for scripts) instead of asking twice."


@staff.command("add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help=_STDIN_HELP)
@click.pass_context
def staff_add(ctx: click.Context, name: str, password_stdin: bool) -> None:
    """Create the staff account NAME (asks for its password twice)."""
    from assistant.staff import check_name

    store = _staff_store(ctx)
    name = check_name(name)
    added = store.add(name, _new_password(store, password_stdin), by=_operator())
    click.echo(f"Added the staff account {added!r}. It signs in on the staff page with its password.")


@staff.command("password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help=_STDIN_HELP)
@click.pass_context
def staff_password(ctx: click.Context, name: str, password_stdin: bool) -> None:
    """Give the staff account NAME a new password (its open sessions end)."""
    store = _staff_store(ctx)
    store.set_password(name, _new_password(store, password_stdin), by=_operator())
    click.echo(f"Changed the password of {name.strip().lower()!r}; sessions signed in with the old one have ended.")


@staff.command("remove")
@click.argument("name")
@click.pass_context
def staff_remove(ctx: click.Context, name: str) -> None:
    """Delete the staff account NAME (its audit rows are kept)."""
    _staff_store(ctx).remove(name, by=_operator())
    click.echo(f"Removed the staff account {name.strip().lower()!r}.")


@staff.command("list")
@click.pass_context
def staff_list(ctx: click.Context) -> None:
    """List the staff accounts, and which are locked."""
    from assistant.staff import wait_words

    accounts = _staff_store(ctx).accounts()
    if not accounts:
        click.echo("No staff accounts yet. Create one with: assistant staff add NAME")
        return
    for a in accounts:
        state = ""
        if a.locked_until:
            until, minutes = wait_words(a.locked_until)
            state = f"  LOCKED until {until} ({minutes} min; assistant staff unlock {a.name})"
        click.echo(f"{a.name:<24} created {a.created}  password changed {a.changed}{state}")


@staff.command("unlock")
@click.argument("name", required=False)
@click.option("--address", help="Unlock this client address instead (as shown by `assistant staff audit`).")
@click.pass_context
def staff_unlock(ctx: click.Context, name: str | None, address: str | None) -> None:
    """Let NAME (or a client address) sign in again at once, forgetting its failed attempts."""
    if bool(name) == bool(address):
        raise click.UsageError("Give a NAME, or --address ADDRESS (one of them).")
    store = _staff_store(ctx)
    if address:
        was = store.unlock_address(address, by=_operator())
        what = f"the address {address}"
    else:
        assert name is not None
        was = store.unlock(name, by=_operator())
        what = repr(name.strip().lower())
    if was:
        click.echo(f"Unlocked {what}.")
    else:
        click.echo(f"{what[0].upper()}{what[1:]} was not locked; its failed attempts are forgotten.")


@staff.command("audit")
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 3650), help="The last DAYS days.")
@click.option("--purge", is_flag=True, help="First delete rows older than staff_audit_retention_days.")
@click.pass_context
def staff_audit(ctx: click.Context, days: int, purge: bool) -> None:
    """Sign-ins and staff actions (newest first): when, who, from where, what, and how it went."""
    store = _staff_store(ctx)
    if purge:
        keep = ctx.find_root().obj["settings"].staff_audit_retention_days
        click.echo(f"Deleted {store.purge(keep)} audit rows older than {keep} days.", err=True)
    entries = store.audit(days)
    if not entries:
        click.echo(f"Nothing in the audit log for the last {days} days.")
        return
    for e in entries:
        where = f" from {e.address}" if e.address else ""
        target = f" {e.target}" if e.target else ""
        click.echo(f"{e.at}  {e.actor}{where}: {e.action}{target} ({e.outcome})")


def _check_workers(ctx: click.Context, param: click.Parameter, value: int) -> int:
    if value < 1:
        raise click.BadParameter(
            f"{value} is not a number of server processes: give 1 or more (e.g. --workers 4)."
        )
    return value


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address (0.0.0.0 for all).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=int,
    callback=_check_workers,
    help="Server processes. Each loads its own model and index (0.4-0.7 GB of memory); "
    "all share the index and the feedback database.",
)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int) -> None:
    """Serve the web API and the chat widget (/widget.js, /demo, /docs)."""
    from assistant.web.serve import run, run_workers

    settings = ctx.obj["settings"]
    # Load (or build) the index first, with progress, before serving: with several
    # workers this is the one build, and it fails here, once, if anything is wrong.
    bot = _load(ctx)
    click.echo(
        f"Serving on http://{host}:{port} ({workers} worker{'s' if workers > 1 else ''})"
        " — demo page at /demo, API docs at /docs."
    )
    if workers == 1:
        run(settings, host=host, port=port, bot=bot)
    else:
        del bot  # each worker loads its own; this process only supervises them
        run_workers(settings, host=host, port=port, workers=workers)


def _add_plugin_commands(group: click.Group) -> None:
    """Commands other installed packages register (entry points ``assistant.commands``).

    The evaluation registers ``assistant eval`` this way, so the core package never imports it.
    """
    for entry in entry_points(group="assistant.commands"):
        if entry.name not in group.commands:
            try:
                group.add_command(entry.load(), entry.name)
            except Exception as exc:  # a broken plugin must not take the other commands down
                click.echo(f"Warning: the command '{entry.name}' could not be loaded ({exc}).", err=True)


_add_plugin_commands(main)

if __name__ == "__main__":  # pragma: no cover
    main()
