"""The knowledge files (TOML, the article fingerprint, `sources/`), installed as `bot.content`.

Code, not content, so no module here: this file only makes the folder a regular package, which
an editable install needs to map it (`[tool.setuptools.package-dir]` in pyproject.toml).
"""
