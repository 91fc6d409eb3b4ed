"""MkDocs hooks (``hooks:`` in mkdocs.yml): the pages generated from the code and the READMEs.

- ``index.md``: the repository's README.md;
- ``guides/<concept>.md``: one page per ``## `` section of runway-core's README
  (configuration, data pipeline, logging, launching, sweeps, experiments, records);
- ``plugins/<name>.md``: each plugin package's README;
- ``reference/cli.md``: every command's usage, help and options, from the click
  commands (:mod:`cli_reference`).

``docs/hooks.md`` (the hook reference) is generated from ``runway/hookspecs.py``
by ``scripts/gen_hook_docs.py`` and checked by a test. Links between these
sources are rewritten to the pages they became; a link to a file outside the
site becomes its path in code, so ``mkdocs build --strict`` has nothing to
warn about.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from mkdocs.structure.files import File

REPO = Path(__file__).resolve().parents[2]
CORE_README = REPO / "packages" / "runway-core" / "README.md"
PLUGINS = {"runway-hf": "hf", "runway-slurm": "slurm", "runway-wandb": "wandb", "runway-mlflow": "mlflow", "runway-optuna": "optuna"}
_LINK = re.compile(r"(?<!!)\[(?P<text>[^\]]+)\]\((?P<target>[^)\s]+)\)")


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def core_sections() -> list[tuple[str, str]]:
    """``(title, markdown)`` of each ``## `` section of runway-core's README (fenced code kept whole)."""
    sections: list[tuple[str, list[str]]] = []
    fenced = False
    for line in CORE_README.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            sections.append((line[3:].strip(), []))
        elif sections:
            sections[-1][1].append(line)
    return [(title, "\n".join(body).strip() + "\n") for title, body in sections]


def _page_for(source: Path, target: str) -> str | None:
    """The site page a README's relative link ``target`` points at, or ``None`` (outside the site)."""
    path, _, anchor = target.partition("#")
    resolved = (source.parent / path).resolve()
    try:
        relative = resolved.relative_to(REPO).as_posix()
    except ValueError:
        return None
    page = None
    if relative == "README.md":
        page = "index.md"
    elif relative.startswith("docs/") and relative.endswith(".md"):
        page = relative[len("docs/") :]
    elif relative == "packages/runway-core/README.md":
        page = "guides/" + slug(core_sections()[0][0]) + ".md"
    else:
        for package, name in PLUGINS.items():
            if relative == f"packages/{package}/README.md":
                page = f"plugins/{name}.md"
    return None if page is None else page + (f"#{anchor}" if anchor else "")


def rewrite_links(markdown: str, source: Path, page: str) -> str:
    """Relative links of ``source`` made relative to the generated ``page``."""
    depth = page.count("/")

    def replace(match: re.Match[str]) -> str:
        target = match["target"]
        if target.startswith("#") and source == CORE_README:
            # an anchor of another section of the README: that section's page
            section = next((t for t, _ in core_sections() if slug(t) == target[1:]), None)
            if section is not None and f"guides/{slug(section)}.md" != page:
                return f"[{match['text']}]({'../' * depth}guides/{slug(section)}.md)"
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            return match[0]
        found = _page_for(source, target)
        if found is None:
            return f"{match['text']} (`{target.lstrip('./')}`)"
        return f"[{match['text']}]({'../' * depth}{found})"

    return _LINK.sub(replace, markdown)


def generated_pages() -> dict[str, str]:
    """Site path -> markdown of every generated page."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from cli_reference import cli_markdown

    pages = {"index.md": rewrite_links((REPO / "README.md").read_text(encoding="utf-8"), REPO / "README.md", "index.md")}
    for title, body in core_sections():
        page = f"guides/{slug(title)}.md"
        pages[page] = rewrite_links(f"# {title}\n\n{body}", CORE_README, page)
    for package, name in PLUGINS.items():
        readme = REPO / "packages" / package / "README.md"
        if readme.is_file():
            pages[f"plugins/{name}.md"] = rewrite_links(readme.read_text(encoding="utf-8"), readme, f"plugins/{name}.md")
    pages["reference/cli.md"] = cli_markdown()
    return pages


def _listed(items) -> set[str]:
    found: set[str] = set()
    for item in items or []:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        if isinstance(value, list):
            found |= _listed(value)
        elif isinstance(value, str):
            found.add(value)
    return found


def on_config(config):
    """A README section that mkdocs.yml's nav does not list yet joins the Guides, after the listed ones."""
    nav = config.get("nav") or []
    guides = next((item["Guides"] for item in nav if isinstance(item, dict) and isinstance(item.get("Guides"), list)), None)
    if guides is None:
        return config
    listed = _listed(nav)
    for title, _ in core_sections():
        page = f"guides/{slug(title)}.md"
        if page not in listed:
            guides.append({title: page})
    return config


def on_files(files, config):
    for path, content in generated_pages().items():
        existing = files.get_file_from_path(path)
        if existing is not None:
            files.remove(existing)
        files.append(File.generated(config, path, content=content))
    return files
