"""The ``runway hello`` group and its subcommands."""

import click


@click.group("hello")
def hello():
    """Greet someone."""


@hello.command("say")
@click.argument("name")
def say(name):
    """Greet NAME."""
    click.echo(f"hello, {name}")


@hello.command("twice")
@click.argument("name")
def twice(name):
    """Greet NAME twice."""
    click.echo(f"hello, {name}\nhello, {name}")
