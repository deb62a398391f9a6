"""Meta-tests, as datasette has them: every hook is documented with its exact signature and has a test.

Adding a hook to toolkit/plugin/hookspecs.py without a section in docs/hooks.md and a
``test_hook_<name>`` test fails here; so does a documented hook that no longer exists.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import os
import re
import runpy
import shlex
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import yaml

import toolkit
from toolkit.cli import main
from toolkit.plugin import create_plugin_manager, use_plugin_manager
from toolkit.testing import synthetic_classification

from toolkit.plugin.hookspecs import ToolkitHookspecs
from toolkit.plugin.markers import PROJECT_NAME

REPO_ROOT = Path(__file__).resolve().parents[1]
HOOKS_DOC = REPO_ROOT / "docs" / "hooks.md"
WRITING_PLUGINS_DOC = REPO_ROOT / "docs" / "writing-plugins.md"

HOOKS = sorted(name for name in vars(ToolkitHookspecs) if name.startswith("toolkit_"))


def _unquoted(annotation: object) -> str:
    return str(annotation).replace("'", "").replace('"', "")


def exact_signature(hook_name: str) -> str:
    """The specification's signature as the docs spell it: ``def name(arg: Type, ...) -> Return``."""
    signature = inspect.signature(getattr(ToolkitHookspecs, hook_name))
    parameters = [f"{parameter.name}: {_unquoted(parameter.annotation)}"
                  for parameter in list(signature.parameters.values())[1:]]  # without self
    return f"def {hook_name}({', '.join(parameters)}) -> {_unquoted(signature.return_annotation)}"


def documented_sections() -> dict[str, tuple[str, str]]:
    """Hook name -> (the argument list in its heading, the text of its section)."""
    sections = {}
    parts = re.split(r"^### ", HOOKS_DOC.read_text(), flags=re.MULTILINE)[1:]
    for part in parts:
        heading, _, body = part.partition("\n")
        match = re.fullmatch(r"(toolkit_\w+)\((.*)\)", heading.strip())
        assert match, f"hook heading {heading!r} is not of the form name(arguments)"
        sections[match.group(1)] = (match.group(2), body)
    return sections


def test_the_hookspecs_are_found():
    assert len(HOOKS) >= 11 and "toolkit_register_metrics" in HOOKS


def test_every_documented_hook_exists():
    stale = sorted(set(documented_sections()) - set(HOOKS))
    assert not stale, f"docs/hooks.md documents hooks that are not in the hookspecs: {stale}"


@pytest.mark.parametrize("hook_name", HOOKS)
def test_every_hook_is_documented_with_its_exact_signature(hook_name):
    sections = documented_sections()
    assert hook_name in sections, f"docs/hooks.md has no '### {hook_name}(...)' section"
    heading_arguments, body = sections[hook_name]
    names = list(inspect.signature(getattr(ToolkitHookspecs, hook_name)).parameters)[1:]
    assert heading_arguments == ", ".join(names)
    assert exact_signature(hook_name) in body.splitlines(), (
        f"the section of {hook_name} must show: {exact_signature(hook_name)}")


@pytest.mark.parametrize("hook_name", HOOKS)
def test_first_result_hooks_say_so(hook_name):
    options = getattr(getattr(ToolkitHookspecs, hook_name), f"{PROJECT_NAME}_spec")
    body = " ".join(documented_sections()[hook_name][1].split())  # line breaks do not matter
    assert ("first non-None result" in body) == bool(options.get("firstresult"))


def _test_names() -> set[str]:
    names = set()
    for path in (REPO_ROOT / "tests").rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_"):
                names.add(node.name)
    return names


@pytest.mark.parametrize("hook_name", HOOKS)
def test_every_hook_has_a_test_named_after_it(hook_name):
    assert f"test_hook_{hook_name}" in _test_names(), f"write test_hook_{hook_name} in tests/test_hooks.py"


# --- the guide: every code block is checked, by the kind its marker names --------------------------

@dataclasses.dataclass(frozen=True)
class Block:
    kind: str      # what the <!-- check: KIND --> marker before the fence says
    language: str
    text: str
    line: int


