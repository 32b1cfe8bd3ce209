"""The main content of a web page: headings, paragraphs, lists, tables and code; no page furniture.

The page is parsed by an HTML5 parser (selectolax over Lexbor), so optional end tags (`<tr><td>a<td>b`),
a missing `</tr>` and nested tables build the tree a browser would. The content is `<main>` (or the
single `<article>`, when it holds most of the page's words) when the page has one, else `<body>`;
navigation, page headers and footers, asides, forms, scripts, styles and hidden elements are dropped,
and so are blocks whose role or class names them furniture (a `<div class="sidebar">`, `class="footer"`),
for sites that mark their page parts that way, and the permalink marks beside headings (a `¶` or `#` link
to the heading itself). A header, footer or such block inside an article or section belongs to it and is
kept. Every other word of the content is kept: nothing is judged boilerplate by its length or link density,
since a course page's short paragraphs are course material. The outline counts the content's links and
their words, so that a whole page of links (a table of contents, an index) can be told from a page of text.
"""

from __future__ import annotations

import re

from tutor.formats import Outline, TextLimitReached, clean_line

# Never content: scripts and styles, page furniture, controls, embedded objects.
DROP = frozenset(
    "script style noscript template head nav aside form button select textarea input label "
    "iframe object embed svg canvas audio video map dialog menu".split()
)
FURNITURE_ROLES = frozenset({"navigation", "banner", "contentinfo", "search", "complementary", "menu", "menubar"})
# Class names (or a part of one, split at "-" and "_") that mark a block as page furniture.
FURNITURE_CLASSES = frozenset("nav navbar navigation sidebar footer breadcrumb breadcrumbs".split())
# What a permalink beside a heading shows: a link to a spot on the page that holds only one of these.
PERMALINK_MARKS = frozenset("¶ § # 🔗 ⚓".split())
SECTIONING = frozenset({"article", "section", "main"})
BLOCKS = frozenset(
    "p div section article main header footer blockquote figure figcaption address details summary "
    "dl dt dd hr center fieldset hgroup body html".split()
)
HEADINGS = {f"h{n}": n for n in range(1, 7)}
# Elements whose words never run into their neighbours' when a cell or item is read as one line.
SEPARATE = BLOCKS | frozenset(HEADINGS) | frozenset("li tr td th br table caption pre ul ol".split())
# Furniture that is a block of its own: dropping it still ends the text before it.
DROPPED_BLOCKS = frozenset("nav aside form dialog menu header footer template noscript".split())
BREAK = "\0"  # a <br> in running text (the parser turns a NUL in the page into U+FFFD)


