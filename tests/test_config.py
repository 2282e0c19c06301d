"""community.yaml: defaults, and a clear one-line error for a bad setting."""

import pytest
from support import SAMPLE_EXPORTS

from value_pipeline.config import FunderSuppression, Suppression, load_community_config
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


# ------------------------------------------------------------------ funder: name or mapping

def test_funder_as_a_plain_name_still_works(tmp_path):
    config = load_community_config(_write(tmp_path, "name: R\nfunder: Harwell Family Foundation\n"))
    assert config.funder == "Harwell Family Foundation"
    assert config.funder_details.recipients == [] and config.suppression == Suppression()
    assert load_community_config(_write(tmp_path, "name: R\n")).funder == "unspecified"


def test_funder_as_a_mapping(tmp_path):
    text = (
        "name: R\n"
        "funder:\n"
        "  name: Tri-County STEM Foundation\n"
        "  recipients: [grants@tricounty-stem.example, evaluation@tricounty-stem.example, Grants@tricounty-stem.example]\n"
    )
    config = load_community_config(_write(tmp_path, text))
    assert config.funder == "Tri-County STEM Foundation"  # the name, wherever config.funder is read
    assert config.funder_details.recipients == ["grants@tricounty-stem.example", "evaluation@tricounty-stem.example"]
    one = load_community_config(_write(tmp_path, "name: R\nfunder: {name: F, recipients: ops@f.example}\n"))
    assert one.funder_details.recipients == ["ops@f.example"]


def test_funder_suppression_takes_the_stricter_threshold(tmp_path):
    text = (
        "name: R\n"
        "suppression: {min_count: 12, min_respondents_mean: 7}\n"
        "funder:\n"
        "  name: F\n"
        "  recipients: [a@f.example]\n"
        "  suppression: {min_count: 15, min_respondents_mean: 3, percent_coding_below: 5}\n"
    )
    config = load_community_config(_write(tmp_path, text))
    assert config.suppression == Suppression(
        min_count=15,  # the funder's is stricter
        min_respondents_mean=7,  # the community's is stricter
        min_respondents_distribution=10,  # neither sets it: the default
        percent_coding_below=50,  # a funder's looser threshold never loosens the default
    )
    assert config.community_suppression == Suppression(min_count=12, min_respondents_mean=7)  # as written


def test_funder_suppression_fields_match_the_community_thresholds():
    assert set(FunderSuppression.model_fields) == set(Suppression.model_fields)


def test_sample_communities_name_their_funders_recipients():
    configs = {folder.name: load_community_config(folder) for folder in SAMPLE_EXPORTS.iterdir() if (folder / "community.yaml").is_file()}
    funders = {slug: (c.funder, tuple(c.funder_details.recipients)) for slug, c in configs.items()}
    assert funders["riverside-science"] == funders["inquiry-math-pd"]
    assert funders["riverside-science"][0] == "Tri-County STEM Foundation"
    assert funders["first-year-circle"][0] == "Harwell Family Foundation"
    assert all(r and all(a.endswith(".example") for a in r) for _, r in funders.values())


@pytest.mark.parametrize("text, words", [
    ("name: R\nfunder: {name: F, recipients: [not-an-address]}\n", "funder.recipients: Value error, not an email address"),
    ("name: R\nfunder: {recipients: [a@f.example]}\n", "funder.name: Field required"),
    ("name: R\nfunder: {name: F, contact: a@f.example}\n", "funder.contact: Extra inputs"),
    ("name: R\nfunder: {name: F, suppression: {min_count: 0}}\n", "funder.suppression.min_count"),
    ("name: R\nfunder: {name: F, suppression: {min_cnt: 20}}\n", "funder.suppression.min_cnt"),
    ("name: R\nfunder: '  '\n", "funder.name"),
])
def test_bad_funder_settings_are_one_line_errors(tmp_path, text, words):
    with pytest.raises(InputError) as error:
        load_community_config(_write(tmp_path, text))
    message = str(error.value)
    assert words in message and "community.yaml" in message and "\n" not in message.strip()
