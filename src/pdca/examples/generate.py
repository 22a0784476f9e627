"""Seeded, realistic service-desk data for the example playbooks, the demo and the benchmarks.

Real customer data cannot ship with pdca, yet an example is only convincing when a
control chart on it shows what one shows at a real desk: weekday and hour rhythms,
long-tailed waiting times, repeat customers, holiday dips, week-to-week noise, and
one genuine change. So every generator here plants a countermeasure: from a chosen
date (the middle of the range unless told otherwise) response times fall and NPS,
CSAT and first-contact resolution rise by clearly more than the weekly noise, while
customer effort (and, at the IT desk, the reopen rate) stays pure noise. A check run
on the data should call the first a shift and leave the second alone.

Everything is drawn from one ``numpy`` generator seeded by the caller, so the same
arguments always write byte-identical files: the committed example data can be
regenerated and compared, and the demo can rebuild its data at run time instead of
shipping it.

The generators live one module per example (:mod:`~pdca.examples.support_desk`,
:mod:`~pdca.examples.it_service_desk`, :mod:`~pdca.examples.tickets` for the
benchmarks), on shared pieces: :mod:`~pdca.examples.scenarios` (the pinned dates
and seeds), :mod:`~pdca.examples.timeline` (calendar rhythms and the planted
change), :mod:`~pdca.examples.desk_model` and :mod:`~pdca.examples.comments`
(the support desk's model and survey text) and :mod:`~pdca.examples.columns`
(byte-stable file output). This module keeps every name it had before the
split, installs the bundled examples and is the command line.

Run ``python -m pdca.examples.generate --help`` for the command line.
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from pdca.examples import (
    columns,
    comments,
    desk_model,
    it_service_desk,
    scenarios,
    tickets,
    timeline,
)
from pdca.examples.desk_model import CHANNELS as CHANNELS
from pdca.examples.desk_model import CONTACT_REASONS as CONTACT_REASONS
from pdca.examples.desk_model import PRIORITIES as PRIORITIES
from pdca.examples.desk_model import REGIONS as REGIONS
from pdca.examples.it_service_desk import IT_CATEGORIES as IT_CATEGORIES
from pdca.examples.it_service_desk import IT_CHANNELS as IT_CHANNELS
from pdca.examples.it_service_desk import IT_PRIORITIES as IT_PRIORITIES
from pdca.examples.it_service_desk import SITES as SITES
from pdca.examples.it_service_desk import TEAMS as TEAMS
from pdca.examples.it_service_desk import TENURES as TENURES
from pdca.examples.it_service_desk import generate_it_service_desk as generate_it_service_desk
from pdca.examples.scenarios import IT_SERVICE_DESK as IT_SERVICE_DESK
from pdca.examples.scenarios import SCENARIOS as SCENARIOS
from pdca.examples.scenarios import SUPPORT_DESK as SUPPORT_DESK
from pdca.examples.scenarios import DateLike as DateLike
from pdca.examples.scenarios import Scenario as Scenario
from pdca.examples.support_desk import generate_support_desk as generate_support_desk
from pdca.examples.tickets import generate_tickets as generate_tickets

# Names that were private here before the split; their new homes make them public.
_fmt = columns.decimals
_iso = columns.iso
_write_csv = columns.write_csv
_yes_no = columns.yes_no
_COMMENTS_EN = comments.COMMENTS_EN
_COMMENTS_HTML = comments.COMMENTS_HTML
_COMMENTS_SV = comments.COMMENTS_SV
_comments = comments.survey_comments
_wait_text = comments.wait_text
_CH_FCR = desk_model.CH_FCR
_CH_GAIN = desk_model.CH_GAIN
_CH_MEDIAN_MIN = desk_model.CH_MEDIAN_MIN
_CH_P = desk_model.CH_P
_CH_SIGMA = desk_model.CH_SIGMA
_DeskWorld = desk_model.DeskWorld
_FCR_GAIN = desk_model.FCR_GAIN
_MOOD_BASE = desk_model.MOOD_BASE
_MOOD_GAIN = desk_model.MOOD_GAIN
_PRIO_P = desk_model.PRIO_P
_PRIO_SLA_MIN = desk_model.PRIO_SLA_MIN
_PRIO_SPEED = desk_model.PRIO_SPEED
_REASON_FCR = desk_model.REASON_FCR
_REASON_P = desk_model.REASON_P
_REGION_P = desk_model.REGION_P
_desk_scores = desk_model.desk_scores
_desk_tickets = desk_model.desk_tickets
_IT_CAT_FCR = it_service_desk.IT_CAT_FCR
_IT_CAT_GROUP = it_service_desk.IT_CAT_GROUP
_IT_CAT_P = it_service_desk.IT_CAT_P
_IT_CH_FCR = it_service_desk.IT_CH_FCR
_IT_CH_MEDIAN_MIN = it_service_desk.IT_CH_MEDIAN_MIN
_IT_CH_P = it_service_desk.IT_CH_P
_IT_L1 = it_service_desk.IT_L1
_IT_PRIO_MEDIAN_H = it_service_desk.IT_PRIO_MEDIAN_H
_IT_PRIO_P = it_service_desk.IT_PRIO_P
_IT_PRIO_SLA_H = it_service_desk.IT_PRIO_SLA_H
_SITE_P = it_service_desk.SITE_P
_TEAM_SIZE = it_service_desk.TEAM_SIZE
_write_pulse = it_service_desk.write_pulse
_as_date = scenarios.as_date
_dates = scenarios.time_frame
_day_chunks = tickets.day_chunks
_DAY = timeline.DAY
_HOLIDAY_VOLUME = timeline.HOLIDAY_VOLUME
_HOURS_CUSTOMER = timeline.HOURS_CUSTOMER
_HOURS_OFFICE = timeline.HOURS_OFFICE
_HOURS_SURVEY = timeline.HOURS_SURVEY
_SECOND = timeline.SECOND
_WEEKDAY_CUSTOMER = timeline.WEEKDAY_CUSTOMER
_WEEKDAY_OFFICE = timeline.WEEKDAY_OFFICE
_daily_rates = timeline.daily_rates
_easter = timeline.easter_sunday
_effect = timeline.effect
_holidays = timeline.holiday_dates
_pick = timeline.pick
_stamp = timeline.stamp
_times_of_day = timeline.times_of_day
_weekday = timeline.weekday_of
_weeks = timeline.week_index


# --------------------------------------------------------------------------- example playbooks

_GENERATORS: dict[str, Callable[..., dict[str, Path]]] = {
    "support-desk": generate_support_desk,
    "it-service-desk": generate_it_service_desk,
}


def generate_example_data(name: str, folder: Path | str) -> dict[str, Path]:
    """Write an example playbook's data into ``folder`` exactly as committed (pinned scenario)."""
    s = SCENARIOS[name]
    return _GENERATORS[name](folder, s.start, s.end, s.seed, countermeasure=s.countermeasure)