def read_html(markup: str, limit: int) -> Outline:
    """The page's content as an outline; its title is the page `<title>`, else its first `<h1>`."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(markup)
    outline = Outline(limit=limit)
    title_node = tree.css_first("head > title") or tree.css_first("title")
    title = clean_line(title_node.text(deep=True)) if title_node is not None else ""
    root = _content_root(tree)
    if root is None:
        outline.title = title
        return outline
    h1s = [n for n in root.css("h1") if not _dropped(n, root)]
    first_h1 = clean_line(h1s[0].text(deep=True)) if h1s else ""
    outline.title = title or first_h1
    writer = _Writer(outline, root)
    # A single h1 at the top names the page: its sections are the real top level (as in Markdown).
    if len(h1s) == 1 and writer.first_heading_is(h1s[0]):
        writer.skip = h1s[0]
    try:
        writer.walk(root)
        writer.flush()
    except TextLimitReached:
        outline.truncated = True
    anchors = [a for a in root.css("a[href]") if not _dropped(a, root) and not _is_permalink(a)]
    outline.links = len(anchors)
    outline.linked_words = sum(len(_text(a).split()) for a in anchors)
    return outline


def fragment_text(markup: str) -> str:
    """The words of an HTML fragment (raw HTML inside Markdown) on one line; scripts and styles dropped."""
    from selectolax.lexbor import LexborHTMLParser

    body = LexborHTMLParser(markup).body
    return _text(body) if body is not None else ""


def _content_root(tree):
    for selector in ("main", "[role=main]"):
        found = tree.css(selector)
        if len(found) == 1:
            return found[0]
    articles = tree.css("article")
    body = tree.body
    # A lone article is the content only when it holds most of the page's words (not a side box).
    if len(articles) == 1 and body is not None and 2 * len(_text(articles[0])) >= len(_text(body)):
        return articles[0]
    return body


def _attr(node, name: str) -> str:
    value = node.attributes.get(name)
    return (value or "").strip().lower() if name in node.attributes else ""


def _is_furniture(node) -> bool:
    tag = node.tag
    if tag in DROP:
        return True
    attrs = node.attributes
    if "hidden" in attrs or _attr(node, "aria-hidden") == "true":
        return True
    if _attr(node, "role") in FURNITURE_ROLES:
        return True
    if tag == "a":
        return _is_permalink(node)
    if tag in ("header", "footer") or _furniture_class(node):
        # A page's header, footer or sidebar; one inside an article or section is that part's own.
        return not _in_sectioning(node)
    return False


def _furniture_class(node) -> bool:
    classes = _attr(node, "class")
    if not classes:
        return False
    return any(part in FURNITURE_CLASSES for name in classes.split() for part in re.split(r"[-_]", name))


def _in_sectioning(node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.tag in SECTIONING or _attr(parent, "role") in ("main", "article"):
            return True
        parent = parent.parent
    return False


def _is_permalink(node) -> bool:
    return _attr(node, "href").startswith("#") and node.text(deep=True).strip() in PERMALINK_MARKS


def _dropped(node, root) -> bool:
    while node is not None and node.mem_id != root.mem_id:
        if _is_furniture(node):
            return True
        node = node.parent
    return False


class _Writer:
    """Walks the content tree, writing blocks into the outline as they end."""

    def __init__(self, outline: Outline, root) -> None:
        self.outline = outline
        self.root = root
        self.inline: list[str] = []
        self.skip = None

    def first_heading_is(self, node) -> bool:
        for n in self.root.traverse(include_text=False):
            if n.tag in HEADINGS and not _dropped(n, self.root):
                return n.mem_id == node.mem_id
        return False

    def walk(self, root) -> None:
        # Depth-first without recursion (a page may nest elements thousands deep). A block's closing
        # mark sits under its children on the stack, so the block ends after them.
        stack: list[tuple[object, bool]] = [(root, False)]
        while stack:
            node, closing = stack.pop()
            if closing:
                self.flush()
                continue
            tag = node.tag
            if tag == "-text":
                self.inline.append(node.text_content or "")
                continue
            if not tag or tag.startswith(("-", "_", "!")):
                continue
            if _is_furniture(node):
                if tag in SEPARATE or tag in DROPPED_BLOCKS:
                    self.flush()
                continue
            if self.skip is not None and node.mem_id == self.skip.mem_id:
                self.flush()
            elif tag in HEADINGS:
                self.flush()
                self.outline.heading(HEADINGS[tag], _text(node))
            elif tag in ("ul", "ol"):
                self.flush()
                self.outline.block(self._list(node, 0), keep_indent=True)
            elif tag == "table":
                self.flush()
                self._table(node)
            elif tag == "pre":
                self.flush()
                self.outline.block(_text(node, keep_lines=True).split("\n"), keep_indent=True)
            elif tag == "br":
                self.inline.append(BREAK)
            elif tag != "img":  # an image is not text, and its address is never fetched
                if tag in BLOCKS or tag in ("li", "tr", "td", "th", "caption"):
                    self.flush()
                    stack.append((node, True))
                child = node.last_child
                while child is not None:
                    stack.append((child, False))
                    child = child.prev

    def flush(self) -> None:
        lines = "".join(self.inline).split(BREAK)  # a newline in the source is only a space
        self.inline = []
        self.outline.block(lines)

    def _list(self, node, depth: int) -> list[str]:
        lines: list[str] = []
        loose: list[str] = []  # text straight inside a list (not valid HTML, but browsers show it)

        def end_loose() -> None:
            text = clean_line("".join(loose))
            loose.clear()
            if text:
                lines.append("  " * depth + text)

        ordered = node.tag == "ol"
        number = _int(node.attributes.get("start"), 1)
        for item in _children(node):
            if item.tag == "-text":
                loose.append(item.text_content or "")
                continue
            if not item.tag or item.tag.startswith(("-", "_")) or _is_furniture(item):
                continue
            if item.tag != "li":
                if item.tag in SEPARATE:
                    end_loose()
                loose.append(_text(item, keep_lines=True))
                if item.tag in SEPARATE:
                    end_loose()
                continue
            end_loose()
            sublists = [part for part in _children(item) if part.tag in ("ul", "ol") and not _is_furniture(part)]
            nested = [line for sub in sublists for line in self._list(sub, depth + 1)]
            marker = f"{number}." if ordered else "-"
            number += 1
            text = _text(item, skip={sub.mem_id for sub in sublists})
            if text or nested:
                lines.append("  " * depth + f"{marker} {text}".rstrip())
                lines.extend(nested)
        end_loose()
        return lines

    def _table(self, table) -> None:
        caption = table.css_first("caption")
        if caption is not None and caption.parent is not None and caption.parent.mem_id == table.mem_id:
            self.outline.block([_text(caption)])
        rows = []
        for row in _rows(table):
            cells = [
                _text(cell).replace("|", "/") for cell in _children(row) if cell.tag in ("td", "th")
            ]
            if any(cells):
                rows.append(cells)
        if not rows:
            return
        lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
        lines.extend("| " + " | ".join(cells) + " |" for cells in rows[1:])
        self.outline.block(lines if len(rows) > 1 else lines[:1])


def _children(node):
    child = node.child
    while child is not None:
        yield child
        child = child.next


def _rows(table):
    """The rows of `table` itself, not of a table nested in one of its cells."""
    for part in _children(table):
        if part.tag == "tr":
            yield part
        elif part.tag in ("thead", "tbody", "tfoot"):
            yield from (row for row in _children(part) if row.tag == "tr")


def _text(node, skip: frozenset | set = frozenset(), keep_lines: bool = False) -> str:
    """All the words under `node` (a nested table's too) on one line; furniture, images and the
    elements whose `mem_id` is in `skip` left out. `keep_lines` keeps the text's own line breaks
    (preformatted text), a block then starting a line of its own."""
    gap = "\n" if keep_lines else " "
    parts: list[str] = []
    stack: list = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, str):  # the space that ends a block
            parts.append(current)
            continue
        if current.tag == "-text":
            parts.append(current.text_content or "")
            continue
        if current is not node and (
            not current.tag or current.tag.startswith(("-", "_")) or _is_furniture(current) or current.mem_id in skip
        ):
            if current.tag in SEPARATE or current.tag in DROPPED_BLOCKS:
                parts.append(gap)
            continue
        if current.tag in SEPARATE:
            parts.append(gap)
            stack.append(gap)
        child = current.last_child
        while child is not None:
            stack.append(child)
            child = child.prev
    return "".join(parts) if keep_lines else clean_line("".join(parts))


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
