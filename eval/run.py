"""``assistant eval`` / ``python -m eval``: evaluate on a question file and write the report."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from assistant import AssistantError

from .questions import QuestionFileError, load_cases

HERE = Path(__file__).resolve().parent


@click.command(name="eval")
@click.option("--questions", "questions_file", type=click.Path(path_type=Path), default=HERE / "questions.yaml",
              show_default=True, help="The question file (YAML).")
@click.option("--reports", type=click.Path(path_type=Path), default=HERE / "reports", show_default=True)
def main(questions_file: Path, reports: Path) -> None:
    """Evaluate the assistant against a question set and write eval/reports/latest.{md,json}."""
    from assistant import Assistant

    from .harness import evaluate_assistant, summarise
    from .report import print_table, write_report

    try:
        cases = load_cases(questions_file)
        bot = Assistant.load()
    except (QuestionFileError, AssistantError) as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2 if isinstance(exc, QuestionFileError) else 1)
    summary = summarise(evaluate_assistant(bot, cases))
    print_table(summary)
    try:
        shown = questions_file.resolve().relative_to(HERE.parent)
    except ValueError:
        shown = questions_file
    path = write_report(summary, reports, questions=str(shown), load_seconds=bot.load_seconds)
    click.echo(f"Report written to {path}")
