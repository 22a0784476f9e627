"""The trust boundary is written down and reachable from the README and docs."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_security_doc_says_a_playbook_is_code_and_is_linked():
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    assert "## A playbook folder is code" in text
    assert "`plugins:`" in text and "Shell actions" in text
    assert "## What pdca guarantees for everything else" in text
    assert "](docs/security.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](security.md)" in (ROOT / "docs" / "writing-plugins.md").read_text(encoding="utf-8")


def test_security_doc_links_the_hostile_inputs_section():
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    assert "reliability.md#hostile-inputs" in text
    reliability = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    assert "\n## Hostile inputs\n" in reliability
