"""Put the language bootstrap script at the top of every Gradio page, before Gradio's own scripts run."""

from __future__ import annotations

from typing import Any, Awaitable, Callable

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Gradio's i18n picks its locale from navigator.language once, at start-up, before it injects `head`
# content; so a remembered language choice (or a link's ?lang=) must be in place before any Gradio script runs.
LANGUAGE_BOOTSTRAP = """<script>
(function () {
  var stored = null;
  try { stored = localStorage.getItem('om-lang'); } catch (e) {}
  // A link's ?lang=zh (or en) wins, and is remembered like a choice made with the switch.
  var asked = null;
  try { asked = new URLSearchParams(window.location.search).get('lang'); } catch (e) {}
  if (asked) {
    stored = asked.toLowerCase().indexOf('zh') === 0 ? 'zh' : 'en';
    try { localStorage.setItem('om-lang', stored); } catch (e) {}
  }
  if (stored) {
    var tag = stored === 'zh' ? 'zh-CN' : 'en-US';
    try {
      Object.defineProperty(Navigator.prototype, 'language', { get: function () { return tag; }, configurable: true });
      Object.defineProperty(Navigator.prototype, 'languages', { get: function () { return [tag]; }, configurable: true });
    } catch (e) {}
  }
  var lang = stored || ((navigator.language || 'en').toLowerCase().indexOf('zh') === 0 ? 'zh' : 'en');
  document.documentElement.classList.add(lang === 'zh' ? 'om-lang-zh' : 'om-lang-en');
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  // The server reads it for what it says outside a result: progress and error messages.
  document.cookie = 'om-lang=' + lang + '; path=/; SameSite=Lax';
})();
</script>"""


class LanguageBootstrapMiddleware:
    """Insert LANGUAGE_BOOTSTRAP right after <head> in HTML pages (GET requests only)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.marker = b"<head>"
        self.script = LANGUAGE_BOOTSTRAP.encode("utf-8")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET" or not scope.get("path", "").endswith("/"):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                content_type = headers.get(b"content-type", b"")
                if not content_type.startswith(b"text/html") or headers.get(b"content-encoding"):
                    start = None
                    await send(message)
                    return
                start = message
                return
            if start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks).replace(self.marker, self.marker + self.script, 1)
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)
