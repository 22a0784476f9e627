"""pdca-email against a real SMTP server: what arrives, how it is secured, retried, not doubled.

One playbook, three people: tom and maria have addresses, aisha has none. On
9 January tom has 'analyse' (due that day) in progress with a hostile note,
so his digest and his reminder have something to say.
"""

from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from pdca.cli import cli

from conftest import PASSWORD, USER, Inbox

DAY = "2026-01-09"
NOTE = "<script>alert(1)</script> & \x1b]0;owned\x07"
PLAYBOOK = """\
playbook: desk
title: Support desk
owners:
  maria: {name: Maria Lopez, email: maria@example.com}
  tom: {name: "Tom <Berg>", email: tom@example.com}
  aisha: {name: Aisha}
  ops: {name: Ops, members: [tom], email: ops@example.com}
objectives:
  happy: {title: Happy customers, owner: maria, due: 2026-03-31}
tasks:
  analyse: {title: Analyse, owner: tom, phase: plan, objective: happy, due: 2026-01-09}
  fix: {title: Fix the rota, owner: ops, phase: plan, due: 2026-01-10, depends_on: [analyse]}
  train: {title: Train agents, owner: aisha, phase: plan}
cycle: {start: 2026-01-05, length: 90d}
"""


def pdca(*argv: Any, code: int = 0, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(cli, [str(a) for a in argv], env=env)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def desk(tmp_path: Path) -> Path:
    path = tmp_path / "playbook.yaml"
    path.write_text(PLAYBOOK)
    pdca("run", path, "--as-of", "2026-01-05")
    pdca("task", path, "start", "analyse", "--by", "tom", "--on", "2026-01-06", "--note", NOTE)
    return path


def settings(box: Inbox, security: str = "none", **more: str) -> dict[str, str]:
    return {
        "PDCA_SMTP_HOST": "127.0.0.1",
        "PDCA_SMTP_PORT": str(box.port),
        "PDCA_SMTP_SECURITY": security,
        "PDCA_SMTP_FROM": "pdca@example.com",
        "PDCA_SMTP_BACKOFF": "0.01",
        **more,
    }


def secure(box: Inbox, security: str, cert: tuple[Path, Path]) -> dict[str, str]:
    return settings(
        box,
        security,
        PDCA_SMTP_USER=USER,
        PDCA_SMTP_PASSWORD=PASSWORD,
        PDCA_SMTP_CA_FILE=str(cert[0]),
    )


def parts(msg: EmailMessage) -> tuple[str, str]:
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    # the wire has CRLF line ends; the text as written has LF
    return text.get_content().replace("\r\n", "\n"), html.get_content().replace("\r\n", "\n")


def test_each_person_gets_their_digest_once_a_day_over_starttls(
    desk: Path, smtp_server: Any, cert: tuple[Path, Path]
) -> None:
    box = smtp_server("starttls", cert)
    env = secure(box, "starttls", cert)
    result = pdca("email", "digest", desk, "--as-of", DAY, env=env)
    assert PASSWORD not in result.output
    assert box.logins == [(USER.encode(), PASSWORD.encode())] * 2  # one per message
    # playbook order of people: maria, tom (aisha has no address: said, not fatal)
    assert [(frm, to) for frm, to, _ in box.received] == [
        ("pdca@example.com", ["maria@example.com"]),
        ("pdca@example.com", ["tom@example.com"]),
    ]
    assert "Aisha (aisha): no email in the playbooks" in result.stderr
    msg = box.received[1][2]
    assert msg["To"] == '"Tom <Berg>" <tom@example.com>'
    assert msg["From"] == "pdca@example.com"
    # tom owes analyse (in progress, due today) and fix (his team's, due tomorrow)
    assert msg["Subject"] == "pdca digest for Tom <Berg>, 2026-01-09: 1 to do, 2 due soon"
    assert msg["Auto-Submitted"] == "auto-generated" and msg["Message-ID"]
    assert msg.get_content_type() == "multipart/alternative"
    text, html = parts(msg)
    assert "Digest for Tom <Berg> (tom), as of 2026-01-09" in text
    assert '"<script>alert(1)</script> & \\x1b]0;owned\\x07"' in text and "\x1b" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; \\x1b]0;owned\\x07" in html
    assert "<script" not in html and "Tom &lt;Berg&gt;" in html
    assert "2026-01-10 (in 1 day)  desk: task fix: Fix the rota" in text

    # the same day again: nothing sent, the state says why
    again = pdca("email", "digest", desk, "--as-of", DAY, env=env)
    assert len(box.received) == 2
    assert "Tom <Berg> (tom): digest for 2026-01-09 already sent" in again.stdout
    # the next digest starts after the one sent
    doc = json.loads(pdca("digest", desk, "--as-of", DAY, "--format", "json").stdout)
    assert doc["people"]["tom"]["since"]["desk"]["from"] == "last_digest"
    assert doc["people"]["aisha"]["since"]["desk"]["from"] == "first"
    history = pdca("history", desk).stdout
    assert history.count("digest for tom (email)") == 1


