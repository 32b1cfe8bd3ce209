"""`tutor index --ray`: a Ray Data build writes the index the local build writes, and the tutor answers from it."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys

import numpy as np
import pytest

from tutor.cli import main
from tutor.store import CHUNKS, DOCUMENTS, MANIFEST, UNITS, _build_embedder, build_index, data_folder, load_index

from .conftest import ARTICLE

PLANTS = """# Plant Biology

## Photosynthesis

Chlorophyll is the green pigment that absorbs red and blue light for photosynthesis.
Plants turn carbon dioxide and water into glucose and oxygen.

## Roots

- Anchor the plant in the soil
- Take up water and minerals
- Store starch in some species
"""

SOILS = """Soil Science

Soil Texture

Soil texture is the share of sand, silt and clay in a soil. Sandy soils drain quickly and hold few nutrients.

Humus

Humus is the dark organic matter that forms when plant and animal remains decay. It holds water like a sponge.
"""


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course of Markdown and plain-text files in folders, one of them empty (a warning), one a plain-text
    copy of the article (left out as a repeat, with a warning), and the article."""
    root = tmp_path_factory.mktemp("ray") / "course"
    (root / "biology").mkdir(parents=True)
    (root / "notes").mkdir()
    (root / "biology" / "plants.md").write_text(PLANTS, encoding="utf-8")
    (root / "soils.txt").write_text(SOILS, encoding="utf-8")
    (root / "notes" / "empty.txt").write_text("", encoding="utf-8")
    (root / "notes" / "café.md").write_text("# Café\n\n## Brewing\n\nEspresso is brewed under pressure.\n",
                                            encoding="utf-8")
    shutil.copy(ARTICLE, root / "notes" / ARTICLE.name)
    shutil.copy(ARTICLE, root / "notes" / "zz-article-copy.txt")
    return root


def assert_same_vectors(a: np.ndarray, b: np.ndarray) -> None:
    """The same vectors, to the precision of the build's engine: in bfloat16 (a CPU that has it natively) a
    vector varies a little with the batch it was embedded in, which differs between the two builds."""
    import torch

    assert a.shape == b.shape
    if _build_embedder("cpu").dtype == torch.bfloat16:
        assert float((a * b).sum(1).min()) >= 0.9995
    else:
        assert np.allclose(a, b, atol=1e-5)


@pytest.fixture(scope="module")
def ray_session():
    """One small local Ray for the module (it takes seconds to start); `tutor index --ray` joins it."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_a_ray_build_writes_the_local_build_s_index(tmp_path, course, ray_session, capsys):
    ray_index, local_index = tmp_path / "ray-index", tmp_path / "local-index"
    assert main(["index", "--ray", "--corpus", str(course), "--index", str(ray_index)]) == 0
    assert "Index built" in capsys.readouterr().out
    build_index(course, local_index, fresh=True)

    ray_files, local_files = data_folder(ray_index), data_folder(local_index)
    for name in (CHUNKS, UNITS, DOCUMENTS):
        assert (ray_files / name).read_bytes() == (local_files / name).read_bytes(), name
    documents = json.loads((ray_files / DOCUMENTS).read_text(encoding="utf-8"))
    assert documents["titles"][:2] == ["Plant Biology", "Café"]  # corpus order: biology/, notes/, then soils.txt
    assert any("course/notes/empty.txt" in w for w in documents["warnings"])
    assert any("zz-article-copy.txt repeats" in w for w in documents["warnings"])

    built, local = load_index(ray_index), load_index(local_index)
    assert len(built.chunks) > 60 and len(built.units) > 300  # the article and the small files
    assert_same_vectors(built.chunk_index.reconstruct_n(0, built.chunk_index.ntotal),
                        local.chunk_index.reconstruct_n(0, local.chunk_index.ntotal))
    assert_same_vectors(built.unit_vectors, local.unit_vectors)
    ray_manifest = json.loads((ray_index / MANIFEST).read_text())
    local_manifest = json.loads((local_index / MANIFEST).read_text())
    for key in ("corpus", "chunks", "units", "dim", "chunker_version", "embedding_text_version", "fresh"):
        assert ray_manifest[key] == local_manifest[key], key

    # The index is current for the course: asked again, --ray finds nothing to do.
    assert main(["index", "--ray", "--corpus", str(course), "--index", str(ray_index)]) == 0
    assert "Index up to date" in capsys.readouterr().out


@pytest.mark.slow
def test_the_tutor_answers_from_a_ray_built_index(tmp_path, course, ray_session):
    from tutor import Tutor

    index = tmp_path / "index"
    assert main(["index", "--ray", "--corpus", str(course), "--index", str(index)]) == 0
    manifest = (index / MANIFEST).read_bytes()
    tutor = Tutor.load(course, index, generator="extractive", device="cpu")
    answer = tutor.ask("What is humus?")
    assert (index / MANIFEST).read_bytes() == manifest  # loaded as built, not rebuilt
    assert not answer.abstained
    assert answer.citations[0].source == "course/soils.txt"
    assert "dark organic matter" in answer.text


def test_without_ray_installed_the_error_says_what_to_install(tmp_path, course, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    assert main(["index", "--ray", "--corpus", str(course), "--index", str(tmp_path / "index")]) == 2
    assert "pip install tutor[ray]" in capsys.readouterr().err
    assert not (tmp_path / "index" / MANIFEST).exists()


def test_a_worker_that_cannot_see_a_course_file_stops_the_build_and_says_why(tmp_path):
    from tutor.errors import TutorError
    from tutor.ray_build import _collect, _parse_file

    # What a worker on a node without the shared course folder makes of a file the driver listed.
    rows = _parse_file({"doc": 0, "path": os.fsencode(tmp_path / "course" / "a.md"), "source": "course/a.md"})
    with pytest.raises(TutorError, match=r"found no course/a\.md .*same path on every node"):
        _collect(rows, 1)
