"""The HW1 problem sheet, docs/hw1p1.md: its anchors and the functions it explains.

Messages and the practice-mode starter link to the sheet's sections by anchor
(``docs/hw1p1.md#batchnorm``), and a student in practice mode has only the sheet to
tell them what each stubbed function must do.  So every problem that has parts in the
HW1 spec needs its anchor, and every part must be named in its problem's section.
"""
import re
from pathlib import Path

import pytest

from autograder import specs

ROOT = Path(__file__).resolve().parent.parent
SHEET = ROOT / "docs" / "hw1p1.md"
ANCHOR = re.compile(r'<a id="([^"]+)"></a>')

# The section of each HW1 problem.  A problem added to the spec fails the test until
# the sheet has a section for it and this table names it.
PROBLEM_ANCHORS = {
    "1.1.1": "sub", "1.1.2": "mul", "1.1.3": "div", "1.2": "autograd",
    "2.1": "linear", "2.2": "relu", "2.3": "sgd", "2.4": "batchnorm",
    "2.5": "cross-entropy", "2.6": "momentum", "3": "mnist",
}
# Sections the problems' sections and the messages refer to.
OTHER_ANCHORS = {"tensor-attributes", "worked-example", "broadcasting", "log-sum-exp",
                 "practice-mode", "grader"}


@pytest.fixture(scope="module")
def sheet():
    return SHEET.read_text(encoding="utf-8")


def sections(text):
    """{anchor: text up to the next top-level (##) section's anchor}: a ### subsection
    with an anchor of its own stays inside its problem's section."""
    found = list(ANCHOR.finditer(text))
    tops = [m for m in found
            if text[m.end():].lstrip("\n").startswith("## ")]
    result = {}
    for index, match in enumerate(tops):
        end = tops[index + 1].start() if index + 1 < len(tops) else len(text)
        result[match.group(1)] = text[match.end():end]
    return result


def test_the_sheet_has_every_anchor_the_messages_use(sheet):
    anchors = ANCHOR.findall(sheet)
    assert len(anchors) == len(set(anchors)), "an anchor appears twice"
    missing = (set(PROBLEM_ANCHORS.values()) | OTHER_ANCHORS) - set(anchors)
    assert not missing, "docs/hw1p1.md lacks the anchors {}".format(sorted(missing))


def test_every_problem_with_parts_has_a_section():
    spec = specs.get("1")
    unknown = sorted({part.problem for part in spec.parts} - set(PROBLEM_ANCHORS))
    assert not unknown, ("problems {} have parts but no section in docs/hw1p1.md (add one "
                         "and name its anchor in PROBLEM_ANCHORS)".format(unknown))


def test_every_problem_section_is_a_top_level_heading_with_its_points(sheet):
    spec = specs.get("1")
    by_anchor = sections(sheet)
    for number, anchor in PROBLEM_ANCHORS.items():
        assert anchor in by_anchor, "#{} is not followed by a ## heading".format(anchor)
        heading = by_anchor[anchor].lstrip("\n").splitlines()[0]
        problem = spec.problem(number)
        assert heading.startswith("## {} ".format(number)), heading
        assert "({} points".format(problem.points) in heading, heading


def test_every_part_is_named_in_its_problems_section(sheet):
    by_anchor = sections(sheet)
    missing = []
    for part in specs.get("1").parts:
        section = by_anchor.get(PROBLEM_ANCHORS.get(part.problem), "")
        for needed in ("`{}`".format(part.qualname), "`{}`".format(part.path)):
            if needed not in section:
                missing.append("{} {} (problem {})".format(part.path, part.qualname,
                                                             part.problem))
                break
    assert not missing, "not named in their problem's section of docs/hw1p1.md:\n" + \
        "\n".join(missing)


def test_the_table_links_every_problem(sheet):
    for number, anchor in PROBLEM_ANCHORS.items():
        assert "[{}](#{})".format(number, anchor) in sheet


def test_every_local_link_and_figure_resolves(sheet):
    anchors = set(ANCHOR.findall(sheet))
    for target in re.findall(r"\]\(#([^)]+)\)", sheet):
        assert target in anchors, "link to #{} has no anchor".format(target)
    for image in re.findall(r"!\[[^\]]*\]\(([^)#]+)\)", sheet):
        assert (SHEET.parent / image).is_file(), "figure {} is missing".format(image)
