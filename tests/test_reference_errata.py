"""Replay the witnesses of the Reference section of docs/errata.md exactly as written there."""

import contextlib
import io
import pathlib
import re

import pytest

ERRATA = pathlib.Path(__file__).resolve().parents[1] / "docs" / "errata.md"


def reference_witnesses():
    text = ERRATA.read_text()
    start = text.index("## Reference (estimators/reference.py)")
    end = text.find("\n## ", start + 1)
    section = text[start:] if end < 0 else text[start:end]
    blocks = re.findall(r"```bash\n\s*\.venv/bin/python -c \"(.*?)\"\n\s*# (.*?)\n\s*```", section)
    return blocks


def test_every_reference_erratum_has_a_witness():
    assert len(reference_witnesses()) == 5


@pytest.mark.parametrize("code,printed", reference_witnesses())
def test_witness_replays_with_the_documented_output(code, printed):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code, {})  # noqa: S102 -- the witness text of docs/errata.md, run as documented
    assert out.getvalue().strip() == printed
