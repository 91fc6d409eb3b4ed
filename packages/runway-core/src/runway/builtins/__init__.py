"""Core's own features, registered as plugins like any installed one."""
