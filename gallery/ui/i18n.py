"""Interface strings in English and Chinese, plus per-demo strings taken from the manifests."""

from __future__ import annotations

import gradio as gr

from pathlib import Path

from gallery.discovery import DemoIndex
from gallery.iotypes import FILE_TYPES, input_type
from gallery.languages import NAMES as LANGUAGE_NAMES
from gallery.manifest import Bilingual, Manifest

LANGUAGES: dict[str, str] = {"en": "English", "zh": "中文"}

STRINGS: dict[str, tuple[str, str]] = {
    "app.title": ("OpenModels Gallery", "OpenModels 模型画廊"),
    "app.tagline": (
        "Open AI models for everyone: try real demos for healthcare, education, finance and transport, "
        "running on this machine.",
        "人人可用的开放模型：在本机上体验医疗、教育、金融、交通领域的真实 AI 演示。",
    ),
    "tab.home": ("Home", "首页"),
    "sector.healthcare": ("Healthcare", "医疗健康"),
    "sector.education": ("Education", "教育"),
    "sector.finance": ("Finance", "金融"),
    "sector.transport": ("Transport", "交通出行"),
    "search.label": ("Search demos", "搜索演示"),
    "search.placeholder": ("Type to filter by title, task, model, tag…", "输入标题、任务、模型或标签进行筛选…"),
    "home.unavailable": ("Unavailable demos", "不可用的演示"),
    "demo.run": ("Run", "运行"),
    "demo.examples": ("Examples: one click runs one", "示例：点击即运行"),
    "demo.example": ("Example {n}", "示例 {n}"),
    "demo.ran": ("Ran", "本次运行"),
    "demo.loading_model": ("Loading the model (first use)…", "正在加载模型（首次使用）…"),
    "demo.running": ("Running…", "运行中…"),
    "demo.first_run": ("first run: loaded the model in {seconds} s", "首次运行：模型加载用时 {seconds} 秒"),
    "demo.result_json": ("JSON result (same as the API returns)", "JSON 结果（与 API 返回一致）"),
    "demo.model_card": ("Model card", "模型卡片"),
    "demo.link": ("Link to this demo", "本演示的链接"),
    "demo.copy_link": ("Copy link", "复制链接"),
    "demo.standalone": ("Open this demo alone (embeddable)", "单独打开此演示（可嵌入）"),
    "demo.unavailable": ("This demo is unavailable", "此演示不可用"),
    "demo.disclaimer": ("Disclaimer", "免责声明"),
    "demo.api": ("Use via API", "通过 API 使用"),
    "api.intro": (
        ("Call this demo from your own code. Each snippet sends the demo's first example: put your own inputs "
         "in its place. Every route returns the same JSON result; a refused input comes back as a 4xx with the "
         "reason (`detail`). Full schema and a try-it-out page: `/api/docs`."),
        ("在你自己的代码中调用本演示。每段代码发送的是本演示的第一个示例，把它换成你的输入即可。各种调用方式返回相同的 "
         "JSON 结果；输入不合要求时返回 4xx 状态码，并在 `detail` 中说明原因。完整的接口说明与在线试用：`/api/docs`。"),
    ),
    "api.tab.curl": ("curl", "curl"),
    "api.tab.requests": ("Python (requests)", "Python（requests）"),
    "api.tab.gradio_client": ("Python (gradio_client)", "Python（gradio_client）"),
    "api.tab.fetch": ("JavaScript (fetch)", "JavaScript（fetch）"),
    "api.tab.mcp": ("MCP (AI agents)", "MCP（AI 智能体）"),
    "api.curl": ("Shell: the JSON API", "Shell：JSON API"),
    "api.requests": ("Python with requests: the JSON API", "Python + requests：JSON API"),
    "api.gradio_client": ("Python with gradio_client: the Gradio API", "Python + gradio_client：Gradio API"),
    "api.fetch": ("JavaScript with fetch: the JSON API", "JavaScript + fetch：JSON API"),
    "api.mcp.vscode": ("VS Code: .vscode/mcp.json", "VS Code：.vscode/mcp.json"),
    "api.mcp.claude": ("Claude Desktop: claude_desktop_config.json (through the mcp-remote bridge)",
                       "Claude Desktop：claude_desktop_config.json（通过 mcp-remote 桥接）"),
    "api.mcp.stdio": ("Or run the tools on your own machine over stdio (any MCP client)",
                      "或在你自己的电脑上通过 stdio 运行这些工具（任意 MCP 客户端）"),
    "lang.label": ("Language", "语言"),
    "feedback.question": ("Was this useful?", "这个演示有用吗？"),
    "feedback.up": ("👍 Yes", "👍 有用"),
    "feedback.down": ("👎 No", "👎 没用"),
    "feedback.comment": ("Comment (optional)", "评论（可选）"),
    "feedback.include_io": ("Include my input and output", "附上我的输入和输出"),
    "feedback.thanks": ("Thank you! Your feedback was saved.", "谢谢！您的反馈已保存。"),
    "status.ready": ("Ready", "已就绪"),
    "status.loading": ("Loading the model…", "正在加载模型…"),
    "status.unavailable": ("Unavailable", "不可用"),
    "card.sector": ("Sector", "领域"),
    "card.task": ("Task", "任务"),
    "card.model": ("Model", "模型"),
    "card.licence": ("Licence", "许可证"),
    "card.backend": ("Backend", "后端"),
    "card.status": ("Status", "状态"),
    "card.int8": ("int8 check", "int8 检查"),
    "card.int8.passed": ("passed, runs int8", "通过，使用 int8"),
    "card.int8.failed": ("failed, runs fp32", "未通过，使用 fp32"),
    "card.open": ("Open demo", "打开演示"),
    "card.warm": ("Warm: model loaded", "热：模型已加载"),
    "card.cold": ("Cold: loads on first run", "冷：首次运行时加载"),
    "card.partial": ("Partly warm: {k} of {n} models loaded", "部分预热：已加载 {k}/{n} 个模型"),
    "card.p50": ("p50 {ms}", "中位耗时 {ms}"),
    "card.p50.title": ("Median time of the last {n} successful runs on this server since it started",
                       "本服务器自启动以来最近 {n} 次成功运行的中位耗时"),
    "card.requests": ("{n} runs", "已运行 {n} 次"),
    "card.feedback": ("👍 {pct}% of {n}", "👍 {pct}%（共 {n} 条）"),
    "card.feedback.title": ("Share of visitors' ratings that were 👍", "访客评价中 👍 的比例"),
    "card.featured": ("Featured", "精选"),
    "card.details": ("Model and licence", "模型与许可证"),
    "card.languages": ("Input languages", "输入语言"),
    "card.more_languages": ("+{n} more", "另有 {n} 种"),
    "filter.sector": ("Sector", "领域"),
    "filter.language": ("Input language", "输入语言"),
    "filter.task": ("Task", "任务"),
    "order.label": ("Order", "排序"),
    "order.featured": ("Featured first", "精选优先"),
    "order.used": ("Most used", "最常用"),
    "card.none": ("No demo matches your search.", "没有符合搜索条件的演示。"),
}