def test_tls_from_the_first_byte(desk: Path, smtp_server: Any, cert: tuple[Path, Path]) -> None:
    box = smtp_server("tls", cert)
    pdca("email", "digest", desk, "--as-of", DAY, "--owner", "tom", env=secure(box, "tls", cert))
    assert [to for _, to, _ in box.received] == [["tom@example.com"]]


def test_a_certificate_nobody_vouches_for_is_refused(
    desk: Path, smtp_server: Any, cert: tuple[Path, Path]
) -> None:
    box = smtp_server("starttls", cert)
    env = secure(box, "starttls", cert)
    del env["PDCA_SMTP_CA_FILE"]
    result = pdca("email", "digest", desk, "--as-of", DAY, "--owner", "tom", env=env, code=1)
    assert "certificate does not verify" in result.stderr and "PDCA_SMTP_CA_FILE" in result.stderr
    assert box.received == [] and box.logins == [] and PASSWORD not in result.output


def test_a_temporary_refusal_is_retried(desk: Path, smtp_server: Any) -> None:
    box = smtp_server(refuse=2)
    result = pdca("email", "digest", desk, "--as-of", DAY, "--owner", "tom", env=settings(box))
    assert box.attempts == 3 and len(box.received) == 1
    assert "digest sent to tom@example.com (after 3 attempts)" in result.stdout


def test_a_permanent_refusal_is_reported_and_not_recorded(desk: Path, smtp_server: Any) -> None:
    box = smtp_server(refuse=1, refuse_with="550 5.7.1 Not today")
    env = settings(box)
    result = pdca("email", "digest", desk, "--as-of", DAY, "--owner", "tom", env=env, code=1)
    assert box.attempts == 1  # not retried
    assert "error: Tom <Berg> (tom): digest not sent: 127.0.0.1" in result.stderr
    assert "550 5.7.1 Not today" in result.stderr
    # nothing recorded: the next run sends it
    pdca("email", "digest", desk, "--as-of", DAY, "--owner", "tom", env=env)
    assert len(box.received) == 1


def test_a_server_that_is_down_is_retried_then_reported(desk: Path) -> None:
    from conftest import free_port

    env = {**settings(Inbox(port=free_port())), "PDCA_SMTP_RETRIES": "2"}
    result = pdca("email", "digest", desk, "--as-of", DAY, "--owner", "tom", env=env, code=1)
    assert "ConnectionRefusedError" in result.stderr
    assert "1 digest(s) not sent; the next run tries them again" in result.stderr


def test_reminders_list_overdue_and_due_soon_work_once_a_day(desk: Path, smtp_server: Any) -> None:
    box = smtp_server()
    env = settings(box)
    # on 10 January analyse is overdue (1 day) and fix is due that day
    result = pdca("email", "reminders", desk, "--as-of", "2026-01-10", env=env)
    assert [to for _, to, _ in box.received] == [["tom@example.com"]]
    assert "Maria Lopez (maria): nothing to tell" in result.stdout
    msg = box.received[0][2]
    assert msg["Subject"] == "pdca reminder for Tom <Berg>: 2 items due"
    text, html = parts(msg)
    assert text == (
        "Reminder for Tom <Berg> (tom), as of 2026-01-10\n\n"
        "Overdue\n  desk: task analyse: Analyse (in progress, due 2026-01-09)\n\n"
        "Due within 2 days\n  2026-01-10 (today)  desk: task fix: Fix the rota\n"
    )
    assert "Tom &lt;Berg&gt;" in html and "<script" not in html
    pdca("email", "reminders", desk, "--as-of", "2026-01-10", env=env)
    assert len(box.received) == 1
    # a reminder is not a digest: the digest still starts from nothing
    doc = json.loads(pdca("digest", desk, "--as-of", "2026-01-10", "--format", "json").stdout)
    assert doc["people"]["tom"]["since"]["desk"]["from"] == "first"


def test_dry_run_sends_and_records_nothing(desk: Path) -> None:
    result = pdca("email", "digest", desk, "--as-of", DAY, "--dry-run")
    assert "Tom <Berg> (tom): would send the digest to tom@example.com" in result.stdout
    doc = json.loads(pdca("digest", desk, "--as-of", DAY, "--format", "json").stdout)
    assert doc["people"]["tom"]["since"]["desk"]["from"] == "first"


