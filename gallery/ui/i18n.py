"""Interface strings in English and Chinese, plus per-demo strings taken from the manifests."""

from __future__ import annotations

import gradio as gr

from gallery.discovery import DemoIndex

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
    "demo.examples": ("Examples", "示例"),
    "demo.result_json": ("JSON result (same as the API returns)", "JSON 结果（与 API 返回一致）"),
    "demo.model_card": ("Model card", "模型卡片"),
    "demo.link": ("Link to this demo", "本演示的链接"),
    "demo.copy_link": ("Copy link", "复制链接"),
    "demo.standalone": ("Open this demo alone (embeddable)", "单独打开此演示（可嵌入）"),
    "demo.unavailable": ("This demo is unavailable", "此演示不可用"),
    "demo.disclaimer": ("Disclaimer", "免责声明"),
    "lang.label": ("Language", "语言"),
    "feedback.question": ("Was this useful?", "这个演示有用吗？"),
    "feedback.up": ("👍 Yes", "👍 有用"),
    "feedback.down": ("👎 No", "👎 没用"),
    "feedback.comment": ("Comment (optional)", "评论（可选）"),
    "feedback.include_io": ("Include my input and output", "附上我的输入和输出"),
    "feedback.thanks": ("Thank you! Your feedback was saved.", "谢谢！您的反馈已保存。"),
    "status.ready": ("ready", "已就绪"),
    "status.loads on first use": ("loads on first use", "首次使用时加载"),
    "status.loading": ("loading…", "加载中…"),
    "status.unavailable": ("unavailable", "不可用"),
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
    "card.none": ("No demo matches your search.", "没有符合搜索条件的演示。"),
}


def demo_key(demo_id: str, part: str) -> str:
    """Return the translation key of a per-demo string."""
    return f"demo.{demo_id}.{part}"


def build_i18n(index: DemoIndex) -> gr.I18n:
    """Return a gr.I18n holding interface strings and every demo's bilingual manifest texts."""
    en = {key: pair[0] for key, pair in STRINGS.items()}
    zh = {key: pair[1] for key, pair in STRINGS.items()}
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
        for part, text in texts.items():
            en[demo_key(manifest.id, part)] = text.en
            zh[demo_key(manifest.id, part)] = text.zh
    return gr.I18n(en=en, zh=zh)


def text(key: str, lang: str = "en") -> str:
    """Return an interface string in one language (for server-rendered HTML)."""
    pair = STRINGS[key]
    return pair[1] if lang.startswith("zh") else pair[0]
