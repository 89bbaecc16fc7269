"""Stylesheets for the Panel components (they live in shadow roots, so page CSS does not reach them)."""

APP_CSS = """
:host(.ly-page) { background: #f5f7fa; height: 100vh; }
.ly-header { display: flex; align-items: center; gap: 10px; padding: 10px 18px;
  background: #1f3a5f; color: #f4f7fb; font-family: system-ui, sans-serif; }
.ly-title { font-weight: 650; font-size: 1.15rem; letter-spacing: .01em; }
.ly-sub { opacity: .75; font-size: .85rem; }
"""

SIDE_CSS = """
:host(.ly-settings) { background: #fff; border-right: 1px solid #dde3ea; padding: 8px 4px; }
"""
