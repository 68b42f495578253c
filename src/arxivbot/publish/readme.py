"""The README digest: the reference system's layout (SPEC §2.3), filled from one day's Digest.

A template is markdown with placeholders, filled in one pass (a placeholder that appears inside a
paper's title is therefore printed as it is, never filled):

- ``{{LAST_UPDATED}}``   when the digest was generated, ``2025-12-24 05:57:56 UTC``
- ``{{PAPER_COUNT}}``    how many papers the digest lists
- ``{{CATEGORIES}}``     the monitored categories, ``cs.AI, cs.CL``
- ``{{KEYWORDS}}``       the configured keywords, comma-separated
- ``{{PAPERS_SECTION}}`` the papers, one block each (see :func:`render_papers_section`)
- ``{{SCHEDULE}}``       when the bot runs, ``daily at 12:00 UTC`` (an addition of ours: the built-in
  template needs it, and a custom template may use it too)
- ``{{DEPLOY_BUTTONS}}`` the "Deploy with Vercel" button for the digest's own repository, or nothing
  when that repository is unknown (an addition of ours: a button must never deploy someone else's)

``README.template.md`` next to the config replaces :data:`BUILTIN_TEMPLATE` when present. Unknown
``{{NAMES}}`` in a template are left as they are and logged, so a typo does not go unnoticed.

Everything that comes from arXiv (titles, authors, abstracts, categories, ids) is escaped so that no
tag, link or emphasis can form from it; the model's summary keeps its markdown, with raw HTML and
unsafe link schemes neutralised (see :mod:`arxivbot.publish.escape`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from arxivbot import PROJECT_URL
from arxivbot.errors import PublishError
from arxivbot.models import Digest, DigestEntry
from arxivbot.publish.escape import (
    arxiv_abs_url,
    escape_html,
    escape_markdown,
    neutralize_model_markdown,
    one_line,
)

logger = logging.getLogger(__name__)

ABSTRACT_LIMIT = 300  # characters of the abstract shown, as in the reference

# The reference README with its badge pointed at arxivbot, and its "Deploy with Vercel" button at the
# digest's own repository ({{DEPLOY_BUTTONS}}, empty when unknown). The two section emoji that were
# damaged in the reference capture ("Customization", "Manual Trigger") are our choice: 🎨 and 🔄.
# A backslash at the end of a line below continues that line (it only keeps the source narrow).
_INTRO = f"""\
# arXiv Papers Bot 🤖

This repository automatically fetches and displays relevant papers from arXiv based on configured criteria.

