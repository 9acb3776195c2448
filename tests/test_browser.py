"""End to end in a real browser: the served app, Debian chromium driven by playwright.

Uploads a model and a CSV built here (not the sample), moves the ratio slider with the keyboard
as a user would, checks that the sparsity chart and KPIs change, downloads the committee report
and the presenter's slide deck from the Report & export page, and leaves a screenshot of every
page in test-artifacts/.
"""
from __future__ import annotations

import re

import pytest
from browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    chromium_available,
    metric_headline,
    open_page,
    running_app,
    timed_slider_move,
    upload_files,
    wait_idle,
)
from builders import TARGET, csv_bytes, model_bytes, model_columns, synthetic_book, trained_mlp

# Generous bounds for a shared CI machine; benchmarks/bench_browser.py measures the real medians
# against the goals (0.5 s on the sample, 1 s on 30,000 rows).
MOVE_BOUND_MS = 3_000
SPINNER_BOUND_MS = 1_000

pytestmark = pytest.mark.browser

PAGES = ["Overview", "Data & model", "Prune", "Trade-offs", "Explain", "Decision impact", "Governance", "Acceptance", "Report & export"]


@pytest.fixture(scope="module")
def browser_inputs(tmp_path_factory):
    """A schema-less model and a CSV whose numeric columns are the model's inputs in order."""
    book = synthetic_book(n_rows=1200, seed=11)
    frame = book[["region", TARGET, *model_columns(), "applicant_id"]].copy()
    frame["applicant_id"] = frame["applicant_id"].astype(str)  # an ID is text, not an input
    folder = tmp_path_factory.mktemp("upload")
    model_path, data_path = folder / "browser_model.pt", folder / "browser_book.csv"
    model_path.write_bytes(model_bytes(trained_mlp(book, hidden=(32, 16), seed=3)))
    data_path.write_bytes(csv_bytes(frame))
    return model_path, data_path


@pytest.fixture(scope="module")
def page(artifacts_dir):
    if not chromium_available():
        pytest.fail(f"{CHROMIUM} is missing: scripts/test.sh installs Debian's chromium package.")
    from playwright.sync_api import sync_playwright

    with running_app(artifacts_dir / "browser-streamlit.log") as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1500, "height": 1100}, accept_downloads=True)
        pg = context.new_page()
        pg.set_default_timeout(60_000)
        pg.goto(url)
        pg.url_base = url  # type: ignore[attr-defined]
        yield pg
        context.close()
        browser.close()


def kpi(pg, label: str) -> str:
    label_box = pg.locator('[data-testid="stMetricLabel"]', has_text=re.compile(rf"^{re.escape(label)}$"))
    box = pg.locator('[data-testid="stMetric"]').filter(has=label_box)
    return box.first.locator('[data-testid="stMetricValue"]').inner_text().strip()


def selected(pg, label: str) -> str:
    """The shown value of the selectbox labelled ``label``."""
    box = pg.locator('[data-testid="stSelectbox"]').filter(has=pg.get_by_text(label, exact=False)).first
    return box.locator('input[role="combobox"]').input_value().strip()


def bar_labels(pg) -> list[str]:
    """Text labels of the first plotly chart's bars (the layer sparsity chart on the Prune page)."""
    chart = pg.locator(".js-plotly-plot").first
    chart.wait_for()
    return chart.locator("g.barlayer text").evaluate_all("els => els.map(e => e.textContent)")


