"""PDF rendering of printed documents: content, Chinese glyphs, fonts, QR code, speed.

Text and fonts are read back with poppler-utils (pdftotext, pdffonts, pdfinfo, pdfimages,
pdftoppm), which scripts/setup.sh installs; without them these tests fail, never skip.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import anyio
import pytest
import segno
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from PIL import Image, ImageChops

from mediation import i18n
from mediation.documents import pdf
from mediation.documents.qr import qr_png_data_uri, qr_svg_data_uri
from mediation.documents.samples import long_agreement_context, sample_agreement_context

AGREEMENT = "documents/agreement.html"
RARE_NAME_CHARS = "堃玥昇𠮷"
# 𪚥 (U+2A6A5) is in neither Noto CJK face: it must come from the HanaMin fallback.
NOT_IN_NOTO = "𪚥"

POPPLER_TOOLS = ("pdftotext", "pdffonts", "pdfinfo", "pdfimages", "pdftoppm")


def test_the_pdf_reading_tools_are_installed():
    missing = [tool for tool in POPPLER_TOOLS if not shutil.which(tool)]
    assert not missing, f"install poppler-utils (scripts/setup.sh): {missing}"


def run(*args: str | Path) -> str:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, check=True).stdout


def pdf_text(path: Path) -> str:
    return run("pdftotext", "-layout", path, "-")


def flat(text: str) -> str:
    """Text without any whitespace: wrapped lines and layout indentation joined."""
    return re.sub(r"\s+", "", text)


def page_count(path: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", run("pdfinfo", path), re.M).group(1))


def embedded_fonts(path: Path) -> list[dict[str, str]]:
    lines = run("pdffonts", path).splitlines()[2:]
    fonts = []
    for line in lines:
        # name type... encoding emb sub uni objectID gen: read the fixed tail from the right.
        parts = line.split()
        fonts.append(
            {"name": parts[0], "emb": parts[-5], "sub": parts[-4], "uni": parts[-3], "line": line}
        )
    return fonts


def rare_context() -> dict:
    context = sample_agreement_context()
    context["agreement"]["parties"][2]["name"] = "李" + NOT_IN_NOTO
    return context


@pytest.fixture(scope="module")
def agreement_pdf(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "agreement.pdf"
    path.write_bytes(pdf.render_pdf(AGREEMENT, sample_agreement_context()))
    return path


@pytest.fixture(scope="module")
def rare_pdf(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "agreement-rare.pdf"
    path.write_bytes(pdf.render_pdf(AGREEMENT, rare_context()))
    return path


def test_render_pdf_returns_a_pdf(agreement_pdf):
    data = agreement_pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")


def test_agreement_content(agreement_pdf):
    text = flat(pdf_text(agreement_pdf))
    for expected in [
        "人民调解协议书",
        "（2026）当湖调字第12号",
        "申请人：王堃",
        "申请人：张𠮷昇",
        "被申请人：李玥",
        "公民身份号码330482200405120017",
        "纠纷主要事实、争议事项",
        "各方当事人的责任",
        "一、李玥向王堃、张𠮷昇退还房屋押金人民币1,500.00元（大写：壹仟伍佰元整）。",
        "履行方式：银行转账至王堃本人名下账户",
        "履行期限：2026年3月20日前",
        "二、王堃、张𠮷昇向李玥交还房屋钥匙两把。",
        "三、本协议履行完毕后",
        # 3 parties + the committee
        "本协议一式四份，当事人各执一份，人民调解委员会留存一份。",
        "本协议自各方当事人签名（盖章或按指印）、人民调解员签名并加盖人民调解委员会印章之日起生效。",
        "双方当事人认为有必要的，可以自本协议生效之日起三十日内共同向人民法院申请司法确认。",
        "人民调解员（签名）",
        "（印章）",
        "平湖市当湖街道人民调解委员会",
        "2026年3月12日",
        "核验码：7K3M-Q9TX",
        "扫码或访问https://tiaojie.pinghu.example.gov.cn/verify/7K3M-Q9TX核验",
        "第1页共1页",
    ]:
        assert expected in text, expected
    # Every party gets a signature line and a fingerprint box.
    assert text.count("签名：") == 3
    assert text.count("指印") - text.count("按指印") == 3
    for char in RARE_NAME_CHARS:
        assert char in text


def test_sample_agreement_fits_on_one_page(agreement_pdf):
    assert page_count(agreement_pdf) == 1


def test_long_agreement_paginates_with_page_numbers(tmp_path):
    path = tmp_path / "long.pdf"
    path.write_bytes(pdf.render_pdf(AGREEMENT, long_agreement_context()))
    pages = page_count(path)
    assert pages == 9
    text = flat(pdf_text(path))
    for page in range(1, pages + 1):
        assert f"第{page}页共{pages}页" in text
    # Clause numbers stay Chinese past 100; the agreement number and code repeat per page.
    assert "一百二十五、" in text
    assert text.count("（2026）当湖调字第12号") >= pages
    assert text.count("核验码：7K3M-Q9TX") >= pages


def test_fonts_are_one_sc_face_embedded_and_subset(agreement_pdf):
    fonts = embedded_fonts(agreement_pdf)
    assert len(fonts) == 1, fonts  # one face: no bold, no Latin face, no fallback needed
    check_fonts(fonts)


def test_rare_character_falls_back_to_hanazono_only_for_itself(rare_pdf):
    fonts = embedded_fonts(rare_pdf)
    check_fonts(fonts)
    assert len(fonts) == 2, fonts
    assert any("HanaMin" in font["name"] for font in fonts)
    assert NOT_IN_NOTO in pdf_text(rare_pdf)


def check_fonts(fonts):
    assert any("SC" in font["name"] for font in fonts)
    for font in fonts:
        assert "SC" in font["name"] or "HanaMin" in font["name"], font["line"]
        for region in ("JP", "KR", "TC", "HK"):
            assert f"-{region}" not in font["name"], font["line"]
        assert (font["emb"], font["sub"], font["uni"]) == ("yes", "yes", "yes"), font["line"]


def test_rare_characters_have_real_glyphs(monkeypatch):
    """The glyph each rare character is drawn with exists and has an outline (no .notdef).

    pdftotext only proves the ToUnicode map; this looks at the fonts WeasyPrint embeds: the
    glyph id mapped to each character must be non-zero and have contours in the subset.
    """
    from fontTools.ttLib import TTFont
    from weasyprint.pdf import fonts as weasy_fonts

    # This check hooks WeasyPrint's font cleaning; if an upgrade renames it, the test must be
    # brought up to date, not silently passed over.
    assert hasattr(weasy_fonts.Font, "clean"), "WeasyPrint's Font.clean is gone: update this test"
    embedded = []
    original_clean = weasy_fonts.Font.clean

    def clean(self, to_unicode, hinting):
        original_clean(self, to_unicode, hinting)
        embedded.append((self.family, dict(self.to_unicode), self.file_content, self.index))

    monkeypatch.setattr(weasy_fonts.Font, "clean", clean)
    pdf.render_pdf(AGREEMENT, rare_context())

    found = {}
    for family, to_unicode, content, index in embedded:
        font = TTFont(io.BytesIO(content), fontNumber=index if content[:4] == b"ttcf" else -1)
        order = font.getGlyphOrder()
        glyph_set = font.getGlyphSet()
        for glyph_id, text in to_unicode.items():
            if text in RARE_NAME_CHARS + NOT_IN_NOTO:
                assert glyph_id != 0, f"{text} drawn with .notdef in {family}"
                if "glyf" in font:
                    assert font["glyf"][order[glyph_id]].numberOfContours > 0, text
                else:
                    from fontTools.pens.recordingPen import RecordingPen

                    pen = RecordingPen()
                    glyph_set[order[glyph_id]].draw(pen)
                    assert pen.value, f"{text}: empty outline in {family}"
                found[text] = family
    assert set(found) == set(RARE_NAME_CHARS + NOT_IN_NOTO), found
    assert "HanaMin" in found[NOT_IN_NOTO]
    for char in RARE_NAME_CHARS:
        assert "SC" in found[char]


def test_rare_characters_do_not_print_as_tofu(tmp_path):
    """Raster check: each rare character prints differently from a character no font has."""

    def raster(char: str) -> Image.Image:
        html = (
            '<html lang="zh-CN"><body style="margin:0">'
            f'<p style="font-size:40pt;margin:0">{char}</p></body></html>'
        )
        path = tmp_path / f"{ord(char):x}.pdf"
        path.write_bytes(pdf.html_to_pdf(html))
        run("pdftoppm", "-r", "50", "-png", "-singlefile", "-W", "120", "-H", "120", path, path)
        return Image.open(path.with_suffix(".pdf.png")).convert("L")

    tofu = raster("\U0010fffd")  # plane-16 private use: in no installed font
    images = {char: raster(char) for char in RARE_NAME_CHARS + NOT_IN_NOTO}
    for char, image in images.items():
        assert ImageChops.difference(image, tofu).getbbox(), f"{char} prints as tofu"
        assert image.getextrema()[0] < 128, f"{char} prints nothing"
    distinct = {image.tobytes() for image in images.values()}
    assert len(distinct) == len(images)


def test_qr_code_is_a_sharp_image_of_the_verification_url(agreement_pdf, tmp_path):
    url = sample_agreement_context()["agreement"]["verification"]["url"]
    listing = run("pdfimages", "-list", agreement_pdf).splitlines()[2:]
    assert len(listing) == 1
    columns = listing[0].split()
    matrix = segno.make(url, error="m", boost_error=True).matrix
    assert (int(columns[3]), int(columns[4])) == (len(matrix), len(matrix))
    assert columns[9] == "no"  # interpolation off: modules stay square when scaled
    run("pdfimages", "-png", agreement_pdf, tmp_path / "img")
    image = Image.open(next(tmp_path.glob("img-*.png"))).convert("1")
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            assert (image.getpixel((x, y)) == 0) == bool(dark), (x, y)


def test_qr_data_uris():
    png = qr_png_data_uri("https://example.org/verify/ABCD")
    assert png.startswith("data:image/png;base64,")
    assert len(png) < 600
    svg = qr_svg_data_uri("https://example.org/verify/ABCD")
    assert svg.startswith("data:image/svg+xml")
    assert "viewBox" in svg and "width=" not in svg


def test_print_locale_is_zh_cn_and_the_callers_locale_is_restored():
    token = i18n.set_locale("en")
    try:
        html = pdf.render_html(AGREEMENT, sample_agreement_context())
        assert i18n.get_locale() == "en"
    finally:
        token.var.reset(token)
    assert '<html lang="zh-CN">' in html
    assert "人民调解协议书" in html and "People's Mediation Agreement" not in html


def test_every_template_message_has_a_chinese_translation():
    # All *.po files of the locale are merged; the printed wording may live in any of them.
    merged = i18n.translations_for.__wrapped__("zh_CN")
    missing = []
    for template in sorted(pdf.DOCUMENTS_DIR.glob("*.html")):
        for _line, message, _comments, _context in extract_from_file(
            "jinja2.ext.babel_extract", template, options={"extensions": "jinja2.ext.i18n"}
        ):
            # A plural message (ngettext) is kept under (msgid, form index) in the catalog.
            msgid = message if isinstance(message, str) else message[0]
            key = msgid if isinstance(message, str) else (msgid, 0)
            if key not in merged._catalog:  # a translation may equal its msgid ("KB")
                missing.append((template.name, msgid))
    assert not missing


def test_other_catalogs_do_not_override_the_printed_wording():
    """All *.po files of a locale are merged into one catalog: a msgid that another domain
    also defines must not change what the printed documents say."""
    po_path = Path(i18n.LOCALE_DIR) / "zh_CN" / "LC_MESSAGES" / "documents.po"
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale="zh_CN")
    merged = i18n.translations_for.__wrapped__("zh_CN")
    for message in catalog:
        if message.id:
            assert merged.gettext(message.id) == message.string, message.id


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, "一"),
        (4, "四"),
        (10, "十"),
        (12, "十二"),
        (20, "二十"),
        (101, "一百零一"),
        (110, "一百一十"),
        (125, "一百二十五"),
    ],
)
def test_cn_number(n, expected):
    assert pdf.cn_number(n) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/x.png",
        "http://127.0.0.1:8000/admin",
        "file:///etc/passwd",
        "ftp://example.org/x",
    ],
)
def test_print_templates_cannot_fetch_outside_resources(url):
    with pytest.raises(ValueError):
        pdf.PrintURLFetcher().fetch(url)


def test_print_templates_may_fetch_data_uris():
    response = pdf.PrintURLFetcher().fetch("data:text/plain,ok")
    assert response.read() == b"ok"


def test_build_print_font_keeps_glyphs_and_metrics(tmp_path):
    from fontTools.ttLib import TTFont

    source = pdf.source_font()
    assert source is not None, "Noto Serif CJK SC is missing: install fonts-noto-cjk"
    chars = "人民调解协议书，（）" + RARE_NAME_CHARS + "𡈽"
    path = pdf.build_print_font(tmp_path / "print.ttf", chars=chars)
    built = TTFont(path)
    original = TTFont(str(source[0]), fontNumber=source[1], lazy=True)
    assert built["name"].getDebugName(1) == pdf.PRINT_FAMILY
    assert "glyf" in built and "CFF " not in built
    built_cmap, original_cmap = built.getBestCmap(), original.getBestCmap()
    for char in chars + "A1":
        name = built_cmap[ord(char)]
        assert built["glyf"][name].numberOfContours > 0, char
        assert built["hmtx"][name][0] == original["hmtx"][original_cmap[ord(char)]][0], char
    # Same vertical metrics, so line boxes (and page breaks) do not move.
    assert built["hhea"].ascent == original["hhea"].ascent
    assert built["hhea"].descent == original["hhea"].descent
    assert built["OS/2"].sTypoAscender == original["OS/2"].sTypoAscender
    # Punctuation and common characters get low glyph ids (cheap subsets), rare ones later.
    order = built.getGlyphOrder()
    assert order.index(built_cmap[ord("，")]) < order.index(built_cmap[ord("堃")])


def test_falls_back_to_the_installed_noto_face_without_the_derived_font(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDIATION_FONT_DIR", str(tmp_path / "no-fonts"))
    pdf.stylesheets.cache_clear()
    try:
        path = tmp_path / "system.pdf"
        path.write_bytes(pdf.render_pdf(AGREEMENT, sample_agreement_context()))
        fonts = embedded_fonts(path)
        assert [f["name"].split("+")[1] for f in fonts] == ["Noto-Serif-CJK-SC"]
        check_fonts(fonts)
        assert page_count(path) == 1
    finally:
        monkeypatch.undo()
        pdf.stylesheets.cache_clear()


def test_fonts_are_subset_by_harfbuzz_and_the_pdf_is_small():
    """Speed is the benchmark's business; this checks its precondition. Without
    libharfbuzz-subset0 WeasyPrint falls back to fontTools, which takes seconds per page."""
    from weasyprint.pdf import fonts as weasy_fonts

    assert weasy_fonts.harfbuzz_subset, "libharfbuzz-subset0 is not installed"
    assert weasy_fonts.harfbuzz.hb_version_atleast(4, 1, 0)
    data = pdf.render_pdf(AGREEMENT, sample_agreement_context())
    assert len(data) < 300_000


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_render_pdf_async_does_not_block_the_event_loop():
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await anyio.sleep(0.005)
            ticks += 1

    results: list[bytes] = []

    async def render():
        results.append(await pdf.render_pdf_async(AGREEMENT, sample_agreement_context()))

    async with anyio.create_task_group() as tg:
        tg.start_soon(ticker)
        async with anyio.create_task_group() as jobs:  # concurrent print jobs queue safely
            for _ in range(3):
                jobs.start_soon(render)
        tg.cancel_scope.cancel()
    assert len(results) == 3
    assert all(data.startswith(b"%PDF-") for data in results)
    assert ticks >= 5  # the loop kept running while the PDFs rendered


@pytest.mark.anyio
async def test_documents_are_laid_out_in_printing_processes_not_the_app_process():
    import os

    from mediation.documents.pdf import print_pool, render_pdf_async
    from mediation.documents.samples import sample_agreement_context

    pool = print_pool()
    assert pool is not None
    assert pool.submit(os.getpid).result(timeout=120) != os.getpid()
    pdf = await render_pdf_async("documents/agreement.html", sample_agreement_context())
    assert pdf.startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert "人民调解协议书" in "".join(text.split())
