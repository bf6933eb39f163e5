"""The bundled sample university (东湖科技大学): sites shaped like the real CMS
families, export files, and a loopback server — the demo's data, and the
fixtures the tests sync against.

`demo_config` lays out a fresh demo folder (sample exports, an empty store, a
config pointing at a running `SampleServer`).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aggregator.config import Config

DEMO_HEADER = """# xxgk demo：示例站点运行在本机回环地址上（每次运行端口不同），这份配置仅供查看。
[store]
url = "sqlite:///xxgk.db"

[http]
per_host_interval = 0.0   # 示例站点就在本机，无需限速；真实站点请保持默认 1 秒
"""


def demo_config(directory: Path, base_url: str) -> Config:
    """A fresh demo folder under `directory` for the sample sites at `base_url`: its config, loaded."""
    from aggregator.config import parse_config
    from aggregator.demo.sites import sample_channels, write_sample_files

    directory.mkdir(parents=True, exist_ok=True)
    exports = directory / "exports"
    if exports.exists():
        shutil.rmtree(exports)
    write_sample_files(exports)
    for stale in ("xxgk.db", "xxgk.db-wal", "xxgk.db-shm"):
        (directory / stale).unlink(missing_ok=True)
    text = DEMO_HEADER + sample_channels(base_url, exports.resolve())
    cfg_file = directory / "config.toml"
    cfg_file.write_text(text, encoding="utf-8")
    return parse_config(text, cfg_file)
