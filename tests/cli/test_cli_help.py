"""`--help` everywhere, and the README agreeing with what the parsers accept."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from tui_dedup import __version__
from tui_dedup.cli import actions as cli_actions
from tui_dedup.cli import bursts as cli_bursts
from tui_dedup.cli import entry as cli_mod

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def parsers(monkeypatch):
    """Record every parser the CLI builds, so a test can list the options it defines."""
    made: list[argparse.ArgumentParser] = []

    class Recording(cli_mod._Parser):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            made.append(self)

    for module in (cli_mod, cli_actions, cli_bursts):  # every module that builds a parser
        monkeypatch.setattr(module, "_Parser", Recording)
    return made


def options(parser: argparse.ArgumentParser) -> list[str]:
    return [s for a in parser._actions for s in a.option_strings]


def help_of(cli, parsers, *argv: str) -> tuple[str, argparse.ArgumentParser]:
    parsers.clear()
    r = cli(*argv, "--help")
    assert r.rc == 0, r.err
    assert r.err == ""
    assert parsers, "no parser was built"
    return r.text, parsers[-1]


def test_top_level_help_lists_every_subcommand_and_option(cli, parsers):
    text, parser = help_of(cli, parsers)
    assert text.startswith("usage: dedup-tui")
    for cmd in cli_mod.SUBCOMMANDS:
        assert re.search(rf"^\s+{cmd}\s", text, re.M), f"subcommand {cmd} not listed"
    for opt in options(parser):
        assert opt in text
    assert "--demo" in text and "--show-skipped" in text


@pytest.mark.parametrize("cmd", cli_mod.SUBCOMMANDS)
def test_subcommand_help_mentions_every_option(cli, parsers, cmd):
    text, parser = help_of(cli, parsers, cmd)
    assert text.startswith(f"usage: dedup-tui {cmd}")
    for opt in options(parser):
        assert opt in text, f"{cmd} --help does not mention {opt}"


@pytest.mark.parametrize("cmd", cli_mod.SUBCOMMANDS)
def test_every_option_has_a_help_text(cli, parsers, cmd):
    _, parser = help_of(cli, parsers, cmd)
    bare = [
        "/".join(a.option_strings)
        for a in parser._actions
        if a.option_strings and not a.help and a.dest != "help"
    ]
    assert not bare, f"`dedup-tui {cmd} --help` lists options without a description: {bare}"


def test_version(cli):
    r = cli("--version")
    assert r.rc == 0
    assert r.text.strip() == f"dedup-tui {__version__}"


def test_every_flag_in_the_readme_exists(cli, parsers):
    known = set()
    for argv in [(), *((c,) for c in cli_mod.SUBCOMMANDS)]:
        known |= set(options(help_of(cli, parsers, *argv)[1]))
    documented = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", README.read_text()))
    assert documented, "README mentions no flags?"
    assert documented - known == set()


def test_every_command_in_the_readme_exists():
    text = README.read_text()
    code = re.findall(r"```[^\n]*\n(.*?)```", text, re.S) + re.findall(r"`([^`\n]+)`", text)
    words = {w for c in code for w in re.findall(r"(?:^|&&|\n)\s*dedup-tui ([a-z][a-z-]*)\b", c)}
    assert "scan" in words
    assert words <= set(cli_mod.SUBCOMMANDS)


def test_scan_flags_in_the_readme_are_accepted_by_scan(cli, parsers):
    """The 'Headless use' block shows scan with these flags: scan itself must accept them."""
    text = README.read_text()
    block = text[text.index("## Headless use") :]
    block = block[: block.index("## ", 3)]
    scan_lines = [ln for ln in block.splitlines() if ln.startswith("dedup-tui scan")]
    flags = {f for ln in scan_lines for f in re.findall(r"(--[a-z][a-z0-9-]*)", ln)}
    _, parser = help_of(cli, parsers, "scan")
    assert flags and flags <= set(options(parser))
