"""`kehoach report` makes a draft and says what to do next; `kehoach report approve` refuses bad
input with exit 2 and one line naming the option, records nothing and sends nothing."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest
from click.testing import CliRunner

from flows import resources
from kehoach.cli.app import cli
from plan.report_book import ReportBook


def _invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _mails(home: Path) -> int:
    box = home / "maildir"
    return len(mailbox.Maildir(str(box), create=False)) if box.exists() else 0


def test_report_makes_a_draft_and_tells_what_to_do_next(kehoach_home, plan):
    result = _invoke("report", "--period", "2023-Q1", "--as-of", "2023-03-31")
    assert result.exit_code == 0, result.output
    assert "Dự thảo báo cáo kỳ 2023-Q1 lần 1 đã lập" in result.output
    assert "CHƯA gửi cho nơi nhận" in result.output and "kehoach report approve --period 2023-Q1 --number SỐ" in result.output
    assert _mails(kehoach_home) == 1, "one notice to the compiling unit"
    silent = _invoke("report", "--period", "2023-H1", "--as-of", "2023-06-30", "--no-send")
    assert silent.exit_code == 0, silent.output
    assert _mails(kehoach_home) == 1, "--no-send: no mail at all"


@pytest.mark.parametrize(
    "args, words",
    [
        (["--period", "2023-Q1", "--number", "abc"], "--number: «abc» không phải số văn bản"),
        (["--period", "2023-Q2", "--number", "12"], "--period: chưa có dự thảo báo cáo quý II năm 2023"),
        (["--period", "2023-Q1", "--number", "12", "--signed", "{bad}"], "--signed: ban-ky.pdf không phải tệp PDF"),
        (["--period", "2023-Q1", "--number", "12", "--signed", "{missing}"], "--signed: không có tệp"),
        (["--period", "2023-Q7", "--number", "12"], "--period:"),
    ],
    ids=["number", "no-draft", "not-a-pdf", "missing-file", "bad-period"],
)
def test_approve_refuses_bad_input_with_exit_2_and_records_nothing(kehoach_home, plan, tmp_path, args, words):
    from kehoach.cli.app import main

    assert _invoke("report", "--period", "2023-Q1", "--as-of", "2023-03-31", "--no-send").exit_code == 0
    bad = tmp_path / "ban-ky.pdf"
    bad.write_text("không phải PDF", encoding="utf-8")
    args = [a.format(bad=bad, missing=tmp_path / "khong-co.pdf") for a in args]
    with pytest.raises(SystemExit) as ended:
        import sys

        sys.argv = ["kehoach", "report", "approve", *args]
        main()
    assert ended.value.code == 2
    assert ReportBook(resources.ledger()).approval(plan.id, "2023-Q1") is None and _mails(kehoach_home) == 0


def test_approve_messages_are_one_line_without_traceback(kehoach_home, plan, capsys):
    from kehoach.cli.app import main

    with pytest.raises(SystemExit):
        import sys

        sys.argv = ["kehoach", "report", "approve", "--period", "2023", "--number", "0"]
        main()
    err = capsys.readouterr().err
    assert err.startswith("kehoach: báo cáo không được duyệt: --") and "Traceback" not in err
