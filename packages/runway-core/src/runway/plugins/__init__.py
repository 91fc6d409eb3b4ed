"""Plugin discovery and the facade core uses to call hooks."""

from runway.plugins.manager import (
    BUILTIN_PLUGINS,
    FIRST_PARTY_PLUGINS,
    PluginInfo,
    Plugins,
    get_plugins,
    load_error_message,
    make_plugin_manager,
    set_plugins,
)

__all__ = [
    "BUILTIN_PLUGINS",
    "FIRST_PARTY_PLUGINS",
    "PluginInfo",
    "Plugins",
    "get_plugins",
    "load_error_message",
    "make_plugin_manager",
    "set_plugins",
]
