"""The browsable API docs at /api/docs: Swagger UI over the merged /api/openapi.json.

Swagger UI's files come from the pinned PyPI package flask-openapi-swagger (only its files are used, not its
Flask plugin), served from memory; nothing comes from a CDN. The page has no inline script or style, so it
runs under a strict Content-Security-Policy: the start-up code and our few style fixes are files too.
"""
from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from typing import Any

DOCS_PATH = "/api/docs"
DOCUMENT_PATH = "/api/openapi.json"
StartResponse = Callable[[str, list[tuple[str, str]]], Any]

POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
          "font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")

PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Storefront API</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="{DOCS_PATH}/swagger-ui.css">
  <link rel="stylesheet" href="{DOCS_PATH}/docs.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{DOCS_PATH}/swagger-ui-bundle.js"></script>
  <script src="{DOCS_PATH}/docs.js"></script>
</body>
</html>
"""

START = f"""window.addEventListener("DOMContentLoaded", () => {{
  window.ui = SwaggerUIBundle({{
    url: "{DOCUMENT_PATH}",
    dom_id: "#swagger-ui",
    // With deep links each operation's path is a link inside its summary button, which axe-core rightly
    // reports (nested-interactive, serious): a screen reader or keyboard cannot reach it as a link.
    deepLinking: false,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null,
  }});
  // Swagger UI leaves the "Try it out" fields without a label (axe-core: label, critical): each gets its
  // parameter's name, or "Request body", as its accessible name.
  const root = document.getElementById("swagger-ui");
  const name = (field) => field.closest("tr[data-param-name]")?.dataset.paramName
    || (field.classList.contains("body-param__text") ? "Request body" : field.placeholder || field.title);
  // Its code samples scroll sideways but cannot take the focus (scrollable-region-focusable, serious).
  new MutationObserver(() => {{
    for (const field of root.querySelectorAll("input, textarea, select")) {{
      if (!field.labels?.length && !field.hasAttribute("aria-label") && name(field)) {{
        field.setAttribute("aria-label", name(field));
      }}
    }}
    for (const sample of root.querySelectorAll("pre:not([tabindex])")) {{
      sample.setAttribute("tabindex", "0");
    }}
  }}).observe(root, {{childList: true, subtree: true}});
}});
"""

# Swagger UI's own colours that axe-core finds too faint (WCAG AA, 4.5:1), made darker; nothing else changes.
STYLE = """body { margin: 0; background: #fff; }
.swagger-ui .info .title small { background-color: #4f5663; }
.swagger-ui .info .title small.version-stamp { background-color: #3d6b00; }
.swagger-ui .info a, .swagger-ui .info .url { color: #0b5fae; }
.swagger-ui .btn.authorize { color: #0a6b3f; border-color: #0a6b3f; }
.swagger-ui .btn.authorize svg { fill: #0a6b3f; }
.swagger-ui .opblock.opblock-get .opblock-summary-method { background: #0b5fae; }
.swagger-ui .opblock.opblock-post .opblock-summary-method { background: #0a6b3f; }
.swagger-ui .opblock.opblock-put .opblock-summary-method { background: #8a4b00; }
.swagger-ui .opblock.opblock-delete .opblock-summary-method { background: #b01515; }
.swagger-ui .opblock.opblock-patch .opblock-summary-method { background: #0a6b5e; }
.swagger-ui .opblock.opblock-get .tab-header .tab-item.active h4 span:after { background: #0b5fae; }
.swagger-ui .btn.execute { background-color: #0b5fae; border-color: #0b5fae; }
.swagger-ui .btn.try-out__btn { color: #3b4151; }
@media (max-width: 40rem) {  /* a phone: Swagger UI's "Try it out" buttons and answer tables wrap instead */
  .swagger-ui .wrapper { padding: 0 .5rem; }
  .swagger-ui .opblock .opblock-section-header { flex-wrap: wrap; }
  .swagger-ui .try-out.btn-group { flex-wrap: wrap; }
  .swagger-ui .responses-table { table-layout: fixed; }
  .swagger-ui .responses-table td, .swagger-ui .responses-table th { overflow-wrap: anywhere; }
  .swagger-ui .response-col_links { display: none; }
}
.swagger-ui .json-schema-2020-12-expand-deep-button, .swagger-ui .parameter__in, .swagger-ui .parameter__type,
.swagger-ui .parameter__deprecated, .swagger-ui .parameter__extension, .swagger-ui .prop-format { color: #4f4f4f; }
"""

_SWAGGER = files("flask_openapi_swagger") / "templates" / "swagger"
ASSETS: dict[str, tuple[str, Callable[[], bytes]]] = {  # file under DOCS_PATH -> (content type, its bytes)
    "swagger-ui.css": ("text/css; charset=utf-8", lambda: (_SWAGGER / "css" / "swagger-ui.css").read_bytes()),
    "swagger-ui-bundle.js": ("text/javascript; charset=utf-8",
                             lambda: (_SWAGGER / "js" / "swagger-ui-bundle.js").read_bytes()),
    "docs.js": ("text/javascript; charset=utf-8", START.encode),
    "docs.css": ("text/css; charset=utf-8", STYLE.encode),
}


class ApiDocs:
    """Answers DOCS_PATH and the files under it; each file is read once, on its first request."""

    def __init__(self) -> None:
        self._loaded: dict[str, bytes] = {}

    def serves(self, path: str) -> bool:
        return path == DOCS_PATH or path.startswith(DOCS_PATH + "/")

    def __call__(self, path: str, start_response: StartResponse) -> list[bytes] | None:
        """The page or one of its files; None for any other path under DOCS_PATH."""
        if path == DOCS_PATH:
            return _answer(start_response, "text/html; charset=utf-8", PAGE.encode(), "no-cache")
        name = path[len(DOCS_PATH) + 1:]
        if name not in ASSETS:
            return None
        content_type, read = ASSETS[name]
        if name not in self._loaded:
            self._loaded[name] = read()
        return _answer(start_response, content_type, self._loaded[name], "public, max-age=3600")


def _answer(start_response: StartResponse, content_type: str, body: bytes, cache: str) -> list[bytes]:
    start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body))),
                              ("Cache-Control", cache), ("Content-Security-Policy", POLICY),
                              ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer")])
    return [body]
