"""The internal page, end to end: a real headless Chromium (Playwright) against a real `jianyan serve`.

Skipped when Playwright or /usr/bin/chromium is missing, unless JIANYAN_REQUIRE_BROWSER=1 (CI),
which turns a missing browser into a failure. Screenshots of each tab land in
test-output/screenshots/ for a person to look at.
"""

from __future__ import annotations

import csv
import math
import os
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "test-output" / "screenshots"
PROPOSALS = ROOT / "corpora" / "proposals" / "提案导出_2022.csv"
REQUIRE_BROWSER = os.environ.get("JIANYAN_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
TIMEOUT_MS = 20_000

try:
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError as exc:  # pragma: no cover - depends on the machine
    if REQUIRE_BROWSER:
        raise RuntimeError("JIANYAN_REQUIRE_BROWSER=1 but the Python package playwright is not installed") from exc
    pytest.skip("browser tests need the Python package playwright", allow_module_level=True)

if not CHROMIUM.exists():  # pragma: no cover - depends on the machine
    if REQUIRE_BROWSER:
        raise RuntimeError(f"JIANYAN_REQUIRE_BROWSER=1 but {CHROMIUM} is missing (apt-get install chromium)")
    pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM}", allow_module_level=True)


# -- fixtures --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Recorder:
    """What the page did: every request URL and every uncaught script error."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.errors: list[str] = []

    def foreign(self, base: str) -> list[str]:
        origin = urlsplit(base)[:2]
        return [u for u in self.urls if not u.startswith(("data:", "blob:")) and urlsplit(u)[:2] != origin]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def page(browser, server, recorder):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    p = context.new_page()
    p.on("request", lambda r: recorder.urls.append(r.url))
    p.on("pageerror", lambda e: recorder.errors.append(str(e)))
    # The page runs under a strict Content-Security-Policy; a violation is a console error.
    p.on("console", lambda m: recorder.errors.append(m.text)
         if m.type == "error" and "Content Security Policy" in m.text else None)
    yield p
    context.close()
    assert not recorder.errors, f"script errors on the page: {recorder.errors}"
    assert not recorder.foreign(server.url), f"the page asked other hosts: {recorder.foreign(server.url)}"


def shot(page: Page, name: str, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=full_page)


def open_tab(page: Page, server, tab: str) -> None:
    page.goto(f"{server.url}/#{tab}")
    expect(page.get_by_test_id(f"panel-{tab}")).to_be_visible()
    expect(page.get_by_test_id("stats-line")).to_contain_text("收录")  # /api/stats answered


def search(page: Page, query: str) -> None:
    box = page.get_by_test_id("search-input")
    box.fill(query)
    with page.expect_response(lambda r: r.url.endswith("/api/search")) as response:
        box.press("Enter")
    assert response.value.status == 200, response.value.text()


def proposal_text(external_id: str) -> tuple[str, str]:
    with open(PROPOSALS, encoding="utf-8") as fh:
        row = next(r for r in csv.DictReader(fh) if r["编号"] == external_id)
    return row["案由"], row["内容"]


# -- 检索 --------------------------------------------------------------------------------------------
def test_search_shows_highlighted_passage_and_opens_it_in_place(page, server):
    query = "委员联系村（社区）全覆盖"
    open_tab(page, server, "search")
    search(page, query)

    first = page.get_by_test_id("result").first
    expect(first.get_by_test_id("result-title")).to_have_text("2021年县政协工作总结")
    expect(first.get_by_test_id("result-type")).to_have_text("工作报告")
    expect(first.get_by_test_id("result-external-id")).to_have_text("seed/2021年县政协工作总结.txt")
    passage = first.get_by_test_id("passage").filter(has_text="委员联系村（社区）").first
    expect(passage).to_be_visible()
    expect(passage.get_by_test_id("passage-path")).to_contain_text(" › ")
    marks = [m.strip() for m in passage.locator("mark.hl").all_text_contents()]
    assert marks, "the passage shows no highlighted words"
    assert all(m and m in query for m in marks), marks
    shot(page, "search-results.png")

    passage_id = int(passage.get_attribute("data-passage-id"))
    doc_id = int(first.get_attribute("data-document-id"))
    with server.client() as c:
        doc = c.get(f"/api/documents/{doc_id}").json()
    stored = next(p for p in doc["passages"] if p["id"] == passage_id)

    passage.click()
    viewer = page.get_by_test_id("doc-viewer")
    expect(viewer).to_be_visible()
    expect(viewer.get_by_test_id("doc-title")).to_have_text("2021年县政协工作总结")
    expect(viewer.get_by_test_id("doc-meta")).to_contain_text("工作报告")
    focus = viewer.get_by_test_id("doc-focus")
    expect(focus.first).to_be_in_viewport()
    # The marked span is exactly the passage, inside the whole text (which starts before it).
    assert "".join(focus.all_text_contents()) == stored["text"].replace("\n", "")
    expect(viewer.get_by_test_id("doc-text")).to_contain_text(doc["text"][:30])
    assert stored["start"] > 0
    assert viewer.locator("[data-testid=doc-focus].hl").count() > 0, "the query words are not marked in the passage"
    shot(page, "search-document.png", full_page=False)  # the panel is fixed: the viewport is what one sees

    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()


def test_search_without_results_shows_the_notice(page, server):
    open_tab(page, server, "search")
    page.get_by_test_id("search-mode").get_by_text("关键词").click()
    search(page, "zzqxv 火星殖民飞船舱段")
    expect(page.get_by_test_id("search-notice")).to_have_text("没有找到相关文档")
    expect(page.get_by_test_id("result")).to_have_count(0)


# -- 查重 --------------------------------------------------------------------------------------------
def _pct(x: float) -> str:
    """The page's percentage format (app.js `pct`): one decimal, none when it is .0."""
    return f"{math.floor(x * 1000 + 0.5) / 10:g}%"  # Math.round, not Python's round-half-even


