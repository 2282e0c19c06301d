"""community.yaml: defaults, and a clear one-line error for a bad setting."""

import pytest

from value_pipeline.config import load_community_config
from value_pipeline.errors import InputError


def _write(folder, text: str):
    (folder / "community.yaml").write_text(text)
    return folder


def test_defaults(tmp_path):
    config = load_community_config(_write(tmp_path, "name: Riverside\n"))
    assert config.coding.kappa_threshold == 0.65
    assert config.suppression.min_count == 10 and config.timezone == "UTC"


def test_a_stricter_kappa_threshold(tmp_path):
    config = load_community_config(_write(tmp_path, "name: Riverside\ncoding:\n  kappa_threshold: 0.8\n"))
    assert config.coding.kappa_threshold == 0.8


@pytest.mark.parametrize("text, words", [
    ("name: R\ncoding:\n  kappa_threshold: 1.5\n", "kappa_threshold"),
    ("name: R\ncoding:\n  kappa: 0.7\n", "kappa"),
    ("name: R\ntimezone: Mars/Olympus\n", "unknown timezone"),
])
def test_bad_settings_are_one_line_errors(tmp_path, text, words):
    with pytest.raises(InputError) as error:
        load_community_config(_write(tmp_path, text))
    message = str(error.value)
    assert words in message and "community.yaml" in message and "\n" not in message.strip()
