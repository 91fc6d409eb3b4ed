"""Write docs/hooks.md from runway/hookspecs.py (run after changing a hook spec).

    python scripts/gen_hook_docs.py           # rewrite docs/hooks.md
    python scripts/gen_hook_docs.py --check   # exit 1 if it is out of date
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

HEADER = """# Runway's hooks

Generated from `packages/runway-core/src/runway/hookspecs.py` by
`python scripts/gen_hook_docs.py`; a test fails when this page is out of date.

Implement a hook in the module that your `[project.entry-points.runway]`
stanza names:

```python
import runway

@runway.hookimpl
def register_transforms(register):
    register(MyTransform)
```
"""


def hook_specs() -> list[tuple[str, object, dict]]:
    from runway import hookspecs

    specs = []
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction):
        opts = getattr(fn, f"{hookspecs.PROJECT_NAME}_spec", None)
        if opts is not None:
            specs.append((name, fn, opts))
    order = inspect.getsource(hookspecs)
    return sorted(specs, key=lambda s: order.index(f"def {s[0]}("))


def render() -> str:
    parts = [HEADER]
    for name, fn, opts in hook_specs():
        signature = f"def {name}{inspect.signature(fn)}".replace("'", "")
        kind = "first non-None result wins" if opts.get("firstresult") else "called on every plugin"
        doc = inspect.cleandoc(fn.__doc__ or "")
        parts.append(f"## `{name}`\n\n```python\n{signature}\n```\n\n*{kind}*\n\n{doc}\n")
    return "\n".join(parts)


def main() -> int:
    target = Path(__file__).resolve().parents[1] / "docs" / "hooks.md"
    text = render()
    if "--check" in sys.argv:
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            print(f"{target} is out of date: run python scripts/gen_hook_docs.py", file=sys.stderr)
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