def test_browser_upload_slide_and_screenshot_every_page(page, browser_inputs, artifacts_dir):
    pg = page
    pg.get_by_text("0.7715").first.wait_for()  # the sample's test AUC on first start
    pg.screenshot(path=str(artifacts_dir / "page-0-overview-sample.png"), full_page=True)

    model_path, data_path = browser_inputs
    upload_files(pg, model_path, data_path)
    # the target is the 2nd of 8 columns, not the last: the guess finds it by its values and name
    assert selected(pg, "Target column") == TARGET
    assert kpi(pg, "Model inputs") == str(len(model_columns()))
    assert kpi(pg, "Rows") == "1,200"
    assert not pg.locator('[data-testid="stException"]').count()

    open_page(pg, "Prune")
    before_kpi, before_bars = kpi(pg, "Sparsity"), bar_labels(pg)
    assert before_kpi == "50%"
    slider = pg.locator('[data-testid="stSidebar"] [data-testid="stSlider"] input[type="range"]').first
    slider.focus()
    for _ in range(6):  # 6 × 5 % steps: 50 % → 80 %
        slider.press("ArrowRight")
    wait_idle(pg)
    pg.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stMetricValue\"]')].some(e => e.innerText.trim() === '80%')",
        timeout=60_000,
    )
    wait_idle(pg)
    after_bars = bar_labels(pg)
    assert kpi(pg, "Sparsity") == "80%"
    # every layer now ~80 % removed (a 16-weight output layer rounds to 13 of 16 = 81 %)
    assert after_bars != before_bars and all(abs(int(label.rstrip("%")) - 80) <= 7 for label in after_bars)
    assert not pg.locator('[data-testid="stException"]').count()
    # one more step: the KPI shows the new value and nothing stays greyed as stale for long
    kpi_ms, elapsed = timed_slider_move(pg, headline=metric_headline("Sparsity"))  # raises if the KPI never changed
    assert kpi(pg, "Sparsity") == "85%"
    assert kpi_ms <= elapsed <= MOVE_BOUND_MS, f"the KPI took {kpi_ms:.0f} ms and the page {elapsed:.0f} ms after a slider press"

    for i, title in enumerate(PAGES):
        open_page(pg, title)
        assert not pg.locator('[data-testid="stException"]').count(), title
        pg.screenshot(path=str(artifacts_dir / f"page-{i + 1}-{re.sub(r'[^a-z]+', '-', title.lower()).strip('-')}.png"), full_page=True)

    # Report & export is the last page visited: build the committee pack and download the HTML report
    pg.get_by_role("button", name="Build the committee report").click()
    wait_idle(pg)
    download_button = pg.get_by_role("button", name="report.html")
    download_button.wait_for(timeout=180_000)
    with pg.expect_download() as info:
        download_button.click()
    report = artifacts_dir / "browser-report.html"
    info.value.save_as(str(report))
    html = report.read_text(encoding="utf-8")
    assert "browser_model.pt" in html and "browser_book.csv" in html
    assert re.search(r"id=['\"]summary['\"]", html) and "Summary verdict" in html and "Performance vs challenger" in html
    # offline, the embedded plotly.js basic bundle draws every chart of the report without a script error
    viewer = pg.context.new_page()
    errors: list[str] = []
    viewer.on("pageerror", lambda e: errors.append(str(e)))
    viewer.route("**/*", lambda route: route.abort() if not route.request.url.startswith("file:") else route.continue_())
    viewer.goto(report.resolve().as_uri())
    viewer.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 10", timeout=60_000)
    assert viewer.locator(".js-plotly-plot").count() == html.count("Plotly.newPlot")
    assert not errors, errors
    viewer.close()

    # the presenter's deck: downloads, opens with python-pptx, the expected slides, pictures that are charts
    from pptx import Presentation
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    from core.report import DECK_TITLES

    wait_idle(pg)  # a download click reruns the page: let the rerun finish so the button exists once
    deck_button = pg.get_by_role("button", name="deck.pptx").first
    with pg.expect_download() as info:
        deck_button.click()
    deck = artifacts_dir / "browser-deck.pptx"
    info.value.save_as(str(deck))
    prs = Presentation(str(deck))
    titles = [s.shapes.title.text for s in prs.slides]
    assert titles[0] == "Pruning proposal: browser_model.pt" and titles[1:] == list(DECK_TITLES[1:])
    assert sum(sh.shape_type == MSO_SHAPE_TYPE.PICTURE for s in prs.slides for sh in s.shapes) >= 5
    assert not pg.locator('[data-testid="stException"]').count()
    pg.screenshot(path=str(artifacts_dir / "page-9-report-built.png"), full_page=True)