# What a manifest's `task` is called on a card and a filter chip; another task shows as written.
TASKS: dict[str, tuple[str, str]] = {
    "text-classification": ("Text classification", "文本分类"),
    "semantic-search": ("Semantic search", "语义检索"),
    "passage-retrieval": ("Passage retrieval", "段落检索"),
    "image-classification": ("Image classification", "图像分类"),
    "speech-recognition": ("Speech recognition", "语音识别"),
    "ocr": ("Text recognition (OCR)", "文字识别（OCR）"),
    "time-series-forecasting": ("Time-series forecasting", "时间序列预测"),
    "sentiment-analysis": ("Sentiment analysis", "情感分析"),
    "grapheme-to-phoneme": ("Pronunciation (pinyin)", "注音（拼音）"),
    "token-classification": ("Entity recognition", "实体识别"),
    "named-entity-recognition": ("Entity recognition", "实体识别"),
    "de-identification": ("De-identification", "去标识化"),
    "text-generation": ("Text generation", "文本生成"),
    "transliteration": ("Transliteration", "注音转写"),
    "layout-analysis": ("Document layout", "版面分析"),
    "document-layout": ("Document layout", "版面分析"),
    "speech-analysis": ("Speech analysis", "语音分析"),
    "tabular-classification": ("Tabular classification", "表格数据分类"),
    "document-understanding": ("Document understanding", "文档理解"),
    "information-extraction": ("Information extraction", "信息抽取"),
    "anomaly-detection": ("Anomaly detection", "异常检测"),
    "language-identification": ("Language identification", "语种识别"),
}