## RSS Feeds and Web Service \
[![Deploy your own](https://img.shields.io/badge/Deploy-arxivbot-blue)]({PROJECT_URL})
{{{{DEPLOY_BUTTONS}}}}
"""

_BODY = """\
## 📊 Statistics

- **Last Updated**: {{LAST_UPDATED}}
- **Total Papers Found**: {{PAPER_COUNT}}
- **Categories Monitored**: {{CATEGORIES}}

## 📚 Recent Papers

{{PAPERS_SECTION}}

## 🔧 Configuration

This bot is configured to look for papers containing the following keywords:
- {{KEYWORDS}}

## 📅 Schedule

The bot runs {{SCHEDULE}} via GitHub Actions to fetch the latest papers.

## 🚀 How to Use

1. **Fork this repository** to your GitHub account
2. **Customize the configuration** by editing `config.json`:
   - Add/remove arXiv categories (e.g., `cs.AI`, `cs.LG`, `cs.CL`)
   - Modify keywords to match your research interests
   - Adjust `max_papers` and `days_back` settings
3. **Enable GitHub Actions** in your repository settings
4. **The bot will automatically run daily** and update the README.md

## 🎨 Customization

### arXiv Categories
Common categories include:
- `cs.AI` - Artificial Intelligence
- `cs.LG` - Machine Learning
- `cs.CL` - Computation and Language
- `cs.CV` - Computer Vision
- `cs.NE` - Neural and Evolutionary Computing
- `stat.ML` - Machine Learning (Statistics)

### Keywords
Add keywords that match your research interests. \
The bot will search for these terms in paper titles and abstracts.

### Exclude Keywords
Add terms to exclude certain types of papers (e.g., "survey", "review", "tutorial").

## 🔄 Manual Trigger

You can manually trigger the bot by:
1. Going to the "Actions" tab in your repository
2. Selecting "arXiv Bot Daily Update"
3. Clicking "Run workflow"

---
*Generated automatically by arXiv Bot*
"""

# The built-in template uses the same placeholders as a user's template, so one code path fills both.
BUILTIN_TEMPLATE = _INTRO + _BODY

PLACEHOLDERS = (
    "LAST_UPDATED",
    "PAPER_COUNT",
    "CATEGORIES",
    "KEYWORDS",
    "PAPERS_SECTION",
    "SCHEDULE",
    "DEPLOY_BUTTONS",
)
_PLACEHOLDER = re.compile(r"\{\{([A-Z][A-Z0-9_]*)\}\}")
_LINE_BREAK = "  "  # two trailing spaces: a markdown line break, as in the reference


def load_readme_template(path: Path) -> str | None:
    """Read a ``README.template.md``; None when there is none, PublishError when it cannot be read."""
    try:
        # utf-8-sig: a template saved by a Windows editor may start with a byte-order mark.
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as err:
        raise PublishError(f"{path}: README template is not valid UTF-8 (byte {err.start})") from None
    except OSError as err:
        raise PublishError(f"{path}: cannot read README template ({err.strerror or err})") from None


def render_readme(
    digest: Digest,
    *,
    template: str | None = None,
    schedule_text: str = "daily at 12:00 UTC",
    repository_url: str | None = None,
) -> str:
    """The README digest: ``template`` (default :data:`BUILTIN_TEMPLATE`) with every placeholder filled.

    ``repository_url`` is the digest's own repository: its "Deploy with Vercel" button clones that one.
    Without it there is no button.
    """
    values = {
        "LAST_UPDATED": _format_timestamp(digest.generated_at),
        "PAPER_COUNT": str(len(digest.entries)),
        "CATEGORIES": _comma_list(digest.categories),
        "KEYWORDS": _comma_list(digest.keywords),
        "PAPERS_SECTION": render_papers_section(digest),
        "SCHEDULE": one_line(schedule_text),
        "DEPLOY_BUTTONS": deploy_buttons(repository_url),
    }
    return fill_template(BUILTIN_TEMPLATE if template is None else template, values)


def deploy_buttons(repository_url: str | None) -> str:
    """The reference's "Deploy with Vercel" lines for ``repository_url``; empty when it is unknown."""
    if not repository_url:
        return ""
    clone = "https://vercel.com/new/clone?repository-url=" + quote(repository_url, safe=":/")
    return f"\nYou can click this to deploy yours\n\n[![Deploy with Vercel](https://vercel.com/button)]({clone})\n"


def fill_template(template: str, values: dict[str, str]) -> str:
    """Replace every ``{{NAME}}`` in one pass: text put in by a value is never scanned again."""
    unknown = sorted(set(_PLACEHOLDER.findall(template)) - values.keys())
    if unknown:
        logger.warning("README template: unknown placeholders left as they are: %s", ", ".join(unknown))
    if "{{PAPERS_SECTION}}" not in template:
        logger.warning("README template has no {{PAPERS_SECTION}}: the papers will not be listed")
    return _PLACEHOLDER.sub(lambda match: values.get(match[1], match[0]), template)


def render_papers_section(digest: Digest) -> str:
    """One block per paper, in rank order, each ending with a ``---`` rule (no trailing newline).

    An empty digest gives a one-line note instead, so the README keeps its shape.
    """
    if not digest.entries:
        return f"*No papers matched the configured criteria on {digest.day.isoformat()}.*"
    return "\n\n".join(render_entry(entry) for entry in digest.entries)


def render_entry(entry: DigestEntry) -> str:
    """One paper: linked title, the field lines, the abstract and, when summarized, the summary."""
    scored = entry.scored
    paper = scored.paper
    title = _inline(paper.title) or _inline(paper.versioned_id)
    fields = [
        ("Authors", _inline(", ".join(paper.authors)) or "Unknown"),
        ("Category", _inline(scored.category)),
        ("Published", scored.announcement.announced.isoformat()),
        ("Score", f"{scored.score:.1f}"),
        ("Type", _inline(scored.announcement.announce_type)),
        ("ArXiv ID", _inline(paper.versioned_id)),
    ]
    if scored.reason:  # after the reference's fields, so their order stays as it was
        fields.append(("Why", _inline(one_line(scored.reason))))
    parts = [
        f"### {entry.rank}. [{title}]({arxiv_abs_url(paper.arxiv_id)})",
        "\n".join(f"**{name}**: {value}{_LINE_BREAK}" for name, value in fields),
        f"#### Abstract\n{abstract_excerpt(paper.abstract)}",
    ]
    if entry.summary is not None:
        summary = neutralize_model_markdown(entry.summary.text)
        if summary:  # an empty summary gets no empty block
            parts.append(summary_block(entry.summary.model, summary))
    parts.append("---")
    return "\n\n".join(parts)


def summary_block(model: str, markdown: str) -> str:
    """The collapsible summary; ``markdown`` must already be neutralised.

    The ``<summary>`` line is raw HTML, where markdown escapes would show, so the model's name is
    HTML-escaped instead. The blank lines around the summary let GitHub render it as markdown.
    """
    label = escape_html(one_line(model))
    return (
        "<details>\n"
        f"<summary><strong>🤖 AI Summary (by {label})</strong> - Click to expand</summary>\n\n"
        f"{markdown}\n\n"
        "</details>"
    )


def abstract_excerpt(abstract: str) -> str:
    """The abstract as the reference shows it: its first 300 characters, escaped, then ``...``.

    An abstract of 300 characters or fewer is shown whole, with nothing appended (nothing was cut).
    Whitespace is collapsed before counting (API abstracts are wrapped), and the cut is made before
    escaping, so ``&`` or ``*`` count as one character each.
    """
    text = one_line(abstract)
    if not text:
        return "*No abstract.*"
    if len(text) <= ABSTRACT_LIMIT:
        return escape_markdown(text)
    cut = text[:ABSTRACT_LIMIT]
    # A cut just after a space keeps it ("word ..."), as the reference's plain slice did.
    return escape_markdown(cut) + (" ..." if cut.endswith(" ") else "...")


def _format_timestamp(moment: datetime) -> str:
    # A naive datetime is taken as UTC, the zone the whole pipeline works in.
    utc = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%d %H:%M:%S UTC")


def _inline(text: str) -> str:
    # Escaped for a place after other text on its line (never where "1." could open a list).
    return escape_markdown(text, at_line_start=False)


def _comma_list(items: Iterable[str]) -> str:
    # Only the first item can land at the start of a line (e.g. after "- " in a template).
    return escape_markdown(", ".join(items)) or "(none)"
