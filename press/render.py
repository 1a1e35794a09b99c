"""Stage 4, render: Jinja templates in styles/templates turn the enriched book into documents."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2


@lru_cache(maxsize=4)
def environment(styles: Path) -> jinja2.Environment:
    """One Jinja environment per styles folder; undefined names fail loudly."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(styles / "templates"),
        autoescape=jinja2.select_autoescape(["j2"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(styles: Path, template: str, **context) -> str:
    """Render one template from styles/templates with the given context."""
    return environment(styles).get_template(template).render(**context)
