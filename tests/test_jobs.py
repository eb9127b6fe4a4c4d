"""Upload jobs (`api/jobs.py`) stay small however many rows go wrong: exact counts, a capped list
of outcomes that says it was cut, and a log of a summary and the first problems, not of each."""

from __future__ import annotations

import logging
import time

from jianyan.api.jobs import DETAIL, Job, JobManager
from jianyan.ingest.pipeline import LOGGED_PROBLEMS, FileToIngest, Outcome
from jianyan.ingest.readers import FieldMapping
from jianyan.library import Library

BAD_ROWS = 3_000


def _run_job(job: Job, library: Library) -> None:
    """`job` through a real `JobManager` and `Library.ingest`, as the service runs uploads (the
    indexes left out: no model is needed to count outcomes)."""
    manager = JobManager(lambda j: library.ingest(files=j.files, mapping=j.mapping, index=False,
                                                  on_outcome=j.on_outcome))
    manager.submit(job)
    deadline = time.monotonic() + 120
    while job.status in ("queued", "running"):
        assert time.monotonic() < deadline, job.to_dict()["counts"]
        time.sleep(0.05)
    manager.stop()  # after the job's own closing log line


def test_a_job_of_thousands_of_bad_rows_counts_them_all_and_lists_the_first(tmp_path, caplog):
    folder = tmp_path / "upload"
    folder.mkdir()
    rows = ["编号,案由,内容"] + [f"B{i},关于第{i}条空白记录的提案," for i in range(BAD_ROWS)]
    rows += ["G1,关于加强河道巡查的提案,建议汛期增加河道巡查频次，及时清理阻水障碍。",
             "G2,关于完善防汛物资储备的提案,建议各乡镇按标准储备防汛物资，定期检查更新。"]
    (folder / "0000.csv").write_text("\n".join(rows), encoding="utf-8")
    job = Job([FileToIngest(folder / "0000.csv", "导出.csv", "导出.csv")], folder,
              FieldMapping.parse("id=编号,title=案由,body=内容"))
    with caplog.at_level(logging.INFO, logger="jianyan"):
        _run_job(job, Library(tmp_path / "data"))
    found = job.to_dict()
    assert found["status"] == "done", found["error"]
    assert found["counts"] == {"failed": BAD_ROWS, "added": 2}
    failed = [o for o in found["outcomes"] if o["status"] == "failed"]
    assert [o["source"] for o in failed] == [f"导出.csv#{n}" for n in range(2, DETAIL + 2)]
    assert all("正文为空" in o["message"] for o in failed)
    # The good rows after the flood are still listed: each kind has its own DETAIL.
    assert [o["external_id"] for o in found["outcomes"] if o["status"] == "added"] == ["G1", "G2"]
    assert found["outcomes_truncated"] is True and found["outcomes_omitted"] == BAD_ROWS - DETAIL
    assert len(job.outcomes) == DETAIL + 2  # what the job holds, not only what it shows

    messages = [r.getMessage() for r in caplog.records]
    assert sum(m.startswith("导入失败") for m in messages) == LOGGED_PROBLEMS
    assert f"另有 {BAD_ROWS - LOGGED_PROBLEMS} 个文件或记录未能导入或被跳过，未逐条写入日志（详见导入结果）" in messages
    assert any(m.startswith(f"任务 {job.id} 完成：failed {BAD_ROWS}，added 2") for m in messages), messages[-3:]
    assert len(messages) < 3 * LOGGED_PROBLEMS


def test_a_flood_of_good_outcomes_does_not_hide_the_problems():
    job = Job([], None)
    for i in range(DETAIL + 500):
        job.on_outcome(Outcome(f"导出.csv#{i + 2}", "added", external_id=f"G{i}"))
    job.on_outcome(Outcome("导出.csv#9999", "failed", "第 9999 行正文为空，已跳过", "empty"))
    found = job.to_dict()
    assert found["counts"] == {"added": DETAIL + 500, "failed": 1}
    assert found["outcomes"][-1]["source"] == "导出.csv#9999" and len(found["outcomes"]) == DETAIL + 1
    assert found["outcomes_truncated"] is True and found["outcomes_omitted"] == 500


def test_a_small_job_lists_everything_and_says_nothing_was_cut():
    job = Job([], None)
    job.on_outcome(Outcome("通知.txt", "added", external_id="通知.txt"))
    job.on_outcome(Outcome("坏.pdf", "failed", "文件已损坏", "corrupt"))
    found = job.to_dict()
    assert [o["source"] for o in found["outcomes"]] == ["通知.txt", "坏.pdf"]
    assert found["outcomes_truncated"] is False and found["outcomes_omitted"] == 0