def test_dupes_shows_verdict_and_side_by_side_evidence(page, server):
    title, text = proposal_text("2022-006")
    open_tab(page, server, "dupes")
    page.get_by_test_id("dupes-title").fill(title)
    page.get_by_test_id("dupes-text").fill(text)
    with page.expect_response(lambda r: r.url.endswith("/api/dupes")) as response:
        page.get_by_test_id("dupes-submit").click()
    assert response.value.status == 200, response.value.text()

    expect(page.get_by_test_id("verdict-name")).to_have_text("重复")
    expect(page.get_by_test_id("verdict")).to_have_attribute("data-verdict", "duplicate")
    matches = page.get_by_test_id("match")
    expect(matches.first).to_be_visible()
    shown = {m.get_attribute("data-external-id") for m in matches.all()}
    assert "2022-002" in shown, shown

    with server.client() as c:
        past_text = c.get("/api/documents/2022-002").json()["text"]
    match = page.locator('[data-testid=match][data-external-id="2022-002"]')
    expect(match.get_by_test_id("match-scores")).to_contain_text("相同文字占本稿")
    expect(match.get_by_test_id("match-scores")).to_contain_text("语义相似度 0.9")
    # The calibrated probability the API gives is what the page shows, per match and overall.
    body = response.value.json()
    probability = next(m for m in body["matches"] if m["external_id"] == "2022-002")["probability"]
    expect(match.get_by_test_id("match-probability")).to_have_text(f"改写概率 {_pct(probability)}")
    expect(page.get_by_test_id("verdict-probability")).to_contain_text(_pct(body["probability"]))
    copied = match.locator("[data-testid=evidence-row][data-kind=copied]")
    assert copied.count() >= 1
    for row in copied.all():
        expect(row.get_by_test_id("evidence-kind")).to_have_text("相同文字")
        draft_marked = "".join(row.locator("[data-testid=evidence-draft] mark.copied").all_text_contents())
        past_marked = "".join(row.locator("[data-testid=evidence-past] mark.copied").all_text_contents())
        assert len(draft_marked) >= 20, "the draft column shows no marked copied text"
        assert draft_marked == past_marked, (draft_marked, past_marked)
        assert past_marked.replace("\n", "") in past_text.replace("\n", "")
    paraphrased = match.locator("[data-testid=evidence-row][data-kind=paraphrase]")
    if paraphrased.count():
        expect(paraphrased.first.get_by_test_id("evidence-kind")).to_contain_text("意思相近")
        assert paraphrased.first.locator("mark.para").count() >= 2  # one in each column
    shot(page, "dupes-side-by-side.png")

    match.get_by_test_id("view-full").click()
    full = match.get_by_test_id("full-compare")
    expect(full).to_be_visible()
    assert full.locator(".compare-side").nth(0).locator("mark.copied").count() > 0
    assert full.locator(".compare-side").nth(1).locator("mark.copied").count() > 0


