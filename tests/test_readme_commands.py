"""The README's commands table names every option of every command, so it cannot drift from the CLI."""

from __future__ import annotations

import re

import typer.main

from jobs.cli import app
from paths import REPO


def commands_table() -> dict[str, str]:
    """The first cell of each row of the table under `## Commands`, by command name."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    return {match.group(1): match.group(0) for match in re.finditer(r"^\| `articles ([a-z-]+)(?:[^|\\]|\\.)*", section, re.M)}


def test_every_command_has_a_row():
    assert set(commands_table()) == set(typer.main.get_command(app).commands)


def test_every_option_of_every_command_is_in_its_row():
    rows = commands_table()
    missing = []
    for name, command in typer.main.get_command(app).commands.items():
        for param in command.params:
            if param.param_type_name != "option" or param.name == "help":
                continue
            long_names = [opt for opt in param.opts if opt.startswith("--")]
            if not any(re.search(re.escape(opt) + r"(?![\w-])", rows.get(name, "")) for opt in long_names):
                missing.append(f"{name} {long_names[0]}")
    assert not missing, f"options missing from the README's commands table: {missing}"


def test_every_event_is_documented():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    emitted = set()
    for path in (REPO / "jobs").rglob("*.py"):
        emitted |= set(re.findall(r'emit\("([a-z_]+)"', path.read_text(encoding="utf-8")))
    assert emitted and not [name for name in sorted(emitted) if f"`{name}`" not in text]
