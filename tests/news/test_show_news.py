"""``quantdesk show news [--json]``: every source polled once, merged, newest first."""

from __future__ import annotations

import json

from quantdesk import cli

from support.news_server import fixture

KEY = "cp-show-key-0a1b2c3d"


def config(tmp_path, server) -> str:
    server.add("/rss", fixture("coindesk_rss.xml"))
    server.add("/api/posts/", fixture("cryptopanic_posts.json"), "application/json")
    server.add("/bad", b"<rss><channel><item><title>Broken</titl>")
    path = tmp_path / "config.toml"
    path.write_text(
        f'[[news.sources]]\nkind = "rss"\nurl = "{server.url("/rss")}"\nname = "coindesk"\n'
        f'[[news.sources]]\nkind = "json"\nurl = "{server.url("/api/posts/?public=true")}"\nname = "cryptopanic"\n'
        'api_key_env = "CP_SHOW_TOKEN"\n'
        f'[[news.sources]]\nkind = "rss"\nurl = "{server.url("/bad")}"\nname = "broken"\n'
    )
    return str(path)


def test_show_news_json_is_merged_tagged_and_newest_first(tmp_path, news_server, capfd, monkeypatch):
    monkeypatch.setenv("CP_SHOW_TOKEN", KEY)
    code = cli.main(["show", "news", "--json", "--config", config(tmp_path, news_server), "--seed", "3"])
    out, err = capfd.readouterr()
    assert code == 0, err
    d = json.loads(out)
    assert set(d) == {"ts", "sources", "headlines"}
    assert {s["name"]: s["state"] for s in d["sources"]} == {"coindesk": "ok", "cryptopanic": "ok", "broken": "error"}
    titles = [h["title"] for h in d["headlines"]]
    assert len(titles) == 5  # 3 + 3, the Bitcoin story once
    btc = next(h for h in d["headlines"] if h["title"].startswith("Bitcoin"))
    assert btc["sources"] == ["coindesk", "cryptopanic"] or btc["sources"] == ["cryptopanic", "coindesk"]
    assert btc["symbols"] == ["BTC"] and btc["sentiment"] == "bearish" and btc["votes"] == {"positive": 1, "negative": 4}
    assert set(btc) == {"title", "url", "source", "sources", "published_ts", "seen_ts", "age_s", "symbols", "sentiment", "votes", "summary"}
    stamps = [h["published_ts"] for h in d["headlines"]]
    assert stamps == sorted(stamps, reverse=True)
    assert KEY not in out and KEY not in err
    assert news_server.hits("/api/posts/")[0].query["auth_token"] == [KEY]


def test_show_news_filters_by_asset_and_says_what_is_wrong(tmp_path, news_server, capfd, monkeypatch):
    monkeypatch.setenv("CP_SHOW_TOKEN", KEY)
    path = config(tmp_path, news_server)
    code = cli.main(["show", "news", "--json", "--config", path, "--market", "SOL-PERP", "--seed", "3"])
    out, err = capfd.readouterr()
    assert code == 0, err
    assert [h["symbols"] for h in json.loads(out)["headlines"]] == [["SOL"], ["SOL"]]
    assert cli.main(["show", "news", "--config", path, "--market", "DOGE", "--seed", "3"]) == 2
    assert "no listed asset 'DOGE'" in capfd.readouterr().err
    code = cli.main(["show", "news", "--config", path, "--seed", "3"])
    out, _ = capfd.readouterr()
    assert code == 0 and "Solana's SOL Jumps" in out and "broken: error: not a readable RSS or Atom feed" in out


def test_show_news_without_sources_says_how_to_add_one(tmp_path, capfd):
    path = tmp_path / "config.toml"
    path.write_text("")
    assert cli.main(["show", "news", "--config", str(path)]) == 2
    assert "add [[news.sources]]" in capfd.readouterr().err
