"""Render the demo's example pages: invented Chinese financial-report pages (companies and figures made up).

Run from the repository root: `.venv/bin/python demos/finance/report-reader-zh/render_pages.py`.
The PNG files are committed; this script documents how they were made and remakes them. `PAGES` also holds
what each page prints (its organisations, dates and amounts), which the demo's tests score the result against.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
CJK = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
WIDTH, HEIGHT, MARGIN = 1000, 1414, 80  # A4 proportions at about 120 dpi

PAGES: list[dict[str, Any]] = [
    {
        "file": "annual_report_page.png",
        "rotate": 0,
        "header": "锦程银行股份有限公司 2024年年度报告",
        "title": "第三节 管理层讨论与分析",
        "blocks": [
            ("text", "2024年，本行坚持稳中求进的工作总基调，资产规模稳步增长。截至2024年12月31日，本行资产总额为人民币"
                     "8,452.36亿元，较上年末增长6.8%；各项贷款余额4,916.08亿元，较上年末增加312.45亿元。"),
            ("text", "报告期内，本行实现营业收入215.67亿元，同比增长4.2%；归属于本行股东的净利润68.93亿元，同比增长"
                     "5.1%。不良贷款率为1.21%，较上年末下降0.04个百分点。"),
            ("caption", "表1 主要会计数据（单位：人民币亿元）"),
            ("table", [["项目", "2024年", "2023年", "同比增减"],
                       ["营业收入", "215.67", "206.97", "4.20%"],
                       ["净利润", "68.93", "65.58", "5.11%"],
                       ["资产总额", "8,452.36", "7,914.20", "6.80%"],
                       ["贷款余额", "4,916.08", "4,603.63", "6.79%"]]),
            ("text", "本行于2025年3月28日召开董事会，审议通过2024年度利润分配预案，拟向全体股东每10股派发现金股利"
                     "3.20元（含税）。上述预案尚需提交股东大会审议。"),
        ],
        "footer": "第 12 页 共 186 页",
        "entities": {
            "ORG": ["锦程银行股份有限公司"],
            "DATE": ["2024年", "2024年12月31日", "2023年", "2025年3月28日", "2024年度"],
            "AMOUNT": ["人民币8,452.36亿元", "4,916.08亿元", "312.45亿元", "215.67亿元", "68.93亿元", "3.20元"],
            "PERCENT": ["6.8%", "4.2%", "5.1%", "1.21%", "4.20%", "5.11%", "6.80%", "6.79%"],
        },
    },
    {
        "file": "quarterly_report_page.png",
        "rotate": 0,
        "header": "远航物流股份有限公司 2025年第一季度报告",
        "title": "一、主要财务数据",
        "blocks": [
            ("text", "2025年第一季度，公司实现营业收入36,518.42万元，较上年同期增长12.35%；归属于上市公司股东的"
                     "净利润2,846.17万元，较上年同期增长8.06%。"),
            ("text", "2025年2月18日，公司全资子公司远航供应链有限公司与招商银行股份有限公司签订授信协议，授信额度为"
                     "人民币5,000万元，期限一年。"),
            ("caption", "表2 主要会计数据和财务指标（单位：万元）"),
            ("table", [["项目", "本报告期", "上年同期", "增减变动"],
                       ["营业收入", "36,518.42", "32,502.61", "12.35%"],
                       ["净利润", "2,846.17", "2,633.84", "8.06%"],
                       ["经营活动现金流量净额", "4,127.90", "3,516.28", "17.39%"]]),
            ("text", "截至2025年3月31日，公司总资产为18.64亿元，货币资金余额为3.72亿元，资产负债率为41.28%。"),
        ],
        "footer": "第 3 页 共 24 页",
        "entities": {
            "ORG": ["远航物流股份有限公司", "远航供应链有限公司", "招商银行股份有限公司"],
            "DATE": ["2025年", "2025年2月18日", "2025年3月31日"],
            "AMOUNT": ["36,518.42万元", "2,846.17万元", "人民币5,000万元", "18.64亿元", "3.72亿元"],
            "PERCENT": ["12.35%", "8.06%", "17.39%", "41.28%"],
        },
    },
    {
        "file": "rotated_scan_page.png",
        "rotate": 90,  # scanned sideways: the page lies turned a quarter turn anticlockwise
        "header": "恒远证券股份有限公司 2024年半年度报告",
        "title": "第四节 公司治理",
        "blocks": [
            ("text", "2024年6月30日，公司召开2023年年度股东大会，审议通过了关于续聘会计师事务所的议案，同意续聘"
                     "华明会计师事务所为公司2024年度审计机构，审计费用为人民币180万元。"),
            ("text", "报告期内，公司实现营业收入46.85亿元，同比下降3.6%；经纪业务手续费净收入12.07亿元，占营业收入的"
                     "25.76%。"),
            ("caption", "表3 董事会会议召开情况"),
            ("table", [["会议届次", "召开日期", "审议议案数"],
                       ["第五届董事会第八次会议", "2024年3月26日", "12"],
                       ["第五届董事会第九次会议", "2024年4月29日", "6"]]),
        ],
        "footer": "第 45 页 共 210 页",
        "entities": {
            "ORG": ["恒远证券股份有限公司", "华明会计师事务所"],
            "DATE": ["2024年半年度", "2024年6月30日", "2023年", "2024年度", "2024年3月26日", "2024年4月29日"],
            "AMOUNT": ["人民币180万元", "46.85亿元", "12.07亿元"],
            "PERCENT": ["3.6%", "25.76%"],
        },
    },
]


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(CJK, size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int, indent: float) -> list[str]:
    """Break Chinese text into lines that fit `width` (the first line indented by two characters)."""
    lines, line = [], ""
    for char in text:
        room = width - (indent if not lines else 0)
        if draw.textlength(line + char, font=font) > room:
            lines.append(line)
            line = ""
        line += char
    return lines + [line] if line else lines


def render(page: dict[str, Any]) -> Image.Image:
    """Draw one page: running header and rule, title, paragraphs, a captioned grid table and a footer."""
    image = Image.new("L", (WIDTH, HEIGHT), 252)
    draw = ImageDraw.Draw(image)
    body, small, big = _font(22), _font(17), _font(34)
    inner = WIDTH - 2 * MARGIN
    draw.text((MARGIN, 50), page["header"], font=small, fill=70)
    draw.line((MARGIN, 78, WIDTH - MARGIN, 78), fill=110, width=1)
    y = 130
    w = draw.textlength(page["title"], font=big)
    draw.text(((WIDTH - w) / 2, y), page["title"], font=big, fill=20)
    y += 90
    for kind, content in page["blocks"]:
        if kind == "text":
            indent = draw.textlength("中中", font=body)
            for number, line in enumerate(_wrap(draw, content, body, inner, indent)):
                draw.text((MARGIN + (indent if number == 0 else 0), y), line, font=body, fill=25)
                y += 38
            y += 26
        elif kind == "caption":
            w = draw.textlength(content, font=body)
            draw.text(((WIDTH - w) / 2, y), content, font=body, fill=25)
            y += 44
        elif kind == "table":
            columns = len(content[0])
            first = inner * (0.4 if columns == 4 else 0.46)
            widths = [first] + [(inner - first) / (columns - 1)] * (columns - 1)
            row_h = 46
            top = y
            for row_index, row in enumerate(content):
                x = MARGIN
                for cell, cell_w in zip(row, widths):
                    tw = draw.textlength(cell, font=body)
                    # Labels left, figures right, the header row centred: as printed reports set them.
                    if row_index == 0:
                        cx = x + (cell_w - tw) / 2
                    elif cell is row[0]:
                        cx = x + 12
                    else:
                        cx = x + cell_w - tw - 12
                    draw.text((cx, y + 11), cell, font=body, fill=25)
                    x += cell_w
                y += row_h
            for index in range(len(content) + 1):
                draw.line((MARGIN, top + index * row_h, WIDTH - MARGIN, top + index * row_h), fill=60, width=1)
            x = MARGIN
            for cell_w in [0, *widths]:
                x += cell_w
                draw.line((x, top, x, y), fill=60, width=1)
            y += 40
    w = draw.textlength(page["footer"], font=small)
    draw.text(((WIDTH - w) / 2, HEIGHT - 70), page["footer"], font=small, fill=70)
    return image.rotate(page["rotate"], expand=True) if page["rotate"] else image


def main() -> None:
    """Write each page's PNG next to this script."""
    for page in PAGES:
        render(page).save(HERE / page["file"], optimize=True)


if __name__ == "__main__":
    main()