def test_dupes_of_an_uploaded_file(page, server, tmp_path):
    title, text = proposal_text("2022-002")
    path = tmp_path / "草稿.txt"
    path.write_text(f"{title}\n{text}\n", encoding="utf-8")
    open_tab(page, server, "dupes")
    page.get_by_test_id("dupes-file").set_input_files(str(path))
    expect(page.get_by_test_id("dupes-file-name")).to_contain_text("草稿.txt")
    with page.expect_response(lambda r: r.url.endswith("/api/dupes/file")) as response:
        page.get_by_test_id("dupes-submit").click()
    assert response.value.status == 200, response.value.text()
    expect(page.get_by_test_id("verdict-name")).to_have_text("重复")
    expect(page.locator('[data-testid=match][data-external-id="2022-002"]')).to_have_count(1)


def test_dupes_shows_api_errors(page, server):
    open_tab(page, server, "dupes")
    page.get_by_test_id("dupes-text").fill("太短了")
    page.get_by_test_id("dupes-submit").click()
    expect(page.get_by_test_id("dupes-error")).to_contain_text("至少需要 20 字")


# -- 文档 --------------------------------------------------------------------------------------------
def _delete_leftovers(server, marker: str) -> None:
    with server.client(server.token) as c:
        for item in c.get("/api/documents", params={"q": marker, "limit": 200}).json()["items"]:
            c.delete(f"/api/documents/id:{item['id']}")