def guide_blocks() -> list[Block]:
    """Every fenced block of the guide with the check its marker asks for ("" when unmarked)."""
    blocks, lines = [], WRITING_PLUGINS_DOC.read_text().splitlines(keepends=True)
    index = 0
    while index < len(lines):
        if lines[index].startswith("```"):
            language, body, start = lines[index][3:].strip(), [], index
            index += 1
            while not lines[index].startswith("```"):
                body.append(lines[index])
                index += 1
            marker = re.fullmatch(r"<!-- check: (.+) -->\n", lines[start - 1]) if start else None
            blocks.append(Block(marker.group(1) if marker else "", language, "".join(body), start + 1))
        index += 1
    return blocks


def blocks_of(kind: str) -> list[Block]:
    return [block for block in guide_blocks() if block.kind == kind or block.kind.startswith(kind + " ")]


KINDS = ("run", "run with the example", "config with the example", "excerpt", "file", "tree", "commands",
         "output of toolkit plugins", "output of the run above", "tracker",
         "lines of toolkit plugins with broken plugins", "lines of a traced run")


def test_every_block_of_the_guide_is_checked():
    unchecked = [(block.line, block.kind) for block in guide_blocks()
                 if not any(block.kind == kind or block.kind.startswith(kind + " ") for kind in KINDS)]
    assert not unchecked, f"blocks without a known <!-- check: ... --> marker (line, marker): {unchecked}"
    assert len(guide_blocks()) >= 20 and len(blocks_of("run")) >= 4


@pytest.mark.parametrize("index", range(4))
def test_runnable_blocks_of_the_guide_run(toolkit_plugin_manager, index, capsys):
    block = [block for block in guide_blocks() if block.kind == "run"][index]
    exec(compile(block.text, f"writing-plugins.md line {block.line}", "exec"), {})
    assert not [name for name, _ in toolkit_plugin_manager.list_name_plugin()
                if name.startswith("script:") or name in ("best-score", "HitCounter")]  # each block cleans up


def test_the_output_shown_after_a_run_block_is_what_it_prints(toolkit_plugin_manager, capsys):
    blocks = guide_blocks()
    (shown,) = [index for index, block in enumerate(blocks) if block.kind == "output of the run above"]
    capsys.readouterr()
    exec(compile(blocks[shown - 1].text, "writing-plugins.md", "exec"), {})
    assert capsys.readouterr().out == blocks[shown].text


def test_blocks_needing_the_example_run_with_it_installed(example_site, on_sys_path):
    on_sys_path(example_site)
    manager = create_plugin_manager(strict=True)
    with use_plugin_manager(manager):
        for block in blocks_of("run with the example"):
            exec(compile(block.text, f"writing-plugins.md line {block.line}", "exec"), {})
        (config,) = blocks_of("config with the example")
        metrics = yaml.safe_load(config.text)["metrics"]
        data = synthetic_classification(200, n_classes=4, seed=3)
        result = toolkit.evaluate(data.y_true, y_score=data.y_score, metrics=metrics)
    assert set(result.metrics) == {"accuracy", "top_k_accuracy"}


def _chunks(block: Block) -> list[str]:
    """The block's text split at its elision lines ("..." alone on a line)."""
    chunks, current = [], []
    for line in block.text.splitlines(keepends=True):
        if line.strip() == "...":
            chunks.append("".join(current))
            current = []
        else:
            current.append(line)
    return [chunk for chunk in chunks + ["".join(current)] if chunk]


@pytest.mark.parametrize("block", blocks_of("excerpt"), ids=lambda block: f"line{block.line}")
def test_excerpts_quote_their_file_verbatim_and_in_order(block):
    source = (REPO_ROOT / block.kind.split(" ", 1)[1]).read_text()
    position = 0
    for chunk in _chunks(block):
        found = source.find(chunk, position)
        assert found >= 0, f"line {block.line}: not in {block.kind.split(' ', 1)[1]} (after what came before):\n{chunk}"
        position = found + len(chunk)


@pytest.mark.parametrize("block", blocks_of("file"), ids=lambda block: f"line{block.line}")
def test_whole_files_shown_are_the_files(block):
    assert block.text == (REPO_ROOT / block.kind.split(" ", 1)[1]).read_text()