def task_name(task: str, lang: str) -> str:
    """Return what a card calls a manifest's task in `lang` (the task as written when it has no name here)."""
    names = TASKS.get(task)
    if names is None:
        return task
    return names[1] if lang.startswith("zh") else names[0]


def demo_key(demo_id: str, part: str) -> str:
    """Return the translation key of a per-demo string."""
    return f"demo.{demo_id}.{part}"


def build_i18n(index: DemoIndex) -> gr.I18n:
    """Return a gr.I18n holding interface strings and every demo's bilingual manifest texts."""
    en = {key: pair[0] for key, pair in STRINGS.items()}
    zh = {key: pair[1] for key, pair in STRINGS.items()}
    for prefix, names in (("task", TASKS), ("lang", LANGUAGE_NAMES)):  # the Home filter chips
        en.update({f"{prefix}.{key}": pair[0] for key, pair in names.items()})
        zh.update({f"{prefix}.{key}": pair[1] for key, pair in names.items()})
    for entry in index.entries:
        manifest = entry.manifest
        if manifest is None:
            continue
        texts = {"title": manifest.title, "summary": manifest.summary}
        if manifest.disclaimer is not None:
            texts["disclaimer"] = manifest.disclaimer
        for spec in manifest.inputs:
            texts[f"in.{spec.name}"] = spec.label
            for value, label in (spec.choice_labels or {}).items():
                texts[f"in.{spec.name}.choice.{value}"] = label
        for spec in manifest.outputs:
            texts[f"out.{spec.name}"] = spec.label
        for index in range(len(manifest.examples)):
            texts[f"example.{index}"] = example_caption(manifest, index)
        tool, sector = manifest.tool_name, manifest.sector
        texts["api.tool"] = Bilingual(
            en=f"Every demo is a tool for AI agents (MCP). This one is `{tool}`, served with the other {sector} "
               f"demos at `/mcp/{sector}` (every demo: `/mcp`). Images and audio go in as base64 data URLs.",
            zh=f"每个演示都是 AI 智能体可调用的工具（MCP）。本演示的工具名为 `{tool}`，与其他同领域演示一起位于 "
               f"`/mcp/{sector}`（全部演示：`/mcp`）。图片和音频以 base64 data URL 传入。")
        for part, text in texts.items():
            en[demo_key(manifest.id, part)] = text.en
            zh[demo_key(manifest.id, part)] = text.zh
    return gr.I18n(en=en, zh=zh)


def example_caption(manifest: Manifest, index: int) -> Bilingual:
    """Return what an example's button says: the manifest's caption, else its first text or its file's name."""
    label = manifest.example_label(index)
    if label is not None:
        return label
    values = manifest.example_values(index)
    for spec in manifest.inputs:
        value = values.get(spec.name)
        if input_type(spec.type).typed_text and isinstance(value, str) and value.strip():
            first = " ".join(value.split())
            first = first if len(first) <= 48 else first[:47].rstrip() + "…"
            return Bilingual(en=first, zh=first)  # the example's own words, in the one language they are in
    for spec in manifest.inputs:
        value = values.get(spec.name)
        if spec.type in FILE_TYPES and isinstance(value, str):
            name = Path(value).name
            return Bilingual(en=name, zh=name)
    en, zh = STRINGS["demo.example"]
    return Bilingual(en=en.format(n=index + 1), zh=zh.format(n=index + 1))


def text(key: str, lang: str = "en") -> str:
    """Return an interface string in one language (for server-rendered HTML)."""
    pair = STRINGS[key]
    return pair[1] if lang.startswith("zh") else pair[0]
