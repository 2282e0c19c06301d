from value_pipeline.text import count_urls, html_links, html_to_text, slack_to_text


def test_html_to_text_keeps_paragraphs_and_drops_scripts():
    html = "<p>Try the <b>ziploc</b> bag version.</p><script>alert('x')</script><ul><li>one</li><li>two</li></ul>"
    assert html_to_text(html) == "Try the ziploc bag version.\n\none\n\ntwo"


def test_html_to_text_decodes_entities_and_handles_plain_text():
    assert html_to_text("Tom &amp; Jerry &lt;3") == "Tom & Jerry <3"
    assert html_to_text("just text,   spaced") == "just text, spaced"
    assert html_to_text(None) == ""


def test_html_links_counts_only_web_links():
    html = '<a href="https://phet.colorado.edu">PhET</a> <a href="/u/sam">@sam</a> <a href="http://x.example">x</a>'
    assert html_links(html) == 2


def test_slack_markup_becomes_plain_text():
    text = "<@U0BMQB6JE>: see <https://youcubed.org/tasks|Youcubed tasks> &amp; <https://nctm.org>"
    assert slack_to_text(text) == "@member: see Youcubed tasks & https://nctm.org"
    assert count_urls(text) == 2
