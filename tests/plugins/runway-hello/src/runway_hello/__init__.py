"""A third-party plugin that adds ``runway hello``; the command's module is imported only when it runs."""

import runway


@runway.hookimpl
def register_commands(register):
    register("hello", "runway_hello.commands:hello", "Greet someone, from a third-party plugin (hello say NAME, hello twice NAME).")