def test_upload_search_and_delete_through_the_page(page, server, tmp_path):
    marker = uuid.uuid4().hex[:10]
    title = f"关于页面上传测试的说明{marker}"
    phrase = "琥珀灯塔守望计划"
    path = tmp_path / f"page-upload-{marker}.txt"
    path.write_text(f"{title}\n一、背景\n这是浏览器测试上传的文档，专门介绍{phrase}的试点安排。\n"
                    f"二、做法\n由志愿者轮流值守{phrase}的观测站点，记录海面情况。\n", encoding="utf-8")
    try:
        open_tab(page, server, "docs")
        expect(page.get_by_test_id("doc-row").first).to_be_visible()
        with server.client() as c:
            total_before = c.get("/api/documents").json()["total"]
        expect(page.get_by_test_id("docs-total")).to_have_text(f"共 {total_before} 篇")

        # A wrong token: the server's 403 is shown in words.
        page.get_by_test_id("token-input").fill("not-the-token")
        page.get_by_test_id("token-save").click()
        expect(page.get_by_test_id("token-status")).to_contain_text("已保存")
        page.get_by_test_id("upload-input").set_input_files(str(path))
        expect(page.get_by_test_id("upload-files")).to_contain_text(path.name)
        page.get_by_test_id("upload-submit").click()
        expect(page.get_by_test_id("upload-error")).to_contain_text("令牌无效")

        page.get_by_test_id("token-input").fill(server.token)
        page.get_by_test_id("token-save").click()
        page.get_by_test_id("upload-submit").click()
        expect(page.get_by_test_id("upload-progress")).to_contain_text("上传完成")
        job = page.get_by_test_id("job-status")
        expect(job).to_have_attribute("data-status", "done", timeout=60_000)
        expect(job.get_by_test_id("job-phase")).to_have_text("完成")
        expect(job.get_by_test_id("outcome-status")).to_have_text(["新增"])
        expect(job).not_to_contain_text("null")
        expect(job).not_to_contain_text("undefined")
        expect(page.get_by_test_id("docs-total")).to_have_text(f"共 {total_before + 1} 篇")
        shot(page, "docs-uploaded.png")

        page.get_by_test_id("tab-search").click()
        search(page, phrase)
        hit = page.get_by_test_id("result").filter(has=page.get_by_test_id("result-title").filter(has_text=title))
        expect(hit).to_have_count(1)
        expect(hit.locator("mark.hl").first).to_be_visible()

        page.get_by_test_id("tab-docs").click()
        page.get_by_test_id("docs-q").fill(marker)
        page.get_by_test_id("docs-q").press("Enter")
        row = page.get_by_test_id("doc-row")
        expect(row).to_have_count(1)
        expect(row).to_contain_text(title)
        doc_id = int(row.get_attribute("data-id"))

        # Without a token the server's 401 is shown as "需要令牌", and nothing is deleted.
        page.get_by_test_id("token-clear").click()
        expect(page.get_by_test_id("token-status")).to_contain_text("未设置令牌")
        row.get_by_test_id("doc-delete").click()
        with page.expect_response(lambda r: r.request.method == "DELETE") as response:
            page.get_by_test_id("confirm-ok").click()
        assert response.value.status == 401
        expect(page.get_by_test_id("docs-error")).to_contain_text("需要令牌")
        expect(row).to_have_count(1)

        page.get_by_test_id("token-input").fill(server.token)
        page.get_by_test_id("token-save").click()
        row.get_by_test_id("doc-delete").click()
        dialog = page.get_by_test_id("confirm-dialog")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text(title)
        with page.expect_response(lambda r: r.request.method == "DELETE") as response:
            dialog.get_by_test_id("confirm-ok").click()
        assert response.value.status == 200, response.value.text()
        expect(page.get_by_test_id("doc-row")).to_have_count(0)
        expect(page.get_by_test_id("docs-body")).to_contain_text("没有符合条件的文档")

        with server.client() as c:
            assert c.get(f"/api/documents/{doc_id}").status_code == 404
            assert c.get("/api/documents", params={"q": marker}).json()["total"] == 0
            hits = c.post("/api/search", json={"query": phrase, "mode": "keyword"}).json()["results"]
            assert all(h["document_id"] != doc_id for h in hits)

        page.get_by_test_id("docs-q").fill("")
        page.get_by_test_id("docs-q").press("Enter")
        expect(page.get_by_test_id("doc-row").first).to_be_visible()
        shot(page, "docs-list.png")
    finally:
        _delete_leftovers(server, marker)


