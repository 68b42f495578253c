"""BibTeX exports → library items: the fields that matter, every place an arXiv id hides, and bad files."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from arxivbot.errors import ConfigError
from arxivbot.library.bibtex import arxiv_id_of, read_bibtex_file

EXPORT = r"""% exported by Zotero
@article{vaswani2017attention,
  title = {Attention Is All You {Need}},
  author = {Vaswani, Ashish and Shazeer, Noam},
  abstract = {The dominant sequence transduction models are based on complex recurrent networks.},
  eprint = {1706.03762v7},
  archivePrefix = {arXiv},
  keywords = {transformers; attention},
  year = {2017},
}

@article{broken2021,
  title = {A {Broken Entry,
  year = 2021
}

@inproceedings{scholar2024,
  title={{\"U}ber Caches in {LLM} Serving},
  journal={arXiv preprint arXiv:2401.12345},
  year={2024}
}

@misc{journalonly,
  title = {A Journal Paper Without arXiv},
  doi = {https://doi.org/10.1000/xyz123},
  abstract = {Only a DOI.},
  timestamp = {2023-05-06T07:08:09Z},
}

@misc{notitle, year = {2020}}
"""


def test_an_export_gives_title_abstract_keywords_ids_and_when_added(tmp_path: Path) -> None:
    path = tmp_path / "library.bib"
    path.write_text(EXPORT, encoding="utf-8")

    parsed = read_bibtex_file(path)

    by_key = {item.key: item for item in parsed.items}
    assert set(by_key) == {"vaswani2017attention", "scholar2024", "journalonly"}
    attention = by_key["vaswani2017attention"]
    assert attention.title == "Attention Is All You Need"  # LaTeX braces gone
    assert attention.abstract.startswith("The dominant sequence transduction")
    assert (attention.arxiv_id, attention.keywords) == ("1706.03762", ("transformers", "attention"))
    assert attention.added is not None and attention.added.year == 2017
    assert by_key["scholar2024"].title == "Über Caches in LLM Serving"  # LaTeX accents decoded
    assert by_key["scholar2024"].arxiv_id == "2401.12345"  # Google Scholar's journal field
    journal = by_key["journalonly"]
    assert (journal.arxiv_id, journal.doi) == (None, "10.1000/xyz123")
    assert journal.added is not None and (journal.added.year, journal.added.month) == (2023, 5)
    assert all(item.source == "bibtex" and item.origin == str(path) for item in parsed.items)


def test_a_malformed_entry_is_skipped_with_a_warning_naming_file_key_and_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "library.bib"
    path.write_text(EXPORT, encoding="utf-8")

    with caplog.at_level(logging.WARNING, logger="arxivbot"):
        parsed = read_bibtex_file(path)

    broken = [w for w in parsed.warnings if "broken2021" in w]
    assert broken == [
        f"{path}: entry 'broken2021' (line 12) skipped: it is malformed (check its braces, quotes and commas)"
    ]
    assert any("'notitle'" in w and "no title" in w for w in parsed.warnings)
    assert broken[0] in caplog.text


@pytest.mark.parametrize(
    "content",
    [b"%PDF-1.7\n\x00\x01binary", b'{"items": [{"title": "a JSON export"}]}', b"Just some notes about papers.\n"],
)
def test_a_file_that_is_not_bibtex_is_a_configuration_error_naming_it(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "library.bib"
    path.write_bytes(content)

    with pytest.raises(ConfigError) as error:
        read_bibtex_file(path)

    assert str(path) in str(error.value) and "not a BibTeX file" in str(error.value)
    assert error.value.exit_code == 2


def test_a_missing_file_and_an_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        read_bibtex_file(tmp_path / "nowhere.bib")
    empty = tmp_path / "empty.bib"
    empty.write_text("\n% nothing yet\n", encoding="utf-8")
    assert read_bibtex_file(empty).items == ()


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"eprint": "2309.06180", "archiveprefix": "arXiv"}, "2309.06180"),
        ({"eprint": "hep-th/9901001v2", "eprinttype": "arxiv"}, "hep-th/9901001"),
        ({"url": "https://arxiv.org/abs/2211.17192v2"}, "2211.17192"),
        ({"url": "http://arxiv.org/pdf/2205.14135.pdf"}, "2205.14135"),
        ({"doi": "10.48550/arXiv.2001.08361"}, "2001.08361"),
        ({"journal": "arXiv preprint arXiv:2401.12345"}, "2401.12345"),
        ({"note": "arXiv: 2402.00001"}, "2402.00001"),
        ({"eprint": "PMC12345", "archiveprefix": "PubMed"}, None),
        ({"doi": "10.1145/3600006.3613165"}, None),
    ],
)
def test_the_arxiv_id_is_found_wherever_exporters_put_it(fields: dict[str, str], expected: str | None) -> None:
    assert arxiv_id_of(fields) == expected