def test_the_layout_shown_exists():
    (block,) = blocks_of("tree")
    root = REPO_ROOT / block.kind.split(" ", 1)[1]
    names = [line.split()[0] for line in block.text.splitlines()[1:]]
    assert len(names) >= 6
    for name in names:  # entries are indented under their folder
        assert list(root.rglob(name.rstrip("/"))), f"{name} is not in {root}"


def test_the_plugins_sample_is_the_real_output(example_site):
    generator = runpy.run_path(str(REPO_ROOT / "scripts" / "generate_plugins_sample.py"))
    real = generator["real_output"](example_site)
    assert generator["sample_in"](WRITING_PLUGINS_DOC.read_text()) == real, (
        "the guide's `toolkit plugins` sample is stale: run python scripts/generate_plugins_sample.py")
    assert "custom_metrics  toolkit-custom-metrics 0.1.0  metrics: balanced_accuracy" in real


def _command_environment(site: Path) -> dict:
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("TOOLKIT_DISABLE_PLUGINS", "TOOLKIT_TRACE_PLUGINS", "PYTEST_ADDOPTS")}
    environment["PYTHONPATH"] = str(site)
    return environment


@pytest.mark.slow
def test_the_guides_commands_run(tmp_path):
    # pip install -e becomes pip install --target a temporary folder: the environment stays as it is.
    site, work = tmp_path / "site", tmp_path / "work"
    work.mkdir()
    commands = [line for block in blocks_of("commands") for line in block.text.splitlines() if line.strip()]
    assert len(commands) >= 6
    for command in commands:
        words = shlex.split(command)
        if words[:3] == ["pip", "install", "-e"]:
            folder = work / words[3] if (work / words[3]).exists() else REPO_ROOT / words[3]
            arguments = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                         "--target", str(site), str(folder)]
        elif words[0] == "toolkit":
            arguments = [sys.executable, "-m", "toolkit.cli", *words[1:]]
        elif words[0] == "pytest":
            arguments = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *words[1:]]
        else:
            raise AssertionError(f"the test does not know how to run {command!r}")
        completed = subprocess.run(arguments, cwd=work, env=_command_environment(site), capture_output=True,
                                   text=True, timeout=600)
        assert completed.returncode == 0, f"{command}:\n{completed.stdout}\n{completed.stderr}"
    assert (work / "toolkit-brier-score" / "pyproject.toml").exists()


TYPO_PLUGIN = """
from toolkit.plugin import MetricSpec, hookimpl

@hookimpl
def toolkit_register_metrics():
    return [MetricSpec("typo_rate", lambda confusoin: 0.0, ("confusoin",), False)]
"""
MISSPELLED_HOOK = """
from toolkit.plugin import hookimpl

@hookimpl
def toolkit_register_metric():
    return []
"""
RIVAL_METRIC = """
from toolkit.plugin import MetricSpec, hookimpl

@hookimpl
def toolkit_register_metrics():
    return [MetricSpec("balanced_accuracy", lambda confusion: 0.0, ("confusion",), True)]
"""


def _shown_lines(block: Block) -> list[str]:
    return [line for line in block.text.splitlines()[1:] if line.strip() != "..."]  # without the "$ command"


def test_the_broken_plugins_sample_lines_are_real(install_distribution, example_site, on_sys_path, capsys):
    on_sys_path(example_site)
    for name, source in (("misspelled", MISSPELLED_HOOK), ("rival_metrics", RIVAL_METRIC), ("typo", TYPO_PLUGIN)):
        install_distribution(f"toolkit-{name.replace('_', '-')}", {f"toolkit_{name}": source},
                             {name: f"toolkit_{name}"})
    capsys.readouterr()
    assert main(["plugins"]) == 0
    real = capsys.readouterr().out.splitlines()
    (block,) = blocks_of("lines of toolkit plugins with broken plugins")
    for line in _shown_lines(block):
        assert line in real


