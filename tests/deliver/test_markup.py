"""Each chat format's escaping makes text from arXiv or the model literal, and a summary keeps only the
structure (headings, lists, bold, links) every format can show."""

from __future__ import annotations

import html
import re

import pytest

from arxivbot.deliver.digest_view import shorten, shorten_lines, summary_lines
from arxivbot.deliver.markup import DISCORD, FEISHU, SLACK, TELEGRAM, Markup, escape_feishu, lines_markup

HOSTILE = "<!channel> <at id=all></at> **bold** [x](javascript:alert(1)) @everyone # title `code` a_b ~c~"


def test_feishu_escaping_is_character_references_that_decode_to_the_original() -> None:
    escaped = escape_feishu(HOSTILE)
    assert not set(re.sub(r"&#\d+;", "", escaped)) & set("<>*[]()#`_~:-&")
    assert html.unescape(escaped) == HOSTILE and "<" not in escaped and "*" not in escaped


ENTITIES = "&lt;!channel&gt; &lt;at id=all&gt;&lt;/at&gt; **bold** [x](javascript:alert(1)) @everyone # title "
DISCORD_ESCAPED = r"\<!channel\> \<at id=all\>\</at\> \*\*bold\*\* \[x\]\(javascript:alert\(1\)\) \@everyone # title "


@pytest.mark.parametrize(
    ("markup", "escaped"),
    [
        (SLACK, ENTITIES + "`code` a_b ~c~"),
        (DISCORD, DISCORD_ESCAPED + r"\`code\` a\_b \~c\~"),
        (TELEGRAM, ENTITIES + "`code` a_b ~c~"),
    ],
)
def test_each_format_escapes_what_would_act(markup: Markup, escaped: str) -> None:
    assert markup.escape(HOSTILE) == escaped


def test_a_summary_becomes_lines_that_keep_structure_and_only_safe_links() -> None:
    lines = summary_lines(
        "## 1. Contributions\n\n- **Fast** <script>x</script>\n- [paper](https://arxiv.org/abs/1) and "
        "[bad](javascript:alert(1))\n\n1. one\n2. two\n"
    )
    assert [(line.kind, line.marker, line.text) for line in lines] == [
        ("heading", "", "1. Contributions"),
        ("item", "•", "Fast <script>x</script>"),
        ("item", "•", "paper and [bad](javascript:alert(1))"),
        ("item", "1.", "one"),
        ("item", "2.", "two"),
    ]
    assert [span.href for span in lines[2].spans] == ["https://arxiv.org/abs/1", None]
    assert lines_markup(lines, TELEGRAM).splitlines()[:2] == [
        "<b>1. Contributions</b>",
        "• <b>Fast</b> &lt;script&gt;x&lt;/script&gt;",
    ]
    assert (
        lines_markup(lines, SLACK).splitlines()[2] == "• <https://arxiv.org/abs/1|paper> and [bad](javascript:alert(1))"
    )
    assert lines_markup(lines, FEISHU).splitlines()[1] == "• **Fast** &#60;script&#62;x&#60;&#47;script&#62;"


def test_shortening_cuts_at_a_word_and_says_so() -> None:
    assert shorten("Sparse attention for long contexts", 20) == "Sparse attention…"
    kept, cut = shorten_lines(summary_lines("# Head\n\n" + "word " * 100), 60)
    assert cut and kept[0].text == "Head" and kept[-1].text.endswith("…") and len(kept[-1].text) <= 60
    assert shorten_lines(summary_lines("short"), 60) == (summary_lines("short"), False)