# Records, from the moment it is armed, the longest time any spinner or progress bar stayed on the page.
_WATCH_SPINNERS = """() => {
  window.__rpSpinMax = 0; let since = null;
  const busy = () => document.querySelector('[data-testid="stSpinner"], [data-testid="stProgress"]') !== null;
  const tick = () => {
    const now = performance.now();
    if (busy()) { if (since === null) since = now; window.__rpSpinMax = Math.max(window.__rpSpinMax, now - since); }
    else since = null;
  };
  new MutationObserver(tick).observe(document.body, {attributes: true, subtree: true, childList: true});
  setInterval(tick, 50);
}"""


@pytest.mark.slow
def test_browser_large_file_is_sampled_and_the_slider_answers_without_a_long_spinner(page, tmp_path, artifacts_dir):
    """150,000 applicants uploaded as Parquet, every row evaluating: the pages use the labelled sample and stay live."""
    pg = page
    book = synthetic_book(n_rows=150_000, seed=21)
    model_path, data_path = tmp_path / "large_model.pt", tmp_path / "large_book.parquet"
    model_path.write_bytes(model_bytes(trained_mlp(book.iloc[:3000], hidden=(32, 16), seed=4, epochs=30)))
    book.to_parquet(data_path, index=False)

    upload_files(pg, model_path, data_path)
    assert selected(pg, "Target column") == TARGET
    pg.locator('[data-testid="stRadio"]').get_by_text("All rows", exact=True).click()
    wait_idle(pg)
    assert kpi(pg, "Rows") == "150,000"
    assert not pg.locator('[data-testid="stException"]').count()

    open_page(pg, "Prune")
    pg.get_by_text(re.compile(r"stratified sample of [\d,]+ of the 150,000 evaluation rows")).first.wait_for()
    pg.evaluate(_WATCH_SPINNERS)
    times = [timed_slider_move(pg, "ArrowLeft") for _ in range(3)]
    spinner_ms = pg.evaluate("() => window.__rpSpinMax")
    pg.screenshot(path=str(artifacts_dir / "large-file-prune.png"), full_page=True)
    assert not pg.locator('[data-testid="stException"]').count()
    assert spinner_ms <= SPINNER_BOUND_MS, f"a spinner stayed {spinner_ms:.0f} ms (moves took {times})"
    assert max(times) <= MOVE_BOUND_MS, f"slider moves took {times} ms on the 150,000-row file"


def test_browser_a_non_chain_model_walks_every_page(page, tmp_path, artifacts_dir):
    """An entity-embedding MLP (integer codes embedded inside forward), schema-less, target not last: every page draws."""
    from architectures import COLUMNS, loan_book, scripted_bytes, train
    from architectures import TARGET as ARCH_TARGET

    pg = page
    book = loan_book(n_rows=900, seed=5)
    model_path, data_path = tmp_path / "embedding_mlp.pt", tmp_path / "loans.csv"
    model_path.write_bytes(scripted_bytes(train("embedding_mlp", book)))
    data_path.write_bytes(book[[*COLUMNS[:3], ARCH_TARGET, *COLUMNS[3:]]].to_csv(index=False).encode())
    upload_files(pg, model_path, data_path)
    assert selected(pg, "Target column") == ARCH_TARGET
    assert kpi(pg, "Model inputs") == str(len(COLUMNS))
    for title in PAGES:
        open_page(pg, title)
        assert not pg.locator('[data-testid="stException"]').count(), title
        assert not pg.locator('[data-testid="stAlertContentError"]').count(), title
    open_page(pg, "Prune")
    pg.get_by_text("What each block offers").first.wait_for()
    pg.screenshot(path=str(artifacts_dir / "non-chain-prune.png"), full_page=True)
