"""Drawing a pipeline: a tree for the terminal, Mermaid and Graphviz dot."""

from __future__ import annotations

import json

from runway.pipeline.graph import Node, Pipeline

FORMATS = ("tree", "mermaid", "dot")


def _label(node: Node) -> str:
    flags = [f for f, on in (("cache: false", not node.cache), ("regenerate", node.regenerate), ("inspect", node.inspect)) if on]
    return f"{node.name}  [{node.transform_name}]" + (f"  ({', '.join(flags)})" if flags else "")


def render_tree(pipeline: Pipeline) -> str:
    """Sources at the left, readers below them; a node read by several is drawn once, then referred to."""
    readers = pipeline.consumers()
    lines: list[str] = []
    drawn: set[str] = set()
    # iterative depth-first walk: (node, prefix of its line, prefix of its children, connector)
    for source in (n for n in pipeline.order if not pipeline.nodes[n].inputs):
        stack = [(source, "", "")]
        while stack:
            name, line_prefix, child_prefix = stack.pop()
            if name in drawn:
                lines.append(f"{line_prefix}{name}  (drawn above)")
                continue
            drawn.add(name)
            node = pipeline.nodes[name]
            extra = f"  <- {', '.join(node.inputs)}" if len(node.inputs) > 1 else ""
            lines.append(f"{line_prefix}{_label(node)}{extra}")
            children = readers[name]
            for index in reversed(range(len(children))):
                last = index == len(children) - 1
                stack.append(
                    (
                        children[index],
                        child_prefix + ("└── " if last else "├── "),
                        child_prefix + ("    " if last else "│   "),
                    )
                )
    return "\n".join(lines)


def render_mermaid(pipeline: Pipeline) -> str:
    ids = {name: f"n{index}" for index, name in enumerate(pipeline.order)}
    lines = ["flowchart TD"]
    for name in pipeline.order:
        node = pipeline.nodes[name]
        text = f"{name}<br/>{node.transform_name}".replace('"', "#quot;")
        shape = f'(["{text}"])' if not node.cache else f'["{text}"]'
        lines.append(f"    {ids[name]}{shape}")
    for name in pipeline.order:
        for upstream in pipeline.nodes[name].inputs:
            lines.append(f"    {ids[upstream]} --> {ids[name]}")
    return "\n".join(lines)


def render_dot(pipeline: Pipeline) -> str:
    lines = [f"digraph {json.dumps(pipeline.name)} {{", "    rankdir=TB;", "    node [shape=box];"]
    for name in pipeline.order:
        node = pipeline.nodes[name]
        style = ", style=dashed" if not node.cache else ""
        lines.append(f"    {json.dumps(name)} [label={json.dumps(name + chr(10) + node.transform_name)}{style}];")
    for name in pipeline.order:
        for upstream in pipeline.nodes[name].inputs:
            lines.append(f"    {json.dumps(upstream)} -> {json.dumps(name)};")
    lines.append("}")
    return "\n".join(lines)


def render(pipeline: Pipeline, fmt: str = "tree") -> str:
    return {"tree": render_tree, "mermaid": render_mermaid, "dot": render_dot}[fmt](pipeline)
