"""``assistant eval`` / ``python -m eval``: evaluate on a question file and write the report."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from assistant import AssistantError

from .questions import load_cases

HERE = Path(__file__).resolve().parent


@click.command(name="eval")
@click.option("--questions", "questions_file", type=click.Path(path_type=Path), default=HERE / "questions.yaml",
              show_default=True, help="The question file (YAML).")
@click.option("--reports", type=click.Path(path_type=Path), default=HERE / "reports", show_default=True)
@click.option("--baseline", is_flag=True,
              help="Also evaluate the LangChain-tutorial baseline (dense Chroma, top chunk as answer) "
                   "on the same questions, and report both side by side.")
@click.option("--chart/--no-chart", default=True, show_default=True, help="Write latest.png.")
def main(questions_file: Path, reports: Path, baseline: bool, chart: bool) -> None:
    """Evaluate the assistant against a question set and write eval/reports/latest.{md,json,png}."""
    from assistant import Assistant

    from .harness import evaluate_assistant, evaluate_side_by_side, summarise
    from .report import print_table, write_report

    try:
        cases = load_cases(questions_file)
        bot = Assistant.load()
    except AssistantError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    base_summary, build_seconds = None, None
    if baseline:
        from .baseline import Baseline
        from .harness import AssistantSystem

        try:
            with Baseline.build(bot.embedder, bot.settings.corpus_path) as tutorial:
                build_seconds = tutorial.build_seconds
                both = evaluate_side_by_side([AssistantSystem(bot), tutorial], cases)
        except AssistantError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)
        summary, base_summary = summarise(both["assistant"]), summarise(both["baseline"])
    else:
        summary = summarise(evaluate_assistant(bot, cases))
    print_table(summary, base_summary)
    try:
        shown = questions_file.resolve().relative_to(HERE.parent)
    except ValueError:
        shown = questions_file
    command = ".venv/bin/assistant eval"
    if questions_file.resolve() != (HERE / "questions.yaml").resolve():
        command += f" --questions {shown}"
    if reports.resolve() != (HERE / "reports").resolve():
        command += f" --reports {reports}"
    command += " --baseline" if baseline else ""
    path = write_report(summary, reports, questions=str(shown), load_seconds=bot.load_seconds,
                        baseline=base_summary, baseline_build_seconds=build_seconds, chart=chart,
                        command=command)
    click.echo(f"Report written to {path}")
