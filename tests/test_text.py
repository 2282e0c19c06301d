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


def test_html_edge_cases_entities_comments_and_stray_angle_brackets():
    html = ('<!-- draft --><h2>Unit&nbsp;3</h2><p>Caf&eacute; &#233; &#x2014; 5 &lt; 7 &amp;amp;</p>'
            '<style type="text/css">p{color:red}</style><SCRIPT src="x.js"></SCRIPT><p>a < b and c > d</p>')
    assert html_to_text(html) == "Unit 3\n\nCafé é — 5 < 7 &amp;\n\na < b and c > d"


def test_vectorized_and_scalar_versions_agree():
    import polars as pl

    from value_pipeline.text import (
        html_links_series,
        html_to_text_series,
        slack_to_text_series,
    )

    bodies = ["<p>one</p>", None, '<a href="https://x.example">x</a> <a href="#top">top</a>', "plain"]
    assert html_to_text_series(pl.Series(bodies)).to_list() == [html_to_text(b) for b in bodies]
    assert html_links_series(pl.Series(bodies)).to_list() == [html_links(b) for b in bodies]
    slack = ["see <#C024BE7LR|general> and <@U123>", "<mailto:a@b.example|mail me>"]
    assert slack_to_text_series(pl.Series(slack)).to_list() == ["see #general and @member", "mail me"]