def test_the_traced_run_sample_lines_are_real(tmp_path):
    (block,) = blocks_of("lines of a traced run")
    command = shlex.split(block.text.splitlines()[0].removeprefix("$ "))
    assert command[:2] == ["TOOLKIT_TRACE_PLUGINS=1", "toolkit"]
    np.save(tmp_path / "true.npy", np.array([0, 1, 1, 0]))
    np.save(tmp_path / "pred.npy", np.array([0, 1, 0, 0]))
    environment = {**_command_environment(tmp_path / "nothing"), "TOOLKIT_TRACE_PLUGINS": "1"}
    completed = subprocess.run([sys.executable, "-m", "toolkit.cli", *command[2:]], cwd=tmp_path, env=environment,
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    real = completed.stderr.splitlines()
    for line in _shown_lines(block):  # times vary: any number of milliseconds
        pattern = re.escape(line).replace(r"0\.01\ ms", r"[0-9.]+\ ms").replace(r"0\.01 ms", r"[0-9.]+ ms")
        assert any(re.fullmatch(pattern, real_line) for real_line in real), line


def test_the_guide_covers_the_three_kinds_of_plugin_and_links_the_reference():
    text = WRITING_PLUGINS_DOC.read_text()
    for heading in ("## 1. A metric plugin", "## 4. A tracker plugin", "## 5. A lifecycle plugin"):
        assert heading in text
    assert "(hooks.md)" in text


def test_the_guides_tracker_records_a_real_run(toolkit_plugin_manager, tmp_path, monkeypatch):
    # The JsonLinesTracker of section 4, exactly as printed, driven by a real evaluate().
    (block,) = blocks_of("tracker")
    source = block.text
    module = types.ModuleType("toolkit_jsonl_from_the_guide")
    exec(compile(source, "writing-plugins.md section 4", "exec"), module.__dict__)
    toolkit_plugin_manager.register(module, "jsonl")
    monkeypatch.chdir(tmp_path)

    result = toolkit.evaluate([0, 1, 1, 0], [0, 1, 0, 0], trackers=["jsonl"], run_name="guide",
                              params={"api_key": "s3cret", "model": {"depth": 2}})

    events = [json.loads(line) for line in (tmp_path / "runs.jsonl").read_text().splitlines()]
    # the tags: the y_true fingerprint of the predictions the evaluation stores
    assert [event["event"] for event in events] == ["start", "params", "metrics", "tags", "evaluation", "end"]
    assert events[0]["name"] == "guide" and events[-1]["status"] == "FINISHED"
    assert events[1]["params"] == {"api_key": "***", "model.depth": 2}  # redacted before any tracker
    assert events[2]["metrics"]["accuracy"] == result.metrics["accuracy"] == 0.75


# --- the protocols' reference in docs/hooks.md, generated from their docstrings --------------------

PROTOCOLS_BEGIN = "<!-- protocols: generated from toolkit/plugin/types.py by `python tests/test_docs.py` -->"
PROTOCOLS_END = "<!-- protocols: end -->"


def protocol_reference() -> str:
    """The Protocol classes plugins implement or receive, as docs/hooks.md shows them."""
    from toolkit.plugin import types as plugin_types

    parts = [PROTOCOLS_BEGIN]
    for name in ("Tracker", "TrackerReader", "ModelAdapter", "RunView"):
        protocol = getattr(plugin_types, name)
        methods = [member for member, value in vars(protocol).items()
                   if callable(value) and not member.startswith("_")]
        signatures = []
        for member in methods:
            signatures.append(f"def {member}{_unquoted(inspect.signature(getattr(protocol, member)))}")
            if getattr(protocol, member).__doc__:
                signatures += [f"    # {line}".rstrip() for line in inspect.cleandoc(getattr(protocol, member).__doc__).splitlines()]
        parts += [f"#### {name}", "", inspect.cleandoc(protocol.__doc__), "", "```python", *signatures, "```", ""]
    parts.append(PROTOCOLS_END)
    return "\n".join(parts)


def _documented_protocols(text: str) -> str:
    start, end = text.index(PROTOCOLS_BEGIN), text.index(PROTOCOLS_END) + len(PROTOCOLS_END)
    return text[start:end]


def test_the_protocols_in_the_hook_reference_are_the_code_s_own():
    assert _documented_protocols(HOOKS_DOC.read_text()) == protocol_reference(), (
        "docs/hooks.md's protocol section differs from toolkit/plugin/types.py: run `python tests/test_docs.py`")


if __name__ == "__main__":  # rewrite the generated section of docs/hooks.md
    text = HOOKS_DOC.read_text()
    HOOKS_DOC.write_text(text.replace(_documented_protocols(text), protocol_reference()))