def generate_playbooks(root: Path | str = "playbooks") -> dict[str, dict[str, Path]]:
    """Regenerate the data of every example playbook under ``root`` (``<root>/<name>/data``)."""
    root = Path(root)
    for name in SCENARIOS:
        write_schema(root / name)
    return {name: generate_example_data(name, root / name / "data") for name in SCENARIOS}


def write_schema(folder: Path) -> Path:
    """The playbook schema beside an example, where its first line's modeline points."""
    from pdca.playbook.schema import SCHEMA_FILE, schema_text

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SCHEMA_FILE
    path.write_text(schema_text(), encoding="utf-8")
    return path


def bundled_example(name: str = "support-desk") -> Path:
    """The folder of an example playbook shipped inside the package (without its data)."""
    folder = Path(__file__).with_name(name)
    if not (folder / "playbook.yaml").is_file():
        raise FileNotFoundError(f"no bundled example named {name!r}")
    return folder


def install_example(dest: Path | str, name: str = "support-desk") -> Path:
    """Copy a bundled example into ``dest``, generate its data, and return the playbook path.

    The package ships only the playbook and README: regenerating the data here keeps
    the wheel small and gives the demo the same files as ``playbooks/<name>``.
    """
    src = bundled_example(name)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for item in ("playbook.yaml", "README.md"):
        if (src / item).is_file():
            shutil.copyfile(src / item, dest / item)
    write_schema(dest)
    generate_example_data(name, dest / "data")
    return dest / "playbook.yaml"


# --------------------------------------------------------------------------- command line


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m pdca.examples.generate",
        description="Write seeded, realistic service-desk data with a planted improvement.",
    )
    sub = p.add_subparsers(dest="command", required=True)
    for name, s in SCENARIOS.items():
        sp = sub.add_parser(name, help=f"data for the {name} example into FOLDER")
        sp.add_argument("folder", type=Path)
        sp.add_argument("--start", type=date.fromisoformat, default=s.start)
        sp.add_argument("--end", type=date.fromisoformat, default=s.end, help="exclusive")
        sp.add_argument(
            "--countermeasure",
            type=date.fromisoformat,
            default=None,
            help="date the improvement starts (default: the middle of the range)",
        )
        sp.add_argument("--seed", type=int, default=s.seed)
    tp = sub.add_parser("tickets", help="N benchmark tickets into PATH (csv or parquet)")
    tp.add_argument("n_rows", type=int)
    tp.add_argument("path", type=Path)
    tp.add_argument("--format", choices=("csv", "parquet"), default=None, help="default: from PATH")
    tp.add_argument("--seed", type=int, default=0)
    pp = sub.add_parser("playbooks", help="regenerate the committed example playbook data")
    pp.add_argument("root", type=Path, nargs="?", default=Path("playbooks"))
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m pdca.examples.generate``."""
    args = _parser().parse_args(argv)
    written: list[Path] = []
    if args.command in SCENARIOS:
        written += _GENERATORS[args.command](
            args.folder, args.start, args.end, args.seed, countermeasure=args.countermeasure
        ).values()
    elif args.command == "tickets":
        fmt = args.format or ("parquet" if args.path.suffix == ".parquet" else "csv")
        written.append(generate_tickets(args.n_rows, args.path, fmt, args.seed))
    else:
        for files in generate_playbooks(args.root).values():
            written += files.values()
    for path in written:
        print(f"{path}  ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
