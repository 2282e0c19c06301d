"""The evaluator's path through the Dagster UI, in a real browser.

`dagster dev` (what `make ui` runs) starts on 127.0.0.1 with a temporary DAGSTER_HOME,
reading a copy of one sample community and writing under tmp_path. Its daemon runs the
exports sensor, which registers the community and reads it (community_tables_job), as
it would for an evaluator who drops a new folder into the exports dir. Then, in
Chromium driven by Playwright, the test does what the evaluator does:

1. opens the global asset graph (Lineage) and sees the asset groups;
2. waits on the Runs page for the sensor's run of community_tables_job to succeed;
3. opens Jobs > quarterly_report_job (its asset graph: tiers, stories, ledger, report),
   chooses "Materialize all…", picks the community in the `community` dimension and
   one quarter in the `quarter` dimension ("Launch 1 run");
4. follows the run from the toast's "View" and waits for it to succeed;
5. finds the PDF at output/reports/<community>/<community>_<quarter>.pdf, and its path
   in the `report` asset's metadata.

Why the job and not the `report` asset's own Materialize button: a report reads its
partition's ledger and stories, so materializing `report` alone for a new community x
quarter fails (the UI first warns "upstream assets ... have not been materialized yet");
the job materializes the whole community x quarter slice in one run. The all-time tables
upstream are partitioned by community only; the sensor materializes them, as it does in
production. A backfill is the same dialog with a range in the quarter box, e.g.
`[2025-10-01...2026-07-01]` ("4 partitions", "Launch backfill").

Selectors are roles and visible text (link and button names, the dialog role, the
run_success status icon), not CSS classes.

Screenshots (one per step) and the `dagster dev` log go to
output/test-artifacts/dagster_ui/ (or $VALUE_PIPELINE_TEST_ARTIFACTS); the path is
printed. Skipped when the `playwright` package or /usr/bin/chromium is missing: the
browser is Debian's Chromium (`apt-get install chromium`), never `playwright install`.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from support import PROJECT, SAMPLE_EXPORTS

CHROMIUM = Path(os.environ.get("VALUE_PIPELINE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ARTIFACTS = Path(os.environ.get("VALUE_PIPELINE_TEST_ARTIFACTS", PROJECT / "output" / "test-artifacts")) / "dagster_ui"

COMMUNITY = "inquiry-math-pd"  # the smallest sample community
QUARTER_KEY, QUARTER_LABEL = "2026-07-01", "2026-Q3"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not found (apt-get install chromium)")
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed (pip install -e '.[dev]')")
expect = sync_api.expect

SERVER_START_TIMEOUT = 90  # seconds until the webserver answers
UPSTREAM_TIMEOUT = 90  # the sensor's first tick, then a run of a few seconds
RUN_TIMEOUT = 150  # the report run: a few seconds alone, slower on a busy machine


NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, whatever http_proxy says


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _default_sigint() -> None:
    # A background shell ignores SIGINT in its children; dagster dev shuts down cleanly on it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def dagster_ui(tmp_path):
    """`dagster dev` on a free loopback port; yields (base url, output dir, log path)."""
    exports, output, home = tmp_path / "exports", tmp_path / "output", tmp_path / "dagster_home"
    shutil.copytree(SAMPLE_EXPORTS / COMMUNITY, exports / COMMUNITY)
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    env = {name: value for name, value in os.environ.items() if not name.startswith("VALUE_PIPELINE_")}
    env.update(
        DAGSTER_HOME=str(home),
        VALUE_PIPELINE_EXPORTS=str(exports),
        VALUE_PIPELINE_OUTPUT=str(output),
        VALUE_PIPELINE_SECRET=os.environ.get("VALUE_PIPELINE_SECRET", "test-only-secret"),
    )
    port = _free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for stale in ARTIFACTS.glob("*.png"):
        stale.unlink()
    log_path = ARTIFACTS / "dagster_dev.log"
    with open(log_path, "w", encoding="utf-8") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
            cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_default_sigint,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if server.poll() is not None:
                pytest.fail(f"dagster dev exited with status {server.returncode}; log: {log_path}")
            try:
                with NO_PROXY.open(f"{base}/server_info", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the Dagster webserver did not answer within {SERVER_START_TIMEOUT} s; log: {log_path}")
            time.sleep(0.5)
        yield base, output, log_path
    finally:
        # SIGINT: dagster dev stops its webserver, daemon and code server; then make
        # sure nothing of the session this test started is left.
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(server.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        server.wait(timeout=10)


@pytest.fixture
def page():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(30_000)
            # First visit: Dagster asks to join its newsletter; the evaluator skips it.
            page.add_locator_handler(page.get_by_role("button", name="Skip", exact=True), lambda skip: skip.click())
            yield page
        finally:
            browser.close()


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _wait_until_visible(page, url: str, locator, timeout: float, what: str) -> None:
    """Reload `url` until `locator` shows (the Runs list refreshes itself only every 15 s)."""
    deadline = time.monotonic() + timeout
    page.goto(url)
    while True:
        try:
            locator.first.wait_for(state="visible", timeout=2_000)
            return
        except sync_api.TimeoutError:
            if time.monotonic() > deadline:
                _shot(page, "timeout")
                pytest.fail(f"{what}: not seen within {timeout:.0f} s (screenshots in {ARTIFACTS})")
            page.reload()


def test_evaluator_materializes_one_report_in_the_ui(dagster_ui, page):
    base, output, log_path = dagster_ui
    print(f"\nscreenshots and the dagster dev log: {ARTIFACTS}")
    started = time.monotonic()

    # 1. The asset graph.
    page.goto(f"{base}/asset-groups")
    expect(page.get_by_text("Global asset lineage")).to_be_visible()
    for group in ("ingest", "coding", "participation", "ledger", "report"):
        expect(page.get_by_text(group, exact=True).first).to_be_visible()
    _shot(page, "1_asset_graph")

    # 2. The exports sensor has registered the community and read it.
    _wait_until_visible(
        page, f"{base}/locations/assets.definitions:defs/jobs/community_tables_job/runs",
        page.get_by_role("img", name="run_success"), UPSTREAM_TIMEOUT,
        "the exports sensor's run of community_tables_job succeeding",
    )
    expect(page.get_by_role("link", name="community_exports_sensor").first).to_be_visible()
    _shot(page, "2_sensor_run")

    # 3. Jobs > quarterly_report_job > Materialize all…, one community x one quarter.
    page.get_by_role("navigation").get_by_role("link", name=re.compile(r"\bJobs$")).click()
    page.get_by_role("link", name="quarterly_report_job").click()
    expect(page.get_by_role("heading", name="quarterly_report_job")).to_be_visible()
    page.get_by_role("button", name=re.compile("Materialize all")).click()
    dialog = page.get_by_role("dialog").filter(has_text="Partition selection")
    quarter_box = dialog.get_by_role("textbox", name=re.compile(r"^ex: "))
    quarter_box.wait_for()  # the partition sets have loaded
    dialog.get_by_text("Select a partition or create one").click()  # the community dimension
    page.get_by_role("menuitem", name=COMMUNITY).click()
    dialog.get_by_text(re.compile("^Launch runs to materialize")).click()  # closes the menu
    quarter_box.fill(QUARTER_KEY)
    quarter_box.blur()
    expect(dialog.get_by_text("1 partition", exact=True)).to_be_visible()
    _shot(page, "3_partition_selection")
    dialog.get_by_role("button", name="Launch 1 run").click()

    # 4. The run, from the toast, until it succeeds.
    page.get_by_role("button", name="View", exact=True).or_(page.get_by_role("link", name="View", exact=True)).first.click()
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}"))
    expect(page.get_by_text(f"{COMMUNITY}|{QUARTER_KEY}").first).to_be_visible()
    deadline = time.monotonic() + RUN_TIMEOUT
    while not page.get_by_role("img", name="run_success").first.is_visible():
        if page.get_by_text(re.compile(r"^(Failure|Failed|Canceled)$")).first.is_visible() or time.monotonic() > deadline:
            _shot(page, "4_run_not_successful")
            pytest.fail(f"the report run did not succeed: {page.url} (screenshots and log in {ARTIFACTS})")
        page.wait_for_timeout(1_000)
    _shot(page, "4_run_succeeded")

    # 5. The PDF, where settings.report_path puts it, and its path in the asset's metadata.
    pdf = output / "reports" / COMMUNITY / f"{COMMUNITY}_{QUARTER_LABEL}.pdf"
    assert pdf.is_file() and pdf.read_bytes()[:5] == b"%PDF-"
    page.goto(f"{base}/assets/report")
    expect(page.get_by_text(str(pdf)).first).to_be_visible()
    _shot(page, "5_report_metadata")
    print(f"UI path from asset graph to PDF: {time.monotonic() - started:.0f} s")
