"""Markdown read by a CommonMark parser (markdown-it-py), written out as clean text.

Headings, lists, tables and code blocks keep their structure; emphasis marks, backticks and link
syntax go (a link becomes its text, an image its alt text: no address is ever kept to fetch).
YAML front matter is metadata: its `title:` names the document and is not a passage. A single
level-1 heading at the top names the document too, and its subsections are the top level.
"""

from __future__ import annotations

import re

from tutor.formats import Outline, TextLimitReached, clean_line

FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)


def read_markdown(source: str, limit: int) -> Outline:
    from markdown_it import MarkdownIt

    outline = Outline(limit=limit)
    front = FRONT_MATTER_RE.match(source)
    if front:
        outline.title = _front_matter_title(front.group(1) or "")
        source = source[front.end() :]
    tokens = MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(source)
    headings = [i for i, t in enumerate(tokens) if t.type == "heading_open"]
    top = [i for i in headings if tokens[i].tag == "h1"]
    skip = top[0] if len(top) == 1 and headings[0] == top[0] else None
    if skip is not None and not outline.title:
        outline.title = _inline(tokens[skip + 1])
    try:
        _write(tokens, outline, skip)
    except TextLimitReached:
        outline.truncated = True
    return outline


def _front_matter_title(block: str) -> str:
    try:
        import yaml

        data = yaml.safe_load(block)
        title = data.get("title") if isinstance(data, dict) else None
        return clean_line(str(title)) if title is not None else ""
    except Exception:  # malformed front matter: fall back to a plain `title:` line
        m = re.search(r"^title:\s*(.+)$", block, re.M)
        return clean_line(m.group(1).strip().strip("\"'")) if m else ""


def _inline(token) -> str:
    """The text of an inline token: marks dropped, a link its text, an image its alt text."""
    parts: list[str] = []
    for child in token.children or []:
        kind = child.type
        if kind in ("text", "code_inline", "image"):
            parts.append(child.content)
        elif kind == "softbreak":
            # The source's line stays a line: the chunker joins a wrapped sentence again, and keeps lines
            # that are entries of their own ("Goal: …" then "Success: …") apart.
            parts.append("\n")
        elif kind == "hardbreak" or (kind == "html_inline" and re.match(r"<br\s*/?>", child.content, re.I)):
            parts.append("\n")
    return "".join(parts)


def _write(tokens, outline: Outline, skip: int | None) -> None:
    lists: list[list] = []  # for each open list: [ordered, next number]
    list_lines: list[str] = []
    item_open: list[bool] = []  # for each open item: has its first line been written?
    rows: list[list[str]] = []
    cells: list[str] | None = None
    i = 0
    while i < len(tokens):
        token = tokens[i]
        kind = token.type
        if kind == "heading_open":
            if i != skip:
                outline.heading(int(token.tag[1]), _inline(tokens[i + 1]))
            i += 3
            continue
        if kind in ("bullet_list_open", "ordered_list_open"):
            start = int(token.attrs.get("start", 1) or 1) if kind == "ordered_list_open" else 0
            lists.append([kind == "ordered_list_open", start])
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
            if not lists:
                outline.block(list_lines, keep_indent=True)
                list_lines = []
        elif kind == "list_item_open":
            item_open.append(False)
        elif kind == "list_item_close":
            if not item_open.pop():
                list_lines.append("  " * (len(lists) - 1) + _marker(lists[-1]))
        elif kind == "tr_open":
            cells = []
        elif kind == "tr_close":
            rows.append(cells or [])
            cells = None
        elif kind == "table_close":
            width = max(len(r) for r in rows) if rows else 0
            lines = ["| " + " | ".join(r) + " |" for r in rows]
            if len(lines) > 1:
                lines.insert(1, "|" + "---|" * width)
            if lists:  # a table inside a list item stays with the item
                list_lines.extend("  " * len(lists) + line for line in lines)
            else:
                outline.block(lines)
            rows = []
        elif kind == "inline" and cells is not None:
            cells.append(clean_line(_inline(token)).replace("|", "/"))
        elif kind == "inline":
            lines = _inline(token).split("\n")
            if lists:
                indent = "  " * (len(lists) - 1)
                if item_open and not item_open[-1]:
                    item_open[-1] = True
                    list_lines.append(f"{indent}{_marker(lists[-1])} {clean_line(lines[0])}")
                    lines = lines[1:]
                list_lines.extend(f"{indent}  {clean_line(line)}" for line in lines if clean_line(line))
            else:
                outline.block(lines)
        elif kind in ("fence", "code_block"):
            code = token.content.rstrip("\n").split("\n")
            if lists:
                indent = "  " * len(lists)
                list_lines.extend(indent + line for line in code if line.strip())
            else:
                outline.block(code, keep_indent=True)
        elif kind == "html_block":
            from tutor.formats.html import fragment_text

            text = fragment_text(token.content)
            if text:
                (list_lines.append("  " * len(lists) + text) if lists else outline.block([text]))
        i += 1


def _marker(state: list) -> str:
    ordered, number = state
    if not ordered:
        return "-"
    state[1] += 1
    return f"{number}."
