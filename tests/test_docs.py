"""Meta-tests, as datasette has them: every hook is documented with its exact signature and has a test.

Adding a hook to toolkit/plugin/hookspecs.py without a section in docs/hooks.md and a
``test_hook_<name>`` test fails here; so does a documented hook that no longer exists.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import types
from pathlib import Path

import pytest

import toolkit

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


def _runnable_blocks() -> list[str]:
    text = WRITING_PLUGINS_DOC.read_text()
    return re.findall(r"<!-- runnable -->\n```python\n(.*?)```", text, flags=re.DOTALL)


def test_the_guide_has_runnable_examples():
    assert len(_runnable_blocks()) == 2


@pytest.mark.parametrize("index", range(2))
def test_runnable_examples_of_the_guide_run(toolkit_plugin_manager, index, capsys):
    exec(compile(_runnable_blocks()[index], f"writing-plugins.md block {index}", "exec"), {})
    assert not [name for name, _ in toolkit_plugin_manager.list_name_plugin()
                if name.startswith("script:") or name == "best-score"]  # each block cleans up


def test_the_guide_covers_the_three_kinds_of_plugin_and_links_the_reference():
    text = WRITING_PLUGINS_DOC.read_text()
    for heading in ("## 1. A metric plugin", "## 4. A tracker plugin", "## 5. A lifecycle plugin"):
        assert heading in text
    assert "(hooks.md)" in text


def test_the_guides_tracker_records_a_real_run(toolkit_plugin_manager, tmp_path, monkeypatch):
    # The JsonLinesTracker of section 4, exactly as printed, driven by a real evaluate().
    section = WRITING_PLUGINS_DOC.read_text().split("## 4. A tracker plugin", 1)[1]
    source = re.search(r"```python\n(.*?)```", section, flags=re.DOTALL).group(1)
    module = types.ModuleType("toolkit_jsonl_from_the_guide")
    exec(compile(source, "writing-plugins.md section 4", "exec"), module.__dict__)
    toolkit_plugin_manager.register(module, "jsonl")
    monkeypatch.chdir(tmp_path)

    result = toolkit.evaluate([0, 1, 1, 0], [0, 1, 0, 0], trackers=["jsonl"], run_name="guide",
                              params={"api_key": "s3cret", "model": {"depth": 2}})

    events = [json.loads(line) for line in (tmp_path / "runs.jsonl").read_text().splitlines()]
    assert [event["event"] for event in events] == ["start", "params", "metrics", "evaluation", "end"]
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
