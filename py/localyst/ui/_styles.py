"""Stylesheets for the Panel components (they live in shadow roots, so page CSS does not reach them)."""

APP_CSS = """
:host(.ly-page) { background: #f5f7fa; height: 100vh; }
"""

HEADER_CSS = """
.ly-header { display: flex; align-items: baseline; gap: 12px; padding: 12px 20px;
  background: #1f3a5f; color: #f4f7fb; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
.ly-header img { align-self: center; }
.ly-title { font-weight: 650; font-size: 1.2rem; letter-spacing: .01em; }
.ly-sub { opacity: .75; font-size: .88rem; }
"""

SIDE_CSS = """
:host(.ly-settings) { background: #fff; border-right: 1px solid #dde3ea; padding: 10px 6px; box-sizing: border-box; }
"""