@pytest.mark.parametrize(
    ("address", "said"),
    [
        ("tom@example.com\\nBcc: all@example.com", "is not an address like name@example.com"),
        ("Tom <tom@example.com>", "is not an address like name@example.com"),
        ("tom", "is not an address like name@example.com"),
    ],
)
def test_a_bad_address_is_refused_where_it_is_written(
    desk: Path, smtp_server: Any, address: str, said: str
) -> None:
    box = smtp_server()
    desk.write_text(PLAYBOOK.replace("email: tom@example.com", f'email: "{address}"'))
    result = pdca("email", "digest", desk, "--as-of", DAY, env=settings(box), code=1)
    assert result.stderr.startswith(f"{desk}:5:36: error: owner 'tom': email '")
    assert f"' {said}; write one plain address" in result.stderr
    assert box.received == []


def test_two_addresses_for_one_person_are_refused(desk: Path, smtp_server: Any) -> None:
    other = desk.parent / "other.pdca.yaml"
    other.write_text(
        PLAYBOOK.replace("playbook: desk", "playbook: other").replace(
            "tom@example.com", "tom@elsewhere.example"
        )
    )
    box = smtp_server()
    result = pdca("email", "digest", desk, other, "--as-of", DAY, env=settings(box), code=1)
    assert "owner 'tom': email tom@elsewhere.example differs from tom@example.com" in result.stderr


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({}, "set PDCA_SMTP_HOST to the SMTP server's host name"),
        ({"PDCA_SMTP_HOST": "h"}, "PDCA_SMTP_FROM is not set"),
        (
            {"PDCA_SMTP_HOST": "h", "PDCA_SMTP_FROM": "x", "PDCA_SMTP_SECURITY": "none"},
            "'x' is not",
        ),
        (
            {
                "PDCA_SMTP_HOST": "h",
                "PDCA_SMTP_FROM": "a@b.example",
                "PDCA_SMTP_SECURITY": "none",
                "PDCA_SMTP_USER": "u",
                "PDCA_SMTP_PASSWORD": "hunter2-secret",
            },
            "the password would cross the network in clear",
        ),
        (
            {"PDCA_SMTP_HOST": "h", "PDCA_SMTP_FROM": "a@b.example", "PDCA_SMTP_PORT": "99999"},
            "not a port",
        ),
        (
            {"PDCA_SMTP_HOST": "h", "PDCA_SMTP_FROM": "a@b.example", "PDCA_SMTP_SECURITY": "ssl"},
            "use one of",
        ),
    ],
)
def test_settings_that_cannot_work_are_refused(desk: Path, env: dict[str, str], said: str) -> None:
    result = pdca("email", "digest", desk, "--as-of", DAY, env=env, code=1)
    assert said in result.stderr and "hunter2-secret" not in result.output


@pytest.mark.parametrize("command", ["digest", "reminders"])
@pytest.mark.parametrize(
    "argv",
    [
        ["{missing}"],
        ["{folder}"],
        ["{garbage}"],
        ["{pb}", "--as-of", "2026-02-30"],
        ["{pb}", "--as-of", "9999-12-31"],
        ["{pb}", "--owner", "nobody"],
        ["{pb}", "--state", "sqlite://"],
        ["{pb}", "--state", "mysql://u@host/db"],
    ],
)
def test_hostile_input_is_refused_with_a_message(desk: Path, command: str, argv: list[str]) -> None:
    (desk.parent / "folder").mkdir()
    (desk.parent / "garbage.yaml").write_bytes(bytes(range(256)))
    places = {
        "{pb}": str(desk),
        "{missing}": str(desk.parent / "missing.yaml"),
        "{folder}": str(desk.parent / "folder"),
        "{garbage}": str(desk.parent / "garbage.yaml"),
    }
    args = [places.get(a, a) for a in argv]
    result = CliRunner().invoke(cli, ["email", command, *args, "--dry-run"])
    assert result.exit_code in (1, 2), result.output
    assert result.output.strip() and "Traceback" not in result.output
    assert "internal error" not in result.output


def test_a_name_cannot_add_a_header_or_a_recipient(desk: Path, smtp_server: Any) -> None:
    box = smtp_server()
    desk.write_text(PLAYBOOK.replace('"Tom <Berg>"', '"Tom\\nBcc: evil@example.com"'))
    pdca("email", "digest", desk, "--as-of", DAY, "--owner", "tom", env=settings(box))
    (_, rcpt, msg), *_ = box.received
    assert rcpt == ["tom@example.com"] and msg["Bcc"] is None
    assert msg["To"] == '"Tom Bcc: evil@example.com" <tom@example.com>'
    # one header still (folded: its unfolded value may start with the fold's space)
    assert msg["Subject"].strip().startswith("pdca digest for Tom Bcc: evil@example.com, 2026")