def test_the_page_opens_and_deletes_by_id_when_a_bare_ref_is_ambiguous(page, server):
    """A record whose external id is another document's numeric id: the bare ref is refused (409),
    so the page must address documents as id:N to open and delete the one it shows."""
    marker = uuid.uuid4().hex[:10]
    first, second = f"关于页面编号歧义测试甲{marker}", f"关于页面编号歧义测试乙{marker}"
    try:
        with server.client(server.token) as c:
            resp = c.post("/api/documents", files={"files": (f"歧义-{marker}.txt",
                                                             f"{first}\n这一篇是按编号打开和删除的文档。".encode())})
            assert resp.status_code == 202, resp.text
            _wait_job(c, resp.json()["id"])
            n = c.get("/api/documents", params={"q": first}).json()["items"][0]["id"]
            rows = f"编号,案由,内容\n{n},{second},这一篇的外部编号恰好等于另一篇的编号，不能被误开误删。\n"
            resp = c.post("/api/documents", files={"files": (f"歧义-{marker}.csv", rows.encode())},
                          data={"mapping": "id=编号,title=案由,body=内容"})
            assert resp.status_code == 202, resp.text
            _wait_job(c, resp.json()["id"])
            assert c.get(f"/api/documents/{n}").status_code == 409  # the bare ref is ambiguous now

        open_tab(page, server, "docs")
        page.get_by_test_id("docs-q").fill(marker)
        page.get_by_test_id("docs-q").press("Enter")
        expect(page.get_by_test_id("doc-row")).to_have_count(2)
        row = page.locator(f'[data-testid="doc-row"][data-id="{n}"]')
        expect(row).to_contain_text(first)
        row.get_by_test_id("doc-row-title").click()
        viewer = page.get_by_test_id("doc-viewer")
        expect(viewer.get_by_test_id("doc-title")).to_have_text(first)
        expect(viewer.get_by_test_id("doc-text")).to_contain_text("按编号打开")
        viewer.get_by_test_id("doc-close").click()

        page.get_by_test_id("token-input").fill(server.token)
        page.get_by_test_id("token-save").click()
        row.get_by_test_id("doc-delete").click()
        with page.expect_response(lambda r: r.request.method == "DELETE") as response:
            page.get_by_test_id("confirm-ok").click()
        assert response.value.status == 200, response.value.text()
        assert response.value.json()["deleted"]["id"] == n
        expect(page.get_by_test_id("doc-row")).to_have_count(1)
        expect(page.get_by_test_id("doc-row")).to_contain_text(second)
        with server.client() as c:
            assert c.get(f"/api/documents/ext:{n}").json()["title"] == second  # the other one is still there
    finally:
        _delete_leftovers(server, marker)


def _wait_job(client, job_id: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while (job := client.get(f"/api/jobs/{job_id}").json())["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    assert job["status"] == "done" and job["counts"] == {"added": 1}, job


# -- reads behind a token ----------------------------------------------------------------------------
def test_page_asks_for_a_token_when_reads_need_one(page, server):
    """Reads protected (simulated: any /api request without a bearer token answers 401, as the server does
    when JIANYAN_READ_TOKENS is set): the page asks for the token, then sends it on every request."""
    seen = []

    def guard(route):
        auth = route.request.headers.get("authorization", "")
        seen.append(auth)
        if auth != f"Bearer {server.token}":
            route.fulfill(status=401, content_type="application/json",
                          body='{"error": {"code": "unauthorized", "message": "本服务需要令牌才能查询"}}')
        else:
            route.continue_()

    page.route("**/api/**", guard)
    page.goto(f"{server.url}/#search")
    dialog = page.get_by_test_id("token-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_test_id("token-dialog-input").fill(server.token)
    dialog.get_by_test_id("token-dialog-ok").click()
    expect(page.get_by_test_id("stats-line")).to_contain_text("收录")
    search(page, "养老服务")
    expect(page.get_by_test_id("result").first).to_be_visible()
    assert seen[0] == "" and seen[-1] == f"Bearer {server.token}"


# -- no CDN --------------------------------------------------------------------------------------------
def test_page_loads_everything_from_the_server(page, server, recorder):
    open_tab(page, server, "search")
    for tab in ("dupes", "docs", "search"):
        page.get_by_test_id(f"tab-{tab}").click()
        expect(page.get_by_test_id(f"panel-{tab}")).to_be_visible()
    search(page, "养老服务")
    expect(page.get_by_test_id("result").first).to_be_visible()
    paths = {urlsplit(u).path for u in recorder.urls}
    assert {"/", "/static/app.js", "/static/app.css", "/static/favicon.svg"} <= paths, paths
    assert recorder.foreign(server.url) == []
