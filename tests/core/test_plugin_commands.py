"""Commands added by plugins through ``register_commands``: listed lazily, cached, refused when they collide."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import click
import pytest
from click.testing import CliRunner

import runway
from runway.cli import plugin_commands
from runway.cli.plugin_command_registry import collect_commands
from runway.cli.main import COMMANDS, cli
from runway.errors import PluginError
from runway.plugins import make_plugin_manager, set_plugins

greet = click.Command("greet", callback=lambda: click.echo("greetings"), help="Greet.")


class Greeter:
    @runway.hookimpl
    def register_commands(self, register):
        register("greet", "test_plugin_commands:greet", "Greet the user.")


@pytest.fixture
def with_plugins():
    def install(*pairs):
        old = set_plugins(make_plugin_manager(builtins_only=True, extra_plugins=pairs))
        installed.append(old)

    installed: list = []
    yield install
    for old in installed:
        set_plugins(old)


def test_a_plugin_command_is_listed_by_help_and_runs(with_plugins, monkeypatch):
    monkeypatch.syspath_prepend(str(__import__("pathlib").Path(__file__).parent))
    with_plugins(("greeter", Greeter()))
    runner = CliRunner()
    shown = runner.invoke(cli, ["--help"])
    assert "Commands from plugins" in shown.output and "greet" in shown.output and "Greet the user. [greeter]" in shown.output
    ran = runner.invoke(cli, ["greet"])
    assert ran.exit_code == 0 and ran.output == "greetings\n"
    listed = json.loads(runner.invoke(cli, ["plugins", "--json"]).output)
    assert {r["name"]: r["commands"] for r in listed}["greeter"] == ["greet"]


def test_a_command_that_cannot_load_names_its_plugin(with_plugins):
    class Broken:
        @runway.hookimpl
        def register_commands(self, register):
            register("broken", "no_such_module_anywhere:cmd", "Never loads.")

    with_plugins(("broken-plugin", Broken()))
    result = CliRunner().invoke(cli, ["broken"])
    assert result.exit_code == 2
    assert "command 'broken' of plugin 'broken-plugin' cannot be loaded from 'no_such_module_anywhere:cmd'" in result.output


@pytest.mark.parametrize(
    ("name", "target", "message"),
    [
        ("train", "x:y", "registers command 'train', which is one of runway's own commands"),
        ("ok", "no-colon", "write 'module:attribute'"),
    ],
)
def test_bad_registrations_are_refused(name, target, message):
    class Bad:
        @runway.hookimpl
        def register_commands(self, register):
            register(name, target, "help")

    plugins = make_plugin_manager(builtins_only=True, extra_plugins=[("bad", Bad())])
    with pytest.raises(PluginError, match=message):
        collect_commands(plugins, frozenset(COMMANDS))


def test_a_name_two_plugins_register_names_both():
    plugins = make_plugin_manager(builtins_only=True, extra_plugins=[("one", Greeter()), ("two", Greeter())])
    with pytest.raises(PluginError, match="command 'greet' is registered twice: by plugin '(one|two)' and by plugin '(one|two)'"):
        collect_commands(plugins)


def test_help_reads_the_cache_until_a_registering_module_changes(tmp_path, monkeypatch):
    module = tmp_path / "cached_greeter.py"
    module.write_text(textwrap.dedent('''
        import runway

        @runway.hookimpl
        def register_commands(register):
            register("greet", "cached_greeter:greet", "Greet, cached.")
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("RUNWAY_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(plugin_commands, "environment_key", lambda: {"fixed": True})
    loads: list[int] = []

    def fake_get_plugins():
        loads.append(1)
        sys.modules.pop("cached_greeter", None)
        import cached_greeter

        return make_plugin_manager(builtins_only=True, extra_plugins=[("greeter", cached_greeter)])

    import runway.plugins.manager as manager

    monkeypatch.setattr(manager, "built_plugins", lambda: None)
    monkeypatch.setattr(manager, "get_plugins", fake_get_plugins)
    from runway.cli.main import registered_commands

    first = registered_commands()
    again = registered_commands()
    assert first == again and first["greet"].help == "Greet, cached." and len(loads) == 1
    module.write_text(module.read_text().replace("Greet, cached.", "Greet, changed."))
    import os

    os.utime(module, ns=(1, 1))
    assert registered_commands()["greet"].help == "Greet, changed." and len(loads) == 2


def _run(args, env_extra):
    import os

    env = {**os.environ, **env_extra}
    code = textwrap.dedent(f"""
        import sys
        from runway.cli.main import main
        try:
            main({args!r})
        except SystemExit:
            pass
        print("MODULES=" + ",".join(sorted(sys.modules)), file=sys.stderr)
    """)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)


def test_an_installed_plugin_command_shows_in_help_without_importing_plugins(tmp_path):
    pytest.importorskip("runway_hello", reason="the `all` environment installs the test plugin runway-hello")
    env = {"RUNWAY_CACHE_HOME": str(tmp_path)}
    cold = _run(["--help"], env)
    warm = _run(["--help"], env)
    for proc in (cold, warm):
        assert "hello" in proc.stdout and "[hello]" in proc.stdout, proc.stdout + proc.stderr
    loaded = set(warm.stderr.splitlines()[-1][len("MODULES="):].split(","))
    assert not {"runway_hello", "runway_optuna", "runway.plugins.manager", "torch", "optuna"} & loaded
    ran = _run(["hello", "twice", "Ada"], env)
    assert ran.stdout == "hello, Ada\nhello, Ada\n", ran.stderr
